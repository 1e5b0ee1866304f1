"""Vendor header aliases and value vocabularies of CRM exports.

One table per CRM says which export header feeds which canonical column, in
priority order (the first alias present in a file wins).  Headers are matched
after :func:`norm_header`, which lower-cases and drops everything but letters
and digits, so ``Close Date``, ``close_date``, ``CloseDate`` and ``CLOSE DATE``
all match the same alias.

Sources for the spellings: the vendors' field references and real exports as
collected in the project's export-format notes (Salesforce report labels and
API names, HubSpot property labels and internal names, Pipedrive
``"<Entity> - <Field>"`` headers, Zoho display labels, Dynamics 365 "Export to
Excel" files with their ``(Do Not Modify)`` columns, Close export fields).

Durations carry a unit next to the alias because vendors disagree: HubSpot
stores milliseconds (UI exports show ``HH:MM:SS``), Salesforce and Close
seconds, Dynamics minutes, Zoho ``mm:ss``, Pipedrive ``HH:MM``.
"""

from __future__ import annotations

import re

__all__ = [
    "VENDORS",
    "VENDOR_LABELS",
    "ACTIVITY_ALIASES",
    "DEAL_ALIASES",
    "ROSTER_ALIASES",
    "DURATION_UNITS",
    "OUTCOME_FALLBACK",
    "WON_AMOUNT",
    "TYPE_HINTS",
    "norm_header",
    "norm_value",
    "STAGE_STATUS",
    "STATUS_VALUES",
    "OUTCOME_VALUES",
    "OUTCOME_BY_TYPE",
    "TYPE_VALUES",
    "SIGNATURES",
    # stage history (issue 15)
    "STAGE_HISTORY_ALIASES",
    "STAGE_FIELD_VALUES",
    "CREATED_FIELD_VALUES",
    "WIDE_ENTERED_PATTERNS",
    "WIDE_PIPELINE_SUFFIX",
    "DEFAULT_PIPELINES",
    "HISTORY_STAGE_STATUS",
    "CLOSED_FLAGS",
    "HEADER_PREFIXES",
    "ENTITY_PREFIX",
    "DEAL_WORDS",
    "ACTIVITY_WORDS",
    "SALESFORCE_PROBABILITY",
    "CLOSED_STAGES",
    "SALESFORCE_STAGES_ES",
    "HUBSPOT_STAGES",
    "HUBSPOT_CLOSED",
    "PIPEDRIVE_STAGES",
]

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def norm_header(name: object) -> str:
    """Matching key of a header: lower case, letters and digits only.

    Examples
    --------
    >>> norm_header("  Close Date ") == norm_header("CloseDate") == norm_header("close_date")
    True
    """
    return _NON_ALNUM.sub("", str(name).replace("\ufeff", "").replace("\x00", "").lower())


def norm_value(value: object) -> str:
    """Matching key of a vocabulary value (stage, outcome, type): like :func:`norm_header`.

    Examples
    --------
    >>> norm_value("Closed - Won") == norm_value("closedwon")
    True
    """
    return norm_header(value)


#: CRMs understood by ``crm=``, in the order used to break ties in detection.
VENDORS: tuple[str, ...] = ("salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "close", "generic")
VENDOR_LABELS: dict[str, str] = {
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "pipedrive": "Pipedrive",
    "zoho": "Zoho CRM",
    "dynamics": "Dynamics 365",
    "close": "Close",
    "generic": "generic / canonical",
}

# Every vendor also accepts the canonical names (a file written by write_csv
# loads under any crm=), added below.
_G_ACT = {
    "rep": ["rep", "sales rep", "salesrep", "owner", "user", "user name", "assigned to", "employee", "agent",
            "seller", "salesperson", "sales person", "rep name", "owner name"],
    "timestamp": ["timestamp", "date", "activity date", "datetime", "date time", "time", "created", "created at",
                  "activity_timestamp", "start", "start time"],
    "activity_type": ["activity_type", "type", "activity", "activity type", "kind", "channel"],
    "activity_id": ["activity_id", "id", "record id"],
    "deal_id": ["deal_id", "deal", "opportunity", "opportunity id", "deal id"],
    "account": ["account", "company", "account name", "organization", "customer"],
    "outcome": ["outcome", "result", "disposition", "status"],
    "duration_min": ["duration_min", "duration", "duration minutes", "minutes"],
}
_G_DEAL = {
    "deal_id": ["deal_id", "id", "deal id", "opportunity id", "record id"],
    "rep": ["rep", "owner", "sales rep", "salesrep", "deal owner", "user", "seller", "salesperson", "owner name"],
    "created": ["created", "created date", "create date", "created at", "date created", "creation date", "opened"],
    "closed": ["closed", "close date", "closed date", "closed at", "date closed", "won date", "close_date"],
    "status": ["status", "outcome", "result", "state"],
    "amount": ["amount", "value", "revenue", "deal value", "deal amount", "total", "price"],
    "stage": ["stage", "deal stage", "pipeline stage"],
    "account": ["account", "company", "account name", "customer", "organization"],
    "currency": ["currency", "currency code"],
    "pipeline": ["pipeline"],
}

ACTIVITY_ALIASES: dict[str, dict[str, list[str]]] = {
    "salesforce": {
        "rep": ["Assigned", "Assigned To", "Activity Owner", "Owner", "Assigned To ID", "OwnerId", "Owner ID"],
        "timestamp": ["Date", "Due Date", "Completed Date/Time", "CompletedDateTime", "ActivityDateTime",
                      "Start", "ActivityDate", "Created Date", "CreatedDate"],
        "activity_type": ["Activity Type", "Type", "Task/Event Record Type", "Type of Interaction",
                          "Activity Subtype", "TaskSubtype", "EventSubtype", "CallType"],
        "activity_id": ["Activity ID", "Task ID", "Event ID", "Id"],
        "deal_id": ["Opportunity", "Opportunity ID", "Related To", "Related To ID", "WhatId"],
        "account": ["Company / Account", "Account", "Account Name", "AccountId", "Account ID"],
        "outcome": ["Call Result", "CallDisposition"],
        "duration_min": ["Call Duration", "CallDurationInSeconds", "Duration", "DurationInMinutes"],
    },
    "hubspot": {
        "rep": ["Activity assigned to", "Assigned to", "Call owner", "Meeting owner", "hubspot_owner_id",
                "Activity owner", "HubSpot owner"],
        "timestamp": ["Activity date", "hs_timestamp", "Start Time", "Due date", "hs_meeting_start_time",
                      "Create Date", "createdate"],
        "activity_type": ["Task Type", "hs_task_type", "Activity type", "Engagement type"],
        "activity_id": ["Record ID", "hs_object_id", "Activity ID"],
        "deal_id": ["Associated Deal", "Associated Deal IDs", "Associated Deals", "Associated Deal ID",
                    "Deal ID", "deal_id"],
        "account": ["Associated Company", "Associated Company IDs", "Company name", "Associated Company ID"],
        "outcome": ["Call outcome", "hs_call_disposition", "Meeting outcome", "hs_meeting_outcome", "Email direction",
                    "hs_email_direction"],
        "duration_min": ["Call duration", "hs_call_duration"],
    },
    "pipedrive": {
        "rep": ["Activity - Assigned to user", "Activity - User", "Activity - Owner", "Assigned to user"],
        "timestamp": ["Activity - Due date", "Activity - Marked as done time", "Activity - Add time",
                      "Activity - Creation date"],
        "activity_type": ["Activity - Type", "Type"],
        "activity_id": ["Activity - ID", "Activity - Pipedrive System ID"],
        "deal_id": ["Activity - Deal", "Deal - ID", "Deal - Title", "Deal"],
        "account": ["Activity - Organization", "Organization - Name", "Deal - Organization", "Organization"],
        "outcome": ["Activity - Done"],
        "duration_min": ["Activity - Duration"],
    },
    "zoho": {
        "rep": ["Call Owner", "Call Owner Name", "Meeting Owner", "Task Owner", "Activity Owner", "Owner", "Host"],
        "timestamp": ["Call Start Time", "Call_Start_Time", "Start DateTime", "From", "Due Date", "Created Time"],
        "activity_type": ["Activity Type", "Call Type", "Call_Type"],
        "activity_id": ["Record Id", "Id"],
        "deal_id": ["Related To", "What_Id", "Deal Name"],
        "account": ["Account Name", "Related To Account"],
        "outcome": ["Call Result", "Call_Result"],
        "duration_min": ["Call Duration (in seconds)", "Call_Duration_in_seconds", "Call Duration (in minutes)",
                         "Call Duration", "Call_Duration"],
    },
    "dynamics": {
        "rep": ["Owner", "Owning User", "Assigned To"],
        "timestamp": ["Actual End", "Actual Start", "Date Completed", "Due", "Start Time", "Created On",
                      "Modified On"],
        "activity_type": ["Activity Type", "activitytypecode"],
        "activity_id": ["(Do Not Modify) Phone Call", "(Do Not Modify) Appointment", "(Do Not Modify) Activity",
                        "(Do Not Modify) Email", "(Do Not Modify) Task", "Activity ID", "activityid"],
        "deal_id": ["Regarding", "Regarding (Opportunity)", "regardingobjectid"],
        "account": ["Account", "Potential Customer", "Customer"],
        "outcome": ["Activity Status", "Status Reason"],
        "duration_min": ["Duration", "Actual Duration", "actualdurationminutes"],
    },
    "close": {
        "rep": ["user_name", "user", "user_id", "created_by_name"],
        "timestamp": ["date_created", "activity_at", "date", "date_updated"],
        "activity_type": ["_type", "type", "activity_type"],
        "activity_id": ["id", "activity_id"],
        "deal_id": ["opportunity_id", "opportunity"],
        "account": ["lead_name", "lead_id"],
        "outcome": ["disposition", "status"],
        "duration_min": ["duration"],
    },
    "generic": _G_ACT,
}

DEAL_ALIASES: dict[str, dict[str, list[str]]] = {
    "salesforce": {
        "deal_id": ["Opportunity ID", "Opportunity Id", "Id", "Opportunity: Opportunity ID"],
        "rep": ["Opportunity Owner", "Owner", "Owner Name", "Owner Full Name", "OwnerId", "Owner ID"],
        "created": ["Created Date", "CreatedDate", "Created Date/Time", "Opportunity Created Date"],
        "closed": ["Close Date", "CloseDate", "Closed Date"],
        "status": ["IsWon", "Won", "Is Won"],
        "amount": ["Amount", "Total Amount", "Opportunity Amount", "Amount (converted)"],
        "stage": ["Stage", "StageName", "Opportunity Stage"],
        "account": ["Account Name", "Account", "AccountId", "Account ID"],
        "currency": ["Opportunity Currency", "CurrencyIsoCode", "Amount Currency", "Total Amount Currency",
                     "Currency"],
        "pipeline": ["Opportunity Record Type", "RecordTypeId", "Record Type", "Type", "Opportunity Type"],
    },
    "hubspot": {
        "deal_id": ["Record ID", "hs_object_id", "Deal ID", "dealId"],
        "rep": ["Deal owner", "hubspot_owner_id", "Owner"],
        "created": ["Create Date", "createdate", "Created Date"],
        "closed": ["Close Date", "closedate"],
        "status": ["Is Closed Won", "hs_is_closed_won"],
        "amount": ["Amount", "amount", "Amount in company currency", "amount_in_home_currency"],
        "stage": ["Deal Stage", "dealstage"],
        "account": ["Associated Company", "Associated Company IDs", "Associated Company (Primary)", "Company name"],
        "currency": ["Currency", "deal_currency_code"],
        "pipeline": ["Pipeline", "pipeline"],
    },
    "pipedrive": {
        "deal_id": ["Deal - ID", "Deal - Pipedrive System ID"],
        "rep": ["Deal - Owner", "Deal - User", "Deal - Assigned to user", "Owner"],
        "created": ["Deal - Deal created", "Deal - Creation date", "Deal - Add time", "Deal - Created"],
        "closed": ["Deal - Deal closed on", "Deal - Closed on", "Deal - Won time", "Deal - Lost time",
                   "Deal - Close time"],
        "status": ["Deal - Status", "Status"],
        "amount": ["Deal - Value", "Value"],
        "stage": ["Deal - Stage", "Deal - Stage (pipeline)", "Stage"],
        "account": ["Deal - Organization", "Organization - Name", "Organization"],
        "currency": ["Deal - Currency", "Deal - Currency of value", "Currency"],
        "pipeline": ["Deal - Pipeline", "Pipeline"],
    },
    "zoho": {
        "deal_id": ["Record Id", "Id", "Deal Id"],
        "rep": ["Deal Owner", "Deal Owner Name", "Owner"],
        "created": ["Created Time", "Created_Time", "Created Date"],
        "closed": ["Closing Date", "Closing_Date"],
        "status": [],
        "amount": ["Amount", "Offer Total Amount", "Grand Total"],
        "stage": ["Stage"],
        "account": ["Account Name", "Account_Name", "Contact Name"],
        "currency": ["Currency", "Deal Currency"],
        "pipeline": ["Pipeline", "Layout"],
    },
    "dynamics": {
        "deal_id": ["(Do Not Modify) Opportunity", "Opportunity ID", "opportunityid"],
        "rep": ["Owner", "Owning User", "ownerid"],
        "created": ["Created On", "createdon"],
        "closed": ["Actual Close Date", "actualclosedate", "Closed On"],
        "status": ["Status", "statecode"],
        # Est. Revenue is set on every opportunity; Actual Revenue only once won (the loader
        # takes Actual Revenue for won deals that have it, see WON_AMOUNT)
        "amount": ["Est. Revenue", "estimatedvalue", "Est. Revenue (Base)", "Actual Revenue", "actualvalue",
                   "Actual Revenue (Base)"],
        "stage": ["Pipeline Phase", "Sales Stage", "stepname", "Status Reason"],
        "account": ["Potential Customer", "Account", "customerid", "parentaccountid"],
        "currency": ["Currency", "transactioncurrencyid"],
        "pipeline": ["Process", "Business Process Flow"],
    },
    "close": {
        "deal_id": ["id", "opportunity_id"],
        "rep": ["user_name", "user", "user_id"],
        "created": ["date_created"],
        "closed": ["date_won", "date_lost", "date_closed"],
        "status": ["status_type"],
        "amount": ["value", "annualized_value"],
        "stage": ["status_label", "status", "status_display_name"],
        "account": ["lead_name", "lead_id"],
        "currency": ["value_currency", "currency"],
        "pipeline": ["pipeline_name", "pipeline"],
    },
    "generic": _G_DEAL,
}

ROSTER_ALIASES: dict[str, list[str]] = {
    "rep": ["rep", "sales rep", "name", "full name", "user", "user name", "employee", "seller", "owner",
            "salesperson"],
    "team": ["team", "sales team", "squad", "group", "role"],
    "manager": ["manager", "reports to", "manager name", "line manager", "supervisor"],
    "region": ["region", "territory", "area", "market"],
    "start": ["start", "start date", "hire date", "hired", "joined", "from"],
    "end": ["end", "end date", "termination date", "leave date", "left", "to", "exit date"],
}

# canonical names always count, first
for _table, _cols in ((ACTIVITY_ALIASES, _G_ACT), (DEAL_ALIASES, _G_DEAL)):
    for _vendor, _spec in _table.items():
        for _canon in _cols:
            _spec.setdefault(_canon, [])
            if _canon not in _spec[_canon]:
                _spec[_canon].insert(0, _canon)

#: Amount columns that hold the booked value of won deals only; where present it
#: replaces the estimate for won deals (Dynamics: Actual Revenue vs Est. Revenue).
WON_AMOUNT: dict[str, list[str]] = {"dynamics": ["Actual Revenue", "actualvalue", "Actual Revenue (Base)"]}

#: Columns that fill the outcome where the main outcome column is blank (a
#: Salesforce meeting has no Call Result but its Status says Completed / No Show).
OUTCOME_FALLBACK: dict[str, list[str]] = {
    "salesforce": ["Status"],
    "hubspot": ["Call status", "hs_call_status", "Task Status", "hs_task_status"],
    "zoho": ["Call Status", "Outgoing Call Status", "Status"],
    "dynamics": ["Status"],
    "close": ["status"],
    "pipedrive": [],
    "generic": ["status"],
}

#: Unit of a duration column, by (vendor, normalised header).  Default: minutes.
#: ``ms`` milliseconds, ``s`` seconds, ``min`` minutes; colon text (``1:02:03``)
#: is read as h:m:s, except ``mmss`` (``02:30`` = 2.5 min) and ``hhmm`` (``00:30`` = 30 min).
DURATION_UNITS: dict[tuple[str, str], str] = {
    ("hubspot", "callduration"): "ms",
    ("hubspot", "hscallduration"): "ms",
    ("salesforce", "callduration"): "s",
    ("salesforce", "calldurationinseconds"): "s",
    ("salesforce", "duration"): "min",
    ("salesforce", "durationinminutes"): "min",
    ("zoho", "calldurationinseconds"): "s",
    ("zoho", "calldurationinminutes"): "min",
    ("zoho", "callduration"): "mmss",
    ("zoho", "callduration_"): "mmss",
    ("pipedrive", "activityduration"): "hhmm",
    ("dynamics", "duration"): "min",
    ("close", "duration"): "s",
}

#: Headers that reveal the activity type of a file that has no type column
#: (HubSpot exports calls, meetings and emails as separate files).
TYPE_HINTS: tuple[tuple[str, str], ...] = (
    ("calloutcome", "call"),
    ("hscalldisposition", "call"),
    ("callduration", "call"),
    ("calltitle", "call"),
    ("callnotes", "call"),
    ("calldirection", "call"),
    ("hscalltitle", "call"),
    ("callstarttime", "call"),
    ("callownername", "call"),
    ("callowner", "call"),
    ("calldurationinseconds", "call"),
    ("meetingoutcome", "meeting"),
    ("hsmeetingoutcome", "meeting"),
    ("meetingname", "meeting"),
    ("hsmeetingtitle", "meeting"),
    ("meetingowner", "meeting"),
    ("isalldayevent", "meeting"),
    ("activitydatetime", "meeting"),
    ("emailsubject", "email"),
    ("hsemailsubject", "email"),
    ("emaildirection", "email"),
    ("emailsendstatus", "email"),
    ("hsemaildirection", "email"),
)

#: Columns that identify a vendor's layout (normalised), beyond the aliases.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "salesforce": ("opportunityowner", "opportunityname", "stagename", "iswon", "isclosed", "ownerid", "whatid",
                   "calldurationinseconds", "calldisposition", "closedate", "forecastcategory", "assigned",
                   "companyaccount", "callresult", "fiscalperiod", "probability", "activitydate"),
    "hubspot": ("recordid", "dealowner", "dealstage", "activityassignedto", "calloutcome", "meetingoutcome",
                "emailsubject", "hubspotownerid", "hsobjectid", "createdate", "dealname", "iscloseddown",
                "isclosedwon", "isdealclosed", "hstimestamp", "associatedcompany", "callduration"),
    "pipedrive": (),  # detected by the "<entity> - <field>" prefix, see detection in io
    "zoho": ("dealowner", "closingdate", "createdtime", "modifiedtime", "callowner", "callstarttime",
             "recordid", "dealownername", "callownername", "dealname", "calldurationinseconds"),
    "dynamics": ("actualclosedate", "estrevenue", "actualrevenue", "createdon", "potentialcustomer",
                 "estclosedate", "statusreason", "topic", "regarding", "actualend", "activitystatus"),
    "close": ("leadname", "datewon", "datelost", "statustype", "statuslabel", "username", "datecreated",
              "valuecurrency", "valueperiod", "leadid", "valueformatted", "userid"),
    "generic": (),
}

# ------------------------------------------------------------------ default stage picklists
# Read by the deal loader (STAGE_STATUS below) and by the sample writers in
# salesgoals.simulate.exports, so both speak one vocabulary.
#: Salesforce's standard StageName picklist and the default probability (%) of each stage.
SALESFORCE_PROBABILITY: dict[str, int] = {
    "Prospecting": 10,
    "Qualification": 10,
    "Needs Analysis": 20,
    "Value Proposition": 50,
    "Id. Decision Makers": 60,
    "Perception Analysis": 70,
    "Proposal/Price Quote": 75,
    "Negotiation/Review": 90,
    "Closed Won": 100,
    "Closed Lost": 0,
}
#: The closed stages of Salesforce, Zoho and HubSpot labels, by status.
CLOSED_STAGES: dict[str, str] = {"won": "Closed Won", "lost": "Closed Lost"}
#: Stages of a Spanish-language Salesforce org (custom picklist values seen in real backups).
SALESFORCE_STAGES_ES: dict[str, str] = {
    "Prospecting": "Prospección",
    "Qualification": "Calificación",
    "Needs Analysis": "Análisis de necesidades",
    "Proposal/Price Quote": "Propuesta/Presupuesto",
    "Negotiation/Review": "Negociación",
    "Closed Won": "Cerrada ganada",
    "Closed Lost": "Cerrada perdida",
}
#: Canonical open stage -> HubSpot default "Sales Pipeline" stage (label, internal id).
HUBSPOT_STAGES: dict[str, tuple[str, str]] = {
    "Prospecting": ("Appointment Scheduled", "appointmentscheduled"),
    "Qualification": ("Qualified To Buy", "qualifiedtobuy"),
    "Needs Analysis": ("Presentation Scheduled", "presentationscheduled"),
    "Proposal/Price Quote": ("Decision Maker Bought-In", "decisionmakerboughtin"),
    "Negotiation/Review": ("Contract Sent", "contractsent"),
}
#: HubSpot's closed stages (label, internal id), by status.
HUBSPOT_CLOSED: dict[str, tuple[str, str]] = {"won": ("Closed Won", "closedwon"), "lost": ("Closed Lost", "closedlost")}
#: Canonical open stage -> Pipedrive default pipeline stage.
PIPEDRIVE_STAGES: dict[str, str] = {
    "Prospecting": "Qualified",
    "Qualification": "Qualified",
    "Needs Analysis": "Contact Made",
    "Proposal/Price Quote": "Proposal Made",
    "Negotiation/Review": "Negotiations Started",
}

# ------------------------------------------------------------------ deal status
#: Stage names that decide won / lost / open (normalised keys).  Custom stages
#: go through ``stage_map=``.
_WON = ["Closed Won", "closedwon", "Won", "Closed - Won", "Closed/Won", "Deal Won", "Win"]
_LOST = ["Closed Lost", "closedlost", "Lost", "Closed - Lost", "Closed/Lost", "Deal Lost", "Closed-Lost to Competition",
         "Closed Lost to Competition", "Loss"]
_OPEN = [
    # Salesforce / Zoho default picklist
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
    # HubSpot default sales pipeline (labels and internal ids)
    "Appointment Scheduled", "appointmentscheduled", "Qualified To Buy", "qualifiedtobuy",
    "Presentation Scheduled", "presentationscheduled", "Decision Maker Bought-In", "decisionmakerboughtin",
    "Contract Sent", "contractsent",
    # Pipedrive default pipeline
    "Lead In", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started", "Qualified",
    # Dynamics 365 pipeline phases / business process stages
    "Qualify", "Develop", "Propose", "Close", "1-Qualify", "2-Develop", "3-Propose", "4-Close",
    # Close default statuses and generic words
    "Active", "Open", "In Progress", "Discovery", "Demo", "Proposal", "Negotiation", "Lead", "New",
    "Pending", "Evaluation", "Trial", "Contacted",
]
STAGE_STATUS: dict[str, str] = {}
for _status, _names in (("open", _OPEN), ("lost", _LOST), ("won", _WON)):
    for _n in _names:
        STAGE_STATUS[norm_value(_n)] = _status
for _en, _es in SALESFORCE_STAGES_ES.items():  # the same stages in a Spanish-language org
    STAGE_STATUS[norm_value(_es)] = STAGE_STATUS[norm_value(_en)]
for _label, _api in (*HUBSPOT_STAGES.values(), *HUBSPOT_CLOSED.values()):
    STAGE_STATUS.setdefault(norm_value(_label), STAGE_STATUS.get(norm_value(_api), "open"))

#: Values of explicit status columns (Pipedrive ``Deal - Status``, Dynamics ``Status``,
#: Close ``status_type``, generic ``status``).
STATUS_VALUES: dict[str, str] = {
    **{norm_value(v): "won" for v in ("won", "closed won", "closedwon", "win", "w")},
    **{norm_value(v): "lost" for v in ("lost", "closed lost", "closedlost", "loss", "l")},
    **{norm_value(v): "open" for v in ("open", "active", "in progress", "pending", "ongoing")},
}

#: Boolean spellings (IsWon, IsClosed, hs_is_closed_won ...).
TRUE_VALUES = frozenset({"1", "true", "yes", "y", "t", "x", "won", "closed"})
FALSE_VALUES = frozenset({"0", "false", "no", "n", "f", ""})

# ------------------------------------------------------------------ activities
#: Activity type spellings -> canonical type (normalised keys).
#: Only spellings of one behaviour are merged (case, plural, vendor codes such as
#: ``LINKED_IN``, Salesforce ``Event`` = a meeting on the calendar); distinct
#: behaviours (demo, lunch, site visit, deadline, letter) keep their own name,
#: and merging them is the user's call through ``type_map=``.
TYPE_VALUES: dict[str, str] = {}
for _canon, _names in {
    "call": ["call", "calls", "phone call", "phone calls", "phonecall", "phone", "outbound call", "inbound call",
             "log a call", "logged call", "cold call", "dial", "Outbound", "Inbound", "Missed", "CALL"],
    "email": ["email", "emails", "e-mail", "e-mails", "email sent", "sent email", "incoming_email", "forwarded_email",
              "EMAIL", "Email Message", "List Email"],
    "meeting": ["meeting", "meetings", "appointment", "appointments", "event", "events", "call and meeting",
                "MEETING"],
    "linkedin": ["linkedin", "linked in", "linked_in", "linkedin message", "linkedin messages", "LINKED_IN"],
    "task": ["task", "tasks", "todo", "to-do", "to do", "TODO"],
    "note": ["note", "notes"],
    "sms": ["sms", "text message", "text messages"],
}.items():
    for _n in _names:
        TYPE_VALUES[norm_value(_n)] = _canon

#: Outcome spellings -> canonical outcome, whatever the activity type.
OUTCOME_VALUES: dict[str, str] = {}
for _canon, _names in {
    "connected": ["connected", "connect", "answered", "reached", "spoke", "conversation", "completed call",
                  "attended dialled", "received", "call connected", "contacted", "interested", "not interested",
                  "meeting booked"],
    "no_answer": ["no answer", "no_answer", "noanswer", "no-answer", "unattended dialled", "missed",
                  "not answered", "unanswered", "did not answer", "no response"],
    "voicemail": ["voicemail", "left voicemail", "left vm", "vm left", "vm-left", "vm-answer", "left message",
                  "left live message", "left_voicemail", "voice mail", "machine"],
    "busy": ["busy", "line busy"],
    "wrong_number": ["wrong number", "wrong_number", "bad number", "invalid number", "disconnected",
                     "number not in service"],
    "held": ["held", "attended", "occurred", "took place", "happened"],
    "no_show": ["no show", "no_show", "noshow", "no-show", "did not attend", "not attended"],
    "canceled": ["canceled", "cancelled", "canceled by prospect", "cancel"],
    "rescheduled": ["rescheduled", "moved", "postponed"],
    "scheduled": ["scheduled", "booked", "planned", "undone", "not started", "open", "in progress",
                  "not_started", "in_progress", "waiting", "deferred", "overdue", "pending"],
    "sent": ["sent", "email", "email sent", "forwarded_email", "forwarded email", "delivered", "outgoing"],
    "received": ["incoming_email", "incoming email", "inbound", "incoming"],
}.items():
    for _n in _names:
        OUTCOME_VALUES[norm_value(_n)] = _canon

#: Outcomes whose meaning depends on the activity type (``Done`` is a held
#: meeting but says nothing about whether a call connected: ``None`` = unknown).
OUTCOME_BY_TYPE: dict[tuple[str, str], str | None] = {
    ("meeting", "completed"): "held",
    ("meeting", "done"): "held",
    ("meeting", "complete"): "held",
    ("meeting", "closed"): "held",
    ("call", "completed"): None,
    ("call", "complete"): None,
    ("call", "done"): None,
    ("email", "completed"): "sent",
    ("email", "done"): "sent",
    ("task", "completed"): "completed",
    ("task", "done"): "completed",
}


# ==================================================================== stage history (issue 15)
# Vocabulary of stage-history exports, read by salesgoals.io._stage_history.  Kept in one
# block so that the rest of this module can change independently.
#
# Three shapes exist in the wild:
#   * long: one row per stage entered (Salesforce OpportunityHistory, Zoho "Stage History"
#     related list, the generic deal_id / stage / entered table);
#   * field history: one row per field change, stage changes among them (Salesforce
#     OpportunityFieldHistory and its "Opportunity Field History" report, Pipedrive's deal
#     change log, where field_key "stage_id" marks a stage change);
#   * wide: one row per deal with one "Date entered <stage>" column per stage (HubSpot deal
#     exports; API names hs_date_entered_<stage id> and hs_v2_date_entered_<stage id>).

#: Canonical columns of a stage-history table -> header aliases, per vendor (first present wins).
STAGE_HISTORY_ALIASES: dict[str, dict[str, list[str]]] = {
    "salesforce": {
        # OpportunityHistory (API) and the "Opportunity History" report; OpportunityFieldHistory
        # (API) and the "Opportunity Field History" report
        "deal_id": ["OpportunityId", "Opportunity ID", "Opportunity Id", "Opportunity: Opportunity ID",
                    "Opportunity Name", "Opportunity"],
        "stage": ["StageName", "To Stage", "Stage", "Stage Name"],
        "entered": ["CreatedDate", "Last Modified", "Last Modified Date", "Edit Date", "Created Date",
                    "Date Changed", "SystemModstamp"],
        "field": ["Field", "Field / Event", "Field/Event"],
        "new_value": ["NewValue", "New Value"],
        "old_value": ["OldValue", "Old Value"],
        "from_stage": ["From Stage"],
    },
    "hubspot": {
        "deal_id": ["Record ID", "hs_object_id", "Deal ID", "dealId"],
    },
    "pipedrive": {
        # the deal change log ("flow" of a deal, as exported by API tools): one row per field change
        "deal_id": ["Deal - ID", "Deal ID", "deal_id", "item_id"],
        "field": ["Field", "field_key", "Field key", "Changed field"],
        "new_value": ["New value", "new_value", "Deal - Stage"],
        "old_value": ["Old value", "old_value"],
        "entered": ["Log time", "log_time", "Update time", "Change time", "Deal - Stage change time"],
    },
    "zoho": {
        # the Deals "Stage History" related list (module Stage_History in the API)
        "deal_id": ["Deal Id", "Deal ID", "Deal Name", "Deal_Name", "Related Deal", "Parent Id"],
        "stage": ["Stage", "Moved To", "Moved_To__s"],
        "entered": ["Modified Time", "Last Modified Time", "Modified_Time", "Stage Modified Time",
                    "Changed Time"],
    },
    "generic": {
        "deal_id": ["deal_id", "deal", "deal id", "opportunity id", "opportunity", "id"],
        "stage": ["stage", "to stage", "new stage", "stage name", "deal stage"],
        "entered": ["entered", "entered at", "date entered", "stage entered", "date", "changed", "changed at",
                    "timestamp", "time", "modified"],
    },
}

#: Values of a field-history "Field" column that mean "the stage changed" (normalised keys).
STAGE_FIELD_VALUES: frozenset[str] = frozenset(
    norm_value(v) for v in ("StageName", "Stage", "Opportunity Stage", "stage_id", "Deal stage", "dealstage",
                            "Pipeline stage")
)
#: Values of a field-history "Field" column that mark the record's creation (its first stage).
CREATED_FIELD_VALUES: frozenset[str] = frozenset(
    norm_value(v) for v in ("created", "Created.", "opportunityCreated", "Opportunity Created", "add_time",
                            "Record created", "Deal created")
)

#: Headers of HubSpot's wide stage-date columns: label ``Date entered "<stage> (<pipeline>)"``
#: (quotes straight, curly or single), API ``hs_date_entered_<stage id>`` /
#: ``hs_v2_date_entered_<stage id>``.  Group 1 is the stage (label or id).
WIDE_ENTERED_PATTERNS: tuple[str, ...] = (
    r"""^\s*date\s+entered\s+["'\u201c\u2018]?(.+?)["'\u201d\u2019]?\s*$""",
    r"^\s*hs_(?:v2_)?date_entered_(.+?)\s*$",
)
#: A trailing "(<pipeline>)" inside a HubSpot stage label, e.g. ``Contract Sent (Sales Pipeline)``.
WIDE_PIPELINE_SUFFIX = r"^(.*\S)\s*\(([^()]*)\)\s*$"

#: Default pipelines, in the vendor's order (open stages then closed); used to order stages
#: when every stage of a file belongs to one of them.  Sources: Salesforce default StageName
#: picklist, HubSpot default "Sales Pipeline" (labels and internal ids), Pipedrive and Zoho
#: defaults (see the export-format notes).
DEFAULT_PIPELINES: dict[str, tuple[str, ...]] = {
    "salesforce": ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
                   "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won",
                   "Closed Lost"),
    "hubspot": ("Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In",
                "Contract Sent", "Closed Won", "Closed Lost"),
    "hubspot_ids": ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                    "contractsent", "closedwon", "closedlost"),
    "pipedrive": ("Lead In", "Qualified", "Contact Made", "Demo Scheduled", "Proposal Made",
                  "Negotiations Started", "Won", "Lost"),
    "zoho": ("Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis",
             "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost", "Closed-Lost to Competition"),
}
#: Closed stages of stage histories beyond :data:`STAGE_STATUS` (non-English orgs' picklists seen in
#: backups); the history loader reads them, the deal loader relies on IsWon / IsClosed instead.
HISTORY_STAGE_STATUS: dict[str, str] = {
    norm_value(k): v for k, v in {"Cerrada ganada": "won", "Cerrada perdida": "lost", "Ganada": "won",
                                  "Perdida": "lost", "Gagné": "won", "Perdu": "lost", "Gewonnen": "won",
                                  "Verloren": "lost"}.items()
}
# =============================================================== end stage history (issue 15)
# ------------------------------------------------------------------ closed flags
#: Flag columns that say whether a deal is closed (vendor API names, report
#: labels and warehouse-sync spellings such as ``is_closed``); ``True`` with a
#: ``False`` won flag means lost.
CLOSED_FLAGS: dict[str, list[str]] = {
    "salesforce": ["IsClosed", "Closed", "Is Closed"],
    "hubspot": ["Is Deal Closed?", "hs_is_closed", "Is Closed"],
    "generic": ["is_closed", "closed_flag", "is closed"],
}

# ------------------------------------------------------------------ generic header words
#: Prefixes that warehouse syncs and entity-qualified exports put before a
#: field's own name (normalised): Fivetran / Airbyte HubSpot ``property_*``.
HEADER_PREFIXES: tuple[str, ...] = ("properties", "property")
#: ``"<Entity> - <Field>"`` headers (Pipedrive) and ``Deal - `` style prefixes.
ENTITY_PREFIX = re.compile(
    r"^\s*(deal|deals|activity|activities|opportunity|person|organization|organisation|lead|product)\s+-\s+", re.I
)

#: Words that name each canonical field in headers nobody wrote an alias for
#: (``sales_agent``, ``engage_date``, ``close_value``, ``dealowner``).  Each
#: entry is a word (matched as a token, or inside a run-together header when
#: it has 4+ letters) or a tuple of words that must all be present; earlier
#: entries win.  ``kind`` says which values the column must hold: ``date``
#: (parses as dates), ``amount`` (numbers or currency text), ``few`` (few
#: distinct text values), ``types`` (few distinct values, at least one of them
#: a known activity type such as ``Call``: a ``resource_type`` of ``deal`` /
#: ``lead`` names the record an activity is about, not what was done),
#: ``text`` (anything).
FieldWords = dict[str, tuple[str, tuple[object, ...], tuple[str, ...]]]
DEAL_WORDS: FieldWords = {
    # field: (kind, words, words that rule a header out)
    "deal_id": ("text", (("opportunity", "id"), ("deal", "id"), ("opp", "id"), ("record", "id"), "id"),
                ("owner", "account", "company", "user", "agent", "contact", "pipeline", "stage")),
    "rep": ("text", ("owner", "agent", "rep", "salesrep", "seller", "salesperson", ("account", "executive"), "ae",
                     "assigned", "user", "employee", "sdr", "bdr"),
            ("created", "modified", "updated", "manager", "team", "email")),
    "created": ("date", ("created", "create", "creation", "engage", "engaged", "opened", "added", "start", "open"),
                ("modified", "updated", "last", "by")),
    "closed": ("date", ("closed", "close", "closing", "won", ("expected", "close"), "expiration", "expiry", "end"),
               ("created", "modified", "updated", "last", "lost")),
    "amount": ("amount", ("amount", "value", "revenue", ("deal", "size"), "price", "arr", "acv", "tcv", "mrr",
                          "bookings", "total"),
               ("probability", "currency", "id", "count", "number", "percent", "expected", "weighted", "forecast")),
    "stage": ("few", ("stage", "status", "outcome", "result", "state", "phase"), ("date", "time", "id", "change")),
    "account": ("text", ("account", "company", "organization", "organisation", "customer", "client"),
                ("executive", "owner", "manager", "id")),
    "currency": ("few", ("currency",), ()),
    "pipeline": ("few", ("pipeline",), ("id",)),
}
ACTIVITY_WORDS: FieldWords = {
    "activity_id": ("text", (("activity", "id"), ("task", "id"), ("event", "id"), ("engagement", "id"),
                             ("record", "id"), "id"),
                    ("owner", "deal", "opportunity", "account", "company", "what", "who", "user", "contact")),
    "rep": DEAL_WORDS["rep"],
    "timestamp": ("date", ("timestamp", "datetime", "date", "time", "at", "on", "when", "start", "due", "completed",
                           "logged", "created"), ("modified", "updated", "last", "reminder", "end")),
    "activity_type": ("types", ("type", "kind", "channel", "subtype", "category", "medium", "engagement", "activity"),
                      ("date", "time", "id", "record", "assigned", "owner", "user", "rep", "agent", "by", "status",
                       "outcome", "result", "duration", "subject", "title", "notes",
                       # the type of the record an activity is about (Copper 'Related To Type', Zendesk Sell
                       # 'resource_type', 'regarding object type'), not the type of the activity
                       "related", "resource", "regarding", "parent", "object", "entity", "associated", "linked")),
    "deal_id": ("text", (("deal", "id"), ("opportunity", "id"), ("opp", "id"), ("what", "id"), "deal", "opportunity"),
                ("stage", "amount", "owner", "name", "title")),
    "account": DEAL_WORDS["account"],
    "outcome": ("few", ("outcome", "result", "disposition", "status"), ("date", "time", "id")),
    "duration_min": ("amount", ("duration", "length", "seconds", "minutes"), ()),
}
