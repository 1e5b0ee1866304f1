"""The simple per-group forecasts (seasonal naive, trailing mean, drift), for every group at once.

At rep level a forecast has thousands of groups and a backtest dozens of
origins; the benchmark methods and the MASE scale are a few array operations
each, so they are computed on the whole (periods x groups) history matrix at
once instead of group by group.  Each group's history (its values up to the
origin, gaps dropped, from its active start: see ``_forecast._history``) is
packed to the bottom of a matrix, so "the last k values" of every group is a
slice of rows and its first value one gather.  The results equal the
group-by-group definitions in ``_forecast`` (``_seasonal_naive``,
``_trailing_mean``, ``_drift``, ``_scale``, ``_benchmark_bounds``) to
rounding (``tests/test_forecast_vectorised.py`` checks 1e-12 against them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Histories", "histories", "benchmark_forecasts", "benchmark_bounds"]


@dataclass
class Histories:
    """Every active group's history up to one origin, packed at the bottom of a matrix.

    ``z[-k:, g]`` are the last ``k`` values of group ``g`` (``k <= length[g]``);
    rows above a group's history are NaN.
    """

    z: np.ndarray  # (T, n) packed histories
    length: np.ndarray  # (n,) values in each history (>= 1)
    trimmed: np.ndarray  # (n,) leading zeros dropped (periods before the active start)

    def last(self, k: np.ndarray | int) -> np.ndarray:
        """Mask (T, n) of each group's last ``min(k, length)`` values."""
        rows = np.arange(self.z.shape[0])[:, None]
        return rows >= self.z.shape[0] - np.minimum(k, self.length)[None, :]

    def first_value(self) -> np.ndarray:
        return self.z[self.z.shape[0] - self.length, np.arange(self.z.shape[1])]

    def column(self, g: int) -> np.ndarray:
        """Group ``g``'s history as a 1-d array (what ``_forecast._history`` returns)."""
        return self.z[self.z.shape[0] - self.length[g] :, g]


def histories(y: np.ndarray, cols: np.ndarray, min_nonzero: int) -> Histories:
    """Pack the histories of columns ``cols`` of ``y`` (rows up to the origin, NaN = no value).

    A history drops its gaps (NaN) and, once it has ``min_nonzero`` non-zero
    values, the zeros before the first of them.
    """
    sub = y[:, cols]
    ok = ~np.isnan(sub)
    order = np.argsort(ok, axis=0, kind="stable")  # gaps first, values after, in time order
    z = np.take_along_axis(sub, order, axis=0)
    T = z.shape[0]
    n_val = ok.sum(axis=0)
    nonzero = (z != 0) & ~np.isnan(z)
    n_nz = nonzero.sum(axis=0)
    first_nz = np.where(n_nz > 0, nonzero.argmax(axis=0), T)  # row of the first non-zero value
    start = np.where(n_nz >= min_nonzero, first_nz - (T - n_val), 0)  # leading zeros to drop
    length = n_val - start
    rows = np.arange(T)[:, None]
    z = np.where(rows >= T - length[None, :], z, np.nan)
    return Histories(z=z, length=length, trimmed=start)


def benchmark_forecasts(h: Histories, H: int, m: int, w: int, names) -> tuple[dict, int]:
    """Point forecasts ``{name: (n, H)}`` of the benchmark methods asked, and the seasonal-naive fallbacks.

    The fallbacks count the forecasts that took the last value because last
    season's value was missing or zero (as ``_forecast._seasonal_naive``).
    """
    T, n = h.z.shape
    last = h.z[-1]
    out: dict[str, np.ndarray] = {}
    fallback = 0
    if "seasonal_naive" in names:
        short = h.length < m
        at = T - m + (np.arange(H) % m)  # rows of the same period last season
        f = h.z[np.clip(at, 0, T - 1)].T if T >= 1 else np.empty((n, H))
        if T < m:
            f = np.full((n, H), np.nan)
        f = np.where(short[:, None], np.nan, f)
        good = f > 0
        out["seasonal_naive"] = np.where(good, f, last[:, None])
        fallback = int(H * short.sum() + (~good[~short]).sum())
    if "trailing_mean" in names:
        mask = h.last(w)
        k = np.minimum(w, h.length)
        out["trailing_mean"] = np.repeat((np.where(mask, h.z, 0.0).sum(axis=0) / k)[:, None], H, axis=1)
    if "drift" in names:
        slope = np.where(h.length >= 2, (last - h.first_value()) / np.maximum(h.length - 1, 1), 0.0)
        steps = np.arange(1, H + 1)
        out["drift"] = np.where(h.length[:, None] >= 2, np.maximum(last[:, None] + slope[:, None] * steps, 0.0),
                                last[:, None])  # fmt: skip
    return out, fallback


def _lag_diffs(h: Histories, lag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Differences ``s[t] - s[t - lag]`` within each history (NaN elsewhere), for a lag per group.

    Returns the (T, n) matrix of differences and how many each group has.
    """
    T, n = h.z.shape
    diffs = np.full((T, n), np.nan)
    for lg in np.unique(lag):  # at most two lags (1 and the season)
        cols = np.flatnonzero(lag == lg)
        if lg < T:
            diffs[lg:, cols] = h.z[lg:, cols] - h.z[:-lg, cols]
    counts = np.maximum(h.length - lag, 0)
    return diffs, counts


def mase_scales(h: Histories, m: int) -> np.ndarray:
    """In-sample MASE scale of each history (``_forecast._scale``): NaN when it has no variation and no value."""
    lag = np.where(h.length >= 2 * m, m, 1)
    diffs, counts = _lag_diffs(h, lag)
    total = np.nansum(np.abs(diffs), axis=0)
    sc = np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    level = np.nansum(np.abs(h.z), axis=0) / h.length
    return np.where(sc > 0, sc, np.where(level > 0, level, np.nan))


def benchmark_bounds(h: Histories, F: dict, H: int, m: int, interval: float) -> dict:
    """Model bounds ``{name: (lower, upper)}`` of the benchmark forecasts ``F`` (``_forecast._benchmark_bounds``)."""
    z = float(stats.norm.ppf(0.5 + interval / 2))
    steps = np.arange(1, H + 1)
    out = {}
    if "seasonal_naive" in F:
        lag = np.where(h.length > m, m, 1)
        diffs, counts = _lag_diffs(h, lag)
        a = (1 - interval) / 2
        diffs[0, counts == 0] = 0.0  # no difference at all: the quantiles of [0]
        with np.errstate(all="ignore"):
            qlo, qhi = np.nanquantile(diffs, [a, 1 - a], axis=0)
        k = np.sqrt(np.ceil(steps[None, :] / lag[:, None]))
        f = F["seasonal_naive"]
        out["seasonal_naive"] = (f + qlo[:, None] * k, f + qhi[:, None] * k)
    if "trailing_mean" in F:
        w = np.minimum(h.length, m)
        sd = _masked_std(h.z, h.last(w), w)
        half = z * sd * np.sqrt(1 + 1 / np.maximum(w, 1))
        f = F["trailing_mean"]
        out["trailing_mean"] = (f - half[:, None], f + half[:, None])
    if "drift" in F:
        diffs, counts = _lag_diffs(h, np.ones(h.z.shape[1], dtype=np.int64))
        sd = np.where(h.length > 2, _masked_std(diffs, ~np.isnan(diffs), counts), 0.0)
        half = z * sd[:, None] * np.sqrt(steps[None, :] * (1 + steps[None, :] / np.maximum(h.length - 1, 1)[:, None]))
        f = F["drift"]
        out["drift"] = (f - half, f + half)
    return out


def _masked_std(z: np.ndarray, mask: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof=1) of the masked values of each column; 0 with fewer than two."""
    vals = np.where(mask, z, 0.0)
    mean = vals.sum(axis=0) / np.maximum(k, 1)
    dev = np.where(mask, z - mean[None, :], 0.0)
    var = (dev**2).sum(axis=0) / np.maximum(k - 1, 1)
    return np.where(k > 1, np.sqrt(var), 0.0)
