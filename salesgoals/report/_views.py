"""The tables of the manager's report, one per view; the HTML pages and the workbook sheets read them.

Every table has plain column names a manager reads ("Clear goal a week", "Odds"), whole
counts as integers and money in whole currency units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._typing import TIERS
from salesgoals._words import activity_label, fmt_number

__all__ = ["build_views", "top_performer_funnel", "VIEW_NAMES"]

#: Views in the order of the workbook's sheets.
VIEW_NAMES = ("Team revenue", "Team activity goals", "Leader goals", "Drivers", "Seller goals", "Landmarks",
              "Funnel vs top performers", "Calibration")  # fmt: skip


def _drivers(rec, cur: str) -> pd.DataFrame:
    eff = rec.goals.effects
    if eff is None or not len(eff):
        return pd.DataFrame({"Activity": [], "Supported as a driver": [], "Won revenue per extra unit": [],
                             "Interval low": [], "Interval high": [], "In words": []})  # fmt: skip
    scale = np.where(eff["effect"].abs() > 0, eff["revenue_per_unit"] / eff["effect"].where(eff["effect"] != 0, 1), 0)
    lo, hi = (eff["ci_low"] * scale).round(), (eff["ci_high"] * scale).round()
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    words = [
        f"Each extra {activity_label(a, False)} brings about {cur}{fmt_number(v, money=True)} in won revenue "
        f"({cur}{fmt_number(low, money=True)} to {cur}{fmt_number(high, money=True)}, "
        f"{rec.projection.interval:.0%} interval)"
        + ("" if ok else ": not distinguishable from zero, so not a focus" if low <= 0 <= high
           else ": fails the driver checks, so not a focus")
        for a, v, low, high, ok in zip(eff["activity"], eff["revenue_per_unit"], lo, hi, eff["significant"])
    ]  # fmt: skip
    return pd.DataFrame({
        "Activity": [activity_label(a) for a in eff["activity"]], "Supported as a driver": np.where(
            eff["significant"], "yes", "no"), "Won revenue per extra unit": eff["revenue_per_unit"].round().astype(
            np.int64), "Interval low": lo.astype(np.int64), "Interval high": hi.astype(np.int64), "In words": words,
    })  # fmt: skip


def _seller_goals(rec) -> pd.DataFrame:
    t = rec.table
    out = pd.DataFrame({"Seller": t["rep"], "Team": t["team"], "Activity": t["activity"].map(activity_label),
                        "Focus": np.where(t["priority"] > 0, t["priority"].astype(str), ""),
                        "Recent a week": t["recent"], "Best sustained a week": t["personal_best"],
                        "Best when": t["personal_best_period"]})  # fmt: skip
    for tier in TIERS:
        name = tier.capitalize()
        out[f"{name} a week"] = t[f"goal_{tier}"].round(1)
        out[f"{name} total"] = t[f"goal_{tier}_total"]
        out[f"{name} odds"] = t[f"p_{tier}"]
    out["Flags"] = t["flags"].str.replace(";", ", ")
    out["Why"] = t["why"]
    return out


def _landmarks(rec) -> pd.DataFrame:
    lm = rec.goals.landmarks
    focus = rec.table.loc[rec.table["priority"] > 0, ["rep", "activity"]]
    lm = lm.merge(focus, on=["rep", "activity"])
    return pd.DataFrame({"Seller": lm["rep"], "Activity": lm["activity"].map(activity_label), "Tier": lm["tier"],
                         "Week": lm["week"], "Week ending": lm["period_end"],
                         "Done by then": lm["cumulative"]})  # fmt: skip


def top_performer_funnel(panel: pd.DataFrame, reps, *, weeks: int = 52) -> pd.DataFrame:
    """Each seller's funnel over the last ``weeks`` periods next to the top quarter of sellers (by won revenue).

    One row per seller plus ``"Top performers"``: ``Seller``, ``Deals created a week``, ``Win rate``,
    ``Average deal``, ``Won revenue a week`` and each activity a week.
    """
    last = panel[panel["period"] > panel["period"].max() - weeks]
    acts = [c for c in ("call", "email", "meeting", "linkedin", "call_connected", "meeting_held") if c in last.columns]
    g = last.groupby(last["rep"].astype(str), sort=True)
    n = g.size()
    s = g[["deals_created", "deals_won", "deals_lost", "won_revenue", *acts]].sum()
    per = pd.DataFrame({
        "Deals created a week": s["deals_created"] / n,
        "Win rate": s["deals_won"] / (s["deals_won"] + s["deals_lost"]).replace(0, np.nan),
        "Average deal": s["won_revenue"] / s["deals_won"].replace(0, np.nan),
        "Won revenue a week": s["won_revenue"] / n,
        **{f"{activity_label(a).capitalize()} a week": s[a] / n for a in acts},
    })  # fmt: skip
    top = per[per["Won revenue a week"] >= per["Won revenue a week"].quantile(0.75)]
    out = pd.concat([per.reindex([r for r in reps if r in per.index]), top.median().to_frame("Top performers").T])
    out = out.fillna(0.0)
    out.index.name = "Seller"
    return out.reset_index()


def build_views(rec, *, target=None, currency: str = "$") -> dict[str, pd.DataFrame]:
    """Every view of the report as a table, keyed by :data:`VIEW_NAMES`."""
    lv = rec.levels(target=target)
    rev = lv.revenue.rename(columns={"team": "Team", "scenario": "Scenario", "n_reps": "Sellers", "revenue": "Revenue",
                                     "revenue_low": "Low", "revenue_high": "High", "target": "Target", "gap": "Gap"})
    teams = lv.teams.assign(activity=lv.teams["activity"].map(activity_label)).rename(columns={
        "team": "Team", "activity": "Activity", "n_sellers": "Sellers with this focus", "expected": "Expected",
        "expected_low": "Low", "expected_high": "High", **{f"goal_{t}_total": f"{t.capitalize()} total" for t in TIERS},
        **{f"p_{t}": f"{t.capitalize()} odds" for t in TIERS}})  # fmt: skip
    leaders = lv.leaders.assign(goal=lv.leaders["goal"].str.replace("_", " ")).rename(columns={
        "manager": "Manager", "n_sellers": "Sellers", "goal": "Goal", "per_week": "A week",
        "total": "This period", "basis": "Basis"})  # fmt: skip
    cal = rec.backtest.calibration if rec.backtest is not None else pd.DataFrame(
        columns=["tier", "stated", "realised", "difference", "n_goals"])  # fmt: skip
    cal = cal[["tier", "stated", "realised", "difference", "n_goals"]].rename(columns={
        "tier": "Tier", "stated": "Stated odds", "realised": "Share reached", "difference": "Difference",
        "n_goals": "Goals checked"})  # fmt: skip
    return {
        "Team revenue": rev, "Team activity goals": teams, "Leader goals": leaders, "Drivers": _drivers(rec, currency),
        "Seller goals": _seller_goals(rec), "Landmarks": _landmarks(rec),
        "Funnel vs top performers": top_performer_funnel(rec.panel, list(rec.table["rep"].unique())),
        "Calibration": cal,
    }  # fmt: skip


_ACCOUNT_WORDS = {
    "account": "Account", "owner": "Owner", "annual_revenue": "Last 12 months", "target_revenue": "Target",
    "odds": "Odds", "odds_low": "Odds low", "odds_high": "Odds high", "milestone": "Next milestone",
    "peer_potential": "Peer potential", "won_since": "Won so far", "attainment": "Attainment",
    "elapsed": "Year gone", "pace": "Pace", "status": "Status", "milestone_done": "Milestone done",
    "open_pipeline": "Open pipeline", "needed": "Still needed", "odds_still": "Odds still",
}  # fmt: skip


def account_views(section: dict) -> dict[str, pd.DataFrame]:
    """The key-account tables of :func:`salesgoals.account_report_section` as report views (sheets)."""
    out = {"Account objectives": section["tables"]["objectives"].rename(columns=_ACCOUNT_WORDS)}
    if "progress" in section["tables"]:
        prog = section["tables"]["progress"].drop(columns=["milestone"], errors="ignore")
        out["Account progress"] = prog.rename(columns=_ACCOUNT_WORDS)
    return out
