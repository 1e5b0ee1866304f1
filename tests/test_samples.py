"""The bundled samples in data/samples/: catalog, size budget, determinism, and vendor layouts.

The vendor files are written from simulated canonical frames, so their totals are
known exactly.  Two round trips check them: reading each file with plain pandas
and the layout's known quirks (tests the writers in ``salesgoals.simulate.exports``), and
reading it with ``salesgoals.load_*`` and ``crm="auto"`` (tests the loaders).
"""

from __future__ import annotations

import gzip
import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data" / "samples"

#: data/samples must stay small enough to clone quickly (the brief says "a few MB").
SAMPLES_BUDGET_BYTES = 6_000_000
#: No single file should dominate the repository.
FILE_BUDGET_BYTES = 2_000_000
#: Money is written with cents, so revenue totals must agree to the cent.
MONEY_ATOL = 0.005


def _load_make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ms = _load_make_samples()


@pytest.fixture(scope="module")
def catalog() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "catalog.csv")


def _files(catalog, simulation, kind):
    """Files of one simulated company (``simulation`` column) and kind, in catalog order."""
    rows = catalog[(catalog["simulation"] == simulation) & (catalog["kind"] == kind)]
    return [SAMPLES / f for f in rows["file"]]


def _sim(catalog, name):
    """The simulation behind a company's files, checked against the catalog's own arguments.

    ``make_samples.simulate`` caches it, so the regeneration test and the round trips share one run.
    """
    row = catalog[catalog["simulation"] == name].iloc[0]
    params = ms.SIMULATIONS[name]
    recorded = dict(n_reps=int(row["n_reps"]), n_weeks=int(row["n_weeks"]), seed=int(row["seed"]),
                    volume_scale=float(row["volume_scale"]), start=str(row["start"]))  # fmt: skip
    assert recorded == params, f"catalog.csv disagrees with make_samples.SIMULATIONS[{name!r}]"
    return ms.simulate(name)


@pytest.fixture(scope="module")
def sims(catalog):
    names = ("hubspot", "salesforce", "pipedrive", "salesforce_backup", "zoho", "dynamics")
    return {v: _sim(catalog, v) for v in names}


# ------------------------------------------------------------------ catalog and budget
def test_catalog_columns_and_every_file_exists(catalog):
    assert catalog.columns.tolist()[:6] == ["file", "vendor", "kind", "rows", "description", "seed"]
    assert set(catalog["kind"]) == {"activities", "deals", "roster", "truth", "users", "stage_history"}
    assert {"canonical", "hubspot", "salesforce", "pipedrive"} <= set(catalog["vendor"])
    missing = [f for f in catalog["file"] if not (SAMPLES / f).is_file()]
    assert not missing, (
        f"catalog lists missing files {missing}; run python data/samples/make_samples.py"
    )
    assert catalog["description"].str.len().gt(20).all()
    assert not catalog["file"].duplicated().any()


def test_every_sample_file_is_in_the_catalog(catalog):
    on_disk = {
        p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.suffix in (".csv", ".gz")
    }
    on_disk -= {"catalog.csv"}
    assert on_disk == set(catalog["file"])


def test_readme_lists_every_file(catalog):
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for f in catalog["file"]:
        assert f"`{f}`" in readme


def test_sizes_stay_within_budget(catalog):
    sizes = {f: (SAMPLES / f).stat().st_size for f in catalog["file"]}
    assert sum(sizes.values()) < SAMPLES_BUDGET_BYTES, sizes
    assert max(sizes.values()) < FILE_BUDGET_BYTES, sizes


def _count_rows(path: Path) -> int:
    """Data rows of a plain CSV (gzip or not), for files without title or footer blocks."""
    opener = gzip.open if path.suffix == ".gz" else open
    encoding = "cp1252" if "salesforce_backup" in path.parts else "utf-8-sig"
    with opener(path, "rt", encoding=encoding, newline="") as fh:
        return len(pd.read_csv(fh, sep=";" if "pipedrive" in path.name else ","))


def test_catalog_row_counts_of_plain_files(catalog):
    plain = catalog[
        ~catalog["simulation"].eq("salesforce")
    ]  # the report files have title and footer blocks
    for row in plain.itertuples(index=False):
        assert _count_rows(SAMPLES / row.file) == row.rows, row.file


# ------------------------------------------------------------------ determinism and truth
def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".gz":  # compressed bytes may differ across zlib builds; the content may not
        return gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())
    return a.read_bytes() == b.read_bytes()


def test_package_sample_regenerates_byte_for_byte(tmp_path):
    rows = ms.write_package_samples(tmp_path)
    shipped = REPO / "salesgoals" / "datasets"
    for name in ["catalog.csv", *("data/" + r["file"] for r in rows)]:
        assert _same(tmp_path / name, shipped / name), (
            f"{name} differs from the shipped file; run python data/samples/make_samples.py"
        )


def test_repo_samples_regenerate_byte_for_byte(tmp_path, catalog):
    rows = ms.write_repo_samples(tmp_path, compresslevel=1)  # gzip level changes bytes, not content
    assert [r["file"] for r in rows] == catalog["file"].tolist()
    for name in [*catalog["file"], "catalog.csv", "README.md"]:
        assert _same(tmp_path / name, SAMPLES / name), (
            f"{name} differs from data/samples; run python data/samples/make_samples.py"
        )


def test_truth_matches_the_simulator_with_the_catalog_seed(catalog):
    truth = pd.read_csv(SAMPLES / "truth.csv", index_col="activity")
    sim = _sim(catalog, "canonical")
    pd.testing.assert_frame_equal(truth, sim.truth, rtol=1e-9, check_names=False)
    assert truth.loc["linkedin"].eq(0).all()  # the zero-effect trap is in the shipped truth


# ------------------------------------------------------------------ vendor layouts (spellings, quirks)
def test_hubspot_files_follow_the_export_naming_and_labels(catalog):
    pattern = re.compile(
        r"hubspot-crm-exports-(all-(calls|meetings|emails|tasks|deals)|deals-stage-dates)-\d{4}-\d{2}-\d{2}\.csv"
    )
    files = catalog.loc[catalog["vendor"] == "hubspot", "file"]
    assert files.str.fullmatch(pattern).all()
    calls = pd.read_csv(
        SAMPLES / files[files.str.contains("calls")].iloc[0], dtype=str, keep_default_na=False
    )
    assert {
        "Record ID",
        "Activity date",
        "Activity assigned to",
        "Call outcome",
        "Call duration",
    } <= set(calls)
    assert set(calls["Call outcome"]) <= {
        "Connected",
        "No answer",
        "Left voicemail",
        "Busy",
        "Wrong number",
    }
    assert calls["Call duration"].str.fullmatch(r"\d{2}:\d{2}:\d{2}").all()
    meetings = pd.read_csv(SAMPLES / files[files.str.contains("meetings")].iloc[0], dtype=str)
    assert set(meetings["Meeting outcome"]) == {"COMPLETED", "NO_SHOW"}


def test_exactly_one_file_has_a_bom(catalog):
    plain = [f for f in catalog["file"] if not f.endswith(".gz")]
    with_bom = [f for f in plain if (SAMPLES / f).read_bytes()[:3] == b"\xef\xbb\xbf"]
    assert with_bom == ["hubspot-crm-exports-all-deals-2025-12-29.csv"]


def _read_salesforce(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """Data rows and raw lines of a Salesforce report export (title block, header, data, totals, footer)."""
    raw = path.read_bytes()
    assert b"\r\n" in raw  # Windows line ends
    text = raw.decode("utf-8")
    lines = text.splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.count('","') >= 5)
    total_at = next(i for i, line in enumerate(lines) if line.startswith('"Grand Totals ('))
    frame = pd.read_csv(
        path, skiprows=header_at, nrows=total_at - header_at - 1, dtype=str, keep_default_na=False
    )
    return frame, lines[:header_at] + lines[total_at:]


def test_salesforce_reports_have_title_block_grand_totals_and_us_dates(catalog):
    opps, extra = _read_salesforce(_files(catalog, "salesforce", "deals")[0])
    assert extra[0] == '"Opportunity Pipeline"' and extra[-1] == '"Northwind Traders"'
    totals = next(line for line in extra if line.startswith('"Grand Totals'))
    n = int(re.search(r"\(([\d,]+) records\)", totals).group(1).replace(",", ""))
    assert n == len(opps)
    money = opps["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    assert f"${money.sum():,.2f}" in totals
    assert opps["Close Date"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all()
    assert opps["Amount"].str.fullmatch(r"\$\d{1,3}(,\d{3})*\.\d{2}").all()
    assert {"Closed Won", "Closed Lost"} <= set(opps["Stage"])
    acts, _ = _read_salesforce(_files(catalog, "salesforce", "activities")[0])
    assert set(acts["Activity Type"]) == {"Call", "Email", "Meeting", "LinkedIn"}
    assert set(acts.loc[acts["Activity Type"] == "Call", "Call Result"]) <= {
        "Connected", "No Answer", "Left Voicemail", "Busy", "Wrong Number"}  # fmt: skip


def test_pipedrive_eu_files_use_semicolons_dmy_dates_and_euro_amounts(catalog):
    deals_path = _files(catalog, "pipedrive", "deals")[0]
    assert deals_path.read_text(encoding="utf-8").splitlines()[0].count(";") >= 10
    deals = pd.read_csv(deals_path, sep=";", dtype=str, keep_default_na=False)
    assert deals["Deal - Value"].str.fullmatch(r"€ \d{1,3}(\.\d{3})*,\d{2}").all()
    assert set(deals["Deal - Status"]) == {"won", "lost", "open"}
    assert deals["Deal - Deal created"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}").all()
    acts = pd.read_csv(
        _files(catalog, "pipedrive", "activities")[0], sep=";", dtype=str, keep_default_na=False
    )
    assert acts["Activity - Due date"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all()


# ------------------------------------------------------------------ writer round trip (plain pandas)
def _per_rep(frame: pd.DataFrame, rep: str, value: str | None = None) -> pd.Series:
    frame = frame.astype({rep: "str"})  # the simulator's rep is categorical, the raw files' text
    if value is None:
        return frame.groupby(rep).size().rename_axis("rep").sort_index()
    return frame.groupby(rep)[value].sum().rename_axis("rep").sort_index()


def _truth_totals(sim) -> tuple[pd.Series, pd.Series]:
    rows = _per_rep(sim.activities, "rep")
    won = sim.deals[sim.deals["status"] == "won"]
    return rows, _per_rep(won, "rep", "amount")


def test_hubspot_files_carry_the_canonical_totals(catalog, sims):
    rows, revenue = _truth_totals(sims["hubspot"])
    acts = pd.concat([pd.read_csv(p, dtype=str) for p in _files(catalog, "hubspot", "activities")])
    owner = acts["Activity assigned to"].fillna(acts["Assigned to"])
    planted = ms.HUBSPOT_CALLS_DEFECTS
    assert acts.duplicated().sum() == planted["duplicate_row"]
    assert owner.isna().sum() == planted["missing_rep"]
    acts, owner = acts[~acts.duplicated()], owner[~acts.duplicated()]
    pd.testing.assert_series_equal(_per_rep(acts.assign(r=owner), "r"), rows, check_names=False)
    deals = pd.read_csv(_files(catalog, "hubspot", "deals")[0], encoding="utf-8-sig")
    won = deals[deals["Deal Stage"] == "Closed Won"]
    got = _per_rep(won, "Deal owner", "Amount")
    np.testing.assert_allclose(got.to_numpy(), revenue.loc[got.index].to_numpy(), atol=MONEY_ATOL)
    assert got.index.tolist() == revenue.index.tolist()


def test_salesforce_files_carry_the_canonical_totals(catalog, sims):
    rows, revenue = _truth_totals(sims["salesforce"])
    acts, _ = _read_salesforce(_files(catalog, "salesforce", "activities")[0])
    pd.testing.assert_series_equal(_per_rep(acts, "Assigned"), rows, check_names=False)
    opps, _ = _read_salesforce(_files(catalog, "salesforce", "deals")[0])
    opps["amount"] = opps["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    got = _per_rep(opps[opps["Stage"] == "Closed Won"], "Opportunity Owner", "amount")
    assert got.index.tolist() == revenue.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), revenue.to_numpy(), atol=MONEY_ATOL)


def test_pipedrive_files_carry_the_canonical_totals(catalog, sims):
    rows, revenue = _truth_totals(sims["pipedrive"])
    acts = pd.read_csv(_files(catalog, "pipedrive", "activities")[0], sep=";", dtype=str)
    pd.testing.assert_series_equal(
        _per_rep(acts, "Activity - Assigned to user"), rows, check_names=False
    )
    deals = pd.read_csv(_files(catalog, "pipedrive", "deals")[0], sep=";", dtype=str)
    value = (
        deals["Deal - Value"]
        .str.removeprefix("€ ")
        .str.replace(".", "")
        .str.replace(",", ".")
        .astype(float)
    )
    got = _per_rep(deals.assign(v=value)[deals["Deal - Status"] == "won"], "Deal - Owner", "v")
    assert got.index.tolist() == revenue.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), revenue.to_numpy(), atol=MONEY_ATOL)


# ------------------------------------------------------------------ loader round trip (salesgoals.io, crm="auto")
#: Layout the loaders must detect for each vendor's files.
DETECTED = {
    "canonical": "generic",
    "hubspot": "hubspot",
    "salesforce": "salesforce",
    "pipedrive": "pipedrive",
    "salesforce_backup": "salesforce",
    "zoho": "zoho",
    "dynamics": "dynamics",
}
#: Vendors whose export carries call outcomes and meeting outcomes (Pipedrive has no standard field).
WITH_OUTCOMES = ["hubspot", "salesforce"]
#: Vendors whose export tells connected calls from the rest (outcome, disposition or dialled status).
WITH_CONNECTED = ["hubspot", "salesforce", "salesforce_backup", "zoho"]
#: Samples that export only the Calls module / Phone Call view.
CALLS_ONLY = {"zoho", "dynamics"}
#: Known loader gap, reported to the io owner: Dynamics 365 fills "Actual Revenue" only for won
#: opportunities (EXPORT_FORMATS.md 5); the deal amount of open and lost ones is "Est. Revenue".
#: The loader reads "Actual Revenue" and sets the rest to 0.  strict=True: the mark must go when fixed.
def _truth_activities(all_sims, vendor):
    acts = all_sims[vendor].activities
    return acts[acts["activity_type"] == "call"] if vendor in CALLS_ONLY else acts


def _raised_by_loading(caught) -> list[str]:
    """The recorded warnings' messages, less ResourceWarnings: those come from the garbage collector finalising
    objects other tests left unclosed (the notebook runs' zmq sockets), at whatever allocation triggers a
    collection, so they say nothing about the loader."""
    return [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)]


@pytest.fixture(scope="module")
def loaded(catalog):
    """Every vendor's samples loaded with crm="auto", with any warnings raised while loading."""
    import warnings

    import salesgoals as sg

    out = {}
    for vendor in DETECTED:
        acts_files = [str(p) for p in _files(catalog, vendor, "activities")]
        with warnings.catch_warnings(record=True) as caught_acts:
            warnings.simplefilter("always")
            acts = sg.load_activities(
                acts_files if len(acts_files) > 1 else acts_files[0], crm="auto"
            )
        with warnings.catch_warnings(record=True) as caught_deals:
            warnings.simplefilter("always")
            deals = sg.load_deals(str(_files(catalog, vendor, "deals")[0]), crm="auto")
        users = _files(catalog, vendor, "users")
        if users:  # backups name reps by User id; the User object maps ids to names
            names = pd.read_csv(users[0], encoding="cp1252", dtype=str).set_index("Id")["Name"]
            assert acts["rep"].isin(names.index).all() and deals["rep"].isin(names.index).all()
            acts = acts.assign(rep=acts["rep"].map(names))
            deals = deals.assign(rep=deals["rep"].map(names))
        out[vendor] = (
            acts,
            deals,
            _raised_by_loading(caught_acts),
            _raised_by_loading(caught_deals),
        )
    return out


@pytest.fixture(scope="module")
def all_sims(catalog, sims):
    return {**sims, "canonical": _sim(catalog, "canonical")}


@pytest.mark.parametrize("vendor", list(DETECTED))
def test_sample_loads_with_auto_detection_and_excludes_exactly_the_planted_defects(loaded, vendor):
    acts, deals, warned, _ = loaded[vendor]
    planted = ms.HUBSPOT_CALLS_DEFECTS if vendor == "hubspot" else {}
    for frame in (acts, deals):
        report = frame.attrs["quality"]
        assert set(report.crm) == {DETECTED[vendor]}
        assert report.loaded_rows == len(frame)
        assert report.loaded_rows + report.n_excluded == report.input_rows
    assert {k: v for k, v in acts.attrs["quality"].excluded.items() if v} == planted
    assert deals.attrs["quality"].n_excluded == 0
    assert len(warned) == (1 if planted else 0), warned


@pytest.mark.parametrize(
    "vendor",
    DETECTED,
)
def test_loaded_deals_keep_every_amount(loaded, all_sims, vendor):
    """Pipeline created per rep (every deal's amount) survives, with nothing repaired or warned."""
    deals, warned = loaded[vendor][1], loaded[vendor][3]
    assert not warned and not deals.attrs["quality"].repaired, (
        warned,
        deals.attrs["quality"].repaired,
    )
    truth = all_sims[vendor].deals
    got = deals.groupby("rep")["amount"].sum().sort_index()
    want = truth.groupby("rep")["amount"].sum().sort_index()
    assert got.index.tolist() == want.index.tolist()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), atol=MONEY_ATOL)


@pytest.mark.parametrize("vendor", list(DETECTED))
def test_loaded_activities_keep_counts_per_rep_and_type(loaded, all_sims, vendor):
    acts = loaded[vendor][0]
    truth = _truth_activities(all_sims, vendor)
    as_text = {"rep": "str", "activity_type": "str"}  # compare the labels, not the categoricals' category sets
    got = acts.astype(as_text).groupby(["rep", "activity_type"]).size().sort_index()
    want = truth.astype(as_text).groupby(["rep", "activity_type"]).size().sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)
    # dates survive at the day level whatever the layout's precision
    got_days = acts["timestamp"].dt.normalize().value_counts().sort_index()
    want_days = truth["timestamp"].dt.normalize().value_counts().sort_index()
    np.testing.assert_array_equal(got_days.to_numpy(), want_days.to_numpy())


@pytest.mark.parametrize("vendor", list(DETECTED))
def test_loaded_deals_keep_status_dates_and_won_revenue_per_rep(loaded, all_sims, vendor):
    deals = loaded[vendor][1]
    truth = all_sims[vendor].deals
    pd.testing.assert_series_equal(
        deals.groupby(["rep", "status"]).size().sort_index(),
        truth.groupby(["rep", "status"]).size().sort_index(),
        check_names=False, check_index_type=False,
    )  # fmt: skip
    won = deals[deals["status"] == "won"].groupby("rep")["amount"].sum().sort_index()
    want = truth[truth["status"] == "won"].groupby("rep")["amount"].sum().sort_index()
    assert won.index.tolist() == want.index.tolist()
    np.testing.assert_allclose(won.to_numpy(), want.to_numpy(), atol=MONEY_ATOL)
    # open deals have no close date even where the CRM shows an expected close date
    assert deals.loc[deals["status"] == "open", "closed"].isna().all()
    # created days per rep, as multisets (day precision: some layouts export dates only)
    got = deals.assign(d=deals["created"].dt.normalize()).sort_values(["rep", "d"])
    exp = truth.assign(d=truth["created"].dt.normalize()).sort_values(["rep", "d"])
    assert got["rep"].tolist() == exp["rep"].tolist()
    np.testing.assert_array_equal(
        got["d"].to_numpy().astype("datetime64[D]"), exp["d"].to_numpy().astype("datetime64[D]")
    )


@pytest.mark.parametrize("vendor", WITH_OUTCOMES)
def test_loaded_quality_outcomes_match(loaded, all_sims, vendor):
    acts = loaded[vendor][0]
    truth = all_sims[vendor].activities
    for kind in ("call", "meeting"):
        got = acts[acts["activity_type"] == kind].groupby(["rep", "outcome"]).size().sort_index()
        want = truth[truth["activity_type"] == kind].groupby(["rep", "outcome"]).size().sort_index()
        pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)
    # call durations: HH:MM:SS (HubSpot) and seconds (Salesforce) both carry the exact minutes
    got = acts[acts["activity_type"] == "call"].groupby("rep")["duration_min"].sum().sort_index()
    want = truth[truth["activity_type"] == "call"].groupby("rep")["duration_min"].sum().sort_index()
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("vendor", ["hubspot", "salesforce", "pipedrive"])
def test_loaded_held_meetings_per_rep_match(loaded, all_sims, vendor):
    acts = loaded[vendor][0]
    truth = _truth_activities(all_sims, vendor)
    got = (
        acts[(acts["activity_type"] == "meeting") & (acts["outcome"] == "held")]
        .groupby("rep")
        .size()
    )
    want = (
        truth[(truth["activity_type"] == "meeting") & (truth["outcome"] == "held")]
        .groupby("rep")
        .size()
    )
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index(), check_names=False, check_index_type=False
    )


@pytest.mark.parametrize("vendor", WITH_CONNECTED)
def test_loaded_connected_calls_per_rep_match(loaded, all_sims, vendor):
    acts = loaded[vendor][0]
    truth = _truth_activities(all_sims, vendor)
    got = (
        acts[(acts["activity_type"] == "call") & (acts["outcome"] == "connected")]
        .groupby("rep")
        .size()
    )
    want = (
        truth[(truth["activity_type"] == "call") & (truth["outcome"] == "connected")]
        .groupby("rep")
        .size()
    )
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index(), check_names=False, check_index_type=False
    )


def test_loaded_canonical_pair_builds_the_same_panel_as_the_simulation(loaded, all_sims):
    import salesgoals as sg

    acts, deals, _, _ = loaded["canonical"]
    sim = all_sims["canonical"]
    roster = sg.load_roster(str(SAMPLES / "roster.csv"))
    got = sg.build_panel(acts, deals, roster=roster, freq="W")
    want = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    cols = ["call", "email", "meeting", "linkedin", "call_connected", "meeting_held", "deals_created", "deals_won",
            "won_revenue"]  # fmt: skip
    pd.testing.assert_frame_equal(
        got[["rep", "period", *cols]].reset_index(drop=True), want[["rep", "period", *cols]].reset_index(drop=True),
        check_dtype=False,
    )  # fmt: skip


# ------------------------------------------------------------------ the export writers' own options and errors
@pytest.fixture(scope="module")
def small():
    from salesgoals.simulate import make_crm_data

    return make_crm_data(4, 12, seed=2, volume_scale=0.2)


def test_hubspot_api_style_options_round_trip_through_the_loader(small, tmp_path):
    """Milliseconds durations and internal stage ids (``closedwon``) are the API flavour of HubSpot exports."""
    import salesgoals as sg
    from salesgoals.simulate import exports as ex

    calls = ex.to_hubspot(small.activities, kind="calls", duration="ms")
    assert calls["Call duration"].str.fullmatch(r"\d+").all()
    deals = ex.to_hubspot(small.deals, kind="deals", stage_ids=True)
    assert {"closedwon", "closedlost"} <= set(deals["Deal Stage"])
    ex.write_export(calls, tmp_path / "calls.csv")
    ex.write_export(deals, tmp_path / "deals.csv")
    acts = sg.load_activities(tmp_path / "calls.csv", crm="auto")
    want = small.activities[small.activities["activity_type"] == "call"]
    np.testing.assert_allclose(acts["duration_min"].sum(), want["duration_min"].sum(), rtol=1e-9)
    loaded = sg.load_deals(tmp_path / "deals.csv", crm="auto")
    assert (
        loaded["status"].value_counts().to_dict() == small.deals["status"].value_counts().to_dict()
    )


def test_money_and_clock_formats():
    from salesgoals.simulate import exports as ex

    x = pd.Series([2900.0, 1234567.891, -5.5, np.nan, 0.0])
    assert ex._fmt_money(x, symbol="€", thousands=".", decimal=",", space=True).tolist() == [
        "€ 2.900,00", "€ 1.234.567,89", "-€ 5,50", "", "€ 0,00"]  # fmt: skip
    assert ex._fmt_money(x, symbol="$").tolist()[:2] == ["$2,900.00", "$1,234,567.89"]
    assert ex._fmt_clock(pd.Series([0.5, 61.25, np.nan])).tolist() == ["00:00:30", "01:01:15", ""]
    ts = pd.Series(pd.to_datetime(["2025-03-04 14:05", "2025-12-31 00:30", None]))
    assert ex._fmt_dates(ts, "us", time="us12").tolist() == [
        "3/4/2025 2:05 PM",
        "12/31/2025 12:30 AM",
        "",
    ]
    assert ex._fmt_dates(ts, "dmy_dot").tolist() == ["04.03.2025", "31.12.2025", ""]


def test_writers_refuse_wrong_input(small):
    from salesgoals.simulate import exports as ex
    from salesgoals.errors import SchemaError

    with pytest.raises(ValueError, match="kind must be one of 'deals', 'calls'"):
        ex.to_hubspot(small.activities, kind="notes")
    with pytest.raises(SchemaError, match="no column.*'timestamp'"):
        ex.to_pipedrive(small.activities.drop(columns="timestamp"), kind="activities")
    with pytest.raises(SchemaError, match="won/lost/open"):
        ex.to_salesforce_report(small.deals.assign(status="maybe"), kind="opportunities")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        ex.to_pipedrive([1, 2], kind="deals")


def test_exports_are_deterministic_and_spreadsheet_safe(small, tmp_path):
    from salesgoals.simulate import exports as ex

    first = np.arange(len(small.deals)) == 0
    deals = small.deals.assign(account=np.where(first, '=HYPERLINK("x")', small.deals["account"]))
    table = ex.to_pipedrive(deals, kind="deals")
    ex.write_export(table, tmp_path / "a.csv", sep=";")
    ex.write_export(ex.to_pipedrive(deals, kind="deals"), tmp_path / "b.csv", sep=";")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    text = (tmp_path / "a.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
