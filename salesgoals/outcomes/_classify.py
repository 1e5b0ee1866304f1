"""Did each interaction advance its deal?  The sales-call outcome, per interaction.

An interaction (call, email, meeting ...) linked to a deal **advanced** it when,
within ``window_days`` (default 14), the deal entered a later stage, was won, or
had its next meeting; it **stalled** when none of that happened and was **lost**
when the deal was lost in that window.  ``pending`` marks interactions too
recent to judge (their window runs past the end of the data).

Credit goes to the *last* interaction before an advance by default
(``credit="last"``: an interaction's window also ends at the deal's next
interaction), so a stage change right after a meeting is credited to that
meeting and not to every email of the fortnight before; ``credit="all"`` gives
the literal rule.

Without a stage history the rule cannot see stages, and a clearly labelled
**proxy** is used instead (``method="proxy"``): the interaction advanced the deal
when another interaction on the same deal followed within the window and the
deal was not lost in it.  It is a measure of momentum, not of progress: it
credits any follow-up, so it overstates advance rates and tells reps apart
poorly (see tests/test_advances_recovery.py).

Linking: an interaction with a ``deal_id`` of a known deal is linked to it; one
with only an ``account`` is linked to that account's deal when exactly one deal
of the account was open at the time.  Everything is vectorised (sorted
searches, one offset loop over the few history rows in a window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from salesgoals.errors import SchemaError

__all__ = ["classify_advances", "unlinked_table", "ADVANCE_COLUMNS", "ADVANCE_VALUES", "UNLINKED_REASONS"]

#: Columns of :func:`classify_advances`' result.
ADVANCE_COLUMNS: tuple[str, ...] = (
    "activity_id", "rep", "timestamp", "activity_type", "deal_id", "account", "linked_by", "stage_before",
    "advance", "advanced_by", "method",
)  # fmt: skip
#: Why an interaction was left out of :func:`classify_advances` (``attrs["unlinked"]``), in words.
UNLINKED_REASONS: dict[str, str] = {
    "no_deal": "no deal id and no account: it cannot be tied to a deal",
    "unknown_deal": "deal id not in the deals export",
    "account_ambiguous": "account only, and the account had no open deal or several at the time",
    "after_close": "logged after its deal had closed: it cannot advance it",
}
#: Values of the ``advance`` column.
ADVANCE_VALUES: tuple[str, ...] = ("advanced", "stalled", "lost", "pending")

_INTERACTIONS = ("call", "email", "meeting", "linkedin", "sms")


def classify_advances(
    activities: pd.DataFrame,
    deals: pd.DataFrame,
    stage_history: pd.DataFrame | None = None,
    *,
    window_days: int = 14,
    types: Sequence[str] | None = None,
    next_meeting: bool = True,
    credit: Literal["last", "all"] = "last",
    data_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Classify each interaction linked to a deal as advanced, stalled, lost or pending.

    Parameters
    ----------
    activities : pandas.DataFrame
        Canonical activities (:func:`salesgoals.load_activities`): ``rep,
        timestamp, activity_type`` and ``deal_id`` and/or ``account``.
    deals : pandas.DataFrame
        Canonical deals (:func:`salesgoals.load_deals`).
    stage_history : pandas.DataFrame, optional
        :func:`salesgoals.load_stage_history` output (``deal_id, entered,
        stage_index, status``), or a raw ``deal_id, stage, entered`` table
        (loaded with it).  Without it the labelled proxy is used.
    window_days : int, default=14
        How long after an interaction an advance still counts.
    types : sequence of str, optional
        Activity types to classify; default the interactions among
        ``call, email, meeting, linkedin, sms``.
    next_meeting : bool, default=True
        Count a meeting on the deal within the window as an advance.
    credit : {"last", "all"}, default="last"
        ``"last"``: an interaction's window also ends at the deal's next
        interaction; ``"all"``: every interaction in the window before an
        advance gets it.
    data_end : date, optional
        Last day of the data; default the latest date seen in the inputs.

    Returns
    -------
    pandas.DataFrame
        One row per linked interaction, sorted by timestamp:

        * ``activity_id``, ``rep``, ``timestamp``, ``activity_type``: from the activity;
        * ``deal_id`` (str): the deal linked; ``account`` (str or None);
        * ``linked_by`` (str): ``deal_id`` or ``account`` (the account's only open deal);
        * ``stage_before`` (str or None): the deal's stage at the time (stage history only);
        * ``advance`` (str): ``advanced``, ``stalled``, ``lost`` or ``pending``;
        * ``advanced_by`` (str): ``stage``, ``won``, ``next_meeting`` or
          ``next_interaction`` (proxy) for advanced rows, else ``""``;
        * ``method`` (str): ``stage_history`` or ``proxy``.

        ``attrs["unlinked"]`` counts the interactions left out, by reason
        (``no_deal``, ``unknown_deal``, ``account_ambiguous``, ``after_close``);
        ``attrs["unlinked_table"]`` is the same as a table: ``reason, rows,
        description`` (the words of :data:`UNLINKED_REASONS`).

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=20, seed=2)
    >>> adv = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history)
    >>> sorted(adv["advance"].unique())
    ['advanced', 'lost', 'pending', 'stalled']
    >>> adv["method"].unique().tolist()
    ['stage_history']
    """
    if credit not in ("last", "all"):
        raise ValueError(f"classify_advances: credit must be 'last' or 'all'; got {credit!r}.")
    if not (isinstance(window_days, (int, np.integer)) and window_days >= 1):
        raise ValueError(f"classify_advances: window_days must be a whole number of days >= 1; got {window_days!r}.")
    _require(activities, ("rep", "timestamp", "activity_type"), "activities")
    _require(deals, ("deal_id", "created", "closed", "status"), "deals")
    if stage_history is not None:
        _require(stage_history, ("deal_id", "entered"), "stage_history")
        if not {"stage_index", "status"} <= set(stage_history.columns):
            from salesgoals.io import load_stage_history  # a raw deal_id / stage / entered table: order it

            stage_history = load_stage_history(stage_history)
    acts, unlinked = _link(activities, deals, types)
    end = _data_end(acts, deals, stage_history, data_end)
    acts = _windows(acts, window_days, credit)
    if stage_history is not None:
        out = _by_stages(acts, deals, stage_history, next_meeting)
    else:
        out = _by_proxy(acts, deals)
    pending = (out["advance"] == "stalled") & (out["timestamp"] + pd.Timedelta(days=window_days) > end)
    out.loc[pending, "advance"] = "pending"
    out = out.sort_values(["timestamp", "deal_id"], kind="mergesort").reset_index(drop=True)
    out = out[list(ADVANCE_COLUMNS)]
    out.attrs = {"unlinked": unlinked, "unlinked_table": unlinked_table(unlinked), "window_days": int(window_days),
                 "credit": credit, "data_end": str(end.date())}  # fmt: skip
    return out


def unlinked_table(unlinked: dict[str, int]) -> pd.DataFrame:
    """The interactions left out by :func:`classify_advances`, by reason: ``reason, rows, description``.

    Examples
    --------
    >>> unlinked_table({"no_deal": 3, "after_close": 0})["description"].tolist()
    ['no deal id and no account: it cannot be tied to a deal', 'logged after its deal had closed: it cannot advance it']
    """
    return pd.DataFrame({"reason": list(unlinked), "rows": [int(v) for v in unlinked.values()],
                         "description": [UNLINKED_REASONS.get(k, k.replace("_", " ")) for k in unlinked]})  # fmt: skip


def _require(frame, cols, what) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"classify_advances: {what} must be a DataFrame; got {type(frame).__name__}.")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"classify_advances: {what} has no {', '.join(missing)} column(s); found {', '.join(map(str, frame.columns))}."
            f" Load it with the salesgoals loader for {what} (canonical columns)."
        )


def _link(activities: pd.DataFrame, deals: pd.DataFrame, types) -> tuple[pd.DataFrame, dict[str, int]]:
    """Attach a deal to each interaction: its deal id, or its account's only open deal."""
    kind = activities["activity_type"].astype(str)
    keep_types = list(types) if types is not None else [t for t in _INTERACTIONS if (kind == t).any()]
    a = activities.loc[kind.isin(keep_types).to_numpy()]
    n = len(a)
    acts = pd.DataFrame({
        "activity_id": a["activity_id"].astype(object).to_numpy() if "activity_id" in a else np.arange(n).astype(str),
        "rep": a["rep"].astype(str).to_numpy(dtype=object),
        "timestamp": pd.to_datetime(a["timestamp"]).to_numpy(),
        "activity_type": a["activity_type"].astype(str).to_numpy(dtype=object),
        "deal_id": a["deal_id"].astype(object).to_numpy() if "deal_id" in a else np.full(n, None, dtype=object),
        "account": a["account"].astype(object).to_numpy() if "account" in a else np.full(n, None, dtype=object),
    })  # fmt: skip
    for c in ("deal_id", "account"):
        acts[c] = acts[c].where(acts[c].notna() & acts[c].astype(str).str.strip().ne("") &
                                acts[c].astype(str).ne("None"), None)  # fmt: skip
    known = pd.Index(deals["deal_id"].astype(str))
    has_id = acts["deal_id"].notna().to_numpy()
    ok_id = has_id & known.get_indexer(acts["deal_id"].astype(str)).__ge__(0)
    acts["linked_by"] = np.where(ok_id, "deal_id", None)
    unlinked = {"unknown_deal": int((has_id & ~ok_id).sum())}
    by_acct = _account_deal(acts.loc[~has_id], deals)
    acts.loc[by_acct.index, "deal_id"] = by_acct.to_numpy()
    acts.loc[by_acct.index, "linked_by"] = "account"
    no_acct = ~has_id & acts["account"].isna().to_numpy()
    unlinked["no_deal"] = int(no_acct.sum())
    unlinked["account_ambiguous"] = int((~has_id & ~no_acct).sum() - len(by_acct))
    acts = acts.loc[acts["linked_by"].notna().to_numpy()].reset_index(drop=True)
    acts["deal_id"] = acts["deal_id"].astype(str)
    # interactions after the deal closed cannot advance it
    closed = acts["deal_id"].map(_deal_series(deals, "closed"))
    after = (closed.notna() & (acts["timestamp"].dt.normalize() > closed)).to_numpy()
    unlinked["after_close"] = int(after.sum())
    return acts.loc[~after].reset_index(drop=True), unlinked


def _deal_series(deals: pd.DataFrame, col: str) -> pd.Series:
    s = deals.drop_duplicates("deal_id").set_index(deals.drop_duplicates("deal_id")["deal_id"].astype(str))[col]
    return pd.to_datetime(s) if col in ("created", "closed") else s.astype(str)


def _account_deal(acts: pd.DataFrame, deals: pd.DataFrame) -> pd.Series:
    """Deal id of each account-only interaction whose account had exactly one open deal at the time."""
    if acts.empty or "account" not in deals.columns:
        return pd.Series([], dtype=object)
    d = pd.DataFrame({"account": deals["account"].astype(object), "deal": deals["deal_id"].astype(str),
                      "created": pd.to_datetime(deals["created"]), "closed": pd.to_datetime(deals["closed"])})
    q = acts[["account", "timestamp"]].dropna(subset=["account"]).reset_index()
    m = q.merge(d, on="account", how="inner")
    day = m["timestamp"].dt.normalize()
    open_then = (m["created"] <= m["timestamp"]) & (m["closed"].isna() | (m["closed"] >= day))
    m = m.loc[open_then.to_numpy()]
    one = m.groupby("index")["deal"].agg(["size", "first"])
    one = one.loc[one["size"] == 1, "first"]
    return one


def _data_end(acts, deals, hist, data_end) -> pd.Timestamp:
    if data_end is not None:
        return pd.Timestamp(data_end).normalize() + pd.Timedelta(days=1)
    ends = [acts["timestamp"].max(), pd.to_datetime(deals["closed"]).max(), pd.to_datetime(deals["created"]).max()]
    if hist is not None and len(hist):
        ends.append(pd.to_datetime(hist["entered"]).max())
    return max(e for e in ends if pd.notna(e)).normalize() + pd.Timedelta(days=1)


def _windows(acts: pd.DataFrame, window_days: int, credit: str) -> pd.DataFrame:
    """Each interaction's window end: N days later, or the deal's next interaction (credit='last')."""
    acts = acts.sort_values(["deal_id", "timestamp"], kind="mergesort").reset_index(drop=True)
    same = acts["deal_id"].eq(acts["deal_id"].shift(-1)).to_numpy()
    nxt = acts["timestamp"].shift(-1).where(same)
    nxt_type = acts["activity_type"].shift(-1).where(same)
    acts["next_ts"], acts["next_type"] = nxt, nxt_type
    horizon = acts["timestamp"] + pd.Timedelta(days=window_days)
    acts["horizon"] = horizon
    acts["wend"] = horizon.where(~(nxt < horizon) | (credit != "last"), nxt)
    return acts


def _deal_closing(acts: pd.DataFrame, deals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Was the deal won / lost inside each interaction's window (by the deals table)?"""
    closed = acts["deal_id"].map(_deal_series(deals, "closed"))
    status = acts["deal_id"].map(_deal_series(deals, "status"))
    inside = (closed >= acts["timestamp"].dt.normalize()) & (closed <= acts["wend"])
    return (inside & status.eq("won")).to_numpy(), (inside & status.eq("lost")).to_numpy()


def _by_proxy(acts: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    won, lost = _deal_closing(acts, deals)
    follow = (acts["next_ts"] <= acts["horizon"]).fillna(False).to_numpy(dtype=bool)
    adv = (follow | won) & ~lost
    acts["advance"] = np.select([lost, adv], ["lost", "advanced"], "stalled")
    acts["advanced_by"] = np.where(adv, np.where(won, "won", "next_interaction"), "")
    acts["method"] = "proxy"
    acts["stage_before"] = None
    return acts


def _by_stages(acts: pd.DataFrame, deals: pd.DataFrame, hist: pd.DataFrame, next_meeting: bool) -> pd.DataFrame:
    """Stage entered, won or next meeting inside the window; lost when the deal was lost in it."""
    h = hist.sort_values(["deal_id", "entered"], kind="mergesort")
    deal_codes = pd.Index(pd.unique(np.concatenate([h["deal_id"].astype(str).to_numpy(dtype=object),
                                                    acts["deal_id"].to_numpy(dtype=object)])))  # fmt: skip
    t0 = min(pd.to_datetime(h["entered"]).min(), acts["timestamp"].min()) - pd.Timedelta(days=1)

    def key(deal, ts):
        secs = ((pd.to_datetime(pd.Series(ts)) - t0).dt.total_seconds()).to_numpy().astype(np.int64)
        return deal_codes.get_indexer(deal).astype(np.int64) * (1 << 34) + secs

    hk = key(h["deal_id"].astype(str).to_numpy(dtype=object), h["entered"].to_numpy())
    order = np.argsort(hk, kind="stable")
    hk, idx = hk[order], h["stage_index"].to_numpy()[order]
    hstat = h["status"].astype(str).to_numpy()[order]
    hstage = h["stage"].astype(str).to_numpy(dtype=object)[order] if "stage" in h else idx.astype(str)
    deal = acts["deal_id"].to_numpy(dtype=object)
    i0 = np.searchsorted(hk, key(deal, acts["timestamp"].to_numpy()), side="right")
    i1 = np.searchsorted(hk, key(deal, acts["wend"].to_numpy()), side="right")
    code = deal_codes.get_indexer(deal).astype(np.int64)
    prev = i0 - 1
    has_prev = (prev >= 0) & ((hk[np.maximum(prev, 0)] >> 34) == code)
    cur = np.where(has_prev, idx[np.maximum(prev, 0)], -1)
    best, won_h, lost_h = np.full(len(acts), -1), np.zeros(len(acts), bool), np.zeros(len(acts), bool)
    for k in range(int((i1 - i0).max(initial=0))):  # offsets into the few rows of each window
        j = i0 + k
        ok = j < i1
        jj = np.minimum(j, len(idx) - 1)
        is_lost = ok & (hstat[jj] == "lost")
        lost_h |= is_lost & ~(best > cur)  # lost before any advance
        won_h |= ok & (hstat[jj] == "won") & ~lost_h
        best = np.where(ok & ~is_lost & ~lost_h, np.maximum(best, idx[jj]), best)
    won_d, lost_d = _deal_closing(acts, deals)
    stage_up = best > cur
    won = won_h | (won_d & ~lost_h)
    meet = (next_meeting & (acts["next_type"] == "meeting") & (acts["next_ts"] <= acts["wend"])).to_numpy()
    adv = (stage_up | won | meet) & ~(lost_h & ~stage_up)
    lost = ~adv & (lost_h | lost_d)
    acts["advance"] = np.select([adv, lost], ["advanced", "lost"], "stalled")
    acts["advanced_by"] = np.select([adv & won, adv & stage_up, adv & meet], ["won", "stage", "next_meeting"], "")
    acts["method"] = "stage_history"
    acts["stage_before"] = np.where(has_prev, hstage[np.maximum(prev, 0)], None)
    return acts
