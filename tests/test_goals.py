"""personal_best_goals: contract, tier rules, flags, landmarks, priorities, personal-best robustness, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.errors import InsufficientDataError, SchemaError, UnreliableEstimateWarning
from salesgoals.goals import TIERS, level_with_odds, prob_at_least
from test_priority_seeds import MIN_REPS_WITH_FOCUS, priority_structure_breaks

GOAL_COLUMNS = [
    "rep", "team", "activity", "kind", "priority", "n_periods", "recent", "baseline", "personal_best",
    "personal_best_period", "goal_clear", "goal_stretch", "goal_extraordinary", "goal_clear_total",
    "goal_stretch_total", "goal_extraordinary_total", "p_clear", "p_stretch", "p_extraordinary",
    "p_clear_week", "p_stretch_week", "p_extraordinary_week", "effect", "leverage", "flags", "why",
]  # fmt: skip


@pytest.fixture(scope="module")
def drivers(sim_panel):
    # expected: the leads check flags the simulator's follow-up emails (logged after deals are created); the
    # other notes on this data (unsettled lag length, email ambiguous) are not under test here
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        with pytest.warns(UnreliableEstimateWarning, match=r"fit_drivers: Leads check: .* MORE email next period"):
            return sg.fit_drivers(sim_panel, outcome="deals_created")


@pytest.fixture(scope="module")
def plan(sim_panel, drivers):
    return sg.personal_best_goals(sim_panel, drivers)


def small_panel(seed=3, n_reps=8, n_weeks=60, **kw):
    sim = sg.simulate.make_crm_data(n_reps=n_reps, n_weeks=n_weeks, seed=seed, **kw)
    return sim, sg.build_panel(sim.activities, sim.deals, roster=sim.roster)


# ----------------------------------------------------------------- contract
def test_contract(plan, sim_panel):
    t = plan.table
    assert t.columns.tolist() == GOAL_COLUMNS
    assert not t.duplicated(["rep", "activity"]).any()
    n_metrics = len(sg.panel.activity_columns(sim_panel)) + len(sg.panel.quality_columns(sim_panel))
    assert (t.groupby("rep").size() == n_metrics).all()
    num = t.select_dtypes("number")
    assert np.isfinite(num.to_numpy(float)).all()
    assert (
        (
            (t[["p_clear", "p_stretch", "p_extraordinary"]] >= 0)
            & (t[["p_clear", "p_stretch", "p_extraordinary"]] <= 1)
        )
        .all()
        .all()
    )
    # tiers strictly increase, odds decrease
    assert (t["goal_clear_total"] < t["goal_stretch_total"]).all()
    assert (t["goal_stretch_total"] < t["goal_extraordinary_total"]).all()
    assert (t["p_clear"] >= t["p_stretch"]).all() and (t["p_stretch"] >= t["p_extraordinary"]).all()
    # totals are whole counts; the rate is the total spread over the goal period
    for tier in TIERS:
        assert t[f"goal_{tier}_total"].dtype == np.int64
        np.testing.assert_allclose(t[f"goal_{tier}"] * plan.horizon, t[f"goal_{tier}_total"])
    # only active reps: the panel's leavers are excluded and listed
    last = sim_panel.groupby("rep")["period"].max()
    assert set(plan.excluded_reps) == set(last[last < sim_panel["period"].max()].index)
    assert "GoalPlan(" in repr(plan)
    s = plan.summary()
    assert "Goals for the goal period" in str(s) and "<h4>" in s._repr_html_()


def test_clear_goal_sits_at_stated_odds(plan):
    """Clear = the largest total reached with >= 85 % odds: stated odds 85-90 % unless counts are small."""
    t = plan.table
    assert (t["p_clear"] >= plan.tier_probabilities["clear"] - 1e-9).all()
    busy = t[plan.moments.set_index(["rep", "activity"]).loc[list(zip(t["rep"], t["activity"])), "mean_total"]
             .to_numpy() >= 30]  # fmt: skip
    assert busy["p_clear"].between(0.85, 0.90).mean() > 0.9, busy["p_clear"].describe()


def test_clear_goal_for_a_steady_rep_sits_just_under_the_recent_level(plan):
    """Issue 13: not 0.6x the baseline. A clear goal under 0.8x the recent level carries its reason."""
    t = plan.table
    steady = t[~t["flags"].str.contains("inactive|declining|best_out_of_reach") & (t["recent"] >= 5)]
    ratio = steady["goal_clear"] / steady["recent"]
    assert 0.8 <= ratio.median() < 1.0, ratio.describe()
    low = t[(t["goal_clear"] < 0.8 * t["recent"]) & ~t["flags"].str.contains("inactive|declining|best_out_of_reach")]
    assert len(low) and low["flags"].str.contains("clear_below_recent").all()
    reasons = "falling_trend|weak_season|hot_streak|short_history|variable_counts"
    assert low["flags"].str.contains(reasons).all()


def test_stretch_is_at_least_the_personal_best(plan):
    """Stretch >= best sustained level, unless the row says why not (stopped, collapsed, out of reach)."""
    t = plan.table
    normal = ~t["flags"].str.contains("inactive|declining|best_out_of_reach")
    pb_total = np.ceil(t["personal_best"] * plan.horizon - 1e-9)
    assert (t.loc[normal, "goal_stretch_total"] >= pb_total[normal]).all()
    # odds are stated, not assumed: between the extraordinary and clear design odds.  A best 13-week run of a
    # streaky year is hard to repeat: on the simulator the stated odds of a personal best have median ~0.14
    # (10th-90th percentile 0.04-0.29) and match the share reached (tests/reference/goal_odds_seed_rates.py)
    assert 0.10 <= t.loc[normal, "p_stretch"].median() <= 0.5
    assert t["p_extraordinary"].median() <= 0.15


def _edit_rep(panel, rep, col, weeks, factor):
    out = panel.copy()
    idx = out.index[out["rep"] == rep][-weeks:]
    out.loc[idx, col] = np.floor(out.loc[idx, col] * factor)
    return out


def test_a_rep_who_stopped_is_flagged_inactive(sim_panel):
    """Issue 13: reps who stopped calling got 211-277 calls a week as stretch, 0 % odds, no flag."""
    last = sim_panel.groupby("rep")["period"].max()
    rep = last[last == sim_panel["period"].max()].index[0]
    stopped = _edit_rep(sim_panel, rep, "call", 5, 0.0)
    t = sg.personal_best_goals(stopped).table.set_index(["rep", "activity"])
    row = t.loc[(rep, "call")]
    assert "inactive" in row["flags"] and "inactive" in row["why"]
    assert row["goal_stretch"] < row["personal_best"] / 2
    others = t.drop(index=rep, level="rep")
    assert not others["flags"].str.contains("inactive").any()


def test_a_collapse_is_flagged_declining_and_stretch_stays_within_reach(sim_panel):
    last = sim_panel.groupby("rep")["period"].max()
    rep = last[last == sim_panel["period"].max()].index[1]
    fell = _edit_rep(sim_panel, rep, "call", 13, 0.25)
    row = sg.personal_best_goals(fell).table.set_index(["rep", "activity"]).loc[(rep, "call")]
    assert "declining" in row["flags"] and "declining" in row["why"]
    assert row["goal_stretch"] < row["personal_best"] and row["p_stretch"] >= 0.2


def test_landmarks_pace_every_goal(plan):
    lm = plan.landmarks
    assert lm.columns.tolist() == ["rep", "activity", "tier", "week", "period_start", "period_end", "cumulative"]
    assert len(lm) == len(plan.table) * len(TIERS) * plan.horizon
    g = lm.groupby(["rep", "activity", "tier"], sort=False)["cumulative"]
    assert g.apply(lambda s: s.is_monotonic_increasing).all()
    final = lm[lm["week"] == plan.horizon].pivot_table(index=["rep", "activity"], columns="tier", values="cumulative")
    t = plan.table.set_index(["rep", "activity"])
    for tier in TIERS:
        np.testing.assert_array_equal(final[tier].reindex(t.index), t[f"goal_{tier}_total"])
    # halfway through the quarter about half the goal is due (seasonal pace, not all at the end)
    mid = lm[(lm["week"] == 7) & (lm["tier"] == "stretch")].set_index(["rep", "activity"])["cumulative"]
    share = (mid / t["goal_stretch_total"].reindex(mid.index)).replace([np.inf], np.nan).dropna()
    assert share.between(0.35, 0.7).mean() > 0.95


def test_why_explains_each_goal_in_plain_words(plan):
    why = plan.table["why"]
    assert why.str.contains("over the last 13 weeks").all() and why.str.contains("best sustained").all()
    assert not why.str.contains(r"nan|inf|\d\.0\b", regex=True).any()
    drivers = plan.table[plan.table["effect"] > 0]
    assert drivers["why"].str.contains("brings about").all()
    assert plan.drivers_note.endswith(".") and "supported as" in plan.drivers_note


def test_sorted_focus_first(plan):
    t = plan.table
    assert t["rep"].is_monotonic_increasing
    for _, g in t.groupby("rep", sort=False):
        pr = g["priority"].to_numpy()
        k = int((pr > 0).sum())
        assert (pr[:k] == np.arange(1, k + 1)).all() and (pr[k:] == 0).all()


# --------------------------------------------------------------- priorities
def test_priorities_follow_the_drivers(plan):
    """The rules that turn the driver verdicts into priorities: these hold on every seed, so on this one.

    At most three per rep, one member per family (never both call and call_connected), leverage decreasing
    with priority, and only activities the model calls drivers (positive effect, not flagged not_a_driver or
    follows_results).  The statistical claims (LinkedIn, with no effect, never a priority: 79 of 80 study and
    evaluation seeds; email, which follows results, flagged for every rep and never a focus: 80 of 80; meetings
    leading for most reps: 72 of 80) are tested across seeds 0-5 with designed failure rates in
    ``test_priority_seeds.py``, which also checks these rules on each of those seeds.
    """
    t = plan.table
    # the rules are checked on real priorities: every study seed gives at least 30 of the 40 reps a focus
    assert t.loc[t["priority"] > 0, "rep"].nunique() >= MIN_REPS_WITH_FOCUS
    assert priority_structure_breaks(t) == []


def test_no_driver_model_means_no_priorities(sim_panel):
    t = sg.personal_best_goals(sim_panel).table
    assert (t["priority"] == 0).all() and t["flags"].str.contains("no_driver_model").all()
    assert (t["effect"] == 0).all()


# ----------------------------------------------------------- personal best
def test_personal_best_is_robust_to_one_spike():
    _, panel = small_panel()
    base = sg.personal_best_goals(panel, seasonal=False).table.set_index(["rep", "activity"])
    rep = panel["rep"].iloc[0]
    spiked = panel.copy()
    i = spiked.index[(spiked["rep"] == rep)][-20]
    spiked.loc[i, "call"] += 1000
    after = sg.personal_best_goals(spiked, seasonal=False).table.set_index(["rep", "activity"])
    jump = after.loc[(rep, "call"), "personal_best"] - base.loc[(rep, "call"), "personal_best"]
    # a 13-week run dilutes a one-week spike 13 times; the single-week maximum would jump by ~1000
    assert 0 < jump <= 1000 / 13 + 1e-9
    others = after.drop(index=rep, level="rep")["personal_best"]
    pd.testing.assert_series_equal(others, base.drop(index=rep, level="rep")["personal_best"])


def test_goals_ratchet_when_the_rep_improves():
    """Keep improving: sustaining a higher level raises the personal best and the stretch goal."""
    _, panel = small_panel()
    rep = panel["rep"].iloc[0]
    better = panel.copy()
    last13 = better.index[better["rep"] == rep][-13:]  # a whole quarter at a higher level
    better.loc[last13, "meeting"] += 5
    a = (
        sg.personal_best_goals(panel, seasonal=False)
        .table.set_index(["rep", "activity"])
        .loc[(rep, "meeting")]
    )
    b = (
        sg.personal_best_goals(better, seasonal=False)
        .table.set_index(["rep", "activity"])
        .loc[(rep, "meeting")]
    )
    assert b["personal_best"] >= a["personal_best"] + 2
    assert b["baseline"] > a["baseline"] + 3  # the new level is kept, not reverted to the year level
    assert b["goal_stretch"] > a["goal_stretch"] and b["goal_clear"] > a["goal_clear"]


def test_as_of_ignores_later_history(sim_panel):
    as_of = sim_panel["period"].sort_values().unique()[70]
    a = sg.personal_best_goals(sim_panel, as_of=as_of)
    b = sg.personal_best_goals(sim_panel[sim_panel["period"] <= as_of], as_of=as_of)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.as_of == as_of


# --------------------------------------------------------------- shrinkage
def test_short_history_is_shrunk_toward_team_and_flagged():
    _, panel = small_panel(n_reps=16)
    panel = panel[panel["rep"].map(panel.groupby("rep")["period"].max()) == panel["period"].max()]
    rep = panel["rep"].iloc[0]
    last = panel["period"].max()
    short = panel[(panel["rep"] != rep) | (panel["period"] > last - 3)].copy()  # 3 weeks of history
    # make the newcomer's 3 weeks extreme so shrinkage is visible
    short.loc[short["rep"] == rep, "call"] = 200
    t = sg.personal_best_goals(short, seasonal=False).table.set_index(["rep", "activity"])
    row = t.loc[(rep, "call")]
    team = short.loc[short["rep"] == rep, "team"].iloc[0]
    peers = t.xs("call", level="activity")
    peers = peers[(peers["team"] == team) & (peers.index != rep)]
    assert "short_history" in row["flags"]
    assert peers["baseline"].mean() < row["baseline"] < 200


# -------------------------------------------------------------- bad input
def test_rep_with_no_activities_gets_flagged_finite_goals():
    sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=60, seed=5)
    team = sim.roster["team"].iloc[0]
    quiet = pd.DataFrame({"rep": ["Zed Quiet"], "team": [team], "manager": ["M"],
                          "region": ["R"], "start": [pd.NaT], "end": [pd.NaT]})  # fmt: skip
    roster = pd.concat([sim.roster, quiet], ignore_index=True)
    panel = sg.build_panel(sim.activities, sim.deals, roster=roster)
    t = sg.personal_best_goals(panel).table
    z = t[t["rep"] == "Zed Quiet"]
    assert len(z) and z["flags"].str.contains("all_zero_history").all()
    assert np.isfinite(z.select_dtypes("number").to_numpy(float)).all()
    assert (z["goal_clear"] == 0).all()


def test_single_period_of_data():
    sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=20, seed=1)
    acts = sim.activities[sim.activities["timestamp"] < sim.start + pd.Timedelta(days=7)]
    panel = sg.build_panel(acts, None)
    t = sg.personal_best_goals(panel).table
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()
    assert t["flags"].str.contains("short_history").all()
    assert (t["n_periods"] == 1).all()


def test_activity_type_seen_once_is_flagged_rare():
    sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=2)
    extra = sim.activities.iloc[[0]].assign(activity_type="sms", activity_id="X1")
    panel = sg.build_panel(
        pd.concat([sim.activities, extra], ignore_index=True), sim.deals, roster=sim.roster
    )
    t = sg.personal_best_goals(panel).table
    sms = t[t["activity"] == "sms"]
    assert len(sms) and sms["flags"].str.contains("rare_activity").all()
    assert np.isfinite(sms.select_dtypes("number").to_numpy(float)).all()


def test_errors():
    _, panel = small_panel()
    with pytest.raises(TypeError, match="build_panel"):
        sg.personal_best_goals(panel.to_numpy())
    with pytest.raises(SchemaError, match="deals_created"):
        sg.personal_best_goals(panel.drop(columns="deals_created"))
    with pytest.raises(SchemaError, match="not panel columns"):
        sg.personal_best_goals(panel, activities=["fax"])
    with pytest.raises(ValueError, match="extraordinary < stretch < clear"):
        sg.personal_best_goals(panel, tier_probabilities={"clear": 0.1})
    with pytest.raises(ValueError, match="horizon must be"):
        sg.personal_best_goals(panel, horizon="decade")
    with pytest.raises(InsufficientDataError, match="no history"):
        sg.personal_best_goals(panel, as_of="2000-01-03")
    with pytest.raises(TypeError, match="DriverResult"):
        sg.personal_best_goals(panel, drivers="meeting")


# ---------------------------------------------------------- distributions
@pytest.mark.parametrize("mean,var", [(3.0, 3.0), (3.0, 9.0), (30.0, 120.0), (0.4, 0.9)])
def test_probability_helpers_match_direct_sums(mean, var):
    goals = np.arange(0, int(mean * 4) + 3)
    got = prob_at_least(goals, np.full(goals.size, mean), np.full(goals.size, var))
    if var <= mean:
        pmf = stats.poisson.pmf(np.arange(2000), mean)
    else:
        n = mean**2 / (var - mean)
        pmf = stats.nbinom.pmf(np.arange(2000), n, n / (n + mean))
    want = np.array([pmf[g:].sum() for g in goals])
    np.testing.assert_allclose(got, want, atol=1e-9)
    lvl = level_with_odds(0.8, np.array([mean]), np.array([var]))[0]
    assert prob_at_least(np.array([lvl]), np.array([mean]), np.array([var]))[0] >= 0.8
    assert prob_at_least(np.array([lvl + 1]), np.array([mean]), np.array([var]))[0] < 0.8 + 1e-12


def test_plot(plan):
    import matplotlib.pyplot as plt

    ax = plan.plot(plan.table["rep"].iloc[0])
    assert len(ax.containers) == 3 and len(ax.lines) == 1
    plt.close("all")
    with pytest.raises(ValueError, match="no rep"):
        plan.plot("Nobody")


#: Recovery tolerance of the per-unit lift behind priorities and projections: the driver
#: model's standard errors are ~16-18 % of the meeting and call effects here (40 reps x 104
#: weeks), so 0.35 is about two standard errors.
RTOL_LIFT = 0.35


def test_lift_per_quality_unit_recovers_the_truth(plan, sim):
    """Deals per extra held meeting / connected call (used by projections) match the truth."""
    eff = plan.effects.set_index("activity")["deals_per_unit"]
    truth = sim.truth_quality["deals_created"]
    np.testing.assert_allclose(eff["meeting_held"], truth["meeting_held"], rtol=RTOL_LIFT)
    np.testing.assert_allclose(eff["call_connected"], truth["call_connected"], rtol=RTOL_LIFT)
    # linkedin drives nothing: no lift at all is credited to it
    assert eff["linkedin"] == 0
