"""Advances: did each call, email or meeting move its deal forward?

:func:`classify_advances` labels every interaction linked to a deal
``advanced``, ``stalled``, ``lost`` (or ``pending`` when too recent), from a
stage history (:func:`salesgoals.load_stage_history`) or, without one, from a
clearly labelled proxy.  :func:`advance_rates` gives rates per rep and type
with intervals, :func:`add_advance_metrics` puts ``meeting_advanced``,
``call_advanced`` ... in the panel for :func:`salesgoals.fit_drivers`, and
:func:`advance_goals` proposes quality goals next to the volume goals.
"""

from salesgoals.outcomes._classify import (
    ADVANCE_COLUMNS, ADVANCE_VALUES, UNLINKED_REASONS, classify_advances, unlinked_table,
)
from salesgoals.outcomes._quality_goals import advance_goal_tiers, advance_landmarks
from salesgoals.outcomes._rates import AdvanceRates, add_advance_metrics, advance_goals, advance_rates, wilson_interval

__all__ = ["classify_advances", "advance_rates", "AdvanceRates", "add_advance_metrics", "advance_goals",
           "wilson_interval", "advance_goal_tiers", "advance_landmarks", "unlinked_table", "ADVANCE_COLUMNS",
           "ADVANCE_VALUES", "UNLINKED_REASONS"]
