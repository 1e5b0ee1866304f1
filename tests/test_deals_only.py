"""Deals-only work (no activity export) and revenue that is unavailable rather than zero (issue 11, case 7)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import InsufficientDataError, SalesgoalsError


@pytest.fixture(scope="module")
def sim():
    return sg.simulate.make_crm_data(n_reps=6, n_weeks=80, seed=3)


@pytest.fixture(scope="module")
def deals_panel(sim):
    return sg.build_panel(None, sim.deals)


def test_deals_only_panel_has_outcomes_and_no_activity_columns(sim, deals_panel):
    p = deals_panel
    assert p.attrs["activity_columns"] == [] and p.attrs["revenue_available"] is True
    assert list(p.columns) == ["rep", "period", "deals_created", "pipeline_created", "deals_won", "deals_lost",
                               "won_revenue", "win_rate"]  # fmt: skip
    d = sim.deals
    assert int(p["deals_created"].sum()) + p.attrs["excluded"].get("deals_created_before_window", 0) \
        + p.attrs["excluded"].get("deals_created_after_window", 0) == len(d)
    won = d[d["status"] == "won"]
    assert p["won_revenue"].sum() == pytest.approx(won["amount"].sum())
    with pytest.raises(ValueError, match="pass activities, deals or both"):
        sg.build_panel(None, None)


def test_forecast_backtest_and_review_run_on_deals_only_and_say_so(sim, deals_panel):
    res = sg.forecast(deals_panel, deals=sim.deals, level="total", horizon=4)
    bt = sg.backtest_forecast(deals_panel, deals=sim.deals, level="total", horizon=4)
    review = sg.quarterly_review(sim.deals, panel=deals_panel, annual_target=1e6)
    assert res.method != "activity" and "activity" not in set(bt.table["method"])
    assert "no activity columns (deals only)" in str(res.summary())
    assert review is not None
    with pytest.raises(ValueError, match="no activity columns"):
        sg.forecast(deals_panel, deals=sim.deals, level="total", horizon=4, method="activity")


def test_functions_that_need_activities_raise_one_named_error(deals_panel):
    with pytest.raises(SalesgoalsError, match="no activity columns"):
        sg.fit_drivers(deals_panel, outcome="won_revenue")


def test_compare_performers_on_deals_only_reports_no_activity_leaks(sim, deals_panel):
    comp = sg.compare_performers(deals_panel, sim.deals)
    unmeasured = {"activities_per_period", "conversation_rate", "deals_per_conversation"}
    assert not unmeasured & set(comp.leaks["leak_stage"]) and not unmeasured & set(comp.compare["metric"])
    assert set(comp.leaks["leak_stage"]) <= {"win_rate", "deal_size", "none"}


def test_revenue_unavailable_is_nan_not_zero_and_revenue_forecasts_refuse(sim):
    deals = sim.deals.assign(amount=np.nan)
    p = sg.build_panel(None, deals)
    assert p.attrs["revenue_available"] is False
    assert p["won_revenue"].isna().all() and p["pipeline_created"].isna().all()
    assert p["deals_won"].sum() == (deals["status"] == "won").sum() - p.attrs["excluded"].get("deals_closed_before_window", 0)
    with pytest.raises(InsufficientDataError, match="revenue is unavailable, not zero"):
        sg.forecast(p, level="total", horizon=4)
    ok = sg.forecast(p, level="total", horizon=4, target="deals_won")
    assert np.isfinite(ok.table["forecast"]).all()


def test_one_outlier_deal_does_not_move_the_panel_end(sim):
    deals = sim.deals.copy()
    base = sg.build_panel(sim.activities, deals).attrs["window"]
    last = deals["closed"].max()
    i = deals.index[deals["status"] == "lost"][0]
    deals.loc[i, "closed"] = last + pd.Timedelta(days=150)  # one lost deal 5 months after everything else
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        p = sg.build_panel(sim.activities, deals)
    assert p.attrs["window"] == base
    assert p.attrs["excluded"]["deals_closed_after_window"] == 1


def test_cli_forecast_of_a_deals_file_without_roster_runs_at_the_total_level(sim, tmp_path, capsys):
    """`salesgoals forecast -d deals.csv` failed with its own default (--level team needs a roster); with no
    roster the default level is now total, and with one it stays team."""
    from salesgoals.cli import main

    deals = tmp_path / "deals.csv"
    sim.deals.to_csv(deals, index=False)
    assert main(["forecast", "-d", str(deals), "--horizon", "4"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "won_revenue by total" in out, out
    roster = tmp_path / "roster.csv"
    sim.roster.to_csv(roster, index=False)
    assert main(["forecast", "-d", str(deals), "-r", str(roster), "--horizon", "4"]) == 0
    teams = set(sim.roster["team"])
    out = capsys.readouterr().out
    assert all(t in out for t in teams), out
