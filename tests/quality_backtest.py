"""Backtest of the advance-rate (quality) goal odds: plan from what was known at each origin, score what followed.

Used by ``tests/test_quality_odds.py`` and ``tests/reference/quality_odds_study.py``.  At each origin (the end of a
week) the goals are set exactly as :func:`salesgoals.recommend` sets them with a stage history: interactions,
deals (later closes shown as open), and stage entries known by then, classified with ``data_end`` = the origin,
then :func:`salesgoals.outcomes.advance_goal_tiers`.  The outcome is classified on the whole data: over the
``horizon`` weeks after the origin, a tier is met when the rep's advancing interactions reach the tier's rate of
that type's judged interactions (``advanced >= ceil(goal * judged)``), the event ``p_<tier>`` states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import salesgoals as sg
from salesgoals.outcomes import advance_goal_tiers

TIERS = ("clear", "stretch", "extraordinary")
JUDGED = ("advanced", "stalled", "lost")


def known_by(acts: pd.DataFrame, deals: pd.DataFrame, history: pd.DataFrame, end: pd.Timestamp):
    """Interactions, deals and stage entries as they stood at ``end`` (later closes shown as open)."""
    acts = acts.loc[(acts["timestamp"] <= end).to_numpy()]
    later = (deals["closed"] > end).to_numpy()
    known = deals.assign(status=deals["status"].where(~later, "open"), closed=deals["closed"].where(~later))
    known = known.loc[(known["created"] <= end).to_numpy()]
    return acts, known, history.loc[(history["entered"] <= end).to_numpy()]


def backtest(sim, *, horizon: int = 13, n_origins: int = 4, min_n: int = 20) -> pd.DataFrame:
    """One row per origin x rep x type x tier: ``origin, rep, activity_type, tier, goal, stated, n_judged,
    n_advanced, need, met`` (rows whose rep had at least one judged interaction of the type in the period)."""
    acts = pd.concat([sim.activities, sim.deal_activities.drop(columns="true_advance")], ignore_index=True)
    full = sg.classify_advances(acts, sim.deals, sim.stage_history)
    full = full.loc[full["advance"].isin(JUDGED).to_numpy()]
    week = full["timestamp"].dt.to_period("W")
    last = pd.Period(sim.end, "W")
    # origins a quarter apart, the last leaving the horizon plus the two-week judging window inside the data
    origins = [last - 2 - horizon - horizon * k for k in range(n_origins)][::-1]
    rows = []
    for origin in origins:  # a few origins
        a, d, h = known_by(acts, sim.deals, sim.stage_history, origin.end_time)
        adv = sg.classify_advances(a, d, h, data_end=origin.end_time)
        tiers = advance_goal_tiers(adv, as_of=origin, horizon=horizon, min_n=min_n)
        after = full.loc[((week > origin) & (week <= origin + horizon)).to_numpy()]
        got = after.groupby([after["rep"].astype(str), after["activity_type"].astype(str)])["advance"].agg(
            n_judged="size", n_advanced=lambda s: int((s == "advanced").sum())).reset_index()  # fmt: skip
        t = tiers.assign(rep=tiers["rep"].astype(str), activity_type=tiers["activity_type"].astype(str))
        t = t.merge(got, on=["rep", "activity_type"], how="inner")
        for tier in TIERS:
            need = np.ceil(t[f"goal_{tier}"].to_numpy(float) * t["n_judged"].to_numpy(float) - 1e-9)
            rows.append(pd.DataFrame({
                "origin": str(origin), "rep": t["rep"], "activity_type": t["activity_type"], "tier": tier,
                "goal": t[f"goal_{tier}"], "stated": t[f"p_{tier}"], "expected_n": t["expected_n"], "n_hist": t["n"],
                "baseline": t["baseline"], "design_effect": t.get("design_effect", 1.0),
                "n_judged": t["n_judged"], "n_advanced": t["n_advanced"], "need": need.astype(np.int64),
                "met": (t["n_advanced"].to_numpy() >= need).astype(np.int64),
            }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def calibration(details: pd.DataFrame) -> pd.DataFrame:
    """Per tier: ``tier, stated, realised, difference, n_goals``."""
    g = details.groupby("tier", sort=False).agg(stated=("stated", "mean"), realised=("met", "mean"),
                                                n_goals=("met", "size")).reset_index()  # fmt: skip
    g["difference"] = g["realised"] - g["stated"]
    return g[["tier", "stated", "realised", "difference", "n_goals"]]
