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
agree exactly.  :func:`reconcile` gives a team or the total the summed
forecast +- the root sum of squares of the reps' half-widths (lower and upper
apart): the rule for independent errors on an additive scale.  Reps of one
team share busy and quiet weeks, and log or count ranges do not add in
quadrature, so that range is only the fallback: :func:`salesgoals.forecast`
calibrates each roll-up on its own past errors instead (:func:`rollup_sums`
of the reps' forecasts and actuals at the earlier origins, then the same
conformal ranges as any group), keeping the quadrature range only where a
roll-up has fewer than 2 past errors.  On a fixture whose reps share team
and company shocks (``tests/test_forecast_rollup.py``) the quadrature
ranges covered 0.57 (teams) and 0.43 (total) of weeks at a nominal 0.80,
the calibrated ones 0.78 and 0.83 (``tests/reference/forecast_rollup_study.py``
has more seeds, independent reps and the simulator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pool_sparse_reps", "reconcile", "rollup_members", "rollup_sums"]

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


def rollup_members(groups: list[str], team_of: dict[str, str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """The roll-ups of a rep-level forecast - each team (sorted), then the total - and who is in each.

    Returns ``(rollups, M)``: ``rollups`` a list of ``(level, group)`` pairs
    (``("team", name)`` ..., ``("total", "(all)")``), ``M`` their 0/1
    membership over ``groups`` (n_rollups x n_reps), teams as :func:`reconcile` assigns them.
    """
    team = pd.Series(list(groups), dtype=object).map(team_of).fillna("(unassigned)").to_numpy(dtype=object)
    names = sorted(set(team))
    M = np.vstack([*(team == t for t in names), np.ones(len(groups), dtype=bool)]).astype(float)
    return [*(("team", t) for t in names), ("total", ALL)], M


def rollup_sums(X: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Sums over the member reps of an (n_origins, n_reps, H) array: (n_origins, n_rollups, H).

    A rep without a value (not started yet, or gone) adds nothing; NaN where
    no member has a value (a period not known yet, a team with no rep then).
    """
    known = np.isfinite(X)
    total = np.einsum("ogh,rg->orh", np.where(known, X, 0.0), M)
    has = np.einsum("ogh,rg->orh", known.astype(float), M) > 0
    return np.where(has, total, np.nan)
