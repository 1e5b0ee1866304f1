"""backtest_goals: stated goal probabilities are honest on the simulator; a naive model is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from salesgoals.goals.backtest import CALIBRATION_TOLERANCE
from salesgoals.errors import InsufficientDataError

#: Realised coverage of the 80 % revenue intervals allowed, from the seed study
#: (tests/reference/goal_odds_seed_rates.py, seeds 100-111): mean 0.844, s.d. 0.036 over seeds - the intervals
#: over-cover by about 4 points (conservative).  mean -+ 2.58 s.d.: designed failure rate 1 % under the truth.
#: On the disjoint seeds 0-11 the old bound (0.8 +- 0.10) failed seed 10 (0.901); these bounds pass 12 of 12.
COVERAGE_BOUNDS = (0.75, 0.94)
#: Tolerances on the independent simulator (event-level, not the model the goals assume), from the same study
#: on its seeds 100-111: per tier gap mean -0.004..0.012 and s.d. 0.021-0.034 over goal periods, s.d.
#: 0.017-0.020 per week; |mean| + 3.14 s.d. = 1 % over the 6 checks.  Seeds 0-11: 12 of 12 pass.
INDEPENDENT_TOLERANCE = {"goal_period": 0.11, "week": 0.065}


@pytest.fixture(scope="module")
def bt(sim_panel):
    return sg.backtest_goals(sim_panel, n_origins=4, n_sims=1000, seed=0)


def test_stated_odds_are_honest_over_goal_periods(bt):
    """Issue 13 target: each tier within 8 points over goal periods at 40 reps x 104 weeks (project sim).

    Round 2 measured realised shares 3-4 points above the stated stretch/extraordinary odds (seeds 100-111). Round 3
    fixed the cause in the odds model (streaks: debiased autocorrelation, the variance a quarter's own mean absorbs,
    shrinkage by the uncertainty of the level actually used, a change-of-level test against an ordinary rep).  Goal
    periods, realised - stated (clear / stretch / extraordinary), 40 seeds each:
    seeds 0-39 before +0.00/+0.02/+0.03, after +0.00/+0.01/+0.01; seeds 100-139 before +0.01/+0.03/+0.03,
    after +0.02/+0.02/+0.02.  The 8-point bar fails 2 of 80 seeds before and after (seeds 103 and 104, whose simulated
    activity runs 4-8 % higher in the second year by chance, a drift no stationary model foresees): ~2.5 % per seed
    against the 1 % this suite designs for, because the gap's seed-to-seed s.d. (0.02-0.03, mostly the team's
    seasonal factors every rep of a seed shares) leaves little room under 8 points.  The bar is the product
    requirement, so it is kept, not widened.
    """
    cal = bt.calibration
    assert cal["tier"].tolist() == ["clear", "stretch", "extraordinary"]
    print(cal.to_string())  # the figures go in the report (pytest -s)
    assert (cal["difference"].abs() <= CALIBRATION_TOLERANCE).all(), cal
    assert cal["n_goals"].min() > 500
    # the stated odds are those of the tier design, not a degenerate 0 % / 100 %
    assert cal.set_index("tier").loc["clear", "stated"] > 0.8
    assert 0.15 < cal.set_index("tier").loc["stretch", "stated"] < 0.5
    assert 0.03 < cal.set_index("tier").loc["extraordinary", "stated"] < 0.15


def test_stated_odds_are_honest_on_the_independent_simulator():
    """The same target on the event-level simulator of tests/independent_sim.py (shares no code with the package)."""
    from independent_sim import make_events

    panel = make_events("baseline", seed=0, n_reps=40, n_periods=104).panel()
    ind = sg.backtest_goals(panel, n_origins=4, n_sims=100, seed=0)
    print(ind.calibration.to_string())
    assert (ind.calibration["difference"].abs() <= INDEPENDENT_TOLERANCE["goal_period"]).all(), ind.calibration
    assert (ind.calibration_week["difference"].abs() <= INDEPENDENT_TOLERANCE["week"]).all(), ind.calibration_week
    assert ind.calibration["n_goals"].min() > 500


def test_weekly_odds_are_honest_too(bt):
    """Per week where asked: one outcome per rep-period."""
    cal = bt.calibration_week
    print(cal.to_string())
    assert (cal["difference"].abs() <= CALIBRATION_TOLERANCE).all(), cal
    assert cal["n_periods"].min() > 5000
    assert (bt.by_activity["difference"].abs() <= 0.15).all(), bt.by_activity  # ~150 goals per cell: 3 s.e.
    # across the range of stated odds (goal periods): bins of >= 200 goals within 15 points (the
    # 0.3-0.4 stretch bin - reps whose stretch is their recent reach - is the worst, ~+14 on seed 7:
    # cold streaks recover a little more often than the model expects)
    rel = bt.reliability[bt.reliability["n_periods"] >= 200]
    assert (rel["realised"] - rel["stated"]).abs().max() <= 0.15, rel
    assert "Calibration per week" in str(bt.summary(per_week=True))
    assert "Calibration per week" not in str(bt.summary())


def test_revenue_intervals_cover(bt):
    print(bt.coverage.to_string())
    assert bt.interval == 0.8 and COVERAGE_BOUNDS[0] <= bt.revenue_coverage <= COVERAGE_BOUNDS[1]
    assert len(bt.revenue) > 100


def test_a_naive_poisson_model_is_overconfident(sim_panel, bt):
    """Odds from a Poisson total around the trailing mean ignore streaks and over-dispersion: miscalibrated."""
    det = bt.details[(bt.details["tier"] == "clear") & bt.details["activity"].isin(["call", "email"])]
    rows = []
    for origin, d in det.groupby("origin"):
        o = pd.Period(origin.split("/")[0], freq=sim_panel["period"].dtype.freq)
        hist = sim_panel[(sim_panel["period"] <= o) & (sim_panel["period"] > o - 13)]
        mean = hist.melt(id_vars="rep", value_vars=["call", "email"], var_name="activity").groupby(
            ["rep", "activity"])["value"].mean()  # fmt: skip
        m = mean.reindex(pd.MultiIndex.from_frame(d[["rep", "activity"]])).to_numpy() * bt.horizon
        rows.append(pd.DataFrame({"naive": stats.poisson.sf(d["goal"] - 1, m), "ours": d["stated"].to_numpy(),
                                  "met": d["n_met"].to_numpy()}))  # fmt: skip
    r = pd.concat(rows)
    sure = r[r["naive"] >= 0.95]  # goals the naive model calls near-certain
    print(f"clear tier (call, email), {len(sure)} goals the naive model calls near-certain: naive stated "
          f"{sure['naive'].mean():.3f}, ours stated {sure['ours'].mean():.3f}, realised {sure['met'].mean():.3f}")
    assert len(sure) > 50
    assert sure["naive"].mean() - sure["met"].mean() > CALIBRATION_TOLERANCE  # naive: promises what is not met
    assert abs(sure["ours"].mean() - sure["met"].mean()) <= CALIBRATION_TOLERANCE


def test_contract_and_render(bt):
    assert bt.details_week.columns.tolist() == bt.details.columns.tolist() == [
        "origin",
        "rep",
        "activity",
        "tier",
        "goal",
        "stated",
        "n_periods",
        "n_met",
    ]
    assert (bt.details["n_met"] <= bt.details["n_periods"]).all() and (bt.details["n_periods"] == 1).all()
    assert (bt.details_week["n_met"] <= bt.details_week["n_periods"]).all()
    assert bt.coverage["origin"].nunique() == 4
    assert np.isfinite(bt.calibration[["stated", "realised", "difference"]].to_numpy(float)).all()
    assert "GoalBacktest(" in repr(bt) and "Calibration" in str(bt.summary())
    import matplotlib.pyplot as plt

    ax = bt.plot()
    assert len(ax.lines) == 4  # diagonal + three tiers
    plt.close("all")


def test_explicit_origins_and_errors(sim_panel):
    periods = np.sort(sim_panel["period"].unique())
    bt = sg.backtest_goals(sim_panel, origins=[str(periods[60])], horizon="M", n_sims=100)
    assert bt.coverage["origin"].tolist() == [str(periods[60])]
    assert bt.horizon == 4
    short = sim_panel[sim_panel["period"] <= periods[5]]
    with pytest.raises(InsufficientDataError, match="full goal"):
        sg.backtest_goals(short)
