"""Enterprise scale: the front door reads lakes and Dask (group-level forecasts: tests/test_group_panel.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from expected_warnings import TRACK_AS_OF, ignoring


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
    with ignoring(sg.errors.UnreliableEstimateWarning, TRACK_AS_OF):
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


# ------------------------------------------------------- the duplicate-row rule on every engine
def _duplicated_exports(seed: int = 3):
    """Two exports of one log with the traps of the duplicate rule, and the deals and roster.

    Rows copied exactly (within a file and across files), rows with an
    earlier row's id but another outcome (exported again after an edit), and
    rows alike in everything but one column (kept: two activities).
    """
    sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=seed)
    acts = sim.activities
    edited = acts.iloc[[5, 6]].copy()
    edited["outcome"] = "voicemail"  # same id, other content: duplicate_id (the first row, in file order, is kept)
    alike = acts.iloc[[7]].copy()
    alike["activity_id"] = "another-id"  # another id: a second activity, however alike
    alike2 = acts.iloc[[8]].copy()
    alike2["duration_min"] = alike2["duration_min"].fillna(0) + 1  # same id: duplicate_id; without ids: kept
    assert (acts["outcome"].iloc[[5, 6]] != "voicemail").all() and acts["activity_id"].is_unique
    first = pd.concat([acts.iloc[:2000], acts.iloc[[0, 1, 1]], edited], ignore_index=True)
    second = pd.concat([acts.iloc[2000:], acts.iloc[[3]], alike, alike2], ignore_index=True)
    return sim, first, second


def _lake(tmp_path, parts, fmt="parquet"):
    for i, part in enumerate(parts):
        if fmt == "parquet":
            part.to_parquet(tmp_path / f"part-{i}.parquet")
        else:
            part.to_csv(tmp_path / f"part-{i}.csv", index=False)
    return str(tmp_path / f"*.{fmt}")


def _engines_agree(glob, sim, *, freq="W"):
    """The panel of every engine on the files; asserts they equal the in-memory one; returns (panel, loaded)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sg.errors.DataQualityWarning)
        loaded = sg.load_activities(sg.panel.activity_files(glob))
        memory = sg.panel.panel_for(glob, sim.deals, roster=sim.roster, freq=freq, engine="memory", progress=False)
        duck = sg.panel.panel_for(glob, sim.deals, roster=sim.roster, freq=freq, engine="duckdb", progress=False)
        dask = sg.panel.panel_for(glob, sim.deals, roster=sim.roster, freq=freq, engine="dask", progress=False)
    pd.testing.assert_frame_equal(duck, memory)
    pd.testing.assert_frame_equal(dask, memory)
    assert dask.attrs.get("duplicates", {}) == duck.attrs.get("duplicates", {})
    want = {k: v for k, v in loaded.attrs["quality"].excluded.items() if k in ("duplicate_row", "duplicate_id")}
    assert duck.attrs.get("duplicates", {}) == want  # the same rows excluded, counted by the same reasons
    said = [str(w.message) for w in caught if "panel_from_parquet" in str(w.message)]
    assert bool(said) == bool(want) == any("panel_for: excluded" in str(w.message) for w in caught)
    if want:
        assert f"excluded {sum(want.values()):,} of {len(loaded) + sum(want.values()):,} activity rows" in said[0]
    return duck, loaded


def test_engines_agree_on_exact_duplicate_rows(tmp_path):
    """A Parquet lake with one activity exported twice: every engine must give the same panel."""
    sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=3)
    acts = sim.activities
    twice = pd.concat([acts, acts.iloc[[0]]], ignore_index=True)  # one timed activity repeated exactly
    glob = _lake(tmp_path, [twice])
    panel, _ = _engines_agree(glob, sim)
    assert panel.attrs["duplicates"] == {"duplicate_row": 1}
    assert int(panel[list(sim.activities["activity_type"].cat.categories)].to_numpy().sum()) == len(acts)


@pytest.mark.parametrize("fmt,freq", [("parquet", "W"), ("csv", "M")])
def test_engines_agree_on_duplicates_with_ids(tmp_path, fmt, freq):
    """Copies within and across files, a record exported again after an edit, alike rows with other ids."""
    sim, first, second = _duplicated_exports()
    panel, loaded = _engines_agree(_lake(tmp_path, [first, second], fmt), sim, freq=freq)
    # copies: rows 0, 1, 1 in the first file and row 3 in the second; same id, other content: the two
    # edited outcomes and the other duration; the row with another id is a second activity
    assert panel.attrs["duplicates"] == {"duplicate_row": 4, "duplicate_id": 3}
    assert len(loaded) == len(sim.activities) + 1


def test_engines_agree_on_duplicates_without_ids_timed(tmp_path):
    """No id column, times of day: exact copies are excluded, rows differing in one column kept."""
    sim, first, second = _duplicated_exports()
    parts = [p.drop(columns="activity_id").drop_duplicates(ignore_index=True).pipe(
        lambda p: pd.concat([p, p.iloc[[0, 0, 10]]], ignore_index=True)) for p in (first, second)]  # fmt: skip
    parts[1] = pd.concat([parts[1], parts[0].iloc[[20]]], ignore_index=True)  # a copy across files
    panel, loaded = _engines_agree(_lake(tmp_path, parts), sim)
    # three copies added per file, one across files, and two that the ids told apart before (row 3
    # and the row with another id, both copies of first-file rows once the id is gone)
    assert panel.attrs["duplicates"] == {"duplicate_row": 3 + 3 + 1 + 2}
    assert len(loaded) == sum(map(len, parts)) - 9


def test_engines_agree_on_alike_rows_of_a_dates_only_export(tmp_path):
    """No id, dates without a time of day: alike rows are two activities (kept by every engine)."""
    sim, first, second = _duplicated_exports()
    parts = [p.drop(columns="activity_id").assign(timestamp=p["timestamp"].dt.normalize()) for p in (first, second)]
    panel, loaded = _engines_agree(_lake(tmp_path, parts), sim)
    assert "duplicates" not in panel.attrs
    assert len(loaded) == len(parts[0]) + len(parts[1])


@pytest.mark.parametrize("engine", ["duckdb", "dask"])
def test_cli_track_builds_the_panel_on_the_engine_asked(lake, tmp_path, monkeypatch, capsys, engine):
    """`track --engine X` on files builds the panel on X (it used to let their size choose), same output."""
    from salesgoals.cli import main
    from salesgoals.panel import scale

    sim, glob = lake
    sim.deals.to_csv(tmp_path / "deals.csv", index=False)
    sim.roster.to_csv(tmp_path / "roster.csv", index=False)
    rec = sg.recommend(sim.activities, sim.deals, sim.roster, n_sims=200, backtest=False)
    rec.to_csv(tmp_path / "goals.csv")
    calls = []
    name = {"duckdb": "panel_from_parquet", "dask": "panel_from_dask"}[engine]
    real = getattr(scale, name)
    monkeypatch.setattr(scale, name, lambda *a, **k: calls.append(name) or real(*a, **k))
    args = ["track", "-a", glob, "-d", str(tmp_path / "deals.csv"), "-r", str(tmp_path / "roster.csv"),
            "--goals", str(tmp_path / "goals.csv"), "--as-of", "2024-06-30", "-q"]  # fmt: skip
    assert main([*args, "--engine", "memory", "-o", str(tmp_path / "a.csv")]) == 0
    assert calls == []
    assert main([*args, "--engine", engine, "-o", str(tmp_path / "b.csv")]) == 0
    assert calls == [name]  # the files are small: "auto" would have loaded them in memory
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    capsys.readouterr()


def test_cli_recommend_verbose_prints_a_bounded_view_of_a_large_table(lake, tmp_path, monkeypatch, capsys):
    """`recommend --verbose` on many reps: a roll-up by activity, the first and last rows, the run line."""
    from salesgoals import cli

    sim, glob = lake
    sim.deals.to_csv(tmp_path / "deals.csv", index=False)
    sim.roster.to_csv(tmp_path / "roster.csv", index=False)
    args = ["recommend", "--activities", glob, "--deals", str(tmp_path / "deals.csv"), "--roster",
            str(tmp_path / "roster.csv"), "--sims", "200", "--no-backtest", "--out", str(tmp_path / "g.csv")]  # fmt: skip
    monkeypatch.setattr(cli, "VERBOSE_ROWS", 20)  # the fixture's table has about 10 reps x 6 activities
    monkeypatch.setattr(cli, "VERBOSE_ENDS", 5)
    assert cli.main([*args, "--verbose"]) == 0
    out, err = capsys.readouterr()
    goals = pd.read_csv(tmp_path / "g.csv")
    assert len(goals) > 20
    reps_out = [r for r in goals["rep"].unique() if r in out]
    assert goals["rep"].iloc[0] in out and goals["rep"].iloc[-1] in out  # first and last rows
    assert len(reps_out) < goals["rep"].nunique()  # the middle reps are not printed
    assert "first and last 5 rows" in out
    assert f"Goals by activity ({len(goals)} rows, {goals['rep'].nunique()} reps" in out
    rollup = out.split("Goals by activity")[1].split("Focus goals")[0]
    assert all(a in rollup for a in goals["activity"].unique())
    shown = out.split("Focus goals")[1].splitlines()[1:]  # the column header, rows, "...", the closing line
    assert len(shown) <= 2 * 5 + 3 < len(goals)
    assert any("peak memory" in line for line in err.splitlines())  # the one-line run summary
    rolled = cli.goal_rollup(goals)
    assert rolled["reps"].tolist() == goals.groupby("activity", sort=False)["rep"].nunique().tolist()
    assert rolled["focus"].sum() == int((goals["priority"] > 0).sum())
    assert rolled.set_index("activity")["goal_clear"].to_dict() == goals.groupby("activity")["goal_clear"].median().round(2).to_dict()
