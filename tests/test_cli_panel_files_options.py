"""``salesgoals panel-files`` takes the loader options of the other subcommands (issue 11).

The activity files are aggregated out of core (DuckDB); the deals and roster are ordinary
exports, loaded with the same ``--columns`` / ``--stage-map`` / ``--config`` ... as by
``salesgoals panel``, so both commands build the same panel from the same files and options.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.errors import DataQualityWarning

pytest.importorskip("duckdb")

STAGES = {"won": "Signed", "lost": "Dropped", "open": "Engaging"}  # stages no layout knows
STAGE_MAP = "Signed=won,Dropped=lost,Engaging=open"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A lake whose rep column is 'owner', and a deals export that loads only with a stage map."""
    tmp = tmp_path_factory.mktemp("lake")
    sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=12, seed=5)
    # unique activity ids: no two rows are one activity twice, whichever engine reads them
    acts = sim.activities[["rep", "timestamp", "activity_type", "activity_id", "outcome"]].rename(columns={"rep": "owner"})
    lake = tmp / "activities"
    lake.mkdir()
    half = len(acts) // 2
    acts.iloc[:half].to_parquet(lake / "part-0.parquet")
    acts.iloc[half:].to_parquet(lake / "part-1.parquet")
    d = sim.deals
    deals = pd.DataFrame({
        "opportunity_id": d["deal_id"], "sales_agent": d["rep"].astype(str),
        "engage_date": d["created"].dt.strftime("%Y-%m-%d"), "close_date": d["closed"].dt.strftime("%Y-%m-%d"),
        "deal_stage": d["status"].map(STAGES), "close_value": d["amount"],
    })  # fmt: skip
    deals.to_csv(tmp / "deals.csv", index=False)
    config = tmp / "salesgoals.toml"
    config.write_text('[columns]\n"activities.rep" = "owner"\n[stage_map]\n'
                      + "".join(f'{v} = "{k}"\n' for k, v in STAGES.items()), encoding="utf-8")  # fmt: skip
    return {"lake": str(lake), "deals": str(tmp / "deals.csv"), "config": str(config), "tmp": tmp, "sim": sim}


def _run(argv, capsys):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DataQualityWarning, message="load_deals: .*")
        code = main(argv)
    return code, capsys.readouterr()


def test_flags_and_config_give_the_in_memory_panel(exports, capsys):
    tmp = exports["tmp"]
    common = [exports["lake"], "-d", exports["deals"], "--no-progress"]
    code, _ = _run(["panel-files", *common, "--columns", "activities.rep=owner", "--stage-map", STAGE_MAP,
                    "-o", str(tmp / "flags.csv")], capsys)  # fmt: skip
    assert code == 0
    code, _ = _run(["panel-files", *common, "--config", exports["config"], "-o", str(tmp / "config.csv")], capsys)
    assert code == 0
    code, _ = _run(["panel-files", *common, "--column", "rep=owner", "--stage-map", STAGE_MAP,
                    "-o", str(tmp / "column.csv")], capsys)  # fmt: skip
    assert code == 0
    # the same files and options through the in-memory loader (load_activities + load_deals)
    code, _ = _run(["panel", "-a", exports["lake"] + "/*.parquet", "-d", exports["deals"], "--engine", "memory",
                    "--columns", "activities.rep=owner", "--stage-map", STAGE_MAP, "-o", str(tmp / "memory.csv")],
                   capsys)  # fmt: skip
    assert code == 0
    memory = (tmp / "memory.csv").read_bytes()
    for name in ("flags", "config", "column"):
        assert (tmp / f"{name}.csv").read_bytes() == memory, name
    panel = pd.read_csv(tmp / "flags.csv")
    sim = exports["sim"]
    assert panel["deals_won"].sum() == (sim.deals["status"] == "won").sum()  # every won deal loaded and counted
    assert panel["call"].sum() == (sim.activities["activity_type"] == "call").sum()


def _one_line_exit_2(argv, capsys, *needles):
    code, cap = _run(argv, capsys)
    lines = cap.err.strip().splitlines()
    assert code == 2, (argv, cap.err)
    assert len(lines) == 1 and lines[0].startswith("salesgoals: error: "), cap.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_bad_loader_options_are_one_line_and_exit_2(exports, capsys):
    base = ["panel-files", exports["lake"], "-d", exports["deals"], "--column", "rep=owner", "--no-progress"]
    _one_line_exit_2(base, capsys, "Engaging", "stage_map")  # unknown stages: the loader says what to write
    _one_line_exit_2([*base, "--stage-map", "Signed=maybe"], capsys, "maybe")
    _one_line_exit_2([*base, "--stage-map", "Signed"], capsys, "--stage-map")
    _one_line_exit_2([*base, "--stage-map", STAGE_MAP, "--columns", "rep"], capsys, "--columns")
    _one_line_exit_2([*base, "--stage-map", STAGE_MAP, "--columns", "activities.outcome="], capsys, "outcome=", "out of core")
    _one_line_exit_2([*base, "--stage-map", STAGE_MAP, "--type-map", "demo=meeting"], capsys, "--type-map")
    _one_line_exit_2([*base, "--config", str(exports["tmp"] / "missing.toml")], capsys, "missing.toml")
    _one_line_exit_2([*base, "--stage-map", STAGE_MAP, "--missing-close", "no_such_column"], capsys,
                     "no_such_column")  # fmt: skip


def test_users_maps_the_activity_files_owner_ids_too(exports, capsys):
    # Round 3: --users mapped the deals' owner ids only, so the lake's reps stayed ids, matched no deal,
    # and every rep showed twice (once as an id with activities, once as a name with deals).
    tmp, sim = exports["tmp"], exports["sim"]
    names = sorted(sim.activities["rep"].astype(str).unique())
    ids = {n: f"005U{i:03d}" for i, n in enumerate(names)}
    lake = tmp / "id_lake"
    lake.mkdir()
    acts = sim.activities[["rep", "timestamp", "activity_type", "activity_id", "outcome"]]
    acts.assign(rep=acts["rep"].astype(str).map(ids)).to_parquet(lake / "part-0.parquet")
    deals = pd.read_csv(exports["deals"])
    deals.assign(sales_agent=deals["sales_agent"].map(ids)).to_csv(tmp / "id_deals.csv", index=False)
    known = names[:-1]  # the last owner is not in the users table: kept as its id
    pd.DataFrame({"Id": [ids[n] for n in known], "Name": known}).to_csv(tmp / "User.csv", index=False)
    common = ["-d", str(tmp / "id_deals.csv"), "--stage-map", STAGE_MAP, "--users", str(tmp / "User.csv")]
    code, cap = _run(["panel-files", str(lake), *common, "--no-progress", "-o", str(tmp / "users_files.csv")], capsys)
    assert code == 0, cap.err
    code, cap = _run(["panel", "-a", str(lake / "part-0.parquet"), *common, "--engine", "memory",
                      "-o", str(tmp / "users_memory.csv")], capsys)  # fmt: skip
    assert code == 0, cap.err
    assert (tmp / "users_files.csv").read_bytes() == (tmp / "users_memory.csv").read_bytes()
    panel = pd.read_csv(tmp / "users_files.csv")
    assert sorted(panel["rep"].unique()) == sorted([*known, ids[names[-1]]])
    won = panel.groupby("rep")["deals_won"].sum()
    truth = sim.deals[sim.deals["status"] == "won"]["rep"].astype(str).value_counts()
    for n in known:  # each named rep carries both its activities and its wins on one row set
        assert won.get(n, 0) == truth.get(n, 0), n
    calls = panel.groupby("rep")["call"].sum()
    assert calls.sum() == (sim.activities["activity_type"] == "call").sum()
    assert calls[known].sum() == (sim.activities["activity_type"].eq("call") & sim.activities["rep"].isin(known)).sum()


def test_two_owner_ids_of_one_person_are_counted_as_one_rep(tmp_path):
    from salesgoals.panel.scale import panel_from_parquet

    acts = pd.DataFrame({"rep": ["u1", "u2", "u2", "u3"], "activity_type": ["call"] * 4,
                         "timestamp": pd.to_datetime(["2024-01-02 09:00", "2024-01-02 10:00",
                                                      "2024-01-09 10:00", "2024-01-09 11:00"])})  # fmt: skip
    acts.to_parquet(tmp_path / "a.parquet")
    panel = panel_from_parquet(tmp_path / "a.parquet", freq="W", progress=False,
                               users={"u1": "Ana Lee", "u2": "Ana Lee"})  # fmt: skip
    by = panel.groupby("rep", observed=True)["call"].sum()
    assert by.to_dict() == {"Ana Lee": 3, "u3": 1}


def test_a_deal_flag_without_a_deals_export_is_one_line_exit_2(exports, capsys):
    base = ["panel-files", exports["lake"], "--column", "rep=owner", "--no-progress"]
    _one_line_exit_2([*base, "--missing-close", "created"], capsys, "--missing-close", "-d FILE")
    _one_line_exit_2([*base, "--stage-map", STAGE_MAP, "--all-won"], capsys, "--stage-map, --all-won", "-d FILE")
