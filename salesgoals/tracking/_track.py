"""Track progress against activity goals, with landmarks, pacing and at-risk flags.

:func:`track` compares each rep's activity so far in the current week, month
or quarter with the landmark (the share of the goal that should be done by
now, in working days), projects the end of the period and states the
probability of reaching the goal at the current pace.  The review tables turn
that into the routine: :func:`weekly_review` (one-to-one with each rep),
:func:`monthly_review` (team) and :func:`quarterly_review` (revenue against
the annual target, with the cascade's landmarks).

The pace model
--------------
For a rep and activity, with ``n_e`` working days elapsed and ``n_r`` left in
the period, the daily rate is Gamma distributed: a prior worth
:data:`SHRINK_DAYS` working days at the rep's baseline rate, updated with the
count so far.  The count over the remaining days is then negative binomial
(the Gamma-Poisson predictive), which gives the projected end-of-period value
(its mean plus the count so far) and the probability of reaching each goal
tier.  Early in a period the prior dominates (one slow Monday is not a crisis);
by Thursday the rep's own pace does.

Status
------
* ``ahead`` - the goal is met already, or pace >= :data:`AHEAD_PACE` with
  odds >= :data:`ON_TRACK_ODDS`;
* ``on_track`` - odds of reaching the goal >= :data:`ON_TRACK_ODDS`;
* ``at_risk`` - odds between :data:`BEHIND_ODDS` and :data:`ON_TRACK_ODDS`;
* ``behind`` - odds below :data:`BEHIND_ODDS`;
* ``unknown`` - the data cannot judge: ``as_of`` is more than
  :data:`MAX_STALE_DAYS` working day after the data ends, before it starts,
  or outside the goals' horizon (a GoalPlan's).  :func:`track` warns, and calls
  no one at risk or behind.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._periods import is_panel as _is_panel
from salesgoals._periods import to_day as _days
from salesgoals._schema import FREQ_ALIASES, QUALITY_METRICS, UNASSIGNED
from salesgoals._summary import Summary
from salesgoals._typing import FREQS, STATUSES, TIERS, Freq, Tier
from salesgoals.errors import DataQualityError, FileFormatError, SchemaError, UnreliableEstimateWarning
from salesgoals.goals import cascade, prob_at_least
from salesgoals.panel import is_activity_source, panel_for
from salesgoals.plotting import plot_pacing, plot_status_heatmap
from salesgoals.tracking._landmarks import LANDMARK_COLUMNS, landmark_progress, read_landmarks
from salesgoals.tracking._misses import (
    CATCH_UP_MIN_ODDS,
    MISS_COLUMNS,
    account_for_misses,
    history_stats,
    revenue_misses,
    team_misses,
)

__all__ = [
    "track",
    "TrackResult",
    "Review",
    "weekly_review",
    "monthly_review",
    "quarterly_review",
    "COACHING_TYPES",
]

#: Pace (actual / landmark) at or above which a rep counts as ahead.
AHEAD_PACE = 1.10
#: Odds of reaching the goal at or above which a goal is on track.
ON_TRACK_ODDS = 0.50
#: Odds below which a goal is behind (between the two: at risk).
BEHIND_ODDS = 0.15
#: Weight of the baseline rate in the pace model, in working days.  Two days
#: keep a slow Monday from flagging a rep, yet by mid-week the rep's own pace
#: carries more weight than the baseline.
SHRINK_DAYS = 2.0
#: Status of a goal the data cannot judge: ``as_of`` after the data ends,
#: before it starts, or outside the goals' horizon (instead of at risk/behind).
UNKNOWN = "unknown"
#: Working days ``as_of`` may run past the data's last day (an export taken the
#: morning after) before no one can be called at risk.
MAX_STALE_DAYS = 1
#: Activity types logged by managers as coaching (the leader's own goals).
COACHING_TYPES: tuple[str, ...] = ("coaching", "one_to_one", "ride_along", "training")
#: Default leader goals per team member per week (clear, stretch, extraordinary).
LEADER_GOALS_PER_REP: tuple[float, float, float] = (0.5, 1.0, 1.5)
#: Working days in one goal period of each grain (goals are per period).
_STD_DAYS = {"W": 5.0, "M": 21.0, "Q": 63.0}
_DEAL_METRICS = ("deals_created", "deals_won")
GOAL_REQUIRED: tuple[str, ...] = (
    "rep",
    "activity",
    "goal_clear",
    "goal_stretch",
    "goal_extraordinary",
)


# ====================================================================== inputs
def _goals_csv(path: Any, name: str, func: str) -> pd.DataFrame:
    """Read a goals CSV; a file that is not one (empty, binary, a gzip cut short) is a FileFormatError naming it."""
    import csv

    try:
        return pd.read_csv(path)
    except (EOFError, csv.Error, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileFormatError(f"{func}: cannot read the goals file {name} as CSV ({why}). "
                              "Pass the goals CSV written by `salesgoals recommend -o goals.csv`.") from exc


def _read_goals(goals: Any, func: str) -> tuple[pd.DataFrame, str]:
    """Goals as a DataFrame plus the grain their levels refer to."""
    freq = "W"
    if hasattr(goals, "table") and hasattr(goals, "freq"):
        freq = str(goals.freq)
        table = goals.table
        name = "GoalPlan"
    elif isinstance(goals, pd.DataFrame):
        table, name = goals, "goals"
    elif isinstance(goals, (str, os.PathLike)):
        name = repr(os.path.basename(os.fspath(goals)))
        table = _goals_csv(goals, name, func)
    else:
        raise TypeError(
            f"{func}: goals must be a GoalPlan, a DataFrame or a CSV path; got "
            f"{type(goals).__name__}."
        )
    missing = [c for c in GOAL_REQUIRED if c not in table.columns]
    if missing:
        raise SchemaError(
            f"{func}: goals {name} is missing column(s) {', '.join(map(repr, missing))}. "
            "Expected at least "
            f"{', '.join(GOAL_REQUIRED)} (the layout written by `salesgoals goals`); found "
            f"{', '.join(map(str, table.columns))}."
        )
    t = table.copy()
    t["rep"] = t["rep"].astype(str)
    t["activity"] = t["activity"].astype(str)
    for c in ("goal_clear", "goal_stretch", "goal_extraordinary"):
        v = pd.to_numeric(t[c], errors="coerce")
        bad = np.nonzero(~np.isfinite(v.to_numpy(dtype=float)) | (v.to_numpy(dtype=float) < 0))[0]
        if bad.size:
            raise DataQualityError(
                f"{func}: goals {name} column {c!r} must hold non-negative numbers; rows "
                f"{', '.join(str(i + 1) for i in bad[:5])} do not ({t[c].iloc[bad[:5]].tolist()})."
            )
        t[c] = v.astype(float)
    if "priority" not in t.columns:
        t["priority"] = 1
    if "baseline" not in t.columns:
        t["baseline"] = t["goal_clear"]
    t["baseline"] = (
        pd.to_numeric(t["baseline"], errors="coerce").fillna(t["goal_clear"]).astype(float)
    )
    return t, freq


def _panel_from_lake(data: Any, period: str, roster: pd.DataFrame | None) -> Any:
    """Activity files or a Dask DataFrame, alone or paired with deals: their panel at ``period``."""
    if is_activity_source(data):
        return panel_for(data, None, freq=period, roster=roster)
    if isinstance(data, (tuple, list)) and len(data) == 2 and is_activity_source(data[0]):
        return panel_for(data[0], data[1], freq=period, roster=roster)
    return data


def _split_inputs(data: Any, func: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(activities or panel, deals)``; a panel is recognised by its ``period`` column."""
    if isinstance(data, pd.DataFrame) and "period" in data.columns and "rep" in data.columns:
        return data, None
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise TypeError(
                f"{func}: pass activities, or a pair (activities, deals); got {len(data)} items."
            )
        acts, deals = data
    else:
        acts, deals = data, None
    if not isinstance(acts, pd.DataFrame):
        raise TypeError(
            f"{func}: activities must be a DataFrame from load_activities(); got "
            f"{type(acts).__name__}."
        )
    missing = [c for c in ("rep", "timestamp", "activity_type") if c not in acts.columns]
    if missing:
        raise SchemaError(
            f"{func}: activities are missing {', '.join(map(repr, missing))} (found "
            f"{', '.join(map(str, acts.columns))}). "
            "Pass the activity log (load_activities), a (activities, deals) pair, or a "
            "panel from build_panel()."
        )
    return acts, deals




def _period_freq(period: str, fiscal_year_start: int = 1) -> str:
    """Pandas frequency of a tracked period; quarters follow the fiscal year (``Q-MAR`` for an April start)."""
    if period != "Q" or int(fiscal_year_start) == 1:
        return FREQ_ALIASES[period]
    if not 1 <= int(fiscal_year_start) <= 12:
        raise ValueError(f"track: fiscal_year_start must be a month 1-12; got {fiscal_year_start!r}.")
    months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    return f"Q-{months[(int(fiscal_year_start) - 2) % 12]}"


def _period_bounds(day: np.datetime64, period: str, fiscal_year_start: int = 1) -> tuple[np.datetime64, np.datetime64]:
    p = pd.Period(pd.Timestamp(day), freq=_period_freq(period, fiscal_year_start))
    return np.datetime64(p.start_time.date(), "D"), np.datetime64(p.end_time.date(), "D")


def _counts(
    acts: pd.DataFrame, deals: pd.DataFrame | None, lo, hi, metrics: Sequence[str]
) -> pd.DataFrame:
    """Count each metric per rep over the days ``lo..hi`` (inclusive).

    Returns a long frame ``rep, activity, actual``.  From a panel: the row of
    the period starting at ``lo`` (a panel counts whole periods, up to its
    export date).
    """
    if _is_panel(acts):
        rows = acts.loc[
            acts["period"].dt.start_time.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
            == lo
        ]
        cols = [m for m in metrics if m in rows.columns]
        long = rows.melt(id_vars=["rep"], value_vars=cols, var_name="activity", value_name="actual")
        long["rep"] = long["rep"].astype(str)
        return long.groupby(["rep", "activity"], sort=True)["actual"].sum().reset_index()
    day = _days(acts["timestamp"])
    inside = (day >= lo) & (day <= hi)
    a = acts.loc[inside]
    typ = a["activity_type"].astype(str).str.lower()
    frames = [pd.DataFrame({"rep": a["rep"].astype(str), "activity": typ})]
    if "outcome" in a.columns:
        out = a["outcome"].astype(str).str.lower()
        for name, (t, outs) in QUALITY_METRICS.items():
            if name in metrics:
                m = (typ == t) & out.isin(outs)
                frames.append(pd.DataFrame({"rep": a.loc[m, "rep"].astype(str), "activity": name}))
    if deals is not None and any(m in metrics for m in _DEAL_METRICS):
        c = _days(deals["created"])
        k = _days(deals["closed"])
        won = deals["status"].astype(str).str.lower().eq("won").to_numpy()
        sel = (c >= lo) & (c <= hi)
        frames.append(
            pd.DataFrame({"rep": deals.loc[sel, "rep"].astype(str), "activity": "deals_created"})
        )
        sel = won & (k >= lo) & (k <= hi)
        frames.append(
            pd.DataFrame({"rep": deals.loc[sel, "rep"].astype(str), "activity": "deals_won"})
        )
    long = pd.concat(frames, ignore_index=True)
    long = long.loc[long["activity"].isin(list(metrics))]
    return long.groupby(["rep", "activity"], sort=True).size().rename("actual").reset_index()


def _busdays(lo, hi, holidays) -> int:
    return (
        int(np.busday_count(lo, hi + np.timedelta64(1, "D"), holidays=holidays)) if hi >= lo else 0
    )


# ====================================================================== the model
def _pace(actual, goal, prior_rate, n_e, n_r):
    """Posterior mean rate, projection and P(reach goal) under the Gamma-Poisson model."""
    a = SHRINK_DAYS * prior_rate + actual
    b = SHRINK_DAYS + n_e
    rate = a / b
    projected = actual + rate * n_r
    need = np.ceil(goal - actual - 1e-9)
    if n_r > 0:
        p = b / (b + n_r)
        with np.errstate(invalid="ignore", divide="ignore"):
            prob = np.where(a > 0, stats.nbinom.sf(need - 1, np.maximum(a, 1e-12), p), 0.0)
        var_rem = a * n_r * (b + n_r) / b**2
    else:
        prob = np.zeros_like(need)
        var_rem = np.zeros_like(need)
    prob = np.where(need <= 0, 1.0, prob)
    return rate, projected, np.clip(prob, 0.0, 1.0), rate * n_r, var_rem


def _status(met, pace, prob):
    return np.select(
        [
            met | ((pace >= AHEAD_PACE) & (prob >= ON_TRACK_ODDS)),
            prob >= ON_TRACK_ODDS,
            prob >= BEHIND_ODDS,
        ],
        ["ahead", "on_track", "at_risk"],
        "behind",
    )


def _fmt(x: pd.Series, digits: int = 0) -> pd.Series:
    return x.round(digits).map(("{:,.%df}" % digits).format)


def _reason(t: pd.DataFrame, weekday: str) -> pd.Series:
    """One sentence per row saying why the status is what it is (vectorised string building)."""
    if not len(t):
        return pd.Series([], index=t.index, dtype=object)
    act = t["activity"].str.replace("_", " ")
    base = (
        _fmt(t["actual"])
        + " of "
        + _fmt(t["goal"])
        + " "
        + act
        + " by "
        + weekday
        + " (landmark "
        + _fmt(t["expected"], 1)
        + ", pace "
        + (100 * t["pace"]).round().astype(int).astype(str)
        + "%)"
    )
    left = t["working_days"] - t["elapsed_days"]
    need = (
        "; needs "
        + _fmt(t["needed_per_day"], 1)
        + "/day for the "
        + left.astype(str)
        + " days left vs "
        + _fmt(t["rate_per_day"], 1)
        + "/day expected"
    )
    odds = "; " + (100 * t["p_meet"]).round().astype(int).astype(str) + "% chance to reach the goal"
    met = t["actual"] >= t["goal"]
    return np.where(
        met,
        base + "; goal already met",
        np.where(left > 0, base + need + odds, base + "; period over"),
    )


@dataclass
class TrackResult:
    """Progress against goals at a date (result of :func:`track`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rep (or leader) and goal; columns documented in :func:`track`.
    team : pandas.DataFrame
        Roll-up per team and activity: ``team, activity, reps, goal, actual,
        expected, projected, pace, p_meet, status, n_ahead, n_on_track,
        n_at_risk, n_behind`` (sums over reps; ``p_meet`` from the summed
        negative binomial of the remaining days).
    managers : pandas.DataFrame
        The same roll-up per ``manager``.
    as_of : pandas.Timestamp
        Date tracked to (inclusive).
    period : str
        ``W``, ``M`` or ``Q``.
    tier : str
        Goal tier the status refers to.
    misses : pandas.DataFrame
        One row per rep goal behind its landmark: why (the shortfall split
        into volume and quality/conversion, in units and money) and what to do
        (catch-up plan, its odds vs the personal best week, or a *suggested*
        adjusted goal); columns ``rep, team, activity, goal, expected, actual,
        shortfall, base_activity, conversion_usual, conversion_now,
        volume_units, quality_units, value_per_unit, volume_money,
        quality_money, weeks_left, needed_per_week, p_catch_up,
        personal_best_week, vs_personal_best, action, suggested_goal,
        suggested_odds, plan``; see :mod:`salesgoals.tracking._misses`.
        Empty when ``as_of`` is outside the data or the goals' horizon.
    landmarks : pandas.DataFrame
        With a goal plan's landmarks (a GoalPlan, or ``landmarks=``): one row
        per rep goal, its progress from the horizon's start at the last
        landmark passed and to date, so a goal that slipped in an earlier
        week stays visible: ``rep, team, activity, tier, horizon_start,
        landmark_week, landmark_end, landmark, actual_at_landmark,
        landmark_gap, landmark_pace, to_date, next_week, next_landmark_end,
        next_landmark, needed_by_next, goal_total, horizon_end, p_goal,
        landmark_status`` (``behind_landmark``, ``on_pace``, ``ahead``,
        ``not_started`` or ``unknown``), ``reason``; see
        :mod:`salesgoals.tracking._landmarks`.  Empty without landmarks.
    team_misses : pandas.DataFrame
        The same per team goal behind its landmark: :attr:`team` columns plus
        the reps' ``volume_units, quality_units, volume_money,
        quality_money, personal_best_week`` summed, ``shortfall,
        weeks_left, needed_per_week, p_catch_up, action, suggested_goal,
        suggested_odds``.
    """

    table: pd.DataFrame
    team: pd.DataFrame
    managers: pd.DataFrame
    as_of: pd.Timestamp
    period: str
    tier: str
    notes: list[str] = field(default_factory=list)
    misses: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISS_COLUMNS))
    team_misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    landmarks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LANDMARK_COLUMNS))

    def summary(self) -> Summary:
        """Status counts and the goals most at risk."""
        t = self.table
        counts = t["status"].value_counts().reindex(list(STATUSES), fill_value=0)
        lines = [
            f"{t['rep'].nunique()} people, {len(t)} goals ({self.tier} tier), period "
            f"{t['period'].iloc[0] if len(t) else '-'}, "
            f"as of {self.as_of.date()} ({int(t['elapsed_days'].max()) if len(t) else 0} of "
            f"{int(t['working_days'].max()) if len(t) else 0} working days).",
            "status: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
            *self.notes,
        ]
        behind = self.landmarks.loc[self.landmarks["landmark_status"] == "behind_landmark"]
        lines += [f"behind the goal plan's landmark: {r.rep} / {r.activity}: {r.reason}" for r in behind.itertuples()]
        risk = t[t["status"].isin(["at_risk", "behind"])].sort_values(
            ["p_meet", "rep"], kind="mergesort"
        )
        return Summary(
            "Goal tracking",
            lines,
            risk[["rep", "activity", "goal", "actual", "expected", "p_meet", "status"]]
            .head(15)
            .round(2),
        )

    def plot(self, ax=None, *, kind: Literal["pacing", "status"] = "pacing"):
        """Pacing chart or status heatmap (see :mod:`salesgoals.plotting`)."""
        return plot_pacing(self, ax=ax) if kind == "pacing" else plot_status_heatmap(self, ax=ax)

    def __repr__(self) -> str:
        return (
            f"TrackResult(people={self.table['rep'].nunique()}, goals={len(self.table)}, "
            f"period={self.period!r}, "
            f"as_of={str(self.as_of.date())!r}, tier={self.tier!r})"
        )


def _rollup(t: pd.DataFrame, by: str, n_r: int) -> pd.DataFrame:
    if by not in t.columns or not len(t):
        return pd.DataFrame(
            columns=[
                by,
                "activity",
                "reps",
                "goal",
                "actual",
                "expected",
                "projected",
                "pace",
                "p_meet",
                "status",
                "n_ahead",
                "n_on_track",
                "n_at_risk",
                "n_behind",
            ]
        )
    g = t.groupby([by, "activity"], sort=True)
    out = g.agg(
        reps=("rep", "size"),
        goal=("goal", "sum"),
        actual=("actual", "sum"),
        expected=("expected", "sum"),
        projected=("projected", "sum"),
        _mean=("_mean_rem", "sum"),
        _var=("_var_rem", "sum"),
    ).reset_index()
    counts = pd.crosstab([t[by], t["activity"]], t["status"]).reindex(
        columns=list(STATUSES), fill_value=0
    )
    counts = counts.reindex(pd.MultiIndex.from_frame(out[[by, "activity"]]), fill_value=0)
    for s in STATUSES:
        out[f"n_{s}"] = counts[s].to_numpy().astype(np.int64)
    out["pace"] = np.where(
        out["expected"] > 0, out["actual"] / out["expected"].where(out["expected"] > 0, 1), 1.0
    )
    need = out["goal"] - out["actual"]
    if n_r > 0:
        p = prob_at_least(
            np.ceil(need.to_numpy()),
            out["_mean"].to_numpy(),
            np.maximum(out["_var"], out["_mean"]).to_numpy(),
        )
    else:
        p = (need <= 0).astype(float).to_numpy()
    out["p_meet"] = np.where(need <= 0, 1.0, p)
    out["status"] = _status(
        (need <= 0).to_numpy(), out["pace"].to_numpy(), out["p_meet"].to_numpy()
    )
    return out.drop(columns=["_mean", "_var"])[
        [
            by,
            "activity",
            "reps",
            "goal",
            "actual",
            "expected",
            "projected",
            "pace",
            "p_meet",
            "status",
            *[f"n_{s}" for s in STATUSES],
        ]
    ]


def _leader_goals(
    acts: pd.DataFrame, goals: pd.DataFrame, roster: pd.DataFrame | None
) -> pd.DataFrame:
    """Default leader goals: coaching sessions per team member per week, when coaching is logged."""
    if _is_panel(acts):
        present = [c for c in COACHING_TYPES if c in acts.columns and acts[c].sum() > 0]
    else:
        types = acts["activity_type"].astype(str).str.lower()
        present = [c for c in COACHING_TYPES if (types == c).any()]
    if not present:
        return goals.iloc[0:0]
    src = (
        roster
        if roster is not None and "manager" in roster.columns
        else goals
        if "manager" in goals.columns
        else None
    )
    if src is None:
        return goals.iloc[0:0]
    size = src.drop_duplicates("rep").groupby(src["manager"].astype(str)).size()
    size = size.drop(index=[UNASSIGNED, "nan"], errors="ignore")
    have = set(goals["rep"])
    rows = pd.DataFrame(
        [(m, a, n) for m, n in size.items() for a in present if m not in have],
        columns=["rep", "activity", "n"],
    )
    for tier, k in zip(TIERS, LEADER_GOALS_PER_REP):
        rows[f"goal_{tier}"] = np.round(k * rows["n"])
    rows["baseline"] = rows["goal_stretch"]
    rows["priority"] = 1
    rows["manager"] = rows["rep"]
    rows["team"] = "(leaders)"
    return rows.drop(columns="n")


def track(
    panel_or_exports: Any,
    goals: Any,
    *,
    as_of=None,
    period: Freq = "W",
    tier: Tier = "clear",
    roster: pd.DataFrame | None = None,
    holidays: Sequence[Any] = (),
    priorities_only: bool = True,
    fiscal_year_start: int = 1,
    landmarks: pd.DataFrame | None = None,
) -> TrackResult:
    """Progress of each rep against their goals in the period containing ``as_of``.

    Parameters
    ----------
    panel_or_exports : DataFrame or (activities, deals)
        The canonical activity log (:func:`salesgoals.load_activities`), or a
        pair with the deals to track ``deals_created`` / ``deals_won`` goals,
        or a panel (:func:`salesgoals.build_panel`, same grain as ``period``):
        a panel holds whole-period counts, so its last period counts up to the
        export date, which should then be ``as_of`` (the default is the end of
        its last period).  Activity files (a path or glob such as
        ``"lake/**/*.parquet"``) or a Dask DataFrame, alone or paired with the
        deals, are built into that panel first (:func:`salesgoals.panel.panel_for`).
    goals : GoalPlan, DataFrame or path
        From :func:`salesgoals.personal_best_goals` or its CSV (needs ``rep,
        activity, goal_clear, goal_stretch, goal_extraordinary``; uses
        ``priority``, ``baseline``, ``team``, ``manager`` when present).  Goal
        levels are per week unless the GoalPlan says otherwise.
    as_of : date-like, optional
        Track to this day, inclusive (default: the day of the last activity).
    period : {"W", "M", "Q"}, default="W"
        The goal period tracked; week goals are scaled by working days.
    tier : {"clear", "stretch", "extraordinary"}, default="clear"
        The tier the status refers to (odds of all three are reported).
    roster : pandas.DataFrame, optional
        Adds ``team`` / ``manager`` for the roll-ups and the leaders' goals.
    holidays : sequence of date-like, default=()
        Non-working days (the landmark counts working days Monday-Friday).
    priorities_only : bool, default=True
        Track only the focus goals (``priority`` > 0).
    fiscal_year_start : int, default=1
        Month (1-12) the fiscal year starts: with ``period="Q"`` the tracked
        quarter is the fiscal quarter containing ``as_of`` (from the activity
        log; a quarterly panel has calendar quarters).
    landmarks : pandas.DataFrame, optional
        The goal plan's landmarks (:attr:`salesgoals.goals.GoalPlan.landmarks`:
        ``rep, activity, tier, week, period_start, period_end, cumulative``);
        taken from ``goals`` when it is a GoalPlan.  Fills
        :attr:`TrackResult.landmarks`.

    Returns
    -------
    TrackResult
        ``.table`` has one row per person and goal with columns:

        * ``level`` : str — ``rep``, or ``leader`` for a manager's coaching goals.
        * ``rep``, ``team``, ``manager`` : str; ``activity`` : str; ``priority`` : int.
        * ``period`` : str — the period tracked; ``as_of`` : Timestamp.
        * ``working_days``, ``elapsed_days`` : int — in the period / up to ``as_of``.
        * ``goal`` : float — the tier's goal for the whole period.
        * ``actual`` : float — count so far in the period.
        * ``expected`` : float — the landmark: goal x elapsed / working days.
        * ``pace`` : float — actual / expected (1 when nothing is expected yet).
        * ``rate_per_day`` : float — shrunk daily rate (see the pace model).
        * ``projected`` : float — expected end-of-period count at that rate.
        * ``needed_per_day`` : float — what the remaining days need (0 when met).
        * ``p_meet`` : float — probability of reaching ``goal``.
        * ``p_clear``, ``p_stretch``, ``p_extraordinary`` : float — the same for each tier.
        * ``status`` : str — ``ahead``, ``on_track``, ``at_risk``, ``behind``,
          or ``unknown`` when the data cannot judge (see the module notes).
        * ``reason`` : str — the numbers behind the status, in words.

    Raises
    ------
    SchemaError
        The goals or activities lack required columns.
    DataQualityError
        Goal values that are negative or not numbers.

    Warns
    -----
    UnreliableEstimateWarning
        ``as_of`` after the data ends, before it starts, or outside the goals'
        horizon: statuses that would be at risk or behind become ``unknown``.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=20, seed=0)
    >>> goals = pd.DataFrame({"rep": sim.roster["rep"], "activity": "call", "goal_clear": 120.0,
    ...                       "goal_stretch": 150.0, "goal_extraordinary": 200.0})
    >>> res = track(sim.activities, goals, as_of="2024-05-15")
    >>> res.table[["elapsed_days", "working_days"]].iloc[0].tolist()
    [3, 5]
    >>> bool(res.table["status"].isin(["ahead", "on_track", "at_risk", "behind"]).all())
    True
    """
    if period not in FREQS:
        raise ValueError(f"track: period must be one of 'W', 'M', 'Q'; got {period!r}.")
    if tier not in TIERS:
        raise ValueError(
            f"track: tier must be one of 'clear', 'stretch', 'extraordinary'; got {tier!r}."
        )
    panel_or_exports = _panel_from_lake(panel_or_exports, period, roster)
    acts, deals = _split_inputs(panel_or_exports, "track")
    g, goal_freq = _read_goals(goals, "track")
    g, n_leaders = _goal_rows(acts, g, roster, priorities_only)
    hol = _holidays(holidays)
    _check_panel_grain(acts, period)
    day = _as_of_day(acts, as_of)
    if _is_panel(acts) and period == "Q" and (int(fiscal_year_start) - 1) % 3:
        raise ValueError("track: a quarterly panel has calendar quarters; to track fiscal quarters starting in "
                         f"month {fiscal_year_start}, pass the activity log instead of the panel.")  # fmt: skip
    lo, hi = _period_bounds(day, period, fiscal_year_start)
    N = _busdays(lo, hi, hol)
    n_e = _busdays(lo, min(day, hi), hol)
    scale = 1.0 if goal_freq == period else N / _STD_DAYS.get(goal_freq, 5.0)
    metrics = g["activity"].unique().tolist()
    bases = [QUALITY_METRICS[m][0] for m in metrics if m in QUALITY_METRICS]
    counts = _counts(acts, deals, lo, day, list(dict.fromkeys(metrics + bases)))
    t = _score(g.merge(counts, on=["rep", "activity"], how="left"), tier, scale, N, n_e)
    base = t["activity"].map({k: v[0] for k, v in QUALITY_METRICS.items()}).fillna(t["activity"])
    t["base_actual"] = (
        counts.set_index(["rep", "activity"])["actual"]
        .reindex(pd.MultiIndex.from_arrays([t["rep"], base]))
        .fillna(0.0)
        .to_numpy(dtype=float)
    )
    t["period"] = str(pd.Period(pd.Timestamp(lo), freq=_period_freq(period, fiscal_year_start)))
    t["as_of"] = pd.Timestamp(day)
    t["priority"] = pd.to_numeric(t["priority"], errors="coerce").fillna(0).astype(int)
    t["reason"] = _reason(t, pd.Timestamp(day).day_name()[:3])
    notes = []
    if n_leaders:
        notes.append(f"leader goals tracked for {n_leaders} manager(s) from logged coaching activity.")
    refuse = _as_of_guard(acts, deals, goals, day, hol, notes)
    if refuse:
        t = _refuse_status(t, refuse)
    team = _rollup(t, "team", N - n_e)
    managers = _rollup(t[t["level"] == "rep"], "manager", N - n_e)
    if refuse:
        team, managers = _refuse_status(team, refuse), _refuse_status(managers, refuse)
        misses, t_misses = pd.DataFrame(columns=MISS_COLUMNS), pd.DataFrame()
    else:
        hist = history_stats(acts, deals, lo, list(dict.fromkeys(metrics + bases)))
        misses = account_for_misses(t, hist, n_e=n_e, N=N, shrink=SHRINK_DAYS)
        t_misses = team_misses(t, hist, team, n_e=n_e, N=N)
    lms = _landmark_view(t, goals, landmarks, acts, deals, day, tier, hol, goal_freq, refuse)
    t = t.sort_values(["level", "rep", "priority", "activity"], kind="mergesort").reset_index(drop=True)[TRACK_COLUMNS]
    return TrackResult(t, team, managers, pd.Timestamp(day), period, tier, notes, misses, t_misses, lms)


def _span_counts(acts, deals, lo, hi, metrics) -> pd.DataFrame:
    """Counts over the days ``lo..hi``; from a panel, the whole periods inside them."""
    if not _is_panel(acts):
        return _counts(acts, deals, lo, hi, metrics)
    start = acts["period"].dt.start_time.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    end = acts["period"].dt.end_time.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    rows = acts.loc[(start >= lo) & (end <= hi)]
    cols = [m for m in metrics if m in rows.columns]
    long = rows.melt(id_vars=["rep"], value_vars=cols, var_name="activity", value_name="actual")
    long["rep"] = long["rep"].astype(str)
    return long.groupby(["rep", "activity"], sort=True)["actual"].sum().reset_index()


def _landmark_view(t, goals, landmarks, acts, deals, day, tier, hol, goal_freq, refuse) -> pd.DataFrame:
    """:attr:`TrackResult.landmarks`: the rep goals against the goal plan's landmarks (empty without any)."""
    lm = read_landmarks(goals, landmarks, "track")
    if lm is None:
        return pd.DataFrame(columns=LANDMARK_COLUMNS)
    tools = dict(counts=_span_counts, busdays=_busdays, pace=_pace, std_days=_STD_DAYS.get(goal_freq, 5.0),
                 ahead=AHEAD_PACE)  # fmt: skip
    out = landmark_progress(t.loc[t["level"] == "rep"], lm, acts=acts, deals=deals, day=day, tier=tier, hol=hol,
                            tools=tools)  # fmt: skip
    if refuse and len(out):
        bad = out["landmark_status"] == "behind_landmark"
        out["landmark_status"] = out["landmark_status"].where(~bad, UNKNOWN)
        out["reason"] = out["reason"].where(~bad, refuse + "; " + out["reason"])
    return out[LANDMARK_COLUMNS]


#: Columns of :attr:`TrackResult.table`, in order.
TRACK_COLUMNS: list[str] = [
    "level",
    "rep",
    "team",
    "manager",
    "activity",
    "priority",
    "period",
    "as_of",
    "working_days",
    "elapsed_days",
    "goal",
    "actual",
    "expected",
    "pace",
    "rate_per_day",
    "projected",
    "needed_per_day",
    "p_meet",
    "p_clear",
    "p_stretch",
    "p_extraordinary",
    "status",
    "reason",
]


def _holidays(holidays: Sequence[Any]) -> np.ndarray:
    return np.array([np.datetime64(pd.Timestamp(h).date(), "D") for h in holidays], dtype="datetime64[D]")


def _check_panel_grain(acts: pd.DataFrame, period: str) -> None:
    if _is_panel(acts):
        pfreq = acts.attrs.get("freq") or acts["period"].iloc[0].freqstr[:1]
        if pfreq != period:
            raise ValueError(
                f"track: the panel has freq={pfreq!r} but period={period!r}; a panel only gives whole-period "
                f"counts, so track it with period={pfreq!r} or pass the activity log."
            )


def _goal_rows(acts, g: pd.DataFrame, roster, priorities_only: bool) -> tuple[pd.DataFrame, int]:
    """Goals tracked: the focus goals, the leaders' goals, ``team``/``manager`` from the roster."""
    # advance-rate goals (recommend(stage_history=...)) are rates, not counts to pace: not tracked here
    g = g.loc[~g["activity"].astype(str).str.endswith("_advance_rate").to_numpy()]
    if priorities_only:
        g = g.loc[pd.to_numeric(g["priority"], errors="coerce").fillna(0) > 0]
    g = g.assign(level="rep")
    leaders = _leader_goals(acts, g, roster)
    if len(leaders):
        g = pd.concat([g, leaders.assign(level="leader")], ignore_index=True)
    if roster is not None:
        for col in ("team", "manager"):
            if col in roster.columns:
                mapping = roster.drop_duplicates("rep").set_index(roster["rep"].astype(str).drop_duplicates())[col]
                g[col] = g["rep"].map(mapping).fillna(g[col] if col in g.columns else UNASSIGNED)
    for col in ("team", "manager"):
        if col not in g.columns:
            g[col] = UNASSIGNED
        g[col] = g[col].astype(object).where(g[col].notna(), UNASSIGNED).astype(str)
    return g, int(leaders["rep"].nunique()) if len(leaders) else 0


def _score(t: pd.DataFrame, tier: str, scale: float, N: int, n_e: int) -> pd.DataFrame:
    """Landmark, pace, projection, odds per tier and status of each goal row."""
    n_r = N - n_e
    t["actual"] = t["actual"].fillna(0).astype(float)
    t["goal"] = t[f"goal_{tier}"] * scale
    prior = t["baseline"].to_numpy(dtype=float) * scale / max(N, 1)
    t["working_days"], t["elapsed_days"] = N, n_e
    t["expected"] = t["goal"] * (n_e / N if N else 1.0)
    t["pace"] = np.where(t["expected"] > 0, t["actual"] / t["expected"].where(t["expected"] > 0, 1.0), 1.0)
    actual = t["actual"].to_numpy(dtype=float)
    rate, projected, prob, mean_rem, var_rem = _pace(actual, t["goal"].to_numpy(dtype=float), prior, n_e, n_r)
    t["rate_per_day"], t["projected"], t["p_meet"] = rate, projected, prob
    t["_mean_rem"], t["_var_rem"] = mean_rem, var_rem
    for k in TIERS:
        t[f"p_{k}"] = _pace(actual, t[f"goal_{k}"].to_numpy(dtype=float) * scale, prior, n_e, n_r)[2]
    t["needed_per_day"] = np.where(n_r > 0, np.maximum(t["goal"] - t["actual"], 0) / max(n_r, 1), 0.0)
    t["status"] = _status((t["actual"] >= t["goal"]).to_numpy(), t["pace"].to_numpy(), prob)
    return t


def _data_span(acts: pd.DataFrame, deals: pd.DataFrame | None) -> tuple[np.datetime64, np.datetime64]:
    """First and last day the exports (or the panel) cover."""
    if _is_panel(acts):
        p = acts["period"]
        return (
            np.datetime64(p.min().start_time.date(), "D"),
            np.datetime64(p.max().end_time.date(), "D"),
        )
    days = [_days(acts["timestamp"])]
    if deals is not None:
        days += [_days(deals["created"]), _days(deals["closed"])]
    d = np.concatenate(days)
    d = d[~np.isnat(d)]
    return d.min(), d.max()


def _goal_horizon(goals: Any) -> tuple[np.datetime64, np.datetime64] | None:
    """First and last day the goals are in force (a GoalPlan's horizon; None when unknown)."""
    if not (hasattr(goals, "as_of") and hasattr(goals, "horizon") and isinstance(goals.as_of, pd.Period)):
        return None
    first, last = goals.as_of + 1, goals.as_of + int(goals.horizon)
    return np.datetime64(first.start_time.date(), "D"), np.datetime64(last.end_time.date(), "D")


def _as_of_guard(acts, deals, goals, day: np.datetime64, hol, notes: list[str]) -> str:
    """Check ``as_of`` against the data and the goal horizon; warn, and return why no one can be called at risk.

    The data's staleness is always noted.  ``as_of`` more than
    :data:`MAX_STALE_DAYS` working days after the data ends (the actuals miss
    those days), before the data starts, or outside the GoalPlan's horizon:
    an :class:`UnreliableEstimateWarning`, and the reason returned ('' when fine).
    """
    first, last = _data_span(acts, deals)
    stale = _busdays(last + np.timedelta64(1, "D"), day, hol) if day > last else 0
    if day > last:
        notes.append(f"the data runs to {pd.Timestamp(last).date()}: {int((day - last).astype(int))} day(s), "
                     f"{stale} working day(s), before as_of.")
    why = ""
    if stale > MAX_STALE_DAYS:
        why = (f"as_of {pd.Timestamp(day).date()} is {stale} working days after the data ends "
               f"({pd.Timestamp(last).date()}): the actuals miss those days")
    elif day < first:
        why = f"as_of {pd.Timestamp(day).date()} is before the data starts ({pd.Timestamp(first).date()})"
    horizon = _goal_horizon(goals)
    if not why and horizon is not None and not (horizon[0] <= day <= horizon[1]):
        why = (f"as_of {pd.Timestamp(day).date()} is outside the goals' horizon "
               f"({pd.Timestamp(horizon[0]).date()} to {pd.Timestamp(horizon[1]).date()}): those goals are not in force")
    if why:
        msg = f"track: {why}; no one is called at risk or behind (status '{UNKNOWN}')."
        warnings.warn(msg, UnreliableEstimateWarning, stacklevel=3)
        notes.append(msg)
    return why


def _refuse_status(t: pd.DataFrame, why: str) -> pd.DataFrame:
    """Replace at-risk and behind by :data:`UNKNOWN` (what the data cannot tell), saying why in ``reason``."""
    t = t.copy()
    bad = t["status"].isin(["at_risk", "behind"])
    t["status"] = t["status"].where(~bad, UNKNOWN)
    if "reason" in t.columns:
        t["reason"] = t["reason"].where(~bad, why + "; " + t["reason"])
    return t


# ====================================================================== reviews
@dataclass
class Review:
    """A review table and its compact printable report.

    Attributes
    ----------
    table : pandas.DataFrame
        The review as a tidy table (columns documented by the function that made it).
    title : str
        Heading of the report.
    lines : list of str
        The report lines (``str(review)`` joins them under the title).
    misses : pandas.DataFrame
        The goals behind their landmark, why and what to do
        (:attr:`TrackResult.misses` for the weekly review,
        :attr:`TrackResult.team_misses` for the monthly one; empty for the
        quarterly review, whose table carries the revenue split).
    landmarks : pandas.DataFrame
        The weekly review's goals against the goal plan's landmarks
        (:attr:`TrackResult.landmarks`; empty without landmarks).
    """

    table: pd.DataFrame
    title: str
    lines: list[str]
    misses: pd.DataFrame = field(default_factory=pd.DataFrame)
    landmarks: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> Summary:
        """Return the report as a printable summary."""
        return Summary(self.title, self.lines)

    def __str__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def weekly_review(
    panel_or_exports: Any,
    goals: Any,
    *,
    as_of=None,
    tier: Tier = "clear",
    roster=None,
    holidays: Sequence[Any] = (),
    landmarks: pd.DataFrame | None = None,
) -> Review:
    """Weekly one-to-one review per rep: last week against goal, this week's goals, the priorities.

    Parameters
    ----------
    panel_or_exports, goals, tier, roster, holidays, landmarks
        As in :func:`track`.
    as_of : date-like, optional
        A day in "this week" (default: the day of the last activity).

    Returns
    -------
    Review
        ``.table`` has one row per rep and focus activity with columns ``rep``,
        ``team``, ``priority``, ``activity``, ``last_week`` (str),
        ``last_week_actual``, ``last_week_goal`` (the tier's goal),
        ``last_week_attainment`` (actual / goal), ``last_week_met`` (bool),
        ``this_week`` (str), ``goal_clear``, ``goal_stretch``,
        ``goal_extraordinary`` (this week's goals), ``this_week_actual``,
        ``this_week_expected`` (landmark), ``status``, ``reason``.
        ``.landmarks``: the goals against the goal plan's landmarks
        (:attr:`TrackResult.landmarks`); the report lists those that slipped.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=12, seed=0)
    >>> goals = pd.DataFrame({"rep": sim.roster["rep"], "activity": "meeting", "goal_clear": 2.0,
    ...                       "goal_stretch": 3.0, "goal_extraordinary": 5.0})
    >>> rv = weekly_review(sim.activities, goals, as_of="2024-03-13")
    >>> rv.table["last_week"].iloc[0]
    '2024-03-04/2024-03-10'
    """
    day = _as_of_day(panel_or_exports, as_of)
    kw = dict(period="W", tier=tier, roster=roster, holidays=holidays)
    this = track(panel_or_exports, goals, as_of=day, landmarks=landmarks, **kw)
    last = track(panel_or_exports, goals, as_of=_period_bounds(day - np.timedelta64(7, "D"), "W")[1], **kw)
    t = _weekly_table(this.table, last.table, goals)
    lines = _weekly_lines(t, this, day, tier)
    return Review(t.reset_index(drop=True), "Weekly review", lines, this.misses, this.landmarks)


#: Columns of the weekly review's table, in order.
WEEKLY_COLUMNS: list[str] = [
    "rep", "team", "priority", "activity", "last_week", "last_week_actual", "last_week_goal",
    "last_week_attainment", "last_week_met", "this_week", "goal_clear", "goal_stretch", "goal_extraordinary",
    "this_week_actual", "this_week_expected", "status", "reason",
]  # fmt: skip


def _weekly_table(this: pd.DataFrame, last: pd.DataFrame, goals: Any) -> pd.DataFrame:
    """This week's tracking joined with last week's result and this week's three goal tiers."""
    g, _ = _read_goals(goals, "weekly_review")
    key = ["rep", "activity"]
    last = last[key + ["period", "actual", "goal"]].rename(
        columns={"period": "last_week", "actual": "last_week_actual", "goal": "last_week_goal"}
    )
    t = this.merge(last, on=key, how="left").merge(
        g[key + ["goal_clear", "goal_stretch", "goal_extraordinary"]], on=key, how="left"
    )
    for c in ("goal_clear", "goal_stretch", "goal_extraordinary"):
        t[c] = t[c].fillna(t["goal"])
    lw_goal = t["last_week_goal"]
    t["last_week_attainment"] = np.where(lw_goal > 0, t["last_week_actual"] / lw_goal.where(lw_goal > 0, 1), 1.0)
    t["last_week_met"] = t["last_week_actual"] >= lw_goal
    t = t.rename(columns={"period": "this_week", "actual": "this_week_actual", "expected": "this_week_expected"})
    return t[WEEKLY_COLUMNS]


def _weekly_lines(t: pd.DataFrame, this: TrackResult, day, tier: str) -> list[str]:
    """The one-to-one report: per rep, last week and this week; then the misses and the slipped landmarks."""
    lines = [f"Week {t['this_week'].iloc[0] if len(t) else '-'} (as of {pd.Timestamp(day).date()}), {tier} goals."]
    for rep, rows in t.groupby("rep", sort=True):  # one block per rep (report text only)
        lines.append(f"{rep}:")
        for r in rows.itertuples():
            mark = "met" if r.last_week_met else "missed"
            lines.append(
                f"  {r.priority}. {r.activity}: last week "
                f"{r.last_week_actual:.0f}/{r.last_week_goal:.0f} ({mark}); "
                f"this week {r.goal_clear:.0f}/{r.goal_stretch:.0f}/{r.goal_extraordinary:.0f}, "
                f"{r.this_week_actual:.0f} so far -> {r.status}"
            )
    if len(this.misses):
        lines.append("Behind the landmark - why, and what to do:")
        lines += [f"  {r.rep} / {r.plan}" for r in this.misses.itertuples()]
    slipped = this.landmarks.loc[this.landmarks["landmark_status"] == "behind_landmark"]
    if len(slipped):
        lines.append("Behind the goal plan's landmarks (counted from the horizon's start):")
        lines += [f"  {r.rep} / {r.activity}: {r.reason}" for r in slipped.itertuples()]
    return lines


def _as_of_day(data: Any, as_of) -> np.datetime64:
    acts, _ = _split_inputs(data, "review")
    if as_of is not None:
        return np.datetime64(pd.Timestamp(as_of).date(), "D")
    if _is_panel(acts):
        return np.datetime64(acts["period"].max().end_time.date(), "D")
    return _days(acts["timestamp"]).max()


def monthly_review(
    panel_or_exports: Any,
    goals: Any,
    *,
    as_of=None,
    tier: Tier = "clear",
    roster=None,
    holidays: Sequence[Any] = (),
) -> Review:
    """Monthly team review: month-to-date progress per team and focus activity.

    Parameters
    ----------
    panel_or_exports, goals, as_of, tier, roster, holidays
        As in :func:`track` (the month containing ``as_of`` is reviewed).

    Returns
    -------
    Review
        ``.table`` is :attr:`TrackResult.team` for the month: ``team,
        activity, reps, goal, actual, expected, projected, pace, p_meet,
        status, n_ahead, n_on_track, n_at_risk, n_behind``.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=12, seed=0)
    >>> goals = pd.DataFrame({"rep": sim.roster["rep"], "activity": "call", "goal_clear": 100.0,
    ...                       "goal_stretch": 120.0, "goal_extraordinary": 160.0})
    >>> rv = monthly_review(sim.activities, goals, as_of="2024-03-13", roster=sim.roster)
    >>> int(rv.table["reps"].sum())
    3
    """
    res = track(
        panel_or_exports,
        goals,
        as_of=as_of,
        period="M",
        tier=tier,
        roster=roster,
        holidays=holidays,
    )
    t = res.team
    lines = [
        f"Month {res.table['period'].iloc[0] if len(res.table) else '-'} as of {res.as_of.date()} "
        f"({int(res.table['elapsed_days'].max()) if len(res.table) else 0} of "
        f"{int(res.table['working_days'].max()) if len(res.table) else 0} working days), "
        f"{tier} goals."
    ]
    for r in t.itertuples():
        lines.append(
            f"  {r.team} / {r.activity}: {r.actual:,.0f} of {r.goal:,.0f} (landmark "
            f"{r.expected:,.0f}, pace {r.pace:.0%}), "
            f"projected {r.projected:,.0f}, {r.p_meet:.0%} odds -> {r.status}; reps "
            "ahead/on track/at risk/behind "
            f"{r.n_ahead}/{r.n_on_track}/{r.n_at_risk}/{r.n_behind}"
        )
    for r in res.team_misses.itertuples():
        what = (
            f"catch up with {r.needed_per_week:,.1f} per remaining week ({r.p_catch_up:.0%} odds)"
            if r.action == "catch_up"
            else f"SUGGESTION: adjust the team goal to {r.suggested_goal:,.0f} ({r.suggested_odds:.0%} odds)"
            if r.action == "suggest_adjusted_goal"
            else "the period is over"
        )
        lines.append(
            f"  behind: {r.team} / {r.activity} {r.shortfall:,.1f} under the landmark: {r.volume_units:,.1f} from "
            f"volume, {r.quality_units:,.1f} from conversion (about {r.volume_money + r.quality_money:,.0f} of "
            f"revenue); {what}."
        )
    return Review(t, "Monthly team review", lines, res.team_misses)


def quarterly_review(
    deals: pd.DataFrame,
    *,
    annual_target: float,
    year: int | None = None,
    as_of=None,
    fiscal_year_start: int = 1,
    panel: pd.DataFrame | None = None,
    holidays: Sequence[Any] = (),
    target: Literal["won_revenue", "deals_won"] = "won_revenue",
) -> Review:
    """Quarterly review of revenue against the annual target and its cascade landmarks.

    The annual target is spread over quarters, months and working days with
    :func:`salesgoals.cascade` (seasonality from ``panel`` when given).  For
    the year, the current quarter and the current month the review shows the
    target, the landmark (the cascade's target summed to ``as_of``), the
    actual so far, the projection at the recent run rate and the odds of
    reaching the target.

    Parameters
    ----------
    deals : pandas.DataFrame
        Canonical deals (won deals count on their ``closed`` day).
    annual_target : float
        Target for the fiscal year.
    year : int, optional
        Calendar year in which the fiscal year starts (default: that of ``as_of``).
    as_of : date-like, optional
        Review date, inclusive (default: the last close date in ``deals``).
    fiscal_year_start : int, default=1
        Month the fiscal year starts.
    panel : pandas.DataFrame, optional
        History for the cascade's seasonality.
    holidays : sequence of date-like, default=()
        Non-working days for the cascade.
    target : {"won_revenue", "deals_won"}, default="won_revenue"
        What the annual target counts.

    Returns
    -------
    Review
        ``.table`` has one row per scope (``year``, ``quarter``, ``month``) with
        columns ``scope``, ``label``, ``start``, ``end`` (first and last
        calendar day: wins on weekends and holidays count), ``target``,
        ``expected`` (landmark to ``as_of``), ``actual``, ``pace``,
        ``projected``, ``p_meet``, ``status``, ``reason``; and for the scopes
        behind their landmark, why and what to do: ``deals_won``,
        ``usual_deal_size`` (mean won deal of the year before),
        ``deal_size_now``, ``volume_deals`` and ``volume_money`` (fewer won
        deals than the landmark needs at the usual size), ``size_money``
        (smaller deals; ``volume_money + size_money`` is the shortfall),
        ``needed_per_week``, ``action`` (``catch_up``,
        ``suggest_adjusted_target`` when the odds are under
        :data:`~salesgoals.tracking._misses.CATCH_UP_MIN_ODDS`,
        ``period_over``, or empty when on pace), ``suggested_target`` (a
        suggestion for the manager: the projection, about even odds),
        ``plan`` (in words).

    Notes
    -----
    The projection adds, to the actual so far, the remaining working days at
    the daily run rate of the last 13 weeks (shrunk toward the target's own
    rate by :data:`SHRINK_DAYS` x 5 working days).  The odds use a normal
    approximation whose variance comes from the weekly variation of that
    history: a rough guide; :func:`salesgoals.forecasting` gives calibrated ranges.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=60, seed=0)
    >>> rv = quarterly_review(sim.deals, annual_target=2_000_000, as_of="2025-02-12")
    >>> rv.table["scope"].tolist()
    ['year', 'quarter', 'month']
    """
    closed, won, value = _won_deals(deals, target)
    if as_of is None and not won.any():
        raise DataQualityError(
            "quarterly_review: the deals have no won deal with a close date; pass as_of= explicitly."
        )
    day = np.datetime64(pd.Timestamp(as_of).date(), "D") if as_of is not None else closed[won].max()
    ts = pd.Timestamp(day)
    if year is None:
        year = ts.year if ts.month >= fiscal_year_start else ts.year - 1
    c = cascade(float(annual_target), year=int(year), panel=panel, fiscal_year_start=fiscal_year_start,
                holidays=holidays)
    d = c.days[c.days["entity"] == "(team)"]
    dd = d["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    cur = d.loc[dd <= day]
    q_label = cur["quarter"].iloc[-1] if len(cur) else d["quarter"].iloc[0]
    m_label = cur["month"].iloc[-1] if len(cur) else d["month"].iloc[0]
    rate = _run_rate(closed, won, value, day, _holidays(holidays))
    rows = []
    for scope, mask in (
        ("year", np.ones(len(d), bool)),
        ("quarter", d["quarter"].eq(q_label).to_numpy()),
        ("month", d["month"].eq(m_label).to_numpy()),
    ):
        row = _scope_row(d, dd, mask, day, closed, won, value, rate)
        rows.append({"scope": scope, "label": {"year": f"FY{year}", "quarter": q_label, "month": m_label}[scope],
                     **row})
    t = pd.DataFrame(rows)
    t["status"] = _status((t["actual"] >= t["target"]).to_numpy(), t["pace"].to_numpy(), t["p_meet"].to_numpy())
    t["reason"] = _quarter_reason(t)
    t = _revenue_plan(t, closed, won, value, day, target)
    lines = [
        f"Annual target {annual_target:,.0f} (FY{year}, cascade with "
        f"{'seasonality' if panel is not None else 'flat working days'}), as of {ts.date()}."
    ]
    lines += [f"  {r.scope:<8}{r.label:<12}{r.reason} -> {r.status}" for r in t.itertuples()]
    lines += [f"  {r.scope}: {r.plan}" for r in t.itertuples() if r.plan]
    return Review(t, "Quarterly review", lines)


def _revenue_plan(t: pd.DataFrame, closed, won, value, day, target: str) -> pd.DataFrame:
    """Why a scope is behind its landmark (volume vs deal size) and the catch-up or a suggested target."""
    split = revenue_misses(t, closed=closed, won=won, value=value, amount=value, day=day)
    t = pd.concat([t, split], axis=1)
    behind = (t["actual"] < t["expected"]).to_numpy()
    weeks = np.maximum((t["end"] - pd.Timestamp(day)).dt.days.to_numpy() / 7.0, 0.0)
    t["needed_per_week"] = np.where(weeks > 0, np.maximum(t["target"] - t["actual"], 0) / np.maximum(weeks, 1e-9), 0.0)
    reach = (t["p_meet"] >= CATCH_UP_MIN_ODDS).to_numpy() & (weeks > 0)
    t["action"] = np.where(~behind, "", np.where(reach, "catch_up", np.where(weeks > 0, "suggest_adjusted_target", "period_over")))
    # even odds at the run rate: the projection (the normal model's median)
    t["suggested_target"] = np.where(t["action"] == "suggest_adjusted_target", np.floor(t["projected"]), t["target"])
    unit = "" if target == "won_revenue" else " deals"
    why = (
        _fmt(t["expected"] - t["actual"]) + unit + " behind the landmark: " + _fmt(t["volume_money"]) + unit
        + " from volume (" + t["volume_deals"].round(1).astype(str) + " fewer won deals than the landmark needs at the usual size "
        + _fmt(t["usual_deal_size"]) + ")"
        + (", " + _fmt(t["size_money"]) + " from deal size (" + _fmt(t["deal_size_now"]) + " on average now)" if target == "won_revenue" else "")
    )
    what = np.where(
        t["action"] == "catch_up",
        "; catch-up: " + _fmt(t["needed_per_week"]) + unit + " per remaining week, "
        + (100 * t["p_meet"]).round().astype(int).astype(str) + "% odds",
        np.where(
            t["action"] == "suggest_adjusted_target",
            "; catching up has " + (100 * t["p_meet"]).round().astype(int).astype(str)
            + "% odds: SUGGESTION for the manager, adjust the target to " + _fmt(t["suggested_target"])
            + " (about even odds at the run rate)",
            "; the period is over",
        ),
    )
    t["plan"] = np.where(behind, why + what, "")
    return t


def _won_deals(deals: pd.DataFrame, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(close day, won with a close day, value)`` per deal: amount, or 1 for ``deals_won``."""
    if not isinstance(deals, pd.DataFrame) or "closed" not in deals.columns or "status" not in deals.columns:
        raise SchemaError(
            "quarterly_review: deals must be canonical deals (load_deals) with 'closed', 'status', 'amount'."
        )
    closed = _days(deals["closed"])
    won = deals["status"].astype(str).str.lower().eq("won").to_numpy() & ~np.isnat(closed)
    if target == "won_revenue":
        value = pd.to_numeric(deals["amount"], errors="coerce").fillna(0).to_numpy(float)
    else:
        value = np.ones(len(deals))
    return closed, won, value


def _run_rate(closed, won, value, day, hol) -> dict[str, float]:
    """Won value per working day over the 13 weeks to ``day``, and the variance of its weekly totals."""
    lo13 = day - np.timedelta64(91, "D")
    rec = won & (closed > lo13) & (closed <= day)
    wk = (day - closed[rec]).astype(np.int64) // 7
    weekly = np.bincount(wk, weights=value[rec], minlength=13)[:13]
    return {
        "total": float(value[rec].sum()),
        "days": max(_busdays(lo13 + np.timedelta64(1, "D"), day, hol), 1),
        "wk_var": float(np.var(weekly, ddof=1)) if weekly.size > 1 else 0.0,
    }


def _calendar_bounds(days: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    """First and last *calendar* day of the months holding ``days`` (working days of a period).

    Period totals count every deal closed in the period, weekends and
    holidays included (a win on Saturday 31 December belongs to the year);
    working days only pace the landmark.
    """
    lo = days.min().astype("datetime64[M]").astype("datetime64[D]")
    hi = (days.max().astype("datetime64[M]") + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(1, "D")
    return lo, hi


def _scope_row(d, dd, mask, day, closed, won, value, rate) -> dict:
    """Target, landmark, actual, projection and odds of one scope (year, quarter or month)."""
    tgt = float(d.loc[mask, "target"].sum())
    expected = float(d.loc[mask & (dd <= day), "target"].sum())
    lo, hi = _calendar_bounds(dd[mask])
    actual = float(value[won & (closed >= lo) & (closed <= min(day, hi))].sum())
    n_tot, n_e = int(mask.sum()), int((mask & (dd <= day)).sum())
    n_r = n_tot - n_e
    k = SHRINK_DAYS * 5
    per_day = (rate["total"] + k * tgt / max(n_tot, 1)) / (rate["days"] + k)
    projected = actual + per_day * n_r
    sd_rem = np.sqrt(rate["wk_var"] * n_r / 5.0)
    if actual >= tgt:
        p = 1.0
    elif n_r > 0 and sd_rem > 0:
        p = float(stats.norm.sf(tgt - actual, loc=per_day * n_r, scale=sd_rem))
    else:
        p = float(projected >= tgt)
    return dict(
        start=pd.Timestamp(lo),
        end=pd.Timestamp(hi),
        target=tgt,
        expected=expected,
        actual=actual,
        pace=actual / expected if expected > 0 else 1.0,
        projected=projected,
        p_meet=p,
    )


def _quarter_reason(t: pd.DataFrame) -> pd.Series:
    return (
        _fmt(t["actual"])
        + " of "
        + _fmt(t["target"])
        + " (landmark "
        + _fmt(t["expected"])
        + ", pace "
        + (100 * t["pace"]).round().astype(int).astype(str)
        + "%); projected "
        + _fmt(t["projected"])
        + ", "
        + (100 * t["p_meet"]).round().astype(int).astype(str)
        + "% chance to reach the target"
    )
