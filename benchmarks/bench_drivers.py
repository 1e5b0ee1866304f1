"""Benchmark: fit_drivers on 1,000,000 rep-periods (5,000 reps x 200 weeks, 8 activity types, lags).

Target: under 10 s on a 2-core machine, for the default call too (lag length
chosen by the default rule, ``lag_criterion="auto"``, every diagnostic).
Both wall-clock and CPU time are printed: on a shared machine the wall time
includes waiting for the CPU (the load average is printed too).  The fit runs
BLAS single-threaded (threadpoolctl): its work is memory-bound passes, and
multi-threaded OpenBLAS spins when the cores are oversubscribed.

The panel is generated directly as a rep x week table (building it from an
activity log of ~80 million rows would benchmark the panel builder instead):
activity counts are Poisson with rep-level volumes and a shared season, deals
created are Poisson around ``base_i * season_t + sum_k sum_l beta_kl x_k,t-l``
with two of the eight activities having no effect, so the benchmark also
prints how well the effects are recovered at this size.

Run::

    python benchmarks/bench_drivers.py            # fixed lags (4), lag choice over 0..8, diagnostics, default call
    python benchmarks/bench_drivers.py --quick    # 500 reps, for a smoke run
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

import salesgoals as sg
from salesgoals.errors import UnreliableEstimateWarning

#: Deals created per activity by lag (weeks after the activity); the last two have no effect.
EFFECTS = {
    "call": (0.004, 0.003, 0.002),
    "email": (0.001, 0.0005),
    "meeting": (0.05, 0.04, 0.02, 0.01),
    "demo": (0.08, 0.05, 0.02),
    "proposal": (0.10, 0.06),
    "sms": (0.002,),
    "linkedin": (0.0,),
    "note": (0.0,),
}
VOLUME = {"call": 30, "email": 35, "meeting": 3, "demo": 1.5, "proposal": 0.8, "sms": 6, "linkedin": 8, "note": 10}


def make_panel(n_reps: int, n_weeks: int, seed: int = 0) -> pd.DataFrame:
    """A rep x week panel with confounding (skill), a season and distributed-lag effects."""
    rng = np.random.default_rng(seed)
    skill = rng.standard_normal(n_reps)
    t = np.arange(n_weeks)
    season = np.exp(0.15 * np.cos(2 * np.pi * t / 52))
    cols = {}
    mu = 0.35 * np.exp(0.5 * skill)[:, None] * season[None, :]
    for k, vol in VOLUME.items():
        lam = vol * np.exp(0.3 * skill + 0.2 * rng.standard_normal(n_reps))[:, None] * season[None, :]
        x = rng.poisson(lam * np.exp(0.2 * rng.standard_normal((n_reps, n_weeks))))
        cols[k] = x
        for lag, beta in enumerate(EFFECTS[k]):
            if beta:
                mu[:, lag:] += beta * x[:, : n_weeks - lag]
    created = rng.poisson(mu)
    reps = np.array([f"Rep {i:05d}" for i in range(n_reps)], dtype=object)
    periods = pd.period_range("2022-01-03", periods=n_weeks, freq="W-SUN")
    panel = pd.DataFrame(
        {
            "rep": np.repeat(reps, n_weeks),
            "period": pd.PeriodIndex.from_ordinals(np.tile(periods.asi8, n_reps), freq="W-SUN"),
            **{k: v.ravel() for k, v in cols.items()},
            "deals_created": created.ravel(),
        }
    )
    panel.attrs = {"freq": "W", "activity_columns": list(VOLUME)}
    return panel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="500 reps instead of 5,000")
    args = parser.parse_args()
    n_reps = 500 if args.quick else args.reps

    t0 = time.perf_counter()
    panel = make_panel(n_reps, args.weeks)
    print(f"panel: {len(panel):,} rep-periods, {len(VOLUME)} activity types "
          f"(generated in {time.perf_counter() - t0:.1f} s); cpus={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    truth = pd.Series({k: sum(v) for k, v in EFFECTS.items()})

    runs = [
        ("fixed lags 0..4, no diagnostics", {"lags": 4, "diagnostics": False}),
        ("lags chosen (default rule) over 0..8, no diagnostics", {"max_lag": 8, "diagnostics": False}),
        ("fixed lags 0..4, all diagnostics", {"lags": 4, "diagnostics": True}),
        ("default call (lag_criterion='auto' over 0..8, all diagnostics)", {}),
        ("lag_criterion='aic' (round 4 default, 0..8, all diagnostics)", {"lag_criterion": "aic"}),
        ("lag_criterion='cv_tail' (0..8, all diagnostics)", {"lag_criterion": "cv_tail"}),
    ]
    for label, kw in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnreliableEstimateWarning)
            t0, c0 = time.perf_counter(), time.process_time()
            res = sg.fit_drivers(panel, outcome="deals_created", n_boot=0, **kw)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        eff = res.effects.set_index("activity")
        err = (eff["effect"] - truth[eff.index]).abs().max()
        cover = ((eff["ci_low"] <= truth[eff.index]) & (truth[eff.index] <= eff["ci_high"])).mean()
        print(f"{label:<50} {elapsed:6.2f} s wall, {cpu:6.2f} s cpu   lags 0..{res.effects['n_lags'].iloc[0]}, "
              f"max |effect - truth| {err:.4f}, 95% coverage {cover:.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
