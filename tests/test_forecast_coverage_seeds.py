"""backtest_forecast's 80 % ranges cover about 80 % on every seed, on both simulators; model ranges do not.

:func:`coverage_rows` backtests the team-level weekly forecast (40 reps x 104 weeks, horizon 4, the
seasonal naive benchmark and the pipeline method) on the project simulator or the independent event-level one
(``tests/independent_sim.py``), with the default conformal ranges and, as the naive companion, the seasonal
naive method's model ranges (``intervals="model"``: its empirical seasonal differences, not calibrated on
its own past errors).

Tolerances come from ``tests/reference/forecast_coverage_seeds.py`` on study seeds 100-115 (both
simulators); pass rates on the disjoint evaluation seeds 0-15 are in
``tests/reference/forecast_coverage_seeds.csv`` and the reference README.  The tests run evaluation
seeds 0 and 1 (about 4 s of CPU per simulator and seed).

Design: every conformal coverage (simulator x seed x method) must lie in
[0.72, 0.92]: on the 16 study cells the coverage has mean 0.818 and s.d. 0.027 (rounded up to 0.03 for
so small a study); 0.818 +- 3.23 x 0.03 is two-sided 0.125 % per cell, 1 % over the 8 cells the suite
checks.  The 16 evaluation cells (seeds 0-3) lie in 0.756-0.846: 16 of 16 pass.  The companion: the
seasonal naive's model ranges cover less than its conformal ranges on every one of the 16 study and 16
evaluation cells (gap 0.024-0.121, mean 0.065, s.d. 0.035); the suite requires a mean gap of at least 0.02
over its 4 cells (about 2.5 s.d. of a 4-cell mean below the study's: ~0.6 % failure), so ranges that stop
using the method's own past errors fail here.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import UnreliableEstimateWarning
from salesgoals.forecasting import backtest_forecast

METHODS = ["seasonal_naive", "pipeline"]  # the benchmark and the method the forecasts default to in practice
SEEDS = (0, 1)  # evaluation seeds: disjoint from the study's 100-115
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


COVERAGE_BAND = (0.72, 0.92)  # per cell; from the study (see the module notes)
MIN_MEAN_GAP = 0.02  # conformal minus model coverage of the seasonal naive, mean over the suite's cells


def test_conformal_ranges_cover_about_80_percent_on_every_seed(coverage):
    c = coverage[coverage["intervals"] == "conformal"]
    assert len(c) == 2 * len(SEEDS) * len(METHODS)
    lo, hi = COVERAGE_BAND
    off = c[(c["coverage"] < lo) | (c["coverage"] > hi)]
    assert off.empty, off


def test_model_ranges_cover_less_than_the_conformal_ones(coverage):
    sn = coverage[coverage["method"] == "seasonal_naive"].pivot_table(
        index=["simulator", "seed"], columns="intervals", values="coverage"
    )
    gap = sn["conformal"] - sn["model"]
    assert len(gap) == 2 * len(SEEDS)
    assert gap.mean() >= MIN_MEAN_GAP, gap
