"""project_targets and plan_for_target: funnel simulation, exact roll-ups, joint intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.errors import UnreliableEstimateWarning
from salesgoals.goals.targets import SCENARIOS

#: Monte Carlo tolerance: 4 standard errors of a mean over N_SIMS draws.
N_SIMS = 4000
MC_SIGMAS = 4.0
#: Team targets above the current projection that effort on the focus activities can reach (under 3x the room to
#: each rep's personal best).  With meeting the only focus (the default lag rule on seed 7) 1.10 x current needs
#: about 1.65x at the median, 1.25 x is out of reach (it was reachable when calls were a focus too, under AIC lags).
STRETCH = 1.10


@pytest.fixture(scope="module")
def plan(sim_panel):
    # expected: the leads check flags the simulator's follow-up emails, and its other notes on this data.
    # The default lag rule: on this fixture (seed 7) it takes lags 0..5 and calls are flagged same_week_only, so
    # meeting is the only focus and the stretch targets below (STRETCH) are set within its reach
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        drivers = sg.fit_drivers(sim_panel, outcome="deals_created")
    return sg.personal_best_goals(sim_panel, drivers)


@pytest.fixture(scope="module")
def proj(plan):
    return sg.project_targets(plan, n_sims=N_SIMS, seed=11)


def test_contract(proj, plan):
    t = proj.table
    assert t.columns.tolist() == [
        "rep", "team", "manager", "region", "scenario", "deals_created", "deals_won",
        "revenue", "revenue_low", "revenue_high", "p_beats_current",
    ]  # fmt: skip
    assert len(t) == len(plan.rep_stats) * len(SCENARIOS)
    assert not t.duplicated(["rep", "scenario"]).any()
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()
    assert (t["revenue_low"] <= t["revenue"]).all() and (t["revenue"] <= t["revenue_high"]).all()
    assert "TargetProjection(" in repr(proj) and "Projected revenue" in str(proj.summary())


def test_tiers_never_project_less_than_lower_tiers(proj):
    """Common random numbers: in every draw a higher tier brings at least a lower tier's revenue."""
    for lo, hi in zip(SCENARIOS[:-1], SCENARIOS[1:]):
        assert (proj.draws[hi] >= proj.draws[lo] - 1e-9).all()


def test_lift_matches_the_driver_effects(proj, plan):
    """Extra deals at stretch = sum over focus activities of deals_per_unit x (goal - base) x H."""
    t = plan.table
    mo = plan.moments.set_index(["rep", "activity"])["deals_per_unit"]
    f = t[t["priority"] > 0].set_index(["rep", "activity"])
    lift = (
        (mo.reindex(f.index) * (f["goal_stretch"] - f["baseline"]).clip(lower=0))
        .groupby(level="rep")
        .sum()
    )
    want = (lift * plan.horizon).reindex(plan.rep_stats["rep"]).fillna(0.0)
    tab = proj.table.set_index(["rep", "scenario"])["deals_created"]
    got = tab.xs("stretch", level="scenario") - tab.xs("current", level="scenario")
    got = got.reindex(want.index)
    # Poisson noise of the difference is at most sqrt(mean stretch deals / N_SIMS);
    # the effect draws add a little
    se = np.sqrt(tab.xs("stretch", level="scenario").reindex(want.index) / N_SIMS) + 0.03 * want
    assert (np.abs(got - want) <= MC_SIGMAS * se + 1e-9).all()


def test_rollups_add_up_exactly(proj):
    for by in ("team", "manager", "region", None):
        r = proj.rollup(by)
        total = r[r["group"] == "(all)"].set_index("scenario")
        parts = r[r["group"] != "(all)"]
        for scn in SCENARIOS:
            rep_cents = (
                np.round(proj.table.loc[proj.table["scenario"] == scn, "revenue"] * 100)
                .astype(np.int64)
                .sum()
            )
            assert round(total.loc[scn, "revenue"] * 100) == rep_cents
            if by is not None:
                assert (
                    np.round(parts.loc[parts["scenario"] == scn, "revenue"] * 100)
                    .astype(np.int64)
                    .sum()
                    == rep_cents
                )


def test_total_interval_comes_from_joint_draws(proj):
    """Adding rep intervals gives a far too wide band; the joint one is narrower."""
    r = proj.rollup(None).set_index("scenario").loc["current"]
    reps = proj.table[proj.table["scenario"] == "current"]
    width_sum = (reps["revenue_high"] - reps["revenue_low"]).sum()
    assert r["revenue_high"] - r["revenue_low"] < 0.5 * width_sum
    assert r["revenue_low"] < r["revenue"] < r["revenue_high"]
    tot = proj.draws["current"].sum(axis=1)
    assert r["revenue_low"] == pytest.approx(np.quantile(tot, 0.1), abs=0.01)  # rounded to cents


def test_seeded(plan):
    a = sg.project_targets(plan, n_sims=200, seed=3).table
    b = sg.project_targets(plan, n_sims=200, seed=3).table
    c = sg.project_targets(plan, n_sims=200, seed=4).table
    pd.testing.assert_frame_equal(a, b)
    assert not a["revenue"].equals(c["revenue"])


def test_errors(plan, sim_panel):
    with pytest.raises(TypeError, match="GoalPlan"):
        sg.project_targets(sim_panel)
    with pytest.raises(ValueError, match="interval"):
        sg.project_targets(plan, interval=1.5)
    with pytest.raises(ValueError, match="without a driver model"):
        sg.project_targets(sg.personal_best_goals(sim_panel), drivers=object())
    with pytest.raises(ValueError, match="by must be"):
        sg.project_targets(plan, n_sims=50).rollup("planet")


# ------------------------------------------------------------------ inverse plan
def test_plan_for_target(plan, proj):
    cur = proj.rollup(None).set_index("scenario").loc["current"]
    easy = sg.plan_for_target(plan, 0.5 * cur["revenue_low"], n_sims=1000)
    g = easy.groups.iloc[0]
    assert g["effort"] == 0 and g["feasible"] and g["p_current"] >= 0.8
    hard = sg.plan_for_target(plan, STRETCH * cur["revenue"], n_sims=1000).groups.iloc[0]
    assert 0 < hard["effort"] < np.inf and hard["reachable"]
    assert hard["gap"] == pytest.approx(STRETCH * cur["revenue"] - hard["projected_current"])
    harder = sg.plan_for_target(plan, 1.6 * cur["revenue"], n_sims=1000).groups.iloc[0]
    assert harder["effort"] >= hard["effort"]
    impossible = sg.plan_for_target(plan, 100 * cur["revenue"], n_sims=500)
    gi = impossible.groups.iloc[0]
    assert not gi["reachable"] and not gi["feasible"] and gi["effort"] == np.inf
    assert (impossible.activities["above_personal_best"] > 0).all()
    assert "Plan for target" in str(impossible.summary())


def _stretch_target(proj, factor: float) -> float:
    """A team target ``factor`` x the current projection: above what current behaviour brings on any seed
    (a fixed amount such as 2.4e6 was tuned to one simulation: already met, effort 0, on others)."""
    return float(factor * proj.rollup(None).set_index("scenario").loc["current", "revenue"])


def test_plan_reaches_target_with_stated_probability(plan, proj):
    """The effort found does not hinge on the seed: Monte Carlo error is small next to the grid."""
    target = _stretch_target(proj, STRETCH)
    res = sg.plan_for_target(plan, target, prob=0.8, n_sims=2000, seed=1)
    e = res.groups.iloc[0]["effort"]
    assert 0 < e < 3
    check = sg.plan_for_target(plan, target, prob=0.8, n_sims=2000, seed=99).groups.iloc[0]
    assert abs(check["effort"] - e) <= 0.15


def test_plan_by_team(plan):
    teams = sorted(plan.rep_stats["team"].unique())
    res = sg.plan_for_target(plan, {teams[0]: 1e5, teams[1]: 5e6}, by="team", n_sims=500)
    assert res.groups["group"].tolist() == teams[:2]
    assert set(res.activities["group"]) <= set(teams[:2])
    with pytest.raises(ValueError, match="unknown team"):
        sg.plan_for_target(plan, {"Nowhere": 1.0}, by="team")
    with pytest.raises(ValueError, match="prob"):
        sg.plan_for_target(plan, 1.0, prob=1.0)


def test_no_wins_at_all_gives_zero_revenue_not_nan():
    sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=60, seed=5)
    deals = sim.deals.assign(status=sim.deals["status"].replace({"won": "lost"}))
    panel = sg.build_panel(sim.activities, deals, roster=sim.roster)
    plan = sg.personal_best_goals(panel)
    t = sg.project_targets(plan, n_sims=200).table
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()
    assert (t["revenue"] == 0).all()
    assert plan.rep_stats["flags"].eq("no_won_deals_in_team").all()


def test_plots(plan, proj):
    import matplotlib.pyplot as plt

    ax = proj.plot(by="team")
    assert len(ax.containers) >= len(SCENARIOS)
    ax = sg.plan_for_target(plan, 2e6, n_sims=300).plot()
    assert len(ax.lines) == 1
    plt.close("all")


def test_plan_per_rep_quota(plan, proj):
    cur = proj.table[proj.table["scenario"] == "current"].set_index("rep")["revenue"]
    quotas = (1.3 * cur).to_dict()
    res = sg.plan_for_target(plan, quotas, by="rep", prob=0.5, n_sims=1000)
    g = res.groups.set_index("group")
    assert len(g) == len(cur)
    np.testing.assert_allclose(
        g["gap"], (1.3 * cur - g["projected_current"]).reindex(g.index), atol=0.02
    )
    # a rep with no focus activity cannot raise revenue by effort: unreachable unless already there
    no_focus = set(plan.rep_stats["rep"]) - set(plan.table.loc[plan.table["priority"] > 0, "rep"])
    for rep in no_focus:
        assert not g.loc[rep, "reachable"] or g.loc[rep, "effort"] == 0
    # feasibility agrees with the activity table
    acts = res.activities.groupby("rep")["feasible"].all()
    assert (acts == g.loc[acts.index, "feasible"]).all()


def test_required_effort_reaches_the_target_with_the_stated_probability(plan, proj):
    """Re-simulate (fresh seed) with every focus activity at the required level: P(reach) ~ prob."""
    import dataclasses

    target, prob = _stretch_target(proj, STRETCH), 0.8
    res = sg.plan_for_target(plan, target, prob=prob, n_sims=2000, seed=1)
    e = res.groups.iloc[0]["effort"]
    assert 0 < e < 3
    t = plan.table.copy()
    focus = t["priority"] > 0
    room = (t["personal_best"] - t["baseline"]).clip(lower=0)
    t.loc[focus, "goal_stretch"] = t["baseline"] + e * room
    check = sg.project_targets(dataclasses.replace(plan, table=t), n_sims=4000, seed=12345)
    p_reach = (check.draws["stretch"].sum(axis=1) >= target).mean()
    # the effort grid (steps of 0.05) rounds up, so P(reach) lands at or a little above prob;
    # 0.03 below allows Monte Carlo error (s.e. of a share near 0.8 over 4,000 draws: 0.006)
    assert prob - 0.03 <= p_reach <= prob + 0.10, p_reach
