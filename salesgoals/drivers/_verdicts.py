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
    activity "predicts" this period's deals (a positive lead effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["holm", "same_week_only", "join_flags", "driver_verdicts"]

SAME_WEEK_ONLY = "same_week_only"
FOLLOWS_RESULTS = "follows_results"


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
