"""Progressing activity: what activity logged on a deal that already exists does to *that* deal.

An activity logged on an existing deal (a follow-up email, a call on an open
opportunity) cannot have created the deal, so it never enters the effects on
deals created (see ``drivers/_events.py``).  What it can move is the deal's
fate: whether it is won, and how soon it closes.  This module measures that,
separately, at deal level.

Design (a landmark analysis, so that activity only "predicts" what comes after it)
---------------------------------------------------------------------------------
* **Exposure.**  Per deal and activity type: the progressing activities logged
  in the first ``window_days`` days after the deal was created (day 0 included).
  Counting over the deal's whole life would credit long deals with more
  follow-ups just because they stayed open longer.
* **Deals used.**  Deals still open at the landmark (created + ``window_days``:
  not closed before it) whose window lies inside the log.
* **Outcomes.**  ``win_rate``: won (1) or lost (0), over the deals closed
  after the landmark.  ``closes_within``: closed (won or lost) within
  ``follow_days`` days after the landmark, over the deals whose follow-up lies
  inside the data, so no deal is cut off by the end of the export (time to
  close without censoring).
* **Model.**  A linear probability model with rep fixed effects (each rep's
  deals compared with each other, so a busy rep with a strong pipeline does not
  make follow-ups look good), standard errors clustered by rep (CR1),
  t with G - 1 degrees of freedom; Holm across the activity types of each
  outcome, as for the drivers.

Assumptions worth saying out loud: a deal that looks promising may *attract*
follow-ups (reverse causality within the window), so a positive effect is an
association the landmark makes more plausible but does not prove; the window
counts carry no information about activity after the landmark.

Time to close is reported but never a verdict (``flags`` ``pace_confounded``,
``is_driver`` False): follow-ups are usually paced over a deal's expected life,
so a deal that will close soon gets more of them early whether or not they
speed it up.  The independent simulator shows it: follow-ups spread over each
deal's life with no effect on anything come out with z = 12-17 on closing
within 30 days.  Win or loss does not set the pace of follow-ups there, and
the win-rate effects are recovered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals.drivers._events import _days, _need, codes_in
from salesgoals.drivers._verdicts import holm

__all__ = ["PROGRESS_WINDOW_DAYS", "PROGRESS_FOLLOW_DAYS", "progressing_effects"]

#: Days after a deal's creation over which its progressing activity is counted (the landmark).
PROGRESS_WINDOW_DAYS = 14
#: Days after the landmark within which a deal counts as closing soon (``closes_within``).
PROGRESS_FOLLOW_DAYS = 30
_COLUMNS = ["outcome", "activity", "effect", "std_error", "ci_low", "ci_high", "p_value", "p_value_adj",
            "is_driver", "flags", "n_deals", "n_reps", "mean_count", "base_rate"]  # fmt: skip
#: Outcomes reported as associations only (see the module docstring), with their flag.
_ASSOCIATION_ONLY = {"closes_within": "pace_confounded"}


def progressing_effects(activity_log: pd.DataFrame, deals: pd.DataFrame, *, window_days: int = PROGRESS_WINDOW_DAYS,
                        follow_days: int = PROGRESS_FOLLOW_DAYS, interval: float = 0.95) -> pd.DataFrame:  # fmt: skip
    """Effect of progressing activity on the deal it is logged on: win rate and closing within a horizon.

    Parameters
    ----------
    activity_log, deals : pandas.DataFrame
        Canonical activities (with ``deal_id``) and deals (``deal_id, rep,
        created, closed, status``).
    window_days : int, default=14
        Progressing activity is counted over the first ``window_days`` days of each deal.
    follow_days : int, default=30
        ``closes_within`` is closing within this many days after the window.
    interval : float, default=0.95
        Confidence level; ``1 - interval`` is the family-wise level of ``is_driver``.

    Returns
    -------
    pandas.DataFrame
        One row per outcome and activity type:

        * ``outcome`` : ``"win_rate"`` or ``"closes_within"``.
        * ``activity`` : activity type.
        * ``effect`` : change in the outcome's probability per extra progressing
          activity in the window (within rep).
        * ``std_error``, ``ci_low``, ``ci_high``, ``p_value`` : rep-clustered, t(G - 1).
        * ``p_value_adj`` : Holm across the activity types of the outcome.
        * ``is_driver`` : ``p_value_adj < 1 - interval`` and no flag.
        * ``flags`` : ``"pace_confounded"`` on ``closes_within`` rows (never a
          verdict: follow-ups paced over a deal's expected life predict its
          closing without causing it), else ``""``.
        * ``n_deals``, ``n_reps`` : deals and reps in the model.
        * ``mean_count`` : mean progressing activities of the type per deal in the window.
        * ``base_rate`` : share of those deals with the outcome.

        Empty (same columns) when no activity is linked to a deal.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=20, seed=1)
    >>> progressing_effects(sim.activities, sim.deals).columns[:3].tolist()
    ['outcome', 'activity', 'effect']
    """
    _need(activity_log, ("rep", "timestamp", "activity_type"), "activity log")
    _need(deals, ("deal_id", "rep", "created", "closed", "status"), "deals table")
    empty = pd.DataFrame({c: pd.Series([], dtype=object if c in ("outcome", "activity", "flags") else float)
                          for c in _COLUMNS})  # fmt: skip
    if "deal_id" not in activity_log.columns or not activity_log["deal_id"].notna().any():
        return empty
    counts, types, frame = _window_counts(activity_log, deals, window_days)
    if not types or frame.empty:
        return empty
    end = int(_days(activity_log["timestamp"]).max())
    parts = []
    for outcome, y, ok in _outcomes(frame, window_days, follow_days, end):
        part = _within_rep_lpm(counts[ok], y[ok], frame["rep_code"].to_numpy()[ok], types, interval)
        if part is not None:
            parts.append(part.assign(outcome=outcome))
    if not parts:
        return empty
    table = pd.concat(parts, ignore_index=True)
    table["p_value_adj"] = np.concatenate([holm(g.to_numpy()) for _, g in table.groupby("outcome", sort=False)["p_value"]])
    table["flags"] = table["outcome"].map(_ASSOCIATION_ONLY).fillna("").astype(object)
    table["is_driver"] = ((table["p_value_adj"] < 1 - interval) & (table["flags"] == "")).to_numpy()
    return table[_COLUMNS]


def _window_counts(activity_log: pd.DataFrame, deals: pd.DataFrame, window_days: int):
    """Per deal open at the landmark: progressing activity counts by type in the window, and the deal's days."""
    ids = pd.Index(deals["deal_id"].astype(str).to_numpy(dtype=object)).where(deals["deal_id"].notna().to_numpy(), "")
    pos = np.where(activity_log["deal_id"].notna().to_numpy(), codes_in(activity_log["deal_id"], ids), -1)
    created = _days(deals["created"])
    a_day = _days(activity_log["timestamp"])
    linked = pos >= 0
    # progressing exactly as link_roles decides it (timestamp on or after the deal's creation: a sourcing
    # activity logged earlier the same day is not), then counted by day since creation
    ts = np.asarray(pd.to_datetime(activity_log["timestamp"]), dtype="datetime64[ns]")
    created_ts = np.asarray(pd.to_datetime(deals["created"]), dtype="datetime64[ns]")
    since = np.full(len(activity_log), -1, dtype=np.int64)
    since[linked] = a_day[linked] - created[pos[linked]]
    after = np.zeros(len(activity_log), dtype=bool)
    after[linked] = ts[linked] >= created_ts[pos[linked]]
    in_window = linked & after & (since >= 0) & (since < window_days)
    type_codes, labels = pd.factorize(activity_log["activity_type"].astype(str).to_numpy(dtype=object), sort=True)
    present = np.bincount(type_codes[in_window], minlength=len(labels)) > 0
    types = [str(t) for t, here in zip(labels, present) if here]
    remap = np.where(present, np.cumsum(present) - 1, -1)
    col = remap[type_codes]
    use = in_window & (col >= 0)
    K = len(types)
    counts = np.bincount(pos[use] * K + col[use], minlength=len(deals) * K).reshape(len(deals), K).astype(float)
    closed = _days(deals["closed"])
    status = deals["status"].astype(str).str.lower().to_numpy()
    frame = pd.DataFrame({"created": created, "closed": closed, "status": status,
                          "rep_code": pd.factorize(deals["rep"].astype(str).to_numpy(dtype=object))[0]})  # fmt: skip
    has_close = closed != np.iinfo(np.int64).min
    open_at_landmark = ~has_close | (closed - created >= window_days)
    ok = open_at_landmark & (created != np.iinfo(np.int64).min)
    return counts[ok], types, frame.loc[ok].reset_index(drop=True)


def _outcomes(frame: pd.DataFrame, window_days: int, follow_days: int, end: int):
    """``(name, y, rows)`` per outcome: won among closed deals; closed soon among deals followed long enough."""
    status = frame["status"].to_numpy()
    closed = np.isin(status, ("won", "lost")) & (frame["closed"].to_numpy() != np.iinfo(np.int64).min)
    landmark = frame["created"].to_numpy() + window_days
    yield "win_rate", (status == "won").astype(float), closed & (landmark <= end)
    followed = landmark + follow_days <= end
    soon = closed & (frame["closed"].to_numpy() - landmark < follow_days)
    yield "closes_within", soon.astype(float), followed


def _within_rep_lpm(X: np.ndarray, y: np.ndarray, rep: np.ndarray, types: list[str], interval: float):
    """OLS of ``y`` on ``X`` after removing rep means; CR1 rep-clustered errors, t(G - 1). None if too few deals."""
    n, K = X.shape
    if n < 3 * K + 10:
        return None
    codes, rep = np.unique(rep, return_inverse=True)
    G = codes.size
    size = np.bincount(rep, minlength=G).astype(float)
    Xd = X - (np.stack([np.bincount(rep, X[:, k], minlength=G) for k in range(K)], axis=1) / size[:, None])[rep]
    yd = y - (np.bincount(rep, y, minlength=G) / size)[rep]
    varies = Xd.std(axis=0) > 1e-12
    xtx_inv = np.linalg.pinv(Xd.T @ Xd)
    b = xtx_inv @ (Xd.T @ yd)
    e = yd - Xd @ b
    scores = np.stack([np.bincount(rep, Xd[:, k] * e, minlength=G) for k in range(K)], axis=1)
    factor = G / max(G - 1, 1) * (n - 1) / max(n - K - G, 1)
    vcov = factor * xtx_inv @ (scores.T @ scores) @ xtx_inv
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    dof = max(G - 1, 1)
    t = np.divide(np.abs(b), se, out=np.zeros(K), where=se > 0)
    p = np.where(varies & (se > 0), 2 * stats.t.sf(t, dof), np.nan)
    crit = float(stats.t.ppf(0.5 + interval / 2, dof))
    return pd.DataFrame({
        "activity": pd.Series(types, dtype=object), "effect": np.where(varies, b, np.nan), "std_error": se,
        "ci_low": b - crit * se, "ci_high": b + crit * se, "p_value": p, "n_deals": n, "n_reps": G,
        "mean_count": X.mean(axis=0), "base_rate": float(y.mean()),
    })  # fmt: skip
