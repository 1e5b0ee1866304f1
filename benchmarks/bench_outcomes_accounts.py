"""Speed of the call-outcome and account-objective steps on a large simulated company (not a timed test).

Run:  python benchmarks/bench_outcomes_accounts.py [n_reps] [n_weeks] [n_accounts]

Reports seconds for the simulator's stage paths (part of make_crm_data), writing and re-loading a Salesforce
OpportunityHistory export, classify_advances (stage history and proxy), advance_rates, add_advance_metrics and
account_objectives.  Defaults: 200 reps x 104 weeks, 5,000 accounts.
"""

from __future__ import annotations

import sys
import time
import warnings

import salesgoals as sg
from salesgoals.errors import DataQualityWarning
from salesgoals.simulate import exports as ex


def main(n_reps: int = 200, n_weeks: int = 104, n_accounts: int = 5000) -> None:
    def timed(name, fn):
        t = time.perf_counter()
        out = fn()
        print(f"{name:<34} {time.perf_counter() - t:7.2f} s")
        return out

    sim = timed(f"simulate {n_reps} x {n_weeks}", lambda: sg.simulate.make_crm_data(
        n_reps=n_reps, n_weeks=n_weeks, seed=0, n_accounts=n_accounts))
    print(f"  {len(sim.deals):,} deals, {len(sim.stage_history):,} stage entries, "
          f"{len(sim.deal_activities):,} interactions on deals")
    raw = timed("to_salesforce_opportunity_history", lambda: ex.to_salesforce_opportunity_history(
        sim.stage_history, sim.deals))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        hist = timed("load_stage_history (frame)", lambda: sg.load_stage_history(raw))
    del hist
    adv = timed("classify_advances (stage history)", lambda: sg.classify_advances(
        sim.deal_activities, sim.deals, sim.stage_history))
    timed("classify_advances (proxy)", lambda: sg.classify_advances(sim.deal_activities, sim.deals))
    timed("advance_rates (rep x type)", lambda: sg.advance_rates(adv))
    panel = sim.panel()
    timed("add_advance_metrics", lambda: sg.add_advance_metrics(panel, adv))
    timed(f"account_objectives ({n_accounts:,} accounts)", lambda: sg.account_objectives(
        sim.deals, sim.accounts, activities=sim.deal_activities))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
