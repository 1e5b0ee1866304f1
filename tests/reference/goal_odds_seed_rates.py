"""Goal odds and revenue intervals across seeds: the tolerance study and the pass rates on disjoint seeds.

For each simulator (``project`` = :func:`salesgoals.simulate.make_crm_data`, ``independent`` = the event-level
simulator of ``tests/independent_sim.py``) and seed: 40 reps x 104 weeks, :func:`salesgoals.backtest_goals`
(4 rolling origins, n_sims as in the suite's tests), and record per tier the stated-minus-realised gap over goal
periods and per week, and the realised coverage of the 80 % revenue intervals.

The **study** seeds (100-139) set the tolerances of ``tests/test_backtest_goals.py``; the **evaluation** seeds
(0-39, disjoint) give the pass rates quoted in ``tests/reference/README.md``.  Round 3 widened both ranges from
12 to 40 seeds: the seed-to-seed spread of the gaps (s.d. ~0.03, mostly the team's seasonal factors, which every
rep of a seed shares) needs more than 12 seeds to pin a 1 % tail, and the 12 study seeds of round 2 happened to
drift upward (activity 2 % higher in their second year), which overstated the bias.

Run (about 4 minutes of CPU; under the heavy lock on a shared machine)::

    python tests/reference/goal_odds_seed_rates.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import salesgoals as sg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

STUDY = range(100, 140)
EVALUATION = range(0, 40)
N_SIMS = {"project": 1000, "independent": 100}  # as in the tests


def _panel(simulator: str, seed: int) -> pd.DataFrame:
    if simulator == "project":
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    from independent_sim import make_events

    return make_events("baseline", seed=seed, n_reps=40, n_periods=104).panel()


def run() -> pd.DataFrame:
    rows = []
    for simulator in ("project", "independent"):
        for role, seeds in (("study", STUDY), ("evaluation", EVALUATION)):
            for seed in seeds:
                bt = sg.backtest_goals(_panel(simulator, seed), n_origins=4, n_sims=N_SIMS[simulator],
                                       seed=0 if simulator == "project" else seed)  # fmt: skip
                row = {"simulator": simulator, "role": role, "seed": seed,
                       "revenue_coverage": bt.revenue_coverage}  # fmt: skip
                for view, cal in (("goal_period", bt.calibration), ("week", bt.calibration_week)):
                    for tier, diff in zip(cal["tier"], cal["difference"]):
                        row[f"{view}_{tier}"] = diff
                for tier, stated in zip(bt.calibration["tier"], bt.calibration["stated"]):
                    row[f"stated_{tier}"] = stated  # goal period
                rows.append(row)
                print(row, flush=True)
    return pd.DataFrame(rows).round(4)


def report(out: pd.DataFrame) -> None:
    """Mean and s.d. of every gap per simulator and role; tolerances from the study; pass rates on evaluation."""
    gaps = [c for c in out.columns if c.startswith(("goal_period_", "week_"))]
    stated = [c for c in out.columns if c.startswith("stated_")]
    print(out.groupby(["simulator", "role"])[stated + gaps + ["revenue_coverage"]].agg(["mean", "std", "min", "max"])
          .round(3).T.to_string())  # fmt: skip
    for simulator, d in out.groupby("simulator"):
        study, ev = d[d["role"] == "study"], d[d["role"] == "evaluation"]
        for view in ("goal_period", "week"):
            cols = [c for c in gaps if c.startswith(view)]
            # |mean| + 3.14 s.d.: two-sided 1 % over the three tiers (Bonferroni, 0.33 % each) under the study's spread
            tol = float((study[cols].mean().abs() + 3.14 * study[cols].std()).max())
            print(f"{simulator} {view}: study tolerance {tol:.3f}; evaluation max |gap| per seed <= {tol:.3f} on "
                  f"{int((ev[cols].abs().max(axis=1) <= tol).sum())} of {len(ev)}; the 8-point bar on "
                  f"{int((ev[cols].abs().max(axis=1) <= 0.08).sum())} of {len(ev)} evaluation and "
                  f"{int((study[cols].abs().max(axis=1) <= 0.08).sum())} of {len(study)} study seeds")  # fmt: skip
        lo, hi = study["revenue_coverage"].mean() - 2.58 * study["revenue_coverage"].std(), \
            study["revenue_coverage"].mean() + 2.58 * study["revenue_coverage"].std()  # fmt: skip
        inside = ev["revenue_coverage"].between(lo, hi).sum()
        print(f"{simulator} revenue coverage: study bounds [{lo:.3f}, {hi:.3f}]; evaluation inside {inside} of {len(ev)}")


if __name__ == "__main__":
    if "--report" in sys.argv:
        report(pd.read_csv(HERE / "goal_odds_seed_rates.csv"))
    else:
        out = run()
        sg.write_csv(out, HERE / "goal_odds_seed_rates.csv")
        report(out)
