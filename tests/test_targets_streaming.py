"""project_targets streams its simulation by blocks of reps: same numbers, bounded memory."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
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


def _project(plan, monkeypatch, *, stream_reps, block_bytes, n_sims=300):
    monkeypatch.setattr(targets, "STREAM_REPS", stream_reps)
    monkeypatch.setattr(targets, "BLOCK_BYTES", block_bytes)
    return sg.project_targets(plan, n_sims=n_sims, seed=3)


def test_results_do_not_depend_on_the_block_size(plan, monkeypatch):
    """Random streams belong to fixed groups of reps: blocks of 1, 2 or all groups agree exactly."""
    sizes = (1, 3e6, 1e15)  # one group per block, a few groups, all reps at once
    runs, n_blocks = [], []
    for b in sizes:
        runs.append(_project(plan, monkeypatch, stream_reps=7, block_bytes=b))
        n_blocks.append(len(targets._rep_blocks(plan, plan.horizon, 300, 4)))
    assert n_blocks[0] == 6 and 1 < n_blocks[1] < 6 and n_blocks[2] == 1  # 36 reps / 7
    for run in runs[1:]:
        assert run.table.equals(runs[0].table)
        for scn in SCENARIOS:
            assert np.array_equal(run.draws[scn], runs[0].draws[scn])


def test_one_stream_group_is_the_unstreamed_simulation(plan, monkeypatch):
    """Up to STREAM_REPS reps everything comes from default_rng(seed), in the original order.

    Re-derives the first rep's won-deal count of the first draw by hand from that stream.
    """
    proj = _project(plan, monkeypatch, stream_reps=10_000, block_bytes=1)
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

    def peak(block_bytes):
        monkeypatch.setattr(targets, "STREAM_REPS", 4)
        monkeypatch.setattr(targets, "BLOCK_BYTES", block_bytes)
        tracemalloc.start()
        sg.project_targets(plan, n_sims=2000, seed=1)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    kept = 2000 * len(plan.rep_stats) * 8 * len(SCENARIOS)  # the returned draws
    small, whole = peak(1), peak(1e15)
    assert small - kept < 0.25 * (whole - kept)
