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
from expected_warnings import DRIVER_NOTES, ignoring
from independent_sim import make_events
from salesgoals.drivers._estimator import (
    TAIL_ALPHA,
    TAIL_BOUND,
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


def _lag_choice_and_design(acts: list[str], *, n_reps: int, max_lag: int, criterion: str):
    """``_select_lag``'s choice and table on a 40-week baseline world (seed 6), with the design and the two-way
    demeaned ``[y, lags of each activity]`` matrix of the model with every lag, to check the criteria against."""
    sim = make_events("baseline", seed=6, n_reps=n_reps, n_periods=40)
    prep = _prepare(sim.panel())
    y = prep.frame["deals_created"].to_numpy(dtype=float)
    best, table = _select_lag(prep, acts, y, max_lag, criterion, 0)
    keep = _history_mask(prep, max_lag)
    design = _subset_design(prep, keep)
    Z = _two_way_demean(design, _stacked(prep, y, acts, range(max_lag + 1), keep))
    return best, table, design, Z


def test_tail_test_equals_a_direct_refit_with_every_lag():
    """tail_p is the cluster F test (Hotelling T^2 correction) that the lags beyond L sum to zero, for every
    regressor at once, in the model with all lags fitted directly (``_ols_clustered`` on the demeaned data);
    the choice is the shortest L beyond which no longer candidate's tail is detected at TAIL_ALPHA."""
    acts = ["call", "meeting", "linkedin"]
    best, table, design, Z = _lag_choice_and_design(acts, n_reps=20, max_lag=4, criterion="tail")
    # the tail test is CR1 (the lag choice's own covariance), also where the fit's covariance is CR3
    ols = _ols_clustered(design, Z[:, 1:], Z[:, 0], n_absorbed=design.n_periods, small_sample=False)
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


def test_unsettled_lag_warning_fires_when_the_effect_is_cut_short_and_only_then():
    """Planted: 30 reps x 80 weeks, meetings acting over lags 0..7 with a long flat tail (a third of the effect
    in lags 4..7, each lag too thin to tell from zero) and four zero-effect activities that make every extra lag
    expensive for AIC.  On every seed where AIC stops at 3 lags (the effect cut short) the warning names meeting
    and the share the model with every lag adds, from lag_selection; it stays silent where AIC keeps the tail.
    On the project simulator (effects end at lag 3) and with deal links (the creation delays give the lag
    length) it does not fire.  How often it fires on 24 seeds of each simulator: drivers_lag_study.py."""
    truth = {"meeting": (0.03, 0.02, 0.015, 0.01, 0.01, 0.01, 0.01, 0.01), "call": (0.004, 0.002),
             "email": (0.0,), "sms": (0.0,), "note": (0.0,), "linkedin": (0.0,)}  # fmt: skip
    cut_short = 0
    for seed in range(5):
        panel = _lagged_world(truth, n_reps=30, n_weeks=80, seed=seed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnreliableEstimateWarning)
            # AIC by name: the subject is the warning when a rule cuts the effect short, which AIC does here
            # (the default's tail bound keeps the tail: the warning fired on 0 of 192 default fits of the lag study)
            res = sg.fit_drivers(panel, n_boot=0, diagnostics=False, lag_criterion="aic")
        row = res.diagnostics.lag_selection.set_index("n_lags").loc[int(res.effects["n_lags"].iloc[0])]
        msgs = [str(w.message) for w in caught if "cannot settle how long effects last" in str(w.message)]
        if row.name <= 4:  # the tail of lags 5..7 at least left out
            cut_short += 1
            assert row["tail_lead"] == "meeting" and row["tail_share"] >= 0.25, seed
            assert len(msgs) == 1 and f"puts {row['tail_share']:.0%} more of it" in msgs[0] and "deal_id" in msgs[0]
        else:
            assert not msgs, seed
    assert cut_short >= 3  # the planted case is one where AIC does cut the effect short
    house = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=7)
    linked = make_events("baseline", seed=3, links=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreliableEstimateWarning)
        sg.fit_drivers(house.panel(), n_boot=0, diagnostics=False)
        sg.fit_drivers(linked.panel(), activity_log=linked.activities, deals=linked.deals, n_boot=0, diagnostics=False)
    assert not [w for w in caught if "cannot settle how long effects last" in str(w.message)]


def test_lag_table_and_summary_say_why_this_lag_length():
    """The lag table marks, per candidate, whether its CV error is within one s.e. of the best and whether a
    tail beyond it is detected; the chosen L under cv_tail is the longer of the two rules, and the summary's
    "lag length" line gives both reasons with the tail test's p-value."""
    sim = make_events("baseline", seed=3, links=False)
    res = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=False, lag_criterion="cv_tail")
    table = res.diagnostics.lag_selection
    by_cv = int(table.loc[table["cv_within_se"], "n_lags"].max())
    detected = table.loc[table["tail_detected"], "n_lags"]
    by_tail = int(detected.max()) + 1 if len(detected) else 0
    assert (table["tail_detected"] == (table["tail_p"] < TAIL_ALPHA)).all()
    L = max(by_cv, by_tail)
    assert table.loc[table["chosen"], "n_lags"].item() == L == int(res.effects["n_lags"].iloc[0])
    facts = str(res.summary())
    assert f"lags 0..{L} chosen from the data (cross-validation by reps asks for lags 0..{by_cv}" in facts
    assert "the longer of the two is kept" in facts
    # the default ("auto") without deal links: the longest of forward CV, the tail test and the tail bound
    default = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=False)
    table = default.diagnostics.lag_selection
    by_time = int(table.loc[table["cv_time_within_se"], "n_lags"].max())
    detected = table.loc[table["tail_detected"], "n_lags"]
    by_tail = int(detected.max()) + 1 if len(detected) else 0
    assert (table["tail_bounded"] == (table["tail_share_upper"] <= TAIL_BOUND)).all()
    unbounded = table.loc[~table["tail_bounded"], "n_lags"]
    by_bound = int(unbounded.max()) + 1 if len(unbounded) else 0
    L = max(by_time, by_tail, by_bound)
    assert sg.drivers.AUTO_CRITERION == "cv_time_tail" and default.effects["n_lags"].iloc[0] == L
    assert table.loc[table["chosen"], "n_lags"].item() == L and table["n_lags"].max() == 7  # 50 reps, 6 regressors
    facts = str(default.summary())
    assert f"lags 0..{L} chosen from the data (forward cross-validation" in facts
    assert f"so the bound asks for 0..{by_bound}; the longest of the three is kept; no deal links" in facts
    assert "max_lag lowered from 8 to 7: the model with every lag must have fewer slopes (6 per lag) than reps" in facts
    aic = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=False, lag_criterion="aic")  # by name: with its floor
    L = int(aic.effects["n_lags"].iloc[0])
    assert f"lags 0..{L} chosen from the data (lowest AIC among lags 3..8, 3 being the floor MIN_LAG" in str(aic.summary())


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


def test_forward_cross_validation_errors_equal_a_direct_refit():
    """``cv_time_mse``: each of the last 6 of 10 blocks of consecutive periods is predicted by slopes fitted on
    every earlier block (the same two-way demeaned matrix), from per-block cross-products; equal to refitting on
    the earlier rows and predicting the block directly.  ``lag_criterion="cv_time"`` keeps the longest lags
    whose excess error over the best, paired by block, is within one standard error."""
    from salesgoals.drivers._estimator import CV_TIME_BLOCKS, FORWARD_FIRST_SCORED

    acts = ["call", "meeting", "linkedin"]
    best, table, design, Z = _lag_choice_and_design(acts, n_reps=12, max_lag=3, criterion="cv_time")
    block = design.period * CV_TIME_BLOCKS // design.n_periods
    assert block.max() == CV_TIME_BLOCKS - 1 and np.all(np.diff(block[design.rep == 0]) >= 0)
    for L in (0, 2, 3):
        cols = [1 + k * 4 + j for k in range(3) for j in range(L + 1)]
        mse = []
        for b in range(FORWARD_FIRST_SCORED, CV_TIME_BLOCKS):
            train, test = block < b, block == b
            coef = np.linalg.lstsq(Z[train][:, cols], Z[train, 0], rcond=None)[0]
            mse.append(float(((Z[test, 0] - Z[test][:, cols] @ coef) ** 2).mean()))
        rows = np.bincount(block, minlength=CV_TIME_BLOCKS)[FORWARD_FIRST_SCORED:]
        assert table.loc[L, "cv_time_mse"] == pytest.approx(np.dot(mse, rows) / rows.sum(), rel=1e-9)
    excess = table["cv_time_mse"] - table["cv_time_mse"].min()
    assert best == int(table.loc[excess <= table["cv_time_excess_se"].fillna(0), "n_lags"].max())
    assert table["cv_time_within_se"].tolist() == (excess <= table["cv_time_excess_se"].fillna(0)).tolist()
    assert table["chosen"].sum() == 1 and table.loc[best, "chosen"]


def test_reps_cap_the_candidates_and_too_few_reps_say_so():
    """The model with every lag must have fewer slopes than reps: 40 reps and 2 regressors allow lags 0..8 (18
    slopes), 12 reps cap the candidates at 0..4 (10 slopes; a note says why); 8 reps x 6 regressors cannot test
    any later lag, so the default keeps lags 0..3 (round 4's floor) and warns that the lag length was not chosen
    from the data.  A named criterion without the tail test (AIC) is not capped."""
    truth = {"meeting": (0.03, 0.02, 0.01), "call": (0.004, 0.002)}
    res = sg.fit_drivers(_lagged_world(truth, n_reps=40, n_weeks=60, seed=1), n_boot=0, diagnostics=False)
    assert res.diagnostics.lag_selection["n_lags"].max() == 8
    assert not any(n.startswith("max_lag lowered") for n in res.diagnostics.notes)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        res = sg.fit_drivers(_lagged_world(truth, n_reps=12, n_weeks=60, seed=1), n_boot=0, diagnostics=False)
    assert res.diagnostics.lag_selection["n_lags"].max() == 4  # 2 (4 + 1) + 1 control <= 12 - 1
    assert any(n.startswith("max_lag lowered from 8 to 4: the model with every lag must have fewer slopes (2 per "
                            "lag) than reps (12)") for n in res.diagnostics.notes)  # fmt: skip
    six = {**truth, "email": (0.0,), "sms": (0.0,), "note": (0.0,), "linkedin": (0.0,)}
    small = _lagged_world(six, n_reps=8, n_weeks=60, seed=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnreliableEstimateWarning)
        res = sg.fit_drivers(small, n_boot=0, diagnostics=False)
    assert int(res.effects["n_lags"].iloc[0]) == sg.drivers.MIN_LAG["W"] and len(res.diagnostics.lag_selection) == 0
    msgs = [str(w.message) for w in caught if "to choose the lag length from the data" in str(w.message)]
    assert len(msgs) == 1 and msgs[0].startswith("fit_drivers: Too few reps (8)") and "lags 0..3 used" in msgs[0]
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        aic = sg.fit_drivers(small, n_boot=0, diagnostics=False, lag_criterion="aic")
    assert aic.diagnostics.lag_selection["n_lags"].max() == 8
