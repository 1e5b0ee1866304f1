"""Coverage of backtest_forecast's 80 % ranges across seeds, on both simulators (issue 17).

For each simulator (``project`` = :func:`salesgoals.simulate.make_crm_data`, ``independent`` = the event-level
simulator of ``tests/independent_sim.py``; 40 reps x 104 weeks) and seed: :func:`salesgoals.backtest_forecast`
at the team level, weekly, horizon 4, the seasonal naive and pipeline methods, default (conformal, ``ranges="auto"``)
ranges; and the naive companion, the seasonal naive method's *model* ranges (``intervals="model"``: the
empirical seasonal differences, no calibration on the method's own past errors).  One row per simulator x
seed x method x interval kind with the realised coverage over the 26 origins x teams x 4 horizons.

The **study** seeds (100-139) set the tolerances of ``tests/test_forecast_coverage_seeds.py`` (which runs
evaluation seeds 0-1); the **evaluation** seeds (0-39, disjoint) give the pass rates quoted in
``tests/reference/README.md``.  :func:`report` derives the band and the companion's bound from the study rows
and checks them on the evaluation rows.

Run in chunks (about 1.5 minutes of CPU per role; each keeps the other role's rows of the CSV)::

    python tests/reference/forecast_coverage_seeds.py --role study
    python tests/reference/forecast_coverage_seeds.py --role evaluation
    python tests/reference/forecast_coverage_seeds.py --report   # tolerances and pass rates from the CSV
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1]))

from test_forecast_coverage_seeds import METHODS, SEEDS, coverage_rows  # noqa: E402

OUT = HERE / "forecast_coverage_seeds.csv"
ROLES = {"study": range(100, 140), "evaluation": range(0, 40)}
SIMULATORS = ("project", "independent")
#: Designed failure probability of each suite test under the study's spread.
DESIGNED = 0.01


def run(role: str) -> pd.DataFrame:
    """Coverage rows of one role's seeds on both simulators."""
    rows = []
    for simulator in SIMULATORS:
        for seed in ROLES[role]:
            got = coverage_rows(simulator, seed)
            rows.append(got.assign(role=role))
            print(role, simulator, seed, got.set_index(["intervals", "method"])["coverage"].round(3).to_dict(),
                  flush=True)  # fmt: skip
    return pd.concat(rows, ignore_index=True)[["role", "simulator", "seed", "intervals", "method", "coverage"]]


def _gaps(d: pd.DataFrame) -> pd.Series:
    """Conformal minus model coverage of the seasonal naive, per simulator x seed."""
    sn = d[d["method"] == "seasonal_naive"].pivot_table(index=["simulator", "seed"], columns="intervals",
                                                          values="coverage")  # fmt: skip
    return sn["conformal"] - sn["model"]


def report(out: pd.DataFrame) -> dict:
    """The suite's band and companion bound from the study rows; their pass rates on the evaluation rows.

    Band, per method: study mean +- z s.d. of that method's per-cell conformal coverage (both simulators),
    z two-sided at ``DESIGNED`` over the suite's cells (Bonferroni).  Companion: the mean gap over the
    suite's seasonal-naive cells must reach the study mean minus 2.33 s.d. of such a mean (1 % one-sided).
    The evaluation seeds are grouped as the suite runs them (pairs of seeds, both simulators) for the
    per-run pass rates.
    """
    summary = out.groupby(["role", "simulator", "intervals", "method"])["coverage"].agg(["mean", "std", "min", "max"])
    print(summary.round(3).to_string())
    study, ev = (out[out["role"] == r] for r in ("study", "evaluation"))
    conf_s, conf_e = (d[d["intervals"] == "conformal"] for d in (study, ev))
    n_cells = len(SIMULATORS) * len(SEEDS) * len(METHODS)
    z = stats.norm.isf(DESIGNED / 2 / n_cells)
    g = conf_s.groupby("method")["coverage"]
    bands = {m: (round(float(g.mean()[m] - z * g.std()[m]), 3), round(float(g.mean()[m] + z * g.std()[m]), 3))
             for m in METHODS}
    lo, hi = (conf_e["method"].map({m: b[i] for m, b in bands.items()}) for i in (0, 1))
    inside = conf_e["coverage"].between(lo, hi)
    gap_s, gap_e = _gaps(study), _gaps(ev)
    n_gap = len(SIMULATORS) * len(SEEDS)
    min_gap = gap_s.mean() - stats.norm.isf(DESIGNED) * gap_s.std() / np.sqrt(n_gap)
    # the suite's runs on evaluation seeds: seeds (0, 1), (2, 3), ... both simulators
    band_ok = inside.groupby(conf_e["seed"] // len(SEEDS)).all()
    gap_ok = gap_e.groupby(lambda ix: ix[1] // len(SEEDS)).mean() >= min_gap
    res = {"z": z, "bands": bands, "cells_inside": (int(inside.sum()), len(conf_e)),
           "runs_band_pass": (int(band_ok.sum()), len(band_ok)), "min_gap": min_gap,
           "runs_gap_pass": (int(gap_ok.sum()), len(gap_ok)),
           "gap_study": (gap_s.mean(), gap_s.std(), gap_s.min()), "gap_eval": (gap_e.mean(), gap_e.std(), gap_e.min()),
           "gap_positive": (int((gap_s > 0).sum() + (gap_e > 0).sum()), len(gap_s) + len(gap_e))}  # fmt: skip
    print(f"conformal coverage per cell, study: mean {g.mean().round(4).to_dict()}, s.d. {g.std().round(4).to_dict()} "
          f"({len(conf_s)} cells); bands mean +- {z:.2f} s.d. = {bands}; evaluation cells inside {res['cells_inside']}; "
          f"suite runs (2 seeds x 2 simulators x 2 methods) inside {res['runs_band_pass']}")  # fmt: skip
    print(f"model vs conformal gap (seasonal naive): study mean {gap_s.mean():.4f} s.d. {gap_s.std():.4f} min "
          f"{gap_s.min():.4f}; evaluation mean {gap_e.mean():.4f} s.d. {gap_e.std():.4f} min {gap_e.min():.4f}; "
          f"positive on {res['gap_positive']}; suite bound on a {n_gap}-cell mean {min_gap:.4f}, "
          f"evaluation runs passing {res['runs_gap_pass']}")  # fmt: skip
    return res


def main(argv: list[str]) -> int:
    if "--role" in argv:
        role = argv[argv.index("--role") + 1]
        new = run(role)
        old = pd.read_csv(OUT) if OUT.exists() else new.iloc[:0]
        out = pd.concat([old[old["role"] != role], new], ignore_index=True)
        out["order"] = out["role"].map({"study": 0, "evaluation": 1})
        out = out.sort_values(["order", "simulator", "seed"], kind="stable").drop(columns="order")
        out.to_csv(OUT, index=False, float_format="%.4f", lineterminator="\n")
    report(pd.read_csv(OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
