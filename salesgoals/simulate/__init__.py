"""Simulate: synthetic CRM data with a known truth, and writers of vendor-shaped exports.

Only the samples, notebooks and tests use this package; the pipeline never imports it.
"""

from salesgoals.simulate._crm import ACTIVITY_TYPES, DEFAULT_EFFECTS, CRMData, make_crm_data

__all__ = ["CRMData", "make_crm_data", "ACTIVITY_TYPES", "DEFAULT_EFFECTS"]
