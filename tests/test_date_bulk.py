"""One deal dated far from the others moves nothing (issue 11, dates).

A deals export with one deal typed as 2031 or 1999 is loaded with that deal
flagged (``date_issue``); the panel window, the goal horizon, the goal
backtest's origins and the forecasts' origins stay where the bulk of the data
is, exactly as without that deal.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import DataQualityWarning, UnreliableEstimateWarning
from salesgoals.io import load_deals, write_csv


@pytest.fixture(scope="module")
def sim():
    return sg.simulate.make_crm_data(n_reps=5, n_weeks=110, seed=1)


def _load(path):
    with warnings.catch_warnings():
        # expected on outlier.csv: the planted deal is kept and its dates flagged (the test checks the flag)
        warnings.filterwarnings("ignore", message=r"load_deals: 'outlier\.csv': deals kept with their dates flagged",
                                category=DataQualityWarning)  # fmt: skip
        return load_deals(path)


def _timeline(sim, deals):
    """Everything whose dates an outlier could move."""
    with warnings.catch_warnings():
        # the models' own reliability notes on a 5-rep team are not under test here
        warnings.filterwarnings("ignore", message=r"(forecast|backtest_forecast): ", category=UnreliableEstimateWarning)
        # the planted deal closed after the export's window: left out of the panel, as the test checks
        warnings.filterwarnings("ignore", message=r"build_panel: 1 deals closed after window", category=DataQualityWarning)
        panel = sg.build_panel(sim.activities, deals, roster=sim.roster)
        plan = sg.personal_best_goals(panel)
        goals_bt = sg.backtest_goals(panel, n_origins=2, n_sims=50)
        fc = sg.forecast(deals, level="total", freq="M")
        fc_bt = sg.backtest_forecast(deals, level="total", freq="M", methods=["trailing_mean"])
        deals_only = sg.build_panel(None, deals)
    return {
        "panel": (panel["period"].min(), panel["period"].max()),
        "deals_only_panel": (deals_only["period"].min(), deals_only["period"].max()),
        "goal_horizon": (plan.as_of, plan.horizon),
        "goal_backtest_origins": sorted(goals_bt.coverage["origin"].unique()),
        "forecast_periods": sorted(fc.table["period"].unique()),
        "forecast_backtest_origins": sorted(fc_bt.errors["origin"].unique()),
    }


@pytest.mark.parametrize(("created", "closed", "issue"), [("2024-03-01", "2031-06-20", "after_export"),
                                                           ("1999-02-01", "2024-03-01", "far_outlier")])  # fmt: skip
def test_one_deal_dated_far_away_moves_no_window_horizon_or_origin(sim, tmp_path, created, closed, issue):
    write_csv(sim.deals, tmp_path / "deals.csv")
    clean = _load(tmp_path / "deals.csv")
    text = (tmp_path / "deals.csv").read_text()
    rep = sim.deals["rep"].iloc[0]
    (tmp_path / "outlier.csv").write_text(text + f"X1,{rep},{created},{closed},lost,500,Closed Lost,,,\n")
    dirty = _load(tmp_path / "outlier.csv")
    assert len(dirty) == len(clean) + 1  # kept, flagged
    assert dirty["date_issue"].iloc[-1] == issue and dirty["date_issue"].iloc[:-1].isna().all()
    base, moved = _timeline(sim, clean), _timeline(sim, dirty)
    for key in base:
        assert moved[key] == base[key], key
