"""Write canonical frames in the layouts real CRMs export.

The bundled samples in ``data/samples/`` are made here from simulated data, so
the loaders in :mod:`salesgoals.io` can be tested against files whose truth is
known: load a vendor-shaped file, and the totals must equal those of the
canonical frame it was written from.

Each ``to_<vendor>`` function turns a canonical frame into the table the
vendor's export would hold (header spellings, value spellings, date and number
styles as documented in the vendors' field references); :func:`write_export`
and :func:`write_salesforce_report` put such a table on disk with the file
quirks (delimiter, quoting, BOM, line ends, report title block and footer).

Every function is deterministic and vectorised; nothing here draws random
numbers.  Where a vendor needs a value the canonical frame lacks (a record id,
an expected close date for an open opportunity), it is derived from the data.

Examples
--------
>>> from salesgoals.simulate import make_crm_data
>>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
>>> calls = to_hubspot(sim.activities, kind="calls")
>>> list(calls.columns[:4])
['Record ID', 'Activity date', 'Activity assigned to', 'Call Title']
>>> sorted(set(calls["Call outcome"]))
['Connected', 'Left voicemail', 'No answer']
>>> deals = to_pipedrive(sim.deals, kind="deals")
>>> deals["Deal - Value"].iloc[0].startswith("€ ")
True
"""

from __future__ import annotations

import csv
import gzip
import io as _io
import os
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from salesgoals._schema import ACTIVITY_REQUIRED, DEAL_REQUIRED
from salesgoals.errors import SchemaError
from salesgoals.io import vendors as _vocabulary

# Stage vocabulary: one table shared with the loaders (salesgoals.io._vendors).
SALESFORCE_PROBABILITY = _vocabulary.SALESFORCE_PROBABILITY
SALESFORCE_STAGES_ES = _vocabulary.SALESFORCE_STAGES_ES
HUBSPOT_STAGES = _vocabulary.HUBSPOT_STAGES
HUBSPOT_CLOSED = _vocabulary.HUBSPOT_CLOSED
PIPEDRIVE_STAGES = _vocabulary.PIPEDRIVE_STAGES
CLOSED_STAGES = _vocabulary.CLOSED_STAGES

__all__ = [
    "to_hubspot",
    "to_salesforce_report",
    "to_salesforce_backup",
    "to_pipedrive",
    "to_zoho",
    "to_dynamics",
    "to_canonical",
    "to_salesforce_opportunity_history",
    "to_hubspot_stage_dates",
    "write_export",
    "write_salesforce_report",
    "HUBSPOT_CALL_OUTCOMES",
    "HUBSPOT_MEETING_OUTCOMES",
    "SALESFORCE_CALL_RESULTS",
]

# ----------------------------------------------------------------- value spellings
#: Canonical call outcome -> HubSpot "Call outcome" label (HubSpot's default dispositions).
HUBSPOT_CALL_OUTCOMES: dict[str, str] = {
    "connected": "Connected",
    "no_answer": "No answer",
    "voicemail": "Left voicemail",
    "busy": "Busy",
    "wrong_number": "Wrong number",
}
#: Canonical call outcome -> HubSpot "Call status" (hs_call_status enumeration).
HUBSPOT_CALL_STATUS: dict[str, str] = {
    "connected": "COMPLETED",
    "voicemail": "COMPLETED",
    "no_answer": "NO_ANSWER",
    "busy": "BUSY",
    "wrong_number": "FAILED",
}
#: Canonical meeting outcome -> HubSpot "Meeting outcome" (hs_meeting_outcome enumeration).
HUBSPOT_MEETING_OUTCOMES: dict[str, str] = {
    "held": "COMPLETED",
    "no_show": "NO_SHOW",
    "canceled": "CANCELED",
    "rescheduled": "RESCHEDULED",
    "scheduled": "SCHEDULED",
}
#: Canonical call outcome -> Salesforce "Call Result" (CallDisposition, free text; common values).
SALESFORCE_CALL_RESULTS: dict[str, str] = {
    "connected": "Connected",
    "no_answer": "No Answer",
    "voicemail": "Left Voicemail",
    "busy": "Busy",
    "wrong_number": "Wrong Number",
}
#: Canonical meeting outcome -> the event "Status" many orgs add (events have no standard status).
SALESFORCE_MEETING_STATUS: dict[str, str] = {
    "held": "Completed",
    "no_show": "No Show",
    "canceled": "Canceled",
    "rescheduled": "Rescheduled",
    "scheduled": "Not Started",
}
_SALESFORCE_TYPES = {"call": "Call", "email": "Email", "meeting": "Meeting", "linkedin": "LinkedIn"}
_PIPEDRIVE_TYPES = {"call": "Call", "email": "Email", "meeting": "Meeting", "linkedin": "LinkedIn"}

HubSpotKind = Literal["deals", "calls", "meetings", "emails", "tasks"]
_HUBSPOT_ACTIVITY_KIND = {
    "calls": "call",
    "meetings": "meeting",
    "emails": "email",
    "tasks": "linkedin",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ----------------------------------------------------------------- small vectorised formatters
def _check(frame: object, required: Sequence[str], what: str, func: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{func}: {what} must be a pandas DataFrame; got {type(frame).__name__}.")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{func}: {what} has no column(s) {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(str, frame.columns))}. "
            "Pass a canonical frame (salesgoals.load_* or simulate)."
        )
    return frame.reset_index(drop=True)


def _text(s: pd.Series) -> pd.Series:
    """Strings with missing values as empty strings."""
    return s.astype("string").fillna("").astype(object)


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    """Return a column, or an all-missing one when the canonical frame lacks it."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _ymd_parts(ts: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    return ts.dt.year.astype("Int64"), ts.dt.month.astype("Int64"), ts.dt.day.astype("Int64")


def _z(s: pd.Series, width: int = 2) -> pd.Series:
    return s.astype("string").str.zfill(width)


def _fmt_dates(ts: pd.Series, style: str, *, time: str | None = None) -> pd.Series:
    """Format timestamps vectorised and platform independent; NaT -> ''.

    ``style``: ``iso`` (2025-03-04), ``us`` (3/4/2025, no zero padding, as Salesforce
    US reports), ``dmy_dot`` (04.03.2025).  ``time``: ``None``, ``hm`` (14:05) or
    ``us12`` (2:05 PM).
    """
    ts = pd.to_datetime(ts)
    y, m, d = _ymd_parts(ts)
    if style == "iso":
        out = y.astype("string") + "-" + _z(m) + "-" + _z(d)
    elif style == "us":
        out = m.astype("string") + "/" + d.astype("string") + "/" + y.astype("string")
    elif style == "dmy_dot":
        out = _z(d) + "." + _z(m) + "." + y.astype("string")
    else:  # pragma: no cover - internal
        raise ValueError(style)
    if time == "hm":
        out = out + " " + _z(ts.dt.hour.astype("Int64")) + ":" + _z(ts.dt.minute.astype("Int64"))
    elif time == "us12":
        h = ts.dt.hour.astype("Int64")
        h12 = ((h + 11) % 12 + 1).astype("string")
        out = (
            out
            + " "
            + h12
            + ":"
            + _z(ts.dt.minute.astype("Int64"))
            + " "
            + pd.Series(
                np.where(h.to_numpy(dtype=float, na_value=0) < 12, "AM", "PM"), index=ts.index
            ).where(ts.notna())
        )
    return out.fillna("").astype(object)


def _fmt_clock(minutes: pd.Series, *, seconds: bool = True) -> pd.Series:
    """Durations in minutes as ``HH:MM:SS`` (or ``HH:MM``); missing -> ''."""
    secs = pd.to_numeric(minutes, errors="coerce").mul(60).round()
    ok = secs.notna()
    s = secs.fillna(0).astype(np.int64)
    if not seconds:
        s = (s + 30) // 60 * 60
    out = _z((s // 3600).astype("Int64")) + ":" + _z((s // 60 % 60).astype("Int64"))
    if seconds:
        out = out + ":" + _z((s % 60).astype("Int64"))
    return out.where(ok, "").astype(object)


def _fmt_number(x: pd.Series) -> pd.Series:
    """Plain numbers: integers without a decimal point, others with up to 2 decimals."""
    v = pd.to_numeric(x, errors="coerce")
    cents = (v * 100).round()
    whole = cents % 100 == 0
    as_int = (cents // 100).astype("Int64").astype("string")
    as_dec = v.map("{:.2f}".format, na_action="ignore").astype("string")
    return as_int.where(whole, as_dec).fillna("").astype(object)


def _fmt_money(
    x: pd.Series, *, symbol: str = "", thousands: str = ",", decimal: str = ".", space: bool = False
) -> pd.Series:
    """Money as locale text: ``$12,500.00`` or ``€ 2.900,00``; missing -> ''."""
    v = pd.to_numeric(x, errors="coerce")
    ok = v.notna()
    cents = (v.fillna(0) * 100).round().astype(np.int64)
    neg = cents < 0
    cents = cents.abs()
    whole = (
        (cents // 100).astype("string").str.replace(r"\B(?=(\d{3})+(?!\d))", thousands, regex=True)
    )
    frac = _z((cents % 100).astype("Int64"))
    sign = pd.Series(np.where(neg, "-", ""), index=v.index)
    out = sign + symbol + (" " if space else "") + whole + decimal + frac
    return out.where(ok, "").astype(object)


def _numeric_ids(ids: pd.Series, base: int) -> pd.Series:
    """Vendor-style numeric record ids from canonical ids (``D000123`` -> ``base + 123``).

    Ids without a trailing number are numbered in order of first appearance.
    Missing ids stay empty.
    """
    s = ids.astype("string")
    digits = pd.to_numeric(s.str.extract(r"(\d+)$", expand=False), errors="coerce")
    if digits[s.notna()].isna().any() or digits[s.notna()].duplicated().any():
        codes, _ = pd.factorize(s, use_na_sentinel=True)
        digits = pd.Series(np.where(codes >= 0, codes + 1, np.nan), index=s.index)
    return (digits + base).astype("Int64").astype("string").fillna("").astype(object)


def _deal_names(deals: pd.DataFrame) -> pd.Series:
    acct = _text(_col(deals, "account"))
    num = _text(deals["deal_id"]).str.extract(r"(\d+)$", expand=False).fillna("").str.lstrip("0")
    num = num.where(num != "", _text(deals["deal_id"]))
    name = acct + " - " + _text(_col(deals, "pipeline")).replace("", "Deal") + " #" + num
    return name.str.lstrip(" -").astype(object)


def _expected_close(deals: pd.DataFrame, export_date: pd.Timestamp) -> pd.Series:
    """Close date as CRMs show it: the actual close, or for open deals a future expected date.

    Salesforce requires a close date on every opportunity and HubSpot fills one in
    too, so open deals carry an *expected* close: 90 days after creation, or 30 days
    after the export date when that has passed.
    """
    created = pd.to_datetime(deals["created"]).dt.normalize()
    guess = created + pd.Timedelta(days=90)
    floor = export_date.normalize() + pd.Timedelta(days=30)
    guess = guess.where(guess > export_date, floor)
    closed = pd.to_datetime(deals["closed"])
    return closed.where(closed.notna(), guess)


def _export_date(frame: pd.DataFrame, cols: Sequence[str]) -> pd.Timestamp:
    last = max(pd.to_datetime(frame[c]).max() for c in cols if c in frame.columns)
    return (pd.Timestamp(last) + pd.Timedelta(days=1)).normalize()


def _status(deals: pd.DataFrame) -> np.ndarray:
    status = _text(deals["status"]).str.lower().to_numpy()
    bad = ~np.isin(status, ["won", "lost", "open"])
    if bad.any():
        raise SchemaError(
            "export: deals column 'status' must hold won/lost/open; "
            f"got {sorted(set(status[bad]))[:5]}."
        )
    return status


# ----------------------------------------------------------------- HubSpot
def to_hubspot(
    frame: pd.DataFrame,
    *,
    kind: HubSpotKind,
    duration: Literal["hms", "ms"] = "hms",
    stage_ids: bool = False,
    export_date: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """HubSpot UI export ("Export view") of deals or one activity object.

    HubSpot exports one file per object, with property *labels* as headers and
    owner *names* in the owner columns: ``hubspot-crm-exports-all-calls-<date>.csv``
    and so on.  Dates are ``YYYY-MM-DD HH:MM``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical activities (for ``calls``, ``meetings``, ``emails``, ``tasks``)
        or canonical deals (for ``deals``).
    kind : {"deals", "calls", "meetings", "emails", "tasks"}
        Object to export.  ``calls`` keeps the ``call`` rows, ``meetings`` the
        ``meeting`` rows, ``emails`` the ``email`` rows and ``tasks`` the
        ``linkedin`` rows (HubSpot logs LinkedIn touches as tasks of type
        ``LINKED_IN``).
    duration : {"hms", "ms"}, default="hms"
        ``Call duration`` as ``HH:MM:SS`` (UI export) or milliseconds (API).
    stage_ids : bool, default=False
        Write ``Deal Stage`` as internal ids (``closedwon``) instead of labels
        (``Closed Won``), as API exports do.
    export_date : str or Timestamp, optional
        Export day, used for expected close dates of open deals; default the
        day after the last date in the data.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``deals``: ``Record ID``, ``Deal Name``, ``Deal Stage``, ``Close Date``,
          ``Deal owner``, ``Amount``, ``Currency``, ``Pipeline``, ``Create Date``,
          ``Associated Company``, ``Is Closed Won``.
        * ``calls``: ``Record ID``, ``Activity date``, ``Activity assigned to``,
          ``Call Title``, ``Call direction``, ``Call outcome``, ``Call status``,
          ``Call duration``, ``Associated Company``, ``Associated Deal IDs``,
          ``Create Date``.
        * ``meetings``: ``Record ID``, ``Activity date``, ``Activity assigned to``,
          ``Meeting name``, ``Start Time``, ``End Time``, ``Meeting outcome``,
          ``Associated Company``, ``Associated Deal IDs``, ``Create Date``.
        * ``emails``: ``Record ID``, ``Activity date``, ``Activity assigned to``,
          ``Email subject``, ``Email direction``, ``Email send status``,
          ``Associated Company``, ``Associated Deal IDs``, ``Create Date``.
        * ``tasks``: ``Record ID``, ``Due date``, ``Assigned to``, ``Task Title``,
          ``Task Type``, ``Task Status``, ``Priority``, ``Associated Company``,
          ``Associated Deal IDs``, ``Create Date``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> m = to_hubspot(sim.activities, kind="meetings")
    >>> sorted(set(m["Meeting outcome"]))
    ['COMPLETED', 'NO_SHOW']
    >>> stages = to_hubspot(sim.deals, kind="deals", stage_ids=True)["Deal Stage"]
    >>> bool(stages.isin(["closedwon", "closedlost", "appointmentscheduled", "qualifiedtobuy",
    ...                   "presentationscheduled", "decisionmakerboughtin", "contractsent"]).all())
    True
    """
    if kind == "deals":
        return _hubspot_deals(frame, stage_ids=stage_ids, export_date=export_date)
    if kind not in _HUBSPOT_ACTIVITY_KIND:
        raise ValueError(
            "to_hubspot: kind must be one of 'deals', 'calls', 'meetings', 'emails', 'tasks'; "
            f"got {kind!r}."
        )
    if duration not in ("hms", "ms"):
        raise ValueError(f"to_hubspot: duration must be 'hms' or 'ms'; got {duration!r}.")
    acts = _check(frame, ACTIVITY_REQUIRED, "activities", "to_hubspot")
    acts = acts.loc[_text(acts["activity_type"]) == _HUBSPOT_ACTIVITY_KIND[kind]].reset_index(
        drop=True
    )
    ts = pd.to_datetime(acts["timestamp"])
    company = _text(_col(acts, "account"))
    c = {
        "rid": _numeric_ids(_col(acts, "activity_id"), 50_000_000_000),
        "when": _fmt_dates(ts, "iso", time="hm"),
        "owner": _text(acts["rep"]),
        "company": company,
        "has_company": company != "",
        "deal_ids": _numeric_ids(_col(acts, "deal_id"), 9_100_000_000),
        "outcome": _text(_col(acts, "outcome")),
    }
    if kind == "calls":
        return _hubspot_calls(acts, c, duration)
    if kind == "meetings":
        return _hubspot_meetings(acts, ts, c)
    return _hubspot_emails_or_tasks(kind, c)


def _hubspot_calls(acts: pd.DataFrame, c: dict, duration: str) -> pd.DataFrame:
    """HubSpot's calls export; ``c`` holds the columns every activity export shares."""
    if duration == "hms":
        dur = _fmt_clock(_col(acts, "duration_min"))
    else:
        dur = _fmt_number(
            pd.to_numeric(_col(acts, "duration_min"), errors="coerce").mul(60_000).round()
        )
    outcome = c["outcome"]
    return pd.DataFrame(
        {
            "Record ID": c["rid"],
            "Activity date": c["when"],
            "Activity assigned to": c["owner"],
            "Call Title": ("Call with " + c["company"]).where(c["has_company"], "Outbound call"),
            "Call direction": "Outbound",
            "Call outcome": outcome.map(HUBSPOT_CALL_OUTCOMES).fillna(outcome).astype(object),
            "Call status": outcome.map(HUBSPOT_CALL_STATUS).fillna("COMPLETED").astype(object),
            "Call duration": dur,
            "Associated Company": c["company"],
            "Associated Deal IDs": c["deal_ids"],
            "Create Date": c["when"],
        }
    )


def _hubspot_meetings(acts: pd.DataFrame, ts: pd.Series, c: dict) -> pd.DataFrame:
    """HubSpot's meetings export."""
    mins = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").fillna(0)
    mins = mins.where(mins > 0, 30.0)  # a no-show was still booked for its slot
    end = ts + pd.to_timedelta(mins, unit="min")
    return pd.DataFrame(
        {
            "Record ID": c["rid"],
            "Activity date": c["when"],
            "Activity assigned to": c["owner"],
            "Meeting name": ("Meeting with " + c["company"]).where(c["has_company"], "Discovery meeting"),
            "Start Time": c["when"],
            "End Time": _fmt_dates(end, "iso", time="hm"),
            "Meeting outcome": c["outcome"].map(HUBSPOT_MEETING_OUTCOMES)
            .fillna(c["outcome"].str.upper())
            .astype(object),
            "Associated Company": c["company"],
            "Associated Deal IDs": c["deal_ids"],
            "Create Date": c["when"],
        }
    )


def _hubspot_emails_or_tasks(kind: str, c: dict) -> pd.DataFrame:
    """HubSpot's emails export, or its tasks export (LinkedIn touches)."""
    if kind == "emails":
        return pd.DataFrame(
            {
                "Record ID": c["rid"],
                "Activity date": c["when"],
                "Activity assigned to": c["owner"],
                "Email subject": ("Following up: " + c["company"]).where(c["has_company"], "Quick question"),
                "Email direction": "EMAIL",
                "Email send status": "SENT",
                "Associated Company": c["company"],
                "Associated Deal IDs": c["deal_ids"],
                "Create Date": c["when"],
            }
        )
    return pd.DataFrame(
        {
            "Record ID": c["rid"],
            "Due date": c["when"],
            "Assigned to": c["owner"],
            "Task Title": "LinkedIn message",
            "Task Type": "LINKED_IN",
            "Task Status": "COMPLETED",
            "Priority": "NONE",
            "Associated Company": c["company"],
            "Associated Deal IDs": c["deal_ids"],
            "Create Date": c["when"],
        }
    )


def _hubspot_deals(frame, *, stage_ids, export_date) -> pd.DataFrame:
    deals = _check(frame, DEAL_REQUIRED, "deals", "to_hubspot")
    status = _status(deals)
    export_date = (
        pd.Timestamp(export_date)
        if export_date is not None
        else _export_date(deals, ("created", "closed"))
    )
    j = 1 if stage_ids else 0
    stage_in = _text(_col(deals, "stage"))
    open_stage = stage_in.map({k: v[j] for k, v in HUBSPOT_STAGES.items()})
    fallback = (
        stage_in.str.lower().str.replace(r"[^a-z0-9]", "", regex=True) if stage_ids else stage_in
    )
    open_stage = open_stage.fillna(fallback)
    stage = np.select(
        [status == "won", status == "lost"],
        [HUBSPOT_CLOSED["won"][j], HUBSPOT_CLOSED["lost"][j]],
        open_stage,
    )
    return pd.DataFrame(
        {
            "Record ID": _numeric_ids(deals["deal_id"], 9_100_000_000),
            "Deal Name": _deal_names(deals),
            "Deal Stage": stage.astype(object),
            "Close Date": _fmt_dates(_expected_close(deals, export_date), "iso", time="hm"),
            "Deal owner": _text(deals["rep"]),
            "Amount": _fmt_number(deals["amount"]),
            "Currency": _text(_col(deals, "currency")),
            "Pipeline": "default" if stage_ids else "Sales Pipeline",  # HubSpot's default pipeline
            "Create Date": _fmt_dates(pd.to_datetime(deals["created"]), "iso", time="hm"),
            "Associated Company": _text(_col(deals, "account")),
            "Is Closed Won": np.where(status == "won", "true", "false").astype(object),
        }
    )


# ----------------------------------------------------------------- Salesforce
def _salesforce_id(ids: pd.Series, prefix: str) -> pd.Series:
    """15-character Salesforce-style ids (``006`` opportunities, ``00T`` tasks)."""
    num = _numeric_ids(ids, 0)
    return (prefix + "5g" + num.astype("string").str.zfill(10)).where(num != "", "").astype(object)


def to_salesforce_report(
    frame: pd.DataFrame,
    *,
    kind: Literal["opportunities", "activities"],
    export_date: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Build the data rows of a Salesforce report export ("Details only"), US locale.

    Report exports use field *labels* (``Opportunity Owner``, ``Close Date``),
    owner names, US dates without zero padding (``7/4/2025``) and money as
    ``$12,500.00``.  Write the table with :func:`write_salesforce_report` to add
    the title block above the header and the ``Grand Totals`` footer.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical deals (``opportunities``) or activities (``activities``, a
        "Tasks and Events" report).
    kind : {"opportunities", "activities"}
        Report type.
    export_date : str or Timestamp, optional
        Run date of the report; sets the expected close date of open
        opportunities and their ``Age``.  Default: the day after the last date.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``opportunities``: ``Opportunity Owner``, ``Account Name``,
          ``Opportunity Name``, ``Opportunity ID``, ``Stage``, ``Fiscal Period``,
          ``Amount``, ``Probability (%)``, ``Age``, ``Close Date``,
          ``Created Date``, ``Type``, ``Lead Source``.
        * ``activities``: ``Assigned``, ``Subject``, ``Date``, ``Activity Type``,
          ``Task``, ``Status``, ``Call Result``, ``Call Duration`` (seconds),
          ``Company / Account``, ``Opportunity``, ``Priority``.  ``Opportunity``
          holds the opportunity *name*, as in the opportunity report.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> r = to_salesforce_report(sim.deals, kind="opportunities")
    >>> bool(r["Amount"].str.startswith("$").all())
    True
    """
    if kind not in ("opportunities", "activities"):
        raise ValueError(
            f"to_salesforce_report: kind must be 'opportunities' or 'activities'; got {kind!r}."
        )
    if kind == "opportunities":
        deals = _check(frame, DEAL_REQUIRED, "deals", "to_salesforce_report")
        if export_date is None:
            export_date = _export_date(deals, ("created", "closed"))
        return _sf_report_opportunities(deals, pd.Timestamp(export_date))
    return _sf_report_activities(_check(frame, ACTIVITY_REQUIRED, "activities", "to_salesforce_report"))


def _sf_report_opportunities(deals: pd.DataFrame, export_date: pd.Timestamp) -> pd.DataFrame:
    """The opportunity report's rows: closed deals in the closed stages, open ones aged to ``export_date``."""
    status = _status(deals)
    stage_in = _text(_col(deals, "stage"))
    stage = np.select(
        [status == "won", status == "lost"], [CLOSED_STAGES["won"], CLOSED_STAGES["lost"]], stage_in
    )
    stage = pd.Series(stage, dtype=object)
    close = _expected_close(deals, export_date)
    created = pd.to_datetime(deals["created"])
    end = pd.to_datetime(deals["closed"]).where(status != "open", export_date)
    age = (end.dt.normalize() - created.dt.normalize()).dt.days
    prob = stage.map(SALESFORCE_PROBABILITY).fillna(50).astype(int).astype(str)
    fiscal = "Q" + close.dt.quarter.astype("string") + "-" + close.dt.year.astype("string")
    return pd.DataFrame(
        {
            "Opportunity Owner": _text(deals["rep"]),
            "Account Name": _text(_col(deals, "account")),
            "Opportunity Name": _deal_names(deals),
            "Opportunity ID": _salesforce_id(deals["deal_id"], "006"),
            "Stage": stage,
            "Fiscal Period": fiscal.astype(object),
            "Amount": _fmt_money(deals["amount"], symbol="$"),
            "Probability (%)": prob.astype(object),
            "Age": age.astype("Int64").astype("string").fillna("").astype(object),
            "Close Date": _fmt_dates(close, "us"),
            "Created Date": _fmt_dates(created, "us"),
            "Type": "New Business",
            "Lead Source": "Outbound",
        }
    )


def _sf_report_activities(acts: pd.DataFrame) -> pd.DataFrame:
    """The "Tasks and Events" report's rows: meetings are events, the rest tasks; call results for calls only."""
    atype = _text(acts["activity_type"])
    outcome = _text(_col(acts, "outcome"))
    company = _text(_col(acts, "account"))
    is_call, is_meet = atype == "call", atype == "meeting"
    subject = atype.map(
        {
            "call": "Call",
            "email": "Email: Follow up",
            "meeting": "Meeting",
            "linkedin": "LinkedIn InMail",
        }
    )
    subject = subject.fillna(atype.str.title()).astype(object)
    status = np.where(
        is_meet, outcome.map(SALESFORCE_MEETING_STATUS).fillna("Completed"), "Completed"
    )
    secs = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").mul(60).round()
    opp = pd.DataFrame({"deal_id": _col(acts, "deal_id"), "account": _col(acts, "account")})
    opp_name = _deal_names(opp.assign(pipeline="New Business")).where(
        _text(opp["deal_id"]) != "", ""
    )
    return pd.DataFrame(
        {
            "Assigned": _text(acts["rep"]),
            "Subject": subject,
            "Date": _fmt_dates(pd.to_datetime(acts["timestamp"]), "us"),
            "Activity Type": atype.map(_SALESFORCE_TYPES).fillna(atype.str.title()).astype(object),
            "Task": np.where(is_meet, "0", "1").astype(object),  # meetings are Events
            "Status": pd.Series(status, dtype=object),
            "Call Result": outcome.map(SALESFORCE_CALL_RESULTS)
            .where(is_call, "")
            .fillna("")
            .astype(object),
            "Call Duration": _fmt_number(secs).where(is_call, "").astype(object),
            "Company / Account": company,
            "Opportunity": opp_name.astype(object),
            "Priority": "Normal",
        }
    )


# ----------------------------------------------------------------- Salesforce backup (API names)
#: Salesforce's empty lookup in backup files: a reference field that points nowhere.
SALESFORCE_NULL_ID = "000000000000000AAA"


def _owner_ids(reps: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Opaque User ids (``005...``) for rep names, stable across files: numbered in name order."""
    names = pd.Series(sorted(_text(reps).unique()), dtype=object)
    names = names[names != ""]
    ids = "0055g00000" + pd.Series(range(1, len(names) + 1)).astype("string").str.zfill(5) + "AAB"
    users = pd.DataFrame(
        {"Id": ids.to_numpy(dtype=object), "Name": names.to_numpy(), "IsActive": "1"}
    )
    return _text(reps).map(dict(zip(users["Name"], users["Id"]))).fillna("").astype(object), users


def _sf_datetime(ts: pd.Series) -> pd.Series:
    ts = pd.to_datetime(ts)
    out = _fmt_dates(ts, "iso", time="hm")
    return (
        (out.astype("string") + ":" + _z(ts.dt.second.astype("Int64")))
        .where(ts.notna(), "")
        .astype(object)
    )


def to_salesforce_backup(
    frame: pd.DataFrame,
    *,
    kind: Literal["opportunities", "tasks", "events", "users"],
    language: Literal["en", "es"] = "en",
) -> pd.DataFrame:
    """One object of a Salesforce backup / Data Loader export (API names, owner ids).

    Backups name columns by API name (``StageName``, ``CloseDate``, ``OwnerId``),
    hold reps only as opaque User ids (the ``User`` object maps them to names),
    write booleans as ``"0"``/``"1"``, datetimes as ``2023-01-17 17:00:04``,
    dates as ``2023-05-11 00:00:00`` and an empty lookup as
    ``000000000000000AAA``.  Real backups come in cp1252; write them with
    ``write_export(table, path, quote_all=True, encoding="cp1252")``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical deals (``opportunities``), activities (``tasks``: calls, emails,
        LinkedIn; ``events``: meetings), or either (``users``: one row per rep).
    kind : {"opportunities", "tasks", "events", "users"}
        Object to export.
    language : {"en", "es"}, default="en"
        Stage picklist language; ``"es"`` writes Spanish custom stages
        (``Negociación``, ``Cerrada ganada``), so only ``IsClosed``/``IsWon``
        tell the result, as in a non-English org.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``opportunities``: ``Id``, ``IsDeleted``, ``AccountId``, ``Name``,
          ``StageName``, ``Amount``, ``Probability``, ``CloseDate``, ``Type``,
          ``IsClosed``, ``IsWon``, ``CurrencyIsoCode``, ``OwnerId``,
          ``CreatedDate``.
        * ``tasks``: ``Id``, ``WhatId``, ``Subject``, ``ActivityDate``,
          ``Status``, ``OwnerId``, ``Type``, ``IsDeleted``, ``AccountId``,
          ``IsClosed``, ``CreatedDate``, ``CallDurationInSeconds``, ``CallType``,
          ``CallDisposition``, ``TaskSubtype``, ``CompletedDateTime``.
        * ``events``: ``Id``, ``WhatId``, ``Subject``, ``ActivityDateTime``,
          ``ActivityDate``, ``DurationInMinutes``, ``AccountId``, ``OwnerId``,
          ``Type``, ``IsDeleted``, ``CreatedDate``.
        * ``users``: ``Id``, ``Name``, ``IsActive``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> opps = to_salesforce_backup(sim.deals, kind="opportunities", language="es")
    >>> sorted(set(opps.loc[opps["IsClosed"] == "1", "StageName"]))
    ['Cerrada ganada', 'Cerrada perdida']
    >>> bool(to_salesforce_backup(sim.deals, kind="users")["Id"].str.startswith("005").all())
    True
    """
    if kind not in ("opportunities", "tasks", "events", "users"):
        raise ValueError(
            "to_salesforce_backup: kind must be one of "
            f"'opportunities', 'tasks', 'events', 'users'; got {kind!r}."
        )
    if kind == "users":
        if not isinstance(frame, pd.DataFrame) or "rep" not in frame.columns:
            raise SchemaError(
                "to_salesforce_backup: kind='users' needs a frame with a 'rep' column."
            )
        return _owner_ids(frame["rep"])[1]
    if kind == "opportunities":
        return _sf_backup_opportunities(_check(frame, DEAL_REQUIRED, "deals", "to_salesforce_backup"), language)
    acts = _check(frame, ACTIVITY_REQUIRED, "activities", "to_salesforce_backup")
    atype = _text(acts["activity_type"])
    keep = (atype == "meeting") if kind == "events" else (atype != "meeting")
    acts = acts.loc[keep.to_numpy()].reset_index(drop=True)
    ts = pd.to_datetime(acts["timestamp"])
    what = _salesforce_id(_col(acts, "deal_id"), "006")
    account = _salesforce_id(_col(acts, "account"), "001")
    common = {
        "Id": _salesforce_id(_col(acts, "activity_id"), "00U" if kind == "events" else "00T"),
        "WhatId": what.where(what != "", SALESFORCE_NULL_ID).astype(object),
    }
    account = account.where(account != "", SALESFORCE_NULL_ID).astype(object)
    if kind == "events":
        return _sf_backup_events(acts, common, ts, account, language)
    return _sf_backup_tasks(acts, common, ts, account)


def _sf_backup_opportunities(deals: pd.DataFrame, language: str) -> pd.DataFrame:
    """The Opportunity object of a Salesforce backup (see :func:`to_salesforce_backup`)."""
    status = _status(deals)
    stage_in = _text(_col(deals, "stage"))
    stage = pd.Series(
        np.select([status == "won", status == "lost"], [CLOSED_STAGES["won"], CLOSED_STAGES["lost"]], stage_in)
    )
    prob = stage.map(SALESFORCE_PROBABILITY).fillna(50).astype(int).astype(str)
    if language == "es":
        stage = stage.map(SALESFORCE_STAGES_ES).fillna(stage)
    export_date = _export_date(deals, ("created", "closed"))
    close = _expected_close(deals, export_date).dt.normalize()
    return pd.DataFrame(
        {
            "Id": _salesforce_id(deals["deal_id"], "006"),
            "IsDeleted": "0",
            "AccountId": _salesforce_id(_col(deals, "account"), "001"),
            "Name": _deal_names(deals),
            "StageName": stage.astype(object),
            "Amount": _fmt_number(deals["amount"]),
            "Probability": prob.astype(object),
            "CloseDate": _sf_datetime(close),
            "Type": "New Business",
            "IsClosed": np.where(status == "open", "0", "1").astype(object),
            "IsWon": np.where(status == "won", "1", "0").astype(object),
            "CurrencyIsoCode": _text(_col(deals, "currency")),
            "OwnerId": _owner_ids(deals["rep"])[0],
            "CreatedDate": _sf_datetime(pd.to_datetime(deals["created"])),
        }
    )


def _sf_backup_events(acts: pd.DataFrame, common: dict, ts: pd.Series, account: pd.Series,
                      language: str) -> pd.DataFrame:  # fmt: skip
    """The Event object (meetings) of a Salesforce backup."""
    mins = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").fillna(0)
    subject = "Reunión" if language == "es" else "Meeting"
    return pd.DataFrame(
        {
            **common,
            "Subject": subject,
            "ActivityDateTime": _sf_datetime(ts),
            "ActivityDate": _sf_datetime(ts.dt.normalize()),
            "DurationInMinutes": _fmt_number(mins.where(mins > 0, 30.0)),
            "AccountId": account,
            "OwnerId": _owner_ids(acts["rep"])[0],
            "Type": "Meeting",
            "IsDeleted": "0",
            "CreatedDate": _sf_datetime(ts),
        }
    )


def _sf_backup_tasks(acts: pd.DataFrame, common: dict, ts: pd.Series, account: pd.Series) -> pd.DataFrame:
    """The Task object (calls, emails, LinkedIn) of a Salesforce backup."""
    atype = _text(acts["activity_type"])
    is_call = atype == "call"
    outcome = _text(_col(acts, "outcome"))
    secs = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").mul(60).round()
    subject = atype.map(
        {"call": "Call", "email": "Email: Follow up", "linkedin": "LinkedIn InMail"}
    )
    return pd.DataFrame(
        {
            **common,
            "Subject": subject.fillna(atype.str.title()).astype(object),
            "ActivityDate": _sf_datetime(ts.dt.normalize()),
            "Status": "Completed",
            "OwnerId": _owner_ids(acts["rep"])[0],
            "Type": atype.map(_SALESFORCE_TYPES).fillna(atype.str.title()).astype(object),
            "IsDeleted": "0",
            "AccountId": account,
            "IsClosed": "1",
            "CreatedDate": _sf_datetime(ts),
            "CallDurationInSeconds": _fmt_number(secs).where(is_call, "").astype(object),
            "CallType": pd.Series(np.where(is_call, "Outbound", ""), dtype=object),
            "CallDisposition": outcome.map(SALESFORCE_CALL_RESULTS)
            .where(is_call, "")
            .fillna("")
            .astype(object),
            "TaskSubtype": atype.map({"call": "Call", "email": "Email"})
            .fillna("Task")
            .astype(object),
            "CompletedDateTime": _sf_datetime(ts),
        }
    )


# ----------------------------------------------------------------- Pipedrive
def to_pipedrive(
    frame: pd.DataFrame,
    *,
    kind: Literal["deals", "activities"],
    currency: str | None = "EUR",
) -> pd.DataFrame:
    r"""Pipedrive list-view export in a European locale (``d.m.Y`` dates, ``€ 2.900,00``).

    Headers are ``"<Entity> - <Field>"``.  Write it with
    ``write_export(table, path, sep=";")`` as a European-locale export would be.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical deals (``deals``) or activities (``activities``).
    kind : {"deals", "activities"}
        Export to write.
    currency : str or None, default="EUR"
        Currency code written to ``Deal - Currency`` (and its symbol into
        ``Deal - Value`` for EUR/USD/GBP); ``None`` keeps the frame's
        ``currency`` column.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``deals``: ``Deal - ID``, ``Deal - Title``, ``Deal - Value``,
          ``Deal - Currency``, ``Deal - Owner``, ``Deal - Pipeline``,
          ``Deal - Stage``, ``Deal - Status`` (``won``/``lost``/``open``),
          ``Deal - Deal created``, ``Deal - Expected close date``,
          ``Deal - Won time``, ``Deal - Lost time``, ``Deal - Deal closed on``,
          ``Deal - Organization``.  The stage of a won or lost deal is the stage
          it was in when it closed, so only ``Deal - Status`` tells the result.
        * ``activities``: ``Activity - ID``, ``Activity - Subject``,
          ``Activity - Type``, ``Activity - Due date``, ``Activity - Due time``,
          ``Activity - Duration`` (``HH:MM``), ``Activity - Done`` (``Done``;
          ``Undone`` for a meeting that did not take place),
          ``Activity - Assigned to user``, ``Activity - Organization``,
          ``Activity - Deal`` (deal title), ``Deal - ID``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> a = to_pipedrive(sim.activities, kind="activities")
    >>> bool(a["Activity - Due date"].str.fullmatch(r"\d{2}\.\d{2}\.\d{4}").all())
    True
    """
    if kind not in ("deals", "activities"):
        raise ValueError(f"to_pipedrive: kind must be 'deals' or 'activities'; got {kind!r}.")
    if kind == "deals":
        deals = _check(frame, DEAL_REQUIRED, "deals", "to_pipedrive")
        return _pipedrive_deals(deals, currency)
    acts = _check(frame, ACTIVITY_REQUIRED, "activities", "to_pipedrive")
    return _pipedrive_activities(acts)


def _pipedrive_deals(deals: pd.DataFrame, currency: str | None) -> pd.DataFrame:
    """Pipedrive's deal rows: money with the currency's symbol, a closed deal keeps the last open stage it reached."""
    status = _status(deals)
    cur = (
        _text(_col(deals, "currency"))
        if currency is None
        else pd.Series(currency, index=deals.index)
    )
    symbol = {"EUR": "€", "USD": "$", "GBP": "£"}
    value = _fmt_money(deals["amount"], thousands=".", decimal=",")
    sym = cur.map(symbol).fillna(cur)
    value = (sym + " " + value.astype("string")).where(value != "", "").astype(object)
    created = pd.to_datetime(deals["created"])
    closed = pd.to_datetime(deals["closed"])
    closed_txt = _fmt_dates(closed, "dmy_dot", time="hm")
    expected = _expected_close(deals, _export_date(deals, ("created", "closed")))
    stage_in = _text(_col(deals, "stage"))
    # won/lost deals keep the last open stage they reached; the status column tells the result
    stage = stage_in.map(PIPEDRIVE_STAGES)
    last_open = pd.Series(np.where(status == "won", "Negotiations Started", "Contact Made"))
    stage = stage.fillna(last_open).astype(object)
    return pd.DataFrame(
        {
            "Deal - ID": _numeric_ids(deals["deal_id"], 0),
            "Deal - Title": _deal_names(deals),
            "Deal - Value": value,
            "Deal - Currency": cur.astype(object),
            "Deal - Owner": _text(deals["rep"]),
            "Deal - Pipeline": _text(_col(deals, "pipeline")).replace("", "Pipeline"),
            "Deal - Stage": stage,
            "Deal - Status": pd.Series(status, dtype=object),
            "Deal - Deal created": _fmt_dates(created, "dmy_dot", time="hm"),
            "Deal - Expected close date": _fmt_dates(expected, "dmy_dot"),
            "Deal - Won time": closed_txt.where(status == "won", ""),
            "Deal - Lost time": closed_txt.where(status == "lost", ""),
            "Deal - Deal closed on": closed_txt,
            "Deal - Organization": _text(_col(deals, "account")),
        }
    )


def _pipedrive_activities(acts: pd.DataFrame) -> pd.DataFrame:
    """Pipedrive's activity rows: a logged activity is Done, a meeting that did not take place Undone."""
    atype = _text(acts["activity_type"])
    ts = pd.to_datetime(acts["timestamp"])
    ptype = atype.map(_PIPEDRIVE_TYPES).fillna(atype.str.title()).astype(object)
    company = _text(_col(acts, "account"))
    opp = pd.DataFrame({"deal_id": _col(acts, "deal_id"), "account": _col(acts, "account")})
    deal_title = _deal_names(opp.assign(pipeline="Pipeline")).where(_text(opp["deal_id"]) != "", "")
    mins = pd.to_numeric(_col(acts, "duration_min"), errors="coerce")
    # a meeting that did not happen stays "Undone" in Pipedrive; everything logged is "Done"
    missed = (
        (atype == "meeting") & _text(_col(acts, "outcome")).isin(["no_show", "canceled"])
    ).to_numpy()
    return pd.DataFrame(
        {
            "Activity - ID": _numeric_ids(_col(acts, "activity_id"), 0),
            "Activity - Subject": (ptype + " - " + company)
            .where(company != "", ptype)
            .astype(object),
            "Activity - Type": ptype,
            "Activity - Due date": _fmt_dates(ts, "dmy_dot"),
            "Activity - Due time": _z(ts.dt.hour.astype("Int64"))
            + ":"
            + _z(ts.dt.minute.astype("Int64")),
            "Activity - Duration": _fmt_clock(mins.where(mins > 0), seconds=False),
            "Activity - Done": pd.Series(np.where(missed, "Undone", "Done"), dtype=object),
            "Activity - Assigned to user": _text(acts["rep"]),
            "Activity - Organization": company,
            "Activity - Deal": deal_title.astype(object),
            "Deal - ID": _numeric_ids(_col(acts, "deal_id"), 0),
        }
    ).astype({"Activity - Due time": object})


# ----------------------------------------------------------------- Zoho CRM
#: Canonical call outcome -> Zoho "Call Status" (telephony values seen in real exports).
ZOHO_CALL_STATUS: dict[str, str] = {
    "connected": "Attended Dialled",
    "no_answer": "Unattended Dialled",
    "voicemail": "Unattended Dialled",
    "busy": "Unattended Dialled",
    "wrong_number": "Unattended Dialled",
}


def _dmy_slash(ts: pd.Series, *, time: bool) -> pd.Series:
    ts = pd.to_datetime(ts)
    out = (
        _z(ts.dt.day.astype("Int64"))
        + "/"
        + _z(ts.dt.month.astype("Int64"))
        + "/"
        + ts.dt.year.astype("string")
    )
    if time:
        out = out + " " + _z(ts.dt.hour.astype("Int64")) + ":" + _z(ts.dt.minute.astype("Int64"))
    return out.fillna("").astype(object)


def to_zoho(frame: pd.DataFrame, *, kind: Literal["deals", "calls"]) -> pd.DataFrame:
    r"""Zoho CRM module export (display labels, ``Record Id`` first) for a day-first locale.

    Zoho exports one CSV per module; dates follow the user's format, here
    ``dd/mm/yyyy`` (``dd/mm/yyyy HH:MM`` for date-times), so the loader has to
    tell day from month from the data.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical deals (``deals``) or activities (``calls``: the call rows).
    kind : {"deals", "calls"}
        Module to export.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``deals``: ``Record Id``, ``Deal Owner``, ``Deal Name``,
          ``Account Name``, ``Stage``, ``Amount``, ``Probability (%)``,
          ``Closing Date`` (expected close for open deals), ``Type``,
          ``Lead Source``, ``Created Time``.
        * ``calls``: ``Record Id``, ``Call Owner``, ``Subject``, ``Call Type``
          (Outbound), ``Call Purpose``, ``Related To``, ``Call Start Time``,
          ``Call Duration`` (``mm:ss``), ``Call Duration (in seconds)``,
          ``Call Status`` (``Attended Dialled`` when connected, else
          ``Unattended Dialled``), ``Created Time``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> starts = to_zoho(sim.activities, kind="calls")["Call Start Time"]
    >>> bool(starts.str.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}").all())
    True
    """
    if kind not in ("deals", "calls"):
        raise ValueError(f"to_zoho: kind must be 'deals' or 'calls'; got {kind!r}.")
    if kind == "deals":
        deals = _check(frame, DEAL_REQUIRED, "deals", "to_zoho")
        return _zoho_deals(deals)
    acts = _check(frame, ACTIVITY_REQUIRED, "activities", "to_zoho")
    return _zoho_calls(acts)


def _zoho_deals(deals: pd.DataFrame) -> pd.DataFrame:
    """Zoho's Deals module rows: closed deals in the closed stages, day-first dates."""
    status = _status(deals)
    stage_in = _text(_col(deals, "stage"))
    stage = pd.Series(
        np.select([status == "won", status == "lost"], [CLOSED_STAGES["won"], CLOSED_STAGES["lost"]], stage_in)
    )
    prob = (
        stage.map(SALESFORCE_PROBABILITY).fillna(50).astype(int).astype(str)
    )  # same default picklist
    close = _expected_close(deals, _export_date(deals, ("created", "closed")))
    return pd.DataFrame(
        {
            "Record Id": "zcrm_"
            + _numeric_ids(deals["deal_id"], 4_876_000_000_000_000).astype("string"),
            "Deal Owner": _text(deals["rep"]),
            "Deal Name": _deal_names(deals),
            "Account Name": _text(_col(deals, "account")),
            "Stage": stage.astype(object),
            "Amount": _fmt_number(deals["amount"]),
            "Probability (%)": prob.astype(object),
            "Closing Date": _dmy_slash(close, time=False),
            "Type": "New Business",
            "Lead Source": "Cold Call",
            "Created Time": _dmy_slash(deals["created"], time=True),
        }
    ).astype({"Record Id": object})


def _zoho_calls(acts: pd.DataFrame) -> pd.DataFrame:
    """Zoho's Calls module rows: the call rows only, with ``mm:ss`` durations and telephony call statuses."""
    acts = acts.loc[(_text(acts["activity_type"]) == "call").to_numpy()].reset_index(drop=True)
    secs = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").mul(60).round()
    s_int = secs.fillna(0).astype(np.int64)
    mmss = (_z((s_int // 60).astype("Int64")) + ":" + _z((s_int % 60).astype("Int64"))).where(
        secs.notna(), ""
    )
    outcome = _text(_col(acts, "outcome"))
    company = _text(_col(acts, "account"))
    when = _dmy_slash(acts["timestamp"], time=True)
    return pd.DataFrame(
        {
            "Record Id": "zcrm_"
            + _numeric_ids(_col(acts, "activity_id"), 4_876_100_000_000_000).astype("string"),
            "Call Owner": _text(acts["rep"]),
            "Subject": ("Call with " + company).where(company != "", "Cold call").astype(object),
            "Call Type": "Outbound",
            "Call Purpose": "Prospecting",
            "Related To": company,
            "Call Start Time": when,
            "Call Duration": mmss.astype(object),
            "Call Duration (in seconds)": _fmt_number(secs),
            "Call Status": outcome.map(ZOHO_CALL_STATUS).fillna("Attended Dialled").astype(object),
            "Created Time": when,
        }
    ).astype({"Record Id": object})


# ----------------------------------------------------------------- Dynamics 365
def _guid(ids: pd.Series, entity: int) -> pd.Series:
    """Deterministic GUID-shaped record ids."""
    num = pd.to_numeric(_numeric_ids(ids, 0), errors="coerce").fillna(0).astype(np.int64)
    hexed = num.map("{:012x}".format).astype("string")
    return (f"{entity:08x}-5f3a-ef11-8e61-" + hexed).astype(object)


def to_dynamics(
    frame: pd.DataFrame, *, kind: Literal["opportunities", "phonecalls"]
) -> pd.DataFrame:
    """Dynamics 365 "Export to Excel" sheet, saved as CSV, US locale.

    The export starts with three hidden columns, ``(Do Not Modify) <Entity>``
    (the record GUID), ``(Do Not Modify) Row Checksum`` and
    ``(Do Not Modify) Modified On``, then the view's columns by display name.
    Date-times are ``m/d/yyyy h:mm AM``, money ``$12,500.00``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical deals (``opportunities``) or activities (``phonecalls``: the
        call rows).
    kind : {"opportunities", "phonecalls"}
        View to export.

    Returns
    -------
    pandas.DataFrame
        All values are strings.  Columns by ``kind``:

        * ``opportunities``: the three ``(Do Not Modify)`` columns, ``Topic``,
          ``Potential Customer``, ``Status`` (Open/Won/Lost), ``Est. Revenue``,
          ``Actual Revenue`` (won deals only, as Dynamics fills it on winning),
          ``Est. Close Date``, ``Actual Close Date`` (closed deals), ``Owner``,
          ``Created On``.
        * ``phonecalls``: the three ``(Do Not Modify)`` columns, ``Subject``,
          ``Regarding``, ``Direction`` (Outgoing), ``Activity Status``
          (Completed), ``Duration`` (whole minutes), ``Actual End``, ``Owner``,
          ``Created On``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> list(to_dynamics(sim.deals, kind="opportunities").columns[:2])
    ['(Do Not Modify) Opportunity', '(Do Not Modify) Row Checksum']
    """
    if kind not in ("opportunities", "phonecalls"):
        raise ValueError(
            f"to_dynamics: kind must be 'opportunities' or 'phonecalls'; got {kind!r}."
        )
    if kind == "opportunities":
        deals = _check(frame, DEAL_REQUIRED, "deals", "to_dynamics")
        return _dynamics_opportunities(deals)
    acts = _check(frame, ACTIVITY_REQUIRED, "activities", "to_dynamics")
    return _dynamics_phonecalls(acts)


def _dynamics_opportunities(deals: pd.DataFrame) -> pd.DataFrame:
    """Dynamics' opportunity view: the hidden record columns, then Actual Revenue on won deals only."""
    status = _status(deals)
    closed = pd.to_datetime(deals["closed"])
    created = pd.to_datetime(deals["created"])
    est_close = _expected_close(deals, _export_date(deals, ("created", "closed")))
    money = _fmt_money(deals["amount"], symbol="$")
    guid = _guid(deals["deal_id"], 3)
    return pd.DataFrame(
        {
            "(Do Not Modify) Opportunity": guid,
            "(Do Not Modify) Row Checksum": ("chk" + guid.astype("string").str[-12:]).astype(
                object
            ),
            "(Do Not Modify) Modified On": _fmt_dates(
                closed.where(closed.notna(), created), "us", time="us12"
            ),
            "Topic": _deal_names(deals),
            "Potential Customer": _text(_col(deals, "account")),
            "Status": pd.Series(np.char.capitalize(status.astype(str)), dtype=object),
            "Est. Revenue": money,
            "Actual Revenue": money.where(status == "won", ""),
            "Est. Close Date": _fmt_dates(est_close, "us"),
            "Actual Close Date": _fmt_dates(closed, "us"),
            "Owner": _text(deals["rep"]),
            "Created On": _fmt_dates(created, "us", time="us12"),
        }
    )


def _dynamics_phonecalls(acts: pd.DataFrame) -> pd.DataFrame:
    """Dynamics' phone-call view: the call rows only, durations in whole minutes."""
    acts = acts.loc[(_text(acts["activity_type"]) == "call").to_numpy()].reset_index(drop=True)
    ts = pd.to_datetime(acts["timestamp"])
    mins = pd.to_numeric(_col(acts, "duration_min"), errors="coerce").round()
    when = _fmt_dates(ts, "us", time="us12")
    guid = _guid(_col(acts, "activity_id"), 4210)
    company = _text(_col(acts, "account"))
    return pd.DataFrame(
        {
            "(Do Not Modify) Phone Call": guid,
            "(Do Not Modify) Row Checksum": ("chk" + guid.astype("string").str[-12:]).astype(
                object
            ),
            "(Do Not Modify) Modified On": when,
            "Subject": ("Call with " + company)
            .where(company != "", "Outbound call")
            .astype(object),
            "Regarding": company,
            "Direction": "Outgoing",
            "Activity Status": "Completed",
            "Duration": _fmt_number(mins),
            "Actual End": when,
            "Owner": _text(acts["rep"]),
            "Created On": when,
        }
    )


# ----------------------------------------------------------------- canonical
def to_canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn a canonical frame into text for a plain CSV: ISO dates (no time when all are midnight).

    Parameters
    ----------
    frame : pandas.DataFrame
        Any canonical frame (activities, deals, roster).

    Returns
    -------
    pandas.DataFrame
        The same columns; datetime columns as ``YYYY-MM-DD[ HH:MM:SS]`` text,
        missing dates as empty text; other columns unchanged.

    Examples
    --------
    >>> f = pd.DataFrame({"rep": ["A"], "start": pd.to_datetime(["2024-01-01"])})
    >>> to_canonical(f)["start"].tolist()
    ['2024-01-01']
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            times = s.dropna()
            midnight = bool((times == times.dt.normalize()).all())
            fmt = "%Y-%m-%d" if midnight else "%Y-%m-%d %H:%M:%S"
            out[col] = s.dt.strftime(fmt).astype(object).where(s.notna(), "")
    return out


# ----------------------------------------------------------------- writing files
def _neutralise(table: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheet-safe text: prefix cells that a spreadsheet would run as a formula with ``'``.

    Numbers such as ``-12.5`` are left alone.
    """
    out = table.copy()
    for col in out.columns:
        s = out[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            t = s.astype("string")
            risky = t.str.startswith(_FORMULA_START).fillna(False).to_numpy(dtype=bool)
            if not risky.any():
                continue
            idx = np.flatnonzero(risky)
            numeric = pd.to_numeric(t.iloc[idx], errors="coerce").notna().to_numpy()
            risky[idx[numeric]] = False
            if risky.any():
                out[col] = ("'" + t).where(risky, s)
    return out


def _csv_text(rows: pd.DataFrame, *, sep: str, quote_all: bool, header: bool = True) -> str:
    return rows.to_csv(
        index=False,
        header=header,
        sep=sep,
        lineterminator="\n",
        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
    )


def _write_bytes(
    text: str,
    path: str | os.PathLike,
    *,
    bom: bool,
    crlf: bool,
    encoding: str,
    compresslevel: int = 9,
) -> None:
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if os.fspath(path).endswith(".gz"):
        # mtime=0 and no file name in the header: byte-identical reruns
        data = gzip.compress(data, compresslevel=compresslevel, mtime=0)
    with open(path, "wb") as fh:
        fh.write(data)


def write_export(
    table: pd.DataFrame,
    path: str | os.PathLike,
    *,
    sep: str = ",",
    quote_all: bool = False,
    bom: bool = False,
    crlf: bool = False,
    encoding: str = "utf-8",
    header_lines: Sequence[str] = (),
    footer_lines: Sequence[str] = (),
    compresslevel: int = 9,
) -> None:
    r"""Write a table as a vendor export file, byte for byte reproducibly.

    Parameters
    ----------
    table : pandas.DataFrame
        Text table from a ``to_*`` function (or any frame).
    path : str or path-like
        Output file; a ``.gz`` suffix writes gzip (no time stamp or file name in
        the gzip header, so reruns give identical bytes).
    sep : str, default=","
        Field delimiter (``";"`` for European-locale exports).
    quote_all : bool, default=False
        Quote every field, as Salesforce report exports do.
    bom : bool, default=False
        Start the file with a UTF-8 byte-order mark, as Excel-friendly exports do.
    crlf : bool, default=False
        End lines with CRLF instead of LF.
    encoding : str, default="utf-8"
        Text encoding, e.g. ``"cp1252"`` for old Windows exports.
    header_lines, footer_lines : sequence of str
        Raw lines written above the header row and below the data (report
        titles, totals, copyright notes).  Written as given.
    compresslevel : int, default=9
        gzip level for ``.gz`` paths (the content does not depend on it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> write_export(pd.DataFrame({"a": ["=1+1", "-3"]}), p, sep=";")
    >>> p.read_text()
    "a\n'=1+1\n-3\n"
    """
    body = _csv_text(_neutralise(table), sep=sep, quote_all=quote_all)
    head = "".join(line + "\n" for line in header_lines)
    foot = "".join(line + "\n" for line in footer_lines)
    _write_bytes(
        head + body + foot, path, bom=bom, crlf=crlf, encoding=encoding, compresslevel=compresslevel
    )


def _quoted_row(cells: Sequence[str], sep: str = ",") -> str:
    buf = _io.StringIO()
    csv.writer(buf, delimiter=sep, quoting=csv.QUOTE_ALL, lineterminator="").writerow(list(cells))
    return buf.getvalue()


def write_salesforce_report(
    table: pd.DataFrame,
    path: str | os.PathLike,
    *,
    title: str,
    company: str = "Northwind Traders",
    run_by: str = "Report Admin",
    run_at: str | pd.Timestamp,
    total_columns: Sequence[str] = ("Amount",),
    bom: bool = False,
    crlf: bool = True,
) -> None:
    """Write a Salesforce report export: title block, header, data, ``Grand Totals`` and footer.

    Every field is quoted, as Salesforce does.  Above the header sit the report
    title, the company, an ``As of`` line and the filter description, then a
    blank line; below the data a ``Grand Totals (N records)`` row (with the sum
    of ``total_columns`` in the same money format), two blank lines and the
    confidentiality and "Generated By" notes.  Loaders must skip both blocks.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`to_salesforce_report`.
    path : str or path-like
        Output file.
    title : str
        Report name, e.g. ``"Opportunity Pipeline"``.
    company, run_by : str
        Org name and the user who ran the report.
    run_at : str or Timestamp
        When the report was run (written in US style).
    total_columns : sequence of str, default=("Amount",)
        Money columns summed in the ``Grand Totals`` row (those present).
    bom : bool, default=False
        Start the file with a UTF-8 BOM.
    crlf : bool, default=True
        Windows line ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=2, n_weeks=8, seed=0, volume_scale=0.2)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "opps.csv"
    >>> t = to_salesforce_report(sim.deals, kind="opportunities")
    >>> write_salesforce_report(t, p, title="Opportunity Pipeline", run_at="2024-03-01 09:05")
    >>> lines = p.read_text().splitlines()
    >>> lines[0], lines[5].startswith('"Opportunity Owner"')
    ('"Opportunity Pipeline"', True)
    >>> any(line.startswith('"Grand Totals (') for line in lines)
    True
    """
    run_at = pd.Timestamp(run_at)
    stamp = _fmt_dates(pd.Series([run_at]), "us", time="us12").iloc[0]
    n = len(table)
    header = [
        _quoted_row([title]),
        _quoted_row([company]),
        _quoted_row([f"As of {stamp} · Generated by {run_by}"]),
        _quoted_row(["Filtered By: Show: All records"]),
        "",
    ]
    totals = [""] * table.shape[1]
    totals[0] = f"Grand Totals ({n:,} records)"
    for col in total_columns:
        if col in table.columns:
            j = list(table.columns).index(col)
            values = table[col].astype("string").str.replace(r"[^0-9.\-]", "", regex=True)
            total = pd.to_numeric(values, errors="coerce").sum()
            totals[j] = _fmt_money(pd.Series([total]), symbol="$").iloc[0]
    footer = [
        _quoted_row(totals),
        "",
        "",
        _quoted_row([title]),
        _quoted_row(
            [f"Copyright (c) 2000-{run_at.year} salesforce.com, inc. All rights reserved."]
        ),
        _quoted_row(["Confidential Information - Do Not Distribute"]),
        _quoted_row([f"Generated By:  {run_by}  {stamp}"]),
        _quoted_row([company]),
    ]
    write_export(
        table, path, quote_all=True, bom=bom, crlf=crlf, header_lines=header, footer_lines=footer
    )


# ----------------------------------------------------------------- stage histories (issue 15)
def to_salesforce_opportunity_history(
    stage_history: pd.DataFrame, deals: pd.DataFrame, *, edits: float = 0.15, seed: int = 0,
    language: Literal["en", "es"] = "en",
) -> pd.DataFrame:
    """Salesforce ``OpportunityHistory`` object as a backup / Data Loader writes it (API names).

    Salesforce writes a row whenever Stage, Amount, Probability or Close Date
    changes, with the *then-current* values of all of them, so a real file also
    holds rows that re-state the stage (an amount or close-date edit).  A share
    ``edits`` of the stage entries gets such a row before the deal's next stage
    entry, drawn with ``seed``; :func:`salesgoals.load_stage_history` must exclude them
    as ``no_stage_change``.

    Parameters
    ----------
    stage_history : pandas.DataFrame
        ``deal_id, stage, entered`` (the simulator's ``stage_history``).
    deals : pandas.DataFrame
        Canonical deals (for the amount, owner and close date).
    edits : float, default=0.15
        Share of entries followed by an edit row with the same stage.
    seed : int, default=0
        Seed of the edit rows.
    language : {"en", "es"}, default="en"
        Stage picklist language, as in :func:`to_salesforce_backup`.

    Returns
    -------
    pandas.DataFrame
        All values are strings: ``Id``, ``OpportunityId``, ``CreatedById``,
        ``CreatedDate``, ``StageName``, ``Amount``, ``ExpectedRevenue``,
        ``CloseDate``, ``Probability``, ``ForecastCategory``, ``IsDeleted``,
        ``SystemModstamp``.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> t = to_salesforce_opportunity_history(sim.stage_history, sim.deals)
    >>> bool(t["OpportunityId"].str.startswith("006").all())
    True
    """
    hist = _check(stage_history, ["deal_id", "stage", "entered"], "stage_history",
                  "to_salesforce_opportunity_history")  # fmt: skip
    d = _check(deals, DEAL_REQUIRED, "deals", "to_salesforce_opportunity_history").drop_duplicates("deal_id")
    rng = np.random.default_rng(seed)
    hist = hist.sort_values(["deal_id", "entered"], kind="mergesort").reset_index(drop=True)
    entered = pd.to_datetime(hist["entered"])
    gap = entered.groupby(hist["deal_id"]).shift(-1) - entered  # an edit falls between two stage entries
    pick = (rng.random(len(hist)) < edits) & (gap > pd.Timedelta(hours=2)).to_numpy()
    extra = hist.loc[pick].copy()
    extra["entered"] = (entered[pick] + gap[pick] * rng.uniform(0.2, 0.8, int(pick.sum()))).dt.floor("min")
    extra["_edit"] = 1
    rows = pd.concat([hist.assign(_edit=0), extra], ignore_index=True)
    rows = rows.sort_values(["deal_id", "entered", "_edit"], kind="mergesort").reset_index(drop=True)
    deal = d.set_index("deal_id")
    amount = rows["deal_id"].map(deal["amount"]).astype(float)
    amount = amount * np.where(rows["_edit"] == 1, 1.0 + 0.1 * np.sign(rng.standard_normal(len(rows))), 1.0)
    prob = rows["stage"].map(SALESFORCE_PROBABILITY).fillna(50)
    close = rows["deal_id"].map(_expected_close(deal.reset_index(), _export_date(d, ("created", "closed")))
                                .set_axis(deal.index))  # fmt: skip
    forecast = np.select([prob >= 100, prob <= 0, prob >= 70], ["Closed", "Omitted", "Commit"], "Pipeline")
    ts = _sf_datetime(rows["entered"])
    return pd.DataFrame(
        {
            "Id": "0085g" + pd.Series(np.arange(1, len(rows) + 1)).astype("string").str.zfill(10).astype(object),
            "OpportunityId": _salesforce_id(rows["deal_id"], "006"),
            "CreatedById": _owner_ids(rows["deal_id"].map(deal["rep"]))[0],
            "CreatedDate": ts,
            "StageName": _text(rows["stage"].map(SALESFORCE_STAGES_ES).fillna(rows["stage"]) if language == "es"
                               else rows["stage"]),
            "Amount": _fmt_number(amount.round(-1)),
            "ExpectedRevenue": _fmt_number((amount * prob / 100).round(2)),
            "CloseDate": _sf_datetime(pd.to_datetime(close).dt.normalize()),
            "Probability": prob.astype(int).astype(str).astype(object),
            "ForecastCategory": forecast.astype(object),
            "IsDeleted": "0",
            "SystemModstamp": ts,
        }
    )


def to_hubspot_stage_dates(
    deals: pd.DataFrame, stage_history: pd.DataFrame, *, export_date: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """HubSpot deals export with one ``Date entered "<stage> (Sales Pipeline)"`` column per stage.

    The columns of :func:`to_hubspot` (``kind="deals"``) followed by, for each
    stage of HubSpot's default pipeline in order, ``Date entered`` and ``Date
    exited`` (``YYYY-MM-DD HH:MM``; blank when the deal never entered or has not
    left the stage), as a UI export with those properties selected shows them.
    Simulated stages map to HubSpot's by :data:`HUBSPOT_STAGES`.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=3, n_weeks=8, seed=0, volume_scale=0.2)
    >>> t = to_hubspot_stage_dates(sim.deals, sim.stage_history)
    >>> [c for c in t.columns if c.startswith("Date entered")][1]
    'Date entered "Qualified To Buy (Sales Pipeline)"'
    """
    base = to_hubspot(deals, kind="deals", export_date=export_date)
    hist = _check(stage_history, ["deal_id", "stage", "entered"], "stage_history", "to_hubspot_stage_dates")
    labels = {k: v[0] for k, v in HUBSPOT_STAGES.items()}
    labels.update({CLOSED_STAGES[k]: HUBSPOT_CLOSED[k][0] for k in ("won", "lost")})
    h = hist.assign(label=hist["stage"].map(labels).fillna(hist["stage"]),
                    entered=pd.to_datetime(hist["entered"]))  # fmt: skip
    h = h.sort_values(["deal_id", "entered"], kind="mergesort")
    h["exited"] = h.groupby("deal_id")["entered"].shift(-1)
    first = h.drop_duplicates(["deal_id", "label"])
    order = [*[v[0] for v in HUBSPOT_STAGES.values()], HUBSPOT_CLOSED["won"][0], HUBSPOT_CLOSED["lost"][0]]
    ids = _numeric_ids(deals["deal_id"], 9_100_000_000)
    key = pd.Series(ids.to_numpy(), index=deals["deal_id"].to_numpy())
    out = base.copy()
    for what in ("entered", "exited"):
        wide = first.pivot(index="deal_id", columns="label", values=what)
        for lab in order:
            col = wide[lab] if lab in wide.columns else pd.Series(pd.NaT, index=wide.index)
            vals = pd.to_datetime(deals["deal_id"].map(col))
            out[f'Date {what} "{lab} (Sales Pipeline)"'] = _fmt_dates(vals, "iso", time="hm").where(
                vals.notna(), "").astype(object)  # fmt: skip
    del key
    return out
