"""Accounts: an objective for every key account, and progress against it.

:func:`account_objectives` suggests each account's next milestone (expand into
a product peers buy, grow to the peer level, renew and upsell, win the first
deal) with a financial target and its odds; :func:`account_progress` tracks won
revenue and milestones against the plan (for reviews); and
:func:`account_report_section` gives the tables and figure of the manager's
report.
"""

from salesgoals.accounts._objectives import OBJECTIVE_COLUMNS, AccountObjectives, account_objectives
from salesgoals.accounts._progress import PROGRESS_COLUMNS, account_progress, account_report_section, account_review

__all__ = ["account_objectives", "AccountObjectives", "account_progress", "account_report_section", "account_review",
           "OBJECTIVE_COLUMNS", "PROGRESS_COLUMNS"]
