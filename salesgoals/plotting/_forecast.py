"""Plots of forecasts and their backtests."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def plot_forecast(result, *, group: str | None = None, history: int | None = 26, ax=None):
    """Fan chart: the history of one group (or the sum of all) and the forecast with its interval.

    Parameters
    ----------
    result : ForecastResult
        From :func:`salesgoals.forecasting`.
    group : str, optional
        Group to draw; default the sum over all groups (bounds summed, which
        overstates the width of the total's interval: the chart is a guide).
    history : int, optional
        Periods of history shown (default 26; None for all).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=60, seed=1)
    >>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    >>> res = sg.forecast(panel, deals=sim.deals, level="total", method="pipeline")
    >>> len(plot_forecast(res).lines)  # forecast, actual, as-of marker
    3
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    h, t = result.history, result.table
    if group is not None:
        h, t = h[h["group"] == group], t[t["group"] == group]
    hist = h.groupby("period", sort=True)["actual"].sum()
    if history is not None:
        hist = hist.iloc[-history:]
    for method, f in t.groupby("method", sort=False):
        f = f.groupby("period", sort=True)[["forecast", "lower", "upper"]].sum()
        x = f.index.to_timestamp()
        ax.fill_between(
            x,
            f["lower"],
            f["upper"],
            alpha=0.25,
            label=f"{result.interval:.0%} interval ({method})",
        )
        ax.plot(x, f["forecast"], marker="o", lw=1.6, label=f"forecast ({method})")
    ax.plot(hist.index.to_timestamp(), hist.to_numpy(), color="black", lw=1.2, label="actual")
    ax.axvline(result.as_of, color="grey", ls=":", lw=1)
    ax.set_ylabel(result.target.replace("_", " "))
    ax.set_title(
        f"{result.target.replace('_', ' ')} forecast"
        + (f": {group}" if group else "")
        + f" (as of {result.as_of.date()})"
    )
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_backtest(result, *, ax=None):
    """Interval coverage (bars) against the nominal level, and relative MAE, per method.

    Parameters
    ----------
    result : BacktestResult
        From :func:`salesgoals.backtest_forecast`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    t = result.table
    x = np.arange(len(t))
    ax.bar(x - 0.2, t["coverage"], width=0.4, label="interval coverage")
    ax.bar(x + 0.2, t["relative_mae"], width=0.4, label="MAE / seasonal naive")
    ax.axhline(
        result.interval, color="black", ls="--", lw=1, label=f"nominal {result.interval:.0%}"
    )
    ax.set_xticks(x, t["method"], rotation=20)
    ax.set_title(f"Backtest ({result.level}, {result.freq}, horizon {result.horizon})")
    ax.legend(fontsize=8, loc="upper right")
    return ax
