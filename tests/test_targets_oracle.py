"""project_targets against its closed form: the mean of the simulated revenue is the model's expectation.

Under current behaviour a rep's won revenue over H periods has the expectation

    E[revenue] = H x season_factor x E[deal rate] x E[win rate] x E[deal size]
               = H x season_factor x (shape / periods) x alpha / (alpha + beta) x deal_size

(a Gamma deal rate, a Beta win rate and log-normal deal sizes whose mean is ``deal_size``), all read off the
plan's ``rep_stats``.  The simulation must reproduce it within Monte Carlo error.  Tolerance: 4 Monte Carlo
standard errors (from the draws themselves), Bonferroni over the reps: designed failure probability under a
correct simulation about 6e-5 per rep, below 0.3 % for the whole team.  A simulation that forgets the season
or the -sigma^2/2 correction of the log-normal mean misses by 5-30 % (the companion tests show both would fail).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.errors import UnreliableEstimateWarning

N_SIMS = 4000
Z = 4.0  # Monte Carlo standard errors allowed


@pytest.fixture(scope="module")
def plan(sim_panel):
    # expected: the leads check flags the simulator's follow-up emails, and its other notes on this data
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        drivers = sg.fit_drivers(sim_panel, outcome="deals_created")
    return sg.personal_best_goals(sim_panel, drivers)


def _expected_revenue(plan, H: int) -> np.ndarray:
    rs = plan.rep_stats
    rate = rs["deals_rate_shape"] / rs["deals_rate_periods"]
    win = rs["win_alpha"] / (rs["win_alpha"] + rs["win_beta"])
    return (H * rs["season_factor"] * rate * win * rs["deal_size"]).to_numpy(float)


def _check_mean(plan, H: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    proj = sg.project_targets(plan, horizon=H, n_sims=N_SIMS, seed=seed)
    draws = proj.draws["current"]  # n_sims x reps, reps in rep_stats order
    return draws, _expected_revenue(plan, H)


def _within(draws: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    se = draws.std(axis=0, ddof=1) / np.sqrt(draws.shape[0])
    return np.abs(draws.mean(axis=0) - expected), Z * se


def test_current_revenue_matches_the_closed_form_rep_by_rep_and_in_total(plan):
    draws, expected = _check_mean(plan, 13, seed=3)
    assert draws.shape == (N_SIMS, len(plan.rep_stats))
    gap, tol = _within(draws, expected)
    assert (gap <= tol).all(), plan.rep_stats["rep"][gap > tol].tolist()
    gap, tol = _within(draws.sum(axis=1, keepdims=True), expected.sum(keepdims=True))
    assert gap[0] <= tol[0], (gap, tol)
    # companion: a simulation without the log-normal mean correction (amounts x exp(sigma^2/2)) is rejected
    inflated = expected * np.exp(plan.rep_stats["deal_size_sigma"].to_numpy(float) ** 2 / 2)
    assert np.abs(draws.sum(axis=1).mean() - inflated.sum()) > tol[0]


def test_revenue_follows_the_season_factor(plan):
    """A high season (x1.5 for half the reps) raises their projected revenue by that factor, the others' not."""
    rs = plan.rep_stats.copy()
    high = np.arange(len(rs)) % 2 == 0
    rs["season_factor"] = np.where(high, 1.5, 1.0)
    seasonal = dataclasses.replace(plan, rep_stats=rs)
    draws, expected = _check_mean(seasonal, 13, seed=4)
    gap, tol = _within(draws.sum(axis=1, keepdims=True), expected.sum(keepdims=True))
    assert gap[0] <= tol[0], (gap, tol)
    for part in (~high, high):
        gap, tol = _within(draws[:, part].sum(axis=1, keepdims=True), expected[part].sum(keepdims=True))
        assert gap[0] <= tol[0], (part.sum(), gap, tol)
    # companion: a simulation ignoring the season (high-season reps at factor 1) is rejected
    assert np.abs(draws[:, high].sum(axis=1).mean() - expected[high].sum() / 1.5) > tol[0]
