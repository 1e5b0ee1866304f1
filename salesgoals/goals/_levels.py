"""Seller, team and leader goals side by side (three levels of one goal plan).

* **sellers** - each rep's focus goals (the plan's table, priority > 0);
* **teams** - per team and activity, the sum of the sellers' goal totals with the joint interval
  of the team's total and the odds that it reaches each summed goal; per team and scenario, the
  projected won revenue with its joint interval and the gap to any top-down target;
* **leaders** - per manager, the coaching that supports the sellers' goals: 1:1s, coaching time
  and ride-alongs, from logged coaching activity where the panel has it, otherwise the convention
  in :data:`LEADER_CONVENTION`, stated in the ``basis`` column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._summary import Summary
from salesgoals._typing import TIERS

__all__ = ["GoalLevels", "goal_levels", "LEADER_CONVENTION", "COACHING_COLUMNS"]

#: Leader goals when no coaching is logged: per seller, (count per week, what it is).  A common
#: first-line sales management cadence: a 30-minute 1:1 every week, about two hours of call
#: review and skill coaching a month, one ride-along (the manager joins a call or meeting) a month.
LEADER_CONVENTION: dict[str, tuple[float, str]] = {
    "one_on_ones": (1.0, "a 30-minute 1:1 with each seller every week"),
    "coaching_hours": (0.5, "about 2 hours of call review and skill coaching per seller a month"),
    "ride_alongs": (0.25, "one ride-along (joining a call or meeting) per seller a month"),
}

#: Panel columns read as logged coaching, per leader goal (first found is used).
COACHING_COLUMNS: dict[str, tuple[str, ...]] = {
    "one_on_ones": ("one_on_one", "one_on_ones", "1on1", "coaching_session"),
    "coaching_hours": ("coaching_hours", "coaching"),
    "ride_alongs": ("ride_along", "ride_alongs", "joint_call", "joint_visit"),
}


@dataclass
class GoalLevels:
    """Seller, team and leader goals (result of :func:`goal_levels`); tables documented there."""

    sellers: pd.DataFrame
    teams: pd.DataFrame
    revenue: pd.DataFrame
    leaders: pd.DataFrame
    interval: float

    def __repr__(self) -> str:
        return (f"GoalLevels(sellers={self.sellers['rep'].nunique()}, teams={self.revenue['team'].nunique() - 1}, "
                f"leaders={self.leaders['manager'].nunique()})")  # fmt: skip

    def summary(self) -> Summary:
        """The three levels: team revenue vs target, team activity totals, leader goals."""
        total = self.revenue[self.revenue["team"] == "(all)"].set_index("scenario")
        lines = [f"{self.sellers['rep'].nunique()} sellers with focus goals; team totals are sums of seller goals."]
        if total["target"].gt(0).any():
            r = total.loc["current"]
            lines.append(f"Top-down target {r['target']:,.0f}: current behaviour projects {r['revenue']:,.0f} "
                         f"(gap {r['gap']:,.0f}); at stretch {total.loc['stretch', 'revenue']:,.0f}.")  # fmt: skip
        return Summary("Goals at three levels", lines, [
            ("Team revenue", self.revenue), ("Team activity goals (focus activities)", self.teams.round(3)),
            ("Leader goals", self.leaders[["manager", "n_sellers", "goal", "per_week", "total", "basis"]]),
        ])  # fmt: skip


def _team_activity(table: pd.DataFrame, moments: pd.DataFrame, interval: float) -> pd.DataFrame:
    """Per team x focus activity: summed goal totals, joint interval and odds of the team total."""
    focus = table[table["priority"] > 0]
    m = moments.set_index(["rep", "activity"])
    keyed = focus.assign(mean_total=m["mean_total"].reindex(list(zip(focus["rep"], focus["activity"]))).to_numpy(),
                         var_total=m["var_total"].reindex(list(zip(focus["rep"], focus["activity"]))).to_numpy())
    both = pd.concat([keyed, keyed.assign(team="(all)")], ignore_index=True)
    agg = both.groupby(["team", "activity"], sort=True).agg(
        n_sellers=("rep", "size"), expected=("mean_total", "sum"), var=("var_total", "sum"),
        **{f"goal_{t}_total": (f"goal_{t}_total", "sum") for t in TIERS},
    ).reset_index()  # fmt: skip
    sd = np.sqrt(agg["var"].to_numpy())
    z = stats.norm.ppf((1 + interval) / 2)
    agg["expected_low"] = np.maximum(np.round(agg["expected"] - z * sd), 0).astype(np.int64)
    agg["expected_high"] = np.round(agg["expected"] + z * sd).astype(np.int64)
    for t in TIERS:  # normal approximation of a sum of many reps, with continuity correction
        agg[f"p_{t}"] = stats.norm.sf((agg[f"goal_{t}_total"] - 0.5 - agg["expected"]) / np.maximum(sd, 1e-9))
    agg["expected"] = np.round(agg["expected"]).astype(np.int64)
    cols = ["team", "activity", "n_sellers", "expected", "expected_low", "expected_high",
            *[f"goal_{t}_total" for t in TIERS], *[f"p_{t}" for t in TIERS]]  # fmt: skip
    return agg[cols]


def _team_revenue(projection, target) -> pd.DataFrame:
    """Per team x scenario: projected revenue, joint interval, top-down target and gap."""
    r = projection.rollup("team").rename(columns={"group": "team"})
    if isinstance(target, dict):
        tgt = r["team"].map({str(k): float(v) for k, v in target.items()})
        tgt = tgt.where(r["team"] != "(all)", sum(float(v) for v in target.values()))
    else:
        tgt = pd.Series(np.where(r["team"] == "(all)", float(target or 0.0), 0.0), index=r.index)
    r["target"] = np.round(tgt.fillna(0.0).to_numpy(float)).astype(np.int64)
    for c in ("revenue", "revenue_low", "revenue_high"):
        r[c] = np.round(r[c].to_numpy(float)).astype(np.int64)
    r["gap"] = np.where(r["target"] > 0, r["target"] - r["revenue"], 0).astype(np.int64)
    return r[["team", "scenario", "n_reps", "revenue", "revenue_low", "revenue_high", "target", "gap"]]


def _leaders(panel: pd.DataFrame | None, rep_stats: pd.DataFrame, H: int, baseline_window: int) -> pd.DataFrame:
    """Per manager: 1:1s, coaching hours and ride-alongs for the period, logged or by convention."""
    mgr = rep_stats["manager"].astype(str) if "manager" in rep_stats.columns else pd.Series("(team lead)",
                                                                                              index=rep_stats.index)
    sellers = pd.DataFrame({"rep": rep_stats["rep"].astype(str), "manager": mgr.to_numpy()})
    n = sellers.groupby("manager", sort=True).size()
    rows = []
    for goal, (rate, text) in LEADER_CONVENTION.items():  # three leader goals
        col = next((c for c in COACHING_COLUMNS[goal] if panel is not None and c in panel.columns), None)
        logged = pd.Series(0.0, index=n.index)
        if col is not None:
            last = panel[panel["period"] > panel["period"].max() - baseline_window]
            per_rep = last.groupby(last["rep"].astype(str))[col].mean()
            x = per_rep.reindex(sellers["rep"]).fillna(0.0).to_numpy()
            logged = sellers.assign(x=x).groupby("manager")["x"].sum()
        for m, k in n.items():
            conv = rate * k
            week = max(conv, float(logged.get(m, 0.0)))
            basis = (f"logged '{col}': {logged.get(m, 0.0):.1f} a week over the last {baseline_window} weeks"
                     + (" (below the convention: raised to it)" if logged.get(m, 0.0) < conv else "")
                     if col is not None else f"convention (no coaching logged): {text}")  # fmt: skip
            rows.append({"manager": m, "n_sellers": int(k), "goal": goal, "per_week": round(week, 2),
                         "total": int(np.ceil(week * H - 1e-9)), "basis": basis})  # fmt: skip
    return pd.DataFrame(rows).sort_values(["manager", "goal"], kind="mergesort").reset_index(drop=True)


def goal_levels(plan, projection, *, panel: pd.DataFrame | None = None, target: Any = None) -> GoalLevels:
    """Seller, team and leader goals side by side.

    Parameters
    ----------
    plan : GoalPlan
        From :func:`salesgoals.personal_best_goals`.
    projection : TargetProjection
        From :func:`salesgoals.project_targets` on the same plan (gives the joint revenue draws).
    panel : pandas.DataFrame, optional
        The panel; logged coaching columns (:data:`COACHING_COLUMNS`) set the leader goals.
    target : float or dict, optional
        Top-down revenue target for the period: one number for the whole team, or ``{team: target}``.

    Returns
    -------
    GoalLevels
        * ``.sellers`` - the plan's focus rows (``priority`` > 0), columns as in the plan's table.
        * ``.teams`` - one row per team (and ``"(all)"``) x focus activity: ``team, activity, n_sellers,
          expected, expected_low, expected_high`` (the team's expected total and its joint interval, int),
          ``goal_<tier>_total`` (sum of the sellers' totals, int), ``p_<tier>`` (odds that the team's total
          reaches it; reps independent, normal approximation).
        * ``.revenue`` - one row per team (and ``"(all)"``) x scenario: ``team, scenario, n_reps, revenue,
          revenue_low, revenue_high, target, gap`` (whole currency units; ``gap`` = target - revenue,
          0 without a target).
        * ``.leaders`` - one row per manager x goal (``coaching_hours``, ``one_on_ones``, ``ride_alongs``):
          ``manager, n_sellers, goal, per_week, total, basis`` (``basis`` says logged or convention).

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=60, seed=3)
    >>> panel = sim.panel()
    >>> plan = sg.personal_best_goals(panel)
    >>> lv = goal_levels(plan, sg.project_targets(plan, n_sims=200), panel=panel, target=500_000)
    >>> sorted(lv.leaders["goal"].unique())
    ['coaching_hours', 'one_on_ones', 'ride_alongs']
    """
    rs = plan.rep_stats
    return GoalLevels(
        sellers=plan.focus(), teams=_team_activity(plan.table, plan.moments, projection.interval),
        revenue=_team_revenue(projection, target),
        leaders=_leaders(panel, rs, plan.horizon, 13 if plan.freq == "W" else 3), interval=projection.interval,
    )  # fmt: skip
