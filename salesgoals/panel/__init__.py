"""Panel: activities + deals -> one row per rep x period.

:func:`build_panel` is the in-memory front door; :mod:`salesgoals.panel.scale`
builds the same panel out of core (Parquet through DuckDB, or Dask).  Both
share one aggregation, :mod:`salesgoals.panel._aggregate`.
"""

from salesgoals.panel._build import activity_columns, build_panel, panel_summary, period_start, quality_columns
from salesgoals.panel._front import activity_files, choose_engine, is_activity_source, panel_for
from salesgoals.panel._rollup import group_panel

__all__ = ["build_panel", "panel_summary", "activity_columns", "quality_columns", "period_start", "group_panel",
           "panel_for", "is_activity_source", "activity_files", "choose_engine"]
