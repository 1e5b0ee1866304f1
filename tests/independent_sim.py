"""An independent, event-level CRM simulator with a known truth (test-only, not part of the package).

``salesgoals.simulate`` draws a rep x week panel of counts and then writes
events from it; the driver model was validated against that one simulator
only.  This module is written from scratch in a different structure, so the
models are checked against a world they were not tuned on:

* **Events first.**  One row per activity and one per deal, generated day by
  day: a deal exists because an event made it (an inbound lead, or a sourcing
  activity that turned into an opportunity some days later), never because a
  weekly count was drawn.
* **Deal links.**  A sourcing activity that created a deal carries that
  deal's ``deal_id`` and is logged *before* the deal's ``created`` date;
  activities logged on a deal that already exists (follow-ups, proposals)
  carry its id with a timestamp on or after ``created`` (progressing).
  Sourcing activities that created nothing carry no id.
  ``links=False`` blanks every ``deal_id`` (an export without associations).
* **Inbound vs sourced deals** differ in win rate and size (inbound win more
  often and are larger by default), so carrying an activity's extra deals at
  the rep's average win rate overstates its revenue.
* **Traps**: skilled reps do more of everything and get more inbound deals
  (rep confounding); a yearly season and shared busy-week shocks move activity
  and inbound leads together; ``linkedin`` has no effect but loads most on
  skill; effects arrive with day-level delays of up to five weeks (meetings).
* **Triggered activity** (``trigger=``): a ``proposal`` is logged for a share
  ``trigger_share`` (default 0.6) of new deals, in the same Monday-Sunday week
  (``"same_week"``) or half of them in the next week (``"next_week"``).
  Proposals have zero causal effect.
* **Heterogeneous effects** (``meeting_groups=(a, b)``): even-numbered reps
  have meeting effect multiplier ``a``, odd-numbered ``b`` (mean 1 when
  ``a + b = 2``).
* **Pure noise** (``scenario="noise"``): every effect is zero and nothing is
  triggered; activity is independent of results.

API
---
``make_events(scenario="baseline", *, seed=0, links=True, **overrides) -> EventSim``

Scenarios (each a dict of defaults in :data:`SCENARIOS`; any key can be
overridden by keyword):

==============  =====================================================================
``baseline``    50 reps x 104 weeks, effects as :data:`DEFAULT_SOURCING`
``same_week``   baseline + a zero-effect proposal for every new deal, same week
``next_week``   baseline + the proposal, half of them one week later
``noise``       baseline sizes, every effect zero, no trigger
``noise_small`` 8 reps x 40 weeks of noise
``two_groups``  baseline with meeting effects x0.5 (even reps) and x1.5 (odd reps)
``small_team``  8 reps x 40 weeks with effects
``monthly``     40 reps x 36 months with effects (``freq="M"``)
==============  =====================================================================

Keyword overrides: ``n_reps``, ``n_periods``, ``freq`` (``"W"`` or ``"M"``),
``sourcing`` (dict activity -> deals per *effective* activity: connected call,
held meeting, email), ``meeting_groups``, ``trigger`` (None, ``"same_week"``,
``"next_week"``), ``trigger_share``, ``win_inbound``, ``win_sourced``, ``size_inbound``,
``size_sourced``, ``progressing`` (dict activity -> follow-ups per deal over
its life), ``lead_source`` (bool: add a ``lead_source`` column to deals), ``progress_win`` (dict
activity -> win probability added per progressing activity of that type logged in a deal's first 14 days;
default none: follow-ups move nothing).

:class:`EventSim` attributes:

* ``activities`` : canonical activity columns (``rep`` categorical,
  ``timestamp`` datetime64, ``activity_type`` categorical, ``activity_id``,
  ``deal_id`` (None when unlinked), ``account``, ``outcome`` categorical,
  ``duration_min``), sorted by timestamp.
* ``deals`` : canonical deal columns (``deal_id, rep, created, closed, status,
  amount, stage, account, currency, pipeline``) plus ``lead_source``
  (``"inbound"``/``"outbound"``) unless ``lead_source=False``.
* ``roster`` : ``rep, team, manager, region, start, end``.
* ``truth`` : index ``activity``; columns ``deals_created`` (expected deals
  created per extra logged activity that is not on an existing deal, mean
  over reps; follow-ups logged on existing deals have no effect), ``deals_won``,
  ``won_revenue`` (through the *sourced* win rate and size), ``is_driver``.
* ``rep_truth`` : ``rep, activity, deals_created, deals_won, won_revenue``.
* ``rates`` : one-row-per-source frame ``source, win_rate, mean_size``
  (the true rates of inbound and sourced deals).
* ``params`` : the resolved settings.
* ``panel(freq=None, **kw)`` : :func:`salesgoals.build_panel` of the events.

Examples
--------
>>> sim = make_events("small_team", seed=1)
>>> float(sim.truth.loc["linkedin", "deals_created"])
0.0
>>> bool((sim.activities["timestamp"].diff().dropna() >= pd.Timedelta(0)).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EventSim", "make_events", "SCENARIOS", "DEFAULT_SOURCING", "TYPES"]

START = pd.Timestamp("2024-01-01")  # a Monday
#: Logged activity types (``proposal`` only appears with a trigger).
TYPES = ("call", "email", "meeting", "linkedin")
#: Daily volume per rep on a weekday (before skill, season and shocks).
_VOLUME = {"call": 6.0, "email": 7.0, "meeting": 0.6, "linkedin": 1.6}
_LOADING = {"call": 0.2, "email": 0.25, "meeting": 0.3, "linkedin": 0.55}
#: Deals sourced per effective activity (connected call, held meeting, email sent).
DEFAULT_SOURCING = {"call": 0.03, "email": 0.004, "meeting": 0.15, "linkedin": 0.0}
_QUALITY = {"call": ("connected", "no_answer", 0.35), "meeting": ("held", "no_show", 0.85)}
#: Creation delay after a sourcing activity, in days: (kind, parameter).
_DELAY = {"call": ("geom", 6.0), "email": ("geom", 4.0), "meeting": ("weeks", (0.3, 0.3, 0.2, 0.12, 0.08))}

_BASE = dict(n_reps=50, n_periods=104, freq="W", sourcing=DEFAULT_SOURCING, meeting_groups=(1.0, 1.0), trigger=None,
             win_inbound=0.45, win_sourced=0.2, size_inbound=15000.0, size_sourced=9000.0,
             progressing={"email": 1.5, "call": 0.8}, lead_source=True, inbound_rate=0.12, trigger_share=0.6,
             progress_win={})  # fmt: skip
_ZERO = {k: 0.0 for k in TYPES}
SCENARIOS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "same_week": {"trigger": "same_week"},
    "next_week": {"trigger": "next_week"},
    "noise": {"sourcing": _ZERO, "progressing": {}},
    "noise_small": {"sourcing": _ZERO, "progressing": {}, "n_reps": 8, "n_periods": 40},
    "two_groups": {"meeting_groups": (0.5, 1.5)},
    "small_team": {"n_reps": 8, "n_periods": 40},
    "monthly": {"n_reps": 40, "n_periods": 36, "freq": "M"},
}


@dataclass
class EventSim:
    """Events and the truth behind them (see the module docstring)."""

    activities: pd.DataFrame
    deals: pd.DataFrame
    roster: pd.DataFrame
    truth: pd.DataFrame
    rep_truth: pd.DataFrame
    rates: pd.DataFrame
    params: dict = field(default_factory=dict)

    def panel(self, freq: str | None = None, **kwargs) -> pd.DataFrame:
        """Rep x period panel of the events (``freq`` defaults to the scenario's)."""
        import salesgoals as sg

        return sg.build_panel(self.activities, self.deals, freq=freq or self.params["freq"], roster=self.roster,
                              **kwargs)  # fmt: skip


def make_events(scenario: str = "baseline", *, seed: int = 0, links: bool = True, **overrides) -> EventSim:
    """Simulate one CRM event log for ``scenario`` (see the module docstring)."""
    if scenario not in SCENARIOS:
        raise ValueError(f"make_events: unknown scenario {scenario!r}; use one of {sorted(SCENARIOS)}.")
    p = {**_BASE, **SCENARIOS[scenario], **overrides}
    unknown = set(overrides) - set(_BASE)
    if unknown:
        raise ValueError(f"make_events: unknown option(s) {sorted(unknown)}.")
    rng = np.random.default_rng(seed)
    n_days = _n_days(p["n_periods"], p["freq"])
    reps = _reps(rng, p)
    acts = _daily_activities(rng, reps, n_days)
    sourced = _sourced_deals(rng, reps, acts, p, n_days)
    inbound = _inbound_deals(rng, reps, n_days, p)
    deals = _close_deals(rng, pd.concat([sourced, inbound], ignore_index=True), p, n_days)
    acts = _link_sources(acts, deals)
    extra = [_progressing(rng, deals, p, n_days)]
    if p["trigger"]:
        extra.append(_triggered(rng, deals, p["trigger"], p["trigger_share"], n_days))
    if p["progress_win"]:  # its own stream, so the other draws are those of the same world without the effect
        deals = _progress_wins(np.random.default_rng([seed, 1]), deals, extra[0], p)
    acts = pd.concat([acts, *extra], ignore_index=True)
    activities = _activity_frame(acts, reps, links)
    deal_frame = _deal_frame(deals, reps, p["lead_source"])
    truth, rep_truth = _truth(reps, p)
    rates = pd.DataFrame({"source": ["inbound", "outbound"], "win_rate": [p["win_inbound"], p["win_sourced"]],
                          "mean_size": [p["size_inbound"], p["size_sourced"]]})  # fmt: skip
    params = {**p, "scenario": scenario, "seed": seed, "links": links, "n_days": n_days}
    return EventSim(activities, deal_frame, _roster(reps), truth, rep_truth, rates, params)


# ------------------------------------------------------------------------ pieces
def _n_days(n_periods: int, freq: str) -> int:
    if freq == "W":
        return 7 * int(n_periods)
    if freq == "M":
        return int((START + pd.DateOffset(months=int(n_periods)) - START).days)
    raise ValueError(f"make_events: freq must be 'W' or 'M'; got {freq!r}.")


def _reps(rng: np.random.Generator, p: dict) -> pd.DataFrame:
    n = int(p["n_reps"])
    skill = rng.standard_normal(n)
    group = np.arange(n) % 2
    a, b = p["meeting_groups"]
    return pd.DataFrame({
        "rep": [f"rep{i:03d}" for i in range(n)], "skill": skill, "group": group,
        "meeting_mult": np.where(group == 0, a, b),
        "inbound": p["inbound_rate"] * np.exp(0.5 * skill - 0.125),
    })  # fmt: skip


def _daily_activities(rng: np.random.Generator, reps: pd.DataFrame, n_days: int) -> pd.DataFrame:
    """Poisson counts per (rep, day, type) with skill, season, weekly shocks; one row per activity."""
    R, K = len(reps), len(TYPES)
    day = np.arange(n_days)
    weekday = (day % 7) < 5
    season = 0.25 * np.sin(2 * np.pi * (day - 40) / 365.25)
    week = day // 7
    shock = np.zeros((R, week.max() + 1))
    e = rng.standard_normal(shock.shape) * 0.25
    for w in range(shock.shape[1]):  # AR(1) across weeks (a short loop over weeks, not rows)
        shock[:, w] = (0.6 * shock[:, w - 1] if w else 0.0) + e[:, w]
    base = np.log([_VOLUME[k] for k in TYPES]) + np.outer(reps["skill"], [_LOADING[k] for k in TYPES])
    base = base + rng.normal(0, 0.2, (R, K))  # rep x type taste
    log_rate = base[:, None, :] + (season[None, :] + shock[:, week])[:, :, None]
    rate = np.exp(log_rate) * weekday[None, :, None]
    counts = rng.poisson(rate)
    r, d, k = np.nonzero(counts)
    n = counts[r, d, k]
    r, d, k = np.repeat(r, n), np.repeat(d, n), np.repeat(k, n)
    secs = rng.integers(8 * 3600, 18 * 3600, r.size)
    types = np.asarray(TYPES, dtype=object)[k]
    outcome = np.full(r.size, None, dtype=object)
    effective = np.ones(r.size, dtype=bool)
    for t, (good, bad, rate_q) in _QUALITY.items():
        m = types == t
        ok = rng.random(m.sum()) < rate_q
        outcome[m] = np.where(ok, good, bad)
        effective[m] = ok
    outcome[types == "email"] = "sent"
    return pd.DataFrame({"r": r, "day": d, "sec": secs, "type": types, "outcome": outcome, "effective": effective,
                         "deal": -1})  # fmt: skip


def _delays(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    how, par = _DELAY[kind]
    if how == "geom":
        return rng.geometric(1.0 / par, n) - 1
    weeks = rng.choice(len(par), size=n, p=np.asarray(par) / np.sum(par))
    return 7 * weeks + rng.integers(0, 7, n)


def _sourced_deals(rng, reps: pd.DataFrame, acts: pd.DataFrame, p: dict, n_days: int) -> pd.DataFrame:
    """Each effective activity sources a deal with its type's probability, created some days later."""
    prob = np.zeros(len(acts))
    for k, v in p["sourcing"].items():
        m = (acts["type"] == k).to_numpy()
        mult = reps["meeting_mult"].to_numpy()[acts["r"].to_numpy()[m]] if k == "meeting" else 1.0
        prob[m] = v * mult
    hit = (rng.random(len(acts)) < prob) & acts["effective"].to_numpy()
    idx = np.flatnonzero(hit)
    delay = np.zeros(idx.size, dtype=np.int64)
    types = acts["type"].to_numpy()[idx]
    for k in _DELAY:
        m = types == k
        delay[m] = _delays(rng, k, int(m.sum()))
    created = acts["day"].to_numpy()[idx] + delay
    sec = np.minimum(acts["sec"].to_numpy()[idx] + 600 * (delay == 0), 86399)
    keep = created < n_days
    return pd.DataFrame({"r": acts["r"].to_numpy()[idx][keep], "day": created[keep], "sec": sec[keep],
                         "source": "outbound", "source_act": idx[keep]})  # fmt: skip


def _inbound_deals(rng, reps: pd.DataFrame, n_days: int, p: dict) -> pd.DataFrame:
    day = np.arange(n_days)
    season = np.exp(0.25 * np.sin(2 * np.pi * (day - 40) / 365.25))
    counts = rng.poisson(np.outer(reps["inbound"].to_numpy(), season))
    r, d = np.nonzero(counts)
    n = counts[r, d]
    r, d = np.repeat(r, n), np.repeat(d, n)
    return pd.DataFrame({"r": r, "day": d, "sec": rng.integers(8 * 3600, 18 * 3600, r.size), "source": "inbound",
                         "source_act": -1})  # fmt: skip


def _close_deals(rng, deals: pd.DataFrame, p: dict, n_days: int) -> pd.DataFrame:
    """Order deals by creation, give ids, outcome, size and cycle time."""
    deals = deals.sort_values(["day", "sec", "r"], kind="mergesort").reset_index(drop=True)
    inbound = (deals["source"] == "inbound").to_numpy()
    win = np.where(inbound, p["win_inbound"], p["win_sourced"])
    size = np.where(inbound, p["size_inbound"], p["size_sourced"])
    sigma = 0.6
    deals["won"] = rng.random(len(deals)) < win
    deals["amount"] = np.round(size * np.exp(sigma * rng.standard_normal(len(deals)) - sigma**2 / 2), 2)
    deals["cycle"] = 10 + rng.gamma(2.0, 15.0, len(deals)).astype(np.int64)
    deals["close_day"] = deals["day"] + deals["cycle"]
    deals["open"] = deals["close_day"] >= n_days
    deals["id"] = np.arange(len(deals))
    return deals


def _link_sources(acts: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    src = deals.loc[deals["source_act"] >= 0]
    acts.loc[src["source_act"].to_numpy(), "deal"] = src["id"].to_numpy()
    return acts


def _on_deals(rng, deals: pd.DataFrame, n: np.ndarray, offset: np.ndarray, typ: str, n_days: int, *,
              weekdays: bool = True) -> pd.DataFrame:
    """Activities of type ``typ`` logged on deals (``n`` per deal, ``offset`` days after creation)."""
    i = np.repeat(np.arange(len(deals)), n)
    day = deals["day"].to_numpy()[i] + offset
    keep = day < n_days
    i, day = i[keep], day[keep]
    if weekdays:
        day = day + 2 * (day % 7 == 5) + (day % 7 == 6)  # weekend follow-ups move to Monday
    keep = day < n_days
    i, day = i[keep], day[keep]
    outcome = {"call": "connected", "meeting": "held", "email": "sent"}.get(typ)
    sec = rng.integers(8 * 3600, 18 * 3600, i.size)
    same_day = day == deals["day"].to_numpy()[i]
    sec = np.where(same_day, np.minimum(np.maximum(sec, deals["sec"].to_numpy()[i] + 60), 86399), sec)
    return pd.DataFrame({"r": deals["r"].to_numpy()[i], "day": day, "sec": sec,
                         "type": typ, "outcome": outcome, "effective": False, "deal": deals["id"].to_numpy()[i]})  # fmt: skip


def _progressing(rng, deals: pd.DataFrame, p: dict, n_days: int) -> pd.DataFrame:
    """Follow-ups spread over each deal's life (no effect on anything)."""
    parts = [_on_deals(rng, deals, np.zeros(len(deals), np.int64), np.zeros(0, np.int64), "email", n_days)]
    for typ, lam in p["progressing"].items():
        n = rng.poisson(lam, len(deals))
        life = np.repeat(deals["cycle"].to_numpy(), n)
        parts.append(_on_deals(rng, deals, n, 1 + (rng.random(n.sum()) * life).astype(np.int64), typ, n_days))
    return pd.concat(parts, ignore_index=True)


#: Days after creation in which progressing activity moves the win probability (``progress_win``).
PROGRESS_WINDOW = 14


def _progress_wins(rng, deals: pd.DataFrame, prog: pd.DataFrame, p: dict) -> pd.DataFrame:
    """Redraw won/lost: each progressing activity of type ``a`` in a deal's first 14 days adds
    ``progress_win[a]`` to the deal's win probability (the landmark truth of ``progressing_effects``)."""
    deal = prog["deal"].to_numpy()
    early = (prog["day"].to_numpy() - deals["day"].to_numpy()[deal]) < PROGRESS_WINDOW
    lift = np.zeros(len(deals))
    for typ, eff in p["progress_win"].items():
        m = early & (prog["type"].to_numpy() == typ)
        lift += eff * np.bincount(deal[m], minlength=len(deals))
    base = np.where((deals["source"] == "inbound").to_numpy(), p["win_inbound"], p["win_sourced"])
    return deals.assign(won=rng.random(len(deals)) < np.clip(base + lift, 0.0, 1.0))


def _triggered(rng, deals: pd.DataFrame, trigger: str, share: float, n_days: int) -> pd.DataFrame:
    """A proposal for a share of new deals: same Monday-Sunday week, or half of them the next week."""
    wd = deals["day"].to_numpy() % 7
    same = (rng.random(len(deals)) * (7 - wd)).astype(np.int64)  # 0 .. days left in the week
    offset = same
    if trigger == "next_week":
        later = (7 - wd) + rng.integers(0, 5, len(deals))
        offset = np.where(rng.random(len(deals)) < 0.5, same, later)
    elif trigger != "same_week":
        raise ValueError(f"make_events: trigger must be None, 'same_week' or 'next_week'; got {trigger!r}.")
    n = (rng.random(len(deals)) < share).astype(np.int64)
    out = _on_deals(rng, deals, n, offset[n > 0], "proposal", n_days, weekdays=False)
    out["outcome"] = "sent"
    return out


def _activity_frame(acts: pd.DataFrame, reps: pd.DataFrame, links: bool) -> pd.DataFrame:
    ts = START + pd.to_timedelta(acts["day"] * 86400 + acts["sec"], unit="s")
    acts = acts.assign(ts=ts.to_numpy()).sort_values(["ts", "r"], kind="mergesort").reset_index(drop=True)
    n = len(acts)
    deal = acts["deal"].to_numpy()
    deal_id = np.where(deal >= 0, pd.Series(deal).map("D{:07d}".format).to_numpy(), None)
    if not links:
        deal_id = np.full(n, None, dtype=object)
    types = [*TYPES, "proposal"] if (acts["type"] == "proposal").any() else list(TYPES)
    duration = np.select([acts["type"] == "meeting", acts["type"] == "call"], [45.0, 4.0], 0.0)
    return pd.DataFrame({
        "rep": pd.Categorical.from_codes(acts["r"].to_numpy(), categories=reps["rep"].tolist()),
        "timestamp": acts["ts"].to_numpy(),
        "activity_type": pd.Categorical(acts["type"].to_numpy(), categories=types),
        "activity_id": pd.Series(np.arange(n)).map("A{:08d}".format).to_numpy(),
        "deal_id": deal_id,
        "account": None,
        "outcome": pd.Categorical(acts["outcome"].to_numpy()),
        "duration_min": duration,
    })  # fmt: skip


def _deal_frame(deals: pd.DataFrame, reps: pd.DataFrame, lead_source: bool) -> pd.DataFrame:
    created = START + pd.to_timedelta(deals["day"] * 86400 + deals["sec"], unit="s")
    closed = (START + pd.to_timedelta(deals["close_day"], unit="D")).where(~deals["open"])
    status = np.where(deals["open"], "open", np.where(deals["won"], "won", "lost"))
    stage = np.where(deals["open"], "Proposal", np.where(deals["won"], "Closed Won", "Closed Lost"))
    out = pd.DataFrame({
        "deal_id": deals["id"].map("D{:07d}".format).to_numpy(),
        "rep": reps["rep"].to_numpy()[deals["r"].to_numpy()],
        "created": created.to_numpy(), "closed": closed.to_numpy(), "status": status,
        "amount": deals["amount"].to_numpy(), "stage": stage,
        "account": deals["id"].map("Acct {:06d}".format).to_numpy(), "currency": "USD", "pipeline": "New Business",
    })  # fmt: skip
    if lead_source:
        out["lead_source"] = deals["source"].to_numpy()
    return out


def _roster(reps: pd.DataFrame) -> pd.DataFrame:
    n = len(reps)
    return pd.DataFrame({"rep": reps["rep"].to_numpy(), "team": [f"Team {i % 4}" for i in range(n)],
                         "manager": [f"Manager {i % 4}" for i in range(n)], "region": "North",
                         "start": pd.Series([START] * n), "end": pd.Series([pd.NaT] * n, dtype="datetime64[ns]")})  # fmt: skip


def _truth(reps: pd.DataFrame, p: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expected deals per extra logged activity: sourcing prob x quality rate (x rep multiplier)."""
    types = [*TYPES, "proposal"] if p["trigger"] else list(TYPES)
    rows = []
    for k in types:
        q = _QUALITY[k][2] if k in _QUALITY else 1.0
        base = p["sourcing"].get(k, 0.0) * q
        mult = reps["meeting_mult"].to_numpy() if k == "meeting" else np.ones(len(reps))
        rows.append(pd.DataFrame({"rep": reps["rep"], "activity": k, "deals_created": base * mult}))
    rep_truth = pd.concat(rows, ignore_index=True)
    rep_truth["deals_won"] = rep_truth["deals_created"] * p["win_sourced"]
    rep_truth["won_revenue"] = rep_truth["deals_won"] * p["size_sourced"]
    truth = rep_truth.groupby("activity", sort=False)[["deals_created", "deals_won", "won_revenue"]].mean()
    truth["is_driver"] = truth["deals_created"] > 0
    return truth, rep_truth
