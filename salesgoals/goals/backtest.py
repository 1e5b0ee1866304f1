"""Rolling-origin backtest of goal probabilities and revenue intervals.

A goal's stated probability is only useful if it is honest: of the goals
stated at 80 %, about 80 % should be met.  :func:`backtest_goals` sets goals as
they would have been set at several past dates (origins), using only the
history before each origin, and compares them with what happened next:

* **calibration** - per tier, the mean stated probability ``p_<tier>`` against
  the realised share of rep-periods in which the goal was reached;
* **reliability** - the same in bins of stated probability;
* **coverage** - the share of reps whose realised won revenue over the
  horizon fell inside the projected revenue interval (``interval`` coverage) for current behaviour.

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
from salesgoals.goals.targets import project_targets
from salesgoals.plotting import plot_calibration

__all__ = ["backtest_goals", "GoalBacktest", "CALIBRATION_TOLERANCE"]

#: Largest acceptable gap between stated and realised shares (percentage points / 100)
#: for a tier, pooled over origins, reps and activities.
CALIBRATION_TOLERANCE = 0.10

#: Bins of stated probability in the reliability table.
RELIABILITY_BINS = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 + 1e-9])


@dataclass
class GoalBacktest:
    """Result of :func:`backtest_goals`.

    Attributes
    ----------
    calibration : pandas.DataFrame
        One row per tier: ``tier, stated, realised, difference, n_goals,
        n_periods, within_tolerance``.  ``stated`` is the period-weighted mean
        stated probability, ``realised`` the share of rep-periods in which the
        goal was reached, ``difference`` = realised - stated.
    calibration_avg : pandas.DataFrame
        The same for the horizon *average*: ``stated`` is the mean of
        ``p_<tier>_avg``, ``realised`` the share of rep-activities (observed over
        the whole horizon) whose average per period reached the goal;
        ``n_periods`` counts rep-activity goals here.
    by_activity : pandas.DataFrame
        The same per ``activity`` and ``tier``.
    reliability : pandas.DataFrame
        ``tier, bin_low, bin_high, stated, realised, n_periods`` in bins of stated probability.
    coverage : pandas.DataFrame
        One row per origin: ``origin, n_reps, interval, coverage, below, above,
        projected, realised`` (projected and realised team revenue over the horizon).
    details : pandas.DataFrame
        One row per origin x rep x activity x tier: ``origin, rep, activity,
        tier, goal, stated, n_periods, n_met``.
    revenue : pandas.DataFrame
        One row per origin x rep: ``origin, rep, revenue, revenue_low,
        revenue_high, realised, covered``.
    interval : float
        Coverage of the revenue intervals (``level`` is its deprecated alias).
    """

    calibration: pd.DataFrame
    calibration_avg: pd.DataFrame
    by_activity: pd.DataFrame
    reliability: pd.DataFrame
    coverage: pd.DataFrame
    details: pd.DataFrame
    revenue: pd.DataFrame
    interval: float
    horizon: int
    freq: str

    def __repr__(self) -> str:
        return (
            f"GoalBacktest(origins={self.coverage['origin'].nunique()}, "
            f"horizon={self.horizon} x {self.freq}, "
            f"max calibration gap={self.max_gap:.3f}, revenue coverage={self.revenue_coverage:.2f})"
        )

    level = renamed_attribute("level", "interval")

    @property
    def max_gap(self) -> float:
        """Largest absolute gap between stated and realised shares over the tiers."""
        return float(self.calibration["difference"].abs().max())

    @property
    def revenue_coverage(self) -> float:
        """Share of rep-horizons whose realised revenue fell inside the interval."""
        return float(self.revenue["covered"].mean()) if len(self.revenue) else 0.0

    def summary(self) -> Summary:
        """Calibration per tier and revenue coverage."""
        lines = [
            f"{self.coverage['origin'].nunique()} origins, goals for {self.horizon} {self.freq} "
            "periods after each.",
            f"Revenue intervals ({self.interval:.0%}): realised revenue inside for "
            f"{self.revenue_coverage:.0%} of "
            f"{len(self.revenue):,} rep-horizons.",
            f"Tolerance for stated vs realised: {CALIBRATION_TOLERANCE:.0%} points.",
        ]
        return Summary(
            "Goal backtest",
            lines,
            [
                ("Calibration (share of periods)", self.calibration.round(3)),
                ("Calibration (horizon average)", self.calibration_avg.round(3)),
                ("Coverage", self.coverage.round(3)),
            ],
        )

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
    """Set goals at past dates and check their probabilities and revenue intervals.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel`.
    drivers : DriverResult, optional
        Passed to :func:`salesgoals.personal_best_goals` at each origin (it only
        changes priorities, not the probabilities being checked).  Refitting
        the driver model per origin is left to the caller.
    horizon : {"W", "M", "Q", "Y"} or int, default="Q"
        Goal horizon after each origin.
    origins : list of period-like, optional
        Origins (the last period of history at each).  Default: the
        ``n_origins`` latest origins ``horizon`` apart that leave a full
        horizon after them and a year of history before them.
    n_origins : int, default=4
        Number of default origins.
    interval : float, default=0.8
        Coverage of the projected revenue intervals (the old name ``level=``
        still works until salesgoals 0.3, with a ``DeprecationWarning``).
    n_sims, seed : int
        Monte Carlo draws and seed of the revenue projections.
    **goal_options
        Passed to :func:`salesgoals.personal_best_goals`.

    Returns
    -------
    GoalBacktest
        ``.calibration``, ``.by_activity``, ``.reliability``, ``.coverage``,
        ``.details``, ``.revenue`` (columns documented on :class:`GoalBacktest`).

    Raises
    ------
    InsufficientDataError
        The panel is too short for one origin with a full horizon after it.
    """
    freq = _check_panel(panel, "backtest_goals")
    H = horizon_periods(horizon, freq)
    periods = pd.Index(np.sort(panel["period"].unique()))
    if origins is None:
        min_hist = SEASON_LENGTH.get(freq, 52)
        last_ok = len(periods) - 1 - H
        first_ok = min(min_hist - 1, last_ok)
        if last_ok < 1:
            raise InsufficientDataError(
                f"backtest_goals: the panel has {len(periods)} periods; a backtest needs history "
                "plus a full "
                f"horizon of {H} periods after the origin. Use a shorter horizon or more history."
            )
        idx = list(range(last_ok, first_ok - 1, -H))[: int(n_origins)]
        origins = [periods[i] for i in sorted(idx)]
    else:
        origins = [pd.Period(o, freq=panel["period"].dtype.freq) for o in origins]
    details, revenue, cover, averages = [], [], [], []
    for k, origin in enumerate(origins):  # loop over a few origins
        plan = personal_best_goals(panel, drivers, as_of=origin, horizon=H, **goal_options)
        future = panel[(panel["period"] > origin) & (panel["period"] <= origin + H)]
        t = plan.table
        fut = future[future["rep"].isin(t["rep"].unique())]
        long = fut.melt(
            id_vars=["rep"],
            value_vars=list(t["activity"].unique()),
            var_name="activity",
            value_name="actual",
        )
        merged = long.merge(
            t[["rep", "activity", *[f"goal_{x}" for x in TIERS], *[f"p_{x}" for x in TIERS]]],
            on=["rep", "activity"],
        )
        for tier in TIERS:  # three tiers
            merged[f"met_{tier}"] = merged["actual"].to_numpy(float) >= merged[
                f"goal_{tier}"
            ].to_numpy(float)
        g = merged.groupby(["rep", "activity"], sort=True)
        agg = g.agg(
            n_periods=("actual", "size"),
            mean_actual=("actual", "mean"),
            **{f"n_met_{x}": (f"met_{x}", "sum") for x in TIERS},
        ).reset_index()
        agg = agg.merge(
            t[["rep", "activity", *[f"goal_{x}" for x in TIERS], *[f"p_{x}" for x in TIERS],
               *[f"p_{x}_avg" for x in TIERS]]],
            on=["rep", "activity"],
        )  # fmt: skip
        whole = agg[agg["n_periods"] == H]  # the horizon average needs every period observed
        for tier in TIERS:
            averages.append(pd.DataFrame({
                "origin": str(origin), "rep": whole["rep"], "activity": whole["activity"],
                "tier": tier, "goal": whole[f"goal_{tier}"], "stated": whole[f"p_{tier}_avg"],
                "n_periods": 1,
                "n_met": (whole["mean_actual"] >= whole[f"goal_{tier}"]).astype(np.int64),
            }))  # fmt: skip
        for tier in TIERS:
            details.append(pd.DataFrame({
                "origin": str(origin), "rep": agg["rep"], "activity": agg["activity"], "tier": tier,
                "goal": agg[f"goal_{tier}"], "stated": agg[f"p_{tier}"],
                "n_periods": agg["n_periods"],
                "n_met": agg[f"n_met_{tier}"].astype(np.int64),
            }))  # fmt: skip
        # revenue: reps observed over the whole horizon, current behaviour
        proj = project_targets(plan, interval=interval, n_sims=n_sims, seed=seed + k)
        cur = proj.table[proj.table["scenario"] == "current"]
        n_obs = fut.groupby("rep")["period"].nunique()
        realised = fut.groupby("rep")["won_revenue"].sum()
        full = n_obs[n_obs == H].index
        r = cur[cur["rep"].isin(full)][["rep", "revenue", "revenue_low", "revenue_high"]].copy()
        r["realised"] = realised.reindex(r["rep"]).to_numpy(float)
        r["covered"] = (r["realised"] >= r["revenue_low"]) & (r["realised"] <= r["revenue_high"])
        r.insert(0, "origin", str(origin))
        revenue.append(r)
        cover.append({
            "origin": str(origin), "n_reps": len(r), "interval": interval,
            "coverage": float(r["covered"].mean()) if len(r) else 0.0,
            "below": float((r["realised"] < r["revenue_low"]).mean()) if len(r) else 0.0,
            "above": float((r["realised"] > r["revenue_high"]).mean()) if len(r) else 0.0,
            "projected": float(r["revenue"].sum()), "realised": float(r["realised"].sum()),
        })  # fmt: skip
    det = pd.concat(details, ignore_index=True)
    det = det[det["n_periods"] > 0].reset_index(drop=True)
    avg = pd.concat(averages, ignore_index=True)
    return GoalBacktest(
        calibration=_calibrate(det, []),
        calibration_avg=_calibrate(avg, []),
        by_activity=_calibrate(det, ["activity"]),
        reliability=_reliability(det),
        coverage=pd.DataFrame(cover),
        details=det,
        revenue=pd.concat(revenue, ignore_index=True),
        interval=float(interval),
        horizon=H,
        freq=freq,
    )


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
