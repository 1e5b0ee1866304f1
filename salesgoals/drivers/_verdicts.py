"""Which activities are drivers: multiplicity control and reverse-causality flags.

A fit tests one effect per activity type.  With five or six types, the chance
that at least one zero-effect activity comes out "significant" at 5% is far
above 5% (measured 28% of fits on pure noise before this control), and every
priority and goal then follows that noise.  The verdict ``is_driver`` is
therefore taken with **Holm's step-down procedure** across the activity types
of one fit: it controls the family-wise error rate (the chance of naming *any*
zero-effect activity) at ``1 - level`` under any dependence between the tests,
is uniformly more powerful than Bonferroni, and needs no independence
assumption the way Benjamini-Hochberg's FDR control does.  FWER rather than FDR
because a single false driver becomes a goal for every rep.

``is_driver`` (the published contract: passes the control) is True when

* its Holm-adjusted p-value is below ``1 - level``, and
* its effect is positive (an activity that lowers the outcome is never a
  goal).

A driver with a reverse-causality flag (see below) is *ambiguous*: the data
cannot separate "it creates deals" from "it is logged because a deal was
created".  Priorities need ``is_driver`` AND no flag; the summary lists only
those as drivers and names the flagged ones as ambiguous.

Flags (``effects["flags"]``, ``;``-joined)
----------------------------------------
``same_week_only``
    The association sits in the same period only: the lag-0 effect is clearly
    positive while the later lags add nothing distinguishable from zero.  A
    proposal logged for every new opportunity looks exactly like this, and so
    does a fast real driver; only timestamps (the event-time profile) or
    deal links can tell them apart.
``follows_results``
    The activity comes *after* deal creations: within the same rep, more of it
    is logged in the 7 days after a deal is created than in the 7 days before
    (event-time profile, when an activity log is given), or next period's
    activity "predicts" this period's deals (a positive lead effect), or (at
    monthly or quarterly grain) reps log more of it in the week after a deal
    than their recent level predicts: it *responds* to deals.

Why each flag was set, in plain words with its evidence and the data that
would settle it, is :func:`flag_reasons`' table (``diagnostics.flag_reasons``);
the warnings and the summary read it, so a responder is never described as
"logged mostly after deals" and vice versa.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["holm", "same_week_only", "join_flags", "driver_verdicts", "flag_reasons", "REASON_FLAGS"]

SAME_WEEK_ONLY = "same_week_only"
FOLLOWS_RESULTS = "follows_results"

#: Reason an activity is flagged -> the flag it sets (``effects["flags"]``).
REASON_FLAGS = {
    "same_period": SAME_WEEK_ONLY,  # lag-0 effect clear, later weeks add nothing (weekly panel)
    "after_creation": FOLLOWS_RESULTS,  # more of it in the 7 days after a creation than the 7 before (log)
    "responds": FOLLOWS_RESULTS,  # more of it the week after a deal than its recent level predicts (log)
    "leads": FOLLOWS_RESULTS,  # next period's activity "predicts" this period's results (leads check)
}
_REASON_COLUMNS = ("activity", "flag", "reason", "evidence", "settle")


def holm(p: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (monotone, capped at 1); NaN stays NaN.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="mergesort")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


def same_week_only(b0: np.ndarray, se0: np.ndarray, b1: np.ndarray, se1: np.ndarray, *, dof: int,
                   alpha: float) -> np.ndarray:
    """Per activity: lag-0 effect ``b0`` clearly positive, later lags together (``b1``) not clearly positive.

    ``b0, se0``: the lag-0 effect of one logged activity and its standard
    error; ``b1, se1``: the sum over lags >= 1 and its standard error.
    """
    def p_of(b, se):
        t = np.divide(np.abs(b), se, out=np.zeros_like(b, dtype=float), where=se > 0)
        return 2 * stats.t.sf(t, dof)

    later_supported = (b1 > 0) & (p_of(b1, se1) < alpha)
    return (b0 > 0) & (p_of(b0, se0) < alpha) & ~later_supported


def join_flags(*columns: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``;``-joined names of the boolean columns that are true, per row (``""`` when none)."""
    n = len(columns[0]) if columns else 0
    out = np.full(n, "", dtype=object)
    for col, name in zip(columns, names):
        col = np.asarray(col, dtype=bool)
        out[col] = np.where(out[col] == "", name, out[col] + ";" + name)
    return out


def driver_verdicts(effects: pd.DataFrame, *, alpha: float, flags: np.ndarray) -> pd.DataFrame:
    """Add ``p_value_adj`` (Holm), ``flags`` and ``is_driver`` to the effects table."""
    effects = effects.copy()
    effects["p_value_adj"] = holm(effects["p_value"].to_numpy(dtype=float))
    effects["flags"] = pd.Series(np.asarray(flags, dtype=object), index=effects.index, dtype=object)
    passes = (effects["p_value_adj"] < alpha).to_numpy()
    positive = (effects["effect"] > 0).to_numpy()
    effects["is_driver"] = passes & positive  # the statistical verdict; flags say whether it can be trusted
    return effects


def _reason_words(reason: str, act: str, timing: pd.DataFrame, leads: pd.DataFrame, split: pd.DataFrame,
                  adjusted: dict[str, float]) -> str:  # fmt: skip
    """One flag's reason for one activity in plain words, with the numbers behind it."""
    if reason == "same_period":
        r = split.loc[act]
        return (f"its link to results shows in the same week only (lag-0 effect {r['b0']:.3g}, later weeks add "
                f"{r['b1']:.3g}, not distinguishable from zero), which is also what an activity logged because a deal "
                "was created looks like (a proposal sent for every new opportunity)")  # fmt: skip
    if reason == "after_creation":
        r = timing.loc[act]
        return (f"reps log more of it in the 7 days after they create a deal than in the 7 days before "
                f"({r['after_per_deal']:.3g} vs {r['before_per_deal']:.3g} per deal, p = {r['p_value']:.1g}), which "
                "is what an activity logged because a deal was created looks like")  # fmt: skip
    if reason == "responds":
        r = timing.loc[act]
        out = (f"it responds to deals: reps log more of it in the week after they create a deal than their recent "
               f"level predicts (about {r['response_per_deal']:.2g} extra per deal, p = {r['response_p_value']:.1g}), "
               "so part of its count is a response to results, not a cause of them")  # fmt: skip
        if act in adjusted:
            out += "; that response was subtracted from its counts before the fit, but how much is left is an estimate"
        return out
    r = leads.loc[act]
    return (f"more results this period go with MORE of it next period (lead effect {r['lead_effect']:.3g}, "
            f"p = {r['p_value']:.1g}): part of it follows results, so its effect is probably overstated")  # fmt: skip


def _settle_words(*, linked: bool, has_log: bool) -> str:
    """The data that would settle an ambiguous activity, given what the fit already had."""
    if linked:
        return ("check how this activity is logged against deals: where it follows up a deal, link it to that deal "
                "(deal_id) so it counts as progressing the deal, not as creating one")  # fmt: skip
    if has_log:
        return ("link activities to deals (deal_id) in the CRM export: activity logged on a deal that already "
                "existed is then left out, and only the rest can explain deals created")  # fmt: skip
    return ("pass the activity log and deals to fit_drivers (activity_log=, deals=): day timestamps show whether it "
            "comes before or after deal creations; better, link activities to deals (deal_id)")  # fmt: skip


def flag_reasons(acts: list[str], masks: dict[str, np.ndarray], *, timing: pd.DataFrame, leads: pd.DataFrame,
                 split: pd.DataFrame, adjusted: dict[str, float], linked: bool,
                 has_log: bool) -> pd.DataFrame:  # fmt: skip
    """Why each flagged activity is flagged: one row per activity and reason.

    ``masks`` maps a reason of :data:`REASON_FLAGS` to a boolean per activity
    of ``acts``; ``timing`` (index activity) is the event-time test table,
    ``leads`` (index activity) the leads check, ``split`` (index activity,
    ``b0, b1``) the lag-0 effect and the sum over later lags.

    Returns
    -------
    pandas.DataFrame
        ``activity, flag, reason, evidence, settle``: the flag set
        (``same_week_only`` / ``follows_results``), the reason's key
        (``same_period``, ``after_creation``, ``responds``, ``leads``), the
        reason in plain words with its numbers, and the data that would
        settle it.
    """
    rows = []
    settle = _settle_words(linked=linked, has_log=has_log)
    for i, act in enumerate(acts):
        hit = [r for r in REASON_FLAGS if r in masks and bool(masks[r][i])]
        rows += [(act, REASON_FLAGS[r], r, _reason_words(r, act, timing, leads, split, adjusted), settle) for r in hit]
    return pd.DataFrame(rows, columns=list(_REASON_COLUMNS)).astype(object)
