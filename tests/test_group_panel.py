"""Group-level forecasts aggregate the panel first (group_panel): same series, models per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from expected_warnings import WIDE_RANGES, ignoring
from salesgoals.forecasting import _forecast


@pytest.fixture(scope="module")
def many_teams():
    """60 reps in 30 teams of two: enough groups for the group-level path."""
    sim = sg.simulate.make_crm_data(n_reps=60, n_weeks=80, seed=3)
    roster = sim.roster.copy()
    roster["team"] = [f"T{i // 2:02d}" for i in range(len(roster))]
    panel = sg.build_panel(sim.activities, sim.deals, roster=roster, freq="W")
    return sim, roster, panel


def test_group_panel_sums_every_count(many_teams):
    _, _, panel = many_teams
    teams = sg.panel.group_panel(panel, "team")
    assert len(teams) == panel.groupby(["team", "period"], observed=True).ngroups
    for c in ("call", "deals_won", "won_revenue", "pipeline_created"):
        want = panel.groupby(["team", "period"], observed=True)[c].sum().to_numpy()
        np.testing.assert_allclose(teams[c].to_numpy(float), want)
    closed = teams["deals_won"] + teams["deals_lost"]
    np.testing.assert_allclose(
        teams["win_rate"][closed > 0], (teams["deals_won"] / closed)[closed > 0]
    )


@pytest.mark.parametrize("level", ["total", "team"])
def test_series_methods_agree_with_the_rep_panel(many_teams, monkeypatch, level):
    """Aggregating first changes how fast, not what: the series methods give the same numbers."""
    sim, _, panel = many_teams
    kw = dict(deals=sim.deals, level=level, horizon=4, method=["seasonal_naive", "ets", "pipeline"])
    with ignoring(sg.errors.UnreliableEstimateWarning, WIDE_RANGES):
        fast = sg.forecast(panel, **kw).table
        monkeypatch.setattr(_forecast, "MIN_MODEL_GROUPS", 10**9)  # the rep-panel path
        slow = sg.forecast(panel, **kw).table
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-9)


def test_total_activity_forecast_runs_on_the_team_panel(many_teams, monkeypatch):
    """The activity model is fitted on the 30 team series, never on the reps."""
    sim, _, panel = many_teams
    seen = []
    real = _forecast.fit_drivers

    def spy(p, **kw):
        seen.append(p["rep"].nunique())
        return real(p, **kw)

    monkeypatch.setattr(_forecast, "fit_drivers", spy)
    res = sg.forecast(panel, deals=sim.deals, level="total", horizon=4, method="activity")
    assert seen and set(seen) == {30}
    f = res.table["forecast"].to_numpy()
    assert len(f) == 4 and np.isfinite(f).all() and (f >= 0).all()


def test_total_forecast_pools_teams_past_the_cap(many_teams, monkeypatch):
    """Past MAX_MODEL_GROUPS teams the total-level model runs on that many blocks of teams: its cost
    stops growing with the reps, and the series methods still give the same totals."""
    sim, _, panel = many_teams
    kw = dict(deals=sim.deals, level="total", horizon=4, method=["seasonal_naive", "ets"])
    seen = []
    real = _forecast.fit_drivers

    def spy(p, **k):
        seen.append(p["rep"].nunique())
        return real(p, **k)

    whole = sg.forecast(panel, **kw).table
    monkeypatch.setattr(_forecast, "MIN_MODEL_GROUPS", 5)
    monkeypatch.setattr(_forecast, "MAX_MODEL_GROUPS", 7)
    pooled = sg.forecast(panel, **kw).table
    monkeypatch.setattr(_forecast, "fit_drivers", spy)
    res = sg.forecast(panel, deals=sim.deals, level="total", horizon=4, method="activity")
    pd.testing.assert_frame_equal(pooled, whole, check_exact=False, rtol=1e-9)
    assert seen and set(seen) == {7}  # 30 teams in 7 blocks
    assert np.isfinite(res.table["forecast"]).all()
    blocks = _forecast._pool_units(panel, "team")["team"]
    assert blocks.nunique() == 7 and panel.groupby(blocks.to_numpy())["team"].nunique().sum() == 30
