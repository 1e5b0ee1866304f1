"""The CLI can pass what the loaders' errors tell users to pass (issue 11, case 8), and works without activities."""

from __future__ import annotations

import pytest

from salesgoals.cli import main

DEALS = (
    "opportunity_id,agent_code,deal_stage,engage_on,closing,contract_sum\n"
    "A1,u1,Signed,2024-01-02,2024-02-01,100\nA2,u1,Dead,2024-01-09,2024-02-05,50\n"
    "A3,u2,Engaging,2024-01-16,,70\nA4,u2,Signed,2024-01-23,2024-03-01,30\n"
)
USERS = "Id,FirstName,LastName\nu1,Ana,Lee\nu2,Ben,Ode\n"


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "deals.csv"
    d.write_text(DEALS)
    u = tmp_path / "User.csv"
    u.write_text(USERS)
    return tmp_path, d, u


def test_without_flags_the_error_names_the_fix(files, capsys):
    _, d, _ = files
    assert main(["panel", "-d", str(d)]) == 2
    err = capsys.readouterr().err
    assert "no amount column" in err and "'contract_sum'" in err and "--columns amount=" in err


def test_flags_load_the_file_deals_only(files, capsys):
    tmp, d, u = files
    out = tmp / "panel.csv"
    code = main(["panel", "-d", str(d), "--columns", "amount=contract_sum,rep=agent_code",
                 "--stage-map", "Signed=won,Dead=lost,Engaging=open", "--users", str(u), "-o", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    assert "Ana Lee" in text and "Ben Ode" in text and "u1" not in text
    import pandas as pd

    panel = pd.read_csv(out)
    assert panel["won_revenue"].sum() == 130.0 and panel["deals_won"].sum() == 2
    assert "call" not in panel.columns  # deals only: no activity columns


def test_config_file_holds_the_same_options_and_flags_win(files, capsys):
    tmp, d, u = files
    cfg = tmp / "salesgoals.toml"
    cfg.write_text(f'users = "{u}"\nholidays = ["2024-12-25"]\nfiscal_year_start = 4\n[columns]\namount = "contract_sum"\n'
                   'rep = "agent_code"\n[stage_map]\nSigned = "won"\nDead = "lost"\nEngaging = "open"\n')
    out = tmp / "p.csv"
    assert main(["panel", "-d", str(d), "--config", str(cfg), "-o", str(out)]) == 0, capsys.readouterr().err
    assert "Ana Lee" in out.read_text()
    out2 = tmp / "p2.csv"
    assert main(["panel", "-d", str(d), "--config", str(cfg), "--stage-map", "Signed=lost", "-o", str(out2)]) == 0
    import pandas as pd

    assert pd.read_csv(out2)["deals_won"].sum() == 0  # the flag's Signed=lost replaced the file's Signed=won
    bad = tmp / "bad.toml"
    bad.write_text("colums = {}\n")
    assert main(["panel", "-d", str(d), "--config", str(bad)]) == 2
    assert "unknown key(s) colums" in capsys.readouterr().err


def test_all_won_and_missing_close_flags(tmp_path, capsys):
    p = tmp_path / "wins.csv"
    p.write_text("owner,created,closed,amount\nAna,2024-01-02,2024-02-01,10\nBen,2024-01-03,,20\n")
    out = tmp_path / "p.csv"
    code = main(["panel", "-d", str(p), "--all-won", "--missing-close", "created", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1 close date filled from created date" in err  # the CLI prints the loader's warning as one line
    import pandas as pd

    assert pd.read_csv(out)["won_revenue"].sum() == 30.0


def test_activity_goals_need_activities_one_line(files, capsys):
    _, d, _ = files
    assert main(["recommend", "-d", str(d), "--columns", "amount=contract_sum"]) == 2
    assert "needs an activity export: pass -a FILE" in capsys.readouterr().err


def test_config_fiscal_year_start_and_holidays_set_the_tracked_quarter_and_its_working_days(tmp_path, capsys):
    import numpy as np
    import pandas as pd

    import salesgoals as sg
    from salesgoals.io import write_csv

    sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=30, seed=0)
    acts, deals, goals = tmp_path / "acts.csv", tmp_path / "deals.csv", tmp_path / "goals.csv"
    write_csv(sim.activities, acts)
    write_csv(sim.deals, deals)
    pd.DataFrame({"rep": sim.roster["rep"], "activity": "call", "goal_clear": 100.0, "goal_stretch": 120.0,
                  "goal_extraordinary": 150.0}).to_csv(goals, index=False)  # fmt: skip
    holidays = ["2024-04-01", "2024-05-27"]
    cfg = tmp_path / "salesgoals.toml"
    cfg.write_text(f"fiscal_year_start = 3\nholidays = {holidays!r}\n".replace("'", '"'))

    def tracked(*extra):
        out = tmp_path / "progress.csv"
        code = main(["track", "-a", str(acts), "-d", str(deals), "--goals", str(goals), "--as-of", "2024-05-15", "--period", "Q",
                     "-o", str(out), *extra])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        return pd.read_csv(out).iloc[0]

    calendar, fiscal = tracked(), tracked("--config", str(cfg))
    # calendar Q2 (April-June, every weekday) against the fiscal quarter March-May without the two holidays
    assert calendar["working_days"] == np.busday_count("2024-04-01", "2024-07-01")
    assert fiscal["working_days"] == np.busday_count("2024-03-01", "2024-06-01", holidays=holidays)
    assert fiscal["elapsed_days"] == np.busday_count("2024-03-01", "2024-05-16", holidays=holidays)
    assert calendar["period"] == "2024Q2" and fiscal["period"] != calendar["period"]


def test_config_currency_is_the_money_symbol_of_recommend_and_report(tmp_path):
    import argparse

    from salesgoals.cli import _currency
    from salesgoals.io import currency_symbol, load_options

    cfg = tmp_path / "salesgoals.toml"
    cfg.write_text('currency = "EUR"\n')
    opts = load_options(argparse.Namespace(config=str(cfg)))
    assert opts["currency"] == "€"
    assert _currency(argparse.Namespace(currency=None, options=opts), "$") == "€"  # report: config over the default
    assert _currency(argparse.Namespace(currency="£", options=opts), "$") == "£"  # the flag wins
    assert _currency(argparse.Namespace(options=load_options(argparse.Namespace())), "") == ""  # recommend: none
    assert currency_symbol("chf") == "CHF "


def test_accounts_takes_the_loader_options_too(files, capsys):
    tmp, d, u = files
    out = tmp / "objectives.csv"
    code = main(["accounts", "-d", str(d), "--columns", "amount=contract_sum,rep=agent_code,account=opportunity_id",
                 "--stage-map", "Signed=won,Dead=lost,Engaging=open", "--users", str(u), "-o", str(out)])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    import pandas as pd

    table = pd.read_csv(out)
    assert set(table["account"]) == {"A1", "A2", "A3", "A4"}  # read through --columns account=opportunity_id


def test_a_loader_flag_whose_export_was_not_given_is_one_line_exit_2(files, tmp_path, capsys):
    # Round 3 ignored these without a word (e.g. --missing-close with no -d): the run went on without deals.
    _, d, _ = files
    acts = tmp_path / "acts.csv"
    acts.write_text("rep,timestamp,activity_type\nAna,2024-01-02 09:00,call\nBen,2024-01-03 10:00,email\n")
    cases = [
        (["-a", str(acts), "--missing-close", "created"], "--missing-close applies to a deals export"),
        (["-a", str(acts), "--all-won"], "--all-won applies to a deals export"),
        (["-a", str(acts), "--stage-map", "Signed=won"], "--stage-map applies to a deals export"),
        (["-a", str(acts), "--columns", "deals.amount=contract_sum"], "--columns deals.amount= applies"),
        (["-d", str(d), "--columns", "amount=contract_sum", "--type-map", "demo=meeting"],
         "--type-map applies to an activity export"),
    ]  # fmt: skip
    for argv, needle in cases:
        assert main(["panel", *argv]) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("salesgoals: error: salesgoals panel: ") and needle in err[0], err
    # a --config file is shared by every subcommand: its deal options stay unused by a run without deals
    cfg = tmp_path / "salesgoals.toml"
    cfg.write_text('[deals]\nmissing_close = "created"\n[stage_map]\nSigned = "won"\n')
    assert main(["panel", "-a", str(acts), "--config", str(cfg)]) == 0


#: An activity log whose owner ids only a users table maps, in a layout the loader reads unmapped.
ID_LOG = ("owner_id,activity_date,task_subtype\n"
          + "".join(f"u{1 + i % 2},2024-01-{1 + i % 28:02d},{('Call', 'Email', 'Meeting')[i % 3]}\n" for i in range(60)))


@pytest.mark.parametrize("engine", ["duckdb", "dask"])
def test_an_out_of_core_engine_that_cannot_apply_the_loader_options_is_one_line_exit_2(files, capsys, engine):
    """The out-of-core engines read canonical files only: --users/--type-map... used to be dropped without a word."""
    tmp, _, u = files
    log = tmp / "tasks.csv"
    log.write_text(ID_LOG)
    code = main(["panel", "-a", str(log), "--engine", engine, "--users", str(u), "--type-map", "email=call",
                 "-o", str(tmp / "p.csv")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"--engine {engine}" in err and "--users" in err and "--type-map" in err and "leave out --engine" in err
    assert not (tmp / "p.csv").exists()


def test_engine_auto_loads_large_files_in_memory_when_loader_options_are_given(files, capsys, monkeypatch):
    """By size ``auto`` would go out of core; the options win, one note says so, and the panel applies them."""
    import pandas as pd

    from salesgoals.panel import _front

    tmp, _, u = files
    log = tmp / "tasks.csv"
    log.write_text(ID_LOG)
    common = ["panel", "-a", str(log), "--users", str(u), "--type-map", "email=call"]
    assert main([*common, "--engine", "memory", "-o", str(tmp / "a.csv")]) == 0, capsys.readouterr().err
    capsys.readouterr()
    monkeypatch.setattr(_front, "OUT_OF_CORE_BYTES", 1)  # every file is "large"
    assert main([*common, "-o", str(tmp / "b.csv")]) == 0
    err = capsys.readouterr().err
    assert "need the in-memory loader: loading them in memory" in err and "--users, --type-map" in err
    assert (tmp / "a.csv").read_bytes() == (tmp / "b.csv").read_bytes()
    panel = pd.read_csv(tmp / "b.csv")
    assert set(panel["rep"]) == {"Ana Lee", "Ben Ode"}  # the users table applied
    assert "email" not in panel.columns and panel["call"].sum() == 40  # 20 calls + 20 emails, merged as asked
