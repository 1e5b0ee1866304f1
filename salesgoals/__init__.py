"""salesgoals: behaviour-driven sales goals.

The pipeline, one package per step::

    io -> panel -> drivers -> goals (tiers, targets, cascades) -> forecasting / tracking -> recommend, cli

``plotting`` receives data from the steps and imports none of them; ``simulate``
and ``datasets`` make data for the examples and tests.

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=20, seed=1)
>>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
>>> bool(panel.groupby("rep").size().gt(0).all())
True
"""

from salesgoals import _requirements  # noqa: F401, I001 - first: refuses an unsupported pandas with a clear message

# The public surface, in pipeline order: load -> panel -> drivers -> goals -> targets -> forecast / track.
from salesgoals import datasets, errors, plotting, simulate
from salesgoals._version import __version__
from salesgoals.accounts import AccountObjectives, account_objectives, account_progress, account_report_section, account_review
from salesgoals.drivers import DriverModel, DriverResult, PerformerComparison, compare_performers, fit_drivers
from salesgoals.forecasting import BacktestResult, ForecastResult, backtest_forecast, forecast
from salesgoals.goals import (
    Cascade,
    GoalBacktest,
    GoalPlan,
    TargetPlan,
    TargetProjection,
    backtest_goals,
    cascade,
    personal_best_goals,
    plan_for_target,
    project_targets,
)
from salesgoals.io import Inspection, inspect, load_activities, load_deals, load_roster, load_stage_history, write_csv
from salesgoals.outcomes import AdvanceRates, add_advance_metrics, advance_goals, advance_rates, classify_advances
from salesgoals.panel import build_panel, panel_summary, scale
from salesgoals.recommend import Recommendation, recommend
from salesgoals.report import ManagerReport, report
from salesgoals.tracking import Review, TrackResult, monthly_review, quarterly_review, track, weekly_review

__all__ = [
    "__version__",
    "errors",
    "simulate",
    "load_activities",
    "load_deals",
    "load_roster",
    "load_stage_history",
    "write_csv",
    "inspect",
    "Inspection",
    "build_panel",
    "classify_advances",
    "advance_rates",
    "AdvanceRates",
    "add_advance_metrics",
    "advance_goals",
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
    "report",
    "ManagerReport",
    "account_objectives",
    "AccountObjectives",
    "account_progress",
    "account_report_section",
    "account_review",
    "plotting",
    "datasets",
]
