"""Forecast intervals and backtests against realised outcomes and hand computations.

* The split-conformal rule (``_conformal``, used by :func:`forecast` and :func:`backtest_forecast` at every
  horizon) promises coverage of at least the nominal level for exchangeable errors, whatever their
  distribution: checked by Monte Carlo on skewed errors, the calibration sizes the weekly/monthly/quarterly
  grains use (>= MIN_CALIBRATION_ERRORS).  With fewer errors the Student-t prediction interval for one more
  error must cover the nominal share of normal errors.
* The backtest scores each forecast against the actual of its own period: the actuals and the seasonal-naive
  forecasts are recomputed by hand from the deals table.

Designed failure probabilities (under a correct rule): each Monte Carlo coverage is checked one-sided at
3.5 standard errors (2e-4 each) for the conformal rule and two-sided at 3.5 s.e. (5e-4 each) for the t rule:
below 0.5 % over all cells.  The companions show the naive rules (plain n-quantile, confidence interval of
the mean) fail the same checks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from salesgoals.forecasting._forecast import MIN_CALIBRATION_ERRORS, N_CALIBRATION, _conformal

M = 4000  # Monte Carlo replications per cell of the conformal rule
M_T = 1500  # ... of the t rule (slower per call; its naive version misses by 50 points, not 5)
Z = 3.5


def _coverage(rule, n: int, interval: float, draw, seed: int, m: int = M) -> float:
    rng = np.random.default_rng(seed)
    sample = draw(rng, (m, n + 1))
    hits = 0
    for row in sample:  # m small calls: the rule decides one interval at a time
        lo, hi, _ = rule(row[:n], interval)
        hits += lo <= row[n] <= hi
    return hits / m


def _skewed(rng, shape):
    return rng.gamma(0.7, 1.0, size=shape) - rng.gamma(2.0, 1.0, size=shape)


def _naive_quantile(errors, interval):
    """The companion: empirical quantiles without the (n + 1) finite-sample correction."""
    e, a = np.sort(errors), (1 - interval) / 2
    n = e.size
    return e[max(math.floor(n * a), 1) - 1], e[min(math.ceil(n * (1 - a)), n) - 1], n


# calibration sizes of the grains (26 weekly, 12 monthly x 2 horizons, ...) at and above the conformal floor
CELLS = [(MIN_CALIBRATION_ERRORS, 0.9), (MIN_CALIBRATION_ERRORS, 0.8), (N_CALIBRATION["W"], 0.9)]


@pytest.mark.parametrize(("n", "interval"), CELLS)
def test_conformal_interval_covers_at_least_nominal(n, interval):
    cov = _coverage(_conformal, n, interval, _skewed, seed=n)
    se = math.sqrt(interval * (1 - interval) / M)
    assert cov >= interval - Z * se, (n, interval, cov)


def test_naive_quantile_under_covers_where_the_correction_matters():
    n, interval = MIN_CALIBRATION_ERRORS, 0.9
    cov = _coverage(_naive_quantile, n, interval, _skewed, seed=1)
    assert cov < interval - Z * math.sqrt(interval * (1 - interval) / M), cov


T_CELLS = [(5, 0.8), (10, 0.9), (MIN_CALIBRATION_ERRORS - 1, 0.8)]


@pytest.mark.parametrize(("n", "interval"), T_CELLS)
def test_few_errors_t_interval_covers_nominal_for_normal_errors(n, interval):
    assert n < MIN_CALIBRATION_ERRORS  # the t fallback, not the conformal quantiles
    normal = lambda rng, shape: 3.0 + 2.0 * rng.standard_normal(shape)  # noqa: E731
    cov = _coverage(_conformal, n, interval, normal, seed=100 + n, m=M_T)
    se = math.sqrt(interval * (1 - interval) / M_T)
    assert abs(cov - interval) <= Z * se, (n, interval, cov)


def test_confidence_interval_of_the_mean_under_covers():
    """The companion: mean +- t * sd / sqrt(n) (the mean's interval) is far too narrow for one more error."""

    def mean_ci(e, interval):
        half = stats.t.ppf(1 - (1 - interval) / 2, e.size - 1) * np.std(e, ddof=1) / np.sqrt(e.size)
        return e.mean() - half, e.mean() + half, e.size

    cov = _coverage(mean_ci, 10, 0.9, lambda rng, shape: rng.standard_normal(shape), seed=7, m=M_T)
    assert cov < 0.9 - Z * math.sqrt(0.09 / M_T), cov


# ---------------------------------------------------------------- backtest scored against the right period
@pytest.fixture(scope="module")
def deals():
    return sg.simulate.make_crm_data(n_reps=10, n_weeks=120, seed=3).deals


def _hand_monthly_won_revenue(deals: pd.DataFrame) -> pd.Series:
    won = deals[deals["status"] == "won"]
    return won.groupby(won["closed"].dt.to_period("M"))["amount"].sum()


def test_backtest_actuals_and_seasonal_naive_match_a_hand_computation(deals):
    bt = sg.backtest_forecast(deals, level="total", freq="M", horizon=3, methods=["seasonal_naive"], n_origins=4)
    e = bt.errors
    assert len(e) == 4 * 3 and (e["period"] - e["origin"]).apply(lambda d: d.n).tolist() == e["horizon"].tolist()
    hand = _hand_monthly_won_revenue(deals)
    expected = hand.reindex(e["period"]).fillna(0.0).to_numpy()
    np.testing.assert_allclose(e["actual"].to_numpy(), expected, rtol=1e-12)
    # seasonal naive: the same month one year before the forecast month (known at the origin: horizon <= 12)
    last_year = hand.reindex(e["period"] - 12).fillna(0.0).to_numpy()
    assert (last_year > 0).all()  # otherwise the rule falls back to the last value
    np.testing.assert_allclose(e["forecast"].to_numpy(), last_year, rtol=1e-12)
