"""Invariants of build_panel: one row per rep x period, active spans, totals equal the raw events."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import DataQualityError, DataQualityWarning, SchemaError
from salesgoals.panel import activity_columns, panel_summary, period_start, quality_columns


@pytest.fixture(scope="module")
def small():
    return sg.simulate.make_crm_data(n_reps=12, n_weeks=40, seed=3)


def _acts(rows):
    return pd.DataFrame(rows, columns=["rep", "timestamp", "activity_type", "outcome"]).assign(
        timestamp=lambda d: pd.to_datetime(d["timestamp"])
    )


def _deals(rows):
    d = pd.DataFrame(rows, columns=["deal_id", "rep", "created", "closed", "status", "amount"])
    return d.assign(created=pd.to_datetime(d["created"]), closed=pd.to_datetime(d["closed"]))


@pytest.mark.parametrize("freq", ["W", "M", "Q"])
def test_one_row_per_rep_period_and_totals(small, freq):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # the simulator stays inside every span
        panel = sg.build_panel(small.activities, small.deals, roster=small.roster, freq=freq)
    assert not panel.duplicated(["rep", "period"]).any()
    assert panel["period"].iloc[0].freqstr.startswith(freq)
    # totals equal the raw counts
    counts = small.activities["activity_type"].value_counts()
    for t in activity_columns(panel):
        assert panel[t].sum() == counts[t]
    assert panel["call_connected"].sum() == ((small.activities["outcome"] == "connected")).sum()
    assert panel["meeting_held"].sum() == ((small.activities["outcome"] == "held")).sum()
    won = small.deals[small.deals["status"] == "won"]
    assert panel["deals_won"].sum() == len(won)
    assert panel["won_revenue"].sum() == pytest.approx(won["amount"].sum())
    lost = small.deals[small.deals["status"] == "lost"]
    assert panel["deals_lost"].sum() == len(lost)
    window_start = panel["period"].min().start_time
    assert panel.attrs["window"][0] == str(panel["period"].min())
    created_in = small.deals[small.deals["created"] >= window_start]
    assert panel["deals_created"].sum() == len(created_in)
    assert panel.attrs["excluded"].get("deals_created_before_window", 0) == len(small.deals) - len(created_in)
    assert panel["pipeline_created"].sum() == pytest.approx(created_in["amount"].sum())
    # no gaps inside a rep's span
    for _, g in panel.groupby("rep"):
        ords = g["period"].map(lambda p: p.ordinal).to_numpy()
        assert (np.diff(ords) == 1).all()


def test_spans_follow_roster(small):
    panel = small.panel("W")
    roster = small.roster.set_index("rep")
    first = panel.groupby("rep")["period"].min().map(lambda p: p.start_time)
    last = panel.groupby("rep")["period"].max().map(lambda p: p.end_time)
    joined = roster["start"] > small.start
    assert (first[joined] <= roster.loc[joined, "start"]).all()
    assert (first[joined] > roster.loc[joined, "start"] - pd.Timedelta(days=7)).all()
    left = roster["end"].notna()
    assert (last[left] >= roster.loc[left, "end"]).all()
    assert (last[left] < roster.loc[left, "end"] + pd.Timedelta(days=7)).all()
    assert set(panel["team"]) == set(small.roster["team"])


def test_zero_filled_and_roster_rep_without_events():
    acts = _acts([["ann", "2024-01-01 09:00", "call", "connected"], ["ann", "2024-01-22 09:00", "email", "sent"]])
    roster = pd.DataFrame({"rep": ["ann", "bob"], "team": ["A", None], "start": pd.to_datetime(["2023-01-01", "2024-01-08"])})
    panel = sg.build_panel(acts, roster=roster)
    ann = panel[panel["rep"] == "ann"]
    assert len(ann) == 4 and ann["call"].tolist() == [1, 0, 0, 0] and ann["email"].tolist() == [0, 0, 0, 1]
    bob = panel[panel["rep"] == "bob"]
    assert len(bob) == 3 and bob[["call", "email", "deals_won"]].to_numpy().sum() == 0
    assert bob["team"].iloc[0] == "(unassigned)"
    assert panel.loc[panel["rep"] == "ann", "call_connected"].sum() == 1
    assert panel["win_rate"].isna().all()  # nothing closed: rate undefined, not a fake 0


def test_events_outside_span_are_counted_and_warned():
    acts = _acts([["ann", "2024-01-01 09:00", "call", "no_answer"], ["ann", "2024-03-04 09:00", "call", "no_answer"],
                  ["cat", "2024-01-03 09:00", "email", "sent"]])  # fmt: skip
    roster = pd.DataFrame({"rep": ["ann"], "start": pd.to_datetime(["2024-01-01"]), "end": pd.to_datetime(["2024-01-31"])})
    deals = _deals([["d1", "ann", "2024-01-02", "2024-02-20", "won", 100.0]])
    with pytest.warns(DataQualityWarning, match="activities outside rep span") as rec:
        panel = sg.build_panel(acts, deals, roster=roster)
    # one data-quality warning; other libraries' warnings caught by the same recorder do not count
    assert sum(issubclass(w.category, DataQualityWarning) for w in rec) == 1
    ex = panel.attrs["excluded"]
    assert ex["activities_outside_rep_span"] == 1
    assert ex["deals_closed_outside_rep_span"] == 1
    assert ex["reps_not_in_roster"] == 1
    assert panel["call"].sum() + ex["activities_outside_rep_span"] == 2
    assert panel["won_revenue"].sum() == 0


def test_deals_only_and_without_deals():
    acts = _acts([["ann", "2024-01-01 09:00", "call", None]])
    panel = sg.build_panel(acts)
    assert panel[["deals_created", "deals_won", "won_revenue"]].to_numpy().sum() == 0
    # the log records no call outcome: connected calls are unknown, not 0 (no column, and the reason in attrs)
    assert "call_connected" not in panel.columns and "call_connected" not in panel.attrs["quality_columns"]
    assert "records no call outcomes" in panel.attrs["quality_unavailable"]["call_connected"]


def test_deterministic_under_row_order(small):
    a = sg.build_panel(small.activities, small.deals, roster=small.roster)
    shuffled = small.activities.sample(frac=1.0, random_state=0)
    b = sg.build_panel(shuffled, small.deals.iloc[::-1], roster=small.roster.iloc[::-1])
    pd.testing.assert_frame_equal(a, b)


def test_errors():
    acts = _acts([["ann", "2024-01-01 09:00", "call", None]])
    with pytest.raises(SchemaError, match="no column.*'timestamp'.*load_activities"):
        sg.build_panel(acts.drop(columns="timestamp"))
    with pytest.raises(SchemaError, match="'closed'"):
        sg.build_panel(acts, _deals([]).drop(columns="closed"))
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        sg.build_panel("activities.csv")
    with pytest.raises(ValueError, match="freq must be one of"):
        sg.build_panel(acts, freq="D")
    with pytest.raises(DataQualityError, match="no activities and no deals"):
        sg.build_panel(acts.iloc[:0])
    with pytest.raises(SchemaError, match="not a datetime column"):
        sg.build_panel(acts.assign(timestamp="yesterday"))


def test_period_start_handles_nat_and_grains():
    ts = pd.to_datetime(pd.Series(["2024-02-29 23:59", None, "2024-12-31 00:00"]))
    assert period_start(ts, "W").astype(str).tolist() == ["2024-02-26", "NaT", "2024-12-30"]
    assert period_start(ts, "M").astype(str).tolist() == ["2024-02-01", "NaT", "2024-12-01"]
    assert period_start(ts, "Q").astype(str).tolist() == ["2024-01-01", "NaT", "2024-10-01"]


def test_summary_and_helpers(small):
    panel = small.panel("W")
    assert quality_columns(panel) == ["call_connected", "meeting_held"]
    plain = pd.DataFrame(panel)  # attrs-less copy still works
    plain.attrs = {}
    assert activity_columns(plain) == ["call", "email", "meeting", "linkedin"]
    s = panel_summary(panel)
    assert s["won_revenue"].is_monotonic_decreasing
    assert s["periods"].sum() == len(panel)
    assert np.isfinite(s["win_rate"]).all()
