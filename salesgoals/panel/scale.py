"""Build the panel from activity logs larger than memory, or on a cluster.

Large sales organisations log hundreds of millions of activities, usually as
partitioned Parquet in a data lake.  The models only need the rep x period
panel, which stays small; the heavy part is reducing the raw log to counts.
This module runs that reduction on an existing engine and returns the same
pandas panel as :func:`salesgoals.build_panel`, so everything downstream is
unchanged:

* :func:`panel_from_parquet` -- a directory, glob or list of Parquet or CSV
  files, aggregated by DuckDB with bounded memory (it streams the files and
  spills to disk above ``memory_limit``);
* :func:`panel_from_dask` -- a Dask DataFrame, on a ``dask.distributed``
  cluster or Dask's local scheduler (``build_panel`` accepts a Dask DataFrame
  too);
* :func:`counts_sql` + :func:`panel_from_counts` -- run the reduction in a
  warehouse (Spark SQL, Snowflake, PostgreSQL...) and build the panel from the
  small result.

Long runs show a progress bar (tqdm; ``progress=False`` turns it off).

All three paths share one definition of the aggregation
(:mod:`salesgoals.panel._aggregate`): the log is reduced to activity counts per
(rep, period start, activity type), and one function turns those counts and
the deals into the panel.  Deals and the roster are small (one row per deal or
rep) and are passed as pandas DataFrames.

Why DuckDB (and not pyarrow datasets)
-------------------------------------
pyarrow datasets stream record batches with bounded memory, but they do not
aggregate out of core: the group-by would either load the whole table
(``Dataset.to_table().group_by``) or run batch by batch in Python, merging
partial results that grow with the number of batches and never spill
(``benchmarks/bench_out_of_core.py --pyarrow`` measures that approach).  DuckDB
scans Parquet and CSV globs (local, hive-partitioned, or ``s3://`` with its
``httpfs`` extension) in parallel, pushes the column projection into the
reader, and runs a hash aggregation that spills to disk when it reaches
``memory_limit``.  Its SQL is also what a data engineer can read and port to a
warehouse.

Examples
--------
>>> import tempfile, pathlib
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=0)
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> sim.activities.to_parquet(folder / "part-0.parquet")
>>> panel = panel_from_parquet(folder, sim.deals, roster=sim.roster, progress=False)
>>> panel.equals(sg.build_panel(sim.activities, sim.deals, roster=sim.roster))
True
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

from salesgoals._duplicates import ACTIVITY_RULE
from salesgoals._periods import check_freq
from salesgoals._schema import ACTIVITY_REQUIRED, QUALITY_METRICS
from salesgoals._typing import Freq
from salesgoals.errors import DataQualityWarning, DateParseError, FileFormatError, SchemaError
from salesgoals.io import read_users
from salesgoals.panel._aggregate import COUNT, KEYS, Reduction, _literal, _progress_bar, _quote, period_start
from salesgoals.panel._build import _assemble, _check_deals_roster, _is_dask, _require_columns

__all__ = ["panel_from_parquet", "panel_from_dask", "panel_from_counts", "counts_sql"]

_PARQUET_EXT = (".parquet", ".pq", ".parq")
_CSV_EXT = (".csv", ".csv.gz", ".tsv", ".txt", ".csv.zst")
_REMOTE = ("s3://", "s3a://", "gs://", "gcs://", "az://", "abfss://", "http://", "https://", "hf://")
#: Canonical activity columns the reduction and the duplicate rule read (all but the first three optional).
_READ_COLUMNS = ("rep", "timestamp", "activity_type", "outcome", "activity_id", "deal_id", "account", "duration_min")
#: Reasons (``salesgoals._duplicates``) the DuckDB path excludes rows for, as the loader does.
DUPLICATE_REASONS = ("duplicate_row", "duplicate_id")


def panel_from_parquet(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    deals: pd.DataFrame | None = None,
    *,
    freq: Freq = "W",
    roster: pd.DataFrame | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    columns: Mapping[str, str] | None = None,
    file_format: Literal["parquet", "csv"] | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    temp_directory: str | os.PathLike | None = None,
    connection=None,
    progress: bool = True,
    users=None,
) -> pd.DataFrame:
    """Build the rep x period panel from activity files larger than memory.

    The files are aggregated by DuckDB, streaming, to activity counts per
    (rep, period, activity type); the panel is then assembled exactly as
    :func:`salesgoals.build_panel` does.  Rows that
    :func:`salesgoals.load_activities` would exclude as duplicates are
    excluded by the same rule (see the Notes), so the result is identical to
    ``build_panel(load_activities(files), deals, ...)`` on canonical files,
    and to ``build_panel(pandas.concat(all files), deals, ...)`` when no row
    is a duplicate.

    Parameters
    ----------
    source : str, path or list of them
        A directory (read recursively), a glob (``"logs/**/*.parquet"``), a
        file, or a list of files.  Parquet or CSV (optionally compressed),
        possibly hive-partitioned (``year=2024/month=05/part-0.parquet``).
        Remote URLs (``s3://bucket/activities/*.parquet``) are passed to
        DuckDB as they are (load its ``httpfs`` extension and credentials
        first: see the Notes).
    deals : pandas.DataFrame, optional
        Canonical deals from :func:`salesgoals.load_deals` (small: in memory).
    freq : {"W", "M", "Q"}, default="W"
        Monday-based weeks, calendar months or calendar quarters.
    roster : pandas.DataFrame, optional
        From :func:`salesgoals.load_roster`; as in :func:`build_panel`.
    start, end : date-like, optional
        Override the observation window, as in :func:`build_panel`.
    columns : mapping, optional
        Canonical name -> column name in the files, for files that do not use
        the canonical names, e.g. ``{"rep": "owner_id", "timestamp":
        "created_at", "activity_type": "type"}``.
    file_format : {"parquet", "csv"}, optional
        Default: from the file extensions.
    memory_limit : str, optional
        DuckDB's memory limit (default ``"2GB"`` on the connection this
        function opens); above it the aggregation spills to
        ``temp_directory``.  The process's peak memory stays near this value
        plus the panel itself.
    threads : int, optional
        DuckDB worker threads (default: every core).
    temp_directory : path, optional
        Where DuckDB spills (default: a fresh temporary directory, removed
        afterwards).
    connection : duckdb.DuckDBPyConnection, optional
        Run on this connection (a cursor of it), e.g. one with S3 secrets or
        extensions already set up.  Its settings are left as they are unless
        ``memory_limit``, ``threads`` or ``temp_directory`` are given.
    progress : bool, default=True
        Show a progress bar (tqdm) with the share of the input scanned.
    users : path, DataFrame or mapping, optional
        Owner id -> name table, as ``users=`` of :func:`salesgoals.load_activities`
        (a Salesforce ``User`` export, a HubSpot owners export, or a dict):
        the files' ``rep`` values that are owner ids become names (ids the
        table does not know are kept), so they match deals loaded with the
        same table.  Counts of ids that map to one name are added up.

    Returns
    -------
    pandas.DataFrame
        The panel, with the columns, dtypes and ``attrs`` documented in
        :func:`salesgoals.build_panel`.

    Raises
    ------
    FileNotFoundError
        No file matches ``source``.
    FileFormatError
        The files are neither Parquet nor CSV, or mix both.
    SchemaError
        A required column (``rep``, ``timestamp``, ``activity_type``) is
        missing from the files; the message lists what was found.
    DateParseError
        A CSV timestamp cannot be read as a date-time.

    Warns
    -----
    DataQualityWarning
        As :func:`build_panel`: once, with counts, for events not counted;
        and once with the rows excluded as duplicates, by reason
        (``duplicate_row``, ``duplicate_id``; also in
        ``panel.attrs["duplicates"]``, present only when rows were excluded).

    See Also
    --------
    salesgoals.build_panel : the same panel from in-memory DataFrames.
    panel_from_dask : the same panel on a Dask cluster.

    Notes
    -----
    Only the canonical activity columns are read from the files (``rep``,
    ``timestamp``, ``activity_type``, and when present ``outcome``,
    ``activity_id``, ``deal_id``, ``account``, ``duration_min``).  The
    duplicate rule of :func:`salesgoals.load_activities` applies, compared on
    the values as stored: with an ``activity_id``, one row per activity type
    and id is counted, the first in input order (files in the order given,
    rows in file order); without one, a row equal in every column to another
    is counted once when the timestamps carry a time of day, and every row is
    counted when they are dates only.  Time-zone-aware Parquet timestamps count at their local
    wall time in the column's time zone (read from the first file's schema),
    as in :func:`build_panel`; CSV timestamps with a UTC offset count at UTC
    wall time.  Tz-naive timestamps, as the salesgoals loaders write them,
    are taken as they are.  For ``s3://`` sources this function loads
    DuckDB's ``httpfs`` extension and an S3 secret from the usual AWS
    credential chain; to use other credentials, set them up on a connection
    and pass it::

        con = duckdb.connect()
        con.execute("CREATE SECRET (TYPE s3, KEY_ID '...', SECRET '...', REGION 'eu-west-1')")
        panel = panel_from_parquet("s3://crm-lake/activities/*.parquet", deals, connection=con)

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for i, part in enumerate((sim.activities[::2], sim.activities[1::2])):
    ...     part.to_parquet(folder / f"part-{i}.parquet")
    >>> panel = panel_from_parquet(folder / "*.parquet", sim.deals, freq="M", progress=False)
    >>> int(panel["call"].sum()) == int((sim.activities["activity_type"] == "call").sum())
    True
    """
    freq = check_freq(freq)
    files, fmt, label = _resolve(source, file_format)
    deals, roster = _check_deals_roster(deals, roster)
    counts, reduction, duplicates = _counts_duckdb(
        files, fmt, label, freq=freq, columns=columns, memory_limit=memory_limit, threads=threads,
        temp_directory=temp_directory, connection=connection, progress=progress,
    )  # fmt: skip
    if duplicates:
        warn_duplicates(duplicates, label, "panel_from_parquet", total=int(counts[COUNT].sum()) + sum(duplicates.values()))
    if users is not None:
        counts = owner_names(counts, users, reduction, "panel_from_parquet")
    panel = _assemble(counts, reduction, deals, roster=roster, start=start, end=end, stacklevel=3)
    if duplicates:  # rows by reason, as load_activities' report counts them
        panel.attrs["duplicates"] = duplicates
    return panel


def owner_names(counts: pd.DataFrame, users, reduction: Reduction, func: str) -> pd.DataFrame:
    """Activity counts with owner ids in ``rep`` replaced by names from a users table (as the loaders' ``users=``).

    Ids the table does not know are kept; the counts of ids that map to one name are added up.
    """
    table = users if isinstance(users, Mapping) else read_users(users, func)
    rep = counts["rep"].astype("category")
    names = np.array([table.get(str(c), str(c)) for c in rep.cat.categories] + [None], dtype=object)
    named = counts.assign(rep=names[rep.cat.codes.to_numpy()])  # code -1 (no rep) -> the trailing None
    cols = [COUNT, *reduction.metrics]
    summed = named.groupby(list(KEYS), sort=False, dropna=False, observed=True)[cols].sum().reset_index()
    return reduction.normalize(summed)


def warn_duplicates(duplicates: dict[str, int], label: str, func: str, *, total: int | None = None) -> None:
    """Say, with counts by reason, how many rows the duplicate rule excluded (as load_activities does)."""
    n = sum(duplicates.values())
    by = ", ".join(f"{v:,} {k}" for k, v in duplicates.items())
    warnings.warn(
        f"{func}: excluded {n:,}{f' of {total:,}' if total is not None else ''} activity rows of {label!r} ({by}) "
        f"by the duplicate rule of load_activities: {ACTIVITY_RULE}. See panel.attrs['duplicates'].",
        DataQualityWarning,
        stacklevel=3,
    )


def panel_from_dask(
    activities,
    deals: pd.DataFrame | None = None,
    *,
    freq: Freq = "W",
    roster: pd.DataFrame | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Build the rep x period panel from a Dask DataFrame of activities.

    Each partition is reduced to activity counts on the workers (the same
    numpy code as the in-memory path); the counts are merged in a tree on the
    workers, and only the merged counts (at most reps x periods x types rows)
    travel to the client, where the panel is assembled exactly as
    :func:`salesgoals.build_panel` does.

    Parameters
    ----------
    activities : dask.dataframe.DataFrame
        Canonical activities (``rep``, ``timestamp`` as datetime,
        ``activity_type``, optionally ``outcome``), e.g. from
        ``dask.dataframe.read_parquet("s3://bucket/activities/")``.
    deals, roster : pandas.DataFrame, optional
        As in :func:`build_panel` (a Dask DataFrame is computed first).
    freq : {"W", "M", "Q"}, default="W"
        Monday-based weeks, calendar months or calendar quarters.
    start, end : date-like, optional
        Override the observation window.
    progress : bool, default=True
        A tqdm bar over the partitions (on a ``distributed`` client) or over
        the tasks (Dask's local scheduler).

    Returns
    -------
    pandas.DataFrame
        The panel documented in :func:`salesgoals.build_panel`.

    Raises
    ------
    TypeError
        ``activities`` is not a Dask DataFrame.
    SchemaError
        A required column is missing.

    Notes
    -----
    Runs on the active ``distributed.Client`` when there is one::

        from distributed import Client
        import dask.dataframe as dd
        client = Client("tcp://scheduler:8786")
        acts = dd.read_parquet("s3://crm-lake/activities/", columns=["rep", "timestamp", "activity_type", "outcome"])
        panel = sg.scale.panel_from_dask(acts, deals, roster=roster)

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=0)
    >>> acts = dd.from_pandas(sim.activities, npartitions=3)
    >>> panel = panel_from_dask(acts, sim.deals, progress=False)
    >>> panel.equals(sg.build_panel(sim.activities, sim.deals))
    True
    """
    if not _is_dask(activities):
        raise TypeError(
            f"panel_from_dask: activities must be a dask DataFrame; got {type(activities).__name__}. "
            "Use salesgoals.build_panel for a pandas DataFrame."
        )
    freq = check_freq(freq)
    _require_columns(list(activities.columns), ACTIVITY_REQUIRED, "activities", "load_activities", "panel_from_dask")
    deals, roster = _check_deals_roster(deals, roster)
    reduction = Reduction.for_columns(activities.columns, freq=freq)
    counts = reduction.on_dask(activities, progress=progress)
    return _assemble(counts, reduction, deals, roster=roster, start=start, end=end, stacklevel=3)


def counts_sql(
    relation: str,
    *,
    freq: Freq = "W",
    columns: Mapping[str, str] | None = None,
    outcome: bool = True,
) -> str:
    """The SQL that reduces an activity table to the counts :func:`panel_from_counts` takes.

    For logs that live in a warehouse: run this query there (or adapt it to
    the warehouse's dialect), fetch the result (at most reps x periods x
    types rows) and pass it to :func:`panel_from_counts`.  It is the query
    :func:`panel_from_parquet` runs on DuckDB when no rows can be duplicates
    (files of dates only without an id column); otherwise that function also
    applies the loaders' duplicate rule.

    Parameters
    ----------
    relation : str
        A table name or a table expression, e.g. ``"crm.activities"`` or
        ``"read_parquet('lake/*.parquet')"``.
    freq : {"W", "M", "Q"}, default="W"
        Period grain.
    columns : mapping, optional
        Canonical name -> column name in ``relation`` (``rep``, ``timestamp``,
        ``activity_type``, ``outcome``).
    outcome : bool, default=True
        Whether the table has an outcome column (adds the quality counts).

    Returns
    -------
    str
        A ``SELECT`` with one row per (rep, period_start, activity_type) and
        columns ``rep``, ``period_start`` (date), ``activity_type``, ``n``
        and, with ``outcome``, ``call_connected`` and ``meeting_held``.

    Notes
    -----
    Written in DuckDB's dialect, which PostgreSQL, Spark SQL and Snowflake
    also accept for these constructs (``date_trunc('week', ...)`` starts
    weeks on Monday there too; in BigQuery use ``DATE_TRUNC(ts, WEEK(MONDAY))``
    and ``COUNTIF``).  ``GROUP BY ALL`` needs a recent engine; list the three
    keys otherwise.

    Examples
    --------
    >>> print(counts_sql("crm.activities", freq="M", outcome=False))
    SELECT CAST("rep" AS VARCHAR) AS rep, CAST(date_trunc('month', CAST("timestamp" AS TIMESTAMP)) AS DATE) AS period_start, CAST("activity_type" AS VARCHAR) AS activity_type, count(*) AS n FROM crm.activities GROUP BY ALL
    """
    names = ["rep", "timestamp", "activity_type", *(["outcome"] if outcome else [])]
    return Reduction.for_columns(names, freq=check_freq(freq)).sql(relation, columns=dict(columns or {}))


def panel_from_counts(
    counts: pd.DataFrame,
    deals: pd.DataFrame | None = None,
    *,
    freq: Freq = "W",
    roster: pd.DataFrame | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Build the panel from activity counts computed elsewhere (a warehouse, a Spark job).

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per (rep, period start, activity type), as returned by the
        query of :func:`counts_sql` with the same ``freq``: columns ``rep``,
        ``period_start`` (the Monday of the week, or the first day of the
        month or quarter; missing for activities without a timestamp),
        ``activity_type``, ``n`` and optionally ``call_connected`` and
        ``meeting_held``.
    deals, roster : pandas.DataFrame, optional
        As in :func:`salesgoals.build_panel`.
    freq : {"W", "M", "Q"}, default="W"
        The grain the counts were computed at.
    start, end : date-like, optional
        Override the observation window.

    Returns
    -------
    pandas.DataFrame
        The panel documented in :func:`salesgoals.build_panel`.

    Raises
    ------
    SchemaError
        A column is missing, or ``period_start`` holds dates that do not
        start a period of ``freq`` (counts computed at another grain).

    Examples
    --------
    >>> import duckdb
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=0)
    >>> acts = sim.activities
    >>> counts = duckdb.sql(counts_sql("acts")).df()
    >>> panel_from_counts(counts, sim.deals).equals(sg.build_panel(acts, sim.deals))
    True
    """
    freq = check_freq(freq)
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"panel_from_counts: counts must be a pandas DataFrame; got {type(counts).__name__}.")
    _require_columns(list(counts.columns), [*KEYS, COUNT], "counts", "counts_sql", "panel_from_counts")
    has_quality = [m for m in QUALITY_METRICS if m in counts.columns]
    if has_quality and len(has_quality) != len(QUALITY_METRICS):
        raise SchemaError(
            f"panel_from_counts: counts has {', '.join(has_quality)} but not every quality column "
            f"({', '.join(QUALITY_METRICS)}); compute them all (counts_sql(..., outcome=True)) or none."
        )
    reduction = Reduction.for_columns(["outcome"] if has_quality else [], freq=freq)
    table = reduction.normalize(counts)
    starts = table["period_start"].to_numpy(dtype="datetime64[D]")
    off = ~np.isnat(starts) & (period_start(starts, freq) != starts)
    if off.any():
        raise SchemaError(
            f"panel_from_counts: {int(off.sum()):,} period_start values are not the start of a {freq!r} period "
            f"(first: {starts[off][0]}). Compute the counts with counts_sql(..., freq={freq!r})."
        )
    deals, roster = _check_deals_roster(deals, roster)
    return _assemble(table, reduction, deals, roster=roster, start=start, end=end, stacklevel=3)


# ------------------------------------------------------------------- files
def _resolve(source, file_format) -> tuple[list[str], str, str]:
    """Expand ``source`` into a sorted file list, its format and a label for messages."""
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not items:
        raise FileNotFoundError("panel_from_parquet: source is an empty list of files.")
    files: list[str] = []
    for item in items:
        text = os.fspath(item)
        if text.startswith(_REMOTE):
            files.append(text)  # DuckDB expands remote globs itself
        elif os.path.isdir(text):
            found = [str(p) for p in sorted(Path(text).rglob("*")) if p.is_file() and _ext(str(p))]
            if not found:
                raise FileNotFoundError(
                    f"panel_from_parquet: no Parquet or CSV file in directory {text!r} (looked for "
                    f"{', '.join(_PARQUET_EXT + _CSV_EXT)})."
                )
            files.extend(found)
        elif glob.has_magic(text):
            found = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(f"panel_from_parquet: no file matches {text!r}.")
            files.extend(found)
        elif os.path.isfile(text):
            files.append(text)
        else:
            raise FileNotFoundError(f"panel_from_parquet: no such file or directory: {text!r}.")
    label = os.fspath(items[0]) if len(items) == 1 else f"{len(files)} files"
    if file_format is not None:
        if file_format not in ("parquet", "csv"):
            raise ValueError(f"panel_from_parquet: file_format must be 'parquet' or 'csv'; got {file_format!r}.")
        return files, file_format, label
    kinds = {_ext(f) for f in files}
    if None in kinds:
        bad = next(f for f in files if _ext(f) is None)
        raise FileFormatError(
            f"panel_from_parquet: cannot tell the format of {bad!r} from its extension. Expected Parquet "
            f"({', '.join(_PARQUET_EXT)}) or CSV ({', '.join(_CSV_EXT)}); pass file_format='parquet' or 'csv'."
        )
    if len(kinds) > 1:
        raise FileFormatError(
            f"panel_from_parquet: {label} mixes Parquet and CSV files; aggregate each format separately "
            "or convert the CSV files to Parquet."
        )
    return files, kinds.pop(), label


def _ext(path: str) -> str | None:
    low = path.lower()
    if low.endswith(_PARQUET_EXT):
        return "parquet"
    if low.endswith(_CSV_EXT):
        return "csv"
    return None


def _counts_duckdb(files, fmt, label, *, freq, columns, memory_limit, threads, temp_directory, connection, progress):
    """Run the reduction's SQL over the files with DuckDB; return (counts, reduction, duplicates excluded)."""
    import duckdb  # optional: the "scale" extra

    listing = "[" + ", ".join(_literal(f) for f in files) + "]"
    if fmt == "parquet":
        relation = f"read_parquet({listing}, union_by_name = true)"
    else:
        relation = f"read_csv({listing}, union_by_name = true, header = true)"
    own = connection is None
    own_tmp = own and temp_directory is None
    tmp = tempfile.mkdtemp(prefix="salesgoals-duckdb-") if own_tmp else temp_directory
    con = duckdb.connect() if own else connection.cursor()
    try:
        settings = {"memory_limit": memory_limit or ("2GB" if own else None), "temp_directory": tmp,
                    "threads": threads, "preserve_insertion_order": False if own else None}  # fmt: skip
        _set_up(con, settings, own, files, label)
        try:
            found = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
        except (duckdb.InvalidInputException, duckdb.IOException) as exc:
            raise _unreadable(exc, label, fmt) from exc
        mapping = _column_mapping(found, columns, label)
        # tz-aware timestamps count at their local wall time, as in build_panel (tz_localize(None))
        tz = _parquet_timezone(files[0], mapping["timestamp"]) if fmt == "parquet" else None
        con.execute(f"SET TimeZone = {_literal(tz or 'UTC')}")
        reduction = Reduction.for_columns(mapping, freq=freq)
        try:
            sql = _counts_query(con, reduction, relation, mapping, fmt=fmt, listing=listing)
            counts = _run_with_progress(con, sql, progress=progress, desc=f"aggregating {len(files)} file(s)")
        except duckdb.ConversionException as exc:
            raise DateParseError(
                f"panel_from_parquet: a value in column {mapping['timestamp']!r} of {label!r} is not a "
                f"date-time ({str(exc).splitlines()[0]}). Write timestamps as ISO 8601 "
                "(2024-05-31 14:00:00) or load the files with salesgoals.load_activities first."
            ) from exc
        except (duckdb.InvalidInputException, duckdb.IOException) as exc:  # a file cut short past the sniffed rows
            raise _unreadable(exc, label, fmt) from exc
    finally:
        con.close()
        if own_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    excluded = {k: int(counts.pop(k).sum()) for k in DUPLICATE_REASONS if k in counts.columns}
    return reduction.normalize(counts), reduction, {k: v for k, v in excluded.items() if v}


def _unreadable(exc: Exception, label: str, fmt: str) -> FileFormatError:
    """The named error for activity files DuckDB cannot read: not CSV text, not Parquet, a gzip cut short."""
    return FileFormatError(
        f"panel_from_parquet: DuckDB cannot read the activity files {label!r} as {fmt.upper()} "
        f"({str(exc).splitlines()[0]}). Expected complete {fmt.upper()} files with the canonical columns (rep, "
        "timestamp, activity_type); check no file is truncated or in another format, or load them with "
        "salesgoals.load_activities."
    )


def _set_up(con, settings: dict, own: bool, files: list[str], label: str) -> None:
    """Apply the connection settings given; on a connection of our own, S3 access for ``s3://`` files."""
    import duckdb

    for key, value in settings.items():
        if value is not None:
            text = _literal(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else str(value).lower()
            con.execute(f"SET {key} = {text}")
    if own and any(f.startswith(("s3://", "s3a://")) for f in files):
        try:
            con.execute("INSTALL httpfs; LOAD httpfs; CREATE SECRET (TYPE s3, PROVIDER credential_chain)")
        except duckdb.Error as exc:
            raise FileFormatError(
                f"panel_from_parquet: cannot set up S3 access for {label!r} ({str(exc).splitlines()[0]}). "
                "Create the secret on a DuckDB connection yourself and pass it as connection=."
            ) from exc


def _column_mapping(found: list[str], columns: Mapping[str, str] | None, label: str) -> dict[str, str]:
    """Canonical name -> column of the files, for the columns the reduction and the duplicate rule read."""
    mapping = {c: c for c in _READ_COLUMNS if c in found}
    for canon, src in (columns or {}).items():
        if canon not in _READ_COLUMNS:
            raise ValueError(f"panel_from_parquet: columns= keys must be among {', '.join(_READ_COLUMNS)}; got {canon!r}.")
        if src not in found:
            raise SchemaError(
                f"panel_from_parquet: columns={{{canon!r}: {src!r}}} but {label!r} has no column {src!r}. "
                f"Found: {', '.join(found)}."
            )
        mapping[canon] = src
    missing = [c for c in ACTIVITY_REQUIRED if c not in mapping]
    if missing:
        raise SchemaError(
            f"panel_from_parquet: the activity files {label!r} have no column(s) "
            f"{', '.join(map(repr, missing))}. Expected the canonical columns {', '.join(ACTIVITY_REQUIRED)} "
            f"(and optionally outcome); found {', '.join(found)}. Pass columns={{{missing[0]!r}: "
            "'<its name in the files>'}, or write the files from salesgoals.load_activities()."
        )
    return mapping


def _counts_query(con, reduction: Reduction, relation: str, mapping: dict[str, str], *, fmt: str, listing: str) -> str:
    """The counts SQL under the loaders' duplicate-row rule (``salesgoals._duplicates.ACTIVITY_RULE``).

    With an activity id column, rows are ordered as the loader reads them
    (files in the order given, rows in file order) so the first of each id is
    the one kept.  Without one, whether the timestamps carry a time of day is
    checked first (one cheap query that stops at the first such row): an
    export of dates only keeps alike rows, and then nothing is excluded.
    """
    q = {k: _quote(v) for k, v in mapping.items()}
    keyed = "activity_id" in mapping
    part = f"{q['rep']} IS NOT NULL AND {q['activity_type']} IS NOT NULL AND {q['timestamp']} IS NOT NULL"
    plain = f"{q['activity_id']} IS NULL AND " if keyed else ""
    probe = (f"SELECT 1 FROM {relation} WHERE {plain}{part} AND "
             f"epoch_us(CAST({q['timestamp']} AS TIMESTAMP)) % 86400000000 <> 0 LIMIT 1")  # fmt: skip
    timed = bool(con.execute(probe).fetchall())
    if not keyed and not timed:
        return reduction.sql(relation, columns=mapping)
    order = None
    if keyed and fmt == "parquet":
        relation = relation[:-1] + ", filename = true, file_row_number = true)"
        order = f"{{'file': coalesce(list_position({listing}, filename), 0), 'name': filename, 'row': file_row_number}}"
    elif keyed:  # CSV has no row number column: rows numbered as read, in insertion order
        con.execute("SET preserve_insertion_order = true")
        order = "row_number() OVER ()"
    return reduction.sql_without_duplicates(relation, columns=mapping, timed=timed, order=order)


def _parquet_timezone(path: str, column: str) -> str | None:
    """Time zone of a Parquet timestamp column (from the Arrow schema), or None."""
    if path.startswith(_REMOTE):
        return None
    try:
        return getattr(pq.read_schema(path).field(column).type, "tz", None)
    except (KeyError, OSError, ValueError):
        return None


def _fetch(con, sql: str) -> pd.DataFrame:
    """Run ``sql`` and fetch the counts, text keys as Categoricals (dictionary-encoded by Arrow)."""
    table = con.sql(sql).to_arrow_table()
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if name in ("rep", "activity_type"):
            enc = pc.dictionary_encode(col).combine_chunks()
            codes = enc.indices.to_numpy(zero_copy_only=False)
            codes = pd.array(codes, dtype="Int64").fillna(-1).to_numpy(dtype=np.int64)
            cols[name] = pd.Categorical.from_codes(codes, categories=pd.Index(enc.dictionary.to_pylist(), dtype=object))
        else:
            cols[name] = col.to_pandas()
    return pd.DataFrame(cols)


def _run_with_progress(con, sql: str, *, progress: bool, desc: str) -> pd.DataFrame:
    """Run ``sql`` on ``con``; while it runs, show DuckDB's scan progress as a tqdm bar."""
    if not progress:
        return _fetch(con, sql)
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["result"] = _fetch(con, sql)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="salesgoals-duckdb", daemon=True)
    bar = _progress_bar(100, "%", True, desc=desc)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.25)
            pct = int(min(100.0, con.query_progress() or 0.0))  # -1 before the scan starts
            if pct > bar.n:
                bar.update(pct - bar.n)
        if "error" not in box:
            bar.update(100 - bar.n)
    except KeyboardInterrupt:
        con.interrupt()
        worker.join()
        raise
    finally:
        bar.close()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def dask_without_duplicates(ddf):
    """The rows of a Dask DataFrame of activity files that load_activities keeps under its duplicate rule.

    The same rule as :func:`panel_from_parquet` (``salesgoals._duplicates``):
    with an ``activity_id``, the first row of each (type, id) in input order
    (partitions in order, rows in partition order); without one, one row of
    each set of rows equal in every column when the timestamps carry a time of
    day.  Rows without a rep, type or timestamp pass through.  Returns the
    rows and the rows excluded by reason.  The first row of each id is found
    by its position, and those positions (one per id) are brought to the
    client: fine for tens of millions of ids; beyond, use DuckDB.
    """
    import dask.dataframe as dd

    cols = [c for c in _READ_COLUMNS if c in ddf.columns]
    ddf = ddf[cols]
    if not pd.api.types.is_datetime64_any_dtype(ddf["timestamp"].dtype):  # CSV: text, parsed as build_panel does
        ddf = ddf.assign(timestamp=dd.to_datetime(ddf["timestamp"]))
    keyed = "activity_id" in cols
    part = ~ddf["rep"].isna() & ~ddf["activity_type"].isna() & ~ddf["timestamp"].isna()
    plain = part & ddf["activity_id"].isna() if keyed else part
    ts = ddf["timestamp"]
    timed = bool((ts != ts.dt.normalize())[plain].any().compute())
    pieces, excluded = [ddf[~part]], {}
    if timed:
        rows = ddf[plain]
        kept = rows.drop_duplicates()
        n_rows, n_kept = dd.compute(rows.shape[0], kept.shape[0])
        pieces.append(kept)
        excluded["duplicate_row"] = int(n_rows - n_kept)
    else:
        pieces.append(ddf[plain])
    if keyed:
        ordered = ddf.map_partitions(_with_input_order, meta={**ddf.dtypes.to_dict(), "input_order": "int64"})
        rows = ordered[part & ~ordered["activity_id"].isna()]
        key = ["activity_type", "activity_id"]
        first = rows.groupby(key, observed=True, dropna=True)["input_order"].min().rename("input_order")
        kept = rows[rows["input_order"].isin(first.compute().to_numpy())].drop(columns="input_order")
        n_rows, n_distinct, n_kept = dd.compute(rows.shape[0], rows.drop(columns="input_order").drop_duplicates().shape[0],
                                                kept.shape[0])
        pieces.append(kept)
        excluded["duplicate_row"] = excluded.get("duplicate_row", 0) + int(n_rows - n_distinct)
        excluded["duplicate_id"] = int(n_distinct - n_kept)
    return dd.concat(pieces), {k: v for k, v in excluded.items() if v}


def _with_input_order(frame: pd.DataFrame, partition_info=None) -> pd.DataFrame:
    """The partition with each row's input position (partition number, then row)."""
    number = partition_info["number"] if partition_info else 0
    return frame.assign(input_order=(np.int64(number) << 40) + np.arange(len(frame), dtype=np.int64))
