"""Advances: the rule on hand-made deals, linking, rates, panel metrics, goals; the simulator's new parts."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

import salesgoals as sg
from salesgoals.errors import SchemaError

T = pd.Timestamp


def _deals():
    return pd.DataFrame(
        {
            "deal_id": ["A", "B", "C", "D"],
            "rep": ["r1", "r1", "r2", "r2"],
            "created": [T("2025-01-01")] * 4,
            "closed": [pd.NaT, T("2025-01-20"), T("2025-01-12"), pd.NaT],
            "status": ["open", "won", "lost", "open"],
            "amount": [1.0] * 4,
            "account": ["acme", "beta", "gamma", "delta"],
        }
    )


def _hist():
    return pd.DataFrame(
        {
            "deal_id": ["A", "A", "B", "B", "C", "D"],
            "stage": ["Qualification", "Needs Analysis", "Qualification", "Closed Won", "Qualification",
                      "Qualification"],
            "entered": [T("2025-01-01"), T("2025-01-06 12:00"), T("2025-01-01"), T("2025-01-20"), T("2025-01-01"),
                        T("2025-01-01")],
        }
    )


def _acts():
    return pd.DataFrame(
        {
            "activity_id": ["1", "2", "3", "4", "5", "6", "7", "8"],
            "rep": ["r1", "r1", "r1", "r2", "r2", "r2", "r2", "r1"],
            "timestamp": [T("2025-01-05 10:00"),  # A: stage entered next day -> advanced (stage)
                          T("2025-01-10 10:00"),  # A: nothing afterwards -> stalled
                          T("2025-01-15 10:00"),  # B: won on the 20th -> advanced (won)
                          T("2025-01-08 10:00"),  # C: lost on the 12th -> lost
                          T("2025-01-02 10:00"),  # D (by account): next is a meeting -> advanced (next meeting)
                          T("2025-01-04 10:00"),  # D: the meeting, then nothing -> stalled
                          T("2025-01-30 10:00"),  # D: too recent to judge -> pending
                          T("2025-01-05 09:00")],  # no deal, no account -> unlinked
            "activity_type": ["call", "email", "meeting", "call", "call", "meeting", "call", "call"],
            "deal_id": ["A", "A", "B", "C", None, "D", "D", None],
            "account": [None, None, None, None, "delta", None, None, None],
        }
    )


def test_rule_on_hand_made_deals():
    adv = sg.classify_advances(_acts(), _deals(), _hist(), data_end="2025-02-05")
    got = adv.set_index("activity_id")
    assert got["advance"].to_dict() == {"1": "advanced", "2": "stalled", "3": "advanced", "4": "lost",
                                        "5": "advanced", "6": "stalled", "7": "pending"}
    assert got.loc[["1", "3", "5"], "advanced_by"].tolist() == ["stage", "won", "next_meeting"]
    assert got.loc["5", "linked_by"] == "account" and got.loc["5", "deal_id"] == "D"
    assert got.loc["2", "stage_before"] == "Needs Analysis"
    assert adv.attrs["unlinked"]["no_deal"] == 1
    assert adv.columns.tolist() == list(sg.outcomes.ADVANCE_COLUMNS)


def test_window_and_credit_options():
    acts = _acts()
    # a 1-day window misses A's stage change on the next day at noon (26 h later)
    adv = sg.classify_advances(acts, _deals(), _hist(), window_days=1, data_end="2025-02-05").set_index("activity_id")
    assert adv.loc["1", "advance"] == "stalled"
    # credit="last": an email just before the call gets no credit for the call's stage change
    extra = pd.concat([acts, pd.DataFrame({"activity_id": ["9"], "rep": ["r1"], "timestamp": [T("2025-01-04")],
                                           "activity_type": ["email"], "deal_id": ["A"], "account": [None]})])
    last = sg.classify_advances(extra, _deals(), _hist(), data_end="2025-02-05").set_index("activity_id")
    every = sg.classify_advances(extra, _deals(), _hist(), credit="all",
                                 data_end="2025-02-05").set_index("activity_id")
    assert last.loc["9", "advance"] == "stalled" and every.loc["9", "advance"] == "advanced"
    no_meet = sg.classify_advances(acts, _deals(), _hist(), next_meeting=False,
                                   data_end="2025-02-05").set_index("activity_id")
    assert no_meet.loc["5", "advance"] == "stalled"


def test_proxy_is_labelled():
    adv = sg.classify_advances(_acts(), _deals(), data_end="2025-02-05").set_index("activity_id")
    assert set(adv["method"]) == {"proxy"}
    assert adv.loc["1", "advanced_by"] == "next_interaction"  # a later interaction within 14 days
    assert adv.loc["4", "advance"] == "lost"
    assert "PROXY" in str(sg.advance_rates(adv.reset_index()).summary())


def test_account_with_two_open_deals_is_not_linked():
    deals = pd.concat([_deals(), _deals().iloc[[3]].assign(deal_id="E")], ignore_index=True)
    adv = sg.classify_advances(_acts(), deals, _hist(), data_end="2025-02-05")
    assert "5" not in set(adv["activity_id"]) and adv.attrs["unlinked"]["account_ambiguous"] == 1


def test_bad_inputs_get_named_errors():
    with pytest.raises(SchemaError, match="deals has no closed"):
        sg.classify_advances(_acts(), _deals().drop(columns="closed"))
    with pytest.raises(ValueError, match="window_days"):
        sg.classify_advances(_acts(), _deals(), window_days=0)
    with pytest.raises(ValueError, match="credit"):
        sg.classify_advances(_acts(), _deals(), credit="first")
    with pytest.raises(SchemaError, match="no team"):
        sg.advance_rates(sg.classify_advances(_acts(), _deals()), by=["team"])


def test_wilson_matches_statsmodels():
    k, n = np.array([0, 3, 17, 50]), np.array([5, 10, 40, 50])
    lo, hi = sg.outcomes.wilson_interval(k, n, interval=0.9)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.1, method="wilson")
    np.testing.assert_allclose(lo, ref_lo, atol=1e-12)
    np.testing.assert_allclose(hi, ref_hi, atol=1e-12)


@pytest.fixture(scope="module")
def sim():
    return sg.simulate.make_crm_data(n_reps=8, n_weeks=40, seed=7)


def test_rates_panel_metrics_and_goals_agree(sim):
    adv = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history)
    rates = sg.advance_rates(adv)
    t = rates.table
    assert (t["n"] == t["advanced"] + t["stalled"] + t["lost"]).all()
    complete = adv["timestamp"] + pd.Timedelta(days=14) <= pd.Timestamp(adv.attrs["data_end"])
    assert t["n"].sum() == int((adv["advance"].isin(["advanced", "stalled", "lost"]) & complete).sum())
    # the last fortnight is left out: there advances show at once and stalls only later (pending)
    tail = adv[~complete]
    assert (tail["advance"] == "stalled").sum() == 0 and (tail["advance"] == "advanced").any()
    assert ((t["ci_low"] <= t["advance_rate"]) & (t["advance_rate"] <= t["ci_high"])).all()
    panel = sg.add_advance_metrics(sim.panel(), adv)
    for k in ("call", "email", "meeting"):
        in_panel = int(panel[f"{k}_advanced"].sum())
        start = panel["period"].min().start_time
        want = int(((adv["advance"] == "advanced") & (adv["activity_type"] == k) & (adv["timestamp"] >= start)
                    & adv["rep"].isin(panel["rep"])).sum())
        assert in_panel == want
    assert sg.panel.activity_columns(panel) == ["call", "email", "meeting", "linkedin"]
    assert "meeting_advanced" in sg.panel.quality_columns(panel)
    goals = sg.advance_goals(adv, min_n=10)
    assert set(goals["kind"]) == {"quality"}
    assert (goals["target_rate"] >= goals["current_rate"]).all()
    assert (goals["target_rate"] <= goals["ci_high"] + 0.10 + 1e-12).all()
    row = goals.iloc[0]
    assert f"{round(100 * row['current_rate'])}%" in row["goal"]
    ax = rates.plot()
    assert len(ax.get_yticklabels()) == len(t)


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()


def test_new_simulator_parts_leave_every_old_output_unchanged():
    """Stage paths and accounts come from their own streams: grouping deals into accounts changes nothing else."""
    a = sg.simulate.make_crm_data(n_reps=6, n_weeks=30, seed=3)
    b = sg.simulate.make_crm_data(n_reps=6, n_weeks=30, seed=3, n_accounts=12)
    for name in ("activities", "roster", "truth", "truth_by_rep", "reps", "season"):
        assert _digest(getattr(a, name)) == _digest(getattr(b, name)), name
    assert _digest(a.deals.drop(columns="account")) == _digest(b.deals.drop(columns=["account", "product"]))
    assert b.deals["account"].nunique() <= 12 and "owner" in b.accounts.columns
    # every stage path is consistent with its deal: won deals end Closed Won on their close date
    last = a.stage_history.groupby("deal_id").last()
    won = a.deals.set_index("deal_id").query("status == 'won'")
    assert (last.loc[won.index, "stage"] == "Closed Won").all()
    assert (last.loc[won.index, "entered"] == won["closed"]).all()
