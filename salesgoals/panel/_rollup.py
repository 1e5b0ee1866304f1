"""A rep x period panel summed to groups: one row per group x period."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["group_panel"]


def group_panel(panel: pd.DataFrame, by: str) -> pd.DataFrame:
    """Sum a rep x period panel to one row per ``by`` group and period.

    The groups take the place of the reps (column ``rep`` holds the group name),
    so every step that reads a panel (the driver model, forecasts) runs on the
    group series at the cost of a few groups instead of thousands of reps.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel` (or :mod:`salesgoals.panel.scale`).
    by : str
        Roster column to group by (``team``, ``manager``, ``region``).

    Returns
    -------
    pandas.DataFrame
        ``rep`` (the group), ``period``, ``by``, then every count and money
        column of the panel summed over the group's reps, and ``win_rate`` =
        ``deals_won / (deals_won + deals_lost)`` of the group (NaN when nothing
        closed); sorted by group then period; ``attrs`` kept.  A group is
        present in a period when any of its reps is; missing group labels
        become ``"(unassigned)"``.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=20, seed=1)
    >>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    >>> teams = group_panel(panel, "team")
    >>> float(teams["won_revenue"].sum()) == float(panel["won_revenue"].sum())
    True
    """
    if by not in panel.columns:
        raise KeyError(f"group_panel: the panel has no {by!r} column.")
    keys = panel[by].astype(object).where(panel[by].notna(), "(unassigned)").astype(str)
    skip = {"rep", "period", by, "win_rate", "team", "manager", "region"}
    num = [c for c in panel.columns if c not in skip and pd.api.types.is_numeric_dtype(panel[c])]
    out = (
        panel[num]
        .groupby([keys.rename(by), panel["period"]], sort=True, observed=True)
        .sum()
        .reset_index()
    )
    out.insert(0, "rep", out[by].to_numpy())
    if "win_rate" in panel.columns and {"deals_won", "deals_lost"} <= set(out.columns):
        closed = (out["deals_won"] + out["deals_lost"]).to_numpy(float)
        out["win_rate"] = np.where(closed > 0, out["deals_won"] / np.maximum(closed, 1), np.nan)
    out.attrs = dict(panel.attrs)
    return out
