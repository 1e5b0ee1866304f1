"""Plots of goal tracking: pacing per rep and a status heatmap."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.colors import ListedColormap
import numpy as np

from salesgoals._typing import STATUSES

_COLORS = {"ahead": "#2b8a3e", "on_track": "#74b816", "at_risk": "#f59f00", "behind": "#e03131", "unknown": "#adb5bd"}


def plot_pacing(result, *, activity: str | None = None, by: str = "rep", ax=None):
    """Attainment against the landmark: one bar per rep (or team) and goal.

    Bars show actual / goal, coloured by status; the tick marks the landmark
    (where the rep should be by now) and the dot the projected end of period.

    Parameters
    ----------
    result : TrackResult
        From :func:`salesgoals.track`.
    activity : str, optional
        Only this activity (default all tracked goals).
    by : {"rep", "team"}, default="rep"
        Per person, or the team roll-up.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        ``activity`` names no tracked goal (the chart would be empty).

    Examples
    --------
    >>> import pandas as pd, salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=12, seed=0)
    >>> goals = pd.DataFrame({"rep": sim.roster["rep"], "activity": "call", "goal_clear": 100.0,
    ...                       "goal_stretch": 120.0, "goal_extraordinary": 160.0})
    >>> ax = plot_pacing(sg.track(sim.activities, goals, as_of="2024-03-13"))
    >>> len(ax.patches)
    3
    """
    t = result.table if by == "rep" else result.team.rename(columns={"team": "rep"})
    if activity is not None:
        if not (t["activity"] == activity).any():
            tracked = ", ".join(map(repr, sorted(t["activity"].unique())))
            raise ValueError(
                f"plot_pacing: no tracked goal on activity={activity!r} (nothing to draw); "
                f"the goals tracked are on {tracked or 'nothing'}."
            )
        t = t[t["activity"] == activity]
    t = t.iloc[::-1]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.28 * len(t) + 1)))
    goal = t["goal"].where(t["goal"] > 0, 1.0).to_numpy()
    y = np.arange(len(t))
    ax.barh(y, t["actual"].to_numpy() / goal, color=[_COLORS[s] for s in t["status"]], height=0.6)
    ax.scatter(
        t["expected"].to_numpy() / goal,
        y,
        marker="|",
        s=200,
        color="black",
        label="landmark",
        zorder=3,
    )
    ax.scatter(
        t["projected"].to_numpy() / goal,
        y,
        marker="o",
        s=14,
        color="grey",
        label="projected",
        zorder=3,
    )
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks(y, (t["rep"] + " - " + t["activity"]).tolist(), fontsize=7)
    ax.set_xlabel("share of goal")
    ax.set_title(f"Pacing as of {result.as_of.date()} ({result.tier} goals)")
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_status_heatmap(result, *, ax=None):
    """Heatmap of goal status: reps in rows, activities in columns.

    Parameters
    ----------
    result : TrackResult
        From :func:`salesgoals.track`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    t = result.table
    code = t["status"].map({s: i for i, s in enumerate(STATUSES)})
    wide = code.groupby([t["rep"], t["activity"]]).max().unstack("activity")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 * wide.shape[1] + 3, 0.25 * wide.shape[0] + 1.5))
    cmap = ListedColormap([_COLORS[s] for s in STATUSES])
    ax.imshow(
        np.ma.masked_invalid(wide.to_numpy(dtype=float)),
        cmap=cmap,
        vmin=-0.5,
        vmax=3.5,
        aspect="auto",
    )
    ax.set_xticks(np.arange(wide.shape[1]), wide.columns.tolist(), rotation=30, fontsize=8)
    ax.set_yticks(np.arange(wide.shape[0]), wide.index.tolist(), fontsize=7)
    for s in STATUSES:
        ax.plot([], [], "s", color=_COLORS[s], label=s.replace("_", " "))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"Goal status as of {result.as_of.date()}")
    return ax
