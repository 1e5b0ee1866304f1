"""compare_performers: contract, the funnel identity, leaks, errors; and the 'drivers' CLI subcommand."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.errors import InsufficientDataError, SchemaError
from salesgoals.drivers.performers import FUNNEL_STAGES

ACTS = ["call", "email", "meeting", "linkedin"]


@pytest.fixture(scope="module")
def comp(sim, sim_panel):
    return sg.compare_performers(sim_panel, sim.deals)


def test_reps_table(comp, sim_panel):
    reps = comp.reps
    assert len(reps) == sim_panel["rep"].nunique() and not reps["rep"].duplicated().any()
    assert (reps["group"] == "top").sum() == round(0.25 * len(reps))
    # the top group holds exactly the highest performers
    assert reps.loc[reps["group"] == "top", "performance"].min() >= reps.loc[reps["group"] == "rest", "performance"].max()
    shares = reps[[f"{a}_share" for a in ACTS]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    for col in ("connect_rate", "show_rate", "win_rate", "conversation_rate"):
        assert reps[col].between(0, 1).all(), col
    assert (reps["cycle_days"] > 0).all() and reps["n_cycle"].dtype == np.int64
    assert np.isfinite(reps.select_dtypes("number").to_numpy(float)).all()


def test_true_quality_differences_are_found(comp, sim):
    """In the simulator skilled reps connect more, show more, win more and sell bigger deals."""
    cmp = comp.compare.set_index("metric")
    for metric in ("connect_rate", "show_rate", "win_rate", "deal_size", "activities_per_period"):
        assert cmp.loc[metric, "ratio"] > 1.0, metric
    # shrunk rates track the true per-rep rates
    merged = comp.reps.merge(sim.reps, on="rep", suffixes=("", "_true"))
    assert np.corrcoef(merged["connect_rate"], merged["connect_rate_true"])[0, 1] > 0.9
    assert np.corrcoef(merged["win_rate"], merged["win_rate_true"])[0, 1] > 0.7


def test_compare_table(comp):
    cmp = comp.compare
    assert cmp.columns.tolist() == ["metric", "stage", "top", "rest", "ratio", "difference", "higher_is_better",
                                    "p_value"]  # fmt: skip
    assert set(cmp["stage"]) == {"activity", "mix", "quality", "funnel", "speed"}
    assert cmp["p_value"].between(0, 1).all()
    np.testing.assert_allclose(cmp["difference"], cmp["top"] - cmp["rest"])
    assert not cmp.set_index("metric").loc["cycle_days", "higher_is_better"]


def test_funnel_chain_and_leaks(comp):
    st = comp.stages
    assert set(st["stage"]) == set(FUNNEL_STAGES)
    assert len(st) == len(comp.reps) * len(FUNNEL_STAGES)
    np.testing.assert_allclose(st["gap"], st["rep_value"] / st["team_value"] - 1)
    assert (st["upside_per_period"] >= 0).all()
    assert (st.loc[st["gap"] >= 0, "upside_per_period"] == 0).all()
    # upside of closing a gap = chain revenue x (team / rep - 1): check one rep by hand
    rep = comp.leaks["rep"].iloc[0]
    row = comp.reps.set_index("rep").loc[rep]
    chain = np.prod([row[s] for s in FUNNEL_STAGES])
    leak = comp.leaks.iloc[0]
    assert leak["upside_per_period"] == pytest.approx(chain * (leak["team_value"] / leak["rep_value"] - 1))
    # the leak is each rep's most negative gap
    worst = st.loc[st.groupby("rep")["gap"].idxmin()].set_index("rep")["stage"]
    leaks = comp.leaks.set_index("rep")
    below = leaks["leak_stage"] != "none"
    assert (leaks.loc[below, "leak_stage"] == worst[leaks.index[below]]).all()
    assert comp.leaks["upside_per_period"].is_monotonic_decreasing


def test_leak_found_where_planted(sim_panel):
    """Halve one rep's deals won (its losses rise): its leak must be the win rate."""
    panel = sim_panel.copy()
    rep = sorted(panel["rep"].unique())[3]
    m = panel["rep"] == rep
    moved = panel.loc[m, "deals_won"] // 2
    panel.loc[m, "deals_lost"] += panel.loc[m, "deals_won"] - moved
    panel.loc[m, "won_revenue"] *= np.where(panel.loc[m, "deals_won"] > 0, moved / panel.loc[m, "deals_won"].clip(1), 0)
    panel.loc[m, "deals_won"] = moved
    # and give it plenty of activity and deals so nothing else is below the team
    for col in [*ACTS, "call_connected", "meeting_held"]:
        panel.loc[m, col] *= 2
    panel.loc[m, "deals_created"] *= 4
    comp = sg.compare_performers(panel)
    assert comp.leaks.set_index("rep").loc[rep, "leak_stage"] == "win_rate"


def test_without_quality_columns_and_deals(sim_panel):
    panel = sim_panel.drop(columns=["call_connected", "meeting_held"])
    comp = sg.compare_performers(panel, top=0.5)
    assert (comp.reps["conversation_rate"] == 1.0).all()
    assert "cycle_days" not in comp.reps.columns and "connect_rate" not in comp.reps.columns
    assert (comp.reps["group"] == "top").sum() == round(0.5 * len(comp.reps))


def test_summary_repr_plot(comp):
    text = str(comp.summary())
    assert "Top performers vs the rest" in text and "Most common leak" in text
    assert "<table" in comp.summary()._repr_html_()
    assert repr(comp).startswith("PerformerComparison(by='won_revenue'")
    ax = comp.plot()
    assert len(ax.patches) == len(comp.compare)
    plt.close("all")
    ax = comp.plot(kind="leaks")
    assert len(ax.patches) == min(15, len(comp.leaks))
    plt.close("all")
    with pytest.raises(ValueError, match="kind must be"):
        comp.plot(kind="pie")


def test_deterministic(sim, sim_panel):
    a = sg.compare_performers(sim_panel, sim.deals)
    b = sg.compare_performers(sim_panel, sim.deals)
    pd.testing.assert_frame_equal(a.leaks, b.leaks, check_exact=True)
    pd.testing.assert_frame_equal(a.compare, b.compare, check_exact=True)


def test_errors(sim_panel, sim):
    with pytest.raises(TypeError, match="DataFrame"):
        sg.compare_performers("panel.csv")
    with pytest.raises(ValueError, match="top must be between"):
        sg.compare_performers(sim_panel, top=1.5)
    with pytest.raises(SchemaError, match="no column.*'won_revenue'"):
        sg.compare_performers(sim_panel.drop(columns="won_revenue"))
    with pytest.raises(SchemaError, match="deals have no column.*'status'"):
        sg.compare_performers(sim_panel, sim.deals.drop(columns="status"))
    one = sim_panel[sim_panel["rep"] == sim_panel["rep"].iloc[0]]
    with pytest.raises(InsufficientDataError, match="need two or more"):
        sg.compare_performers(one)


# ---------------------------------------------------------------- CLI
@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    sim = sg.simulate.make_crm_data(n_reps=30, n_weeks=60, seed=12)
    d = tmp_path_factory.mktemp("drivers_cli")
    acts, deals, roster = d / "activities.csv", d / "deals.csv", d / "roster.csv"
    sim.activities.to_csv(acts, index=False)
    sim.deals.to_csv(deals, index=False)
    sim.roster.to_csv(roster, index=False)
    return acts, deals, roster


def test_cli_drivers_prints_summary_and_writes_effects(exports, tmp_path, capsys):
    acts, deals, roster = exports
    out, per_rep = tmp_path / "effects.csv", tmp_path / "rep_effects.csv"
    code = main(["drivers", "-a", str(acts), "-d", str(deals), "-r", str(roster), "--outcome", "won_revenue",
                 "--no-diagnostics", "-o", str(out), "--rep-effects", str(per_rep)])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "What drives won_revenue" in err
    eff = pd.read_csv(out)
    assert eff.columns[:6].tolist() == ["activity", "effect", "std_error", "ci_low", "ci_high", "p_value"]
    assert sorted(eff["activity"]) == sorted(ACTS)
    assert len(pd.read_csv(per_rep)) == 30 * len(ACTS)


def test_cli_drivers_performers(exports, capsys):
    acts, deals, _ = exports
    assert main(["drivers", "-a", str(acts), "-d", str(deals), "--performers"]) == 0
    assert "Top performers vs the rest" in capsys.readouterr().out


def test_cli_drivers_error_is_one_line(exports, capsys):
    acts, deals, _ = exports
    code = main(["drivers", "-a", str(acts), "-d", str(deals), "--lags", "500"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("salesgoals: error: fit_drivers: only 0 rep-periods") and "Traceback" not in err


def test_cli_drivers_help_has_example(capsys):
    with pytest.raises(SystemExit):
        main(["drivers", "--help"])
    assert "Example: salesgoals drivers" in capsys.readouterr().out
