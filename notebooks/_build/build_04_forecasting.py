"""Build notebooks/04_forecasting.ipynb with nbformat (no outputs are stored).

Run from anywhere:  python notebooks/_build/build_04_forecasting.py
"""

from __future__ import annotations

from pathlib import Path

from _notebook import notebook, versions_cells, write
from nbformat.v4 import new_code_cell, new_markdown_cell

OUT = Path(__file__).resolve().parent.parent / "04_forecasting.ipynb"

cells = [
    new_markdown_cell(
        """# Forecasting revenue with honest ranges

**What you get.** An answer to "what will we close this month / this quarter?" for each team, with an 80 %
range that has been *checked*: a rolling-origin backtest replays the forecast at 26 past weeks (each time using
only what was known that day) and reports the accuracy of every method against three simple benchmarks (MASE,
`vs_best_benchmark`), how often the ranges contained the actual result (coverage) and how wide they were relative
to the series (`relative_width`). `method="auto"` then reports a model only if it beat the best benchmark, and says
which and by how much.

**Methods.** three benchmarks - seasonal naive (naive where last season had no close), the trailing mean of 8
weeks or 3 months, drift -, exponential smoothing (statsmodels ETS), pipeline-weighted (open deals
x the chance a deal of that age closes won in each coming week, from the company's own deal history, plus the
revenue that deals not yet created usually bring), activity-driven (the driver model fed with recent activity) and
their combination. Ranges are conformal: the point forecast plus the quantiles of the errors the method made before.

**Data.** The canonical sample in `../data/samples/` (30 reps x 104 weeks, synthetic, seed 11).

**Runtime.** About 45 seconds."""
    ),
    new_code_cell(
        """from pathlib import Path
import warnings

import matplotlib.pyplot as plt
import pandas as pd

import salesgoals as sg
from salesgoals.errors import UnreliableEstimateWarning

SAMPLES = Path("../data/samples")
pd.set_option("display.width", 140)"""
    ),
    new_markdown_cell("## 1. Load the exports and build the panels"),
    new_code_cell(
        """activities = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
deals = sg.load_deals(SAMPLES / "canonical_deals.csv")
roster = sg.load_roster(SAMPLES / "roster.csv")
weekly = sg.build_panel(activities, deals, roster=roster, freq="W")
monthly = sg.build_panel(activities, deals, roster=roster, freq="M")
weekly.attrs["window"], monthly.attrs["window"]"""
    ),
    new_markdown_cell(
        """## 2. Backtest: which method, and are the ranges honest?

Rolling origins: at each of the last 26 week ends, every method forecasts the next 4 weeks per team from the data
known then; the 80 % range at each origin is calibrated only on errors made before it. `vs_best_benchmark` < 1 means
the method beats the best of the simple benchmarks (the notes say which one); `coverage` should be close to the
nominal 0.80 and `relative_width` (mean range width / mean period) says whether the ranges are of any use."""
    ),
    new_code_cell(
        """bt = sg.backtest_forecast(weekly, deals=deals, level="team", horizon=4)
bt.summary()"""
    ),
    new_code_cell(
        """# the backtest scores each forecast against its own week: won revenue by team and close week, by hand
team_of = roster.set_index("rep")["team"]
won = deals[deals["status"] == "won"]
won = won.assign(team=won["rep"].map(team_of), week=won["closed"].dt.to_period("W"))
hand = won.groupby(["team", "week"])["amount"].sum()
scored = bt.errors.drop_duplicates(["group", "period"])
want = hand.reindex(pd.MultiIndex.from_arrays([scored["group"], scored["period"]]), fill_value=0.0).to_numpy()
assert (abs(scored["actual"].to_numpy() - want) < 0.01).all()
# the headline: every method's 80 % range covers 70-90 % of the weeks, and the pipeline beats the naive benchmark
t = bt.table.set_index("method")
assert (t["coverage"] - 0.8).abs().max() <= 0.10, t["coverage"]
assert t.loc["pipeline", "mase"] < t.loc["seasonal_naive", "mase"]"""
    ),
    new_code_cell("""bt.plot();"""),
    new_markdown_cell(
        """The seasonal-naive benchmark (same week last year) is the worst, as it should be on lumpy weekly revenue: a
single big deal last year says little about this year; the trailing mean is the benchmark to beat. The pipeline
method sees the deals already in play and is the most accurate; all ranges cover close to 80 %.

The same at month grain (12 origins, 3 months ahead):"""
    ),
    new_code_cell(
        """bt_month = sg.backtest_forecast(monthly, deals=deals, level="team", horizon=3)
bt_month.table.round(3)"""
    ),
    new_markdown_cell(
        """### Why conformal ranges?

Each method also has a *model-based* range (`intervals="model"`): seasonal differences for the naive method, the
analytic ETS variance, a seeded Monte Carlo of which open deals close won for the pipeline method. Those ranges
trust the model's assumptions, and at month grain they are far too narrow: they contain the actual month much less
often than the 80 % they promise. The conformal ranges, built from each method's own past errors, hold their
promise."""
    ),
    new_code_cell(
        """bt_model = sg.backtest_forecast(monthly, deals=deals, level="team", horizon=3, intervals="model")
pd.DataFrame({"conformal coverage": bt_month.table.set_index("method")["coverage"],
              "model coverage": bt_model.table.set_index("method")["coverage"]}).round(3)"""
    ),
    new_markdown_cell(
        """## 3. Forecast the next quarter by team

`method="auto"` backtests the candidates over the origins before the as-of date and reports the winner. The
as-of date defaults to the end of the last *complete* period of the export (December is still running here, so
the forecast starts with December)."""
    ),
    new_code_cell(
        """fc = sg.forecast(monthly, deals=deals, level="team", horizon=3, method="auto")
fc.summary()"""
    ),
    new_code_cell(
        """fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
fc.plot(ax=axes[0])
fc.plot(ax=axes[1], group=fc.table["group"].iloc[0]);"""
    ),
    new_markdown_cell(
        """## 4. Forecast as of a past date, and compare with what happened

Everything after `as_of` is hidden from the forecast: deals created later do not exist, deals closed later are
still open. So a forecast as of the end of September 2025 can be set against October and November as they turned
out. (One company-wide monthly series has few past errors to calibrate its ranges on; `forecast` warns that they
are rough, and uses a Student-t range from those few errors.)"""
    ),
    new_code_cell(
        """past = sg.forecast(monthly, deals=deals, level="total", horizon=2, as_of="2025-09-30",
                   method=["ets", "pipeline", "combination"])
actual = monthly.groupby("period")["won_revenue"].sum().rename("actual")
past.table.merge(actual, left_on="period", right_index=True)[
    ["period", "method", "forecast", "lower", "upper", "actual"]].round({"forecast": 0, "lower": 0, "upper": 0})"""
    ),
    new_markdown_cell(
        """## 5. Deals won by rep, next 4 weeks

The same front door forecasts counts (`target="deals_won"`) at any level of the roster."""
    ),
    new_code_cell(
        """with warnings.catch_warnings():  # additive ranges of a rep's few deals are flagged too wide: see below
    warnings.filterwarnings("ignore", r"forecast: \\d+ range\\(s\\) are wider than", UnreliableEstimateWarning)
    reps = sg.forecast(weekly, deals=deals, target="deals_won", level="rep", horizon=4, method="pipeline")
reps.table.groupby("group")[["forecast", "upper"]].sum().sort_values("forecast", ascending=False).head(8).round(1)"""
    ),
    new_markdown_cell(
        """### Ranges on the scale of the data

Deals won by a rep in a week are small whole numbers. The additive range (past errors in units of each rep's
scale, rounded out to whole deals) is wide for them; the `count` range (a negative-binomial predictive around the
forecast, its dispersion fitted to the method's own past errors) is narrower and still covers at least 80 %.
Revenue can be ranged on the `log` scale (multiplicative, skewed-up ranges). `ranges="auto"`, the default, picks
the scale by the backtest before the as-of date and says which:"""
    ),
    new_code_cell(
        """print(reps.ranges)
print([n for n in reps.notes if "ranges on the" in n][0])
scales = {r: sg.backtest_forecast(weekly, deals=deals, target="deals_won", level="rep", horizon=4,
                                  methods=["pipeline"], ranges=r) for r in ("additive", "count")}
pd.DataFrame({r: b.table.iloc[0][["coverage", "relative_width"]] for r, b in scales.items()}).T"""
    ),
    *versions_cells(),
]

NB = notebook(cells, id_prefix="nb04")


if __name__ == "__main__":
    write(NB, OUT)
