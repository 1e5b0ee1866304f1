"""Plots of driver models and performer comparisons."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_drivers(result, *, ax=None, color: str = "C0", show_zero: bool = True):
    """Effects of each activity with their confidence intervals (a forest plot).

    Parameters
    ----------
    result : DriverResult
        From :func:`salesgoals.fit_drivers`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    color : str, default="C0"
        Colour of drivers (``is_driver``: pass the multiplicity-controlled
        test, no reverse-causality flag); others are grey.
    show_zero : bool, default=True
        Draw the no-effect line.

    Returns
    -------
    matplotlib.axes.Axes
        One errorbar point per activity, most important at the top.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=30, seed=0)
    >>> res = sg.fit_drivers(sim.panel(), lags=1, diagnostics=False, n_boot=0)
    >>> ax = plot_drivers(res)
    >>> len(ax.get_yticks())
    4
    """
    eff = result.effects
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(len(eff), 2)))
    y = np.arange(len(eff))[::-1]
    for yi, (_, row) in zip(y, eff.iterrows()):
        c = color if bool(row.get("is_driver", row["significant"])) else "0.55"
        ax.errorbar(row["effect"], yi, xerr=[[row["effect"] - row["ci_low"]], [row["ci_high"] - row["effect"]]],
                    fmt="o", color=c, capsize=3, lw=1.6)  # fmt: skip
    if show_zero:
        ax.axvline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(eff["activity"].astype(str).tolist())
    ax.set_xlabel(f"change in {result.outcome.replace('_', ' ')} per extra activity ({result.interval:.0%} interval)")
    ax.set_title(f"What drives {result.outcome.replace('_', ' ')} (within rep and period)")
    return ax


def plot_lag_profile(result, *, ax=None):
    """Lag profile of every activity: effect of one logged activity by lag, with +-2 s.e. bands.

    Parameters
    ----------
    result : DriverResult
        From :func:`salesgoals.fit_drivers`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line per activity.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=30, seed=0)
    >>> ax = plot_lag_profile(sg.fit_drivers(sim.panel(), lags=2, diagnostics=False, n_boot=0))
    >>> len(ax.lines)
    5
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for act, g in result.lag_profile.groupby("activity", sort=False):
        line = ax.plot(g["lag"], g["effect"], marker="o", label=str(act))[0]
        ax.fill_between(g["lag"], g["effect"] - 2 * g["std_error"], g["effect"] + 2 * g["std_error"],
                        color=line.get_color(), alpha=0.15)  # fmt: skip
    ax.axhline(0.0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel(f"lag ({result.freq} periods after the activity)")
    ax.set_ylabel(f"effect on {result.estimated_outcome.replace('_', ' ')}")
    ax.set_title("When the effect arrives")
    ax.legend(fontsize=8)
    return ax


def plot_performers(comparison, *, ax=None, kind: str = "compare"):
    """What top performers do differently, or where reps' funnels leak.

    Parameters
    ----------
    comparison : PerformerComparison
        From :func:`salesgoals.compare_performers`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    kind : {"compare", "leaks"}, default="compare"
        ``"compare"``: one bar per metric, top / rest ratio on a log scale
        (bars right of 1 = top performers have more).  ``"leaks"``: one bar
        per rep (the 15 with the largest upside), revenue per period added by
        closing the leak, labelled with the stage.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=30, seed=4)
    >>> comp = sg.compare_performers(sim.panel())
    >>> ax = plot_performers(comp)
    >>> len(ax.patches) == len(comp.compare)
    True
    """
    if kind not in ("compare", "leaks"):
        raise ValueError(f"plot_performers: kind must be 'compare' or 'leaks'; got {kind!r}.")
    if kind == "compare":
        cmp = comparison.compare
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 + 0.3 * len(cmp)))
        ratio = np.where(cmp["ratio"] > 0, cmp["ratio"], np.nan)
        y = np.arange(len(cmp))[::-1]
        colors = ["C2" if r >= 1 else "C3" for r in np.nan_to_num(ratio, nan=1.0)]
        ax.barh(y, np.log2(np.nan_to_num(ratio, nan=1.0)), color=colors)
        ax.set_yticks(y)
        ax.set_yticklabels(cmp["metric"].astype(str).tolist(), fontsize=8)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlabel("top / rest (log2: +1 = twice as much)")
        ax.set_title(f"Top {comparison.top_share:.0%} by {comparison.by.replace('_', ' ')} vs the rest")
        return ax
    leaks = comparison.leaks.head(15)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.5 + 0.35 * max(len(leaks), 2)))
    y = np.arange(len(leaks))[::-1]
    ax.barh(y, leaks["upside_per_period"].to_numpy(dtype=float), color="C1")
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r} ({s})" for r, s in zip(leaks["rep"], leaks["leak_stage"])], fontsize=8)
    ax.set_xlabel("revenue per period added by closing the leak")
    ax.set_title("Where each rep's funnel leaks")
    return ax
