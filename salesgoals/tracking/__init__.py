"""Track: actuals against goals, landmarks, and the weekly / monthly / quarterly reviews."""

from salesgoals._typing import STATUSES
from salesgoals.tracking._track import (
    AHEAD_PACE,
    BEHIND_ODDS,
    ON_TRACK_ODDS,
    Review,
    TrackResult,
    monthly_review,
    quarterly_review,
    track,
    weekly_review,
)

__all__ = [
    "STATUSES",
    "AHEAD_PACE",
    "ON_TRACK_ODDS",
    "BEHIND_ODDS",
    "track",
    "TrackResult",
    "weekly_review",
    "monthly_review",
    "quarterly_review",
    "Review",
]
