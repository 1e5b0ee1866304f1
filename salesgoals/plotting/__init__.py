"""Plot functions: each takes ``ax=None`` and returns the matplotlib Axes it drew on.

Result objects' ``.plot()`` methods delegate here.
"""

from __future__ import annotations

from salesgoals.plotting._drivers import plot_drivers, plot_lag_profile, plot_performers
from salesgoals.plotting._forecast import plot_backtest, plot_forecast
from salesgoals.plotting._goals import (
           plot_calibration,
           plot_cascade,
           plot_goal_tiers,
           plot_projection,
           plot_target_plan,
)
from salesgoals.plotting._panel import plot_panel
from salesgoals.plotting._tracking import plot_pacing, plot_status_heatmap

__all__ = ["plot_panel", "plot_drivers", "plot_lag_profile", "plot_performers",
           "plot_goal_tiers", "plot_projection", "plot_target_plan", "plot_cascade", "plot_calibration"]
__all__ += ["plot_forecast", "plot_backtest", "plot_pacing", "plot_status_heatmap"]
