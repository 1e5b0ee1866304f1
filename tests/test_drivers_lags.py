"""The lag length chosen from the data (``lag_criterion="cv_tail"``/``"tail"``): the tail test and its warning.

Tolerances: the tail test's p-values are checked against a direct refit to 1e-9 (same arithmetic, different
route); the recovery checks use worlds whose effects are 10+ standard errors from zero, so a failure would
mean a wrong rule, not an unlucky draw.  How often the summed effect is truncated, over 24 seeds of the
independent simulator, is in tests/reference/drivers_lag_study.py (drivers_lag.csv).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from independent_sim import make_events
from salesgoals.drivers._estimator import (
    TAIL_ALPHA,
    _history_mask,
    _ols_clustered,
    _prepare,
    _select_lag,
    _stacked,
    _subset_design,
    _two_way_demean,
)
from salesgoals.errors import UnreliableEstimateWarning


def _lagged_world(effects: dict[str, tuple[float, ...]], *, n_reps: int, n_weeks: int, seed: int) -> pd.DataFrame:
    """A rep x week panel with rep skill (confounding), a season and known distributed-lag effects."""
    rng = np.random.default_rng(seed)
    skill = rng.standard_normal(n_reps)
    season = np.exp(0.15 * np.cos(2 * np.pi * np.arange(n_weeks) / 52))
    mu = 0.5 * np.exp(0.4 * skill)[:, None] * season[None, :]
    cols = {}
    for k, (vol, profile) in enumerate(effects.items()):
        lam = (5.0 + 3 * k) * np.exp(0.3 * skill + 0.2 * rng.standard_normal(n_reps))[:, None] * season
        x = rng.poisson(lam * np.exp(0.2 * rng.standard_normal((n_reps, n_weeks))))
        cols[vol] = x
        for lag, beta in enumerate(profile):
            mu[:, lag:] += beta * x[:, : n_weeks - lag]
    periods = pd.period_range("2023-01-02", periods=n_weeks, freq="W-SUN")
    panel = pd.DataFrame({
        "rep": np.repeat([f"r{i:03d}" for i in range(n_reps)], n_weeks),
        "period": pd.PeriodIndex.from_ordinals(np.tile(periods.asi8, n_reps), freq="W-SUN"),
        **{k: v.ravel() for k, v in cols.items()},
        "deals_created": rng.poisson(mu).ravel(),
    })  # fmt: skip
    panel.attrs = {"freq": "W", "activity_columns": list(effects)}
    return panel


def test_tail_test_equals_a_direct_refit_with_every_lag():
    """tail_p is the cluster F test (Hotelling T^2 correction) that the lags beyond L sum to zero, for every
    regressor at once, in the model with all lags fitted directly (``_ols_clustered`` on the demeaned data);
    the choice is the shortest L beyond which no longer candidate's tail is detected at TAIL_ALPHA."""
    sim = make_events("baseline", seed=6, n_reps=20, n_periods=40)
    prep = _prepare(sim.panel())
    acts = ["call", "meeting", "linkedin"]
    y = prep.frame["deals_created"].to_numpy(dtype=float)
    best, table = _select_lag(prep, acts, y, 4, "tail", 0)
    keep = _history_mask(prep, 4)
    design = _subset_design(prep, keep)
    Z = _two_way_demean(design, _stacked(prep, y, acts, range(5), keep))
    ols = _ols_clustered(design, Z[:, 1:], Z[:, 0], n_absorbed=design.n_periods)
    G, K = ols.n_clusters, len(acts)
    for L in range(4):
        S = np.zeros((K, ols.coef.size))
        for k in range(K):
            S[k, k * 5 + L + 1 : (k + 1) * 5] = 1.0
        tail, V = S @ ols.coef, S @ ols.vcov @ S.T
        f = float(tail @ np.linalg.solve(V, tail)) / K * (G - K) / (G - 1)
        assert table.loc[L, "tail_f"] == pytest.approx(f, rel=1e-9)
        assert table.loc[L, "tail_p"] == pytest.approx(stats.f.sf(f, K, G - K), rel=1e-9)
    assert table.loc[4, "tail_p"] == 1.0  # nothing lies beyond the longest candidate
    detected = table.loc[table["tail_p"] < TAIL_ALPHA, "n_lags"]
    assert best == (int(detected.max()) + 1 if len(detected) else 0)
    assert table["chosen"].sum() == 1 and table.loc[best, "chosen"]


def test_cv_tail_keeps_a_late_lag_without_a_floor():
    """Effects at lags 0..4 only (the lag-4 one alone is 10+ s.e. from zero): cv_tail keeps lags 0..4 at least
    (no truncation, with no floor) and the summed effects cover the truth; the note says how lags were chosen."""
    truth = {"meeting": (0.03, 0.02, 0.0, 0.0, 0.04), "call": (0.004, 0.002)}
    panel = _lagged_world(truth, n_reps=300, n_weeks=80, seed=11)
    res = sg.fit_drivers(panel, n_boot=0, diagnostics=False, max_lag=7, lag_criterion="cv_tail")
    table = res.diagnostics.lag_selection
    L = int(res.effects["n_lags"].iloc[0])
    assert L >= 4 and table.loc[table["chosen"], "n_lags"].item() == L
    assert table.loc[3, "tail_p"] < 1e-6  # the lag-4 effect is plain to the test
    eff = res.effects.set_index("activity")
    for act, profile in truth.items():
        assert eff.loc[act, "ci_low"] <= sum(profile) <= eff.loc[act, "ci_high"], act
    assert any(n.startswith(f"lags 0..{L} chosen from the data") for n in res.diagnostics.notes)


def test_flat_profile_warns_that_the_data_cannot_settle_the_lag_length():
    """50 reps x 104 weeks, meetings acting up to 5 weeks later: the tail beyond the chosen lags can neither be
    told from zero nor ruled out; the fit says so in a warning naming the leading activity and what would settle
    it, from the bound in lag_selection.  With deal links the creation delays settle it: no such warning."""
    sim = make_events("baseline", seed=3, links=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreliableEstimateWarning)
        res = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=False)
    table = res.diagnostics.lag_selection.set_index("n_lags")
    L = int(res.effects["n_lags"].iloc[0])
    share, lead = table.loc[L, "tail_share_upper"], table.loc[L, "tail_lead"]
    msgs = [str(w.message) for w in caught if "cannot settle how long effects last" in str(w.message)]
    assert L < table.index.max() and share > 0.5 and lead in res.activities
    assert len(msgs) == 1 and f"up to {share:.0%} of {lead}'s summed effect" in msgs[0] and "deal_id" in msgs[0]
    linked = make_events("baseline", seed=3, links=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreliableEstimateWarning)
        sg.fit_drivers(linked.panel(), activity_log=linked.activities, deals=linked.deals, n_boot=0, diagnostics=False)
    assert not [w for w in caught if "cannot settle how long effects last" in str(w.message)]


def test_summary_shows_the_lag_profile_of_the_drivers():
    """The summary says when each driver's effect arrives: cumulative shares of lag_profile, ending at 100%."""
    truth = {"meeting": (0.03, 0.02, 0.0, 0.0, 0.04), "call": (0.004, 0.002)}
    panel = _lagged_world(truth, n_reps=300, n_weeks=80, seed=11)
    res = sg.fit_drivers(panel, n_boot=0, diagnostics=False, lags=4)
    text = str(res.summary())
    prof = res.lag_profile.loc[res.lag_profile["activity"] == "meeting", "effect"].to_numpy()
    shares = ", ".join(f"{c:.0%}" for c in np.cumsum(prof) / prof.sum())
    assert "cumulative share of the summed effect by lag" in text
    assert f"meeting {shares} by lag 0..4" in text and shares.endswith("100%")


def test_fast_paths_equal_the_direct_computations():
    """The speed paths of the fit give the numbers of the plain computations (to rounding): the lag matrix built
    from sliding windows equals a gather per lag and series (leads, controls, gaps, unbalanced reps); the pooled
    check's cross-products, rebuilt from the demeaning's removed parts, equal those of the raw centred data; the
    lag combination equals the lag matrix times the coefficients."""
    from salesgoals.drivers._estimator import _fit_lags, _lag_combination, _with_season_scaling

    sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=50, seed=3)
    panel = sim.panel()
    panel = panel.drop(panel.sample(frac=0.1, random_state=2).index)  # gaps and unbalanced histories
    prep = _prepare(panel)
    acts = ["call", "meeting", "email"]
    y = prep.frame["deals_created"].to_numpy(dtype=float)
    extra = {"x": np.arange(y.size, dtype=float)}
    for pr in (prep, _with_season_scaling(prep, y)):
        for lead, L in ((0, 0), (0, 3), (1, 2)):
            keep = _history_mask(pr, L, lead)
            idx = np.flatnonzero(keep)
            V = np.column_stack([pr.frame[a].to_numpy(dtype=float) for a in acts] + [extra["x"]])
            cols = [y[idx]] + [V[idx - lag, k] for k in range(V.shape[1]) for lag in range(-lead, L + 1)]
            if pr.controls is not None:
                cols.append(pr.controls[idx, 0])
            fast = _stacked(pr, y, acts, range(-lead, L + 1), keep, extra)
            np.testing.assert_array_equal(fast, np.column_stack(cols))
    pr = _with_season_scaling(prep, y)
    fit = _fit_lags(pr, acts, y, 2, keep_demeaned=True)
    Z = _stacked(pr, y, acts, range(3), fit.keep)[:, : 1 + 3 * len(acts)]
    Z -= Z.mean(axis=0)
    np.testing.assert_allclose(fit.pooled_cross, Z.T @ Z, rtol=1e-10, atol=1e-9 * np.abs(Z.T @ Z).max())
    direct = _stacked(pr, None, acts, range(3), fit.keep)[:, : 3 * len(acts)] @ fit.coef.ravel()
    np.testing.assert_allclose(_lag_combination(pr, acts, range(3), fit.keep, fit.coef), direct, rtol=1e-12, atol=1e-12)
