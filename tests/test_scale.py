"""The three paths to the panel (in memory, out of core with DuckDB, Dask cluster) agree exactly.

They share one definition of the reduction (salesgoals.panel._aggregate.Reduction); these tests check
each translator of it against an independent pandas oracle (pandas Periods, groupby) and the
panels of all paths against each other, on the bundled canonical sample, the simulator and a
deliberately messy log (NaT timestamps, reps outside roster spans, reps missing from the roster,
missing reps and types, types seen once, mixed-case outcomes, dates before 1970, timestamps on
period boundaries, empty files and empty partitions).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import salesgoals as sg
from expected_warnings import PANEL_EXCLUDES, WON_WITHOUT_CLOSE, ignoring
from salesgoals.panel._aggregate import Reduction
from salesgoals.errors import DataQualityWarning, DateParseError, FileFormatError, SchemaError
from salesgoals.panel.scale import counts_sql, panel_from_counts, panel_from_dask, panel_from_parquet

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
MESSY_SEED = 4
FREQS = ("W", "M", "Q")


# ------------------------------------------------------------------ inputs
def messy_log(seed: int = MESSY_SEED, n: int = 3_000) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Activities, deals and roster with every kind of trouble the panel must count, not drop."""
    rng = np.random.default_rng(seed)
    reps = np.array(["ann", "bob", "cat", "dan", "Eve", "o'neil", "zoë"], dtype=object)
    ts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300 * 24 * 60, n), unit="min")
    ts = pd.Series(ts)
    ts[rng.random(n) < 0.05] = pd.NaT
    edge = pd.to_datetime(["1969-12-28 23:59:59.999999", "1969-12-29 00:00:00", "2024-03-31 23:59:59.999999",
                           "2024-04-01 00:00", "2023-12-31 23:59:59"], format="ISO8601")  # fmt: skip
    ts[: len(edge)] = edge
    types = rng.choice(np.array(["call", "email", "meeting", "linkedin"], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    types[7] = "webinar"  # a type seen once
    types[rng.random(n) < 0.01] = None
    rep = rng.choice(reps, n)
    rep[rng.random(n) < 0.01] = None
    outcome = rng.choice(np.array(["connected", "Connected", "no_answer", "held", "HELD", "no_show", "sent", None],
                                  dtype=object), n)  # fmt: skip
    acts = pd.DataFrame({"rep": rep, "timestamp": ts, "activity_type": types, "outcome": outcome})
    m = 80
    created = pd.Timestamp("2023-10-01") + pd.to_timedelta(rng.integers(0, 330, m), unit="D")
    closed = pd.Series(created + pd.to_timedelta(rng.integers(0, 120, m), unit="D")).where(rng.random(m) > 0.3)
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:03d}" for i in range(m)],
            "rep": rng.choice(np.append(reps, "fred"), m),
            "created": created,
            "closed": closed,
            "status": rng.choice(["won", "lost", "open"], m),
            "amount": rng.integers(100, 5_000, m).astype(float),
        }
    )
    roster = pd.DataFrame(
        {
            "rep": ["ann", "bob", "cat", "zed"],  # dan, Eve, o'neil, zoë, fred: not in the roster
            "team": ["A", "B", None, "C"],
            "start": pd.to_datetime(["2024-02-01", None, "2023-01-01", "2024-03-01"]),
            "end": pd.to_datetime([None, "2024-05-01", "2024-06-30", None]),
        }
    )
    return acts, deals, roster


@pytest.fixture(scope="module")
def messy():
    return messy_log()


@pytest.fixture(scope="module")
def canonical():
    acts = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
    deals = sg.load_deals(SAMPLES / "canonical_deals.csv")
    roster = sg.load_roster(SAMPLES / "roster.csv")
    return acts, deals, roster


def write_parquet_parts(acts: pd.DataFrame, folder: Path, n_parts: int = 4) -> Path:
    """Split the log into Parquet files, one of them empty, in hive-style subfolders."""
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, len(acts), n_parts, dtype=int)
    parts = [acts.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])] + [acts.iloc[:0]]
    for i, part in enumerate(parts):
        sub = folder / f"batch={i}"
        sub.mkdir(exist_ok=True)
        part.to_parquet(sub / f"part-{i}.parquet", index=False)
    return folder


def as_dask(acts: pd.DataFrame, n_parts: int = 4):
    """A Dask DataFrame of the log with an empty partition in the middle."""
    half = len(acts) // 2
    pieces = [acts.iloc[:half], acts.iloc[:0], acts.iloc[half:]]
    return dd.concat([dd.from_pandas(p, npartitions=max(1, n_parts // 2) if len(p) else 1) for p in pieces])


def panel_and_warnings(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        panel = fn(*args, **kwargs)
    messages = [str(w.message) for w in rec if issubclass(w.category, DataQualityWarning)]
    return panel, messages


def assert_same_panel(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert got.attrs == expected.attrs


# ----------------------------------------------------- the reduction itself
def oracle_counts(acts: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Activity counts by plain pandas (Periods + groupby): an independent statement of the spec."""
    alias = {"W": "W-SUN", "M": "M", "Q": "Q-DEC"}[freq]
    df = pd.DataFrame(
        {
            "rep": acts["rep"].map(lambda v: None if pd.isna(v) else str(v)).astype(object),
            "period_start": acts["timestamp"].dt.to_period(alias).dt.start_time.astype("datetime64[s]"),
            "activity_type": acts["activity_type"].map(lambda v: None if pd.isna(v) else str(v)).astype(object),
            "n": 1,
        }
    )
    outcome = acts["outcome"].map(lambda v: None if pd.isna(v) else str(v).lower())
    df["call_connected"] = ((df["activity_type"] == "call") & (outcome == "connected")).astype(np.int64)
    df["meeting_held"] = ((df["activity_type"] == "meeting") & (outcome == "held")).astype(np.int64)
    keys = ["rep", "period_start", "activity_type"]
    out = df.groupby(keys, dropna=False, sort=False).sum().reset_index()
    return Reduction(freq=freq, metrics=dict(sg._schema.QUALITY_METRICS)).normalize(out)


@pytest.mark.parametrize("freq", FREQS)
def test_numpy_reduction_matches_pandas_oracle(messy, freq):
    acts = messy[0]
    got = Reduction.for_columns(acts.columns, freq=freq).on_frame(acts)
    pd.testing.assert_frame_equal(got, oracle_counts(acts, freq), check_exact=True)
    assert got["n"].sum() == len(acts)  # every row is in the counts, NaT and missing keys included


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "C", None, "1"]),
            st.one_of(st.none(), st.datetimes(min_value=pd.Timestamp("1960-01-01").to_pydatetime(),
                                              max_value=pd.Timestamp("2030-12-31").to_pydatetime())),
            st.sampled_from(["call", "meeting", "email", None, "Call"]),
            st.sampled_from(["connected", "CONNECTED", "held", "no_show", None]),
        ),  # fmt: skip
        min_size=1,
        max_size=60,
    ),
    freq=st.sampled_from(FREQS),
    cut=st.integers(0, 60),
)
def test_reduction_matches_oracle_and_merges_associatively(data, freq, cut):
    acts = pd.DataFrame(data, columns=["rep", "timestamp", "activity_type", "outcome"])
    acts["timestamp"] = pd.to_datetime(acts["timestamp"])
    red = Reduction.for_columns(acts.columns, freq=freq)
    whole = red.on_frame(acts)
    pd.testing.assert_frame_equal(whole, oracle_counts(acts, freq), check_exact=True)
    parts = red.combine([red.on_frame(acts.iloc[:cut]), red.on_frame(acts.iloc[cut:]), red.empty()])
    pd.testing.assert_frame_equal(parts, whole, check_exact=True)


@pytest.mark.parametrize("block_rows", [97, 1000])
def test_counts_by_row_blocks_on_threads_match_the_oracle(messy, block_rows, monkeypatch):
    """A big log is counted in blocks of rows on several threads: the blocks add up to the whole."""
    import salesgoals.panel._aggregate as agg

    acts = messy[0]
    monkeypatch.setattr(agg, "_BLOCK_ROWS", block_rows)
    monkeypatch.setattr(agg.os, "cpu_count", lambda: 4)
    seen = []
    real = agg._map_row_blocks
    monkeypatch.setattr(agg, "_map_row_blocks", lambda fn, n: real(lambda rows: seen.append(rows) or fn(rows), n))
    got = Reduction.for_columns(acts.columns, freq="W").on_frame(acts)
    pd.testing.assert_frame_equal(got, oracle_counts(acts, "W"), check_exact=True)
    sizes = sorted(b.stop - b.start for b in seen)
    assert len(seen) >= 3 and sum(sizes) == len(acts) and sizes[-1] <= block_rows and sizes[-1] - sizes[0] <= 1


@pytest.mark.parametrize("freq", FREQS)
def test_sparse_grid_counts_match_the_oracle(messy, freq, monkeypatch):
    """Far-apart timestamps make the dense grid too big: the counts then come from sorting, the same."""
    import salesgoals.panel._aggregate as agg

    acts = messy[0].copy()
    acts.loc[acts.index[-1], "timestamp"] = pd.Timestamp("2199-06-30 12:00")  # a typo'd year stretches the grid
    with monkeypatch.context() as m:
        m.setattr(agg, "_MAX_DENSE_CELLS", 0)
        m.setattr(agg, "_BLOCK_ROWS", 500)  # several blocks of codes, on threads
        m.setattr(agg.np, "bincount", _no_full_bincount(np.bincount, len(acts)))
        got = Reduction.for_columns(acts.columns, freq=freq).on_frame(acts)
    pd.testing.assert_frame_equal(got, oracle_counts(acts, freq), check_exact=True)


def _no_full_bincount(real, n_rows):
    """np.bincount that fails if handed a whole log: proves the sparse path did not count densely."""

    def bincount(x, *args, **kwargs):
        assert len(x) < n_rows, "the dense grid was counted"
        return real(x, *args, **kwargs)

    return bincount


def test_one_quality_metric_per_activity_type():
    with pytest.raises(ValueError, match="at most one quality metric per activity type"):
        Reduction(freq="W", metrics={"a": ("call", ("connected",)), "b": ("call", ("voicemail",))})


def test_integer_and_text_reps_are_one_key():
    acts = pd.DataFrame({"rep": pd.array([7, 7], dtype=object), "timestamp": pd.to_datetime(["2024-01-01"] * 2),
                         "activity_type": ["call", "call"]})  # fmt: skip
    acts.loc[1, "rep"] = "7"
    counts = Reduction.for_columns(acts.columns, freq="W").on_frame(acts)
    assert counts["rep"].tolist() == ["7"] and counts["n"].tolist() == [2]


def test_categorical_and_arrow_string_columns_give_the_same_counts(messy):
    acts = messy[0]
    red = Reduction.for_columns(acts.columns, freq="W")
    expected = red.on_frame(acts)
    for dtype in ("category", "string[pyarrow]", "str"):
        typed = acts.astype({"rep": dtype, "activity_type": dtype, "outcome": dtype})
        pd.testing.assert_frame_equal(red.on_frame(typed), expected, check_exact=True)


def test_log_with_no_rows_gives_the_deals_only_panel_on_every_path(messy, tmp_path):
    acts, deals, roster = messy
    empty = acts.iloc[:0]
    expected, _ = panel_and_warnings(sg.build_panel, empty, deals, roster=roster)
    assert expected[expected.attrs["activity_columns"]].size == 0 and expected["deals_created"].sum() > 0
    empty.to_parquet(tmp_path / "empty.parquet")
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "empty.parquet", deals, roster=roster, progress=False)
    assert_same_panel(got, expected)
    got, _ = panel_and_warnings(panel_from_dask, dd.from_pandas(empty, npartitions=1), deals, roster=roster,
                                progress=False)  # fmt: skip
    assert_same_panel(got, expected)


@pytest.mark.parametrize("freq", FREQS)
def test_sql_truncation_equals_numpy_truncation(freq, tmp_path):
    """DuckDB's date_trunc and salesgoals.panel.period_start agree, 1900-2100, on boundaries too."""
    rng = np.random.default_rng(11)
    seconds = rng.integers(pd.Timestamp("1900-01-01").value // 10**9, pd.Timestamp("2100-01-01").value // 10**9, 5_000)
    ts = pd.Series(pd.to_datetime(seconds, unit="s"))
    mondays = pd.date_range("1969-12-01", periods=20, freq="W-MON")
    ts = pd.concat([ts, pd.Series(mondays), pd.Series(mondays - pd.Timedelta(microseconds=1))], ignore_index=True)
    acts = pd.DataFrame({"rep": "r", "timestamp": ts, "activity_type": "call"})
    acts.to_parquet(tmp_path / "a.parquet")
    import duckdb

    sql = Reduction.for_columns(acts.columns, freq=freq).sql(f"read_parquet('{tmp_path / 'a.parquet'}')")
    sql = sql.replace("GROUP BY ALL", "GROUP BY ALL ORDER BY period_start")
    got = duckdb.sql(sql).df()["period_start"].to_numpy(dtype="datetime64[D]")
    expected = np.unique(sg.panel.period_start(ts, freq))
    np.testing.assert_array_equal(got, expected)


# ---------------------------------------------------- the panel, three ways
@pytest.mark.parametrize("freq", FREQS)
def test_three_paths_agree_on_messy_input(messy, freq, tmp_path):
    acts, deals, roster = messy
    expected, expected_warn = panel_and_warnings(sg.build_panel, acts, deals, freq=freq, roster=roster)
    ex = expected.attrs["excluded"]
    # the mess is counted, not dropped: every kind of trouble shows up in the tally
    for key in ("activities_without_rep", "activities_without_date", "activities_without_type",
                "reps_not_in_roster", "activities_outside_rep_span"):  # fmt: skip
        assert ex.get(key, 0) > 0, key
    counted = expected[expected.attrs["activity_columns"]].to_numpy().sum()
    assert counted + sum(v for k, v in ex.items() if k.startswith("activities_")) == len(acts)
    assert "webinar" in expected.attrs["activity_columns"] and len(expected_warn) == 1

    folder = write_parquet_parts(acts, tmp_path / "parquet")
    got, got_warn = panel_and_warnings(panel_from_parquet, folder, deals, freq=freq, roster=roster, progress=False)
    assert_same_panel(got, expected)
    assert got_warn == expected_warn

    acts.to_csv(tmp_path / "acts.csv", index=False)
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "acts.csv", deals, freq=freq, roster=roster,
                                progress=False)  # fmt: skip
    assert_same_panel(got, expected)

    got, got_warn = panel_and_warnings(sg.build_panel, as_dask(acts), deals, freq=freq, roster=roster)
    assert_same_panel(got, expected)
    assert got_warn == expected_warn


def test_three_paths_agree_on_canonical_sample(canonical, tmp_path):
    acts, deals, roster = canonical
    expected, expected_warn = panel_and_warnings(sg.build_panel, acts, deals, roster=roster)
    assert len(expected) > 1_000 and expected["call"].sum() > 0
    # DuckDB straight from the bundled gzip CSV, and from Parquet
    got, got_warn = panel_and_warnings(panel_from_parquet, SAMPLES / "canonical_activities.csv.gz", deals,
                                       roster=roster, progress=False)  # fmt: skip
    assert_same_panel(got, expected)
    assert got_warn == expected_warn
    got, _ = panel_and_warnings(panel_from_parquet, write_parquet_parts(acts, tmp_path), deals, roster=roster,
                                progress=False)  # fmt: skip
    assert_same_panel(got, expected)
    got, _ = panel_and_warnings(panel_from_dask, as_dask(acts, 6), deals, roster=roster, progress=False)
    assert_same_panel(got, expected)


def test_paths_agree_on_simulator_with_window(sim, tmp_path):
    kw = dict(freq="Q", roster=sim.roster, start=sim.start + pd.Timedelta(weeks=10), end=sim.end)
    expected, _ = panel_and_warnings(sg.build_panel, sim.activities, sim.deals, **kw)
    folder = write_parquet_parts(sim.activities, tmp_path, n_parts=3)
    got, _ = panel_and_warnings(panel_from_parquet, f"{folder}/**/*.parquet", sim.deals, progress=False, **kw)
    assert_same_panel(got, expected)
    got, _ = panel_and_warnings(panel_from_dask, as_dask(sim.activities), sim.deals, progress=False, **kw)
    assert_same_panel(got, expected)


def test_time_zone_aware_timestamps_count_at_local_wall_time(messy, tmp_path):
    acts, deals, _ = messy
    local = acts[acts["timestamp"] > pd.Timestamp("1990-01-01")]
    local = local.assign(timestamp=local["timestamp"].dt.tz_localize("America/New_York", nonexistent="shift_forward",
                                                                      ambiguous="NaT"))  # fmt: skip
    expected, _ = panel_and_warnings(sg.build_panel, local, deals)
    local.to_parquet(tmp_path / "a.parquet")
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "a.parquet", deals, progress=False)
    assert_same_panel(got, expected)
    got, _ = panel_and_warnings(panel_from_dask, as_dask(local), deals, progress=False)
    assert_same_panel(got, expected)


@pytest.mark.cluster
def test_dask_cluster_equals_pandas(messy, canonical):
    """A real dask.distributed LocalCluster (2 worker processes) gives the pandas panel exactly."""
    import distributed
    acts, deals, roster = messy
    c_acts, c_deals, c_roster = canonical
    expected = [panel_and_warnings(sg.build_panel, acts, deals, roster=roster, freq="M"),
                panel_and_warnings(sg.build_panel, c_acts, c_deals, roster=c_roster)]  # fmt: skip
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50
    ) as cluster, distributed.Client(cluster) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = [
            panel_and_warnings(panel_from_dask, as_dask(acts, 6), deals, roster=roster, freq="M", progress=False),
            panel_and_warnings(panel_from_dask, as_dask(c_acts, 8), c_deals, roster=c_roster, progress=True),
        ]
    for (g, g_warn), (e, e_warn) in zip(got, expected):
        assert_same_panel(g, e)
        assert g_warn == e_warn


def test_counts_from_a_warehouse_query_give_the_same_panel(messy):
    """counts_sql run elsewhere (here DuckDB over a pandas frame) + panel_from_counts == build_panel."""
    import duckdb

    acts, deals, roster = messy
    expected, expected_warn = panel_and_warnings(sg.build_panel, acts, deals, roster=roster, freq="M")
    counts = duckdb.sql(counts_sql("acts", freq="M")).df()
    got, got_warn = panel_and_warnings(panel_from_counts, counts, deals, roster=roster, freq="M")
    assert_same_panel(got, expected)
    assert got_warn == expected_warn
    with pytest.raises(SchemaError, match="not the start of a 'W' period"):
        panel_from_counts(counts, freq="W")
    with pytest.raises(SchemaError, match="not every quality column"):
        panel_from_counts(counts.drop(columns="meeting_held"), freq="M")
    with pytest.raises(SchemaError, match="no column.*'n'"):
        panel_from_counts(counts.drop(columns="n"), freq="M")


# ------------------------------------------------------------- files, errors
def test_columns_mapping_and_extra_columns(messy, tmp_path):
    acts, deals, roster = messy
    renamed = acts.rename(columns={"rep": "Owner", "timestamp": "created_at", "activity_type": "kind"})
    renamed["noise"] = 1.0
    renamed.to_parquet(tmp_path / "a.parquet")
    expected, _ = panel_and_warnings(sg.build_panel, acts, deals)
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "a.parquet", deals, progress=False,
                                columns={"rep": "Owner", "timestamp": "created_at", "activity_type": "kind"})  # fmt: skip
    assert_same_panel(got, expected)


def test_without_outcome_column_there_are_no_quality_columns(messy, tmp_path):
    acts = messy[0].drop(columns="outcome")
    acts.to_parquet(tmp_path / "a.parquet")
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "a.parquet", progress=False)
    expected, _ = panel_and_warnings(sg.build_panel, acts)
    assert_same_panel(got, expected)
    assert got.attrs["quality_columns"] == []


def test_small_memory_limit_gives_the_same_panel(tmp_path):
    rng = np.random.default_rng(5)
    n = 400_000
    acts = pd.DataFrame(
        {
            "rep": np.char.add("rep", rng.integers(0, 3_000, n).astype(str)).astype(object),
            "timestamp": pd.Timestamp("2023-01-02") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "activity_type": rng.choice(np.array(["call", "email", "meeting"], dtype=object), n),
        }
    )
    acts.to_parquet(tmp_path / "a.parquet")
    spill = tmp_path / "spill"
    got = panel_from_parquet(tmp_path / "a.parquet", memory_limit="40MB", threads=1, temp_directory=spill,
                             progress=False)  # fmt: skip
    assert_same_panel(got, sg.build_panel(acts))


def test_runs_on_a_given_duckdb_connection_without_changing_its_settings(messy, tmp_path):
    import duckdb

    acts, deals, _ = messy
    acts.to_parquet(tmp_path / "a.parquet")
    con = duckdb.connect()
    con.execute("SET memory_limit = '1GB'")
    got, _ = panel_and_warnings(panel_from_parquet, tmp_path / "a.parquet", deals, connection=con, progress=False)
    assert_same_panel(got, panel_and_warnings(sg.build_panel, acts, deals)[0])
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0].startswith(("953", "1.0"))
    con.close()


def test_progress_bar_can_be_turned_off(messy, tmp_path, capsys):
    acts = messy[0]
    folder = write_parquet_parts(acts, tmp_path, n_parts=2)
    with ignoring(DataQualityWarning, PANEL_EXCLUDES):  # the messy export's activities without rep, date, type
        panel_from_parquet(folder, progress=False)
        panel_from_dask(as_dask(acts), progress=False)
        assert capsys.readouterr().err == ""
        panel_from_parquet(folder, progress=True)
        err = capsys.readouterr().err
        assert "aggregating 2 file(s)" in err and "100%" in err
        panel_from_dask(as_dask(acts), progress=True)
        assert "tasks" in capsys.readouterr().err


def test_file_errors(messy, tmp_path):
    acts = messy[0]
    with pytest.raises(FileNotFoundError, match="no file matches"):
        panel_from_parquet(tmp_path / "nothing-*.parquet")
    with pytest.raises(FileNotFoundError, match="no such file"):
        panel_from_parquet(tmp_path / "missing.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no Parquet or CSV file in directory"):
        panel_from_parquet(tmp_path / "empty")
    acts.to_parquet(tmp_path / "a.parquet")
    acts.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(FileFormatError, match="mixes Parquet and CSV"):
        panel_from_parquet([tmp_path / "a.parquet", tmp_path / "b.csv"])
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(FileFormatError, match="cannot tell the format.*file_format="):
        panel_from_parquet(tmp_path / "c.json")
    acts.drop(columns="activity_type").to_parquet(tmp_path / "d.parquet")
    with pytest.raises(SchemaError, match="no column.*'activity_type'.*found rep, timestamp, outcome.*columns="):
        panel_from_parquet(tmp_path / "d.parquet", progress=False)
    with pytest.raises(SchemaError, match="no column 'owner'"):
        panel_from_parquet(tmp_path / "a.parquet", columns={"rep": "owner"}, progress=False)
    with pytest.raises(ValueError, match="keys must be among"):
        panel_from_parquet(tmp_path / "a.parquet", columns={"deal": "x"}, progress=False)
    bad = acts.assign(timestamp=acts["timestamp"].astype(str))
    bad.loc[3, "timestamp"] = "next tuesday"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DateParseError, match="'timestamp' of .*bad.csv.*not a date-time"):
        panel_from_parquet(tmp_path / "bad.csv", progress=False)
    with pytest.raises(TypeError, match="must be a dask DataFrame"):
        panel_from_dask(acts)
    with pytest.raises(SchemaError, match="no column.*'timestamp'"):
        sg.build_panel(as_dask(acts.drop(columns="timestamp")))
    with pytest.raises(ValueError, match="freq must be one of"):
        panel_from_parquet(tmp_path / "a.parquet", freq="D")


def test_cli_panel_files(messy, tmp_path, capsys):
    from salesgoals.cli import main

    acts, deals, roster = messy
    renamed = acts.rename(columns={"rep": "owner"})
    folder = write_parquet_parts(renamed, tmp_path / "lake")
    deals.to_csv(tmp_path / "deals.csv", index=False)
    out = tmp_path / "panel.csv"
    # expected: the messy export's incomplete rows are left out, the same way on both paths
    with ignoring(DataQualityWarning, PANEL_EXCLUDES, WON_WITHOUT_CLOSE):
        code = main(["panel-files", str(folder), "-d", str(tmp_path / "deals.csv"), "--column", "rep=owner",
                     "--freq", "M", "--no-progress", "-o", str(out)])  # fmt: skip
        expected = sg.build_panel(acts, sg.load_deals(tmp_path / "deals.csv"), freq="M")
    assert code == 0
    written = pd.read_csv(out)
    assert len(written) == len(expected)
    assert written["call"].sum() == expected["call"].sum()
    assert main(["panel-files", str(tmp_path / "none-*.parquet")]) == 2
    assert "salesgoals: error: panel_from_parquet: no file matches" in capsys.readouterr().err
    assert main(["panel-files", str(folder), "--column", "rep"]) == 2
    assert "CANONICAL=SOURCE" in capsys.readouterr().err
