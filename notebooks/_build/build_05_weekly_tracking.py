"""Build notebooks/05_weekly_tracking.ipynb with nbformat (no outputs are stored).

Run from anywhere:  python notebooks/_build/build_05_weekly_tracking.py
"""

from __future__ import annotations

from pathlib import Path

from _notebook import notebook, versions_cells, write
from nbformat.v4 import new_code_cell, new_markdown_cell

OUT = Path(__file__).resolve().parent.parent / "05_weekly_tracking.ipynb"

cells = [
    new_markdown_cell(
        """# Weekly tracking: landmarks, pace and at-risk flags

**What you get.** The review routine on real-shaped data: on a Wednesday, where each rep stands against this week's
focus goals (the landmark says how much should be done by now, in working days), the projected end of the week,
the odds of reaching the goal at the current pace and a status (ahead, on track, at risk, behind) with the reason
in words. Then the team and manager roll-ups, the weekly one-to-one review, the monthly team review and the
quarterly review of revenue against the annual target and its cascade.

**The pace model.** Each rep's daily rate is a Gamma posterior: two working days' worth of their baseline, updated
with what they did so far this week; the remaining days' count is negative binomial. One slow Monday does not make
a rep "behind"; a slow Monday to Wednesday does. On the simulator the stated odds match how often goals are reached
(tests/test_tracking.py).

**Data.** The canonical sample in `../data/samples/` (30 reps x 104 weeks, synthetic, seed 11); goals are set
with `sg.recommend` as of the end of November 2025, exactly the goals CSV `salesgoals recommend` writes.

**Runtime.** About 30 seconds."""
    ),
    new_code_cell(
        """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import salesgoals as sg

SAMPLES = Path("../data/samples")
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 120)"""
    ),
    new_markdown_cell("## 1. Load the exports and set the goals"),
    new_code_cell(
        """activities = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
deals = sg.load_deals(SAMPLES / "canonical_deals.csv")
roster = sg.load_roster(SAMPLES / "roster.csv")
rec = sg.recommend(activities, deals, roster, as_of="2025-11-30", n_sims=500, seed=0)
goals = rec.table
goals[goals["priority"] > 0][["rep", "activity", "priority", "baseline", "goal_clear", "goal_stretch",
                              "goal_extraordinary", "p_clear", "p_stretch"]].head(6)"""
    ),
    new_markdown_cell(
        """## 2. Where does everyone stand on Wednesday?

`track` looks at the week containing `as_of` (Wednesday 10 December 2025: 3 of 5 working days gone). Status refers
to the **clear** goal (the one a rep should make); the odds of the stretch and extraordinary goals are in the
table too."""
    ),
    new_code_cell(
        """progress = sg.track((activities, deals), goals, as_of="2025-12-10", roster=roster)
progress.summary()"""
    ),
    new_code_cell(
        """# the headline number, by hand: each rep's activities logged from Monday 8 December through Wednesday 10th
week = activities[(activities["timestamp"] >= "2025-12-08") & (activities["timestamp"] < "2025-12-11")]
hand = week.groupby(["rep", "activity_type"], observed=True).size()
rows = progress.table[progress.table["activity"].isin(activities["activity_type"].unique())]
want = hand.reindex(pd.MultiIndex.from_arrays([rows["rep"], rows["activity"]]), fill_value=0).to_numpy()
assert len(rows) > 0 and (rows["actual"].to_numpy() == want).all()"""
    ),
    new_code_cell(
        """cols = ["rep", "activity", "goal", "actual", "expected", "projected", "p_meet", "p_stretch", "status", "reason"]
progress.table[progress.table["status"].isin(["at_risk", "behind"])][cols].round(2)"""
    ),
    new_markdown_cell("### Team and manager views"),
    new_code_cell("""progress.team.round(2)"""),
    new_code_cell(
        """progress.managers[["manager", "activity", "reps", "goal", "actual", "expected", "p_meet", "status"]].round(2)"""
    ),
    new_markdown_cell("### Pacing chart and status heatmap"),
    new_code_cell(
        """# pace the activity most reps have a goal on this week
focus = progress.table["activity"].value_counts().index[0]
fig, axes = plt.subplots(1, 2, figsize=(14, 8), gridspec_kw={"width_ratios": [3, 2]})
sg.plotting.plot_pacing(progress, activity=focus, ax=axes[0])
progress.plot(kind="status", ax=axes[1])
fig.tight_layout()"""
    ),
    new_markdown_cell(
        """## 3. The weekly one-to-one

Per rep: last week against the goal, this week's three tiers, what is done so far and the status: the agenda of the
weekly conversation, at most three priorities each."""
    ),
    new_code_cell(
        """weekly = sg.weekly_review((activities, deals), goals, as_of="2025-12-10", roster=roster)
print("\\n".join(weekly.lines[:13]))"""
    ),
    new_code_cell("""weekly.table.head(6).round(2)"""),
    new_markdown_cell(
        """### Against the goal plan's landmarks

A goal that slipped last week does not start afresh on Monday. The goal plan (`rec.goals`) carries landmarks: what
each rep must have done, counted from the start of the quarter, by the end of each week. With them, `track` and the
weekly review keep that count: who is behind the last landmark passed, what the next one needs, and the odds of
the quarter's total."""
    ),
    new_code_cell(
        """weekly_lm = sg.weekly_review((activities, deals), goals, as_of="2025-12-10", roster=roster,
                             landmarks=rec.goals.landmarks)
lmk = weekly_lm.landmarks
print(lmk["landmark_status"].value_counts().to_dict())
lmk.loc[lmk["landmark_status"] == "behind_landmark",
        ["rep", "activity", "landmark", "actual_at_landmark", "to_date", "next_landmark", "p_goal"]].head(8).round(2)"""
    ),
    new_markdown_cell(
        """## 4. Monthly team review

Month-to-date against the goals scaled to the month's working days (23 in December 2025 before holidays;
pass `holidays=` to remove them)."""
    ),
    new_code_cell(
        """monthly = sg.monthly_review((activities, deals), goals, as_of="2025-12-10", roster=roster,
                           holidays=["2025-12-25", "2025-12-26"])
print(monthly)"""
    ),
    new_markdown_cell(
        """## 5. Quarterly review against the annual target

The annual target (here 10 % above last year's revenue) is cascaded to quarters, months and working days with the
seasonality of the history (`sg.cascade`); the landmark is the cascade's target summed to the review date."""
    ),
    new_code_cell(
        """panel = sg.build_panel(activities, deals, roster=roster, freq="W")
last_year = float(deals.loc[(deals["status"] == "won") & (deals["closed"].dt.year == 2024), "amount"].sum())
quarterly = sg.quarterly_review(deals, annual_target=round(1.1 * last_year, -3), as_of="2025-12-10",
                                panel=panel[panel["period"].dt.year == 2024])
print(quarterly)"""
    ),
    new_code_cell("""quarterly.table.drop(columns=["start", "end"]).round(2)"""),
    new_markdown_cell(
        """## 6. The leader's own goals

When managers log coaching (activity types `coaching`, `one_to_one`, `ride_along`, `training` with the manager as
the owner), `track` adds a `leader` row per manager and coaching type: by default half, one and one and a half
sessions per team member per week for the three tiers (or the rows you put in the goals table). This sample has no
coaching log, so no leader rows appear:"""
    ),
    new_code_cell("""progress.table["level"].value_counts()"""),
    *versions_cells(),
]

NB = notebook(cells, id_prefix="nb05")


if __name__ == "__main__":
    write(NB, OUT)
