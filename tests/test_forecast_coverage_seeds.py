"""backtest_forecast's 80 % ranges cover about 80 % on every seed, on both simulators; model ranges do not.

:func:`coverage_rows` backtests the team-level weekly forecast (40 reps x 104 weeks, horizon 4, the
seasonal naive benchmark and the pipeline method) on the project simulator or the independent event-level one
(``tests/independent_sim.py``), with the default conformal ranges and, as the naive companion, the seasonal
naive method's model ranges (``intervals="model"``: its empirical seasonal differences, not calibrated on
its own past errors).

Tolerances come from ``tests/reference/forecast_coverage_seeds.py`` on study seeds 100-139 (both
simulators, 160 conformal cells); pass rates on the disjoint evaluation seeds 0-39 are in
``tests/reference/forecast_coverage_seeds.csv`` and the reference README (``--report`` reprints them).  The
tests run evaluation seeds 0 and 1 (about 1.6 s of CPU per simulator and seed).

Design (designed failure probability 1 % per test under the study's spread): every conformal coverage
(simulator x seed x method) must lie in its method's band, study mean +- 3.23 s.d. (two-sided 0.125 % per
cell, 1 % over the 8 cells the suite checks): pipeline mean 0.794, s.d. 0.036 -> [0.678, 0.910];
seasonal naive mean 0.825, s.d. 0.033 -> [0.718, 0.932].  On the evaluation seeds 160 of 160 cells lie
inside, and all 20 of the suite-sized runs (seed pairs 0-1, 2-3, ..., both simulators).  Round 3's band
[0.72, 0.92] came from 16 study cells whose s.d. (0.027) was too small: under the 160 cells' spread it
fails about 9 % of runs, not 1 % (it happened to hold on all 320 cells).  The companion: the seasonal
naive's model ranges cover less than its conformal ranges on 159 of 160 cells (study gap mean 0.061,
s.d. 0.028, min 0.015; evaluation mean 0.067, min -0.010 on project seed 19); the suite requires a mean
gap of at least 0.027 over its 4 cells (study mean - 2.33 s.d. / sqrt(4): 1 % one-sided), which all 20
evaluation runs meet, so ranges that stop using the method's own past errors fail here.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import UnreliableEstimateWarning
from salesgoals.forecasting import backtest_forecast

METHODS = ["seasonal_naive", "pipeline"]  # the benchmark and the method the forecasts default to in practice
SEEDS = (0, 1)  # evaluation seeds: disjoint from the study's 100-139
NOMINAL = 0.8


def _panel(simulator: str, seed: int):
    if simulator == "project":
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W"), sim.deals
    from independent_sim import make_events

    ev = make_events("baseline", seed=seed, n_reps=40, n_periods=104)
    return ev.panel(), ev.deals


def coverage_rows(simulator: str, seed: int) -> pd.DataFrame:
    """Realised coverage per method of the conformal ranges and of the seasonal naive's model ranges.

    Columns ``simulator, seed, intervals ("conformal" | "model"), method, coverage``.
    """
    panel, deals = _panel(simulator, seed)
    out = []
    with warnings.catch_warnings():  # rough / wide ranges are flagged in the table; not under test here
        warnings.filterwarnings("ignore", message="backtest_forecast: ", category=UnreliableEstimateWarning)
        for kind, methods in (("conformal", METHODS), ("model", ["seasonal_naive"])):
            bt = backtest_forecast(panel, deals=deals, level="team", horizon=4, methods=methods, intervals=kind)
            out.append(bt.table[["method", "coverage"]].assign(intervals=kind))
    return pd.concat(out, ignore_index=True).assign(simulator=simulator, seed=seed)[
        ["simulator", "seed", "intervals", "method", "coverage"]
    ]


@pytest.fixture(scope="module")
def coverage() -> pd.DataFrame:
    return pd.concat([coverage_rows(s, seed) for s in ("project", "independent") for seed in SEEDS],
                     ignore_index=True)  # fmt: skip


#: per cell and method; from the study (see the module notes)
COVERAGE_BAND = {"pipeline": (0.678, 0.910), "seasonal_naive": (0.718, 0.932)}
MIN_MEAN_GAP = 0.027  # conformal minus model coverage of the seasonal naive, mean over the suite's cells


def test_conformal_ranges_cover_about_80_percent_on_every_seed(coverage):
    c = coverage[coverage["intervals"] == "conformal"]
    assert len(c) == 2 * len(SEEDS) * len(METHODS)
    lo, hi = (c["method"].map({m: b[i] for m, b in COVERAGE_BAND.items()}) for i in (0, 1))
    off = c[(c["coverage"] < lo) | (c["coverage"] > hi)]
    assert off.empty, off


def test_model_ranges_cover_less_than_the_conformal_ones(coverage):
    sn = coverage[coverage["method"] == "seasonal_naive"].pivot_table(
        index=["simulator", "seed"], columns="intervals", values="coverage"
    )
    gap = sn["conformal"] - sn["model"]
    assert len(gap) == 2 * len(SEEDS)
    assert gap.mean() >= MIN_MEAN_GAP, gap
