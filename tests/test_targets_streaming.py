"""project_targets streams its simulation by blocks of reps: same numbers, bounded memory."""

from __future__ import annotations

import dataclasses
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.goals import targets
from salesgoals.goals.targets import SCENARIOS


@pytest.fixture(scope="module")
def plan(sim_panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drivers = sg.fit_drivers(sim_panel, outcome="deals_created")
    return sg.personal_best_goals(sim_panel, drivers)


def _project(plan, monkeypatch, *, stream_reps, n_sims=300):
    monkeypatch.setattr(targets, "STREAM_REPS", stream_reps)
    return sg.project_targets(plan, n_sims=n_sims, seed=3)


def test_groups_one_at_a_time_equal_all_reps_at_once(plan, monkeypatch):
    """Streaming changes memory, not numbers: the projection simulated group by group gives
    exactly what the whole team's merged draws give (the path plan_for_target takes)."""
    proj = _project(plan, monkeypatch, stream_reps=7)  # 36 reps: groups of 7, the last of 1
    fm = targets._focus_matrices(plan)
    levels = fm[2]
    top = np.maximum.reduce([levels[t] for t in ("clear", "stretch", "extraordinary")])
    whole = targets._simulate(plan, top, plan.horizon, 300, 3)
    assert whole.base.shape == (300, 36) and whole.counts is None  # six groups merged
    for scn in SCENARIOS:
        lv = levels["baseline"] if scn == "current" else levels[scn]
        rate = np.maximum(whole.base + targets._lift(whole.delta_unit, lv - levels["baseline"]), 0.0)
        _, won, rev = targets._scenario_totals(whole, np.minimum(rate, whole.mu_max))
        np.testing.assert_array_equal(proj.draws[scn], rev)
        got = proj.table[proj.table["scenario"] == scn].set_index("rep")["deals_won"]
        want = pd.Series(targets._col_mean(won), index=fm[0])
        np.testing.assert_array_equal(got.reindex(fm[0]).to_numpy(), want.to_numpy())


def test_rep_results_do_not_depend_on_the_reps_after_it(plan, monkeypatch):
    """A group's numbers come from its own stream: dropping later groups leaves the first ones alone."""
    full = _project(plan, monkeypatch, stream_reps=10)
    keep = plan.rep_stats["rep"].iloc[:20]
    first = dataclasses.replace(
        plan,
        rep_stats=plan.rep_stats.iloc[:20].reset_index(drop=True),
        table=plan.table[plan.table["rep"].isin(keep)].reset_index(drop=True),
        moments=plan.moments[plan.moments["rep"].isin(keep)].reset_index(drop=True),
    )
    part = sg.project_targets(first, n_sims=300, seed=3)
    for scn in SCENARIOS:
        np.testing.assert_array_equal(part.draws[scn], full.draws[scn][:, :20])


def test_one_stream_group_is_the_unstreamed_simulation(plan, monkeypatch):
    """Up to STREAM_REPS reps everything comes from default_rng(seed), in the original order.

    Re-derives the first rep's won-deal count of the first draw by hand from that stream.
    """
    proj = _project(plan, monkeypatch, stream_reps=10_000)
    rs = plan.rep_stats
    S, R = 300, len(rs)
    baseline = targets._focus_matrices(plan)[2]["baseline"]
    blocks = list(targets._simulate_blocks(plan, baseline, 1, S, 3))
    assert len(blocks) == 1  # one group: no streaming at all
    rng = np.random.default_rng(3)
    shape = np.maximum(rs["deals_rate_shape"].to_numpy(float), 1e-9)
    scale = 1.0 / rs["deals_rate_periods"].to_numpy(float)
    want = rng.gamma(shape[None, :], scale[None, :], size=(S, R))
    season = rs["season_factor"].to_numpy(float) if "season_factor" in rs else np.ones(R)
    np.testing.assert_array_equal(blocks[0][1].base, want * season[None, :])
    assert len(proj.table) == R * len(SCENARIOS)


def test_groups_draw_from_different_streams(plan, monkeypatch):
    """Two groups of reps with identical inputs must not get identical draws."""
    monkeypatch.setattr(targets, "STREAM_REPS", 20)
    blocks = list(targets._simulate_blocks(plan, targets._focus_matrices(plan)[2]["baseline"], 4, 200, 0))
    base = np.concatenate([d.base for _, d in blocks], axis=1)
    assert base.shape == (200, 36)
    corr = np.corrcoef(np.log1p(base[:, :16]).ravel(), np.log1p(base[:, 20:]).ravel())[0, 1]
    assert abs(corr) < 0.2


def test_memory_does_not_grow_with_reps_times_draws(plan, monkeypatch):
    """The simulation's temporaries are bounded by the block, not by all reps x draws."""

    def peak(stream_reps):
        monkeypatch.setattr(targets, "STREAM_REPS", stream_reps)
        tracemalloc.start()
        sg.project_targets(plan, n_sims=2000, seed=1)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    kept = 2000 * len(plan.rep_stats) * 8 * len(SCENARIOS)  # the returned draws
    small, whole = peak(4), peak(10_000)
    assert small - kept < 0.25 * (whole - kept)
