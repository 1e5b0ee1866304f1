"""The per-group forecasts computed for all groups at once equal the group-by-group definitions (issue 16).

The reference below is the loop ``_group_points`` ran before it was
vectorised: each group's history, its MASE scale, the three benchmark
forecasts and their model bounds, one group at a time, with the per-group
definitions of ``salesgoals.forecasting._forecast``.
"""

from __future__ import annotations

import numpy as np
import pytest

from salesgoals.forecasting import _forecast as fc


def _reference(data, origins, H, methods, interval):
    """The group-by-group loop (the old ``_group_points``) at every origin."""
    m, w = fc.SEASON[data.freq], fc.TRAILING_WINDOW[data.freq]
    G = data.y.shape[1]
    out = {k: np.full((len(origins), G, H), np.nan) for k in methods}
    lo = {k: np.full((len(origins), G, H), np.nan) for k in methods}
    up = {k: np.full((len(origins), G, H), np.nan) for k in methods}
    scales = np.full((len(origins), G), np.nan)
    trimmed = np.zeros((len(origins), G), dtype=int)
    fallback = 0
    for i, o in enumerate(origins):
        for j in np.nonzero(~np.isnan(data.y[o]))[0]:
            s = fc._history(data, o, j)
            scales[i, j] = fc._scale(s, m)
            trimmed[i, j] = int(np.sum(~np.isnan(data.y[: o + 1, j]))) - len(s)
            fits = {}
            if "seasonal_naive" in methods:
                fits["seasonal_naive"] = fc._seasonal_naive(s, H, m)
                fallback += H if len(s) < m else int(np.sum(s[len(s) - m + (np.arange(H) % m)] <= 0))
            if "trailing_mean" in methods:
                fits["trailing_mean"] = fc._trailing_mean(s, H, w)
            if "drift" in methods:
                fits["drift"] = fc._drift(s, H)
            for name, f in fits.items():
                out[name][i, j] = f
                lo[name][i, j], up[name][i, j] = fc._benchmark_bounds(name, s, f, H, m, interval)
    return out, lo, up, scales, trimmed, fallback


def _messy_y(freq: str, n_groups: int, seed: int) -> np.ndarray:
    """Histories with every trap: late starts, gaps, leading zeros, all zeros, constants, short spans, spikes."""
    rng = np.random.default_rng(seed)
    T = {"W": 130, "M": 40, "Q": 14}[freq]
    y = rng.poisson(rng.gamma(2.0, 3.0, n_groups), size=(T, n_groups)).astype(float)
    y[:, 0] = 0.0  # all zeros: no scale of its own
    y[:, 1] = 7.0  # constant
    start = rng.integers(0, T - 2, n_groups)
    y[np.arange(T)[:, None] < start[None, :]] = np.nan  # late starts
    y[rng.random((T, n_groups)) < 0.05] = np.nan  # gaps
    lead = rng.integers(0, 25, n_groups)
    y[(np.arange(T)[:, None] < start[None, :] + lead[None, :]) & ~np.isnan(y)] = 0.0  # leading zeros
    y[:, 2] = np.nan
    y[-3:, 2] = [0.0, 4.0, 0.0]  # short, fewer than three non-zero values: zeros kept
    y[rng.random((T, n_groups)) < 0.01] *= 40  # spikes
    return y


@pytest.mark.parametrize("freq,seed", [("W", 1), ("M", 2), ("Q", 3)])
def test_vectorised_benchmarks_equal_the_group_by_group_definitions(freq, seed):
    y = _messy_y(freq, 60, seed)
    data = fc._Data(freq=freq, target="won_revenue", level="rep", first=0, y=y, groups=[f"g{j}" for j in range(60)])
    H, interval = {"W": 13, "M": 6, "Q": 4}[freq], 0.8
    T = y.shape[0]
    origins = sorted({T - 1, T - 2, T - 5, T // 2, 3, 0})
    methods = ["seasonal_naive", "trailing_mean", "drift"]
    out, lo, up, scales, trimmed, fallback = _reference(data, origins, H, methods, interval)
    P = fc._points(data, origins, H, methods, model=(100, interval, 0))
    for k in methods:
        np.testing.assert_allclose(P.F[k], out[k], rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=k)
        np.testing.assert_allclose(P.B[k][0], np.maximum(lo[k], 0.0), rtol=1e-12, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(P.B[k][1], np.maximum(up[k], 0.0), rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(P.S, fc._pool_scales(scales), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(P.trimmed, trimmed)
    assert P.sn_fallback == fallback
    assert np.isfinite(P.F["drift"][~np.isnan(out["drift"])]).all()
    assert (trimmed > 0).any() and fallback > 0  # the fixture exercises both traps


def test_ets_forecasts_are_unchanged_by_the_packed_histories():
    """ETS still fits group by group, on the same histories (the packed ones)."""
    y = _messy_y("W", 8, 4)
    data = fc._Data(freq="W", target="won_revenue", level="rep", first=0, y=y, groups=[f"g{j}" for j in range(8)])
    T = y.shape[0]
    origins = [T - 9, T - 5, T - 1]
    P = fc._points(data, origins, 4, ["ets"], model=(100, 0.8, 0))
    cache: dict = {}
    for i, o in enumerate(origins):
        for j in np.nonzero(~np.isnan(y[o]))[0]:
            s = fc._history(data, o, j)
            info: dict = {}
            f = fc._ets(s, 4, "W", cache, (j, len(y[: o + 1, j]) - len(s)), o, info)
            np.testing.assert_allclose(P.F["ets"][i, j], f, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(P.B["ets"][1][i, j], np.maximum(f + fc.stats.norm.ppf(0.9) * info["sd"], 0),
                                       rtol=1e-12, atol=1e-12)  # fmt: skip
