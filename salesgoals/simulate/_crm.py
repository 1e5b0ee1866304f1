r"""Simulated CRM data with a known truth, containing the traps of real sales data.

:func:`make_crm_data` writes activity, deal and roster tables in the canonical
layout of :mod:`salesgoals.io`, together with the true effect of one extra
activity of each type on each outcome.  Tests, notebooks and the bundled
samples all come from it, so every model in salesgoals can be checked against
a truth it did not see.

The generative model (weekly)
-----------------------------
For rep *i* with skill :math:`z_i \sim N(0, 1)` in week *t*:

* **Activity volume** of type *k* is Poisson with rate
  ``base_k * exp(loading_k * z_i + u_ik + e_ikt + season_t + holiday_t)``, where
  ``e_ikt`` is an AR(1) busy-week shock partly shared across types.  Skilled
  reps do more of everything, and seasons and holiday weeks move all activity.
* **Quality**: each call connects with the rep's connect rate, each meeting is
  held (not a no-show) with the rep's show rate; both rise with skill.
* **Deals created** are Poisson with mean
  ``active * (b_i * season_t * holiday_t + sum_l beta_call[l] * connected_{t-l}
  + beta_meeting[l] * held_{t-l} + beta_email[l] * emails_{t-l})``.
  The base rate ``b_i`` grows with skill (inbound and referral business that no
  logged activity creates): the confounder that fools a pooled regression.
  Effects arrive over several weeks (lags).  ``linkedin`` touches have **no
  effect** but track skill more strongly than anything else.
* **Reverse causality**: every deal created triggers follow-up emails in the
  following week (``followup_emails`` per deal on average), so emails also
  *follow* results.
* **Win or loss** with the rep's win rate; **amount** log-normal around the rep's
  typical deal size (lumpy revenue); **cycle time** of several weeks, so
  revenue closes long after the activity that created it.  Deals still running
  at the end are ``open``; deals of a rep who leaves are closed lost on the
  departure date.
* **Roster**: reps belong to teams, teams to managers and regions; some reps
  join and some leave part-way.

The true effects
----------------
``truth`` gives, per activity type, the expected change in each outcome summed
over all later weeks from one extra logged activity of that type, averaged over
reps (simple mean): for deals created ``sum(beta_k) * q_ik`` where ``q`` is the
rep's connect or show rate (1 for email), times the rep's win rate for deals
won, times the mean deal size for pipeline and revenue.  The tiny second-round
effect through follow-up emails (about 0.6 %) is not included.

Examples
--------
>>> from salesgoals.simulate import make_crm_data
>>> sim = make_crm_data(n_reps=8, n_weeks=26, seed=3)
>>> sorted(sim.truth.index)
['call', 'email', 'linkedin', 'meeting']
>>> float(sim.truth.loc["linkedin", "deals_created"])
0.0
>>> sim.activities.columns.tolist()[:3]
['rep', 'timestamp', 'activity_type']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesgoals._schema import ACTIVITY_COLUMNS, DEAL_COLUMNS, ROSTER_COLUMNS
from salesgoals.panel import build_panel
from salesgoals.simulate._stages import simulate_accounts, simulate_stage_paths

__all__ = ["CRMData", "make_crm_data", "ACTIVITY_TYPES", "DEFAULT_EFFECTS"]

#: Activity types the simulator logs, in column order.
ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting", "linkedin")

#: Deals created per *effective* activity by lag (weeks after the activity).
#: For calls the unit is a connected call, for meetings a held meeting.
DEFAULT_EFFECTS: dict[str, tuple[float, ...]] = {
    "call": (0.015, 0.009, 0.006),  # per connected call, sum 0.030
    "email": (0.0028, 0.0012),  # per email sent, sum 0.004
    "meeting": (0.060, 0.045, 0.030, 0.015),  # per held meeting, sum 0.150
    "linkedin": (0.0,),  # no effect at all
}

_BASE_VOLUME = {"call": 30.0, "email": 35.0, "meeting": 3.0, "linkedin": 8.0}
_SKILL_LOADING = {"call": 0.25, "email": 0.30, "meeting": 0.30, "linkedin": 0.50}

_FIRST = (
    "Avery Blake Casey Drew Emery Finley Harper Jordan Kai Logan Morgan Noel Parker Quinn "
    "Reese Riley Rowan Sage Skyler Taylor Alex Bailey Cameron Dakota Elliot Frankie Gray "
    "Hayden Jamie Kendall Lane Marlowe Nico Oakley Peyton Remy Shay Tatum Wren Zion"
).split()
_LAST = (
    "Chen Garcia Patel Novak Okafor Silva Larsen Dubois Rossi Tanaka Kowalski Murphy "
    "Haddad Jensen Moreau Schmidt Nakamura Ortiz Petrov Quinn Ramos Sato Varga Weber "
    "Young Ali Brennan Costa Diaz Eriksen Fischer Gomez Hughes Ivanova Kim Lopez Meyer "
    "Nguyen Olsen Park"
).split()
_TEAMS = ("Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor")
_MANAGERS = (
    "Dana Whitfield", "Sam Okoro", "Lee Hartmann", "Robin Achebe",
    "Jo Lindqvist", "Pat Moreno", "Kim Sørensen", "Chris Adeyemi",
)  # fmt: skip
_REGIONS = ("East", "West", "Central")
_OPEN_STAGES = ("Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review")


@dataclass
class CRMData:
    """Simulated CRM exports together with the truth that generated them.

    Attributes
    ----------
    activities : pandas.DataFrame
        Canonical activity log (see :func:`salesgoals.load_activities`).
    deals : pandas.DataFrame
        Canonical deals (see :func:`salesgoals.load_deals`).
    roster : pandas.DataFrame
        ``rep, team, manager, region, start, end``.
    truth : pandas.DataFrame
        Index ``activity``; columns ``deals_created``, ``pipeline_created``,
        ``deals_won``, ``won_revenue``: expected change in the outcome, summed
        over later weeks, from one extra logged activity (mean over reps).
    truth_by_rep : pandas.DataFrame
        The same per rep: ``rep, activity`` and the four outcome columns.
    truth_lags : pandas.DataFrame
        ``activity, lag, deals_created``: the lag profile (mean over reps).
    truth_quality : pandas.DataFrame
        Index ``metric`` (``call_connected``, ``meeting_held``); column
        ``deals_created``: effect of one more *connected* call or *held* meeting.
    reps : pandas.DataFrame
        True rep parameters: ``rep, skill, base_rate, win_rate, mean_deal_size,
        connect_rate, show_rate, start_week, end_week``.
    season : pandas.DataFrame
        ``week_start, season, holiday``: multiplicative weekly factors.
    params : dict
        Arguments of the call, for reproducibility.
    stage_history : pandas.DataFrame
        ``deal_id, stage, entered``: every stage each deal entered (see
        :mod:`salesgoals.simulate._stages` for the advance model).
    deal_activities : pandas.DataFrame
        Interactions that work the deals (calls, emails, meetings), canonical
        activity columns plus ``true_advance`` (did it move the deal a stage).
        Kept apart from ``activities`` (the prospecting that creates deals).
    truth_advances : pandas.DataFrame
        ``rep, activity_type, share, advance_rate, rep_advance_rate,
        stage_pass_rate, win_rate_implied``: the true advance probabilities.
    accounts : pandas.DataFrame
        ``account, industry, size_band, employees`` (and ``owner`` when the
        deals were grouped into ``n_accounts`` accounts).
    """

    activities: pd.DataFrame
    deals: pd.DataFrame
    roster: pd.DataFrame
    truth: pd.DataFrame
    truth_by_rep: pd.DataFrame
    truth_lags: pd.DataFrame
    truth_quality: pd.DataFrame
    reps: pd.DataFrame
    season: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    stage_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    deal_activities: pd.DataFrame = field(default_factory=pd.DataFrame)
    truth_advances: pd.DataFrame = field(default_factory=pd.DataFrame)
    accounts: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def start(self) -> pd.Timestamp:
        """First day of the observation window (a Monday)."""
        return pd.Timestamp(self.season["week_start"].iloc[0])

    @property
    def end(self) -> pd.Timestamp:
        """Last day of the observation window (a Sunday): the export date."""
        return pd.Timestamp(self.season["week_start"].iloc[-1]) + pd.Timedelta(days=6)

    def panel(self, freq: str = "W") -> pd.DataFrame:
        """Rep x period panel of this simulation (see :func:`salesgoals.build_panel`)."""
        return build_panel(self.activities, self.deals, roster=self.roster, freq=freq)

    def __repr__(self) -> str:
        return (
            f"CRMData(reps={self.roster.shape[0]}, weeks={self.season.shape[0]}, "
            f"activities={self.activities.shape[0]:,}, deals={self.deals.shape[0]:,})"
        )


def _rep_names(n: int, rng: np.random.Generator) -> np.ndarray:
    pairs = np.array([f"{first} {last}" for first in _FIRST for last in _LAST])
    if n <= pairs.size:
        return np.sort(rng.choice(pairs, size=n, replace=False))
    width = len(str(n))
    return np.array([f"Rep {i:0{width}d}" for i in range(1, n + 1)])


def _season(week_starts: pd.DatetimeIndex, amplitude: float) -> tuple[np.ndarray, np.ndarray]:
    """Log seasonal factor and log holiday factor per week."""
    doy = week_starts.day_of_year.to_numpy() + 3.0  # mid-week
    season = amplitude * (
        np.cos(2 * np.pi * (doy - 80) / 365.25) + 0.5 * np.cos(4 * np.pi * (doy - 290) / 365.25)
    )
    holiday = np.zeros(len(week_starts))
    days = week_starts.to_numpy()[:, None] + np.arange(7).astype("timedelta64[D]")
    days = pd.DatetimeIndex(days.ravel())
    month, day, dow = days.month, days.day, days.day_of_week
    christmas = ((month == 12) & (day >= 24)) | ((month == 1) & (day <= 1))
    thanksgiving = (month == 11) & (dow == 3) & (day >= 22) & (day <= 28)
    july4 = (month == 7) & (day == 4)
    hol = np.select([christmas, thanksgiving, july4], [np.log(0.35), np.log(0.7), np.log(0.85)], 0.0)
    holiday = hol.reshape(len(week_starts), 7).min(axis=1)
    return season, holiday


def make_crm_data(
    n_reps: int = 40,
    n_weeks: int = 104,
    *,
    seed: int = 0,
    start: str | pd.Timestamp = "2024-01-01",
    effects: dict[str, tuple[float, ...]] | None = None,
    volume_scale: float = 1.0,
    base_rate: float = 0.35,
    skill_on_base: float = 0.5,
    followup_emails: float = 1.5,
    season_amplitude: float = 0.15,
    frac_join: float = 0.15,
    frac_leave: float = 0.10,
    burn_in: int = 16,
    n_accounts: int | None = None,
) -> CRMData:
    """Simulate activities, deals and a roster with a known truth.

    Parameters
    ----------
    n_reps : int, default=40
        Number of sales reps.
    n_weeks : int, default=104
        Length of the observation window in weeks (the activity export).
    seed : int, default=0
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same data.
    start : str or Timestamp, default="2024-01-01"
        First day of the window; moved back to its Monday.
    effects : dict, optional
        Deals created per effective activity by lag, ``{type: (lag0, lag1, ...)}``;
        defaults to :data:`DEFAULT_EFFECTS`.  Types not listed have no effect.
    volume_scale : float, default=1.0
        Multiplies every activity volume (use < 1 for small samples).
    base_rate : float, default=0.35
        Weekly deals created that no activity causes, for a rep of average skill.
    skill_on_base : float, default=0.5
        How strongly skill raises that base rate (the confounding).
    followup_emails : float, default=1.5
        Follow-up emails sent per deal created, in the next week (reverse causality).
    season_amplitude : float, default=0.15
        Size of the annual cycle on the log scale (holiday weeks come on top).
    frac_join, frac_leave : float, default=0.15, 0.10
        Shares of reps who join after the start or leave before the end.
    burn_in : int, default=16
        Weeks simulated before the window so that the pipeline is full at the
        start; deals from then that are still open at the start are exported.
    n_accounts : int, optional
        Group the deals into this many accounts (each with an owner rep, an
        industry, a size, and deals with a ``product``).  Default: one account
        per deal, as before.  Stage paths, deal interactions and accounts are
        drawn from their own seeded streams, so every other output is the same
        with or without them.

    Returns
    -------
    CRMData
        ``.activities``, ``.deals``, ``.roster``, ``.truth`` and the other true
        quantities documented on :class:`CRMData`.

    Examples
    --------
    >>> sim = make_crm_data(n_reps=5, n_weeks=30, seed=0)
    >>> bool(sim.deals["status"].isin(["won", "lost", "open"]).all())
    True
    >>> bool((sim.truth["deals_created"] >= 0).all())
    True
    """
    if n_reps < 1 or n_weeks < 4:
        raise ValueError(f"make_crm_data: need n_reps >= 1 and n_weeks >= 4; got {n_reps}, {n_weeks}.")
    effects = dict(DEFAULT_EFFECTS if effects is None else effects)
    rng = np.random.default_rng(seed)  # one stream, drawn in this order: reps, activity, deals, rows, roster
    B, T = int(burn_in), int(n_weeks)
    window_start = pd.Timestamp(start).normalize()
    window_start -= pd.Timedelta(days=window_start.day_of_week)
    week_starts = pd.date_range(window_start - pd.Timedelta(weeks=B), periods=B + T, freq="7D")
    reps = _draw_reps(n_reps, B, T, rng, frac_join=frac_join, frac_leave=frac_leave, base_rate=base_rate,
                      skill_on_base=skill_on_base)  # fmt: skip
    season_log, holiday_log = _season(week_starts, season_amplitude)
    time_log = season_log + holiday_log
    counts, connected, held = _draw_activity(reps, time_log, volume_scale, rng)
    eff = {k: np.asarray(effects.get(k, (0.0,)), dtype=float) for k in ACTIVITY_TYPES}
    created, followups = _draw_deal_creation(reps, counts, connected, held, eff, time_log, followup_emails, rng)
    deals, deal_rep, deal_week = _deal_table(created, reps, week_starts, B, T, rng)
    acts = _activity_table(counts, connected, held, followups, deals, deal_rep, deal_week, reps, week_starts, B, rng)
    roster = _roster(reps, window_start, B, T, rng)
    truth, truth_by_rep, truth_lags, truth_quality = _truth(reps, eff)
    rep_params = pd.DataFrame(
        {
            "rep": reps["names"], "skill": reps["skill"], "base_rate": reps["base"], "win_rate": reps["win_rate"],
            "mean_deal_size": reps["mean_size"], "connect_rate": reps["connect_rate"],
            "show_rate": reps["show_rate"], "start_week": np.maximum(reps["start_w"], 0), "end_week": reps["end_w"],
        }
    )  # fmt: skip
    season = pd.DataFrame(
        {"week_start": week_starts[B:], "season": np.exp(season_log[B:]), "holiday": np.exp(holiday_log[B:])}
    )
    params = dict(
        n_reps=n_reps, n_weeks=n_weeks, seed=seed, start=str(window_start.date()), effects=effects,
        volume_scale=volume_scale, base_rate=base_rate, skill_on_base=skill_on_base,
        followup_emails=followup_emails, season_amplitude=season_amplitude,
        frac_join=frac_join, frac_leave=frac_leave, burn_in=burn_in,
    )  # fmt: skip
    if n_accounts is not None:
        params["n_accounts"] = n_accounts
    # issue 15's parts come from their own streams ([seed, 15, k]): every output above is unchanged by them
    accounts, deals = simulate_accounts(deals, rep_params, n_accounts=n_accounts, seed=seed)
    window_end = window_start + pd.Timedelta(days=7 * T - 1)
    staged = simulate_stage_paths(deals, rep_params, window_start=window_start, window_end=window_end, seed=seed)
    return CRMData(
        activities=acts, deals=deals, roster=roster, truth=truth, truth_by_rep=truth_by_rep, truth_lags=truth_lags,
        truth_quality=truth_quality, reps=rep_params, season=season, params=params, accounts=accounts, **staged,
    )  # fmt: skip


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _draw_reps(n_reps, B, T, rng, *, frac_join, frac_leave, base_rate, skill_on_base) -> dict[str, Any]:
    """Names, skill, active span and the rates that depend on skill."""
    names = _rep_names(n_reps, rng)
    skill = rng.standard_normal(n_reps)
    start_w = np.full(n_reps, -B)
    end_w = np.full(n_reps, T)
    u = rng.random(n_reps)
    joiners = u < frac_join
    leavers = (u >= frac_join) & (u < frac_join + frac_leave)
    if T >= 16:
        start_w[joiners] = rng.integers(4, T // 2, size=joiners.sum())
        end_w[leavers] = rng.integers(T // 2, T - 4, size=leavers.sum())
    week_idx = np.arange(B + T) - B
    active = (week_idx[None, :] >= start_w[:, None]) & (week_idx[None, :] < end_w[:, None])
    connect_rate = _expit(np.log(0.3 / 0.7) + 0.35 * skill + 0.2 * rng.standard_normal(n_reps))
    show_rate = _expit(np.log(0.8 / 0.2) + 0.40 * skill + 0.2 * rng.standard_normal(n_reps))
    win_rate = _expit(np.log(0.28 / 0.72) + 0.45 * skill + 0.25 * rng.standard_normal(n_reps))
    mean_size = np.round(9000 * np.exp(0.25 * skill + 0.25 * rng.standard_normal(n_reps)), -1)
    base = base_rate * np.exp(skill_on_base * skill - skill_on_base**2 / 2)
    return dict(names=names, skill=skill, start_w=start_w, end_w=end_w, active=active, connect_rate=connect_rate,
                show_rate=show_rate, win_rate=win_rate, mean_size=mean_size, base=base)  # fmt: skip


def _draw_activity(reps, time_log, volume_scale, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weekly counts per (rep, week, type) with AR(1) busy-week shocks; connected calls and held meetings."""
    types = ACTIVITY_TYPES
    n_reps, TT = reps["active"].shape
    K = len(types)
    rep_effect = 0.25 * rng.standard_normal((n_reps, K))
    shocks = np.empty((n_reps, TT, K))
    common = np.zeros(n_reps)
    own = np.zeros((n_reps, K))
    phi, sd = 0.6, 0.25 * np.sqrt(1 - 0.36)
    for t in range(TT):  # AR(1) in time, vectorised over reps and types
        common = phi * common + sd * rng.standard_normal(n_reps)
        own = phi * own + sd * rng.standard_normal((n_reps, K))
        shocks[:, t, :] = common[:, None] + own
    base_vol = np.array([_BASE_VOLUME[k] for k in types]) * volume_scale
    loading = np.array([_SKILL_LOADING[k] for k in types])
    log_rate = (
        np.log(base_vol)[None, None, :]
        + (loading[None, :] * reps["skill"][:, None] + rep_effect)[:, None, :]
        + shocks
        + time_log[None, :, None]
    )
    counts = rng.poisson(np.exp(log_rate)) * reps["active"][:, :, None]
    connected = rng.binomial(counts[:, :, types.index("call")], reps["connect_rate"][:, None])
    held = rng.binomial(counts[:, :, types.index("meeting")], reps["show_rate"][:, None])
    return counts, connected, held


def _draw_deal_creation(reps, counts, connected, held, eff, time_log, followup_emails, rng):
    """Deals created per (rep, week) from the base rate and lagged effective activity; follow-up emails."""
    types = ACTIVITY_TYPES
    active = reps["active"]
    n_reps, TT = active.shape
    effective = {"call": connected, "meeting": held, "linkedin": counts[:, :, types.index("linkedin")]}
    followups = np.zeros((n_reps, TT), dtype=np.int64)
    emails = counts[:, :, types.index("email")].copy()
    created = np.zeros((n_reps, TT), dtype=np.int64)
    seasonal = np.exp(time_log)
    for t in range(TT):  # week by week: follow-ups of week t's deals are emails of week t + 1
        mu = reps["base"] * seasonal[t]
        for k in types:
            series = emails if k == "email" else effective[k]
            for lag, beta in enumerate(eff[k]):
                if beta and t - lag >= 0:
                    mu = mu + beta * series[:, t - lag]
        created[:, t] = rng.poisson(mu * active[:, t])
        if t + 1 < TT:
            f = rng.poisson(followup_emails * created[:, t]) * active[:, t + 1]
            followups[:, t + 1] = f
            emails[:, t + 1] += f
    return created, followups


def _deal_table(created, reps, week_starts, B, T, rng) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per deal: outcome, amount, cycle, close date, stage; deals closed before the window dropped."""
    TT = B + T
    d_rep, d_week = np.nonzero(created)
    n_per = created[d_rep, d_week]
    d_rep, d_week = np.repeat(d_rep, n_per), np.repeat(d_week, n_per)
    n_deals = d_rep.size
    won = rng.random(n_deals) < reps["win_rate"][d_rep]
    sigma = 0.7
    amount = np.round(reps["mean_size"][d_rep] * np.exp(sigma * rng.standard_normal(n_deals) - sigma**2 / 2), -1)
    amount = np.maximum(amount, 500.0)
    cycle = np.where(
        won, 2 + rng.negative_binomial(3, 3 / (3 + 5.0), n_deals), 1 + rng.negative_binomial(2, 2 / (2 + 3.0), n_deals)
    )
    close_w = d_week + cycle
    created_day = week_starts[d_week] + pd.to_timedelta(rng.integers(0, 5, n_deals), unit="D")
    close_day_offset = rng.integers(0, 5, n_deals)
    end_w = reps["end_w"]
    rep_end_tt = end_w[d_rep] + B  # in 0..TT index units
    departed = (close_w >= rep_end_tt) & (end_w[d_rep] < T)
    close_w = np.where(departed, rep_end_tt - 1, close_w)
    won = won & ~departed
    is_open = close_w >= TT
    status = np.where(is_open, "open", np.where(won, "won", "lost"))
    close_w_safe = np.minimum(close_w, TT - 1)
    closed = week_starts[close_w_safe] + pd.to_timedelta(close_day_offset, unit="D")
    closed = pd.DatetimeIndex(closed).where(~is_open, pd.NaT)
    closed = pd.DatetimeIndex(np.maximum(closed.to_numpy(), created_day.to_numpy())).where(~is_open, pd.NaT)
    progress = np.clip((TT - d_week) / np.maximum(cycle, 1), 0, 0.999)
    stage = np.where(
        status == "won",
        "Closed Won",
        np.where(status == "lost", "Closed Lost", np.asarray(_OPEN_STAGES)[(progress * 4).astype(int)]),
    )
    keep = (d_week >= B) | is_open | (close_w >= B)
    deals = pd.DataFrame(
        {
            "deal_id": [f"D{i:06d}" for i in range(1, n_deals + 1)],
            "rep": reps["names"][d_rep],
            "created": created_day,
            "closed": closed,
            "status": status,
            "amount": amount,
            "stage": stage,
            "account": np.array([f"Account {i:05d}" for i in range(n_deals)]),
            "currency": "USD",
            "pipeline": "New Business",
        }
    )
    deals = deals.loc[keep].reset_index(drop=True)
    deals["deal_id"] = [f"D{i:06d}" for i in range(1, len(deals) + 1)]
    deals = deals[list(DEAL_COLUMNS)]
    for col in ("deal_id", "rep", "status", "stage", "account", "currency", "pipeline"):
        deals[col] = deals[col].astype(object)
    return deals, d_rep[keep], d_week[keep]


def _activity_table(counts, connected, held, followups, deals, deal_rep, deal_week, reps, week_starts, B, rng):
    """Prospecting rows from the count cube, then follow-up emails linked to a deal of the week before."""
    TT = counts.shape[1]
    names = reps["names"]
    in_window = np.arange(TT) >= B
    acts = _activity_rows(
        counts[:, in_window, :], connected[:, in_window], held[:, in_window], names, week_starts[B:],
        ACTIVITY_TYPES, rng,
    )  # fmt: skip
    f_rep, f_week = np.nonzero(followups[:, B:])
    f_n = followups[:, B:][f_rep, f_week]
    f_rep, f_week = np.repeat(f_rep, f_n), np.repeat(f_week, f_n) + B
    deal_key = deal_rep.astype(np.int64) * TT + deal_week  # (rep, week created) as one integer
    order = np.argsort(deal_key, kind="stable")
    want = f_rep.astype(np.int64) * TT + (f_week - 1)
    lo = np.searchsorted(deal_key[order], want, side="left")
    hi = np.searchsorted(deal_key[order], want, side="right")
    # every follow-up has a deal: follow-ups are only drawn for weeks with deals created
    deal_rows = order[lo + np.floor(rng.random(f_rep.size) * (hi - lo)).astype(np.int64)]
    fu = pd.DataFrame(
        {
            "rep": names[f_rep],
            "timestamp": week_starts[f_week]
            + pd.to_timedelta(rng.integers(0, 5, f_rep.size), unit="D")
            + pd.to_timedelta(rng.integers(8 * 60, 18 * 60, f_rep.size), unit="min"),
            "activity_type": "email",
            "deal_id": deals["deal_id"].to_numpy()[deal_rows],
            "account": deals["account"].to_numpy()[deal_rows],
            "outcome": "sent",
            "duration_min": 0.0,
        }
    )
    acts = pd.concat([acts, fu], ignore_index=True)
    acts = acts.sort_values(["timestamp", "rep", "activity_type"], kind="mergesort").reset_index(drop=True)
    acts["activity_id"] = [f"A{i:07d}" for i in range(1, len(acts) + 1)]
    acts = acts[list(ACTIVITY_COLUMNS)]
    # the dtypes load_activities gives: few-valued text as categoricals (sorted categories), ids as str
    for col in ("rep", "activity_type", "outcome"):
        acts[col] = acts[col].astype("str").astype("category")
    for col in ("activity_id", "deal_id", "account"):
        acts[col] = acts[col].astype("str")
    return acts


def _roster(reps, window_start, B, T, rng) -> pd.DataFrame:
    """Teams of about eight, their managers and regions; start and end dates from the active span."""
    n_reps = reps["names"].size
    start_w, end_w = reps["start_w"], reps["end_w"]
    n_teams = int(np.clip(round(n_reps / 8), 1, len(_TEAMS)))
    team_of = rng.permutation(np.arange(n_reps) % n_teams)
    n_regions = 1 if n_teams == 1 else (2 if n_teams < 6 else 3)
    roster_start = np.where(
        start_w > -B,
        window_start + pd.to_timedelta(7 * start_w, unit="D"),
        window_start - pd.to_timedelta(rng.integers(60, 900, n_reps), unit="D"),
    )
    roster_end = pd.DatetimeIndex(window_start + pd.to_timedelta(7 * end_w - 1, unit="D")).where(end_w < T, pd.NaT)
    return pd.DataFrame(
        {
            "rep": reps["names"],
            "team": np.asarray(_TEAMS, dtype=object)[team_of],
            "manager": np.asarray(_MANAGERS, dtype=object)[team_of],
            "region": np.asarray(_REGIONS, dtype=object)[team_of % n_regions],
            "start": pd.DatetimeIndex(roster_start),
            "end": roster_end,
        }
    )[list(ROSTER_COLUMNS)]


def _truth(reps, eff) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """True effects: per rep, the mean over reps, the lag profile and the quality-metric effects."""
    n_reps = reps["names"].size
    quality = {"call": reps["connect_rate"], "meeting": reps["show_rate"], "email": np.ones(n_reps),
               "linkedin": np.ones(n_reps)}  # fmt: skip
    rows, lag_rows = [], []
    for k in ACTIVITY_TYPES:
        per_unit = eff[k].sum() * quality[k]
        rows.append(
            pd.DataFrame(
                {
                    "rep": reps["names"],
                    "activity": k,
                    "deals_created": per_unit,
                    "pipeline_created": per_unit * reps["mean_size"],
                    "deals_won": per_unit * reps["win_rate"],
                    "won_revenue": per_unit * reps["win_rate"] * reps["mean_size"],
                }
            )
        )
        for lag, beta in enumerate(eff[k]):
            lag_rows.append({"activity": k, "lag": lag, "deals_created": float(beta * quality[k].mean())})
    truth_by_rep = pd.concat(rows, ignore_index=True)
    truth = truth_by_rep.drop(columns="rep").groupby("activity", sort=False).mean()
    truth.index.name = "activity"
    truth_quality = pd.DataFrame(
        {"deals_created": [eff["call"].sum(), eff["meeting"].sum()]},
        index=pd.Index(["call_connected", "meeting_held"], name="metric"),
    )
    return truth, truth_by_rep, pd.DataFrame(lag_rows), truth_quality


def _activity_rows(counts, connected, held, reps, week_starts, types, rng) -> pd.DataFrame:
    """Expand a (rep, week, type) count cube into one row per activity, vectorised."""
    n_reps, T, K = counts.shape
    flat = counts.reshape(-1)
    cell = np.repeat(np.arange(flat.size), flat)
    r, rest = np.divmod(cell, T * K)
    w, k = np.divmod(rest, K)
    first_of_cell = np.repeat(np.cumsum(flat) - flat, flat)
    pos = np.arange(cell.size) - first_of_cell
    type_arr = np.asarray(types, dtype=object)[k]
    n = cell.size
    outcome = np.full(n, "sent", dtype=object)
    duration = np.zeros(n)
    u = rng.random(n)
    is_call = type_arr == "call"
    conn = pos < connected[r, w]
    outcome[is_call] = np.where(conn[is_call], "connected", np.where(u[is_call] < 0.3, "voicemail", "no_answer"))
    duration[is_call] = np.where(conn[is_call], np.round(rng.exponential(6.0, n)[is_call], 1) + 0.5, 0.5)
    is_meet = type_arr == "meeting"
    held_m = pos < held[r, w]
    outcome[is_meet] = np.where(held_m[is_meet], "held", "no_show")
    duration[is_meet] = np.where(held_m[is_meet], rng.choice([30.0, 45.0, 60.0], n)[is_meet], 0.0)
    is_li = type_arr == "linkedin"
    outcome[is_li] = "sent"
    ts = (
        week_starts.to_numpy()[w]
        + rng.integers(0, 5, n).astype("timedelta64[D]")
        + rng.integers(8 * 60, 18 * 60, n).astype("timedelta64[m]")
    )
    return pd.DataFrame(
        {
            "rep": reps[r],
            "timestamp": pd.DatetimeIndex(ts),
            "activity_type": type_arr,
            "deal_id": None,
            "account": None,
            "outcome": outcome,
            "duration_min": duration,
        }
    )
