"""Diagnostics get the problem they exist to find, planted; and their false alarms are measured.

* Placebo: the check shuffles each activity's weeks within rep and refits; a copy with random timing must
  show no effect.  Here the shuffle is replaced by a known within-rep permutation (time reversal) and the
  outcome gets a planted effect of exactly that reversed activity: the placebo must then reject (and pass
  on the same data without the plant).  This catches a placebo that always reports "passed".
* Leads: next period's activity must not predict this period's outcome unless activity follows results.
  Without follow-up emails the check must stay quiet: over 8 independent simulations (seeds 300-307,
  disjoint from the seed test_drivers uses) the family-wise false-alarm rate is designed to be <= 1 % per
  fit (alpha 0.01, Bonferroni over the regressors), so two or more flagged fits out of 8 has probability
  <= C(8,2) 0.01^2 ~ 0.3 % under the truth.  The flag rule itself is checked against the p-values.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.drivers import _diagnostics
from salesgoals.errors import UnreliableEstimateWarning


class _ReverseWithinRep:
    """Stands in for the placebo's random generator: uniform draws in decreasing order, so the
    "random order inside each rep's block" becomes each rep's weeks in reverse."""

    def __init__(self, seed=None):
        pass

    def random(self, n):
        return np.linspace(1.0, 0.0, n, endpoint=False)


@pytest.fixture(scope="module")
def balanced_panel():
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=80, seed=21, followup_emails=0.0, frac_join=0.0,
                                    frac_leave=0.0)  # fmt: skip
    return sim.panel().sort_values(["rep", "period"]).reset_index(drop=True)


def _placebo(panel, monkeypatch):
    monkeypatch.setattr(_diagnostics.np.random, "default_rng", _ReverseWithinRep)
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        res = sg.fit_drivers(panel, lags=1, n_boot=0)
    return res.diagnostics.placebo.set_index("placebo_of")


def test_placebo_rejects_a_planted_timing_effect(balanced_panel, monkeypatch):
    reversed_calls = balanced_panel.groupby("rep", observed=True)["call"].transform(lambda s: s.to_numpy()[::-1])
    planted = balanced_panel.assign(deals_created=balanced_panel["deals_created"] + 0.02 * reversed_calls)
    placebo = _placebo(planted, monkeypatch)
    assert not placebo.loc["call", "passed"], placebo
    assert placebo.loc["call", "ci_low"] > 0  # the planted +0.02 deals per (reversed) call is recovered
    assert placebo.loc["call", "ci_low"] <= 0.02 <= placebo.loc["call", "ci_high"]
    assert placebo.loc[["email", "meeting", "linkedin"], "passed"].all()


def test_placebo_passes_the_same_permutation_without_the_plant(balanced_panel, monkeypatch):
    placebo = _placebo(balanced_panel, monkeypatch)
    assert placebo["passed"].all(), placebo
    # the decision is the interval's: passed exactly when it covers zero
    covers = (placebo["ci_low"] <= 0) & (placebo["ci_high"] >= 0)
    assert (placebo["passed"] == covers).all()
    # ... at the Bonferroni level over the activities checked (no correction: a false alarm in ~1 fit of 5)
    k, n_reps = len(placebo), balanced_panel["rep"].nunique()
    half_width = (placebo["ci_high"] - placebo["effect"]) / placebo["std_error"]
    np.testing.assert_allclose(half_width, stats.t.ppf(1 - 0.05 / (2 * k), n_reps - 1), rtol=1e-9)


@pytest.mark.slow
def test_leads_false_alarm_rate_without_reverse_causality():
    flagged_fits = 0
    for seed in range(300, 308):
        sim = sg.simulate.make_crm_data(n_reps=30, n_weeks=60, seed=seed, followup_emails=0.0)
        with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
            res = sg.fit_drivers(sim.panel(), lags=1, n_boot=0)
        leads = res.diagnostics.leads
        k = len(leads)
        # the flag is Bonferroni at family level 1 %: p x (number of regressors) < 0.01
        np.testing.assert_array_equal(leads["flagged"].to_numpy(), (leads["p_value"] * k < 0.01).to_numpy())
        flagged_fits += bool(leads["flagged"].any())
    assert flagged_fits <= 1, f"{flagged_fits} of 8 fits flagged a lead with no reverse causality"
