"""Tests of salesgoals.forecasting: honesty (coverage, MASE), as-of leakage, contracts and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import InsufficientDataError, SchemaError, UnreliableEstimateWarning
from salesgoals.forecasting import METHODS, backtest_forecast, forecast

#: Interval coverage must be within this many points of nominal (the issue's bar).  With 26 weekly
#: origins x 5 teams x 4 horizons (520 forecasts, strongly correlated within an origin) the
#: sampling s.e. of an 80 % coverage is about 0.04, so 0.10 is ~2.5 s.e.
COVERAGE_TOL = 0.10
#: The pipeline method sees the open deals, which decide most of the next weeks' revenue; on the
#: simulator it beats the seasonal naive benchmark by a wide margin (measured 0.57-0.67).
PIPELINE_REL_MAE_MAX = 0.85

FAST = ["seasonal_naive", "ets", "pipeline", "combination"]


@pytest.fixture(scope="module")
def small():
    sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=70, seed=3)
    panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    return sim, panel


@pytest.fixture(scope="module")
def bt_week(sim, sim_panel):
    return backtest_forecast(sim_panel, deals=sim.deals, level="team", horizon=4, methods=FAST)


def test_backtest_weekly_team_coverage_within_tolerance(bt_week):
    t = bt_week.table.set_index("method")
    assert t["n_origins"].min() >= 20
    for method, row in t.iterrows():
        assert abs(row["coverage"] - 0.8) <= COVERAGE_TOL, (method, row["coverage"])


def test_backtest_reports_mase_and_pipeline_beats_naive(bt_week):
    t = bt_week.table.set_index("method")
    assert np.isfinite(t[["mae", "mase", "relative_mae", "bias"]].to_numpy()).all()
    assert t.loc["seasonal_naive", "relative_mae"] == pytest.approx(1.0)
    assert t.loc["pipeline", "relative_mae"] < PIPELINE_REL_MAE_MAX
    assert t.loc["pipeline", "mase"] < t.loc["seasonal_naive", "mase"]


# Measured on other seeds (40 reps x 104 weeks, team level): weekly coverage 0.75-0.88 for seeds 1-3;
# monthly 0.75-0.87 for seeds 1 and 3 but 0.67-0.74 for seed 2: 12 monthly origins x 5 teams that share
# one season are few independent errors, so a monthly coverage estimate is itself +-0.08 or so.
def test_backtest_monthly_team_and_weekly_rep_coverage(sim):
    for level, freq in (("team", "M"), ("rep", "W")):
        panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq=freq)
        bt = backtest_forecast(
            panel,
            deals=sim.deals,
            level=level,
            horizon=2 if freq == "W" else 3,
            methods=["seasonal_naive", "pipeline"],
            n_origins=12,
        )
        cov = bt.table.set_index("method")["coverage"]
        assert (cov - 0.8).abs().max() <= COVERAGE_TOL, (level, freq, cov.to_dict())


def test_backtest_errors_frame_matches_table(bt_week):
    e = bt_week.errors
    assert {
        "origin",
        "group",
        "period",
        "horizon",
        "method",
        "forecast",
        "lower",
        "upper",
        "actual",
        "covered",
    } <= set(e.columns)
    cov = e.groupby("method")["covered"].mean()
    np.testing.assert_allclose(
        cov.reindex(bt_week.table["method"]).to_numpy(), bt_week.table["coverage"].to_numpy()
    )
    assert (e["period"] > e["origin"]).all()


def test_forecast_contract(sim, sim_panel):
    res = forecast(sim_panel, deals=sim.deals, level="team", horizon=3, method=["ets", "pipeline"])
    t = res.table
    assert list(t.columns) == [
        "level",
        "group",
        "period",
        "horizon",
        "method",
        "forecast",
        "lower",
        "upper",
        "interval",
        "as_of",
        "relative_width",
        "flags",
    ]
    assert len(t) == sim.roster["team"].nunique() * 3 * 2
    num = t[["forecast", "lower", "upper"]].to_numpy()
    assert np.isfinite(num).all() and (num >= 0).all()
    assert (t["lower"] <= t["forecast"]).all() and (t["forecast"] <= t["upper"]).all()
    assert (t["period"] > sim_panel["period"].max()).all()
    assert "ForecastResult" in repr(res)
    assert "Forecast" in str(res.summary()) and "<table" in res.summary()._repr_html_()


def test_auto_picks_lowest_backtest_error_and_says_so(small):
    sim, panel = small
    res = forecast(panel, deals=sim.deals, level="total", method="auto")
    sel = res.selection.dropna(subset=["relative_mae"])
    best = sel.sort_values("relative_mae", kind="mergesort")["method"].iloc[0]
    assert res.method == best
    assert res.table["method"].unique().tolist() == [best]
    assert any("picked" in n and best in n for n in res.notes)
    assert "picked" in str(res.summary())


def test_forecast_uses_only_data_known_at_as_of(small):
    sim, panel = small
    as_of = pd.Timestamp("2024-11-10")  # a Sunday: end of a week
    kw = dict(
        level="team",
        horizon=4,
        as_of=as_of,
        method=["seasonal_naive", "ets", "pipeline", "activity", "combination"],
    )
    base = forecast(panel, deals=sim.deals, **kw).table
    # change the future: fates and close dates of deals closing later, deals created later
    # (amounts, and half of them dropped), later activity.  The amount of a deal open at
    # as_of is taken as known then: exports carry only the latest amount.
    deals = sim.deals.copy()
    later = deals["closed"] > as_of
    deals.loc[later & deals["status"].eq("lost"), "status"] = "won"
    deals.loc[later, "closed"] += pd.Timedelta(days=7)
    new = deals["created"] > as_of
    deals.loc[new, "amount"] *= 3
    deals = deals.loc[~(new & (np.arange(len(deals)) % 2 == 0))]
    acts = sim.activities.loc[
        ~((sim.activities["timestamp"] > as_of) & (np.arange(len(sim.activities)) % 3 == 0))
    ]
    panel2 = sg.build_panel(acts, deals, roster=sim.roster, freq="W")
    again = forecast(panel2, deals=deals, **kw).table
    pd.testing.assert_frame_equal(base, again)
    # ... while the full-data forecast at the later date does differ
    assert (
        not forecast(panel2, deals=deals, level="team", horizon=4, method="pipeline")
        .table["forecast"]
        .equals(base.loc[base["method"] == "pipeline", "forecast"].reset_index(drop=True))
    )


def test_forecast_from_deals_only_matches_monthly_grain(small):
    sim, _ = small
    with pytest.warns(UnreliableEstimateWarning, match="past forecast errors"):
        res = forecast(sim.deals, roster=sim.roster, level="team", method="pipeline", horizon=2)
    assert res.freq == "M" and res.table["period"].iloc[0].freqstr == "M"
    assert any("rough" in n for n in res.notes)
    assert set(res.table["group"]) <= set(sim.roster["team"])


def test_deterministic(small):
    sim, panel = small
    a = forecast(panel, deals=sim.deals, level="team", method="all").table
    b = forecast(panel, deals=sim.deals, level="team", method="all").table
    pd.testing.assert_frame_equal(a, b)
    assert set(a["method"]) == set(
        METHODS
    )  # activity needs salesgoals.drivers: part of the package


def test_plots(small):
    import matplotlib.pyplot as plt

    sim, panel = small
    res = forecast(panel, deals=sim.deals, level="total", method=["ets", "pipeline"])
    ax = res.plot()
    assert len(ax.lines) == 4 and len(ax.collections) == 2  # 2 forecasts, actual, as-of marker
    bt = backtest_forecast(
        panel, deals=sim.deals, level="total", methods=["seasonal_naive", "pipeline"], n_origins=6
    )
    ax = bt.plot()
    assert len(ax.patches) == 4
    assert "Forecast backtest" in str(bt.summary())
    plt.close("all")


# ------------------------------------------------------------------ errors
def test_errors(small):
    sim, panel = small
    with pytest.raises(ValueError, match="target must be one of"):
        forecast(panel, deals=sim.deals, target="revenue")
    with pytest.raises(ValueError, match="method must be one of"):
        forecast(panel, deals=sim.deals, method="prophet")
    with pytest.raises(SchemaError, match="level='segment'"):
        forecast(panel, deals=sim.deals, level="segment")
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        forecast(panel, deals=sim.deals, horizon=0)
    with pytest.raises(ValueError, match="interval must be a coverage"):
        forecast(panel, deals=sim.deals, interval=80)
    with pytest.raises(ValueError, match="rebuild the panel"):
        forecast(panel, deals=sim.deals, freq="M")
    with pytest.raises(TypeError, match="must be a panel"):
        forecast([1, 2, 3])
    with pytest.raises(SchemaError, match="neither a panel"):
        forecast(sim.deals.drop(columns=["closed"]))
    with pytest.raises(SchemaError, match="deals= is missing 'amount'"):
        forecast(panel, deals=sim.deals.drop(columns=["amount"]))
    with pytest.raises(ValueError, match="'pipeline' is not available"):
        forecast(panel, method="pipeline")
    with pytest.raises(SchemaError, match="pass roster="):
        forecast(sim.deals, level="team")
    with pytest.raises(InsufficientDataError, match="periods of history"):
        forecast(panel, deals=sim.deals, as_of="2024-01-20")
    with pytest.raises(InsufficientDataError, match="too few for a backtest"):
        backtest_forecast(panel, deals=sim.deals, as_of="2024-03-20", horizon=4)


# ------------------------------------------------------------------ CLI
def test_cli_forecast_writes_csv_and_reports_errors(small, tmp_path, capsys):
    from salesgoals.cli import main

    sim, _ = small
    a, d, r = tmp_path / "a.csv", tmp_path / "d.csv", tmp_path / "r.csv"
    sim.activities.to_csv(a, index=False)
    sim.deals.to_csv(d, index=False)
    sim.roster.to_csv(r, index=False)
    out = tmp_path / "fc.csv"
    code = main(
        [
            "forecast",
            "-a",
            str(a),
            "-d",
            str(d),
            "-r",
            str(r),
            "--freq",
            "W",
            "--level",
            "team",
            "--horizon",
            "2",
            "--method",
            "pipeline",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    fc = pd.read_csv(out)
    assert list(fc.columns[:6]) == ["level", "group", "period", "horizon", "method", "forecast"]
    assert len(fc) == 2 * sim.roster["team"].nunique()
    assert main(["forecast", "-a", str(a), "-d", str(d), "--level", "team"]) == 2
    assert "level='team'" in capsys.readouterr().err
    bt_out = tmp_path / "bt.csv"
    assert (
        main(
            [
                "forecast",
                "-a",
                str(a),
                "-d",
                str(d),
                "--level",
                "total",
                "--freq",
                "W",
                "--horizon",
                "2",
                "--method",
                "pipeline",
                "--backtest",
                "-o",
                str(bt_out),
            ]
        )
        == 0
    )
    assert {"mase", "coverage"} <= set(pd.read_csv(bt_out).columns)


def test_model_intervals_contract_and_seed(small):
    sim, panel = small
    kw = dict(
        deals=sim.deals,
        level="team",
        horizon=3,
        method=["seasonal_naive", "ets", "pipeline"],
        intervals="model",
    )
    a = forecast(panel, seed=1, **kw)
    t = a.table
    num = t[["forecast", "lower", "upper"]].to_numpy()
    assert np.isfinite(num).all() and (num >= 0).all()
    assert (t["lower"] <= t["forecast"]).all() and (t["forecast"] <= t["upper"]).all()
    assert "model-based" in str(a.summary())
    pd.testing.assert_frame_equal(t, forecast(panel, seed=1, **kw).table)
    pipe = lambda r: r.table.loc[r.table["method"] == "pipeline", ["lower", "upper"]].to_numpy()  # noqa: E731
    assert not np.array_equal(
        pipe(a), pipe(forecast(panel, seed=2, **kw))
    )  # the Monte Carlo is seeded
    with pytest.raises(ValueError, match="intervals must be one of"):
        forecast(panel, deals=sim.deals, intervals="bootstrap")


def test_auto_on_a_deals_only_panel_uses_methods_without_activities(small):
    from salesgoals.panel import activity_columns

    sim, panel = small
    drop = activity_columns(panel) + [c for c in ("call_connected", "meeting_held") if c in panel.columns]
    p2 = panel.drop(columns=drop)
    p2.attrs = {k: v for k, v in panel.attrs.items() if k not in ("activity_columns", "quality_columns")}
    res = forecast(p2, level="total", method="auto")
    assert res.method != "activity" and "activity" not in set(res.selection["method"])
    assert any("no activity columns" in n for n in res.notes)


def test_auto_beats_the_best_benchmark_or_picks_it(small):
    sim, panel = small
    res = forecast(panel, deals=sim.deals, level="team", method="auto")
    sel = res.selection.set_index("method")
    assert {"seasonal_naive", "trailing_mean", "drift"} <= set(sel.index)
    best = min(("seasonal_naive", "trailing_mean", "drift"), key=lambda k: sel.loc[k, "mae"])
    assert sel.loc[best, "vs_best_benchmark"] == pytest.approx(1.0)
    if res.method in ("seasonal_naive", "trailing_mean", "drift"):
        assert res.method == best and any("best simple benchmark" in n for n in res.notes)
    else:
        assert sel.loc[res.method, "vs_best_benchmark"] < 1.0
        assert any(f"{sel.loc[res.method, 'vs_best_benchmark']:.2f}x" in n and best in n for n in res.notes)


def test_auto_at_least_as_accurate_as_statsforecast_on_the_simulator(sim, sim_panel):
    """The library's auto next to statsforecast's AutoETS / AutoTheta on the same 26 origins.

    The stored-figures half for the newest-versions run, where statsforecast (the ``compare`` extra)
    is not installed: its figures for this simulation (seed 7) come from
    tests/reference/forecast_vs_statsforecast.py, stored in the CSV beside it; the library's side is
    recomputed here, so a regression in auto fails this test.  tests/test_vs_statsforecast.py runs
    statsforecast itself in the lowest-versions leg.
    """
    from pathlib import Path

    ref = pd.read_csv(Path(__file__).parent / "reference" / "forecast_vs_statsforecast.csv")
    ref = ref[ref["series"] == "simulator_seed7_W_team"].set_index("method")
    bt = backtest_forecast(sim_panel, deals=sim.deals, level="team", horizon=4,
                           methods=["auto", "seasonal_naive", "trailing_mean", "drift"])
    t = bt.table.set_index("method")
    assert t.loc["auto", "n_forecasts"] == ref.loc["AutoETS", "n_forecasts"]
    # the benchmarks are the reference's own numbers: the same forecasts, errors and scales
    np.testing.assert_allclose(t.loc[["trailing_mean", "drift"], "mase"], ref.loc[["trailing_mean", "drift"], "mase"],
                               atol=1e-3)
    assert t.loc["auto", "mase"] <= min(ref.loc["AutoETS", "mase"], ref.loc["AutoTheta", "mase"])
    assert t.loc["auto", "vs_best_benchmark"] < 1.0
    assert abs(t.loc["auto", "coverage"] - 0.8) <= COVERAGE_TOL


def test_cli_forecast_ranges_scale_matches_the_library(small, tmp_path, capsys):
    """--ranges reaches forecast and backtest_forecast: the CLI's bounds are the library's on that scale."""
    from salesgoals.cli import main

    sim, _ = small
    a, d, r = tmp_path / "a.csv", tmp_path / "d.csv", tmp_path / "r.csv"
    sim.activities.to_csv(a, index=False)
    sim.deals.to_csv(d, index=False)
    sim.roster.to_csv(r, index=False)
    base = ["forecast", "-a", str(a), "-d", str(d), "-r", str(r), "--freq", "W", "--level", "team",
            "--horizon", "2", "--method", "trailing_mean"]  # fmt: skip
    out = {}
    for scale in ("additive", "log"):
        out[scale] = tmp_path / f"fc_{scale}.csv"
        assert main([*base, "--ranges", scale, "-o", str(out[scale])]) == 0
    capsys.readouterr()
    add, log = (pd.read_csv(out[s]) for s in ("additive", "log"))
    np.testing.assert_array_equal(add["forecast"], log["forecast"])  # the point does not depend on the scale
    assert not np.allclose(add["upper"], log["upper"])
    panel = sg.build_panel(sg.load_activities(a), sg.load_deals(d), roster=sg.load_roster(r), freq="W")
    lib = forecast(panel, deals=sg.load_deals(d), level="team", horizon=2, method="trailing_mean", ranges="log")
    assert lib.ranges == {"trailing_mean": "log"}
    np.testing.assert_allclose(log[["forecast", "lower", "upper"]], lib.table[["forecast", "lower", "upper"]],
                               rtol=1e-9)  # fmt: skip
    bt = tmp_path / "bt.csv"
    assert main([*base, "--target", "deals_won", "--ranges", "count", "--backtest", "-o", str(bt)]) == 0
    assert set(pd.read_csv(bt)["ranges"]) == {"count"}
    # count ranges need whole deals: one line, exit 2, saying what to use instead
    capsys.readouterr()
    assert main([*base, "--ranges", "count"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ranges='count' needs whole deals" in err[0] and "deals_won" in err[0]
