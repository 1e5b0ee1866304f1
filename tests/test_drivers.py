"""Driver model: exactness against independent implementations, result contract, errors and warnings.

Recovery of the simulator's truth lives in ``test_drivers_recovery.py``.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.drivers import _estimator
from salesgoals.drivers._estimator import _Design, _two_way_demean
from salesgoals.drivers._funnel import shrink_rate
from salesgoals.errors import InsufficientDataError, NotFittedError, SchemaError, UnreliableEstimateWarning

#: Coefficients from the within transformation and from dummy regressions agree to rounding error.
ATOL_COEF = 1e-10
#: Clustered standard errors agree with pyfixest's CRV1 / CRV3 (same small-sample factors) to this relative tolerance.
RTOL_SE = 1e-8
#: Fitted values (fixed effects recovered by alternating projections) agree with the dummy regression.
ATOL_FITTED = 1e-7

ACTS = ["call", "email", "meeting", "linkedin"]
QUAL = ["call_connected", "meeting_held"]


def _fit(panel, **kw):
    kw = {"diagnostics": False, "n_boot": 0, **kw}
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        return sg.fit_drivers(panel, **kw)


@pytest.fixture(scope="module")
def small_panel():
    """Unbalanced: reps join and leave part-way (frac_join/frac_leave), so the FE are not orthogonal."""
    sim = sg.simulate.make_crm_data(n_reps=14, n_weeks=36, seed=11, frac_join=0.3, frac_leave=0.3)
    return sim.panel()


@pytest.fixture(scope="module")
def fitted(sim_panel):
    """Fits shared by the contract and diagnostics tests: (result, warning messages) per outcome."""
    out = {}
    for outcome in ("deals_created", "won_revenue"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnreliableEstimateWarning)
            res = sg.fit_drivers(sim_panel, outcome=outcome, n_boot=0)
        out[outcome] = (res, [str(w.message) for w in caught if w.category is UnreliableEstimateWarning])
    return out


def _lagged_frame(panel: pd.DataFrame, cols: list[str], L: int) -> tuple[pd.DataFrame, list[str]]:
    """Lags built the plain pandas way (groupby-shift), rows without full history dropped."""
    df = panel.sort_values(["rep", "period"]).copy()
    names = []
    for c in cols:
        for lag in range(L + 1):
            name = f"{c}_l{lag}"
            df[name] = df.groupby("rep")[c].shift(lag).astype(float)
            names.append(name)
    df = df.dropna(subset=names).copy()
    df["period_s"] = df["period"].astype(str)
    df["y"] = df["deals_created"].astype(float)
    return df, names


# ---------------------------------------------------------------- exactness
def test_two_way_demean_equals_dummy_regression_residuals(small_panel):
    df = small_panel.sort_values(["rep", "period"]).reset_index(drop=True)
    rep = pd.factorize(df["rep"], sort=True)[0]
    per = pd.factorize(df["period"].astype(str), sort=True)[0]
    design = _Design(rep, per, rep.max() + 1, per.max() + 1)
    X = df[ACTS].to_numpy(float)
    D = np.column_stack([np.eye(rep.max() + 1)[rep], np.eye(per.max() + 1)[per][:, 1:]])
    resid = X - D @ np.linalg.lstsq(D, X, rcond=None)[0]
    np.testing.assert_allclose(_two_way_demean(design, X), resid, atol=1e-9)


def _pyfixest(df: pd.DataFrame, names: list[str], vcov: str, *, no_ssc: bool = False):
    """pyfixest's fit; ``no_ssc``: without its small-sample factors (their names changed after 0.28)."""
    import inspect

    import pyfixest as pf
    known = inspect.signature(pf.ssc).parameters
    ssc = {k: False for k in (("k_adj", "G_adj") if "k_adj" in known else ("adj", "cluster_adj"))} if no_ssc else {}
    with warnings.catch_warnings():
        # pyfixest's own deprecation notices: pandas 3.1 deprecates the inplace keyword pyfixest still uses
        warnings.filterwarnings("ignore", message=r"The inplace keyword in DataFrame\.\w+ is deprecated",
                                category=DeprecationWarning, module="pyfixest")  # fmt: skip
        warnings.filterwarnings("ignore", message="The `demeaner_backend`", category=DeprecationWarning)
        # pyfixest demeans iteratively; a tight fixef_tol makes its answer exact enough to compare at 1e-8
        return pf.feols("y ~ " + " + ".join(names) + " | rep + period_s", data=df, vcov={vcov: "rep"},
                        fixef_tol=1e-13, **({"ssc": pf.ssc(**ssc)} if ssc else {}))  # fmt: skip


def test_matches_pyfixest_coefficients_and_clustered_se_cr1(small_panel, monkeypatch):
    """CR1, the covariance above ``CR3_MAX_REPS`` reps (forced here on the small panel)."""
    monkeypatch.setattr(_estimator, "CR3_MAX_REPS", 0)
    res = _fit(small_panel, lags=2, season_scaling=False)
    df, names = _lagged_frame(small_panel, ACTS + QUAL, 2)
    m = _pyfixest(df, names, "CRV1")
    ours = res.lags.assign(name=res.lags["activity"] + "_l" + res.lags["lag"].astype(str)).set_index("name")
    np.testing.assert_allclose(ours.loc[names, "coef"], m.coef()[names], atol=ATOL_COEF)
    np.testing.assert_allclose(ours.loc[names, "std_error"], m.se()[names], rtol=RTOL_SE)


def test_small_team_standard_errors_are_the_cluster_jackknife(small_panel):
    """CR3 (the default up to ``CR3_MAX_REPS`` reps): pyfixest's CRV3 refits without each rep, period effects
    re-estimated; without its small-sample factors it is ``sum_g d_g d_g'``, ours ``(G-1)/G`` of that."""
    res = _fit(small_panel, lags=2, season_scaling=False)
    df, names = _lagged_frame(small_panel, ACTS + QUAL, 2)
    m = _pyfixest(df, names, "CRV3", no_ssc=True)
    G = df["rep"].nunique()
    ours = res.lags.assign(name=res.lags["activity"] + "_l" + res.lags["lag"].astype(str)).set_index("name")
    np.testing.assert_allclose(ours.loc[names, "std_error"], m.se()[names] * np.sqrt((G - 1) / G), rtol=RTOL_SE)
    # and it is not CR1: the jackknife is wider on this unbalanced 14-rep panel (joiners and leavers)
    assert (ours.loc[names, "std_error"] > _pyfixest(df, names, "CRV1").se()[names]).mean() > 0.5


def test_matches_statsmodels_dummies_coefficients_and_fitted_values(small_panel):
    import statsmodels.formula.api as smf
    res = _fit(small_panel, lags=1, quality=False, season_scaling=False)
    df, names = _lagged_frame(small_panel, ACTS, 1)
    ols = smf.ols("y ~ " + " + ".join(names) + " + C(rep) + C(period_s)", data=df).fit()
    ours = res.lags.assign(name=res.lags["activity"] + "_l" + res.lags["lag"].astype(str)).set_index("name")
    np.testing.assert_allclose(ours.loc[names, "coef"], ols.params[names], atol=ATOL_COEF)
    # in-sample prediction = rep effect + period effect + lags: equals the dummy regression's fitted values
    pred = res.predict(small_panel).reindex(df.index)
    fitted = np.maximum(ols.fittedvalues, 0.0)
    np.testing.assert_allclose(pred, fitted, atol=ATOL_FITTED)


def test_season_scaling_control_matches_statsmodels(small_panel):
    """The control (rep mean - mean of rep means) x period effect, built independently with dummies."""
    import statsmodels.formula.api as smf
    res = _fit(small_panel, lags=1, quality=False)  # season_scaling=True is the default
    full = small_panel.assign(period_s=small_panel["period"].astype(str), y=small_panel["deals_created"].astype(float))
    fe = smf.ols("y ~ C(rep) + C(period_s)", data=full).fit()
    g = pd.Series(0.0, index=sorted(full["period_s"].unique()))
    for name, v in fe.params.items():
        if name.startswith("C(period_s)"):
            g[name.split("[T.")[1].rstrip("]")] = v
    g -= g.mean()
    level = full.groupby("rep")["y"].mean()
    level -= level.mean()
    full["z"] = full["rep"].map(level) * full["period_s"].map(g)
    df, names = _lagged_frame(full, ACTS, 1)
    ols = smf.ols("y ~ " + " + ".join(names) + " + z + C(rep) + C(period_s)", data=df).fit()
    ours = res.lags.assign(name=res.lags["activity"] + "_l" + res.lags["lag"].astype(str)).set_index("name")
    np.testing.assert_allclose(ours.loc[names, "coef"], ols.params[names], atol=ATOL_COEF)
    pred = res.predict(small_panel).reindex(df.index)
    np.testing.assert_allclose(pred, np.maximum(ols.fittedvalues, 0.0), atol=ATOL_FITTED)


def test_summed_effect_and_interval_follow_from_lag_coefficients(small_panel):
    res = _fit(small_panel, lags=2, quality=False)
    eff = res.effects.set_index("activity")
    sums = res.lags.groupby("activity")["coef"].sum()
    np.testing.assert_allclose(eff.loc[ACTS, "effect"], sums[ACTS], atol=1e-12)
    half = eff["ci_high"] - eff["effect"]
    np.testing.assert_allclose(eff["effect"] - eff["ci_low"], half, rtol=1e-12)
    from scipy import stats

    crit = stats.t.ppf(0.975, res.n_reps - 1)
    np.testing.assert_allclose(half, crit * eff["std_error"], rtol=1e-12)


# ---------------------------------------------------------------- contract
def test_result_contract(sim_panel, fitted):
    res, _ = fitted["won_revenue"]
    cols = ["activity", "effect", "std_error", "ci_low", "ci_high", "p_value", "p_value_adj", "significant",
            "is_driver", "flags", "n_lags", "peak_lag", "mean_per_period", "contribution", "share",
            "effect_on_created", "quality_metric", "quality_effect"]  # fmt: skip
    eff = res.effects
    assert eff.columns.tolist() == cols
    assert sorted(eff["activity"]) == sorted(ACTS)
    assert eff["contribution"].is_monotonic_decreasing
    assert eff["significant"].dtype == bool and eff["n_lags"].dtype == np.int64
    num = eff.select_dtypes("number")
    assert np.isfinite(num.to_numpy(float)).all()
    assert (eff["ci_low"] <= eff["effect"]).all() and (eff["effect"] <= eff["ci_high"]).all()
    assert res.outcome == "won_revenue" and res.method == "funnel" and res.estimated_outcome == "deals_created"

    reps = sim_panel["rep"].nunique()
    assert res.rep_effects.columns.tolist() == ["rep", "activity", "effect", "std_error", "ci_low", "ci_high",
                                                "raw_effect", "shrinkage", "reps_differ", "flags"]
    assert len(res.rep_effects) == reps * len(ACTS)
    assert not res.rep_effects.duplicated(["rep", "activity"]).any()
    assert np.isfinite(res.rep_effects[["effect", "std_error", "ci_low", "ci_high"]].to_numpy(float)).all()
    # where reps cannot be told apart, the team effect is the mean of the per-rep effects
    same = res.rep_effects.loc[~res.rep_effects["reps_differ"]]
    assert (same["flags"] == "reps_not_distinguishable").all() and (same["shrinkage"] == 1).all()
    team = same.groupby("activity")["effect"].mean()
    np.testing.assert_allclose(team, eff.set_index("activity").loc[team.index, "effect"], rtol=1e-10)

    f = res.funnel
    assert f.columns[:5].tolist() == ["rep", "win_rate", "deal_size", "n_closed", "n_won"]
    assert len(f) == reps and f["win_rate"].between(0, 1).all() and (f["deal_size"] > 0).all()
    assert {"connect_rate", "show_rate"} <= set(f.columns)

    assert res.lag_profile.columns.tolist() == ["activity", "lag", "effect", "std_error"]
    assert len(res.lag_profile) == len(ACTS) * (res.effects["n_lags"].iloc[0] + 1)

    pred = res.predict(sim_panel)
    assert pred.index.equals(sim_panel.index) and pred.name == "predicted_won_revenue"
    assert np.isfinite(pred).all() and (pred >= 0).all()

    text = str(res.summary())
    assert "won_revenue" in text and "meeting" in text
    assert "<table" in res.summary()._repr_html_()
    assert "DriverResult(outcome='won_revenue'" in repr(res)
    ax = res.plot()
    assert len(ax.get_yticks()) == len(ACTS)
    plt.close("all")
    ax = sg.plotting.plot_lag_profile(res)
    assert len(ax.lines) == len(ACTS) + 1
    plt.close("all")


def test_diagnostics_contract(fitted):
    res, _ = fitted["deals_created"]
    d = res.diagnostics
    assert d.placebo.columns.tolist() == ["activity", "placebo_of", "effect", "std_error", "ci_low", "ci_high",
                                          "p_value", "passed"]  # fmt: skip
    assert d.leads.columns.tolist() == ["activity", "lead_effect", "std_error", "p_value", "flagged"]
    assert d.pooled.columns.tolist() == ["activity", "pooled_effect", "within_effect", "difference"]
    assert d.holdout["model"].tolist() == ["driver model", "rep average (naive)"]
    assert d.lag_selection["chosen"].sum() == 1
    assert d.checks["ok"].all()
    assert "checks" in str(d.summary())


def test_all_outcomes_and_methods(small_panel):
    for outcome in ("deals_created", "deals_won", "won_revenue", "pipeline_created"):
        for method in ("funnel", "direct"):
            res = _fit(small_panel, outcome=outcome, method=method, lags=1)
            assert res.outcome == outcome
            assert np.isfinite(res.effects[["effect", "std_error", "ci_low", "ci_high"]].to_numpy(float)).all()
            assert res.method == ("funnel" if outcome == "deals_created" else method)


def test_monthly_panel(sim):
    panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="M")
    res = _fit(panel, outcome="deals_created")
    assert res.freq == "M" and res.effects["n_lags"].iloc[0] <= sg.drivers.DEFAULT_MAX_LAG["M"]


def test_deterministic(small_panel):
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        a = sg.fit_drivers(small_panel, outcome="won_revenue", n_boot=30, seed=3)
        b = sg.fit_drivers(small_panel, outcome="won_revenue", n_boot=30, seed=3)
    pd.testing.assert_frame_equal(a.effects, b.effects, check_exact=True)
    pd.testing.assert_frame_equal(a.diagnostics.placebo, b.diagnostics.placebo, check_exact=True)


def test_estimator_contract(small_panel):
    model = sg.DriverModel(outcome="deals_won", lags=1, diagnostics=False, n_boot=0)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(small_panel)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        assert model.fit(small_panel) is model
    for attr in ("result_", "effects_", "coef_", "n_lags_", "n_reps_", "activities_"):
        assert hasattr(model, attr)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "result_")
    pd.testing.assert_series_equal(model.predict(small_panel), model.result_.predict(small_panel))


def test_predict_new_reps_and_periods(small_panel):
    res = _fit(small_panel, lags=1)
    new = small_panel.copy()
    new["rep"] = new["rep"].astype(str) + " (new)"
    new["period"] = new["period"] + 200
    pred = res.predict(new)
    assert np.isfinite(pred).all() and pred.index.equals(new.index)


def test_funnel_rates_shrink_toward_team():
    wins = np.array([1.0, 30.0, 12.0, 50.0])
    trials = np.array([2.0, 100.0, 40.0, 150.0])
    post, team, strength = shrink_rate(wins, trials)
    raw = wins / trials
    assert team == pytest.approx(wins.sum() / trials.sum())
    # each posterior lies between the rep's raw rate and the team rate; the rep with 2 deals moves most
    assert np.all((post - raw) * (team - raw) >= 0)
    assert np.all(np.abs(post - team) <= np.abs(raw - team) + 1e-12)
    assert np.argmax(np.abs(post - raw)) == 0


# ---------------------------------------------------------------- errors
def test_bad_outcome(small_panel):
    with pytest.raises(ValueError, match="outcome must be one of"):
        sg.fit_drivers(small_panel, outcome="revenue")


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="pandas DataFrame"):
        sg.fit_drivers([1, 2, 3])


def test_missing_columns(small_panel):
    with pytest.raises(SchemaError, match="no column.*'deals_created'"):
        sg.fit_drivers(small_panel.drop(columns="deals_created"))
    with pytest.raises(SchemaError, match="'sms' are not columns"):
        sg.fit_drivers(small_panel, activities=["call", "sms"])


def test_non_numeric_values(small_panel):
    bad = small_panel.copy()
    bad["call"] = bad["call"].astype(float)
    bad.loc[bad.index[3], "call"] = np.nan
    with pytest.raises(SchemaError, match="'call' has 1 missing or non-numeric"):
        sg.fit_drivers(bad)


def test_duplicated_rows(small_panel):
    with pytest.raises(SchemaError, match="several rows for the same"):
        sg.fit_drivers(pd.concat([small_panel, small_panel.head(2)]))


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"lags": -1}, "lags must be"), ({"method": "magic"}, "method must be"), ({"interval": 1.5}, "interval must be"),
     ({"lag_criterion": "hqic"}, "lag_criterion"), ({"holdout_share": 0}, "holdout_share"), ({"n_boot": -1}, "n_boot")],
)  # fmt: skip
def test_bad_options(small_panel, kw, match):
    with pytest.raises(ValueError, match=match):
        sg.fit_drivers(small_panel, **kw)


def test_too_short_for_lags(small_panel):
    with pytest.raises(InsufficientDataError, match="history"):
        _fit(small_panel, lags=40)


def test_no_activity_varies(small_panel):
    flat = small_panel.copy()
    for a in ACTS + QUAL:
        flat[a] = 3
    with pytest.raises(InsufficientDataError, match="no activity column varies"):
        sg.fit_drivers(flat)


# ---------------------------------------------------------------- warnings
def test_few_reps_warn_and_bootstrap():
    sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=5)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES), pytest.warns(UnreliableEstimateWarning, match="6 reps"):
        res = sg.fit_drivers(sim.panel(), lags=1, diagnostics=False, n_boot=40)
    assert any("bootstrap over reps" in n for n in res.diagnostics.notes)
    assert "6 reps" in str(res.summary())


def test_one_rep_dominating_warns(small_panel):
    lopsided = small_panel.copy()
    top = lopsided["rep"] == lopsided["rep"].iloc[0]
    lopsided.loc[top, "meeting"] = lopsided.loc[top, "meeting"] * 60
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        with pytest.warns(UnreliableEstimateWarning, match="of all meeting activity"):
            _fit_warn(lopsided)


def test_collinear_activities_warn(small_panel):
    dup = small_panel.copy()
    rng = np.random.default_rng(0)
    dup["sms"] = dup["email"] * 2 + rng.integers(0, 2, len(dup))
    with pytest.warns(UnreliableEstimateWarning, match="email and sms move together"):
        sg.fit_drivers(dup, activities=[*ACTS, "sms"], lags=0, diagnostics=False, n_boot=0)


def _fit_warn(panel):
    return sg.fit_drivers(panel, lags=1, diagnostics=False, n_boot=0)


def test_leads_check_flags_follow_up_emails(fitted):
    """The simulator sends follow-up emails the week after a deal is created: activity follows results."""
    res, caught = fitted["deals_created"]
    assert any(m.startswith("fit_drivers: Leads check: more deals_created this period go with MORE email next period")
               for m in caught), caught
    leads = res.diagnostics.leads.set_index("activity")
    assert leads.loc["email", "flagged"]
    assert not leads.loc[["call", "meeting", "linkedin"], "flagged"].any()
    assert "FOLLOWS results" in str(res.summary())


def test_leads_check_quiet_without_follow_ups():
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=80, seed=21, followup_emails=0.0)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        res = sg.fit_drivers(sim.panel(), n_boot=0)
    assert not res.diagnostics.leads["flagged"].any()


def test_placebo_passes_and_pooled_matches_effects(fitted):
    res, _ = fitted["deals_created"]
    assert res.diagnostics.placebo["passed"].all()
    pooled = res.diagnostics.pooled.set_index("activity")
    within = res.effects.set_index("activity")["effect_on_created"]
    np.testing.assert_allclose(pooled.loc[within.index, "within_effect"], within, rtol=1e-10)
    hold = res.diagnostics.holdout
    assert hold.attrs["skill"] > 0  # beats each rep's own average out of sample


def test_short_history_warns():
    sim = sg.simulate.make_crm_data(n_reps=15, n_weeks=14, seed=8, frac_join=0.0, frac_leave=0.0)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        with pytest.warns(UnreliableEstimateWarning, match="too short a history"):
            res = sg.fit_drivers(sim.panel(), diagnostics=False, n_boot=0)
    assert not res.diagnostics.checks.set_index("check").loc["periods_per_rep", "ok"]


def test_direct_fit_of_revenue_keeps_all_lags(small_panel):
    res = _fit(small_panel, outcome="won_revenue", method="direct", max_lag=6)
    assert res.effects["n_lags"].iloc[0] == 6
    assert any("all lags 0..6 kept" in n for n in res.diagnostics.notes)
    assert len(res.diagnostics.lag_selection) == 0


def test_aic_lag_floor_and_criterion_table(sim_panel):
    """AIC (no longer the default) keeps its floor MIN_LAG when asked for by name."""
    res = _fit(sim_panel, max_lag=6, lag_criterion="aic")
    table = res.diagnostics.lag_selection
    assert table["n_lags"].tolist() == list(range(7)) and table["chosen"].sum() == 1
    chosen = int(table.loc[table["chosen"], "n_lags"].iloc[0])
    assert chosen >= sg.drivers.MIN_LAG["W"] and chosen == res.effects["n_lags"].iloc[0]
    eligible = table[table["n_lags"] >= sg.drivers.MIN_LAG["W"]]
    assert chosen == int(eligible.loc[eligible["aic"].idxmin(), "n_lags"])
