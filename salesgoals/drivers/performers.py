"""What top performers do differently, and where each rep's funnel leaks.

:func:`compare_performers` splits reps into the top quartile (by won revenue
per period, or another outcome) and the rest, and compares them on activity
volume and mix, quality (connect rate, meeting show rate), stage-to-stage
conversion and deal size, with cycle times when deals are given.  It then
walks each rep's funnel as a chain of multiplicative stages,

.. math::

    \\text{revenue} = \\text{activities} \\times
    \\frac{\\text{conversations}}{\\text{activities}} \\times
    \\frac{\\text{deals created}}{\\text{conversations}} \\times
    \\text{win rate} \\times \\text{deal size},

(conversations = connected calls + held meetings) and names the stage where
the rep falls furthest below the team: the *leak*, with the revenue per period
the rep would add by closing that one gap.  Because the stages multiply,
bringing one stage to the team's level multiplies revenue by
``team / rep`` for that stage, so the upside is comparable across stages.

Rates are shrunk toward the team (empirical Bayes, as in the driver model's
funnel) so a rep with two closed deals is not called a 0 % closer.  This is a
*descriptive* comparison: top performers are chosen by revenue, so they
differ on win rate and deal size partly by construction, and doing what top
performers do does not by itself cause their results.  The causal question
(which activities move results) is :func:`salesgoals.fit_drivers`.

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=30, seed=4)
>>> comp = sg.compare_performers(sim.panel(), sim.deals)
>>> comp.leaks.columns.tolist()[:4]
['rep', 'leak_stage', 'rep_value', 'team_value']
>>> int((comp.reps["group"] == "top").sum())
3
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._summary import Summary, fmt_float
from salesgoals.drivers._funnel import shrink_rate, shrink_size, within_size_var
from salesgoals.errors import InsufficientDataError, SchemaError
from salesgoals.plotting import plot_performers
from salesgoals.panel import activity_columns

__all__ = ["compare_performers", "PerformerComparison", "FUNNEL_STAGES"]

#: The multiplicative funnel, in order: stage name -> (numerator, denominator) description.
FUNNEL_STAGES: dict[str, str] = {
    "activities_per_period": "activities logged per period (all types)",
    "conversation_rate": "connected calls + held meetings per activity",
    "deals_per_conversation": "deals created per conversation",
    "win_rate": "deals won / deals closed",
    "deal_size": "won revenue / deals won",
}
_LOWER_IS_BETTER = {"cycle_days"}


class PerformerComparison:
    """Top performers against the rest, and each rep's funnel leak.

    Attributes
    ----------
    reps : pandas.DataFrame
        One row per rep: ``rep``, ``periods``, ``group`` (``"top"`` or
        ``"rest"``), ``performance`` (the ``by`` outcome per period), one
        ``<activity>_per_period`` and ``<activity>_share`` (share of the rep's
        activity) per activity type, ``connect_rate``, ``show_rate`` (when the
        panel has quality columns), the funnel stages of
        :data:`FUNNEL_STAGES`, ``deals_created_per_period``,
        ``won_revenue_per_period`` and, with deals, ``cycle_days`` (median
        days from created to closed-won; the team median where the rep has
        none) and ``n_cycle`` (won deals behind it).
    compare : pandas.DataFrame
        One row per metric: ``metric``, ``stage`` (``activity``, ``mix``,
        ``quality``, ``funnel`` or ``speed``), ``top``, ``rest`` (means over
        reps), ``ratio`` (top / rest; 0 when rest is 0), ``difference``
        (top - rest), ``higher_is_better`` and ``p_value`` (two-sided
        Mann-Whitney U test of top against rest; 1.0 when it cannot be run).
    stages : pandas.DataFrame
        One row per rep and funnel stage: ``rep``, ``stage``, ``rep_value``,
        ``team_value``, ``gap`` (``rep / team - 1``; negative = below the
        team) and ``upside_per_period`` (revenue per period added by bringing
        this stage to the team's level; 0 when the rep is at or above it).
    leaks : pandas.DataFrame
        One row per rep, the stage with the most negative gap: ``rep``,
        ``leak_stage``, ``rep_value``, ``team_value``, ``gap``,
        ``upside_per_period``, sorted by upside (largest first).  Reps at or
        above the team everywhere get ``leak_stage = "none"``.
    by : str
        Outcome that defines performance.
    top_share : float
        Share of reps in the top group.
    """

    def __init__(self, *, reps, compare, stages, leaks, by, top_share) -> None:
        self.reps = reps
        self.compare = compare
        self.stages = stages
        self.leaks = leaks
        self.by = by
        self.top_share = top_share

    def summary(self) -> Summary:
        """The comparison and the leaks as a printable report."""
        n_top = int((self.reps["group"] == "top").sum())
        facts = {
            "performance": f"{self.by} per period",
            "groups": f"top {n_top} reps (top {self.top_share:.0%}) vs {len(self.reps) - n_top} others",
        }
        cmp = self.compare[["metric", "stage", "top", "rest", "ratio", "p_value"]]
        leaks = self.leaks.head(15)
        counts = self.leaks["leak_stage"].value_counts()
        notes = [f"Most common leak: {counts.index[0]} ({int(counts.iloc[0])} of {len(self.leaks)} reps)."]
        notes.append(
            "Descriptive, not causal: top reps are chosen by results, so they differ on win rate and deal size "
            "partly by construction. Use fit_drivers() to learn which activities move results."
        )
        return Summary("Top performers vs the rest", facts=facts,
                       tables={"comparison": cmp, "where each rep's funnel leaks": leaks}, notes=notes,
                       float_format=fmt_float)  # fmt: skip

    def plot(self, ax=None, *, kind: str = "compare"):
        """Bar chart: top/rest ratio per metric (``kind="compare"``) or upside per rep (``kind="leaks"``)."""
        return plot_performers(self, ax=ax, kind=kind)

    def __repr__(self) -> str:
        n_top = int((self.reps["group"] == "top").sum())
        return f"PerformerComparison(by={self.by!r}, reps={len(self.reps)}, top={n_top})"


def compare_performers(
    panel: pd.DataFrame,
    deals: pd.DataFrame | None = None,
    *,
    by: str = "won_revenue",
    top: float = 0.25,
    min_periods: int = 1,
) -> PerformerComparison:
    """Compare top performers with the rest and find where each rep's funnel leaks.

    Parameters
    ----------
    panel : pandas.DataFrame
        Rep x period panel from :func:`salesgoals.build_panel`.
    deals : pandas.DataFrame, optional
        Canonical deals (:func:`salesgoals.load_deals`); adds cycle times.
    by : str, default="won_revenue"
        Panel column whose mean per period ranks the reps.
    top : float, default=0.25
        Share of reps in the top group (at least one rep).
    min_periods : int, default=1
        Reps with fewer panel rows are left out (their averages are noise).

    Returns
    -------
    PerformerComparison
        ``.reps``, ``.compare``, ``.stages``, ``.leaks`` (every column listed
        on :class:`PerformerComparison`), ``.summary()``, ``.plot()``.

    Raises
    ------
    SchemaError
        The panel lacks ``rep``, ``by`` or the outcome columns, or the deals
        lack ``rep``, ``created``, ``closed``, ``status``.
    InsufficientDataError
        Fewer than two reps (nothing to compare).
    ValueError
        ``top`` is not between 0 and 1.

    Notes
    -----
    Rates (win, connect, show, conversation) are beta-binomial empirical
    Bayes estimates shrunk toward the team; deals per conversation uses
    ``(deals + m * team) / (conversations + m)`` with ``m`` = 20
    conversations; deal size is normal-normal shrunk toward the team mean.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=30, seed=4)
    >>> comp = sg.compare_performers(sim.panel())
    >>> sorted(comp.stages["stage"].unique()) == sorted(sg.drivers.FUNNEL_STAGES)
    True
    """
    sums, periods, perf = _rep_sums(panel, by, top, min_periods)
    acts = activity_columns(panel)
    out = _ranked_reps(sums, periods, perf, acts, top)
    per = periods.to_numpy(dtype=float)
    total_act = sums[acts].sum(axis=1).to_numpy(dtype=float)
    conv, has_quality = _funnel_rates(out, sums, panel, acts, total_act, per)
    created = sums["deals_created"].to_numpy(dtype=float)
    won = sums["deals_won"].to_numpy(dtype=float)
    closed = won + sums["deals_lost"].to_numpy(dtype=float)
    revenue = sums["won_revenue"].to_numpy(dtype=float)
    if deals is not None:
        out = out.merge(_cycle_days(deals), how="left", on="rep")
        med = float(out["cycle_days"].median()) if out["cycle_days"].notna().any() else 0.0
        out["cycle_days"] = out["cycle_days"].fillna(med)
        out["n_cycle"] = out["n_cycle"].fillna(0).astype(np.int64)

    compare = _compare(out, acts, has_quality)
    stages = _stages(out, total_act, conv if has_quality else total_act, created, won, closed, revenue, per)
    if not acts:  # a deals-only panel: activity stages are not measured, so they cannot leak
        unmeasured = ("activities_per_period", "conversation_rate", "deals_per_conversation")
        compare = compare[~compare["metric"].isin(unmeasured)].reset_index(drop=True)
        stages = stages[~stages["stage"].isin(unmeasured)].reset_index(drop=True)
    return PerformerComparison(reps=out, compare=compare, stages=stages, leaks=_leaks(stages), by=by,
                               top_share=top)  # fmt: skip


def _rep_sums(panel: pd.DataFrame, by: str, top: float, min_periods: int):
    """Validate the inputs; per-rep sums of the funnel columns, period counts and mean ``by`` (reps kept)."""
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"compare_performers: panel must be a DataFrame from build_panel(); got {type(panel).__name__}.")
    if not 0 < top < 1:
        raise ValueError(f"compare_performers: top must be between 0 and 1; got {top!r}.")
    needed = ["rep", by, "deals_created", "deals_won", "deals_lost", "won_revenue"]
    missing = [c for c in dict.fromkeys(needed) if c not in panel.columns]
    if missing:
        raise SchemaError(
            f"compare_performers: the panel has no column(s) {', '.join(map(repr, missing))}. "
            f"Found: {', '.join(map(str, panel.columns))}. Build it with sg.build_panel(activities, deals)."
        )
    acts = activity_columns(panel)
    g = panel.groupby(panel["rep"].astype(str), sort=True)
    sums = g[[*acts, *[c for c in ("call_connected", "meeting_held") if c in panel.columns],
              "deals_created", "deals_won", "deals_lost", "won_revenue"]].sum()  # fmt: skip
    periods = g.size()
    keep = periods >= min_periods
    sums, periods = sums.loc[keep], periods.loc[keep]
    if len(sums) < 2:
        raise InsufficientDataError(
            f"compare_performers: {len(sums)} rep(s) with at least {min_periods} periods; need two or more to compare."
        )
    return sums, periods, g[by].mean().loc[keep]


def _ranked_reps(sums: pd.DataFrame, periods: pd.Series, perf: pd.Series, acts: list[str], top: float) -> pd.DataFrame:
    """One row per rep: top/rest group by ``perf`` (ties by name), activity per period and activity mix."""
    out = pd.DataFrame({"rep": sums.index.to_numpy(dtype=object), "periods": periods.to_numpy(dtype=np.int64)})
    n_top = max(1, int(round(top * len(out))))
    order = np.lexsort((out["rep"].to_numpy(dtype=str), -perf.to_numpy(dtype=float)))
    group = np.full(len(out), "rest", dtype=object)
    group[order[:n_top]] = "top"
    out["group"] = pd.Series(group, dtype=object)
    out["performance"] = perf.to_numpy(dtype=float)
    per = periods.to_numpy(dtype=float)
    total_act = sums[acts].sum(axis=1).to_numpy(dtype=float)
    for a in acts:
        out[f"{a}_per_period"] = sums[a].to_numpy(dtype=float) / per
    for a in acts:
        out[f"{a}_share"] = np.divide(sums[a].to_numpy(dtype=float), total_act, out=np.zeros(len(out)),
                                      where=total_act > 0)  # fmt: skip
    return out


def _funnel_rates(out: pd.DataFrame, sums: pd.DataFrame, panel: pd.DataFrame, acts: list[str], total_act: np.ndarray,
                  per: np.ndarray) -> tuple[np.ndarray, bool]:  # fmt: skip
    """Shrunk funnel rates per rep into ``out`` (in place); returns conversations per rep and whether measured."""
    conv = np.zeros(len(out))
    for metric, base, name in (("call_connected", "call", "connect_rate"), ("meeting_held", "meeting", "show_rate")):
        if metric in sums.columns and base in sums.columns:
            rate, _, _ = shrink_rate(sums[metric].to_numpy(dtype=float), sums[base].to_numpy(dtype=float))
            out[name] = rate
            conv = conv + sums[metric].to_numpy(dtype=float)
    has_quality = bool(conv.sum() > 0)
    created = sums["deals_created"].to_numpy(dtype=float)
    won = sums["deals_won"].to_numpy(dtype=float)
    closed = won + sums["deals_lost"].to_numpy(dtype=float)
    revenue = sums["won_revenue"].to_numpy(dtype=float)
    out["activities_per_period"] = total_act / per
    if has_quality:
        out["conversation_rate"], _, _ = shrink_rate(conv, total_act)
        team = created.sum() / conv.sum()
        out["deals_per_conversation"] = (created + 20 * team) / (conv + 20)
    else:  # no quality columns: one stage from activity to deal
        out["conversation_rate"] = 1.0
        team = created.sum() / max(total_act.sum(), 1.0)
        out["deals_per_conversation"] = (created + 20 * team) / (total_act + 20)
    out["win_rate"], _, _ = shrink_rate(won, closed)
    frame = panel.loc[panel["rep"].astype(str).isin(out["rep"])]
    size, team_size = shrink_size(revenue, won, within_size_var(frame, "won_revenue", "deals_won"))
    out["deal_size"] = np.where(size > 0, size, team_size) if team_size > 0 else size
    out["deals_created_per_period"] = created / per
    out["won_revenue_per_period"] = revenue / per
    return conv, has_quality


def _leaks(stages: pd.DataFrame) -> pd.DataFrame:
    """Each rep's worst stage (largest negative gap to the top group), ``"none"`` when no stage is behind."""
    worst = stages.sort_values(["rep", "gap", "stage"], kind="mergesort").groupby("rep", sort=False).head(1)
    leaks = worst.rename(columns={"stage": "leak_stage"}).reset_index(drop=True)
    leaks["leak_stage"] = leaks["leak_stage"].where(leaks["gap"] < 0, "none").astype(object)
    leaks = leaks.sort_values(["upside_per_period", "rep"], ascending=[False, True], kind="mergesort")
    return leaks.reset_index(drop=True)


def _cycle_days(deals: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("rep", "created", "closed", "status") if c not in deals.columns]
    if missing:
        raise SchemaError(
            f"compare_performers: deals have no column(s) {', '.join(map(repr, missing))}; "
            "load them with sg.load_deals()."
        )
    won = deals["status"].astype(str).str.lower().eq("won") & deals["closed"].notna() & deals["created"].notna()
    d = deals.loc[won]
    days = (pd.to_datetime(d["closed"]) - pd.to_datetime(d["created"])).dt.days.astype(float)
    g = days.groupby(d["rep"].astype(str).to_numpy())
    res = pd.DataFrame({"cycle_days": g.median(), "n_cycle": g.size()})
    res.index.name = "rep"
    return res.reset_index().astype({"rep": object})


def _compare(reps: pd.DataFrame, acts: list[str], has_quality: bool) -> pd.DataFrame:
    metrics = [("activities_per_period", "activity")]
    metrics += [(f"{a}_per_period", "activity") for a in acts]
    metrics += [(f"{a}_share", "mix") for a in acts]
    if has_quality:
        metrics += [(m, "quality") for m in ("connect_rate", "show_rate") if m in reps.columns]
        metrics += [("conversation_rate", "quality")]
    metrics += [(m, "funnel") for m in ("deals_per_conversation", "deals_created_per_period", "win_rate", "deal_size",
                                         "won_revenue_per_period")]  # fmt: skip
    if "cycle_days" in reps.columns:
        metrics.append(("cycle_days", "speed"))
    is_top = reps["group"].eq("top").to_numpy()
    rows = []
    for m, stage in metrics:
        v = reps[m].to_numpy(dtype=float)
        t, r = v[is_top], v[~is_top]
        top_mean, rest_mean = float(t.mean()), float(r.mean())
        try:
            p = float(stats.mannwhitneyu(t, r, alternative="two-sided").pvalue) if len(t) and len(r) else 1.0
        except ValueError:
            p = 1.0
        rows.append({"metric": m, "stage": stage, "top": top_mean, "rest": rest_mean,
                     "ratio": top_mean / rest_mean if rest_mean != 0 else 0.0,
                     "difference": top_mean - rest_mean, "higher_is_better": m not in _LOWER_IS_BETTER,
                     "p_value": p if np.isfinite(p) else 1.0})  # fmt: skip
    return pd.DataFrame(rows).astype({"metric": object, "stage": object})


def _stages(reps, total_act, conv, created, won, closed, revenue, per) -> pd.DataFrame:
    """Per rep and stage: value, team value, gap and the revenue upside of closing the gap."""
    team = {
        "activities_per_period": total_act.sum() / per.sum(),
        "conversation_rate": conv.sum() / max(total_act.sum(), 1.0),
        "deals_per_conversation": created.sum() / max(conv.sum(), 1.0),
        "win_rate": won.sum() / max(closed.sum(), 1.0),
        "deal_size": revenue.sum() / max(won.sum(), 1.0),
    }
    # the chain's revenue per period for each rep (the product of its stages)
    chain = np.ones(len(reps))
    for s in FUNNEL_STAGES:
        chain = chain * reps[s].to_numpy(dtype=float)
    parts = []
    for s in FUNNEL_STAGES:
        v = reps[s].to_numpy(dtype=float)
        tv = float(team[s])
        gap = np.divide(v, tv, out=np.zeros_like(v), where=tv > 0) - 1.0
        upside = np.where((gap < 0) & (v > 0), chain * (tv / np.where(v > 0, v, 1.0) - 1.0), 0.0)
        parts.append(pd.DataFrame({"rep": reps["rep"].to_numpy(dtype=object), "stage": s, "rep_value": v,
                                   "team_value": tv, "gap": gap, "upside_per_period": upside}))  # fmt: skip
    out = pd.concat(parts, ignore_index=True)
    out["stage"] = out["stage"].astype(object)
    return out
