"""The simulator must contain the traps it promises, and its truth must be what it generates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals._schema import ACTIVITY_COLUMNS, DEAL_COLUMNS, ROSTER_COLUMNS
from salesgoals.simulate import DEFAULT_EFFECTS, make_crm_data


def test_canonical_layout(sim):
    assert list(sim.activities.columns) == list(ACTIVITY_COLUMNS)
    assert list(sim.deals.columns) == list(DEAL_COLUMNS)
    assert list(sim.roster.columns) == list(ROSTER_COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(sim.activities["timestamp"])
    assert set(sim.deals["status"]) == {"won", "lost", "open"}
    assert sim.deals.loc[sim.deals["status"] == "open", "closed"].isna().all()
    assert sim.deals.loc[sim.deals["status"] != "open", "closed"].notna().all()
    assert (sim.deals["closed"].dropna() >= sim.deals.loc[sim.deals["closed"].notna(), "created"]).all()
    assert sim.activities["activity_id"].is_unique and sim.deals["deal_id"].is_unique


def test_deterministic():
    a = make_crm_data(n_reps=6, n_weeks=20, seed=11)
    b = make_crm_data(n_reps=6, n_weeks=20, seed=11)
    c = make_crm_data(n_reps=6, n_weeks=20, seed=12)
    pd.testing.assert_frame_equal(a.activities, b.activities)
    pd.testing.assert_frame_equal(a.deals, b.deals)
    assert not a.deals["amount"].equals(c.deals["amount"])


def test_truth_matches_parameters(sim):
    reps = sim.reps.set_index("rep")
    call = DEFAULT_EFFECTS["call"]
    expected = float(np.sum(call) * reps["connect_rate"].mean())
    assert sim.truth.loc["call", "deals_created"] == pytest.approx(expected)
    assert sim.truth.loc["linkedin"].eq(0).all()
    by_rep = sim.truth_by_rep.set_index(["rep", "activity"])
    rev = by_rep.xs("meeting", level="activity")["won_revenue"]
    manual = np.sum(DEFAULT_EFFECTS["meeting"]) * reps["show_rate"] * reps["win_rate"] * reps["mean_deal_size"]
    np.testing.assert_allclose(rev.sort_index(), manual.sort_index())
    # the lag profile sums to the total effect
    lags = sim.truth_lags.groupby("activity")["deals_created"].sum()
    np.testing.assert_allclose(lags[sim.truth.index], sim.truth["deals_created"], rtol=1e-12)


def test_traps_are_present(sim, sim_panel):
    panel, reps = sim_panel, sim.reps.set_index("rep")
    per_rep = panel.groupby("rep")[["linkedin", "deals_created"]].mean()
    skill = reps.loc[per_rep.index, "skill"]
    # confounding: skill raises both the zero-effect activity and the results
    assert np.corrcoef(skill, per_rep["linkedin"])[0, 1] > 0.4
    assert np.corrcoef(skill, per_rep["deals_created"])[0, 1] > 0.4
    # holiday weeks move activity down for everybody
    week = panel.groupby("period")["call"].mean()
    holiday = sim.season.set_index(sim.season["week_start"].dt.to_period("W-SUN"))["holiday"]
    assert week[holiday.reindex(week.index) < 0.5].mean() < 0.6 * week[holiday.reindex(week.index) == 1].mean()
    # lags: deals close weeks after they were created
    won = sim.deals[sim.deals["status"] == "won"]
    assert (won["closed"] - won["created"]).dt.days.median() >= 28
    # quality differs by rep and rises with skill
    assert np.corrcoef(reps["skill"], reps["connect_rate"])[0, 1] > 0.3
    # reps join and leave; some deals still open at export
    assert sim.roster["end"].notna().any() and (sim.roster["start"] > sim.start).any()
    assert (sim.deals["status"] == "open").sum() > 0
    # reverse causality: follow-up emails are linked to deals created the week before
    linked = sim.activities.dropna(subset=["deal_id"])
    assert (linked["activity_type"] == "email").all() and len(linked) > 0
    created = sim.deals.set_index("deal_id").loc[linked["deal_id"], "created"].to_numpy()
    lag_days = (linked["timestamp"].dt.normalize().to_numpy() - created).astype("timedelta64[D]").astype(int)
    assert ((lag_days >= 0) & (lag_days <= 13)).all()


def test_no_activity_outside_active_span(sim):
    roster = sim.roster.set_index("rep")
    first = sim.activities.groupby("rep")["timestamp"].min()
    last = sim.activities.groupby("rep")["timestamp"].max()
    assert (first >= roster.loc[first.index, "start"]).all()
    ends = roster.loc[last.index, "end"]
    assert (last[ends.notna()] <= ends[ends.notna()] + pd.Timedelta(days=1)).all()


def test_effects_argument_sets_truth():
    sim = make_crm_data(n_reps=5, n_weeks=12, seed=0, effects={"meeting": (0.2,), "email": (0.0,)})
    assert sim.truth.loc["call", "deals_created"] == 0
    assert sim.truth.loc["meeting", "deals_created"] > 0


def test_argument_validation():
    with pytest.raises(ValueError, match="n_reps >= 1"):
        make_crm_data(n_reps=0)


def test_repr_and_panel_helper():
    sim = make_crm_data(n_reps=3, n_weeks=8, seed=0)
    assert repr(sim).startswith("CRMData(reps=3, weeks=8")
    assert sim.panel("M")["period"].iloc[0].freqstr == "M"
    assert isinstance(sg.simulate.CRMData, type)
