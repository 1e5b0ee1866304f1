"""The independent event-level simulator produces the world its docstring describes.

These checks are on the simulator itself (links, timing, rates against the
stated truth), so the driver tests that use it test the model, not a broken
fixture.  Tolerances are binomial: 4 standard errors (failure probability
< 1e-4 per check).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from independent_sim import START, make_events


@pytest.fixture(scope="module")
def base():
    return make_events("small_team", seed=3, n_reps=20, n_periods=60)


def test_same_seed_same_events(base):
    again = make_events("small_team", seed=3, n_reps=20, n_periods=60)
    pd.testing.assert_frame_equal(base.activities, again.activities)
    pd.testing.assert_frame_equal(base.deals, again.deals)
    other = make_events("small_team", seed=4, n_reps=20, n_periods=60)
    assert len(other.activities) != len(base.activities)


def test_links_split_sourcing_before_and_progressing_after(base):
    acts = base.activities.loc[base.activities["deal_id"].notna()]
    created = acts["deal_id"].map(base.deals.set_index("deal_id")["created"])
    assert created.notna().all()
    before = acts["timestamp"] < created
    # sourcing activities (before creation) are exactly the ones linked to outbound deals, one per deal
    source = acts["deal_id"].map(base.deals.set_index("deal_id")["lead_source"])
    assert (source.loc[before] == "outbound").all()
    assert before.sum() == (base.deals["lead_source"] == "outbound").sum()


def test_sourcing_rate_matches_truth(base):
    """Deals sourced per logged meeting/call not on an existing deal (away from the window's end) match the truth."""
    acts, deals = base.activities, base.deals
    end = START + pd.Timedelta(days=base.params["n_days"] - 60)
    early = acts.loc[acts["timestamp"] < end]
    outbound = set(deals.loc[deals["lead_source"] == "outbound", "deal_id"])
    for k in ("meeting", "call"):
        logged = early.loc[early["activity_type"] == k]
        created = logged["deal_id"].map(deals.set_index("deal_id")["created"])
        logged = logged.loc[~(logged["timestamp"] >= created)]  # progressing: logged on an existing deal
        sourced = logged["deal_id"].isin(outbound)
        p = base.truth.loc[k, "deals_created"]
        se = np.sqrt(p * (1 - p) / len(logged))
        assert abs(sourced.mean() - p) < 4 * se, (k, sourced.mean(), p)


@pytest.mark.parametrize("trigger", ["same_week", "next_week"])
def test_triggered_proposal_one_per_deal(trigger):
    sim = make_events("small_team", seed=1, trigger=trigger)
    prop = sim.activities.loc[sim.activities["activity_type"] == "proposal"]
    assert prop["deal_id"].is_unique
    created = prop["deal_id"].map(sim.deals.set_index("deal_id")["created"])
    week = (prop["timestamp"].dt.normalize() - START).dt.days // 7
    cweek = (created.dt.normalize() - START).dt.days // 7
    assert (prop["timestamp"].dt.normalize() >= created.dt.normalize()).all()
    same = (week == cweek).mean()
    if trigger == "same_week":
        assert same == 1.0
    else:
        assert 0.4 < same < 0.6 and (week - cweek).max() == 1
    share = len(prop) / len(sim.deals)
    assert abs(share - 0.6) < 4 * np.sqrt(0.24 / len(sim.deals)), share
    assert sim.truth.loc["proposal", "deals_created"] == 0.0


def test_noise_and_unlinked_modes():
    sim = make_events("noise_small", seed=2, links=False)
    assert (sim.deals["lead_source"] == "inbound").all()
    assert sim.activities["deal_id"].isna().all()
    assert (sim.truth["deals_created"] == 0).all() and not sim.truth["is_driver"].any()


def test_two_groups_truth_and_monthly_panel():
    sim = make_events("two_groups", seed=0, n_reps=10, n_periods=20)
    meet = sim.rep_truth.loc[sim.rep_truth["activity"] == "meeting", "deals_created"].to_numpy()
    assert np.allclose(meet[1::2], 3 * meet[0::2])
    assert np.isclose(meet.mean(), sim.truth.loc["meeting", "deals_created"])
    monthly = make_events("monthly", seed=0, n_reps=5, n_periods=6)
    panel = monthly.panel()
    assert panel.groupby("rep", observed=True).size().eq(6).all()
    assert panel["deals_created"].sum() == len(monthly.deals)
