"""Account progress in reviews (odds still, account_review, `track --account-plan`) and the report's account page."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.errors import SchemaError


@pytest.fixture(scope="module")
def book():
    sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=156, seed=41, n_accounts=80)
    plan_day = sim.end - pd.Timedelta(days=365)
    known = sim.deals["closed"] < plan_day
    past = sim.deals[sim.deals["created"] < plan_day].assign(
        status=sim.deals["status"].where(known, "open"), closed=sim.deals["closed"].where(known))
    return sim, sg.account_objectives(past, sim.accounts, as_of=plan_day), plan_day


def test_progress_odds_still(book):
    sim, plan, day = book
    mid = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=120))
    assert mid["odds_still"].between(0, 1).all()
    np.testing.assert_allclose(mid["needed"], np.maximum(mid["target_revenue"] - mid["won_since"], 0))
    assert (mid.loc[mid["attainment"] >= 1, "odds_still"] == 1).all()
    # seeded: the same call gives the same odds; another seed moves them only a little
    again = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=120))
    pd.testing.assert_frame_equal(mid, again)
    other = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=120), seed=7)
    assert (other["odds_still"] - mid["odds_still"]).abs().max() < 0.06
    # a bigger target is never easier
    harder = plan.table.assign(target_revenue=plan.table["target_revenue"] * 1.5)
    hard = sg.account_progress(harder, sim.deals, as_of=day + pd.Timedelta(days=120), plan_date=day)
    assert (hard["odds_still"] <= mid["odds_still"] + 1e-12).all()
    assert (hard["odds_still"] < mid["odds_still"]).any()
    # once the year is over the odds are what happened
    end = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=366))
    assert end["odds_still"].isin([0.0, 1.0]).all()
    assert ((end["odds_still"] == 1) == (end["attainment"] >= 1)).all()


def test_progress_from_the_saved_csv(book, tmp_path):
    sim, plan, day = book
    path = tmp_path / "plan.csv"
    sg.io.write_csv(plan.table.assign(plan_date=str(day.date())), path)
    saved = pd.read_csv(path, dtype={"account": str, "owner": str}, keep_default_na=False)
    a = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=200))
    b = sg.account_progress(saved, sim.deals, as_of=day + pd.Timedelta(days=200))
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    with pytest.raises(SchemaError, match="plan_date"):
        sg.account_progress(saved.drop(columns="plan_date"), sim.deals)
    with pytest.raises(TypeError, match="AccountObjectives"):
        sg.account_progress(["not", "a", "plan"], sim.deals)


def test_account_review(book):
    sim, plan, day = book
    rev = sg.account_review(plan, sim.deals, as_of=day + pd.Timedelta(days=182), top=5)
    prog = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=182))
    pd.testing.assert_frame_equal(rev.table, prog)
    text = str(rev)
    counts = prog["status"].value_counts()
    assert "status: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in
                                  ("done", "ahead", "on track", "behind", "not started")) in text  # fmt: skip
    at_risk = prog[prog["status"].isin(["behind", "not started"])].sort_values("odds_still", kind="mergesort")
    assert at_risk["account"].iloc[0] in text and "50% of the plan year gone" in text


def test_cli_track_with_account_plan(book, tmp_path, capsys):
    sim, plan, day = book
    acts, deals, plan_csv = tmp_path / "a.csv", tmp_path / "d.csv", tmp_path / "plan.csv"
    sg.io.write_csv(sim.activities[sim.activities["timestamp"] < day + pd.Timedelta(days=60)], acts)
    sg.io.write_csv(sim.deals, deals)
    sg.io.write_csv(plan.table, plan_csv)  # no plan_date column: --plan-date gives it
    goals = pd.DataFrame({"rep": sim.roster["rep"], "activity": "call", "priority": 1, "goal_clear": 10.0,
                          "goal_stretch": 12.0, "goal_extraordinary": 14.0})  # fmt: skip
    sg.io.write_csv(goals, tmp_path / "goals.csv")
    out = tmp_path / "accounts_progress.csv"
    code = main(["track", "-a", str(acts), "-d", str(deals), "--goals", str(tmp_path / "goals.csv"),
                 "--account-plan", str(plan_csv), "--plan-date", str(day.date()), "--accounts-out", str(out)])
    assert code in (0, None)
    printed = capsys.readouterr().out
    assert "Key accounts: progress against objectives" in printed
    got = pd.read_csv(out)
    assert len(got) == len(plan.table) and got["odds_still"].between(0, 1).all()
    assert main(["track", "-a", str(acts), "--goals", str(tmp_path / "goals.csv"), "--account-plan",
                 str(plan_csv)]) == 2  # no deals: a one-line error  # fmt: skip


def test_report_account_page(book, tmp_path):
    sim, plan, day = book
    small = sg.simulate.make_crm_data(n_reps=2, n_weeks=40, seed=41)  # the page does not need the same team
    rec = sg.recommend(small.activities, small.deals, small.roster, n_sims=100, backtest=False, drivers=None)
    prog = sg.account_progress(plan, sim.deals, as_of=day + pd.Timedelta(days=182))
    section = sg.account_report_section(plan, prog, top=8)
    res = sg.report(rec, tmp_path / "r.html", accounts=section, xlsx=tmp_path / "r.xlsx")
    assert "id=\"accounts\"" in res.html and "href='#accounts'" in res.html
    assert res.html.index("id=\"accounts\"") < res.html.index("id=\"seller-")  # right after the team page
    assert {"Account objectives", "Account progress"} <= set(res.views)
    assert len(res.views["Account objectives"]) == 8 and "Odds still" in res.views["Account progress"]
    top = plan.table["account"].iloc[0]
    assert top in res.html.split("id=\"accounts\"")[1].split("</section>")[0]
    sheets = pd.read_excel(tmp_path / "r.xlsx", sheet_name=None, engine="openpyxl")
    assert sheets["Account objectives"]["Account"].tolist() == plan.table["account"].head(8).tolist()
    plain = sg.report(rec)
    assert "id=\"accounts\"" not in plain.html and "Account objectives" not in plain.views
