"""Load: CRM exports (activities, deals, roster) -> canonical tidy frames.

The front door is :func:`load_activities`, :func:`load_deals` and
:func:`load_roster`; :func:`write_csv` writes spreadsheet-safe CSV.  All vendor
vocabulary (header spellings, stage names, closed/won flags) lives in
:mod:`salesgoals.io._vendors`; value parsing (dates, amounts, dialects) in
:mod:`salesgoals.io._parse`.  :func:`load_stage_history` reads when deals
entered each stage (Salesforce OpportunityHistory, HubSpot "Date entered").
"""

from salesgoals.io import _vendors as vendors  # the one vendor vocabulary, shared with the sample writers
from salesgoals.io._inspect import Inspection, inspect
from salesgoals.io._load import CRM, DataQualityReport, load_activities, load_deals, load_roster, read_users, write_csv
from salesgoals.io._options import add_load_arguments, currency_symbol, load_options, parse_pairs, read_config
from salesgoals.io._stage_history import load_stage_history

__all__ = ["CRM", "DataQualityReport", "Inspection", "inspect", "load_activities", "load_deals", "load_roster",
           "load_stage_history", "read_users", "write_csv", "add_load_arguments", "load_options", "parse_pairs",
           "read_config", "currency_symbol"]
