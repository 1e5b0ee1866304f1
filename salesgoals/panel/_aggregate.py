"""The one definition of how a raw activity log is reduced before the panel.

The expensive step of :func:`salesgoals.build_panel` is turning millions of
activity rows into counts.  Everything after it (the observation window, rep
spans, the exclusion tally, zero-filled rows, deals) needs only the *activity
counts*: one row per (rep, period start, activity type) with

* ``n`` -- how many activities fell in that cell, and
* one column per quality metric of :data:`salesgoals._schema.QUALITY_METRICS`
  (``call_connected``, ``meeting_held``) -- how many of them had a counting
  outcome.  These columns exist only when the log has an ``outcome`` column.

That table is small (at most reps x periods x types rows), so it fits in memory
however large the log is.  This module states the reduction once, as data
(:class:`Reduction`: the period truncation rule, the group keys, the metric
filters), and translates it for three engines:

* :meth:`Reduction.on_frame` -- numpy, for a pandas DataFrame in memory (one
  ``bincount`` over integer cell codes; also the per-partition step on Dask);
* :meth:`Reduction.sql` -- DuckDB SQL, for Parquet/CSV files larger than memory;
* :meth:`Reduction.on_dask` -- a tree reduction over the partitions of a Dask
  DataFrame: :meth:`on_frame` on each partition, :meth:`combine` to merge.

Every translator returns the same table (:meth:`Reduction.normalize` fixes its
column order, dtypes and row order), and ``tests/test_scale.py`` checks the
engines against each other on messy input, so they cannot drift apart.

Why a spec with translators rather than one dataframe-agnostic expression
(narwhals): narwhals 2.x cannot truncate to Monday-based weeks
(``dt.truncate`` has no week unit), on pandas it would replace the numpy
``bincount`` with a string-keyed groupby (1.7x the CPU time, measured on three
million rows at monthly grain), and the engine-specific parts (memory limits, spilling, progress,
tree merges on a cluster) would remain anyway.  Here the numpy translator is
also the per-partition step on Dask, so only two translators exist, and the
SQL one is portable to warehouses (:func:`salesgoals.panel.scale.counts_sql`).

Rules every translator follows (the spec)
-----------------------------------------
* period start: the Monday of the ISO week (``W``), the first day of the month
  (``M``) or of the calendar quarter (``Q``) of the timestamp, as a date; a
  missing timestamp gives a missing period start (the row is kept, with its
  count, so that :func:`build_panel` can report it).
* rep and activity type are compared as text (``str(value)``); a missing value
  is a missing key, kept as its own group.
* a quality metric ``name -> (type, outcomes)`` counts the rows whose activity
  type equals ``type`` and whose lower-cased outcome is one of ``outcomes``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesgoals import _periods
from salesgoals._activity_counts import WeeklyCounts
from salesgoals._periods import check_freq
from salesgoals._schema import QUALITY_METRICS
from salesgoals.errors import SchemaError

__all__ = ["KEYS", "Reduction", "period_start", "datetime_values"]

#: Group keys of the activity counts, in output order.
KEYS: tuple[str, str, str] = ("rep", "period_start", "activity_type")
#: Name of the count column.
COUNT = "n"

_EPOCH_MONDAY = np.datetime64("1969-12-29", "D")  # a Monday before the epoch
_SQL_UNIT = {"W": "week", "M": "month", "Q": "quarter"}  # DuckDB date_trunc('week') is ISO: Monday
#: Largest dense count cube (cells) on_frame allocates before switching to a sort-based count.
_MAX_DENSE_CELLS = 1 << 25


# ------------------------------------------------------------------ periods
def period_start(values: pd.Series | np.ndarray, freq: str) -> np.ndarray:
    """First day of the period each timestamp falls in, as ``datetime64[D]``.

    Vectorised; NaT stays NaT.

    Parameters
    ----------
    values : Series or array of datetime64
        Timestamps.
    freq : {"W", "M", "Q"}
        Monday-based weeks, calendar months or calendar quarters.

    Returns
    -------
    numpy.ndarray
        ``datetime64[D]`` period starts.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-03 10:00", "2024-05-31 00:00"])
    >>> period_start(ts, "W").astype(str).tolist()
    ['2024-01-01', '2024-05-27']
    >>> period_start(ts, "Q").astype(str).tolist()
    ['2024-01-01', '2024-04-01']
    """
    freq = check_freq(freq)
    ordinals, ok = _periods.ordinals(np.asarray(values, dtype="datetime64[ns]"), freq)
    return np.where(ok, ordinal_to_start(np.where(ok, ordinals, 0), freq), np.datetime64("NaT", "D"))


def _ordinal_range(ts: np.ndarray, freq: str) -> tuple[int, int, bool]:
    """First and last period ordinal of the non-NaT timestamps, and whether none is NaT (one pass each)."""
    if not len(ts):
        return 0, 0, True
    raw = ts.view(np.int64)
    first = raw.min()
    all_ok = bool(first != np.iinfo(np.int64).min)  # NaT is the smallest int64
    if not all_ok:
        valid = raw[raw != np.iinfo(np.int64).min]
        if not len(valid):
            return 0, 0, False
        first = valid.min()
    ends = np.array([first, raw.max()], dtype=np.int64).view(ts.dtype)
    lo, hi = _periods.ordinals(ends, freq)[0]
    return int(lo), int(hi), all_ok


#: Rows per block of :meth:`Reduction.on_frame`: big enough to amortise a bincount of the grid,
#: small enough that a block's temporaries stay in the allocator's reuse range.
_BLOCK_ROWS = 1 << 21


def _map_row_blocks(fn, n: int) -> list:
    """``fn(rows)`` over consecutive blocks of ``n`` rows, on up to four threads; results in block order.

    The blocks are of equal size, a multiple of the threads in number, so
    every thread gets the same share.
    """
    workers = max(1, min(os.cpu_count() or 1, 4, -(-n // _BLOCK_ROWS)))
    k = workers * max(1, -(-n // (_BLOCK_ROWS * workers)))  # blocks: at most _BLOCK_ROWS rows each
    bounds = np.linspace(0, n, k + 1).astype(np.int64)
    blocks = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
    if workers == 1:
        return [fn(b) for b in blocks]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, blocks))


def period_ordinal(starts: np.ndarray, freq: str) -> np.ndarray:
    """Integer position of each period start on a regular grid (NaT gives garbage: mask it)."""
    starts = np.asarray(starts, dtype="datetime64[D]")
    if freq == "W":
        return (starts - _EPOCH_MONDAY).astype(np.int64) // 7
    months = starts.astype("datetime64[M]").astype(np.int64)
    return months // 3 if freq == "Q" else months


def ordinal_to_start(ordinals: np.ndarray, freq: str) -> np.ndarray:
    """Inverse of :func:`period_ordinal`: ``datetime64[D]`` period starts."""
    ordinals = np.asarray(ordinals, dtype=np.int64)
    if freq == "W":
        return _EPOCH_MONDAY + (ordinals * 7).astype("timedelta64[D]")
    months = ordinals * 3 if freq == "Q" else ordinals
    return months.astype("datetime64[M]").astype("datetime64[D]")


def datetime_values(frame: pd.DataFrame, col: str, what: str, *, native_unit: bool = False) -> np.ndarray:
    """Column ``col`` as tz-naive ``datetime64[ns]`` (wall time), parsing text if needed.

    With ``native_unit=True`` a datetime column keeps its own unit (s, ms, us
    or ns), which avoids a converted copy.
    """
    s = frame[col]
    if not pd.api.types.is_datetime64_any_dtype(s):
        try:
            s = pd.to_datetime(s, errors="raise")
        except (ValueError, TypeError) as exc:
            raise SchemaError(
                f"build_panel: {what} column {col!r} is not a datetime column ({s.dtype}). "
                "Load the export with the salesgoals loaders, which parse dates."
            ) from exc
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    # the column's own unit (the loaders give microseconds): no converted copy of a big log
    return s.to_numpy() if native_unit else s.to_numpy(dtype="datetime64[ns]")


def _factor(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 = missing) and the text of the distinct values they index, in no set order.

    Arrow-backed text (what the loaders return) is dictionary-encoded by
    Arrow, about 3x faster than ``pandas.factorize`` and without a copy of
    the strings; Categoricals (the loaders' rep, activity_type and outcome)
    reuse their codes.  Two distinct values with
    the same text (1 and "1") get two codes here: callers merge them.
    """
    dtype = getattr(values, "dtype", None)
    if isinstance(dtype, pd.CategoricalDtype):
        cat = values.cat if hasattr(values, "cat") else values
        return np.asarray(cat.codes), np.asarray(cat.categories, dtype=object).astype(str).astype(object)
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        enc = pc.dictionary_encode(_arrow_of(values))  # the chunks of a chunked result share one dictionary
        chunks = enc.chunks if isinstance(enc, pa.ChunkedArray) else [enc]
        if not chunks:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=object)
        codes = [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in chunks]
        codes = codes[0] if len(codes) == 1 else np.concatenate(codes)
        return codes, np.asarray(chunks[-1].dictionary.to_pylist(), dtype=object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object).astype(str).astype(object)


def _recoded(code: np.ndarray | None, then: list, text: np.ndarray, n: int) -> np.ndarray | None:
    """Codes into ``then`` (the categories when counted; -1 missing) as codes into ``text`` (the frame's now).

    All -1 (missing) when the column was not counted (``code`` None); None when
    a value counted is not in ``text`` any more (the caller then counts the rows).
    """
    if code is None:
        return np.full(n, -1, dtype=np.int64)
    lut = pd.Index(np.asarray(text, dtype=object)).get_indexer(np.asarray([str(v) for v in then], dtype=object))
    lut = np.append(lut, -1).astype(np.int64)  # code -1 (missing) stays missing
    out = lut[code]
    if ((out < 0) & (code >= 0)).any():
        return None
    return out


def _arrow_of(values) -> pa.ChunkedArray:
    """Return the Arrow array behind Arrow-backed pandas text."""
    arr = values.array if isinstance(values, pd.Series) else values
    return arr.__arrow_array__()


def _text_codes(values, *, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Factorize ``values`` compared as text.

    Returns integer codes (-1 = missing) and the unique strings they index
    (sorted if ``sort``).  Only the distinct values are converted to text, so
    this stays vectorised; 1 and "1" become one key, as ``str`` would make them.
    """
    codes, text = _factor(values)
    cats, remap = _merge_text(text, sort=sort)
    if len(cats) != len(text) or (remap != np.arange(len(remap))).any():
        codes = np.append(remap, -1)[codes]  # code -1 picks the appended -1
    return np.asarray(codes, dtype=np.int64), cats


def _merge_text(text: np.ndarray, *, sort: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Distinct strings of ``text`` (sorted if ``sort``) and the position of each value among them."""
    text = np.asarray(text, dtype=object).astype(str)
    if sort:
        cats, remap = np.unique(text, return_inverse=True)
    else:
        remap, cats = pd.factorize(text)
    return np.asarray(cats, dtype=object), np.asarray(remap, dtype=np.int64).reshape(-1)


def _text_categorical(values) -> pd.Categorical:
    """``values`` as a Categorical of text with sorted categories (missing stays missing)."""
    codes, cats = _text_codes(values)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object))


# ---------------------------------------------------------------- the spec
@dataclass(frozen=True)
class Reduction:
    """The reduction of an activity log to activity counts, stated once.

    Parameters
    ----------
    freq : {"W", "M", "Q"}
        Period grain.
    metrics : dict
        Quality metrics ``name -> (activity_type, outcomes)``, at most one per
        activity type; empty when the log has no ``outcome`` column.

    Examples
    --------
    >>> acts = pd.DataFrame({"rep": ["ann", "ann", "bob"],
    ...                      "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", None]),
    ...                      "activity_type": ["call", "call", "email"],
    ...                      "outcome": ["Connected", "no_answer", "sent"]})
    >>> red = Reduction.for_columns(acts.columns, freq="W")
    >>> red.on_frame(acts)
       rep period_start activity_type  n  call_connected  meeting_held
    0  ann   2024-01-01          call  2               1             0
    1  bob          NaT         email  1               0             0
    """

    freq: str
    metrics: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        types = [typ for typ, _ in self.metrics.values()]
        if len(set(types)) != len(types):  # on_frame counts every metric with one flag per row
            raise ValueError(f"Reduction: at most one quality metric per activity type; got types {types}.")

    @classmethod
    def for_columns(cls, columns: Iterable[str], *, freq: str) -> Reduction:
        """The reduction for a log with these columns (metrics need ``outcome``)."""
        metrics = dict(QUALITY_METRICS) if "outcome" in set(columns) else {}
        return cls(freq=check_freq(freq), metrics=metrics)

    @property
    def columns(self) -> list[str]:
        """Columns of the activity counts, in order."""
        return [*KEYS, COUNT, *self.metrics]

    # ------------------------------------------------------------ numpy
    def on_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Activity counts of an in-memory pandas DataFrame (vectorised numpy)."""
        # A log can hold tens of millions of rows.  Each row gets one integer cell code,
        # ((rep * n_per + period) * n_typ + type) * n_flag + flag, counted by one bincount that also
        # counts the quality metrics (flag 1: the row counts for the metric of its type, such as a
        # connected call).  The codes are built in place in blocks of rows on a few threads (numpy
        # releases the GIL), so no full-length temporary is made.  The last slot of each axis holds
        # the missing value, which raw code -1 picks from the lookup tables below.
        ts = datetime_values(frame, "timestamp", "activities", native_unit=True)
        lo, hi, all_ok = _ordinal_range(ts, self.freq)
        # sorted categories: the cells then come out of bincount already in normalize()'s order
        rep_raw, rep_text = _factor(frame["rep"])
        type_raw, type_text = _factor(frame["activity_type"])
        reps, rep_rank = _merge_text(rep_text)
        types, type_rank = _merge_text(type_text)
        n_rep, n_per, n_typ = len(reps) + 1, hi - lo + 2, len(types) + 1
        n_flag = 2 if self.metrics else 1
        n_cells = n_rep * n_per * n_typ * n_flag
        small = np.int32 if n_cells < 2**31 else np.int64  # the lookups' (temporary) results
        type_slot = np.append(type_rank, n_typ - 1).astype(small) * n_flag  # by raw type code; -1 -> last
        rep_slot = (np.append(rep_rank, n_rep - 1) * (n_per * n_typ * n_flag)).astype(small)
        if self.metrics:
            outcome_raw, outcome_text = _factor(frame["outcome"])
            flagged = self._flag_table(type_text, outcome_text)  # (raw type + 1, raw outcome + 1) -> flag
            pair_lut = (np.concatenate([type_slot[-1:], type_slot[:-1]])[:, None] + flagged).astype(small).ravel()
            pair_type = np.int32 if flagged.size >= 2**15 else np.int16
        dense = n_cells <= max(_MAX_DENSE_CELLS, 4 * len(ts))

        def block(rows: slice) -> np.ndarray:
            """Cell counts (dense grid) or cell codes (sparse grid) of some rows."""
            cell, ok = _periods.ordinals(ts[rows], self.freq)  # a new array: the period ordinals become the codes
            cell -= lo
            if not all_ok:
                cell[~ok] = n_per - 1
            cell *= n_typ * n_flag
            if self.metrics:
                pair = type_raw[rows].astype(pair_type)  # position in the (type, outcome) table
                pair += 1
                pair *= flagged.shape[1]
                pair += outcome_raw[rows]
                pair += 1
                cell += pair_lut[pair]
            else:
                cell += type_slot[type_raw[rows]]
            cell += rep_slot[rep_raw[rows]]
            return np.bincount(cell, minlength=n_cells) if dense else cell

        parts = _map_row_blocks(block, len(ts))
        if dense:
            counts = parts[0]
            for part in parts[1:]:
                counts += part
            good = counts[n_flag - 1 :: n_flag]  # flag 1 (or the only flag)
            total = good + counts[0::n_flag] if n_flag == 2 else good
            keys = np.flatnonzero(total)
            total, good = total[keys], good[keys]
        else:  # a few absurd timestamps make the grid huge: count the used cells by sorting instead
            used, n = np.unique(np.concatenate(parts), return_counts=True)
            keys, at = np.unique(used // n_flag, return_inverse=True)
            total = np.bincount(at, weights=n, minlength=len(keys)).astype(np.int64)
            good = np.bincount(at, weights=n * (used % n_flag), minlength=len(keys)).astype(np.int64)
        del parts
        return self._cells_table(keys, total, good, reps, types, n_per, lo)

    def _cells_table(self, keys: np.ndarray, total: np.ndarray, good: np.ndarray, reps: np.ndarray,
                     types: np.ndarray, n_per: int, lo: int) -> pd.DataFrame:
        """The activity counts of the used cells ``keys`` (ascending ``(rep slot * n_per + period - lo) * n_typ +
        type slot``, each axis's missing value in its last slot), ``total`` rows and ``good`` metric rows each."""
        n_rep, n_typ = len(reps) + 1, len(types) + 1
        out = {COUNT: total.astype(np.int64)}
        rk, rest = np.divmod(keys, n_per * n_typ)
        pk, tk = np.divmod(rest, n_typ)
        if self.metrics:
            good = good.astype(np.int64)
            for name, (typ, _outs) in self.metrics.items():
                is_typ = np.append(types == typ, False)  # by type slot; the missing slot -> False
                out[name] = np.where(is_typ[tk], good, 0)
        rep_vals = pd.Categorical.from_codes(np.where(rk < n_rep - 1, rk, -1), categories=pd.Index(reps, dtype=object))
        type_vals = pd.Categorical.from_codes(np.where(tk < n_typ - 1, tk, -1), categories=pd.Index(types, dtype=object))
        per_vals = np.where(pk < n_per - 1, ordinal_to_start(pk + lo, self.freq), np.datetime64("NaT", "D"))
        # already in normalize()'s form: sorted categories, and rows in key order with missing keys
        # last (each axis's missing slot is its last), so no second pass over the counts
        table = {"rep": rep_vals, "period_start": per_vals.astype("datetime64[s]"), "activity_type": type_vals}
        return pd.DataFrame({**table, **out})

    def on_weekly(self, frame: pd.DataFrame, weekly: WeeklyCounts) -> pd.DataFrame | None:
        """:meth:`on_frame` of a frame from the rows per week and codes the loader counted (the same table).

        ``weekly`` must describe ``frame``'s rows (:func:`salesgoals._activity_counts.recall` checks
        that); the groups are regrouped by cell, so no row of the frame is read.  None when the grain is not
        weekly or a counted value is no longer a category of the frame.
        """
        if self.freq != "W" or not len(weekly.n):
            return None
        weeks, at_count = weekly.decoded()
        now = {}
        for col in ("rep", "activity_type", "outcome"):
            _, text = _factor(frame[col]) if col in frame.columns else (None, np.zeros(0, dtype=object))
            code = _recoded(at_count.get(col), weekly.categories[weekly.columns.index(col)]
                            if col in weekly.columns else [], text, len(weeks))  # fmt: skip
            if code is None:
                return None
            now[col] = (code, text)
        (rep_code, rep_text), (type_code, type_text) = now["rep"], now["activity_type"]
        reps, rep_rank = _merge_text(rep_text)
        types, type_rank = _merge_text(type_text)
        rep_slot = np.append(rep_rank, len(reps))[rep_code]  # code -1 picks the missing slot
        type_slot = np.append(type_rank, len(types))[type_code]
        lo, hi = int(weeks.min()), int(weeks.max())
        n_per = hi - lo + 2
        cell = (rep_slot * n_per + (weeks - lo)) * (len(types) + 1) + type_slot
        n_cells = (len(reps) + 1) * n_per * (len(types) + 1)
        flag = None
        if self.metrics:
            out_code, out_text = now["outcome"]
            flag = self._flag_table(type_text, out_text)[type_code + 1, out_code + 1]
        if n_cells <= max(_MAX_DENSE_CELLS, 4 * len(cell)):  # one pass, no sort (as on_frame's dense grid)
            total = np.bincount(cell, weights=weekly.n, minlength=n_cells)
            keys = np.flatnonzero(total)
            total = total[keys]
            good = total if flag is None else np.bincount(cell, weights=weekly.n * flag, minlength=n_cells)[keys]
        else:
            keys, at = np.unique(cell, return_inverse=True)
            total = np.bincount(at, weights=weekly.n, minlength=len(keys))
            good = total if flag is None else np.bincount(at, weights=weekly.n * flag, minlength=len(keys))
        return self._cells_table(keys, total.astype(np.int64), good.astype(np.int64), reps, types, n_per, lo)

    def _flag_table(self, type_text: np.ndarray, outcome_text: np.ndarray) -> np.ndarray:
        """Tell, by (raw type code + 1, raw outcome code + 1), whether the pair counts for its type's metric.

        Row and column 0 are the missing type and outcome (raw code -1).
        """
        lowered = np.array([str(o).lower() for o in outcome_text], dtype=object)  # distinct labels only
        table = np.zeros((len(type_text) + 1, len(outcome_text) + 1), dtype=np.int64)
        for typ, outs in self.metrics.values():
            is_typ = np.asarray(type_text == typ, dtype=bool)
            good = np.isin(lowered, outs)
            table[1:, 1:] |= np.outer(is_typ, good)
        return table

    # ------------------------------------------------------------- SQL
    def sql(self, relation: str, *, columns: dict[str, str] | None = None) -> str:
        """DuckDB SQL computing the activity counts of ``relation``.

        ``columns`` maps canonical names (``rep``, ``timestamp``,
        ``activity_type``, ``outcome``) to the source's column names.
        """
        col = _sql_columns(columns)
        rep = f"CAST({col['rep']} AS VARCHAR)"
        typ = f"CAST({col['activity_type']} AS VARCHAR)"
        start = self._sql_start(col["timestamp"])
        select = [f"{rep} AS rep", f"{start} AS period_start", f"{typ} AS activity_type", f"count(*) AS {COUNT}"]
        for name, cond in self._sql_metrics(typ, f"CAST({col['outcome']} AS VARCHAR)"):
            select.append(f"count(*) FILTER (WHERE {cond}) AS {_quote(name)}")
        return f"SELECT {', '.join(select)} FROM {relation} GROUP BY ALL"

    def _sql_start(self, timestamp: str) -> str:
        return f"CAST(date_trunc('{_SQL_UNIT[self.freq]}', CAST({timestamp} AS TIMESTAMP)) AS DATE)"

    def _sql_metrics(self, typ: str, outcome: str) -> list[tuple[str, str]]:
        """``(name, condition)`` of each quality metric, on the SQL expressions of type and outcome."""
        out = []
        for name, (t, outs) in self.metrics.items():
            in_list = ", ".join(_literal(o) for o in outs)
            out.append((name, f"{typ} = {_literal(t)} AND lower({outcome}) IN ({in_list})"))
        return out

    def sql_without_duplicates(self, relation: str, *, columns: dict[str, str], timed: bool,
                               order: str | None = None) -> str:
        """DuckDB SQL of the activity counts after the loaders' duplicate-row rule.

        The rule is :data:`salesgoals._duplicates.ACTIVITY_RULE` (what
        :func:`salesgoals.load_activities` excludes), stated in SQL:

        * rows with an ``activity_id`` (when ``columns`` has one): one row per
          ``(activity_type, activity_id)``, the first by ``order`` (an SQL
          expression giving input order: file, then row); of the later rows,
          those equal to an earlier row in every column count as
          ``duplicate_row``, the others as ``duplicate_id``;
        * rows without an id, when ``timed`` (some id-less timestamp has a time
          of day): rows equal in every column (``rep``, ``timestamp``,
          ``activity_type``, ``outcome``, ``deal_id``, ``account``,
          ``duration_min``: those ``columns`` has) count once, the copies as
          ``duplicate_row``; with dates only nothing is excluded;
        * rows without a rep, type or timestamp take no part (they are counted
          as they are and reported by the panel as not counted).

        Compared to :meth:`sql`, the result has two more columns,
        ``duplicate_row`` and ``duplicate_id``: rows excluded per cell.
        """
        col = _sql_columns(columns)
        keyed = "activity_id" in columns
        extras = [c for c in ("deal_id", "account", "duration_min") if c in columns]
        body = [f"CAST({col['rep']} AS VARCHAR) AS rep", f"{self._sql_start(col['timestamp'])} AS period_start",
                f"CAST({col['activity_type']} AS VARCHAR) AS activity_type",
                f"CAST({col['outcome']} AS VARCHAR) AS outcome" if "outcome" in columns else "NULL AS outcome",
                f"{col['timestamp']} AS ts", *(f"{col[c]} AS {_quote(c)}" for c in extras)]  # fmt: skip
        if keyed:
            body += [f"{col['activity_id']} AS activity_id", f"{order} AS input_order"]
        whole = "rep IS NOT NULL AND activity_type IS NOT NULL AND period_start IS NOT NULL"  # takes part
        plain_where = f" WHERE activity_id IS NULL OR NOT ({whole})" if keyed else ""
        group = ", ".join(["rep", "period_start", "activity_type", "outcome", *map(_quote, extras)])
        n = f"CASE WHEN {whole} THEN len(list_distinct(list(ts))) ELSE count(*) END" if timed else "count(*)"
        parts = [f"SELECT {group}, {n} AS n, count(*) - {n} AS duplicate_row, 0 AS duplicate_id "
                 f"FROM src{plain_where} GROUP BY {group}"]  # fmt: skip
        if keyed:
            first = "{'rep': rep, 'period_start': period_start, 'outcome': outcome}"
            copies = (f"SELECT * EXCLUDE (input_order), count(*) AS copies, min(input_order) AS first_row FROM src "
                      f"WHERE activity_id IS NOT NULL AND {whole} GROUP BY ALL")  # fmt: skip
            ids = (f"SELECT activity_type, arg_min({first}, first_row) AS f, sum(copies) AS k, count(*) AS d "
                   f"FROM ({copies}) GROUP BY activity_type, activity_id")  # fmt: skip
            parts.append(f"SELECT f.rep, f.period_start, activity_type, f.outcome, {', '.join('NULL' for _ in extras)}"
                         f"{', ' if extras else ''}1 AS n, k - d AS duplicate_row, d - 1 AS duplicate_id FROM ({ids})")
        typ, outcome = "activity_type", "outcome"
        select = ["rep", "period_start", "activity_type", f"CAST(sum(n) AS BIGINT) AS {COUNT}"]
        select += [f"CAST(coalesce(sum(n) FILTER (WHERE {cond}), 0) AS BIGINT) AS {_quote(name)}"
                   for name, cond in self._sql_metrics(typ, outcome)]  # fmt: skip
        select += ["CAST(sum(duplicate_row) AS BIGINT) AS duplicate_row", "CAST(sum(duplicate_id) AS BIGINT) AS duplicate_id"]
        return (f"WITH src AS (SELECT {', '.join(body)} FROM {relation}) SELECT {', '.join(select)} "
                f"FROM ({' UNION ALL '.join(parts)}) GROUP BY rep, period_start, activity_type")

    # ------------------------------------------------------------ merging
    def combine(self, partials: Sequence[pd.DataFrame]) -> pd.DataFrame:
        """Merge activity counts of disjoint parts of a log (sum per key)."""
        parts = [self.normalize(p) for p in partials if len(p)]
        if not parts:
            return self.empty()
        if len(parts) == 1:
            return parts[0]
        cols = [COUNT, *self.metrics]
        keys = {}
        for k in ("rep", "activity_type"):  # one set of categories for all parts
            cats = np.unique(np.concatenate([np.asarray(p[k].cat.categories, dtype=object) for p in parts]).astype(str))
            codes = [
                np.where(p[k].cat.codes.to_numpy() >= 0,
                         np.searchsorted(cats, np.asarray(p[k].cat.categories, dtype=str))[
                             np.maximum(p[k].cat.codes.to_numpy(), 0)] if len(p[k].cat.categories) else -1,
                         -1)
                for p in parts
            ]  # fmt: skip
            keys[k] = (np.concatenate(codes), cats.astype(object))
        start = np.concatenate([p["period_start"].to_numpy() for p in parts])
        both = pd.DataFrame(
            {
                "r": keys["rep"][0],
                "p": np.where(np.isnat(start), np.iinfo(np.int64).min, start.astype(np.int64)),
                "t": keys["activity_type"][0],
                **{c: np.concatenate([p[c].to_numpy() for p in parts]) for c in cols},
            }
        )
        summed = both.groupby(["r", "p", "t"], sort=False).sum().reset_index()
        p = summed["p"].to_numpy()
        table = pd.DataFrame(
            {
                "rep": pd.Categorical.from_codes(summed["r"].to_numpy(), categories=pd.Index(keys["rep"][1], dtype=object)),
                "period_start": np.where(
                    p == np.iinfo(np.int64).min, np.datetime64("NaT", "s"), p.astype("datetime64[s]")
                ),
                "activity_type": pd.Categorical.from_codes(
                    summed["t"].to_numpy(), categories=pd.Index(keys["activity_type"][1], dtype=object)
                ),
                **{c: summed[c].to_numpy(dtype=np.int64) for c in cols},
            }
        )
        return self.normalize(table)

    def empty(self) -> pd.DataFrame:
        """Activity counts of an empty log."""
        table = pd.DataFrame({c: pd.Series([], dtype=object) for c in KEYS})
        for c in [COUNT, *self.metrics]:
            table[c] = np.zeros(0, dtype=np.int64)
        return self.normalize(table)

    def normalize(self, table: pd.DataFrame) -> pd.DataFrame:
        """Fix column order, dtypes and row order, so every engine's result compares equal.

        ``rep`` and ``activity_type`` become Categoricals of text with sorted
        categories (the counts table can hold millions of rows: integer codes
        keep the steps after it vectorised), ``period_start`` becomes
        ``datetime64[s]`` and the counts ``int64``; rows are sorted by the keys,
        missing keys last.
        """
        missing = [c for c in self.columns if c not in table.columns]
        if missing:
            raise SchemaError(f"activity counts lack column(s) {missing}; got {list(table.columns)}.")
        rep = _text_categorical(table["rep"])
        typ = _text_categorical(table["activity_type"])
        start = pd.to_datetime(table["period_start"]).to_numpy(dtype="datetime64[s]")
        nat = np.isnat(start)
        keys = (
            np.where(rep.codes < 0, len(rep.categories), rep.codes),
            np.where(nat, np.iinfo(np.int64).max, start.astype(np.int64)),
            np.where(typ.codes < 0, len(typ.categories), typ.codes),
        )
        out = {"rep": rep, "period_start": start, "activity_type": typ}
        out.update({c: table[c].fillna(0).to_numpy(dtype=np.int64) for c in [COUNT, *self.metrics]})
        if not _is_sorted(keys):
            order = np.lexsort(keys[::-1])
            out = {k: v[order] for k, v in out.items()}
        return pd.DataFrame(out)

    # ------------------------------------------------------------- Dask
    def on_dask(self, ddf, *, progress: bool = True, split_every: int = 8) -> pd.DataFrame:
        """Activity counts of a Dask DataFrame: :meth:`on_frame` per partition, tree-merged.

        Runs on the active ``dask.distributed`` client if there is one (with a
        per-partition progress bar), otherwise on Dask's default scheduler.
        """
        import dask  # optional: the "scale" extra (as distributed below)

        parts = [dask.delayed(self.on_frame)(p) for p in ddf.to_delayed()]
        try:
            from distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            client = None
        if client is None:
            return self._tree_local(parts, progress=progress, split_every=split_every)
        from distributed import as_completed

        futures = client.compute(parts)
        bar = _progress_bar(len(futures), "partitions", progress)
        for _ in as_completed(futures):
            bar.update(1)
        bar.close()
        # merge on the workers, a few partials at a time, so no single node holds them all
        level = futures
        while len(level) > 1:
            level = [client.submit(self.combine, level[i : i + split_every]) for i in range(0, len(level), split_every)]
        return self.normalize(level[0].result()) if level else self.empty()

    def _tree_local(self, parts, *, progress: bool, split_every: int) -> pd.DataFrame:
        import dask

        level = parts
        while len(level) > 1:
            level = [dask.delayed(self.combine)(level[i : i + split_every]) for i in range(0, len(level), split_every)]
        if not level:
            return self.empty()
        with _DaskTaskBar(progress):
            (result,) = dask.compute(level[0])
        return self.normalize(result)


def _is_sorted(keys: tuple[np.ndarray, ...]) -> bool:
    """Whether rows are in lexicographic order of ``keys`` (first key most significant)."""
    if len(keys[0]) < 2:
        return True
    later = np.zeros(len(keys[0]) - 1, dtype=bool)  # row i+1 already known to sort after row i
    for k in keys:
        d = np.diff(k)
        if ((d < 0) & ~later).any():
            return False
        later |= d > 0
    return True


def _sql_columns(columns: dict[str, str] | None) -> dict[str, str]:
    """Quoted source column of each canonical activity column (its own name unless ``columns`` maps it)."""
    col = {c: _quote(c) for c in ("rep", "timestamp", "activity_type", "outcome")}
    col.update({k: _quote(v) for k, v in (columns or {}).items()})
    return col


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _progress_bar(total: int | None, unit: str, enabled: bool, desc: str = "salesgoals"):
    """A tqdm bar, or a silent stand-in when progress is off or tqdm is missing."""
    if enabled:
        try:
            from tqdm.auto import tqdm

            return tqdm(total=total, unit=unit, desc=desc)
        except ImportError:  # tqdm is an optional dependency (the "scale" extra)
            pass
    return _NoBar()


class _DaskTaskBar:
    """Context manager: a tqdm bar over the tasks run by Dask's local scheduler."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self._cb = None

    def __enter__(self):
        if self.enabled:
            from dask.callbacks import Callback

            outer = self

            class _Bar(Callback):
                def _start_state(self, dsk, state):
                    outer.bar = _progress_bar(len(dsk), "tasks", True)

                def _posttask(self, key, result, dsk, state, worker_id):
                    outer.bar.update(1)

                def _finish(self, dsk, state, errored):
                    outer.bar.close()

            self._cb = _Bar()
            self._cb.__enter__()
        return self

    def __exit__(self, *exc):
        if self._cb is not None:
            self._cb.__exit__(*exc)
        return False


class _NoBar:
    n = 0

    def update(self, k: int = 1) -> None:
        self.n += k

    def close(self) -> None:
        pass
