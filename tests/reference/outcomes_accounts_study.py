"""Recovery of advance rates and calibration of account-objective odds on the simulator, over many seeds.

Advances: for each seed, simulate 30 reps x 104 weeks, classify the deal interactions from the
stage history (``next_meeting=False``: the simulator's truth knows stage moves only) and with the
proxy, and compare the rates per rep x type with ``truth_advances``: bias and mean absolute error
per type, correlation across reps, coverage of the 90 % Wilson intervals, and the correlation of
the reps' advance rate with their win rate.  Writes ``advances_recovery.csv``.

Accounts: for each seed, simulate 10 reps x 156 weeks grouped into 150 accounts, set the plan a
year before the end with only what was known then, and compare the share of targets reached with
the mean odds given (all accounts, accounts with revenue, accounts without).  Writes
``account_odds.csv``.

Run::

    python tests/reference/outcomes_accounts_study.py             # 10 + 6 seeds, a few minutes
    python tests/reference/outcomes_accounts_study.py --seeds 3   # quicker
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import salesgoals as sg

HERE = Path(__file__).resolve().parent


def advances_row(seed: int) -> list[dict]:
    sim = sg.simulate.make_crm_data(n_reps=30, n_weeks=104, seed=seed)
    rows = []
    for method, adv in (
        ("stage_history", sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history, next_meeting=False)),
        ("proxy", sg.classify_advances(sim.deal_activities, sim.deals)),
    ):
        est = sg.advance_rates(adv).table.merge(sim.truth_advances, on=["rep", "activity_type"], suffixes=("", "_t"))
        per_rep = sg.advance_rates(adv, by=["rep"]).table.set_index("rep")
        closed = sim.deals[sim.deals["status"] != "open"]
        win = closed.groupby("rep")["status"].apply(lambda s: (s == "won").mean())
        both = per_rep.join(win.rename("win_rate"), how="inner")
        for kind, g in est.groupby("activity_type"):
            err = g["advance_rate"] - g["advance_rate_t"]
            rows.append(dict(
                seed=seed, method=method, activity_type=kind, n=int(g["n"].sum()), bias=err.mean(),
                mae=err.abs().mean(), corr=np.corrcoef(g["advance_rate"], g["advance_rate_t"])[0, 1],
                coverage90=((g["ci_low"] <= g["advance_rate_t"]) & (g["advance_rate_t"] <= g["ci_high"])).mean(),
                corr_rep_win=np.corrcoef(both["advance_rate"], both["win_rate"])[0, 1],
            ))  # fmt: skip
    return rows


def accounts_row(seed: int) -> dict:
    sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=156, seed=seed, n_accounts=150)
    plan_day = sim.end - pd.Timedelta(days=365)
    known = sim.deals["closed"] < plan_day
    past = sim.deals[sim.deals["created"] < plan_day].assign(
        status=sim.deals["status"].where(known, "open"), closed=sim.deals["closed"].where(known))
    plan = sg.account_objectives(past, sim.accounts, as_of=plan_day)
    prog = sg.account_progress(plan, sim.deals, as_of=sim.end + pd.Timedelta(days=1))
    reached = (prog["attainment"] >= 1).to_numpy()
    odds = plan.table["odds"].to_numpy()
    grow = plan.table["required_growth"].notna().to_numpy()
    return dict(seed=seed, accounts=len(odds), reached=reached.mean(), odds=odds.mean(),
                reached_growth=reached[grow].mean(), odds_growth=odds[grow].mean(),
                reached_first=reached[~grow].mean() if (~grow).any() else np.nan,
                odds_first=odds[~grow].mean() if (~grow).any() else np.nan)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    adv = pd.DataFrame([r for s in range(100, 100 + args.seeds) for r in advances_row(s)])
    adv.to_csv(HERE / "advances_recovery.csv", index=False, float_format="%.4f")
    print(adv.groupby(["method", "activity_type"])[["bias", "mae", "corr", "coverage90", "corr_rep_win"]]
          .agg(["mean", "min", "max"]).round(3).to_string())
    acc = pd.DataFrame([accounts_row(s) for s in range(200, 200 + max(2, int(0.6 * args.seeds)))])
    acc.to_csv(HERE / "account_odds.csv", index=False, float_format="%.4f")
    print(acc.round(3).to_string(index=False))


if __name__ == "__main__":
    main()
