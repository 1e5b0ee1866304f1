"""salesgoals: behaviour-driven sales goals.

The pipeline, one module per step::

    load (io) -> panel -> drivers -> goals -> targets -> forecast / tracking

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=20, seed=1)
>>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
>>> bool(panel.groupby("rep").size().gt(0).all())
True
"""

# The public surface, in pipeline order: load -> panel -> drivers -> goals -> targets -> forecast / track.
from salesgoals import datasets, errors, plotting, scale, simulate
from salesgoals._version import __version__
from salesgoals.backtest import GoalBacktest, backtest_goals
from salesgoals.drivers import DriverModel, DriverResult, fit_drivers
from salesgoals.forecast import BacktestResult, ForecastResult, backtest_forecast, forecast
from salesgoals.goals import GoalPlan, personal_best_goals
from salesgoals.io import load_activities, load_deals, load_roster, write_csv
from salesgoals.panel import build_panel, panel_summary
from salesgoals.performers import PerformerComparison, compare_performers
from salesgoals.recommend import Recommendation, recommend
from salesgoals.targets import Cascade, TargetPlan, TargetProjection, cascade, plan_for_target, project_targets
from salesgoals.tracking import Review, TrackResult, monthly_review, quarterly_review, track, weekly_review

__all__ = [
    "__version__",
    "errors",
    "simulate",
    "load_activities",
    "load_deals",
    "load_roster",
    "write_csv",
    "build_panel",
    "panel_summary",
    "scale",
    "forecast",
    "ForecastResult",
    "backtest_forecast",
    "BacktestResult",
    "track",
    "TrackResult",
    "weekly_review",
    "monthly_review",
    "quarterly_review",
    "Review",
    "fit_drivers",
    "DriverModel",
    "DriverResult",
    "compare_performers",
    "PerformerComparison",
    "personal_best_goals",
    "GoalPlan",
    "project_targets",
    "TargetProjection",
    "plan_for_target",
    "TargetPlan",
    "cascade",
    "Cascade",
    "backtest_goals",
    "GoalBacktest",
    "recommend",
    "Recommendation",
    "plotting",
    "datasets",
]
