"""Prediction ranges on the scale of the data: additive, log and count conformal ranges.

Every method's range is *conformal*: quantiles of the errors the method made
at earlier origins.  What differs is the scale on which those errors are
pooled (across groups and origins) before the quantiles are taken:

``additive``
    ``(actual - forecast) / scale``, with ``scale`` the group's in-sample MASE
    scale; bounds ``forecast + scale * q``.  Symmetric in dollars: right for
    steady series, too wide below and too narrow above on skewed ones.
``log``
    ``log1p(actual) - log1p(forecast)``; bounds ``expm1(log1p(forecast) + q)``.
    A multiplicative range: skewed up, never below 0, wider in dollars for
    big groups.  Quantiles commute with the monotone back-transformation, so
    the bounds are the quantiles of the actual on the data's scale, with no
    bias correction needed; the *point* forecast stays the method's own (a
    mean-type forecast, which adds up over reps and periods), not the
    back-transformed median of the log errors (which does not).
``count`` (``deals_won`` only)
    A negative-binomial predictive with mean the point forecast ``mu`` and
    variance ``mu + phi * mu**2``, the over-dispersion ``phi`` fitted by the
    method of moments to the method's past errors (``sum((a - f)^2 - f) /
    sum(f^2)`` over the calibration window, so the forecast's own error is
    in it; 0 = Poisson); the range is its central quantiles, whole deals
    with at most ``alpha/2`` in each tail.  Small counts get narrow,
    right-skewed ranges; large counts the familiar ``sqrt(mu)`` width.  Not
    distribution-free like the other two: the backtest checks it.

``auto`` picks, at each origin, the scale whose ranges had the lowest mean
interval score (width plus ``2 / alpha`` times each miss, the proper score
of a central interval; divided by the group's scale so big groups do not
decide alone) over the forecasts of the previous origins whose actuals were
known by then, exactly as it would have been chosen on that day.  Ties go to
``additive``, the first in :data:`RANGES`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["RANGES", "available_ranges", "conformal", "ranged", "interval_score"]

#: Scales of the conformal ranges, in order of preference on ties.
RANGES: tuple[str, ...] = ("additive", "log", "count")
#: Pooled errors below which a Student-t interval replaces the empirical quantiles.
MIN_CALIBRATION_ERRORS = 20
#: Smallest mean of a count predictive, in deals: a group forecast at 0 deals
#: still gets a predictive (its range is 0-0 until the dispersion says more).
MIN_COUNT_MEAN = 0.01


def available_ranges(target: str) -> list[str]:
    """Range scales the target supports: ``count`` needs whole deals (``deals_won``)."""
    return [r for r in RANGES if r != "count" or target == "deals_won"]


def conformal(errors: np.ndarray, interval: float) -> tuple[float, float, int]:
    """Lower and upper error quantiles with the finite-sample conformal correction.

    With fewer than :data:`MIN_CALIBRATION_ERRORS` errors the empirical
    quantiles cannot reach the nominal level (with 4 errors the widest
    empirical interval, min to max, covers only 60 %), so a Student-t
    prediction interval for one more error is used instead:
    ``mean +- t(n-1) * sd * sqrt(1 + 1/n)``.
    """
    e = errors[np.isfinite(errors)]
    n = e.size
    if n < 2:
        return np.nan, np.nan, n
    a = (1 - interval) / 2
    if n < MIN_CALIBRATION_ERRORS:
        half = float(stats.t.ppf(1 - a, n - 1) * np.std(e, ddof=1) * np.sqrt(1 + 1 / n))
        return float(e.mean()) - half, float(e.mean()) + half, n
    e = np.sort(e)  # split-conformal order statistics
    k_lo = max(math.floor((n + 1) * a), 1)
    k_hi = min(math.ceil((n + 1) * (1 - a)), n)
    return float(e[k_lo - 1]), float(e[k_hi - 1]), n


def _nb_bounds(a_w: np.ndarray, f_w: np.ndarray, f: np.ndarray, interval: float):
    """Central ``interval`` of the negative binomial with mean ``f`` and the dispersion of the past errors.

    ``a_w``, ``f_w``: past actuals and forecasts (the calibration window).
    Returns ``(lower, upper, n_errors)``: whole deals, the ``alpha/2`` and
    ``1 - alpha/2`` quantiles of the predictive (so each tail holds at most
    ``alpha/2``: with few deals the range covers more than nominal, as whole
    deals must).  NaN when fewer than 2 past errors are known.
    """
    ok = np.isfinite(a_w) & np.isfinite(f_w)
    n = int(ok.sum())
    if n < 2:
        return np.full_like(f, np.nan), np.full_like(f, np.nan), n
    phi = _dispersion(a_w, f_w)
    mu = np.maximum(f, MIN_COUNT_MEAN)
    a = (1 - interval) / 2
    if phi > 1e-9:
        r = 1.0 / phi
        lo, up = stats.nbinom.ppf([[a], [1 - a]], r, r / (r + mu))
    else:
        lo, up = stats.poisson.ppf([[a], [1 - a]], mu)
    return lo, up, n


def _dispersion(a: np.ndarray, f: np.ndarray) -> float:
    """Method-of-moments over-dispersion: ``sum((a - f)^2 - f) / sum(f^2)``, >= 0 (0 = Poisson)."""
    ok = np.isfinite(a) & np.isfinite(f)
    a, f = a[ok], np.maximum(f[ok], 0.0)
    den = float(np.sum(f**2))
    return max(float(np.sum((a - f) ** 2 - f)) / den, 0.0) if den > 0 else 0.0


def _window(rows: np.ndarray, t: int, h: int, n_cal: int) -> np.ndarray:
    """Earlier origins whose ``h``-step actual was known at ``t`` (the last ``n_cal`` of them)."""
    return (rows + h <= t) & (rows > t - n_cal - h)


def intervals(F, A, S, origin_rows, eval_idx, interval: float, n_cal: int, scale: str = "additive"):
    """Conformal bounds on ``scale`` for the forecasts made at ``eval_idx``, from errors of earlier origins.

    ``F``, ``A``: (n_origins, n_groups, H) forecasts and actuals; ``S``:
    (n_origins, n_groups) MASE scales.  Returns ``(lower, upper, n_used)``,
    the bounds unfloored (the caller puts them on the data's scale) and the
    number of past errors behind each origin and horizon.
    """
    n_o, G, H = F.shape
    lower = np.full((len(eval_idx), G, H), np.nan)
    upper = np.full((len(eval_idx), G, H), np.nan)
    n_used = np.zeros((len(eval_idx), H), dtype=int)
    rows = np.asarray(origin_rows)
    if scale == "additive":
        E = (A - F) / S[:, :, None]
    elif scale == "log":
        with np.errstate(invalid="ignore"):
            E = np.log1p(np.maximum(A, 0.0)) - np.log1p(np.maximum(F, 0.0))
    for k, i in enumerate(eval_idx):
        t = rows[i]
        for h in range(1, H + 1):
            ok = _window(rows, t, h, n_cal)
            f = F[i, :, h - 1]
            if scale == "count":
                lo, up, n = _nb_bounds(A[ok, :, h - 1], F[ok, :, h - 1], f, interval)
            else:
                qlo, qhi, n = conformal(E[ok, :, h - 1].ravel(), interval)
                if scale == "log":
                    base = np.log1p(np.maximum(f, 0.0))
                    lo, up = np.expm1(base + qlo), np.expm1(base + qhi)
                else:
                    lo, up = f + S[i] * qlo, f + S[i] * qhi
            n_used[k, h - 1] = n
            lower[k, :, h - 1] = np.maximum(lo, 0.0)
            upper[k, :, h - 1] = np.maximum(up, 0.0)
    return lower, upper, n_used


def interval_score(lo, up, a, interval: float) -> np.ndarray:
    """Interval score of central ``interval`` ranges: width + (2 / alpha) x the distance of each miss."""
    alpha = 1 - interval
    return (up - lo) + (2 / alpha) * (np.maximum(lo - a, 0.0) + np.maximum(a - up, 0.0))


def _on_data_scale(lo, up, F, whole: bool):
    """Bounds as the caller reports them (>= 0, around the point, whole deals), for scoring."""
    lo = np.minimum(np.maximum(lo, 0.0), F)
    up = np.maximum(up, F)
    if whole:
        lo, up = np.floor(lo + 1e-9), np.ceil(up - 1e-9)
    return lo, up


def _scores(F, A, S, rows, interval, n_cal, scales, whole) -> dict:
    """Per scale: the bounds at every origin and their interval scores (divided by the group's scale)."""
    out = {}
    all_idx = list(range(F.shape[0]))
    for sc in scales:
        lo, up, n = intervals(F, A, S, rows, all_idx, interval, n_cal, sc)
        blo, bup = _on_data_scale(lo, up, F, whole)
        out[sc] = (lo, up, n, interval_score(blo, bup, A, interval) / S[:, :, None])
    return out


def ranged(F, A, S, origin_rows, eval_idx, interval: float, n_cal: int, *, ranges: str, target: str):
    """Bounds at ``eval_idx`` on the requested scale, or on the one ``auto`` picks at each origin.

    Returns ``(lower, upper, n_used, picks, scores)``: ``picks`` the scale used
    at each evaluation origin; ``scores`` the mean (scaled) interval score of
    each candidate scale over the window the last pick was made from (empty
    unless ``ranges="auto"``).
    """
    rows = np.asarray(origin_rows)
    if ranges != "auto":
        lo, up, n = intervals(F, A, S, rows, eval_idx, interval, n_cal, ranges)
        return lo, up, n, [ranges] * len(eval_idx), {}
    scales = available_ranges(target)
    cand = _scores(F, A, S, rows, interval, n_cal, scales, target == "deals_won")
    H = F.shape[2]
    both = np.ones(F.shape, dtype=bool)
    for v in cand.values():
        both &= np.isfinite(v[3])
    picks, scores = [], {}
    idx = np.asarray(eval_idx)
    lower, upper = np.full((len(idx), *F.shape[1:]), np.nan), np.full((len(idx), *F.shape[1:]), np.nan)
    n_used = np.zeros((len(idx), H), dtype=int)
    horizon = np.arange(1, H + 1)
    for k, i in enumerate(idx):
        t = rows[i]
        past = ((rows[:, None] + horizon[None, :]) <= t) & (rows[:, None] > t - n_cal - H)
        mask = both & past[:, None, :]
        scores = {sc: float(np.mean(v[3][mask])) for sc, v in cand.items()} if mask.any() else {}
        pick = min(scores, key=lambda sc: (scores[sc], scales.index(sc))) if scores else scales[0]
        picks.append(pick)
        lower[k], upper[k], n_used[k] = cand[pick][0][i], cand[pick][1][i], cand[pick][2][i]
    return lower, upper, n_used, picks, scores
