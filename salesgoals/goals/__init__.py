"""Goals: personal-best tiers per rep, the revenue they project, cascades and backtests.

* :func:`personal_best_goals` sets clear / stretch / extraordinary goals on the
  key activities from each rep's own history;
* :mod:`salesgoals.goals.targets` projects revenue from those goals, plans the
  effort for a top-down target and cascades an annual target to the day;
* :mod:`salesgoals.goals.backtest` checks that the stated odds of each tier are honest.
"""

from salesgoals._typing import TIERS
from salesgoals.goals._personal_best import (
    GoalPlan,
    horizon_periods,
    level_with_odds,
    personal_best_goals,
    prob_at_least,
)
from salesgoals.goals.targets import (
    SCENARIOS,
    Cascade,
    TargetPlan,
    TargetProjection,
    cascade,
    plan_for_target,
    project_targets,
)
from salesgoals.goals._levels import GoalLevels, goal_levels
from salesgoals.goals.backtest import GoalBacktest, backtest_goals  # noqa: E402  (needs targets first)

__all__ = [
    "TIERS",
    "SCENARIOS",
    "GoalPlan",
    "personal_best_goals",
    "prob_at_least",
    "level_with_odds",
    "horizon_periods",
    "TargetProjection",
    "project_targets",
    "TargetPlan",
    "plan_for_target",
    "Cascade",
    "cascade",
    "GoalLevels",
    "goal_levels",
    "GoalBacktest",
    "backtest_goals",
]
