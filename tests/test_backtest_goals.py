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


#: Seeds of the project simulator whose goal periods the 8-point bar is checked on, pooled: the suite's shared
#: simulation (7) and evaluation seeds 0-2 of tests/reference/goal_odds_seed_rates.py (disjoint from its study seeds).
POOLED_SEEDS = (7, 0, 1, 2)


@pytest.fixture(scope="module")
def pooled_details(bt):
    """``bt.details`` of every seed in :data:`POOLED_SEEDS` (about 1.3 s of CPU per extra seed), with a ``seed``."""
    parts = [bt.details.assign(seed=POOLED_SEEDS[0])]
    for seed in POOLED_SEEDS[1:]:
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
        parts.append(sg.backtest_goals(panel, n_origins=4, n_sims=1000, seed=0).details.assign(seed=seed))
    return pd.concat(parts, ignore_index=True)


def test_stated_odds_are_honest_over_goal_periods(bt, pooled_details):
    """Issue 13 target: each tier within 8 points over goal periods at 40 reps x 104 weeks (project sim).

    Checked on the goal periods of four seeds pooled (:data:`POOLED_SEEDS`, 3,600 goals per tier), not one.
    Why: per seed the gap (realised - stated) has mean +0.016/+0.023/+0.018 (clear / stretch / extraordinary)
    and s.d. 0.020/0.028/0.018 over the study seeds 100-139 of ``tests/reference/goal_odds_seed_rates.py``;
    one seed fails the 8-point bar on 2 of those 40 seeds (103: stretch +0.105; 104: +0.087) and 0 of the 40
    evaluation seeds 0-39, about 2-5 % per seed against the 1 % this suite designs for.  Four seeds pooled
    cut the s.d. by 2: the designed failure probability under the truth is 0.002 % (normal, from the study
    seeds' means and s.d.s) and 0 of the 91,390 four-seed sets of study seeds fail (three seeds: 0.05 %);
    the 10 disjoint four-seed blocks of evaluation seeds 0-39 all pass (worst |gap| 0.027).  The
    bar is the product requirement, so it is kept, not widened.

    What the per-seed spread is made of (same study seeds; ``goal_odds_seed_rates.py --oracle``): with the
    simulator's true seasonal factors in place of the estimated ones the s.d. falls to 0.017/0.017/0.011 and
    seeds 103 and 104 pass (max |gap| 0.036, 0.023); the true factors of the goal period alone give most of
    it.  The estimation error of the team's seasonal factors, which every rep of a seed shares, is the cause
    (pooling the factor over activities does not help: the error is common to them; a two-harmonic fit with
    holiday weeks kept recovers part, stretch s.d. 0.023, seed 103 still at 0.082).
    """
    assert (pooled_details["n_periods"] == 1).all()
    g = pooled_details.groupby("tier", sort=False)
    cal = pd.DataFrame({"stated": g["stated"].mean(), "realised": g["n_met"].mean(), "n_goals": g.size()})
    cal["difference"] = cal["realised"] - cal["stated"]
    per_seed = pooled_details.groupby(["seed", "tier"], sort=False).apply(
        lambda d: d["n_met"].mean() - d["stated"].mean(), include_groups=False).unstack("tier")  # fmt: skip
    print(cal.to_string(), per_seed.round(3).to_string(), sep="\n")  # the figures go in the report (pytest -s)
    assert cal.index.tolist() == ["clear", "stretch", "extraordinary"]
    assert (cal["difference"].abs() <= CALIBRATION_TOLERANCE).all(), cal
    assert cal["n_goals"].min() > 4 * 500 and pooled_details["seed"].nunique() == len(POOLED_SEEDS)
    # the stated odds are those of the tier design, not a degenerate 0 % / 100 % (shared seed, as the report shows)
    one = bt.calibration.set_index("tier")
    assert one.index.tolist() == ["clear", "stretch", "extraordinary"]
    assert one.loc["clear", "stated"] > 0.8
    assert 0.15 < one.loc["stretch", "stated"] < 0.5
    assert 0.03 < one.loc["extraordinary", "stated"] < 0.15


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
    # across the range of stated odds (goal periods): bins of >= 200 goals within 15 points.  The worst bin's
    # |realised - stated| per seed (round 4, the current odds model): study seeds 100-111 0.020-0.115, mean
    # 0.053, s.d. 0.025 (0.115 is seed 103, whose estimated seasonal factors are far off: see the test above);
    # disjoint seeds 0-11 0.021-0.072, seed 7 (this fixture) 0.072.  15 points is the study's mean + 3.9 s.d.:
    # under 1 % failure even with the heavier tail seed 103 shows (before round 3's goal-odds fix, seed 7
    # reached about +14)
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
