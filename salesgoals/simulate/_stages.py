r"""Stage paths, interactions on deals and accounts for the simulator (issue 15).

Drawn from their own seeded streams (``default_rng([seed, 15, k])``) *after* the
rest of :func:`~salesgoals.simulate.make_crm_data`, so adding them changed no
existing output for any seed.

The advance model (forward, per deal)
-------------------------------------
A deal starts in ``Qualification`` and moves through ``Needs Analysis``,
``Proposal/Price Quote`` and ``Negotiation/Review`` to ``Closed Won``: four
advances.  The rep works it with a sequence of interactions; interaction *j* has
type *k* with the rep's mix :math:`\pi_{ik}` and **advances** the deal with
probability :math:`p_{ik}` (meetings about twice as often as calls, emails about
half as often, plus a rep-by-type deviation).  After an interaction that does
not advance it, the deal dies (closed lost) with probability ``h``.  So the
chance to pass a stage is :math:`s_i = P_i / (P_i + (1 - P_i) h)` with
:math:`P_i = \sum_k \pi_{ik} p_{ik}`, and a deal is won with probability
:math:`s_i^4`: **advances cause wins**.

The deals' won / lost outcomes were drawn earlier with the rep's win rate
:math:`w_i`; the rep's advance level is set so that :math:`s_i^4 = w_i`, and each
deal's path is drawn from the forward model *conditional on its outcome*
(rejection sampling, vectorised over deals).  The joint distribution of outcome
and path is then the forward model's.  Open deals are conditioned on having
reached their current stage alive.  A stage is entered minutes after the
interaction that advanced it; closed deals enter ``Closed Won`` / ``Closed Lost``
on their close date.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_stage_paths", "simulate_accounts", "STAGE_PATH", "DEAL_TOUCH_TYPES", "INDUSTRIES"]

#: Open stages in pipeline order, then the two closed stages.
STAGE_PATH: tuple[str, ...] = ("Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")
#: Interaction types that work deals, their relative advance strength and typical share.
DEAL_TOUCH_TYPES: dict[str, tuple[float, float]] = {"call": (1.0, 0.40), "email": (0.45, 0.35), "meeting": (2.2, 0.25)}
#: Death probability after an interaction that did not advance the deal.
DEATH_AFTER_STALL = 0.10
_MAX_TOUCHES = 120
INDUSTRIES: tuple[str, ...] = ("Software", "Manufacturing", "Healthcare", "Retail", "Finance", "Logistics",
                               "Education", "Energy")  # fmt: skip
PRODUCTS: tuple[str, ...] = ("Core", "Analytics", "Integrations", "Support Plus", "Training")
SIZE_BANDS: tuple[tuple[str, float], ...] = (("1-49", 50), ("50-249", 250), ("250-999", 1000), ("1000+", np.inf))


def _advance_truth(reps: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Per rep and type: share of interactions and advance probability, solved from the win rate."""
    types = list(DEAL_TOUCH_TYPES)
    rel = np.array([DEAL_TOUCH_TYPES[k][0] for k in types])
    share = np.array([DEAL_TOUCH_TYPES[k][1] for k in types])
    n = len(reps)
    mix = rng.dirichlet(30 * share, size=n)
    dev = np.exp(0.25 * rng.standard_normal((n, len(types))))
    s = np.asarray(reps["win_rate"], dtype=float) ** 0.25
    h = DEATH_AFTER_STALL
    level = s * h / (1 - s + s * h)  # mean advance probability P_i that gives s_i^4 = w_i
    strength = rel[None, :] * dev
    p = np.clip(level[:, None] * strength / (mix * strength).sum(axis=1, keepdims=True), 0.02, 0.95)
    P = (mix * p).sum(axis=1)
    s_real = P / (P + (1 - P) * h)
    return pd.DataFrame(
        {
            "rep": np.repeat(reps["rep"].to_numpy(dtype=object), len(types)),
            "activity_type": np.tile(np.array(types, dtype=object), n),
            "share": mix.ravel(),
            "advance_rate": p.ravel(),
            "rep_advance_rate": np.repeat(P, len(types)),
            "stage_pass_rate": np.repeat(s_real, len(types)),
            "win_rate_implied": np.repeat(s_real**4, len(types)),
        }
    )


def _forward(mix, p, n_adv, allow_death, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run the forward model for each deal: types, advanced flags, touch counts, died flags."""
    n = mix.shape[0]
    types = np.zeros((n, _MAX_TOUCHES), dtype=np.int8)
    adv = np.zeros((n, _MAX_TOUCHES), dtype=bool)
    count = np.zeros(n, dtype=np.int64)
    succ = np.zeros(n, dtype=np.int64)
    died = np.zeros(n, dtype=bool)
    live = n_adv > 0
    cum = np.cumsum(mix, axis=1)
    for t in range(_MAX_TOUCHES):  # loop over touches, vectorised over deals
        if not live.any():
            break
        k = (rng.random(n)[:, None] > cum).sum(axis=1).clip(0, mix.shape[1] - 1)
        ok = rng.random(n) < p[np.arange(n), k]
        die = ~ok & allow_death & (rng.random(n) < DEATH_AFTER_STALL)
        types[live, t], adv[live, t] = k[live], ok[live]
        count += live
        succ += live & ok
        died |= live & die
        live &= ~die & (succ < n_adv)
    return types, adv, count, died


def _paths(deals: pd.DataFrame, truth: pd.DataFrame, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw every deal's touch sequence conditional on its outcome (rejection, rounds over the unmatched)."""
    types = list(DEAL_TOUCH_TYPES)
    K = len(types)
    rep_pos = pd.Index(truth["rep"].to_numpy()[::K]).get_indexer(deals["rep"])
    mix = truth["share"].to_numpy().reshape(-1, K)[rep_pos]
    p = truth["advance_rate"].to_numpy().reshape(-1, K)[rep_pos]
    status = deals["status"].to_numpy()
    stage_no = pd.Series(deals["stage"].to_numpy()).map({s: i for i, s in enumerate(STAGE_PATH)}).fillna(0)
    n_adv = np.where(status == "won", 4, np.where(status == "open", stage_no.to_numpy(dtype=np.int64), 4))
    allow_death = status != "open"
    n = len(deals)
    out_t = np.zeros((n, _MAX_TOUCHES), dtype=np.int8)
    out_a = np.zeros((n, _MAX_TOUCHES), dtype=bool)
    out_n = np.zeros(n, dtype=np.int64)
    todo = np.arange(n)
    for _ in range(200):  # P(accept) >= min win rate per round; 200 rounds leave ~nothing
        if todo.size == 0:
            break
        t, a, c, died = _forward(mix[todo], p[todo], n_adv[todo], allow_death[todo], rng)
        want_dead = status[todo] == "lost"
        ok = died == want_dead
        idx = todo[ok]
        out_t[idx], out_a[idx], out_n[idx] = t[ok], a[ok], c[ok]
        todo = todo[~ok]
    if todo.size:  # a rep with a near-zero win rate: take the closest path (all advances, no death)
        t, a, c, _ = _forward(mix[todo], p[todo], n_adv[todo], np.zeros(todo.size, dtype=bool), rng)
        out_t[todo], out_a[todo], out_n[todo] = t, a, c
    # open deals: a few touches after the last advance that did not advance them (yet)
    extra = np.where(status == "open", rng.geometric(0.5, n) - 1, 0)
    extra = np.minimum(extra, _MAX_TOUCHES - out_n)
    cols = np.arange(_MAX_TOUCHES)[None, :]
    pad = (cols >= out_n[:, None]) & (cols < (out_n + extra)[:, None])
    k_pad = (rng.random((n, _MAX_TOUCHES))[:, :, None] > np.cumsum(mix, axis=1)[:, None, :]).sum(axis=2)
    out_t = np.where(pad, k_pad.clip(0, K - 1), out_t)
    return out_t, out_a, out_n + extra


def simulate_stage_paths(deals: pd.DataFrame, reps: pd.DataFrame, *, window_start: pd.Timestamp,
                         window_end: pd.Timestamp, seed: int) -> dict[str, pd.DataFrame]:
    """Stage history, interactions on deals and the advance truth for simulated deals.

    Returns a dict with ``stage_history`` (``deal_id, stage, entered``),
    ``deal_activities`` (canonical activity columns plus ``true_advance``; only
    interactions inside the window, about 15 % logged against the account
    without a deal id) and ``truth_advances`` (see :func:`_advance_truth`).
    """
    rng = np.random.default_rng([seed, 15, 1])
    truth = _advance_truth(reps, rng)
    t_type, t_adv, t_n = _paths(deals, truth, rng)
    n = len(deals)
    created = deals["created"].to_numpy(dtype="datetime64[us]")
    closed = deals["closed"].to_numpy(dtype="datetime64[us]")
    is_open = np.isnat(closed)
    end = np.where(is_open, np.datetime64(window_end, "us"), closed)
    life = (end - created).astype("timedelta64[m]").astype(np.int64).clip(60, None)
    # touch times: sorted uniform over the deal's life; a closed deal's last touch 0-2 days before closing
    cols = np.arange(_MAX_TOUCHES)[None, :]
    used = cols < t_n[:, None]
    u = np.sort(np.where(used, rng.random((n, _MAX_TOUCHES)), 2.0), axis=1)
    last_gap = rng.integers(0, 3, n) * 1440
    span = np.where(is_open, life, np.maximum(life - last_gap, 60))
    is_last = cols == (t_n - 1)[:, None]
    frac = np.where(is_last & ~is_open[:, None], 1.0, u)
    minutes = (frac * span[:, None]).astype(np.int64)
    ts = created[:, None] + minutes.astype("timedelta64[m]")
    ts = _business_hours(ts, rng)
    hist = _stage_rows(deals, ts, t_adv, used, rng)
    acts = _touch_rows(deals, ts, t_type, t_adv, used, window_start, window_end, rng)
    return {"stage_history": hist, "deal_activities": acts, "truth_advances": truth}


def _business_hours(ts: np.ndarray, rng) -> np.ndarray:
    """Move each touch to 8:00-18:00 of its day (weekends moved to Monday)."""
    day = ts.astype("datetime64[D]")
    dow = (day.view(np.int64) + 3) % 7  # 0 = Monday
    day = day + np.where(dow >= 5, 7 - dow, 0).astype("timedelta64[D]")
    mins = rng.integers(8 * 60, 18 * 60, ts.shape).astype("timedelta64[m]")
    return day.astype("datetime64[us]") + mins


def _stage_rows(deals, ts, adv, used, rng) -> pd.DataFrame:
    """Stage entries: Qualification at creation, one stage per advance, then the closed stage."""
    n = len(deals)
    step = np.cumsum(adv & used, axis=1)
    r, c = np.nonzero(adv & used)
    stage_no = step[r, c]  # 1..4: entered STAGE_PATH[stage_no], 4 = closed won
    status = deals["status"].to_numpy()
    closed = deals["closed"].to_numpy(dtype="datetime64[us]")
    lag = rng.integers(5, 120, r.size).astype("timedelta64[m]")
    entered = ts[r, c] + lag
    open_adv = stage_no < 4
    names = np.array([*STAGE_PATH, "Closed Won"], dtype=object)
    won_or_lost = status != "open"
    frames = [
        pd.DataFrame({"deal_id": deals["deal_id"].to_numpy(), "stage": STAGE_PATH[0],
                      "entered": deals["created"].to_numpy(dtype="datetime64[us]"), "_o": 0}),
        pd.DataFrame({"deal_id": deals["deal_id"].to_numpy()[r[open_adv]], "stage": names[stage_no[open_adv]],
                      "entered": np.minimum(entered[open_adv], np.where(np.isnat(closed[r[open_adv]]),
                                            entered[open_adv], closed[r[open_adv]])), "_o": stage_no[open_adv]}),
        pd.DataFrame({"deal_id": deals["deal_id"].to_numpy()[won_or_lost],
                      "stage": np.where(status[won_or_lost] == "won", "Closed Won", "Closed Lost"),
                      "entered": closed[won_or_lost], "_o": 9}),
    ]  # fmt: skip
    del n
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["deal_id", "_o"], kind="mergesort").drop(columns="_o").reset_index(drop=True)
    out["entered"] = pd.to_datetime(out["entered"])
    return out


def _touch_rows(deals, ts, t_type, adv, used, window_start, window_end, rng) -> pd.DataFrame:
    r, c = np.nonzero(used)
    when = ts[r, c]
    inside = (when >= np.datetime64(window_start, "us")) & (when < np.datetime64(window_end + pd.Timedelta(days=1),
                                                                                   "us"))
    r, c, when = r[inside], c[inside], when[inside]
    types = np.array(list(DEAL_TOUCH_TYPES), dtype=object)[t_type[r, c]]
    outcome = np.select([types == "call", types == "meeting"], ["connected", "held"], "sent").astype(object)
    deal_id = deals["deal_id"].to_numpy(dtype=object)[r].copy()
    deal_id[rng.random(r.size) < 0.15] = None  # logged against the account only
    dur = np.select([types == "call", types == "meeting"],
                    [np.round(rng.exponential(8.0, r.size), 1) + 1.0, rng.choice([30.0, 45.0, 60.0], r.size)], 0.0)
    acts = pd.DataFrame(
        {
            "rep": deals["rep"].to_numpy(dtype=object)[r],
            "timestamp": pd.DatetimeIndex(when),
            "activity_type": types,
            "activity_id": "",
            "deal_id": deal_id,
            "account": deals["account"].to_numpy(dtype=object)[r],
            "outcome": outcome,
            "duration_min": dur,
            "true_advance": adv[r, c],
        }
    )
    acts = acts.sort_values(["timestamp", "rep", "activity_type"], kind="mergesort").reset_index(drop=True)
    acts["activity_id"] = [f"T{i:07d}" for i in range(1, len(acts) + 1)]
    return acts


def simulate_accounts(deals: pd.DataFrame, reps: pd.DataFrame, *, n_accounts: int | None,
                      seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accounts table (and, with ``n_accounts``, deals regrouped into that many accounts with products).

    Without ``n_accounts`` every deal keeps its own account (as the simulator has
    always written them) and the table only describes them.  With it, each
    account gets an owner rep, an industry and a size; a rep's deals go to the
    rep's accounts with weights growing with size (big accounts buy more often),
    and each deal gets a ``product``, with industry-specific preferences.
    """
    rng = np.random.default_rng([seed, 15, 2])
    if n_accounts is None:
        names = pd.unique(deals["account"].to_numpy(dtype=object))
        return _account_table(names, rng, owners=None), deals
    rep_names = reps["rep"].to_numpy(dtype=object)
    width = len(str(n_accounts))
    names = np.array([f"Account {i:0{width}d}" for i in range(1, n_accounts + 1)], dtype=object)
    owner = rep_names[np.arange(n_accounts) % rep_names.size][rng.permutation(n_accounts)]
    table = _account_table(names, rng, owners=owner)
    weight = np.log1p(table["employees"].to_numpy())
    deals = deals.copy()
    d_rep = deals["rep"].to_numpy(dtype=object)
    u = rng.random(len(deals))
    acct = np.empty(len(deals), dtype=object)
    for rep in rep_names:  # per rep (few reps), vectorised over the rep's deals
        mine = np.flatnonzero(owner == rep)
        rows = np.flatnonzero(d_rep == rep)
        if mine.size == 0 or rows.size == 0:
            continue
        cw = np.cumsum(weight[mine]) / weight[mine].sum()
        acct[rows] = names[mine[np.searchsorted(cw, u[rows], side="right").clip(0, mine.size - 1)]]
    deals["account"] = acct
    ind = table.set_index("account")["industry"].reindex(acct).to_numpy()
    pref = rng.dirichlet(np.ones(len(PRODUCTS)) * 0.8, size=len(INDUSTRIES))
    ind_pos = pd.Index(INDUSTRIES).get_indexer(ind)
    cum = np.cumsum(pref[ind_pos], axis=1)
    deals["product"] = np.array(PRODUCTS, dtype=object)[(rng.random(len(deals))[:, None] > cum).sum(axis=1).clip(
        0, len(PRODUCTS) - 1)]
    return table, deals


def _account_table(names: np.ndarray, rng, owners) -> pd.DataFrame:
    n = names.size
    employees = np.round(np.exp(rng.normal(np.log(180), 1.4, n))).astype(np.int64) + 1
    bands = np.array([b for b, _ in SIZE_BANDS], dtype=object)
    band = bands[np.searchsorted([u for _, u in SIZE_BANDS], employees, side="right").clip(0, len(bands) - 1)]
    out = pd.DataFrame(
        {
            "account": names,
            "industry": np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n)],
            "size_band": band,
            "employees": employees,
        }
    )
    if owners is not None:
        out["owner"] = owners
    return out
