"""Enterprise scale: group-level forecasts aggregate first; the front door reads lakes and Dask."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.errors.UnreliableEstimateWarning)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.errors.UnreliableEstimateWarning)
        res = sg.forecast(panel, deals=sim.deals, level="total", horizon=4, method="activity")
    assert seen and set(seen) == {30}
    f = res.table["forecast"].to_numpy()
    assert len(f) == 4 and np.isfinite(f).all() and (f >= 0).all()


# ------------------------------------------------------------------ front door
@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """The small simulation's activities as a lake of three Parquet files."""
    sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=60, seed=5)
    folder = tmp_path_factory.mktemp("lake")
    acts = sim.activities
    for i, part in enumerate(np.array_split(np.arange(len(acts)), 3)):
        (folder / f"year={2024 + i}").mkdir()
        acts.iloc[part].to_parquet(folder / f"year={2024 + i}" / "part-0.parquet")
    return sim, str(folder / "**" / "*.parquet")


@pytest.mark.parametrize("engine", ["memory", "duckdb", "dask"])
def test_every_engine_builds_the_in_memory_panel(lake, engine):
    sim, glob = lake
    want = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    got = sg.panel.panel_for(glob, sim.deals, roster=sim.roster, engine=engine, progress=False)
    pd.testing.assert_frame_equal(got, want)
    if engine == "dask":
        import dask.dataframe as dd

        ddf = dd.from_pandas(sim.activities, npartitions=3)
        pd.testing.assert_frame_equal(sg.panel.panel_for(ddf, sim.deals, roster=sim.roster), want)


def test_engine_is_chosen_by_size(lake, monkeypatch):
    from salesgoals.panel import _front

    sim, glob = lake
    assert sg.panel.choose_engine(glob) == "memory"  # a few hundred kB
    assert sg.panel.choose_engine(sim.activities, "duckdb") == "memory"  # already in memory
    monkeypatch.setattr(_front, "OUT_OF_CORE_BYTES", 1)
    assert sg.panel.choose_engine(glob) == "duckdb"
    with pytest.raises(ValueError, match="engine must be one of"):
        sg.panel.choose_engine(glob, "spark")
    with pytest.raises(FileNotFoundError, match="no activity file matches"):
        sg.panel.activity_files("nowhere/*.parquet")


def test_recommend_forecast_track_take_the_lake(lake):
    sim, glob = lake
    kw = dict(n_sims=200, backtest=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sg.errors.UnreliableEstimateWarning)
        mem = sg.recommend(sim.activities, sim.deals, sim.roster, **kw)
        out = sg.recommend(glob, sim.deals, sim.roster, engine="duckdb", **kw)
        pd.testing.assert_frame_equal(out.table, mem.table)
        panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
        fkw = dict(deals=sim.deals, roster=sim.roster, level="team", method=["ets", "pipeline"])
        pd.testing.assert_frame_equal(sg.forecast(glob, **fkw).table, sg.forecast(panel, **fkw).table)
        bkw = dict(deals=sim.deals, level="total", methods=["seasonal_naive"], n_origins=4)
        pd.testing.assert_frame_equal(
            sg.backtest_forecast(glob, **bkw).table, sg.backtest_forecast(panel, **bkw).table
        )
        as_of = panel["period"].max().end_time.normalize()
        a = sg.track((glob, sim.deals), mem.goals, roster=sim.roster, as_of=as_of).table
        b = sg.track(panel, mem.goals, roster=sim.roster, as_of=as_of).table
    pd.testing.assert_frame_equal(a, b)


def test_cli_reads_a_glob_out_of_core_with_the_same_goals(lake, tmp_path, capsys):
    from salesgoals.cli import main

    sim, glob = lake
    sim.deals.to_csv(tmp_path / "deals.csv", index=False)
    sim.roster.to_csv(tmp_path / "roster.csv", index=False)
    args = ["recommend", "--activities", glob, "--deals", str(tmp_path / "deals.csv"),
            "--roster", str(tmp_path / "roster.csv"), "--sims", "200", "--no-backtest"]  # fmt: skip
    assert main([*args, "--engine", "memory", "--out", str(tmp_path / "a.csv"), "-q"]) == 0
    capsys.readouterr()
    assert main([*args, "--engine", "duckdb", "--out", str(tmp_path / "b.csv"), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    line = [x for x in err.splitlines() if "peak memory" in x]
    n_acts = len(sim.activities)
    assert line and f"activities read {n_acts:,}" in line[0] and "reps 12" in line[0]


def test_progress_bars_only_when_asked_or_on_a_terminal(capsys):
    from salesgoals import _progress

    with _progress.step("quiet step"):
        pass
    assert "quiet step" not in capsys.readouterr().err  # stderr is not a terminal under pytest
    _progress.set_progress(True)
    try:
        with _progress.step("loud step"):
            pass
        b = _progress.bar(3, "blocks")
        b.update(3)
        b.close()
    finally:
        _progress.set_progress(None)
    err = capsys.readouterr().err
    assert "loud step" in err and "blocks" in err and "3/3" in err
