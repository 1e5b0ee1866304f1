"""Progress against the goal plan's landmarks: a goal that slips, shown at its first landmark.

A goal plan (:func:`salesgoals.personal_best_goals`, or ``recommend(...).goals``)
carries *landmarks*: for every rep, activity and tier, what the rep must have
done, cumulatively from the start of the goal horizon, by the end of each of
its periods (paced by the season; the last landmark is the goal total).  The
period view of :func:`salesgoals.track` starts afresh each week, so a rep who
missed the first week by a third starts the second one "on track"; the
landmarks keep the count.

:func:`landmark_progress` counts each tracked goal from the horizon's start:

* at the last landmark passed (its period ended on or before ``as_of``):
  ``landmark`` (must have done), ``actual_at_landmark`` (did), the gap and the
  pace (did / must have done);
* to date: the count so far, the next landmark and what is still needed to
  reach it, and the odds of reaching the goal total by the horizon's end (the
  pace model of :mod:`salesgoals.tracking._track`: a Gamma rate shrunk toward
  the rep's baseline, a negative binomial for the remaining working days).

``landmark_status``: ``behind_landmark`` (pace below 1 at the last landmark
passed: the goal slipped), ``on_pace`` (at or above it), ``ahead`` (at or
above :data:`~salesgoals.tracking._track.AHEAD_PACE`), ``not_started`` (no
landmark passed yet) and ``unknown`` when ``as_of`` is outside the data (the
same guard as the period view).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesgoals.errors import SchemaError

__all__ = ["LANDMARK_COLUMNS", "LANDMARK_REQUIRED", "landmark_progress", "read_landmarks"]

#: Columns a landmarks table needs (:attr:`salesgoals.goals.GoalPlan.landmarks`).
LANDMARK_REQUIRED: tuple[str, ...] = ("rep", "activity", "tier", "week", "period_start", "period_end", "cumulative")
#: Columns of :attr:`salesgoals.tracking.TrackResult.landmarks`, in order.
LANDMARK_COLUMNS: list[str] = [
    "rep", "team", "activity", "tier", "horizon_start", "landmark_week", "landmark_end", "landmark",
    "actual_at_landmark", "landmark_gap", "landmark_pace", "to_date", "next_week", "next_landmark_end",
    "next_landmark", "needed_by_next", "goal_total", "horizon_end", "p_goal", "landmark_status", "reason",
]  # fmt: skip


def read_landmarks(goals: Any, landmarks: pd.DataFrame | None, func: str) -> pd.DataFrame | None:
    """The landmarks to track: ``landmarks=`` when given, else the GoalPlan's (None when neither has any)."""
    lm = landmarks if landmarks is not None else getattr(goals, "landmarks", None)
    if lm is None:
        return None
    if not isinstance(lm, pd.DataFrame):
        raise TypeError(f"{func}: landmarks must be a DataFrame (GoalPlan.landmarks); got {type(lm).__name__}.")
    missing = [c for c in LANDMARK_REQUIRED if c not in lm.columns]
    if missing:
        raise SchemaError(
            f"{func}: the landmarks lack column(s) {missing}; expected {list(LANDMARK_REQUIRED)} "
            "(GoalPlan.landmarks, or the landmarks CSV of a goal plan)."
        )
    lm = lm.copy()
    for c in ("period_start", "period_end"):
        lm[c] = pd.to_datetime(lm[c]).to_numpy(dtype="datetime64[D]")
    lm["rep"], lm["activity"] = lm["rep"].astype(str), lm["activity"].astype(str)
    return lm


def _pick(lm: pd.DataFrame, day: np.datetime64) -> pd.DataFrame:
    """Per rep and activity: the last landmark passed by ``day`` and the next one (one row each)."""
    key = ["rep", "activity"]
    lm = lm.sort_values([*key, "week"], kind="mergesort")
    g = lm.groupby(key, sort=True)
    out = g.agg(horizon_start=("period_start", "min"), horizon_end=("period_end", "max"),
                goal_total=("cumulative", "last"))  # fmt: skip
    passed = lm.loc[lm["period_end"] <= day].groupby(key).last()
    nxt = lm.loc[lm["period_end"] > day].groupby(key).first()
    out["landmark_week"] = passed["week"].reindex(out.index)
    out["landmark_end"] = passed["period_end"].reindex(out.index)
    out["landmark"] = passed["cumulative"].reindex(out.index).astype(float)
    out["next_week"] = nxt["week"].reindex(out.index)
    out["next_landmark_end"] = nxt["period_end"].reindex(out.index)
    out["next_landmark"] = nxt["cumulative"].reindex(out.index).astype(float)
    return out.reset_index()


def _odds(t: pd.DataFrame, busdays, hol, day, pace, std_days: float) -> np.ndarray:
    """Odds of reaching the goal total by the horizon's end at the current pace (negative binomial)."""
    p = np.full(len(t), np.nan)
    starts = t["horizon_start"].to_numpy(dtype="datetime64[D]")
    ends = t["horizon_end"].to_numpy(dtype="datetime64[D]")
    for start, end in sorted(set(zip(starts, ends))):
        rows = (starts == start) & (ends == end)
        n_e = busdays(start, min(day, end), hol)
        n_r = busdays(day + np.timedelta64(1, "D"), end, hol) if day < end else 0
        prior = t.loc[rows, "baseline"].to_numpy(dtype=float) / std_days
        p[rows] = pace(t.loc[rows, "to_date"].to_numpy(float), t.loc[rows, "goal_total"].to_numpy(float),
                       prior, n_e, n_r)[2]  # fmt: skip
    return p


def landmark_progress(tracked: pd.DataFrame, lm: pd.DataFrame, *, acts, deals, day, tier: str, hol, tools: dict):
    """One row per tracked rep goal with landmarks: progress at the last landmark and to date.

    ``tracked``: the rep rows of the period view (``rep, team, activity,
    baseline``); ``tools``: the period view's ``counts``, ``busdays``,
    ``pace``, ``std_days`` and ``ahead`` (shared, not copied).
    Columns: :data:`LANDMARK_COLUMNS`.
    """
    lm = lm.loc[lm["tier"].astype(str) == tier]
    # advance-rate goals (recommend with stage history) pace advancing interactions, which track does not count
    tracked = tracked.loc[~tracked["activity"].astype(str).str.endswith("_advance_rate")]
    goals = tracked[["rep", "team", "activity", "baseline"]].drop_duplicates(["rep", "activity"])
    t = _pick(lm, day).merge(goals, on=["rep", "activity"], how="inner").assign(tier=tier)
    if not len(t):
        return pd.DataFrame(columns=LANDMARK_COLUMNS)
    metrics = sorted(t["activity"].unique())
    t["actual_at_landmark"], t["to_date"] = np.nan, 0.0
    for start in np.unique(t["horizon_start"].to_numpy(dtype="datetime64[D]")):
        mine = t["horizon_start"].to_numpy(dtype="datetime64[D]") == start
        last = t.loc[mine, "horizon_end"].to_numpy(dtype="datetime64[D]").max()
        ends = {"actual_at_landmark": t["landmark_end"].to_numpy(dtype="datetime64[D]"),
                "to_date": np.full(len(t), min(day, last), dtype="datetime64[D]")}
        for col, end_of in ends.items():
            for end in np.unique(end_of[mine & ~np.isnat(end_of)]):
                c = tools["counts"](acts, deals, start, end, metrics).set_index(["rep", "activity"])["actual"]
                rows = mine & (end_of == end)
                idx = pd.MultiIndex.from_frame(t.loc[rows, ["rep", "activity"]])
                t.loc[rows, col] = c.reindex(idx).fillna(0.0).to_numpy(dtype=float)
    return _finish(t, day, hol, tools)


def _finish(t: pd.DataFrame, day, hol, tools: dict) -> pd.DataFrame:
    """Gap, pace, what the next landmark needs, odds of the goal total, status and reason."""
    t["landmark_gap"] = t["actual_at_landmark"] - t["landmark"]
    t["landmark_pace"] = np.where(t["landmark"] > 0, t["actual_at_landmark"] / t["landmark"].where(t["landmark"] > 0, 1.0),
                                  np.where(t["landmark"].notna(), 1.0, np.nan))  # fmt: skip
    t["needed_by_next"] = np.maximum(t["next_landmark"] - t["to_date"], 0.0)
    t["p_goal"] = _odds(t, tools["busdays"], hol, day, tools["pace"], tools["std_days"])
    pace = t["landmark_pace"].to_numpy(dtype=float)
    t["landmark_status"] = np.select(
        [np.isnan(pace), pace < 1.0, pace >= tools["ahead"]], ["not_started", "behind_landmark", "ahead"], "on_pace"
    )
    t["reason"] = _reason(t)
    for c in ("horizon_start", "landmark_end", "next_landmark_end", "horizon_end"):
        t[c] = pd.to_datetime(t[c])
    return t.sort_values(["rep", "activity"], kind="mergesort").reset_index(drop=True)


def _reason(t: pd.DataFrame) -> pd.Series:
    """The numbers behind the landmark status, in words."""
    at = (t["actual_at_landmark"].fillna(0).round().astype(int).astype(str) + " of "
          + t["landmark"].fillna(0).round().astype(int).astype(str) + " by the week-"
          + t["landmark_week"].fillna(0).astype(int).astype(str) + " landmark ("
          + pd.to_datetime(t["landmark_end"]).dt.strftime("%Y-%m-%d").fillna("") + ")")  # fmt: skip
    nxt = ("; " + t["to_date"].round().astype(int).astype(str) + " so far, "
           + t["needed_by_next"].round().astype(int).astype(str) + " more by the next ("
           + t["next_landmark"].fillna(0).round().astype(int).astype(str) + "); odds of the "
           + t["goal_total"].round().astype(int).astype(str) + " total "
           + (100 * t["p_goal"]).round().astype("Int64").astype(str) + "%")  # fmt: skip
    return pd.Series(np.where(t["landmark_status"] == "not_started", "no landmark passed yet", at), index=t.index) + nxt
