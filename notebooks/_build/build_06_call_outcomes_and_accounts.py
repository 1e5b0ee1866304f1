"""Build notebooks/06_call_outcomes_and_accounts.ipynb with nbformat (no outputs are stored).

Run from anywhere:  python notebooks/_build/build_06_call_outcomes_and_accounts.py
"""

from __future__ import annotations

from pathlib import Path

from _notebook import notebook, versions_cells, write
from nbformat.v4 import new_code_cell, new_markdown_cell

OUT = Path(__file__).resolve().parent.parent / "06_call_outcomes_and_accounts.ipynb"

cells = [
    new_markdown_cell(
        """# Call outcomes and account objectives

**What you get.** Two goals from the practice of selling that activity counts miss:

* **the outcome of every sales call**: did the call, email or meeting *advance* its deal (a stage moved, the deal
  won, the next meeting booked) within 14 days, or did it stall? Advance rates per rep and type, with intervals;
  which advances drive wins; quality goals next to the volume goals;
* **an objective for every key account**: its history, its peers, its potential, the next milestone in words and a
  financial target with odds; then progress against it.

**Data.** A stage-history export from `../data/samples/` shows the loader; the analysis runs on a simulated company
(20 reps x 156 weeks, 250 accounts, seed 11) whose true advance rates are known, so every number can be checked.

**Runtime.** About 30 seconds."""
    ),
    new_code_cell(
        """from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import salesgoals as sg

SAMPLES = Path("../data/samples")
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 110)"""
    ),
    new_markdown_cell(
        """## 1. Load a stage history

HubSpot keeps a deal's stage history as one `Date entered "<stage> (<pipeline>)"` column per stage; Salesforce as
`OpportunityHistory` rows (one per change of stage, amount or close date). `sg.load_stage_history` reads both (and
Zoho's Stage History, Pipedrive's change log, any `deal_id, stage, entered` table) into one row per stage entered,
with the stage order from the vendor's default pipeline or, for a custom pipeline, from the data."""
    ),
    new_code_cell(
        """hubspot = sg.load_stage_history(SAMPLES / "hubspot-crm-exports-deals-stage-dates-2025-12-29.csv")
print(hubspot.attrs["stage_order_source"], "|", " > ".join(hubspot.attrs["stage_order"]))
hubspot.head(6)"""
    ),
    new_code_cell(
        """import warnings

from salesgoals.errors import DataQualityWarning, UnreliableEstimateWarning

with warnings.catch_warnings():  # the rows that only re-state a stage, counted in the report below
    warnings.filterwarnings("ignore", r"load_stage_history: \\d+ of \\d+ rows excluded", DataQualityWarning)
    backup = sg.load_stage_history(SAMPLES / "salesforce_backup" / "OpportunityHistory.csv")
print(backup.attrs["quality"].summary())"""
    ),
    new_markdown_cell(
        """The Salesforce backup is a Spanish-language org: its stages are not in any default pipeline, so their order
comes from the data (the median position at which deals entered each stage). Rows that only re-state the stage
(an amount edit) are excluded and counted.

## 2. Classify every interaction on a deal

The simulated company logs calls, emails and meetings on its deals and exports the stage history. An interaction
*advanced* its deal when, within 14 days and before the deal's next interaction, the deal entered a later stage,
was won, or had its next meeting; it is *lost* when the deal was lost in that window, *pending* when the window
runs past the end of the data, else *stalled*."""
    ),
    new_code_cell(
        """sim = sg.simulate.make_crm_data(n_reps=20, n_weeks=156, seed=11, n_accounts=250)
adv = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history)
print(adv.attrs["unlinked"])
adv["advance"].value_counts()"""
    ),
    new_code_cell(
        """by_type = sg.advance_rates(adv, by=["activity_type"])
by_type.table.round(3)"""
    ),
    new_markdown_cell(
        """Meetings advance deals far more often than calls, and calls more than emails. The rule above counts "the next
meeting" as an advance; the simulator's truth only knows stage moves, so to compare with the truth we switch that
part off (`next_meeting=False`):"""
    ),
    new_code_cell(
        """stages_only = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history, next_meeting=False)
rates = sg.advance_rates(stages_only)
check = rates.table.merge(sim.truth_advances, on=["rep", "activity_type"], suffixes=("", "_true"))
summary = check.groupby("activity_type").agg(estimated=("advance_rate", "mean"), true=("advance_rate_true", "mean"))
summary["correlation_across_reps"] = [
    np.corrcoef(g["advance_rate"], g["advance_rate_true"])[0, 1] for _, g in check.groupby("activity_type")
]
assert (summary["estimated"] - summary["true"]).abs().max() < 0.04
assert summary.loc[["call", "meeting"], "correlation_across_reps"].min() > 0.8
summary.round(3)"""
    ),
    new_code_cell(
        """fig, ax = plt.subplots(figsize=(8, 7))
sg.advance_rates(stages_only[stages_only["activity_type"] == "meeting"], by=["rep"]).plot(ax=ax)
ax.set_title("Meetings: advance rate per rep (90% Wilson intervals)");"""
    ),
    new_markdown_cell(
        """Without a stage history the library falls back to a clearly labelled **proxy**: an interaction "advanced" its
deal when another interaction on the deal followed within 14 days. It measures momentum, not progress, and on this
company it is badly wrong: it puts every type near 85% and cannot tell reps apart."""
    ),
    new_code_cell(
        """proxy = sg.advance_rates(sg.classify_advances(sim.deal_activities, sim.deals))
pcheck = proxy.table.merge(sim.truth_advances, on=["rep", "activity_type"], suffixes=("", "_true"))
proxy_summary = pcheck.groupby("activity_type").agg(proxy=("advance_rate", "mean"), true=("advance_rate_true", "mean"))
assert (proxy_summary["proxy"] - proxy_summary["true"]).min() > 0.3
proxy_summary.round(3)"""
    ),
    new_markdown_cell(
        """## 3. Which advances drive wins

Across reps, the advance rate and the win rate move together: in this company advances are what wins deals (a
deal is won after four advances and dies after stalls)."""
    ),
    new_code_cell(
        """per_rep = sg.advance_rates(stages_only, by=["rep"]).table.set_index("rep")
closed = sim.deals[sim.deals["status"] != "open"]
per_rep["win_rate"] = closed.groupby("rep")["status"].apply(lambda s: (s == "won").mean())
r = np.corrcoef(per_rep["advance_rate"], per_rep["win_rate"])[0, 1]
assert r > 0.6
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(per_rep["advance_rate"], per_rep["win_rate"])
ax.set_xlabel("advance rate of the rep's interactions")
ax.set_ylabel("win rate of closed deals")
ax.set_title(f"Reps: correlation {r:.2f}");"""
    ),
    new_markdown_cell(
        """Within reps, week by week: the panel gets `call_advanced`, `email_advanced`, `meeting_advanced` as quality
metrics, and the driver model compares each rep with themselves. Counts of *advancing* interactions predict deals
won in the following weeks."""
    ),
    new_code_cell(
        """panel = sg.add_advance_metrics(sim.panel(), adv)
advanced = ["call_advanced", "email_advanced", "meeting_advanced"]
with warnings.catch_warnings():  # same-week-only advances are called ambiguous: the verdicts are in the table
    warnings.filterwarnings("ignore", r"fit_drivers: \\w+ is AMBIGUOUS", UnreliableEstimateWarning)
    drivers = sg.fit_drivers(panel, outcome="deals_won", activities=advanced, method="direct", lags=4,
                             diagnostics=False)
effects = drivers.effects.set_index("activity")
assert (effects.loc[advanced, "effect"] > 0).all()
effects[["effect", "ci_low", "ci_high"]].round(3)"""
    ),
    new_markdown_cell(
        """## 4. Quality goals next to the volume goals

Each rep's goal for a type is the team's upper quartile of advance rates, capped at the rep's own interval plus 10
points so it stays within reach; reps with too few interactions get none."""
    ),
    new_code_cell(
        """quality = sg.advance_goals(adv, types=["meeting", "call"])
assert (quality["target_rate"] >= quality["current_rate"]).all()
quality[["rep", "activity_type", "n", "current_rate", "target_rate", "goal"]].head(8).round(3)"""
    ),
    new_markdown_cell(
        """`recommend` puts them in the goal recommendations themselves when it gets the stage history: one row per
rep and interaction type after the rep's volume goals, with the same columns (three tiers, the odds of each for
the goal period if nothing changes, the advancing interactions they mean, a weekly pace in the landmarks). The
recommendations CSV without a stage history is unchanged."""
    ),
    new_code_cell(
        """logged = pd.concat([sim.activities, sim.deal_activities.drop(columns="true_advance")], ignore_index=True)
rec = sg.recommend(logged, sim.deals, sim.roster, stage_history=sim.stage_history, drivers=None,
                   backtest=False, n_sims=300)
rows = rec.table[rec.table["activity"].str.endswith("_advance_rate")]
assert (rows["goal_clear"] <= rows["goal_stretch"]).all() and (rows["p_clear"] >= rows["p_extraordinary"]).all()
one = rec.table[rec.table["rep"] == rows["rep"].iloc[0]]
one[["activity", "kind", "recent", "goal_clear", "p_clear", "goal_stretch", "p_stretch", "goal_stretch_total"]]"""
    ),
    new_markdown_cell(
        """## 5. An objective for every account

`sg.account_objectives` reads the deal history per account (won revenue per 12 months, products, open pipeline,
last activity), finds its peers (same industry and size band from the accounts table), measures its potential
(the peers' upper-quartile annual revenue; products most peers buy that it does not), suggests the next milestone
and sets a target with odds: how often comparable account-years ended at or above it."""
    ),
    new_code_cell(
        """plan = sg.account_objectives(sim.deals, sim.accounts, activities=sim.deal_activities)
print(plan.summary())"""
    ),
    new_code_cell("""plan.plot(top=12);"""),
    new_markdown_cell("""### One account plan"""),
    new_code_cell(
        """key = plan.table[plan.table["annual_revenue"] > 0].iloc[0]
history = plan.history[plan.history["account"] == key["account"]]
print(f"{key['account']} ({key['industry']}, {key['size_band']} employees), owner {key['owner']}")
print(f"  won in the last 12 months {key['annual_revenue']:,.0f}; the 12 before {key['revenue_prior_year']:,.0f}")
print(f"  products {key['products'] or '-'}; open pipeline {key['open_pipeline']:,.0f} ({key['open_deals']} deals)")
print(f"  peers: {key['peer_group']} ({key['n_peers']} accounts), potential {key['peer_potential']:,.0f} a year")
print(f"  peers buy, it does not: {key['missing_products'] or '-'}")
print(f"  next milestone: {key['milestone']}")
print(f"  target {key['target_revenue']:,.0f}, odds {key['odds']:.0%} ({key['odds_low']:.0%}-{key['odds_high']:.0%}, "
      f"from {key['odds_basis']} comparable account-years)")
assert key["target_revenue"] > key["annual_revenue"] and 0 < key["odds"] < 1"""
    ),
    new_markdown_cell(
        """### Progress a year later

Set the plan as of a year before the end of the data (with only what was known then) and track it: how many
targets were reached compared with the odds given."""
    ),
    new_code_cell(
        """plan_day = sim.end - pd.Timedelta(days=365)
known = sim.deals["closed"] < plan_day
past = sim.deals[sim.deals["created"] < plan_day].assign(
    status=sim.deals["status"].where(known, "open"), closed=sim.deals["closed"].where(known))
last_year = sg.account_objectives(past, sim.accounts, as_of=plan_day)
progress = sg.account_progress(last_year, sim.deals, as_of=sim.end + pd.Timedelta(days=1))
reached, promised = (progress["attainment"] >= 1).mean(), last_year.table["odds"].mean()
print(f"targets reached {reached:.0%}; mean odds given {promised:.0%}")
assert abs(reached - promised) < 0.12
progress["status"].value_counts()"""
    ),
    new_markdown_cell(
        """Half-way through the year, the review says where each account stands: won so far against its target, the
pace, and the odds it still has to reach it at its usual pace (won deals a year and their sizes, shrunk toward
its peers). With three years of history before the plan, `account_objectives` also calibrates its odds on the
year before (`plan.calibration`); this company has two, so the odds here are the raw ones."""
    ),
    new_code_cell(
        """review = sg.account_review(last_year, sim.deals, as_of=plan_day + pd.Timedelta(days=182), top=5)
assert review.table["odds_still"].between(0, 1).all()
print(review)"""
    ),
    *versions_cells(),
]

NB = notebook(cells, id_prefix="nb06")


if __name__ == "__main__":
    write(NB, OUT)
