"""Plots of the rep x period panel."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from salesgoals._schema import activity_columns


def plot_panel(panel: pd.DataFrame, *, column: str = "won_revenue", by: str | None = None, ax=None):
    """Plot a panel column over time, summed over reps (or per group).

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel`.
    column : str, default="won_revenue"
        Column to plot; ``"activities"`` plots every activity type.
    by : str, optional
        Roster column (``team``, ``manager``, ``region``) to draw one line per group.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> ax = plot_panel(make_crm_data(n_reps=4, n_weeks=12, seed=0).panel(), column="activities")
    >>> len(ax.lines)
    4
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    cols = activity_columns(panel) if column == "activities" else [column]
    if by is None:
        wide = panel.groupby("period", sort=True)[cols].sum()
    else:
        wide = panel.pivot_table(index="period", columns=by, values=column, aggfunc="sum", fill_value=0)
    x = wide.index.to_timestamp()
    for name in wide.columns:
        ax.plot(x, wide[name].to_numpy(), label=str(name), lw=1.4)
    ax.set_ylabel(column.replace("_", " "))
    ax.set_title(f"{column.replace('_', ' ')} per {panel.attrs.get('freq', 'period')}" + (f" by {by}" if by else ""))
    ax.legend(loc="upper left", fontsize=8, ncol=min(4, len(wide.columns)))
    return ax
