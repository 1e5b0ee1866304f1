"""Build notebooks/02_what_drives_results.ipynb with nbformat (no outputs are stored).

Run from anywhere:  python notebooks/_build/build_02_what_drives_results.py
"""

from __future__ import annotations

from pathlib import Path

from _notebook import notebook, versions_cells, write
from nbformat.v4 import new_code_cell, new_markdown_cell

OUT = Path(__file__).resolve().parent.parent / "02_what_drives_results.ipynb"

cells = [
    new_markdown_cell(
        """# What drives results: which activities move deals and revenue, estimated honestly

**What you get.** Before setting activity goals, a sales leader needs to know which activities actually move
results *for this team*. This notebook shows the naive answer (a regression across reps), why it misleads, and the
honest answer from `sg.fit_drivers`: each rep compared with themselves week to week, with seasons, lags and lumpy
revenue handled, intervals on every number, and the checks that say when not to trust it (placebo, reverse
causality, out-of-sample fit). It ends with what top performers do differently and where each rep's funnel leaks.

**Data.** The canonical sample in `../data/samples/` (`canonical_activities.csv.gz`, `canonical_deals.csv`,
`roster.csv`): a synthetic team of 30 reps over 104 weeks made by `salesgoals.simulate` (seed 11). Because it is
simulated, `truth.csv` holds the true effect of one extra activity, so we can check every answer. The simulation
contains the traps of real sales data: skilled reps do more of everything *and* win deals no activity created,
seasons move activity and deals together, effects arrive over several weeks, LinkedIn touches have **no** effect
but track skill, and reps send follow-up emails after a deal is created.

**Runtime.** About 30 seconds."""
    ),
    new_code_cell(
        """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import statsmodels.formula.api as smf

import salesgoals as sg

SAMPLES = Path("../data/samples")
pd.set_option("display.width", 140)
pd.set_option("display.precision", 4)"""
    ),
    new_markdown_cell(
        """## 1. Load the exports and build the rep × week panel

One row per rep and week: activity counts, their quality (connected calls, held meetings) and the results."""
    ),
    new_code_cell(
        """activities = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
deals = sg.load_deals(SAMPLES / "canonical_deals.csv")
roster = sg.load_roster(SAMPLES / "roster.csv")
panel = sg.build_panel(activities, deals, roster=roster, freq="W")
truth = pd.read_csv(SAMPLES / "truth.csv").set_index("activity")
print(f"{panel['rep'].nunique()} reps x {panel['period'].nunique()} weeks = {len(panel):,} rep-weeks")
panel.head()"""
    ),
    new_markdown_cell(
        """## 2. The naive answer

The first thing most analysts do: regress revenue on activity, all rep-weeks pooled together. It answers *"do reps
who do more X earn more?"* — and LinkedIn comes out as a money-maker."""
    ),
    new_code_cell(
        """naive = smf.ols("won_revenue ~ call + email + meeting + linkedin", data=panel).fit(
    cov_type="cluster", cov_kwds={"groups": pd.factorize(panel["rep"])[0]}
)
naive_table = pd.DataFrame(
    {"naive_effect": naive.params, "ci_low": naive.conf_int()[0], "ci_high": naive.conf_int()[1]}
).drop(index="Intercept")
naive_table.join(truth["won_revenue"].rename("true_effect"))"""
    ),
    new_markdown_cell(
        """## 3. Why it misleads

Two traps are visible without any model. **Skill**: reps who log more LinkedIn touches earn more — but across
reps, not because of the touches: the same reps also connect more calls, win more and sell bigger deals (the
simulation's skill). **Seasons**: activity and revenue rise and fall together through the year and dip at
holidays, so a week-by-week correlation picks up the calendar."""
    ),
    new_code_cell(
        """per_rep = sg.panel_summary(panel).assign(
    linkedin_per_week=lambda d: d["linkedin"] / d["periods"], revenue_per_week=lambda d: d["won_revenue"] / d["periods"]
)
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
axes[0].scatter(per_rep["linkedin_per_week"], per_rep["revenue_per_week"])
axes[0].set_xlabel("LinkedIn touches per week (rep average)")
axes[0].set_ylabel("won revenue per week")
axes[0].set_title("Across reps: more LinkedIn, more revenue?")
sg.plotting.plot_panel(panel, column="activities", ax=axes[1])
plt.tight_layout()"""
    ),
    new_markdown_cell(
        """## 4. The honest answer

`fit_drivers` compares each rep **with themselves** (rep fixed effects) and each week **with the same week for
other reps** (period fixed effects), lets every activity act over several weeks (a distributed lag, its length
chosen from the data), and clusters the standard errors by rep. Revenue is lumpy and closes weeks later, so by
default the effects are estimated on **deals created** (where the signal is) and carried to revenue with each rep's
win rate and deal size, shrunk toward the team. `effect` is the extra revenue from ONE more activity in a week,
summed over the weeks that follow."""
    ),
    new_code_cell(
        """res = sg.fit_drivers(panel, outcome="won_revenue")
res.summary()"""
    ),
    new_code_cell(
        """check = res.effects.set_index("activity")[["effect", "ci_low", "ci_high"]].join(
    truth["won_revenue"].rename("true_effect")
)
check.join(naive_table["naive_effect"])"""
    ),
    new_code_cell(
        """# headline claims against the simulation's truth (truth.csv), not against the model's own numbers
assert ((check["ci_low"] <= check["true_effect"]) & (check["true_effect"] <= check["ci_high"])).all()
assert check["true_effect"].idxmax() == "meeting" and check.loc["meeting", "ci_low"] > 0  # the real driver found
verdict = res.effects.set_index("activity")
assert verdict.loc["meeting", "is_driver"] and not verdict.loc[["linkedin", "email"], "is_driver"].any()
assert verdict.loc["meeting", "flags"] == "" and "same_week_only" in verdict.loc["call", "flags"]  # call: not a focus
assert check.loc["linkedin", "ci_low"] <= 0 <= check.loc["linkedin", "ci_high"]  # truth: no effect at all
# the naive regression misleads: LinkedIn 'significant' although its true effect is zero, meetings not
assert naive_table.loc["linkedin", "ci_low"] > 0 and naive_table.loc["meeting", "ci_low"] < 0"""
    ),
    new_code_cell(
        """fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
res.plot(ax=axes[0])
axes[0].scatter(truth.loc[res.effects["activity"], "won_revenue"], range(len(res.effects))[::-1],
                marker="x", color="k", zorder=3, label="truth")
axes[0].legend()
sg.plotting.plot_lag_profile(res, ax=axes[1])
plt.tight_layout()"""
    ),
    new_markdown_cell(
        """Meetings drive revenue: they pass the multiple-testing control (`is_driver`) with no warning flag. Calls have a
small true effect, and the fit finds it, but their association is same-week only (`flags`): that is also what an
activity logged *because* a deal was created looks like, so the fit calls them ambiguous rather than a driver, and
goals never make them a focus; linking activities to deals would settle it. The LinkedIn effect is
indistinguishable from zero (its interval covers zero), as it is in truth. The lag profile (right) shows the effect of a meeting spread over the following weeks.
Quality matters too: `quality_effect` is what a *connected* call or a *held* meeting adds over a logged one."""
    ),
    new_code_cell("""res.effects[["activity", "effect", "quality_metric", "quality_effect", "share"]]"""),
    new_markdown_cell(
        """## 5. Honesty checks

* **Placebo**: a copy of each activity with its weeks shuffled within each rep must show no effect. If it did, the
  model would be finding patterns in differences between reps or weeks rather than in timing.
* **Leads (reverse causality)**: next week's activity must not "predict" this week's deals. Here it does for
  email — reps send follow-up emails after a deal is created — and the fit says so plainly: part of the email
  effect is activity *following* results, so treat it with caution.
* **Pooled vs within**: the same model without the fixed effects, next to the within-rep answer.
* **Out of sample**: fitted on the first 80 % of weeks, predicting the last 20 %, against each rep's average."""
    ),
    new_code_cell("""res.diagnostics.placebo"""),
    new_code_cell("""res.diagnostics.leads"""),
    new_code_cell("""res.diagnostics.pooled"""),
    new_code_cell("""res.diagnostics.holdout"""),
    new_code_cell(
        """# the checks say what the simulation planted: no timing artefact, and email follows deals (follow-ups)
assert res.diagnostics.placebo["passed"].all()
flagged = set(res.diagnostics.leads.query("flagged")["activity"])
assert "email" in flagged and not flagged & {"meeting", "linkedin"}"""
    ),
    new_markdown_cell(
        """## 6. Why estimate on deals created: the direct revenue model

Regressing revenue itself on activity (`method="direct"`, with longer lags because deals close weeks later) is
legitimate but noisy: one big deal swamps a week. Its intervals are wider (up to about twice as wide here) and it
cannot tell reliably which activity matters — the fit warns that even its top activity's interval covers zero.
The funnel decomposition uses the same data more efficiently."""
    ),
    new_code_cell(
        """direct = sg.fit_drivers(panel, outcome="won_revenue", method="direct")
pd.DataFrame({
    "funnel_half_width": res.effects.set_index("activity").eval("(ci_high - ci_low) / 2"),
    "direct_half_width": direct.effects.set_index("activity").eval("(ci_high - ci_low) / 2"),
})"""
    ),
    new_code_cell(
        """# the funnel model's intervals are narrower for every activity, and still cover the truth (checked above)
funnel_width = res.effects.set_index("activity").eval("ci_high - ci_low")
direct_width = direct.effects.set_index("activity").eval("ci_high - ci_low").reindex(funnel_width.index)
assert (funnel_width < direct_width).all()"""
    ),
    new_markdown_cell(
        """## 7. Per-rep effects and the funnel

Each rep's effect uses their own connect and show rates and their own win rate and deal size (shrunk toward the
team when their history is short). These feed personal goal projections."""
    ),
    new_code_cell(
        """rep = res.funnel.sort_values("n_closed")["rep"].iloc[-1]
res.rep_effects[res.rep_effects["rep"] == rep]"""
    ),
    new_code_cell("""res.funnel.head()"""),
    new_markdown_cell(
        """## 8. What top performers do differently, and where each funnel leaks

`compare_performers` puts the top quarter of reps (by revenue per week) next to the rest on activity volume and
mix, quality, conversion from stage to stage, deal size and cycle time; then walks each rep's funnel
(activities → conversations → deals → wins → deal size) and names the stage where they fall furthest below the team,
with the revenue per week that closing that gap would add. It is descriptive: top performers are chosen by their
results, so use it to decide *where to coach*, and the driver model to decide *which behaviours to set goals on*."""
    ),
    new_code_cell(
        """comp = sg.compare_performers(panel, deals)
comp.summary()"""
    ),
    new_code_cell(
        """fig, axes = plt.subplots(1, 2, figsize=(13, 5))
comp.plot(ax=axes[0])
comp.plot(ax=axes[1], kind="leaks")
plt.tight_layout()"""
    ),
    *versions_cells(),
]

NB = notebook(cells, id_prefix="nb02")


if __name__ == "__main__":
    write(NB, OUT)
