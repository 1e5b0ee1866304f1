"""The history a goal is set from: the rep window, the team's season and each rep's levels.

Pieces of :func:`salesgoals.personal_best_goals`, each named for what it decides:

* :func:`history_window` - which reps get goals (active at ``as_of``) and which periods count;
* :func:`season` - the team's seasonal factors, past and over the goal horizon;
* :func:`rep_levels` - each rep's recent level, variance, best sustained level (and when),
  and the recent and previous levels behind the ``inactive`` / ``declining`` flags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesgoals.errors import InsufficientDataError

__all__ = ["History", "history_window", "season", "rep_levels", "autocorrelation", "expected_autocorrelation",
           "debias_autocorrelation", "SEASON_CLIP"]

#: Seasonal factors are clipped to this range (a week with almost no activity,
#: such as the Christmas week, should not explode a rep's adjusted level).
SEASON_CLIP = (0.25, 4.0)


@dataclass
class History:
    """Rows of the look-back for the active reps, sorted by rep then period."""

    p: pd.DataFrame
    as_of: pd.Period
    excluded: list
    reps: pd.Index
    code: np.ndarray
    peer: np.ndarray
    n_look: np.ndarray
    pos_from_end: np.ndarray
    in_base: np.ndarray
    n_base: np.ndarray


def history_window(panel, as_of, *, lookback: int, baseline_window: int, peer_col: str) -> History:
    """Keep the reps active at ``as_of`` and their last ``lookback`` periods."""
    p = panel
    if as_of is not None:
        as_of_p = pd.Period(as_of, freq=panel["period"].dtype.freq)
        p = p[p["period"] <= as_of_p]
    else:
        as_of_p = panel["period"].max()
    if len(p) == 0:
        raise InsufficientDataError(f"personal_best_goals: no history on or before {as_of}.")
    p = p.sort_values(["rep", "period"], kind="mergesort")
    last = p.groupby("rep", sort=True, observed=True)["period"].transform("max")
    active = p["rep"][last == as_of_p].unique()
    excluded = sorted(set(p["rep"].unique()) - set(active))
    p = p[p["rep"].isin(active)]
    if len(p) == 0:
        raise InsufficientDataError(
            f"personal_best_goals: no rep has history up to {as_of_p}; every rep's span ended earlier."
        )
    pos_from_end = p.groupby("rep", sort=True, observed=True).cumcount(ascending=False).to_numpy()
    keep = pos_from_end < lookback
    p, pos_from_end = p[keep], pos_from_end[keep]
    reps = pd.Index(np.sort(p["rep"].unique().astype(str)), dtype=object)
    R = len(reps)
    code = reps.get_indexer(p["rep"].astype(str))
    if peer_col in p.columns:
        first = p.groupby("rep", sort=True, observed=True)[peer_col].first()
        first.index = first.index.astype(str)
        peer = first.reindex(reps).astype(object).fillna("(all)").astype(str).to_numpy()
    else:
        peer = np.full(R, "(all)", dtype=object)
    in_base = pos_from_end < baseline_window
    return History(
        p=p, as_of=as_of_p, excluded=excluded, reps=reps, code=code, peer=peer,
        n_look=np.bincount(code, minlength=R), pos_from_end=pos_from_end, in_base=in_base,
        n_base=np.bincount(code[in_base], minlength=R).astype(float),
    )  # fmt: skip


def season(panel, h: History, cols, *, season_len: int, H: int, seasonal: bool):
    """Team seasonal factors: per look-back row (rows x M) and per horizon period (H x M).

    The factor of a period is the team's mean per active rep in that period
    divided by its mean over the year ending at ``as_of``.  A future period
    takes the factor of the same period one year earlier.  Without a full
    year of history (or with ``seasonal=False``) every factor is 1.
    Returns ``(row_s, s_h, deals_season)``.
    """
    hist = panel[panel["period"] <= h.as_of]
    all_cols = [*cols, "deals_created"]
    per = hist.groupby("period", sort=True)[all_cols].mean()
    if not seasonal or len(per) < season_len or H > season_len:
        return np.ones((len(h.p), len(cols))), np.ones((H, len(cols))), 1.0
    level = per.iloc[-season_len:].mean(axis=0).to_numpy(float)
    fac = per.to_numpy(float) / np.where(level > 0, level, 1.0)[None, :]
    fac = np.where(level[None, :] > 0, np.clip(fac, *SEASON_CLIP), 1.0)
    fac[: len(per) - season_len] = 1.0  # only the last year is used
    past = pd.DataFrame(fac, index=per.index, columns=all_cols)
    future = fac[len(per) - season_len : len(per) - season_len + H]
    row_s = past.reindex(h.p["period"]).to_numpy(float)[:, :-1]
    return row_s, future[:, :-1], float(future[:, -1].mean())


def _grouped_sum(code, values, R):
    out = np.zeros((R, values.shape[1]))
    np.add.at(out, code, values)
    return out


def rep_levels(h: History, X_raw, row_s, *, best_window: int, recent_window: int) -> dict:
    """Each rep's deseasonalised levels (R x M arrays).

    * ``mean_raw``, ``var_raw``: mean and variance over the baseline window (deseasonalised,
      ratio of sums so a quiet holiday week is not blown up by its small factor);
    * ``recent``: the plain (not adjusted) mean over the baseline window;
    * ``best``, ``best_end``: best rolling ``best_window`` mean in the look-back and the position
      (periods before ``as_of``) of its last period;
    * ``last_sum``: count over the last ``recent_window`` periods (the ``inactive`` check);
    * ``before``: deseasonalised mean of the look-back before the baseline window;
    * ``overall``: deseasonalised mean of the whole look-back (the rep's own year level).
    """
    R, code, in_base = len(h.reps), h.code, h.in_base
    X = X_raw / row_s
    n_base = h.n_base
    nb = np.maximum(n_base, 1)[:, None]
    sums = _grouped_sum(code[in_base], X[in_base], R)
    sq = _grouped_sum(code[in_base], X[in_base] ** 2, R)
    raw_sums = _grouped_sum(code[in_base], X_raw[in_base], R)
    s_sums = _grouped_sum(code[in_base], row_s[in_base], R)
    mean_raw = np.where(s_sums > 0, raw_sums / np.where(s_sums > 0, s_sums, 1.0), sums / nb)
    var_raw = np.where(n_base[:, None] > 1, (sq - nb * mean_raw**2) / np.maximum(nb - 1, 1), 0.0)
    within = h.p.groupby("rep", sort=True, observed=True).cumcount().to_numpy()

    def rolling_sum(values):
        csum = pd.DataFrame(values).groupby(code).cumsum().to_numpy()
        return csum - pd.DataFrame(csum).groupby(code).shift(best_window).fillna(0.0).to_numpy()

    roll = rolling_sum(X_raw) / np.maximum(rolling_sum(row_s), 1e-9)
    roll[within < best_window - 1] = -np.inf
    best = np.full((R, X.shape[1]), -np.inf)
    np.maximum.at(best, code, roll)
    # where the best run ended (periods before as_of): the latest row that attains the best
    hit = np.isfinite(roll) & (roll >= best[code] - 1e-12)
    end = np.full((R, X.shape[1]), -(10**9))
    np.maximum.at(end, code, np.where(hit, -h.pos_from_end[:, None], -(10**9)))
    overall = _grouped_sum(code, X, R) / np.maximum(h.n_look, 1)[:, None]
    short = ~np.isfinite(best)
    last = h.pos_from_end < recent_window
    old = ~in_base
    n_old = np.bincount(code[old], minlength=R)[:, None]
    return {
        "X": X, "mean_raw": mean_raw, "var_raw": np.maximum(var_raw, 0.0),
        "recent": raw_sums / nb, "best": np.where(short, overall, best), "overall": overall,
        "best_end": np.where(short, 0, -end), "last_sum": _grouped_sum(code[last], X_raw[last], R),
        "before": np.where(n_old > 0, _grouped_sum(code[old], X[old], R) / np.maximum(n_old, 1), np.nan),
    }  # fmt: skip


def autocorrelation(X: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pooled within-rep autocorrelation of each metric as ``share * phi**k``.

    Lag-1 and lag-2 correlations of the deviations from each rep's mean give
    ``phi = r2 / r1`` and ``share = r1 / phi``: the persistent share of the
    variance and its decay per period (count noise does not persist).  Deviations
    from a mean estimated on the same ~52 periods understate persistence (the
    mean absorbs part of every streak): :func:`debias_autocorrelation` solves for
    the correlations whose expected estimates are the ones observed.
    """
    M = X.shape[1]
    n = np.bincount(code, minlength=code.max() + 1).astype(float)
    mean = np.zeros((n.size, M))
    np.add.at(mean, code, X)
    dev = X - (mean / np.maximum(n, 1)[:, None])[code]
    var = (dev**2).sum(axis=0)
    r = []
    for lag in (1, 2):  # rows are sorted by rep then period, contiguous within a rep
        same = np.zeros(len(code), dtype=bool)
        same[lag:] = code[lag:] == code[:-lag]
        prod = np.zeros_like(dev)
        prod[lag:] = dev[lag:] * dev[:-lag]
        r.append(np.where(var > 0, prod[same].sum(axis=0) / np.where(var > 0, var, 1.0), 0.0))
    r1, r2 = debias_autocorrelation(r[0], r[1], n[n > 0])
    r1, r2 = np.clip(r1, 0.0, 0.99), np.clip(r2, 0.0, 0.99)
    phi = np.where(r1 > 1e-6, np.clip(r2 / np.maximum(r1, 1e-6), 0.0, 0.95), 0.0)
    share = np.where(phi > 0, np.clip(r1 / np.maximum(phi, 1e-6), 0.0, 1.0), r1)
    return share, phi


def expected_autocorrelation(share, phi, lengths) -> tuple[np.ndarray, np.ndarray]:
    """Expected pooled lag-1 and lag-2 correlations of deviations from each series' own mean.

    For series of the given ``lengths`` whose true correlation at lag ``k >= 1`` is
    ``share * phi**k`` (per metric): the exact expectation of the cross-products of demeaned
    series, pooled over series as :func:`autocorrelation` pools them (ratio of the sums).
    """
    share, phi = np.atleast_1d(share).astype(float), np.atleast_1d(phi).astype(float)
    lens, counts = np.unique(np.asarray(lengths, dtype=int), return_counts=True)
    num = np.zeros((2, share.size))
    den = np.zeros(share.size)
    for n, w in zip(lens, counts):  # a few distinct history lengths
        if n < 3:
            continue
        lag = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
        rho = np.where(lag[None] == 0, 1.0, share[:, None, None] * phi[:, None, None] ** lag[None])  # M x n x n
        c = rho.mean(axis=2)  # covariance of each period with the series mean
        v = rho.mean(axis=(1, 2))  # variance of the mean
        centred = rho - c[:, :, None] - c[:, None, :] + v[:, None, None]
        den += w * np.trace(centred, axis1=1, axis2=2)
        for k in (1, 2):
            num[k - 1] += w * np.trace(centred, offset=k, axis1=1, axis2=2)
    den = np.maximum(den, 1e-12)
    return num[0] / den, num[1] / den


def debias_autocorrelation(r1, r2, lengths, *, iterations: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """The lag-1 and lag-2 correlations whose expected demeaned estimates equal the observed ``r1, r2``.

    Fixed-point iteration on ``true <- true + (observed - expected(true))``, starting from the
    observed values (the bias is a few points at 52 periods, so a few steps converge).  Series
    too short to carry information (under 3 periods) are ignored; with none the observed
    values are returned.

    Examples
    --------
    >>> r1, r2 = expected_autocorrelation(0.8, 0.6, [52] * 40)
    >>> t1, t2 = debias_autocorrelation(r1, r2, [52] * 40)
    >>> round(float(t1[0]), 3), round(float(t2[0]), 3)
    (0.48, 0.288)
    """
    r1, r2 = np.atleast_1d(r1).astype(float), np.atleast_1d(r2).astype(float)
    if not np.any(np.asarray(lengths) >= 3):
        return r1, r2
    t1, t2 = r1.copy(), r2.copy()
    for _ in range(iterations):  # fixed point, a few dozen cheap steps
        a1, a2 = np.clip(t1, 1e-6, 0.99), np.clip(t2, 0.0, 0.99)
        phi = np.clip(a2 / a1, 0.0, 0.95)
        share = np.clip(a1 / np.maximum(phi, 1e-6), 0.0, 1.0)
        share = np.where(phi > 0, share, a1)
        e1, e2 = expected_autocorrelation(share, phi, lengths)
        t1, t2 = t1 + (r1 - e1), t2 + (r2 - e2)
    return np.where(r1 > 0, t1, r1), np.where(r2 > 0, t2, r2)
