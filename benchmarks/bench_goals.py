"""Speed of the goals chain on a large simulated company (not a timed test).

Run:  python benchmarks/bench_goals.py [n_reps] [n_weeks]

Reports seconds for build_panel, personal_best_goals, project_targets (2,000 draws),
plan_for_target, cascade (per rep) and backtest_goals (4 origins), without the
driver model fit (timed in the drivers benchmark).
"""

from __future__ import annotations

import sys
import time

import salesgoals as sg


def main(n_reps: int = 1000, n_weeks: int = 104) -> None:
    t0 = time.perf_counter()
    sim = sg.simulate.make_crm_data(n_reps=n_reps, n_weeks=n_weeks, seed=0)
    print(
        f"simulate {n_reps} reps x {n_weeks} weeks: {time.perf_counter() - t0:6.2f} s ({len(sim.activities):,} activities)"
    )
    timings = {}

    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - t
        print(f"{name:<22} {timings[name]:6.2f} s")
        return out

    panel = timed(
        "build_panel", lambda: sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    )
    plan = timed("personal_best_goals", lambda: sg.personal_best_goals(panel))
    proj = timed("project_targets", lambda: sg.project_targets(plan, n_sims=2000))
    total = proj.rollup(None).set_index("scenario").loc["current", "revenue"]
    timed("plan_for_target", lambda: sg.plan_for_target(plan, 1.2 * total, n_sims=2000))
    shares = proj.table[proj.table["scenario"] == "current"].set_index("rep")["revenue"]
    timed("cascade (per rep)", lambda: sg.cascade((4 * shares).to_dict(), year=2026, panel=panel))
    timed("backtest_goals", lambda: sg.backtest_goals(panel, n_sims=500))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
