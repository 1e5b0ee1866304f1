"""Loader tests: one per vendor layout and per dialect, every error path, write_csv.

Every export is built in ``tmp_path`` from a small inline string so each test
shows exactly the bytes it feeds the loader.
"""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals._schema import ACTIVITY_COLUMNS, DEAL_COLUMNS, LOADED_DEAL_COLUMNS, ROSTER_COLUMNS
from salesgoals.errors import (
    AmountParseError,
    DataQualityError,
    DataQualityWarning,
    DateParseError,
    FileFormatError,
    SchemaError,
)
from salesgoals.io import DataQualityReport, load_activities, load_deals, load_roster, write_csv

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
ACTIVITY_CATEGORICALS = ("rep", "activity_type", "outcome")


def put(tmp_path: Path, name: str, text: str, *, encoding: str = "utf-8", newline: str = "\n",
        bom: bool = False) -> Path:
    """Write ``text`` (``\\n`` line ends) as bytes with the given encoding and line ends."""
    data = text.replace("\n", newline).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    p = tmp_path / name
    p.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return p


def quiet(fn, *args, **kw):
    """Call a loader, returning (frame, list of warning messages)."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(w.message) for w in rec if issubclass(w.category, DataQualityWarning)]


def check_contract(df: pd.DataFrame, columns) -> DataQualityReport:
    assert list(df.columns) == list(columns)
    q = df.attrs["quality"]
    assert isinstance(q, DataQualityReport)
    assert q.loaded_rows == len(df)
    assert q.loaded_rows + q.n_excluded == q.input_rows
    if "activity_type" in df.columns:  # the activity log's few-valued text columns are categoricals
        for c in ACTIVITY_CATEGORICALS:
            cats = df[c].cat.categories
            assert cats.dtype == "str" and cats.is_monotonic_increasing and cats.is_unique, c
            assert set(df[c].dropna()) == set(cats), f"{c}: every category is used by some row"
    return q


# ============================================================== vendor layouts
SF_OPP_REPORT = '''"Opportunity Pipeline"
"Acme Corp"
"As of 3/4/2025 9:05 AM"

"Opportunity Owner","Account Name","Opportunity Name","Opportunity ID","Stage","Amount","Probability (%)","Close Date","Created Date","Type"
"Ana Lee","Acme","Acme - 1","0065g01","Closed Won","$12,500.00","100","3/28/2025","2/14/2025","New Business"
"Ana Lee","Beta","Beta - 1","0065g02","Closed Lost","$800.00","0","3/15/2025","2/20/2025","New Business"
"Ben Ode","Gamma","Gamma - 1","0065g03","Negotiation/Review","$1,250.50","80","4/30/2025","3/1/2025","Renewal"
"Grand Totals (3 records)","","","","","$14,550.50","","","",""


"Opportunity Pipeline"
"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."
"Confidential Information - Do Not Distribute"
'''


def test_salesforce_opportunity_report_labels_title_footer_crlf(tmp_path):
    p = put(tmp_path, "opps.csv", SF_OPP_REPORT, newline="\r\n")
    deals, msgs = quiet(load_deals, p)
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert msgs == []
    assert q.crm == ["salesforce"]
    assert q.input_rows == 3 and q.furniture["title_rows"] == 4 and q.furniture["footer_rows"] >= 3
    assert deals["deal_id"].tolist() == ["0065g01", "0065g02", "0065g03"]
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals["amount"].tolist() == [12500.0, 800.0, 1250.5]
    assert deals["currency"].tolist()[0] == "USD"
    assert deals["closed"].iloc[0] == pd.Timestamp("2025-03-28")
    assert pd.isna(deals["closed"].iloc[2])  # an open deal's 'Close Date' is only the expected close
    assert deals["created"].iloc[2] == pd.Timestamp("2025-03-01")
    assert deals["pipeline"].iloc[2] == "Renewal"


SF_OPP_BACKUP = (
    '"Id","IsDeleted","AccountId","Name","StageName","Amount","CloseDate","IsClosed","IsWon","CurrencyIsoCode",'
    '"OwnerId","CreatedDate"\n'
    '"0061","0","0011","Caf\u00e9 deal","Closed Won","1200.5","2023-05-11 00:00:00","1","1","EUR","0055A","2023-01-17 17:00:04"\n'
    '"0062","0","0012","Ni\u00f1o deal","Negociaci\u00f3n","900","2023-06-30 00:00:00","0","0","EUR","0055B","2023-02-01 09:30:00"\n'
    '"0063","0","0013","Lost\x00 deal","Closed Lost","300","2023-04-02 00:00:00","1","0","USD","0055A","2023-02-03 10:00:00"\n'
)


def test_salesforce_api_backup_cp1252_with_nul_bytes(tmp_path):
    p = put(tmp_path, "Opportunity.csv", SF_OPP_BACKUP, encoding="cp1252")
    deals, _ = quiet(load_deals, p)
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["salesforce"]
    assert any("cp1252" in n for n in q.notes) and any("NUL" in n for n in q.notes)
    # the Spanish stage is unknown, but IsClosed=0 says the deal is open
    assert deals["status"].tolist() == ["won", "open", "lost"]
    assert deals["stage"].iloc[1] == "Negociaci\u00f3n"
    assert deals["rep"].tolist() == ["0055A", "0055B", "0055A"]
    assert deals["currency"].tolist() == ["EUR", "EUR", "USD"]
    assert deals["created"].iloc[0] == pd.Timestamp("2023-01-17 17:00:04")


@pytest.mark.parametrize("where", ["rep", "timestamp", "activity_id", "unread column"])
@pytest.mark.parametrize("name", ["late_nul.csv", "late_nul.csv.gz"])
def test_nul_bytes_past_the_first_256_kb_are_removed(tmp_path, where, name):
    """A NUL after the peek is found in the columns read; the file is read again without NUL bytes."""
    n = 12_000  # about 600 KB: the NUL lands well past the 256 KB peek
    rows = [f"Rep {i % 7},2024-03-{1 + i % 28:02d} 09:00,call,A{i:06d},x" for i in range(n)]
    last = rows[-1].split(",")
    col = {"rep": 0, "timestamp": 1, "activity_id": 3, "unread column": 4}[where]
    last[col] = last[col][:3] + "\x00" + last[col][3:]
    rows[-1] = ",".join(last)
    p = put(tmp_path, name, "Owner,Date,Type,Activity ID,Notes\n" + "\n".join(rows) + "\n")
    acts, msgs = quiet(load_activities, p, columns={"activity_id": "Activity ID"})
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.loaded_rows == n and msgs == []
    assert any("NUL bytes removed" in note for note in q.notes) == (where != "unread column")
    assert acts["rep"].iloc[-1] == f"Rep {(n - 1) % 7}"
    assert acts["timestamp"].iloc[-1] == pd.Timestamp(f"2024-03-{1 + (n - 1) % 28:02d} 09:00")
    assert acts["activity_id"].iloc[-1] == f"A{n - 1:06d}"
    assert not acts["activity_id"].str.contains("\x00").any()


SF_TASKS_API = """Id,WhoId,WhatId,Subject,ActivityDate,Status,OwnerId,Type,CallDurationInSeconds,CallDisposition,AccountId
00T1,003A,0061,Call,2024-03-04,Completed,0055A,Call,330,Connected,0011
00T2,003B,0062,Email: Proposal,2024-03-05,Completed,0055A,,,,0012
00T3,003C,0061,Call,2024-03-05,Completed,0055B,Call,20,Left Voicemail,0011
00T4,003D,,Demo,2024-03-06,Completed,0055B,Meeting,,,0013
"""


def test_salesforce_task_backup_api_names(tmp_path):
    acts, _ = quiet(load_activities, put(tmp_path, "Task.csv", SF_TASKS_API))
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.crm == ["salesforce"]
    assert acts["activity_type"].tolist() == ["call", "email", "call", "meeting"]  # blank Type: from the subject
    assert acts["outcome"].tolist()[:3] == ["connected", "sent", "voicemail"]
    assert acts["outcome"].iloc[3] == "held"  # meeting Status 'Completed'
    np.testing.assert_allclose(acts["duration_min"].to_numpy()[[0, 2]], [5.5, 20 / 60])
    assert acts["deal_id"].iloc[0] == "0061" and acts["account"].iloc[3] == "0013"


HS_CALLS = """Record ID,Activity date,Activity assigned to,Call Title,Call outcome,Call status,Call duration,Associated Deal IDs
101,2024-03-04 09:15,Ana Lee,Intro,Connected,COMPLETED,00:05:30,9001
102,2024-03-04 10:00,Ana Lee,Intro,No answer,NO_ANSWER,00:00:30,
103,2024-03-05 11:00,Ben Ode,Intro,Left voicemail,COMPLETED,00:01:00,
104,2024-03-05 12:00,Ben Ode,Intro,Busy,BUSY,00:00:10,
105,2024-03-05 12:30,Ben Ode,Intro,Wrong number,COMPLETED,00:00:10,
"""
HS_MEETINGS = """Record ID,Activity date,Activity assigned to,Meeting name,Start Time,End Time,Meeting outcome
201,2024-03-06 14:00,Ana Lee,Demo,2024-03-06 14:00,2024-03-06 14:30,COMPLETED
202,2024-03-07 14:00,Ben Ode,Demo,2024-03-07 14:00,2024-03-07 14:30,NO_SHOW
203,2024-03-08 14:00,Ben Ode,Demo,2024-03-08 14:00,2024-03-08 14:30,CANCELED
"""
HS_EMAILS = """Record ID,Activity date,Activity assigned to,Email subject,Email direction,Email send status
101,2024-03-04 08:00,Ana Lee,Hello,EMAIL,SENT
302,2024-03-04 08:30,Ana Lee,Re: Hello,INCOMING_EMAIL,
"""


def test_hubspot_calls_meetings_emails_as_list(tmp_path):
    files = [put(tmp_path, f, t) for f, t in
             (("calls.csv", HS_CALLS), ("meetings.csv", HS_MEETINGS), ("emails.csv", HS_EMAILS))]  # fmt: skip
    acts, msgs = quiet(load_activities, files)
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert msgs == []
    assert q.crm == ["hubspot"] * 3 and q.input_rows == 10 and q.loaded_rows == 10
    # record ids may repeat across objects (call 101 and email 101): not duplicates
    assert acts["activity_type"].tolist() == ["call"] * 5 + ["meeting"] * 3 + ["email"] * 2
    assert acts["outcome"].tolist() == ["connected", "no_answer", "voicemail", "busy", "wrong_number",
                                        "held", "no_show", "canceled", "sent", "received"]  # fmt: skip
    assert acts["duration_min"].iloc[0] == 5.5
    assert acts["deal_id"].iloc[0] == "9001"
    assert acts["timestamp"].iloc[0] == pd.Timestamp("2024-03-04 09:15")


def test_outcomes_mapped_up_front_or_by_used_combination_agree(tmp_path, monkeypatch):
    """Few (type, raw outcome) combinations are mapped up front; many, by the combinations rows use."""
    import salesgoals.io._load as sio

    files = [put(tmp_path, f, t) for f, t in
             (("calls.csv", HS_CALLS), ("meetings.csv", HS_MEETINGS), ("emails.csv", HS_EMAILS))]  # fmt: skip
    up_front, _ = quiet(load_activities, files)
    monkeypatch.setattr(sio, "_MAX_OUTCOME_COMBOS", 0)
    by_rows, _ = quiet(load_activities, files)
    pd.testing.assert_frame_equal(by_rows, up_front)
    assert up_front["outcome"].isna().sum() == 0 and "sent" in set(up_front["outcome"])


def test_stacked_inputs_keep_categoricals_on_the_union_of_categories(tmp_path):
    calls = put(tmp_path, "calls.csv", HS_CALLS)
    other = pd.DataFrame({"Owner": ["Zoe Park", " Ana Lee", "Ana Lee "], "Date": ["2024-03-05"] * 3,
                          "Type": ["sms", "sms", "sms"]})  # fmt: skip
    acts, _ = quiet(load_activities, [calls, other])
    check_contract(acts, ACTIVITY_COLUMNS)
    # padded spellings of one name clean to one category, shared with the other input's rows
    assert list(acts["rep"].cat.categories) == sorted(set(acts["rep"]))
    assert (acts["rep"] == "Ana Lee").sum() == 2 + (pd.read_csv(calls)["Activity assigned to"] == "Ana Lee").sum()
    assert acts["activity_type"].tolist()[-3:] == ["sms"] * 3


def test_a_value_only_excluded_rows_had_is_not_a_category(tmp_path):
    text = """Owner,Date,Type,Outcome
Ana Lee,2024-03-04,call,connected
Ben Ode,not a date,meeting,no show
"""
    acts, msgs = quiet(load_activities, put(tmp_path, "a.csv", text))
    assert check_contract(acts, ACTIVITY_COLUMNS).excluded == {"unparseable_timestamp": 1} and len(msgs) == 1
    assert list(acts["rep"].cat.categories) == ["Ana Lee"]
    assert list(acts["activity_type"].cat.categories) == ["call"]
    assert list(acts["outcome"].cat.categories) == ["connected"]


def test_hubspot_internal_names_and_epoch_ms(tmp_path):
    text = """hs_object_id,hs_timestamp,hubspot_owner_id,hs_call_disposition,hs_call_duration
1,1709543700000,311,connected,330000
2,1709547300000,311,no_answer,0
"""
    acts, _ = quiet(load_activities, put(tmp_path, "calls_api.csv", text))
    assert acts["activity_type"].tolist() == ["call", "call"]
    assert acts["timestamp"].iloc[0] == pd.Timestamp("2024-03-04 09:15")
    assert acts["duration_min"].tolist() == [5.5, 0.0]
    assert acts["rep"].tolist() == ["311", "311"]


HS_DEALS = """Record ID,Deal Name,Deal Stage,Close Date,Deal owner,Amount,Currency,Pipeline,Create Date,Is Closed Won
9001,A,Closed Won,2024-04-01 00:00,Ana Lee,26360,USD,Sales Pipeline,2024-03-01 00:00,true
9002,B,Closed Lost,2024-04-02 00:00,Ana Lee,1950,USD,Sales Pipeline,2024-03-02 00:00,false
9003,C,Contract Sent,2024-06-30 00:00,Ben Ode,2420,USD,Sales Pipeline,2024-03-03 00:00,false
"""


def test_hubspot_deals_bom(tmp_path):
    deals, _ = quiet(load_deals, put(tmp_path, "hubspot-crm-exports-all-deals.csv", HS_DEALS, bom=True))
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["hubspot"]
    assert deals["deal_id"].tolist() == ["9001", "9002", "9003"]
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals["pipeline"].iloc[0] == "Sales Pipeline"
    assert pd.isna(deals["closed"].iloc[2])


def test_hubspot_deal_internal_stage_ids(tmp_path):
    text = "hs_object_id,dealstage,closedate,hubspot_owner_id,amount,createdate\n" \
           "1,closedwon,2024-04-01,7,100,2024-03-01\n2,closedlost,2024-04-02,7,50,2024-03-01\n" \
           "3,appointmentscheduled,,8,70,2024-03-02\n"
    deals, _ = quiet(load_deals, put(tmp_path, "d.csv", text))
    assert deals.attrs["quality"].crm == ["hubspot"]
    assert deals["status"].tolist() == ["won", "lost", "open"]


PD_ACTIVITIES = """Activity - ID;Activity - Subject;Activity - Type;Activity - Due date;Activity - Due time;Activity - Duration;Activity - Done;Activity - Assigned to user;Activity - Deal
1;Call;Call;30.12.2024;08:03;00:05;Done;Nico Tanaka;Acme deal
2;Email;Email;30.12.2024;10:42;;Done;Rowan Moreau;
3;Demo;Meeting;31.12.2024;15:00;01:00;Done;Rowan Moreau;Acme deal
4;Demo;Meeting;13.01.2025;15:00;00:30;Undone;Nico Tanaka;
"""


def test_pipedrive_activities_semicolon_dmy_due_time(tmp_path):
    acts, _ = quiet(load_activities, put(tmp_path, "pd_acts.csv", PD_ACTIVITIES))
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.crm == ["pipedrive"]
    assert acts["timestamp"].tolist()[0] == pd.Timestamp("2024-12-30 08:03")
    assert acts["timestamp"].tolist()[3] == pd.Timestamp("2025-01-13 15:00")
    assert acts["activity_type"].tolist() == ["call", "email", "meeting", "meeting"]
    assert acts["outcome"].tolist()[1:] == ["sent", "held", "scheduled"]
    assert pd.isna(acts["outcome"].iloc[0])  # a done call says nothing about connecting
    assert acts["duration_min"].tolist()[0] == 5.0 and acts["duration_min"].tolist()[2] == 60.0


PD_DEALS = """Deal - ID;Deal - Title;Deal - Value;Deal - Currency;Deal - Owner;Deal - Stage;Deal - Status;Deal - Deal created;Deal - Expected close date;Deal - Won time;Deal - Lost time
1;A;€ 2.900,00;EUR;Kai Sato;Contact Made;lost;27.12.2024 00:00;22.01.2025;;22.01.2025 00:00
2;B;€ 12.500,50;EUR;Kai Sato;Negotiations Started;won;15.01.2025 00:00;30.01.2025;02.02.2025 10:00;
3;C;€ 750,00;EUR;Ivy Chen;Lead In;open;16.01.2025 00:00;28.02.2025;;
"""


def test_pipedrive_deals_euro_amounts_status_won_lost_time(tmp_path):
    deals, _ = quiet(load_deals, put(tmp_path, "pd_deals.csv", PD_DEALS))
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["pipedrive"]
    assert deals["amount"].tolist() == [2900.0, 12500.5, 750.0]
    assert deals["status"].tolist() == ["lost", "won", "open"]
    assert deals["closed"].iloc[0] == pd.Timestamp("2025-01-22")
    assert deals["closed"].iloc[1] == pd.Timestamp("2025-02-02 10:00")
    assert pd.isna(deals["closed"].iloc[2])  # expected close date is not a close


ZOHO_DEALS = """Record Id,Deal Owner,Deal Name,Account Name,Stage,Closing Date,Amount,Created Time
z1,Ana Lee,A,Acme,Closed Won,28/03/2025,"1,200.00",14/02/2025 10:00
z2,Ana Lee,B,Beta,Closed-Lost to Competition,15/03/2025,800,20/02/2025 11:00
z3,Ben Ode,C,Gamma,Needs Analysis,30/04/2025,950,01/03/2025 09:00
"""


def test_zoho_deals_day_first_from_data(tmp_path):
    deals, msgs = quiet(load_deals, put(tmp_path, "Deals_001.csv", ZOHO_DEALS))
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["zoho"] and msgs == []
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals["created"].iloc[0] == pd.Timestamp("2025-02-14 10:00")
    assert any("day-first, decided by the data" in n for n in q.notes)


def test_zoho_calls(tmp_path):
    text = """Id,Call Start Time,Call Owner Name,Call Type,Call Duration (in seconds),Call Status,Call Result
1,2024-03-04 09:00:00,Ana Lee,Outbound,120,Attended Dialled,
2,2024-03-04 10:00:00,Ana Lee,Outbound,0,Unattended Dialled,
"""
    acts, _ = quiet(load_activities, put(tmp_path, "Calls.csv", text))
    assert acts.attrs["quality"].crm == ["zoho"]
    assert acts["activity_type"].tolist() == ["call", "call"]
    assert acts["outcome"].tolist() == ["connected", "no_answer"]
    assert acts["duration_min"].tolist() == [2.0, 0.0]


DYN_OPPS = """(Do Not Modify) Opportunity,(Do Not Modify) Row Checksum,(Do Not Modify) Modified On,Topic,Potential Customer,Est. Revenue,Actual Revenue,Status,Actual Close Date,Owner,Created On
6f1c-01,abc==,2025-01-02 10:00,Big deal,Acme,"$4,800.00","$5,000.00",Won,2/3/2025,Ana Lee,1/2/2025 9:00 AM
6f1c-02,def==,2025-01-02 10:00,Small deal,Beta,$900.00,,Lost,2/15/2025,Ana Lee,1/5/2025 2:30 PM
6f1c-03,ghi==,2025-01-02 10:00,Open deal,Gamma,$300.00,,Open,,Ben Ode,1/20/2025 11:15 AM
"""


def test_dynamics_opportunities_skip_do_not_modify(tmp_path):
    deals, _ = quiet(load_deals, put(tmp_path, "Opportunities.csv", DYN_OPPS))
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["dynamics"]
    assert "(Do Not Modify) Row Checksum" not in q.columns[0].values()
    assert deals["deal_id"].tolist() == ["6f1c-01", "6f1c-02", "6f1c-03"]
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals["created"].iloc[1] == pd.Timestamp("2025-01-05 14:30")  # 12-hour clock
    # Actual Revenue (set only once won) for the won deal, Est. Revenue for the others
    assert deals["amount"].tolist() == [5000.0, 900.0, 300.0]


CLOSE_OPPS = """id,lead_name,status_label,status_type,value,value_currency,value_period,user_name,date_created,date_won,date_lost
oppo_1,Acme,Won,won,125000,USD,one_time,Ana Lee,2024-03-01 10:00:00.123456+00:00,2024-04-01 09:00:00.000000+00:00,
oppo_2,Beta,Lost,lost,50000,USD,one_time,Ana Lee,2024-03-02 10:00:00.000000+00:00,,2024-04-03 09:00:00.000000+00:00
oppo_3,Gamma,Active,active,7000,USD,one_time,Ben Ode,2024-03-03 10:00:00.000000-05:00,,
"""


def test_close_opportunities_cents_and_offsets(tmp_path):
    deals, _ = quiet(load_deals, put(tmp_path, "close_opps.csv.gz", CLOSE_OPPS))
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    assert q.crm == ["close"]
    assert deals["amount"].tolist() == [1250.0, 500.0, 70.0]
    assert deals["status"].tolist() == ["won", "lost", "open"]
    assert deals["closed"].iloc[1] == pd.Timestamp("2024-04-03 09:00")
    assert deals["created"].iloc[2] == pd.Timestamp("2024-03-03 15:00")  # offsets converted to UTC
    kept = load_deals(put(tmp_path, "close2.csv", CLOSE_OPPS), amount_in_cents=False)
    assert kept["amount"].iloc[0] == 125000.0
    # value_formatted settles the unit when present
    units = "id,status_type,value,value_formatted,user_name,date_created,date_won\n" \
            "o1,won,1250,\"$1,250\",Ana,2024-03-01,2024-04-01\n"
    assert load_deals(put(tmp_path, "close3.csv", units))["amount"].iloc[0] == 1250.0
    cents = units.replace(",1250,", ",125000,")
    assert load_deals(put(tmp_path, "close4.csv", cents))["amount"].iloc[0] == 1250.0


def test_close_activities(tmp_path):
    text = """id,_type,user_name,date_created,duration,disposition,lead_name
acti_1,Call,Ana Lee,2024-03-04T09:00:00+00:00,300,answered,Acme
acti_2,Call,Ana Lee,2024-03-04T10:00:00+00:00,0,no-answer,Beta
acti_3,Email,Ben Ode,2024-03-04T11:00:00+00:00,,,Gamma
acti_4,LeadStatusChange,Ben Ode,2024-03-04T12:00:00+00:00,,,Gamma
"""
    acts, msgs = quiet(load_activities, put(tmp_path, "close_acts.csv", text))
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.crm == ["close"]
    assert acts["activity_type"].tolist() == ["call", "call", "email"]
    assert acts["outcome"].tolist() == ["connected", "no_answer", "sent"]
    assert acts["duration_min"].iloc[0] == 5.0
    assert q.excluded == {"not_an_activity": 1} and len(msgs) == 1


def test_generic_layout(tmp_path):
    text = "Owner,Date,Type,Result\nAna Lee,2024-03-04,Phone Call,answered\nBen Ode,2024-03-05,LinkedIn message,\n"
    acts, _ = quiet(load_activities, put(tmp_path, "log.csv", text))
    assert acts.attrs["quality"].crm == ["generic"]
    assert acts["activity_type"].tolist() == ["call", "linkedin"]
    assert acts["outcome"].iloc[0] == "connected"


def test_columns_override_and_type_map(tmp_path):
    text = "Who,When,What\nAna Lee,2024-03-04,Discovery\nBen Ode,2024-03-05,Cold call\n"
    acts, _ = quiet(load_activities, put(tmp_path, "x.csv", text),
                    columns={"rep": "who", "timestamp": "WHEN ", "activity_type": "What"},
                    type_map={"Discovery": "meeting"})  # fmt: skip
    assert acts["rep"].tolist() == ["Ana Lee", "Ben Ode"]
    assert acts["activity_type"].tolist() == ["meeting", "call"]


def test_explicit_activity_type_per_file(tmp_path):
    a = put(tmp_path, "a.csv", "rep,timestamp\nAna,2024-01-02\n")
    b = put(tmp_path, "b.csv", "rep,timestamp\nBen,2024-01-03\n")
    acts, _ = quiet(load_activities, [a, b], activity_type=["call", "LinkedIn"])
    assert acts["activity_type"].tolist() == ["call", "linkedin"]


def test_stage_map_for_custom_stages(tmp_path):
    text = "deal_id,rep,created,stage,close date,amount\n1,Ana,2024-01-02,Signed,2024-02-01,10\n" \
           "2,Ana,2024-01-03,Churned,2024-02-02,5\n3,Ben,2024-01-04,Talking,,7\n"
    deals, _ = quiet(load_deals, put(tmp_path, "d.csv", text),
                     stage_map={"signed": "won", "Churned": "lost", "Talking": "open"})  # fmt: skip
    assert deals["status"].tolist() == ["won", "lost", "open"]


# ============================================================== dialects
CANON_ACTS = "rep,timestamp,activity_type,activity_id\nAna,2024-03-04 09:00,call,a1\nBen,2024-03-05 10:30,email,a2\n"


@pytest.mark.parametrize(
    "name,encoding,newline,bom,sep",
    [
        ("utf8.csv", "utf-8", "\n", False, ","),
        ("bom.csv", "utf-8", "\n", True, ","),
        ("cp.csv", "cp1252", "\n", False, ","),
        ("crlf.csv", "utf-8", "\r\n", False, ","),
        ("semi.csv", "utf-8", "\n", False, ";"),
        ("tab.tsv", "utf-8", "\n", False, "\t"),
        ("pipe.txt", "utf-8", "\r\n", True, "|"),
        ("gz.csv.gz", "utf-8", "\n", False, ","),
        ("utf16.csv", "utf-16", "\r\n", False, "\t"),
    ],
)
def test_dialects(tmp_path, name, encoding, newline, bom, sep):
    text = CANON_ACTS.replace("Ana", "Zo\u00eb").replace(",", sep)
    acts, msgs = quiet(load_activities, put(tmp_path, name, text, encoding=encoding, newline=newline, bom=bom))
    check_contract(acts, ACTIVITY_COLUMNS)
    assert msgs == []
    assert acts["rep"].tolist() == ["Zo\u00eb", "Ben"]
    assert acts["timestamp"].tolist() == [pd.Timestamp("2024-03-04 09:00"), pd.Timestamp("2024-03-05 10:30")]
    assert acts["activity_id"].tolist() == ["a1", "a2"]


def test_quoted_values_with_newlines_and_delimiters(tmp_path):
    text = 'rep,timestamp,activity_type,notes\nAna,2024-03-04,call,"line one\nline two, with comma"\nBen,2024-03-05,email,x\n'
    acts, _ = quiet(load_activities, put(tmp_path, "q.csv", text))
    assert acts["rep"].tolist() == ["Ana", "Ben"]
    assert acts.attrs["quality"].excluded == {}


def test_xlsx_with_title_rows_and_excel_dates(tmp_path):
    p = tmp_path / "report.xlsx"
    grid = pd.DataFrame([
        ["Pipedrive export", None, None],
        [None, None, None],
        ["Activity - Assigned to user", "Activity - Due date", "Activity - Type"],
        ["Ana", 45631, "Call"],
        ["Ben", 45632.5, "Meeting"],
    ])  # fmt: skip
    grid.to_excel(p, header=False, index=False)
    acts, _ = quiet(load_activities, p)
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.crm == ["pipedrive"] and q.furniture["title_rows"] >= 1
    assert acts["timestamp"].tolist() == [pd.Timestamp("2024-12-05"), pd.Timestamp("2024-12-06 12:00")]


def test_xlsx_with_real_datetimes(tmp_path):
    p = tmp_path / "deals.xlsx"
    pd.DataFrame({"Deal owner": ["Ana"], "Create Date": [pd.Timestamp("2024-02-01 10:00")], "Amount": [100.0],
                  "Deal Stage": ["Closed Won"], "Close Date": [pd.Timestamp("2024-03-01")], "Record ID": [5]}
                 ).to_excel(p, index=False)  # fmt: skip
    deals, _ = quiet(load_deals, p)
    assert deals["created"].iloc[0] == pd.Timestamp("2024-02-01 10:00")
    assert deals["deal_id"].iloc[0] == "5"
    assert deals["status"].iloc[0] == "won"


def test_parquet_and_dataframe_inputs(tmp_path):
    sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=6, seed=4)
    p = tmp_path / "deals.parquet"
    sim.deals.to_parquet(p)
    a = load_deals(p)
    b = load_deals(sim.deals)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == len(sim.deals)


@pytest.mark.parametrize(
    "values,expected",
    [
        (["2024-03-04", "2024-12-31"], ["2024-03-04", "2024-12-31"]),
        (["2024-03-04T09:15:00", "2024-12-31T23:59:59"], ["2024-03-04 09:15", "2024-12-31 23:59:59"]),
        (["3/4/2024", "12/31/2024"], ["2024-03-04", "2024-12-31"]),  # m/d/Y: 31 decides
        (["04/03/2024", "31/12/2024"], ["2024-03-04", "2024-12-31"]),  # d/m/Y: 31 decides
        (["04.03.2024 09:15", "31.12.2024 17:00"], ["2024-03-04 09:15", "2024-12-31 17:00"]),
        (["3/4/2024 9:15 AM", "12/31/2024 5:00 PM"], ["2024-03-04 09:15", "2024-12-31 17:00"]),
        (["45355", "45657.75"], ["2024-03-04", "2024-12-31 18:00"]),  # Excel serials
        (["2024-03-04", "2024-03-05 10:00"], ["2024-03-04", "2024-03-05 10:00"]),  # with and without times
        (["04 Mar 2024", "31 Dec 2024"], ["2024-03-04", "2024-12-31"]),
    ],
)
def test_date_styles(values, expected):
    df = pd.DataFrame({"rep": ["a", "b"], "timestamp": values, "activity_type": "call"})
    acts, msgs = quiet(load_activities, df)
    assert msgs == []
    assert acts["timestamp"].tolist() == [pd.Timestamp(x) for x in expected]


def test_ambiguous_dates_warn_and_take_dayfirst():
    df = pd.DataFrame({"rep": ["a", "b"], "timestamp": ["03/04/2024", "05/06/2024"], "activity_type": "call"})
    with pytest.warns(DataQualityWarning, match="AMBIGUOUS.*dayfirst=True"):
        acts = load_activities(df)
    assert acts["timestamp"].iloc[0] == pd.Timestamp("2024-03-04")
    acts2, msgs = quiet(load_activities, df, dayfirst=True)
    assert acts2["timestamp"].iloc[0] == pd.Timestamp("2024-04-03") and msgs == []
    acts3, _ = quiet(load_activities, df, date_format="%d/%m/%Y")
    assert acts3["timestamp"].iloc[1] == pd.Timestamp("2024-06-05")


@pytest.mark.parametrize(
    "text,value,currency",
    [
        ("€ 2.900,00", 2900.0, "EUR"),
        ("$1,234.56", 1234.56, "USD"),
        ("1.234,5", 1234.5, None),
        ("(1,200.00)", None, "USD"),  # negative in accounting style: excluded as negative
        ("USD 1,200", 1200.0, "USD"),
        ("1 200,50 EUR", 1200.5, "EUR"),
        ("£99", 99.0, "GBP"),
        ("1500", 1500.0, None),
    ],
)
def test_amount_styles(text, value, currency):
    df = pd.DataFrame({"deal_id": ["1", "2"], "rep": "a", "created": "2024-01-01", "status": "open",
                       "amount": [text, "10"]})  # fmt: skip
    deals, msgs = quiet(load_deals, df)
    if value is None:
        assert deals["deal_id"].tolist() == ["2"]
        assert deals.attrs["quality"].excluded == {"negative_amount": 1}
        assert "negative amount" in msgs[0]
    else:
        assert deals["amount"].iloc[0] == pytest.approx(value)
        assert (deals["currency"].iloc[0] == currency) if currency else pd.isna(deals["currency"].iloc[0])


# ============================================================== data quality
def test_quality_report_counts_every_reason_and_warns_once(tmp_path):
    text = """deal_id,rep,created,closed,status,amount
1,Ana,2024-01-02,2024-02-01,won,100
1,Ana,2024-01-02,2024-02-01,won,100
1,Ana,2024-01-03,2024-02-01,won,120
2,,2024-01-02,,open,50
3,Ben,not a date,,open,50
4,Ben,2024-01-05,,won,70
5,Ben,2024-01-06,,open,-5
6,Ben,2024-01-07,,open,
7,Ben,2024-01-08,,open,abc
8,Ben,2024-01-09,2024-02-01,lost,40
"""
    with pytest.warns(DataQualityWarning) as rec:
        deals = load_deals(put(tmp_path, "deals.csv", text))
    assert len([w for w in rec if issubclass(w.category, DataQualityWarning)]) == 1
    q = check_contract(deals, LOADED_DEAL_COLUMNS)
    # the same id with other content (row 3) is kept and warned: only exact duplicate rows go
    assert q.excluded == {"missing_rep": 1, "unparseable_created": 1, "closed_without_close_date": 1,
                          "unparseable_amount": 1, "negative_amount": 1, "duplicate_row": 1}
    assert q.repaired == {"missing_amount_set_to_0": 1}
    assert deals["deal_id"].tolist() == ["1", "1", "6", "8"]
    assert deals["amount"].tolist() == [100.0, 120.0, 0.0, 40.0]
    assert "row 5" in q.examples["unparseable_created"] and "not a date" in q.examples["unparseable_created"]
    tab = q.table
    assert list(tab.columns) == ["reason", "rows", "action", "description", "example"]
    assert tab["rows"].sum() == q.n_excluded + 1
    s = q.summary()
    assert "10 read, 4 loaded, 6 excluded" in str(s) and "<table" in s._repr_html_()
    assert "excluded 6 of 10" in str(rec[0].message)
    assert "1 deals share an id with an earlier deal but differ in content" in str(rec[0].message)


def test_malformed_rows_are_counted(tmp_path):
    text = "rep,timestamp,activity_type,activity_id\nAna,2024-03-04,call,1\nBen,2024-03-05,call,2,extra,fields\n"
    acts, msgs = quiet(load_activities, put(tmp_path, "m.csv", text))
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.excluded == {"malformed_row": 1} and q.input_rows == 2
    assert "extra" in q.examples["malformed_row"]


def test_blank_reps_and_unparseable_timestamps_excluded():
    df = pd.DataFrame({"rep": ["a", " ", None, "b"], "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03", "x"],
                       "activity_type": "call"})  # fmt: skip
    acts, msgs = quiet(load_activities, df)
    assert acts["rep"].tolist() == ["a"]
    assert acts.attrs["quality"].excluded == {"missing_rep": 2, "unparseable_timestamp": 1}
    assert len(msgs) == 1


def test_roster_loader(tmp_path):
    text = "Name,Team,Reports To,Territory,Hire Date,Termination Date\nAna,East,Kim,EU,2023-04-01,\n" \
           "Ben,,Kim,EU,2023-05-01,2024-01-31\nAna,West,Kim,EU,2023-04-01,\n"
    roster, msgs = quiet(load_roster, put(tmp_path, "roster.csv", text))
    q = check_contract(roster, ROSTER_COLUMNS)
    assert roster["rep"].tolist() == ["Ana", "Ben"]
    assert roster["team"].tolist() == ["East", "(unassigned)"]
    assert pd.isna(roster["end"].iloc[0]) and roster["end"].iloc[1] == pd.Timestamp("2024-01-31")
    assert q.excluded == {"duplicate_rep": 1} and len(msgs) == 1


# ============================================================== errors
def test_error_missing_rep_column(tmp_path):
    p = put(tmp_path, "acts.csv", "timestamp,activity_type\n2024-01-01,call\n")
    with pytest.raises(SchemaError, match=r"no rep column in 'acts.csv'.*Found: timestamp, activity_type.*columns="):
        load_activities(p)


def test_error_missing_activity_type_suggests_argument(tmp_path):
    p = put(tmp_path, "acts.csv", "rep,timestamp\nAna,2024-01-01\n")
    with pytest.raises(SchemaError, match=r"activity_type.*activity_type='call'"):
        load_activities(p)


def test_error_deals_missing_created(tmp_path):
    p = put(tmp_path, "d.csv", "deal_id,rep,stage,amount\n1,Ana,Closed Won,10\n")
    with pytest.raises(SchemaError, match=r"(?i)no created column in 'd.csv'.*create date"):
        load_deals(p)


def test_error_columns_names_missing_header(tmp_path):
    p = put(tmp_path, "a.csv", CANON_ACTS)
    with pytest.raises(SchemaError, match=r"columns=\{'rep': 'Owner'\} but 'a.csv' has no column 'Owner'"):
        load_activities(p, columns={"rep": "Owner"})
    with pytest.raises(SchemaError, match=r"unknown canonical name\(s\) 'owner'"):
        load_activities(p, columns={"owner": "rep"})


def test_error_bad_crm_and_stage_map(tmp_path):
    p = put(tmp_path, "a.csv", CANON_ACTS)
    with pytest.raises(ValueError, match="crm must be one of"):
        load_activities(p, crm="sap")
    with pytest.raises(ValueError, match="stage_map values must be 'won', 'lost' or 'open'"):
        load_deals(p, stage_map={"Signed": "yes"})


def test_error_unknown_stages_list_them_and_the_fix(tmp_path):
    text = "deal_id,rep,created,stage,amount\n1,Ana,2024-01-02,Signed,10\n2,Ana,2024-01-02,Signed,10\n" \
           "3,Ana,2024-01-02,Verbal,10\n"
    with pytest.raises(DataQualityError, match=r"'Signed' \(2 rows\), 'Verbal' \(1 rows\).*stage_map=\{'Signed'"):
        load_deals(put(tmp_path, "d.csv", text))


def test_error_mixed_day_order(tmp_path):
    df = pd.DataFrame({"rep": ["a", "b"], "timestamp": ["13/01/2024", "01/13/2024"], "activity_type": "call"})
    with pytest.raises(DateParseError, match=r"mixes day-first and month-first dates.*'13/01/2024'"):
        load_activities(df)


def test_error_dayfirst_contradicted_by_data():
    df = pd.DataFrame({"rep": ["a", "b"], "timestamp": ["01/13/2024", "02/14/2024"], "activity_type": "call"})
    with pytest.raises(DateParseError, match=r"dayfirst=True was passed.*'01/13/2024'.*month-first"):
        load_activities(df, dayfirst=True)


def test_error_not_dates():
    df = pd.DataFrame({"rep": ["a", "b"], "timestamp": ["soon", "later"], "activity_type": "call"})
    with pytest.raises(DateParseError, match=r"column 'timestamp' of '<DataFrame>'.*'soon'.*date_format="):
        load_activities(df)


def test_error_mostly_bad_dates_names_rows():
    df = pd.DataFrame({"rep": list("abcd"), "timestamp": ["2024-01-01", "2024-13-45", "2024-99-01", "x2024-01-01"],
                       "activity_type": "call"})  # fmt: skip
    with pytest.raises(DateParseError, match=r"3 of 4 values.*row 2 \('2024-13-45'\)"):
        load_activities(df)


def test_error_amounts_mixed_decimal_marks():
    df = pd.DataFrame({"deal_id": ["1", "2"], "rep": "a", "created": "2024-01-01", "status": "open",
                       "amount": ["1.234,50", "1,234.50"]})  # fmt: skip
    with pytest.raises(AmountParseError, match=r"mixes decimal commas and decimal points.*'1.234,50'"):
        load_deals(df)


def test_error_amounts_not_numbers():
    df = pd.DataFrame({"deal_id": ["1", "2"], "rep": "a", "created": "2024-01-01", "status": "open",
                       "amount": ["lots", "many"]})  # fmt: skip
    with pytest.raises(AmountParseError, match=r"2 of 2 values in column 'amount'.*row 1 \('lots'\)"):
        load_deals(df)


def test_error_file_problems(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_activities(tmp_path / "nope.csv")
    with pytest.raises(FileFormatError, match="empty"):
        load_activities(put(tmp_path, "empty.csv", "\n\n"))
    with pytest.raises(FileFormatError, match="unsupported file type.*never unpickles"):
        load_activities(put(tmp_path, "x.pkl", "abc"))
    with pytest.raises(TypeError, match="expected a file path or a pandas DataFrame; got int"):
        load_activities(42)
    with pytest.raises(ValueError, match="no input given"):
        load_activities([])


def test_error_everything_excluded():
    df = pd.DataFrame({"rep": ["", ""], "timestamp": ["2024-01-01", "2024-01-02"], "activity_type": "call"})
    with pytest.raises(DataQualityError, match=r"all 2 rows of '<DataFrame>' were excluded \(2 missing rep\)"):
        load_activities(df)


# ============================================================== write_csv and round trips
def test_write_csv_is_spreadsheet_safe_and_deterministic(tmp_path):
    df = pd.DataFrame({
        "text": ["=1+2", "+cmd", "-12.5", "@SUM(A1)", "\tx", "plain", None],
        "num": [1.5, -12.5, np.nan, np.inf, 1e-12, 123456789.125, 0.1 + 0.2],
        "when": pd.to_datetime(["2024-01-01 10:00"] * 6 + [None]),
    })  # fmt: skip
    p1, p2 = tmp_path / "a.csv", tmp_path / "b.csv"
    write_csv(df, p1)
    write_csv(df.copy(), p2)
    data = p1.read_bytes()
    assert data == p2.read_bytes() and b"\r\n" not in data
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "text,num,when"
    assert lines[1] == "'=1+2,1.5,2024-01-01 10:00:00"
    assert lines[2].startswith("'+cmd,-12.5,")
    assert lines[3].startswith("-12.5,,")  # a genuine number in a text column stays a number; NaN -> empty
    assert lines[4].startswith("'@SUM(A1),,")  # inf -> empty
    assert lines[5].startswith('"\'\tx"') or lines[5].startswith("'\tx")
    assert lines[7] == ",0.3,"


def test_simulator_frames_round_trip_unchanged(tmp_path):
    sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=16, seed=5)
    for frame, loader, name in ((sim.activities, load_activities, "a.csv"), (sim.deals, load_deals, "d.csv"),
                                (sim.roster, load_roster, "r.csv")):  # fmt: skip
        write_csv(frame, tmp_path / name)
        back, msgs = quiet(loader, tmp_path / name)
        assert msgs == []
        expected = frame.copy()
        for c in expected.columns:
            if expected[c].dtype == object or isinstance(expected[c].dtype, pd.StringDtype):
                expected[c] = expected[c].astype("str")
        if loader is load_deals:  # the loader adds each deal's date issue: none in simulated deals
            assert back.pop("date_issue").isna().all()
        pd.testing.assert_frame_equal(back, expected, check_dtype=False, check_exact=False, rtol=1e-9)
        for c in back.columns:  # canonical dtypes
            assert back[c].dtype.kind in "OUMf" or pd.api.types.is_string_dtype(back[c])


def test_loaded_frames_feed_build_panel(tmp_path):
    sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=10, seed=2)
    acts = load_activities(sim.activities)
    deals = load_deals(sim.deals)
    roster = load_roster(sim.roster)
    a = sg.build_panel(acts, deals, roster=roster)
    b = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


# ============================================================== bundled samples
def _catalog() -> pd.DataFrame:
    path = SAMPLES / "catalog.csv"
    return pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["file", "kind", "vendor", "rows"])


@pytest.mark.parametrize("row", [r for _, r in _catalog().iterrows() if r["kind"] in ("activities", "deals", "roster")],
                         ids=lambda r: r["file"])  # fmt: skip
def test_every_sample_loads_with_auto_detection(row):
    loader = {"activities": load_activities, "deals": load_deals, "roster": load_roster}[row["kind"]]
    df, _ = quiet(loader, SAMPLES / row["file"])
    q = check_contract(df, {"activities": ACTIVITY_COLUMNS, "deals": LOADED_DEAL_COLUMNS, "roster": ROSTER_COLUMNS}[row["kind"]])
    assert q.input_rows == int(row["rows"])
    expected_vendor = {"canonical": "generic"}.get(row["vendor"], row["vendor"])
    if row["kind"] != "roster":
        assert q.crm == [expected_vendor]
    if row["kind"] == "deals":
        assert set(df["status"]) <= {"won", "lost", "open"} and df["amount"].ge(0).all()
        assert df.loc[df["status"] == "open", "closed"].isna().all()
    if row["kind"] == "activities":
        assert df["activity_type"].notna().all() and df["timestamp"].notna().all()


def test_excel_sheet_errors(tmp_path):
    p = tmp_path / "book.xlsx"
    pd.DataFrame({"rep": ["a"], "timestamp": ["2024-01-01"], "activity_type": ["call"]}).to_excel(
        p, index=False, sheet_name="Data")
    assert load_activities(p, sheet_name="Data")["rep"].tolist() == ["a"]
    with pytest.raises(FileFormatError, match=r"cannot read sheet 'Nope'.*sheet_name="):
        load_activities(p, sheet_name="Nope")


@pytest.mark.parametrize("kind", ["numeric", "sorted_text", "unsorted_text"])
def test_duplicate_ids_found_in_large_logs(kind):
    # above 200,000 rows the loader first tries cheap uniqueness proofs; duplicates must still be found
    n = 210_000
    ids = np.arange(n)
    if kind == "unsorted_text":
        ids = np.random.default_rng(0).permutation(n)
    ids[-1] = ids[5]  # one repeated id at the end
    text = ids.astype(str) if kind == "numeric" else np.char.add("A", np.char.zfill(ids.astype(str), 7))
    frame = pd.DataFrame({"rep": "Ana", "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), "s"),
                          "activity_type": "call", "activity_id": text})  # fmt: skip
    acts, msgs = quiet(load_activities, frame)
    assert acts.attrs["quality"].excluded == {"duplicate_id": 1} and len(acts) == n - 1
    assert len(msgs) == 1


def _long_log(n: int) -> str:
    ts = pd.date_range("2024-01-01", periods=n, freq="min").strftime("%Y-%m-%d %H:%M:%S")
    return "rep,timestamp,activity_type,activity_id,duration_min\n" + "".join(
        f"Ana Lee,{t},call,{i},{i % 7}.5\n" for i, t in enumerate(ts)
    )


def test_late_surprises_past_the_peek(tmp_path):
    # the first 256 KB decide the encoding and let the reader convert dates and numbers itself;
    # a cp1252 byte, a bad date and a text duration further down must still be handled
    text = _long_log(8_000)
    text += "Zo\u00eb Ng,2024-02-01 10:00:00,call,x1,1.5\nBen Ode,not a date,call,x2,00:03:00\n"
    p = put(tmp_path, "long.csv", text, encoding="cp1252")
    acts, msgs = quiet(load_activities, p)
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.input_rows == 8_002 and q.excluded == {"unparseable_timestamp": 1}
    assert acts["rep"].iloc[-1] == "Zo\u00eb Ng"
    assert "cp1252" in " ".join(q.notes) and "read as text" in " ".join(q.notes)
    assert acts["duration_min"].iloc[3] == 3.5


def test_late_cp1252_byte_in_a_lean_export_read_as_dictionaries(tmp_path):
    # rep, timestamp, type only: the text columns are read as dictionaries and only their distinct values
    # are checked for UTF-8; a cp1252 byte past the first 256 KB must still switch the file to cp1252
    ts = pd.date_range("2024-01-01", periods=12_000, freq="min").strftime("%Y-%m-%d %H:%M:%S")
    text = "rep,timestamp,type\n" + "".join(f"Ana Lee,{t},call\n" for t in ts)
    text += "Zo\u00eb Ng,2024-02-01 10:00:00,email\n"
    p = put(tmp_path, "lean.csv", text, encoding="cp1252")
    assert p.stat().st_size > 300_000
    acts, _ = quiet(load_activities, p)
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert q.input_rows == 12_001 and not q.excluded
    assert acts["rep"].iloc[-1] == "Zo\u00eb Ng" and acts["activity_type"].iloc[-1] == "email"
    assert "cp1252" in " ".join(q.notes)
    with pytest.raises(FileFormatError, match="not valid utf-8"):
        load_activities(p, encoding="utf-8")  # a forced encoding the bytes break is an error, as before


def test_reader_converts_plain_iso_and_numbers(tmp_path):
    acts, msgs = quiet(load_activities, put(tmp_path, "long.csv", _long_log(3_000)))
    q = check_contract(acts, ACTIVITY_COLUMNS)
    assert msgs == [] and q.loaded_rows == 3_000
    assert acts["timestamp"].iloc[-1] == pd.Timestamp("2024-01-03 01:59:00")
    assert acts["duration_min"].iloc[:3].tolist() == [0.5, 1.5, 2.5]
    assert any("converted by the CSV reader" in n for n in q.notes)


def test_deals_without_id_column_get_row_ids(tmp_path):
    p = put(tmp_path, "no_ids.csv", "Owner,Created,Status,Amount\nAna,2024-01-01,open,10\nBen,2024-01-02,open,20\n")
    deals, _ = quiet(load_deals, p)
    assert deals["deal_id"].tolist() == ["no_ids.csv:1", "no_ids.csv:2"]
    assert any("ids made from file name and row number" in n for n in deals.attrs["quality"].notes)


def test_loaded_frames_write_to_parquet_and_copy(tmp_path):
    """The quality report in attrs is JSON-able, so to_parquet and deepcopy keep working."""
    import copy

    sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=6, seed=1)
    path = tmp_path / "acts.csv"
    sg.write_csv(sim.activities, path)
    acts = sg.load_activities(path)
    report = acts.attrs["quality"]
    assert copy.deepcopy(report) == report and copy.deepcopy(report) is not report
    acts.to_parquet(tmp_path / "acts.parquet")
    back = pd.read_parquet(tmp_path / "acts.parquet")
    assert len(back) == report.loaded_rows == len(sim.activities)
    assert back.attrs["quality"]["loaded_rows"] == report.loaded_rows
