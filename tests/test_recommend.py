"""recommend() and `salesgoals recommend`: the goal recommendations CSV, end to end."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.errors import UnreliableEstimateWarning
from salesgoals.recommend import RECOMMENDATION_COLUMNS

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"


@pytest.fixture(scope="module")
def small():
    # 32 reps: above the driver model's bootstrap threshold (30), so each fit takes seconds
    return sg.simulate.make_crm_data(n_reps=32, n_weeks=60, seed=21)


def run(acts, deals, roster=None, **kw):
    kw.setdefault("backtest", False)
    with warnings.catch_warnings():
        # expected on one period of data: no driver model can be fitted, recommend says so
        warnings.filterwarnings("ignore", message="recommend: no driver model could be fitted",
                                category=UnreliableEstimateWarning)
        return sg.recommend(acts, deals, roster, n_sims=300, **kw)


@pytest.fixture(scope="module")
def rec(small):
    return run(small.activities, small.deals, small.roster, backtest=True)


def test_contract(rec, small):
    t = rec.table
    assert tuple(t.columns) == RECOMMENDATION_COLUMNS
    assert not t.duplicated(["rep", "activity"]).any()
    num = t.select_dtypes("number")
    assert len(num.columns) == 22 and np.isfinite(num.to_numpy(float)).all()
    # whole counts and money are integers (no "2.0", no cents); text has no NaN
    money = [c for c in t.columns if c.startswith("projected_revenue_") or c.startswith("revenue_")]
    for c in [*money, "priority", "n_periods", "goal_clear_total", "goal_stretch_total", "goal_extraordinary_total"]:
        assert t[c].dtype == np.int64, c
    text = t.select_dtypes(exclude="number")
    assert not text.apply(lambda s: s.str.contains(r"\bnan\b", case=False)).any().any()
    assert (t["why"].str.len() > 40).all()
    assert t["rep"].is_monotonic_increasing
    assert (t["projected_revenue_current"] <= t["projected_revenue_stretch"]).all()
    assert (t["revenue_low"] <= t["projected_revenue_clear"]).all() and (
        t["projected_revenue_clear"] <= t["revenue_high"]
    ).all()
    assert t.groupby("rep")["priority"].max().between(0, 3).all()
    assert "Goal recommendations" in str(rec.summary()) and "Recommendation(" in repr(rec)
    assert rec.backtest is not None and "Backtest over past goal periods" in str(rec.summary())


def test_csv_is_byte_identical(small, rec, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    rec.to_csv(a)
    # same input in a different row order: same file
    shuffled = small.activities.sample(frac=1.0, random_state=0)
    run(shuffled, small.deals.iloc[::-1], small.roster).to_csv(b)
    assert a.read_bytes() == b.read_bytes()
    back = pd.read_csv(a)
    assert back.columns.tolist() == list(RECOMMENDATION_COLUMNS)


def test_formula_injection_is_neutralised(small, rec, tmp_path):
    evil = '=HYPERLINK("http://x.example","click")'
    first = small.roster["rep"].iloc[0]
    ren = {first: evil}
    # the log's rep is categorical: renaming a value is a new category, so go through text
    acts = small.activities.assign(rep=small.activities["rep"].astype("str").replace(ren))
    deals = small.deals.assign(rep=small.deals["rep"].replace(ren))
    roster = small.roster.assign(
        rep=small.roster["rep"].replace(ren),
        team=small.roster["team"].replace({small.roster["team"].iloc[0]: "+team"}),
    )
    res = run(acts, deals, roster, drivers=rec.drivers)  # reuse the fit: only the names changed
    assert evil in set(res.table["rep"])
    assert (res.table["priority"] > 0).any()
    out = tmp_path / "goals.csv"
    res.to_csv(out)
    text = out.read_text()
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "'=HYPERLINK" in text and "'+team" in text


def test_deals_with_no_wins(small):
    deals = small.deals.assign(status=small.deals["status"].replace({"won": "lost"}))
    res = run(small.activities, deals, small.roster)
    t = res.table
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()
    assert (t["projected_revenue_stretch"] == 0).all()
    assert t["flags"].str.contains("no_won_deals_in_team").all()


def test_rep_without_won_deals_is_flagged(small):
    rep = small.roster["rep"].iloc[1]
    deals = small.deals.copy()
    deals.loc[(deals["rep"] == rep) & (deals["status"] == "won"), "status"] = "lost"
    t = run(small.activities, deals, small.roster, drivers=None).table
    assert t.loc[t["rep"] == rep, "flags"].str.contains("no_won_deals").all()
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()


def test_single_period_of_data_does_not_crash(small):
    start = small.activities["timestamp"].min().normalize()
    acts = small.activities[small.activities["timestamp"] < start + pd.Timedelta(days=7)]
    deals = small.deals[
        (small.deals["created"] < start + pd.Timedelta(days=7)) & (small.deals["created"] >= start)
    ]
    deals = deals.assign(
        status="open", closed=pd.NaT
    )  # nothing closed yet: one week of history in all
    res = run(acts, deals, backtest=True)
    assert any("no backtest" in n for n in res.notes)
    assert np.isfinite(res.table.select_dtypes("number").to_numpy(float)).all()
    assert res.drivers is None and any("no driver model" in n for n in res.notes)
    assert res.table["flags"].str.contains("short_history").all()


def test_all_zero_rep_and_rare_activity(small):
    team = small.roster["team"].iloc[0]
    hero = pd.DataFrame({"rep": ["Zero Hero"], "team": [team], "manager": ["M"],
                         "region": ["R"], "start": [pd.NaT], "end": [pd.NaT]})  # fmt: skip
    roster = pd.concat([small.roster, hero], ignore_index=True)
    once = small.activities.iloc[[5]].assign(activity_type="sms", activity_id="ONE")
    t = run(
        pd.concat([small.activities, once], ignore_index=True), small.deals, roster, drivers=None
    ).table
    assert t.loc[t["rep"] == "Zero Hero", "flags"].str.contains("all_zero_history").all()
    assert t.loc[t["activity"] == "sms", "flags"].str.contains("rare_activity").all()
    assert (t.loc[t["activity"] == "sms", "priority"] == 0).all()
    assert np.isfinite(t.select_dtypes("number").to_numpy(float)).all()


# ----------------------------------------------------------------------- CLI
def test_cli_recommend(small, tmp_path, capsys):
    a, d, r = tmp_path / "acts.csv", tmp_path / "deals.csv", tmp_path / "roster.csv"
    sg.write_csv(small.activities, a)
    sg.write_csv(small.deals, d)
    sg.write_csv(small.roster, r)
    out = tmp_path / "goals.csv"
    args = [
        "recommend",
        "--activities",
        str(a),
        "--deals",
        str(d),
        "--roster",
        str(r),
        "--sims",
        "300",
        "--no-backtest",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "Goal recommendations" in captured.out and "Team won revenue" in captured.out
    assert "Backtest over past goal periods" not in captured.out  # --no-backtest
    frame = pd.read_csv(out)
    assert frame.columns.tolist() == list(RECOMMENDATION_COLUMNS) and len(frame) > 0
    assert frame["rep"].nunique() == small.roster["rep"].nunique() - len(rec_excluded(frame, small))


def rec_excluded(frame, small):
    return sorted(set(small.roster["rep"]) - set(frame["rep"]))


def test_cli_recommend_errors(tmp_path, capsys):
    code = main(
        [
            "recommend",
            "--activities",
            str(tmp_path / "missing.csv"),
            "--deals",
            str(tmp_path / "nope.csv"),
        ]
    )
    assert code == 2
    assert "salesgoals: error:" in capsys.readouterr().err


def test_cli_help_has_example(capsys):
    with pytest.raises(SystemExit):
        main(["recommend", "--help"])
    assert "Example: salesgoals recommend" in capsys.readouterr().out


def test_cli_on_bundled_samples(tmp_path, capsys):
    acts = next(iter(sorted(SAMPLES.glob("canonical_activities.csv*"))))
    out = tmp_path / "goals.csv"
    code = main(["recommend", "--activities", str(acts),
                 "--deals", str(SAMPLES / "canonical_deals.csv"),
                 "--roster", str(SAMPLES / "roster.csv"),
                 "--sims", "500", "--out", str(out)])  # fmt: skip
    assert code == 0
    t = pd.read_csv(out)
    assert t["rep"].nunique() > 10 and (t["priority"] > 0).any()
