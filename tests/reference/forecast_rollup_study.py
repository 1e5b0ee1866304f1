"""Reference study: team and total ranges of a rep-level forecast, calibrated vs the quadrature sum.

For each case, :func:`salesgoals.forecast` runs at rep level with teams known
at 30 as-of dates two weeks apart (15 for ``auto``) (4 weeks ahead, 80 % ranges), and the team and
total rows of ``.hierarchy`` are scored against what closed: the calibrated
ranges (the roll-ups' own past errors, what ``.hierarchy`` reports) next to the
reps' half-widths added in quadrature (the rule it replaced).  Harness and
fixture: ``tests/test_forecast_rollup.py`` (reps whose weekly wins share a
team-wide and a company-wide lognormal shock of s.d. ``shock_sd``; 0 =
independent reps).  Also the suite's simulator (40 reps, 104 weeks, seed 7).

Run (about a minute of CPU)::

    python tests/reference/forecast_rollup_study.py

It writes ``forecast_rollup.csv`` beside it: one row per case, method and level
with ``coverage`` / ``quad_coverage`` and ``width`` / ``quad_width`` (mean
width relative to the mean actual).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import salesgoals as sg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from test_forecast_rollup import START, rollup_scores, shared_shock_company  # noqa: E402

OUT = HERE / "forecast_rollup.csv"


def summarise(s: pd.DataFrame) -> pd.DataFrame:
    s = s.assign(width=s["upper"] - s["lower"], quad_width=s["q_upper"] - s["q_lower"])
    g = s.groupby("level")
    out = g.agg(n=("covered", "size"), coverage=("covered", "mean"), quad_coverage=("q_covered", "mean"))
    level = g["actual"].mean()
    out["width"] = g["width"].mean() / level
    out["quad_width"] = g["quad_width"].mean() / level
    return out.reset_index()


def main() -> pd.DataFrame:
    rows = []
    as_ofs = pd.date_range(START + pd.Timedelta(weeks=44), periods=30, freq="2W-SUN")
    cases = [(seed, sd, "trailing_mean", as_ofs) for seed in (11, 12, 13) for sd in (0.45, 0.0)]
    cases += [(11, 0.45, "auto", as_ofs[::2])]  # auto: 15 dates (it backtests every method at each)
    for seed, sd, method, dates in cases:
        deals, roster = shared_shock_company(seed, shock_sd=sd)
        t = summarise(rollup_scores(deals, roster, dates, method=method))
        rows.append(t.assign(case=f"shared_shock_sd{sd:g}", seed=seed, method=method))
        print(rows[-1].round(3).to_string(index=False, header=len(rows) == 1))
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=7)
    sim_as_ofs = pd.date_range(sim.deals["closed"].min() + pd.Timedelta(weeks=44), periods=30, freq="2W-SUN")
    t = summarise(rollup_scores(sim.deals, sim.roster, sim_as_ofs, method="trailing_mean"))
    rows.append(t.assign(case="simulator_40reps", seed=7, method="trailing_mean"))
    print(rows[-1].round(3).to_string(index=False, header=False))
    out = pd.concat(rows, ignore_index=True)
    out = out[["case", "seed", "method", "level", "n", "coverage", "quad_coverage", "width", "quad_width"]]
    out.round(4).to_csv(OUT, index=False)
    return out


if __name__ == "__main__":
    main()
