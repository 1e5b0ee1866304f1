"""Plots of goals, projections, target plans, cascades and the goal backtest."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from salesgoals._typing import TIERS

_TIER_COLORS = {"clear": "#4c9f70", "stretch": "#e0a030", "extraordinary": "#c0504d"}


def _axes(ax, size=(8, 3.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def plot_goal_tiers(plan, rep: str | None = None, *, ax=None):
    """One rep's goals: a bar per tier for each activity, with the baseline marked.

    Parameters
    ----------
    plan : GoalPlan
        From :func:`salesgoals.personal_best_goals`.
    rep : str, optional
        The rep (default: the first rep in the table).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Three bar containers (one per tier) and one baseline marker line.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=30, seed=0)
    >>> plan = sg.personal_best_goals(sim.panel())
    >>> ax = plot_goal_tiers(plan)
    >>> len(ax.containers)
    3
    """
    t = plan.table
    rep = t["rep"].iloc[0] if rep is None else rep
    sub = t[t["rep"] == rep].reset_index(drop=True)
    if sub.empty:
        raise ValueError(
            f"plot_goal_tiers: no rep {rep!r} in the plan; "
            f"reps: {', '.join(t['rep'].unique()[:5])} ..."
        )
    ax = _axes(ax)
    y = np.arange(len(sub))
    h = 0.26
    for k, tier in enumerate(TIERS):
        ax.barh(y + (k - 1) * h, sub[f"goal_{tier}"], height=h, color=_TIER_COLORS[tier],
                label=f"{tier} (mean p={sub[f'p_{tier}'].mean():.0%})")  # fmt: skip
    ax.plot(sub["baseline"], y, "k|", markersize=18, label="baseline")
    labels = [f"{a}  [P{p}]" if p else a for a, p in zip(sub["activity"], sub["priority"])]
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel(f"per {plan.freq} period")
    ax.set_title(f"Goals for {rep} (P1-P3 = focus activities)")
    ax.legend(loc="lower right", fontsize=8)
    return ax


def plot_projection(proj, *, by: str | None = "team", ax=None):
    """Projected revenue per group and scenario with the joint prediction intervals.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per scenario.
    """
    r = proj.rollup(by)
    if by is not None:
        r = r[r["group"] != "(all)"]
    ax = _axes(ax)
    groups = list(dict.fromkeys(r["group"]))
    x = np.arange(len(groups))
    scns = list(dict.fromkeys(r["scenario"]))
    w = 0.8 / len(scns)
    colors = {"current": "#7f7f7f", **_TIER_COLORS}
    for k, s in enumerate(scns):
        sub = r[r["scenario"] == s].set_index("group").reindex(groups)
        err = np.vstack(
            [sub["revenue"] - sub["revenue_low"], sub["revenue_high"] - sub["revenue"]]
        ).clip(min=0)
        ax.bar(
            x + (k - (len(scns) - 1) / 2) * w,
            sub["revenue"],
            width=w,
            yerr=err,
            color=colors.get(s),
            label=s,
            capsize=2,
        )
    ax.set_xticks(x, groups, rotation=30 if len(groups) > 4 else 0)
    ax.set_ylabel(f"revenue over {proj.horizon} {proj.freq}")
    ax.set_title(f"Projected revenue by tier ({proj.interval:.0%} intervals)")
    ax.legend(fontsize=8)
    return ax


def plot_target_plan(tp, *, ax=None):
    """Plot required level vs personal best of each rep's focus activities.

    Points above the diagonal need more than the rep's personal best.

    Returns
    -------
    matplotlib.axes.Axes
        One scatter collection per activity, plus the diagonal line.
    """
    a = tp.activities
    ax = _axes(ax, (5, 5))
    for act, sub in a.groupby("activity", sort=True):
        ax.scatter(sub["personal_best"], sub["required"], label=act, s=18)
    hi = float(max(a["personal_best"].max(), a["required"].max(), 1.0)) if len(a) else 1.0
    ax.plot([0, hi], [0, hi], "k--", lw=1, label="= personal best")
    ax.set_xlabel("personal best per period")
    ax.set_ylabel("required per period")
    ax.set_title(f"Activity needed for the target ({tp.prob:.0%} probability)")
    ax.legend(fontsize=8)
    return ax


def plot_cascade(c, *, entity: str | None = None, ax=None):
    """Monthly targets of one entity (default: the team), with the quarter boundaries.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container (months).
    """
    m = c.months
    entity = m["entity"].iloc[-1] if entity is None else entity
    sub = m[m["entity"] == entity]
    ax = _axes(ax)
    ax.bar(np.arange(len(sub)), sub["target"], color="#4c72b0")
    ax.set_xticks(np.arange(len(sub)), sub["month"], rotation=45)
    for q in range(3, len(sub), 3):
        ax.axvline(q - 0.5, color="grey", lw=0.8, ls=":")
    ax.set_ylabel("target")
    ax.set_title(f"Monthly targets: {entity}")
    return ax


def plot_calibration(bt, *, ax=None):
    """Reliability diagram: realised share vs stated probability, per tier.

    Returns
    -------
    matplotlib.axes.Axes
        One line per tier plus the diagonal.
    """
    r = bt.reliability
    ax = _axes(ax, (4.5, 4.5))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect")
    for tier, sub in r.groupby("tier", sort=False):
        ax.plot(sub["stated"], sub["realised"], "o-", color=_TIER_COLORS.get(tier), label=tier)
    ax.set_xlabel("stated probability")
    ax.set_ylabel("realised share of periods")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title("Goal calibration (backtest)")
    ax.legend(fontsize=8)
    return ax
