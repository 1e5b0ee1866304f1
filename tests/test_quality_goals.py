"""Quality goals in recommend: advance-rate rows next to the volume goals (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.recommend import RECOMMENDATION_COLUMNS
from salesgoals.outcomes import advance_goal_tiers


@pytest.fixture(scope="module")
def company():
    sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=60, seed=31)
    acts = pd.concat([sim.activities, sim.deal_activities.drop(columns="true_advance")], ignore_index=True)
    return sim, acts


def _rec(acts, sim, **kw):
    return sg.recommend(acts, sim.deals, sim.roster, n_sims=200, backtest=False, drivers=None, **kw)


@pytest.fixture(scope="module")
def pair(company):
    sim, acts = company
    return _rec(acts, sim), _rec(acts, sim, stage_history=sim.stage_history)


def test_volume_rows_unchanged_and_quality_rows_appended(pair):
    plain, with_q = pair
    assert plain.quality is None and not plain.table["activity"].str.endswith("_advance_rate").any()
    t = with_q.table
    assert tuple(t.columns) == RECOMMENDATION_COLUMNS
    q = t["activity"].str.endswith("_advance_rate")
    pd.testing.assert_frame_equal(t.loc[~q].reset_index(drop=True), plain.table)
    assert set(t.loc[q, "activity"]) == {"call_advance_rate", "email_advance_rate", "meeting_advance_rate"}
    assert (t.loc[q, "kind"] == "quality").all() and (t.loc[q, "priority"] == 0).all()
    assert t.loc[q, "flags"].eq("advance_rate").all()
    # each rep's quality rows come right after their volume rows
    first_q = t.index[q].to_series().groupby(t.loc[q, "rep"]).min()
    last_v = t.index[~q].to_series().groupby(t.loc[~q, "rep"]).max()
    assert (first_q > last_v.reindex(first_q.index)).all()
    assert bool(t.select_dtypes("number").notna().all().all())


def test_quality_tiers_odds_and_totals_are_consistent(pair):
    rec = pair[1]
    q = rec.quality
    assert (q["goal_clear"] <= q["goal_stretch"]).all() and (q["goal_stretch"] <= q["goal_extraordinary"]).all()
    assert (q["goal_clear"] >= q["baseline"] - 1e-12).all()
    assert (q[["goal_clear", "goal_extraordinary"]].to_numpy() <= 1).all()
    assert (q["p_clear"] >= q["p_stretch"]).all() and (q["p_stretch"] >= q["p_extraordinary"]).all()
    for tier in ("clear", "stretch", "extraordinary"):
        assert (q[f"goal_{tier}_total"] == np.ceil(q[f"goal_{tier}"] * q["expected_n"] - 1e-9)).all()
    # the odds are the beta-binomial chance of at least the total: a goal at the rep's own rate is near a coin flip
    # for a rep at or below the peers; above them the rate is shrunk toward the peers (reps above the peers fell
    # back more often than a coin flip in the backtest, tests/test_quality_odds.py), so the odds are lower
    at_own = (q["goal_clear"] - q["baseline"]).abs() < 1e-9
    below = at_own & (q["baseline"] <= q["peer_rate"])
    above = at_own & (q["baseline"] > q["peer_rate"] + 0.02)
    assert below.any() and q.loc[below, "p_clear"].between(0.35, 0.75).all()
    assert above.any() and (q.loc[above, "p_clear"] < 0.5).all()
    lm = rec.goals.landmarks
    ql = lm[lm["activity"].str.endswith("_advance_rate")]
    last = ql.sort_values("week").groupby(["rep", "activity", "tier"])["cumulative"].last().unstack("tier")
    want = q.set_index(["rep", "activity"])[["goal_clear_total", "goal_stretch_total", "goal_extraordinary_total"]]
    want.columns = ["clear", "stretch", "extraordinary"]
    pd.testing.assert_frame_equal(last[want.columns].sort_index(), want.sort_index(), check_names=False)
    assert ql["week"].max() == rec.goals.horizon


def test_quality_goals_use_only_what_was_known_at_as_of(company):
    """Goals set as of an earlier week equal those from data cut at that week (no peeking at later stages)."""
    sim, acts = company
    as_of = pd.Period("2024-10-06", "W")
    full = _rec(acts, sim, stage_history=sim.stage_history, as_of=as_of).quality
    end = as_of.end_time
    cut_deals = sim.deals[sim.deals["created"] <= end].assign(
        status=lambda d: d["status"].where(d["closed"] <= end, "open"), closed=lambda d: d["closed"].where(
            d["closed"] <= end))
    adv = sg.classify_advances(acts[acts["timestamp"] <= end], cut_deals,
                               sim.stage_history[sim.stage_history["entered"] <= end], data_end=end)
    cut = advance_goal_tiers(adv, as_of=as_of, horizon=13, reps=full["rep"].unique())
    pd.testing.assert_frame_equal(full.reset_index(drop=True), cut.reset_index(drop=True))


def test_no_linked_interactions_gives_a_note_not_rows(company):
    sim, _ = company
    unlinked = sim.activities.drop(columns=["deal_id", "account"])
    rec = _rec(unlinked, sim, stage_history=sim.stage_history)
    assert rec.quality.empty and not rec.table["activity"].str.endswith("_advance_rate").any()
    assert any("no quality goals" in n for n in rec.notes)


def test_cli_recommend_stage_history(company, tmp_path, capsys):
    sim, acts = company
    reps = sorted(sim.deals["rep"].unique())[:3]  # a small team keeps the two CLI runs quick
    deals = sim.deals[sim.deals["rep"].isin(reps)]
    a, d, h = tmp_path / "acts.csv", tmp_path / "deals.csv", tmp_path / "history.csv"
    sg.io.write_csv(acts[acts["rep"].isin(reps)], a)
    sg.io.write_csv(deals, d)
    sg.io.write_csv(sim.stage_history[sim.stage_history["deal_id"].isin(deals["deal_id"])], h)
    out = tmp_path / "quality.csv"
    code = main(["recommend", "-a", str(a), "-d", str(d), "--sims", "100", "--no-backtest", "-q",
                 "--stage-history", str(h), "-o", str(out)])  # fmt: skip
    assert code in (0, None)
    t = pd.read_csv(out)
    q = t["activity"].str.endswith("_advance_rate")
    assert tuple(t.columns) == RECOMMENDATION_COLUMNS
    assert q.sum() == 3 * len(reps) and (t.loc[q, "kind"] == "quality").all()
    assert set(t.loc[~q, "activity"]) >= {"call", "email", "meeting"}  # the volume goals are still there
    assert t.loc[q, ["p_clear", "p_stretch", "p_extraordinary"]].stack().between(0, 1).all()
    # (without --stage-history the file is the volume goals alone: tests/test_main_job.py, byte for byte)


def test_recent_rate_is_not_flattered_by_the_data_end(pair, company):
    """Near the end an advance shows at once and a stall only after the window: those interactions are left out.

    The simulator's rates do not drift, so the recent rate matches the whole-history rate on average (s.d. of
    the mean difference over these 24 rows ~0.02); counting the last fortnight's advances without its stalls
    put it 0.2-0.4 higher.
    """
    q = pair[1].quality
    assert abs((q["recent"] - q["baseline"]).mean()) <= 0.06
    sim, acts = company
    adv = sg.classify_advances(acts, sim.deals, sim.stage_history)
    tail = adv[adv["timestamp"] > pd.Timestamp(adv.attrs["data_end"]) - pd.Timedelta(days=14)]
    judged = tail[tail["advance"] != "pending"]
    overall = (adv["advance"] == "advanced").sum() / (adv["advance"] != "pending").sum()
    assert (tail["advance"] == "stalled").sum() == 0  # the trap: there the judged ones are advances and losses
    assert (judged["advance"] == "advanced").mean() > overall + 0.2


def test_seller_page_shows_the_call_outcome_goals(pair):
    from salesgoals.report._html import _advance_goals

    plain, with_q = pair
    rep = with_q.quality["rep"].iloc[0]
    html = _advance_goals(with_q.table[with_q.table["rep"] == rep])
    assert "Call outcomes" in html and html.count("<tr>") == 1 + (with_q.quality["rep"] == rep).sum()
    row = with_q.quality[with_q.quality["rep"] == rep].iloc[0]
    assert f"{row['goal_stretch']:.0%} / {row['goal_stretch_total']:,}" in html
    assert _advance_goals(plain.table[plain.table["rep"] == rep]) == ""


def test_track_leaves_the_rate_goals_out(pair, company):
    """A goals table with advance-rate rows tracks as the volume goals alone (a rate is not a count to pace)."""
    sim, acts = company
    plain, with_q = pair
    a = sg.track((acts, sim.deals), with_q.table, priorities_only=False)
    b = sg.track((acts, sim.deals), plain.table, priorities_only=False)
    assert not a.table["activity"].str.endswith("_advance_rate").any()
    pd.testing.assert_frame_equal(a.table, b.table)
