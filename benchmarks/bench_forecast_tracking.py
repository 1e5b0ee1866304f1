"""Benchmark: forecast, backtest_forecast and track on a simulated company.

Targets on a 2-core machine (300 reps x 104 weeks, ~2.5 million activities, ~35,000 deals):

* ``forecast(level="team", method="auto")`` (every method and the three benchmarks at ~30 origins): < 10 s;
* ``forecast(level="rep", method="pipeline")``: < 5 s;
* ``track`` of a mid-week on the full activity log: < 3 s.

Both wall-clock and CPU time are printed (on a shared machine the wall time includes waiting
for a core).  The cost of forecasting grows with origins x groups for ETS (one statsmodels fit
per group every ``REFIT_EVERY`` origins) and with the number of deals for the pipeline method;
tracking is one pass over the activity log.

Run::

    python benchmarks/bench_forecast_tracking.py           # 300 reps
    python benchmarks/bench_forecast_tracking.py --quick   # 60 reps, a smoke run
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

import salesgoals as sg


def timed(label: str, fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    print(
        f"{label:<48} wall {time.perf_counter() - w0:6.2f} s   cpu "
        f"{time.process_time() - c0:6.2f} s"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n_reps = 60 if args.quick else 300
    print(f"load average {os.getloadavg()[0]:.1f}; {n_reps} reps x 104 weeks")
    warnings.simplefilter("ignore")
    sim = timed("simulate", lambda: sg.simulate.make_crm_data(n_reps=n_reps, n_weeks=104, seed=0))
    print(f"  {len(sim.activities):,} activities, {len(sim.deals):,} deals")
    panel = timed(
        "build_panel (W)", lambda: sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    )
    res = timed(
        "forecast team, auto (all methods + benchmarks)", lambda: sg.forecast(panel, deals=sim.deals, level="team")
    )
    print(f"  picked {res.method}")
    timed(
        "forecast rep, pipeline",
        lambda: sg.forecast(panel, deals=sim.deals, level="rep", method="pipeline"),
    )
    bt = timed(
        "backtest team, ets+pipeline, 26 origins",
        lambda: sg.backtest_forecast(
            panel, deals=sim.deals, level="team", methods=["ets", "pipeline"]
        ),
    )
    print(bt.table[["method", "mase", "relative_mae", "coverage"]].round(3).to_string(index=False))
    reps = sim.roster["rep"]
    goals = pd.DataFrame(
        {
            "rep": np.repeat(reps, 2),
            "activity": np.tile(["call", "meeting_held"], len(reps)),
            "goal_clear": np.tile([25.0, 2.0], len(reps)),
            "goal_stretch": np.tile([32.0, 3.0], len(reps)),
            "goal_extraordinary": np.tile([40.0, 4.0], len(reps)),
        }
    )
    wed = sim.end - pd.Timedelta(days=4)
    tr = timed(
        "track (mid-week, full activity log)",
        lambda: sg.track(sim.activities, goals, as_of=wed, roster=sim.roster),
    )
    print("  status:", tr.table["status"].value_counts().to_dict())


if __name__ == "__main__":
    main()
