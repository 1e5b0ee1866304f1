"""Rolling-origin backtest of the stated goal odds and revenue intervals, over goal periods.

A goal's stated odds are only useful if they are honest: of the goals stated at 85 %, about
85 % should be met.  :func:`backtest_goals` sets goals as they would have been set at several
past dates (origins), using only the history before each origin, and compares them with what
happened over the goal period that followed:

* **calibration** - per tier, the mean stated ``p_<tier>`` (odds that the period total reaches
  ``goal_<tier>_total``) against the realised share of rep-activities that reached it;
* **calibration_week** - the same per single period (``p_<tier>_week`` against the share of
  rep-periods whose count reached the rate), the finer view asked for by ``per_week=True``;
* **reliability** - the goal-period figures in bins of stated odds;
* **coverage** - the share of reps whose realised won revenue over the horizon fell inside the
  projected revenue interval (``interval`` coverage) for current behaviour.

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=70, seed=4)
>>> bt = sg.backtest_goals(sim.panel(), n_origins=1, n_sims=200)
>>> bt.calibration["tier"].tolist()
['clear', 'stretch', 'extraordinary']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesgoals._deprecate import renamed_attribute, renamed_kwargs
from salesgoals._summary import Summary
from salesgoals._typing import TIERS
from salesgoals.errors import InsufficientDataError
from salesgoals.goals._personal_best import (
    SEASON_LENGTH,
    _check_panel,
    horizon_periods,
    personal_best_goals,
)
from salesgoals.goals.targets import _current_revenue
from salesgoals.plotting import plot_calibration

__all__ = ["backtest_goals", "GoalBacktest", "CALIBRATION_TOLERANCE"]

#: Largest acceptable gap between stated and realised shares (points / 100) for a tier over
#: goal periods, pooled over origins, reps and activities (the issue's target: 8 points at
#: 40 reps x 104 weeks, where ~1,000 goals per tier give a binomial s.e. of 1-1.5 points).
CALIBRATION_TOLERANCE = 0.08

#: Bins of stated probability in the reliability table.
RELIABILITY_BINS = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 + 1e-9])


@dataclass
class GoalBacktest:
    """Result of :func:`backtest_goals`.

    Attributes
    ----------
    calibration : pandas.DataFrame
        One row per tier, over goal periods: ``tier, stated, realised, difference, n_goals,
        n_periods, within_tolerance``.  ``stated`` is the mean stated ``p_<tier>``, ``realised``
        the share of rep-activities (observed over the whole goal period) whose total reached
        ``goal_<tier>_total``, ``difference`` = realised - stated; ``n_periods`` = ``n_goals``.
    calibration_week : pandas.DataFrame
        The same per single period: ``stated`` = period-weighted mean ``p_<tier>_week``,
        ``realised`` = share of rep-periods whose count reached the rate ``goal_<tier>``.
    by_activity : pandas.DataFrame
        The goal-period calibration per ``activity`` and ``tier``.
    reliability : pandas.DataFrame
        ``tier, bin_low, bin_high, stated, realised, n_periods`` in bins of stated odds (goal period).
    coverage : pandas.DataFrame
        One row per origin: ``origin, n_reps, interval, coverage, below, above, projected, realised``.
    details : pandas.DataFrame
        One row per origin x rep x activity x tier: ``origin, rep, activity, tier, goal, stated,
        n_periods, n_met`` (goal period: ``goal`` is the total, ``n_periods`` 1, ``n_met`` 0/1).
    details_week : pandas.DataFrame
        The same per single period (``goal`` the rate, ``n_periods`` periods observed, ``n_met``
        periods reaching it).
    revenue : pandas.DataFrame
        One row per origin x rep: ``origin, rep, revenue, revenue_low, revenue_high, realised, covered``.
    interval : float
        Coverage of the revenue intervals (``level`` is its deprecated alias).
    """

    calibration: pd.DataFrame
    calibration_week: pd.DataFrame
    by_activity: pd.DataFrame
    reliability: pd.DataFrame
    coverage: pd.DataFrame
    details: pd.DataFrame
    details_week: pd.DataFrame
    revenue: pd.DataFrame
    interval: float
    horizon: int
    freq: str

    def __repr__(self) -> str:
        return (
            f"GoalBacktest(origins={self.coverage['origin'].nunique()}, horizon={self.horizon} x {self.freq}, "
            f"max calibration gap={self.max_gap:.3f}, revenue coverage={self.revenue_coverage:.2f})"
        )

    level = renamed_attribute("level", "interval")

    @property
    def max_gap(self) -> float:
        """Largest absolute gap between stated and realised shares over the tiers (goal period)."""
        return float(self.calibration["difference"].abs().max())

    @property
    def revenue_coverage(self) -> float:
        """Share of rep-horizons whose realised revenue fell inside the interval."""
        return float(self.revenue["covered"].mean()) if len(self.revenue) else 0.0

    def summary(self, *, per_week: bool = False) -> Summary:
        """Stated vs realised per tier over goal periods (and per week with ``per_week=True``)."""
        cal = self.calibration.set_index("tier")
        lines = [
            f"{self.coverage['origin'].nunique()} origins, goals for the {self.horizon} {self.freq} periods "
            "after each.",
            "Goal period, stated vs realised share reaching the goal: "
            + ", ".join(f"{k} {cal.loc[k, 'stated']:.0%} vs {cal.loc[k, 'realised']:.0%}" for k in TIERS)
            + f" (tolerance {CALIBRATION_TOLERANCE:.0%} points).",
            f"Revenue intervals ({self.interval:.0%}): realised revenue inside for {self.revenue_coverage:.0%} of "
            f"{len(self.revenue):,} rep-horizons.",
        ]
        tables = [("Calibration over goal periods", self.calibration.round(3))]
        if per_week:
            tables.append(("Calibration per week", self.calibration_week.round(3)))
        tables.append(("Coverage", self.coverage.round(3)))
        return Summary("Goal backtest", lines, tables)

    def plot(self, *, ax=None):
        """Reliability diagram (see :func:`salesgoals.plotting.plot_calibration`)."""
        return plot_calibration(self, ax=ax)


@renamed_kwargs(level="interval")
def backtest_goals(
    panel: pd.DataFrame,
    drivers: Any = None,
    *,
    horizon: str | int = "Q",
    origins: list[Any] | None = None,
    n_origins: int = 4,
    interval: float = 0.8,
    n_sims: int = 1000,
    seed: int = 0,
    **goal_options: Any,
) -> GoalBacktest:
    """Set goals at past dates and check their stated odds over the goal period that followed.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel`.
    drivers : DriverResult, optional
        Passed to :func:`salesgoals.personal_best_goals` at each origin (it only changes
        priorities, not the odds being checked).  Refitting per origin is left to the caller.
    horizon : {"W", "M", "Q", "Y"} or int, default="Q"
        Goal period after each origin.
    origins : list of period-like, optional
        Origins (the last period of history at each).  Default: the ``n_origins`` latest origins
        ``horizon`` apart that leave a full goal period after them and a year of history before.
    n_origins : int, default=4
        Number of default origins.
    interval : float, default=0.8
        Coverage of the projected revenue intervals (the old name ``level=`` still works, with a
        DeprecationWarning, until 0.3).
    n_sims, seed : int
        Monte Carlo draws and seed of the revenue projections.
    **goal_options
        Passed to :func:`salesgoals.personal_best_goals`.

    Returns
    -------
    GoalBacktest
        Tables documented on :class:`GoalBacktest`.

    Raises
    ------
    InsufficientDataError
        The panel is too short for one origin with a full goal period after it.
    """
    freq = _check_panel(panel, "backtest_goals")
    H = horizon_periods(horizon, freq)
    origins = _origins(panel, freq, H, origins, n_origins)
    goal_rows, week_rows, revenue, cover = [], [], [], []
    for k, origin in enumerate(origins):  # loop over a few origins
        plan = personal_best_goals(panel, drivers, as_of=origin, horizon=H, **goal_options)
        future = panel[(panel["period"] > origin) & (panel["period"] <= origin + H)]
        future = future[future["rep"].isin(plan.table["rep"].unique())]
        g, w = _score_origin(plan.table, future, H, str(origin))
        goal_rows.append(g)
        week_rows.append(w)
        r, c = _revenue_check(plan, future, H, str(origin), interval=interval, n_sims=n_sims, seed=seed + k)
        revenue.append(r)
        cover.append(c)
    det = pd.concat(goal_rows, ignore_index=True)
    det_w = pd.concat(week_rows, ignore_index=True)
    det_w = det_w[det_w["n_periods"] > 0].reset_index(drop=True)
    return GoalBacktest(
        calibration=_calibrate(det, []), calibration_week=_calibrate(det_w, []),
        by_activity=_calibrate(det, ["activity"]), reliability=_reliability(det), coverage=pd.DataFrame(cover),
        details=det, details_week=det_w, revenue=pd.concat(revenue, ignore_index=True), interval=float(interval),
        horizon=H, freq=freq,
    )  # fmt: skip


def _origins(panel, freq, H, origins, n_origins) -> list:
    """The default origins: the latest ``n_origins``, ``H`` apart, after a year of history."""
    if origins is not None:
        return [pd.Period(o, freq=panel["period"].dtype.freq) for o in origins]
    periods = pd.Index(np.sort(panel["period"].unique()))
    last_ok = len(periods) - 1 - H
    first_ok = min(SEASON_LENGTH.get(freq, 52) - 1, last_ok)
    if last_ok < 1:
        raise InsufficientDataError(
            f"backtest_goals: the panel has {len(periods)} periods; a backtest needs history plus a full goal "
            f"period of {H} periods after the origin. Use a shorter horizon or more history."
        )
    idx = list(range(last_ok, first_ok - 1, -H))[: int(n_origins)]
    return [periods[i] for i in sorted(idx)]


def _score_origin(t: pd.DataFrame, future: pd.DataFrame, H: int, origin: str):
    """Goal-period and per-period outcomes of one origin's goals (details rows)."""
    long = future.melt(id_vars=["rep"], value_vars=list(t["activity"].unique()), var_name="activity",
                       value_name="actual")  # fmt: skip
    long["rep"] = long["rep"].astype(str)
    keep = ["rep", "activity", *[f"goal_{x}{s}" for x in TIERS for s in ("", "_total")],
            *[f"p_{x}{s}" for x in TIERS for s in ("", "_week")]]  # fmt: skip
    merged = long.merge(t[keep], on=["rep", "activity"])
    for tier in TIERS:  # three tiers
        merged[f"met_{tier}"] = merged["actual"].to_numpy(float) >= np.ceil(merged[f"goal_{tier}"] - 1e-9)
    agg = merged.groupby(["rep", "activity"], sort=True).agg(
        n_periods=("actual", "size"), total=("actual", "sum"), **{f"n_met_{x}": (f"met_{x}", "sum") for x in TIERS}
    ).reset_index().merge(t[keep], on=["rep", "activity"])
    whole = agg[agg["n_periods"] == H]  # the goal period needs every period observed
    goal, week = [], []
    for tier in TIERS:
        goal.append(pd.DataFrame({
            "origin": origin, "rep": whole["rep"], "activity": whole["activity"], "tier": tier,
            "goal": whole[f"goal_{tier}_total"], "stated": whole[f"p_{tier}"], "n_periods": 1,
            "n_met": (whole["total"] >= whole[f"goal_{tier}_total"]).astype(np.int64),
        }))  # fmt: skip
        week.append(pd.DataFrame({
            "origin": origin, "rep": agg["rep"], "activity": agg["activity"], "tier": tier,
            "goal": agg[f"goal_{tier}"], "stated": agg[f"p_{tier}_week"], "n_periods": agg["n_periods"],
            "n_met": agg[f"n_met_{tier}"].astype(np.int64),
        }))  # fmt: skip
    return pd.concat(goal, ignore_index=True), pd.concat(week, ignore_index=True)


def _revenue_check(plan, fut, H, origin, *, interval, n_sims, seed):
    """Realised won revenue against the projected interval, for reps observed over the whole horizon."""
    cur = _current_revenue(plan, interval=interval, n_sims=n_sims, seed=seed)  # project_targets' current rows
    n_obs = fut.groupby("rep", observed=True)["period"].nunique()
    realised = fut.groupby("rep", observed=True)["won_revenue"].sum()
    n_obs.index, realised.index = n_obs.index.astype(str), realised.index.astype(str)
    full = n_obs[n_obs == H].index
    r = cur[cur["rep"].isin(full)][["rep", "revenue", "revenue_low", "revenue_high"]].copy()
    r["realised"] = realised.reindex(r["rep"]).to_numpy(float)
    r["covered"] = (r["realised"] >= r["revenue_low"]) & (r["realised"] <= r["revenue_high"])
    r.insert(0, "origin", origin)
    n = len(r)
    cover = {
        "origin": origin, "n_reps": n, "interval": interval, "coverage": float(r["covered"].mean()) if n else 0.0,
        "below": float((r["realised"] < r["revenue_low"]).mean()) if n else 0.0,
        "above": float((r["realised"] > r["revenue_high"]).mean()) if n else 0.0,
        "projected": float(r["revenue"].sum()), "realised": float(r["realised"].sum()),
    }  # fmt: skip
    return r, cover


def _calibrate(det: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    d = det.assign(w_stated=det["stated"] * det["n_periods"])
    g = d.groupby([*keys, "tier"], sort=False)
    out = g.agg(
        w_stated=("w_stated", "sum"),
        n_met=("n_met", "sum"),
        n_periods=("n_periods", "sum"),
        n_goals=("rep", "size"),
    ).reset_index()
    out["stated"] = out["w_stated"] / out["n_periods"]
    out["realised"] = out["n_met"] / out["n_periods"]
    out["difference"] = out["realised"] - out["stated"]
    out["within_tolerance"] = out["difference"].abs() <= CALIBRATION_TOLERANCE
    out["_t"] = out["tier"].map({t: i for i, t in enumerate(TIERS)})
    out = out.sort_values([*keys, "_t"], kind="mergesort")
    cols = [
        *keys,
        "tier",
        "stated",
        "realised",
        "difference",
        "n_goals",
        "n_periods",
        "within_tolerance",
    ]
    return out[cols].reset_index(drop=True)


def _reliability(det: pd.DataFrame) -> pd.DataFrame:
    b = np.digitize(det["stated"].to_numpy(float), RELIABILITY_BINS) - 1
    d = det.assign(bin=b, w_stated=det["stated"] * det["n_periods"])
    g = (
        d.groupby(["tier", "bin"], sort=False)
        .agg(w_stated=("w_stated", "sum"), n_met=("n_met", "sum"), n_periods=("n_periods", "sum"))
        .reset_index()
    )
    g["bin_low"] = RELIABILITY_BINS[g["bin"]]
    g["bin_high"] = np.minimum(RELIABILITY_BINS[g["bin"] + 1], 1.0)
    g["stated"] = g["w_stated"] / g["n_periods"]
    g["realised"] = g["n_met"] / g["n_periods"]
    g["_t"] = g["tier"].map({t: i for i, t in enumerate(TIERS)})
    g = g.sort_values(["_t", "bin"], kind="mergesort")
    return g[["tier", "bin_low", "bin_high", "stated", "realised", "n_periods"]].reset_index(
        drop=True
    )
