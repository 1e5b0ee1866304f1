"""Coverage of backtest_forecast's 80 % ranges across seeds, on both simulators (issue 17).

For each simulator (``project`` = :func:`salesgoals.simulate.make_crm_data`, ``independent`` = the event-level
simulator of ``tests/independent_sim.py``; 40 reps x 104 weeks) and seed: :func:`salesgoals.backtest_forecast`
at the team level, weekly, horizon 4, the seasonal naive and pipeline methods, default (conformal, ``ranges="auto"``)
ranges; and the naive companion, the seasonal naive method's *model* ranges (``intervals="model"``: the
empirical seasonal differences, no calibration on the method's own past errors).  One row per simulator x
seed x method x interval kind with the realised coverage over the 26 origins x teams x 4 horizons.

The **study** seeds (100-103) set the tolerances of ``tests/test_forecast_coverage_seeds.py`` (which runs
evaluation seeds 0-1); the **evaluation** seeds (0-3, disjoint) give the pass rates quoted in
``tests/reference/README.md``.

Run (about 1 minute of CPU; sized to stay under the shared machine's heavy-job bar)::

    python tests/reference/forecast_coverage_seeds.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1]))

from test_forecast_coverage_seeds import coverage_rows  # noqa: E402

STUDY = range(100, 104)
EVALUATION = range(0, 4)


def main() -> int:
    rows = []
    for role, seeds in (("study", STUDY), ("evaluation", EVALUATION)):
        for simulator in ("project", "independent"):
            for seed in seeds:
                got = coverage_rows(simulator, seed)
                rows.append(got.assign(role=role))
                print(role, simulator, seed, got.set_index(["intervals", "method"])["coverage"].round(3).to_dict(),
                      flush=True)  # fmt: skip
    out = pd.concat(rows, ignore_index=True)[["role", "simulator", "seed", "intervals", "method", "coverage"]]
    out.to_csv(HERE / "forecast_coverage_seeds.csv", index=False, float_format="%.4f", lineterminator="\n")
    summary = out.groupby(["role", "simulator", "intervals", "method"])["coverage"].agg(["mean", "std", "min", "max"])
    print(summary.round(3).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
