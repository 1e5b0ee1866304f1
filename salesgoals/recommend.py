"""The goal recommendations: the whole chain from exports to a CSV a manager can use on Monday.

:func:`recommend` builds the panel, fits the driver model, sets personal-best
goals and projects the revenue of each tier, and returns a
:class:`Recommendation` whose ``.table`` is the goal recommendations CSV
(``.to_csv(path)``, spreadsheet-safe and byte-for-byte reproducible).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesgoals._deprecate import renamed_kwargs
from salesgoals._progress import step
from salesgoals._summary import Summary
from salesgoals._typing import TIERS
from salesgoals.errors import InsufficientDataError, SalesgoalsError, UnreliableEstimateWarning
from salesgoals.drivers import fit_drivers
from salesgoals.goals import (
    GoalPlan,
    TargetProjection,
    backtest_goals,
    goal_levels,
    personal_best_goals,
    project_targets,
)
from salesgoals.io import write_csv
from salesgoals.outcomes import advance_goal_tiers, advance_landmarks, classify_advances
from salesgoals.panel import panel_for

__all__ = ["recommend", "Recommendation", "RECOMMENDATION_COLUMNS"]

#: Columns of the goal recommendations CSV, in order.
RECOMMENDATION_COLUMNS: tuple[str, ...] = (
    "rep", "team", "manager", "region", "activity", "kind", "priority", "n_periods",
    "recent", "baseline", "personal_best", "personal_best_period",
    "goal_clear", "goal_stretch", "goal_extraordinary",
    "goal_clear_total", "goal_stretch_total", "goal_extraordinary_total",
    "p_clear", "p_stretch", "p_extraordinary", "effect", "leverage", "projected_revenue_current",
    "projected_revenue_clear", "projected_revenue_stretch",
    "projected_revenue_extraordinary", "revenue_low", "revenue_high", "period_start", "period_end",
    "flags", "why",
)  # fmt: skip

_UNIT = {"W": "weeks", "M": "months", "Q": "quarters"}

#: Decimals written per column group (rounding makes the file stable and readable; money in
#: whole units, whole counts written without a decimal point).
_ROUND = {"level": 2, "prob": 3, "money": 0}


@dataclass
class Recommendation:
    """Goal recommendations for every rep (result of :func:`recommend`).

    Attributes
    ----------
    table : pandas.DataFrame
        The goal recommendations, one row per rep x activity (columns in
        :data:`RECOMMENDATION_COLUMNS`, documented in :func:`recommend`).
    goals : GoalPlan
    projection : TargetProjection
    drivers : DriverResult or None
        None when the data could not support a driver model (see ``notes``).
    panel : pandas.DataFrame
    notes : list of str
        What was done about problems in the data.
    backtest : GoalBacktest or None
        Calibration of the stated odds on this history (``recommend(backtest=True)``).
    quality : pandas.DataFrame or None
        With ``stage_history=``: the advance-rate goals behind the quality rows
        (:func:`salesgoals.outcomes.advance_goal_tiers`), else None.
    """

    table: pd.DataFrame
    goals: GoalPlan
    projection: TargetProjection
    drivers: Any
    panel: pd.DataFrame
    notes: list[str]
    backtest: Any = None
    quality: Any = None

    def __repr__(self) -> str:
        return (
            f"Recommendation(reps={self.table['rep'].nunique()}, rows={len(self.table)}, "
            f"drivers={getattr(self.drivers, 'outcome', None) or 'none'}, "
            f"horizon={self.goals.horizon} x {self.goals.freq})"
        )

    def to_csv(self, path: Any) -> None:
        """Write :attr:`table` with :func:`salesgoals.io.write_csv` (deterministic, safe)."""
        write_csv(self.table, path)

    def summary(self) -> Summary:
        """Summarise: drivers, focus activities, team projection, backtest over goal periods, notes."""
        t = self.table
        focus = t[t["priority"] > 0]
        n_focus = focus.groupby("rep").size().reindex(t["rep"].unique(), fill_value=0)
        tot = self.projection.rollup(None).set_index("scenario")
        lvl = self.projection.interval
        lines = [
            f"{t['rep'].nunique()} reps; goals are rates to hold from {t['period_start'].iloc[0]} to "
            f"{t['period_end'].iloc[0]} ({self.goals.horizon} {_UNIT.get(self.goals.freq, 'periods')}).",
            self.goals.drivers_note,
            f"Focus activities per rep: {n_focus.min()}-{n_focus.max()} (median {n_focus.median():.0f}).",
            f"Team won revenue over the period ({lvl:.0%} interval):",
        ]
        for scn in ("current", *TIERS):
            r = tot.loc[scn]
            lines.append(f"  {scn:<14} {r['revenue']:>14,.0f}  ({r['revenue_low']:,.0f} - {r['revenue_high']:,.0f})")
        if self.backtest is not None:
            cal = self.backtest.calibration.set_index("tier")
            lines.append(
                "Backtest over past goal periods (stated vs realised share reaching the goal): "
                + ", ".join(f"{k} {cal.loc[k, 'stated']:.0%} vs {cal.loc[k, 'realised']:.0%}" for k in TIERS)
                + f"; revenue intervals covered {self.backtest.revenue_coverage:.0%} (target {lvl:.0%})."
            )
        lines += [f"Note: {n}" for n in self.notes]
        tables = []
        if len(focus):
            top = focus[focus["priority"] == 1][
                ["rep", "activity", "recent", "goal_clear", "p_clear", "goal_stretch", "p_stretch"]
            ].rename(columns={"activity": "first focus"})
            tables.append(("First focus per rep (first 10 reps; rates per week, odds for the period)", top.head(10)))
        return Summary("Goal recommendations", lines, tables)

    def levels(self, *, target: Any = None):
        """Seller, team and leader goals side by side (see :func:`salesgoals.goals.goal_levels`)."""
        return goal_levels(self.goals, self.projection, panel=self.panel, target=target)

    def plot(self, rep: str | None = None, *, ax=None):
        """Goal tiers of one rep (see :func:`salesgoals.plotting.plot_goal_tiers`)."""
        return self.goals.plot(rep, ax=ax)


@renamed_kwargs(level="interval")
def recommend(
    activities: pd.DataFrame,
    deals: pd.DataFrame,
    roster: pd.DataFrame | None = None,
    *,
    freq: str = "W",
    horizon: str | int = "Q",
    outcome: str = "deals_created",
    interval: float = 0.8,
    n_sims: int = 2000,
    seed: int = 0,
    as_of: Any = None,
    drivers: Any = "fit",
    backtest: bool = True,
    currency: str = "",
    engine: str = "auto",
    stage_history: pd.DataFrame | None = None,
) -> Recommendation:
    """Run the whole chain: panel, drivers, personal-best goals, projected revenue.

    Parameters
    ----------
    activities, deals : pandas.DataFrame
        Canonical frames from :func:`salesgoals.load_activities` /
        :func:`salesgoals.load_deals` (or the simulator).  ``activities`` may
        also be a ready panel, a Dask DataFrame, or Parquet/CSV files (a path,
        directory or glob such as ``"lake/**/*.parquet"``): see
        :func:`salesgoals.panel.panel_for`.
    roster : pandas.DataFrame, optional
        From :func:`salesgoals.load_roster`: teams (peers for shrinkage), managers, regions.
    freq : {"W", "M", "Q"}, default="W"
        Panel grain; goals are per period of this length.
    horizon : {"W", "M", "Q", "Y"} or int, default="Q"
        Goal horizon.
    outcome : str, default="deals_created"
        Outcome of the driver model (see :func:`salesgoals.fit_drivers`).
    interval : float, default=0.8
        Coverage of the revenue intervals (the old name ``level=`` still works
        until salesgoals 0.3, with a ``DeprecationWarning``).
    n_sims, seed : int
        Monte Carlo draws and seed.
    as_of : period-like, optional
        Set goals as of this period (default: the last period).
    drivers : "fit", DriverResult or None, default="fit"
        ``"fit"`` fits :func:`salesgoals.fit_drivers` on the panel; pass a
        fitted DriverResult to reuse one, or None to set goals without
        priorities.
    currency : str, default=""
        Currency symbol in the ``why`` texts (``"$"``, ``"€"``); money columns stay plain numbers.
    backtest : bool, default=True
        Also run :func:`salesgoals.backtest_goals` (same settings, no driver
        refit) so the summary can show how honest the stated odds were on this
        team's own history; skipped with a note when the history is too short.
    engine : {"auto", "memory", "duckdb", "dask"}, default="auto"
        How the panel is built (:func:`salesgoals.panel.panel_for`): by size,
        or on request; the goals are the same whichever path builds it.
    stage_history : pandas.DataFrame, optional
        :func:`salesgoals.load_stage_history` output (or a raw ``deal_id, stage,
        entered`` table).  With it, every interaction of ``activities`` linked
        to a deal is classified (:func:`salesgoals.classify_advances`) and each
        rep gets quality goals next to the volume goals: one row per interaction
        type, ``activity = "<type>_advance_rate"``, ``kind = "quality"``, rates
        in the level and goal columns, advancing interactions in the totals,
        odds from :func:`salesgoals.outcomes.advance_goal_tiers`; their weekly
        pace is added to ``.goals.landmarks`` and the rows themselves are in
        ``.quality``.  Without it the table is the volume goals alone.

    Returns
    -------
    Recommendation
        ``.table`` has one row per rep x activity, sorted by rep, then priority
        (focus activities first), then activity, with columns:

        * ``rep``, ``team``, ``manager``, ``region`` : str — ``"(unassigned)"`` / ``"(all)"``
          without a roster.
        * ``activity``, ``kind``, ``priority``, ``n_periods``, ``recent``, ``baseline``,
          ``personal_best``, ``personal_best_period``, ``goal_clear``, ``goal_stretch``,
          ``goal_extraordinary`` (rates per period to hold over the goal period),
          ``goal_clear_total``, ``goal_stretch_total``, ``goal_extraordinary_total`` (int, whole
          counts over the goal period), ``p_clear``, ``p_stretch``, ``p_extraordinary`` (odds that
          the period total reaches the goal), ``effect``, ``leverage`` : as in
          :func:`salesgoals.personal_best_goals`.
        * ``projected_revenue_current`` and ``projected_revenue_<tier>`` : float — the rep's
          expected won revenue over the horizon keeping current behaviour, or with the rep's
          priority activities at that
          tier (a rep-level figure, repeated on each of the rep's rows).
        * ``revenue_low``, ``revenue_high`` : float — the ``interval`` prediction interval of the
          rep's revenue at
          the *clear* tier (the forecastable commitment).
        * ``period_start``, ``period_end`` : str — first and last day of the goal horizon.
        * ``flags`` : str — see :func:`salesgoals.personal_best_goals`, plus the rep funnel's
          ``no_won_deals`` / ``no_won_deals_in_team``.
        * ``why`` : str — the goal in plain words (recent level, best sustained, value, flags).

        Money columns are whole currency units (int); ``.landmarks`` has the weekly pace of
        every goal (see :attr:`salesgoals.goals.GoalPlan.landmarks`).  Quality rows
        (``stage_history=``) follow each rep's volume rows, with ``priority`` 0,
        ``effect`` and ``leverage`` 0 and the flag ``advance_rate``.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=30, n_weeks=30, seed=5)
    >>> rec = sg.recommend(sim.activities, sim.deals, sim.roster, n_sims=200, backtest=False)
    >>> rec.table.columns[:5].tolist()
    ['rep', 'team', 'manager', 'region', 'activity']
    >>> bool(rec.table.select_dtypes("number").notna().all().all())
    True
    """
    notes: list[str] = []
    with step("panel"):
        panel = panel_for(activities, deals, freq=freq, roster=roster, engine=engine)
    if not (isinstance(drivers, str) and drivers == "fit"):
        rec = _finish(panel, drivers, notes, as_of, horizon, interval, n_sims, seed, backtest, currency)
        return _with_quality(rec, activities, deals, stage_history)
    drivers = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnreliableEstimateWarning)
            with step("drivers"):
                drivers = fit_drivers(panel, outcome=outcome)
        for w in caught:
            if issubclass(w.category, UnreliableEstimateWarning):
                notes.append(str(w.message))
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except (InsufficientDataError, SalesgoalsError) as exc:
        notes.append(f"no driver model ({exc}); goals are set without priorities.")
        warnings.warn(
            f"recommend: no driver model could be fitted: {exc}",
            UnreliableEstimateWarning,
            stacklevel=3,  # past the renamed_kwargs wrapper, to the caller
        )
    rec = _finish(panel, drivers, notes, as_of, horizon, interval, n_sims, seed, backtest, currency)
    return _with_quality(rec, activities, deals, stage_history)


def _with_quality(rec: Recommendation, activities, deals, stage_history) -> Recommendation:
    """Append the advance-rate goals (stage history given) to each rep's rows; else return ``rec`` unchanged."""
    if stage_history is None:
        return rec
    if not isinstance(activities, pd.DataFrame) or not isinstance(deals, pd.DataFrame):
        raise TypeError("recommend: stage_history= needs the activities and deals as DataFrames (loaded with "
                        "salesgoals.load_activities / load_deals), not file paths.")  # fmt: skip
    plan = rec.goals
    acts, known_deals, history = _known_by(activities, deals, stage_history, plan.as_of.end_time)
    adv = classify_advances(acts, known_deals, history, data_end=plan.as_of.end_time)
    tiers = advance_goal_tiers(adv, as_of=plan.as_of, horizon=plan.horizon, reps=list(rec.table["rep"].unique()))
    if tiers.empty:
        rec.notes.append("stage history given, but no rep has 20 judged interactions linked to deals (deal_id, or "
                         "an account with one open deal): no quality goals.")  # fmt: skip
        rec.quality = tiers
        return rec
    rows = _quality_rows(tiers, rec.table)
    table = pd.concat([rec.table, rows], ignore_index=True)
    order = pd.Index(rec.table["rep"].unique()).get_indexer(table["rep"])
    table = table.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    plan.landmarks = pd.concat([plan.landmarks, advance_landmarks(tiers, as_of=plan.as_of, horizon=plan.horizon)],
                               ignore_index=True)  # fmt: skip
    rec.table, rec.quality = table, tiers
    return rec


def _known_by(activities, deals, stage_history, end):
    """What was known at the end of the last period of history: later interactions, stages and closes left out."""
    end = pd.Timestamp(end)
    acts = activities.loc[(pd.to_datetime(activities["timestamp"]) <= end).to_numpy()]
    closed = pd.to_datetime(deals["closed"])
    later = (closed > end).to_numpy()
    known = deals.assign(status=deals["status"].where(~later, "open"), closed=closed.where(~later))
    known = known.loc[(pd.to_datetime(deals["created"]) <= end).to_numpy()]
    history = stage_history
    if "entered" in stage_history.columns:
        history = stage_history.loc[(pd.to_datetime(stage_history["entered"]) <= end).to_numpy()]
    return acts, known, history


def _quality_rows(tiers: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Quality goals as rows of the recommendations table: rep-level columns copied from the rep's rows."""
    rep_cols = ["team", "manager", "region", *[c for c in table.columns if c.startswith("projected_revenue_")],
                "revenue_low", "revenue_high", "period_start", "period_end"]  # fmt: skip
    per_rep = table.drop_duplicates("rep").set_index("rep")[rep_cols]
    t = tiers.loc[tiers["rep"].isin(per_rep.index)].reset_index(drop=True)
    out = per_rep.reindex(t["rep"]).reset_index()
    out["activity"], out["kind"], out["priority"] = t["activity"], "quality", 0
    out["n_periods"] = t["n_periods"].to_numpy()
    for c in ("recent", "baseline", "personal_best", *[f"goal_{x}" for x in TIERS]):
        out[c] = t[c].to_numpy(float).round(3)
    out["personal_best_period"] = t["personal_best_period"].astype(str).to_numpy()
    for x in TIERS:
        out[f"goal_{x}_total"] = t[f"goal_{x}_total"].to_numpy(np.int64)
        out[f"p_{x}"] = t[f"p_{x}"].to_numpy(float).round(_ROUND["prob"])
    out["effect"], out["leverage"] = 0.0, 0.0
    proxy = t["method"].str.contains("proxy").to_numpy()
    out["flags"] = np.where(proxy, "advance_rate;proxy", "advance_rate")
    pct = lambda v: (100 * v).round().astype(int).astype(str) + "%"  # noqa: E731 - local formatter
    kind = t["activity_type"].astype(str)
    out["why"] = ("advance rate of " + kind + "s: " + pct(t["baseline"]) + " of " + t["n"].astype(str)
                  + " judged advanced a deal (90% interval " + pct(t["ci_low"]) + "-" + pct(t["ci_high"])
                  + "), recent " + pct(t["recent"]) + "; peers' upper quartile "
                  + pct(t["peer_rate"]) + "; clear " + pct(t["goal_clear"]) + ", stretch " + pct(t["goal_stretch"])
                  + ", extraordinary " + pct(t["goal_extraordinary"]) + " of about " + t["expected_n"].astype(str)
                  + " " + kind + "s in the period").to_numpy()  # fmt: skip
    return out[list(RECOMMENDATION_COLUMNS)]


def _finish(panel, drivers, notes, as_of, horizon, interval, n_sims, seed, backtest, currency="") -> Recommendation:
    with step("goals"):
        plan = personal_best_goals(panel, drivers, as_of=as_of, horizon=horizon, currency=currency)
    if plan.excluded_reps:
        more = " ..." if len(plan.excluded_reps) > 5 else ""
        notes.append(
            f"{len(plan.excluded_reps)} rep(s) whose history ended before {plan.as_of} "
            f"get no goals: {', '.join(plan.excluded_reps[:5])}{more}."
        )
    proj = project_targets(plan, interval=interval, n_sims=n_sims, seed=seed)
    table = _assemble(plan, proj)
    bt = None
    if backtest:
        try:
            with step("backtest goals"):
                bt = backtest_goals(
                    panel, drivers, horizon=plan.horizon, interval=interval, n_sims=min(int(n_sims), 500), seed=seed
                )
        except InsufficientDataError as exc:
            notes.append(f"no backtest of the stated odds: {exc}")
    return Recommendation(table, plan, proj, drivers, panel, notes, bt)


def _assemble(plan: GoalPlan, proj: TargetProjection) -> pd.DataFrame:
    t = plan.table.copy()
    rs = plan.rep_stats.set_index("rep")
    for col in ("manager", "region"):
        t[col] = rs[col].reindex(t["rep"]).to_numpy() if col in rs.columns else "(unassigned)"
    wide = proj.table.pivot_table(index="rep", columns="scenario", values="revenue", aggfunc="sum")
    for scn in ("current", *TIERS):
        t[f"projected_revenue_{scn}"] = wide[scn].reindex(t["rep"]).to_numpy(float)
    clear = proj.table[proj.table["scenario"] == "clear"].set_index("rep")
    t["revenue_low"] = clear["revenue_low"].reindex(t["rep"]).to_numpy(float)
    t["revenue_high"] = clear["revenue_high"].reindex(t["rep"]).to_numpy(float)
    first = plan.as_of + 1
    last = plan.as_of + plan.horizon
    t["period_start"] = str(first.start_time.date())
    t["period_end"] = str(last.end_time.date())
    funnel_flags = rs["flags"].reindex(t["rep"]).fillna("").astype(str).to_numpy()
    f = t["flags"].to_numpy(dtype=object)
    t["flags"] = np.where(
        funnel_flags == "", f, np.where(f == "", funnel_flags, f + ";" + funnel_flags)
    )
    for c in ("recent", "baseline", "personal_best", *[f"goal_{x}" for x in TIERS], "effect", "leverage"):
        t[c] = t[c].round(_ROUND["level"])
    for c in [f"p_{x}" for x in TIERS]:
        t[c] = t[c].round(_ROUND["prob"])
    money = [c for c in t.columns if c.startswith("projected_revenue_") or c in ("revenue_low", "revenue_high")]
    for c in money:
        t[c] = np.nan_to_num(t[c].to_numpy(float), nan=0.0, posinf=0.0, neginf=0.0).round(0).astype(np.int64)
    out = t[list(RECOMMENDATION_COLUMNS)].copy()
    for c in ("rep", "team", "manager", "region", "activity", "kind", "personal_best_period", "flags",
              "period_start", "period_end", "why"):  # fmt: skip
        out[c] = out[c].astype(str)
    return out.reset_index(drop=True)
