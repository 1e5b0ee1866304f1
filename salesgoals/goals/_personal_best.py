"""Personal-best activity goals in three tiers, each with an honest probability.

:func:`personal_best_goals` turns a rep x period panel (and, optionally, a
fitted driver model) into one row per rep x activity with

* ``baseline`` - the rep's recent typical level (trailing mean);
* ``personal_best`` - the best level the rep has *sustained*: the best rolling
  ``best_window``-period mean over the trailing ``lookback`` periods, so one
  freak week does not set the bar;
* three goals per period - **clear** (the level the rep reaches with about
  :data:`TIER_PROBABILITIES` ``["clear"]`` odds), **stretch** (the personal
  best) and **extraordinary** (clearly beyond it) - and ``p_clear``,
  ``p_stretch``, ``p_extraordinary``: the probability that the rep's count in a
  period of the goal horizon reaches each goal;
* ``priority`` 1-3: the rep's focus activities, ranked by *leverage* - the
  revenue one more unit brings (driver model) times the room between baseline
  and personal best.  Activities that drive nothing get ``priority`` 0 and the
  flag ``not_a_driver``.

The probability model
---------------------
A rep's count in a future period is negative binomial with

* mean: the rep's trailing mean shrunk toward the peer (team) mean by
  empirical Bayes (weight ``tau^2 / (tau^2 + s^2 / n)``): reps with a long,
  steady history keep their own level, new reps borrow from their team;
* variance: the rep's own trailing variance, shrunk toward the pooled
  over-dispersion of the team, plus the uncertainty of the mean itself.

``backtest_goals`` (in :mod:`salesgoals.goals.backtest`) checks on held-out history
that the stated probabilities match the realised shares.

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=1)
>>> plan = sg.personal_best_goals(sim.panel())
>>> bool(plan.table[["goal_clear", "goal_stretch", "goal_extraordinary"]].ge(0).all().all())
True
>>> bool((plan.table["goal_clear"] <= plan.table["goal_stretch"]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._summary import Summary
from salesgoals._typing import TIERS
from salesgoals.errors import DataQualityError, InsufficientDataError, SchemaError
from salesgoals.panel import activity_columns, quality_columns
from salesgoals.plotting import plot_goal_tiers

__all__ = ["personal_best_goals", "GoalPlan", "TIER_PROBABILITIES"]

#: Design odds of each tier.  ``clear`` is set at the level the rep reaches in
#: 80 % of periods (forecastable); ``stretch`` is the personal best, which sits
#: near these odds for a typical rep (40-50 %) but is *not* forced to them - its
#: stated ``p_stretch`` is whatever the model gives; ``extraordinary`` is set at
#: the level reached in 15 % of periods, and at least one unit above stretch.
TIER_PROBABILITIES: dict[str, float] = {"clear": 0.80, "stretch": 0.45, "extraordinary": 0.15}

#: Window lengths by panel frequency: (baseline window, personal-best window,
#: look-back), in periods.  Weeks: last quarter, best 4-week run in the last year.
WINDOWS: dict[str, tuple[int, int, int]] = {"W": (13, 4, 52), "M": (6, 2, 12), "Q": (4, 1, 4)}

#: Periods in one goal horizon, by panel frequency.
HORIZON_PERIODS: dict[str, dict[str, int]] = {
    "W": {"W": 1, "M": 4, "Q": 13, "Y": 52},
    "M": {"M": 1, "Q": 3, "Y": 12},
    "Q": {"Q": 1, "Y": 4},
}

#: A rep with fewer baseline periods than this is flagged ``short_history``.
MIN_HISTORY: dict[str, int] = {"W": 8, "M": 3, "Q": 2}

#: Periods in a year, by frequency: the seasonal index compares each period
#: with the same period a year earlier.
SEASON_LENGTH: dict[str, int] = {"W": 52, "M": 12, "Q": 4}

#: ``extraordinary`` is at least this much above ``stretch`` ("significantly beyond").
EXTRAORDINARY_STEP = 0.10

#: Seasonal factors are clipped to this range (a week with almost no activity,
#: such as the Christmas week, should not explode a rep's adjusted level).
SEASON_CLIP = (0.25, 4.0)

#: Pseudo-periods of the pooled over-dispersion added to each rep's own variance.
DISPERSION_PRIOR_PERIODS = 10.0

#: Activity families: a quality metric and the raw activity it counts.  Only
#: one member of a family can be a priority, so effort is not counted twice.
FAMILIES: dict[str, str] = {"call_connected": "call", "meeting_held": "meeting"}

#: Revenue per unit of a driver-model outcome, as a function of the rep funnel.
_OUTCOME_TO_REVENUE = {
    "deals_created": lambda wr, ds: wr * ds,
    "deals_won": lambda wr, ds: ds,
    "won_revenue": lambda wr, ds: np.ones_like(wr),
    "pipeline_created": lambda wr, ds: wr,
}


# ------------------------------------------------------------ distributions
def _nb_params(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(is_poisson, n, p) of a negative binomial with the given mean and variance."""
    mean = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    var = np.asarray(var, dtype=float)
    poisson = var <= mean * (1 + 1e-6)
    excess = np.where(poisson, 1.0, var - mean)
    n = np.where(poisson, 1.0, mean**2 / excess)
    p = np.where(poisson, 0.5, n / (n + mean))
    return poisson, n, p


def prob_at_least(goal: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """P(X >= goal) for a count X with the given mean and variance (NB or Poisson).

    Examples
    --------
    >>> float(prob_at_least(np.array([0]), np.array([3.0]), np.array([5.0]))[0])
    1.0
    >>> round(float(prob_at_least(np.array([4]), np.array([3.0]), np.array([3.0]))[0]), 4)
    0.3528
    """
    goal = np.asarray(goal, dtype=float)
    poisson, n, p = _nb_params(mean, var)
    k = np.ceil(goal - 1e-9) - 1
    m = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    out = np.where(poisson, stats.poisson.sf(k, m), stats.nbinom.sf(k, n, p))
    return np.clip(np.where(goal <= 0, 1.0, out), 0.0, 1.0)


def level_with_odds(odds: float, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Largest whole count the rep reaches with at least ``odds`` probability.

    Examples
    --------
    >>> int(level_with_odds(0.8, np.array([30.0]), np.array([60.0]))[0])
    23
    """
    poisson, n, p = _nb_params(mean, var)
    m = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    q = 1.0 - odds
    out = np.where(poisson, stats.poisson.ppf(q, m), stats.nbinom.ppf(q, n, p))
    return np.nan_to_num(out, nan=0.0, posinf=0.0).astype(float)


# ------------------------------------------------------------------ helpers
def horizon_periods(horizon: str | int, freq: str) -> int:
    """Count the panel periods in a goal horizon (``"W"``, ``"M"``, ``"Q"``, ``"Y"`` or an int).

    Examples
    --------
    >>> horizon_periods("Q", "W")
    13
    >>> horizon_periods(6, "M")
    6
    """
    if isinstance(horizon, (int, np.integer)) and not isinstance(horizon, bool):
        if horizon < 1:
            raise ValueError(f"horizon must be a positive number of periods; got {horizon}.")
        return int(horizon)
    table = HORIZON_PERIODS.get(freq, {})
    key = str(horizon).upper()
    if key not in table:
        raise ValueError(
            f"horizon must be one of {', '.join(map(repr, table))} for a {freq!r} panel, "
            "or a number of periods; "
            f"got {horizon!r}."
        )
    return table[key]


def _check_panel(panel: Any, func: str) -> str:
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(
            f"{func}: panel must be a DataFrame from salesgoals.build_panel(); "
            f"got {type(panel).__name__}."
        )
    missing = [
        c
        for c in ("rep", "period", "deals_created", "deals_won", "won_revenue")
        if c not in panel.columns
    ]
    if missing:
        raise SchemaError(
            f"{func}: panel has no column(s) {', '.join(map(repr, missing))}; "
            f"found {', '.join(map(str, panel.columns))}. "
            "Build it with salesgoals.build_panel(activities, deals)."
        )
    if len(panel) == 0:
        raise DataQualityError(
            f"{func}: the panel is empty; there is no history to set goals from."
        )
    freq = panel.attrs.get("freq")
    if freq is None:
        freq = {"W": "W", "M": "M", "Q": "Q"}.get(str(panel["period"].dtype.freqstr)[:1], "W")
    return str(freq)


def _driver_tables(drivers: Any) -> tuple[pd.DataFrame | None, str | None]:
    """Team effects indexed by activity, plus the outcome name, from a DriverResult (or None)."""
    if drivers is None:
        return None, None
    eff = getattr(drivers, "effects", None)
    outcome = getattr(drivers, "outcome", None)
    if (
        not isinstance(eff, pd.DataFrame)
        or "activity" not in eff.columns
        or "effect" not in eff.columns
    ):
        raise TypeError(
            "personal_best_goals: drivers must be a DriverResult from salesgoals.fit_drivers()."
        )
    if outcome not in _OUTCOME_TO_REVENUE:
        raise ValueError(
            f"personal_best_goals: drivers were fitted to outcome {outcome!r}; need one of "
            f"{', '.join(map(repr, _OUTCOME_TO_REVENUE))}."
        )
    eff = eff.drop_duplicates("activity").set_index("activity")
    return eff, outcome


# ------------------------------------------------------------------- result
@dataclass
class GoalPlan:
    """Personal-best goals for each rep and activity (result of :func:`personal_best_goals`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rep x activity; columns documented in :func:`personal_best_goals`.
    rep_stats : pandas.DataFrame
        One row per rep: ``rep, team, manager, region, n_periods, deals_rate,
        deals_rate_shape, deals_rate_periods, win_rate, win_alpha, win_beta,
        deal_size, deal_size_n, deal_size_sigma, flags`` - the funnel used by
        :func:`salesgoals.project_targets`.
    freq : str
        Panel frequency.
    as_of : pandas.Period
        Last period of history used; goals apply to the periods after it.
    horizon : int
        Periods in the goal horizon.
    tier_probabilities : dict
        Design odds of the tiers.
    outcome : str or None
        Outcome of the driver model used for priorities.
    effects : pandas.DataFrame or None
        The driver effects used (``activity, effect, std_error, ci_low, ci_high,
        significant, deals_per_unit``): ``deals_per_unit`` is the effect in
        deals created per extra unit, what the funnel simulation adds.
    excluded_reps : list of str
        Reps in the panel who are no longer active at ``as_of`` (no goals).
    moments : pandas.DataFrame
        ``rep, activity, mean, var, deals_per_unit``: mean and variance of the
        rep's count per period over the horizon (the predictive distribution
        behind ``p_*``) and the extra deals created per extra unit.
    """

    table: pd.DataFrame
    rep_stats: pd.DataFrame
    freq: str
    as_of: pd.Period
    horizon: int
    tier_probabilities: dict[str, float]
    outcome: str | None = None
    effects: pd.DataFrame | None = None
    excluded_reps: list[str] = field(default_factory=list)
    moments: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (
            f"GoalPlan(reps={self.table['rep'].nunique()}, "
            f"activities={self.table['activity'].nunique()}, as_of={self.as_of}, "
            f"horizon={self.horizon} x {self.freq}, drivers={self.outcome or 'none'})"
        )

    def focus(self) -> pd.DataFrame:
        """Only the priority rows (``priority`` 1-3), sorted by rep then priority."""
        t = self.table
        return (
            t[t["priority"] > 0]
            .sort_values(["rep", "priority"], kind="mergesort")
            .reset_index(drop=True)
        )

    def summary(self) -> Summary:
        """Overview: reps, tier odds, the most common focus activities and flags."""
        t = self.table
        focus = self.focus()
        lines = [
            f"{t['rep'].nunique()} reps, goals per {self.freq} period for the {self.horizon} "
            f"periods after {self.as_of}.",
            "Tier design odds: "
            + ", ".join(f"{k} {v:.0%}" for k, v in self.tier_probabilities.items())
            + ".",
            "Mean stated odds: "
            + ", ".join(f"{k} {t[f'p_{k}'].mean():.0%}" for k in TIERS)
            + " (share of periods in which a rep reaches the goal).",
            f"Driver model: {self.outcome or 'none (no priorities)'}.",
        ]
        if self.excluded_reps:
            lines.append(
                f"No goals for {len(self.excluded_reps)} rep(s) no longer active: "
                f"{', '.join(self.excluded_reps[:5])}."
            )
        tables = []
        if len(focus):
            top = (
                focus.groupby("activity", sort=False)
                .agg(
                    reps=("rep", "size"),
                    mean_priority=("priority", "mean"),
                    leverage=("leverage", "sum"),
                )
                .reset_index()
                .sort_values(["reps", "activity"], ascending=[False, True], kind="mergesort")
            )
            tables.append(("Focus activities", top.round(2)))
        flags = t["flags"].str.split(";").explode()
        flags = flags[flags.astype(bool)]
        if len(flags):
            tables.append(
                (
                    "Flags (rows)",
                    flags.value_counts()
                    .rename_axis("flag")
                    .reset_index()
                    .sort_values(["count", "flag"], ascending=[False, True]),
                )
            )
        return Summary("Personal-best goals", lines, tables)

    def plot(self, rep: str | None = None, *, ax=None):
        """Tiers of one rep's activities (see :func:`salesgoals.plotting.plot_goal_tiers`)."""
        return plot_goal_tiers(self, rep=rep, ax=ax)


# --------------------------------------------------------------- front door
def personal_best_goals(
    panel: pd.DataFrame,
    drivers: Any = None,
    *,
    as_of: str | pd.Period | None = None,
    horizon: str | int = "Q",
    activities: list[str] | None = None,
    tier_probabilities: dict[str, float] | None = None,
    baseline_window: int | None = None,
    best_window: int | None = None,
    lookback: int | None = None,
    max_priorities: int = 3,
    peer_col: str = "team",
    seasonal: bool = True,
    stretch: str = "personal_best",
) -> GoalPlan:
    """Set clear / stretch / extraordinary goals from each rep's own history.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel`.
    drivers : DriverResult, optional
        From :func:`salesgoals.fit_drivers`.  Gives the effect of each activity,
        which ranks the priorities and flags activities that drive nothing.
        Without it every row gets ``priority`` 0 and the flag ``no_driver_model``.
    as_of : str or Period, optional
        Set the goals as they would have been set at the end of this period
        (history after it is ignored).  Default: the last period of the panel.
    horizon : {"W", "M", "Q", "Y"} or int, default="Q"
        The goal horizon (a quarter: 13 weekly periods).
    activities : list of str, optional
        Metrics to set goals on; default every activity column and quality
        metric of the panel.
    tier_probabilities : dict, optional
        Design odds ``{"clear": 0.8, "stretch": 0.45, "extraordinary": 0.15}``
        (:data:`TIER_PROBABILITIES`).  Only ``clear`` and ``extraordinary`` set
        levels; ``stretch`` is always the personal best.
    baseline_window, best_window, lookback : int, optional
        Periods in the baseline mean, in the personal-best run and in the
        look-back; defaults by frequency in :data:`WINDOWS`.
    max_priorities : int, default=3
        At most this many focus activities per rep.
    peer_col : str, default="team"
        Panel column defining peers for shrinkage (all reps if absent).
    seasonal : bool, default=True
        Adjust levels for the team's seasonal pattern (needs a year of history):
        history is deseasonalised and the goals refer to the horizon's season.
    stretch : {"personal_best", "odds"}, default="personal_best"
        How the stretch goal is set: at the rep's personal best (the method's
        default; its odds are whatever the rep's history says, often 10-30 %
        a week), or at the level reached with ``tier_probabilities["stretch"]``
        odds (the "next level up" when personal bests are out of reach).

    Returns
    -------
    GoalPlan
        ``.table`` has one row per rep x activity, sorted by rep, then priority
        (focus activities first), then activity, with columns:

        * ``rep`` : str; ``team`` : str — the peer group (``"(all)"`` without a roster).
        * ``activity`` : str — activity type or quality metric (``call_connected``,
          ``meeting_held``).
        * ``kind`` : str — ``"activity"`` or ``"quality"``.
        * ``priority`` : int — 1 = the rep's first focus activity; 0 = no goal set.
        * ``n_periods`` : int — periods of history in the look-back.
        * ``baseline`` : float — the rep's typical level per period: mean over the last
          ``baseline_window`` periods, deseasonalised and expressed at the season of the goal
          horizon (``seasonal=True``), shrunk toward the peer mean for short history.
        * ``personal_best`` : float — best rolling ``best_window``-period mean in the look-back
          (deseasonalised and expressed at the horizon's season, like ``baseline``).
        * ``goal_clear``, ``goal_stretch``, ``goal_extraordinary`` : float — whole counts per
          period.
        * ``p_clear``, ``p_stretch``, ``p_extraordinary`` : float — probability that the rep's
          count in a period of the horizon reaches the goal (the expected share of periods met).
        * ``p_clear_avg``, ``p_stretch_avg``, ``p_extraordinary_avg`` : float — probability that
          the rep's *average* per period over the whole horizon reaches the goal (accounts for
          busy and quiet streaks that persist from period to period).
        * ``effect`` : float — revenue one more unit per period brings (0 without a driver model
          or for non-drivers).
        * ``leverage`` : float — ``effect x (personal_best - baseline)``: revenue per period from
          working at the personal best.
        * ``flags`` : str — ``;``-separated: ``not_a_driver`` (effect CI includes zero: no goal),
          ``negative_effect``, ``follows_results`` (the driver model's leads check finds the
          activity follows results, so its effect is likely overstated: no priority),
          ``no_driver_model``, ``short_history`` / ``no_history`` (goal shrunk toward
          peers), ``all_zero_history``, ``rare_activity`` (the whole team logged almost none),
          ``no_room`` (personal best is not above baseline), ``quality_metric``.

    Raises
    ------
    SchemaError
        The panel lacks the rep, period or outcome columns, or ``activities`` names unknown columns.
    InsufficientDataError
        No rep is active at ``as_of``.

    Notes
    -----
    *Keep improving*: the personal best is taken over a trailing window, so the
    stretch goal ratchets up as soon as the rep sustains a higher level, and
    a goal never drops below the level the rep reaches with clear odds.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=5, n_weeks=30, seed=2)
    >>> plan = sg.personal_best_goals(sim.panel(), horizon="M")
    >>> plan.table.columns[:6].tolist()
    ['rep', 'team', 'activity', 'kind', 'priority', 'n_periods']
    >>> bool(plan.table[["p_clear", "p_stretch"]].notna().all().all())
    True
    """
    freq = _check_panel(panel, "personal_best_goals")
    d_base, d_best, d_look = WINDOWS.get(freq, WINDOWS["W"])
    baseline_window = int(baseline_window or d_base)
    best_window = int(best_window or d_best)
    lookback = int(max(lookback or d_look, baseline_window, best_window))
    H = horizon_periods(horizon, freq)
    tiers = dict(TIER_PROBABILITIES)
    if tier_probabilities:
        unknown = set(tier_probabilities) - set(TIERS)
        if unknown:
            raise ValueError(
                f"personal_best_goals: tier_probabilities keys must be {TIERS}; "
                f"got {sorted(unknown)}."
            )
        tiers.update({k: float(v) for k, v in tier_probabilities.items()})
    if stretch not in ("personal_best", "odds"):
        raise ValueError(
            f"personal_best_goals: stretch must be 'personal_best' or 'odds'; got {stretch!r}."
        )
    if not 0 < tiers["extraordinary"] < tiers["clear"] < 1:
        raise ValueError(
            f"personal_best_goals: need 0 < extraordinary < clear < 1 odds; got {tiers}."
        )

    act_cols = activity_columns(panel)
    q_cols = quality_columns(panel)
    metrics = list(activities) if activities is not None else [*act_cols, *q_cols]
    unknown = [m for m in metrics if m not in panel.columns]
    if unknown:
        raise SchemaError(
            f"personal_best_goals: activities {', '.join(map(repr, unknown))} "
            "are not panel columns; "
            f"available: {', '.join([*act_cols, *q_cols])}."
        )
    if not metrics:
        raise SchemaError("personal_best_goals: the panel has no activity columns to set goals on.")

    # ------------------------------------------------------ history window
    p = panel
    if as_of is not None:
        as_of_p = pd.Period(as_of, freq=panel["period"].dtype.freq)
        p = p[p["period"] <= as_of_p]
    else:
        as_of_p = panel["period"].max()
    if len(p) == 0:
        raise InsufficientDataError(f"personal_best_goals: no history on or before {as_of}.")
    p = p.sort_values(["rep", "period"], kind="mergesort")
    last = p.groupby("rep", sort=True)["period"].transform("max")
    active = p["rep"][last == as_of_p].unique()
    excluded = sorted(set(p["rep"].unique()) - set(active))
    p = p[p["rep"].isin(active)]
    if len(p) == 0:
        raise InsufficientDataError(
            f"personal_best_goals: no rep has history up to {as_of_p}; "
            "every rep's span ended earlier."
        )
    pos_from_end = p.groupby("rep", sort=True).cumcount(ascending=False).to_numpy()
    p = p[pos_from_end < lookback]
    pos_from_end = pos_from_end[pos_from_end < lookback]
    reps = pd.Index(np.sort(p["rep"].unique().astype(str)), dtype=object)
    R = len(reps)
    code = reps.get_indexer(p["rep"].astype(str))
    peer = (
        p.groupby("rep", sort=True)[peer_col]
        .first()
        .reindex(reps)
        .fillna("(all)")
        .astype(str)
        .to_numpy()
        if peer_col in p.columns
        else np.full(R, "(all)", dtype=object)
    )
    n_look = np.bincount(code, minlength=R)
    in_base = pos_from_end < baseline_window
    n_base = np.bincount(code[in_base], minlength=R).astype(float)
    min_hist = MIN_HISTORY.get(freq, 8)

    # ------------------------------------------------ seasonal index (team)
    hist = panel[panel["period"] <= as_of_p]
    season_len = SEASON_LENGTH.get(freq, 52)
    s_past, s_future = _seasonal_index(
        hist, [*metrics, "deals_created"], as_of_p, season_len, H, seasonal
    )
    row_s = s_past.reindex(p["period"]).to_numpy(float)[:, :-1]  # rows x M
    s_h = s_future[:, :-1]  # H x M
    s_bar = s_h.mean(axis=0)  # M: average seasonal level of the goal horizon
    deals_season = float(s_future[:, -1].mean())

    # --------------------------------------------------- per-metric levels
    X_raw = p[metrics].to_numpy(dtype=float)  # rows x M
    X = X_raw / row_s  # deseasonalised: the rep's level at an average time of year
    M = len(metrics)
    sums = np.zeros((R, M))
    sq = np.zeros((R, M))
    np.add.at(sums, code[in_base], X[in_base])
    np.add.at(sq, code[in_base], X[in_base] ** 2)
    raw_sums = np.zeros((R, M))
    np.add.at(raw_sums, code[in_base], X_raw[in_base])
    s_sums = np.zeros((R, M))
    np.add.at(s_sums, code[in_base], row_s[in_base])
    nb = np.maximum(n_base, 1)[:, None]
    # ratio of sums (not mean of ratios): a quiet holiday week is not blown up by its small factor
    mean_raw = np.where(s_sums > 0, raw_sums / np.where(s_sums > 0, s_sums, 1.0), sums / nb)
    var_raw = np.where(n_base[:, None] > 1, (sq - nb * mean_raw**2) / np.maximum(nb - 1, 1), 0.0)
    var_raw = np.maximum(var_raw, 0.0)

    # personal best: best rolling mean (deseasonalised as a ratio of sums),
    # via within-rep cumulative sums
    within = p.groupby("rep", sort=True).cumcount().to_numpy()

    def rolling_sum(values: np.ndarray) -> np.ndarray:
        csum = pd.DataFrame(values).groupby(code).cumsum().to_numpy()
        return csum - pd.DataFrame(csum).groupby(code).shift(best_window).fillna(0.0).to_numpy()

    roll = rolling_sum(X_raw) / np.maximum(rolling_sum(row_s), 1e-9)
    roll[within < best_window - 1] = -np.inf
    best = np.full((R, M), -np.inf)
    np.maximum.at(best, code, roll)
    overall_mean = np.zeros((R, M))
    np.add.at(overall_mean, code, X)
    overall_mean /= np.maximum(n_look, 1)[:, None]
    best = np.where(np.isfinite(best), best, overall_mean)  # history shorter than the window

    # ------------------------------------- empirical-Bayes shrinkage to peers
    peer_codes, peer_idx = np.unique(peer, return_inverse=True)
    long_hist = n_base >= min_hist
    mean_s = np.empty((R, M))
    disp = np.empty((R, M))
    m_uncert = np.empty((R, M))
    for g in range(len(peer_codes)):  # loop over a few peer groups
        inside = peer_idx == g
        ref = inside & long_hist
        if ref.sum() < 2:
            ref = long_hist if long_hist.sum() >= 2 else np.ones(R, dtype=bool)
        peer_mean = mean_raw[ref].mean(axis=0)
        samp = np.maximum(var_raw[ref], mean_raw[ref]) / nb[ref]
        tau2 = np.maximum(mean_raw[ref].var(axis=0) - samp.mean(axis=0), 1e-9)
        own_samp = np.maximum(var_raw[inside], np.maximum(mean_raw[inside], peer_mean)) / nb[inside]
        w = np.where(n_base[inside, None] > 0, tau2 / (tau2 + own_samp), 0.0)
        mean_s[inside] = w * mean_raw[inside] + (1 - w) * peer_mean
        # over-dispersion phi = (var - mean) / mean^2: the rep's own, shrunk toward the peer median
        mr = mean_raw[ref]
        phi_rep = np.where(mr > 0, (var_raw[ref] - mr) / np.maximum(mr, 1e-9) ** 2, 0.0)
        phi_g = np.maximum(np.median(phi_rep, axis=0), 0.0)
        mi = mean_raw[inside]
        own_phi = np.where(mi > 0, (var_raw[inside] - mi) / np.maximum(mi, 1e-9) ** 2, phi_g)
        k = n_base[inside, None]
        disp[inside] = (k * np.maximum(own_phi, 0) + DISPERSION_PRIOR_PERIODS * phi_g) / (
            k + DISPERSION_PRIOR_PERIODS
        )
        # posterior variance of the rep's mean: w * s^2/n,
        # or the between-rep variance with no history
        m_uncert[inside] = np.where(n_base[inside, None] > 0, w * own_samp, tau2)
    mean_s = np.maximum(mean_s, 0.0)
    best = np.where(n_base[:, None] >= min_hist, best, np.maximum(best, mean_s))

    # -------------------------------- predictive distribution per horizon period
    m_h = mean_s[None, :, :] * s_h[:, None, :]  # H x R x M
    v_h = m_h + disp[None] * m_h**2 + m_uncert[None] * s_h[:, None, :] ** 2
    m_bar, v_bar = m_h.mean(axis=0), v_h.mean(axis=0)

    # ------------------------------------------------------------- tiers
    baseline = mean_s * s_bar[None, :]  # typical level at the horizon's season
    best = best * s_bar[None, :]
    g_clear = level_with_odds(tiers["clear"], m_bar, v_bar)
    # a goal of zero asks nothing: where the rep typically does at least one, ask for one
    # (the stated p_clear then says honestly that the odds are below the design odds)
    g_clear = np.where(baseline >= 1.0, np.maximum(g_clear, 1.0), g_clear)
    if stretch == "personal_best":
        g_stretch = np.maximum(np.round(best), g_clear + 1)
    else:
        g_stretch = np.maximum(level_with_odds(tiers["stretch"], m_bar, v_bar), g_clear + 1)
    g_extra = np.maximum.reduce([
        level_with_odds(tiers["extraordinary"], m_bar, v_bar),
        np.ceil(g_stretch * (1 + EXTRAORDINARY_STEP) - 1e-9),
        g_stretch + 1,
    ])  # fmt: skip

    def share_met(goal):  # expected share of horizon periods in which the goal is reached
        return prob_at_least(np.broadcast_to(goal, m_h.shape), m_h, v_h).mean(axis=0)

    p_clear, p_stretch, p_extra = share_met(g_clear), share_met(g_stretch), share_met(g_extra)

    # odds on the horizon *average*: busy and quiet streaks persist, so the sum over the
    # horizon varies more than H independent periods would (correlation share * phi^k)
    share, phi = _autocorrelation(X, code)
    k = np.arange(1, H)
    w_lag = (H - k)[:, None] * phi[None, :] ** k[:, None]  # (H-1) x M
    within = (m_h + disp[None] * m_h**2).mean(axis=0)  # R x M
    var_sum = within * (H + 2 * share[None, :] * w_lag.sum(axis=0)[None, :])
    var_sum = var_sum + s_h.sum(axis=0)[None, :] ** 2 * m_uncert
    mean_sum = m_h.sum(axis=0)

    def avg_met(goal):  # probability that the horizon average reaches the goal
        return prob_at_least(goal * H, mean_sum, var_sum)

    q_clear, q_stretch, q_extra = avg_met(g_clear), avg_met(g_stretch), avg_met(g_extra)

    # ------------------------------------------------------ rep funnel stats
    rep_stats = _rep_funnel(p, code, reps, peer, in_base, drivers, n_look, lookback)
    rep_stats["season_factor"] = deals_season

    # ---------------------------------------------------------- leverage
    eff_tab, outcome = _driver_tables(drivers)
    effect_rev = np.zeros((R, M))
    deals_per_unit = np.zeros((R, M))
    sig = np.zeros(M, dtype=bool)
    neg = np.zeros(M, dtype=bool)
    known = np.zeros(M, dtype=bool)
    lead = np.zeros(M, dtype=bool)
    effects_used = None
    if eff_tab is not None:
        wr = rep_stats["win_rate"].to_numpy()
        ds = rep_stats["deal_size"].to_numpy()
        to_rev = _OUTCOME_TO_REVENUE[outcome](wr, ds)
        to_deals = to_rev / np.maximum(wr * ds, 1e-12)
        rep_eff = _rep_effect_matrix(drivers, reps, metrics)
        qrate = _quality_rates(p, code, R, metrics)
        follows = _follows_results(drivers)
        rows = []
        for j, mname in enumerate(metrics):  # loop over a handful of metrics
            src = mname if mname in eff_tab.index else FAMILIES.get(mname)
            if src is None or src not in eff_tab.index:
                continue
            e = eff_tab.loc[src]
            lo, hi = float(e.get("ci_low", np.nan)), float(e.get("ci_high", np.nan))
            known[j] = True
            sig[j] = bool(np.isfinite(lo) and lo > 0)
            lead[j] = src in follows
            neg[j] = bool(np.isfinite(hi) and hi < 0)
            if mname in eff_tab.index:  # the metric was in the driver model itself
                per_unit = rep_eff[:, j]
            elif src in metrics:  # a quality metric: per-rep effect of its raw activity
                per_unit = rep_eff[:, metrics.index(src)]
            else:
                per_unit = np.full(R, float(e["effect"]))
            per_unit = np.where(np.isfinite(per_unit), per_unit, float(e["effect"]))
            if src != mname:  # a quality metric credited with its activity's effect
                per_unit = per_unit / np.maximum(qrate[:, j], 1e-3)
            effect_rev[:, j] = np.where(sig[j], per_unit * to_rev, 0.0)
            deals_per_unit[:, j] = np.where(sig[j], per_unit * to_deals, 0.0)
            rows.append({
                "activity": mname, "effect": float(e["effect"]),
                "std_error": float(e.get("std_error", np.nan)),
                "ci_low": lo, "ci_high": hi, "significant": sig[j], "source": src,
                "deals_per_unit": float(np.mean(deals_per_unit[:, j])),
            })  # fmt: skip
        effects_used = pd.DataFrame(rows)
    room = np.maximum(best - baseline, 0.0)
    leverage = np.maximum(effect_rev, 0.0) * room

    # ---------------------------------------------------------- priorities
    family = np.array([FAMILIES.get(m, m) for m in metrics], dtype=object)
    eligible = (leverage > 0) & sig[None, :] & ~lead[None, :]
    order = np.argsort(-np.where(eligible, leverage, -1.0), axis=1, kind="stable")
    priority = np.zeros((R, M), dtype=np.int64)
    rank = np.zeros(R, dtype=np.int64)
    used = np.zeros((R, len(set(family))), dtype=bool)
    fam_codes = pd.Index(sorted(set(family))).get_indexer(family)
    for slot in range(M):  # loop over the few metric slots, vectorised over reps
        j = order[:, slot]
        ok = eligible[np.arange(R), j] & ~used[np.arange(R), fam_codes[j]] & (rank < max_priorities)
        rank = rank + ok
        priority[np.arange(R)[ok], j[ok]] = rank[ok]
        used[np.arange(R)[ok], fam_codes[j[ok]]] = True

    # --------------------------------------------------------------- flags
    flag_parts = []
    n_total_team = X_raw.sum(axis=0)
    for j, mname in enumerate(metrics):
        f = np.full(R, "", dtype=object)

        def add(mask, label, f=f):
            f[mask] = np.where(f[mask] == "", label, f[mask] + ";" + label)

        if eff_tab is None:
            add(np.ones(R, bool), "no_driver_model")
        elif known[j] and neg[j]:
            add(np.ones(R, bool), "negative_effect")
        elif not sig[j]:
            add(np.ones(R, bool), "not_a_driver")
        elif lead[j]:
            add(np.ones(R, bool), "follows_results")
        add(n_base == 0, "no_history")
        add((n_base > 0) & (n_base < min_hist), "short_history")
        add((raw_sums[:, j] == 0) & (n_base > 0), "all_zero_history")
        if n_total_team[j] < max(5, 0.5 * R):
            add(np.ones(R, bool), "rare_activity")
        add((room[:, j] <= 0) & sig[j], "no_room")
        if mname in q_cols or mname in FAMILIES:
            add(np.ones(R, bool), "quality_metric")
        flag_parts.append(f)
    flags = np.stack(flag_parts, axis=1)

    table = pd.DataFrame(
        {
            "rep": np.repeat(reps.to_numpy(), M),
            "team": np.repeat(peer, M),
            "activity": np.tile(np.asarray(metrics, dtype=object), R),
            "kind": np.tile(
                np.where(np.isin(metrics, [*q_cols, *FAMILIES]), "quality", "activity"), R
            ),
            "priority": priority.ravel(),
            "n_periods": np.repeat(n_look, M).astype(np.int64),
            "baseline": _clean(baseline).ravel(),
            "personal_best": _clean(best).ravel(),
            "goal_clear": _clean(g_clear).ravel(),
            "goal_stretch": _clean(g_stretch).ravel(),
            "goal_extraordinary": _clean(g_extra).ravel(),
            "p_clear": _clean(p_clear).ravel(),
            "p_stretch": _clean(p_stretch).ravel(),
            "p_extraordinary": _clean(p_extra).ravel(),
            "p_clear_avg": _clean(q_clear).ravel(),
            "p_stretch_avg": _clean(q_stretch).ravel(),
            "p_extraordinary_avg": _clean(q_extra).ravel(),
            "effect": _clean(effect_rev).ravel(),
            "leverage": _clean(leverage).ravel(),
            "flags": flags.ravel(),
        }
    )
    table["rep"] = table["rep"].astype(str)
    table["team"] = table["team"].astype(str)
    table["activity"] = table["activity"].astype(str)
    table["flags"] = table["flags"].astype(str)
    table["_order"] = np.where(table["priority"] > 0, table["priority"], 99)
    table["_m"] = np.tile(np.arange(M), R)
    table = (
        table.sort_values(["rep", "_order", "_m"], kind="mergesort")
        .drop(columns=["_order", "_m"])
        .reset_index(drop=True)
    )
    # the predictive moments travel with the plan (used by targets and the backtest)
    moments = pd.DataFrame(
        {
            "rep": np.repeat(reps.to_numpy(), M).astype(str),
            "activity": np.tile(np.asarray(metrics, dtype=object), R).astype(str),
            "mean": m_bar.ravel(),
            "var": v_bar.ravel(),
            "deals_per_unit": deals_per_unit.ravel(),
        }
    )
    plan = GoalPlan(
        table=table,
        rep_stats=rep_stats,
        freq=freq,
        as_of=as_of_p,
        horizon=H,
        tier_probabilities=tiers,
        outcome=outcome,
        effects=effects_used,
        excluded_reps=excluded,
        moments=moments,
    )
    return plan


def _seasonal_index(hist, cols, as_of, season_len, H, seasonal) -> tuple[pd.DataFrame, np.ndarray]:
    """Team seasonal factors: per past period (index: period) and for the H periods after ``as_of``.

    The factor of a period is the team's mean per active rep in that period
    divided by its mean over the year ending at ``as_of``.  A future period
    takes the factor of the same period one year earlier.  Without a full
    year of history (or with ``seasonal=False``) every factor is 1.
    """
    per = hist.groupby("period", sort=True)[cols].mean()
    ones_future = np.ones((H, len(cols)))
    if not seasonal or len(per) < season_len or H > season_len:
        return pd.DataFrame(1.0, index=per.index, columns=cols), ones_future
    year = per.iloc[-season_len:]
    level = year.mean(axis=0).to_numpy(float)
    fac = per.to_numpy(float) / np.where(level > 0, level, 1.0)[None, :]
    fac = np.where(level[None, :] > 0, np.clip(fac, *SEASON_CLIP), 1.0)
    fac[: len(per) - season_len] = 1.0  # only the last year is used (older periods: not needed)
    past = pd.DataFrame(fac, index=per.index, columns=cols)
    future = fac[len(per) - season_len : len(per) - season_len + H]
    return past, future


def _autocorrelation(X: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pooled within-rep autocorrelation of each metric as ``share * phi**k``.

    Lag-1 and lag-2 correlations of the deviations from each rep's mean give
    ``phi = r2 / r1`` and ``share = r1 / phi``: the persistent share of the
    variance and its decay per period (count noise does not persist).
    """
    M = X.shape[1]
    n = np.bincount(code, minlength=code.max() + 1).astype(float)
    mean = np.zeros((n.size, M))
    np.add.at(mean, code, X)
    dev = X - (mean / np.maximum(n, 1)[:, None])[code]
    var = (dev**2).sum(axis=0)
    r = []
    for lag in (1, 2):  # rows are sorted by rep then period, contiguous within a rep
        same = np.zeros(len(code), dtype=bool)
        same[lag:] = code[lag:] == code[:-lag]
        prod = np.zeros_like(dev)
        prod[lag:] = dev[lag:] * dev[:-lag]
        r.append(np.where(var > 0, prod[same].sum(axis=0) / np.where(var > 0, var, 1.0), 0.0))
    r1, r2 = np.clip(r[0], 0.0, 0.99), np.clip(r[1], 0.0, 0.99)
    phi = np.where(r1 > 1e-6, np.clip(r2 / np.maximum(r1, 1e-6), 0.0, 0.95), 0.0)
    share = np.where(phi > 0, np.clip(r1 / np.maximum(phi, 1e-6), 0.0, 1.0), r1)
    return share, phi


def _clean(a: np.ndarray) -> np.ndarray:
    """Replace NaN / inf by 0 (outputs promise finite numbers)."""
    return np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)


def _follows_results(drivers: Any) -> set[str]:
    """Activities the driver model's leads check flags as following results (reverse causality)."""
    leads = getattr(getattr(drivers, "diagnostics", None), "leads", None)
    if isinstance(leads, pd.DataFrame) and {"activity", "flagged"} <= set(leads.columns):
        return set(leads.loc[leads["flagged"].astype(bool), "activity"].astype(str))
    return set()


def _rep_effect_matrix(drivers: Any, reps: pd.Index, metrics: list[str]) -> np.ndarray:
    """Per-rep effects (R x M) from ``drivers.rep_effects``; NaN where not given."""
    out = np.full((len(reps), len(metrics)), np.nan)
    re = getattr(drivers, "rep_effects", None)
    if isinstance(re, pd.DataFrame) and {"rep", "activity", "effect"} <= set(re.columns):
        wide = re.pivot_table(index="rep", columns="activity", values="effect", aggfunc="mean")
        wide = wide.reindex(index=reps, columns=metrics)
        out = wide.to_numpy(dtype=float)
    eff = drivers.effects.drop_duplicates("activity").set_index("activity")["effect"]
    team = eff.reindex(metrics).to_numpy(dtype=float)
    return np.where(np.isfinite(out), out, team[None, :])


def _quality_rates(p: pd.DataFrame, code: np.ndarray, R: int, metrics: list[str]) -> np.ndarray:
    """Per-rep share of an activity that counts as quality (connect rate, show rate)."""
    out = np.ones((R, len(metrics)))
    for j, m in enumerate(metrics):
        src = FAMILIES.get(m)
        if src is None or src not in p.columns:
            continue
        num = np.bincount(code, weights=p[m].to_numpy(float), minlength=R)
        den = np.bincount(code, weights=p[src].to_numpy(float), minlength=R)
        team = num.sum() / max(den.sum(), 1.0)
        out[:, j] = (num + 5 * team) / (den + 5)  # a few pseudo-activities of the team rate
    return out


#: Beta prior strength (pseudo-deals) of the win-rate shrinkage toward the team.
WIN_RATE_PRIOR_DEALS = 10.0
#: Pseudo-deals of the team mean deal size in the deal-size shrinkage.
DEAL_SIZE_PRIOR_DEALS = 5.0
#: Spread of log deal size used when the panel cannot estimate it.
DEFAULT_DEAL_SIZE_SIGMA = 0.7


def _rep_funnel(p, code, reps, peer, in_base, drivers, n_look, lookback) -> pd.DataFrame:
    """Per-rep deal rate, win rate and deal size over the look-back, shrunk toward the team."""
    R = len(reps)
    f = lambda col: np.bincount(code, weights=p[col].to_numpy(float), minlength=R)  # noqa: E731
    created, won, lost, rev = f("deals_created"), f("deals_won"), f("deals_lost"), f("won_revenue")
    n = n_look.astype(float)
    team_rate = created.sum() / max(n.sum(), 1.0)
    # deals created per period: gamma posterior with a prior worth 4 periods of the team rate
    prior_periods = 4.0
    shape = created + prior_periods * team_rate
    rate_periods = n + prior_periods
    closed = won + lost
    team_wr = won.sum() / closed.sum() if closed.sum() > 0 else 0.0
    a = won + WIN_RATE_PRIOR_DEALS * team_wr
    b = lost + WIN_RATE_PRIOR_DEALS * (1 - team_wr)
    team_size = rev.sum() / won.sum() if won.sum() > 0 else 0.0
    size = (rev + DEAL_SIZE_PRIOR_DEALS * team_size) / (won + DEAL_SIZE_PRIOR_DEALS)
    # spread of log deal size from periods with exactly one deal created (its amount is exact)
    one = (p["deals_created"].to_numpy() == 1) & (p["pipeline_created"].to_numpy() > 0)
    sigma = DEFAULT_DEAL_SIZE_SIGMA
    if one.sum() >= 20:
        la = np.log(p["pipeline_created"].to_numpy()[one])
        c1 = code[one]
        mu_rep = np.bincount(c1, weights=la, minlength=R) / np.maximum(
            np.bincount(c1, minlength=R), 1
        )
        resid = la - mu_rep[c1]
        dof = max(one.sum() - len(np.unique(c1)), 1)
        sigma = float(np.sqrt((resid**2).sum() / dof))
    flags = np.full(R, "", dtype=object)
    flags[won == 0] = "no_won_deals"
    if won.sum() == 0:
        flags[:] = "no_won_deals_in_team"
    funnel = getattr(drivers, "funnel", None)
    wr = a / np.maximum(a + b, 1e-12)
    if isinstance(funnel, pd.DataFrame) and {"rep", "win_rate", "deal_size"} <= set(funnel.columns):
        fu = funnel.drop_duplicates("rep").set_index("rep").reindex(reps)
        wr = np.where(
            np.isfinite(fu["win_rate"].to_numpy(float)), fu["win_rate"].to_numpy(float), wr
        )
        fs = fu["deal_size"].to_numpy(float)
        size = np.where(np.isfinite(fs) & (fs > 0), fs, size)
        k = a + b
        a, b = wr * k, (1 - wr) * k
    out = pd.DataFrame(
        {
            "rep": reps.to_numpy().astype(str),
            "team": np.asarray(peer).astype(str),
            "n_periods": n_look.astype(np.int64),
            "deals_rate": shape / rate_periods,
            "deals_rate_shape": shape,
            "deals_rate_periods": rate_periods,
            "win_rate": _clean(wr),
            "win_alpha": _clean(a),
            "win_beta": _clean(b),
            "deal_size": _clean(size),
            "deal_size_n": won + DEAL_SIZE_PRIOR_DEALS,
            "deal_size_sigma": sigma,
            "flags": flags.astype(str),
        }
    )
    for col in ("manager", "region"):
        if col in p.columns:
            out.insert(
                2,
                col,
                p.groupby("rep", sort=True)[col].first().reindex(reps).astype(str).to_numpy(),
            )
    out = out[
        [c for c in ["rep", "team", "manager", "region"] if c in out.columns]
        + [c for c in out.columns if c not in ("rep", "team", "manager", "region")]
    ]
    return out
