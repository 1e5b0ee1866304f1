"""The string choices of the public API, one home each (pyfixest style ``Literal`` aliases).

Every module that takes or produces one of these vocabularies imports it from
here, so the tiers, statuses and grains are spelled in one place.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Freq", "FREQS", "Tier", "TIERS", "Status", "STATUSES", "Outcome", "Target", "CRM"]

#: Grain of a panel, a goal period or a forecast: Monday-based weeks, calendar months or quarters.
Freq = Literal["W", "M", "Q"]
FREQS: tuple[str, ...] = ("W", "M", "Q")

#: Goal tiers, easiest first.
Tier = Literal["clear", "stretch", "extraordinary"]
TIERS: tuple[str, ...] = ("clear", "stretch", "extraordinary")

#: Tracking statuses, best first.
Status = Literal["ahead", "on_track", "at_risk", "behind"]
STATUSES: tuple[str, ...] = ("ahead", "on_track", "at_risk", "behind")

#: Panel outcomes a driver model can be fitted to.
Outcome = Literal["deals_created", "deals_won", "won_revenue", "pipeline_created"]

#: What a forecast or a quarterly review counts.
Target = Literal["won_revenue", "deals_won"]

#: CRM export layouts the loaders understand (``"auto"`` detects it from the headers).
CRM = Literal["auto", "salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "close", "generic"]
