"""Build notebooks/01_quickstart.ipynb with nbformat (no outputs are stored).

Run from anywhere:  python notebooks/_build/build_01_quickstart.py
"""

from __future__ import annotations

from pathlib import Path

from _notebook import notebook, versions_cells, write
from nbformat.v4 import new_code_cell, new_markdown_cell

OUT = Path(__file__).resolve().parent.parent / "01_quickstart.ipynb"

cells = [
    new_markdown_cell(
        """# Quickstart: from CRM exports to a rep × week panel

**What you get.** In a few lines you load the activity and deal exports your CRM already gives you, see exactly
what was read and what was set aside (the data-quality report), and turn them into the **rep × week panel** every
other step of salesgoals works on: one row per rep and week, a column per activity type, the *quality* of the
activity (connected calls, held meetings) and the results (deals created, won, revenue).

**Data.** The HubSpot-style exports in `../data/samples/` (`hubspot-crm-exports-all-{calls,meetings,emails,tasks,deals}-2025-12-29.csv`):
a synthetic team of 12 reps over 52 weeks made by `salesgoals.simulate` (seed 101) and written in HubSpot's
export layout, with a few real-world defects planted (duplicate rows, calls without an owner). A Salesforce report
and the richer canonical pair (30 reps × 104 weeks) appear at the end.

**Runtime.** About 15 seconds."""
    ),
    new_code_cell(
        """from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import salesgoals as sg

SAMPLES = Path("../data/samples")
pd.set_option("display.width", 140)"""
    ),
    new_markdown_cell(
        """## 1. Load the exports

HubSpot exports one file per object, with property labels as headers (`Activity date`, `Activity assigned to`,
`Call outcome`) and owner names. Pass the files together: `crm="auto"` recognises the layout from the headers and
the activity type of each file from its columns (`Call outcome` → call, `Meeting outcome` → meeting)."""
    ),
    new_code_cell(
        """activity_files = sorted(
    p for p in SAMPLES.glob("hubspot-crm-exports-all-*-2025-12-29.csv") if "-deals-" not in p.name
)
activities = sg.load_activities(activity_files, crm="auto")
deals = sg.load_deals(SAMPLES / "hubspot-crm-exports-all-deals-2025-12-29.csv", crm="auto")
activities.head()"""
    ),
    new_code_cell("""deals.head()"""),
    new_markdown_cell(
        """## 2. The data-quality report

Every row read is either loaded or excluded for a counted reason, so *loaded + excluded = read* always holds.
The report travels with the frame in `attrs["quality"]`: which layout was detected, how each date column was
read, which durations were converted, and one example row per exclusion reason. The loader also warned once
with the counts when it ran."""
    ),
    new_code_cell("""activities.attrs["quality"].summary()"""),
    new_code_cell(
        """q = activities.attrs["quality"]
assert q.loaded_rows + q.n_excluded == q.input_rows
q.table"""
    ),
    new_code_cell("""deals.attrs["quality"].summary()"""),
    new_markdown_cell(
        """## 3. Build the weekly panel

`build_panel` counts each activity in the week of its timestamp, counts each deal once in the week it was
created and once in the week it closed, and keeps each rep only inside their active span (zero-filled weeks where
they were active but logged nothing)."""
    ),
    new_code_cell(
        """panel = sg.build_panel(activities, deals, freq="W")
print(panel.shape, "activity columns:", panel.attrs["activity_columns"])
panel.head()"""
    ),
    new_code_cell(
        """# the panel's headline totals against a hand count of the loaded frames (pandas, not the panel's code)
hand = activities["activity_type"].value_counts()
assert all(panel[kind].sum() == hand.get(kind, 0) for kind in panel.attrs["activity_columns"])
excluded = panel.attrs["excluded"]  # deals dated before the first activity week are outside the panel
won = deals[deals["status"] == "won"]
assert "deals_closed_before_window" not in excluded  # every won deal closed inside the panel's weeks
assert panel["deals_won"].sum() == len(won) and abs(panel["won_revenue"].sum() - won["amount"].sum()) < 0.01
assert panel["deals_created"].sum() == len(deals) - excluded.get("deals_created_before_window", 0)
assert (panel["rep"].nunique(), panel["period"].nunique()) == (12, 52)  # the sample: 12 reps x 52 weeks"""
    ),
    new_markdown_cell(
        """## 4. Per-rep summary

Totals per rep over their whole span, best revenue first: a first look at who does what before any modelling.
Volume is not quality: compare `call` with `call_connected` and `meeting` with `meeting_held`."""
    ),
    new_code_cell("""sg.panel_summary(panel)"""),
    new_markdown_cell("""## 5. Plot the panel"""),
    new_code_cell(
        """fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
sg.plotting.plot_panel(panel, column="activities", ax=axes[0])
sg.plotting.plot_panel(panel, column="won_revenue", ax=axes[1])
fig.tight_layout()"""
    ),
    new_markdown_cell(
        """## 6. Other layouts, same call

A Salesforce report export has a title block above the header, US dates, money as `$12,500.00` and a
`Grand Totals` footer; the same loader reads it and says what it dropped."""
    ),
    new_code_cell(
        """sf_deals = sg.load_deals(SAMPLES / "salesforce_opportunities_report.csv")
sf_deals.attrs["quality"].summary()"""
    ),
    new_markdown_cell(
        """## 7. The canonical pair for the next notebooks

`canonical_activities.csv.gz` + `canonical_deals.csv` + `roster.csv` hold a larger team (30 reps × 104 weeks,
full activity volume) in salesgoals' own layout, and `truth.csv` the true effect of each activity type in the
simulation that made them, so the driver, goal and forecast notebooks can check their answers. With a roster the
panel also carries team, manager and region. A tiny version ships inside the package:
`sg.datasets.load_sample("activities")`."""
    ),
    new_code_cell(
        """acts_c = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
deals_c = sg.load_deals(SAMPLES / "canonical_deals.csv")
roster = sg.load_roster(SAMPLES / "roster.csv")
monthly = sg.build_panel(acts_c, deals_c, roster=roster, freq="M")
print(f"{len(acts_c):,} activities, {len(deals_c):,} deals -> {len(monthly):,} rep-months")
ax = sg.plotting.plot_panel(monthly, column="won_revenue", by="team")"""
    ),
    new_code_cell(
        """# the same hand check on the canonical pair, month by month (won deals dated by their close month)
won_c = deals_c[deals_c["status"] == "won"]
by_month = won_c.groupby(won_c["closed"].dt.to_period("M"))["amount"].sum()
in_panel = monthly.groupby("period")["won_revenue"].sum()
assert (in_panel - by_month.reindex(in_panel.index, fill_value=0.0)).abs().max() < 0.01
assert monthly["rep"].nunique() == roster["rep"].nunique() == 30  # the sample: 30 reps"""
    ),
    new_code_cell("""pd.read_csv(SAMPLES / "truth.csv")"""),
    *versions_cells(),
]

NB = notebook(cells, id_prefix="quickstart")


if __name__ == "__main__":
    write(NB, OUT)
