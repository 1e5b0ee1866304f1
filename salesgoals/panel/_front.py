"""One front door to the panel for every size of activity log.

:func:`panel_for` takes what a user has -- a ready panel, an activity
DataFrame, a Dask DataFrame, or a path / glob / list of Parquet or CSV files
(a data lake) -- and returns the rep x period panel, choosing the in-memory
path (:func:`salesgoals.build_panel`) or the out-of-core one
(:mod:`salesgoals.panel.scale`: DuckDB for files, Dask for Dask frames) by
size or on request.  Both paths share one aggregation, so the panel is the
same on the same rows.  ``recommend``, ``forecast``, ``backtest_forecast``,
``track`` and the CLI all go through here.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from salesgoals._periods import is_panel

__all__ = ["panel_for", "is_activity_source", "activity_files", "choose_engine", "OUT_OF_CORE_BYTES"]

Engine = Literal["auto", "memory", "duckdb", "dask"]
ENGINES: tuple[str, ...] = ("auto", "memory", "duckdb", "dask")
#: Activity files whose total size on disk reaches this are aggregated out of
#: core by ``engine="auto"`` (a compressed Parquet byte is ~5-10 bytes in pandas).
OUT_OF_CORE_BYTES = 256 * 2**20
_TABLE_EXT = (".parquet", ".pq", ".parq", ".csv", ".csv.gz", ".tsv", ".txt", ".csv.zst")


def _is_dask(obj: object) -> bool:
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "to_delayed")


def is_activity_source(obj: object) -> bool:
    """Whether ``obj`` names activity files (path, glob, list of paths) or is a Dask DataFrame.

    Examples
    --------
    >>> is_activity_source("lake/**/*.parquet"), is_activity_source(["a.csv", "b.csv"])
    (True, True)
    >>> import pandas as pd
    >>> is_activity_source(pd.DataFrame())
    False
    """
    if _is_dask(obj) or isinstance(obj, (str, os.PathLike)):
        return True
    return (
        isinstance(obj, (list, tuple))
        and len(obj) > 0
        and all(isinstance(x, (str, os.PathLike)) for x in obj)
    )


def activity_files(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[str]:
    """Expand a path, directory (read recursively), glob or list of them to sorted file names.

    Raises
    ------
    FileNotFoundError
        Nothing matches one of the entries (its text is in the message).
    """
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    out: list[str] = []
    for item in items:  # loop over the few entries the user named
        text = os.fspath(item)
        if any(ch in text for ch in "*?["):
            found = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
        elif os.path.isdir(text):
            found = sorted(
                str(p) for p in Path(text).rglob("*") if p.is_file() and str(p).lower().endswith(_TABLE_EXT)
            )
        else:
            found = [text] if os.path.exists(text) else []
        if not found:
            raise FileNotFoundError(f"no activity file matches {text!r} (a file, directory or glob such as "
                                    "'lake/**/*.parquet').")  # fmt: skip
        out.extend(found)
    return out


def choose_engine(activities: Any, engine: Engine = "auto") -> str:
    """The panel path for ``activities``: ``"memory"``, ``"duckdb"`` or ``"dask"``.

    ``"auto"``: a Dask DataFrame stays on Dask; files reaching
    :data:`OUT_OF_CORE_BYTES` on disk go through DuckDB (when installed:
    ``pip install salesgoals[scale]``), smaller ones are loaded in memory with
    :func:`salesgoals.load_activities` (which also reads vendor layouts); a
    pandas DataFrame is built in memory.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}.")
    if isinstance(activities, pd.DataFrame):
        return "memory"  # already in memory: nothing to gain out of core
    if engine != "auto":
        return engine
    if _is_dask(activities):
        return "dask"
    if not is_activity_source(activities):
        return "memory"
    files = activity_files(activities)
    size = sum(os.path.getsize(f) for f in files)
    if size < OUT_OF_CORE_BYTES:
        return "memory"
    try:
        import duckdb  # noqa: F401
    except ImportError:
        return "dask" if _dask_installed() else "memory"
    return "duckdb"


def _dask_installed() -> bool:
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        return False
    return True


def panel_for(
    activities: Any,
    deals: pd.DataFrame | None = None,
    *,
    roster: pd.DataFrame | None = None,
    freq: str = "W",
    engine: Engine = "auto",
    progress: bool | None = None,
) -> pd.DataFrame:
    """The rep x period panel from a panel, an activity log, a Dask DataFrame or activity files.

    Parameters
    ----------
    activities : DataFrame, dask DataFrame, path, glob or list of paths
        A panel (returned as it is), canonical activities
        (:func:`salesgoals.load_activities`), a Dask DataFrame of canonical
        activities, or Parquet / CSV files: a file, a directory (recursive), a
        glob such as ``"lake/**/*.parquet"`` or a list of them.  Files read out
        of core must use the canonical column names.
    deals : pandas.DataFrame, optional
        Canonical deals (:func:`salesgoals.load_deals`).
    roster : pandas.DataFrame, optional
        From :func:`salesgoals.load_roster`.
    freq : {"W", "M", "Q"}, default="W"
        Panel grain.
    engine : {"auto", "memory", "duckdb", "dask"}, default="auto"
        Which path builds the panel (see :func:`choose_engine`); every path
        gives the same panel on the same rows.
    progress : bool, optional
        Progress bar of the out-of-core paths; default: only on a terminal.

    Returns
    -------
    pandas.DataFrame
        The panel, as documented in :func:`salesgoals.build_panel`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=0)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> sim.activities.to_parquet(folder / "part-0.parquet")
    >>> lake = panel_for(str(folder / "*.parquet"), sim.deals, roster=sim.roster, engine="duckdb")
    >>> lake.equals(sg.build_panel(sim.activities, sim.deals, roster=sim.roster))
    True
    """
    if isinstance(activities, pd.DataFrame) and is_panel(activities):
        return activities
    how = choose_engine(activities, engine)
    if progress is None:
        from salesgoals._progress import progress_enabled

        progress = progress_enabled()
    if how == "duckdb":
        from salesgoals.panel.scale import panel_from_parquet

        return panel_from_parquet(activity_files(activities), deals, freq=freq, roster=roster, progress=progress)
    if how == "dask":
        from salesgoals.panel.scale import dask_without_duplicates, panel_from_dask, warn_duplicates

        if _is_dask(activities):  # rows already loaded: counted as they are, as build_panel counts a DataFrame
            return panel_from_dask(activities, deals, freq=freq, roster=roster, progress=progress)
        # files: the rows load_activities would keep (its duplicate rule), as the other engines count
        rows, duplicates = dask_without_duplicates(_as_dask(activities))
        if duplicates:
            warn_duplicates(duplicates, os.fspath(activities) if is_activity_source(activities) and not
                            isinstance(activities, (list, tuple)) else "the activity files", "panel_for")  # fmt: skip
        panel = panel_from_dask(rows, deals, freq=freq, roster=roster, progress=progress)
        if duplicates:
            panel.attrs["duplicates"] = duplicates
        return panel
    from salesgoals.panel._build import build_panel

    if _is_dask(activities):
        activities = activities.compute()
    elif is_activity_source(activities):
        from salesgoals.io import load_activities

        files = activity_files(activities)
        activities = load_activities(files[0] if len(files) == 1 else files)
    return build_panel(activities, deals, freq=freq, roster=roster)


def _as_dask(activities: Any):
    if _is_dask(activities):
        return activities
    import dask.dataframe as dd

    files = activity_files(activities)
    if all(f.lower().endswith((".parquet", ".pq", ".parq")) for f in files):
        return dd.read_parquet(files)
    text = ("rep", "activity_type", "activity_id", "deal_id", "account", "outcome")  # never guessed from a sample
    return dd.read_csv(files, dtype=dict.fromkeys(text, "str"))
