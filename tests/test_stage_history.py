"""load_stage_history: every layout, the stage order, the accounting, the errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import DataQualityError, DataQualityWarning, SchemaError
from salesgoals.simulate import exports as ex

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def _quiet(source, **kw):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DataQualityWarning, message="load_stage_history")
        return sg.load_stage_history(source, **kw)


@pytest.fixture(scope="module")
def sim():
    return sg.simulate.make_crm_data(n_reps=5, n_weeks=30, seed=4, volume_scale=0.2)


def _canon(h: pd.DataFrame) -> pd.DataFrame:
    return h[["deal_id", "stage", "entered"]].sort_values(["deal_id", "entered"]).reset_index(drop=True)


def test_generic_table_round_trip_and_accounting(sim):
    h = sg.load_stage_history(sim.stage_history)
    assert h.columns.tolist() == list(sg.io._stage_history.STAGE_HISTORY_COLUMNS)
    pd.testing.assert_frame_equal(_canon(h), _canon(sim.stage_history), check_dtype=False)
    q = h.attrs["quality"]
    assert q.loaded_rows + q.n_excluded == q.input_rows == len(sim.stage_history)
    # closed stages last, won before lost; the open stages in their true order
    assert h.attrs["stage_order"][-2:] == ["Closed Won", "Closed Lost"] or "Salesforce" in h.attrs[
        "stage_order_source"]
    idx = dict(zip(h["stage"], h["stage_index"]))
    assert idx["Qualification"] < idx["Needs Analysis"] < idx["Proposal/Price Quote"] < idx["Negotiation/Review"]
    assert set(h.loc[h["stage"] == "Closed Won", "status"]) == {"won"}
    assert set(h.loc[h["stage"] == "Closed Lost", "status"]) == {"lost"}


def test_salesforce_opportunity_history_excludes_restated_stages(sim):
    raw = ex.to_salesforce_opportunity_history(sim.stage_history, sim.deals, edits=0.3, seed=1)
    n_edits = len(raw) - len(sim.stage_history)
    assert n_edits > 0
    with pytest.warns(DataQualityWarning, match="no_stage_change"):
        h = sg.load_stage_history(raw)
    q = h.attrs["quality"]
    assert q.crm == ["salesforce"]
    assert q.excluded == {"no_stage_change": n_edits}
    assert q.loaded_rows + q.n_excluded == q.input_rows == len(raw)
    assert len(h) == len(sim.stage_history)
    assert h.attrs["stage_order_source"] == "vendor pipeline (Salesforce)"


def test_salesforce_field_history_report_labels():
    raw = pd.DataFrame(
        {
            "Opportunity Name": ["Acme", "Acme", "Acme", "Acme", "Beta", "Beta", ""],
            "Field / Event": ["Created.", "Stage", "Amount", "Stage", "Stage", "Close Date", "Stage"],
            "Old Value": ["", "Prospecting", "1000", "Qualification", "Qualification", "1/2/2025", "x"],
            "New Value": ["", "Qualification", "2000", "Closed Won", "Closed Lost", "2/2/2025", "y"],
            "Edit Date": ["1/3/2025 9:00", "1/9/2025 10:00", "1/10/2025", "2/1/2025", "1/20/2025", "1/21/2025",
                          "1/22/2025"],
        }
    )
    with pytest.warns(DataQualityWarning):
        h = sg.load_stage_history(raw)
    q = h.attrs["quality"]
    assert q.excluded == {"other_field": 2, "missing_deal_id": 1}
    assert q.loaded_rows == 4 and q.input_rows == 7
    acme = h[h["deal_id"] == "Acme"]
    assert acme["stage"].tolist() == ["Prospecting", "Qualification", "Closed Won"]  # creation row -> first stage
    assert acme["entered"].iloc[0] == pd.Timestamp("2025-01-03 09:00")
    assert h.loc[h["deal_id"] == "Beta", "status"].tolist() == ["lost"]


def test_hubspot_wide_sample_matches_the_simulation():
    h = sg.load_stage_history(SAMPLES / "hubspot-crm-exports-deals-stage-dates-2025-12-29.csv")
    q = h.attrs["quality"]
    assert q.crm == ["hubspot"] and q.n_excluded == 0
    assert h.attrs["stage_order_source"] == "vendor pipeline (HubSpot)"
    assert h.attrs["stage_order"][:2] == ["Appointment Scheduled", "Qualified To Buy"]
    deals = sg.load_deals(SAMPLES / "hubspot-crm-exports-all-deals-2025-12-29.csv")
    # same Record IDs as the deals export; every deal has its history, closed deals end closed
    assert set(h["deal_id"]) == set(deals["deal_id"].astype(str))
    last = h.groupby("deal_id")["status"].last()
    status = deals.set_index(deals["deal_id"].astype(str))["status"].reindex(last.index)
    assert (last == status).all()


def test_hubspot_api_names_and_pipeline_suffix():
    raw = pd.DataFrame(
        {
            "hs_object_id": ["1", "2", "3"],
            "hs_date_entered_appointmentscheduled": ["2025-01-01", "2025-01-02", ""],
            "hs_v2_date_entered_qualifiedtobuy": ["2025-01-05", "", "not a date"],
            "hs_date_entered_closedwon": ["2025-02-01", "", ""],
        }
    )
    with pytest.warns(DataQualityWarning, match="unparseable_entered"):
        h = sg.load_stage_history(raw)
    q = h.attrs["quality"]
    assert q.input_rows == 5 and q.excluded == {"unparseable_entered": 1} and q.loaded_rows == 4
    assert h.attrs["stage_order_source"] == "vendor pipeline (HubSpot)"
    assert h.loc[h["deal_id"] == "1", "stage_index"].tolist() == [0, 1, 5]


def test_spanish_backup_sample_orders_stages_from_the_data():
    h = _quiet(SAMPLES / "salesforce_backup" / "OpportunityHistory.csv")
    assert h.attrs["stage_order_source"] == "data (median entry order)"
    assert h.attrs["stage_order"] == ["Calificación", "Análisis de necesidades", "Propuesta/Presupuesto",
                                      "Negociación", "Cerrada ganada", "Cerrada perdida"]
    opps = sg.load_deals(SAMPLES / "salesforce_backup" / "Opportunity.csv")
    assert set(h["deal_id"]) <= set(opps["deal_id"].astype(str))


def test_zoho_stage_history_and_stage_order_override():
    raw = pd.DataFrame(
        {
            "Deal Name": ["D1", "D1", "D2", "D2", "D3"],
            "Stage": ["Intro", "Demo", "Intro", "Signed", "Demo"],
            "Modified Time": ["03/01/2025 10:00", "20/01/2025 11:00", "05/01/2025 10:00", "25/01/2025 09:00",
                              "07/01/2025 09:00"],
        }
    )
    h = sg.load_stage_history(raw, stage_map={"Signed": "won"})
    assert h.attrs["quality"].crm == ["zoho"]
    assert h.loc[h["stage"] == "Signed", "status"].tolist() == ["won"]
    assert h.attrs["stage_order"] == ["Intro", "Demo", "Signed"]  # data order, won last
    assert h["entered"].iloc[1] == pd.Timestamp("2025-01-20 11:00")  # day-first decided by the data
    h2 = sg.load_stage_history(raw, stage_order=["Demo", "Intro", "Signed"])
    assert h2.loc[h2["stage"] == "Demo", "stage_index"].unique().tolist() == [0]
    with pytest.raises(SchemaError, match="stage_order does not list 'Signed'"):
        sg.load_stage_history(raw, stage_order=["Intro", "Demo"])


def test_pipedrive_change_log():
    raw = pd.DataFrame(
        {
            "Deal - ID": ["7", "7", "7"],
            "field_key": ["stage_id", "value", "stage_id"],
            "old_value": ["1", "100", "2"],
            "new_value": ["2", "200", "3"],
            "log_time": ["2025-03-01 10:00:00", "2025-03-02 10:00:00", "2025-03-04 10:00:00"],
        }
    )
    with pytest.warns(DataQualityWarning, match="other_field"):
        h = sg.load_stage_history(raw)
    assert h.attrs["quality"].crm == ["pipedrive"]
    assert h["stage"].tolist() == ["2", "3"]


def test_named_errors():
    with pytest.raises(SchemaError, match=r"no entered column in '<DataFrame>'.*Found: deal_id, stage"):
        sg.load_stage_history(pd.DataFrame({"deal_id": ["a"], "stage": ["x"]}))
    with pytest.raises(DataQualityError, match="no stage entries left"):
        _quiet(pd.DataFrame({"deal_id": ["", ""], "stage": ["x", "y"], "entered": ["2025-01-01", "2025-01-02"]}))
    with pytest.raises(ValueError, match="crm must be"):
        sg.load_stage_history(pd.DataFrame({"deal_id": ["a"]}), crm="sap")
    with pytest.raises(ValueError, match="stage_map values"):
        sg.load_stage_history(pd.DataFrame({"deal_id": ["a"]}), stage_map={"x": "closed"})


def test_several_files_and_duplicates_across_them(sim, tmp_path):
    part = sim.stage_history.iloc[:50]
    p1, p2 = tmp_path / "a.csv", tmp_path / "b.csv"
    sg.write_csv(part, p1)
    sg.write_csv(part.iloc[:10], p2)  # the same ten rows again
    with pytest.warns(DataQualityWarning, match="duplicate_row"):
        h = sg.load_stage_history([p1, p2])
    q = h.attrs["quality"]
    assert q.input_rows == 60 and q.excluded == {"duplicate_row": 10} and len(h) == 50
    # sorted by deal, then date
    assert h.sort_values(["deal_id", "entered"], kind="mergesort").index.equals(pd.RangeIndex(len(h)))


def test_report_describes_every_exclusion_in_words(tmp_path):
    """The quality report's table gives each stage-history reason in plain words, never the raw key."""
    from salesgoals.io._stage_history import STAGE_HISTORY_REASONS

    raw = pd.DataFrame({
        "deal_id": ["D1", "D1", "D1", "", "D2", "D2", "D2", "D3"],
        "stage": ["Qualification", "Proposal", "Proposal", "Proposal", "Qualification", "", "Proposal", "Proposal"],
        "entered": ["2025-01-02", "2025-01-09", "2025-01-09", "2025-01-10", "2025-01-03", "2025-01-04", "soon",
                    ""],
    })  # fmt: skip
    path = tmp_path / "history.csv"
    raw.to_csv(path, index=False)
    with pytest.warns(DataQualityWarning, match=r"load_stage_history: 5 of 8 rows excluded \(missing_deal_id: 1, "
                      r"missing_entered: 1, missing_stage: 1, unparseable_entered: 1, duplicate_row: 1\)"):
        hist = sg.load_stage_history(path)
    table = hist.attrs["quality"].table
    assert {"missing_deal_id", "missing_stage", "unparseable_entered", "missing_entered", "duplicate_row"} <= set(
        table["reason"])  # fmt: skip
    assert (table["description"] != table["reason"]).all()
    want = table["reason"].map(STAGE_HISTORY_REASONS)
    assert (table["description"] == want).all()


def test_unlinked_interactions_are_described_in_words(sim):
    acts = sim.deal_activities.copy()
    acts.loc[acts.index[:5], "deal_id"] = "NOT-A-DEAL"
    acts.loc[acts.index[5:9], ["deal_id", "account"]] = None
    adv = sg.classify_advances(acts, sim.deals, sim.stage_history)
    t = adv.attrs["unlinked_table"]
    assert t.set_index("reason")["rows"].to_dict() == adv.attrs["unlinked"]
    assert t.set_index("reason").loc["unknown_deal", "rows"] == 5 and t.set_index("reason").loc["no_deal", "rows"] >= 4
    assert (t["description"] != t["reason"]).all() and t["description"].str.contains(" ").all()
