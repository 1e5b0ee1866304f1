"""Canonical column names shared by every module.

One place defines what the tidy frames look like, so loaders, the panel, the
models and the CLI all speak the same snake_case names.  Vendor header aliases
live with the loaders (``salesgoals/io/_vendors.py``); this module holds only the
canonical side, and how to read the activity and quality columns of a panel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._typing import TIERS

# ----------------------------------------------------------------- canonical inputs
#: Columns of a tidy activity frame, in output order.  The first three are required.
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "rep",
    "timestamp",
    "activity_type",
    "activity_id",
    "deal_id",
    "account",
    "outcome",
    "duration_min",
)
ACTIVITY_REQUIRED: tuple[str, ...] = ("rep", "timestamp", "activity_type")

#: Columns of a tidy deal frame, in output order.  The first six are required
#: (``closed`` may be empty for open deals).
DEAL_COLUMNS: tuple[str, ...] = (
    "deal_id",
    "rep",
    "created",
    "closed",
    "status",
    "amount",
    "stage",
    "account",
    "currency",
    "pipeline",
)
DEAL_REQUIRED: tuple[str, ...] = ("deal_id", "rep", "created", "closed", "status", "amount")
#: Columns of :func:`salesgoals.load_deals` output: the canonical ones plus each deal's date issue
#: (missing when its dates are fine).  Deal frames built otherwise need not carry it.
LOADED_DEAL_COLUMNS: tuple[str, ...] = (*DEAL_COLUMNS, "date_issue")

#: Columns of a tidy roster frame.  ``rep`` is required; the others default to
#: ``"(unassigned)"`` (text) or NaT (dates: open-ended span).
ROSTER_COLUMNS: tuple[str, ...] = ("rep", "team", "manager", "region", "start", "end")
ROSTER_REQUIRED: tuple[str, ...] = ("rep",)
UNASSIGNED = "(unassigned)"

#: Deal status values after loading.
DEAL_STATUSES: tuple[str, ...] = ("won", "lost", "open")

# ---------------------------------------------------------------- activity outcomes
#: Canonical activity types produced by the loaders (others are kept, slugified).
ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "task", "linkedin", "note", "sms")

#: Canonical outcome labels.  Loaders map vendor spellings onto these.
CALL_OUTCOMES: tuple[str, ...] = ("connected", "no_answer", "voicemail", "busy", "wrong_number")
MEETING_OUTCOMES: tuple[str, ...] = ("held", "no_show", "canceled", "rescheduled", "scheduled")

#: Quality metrics counted in the panel: ``name -> (activity_type, outcomes that count)``.
#: A panel column ``call_connected`` counts calls whose outcome is ``connected``.
QUALITY_METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "call_connected": ("call", ("connected",)),
    "meeting_held": ("meeting", ("held",)),
}

# -------------------------------------------------------------------- the panel
PANEL_KEYS: tuple[str, ...] = ("rep", "period")
ROSTER_ATTRIBUTES: tuple[str, ...] = ("team", "manager", "region")
#: Outcome columns of the panel, in output order.
OUTCOME_COLUMNS: tuple[str, ...] = (
    "deals_created",
    "pipeline_created",
    "deals_won",
    "deals_lost",
    "won_revenue",
    "win_rate",
)
#: Outcomes a driver model can be fitted to.
MODEL_OUTCOMES: tuple[str, ...] = ("deals_created", "deals_won", "won_revenue", "pipeline_created")

FREQ_ALIASES: dict[str, str] = {"W": "W-SUN", "M": "M", "Q": "Q-DEC"}


# ------------------------------------------------------------- panel columns
def activity_columns(panel: pd.DataFrame) -> list[str]:
    """Names of the activity-count columns of a panel.

    Read from ``panel.attrs`` when present, otherwise every numeric column that
    is not a key, roster attribute, quality metric or outcome.

    Examples
    --------
    >>> panel = pd.DataFrame({"rep": ["a"], "period": ["2024-01"], "call": [3], "call_connected": [1],
    ...                       "deals_won": [0], "team": ["x"]})
    >>> activity_columns(panel), quality_columns(panel)
    (['call'], ['call_connected'])
    """
    cols = panel.attrs.get("activity_columns")
    if cols is not None and all(c in panel.columns for c in cols):
        return list(cols)
    skip = {"rep", "period", *ROSTER_ATTRIBUTES, *OUTCOME_COLUMNS, *QUALITY_METRICS}
    return [c for c in panel.columns if c not in skip and pd.api.types.is_numeric_dtype(panel[c])]


def quality_columns(panel: pd.DataFrame) -> list[str]:
    """Names of the quality-metric columns of a panel (``call_connected``, ``meeting_held``)."""
    cols = panel.attrs.get("quality_columns")
    if cols is not None and all(c in panel.columns for c in cols):
        return list(cols)
    return [c for c in QUALITY_METRICS if c in panel.columns]


#: Columns of a goal plan's landmarks (:attr:`salesgoals.goals.GoalPlan.landmarks`), in order.
LANDMARK_COLUMNS = ("rep", "activity", "tier", "week", "period_start", "period_end", "cumulative")


def landmark_table(rep, activity, cumulative: dict, periods) -> pd.DataFrame:
    """The landmarks table: one row per goal x tier x period, in the one row order every module uses.

    ``rep`` and ``activity`` name the n goals; ``cumulative`` maps each tier to an
    n x H array of what must be done by the end of each of the H ``periods``.
    Rows are sorted by rep, activity, tier (clear, stretch, extraordinary) and week.
    """
    n, H = len(rep), len(periods)
    starts = [str(p.start_time.date()) for p in periods]
    ends = [str(p.end_time.date()) for p in periods]
    frames = [
        pd.DataFrame({
            "rep": np.repeat(np.asarray(rep, dtype=object), H),
            "activity": np.repeat(np.asarray(activity, dtype=object), H),
            "tier": tier, "week": np.tile(np.arange(1, H + 1), n),
            "period_start": np.tile(starts, n), "period_end": np.tile(ends, n),
            "cumulative": np.asarray(cum).reshape(n * H).astype(np.int64),
        })  # fmt: skip
        for tier, cum in cumulative.items()
    ]
    out = pd.concat(frames, ignore_index=True)
    order = out["tier"].map({t: i for i, t in enumerate(TIERS)})
    return out.assign(_t=order).sort_values(["rep", "activity", "_t", "week"], kind="mergesort").drop(
        columns="_t").reset_index(drop=True)  # fmt: skip
