"""Sparse reps pooled toward their team, and rep forecasts that add up to teams and the total.

A rep with one or two won deals has no forecast of their own worth a range:
their own history says "zero, or one deal" and nothing about how often.
:func:`pool_sparse_reps` shrinks each ``sparse_history`` rep's forecast and
bounds toward the mean of their team's other reps, with the weight of their
own history ``n_won / (n_won + MIN_DEALS_FOR_RANGE)`` (a rep with no win is
forecast as an average teammate; with two wins, 40 % their own); the flag
``pooled`` says so.

:func:`reconcile` then adds the reps up, bottom-up: each team's forecast is
the sum of its reps', the total the sum of the teams', so the three levels
agree exactly.  The bounds of a team or the total are the summed forecast
+- the root sum of squares of the reps' half-widths (lower and upper apart):
the rule for independent errors, an approximation (reps of one team share
busy weeks, which widens the truth; a team-level forecast calibrated on its
own errors is the check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pool_sparse_reps", "reconcile"]

ALL = "(all)"


def pool_sparse_reps(table: pd.DataFrame, team_of: dict[str, str], n_won: dict[str, float], k: float) -> pd.DataFrame:
    """Shrink the ``sparse_history`` reps of a rep-level forecast table toward their team's mean rep."""
    t = table.copy()
    t["_team"] = t["group"].map(team_of).fillna("(unassigned)")
    sparse = t["flags"].str.contains("sparse_history", regex=False)
    if not sparse.any():
        return t.drop(columns="_team")
    key = ["_team", "method", "period"]
    donors = t.loc[~sparse] if (~sparse).any() else t
    means = donors.groupby(key, sort=False)[["forecast", "lower", "upper"]].mean()
    means = means.reindex(pd.MultiIndex.from_frame(t[key]))
    fallback = t.groupby(["method", "period"], sort=False)[["forecast", "lower", "upper"]].transform("mean")
    w = t["group"].map(n_won).fillna(0.0).to_numpy(dtype=float)
    w = w / (w + k)
    for c in ("forecast", "lower", "upper"):
        team_mean = np.where(np.isfinite(means[c].to_numpy()), means[c].to_numpy(), fallback[c].to_numpy())
        pooled = w * t[c].to_numpy(dtype=float) + (1 - w) * team_mean
        t[c] = np.where(sparse, pooled, t[c].to_numpy(dtype=float))
    t["lower"] = np.minimum(t["lower"], t["forecast"])
    t["upper"] = np.maximum(t["upper"], t["forecast"])
    t["flags"] = np.where(sparse, t["flags"] + ";pooled", t["flags"])
    return t.drop(columns="_team")


def reconcile(table: pd.DataFrame, team_of: dict[str, str]) -> pd.DataFrame:
    """Bottom-up hierarchy of a rep-level forecast table: rep, team and total rows that add up.

    Returns one row per level, group, method and period: ``level`` (rep,
    team, total), ``group``, ``method``, ``period``, ``forecast``,
    ``lower``, ``upper``.
    """
    t = table[["group", "method", "period", "forecast", "lower", "upper"]].copy()
    t["team"] = t["group"].map(team_of).fillna("(unassigned)")
    t["lo2"] = (t["forecast"] - t["lower"]) ** 2
    t["hi2"] = (t["upper"] - t["forecast"]) ** 2
    frames = [t.assign(level="rep")]
    for level, by in (("team", ["team"]), ("total", [])):
        g = t.groupby([*by, "method", "period"], sort=True)[["forecast", "lo2", "hi2"]].sum().reset_index()
        g["group"] = g["team"] if by else ALL
        frames.append(g.assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    out["lower"] = np.maximum(out["forecast"] - np.sqrt(out["lo2"]), 0.0)
    out["upper"] = out["forecast"] + np.sqrt(out["hi2"])
    rep_rows = out["level"] == "rep"
    out.loc[rep_rows, "lower"] = t["lower"].to_numpy()
    out.loc[rep_rows, "upper"] = t["upper"].to_numpy()
    cols = ["level", "group", "method", "period", "forecast", "lower", "upper"]
    return out[cols].reset_index(drop=True)
