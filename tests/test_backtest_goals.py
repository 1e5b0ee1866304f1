"""backtest_goals: stated goal probabilities are honest on the simulator; a naive model is not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from salesgoals.goals.backtest import CALIBRATION_TOLERANCE
from salesgoals.errors import InsufficientDataError

#: Allowed gap between the interval level and the realised revenue coverage: with ~150
#: rep-horizons the binomial s.e. of a coverage near 0.8 is ~0.033, so 0.10 is 3 s.e.
COVERAGE_TOLERANCE = 0.10


@pytest.fixture(scope="module")
def bt(sim_panel):
    return sg.backtest_goals(sim_panel, n_origins=4, n_sims=1000, seed=0)


def test_stated_probabilities_are_honest(bt):
    cal = bt.calibration
    assert cal["tier"].tolist() == ["clear", "stretch", "extraordinary"]
    print(cal.to_string())  # the figures go in the report (pytest -s)
    assert (cal["difference"].abs() <= CALIBRATION_TOLERANCE).all(), cal
    assert cal["n_periods"].min() > 5000
    # also per activity, including the quality metrics
    assert (bt.by_activity["difference"].abs() <= CALIBRATION_TOLERANCE).all(), bt.by_activity
    # and across the range of stated odds: bins with enough data stay within tolerance
    rel = bt.reliability[bt.reliability["n_periods"] >= 500]
    assert (rel["realised"] - rel["stated"]).abs().max() <= CALIBRATION_TOLERANCE, rel


def test_horizon_average_odds_are_honest(bt):
    """Odds that the rep's quarter *average* reaches the goal: one outcome per rep and activity."""
    cal = bt.calibration_avg
    print(cal.to_string())
    assert (cal["difference"].abs() <= CALIBRATION_TOLERANCE).all(), cal
    assert cal["n_periods"].min() > 500


def test_revenue_intervals_cover(bt):
    print(bt.coverage.to_string())
    assert abs(bt.revenue_coverage - bt.interval) <= COVERAGE_TOLERANCE
    assert len(bt.revenue) > 100


def test_a_naive_poisson_model_is_overconfident(sim_panel, bt):
    """Odds from a Poisson around the trailing mean ignore busy/quiet streaks: miscalibrated."""
    det = bt.details[bt.details["tier"] == "clear"]
    rows = []
    for origin in det["origin"].unique():
        o = pd.Period(origin.split("/")[0], freq=sim_panel["period"].dtype.freq)
        hist = sim_panel[(sim_panel["period"] <= o) & (sim_panel["period"] > o - 13)]
        mean = (
            hist.melt(id_vars="rep", value_vars=["call", "email"], var_name="activity")
            .groupby(["rep", "activity"])["value"]
            .mean()
        )
        d = det[(det["origin"] == origin) & det["activity"].isin(["call", "email"])].set_index(
            ["rep", "activity"]
        )
        m = mean.reindex(d.index).to_numpy()
        rows.append(
            pd.DataFrame(
                {
                    "naive": stats.poisson.sf(d["goal"] - 1, m),
                    "n": d["n_periods"],
                    "met": d["n_met"],
                }
            )
        )
    r = pd.concat(rows)
    naive = (r["naive"] * r["n"]).sum() / r["n"].sum()
    realised = r["met"].sum() / r["n"].sum()
    ours = bt.by_activity.set_index(["activity", "tier"]).loc[
        [("call", "clear"), ("email", "clear")]
    ]
    print(f"naive Poisson, clear tier (call, email): stated {naive:.3f}, realised {realised:.3f}")
    assert (
        naive - realised > CALIBRATION_TOLERANCE
    )  # naive: promises near-certain odds that are not met
    assert (ours["difference"].abs() <= CALIBRATION_TOLERANCE).all()


def test_contract_and_render(bt):
    assert bt.details.columns.tolist() == [
        "origin",
        "rep",
        "activity",
        "tier",
        "goal",
        "stated",
        "n_periods",
        "n_met",
    ]
    assert (bt.details["n_met"] <= bt.details["n_periods"]).all()
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
    with pytest.raises(InsufficientDataError, match="full horizon"):
        sg.backtest_goals(short)
