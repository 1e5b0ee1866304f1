"""Activity goals for the goal period in three tiers, each with honest odds.

A goal is a **rate to hold over the goal period** (default the coming quarter): ``goal_<tier>``
per period and ``goal_<tier>_total`` for the whole period, a whole count.  Its odds
``p_<tier>`` are the probability that the rep's total over the period (equivalently their
average per period) reaches it, from the rep's own predictive distribution:

* **clear** - the total the rep very likely reaches (design odds 85 %, so 80-90 % stated):
  for a steady rep just under their recent level.  A clear goal under
  :data:`~salesgoals.goals._explain.CLEAR_FLOOR_RATIO` of the recent level carries its reason
  in ``flags`` (``falling_trend``, ``weak_season``, ``short_history``, ``variable_counts``);
* **stretch** - the next level up: at least the rep's **personal best**, the best *sustained*
  level (best ``best_window``-period average of the last year, seasonally adjusted), with its
  odds stated (usually 5-30 %: a best run of a streaky year is hard to repeat).  A rep whose
  activity stopped or collapsed is flagged ``inactive`` / ``declining`` and gets their recent
  reach instead of an old best;
* **extraordinary** - significantly beyond (design odds 10 %, at least 10 % above stretch).

Weekly landmarks (:attr:`GoalPlan.landmarks`) say what the rep must have done by each period
of the horizon to stay on pace; ``why`` says each goal in plain words.

The probability model
---------------------
A rep's count in a future period is negative binomial with the rep's trailing mean shrunk
toward the peer mean by empirical Bayes, the rep's over-dispersion shrunk toward the team's,
the team's seasonal pattern and the uncertainty of the level.  The period total adds the
persistence of busy and quiet streaks (pooled autocorrelation, corrected for the part each rep's
own mean absorbs).  Streaks also make one quarter's variance and one quarter's mean look steadier
than they are, so the rep's variance is corrected for them, the level is shrunk toward the peers
by the uncertainty of the level actually used (mostly the year's, not one quarter's) and a change
of level is judged against an ordinary rep of the peer group.  Without these three the
extraordinary goals were reached 3 points more often than stated (10.2 % against 7.2 %) and the
stretch goals 1.7 points; with them 1.3 and 1.1 points (project simulator, seeds 0-39,
``tests/reference/goal_odds_seed_rates.py``).  ``backtest_goals`` (in
:mod:`salesgoals.goals.backtest`) checks on held-out goal periods that stated odds match
realised shares.

The function is split along its steps into :mod:`._history` (window, season, levels),
:mod:`._tiers` (shrinkage, predictive sums, tiers, landmarks), :mod:`._priorities` (driver
verdicts, leverage), :mod:`._explain` (flags, why) and :mod:`._funnel` (deal funnel per rep).

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=1)
>>> plan = sg.personal_best_goals(sim.panel())
>>> bool(plan.table[["goal_clear", "goal_stretch", "goal_extraordinary"]].ge(0).all().all())
True
>>> bool((plan.table["goal_clear_total"] < plan.table["goal_stretch_total"]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from salesgoals._summary import Summary
from salesgoals._typing import TIERS
from salesgoals.errors import DataQualityError, SchemaError
from salesgoals.goals import _explain as ex
from salesgoals.goals._funnel import quality_rates, rep_funnel
from salesgoals.goals._history import autocorrelation, history_window, rep_levels, season
from salesgoals.goals._odds import level_with_odds, nb_params, prob_at_least
from salesgoals.goals._priorities import FAMILIES, driver_verdicts, drivers_note, rank_priorities
from salesgoals.goals._tiers import (
    EXTRAORDINARY_STEP,
    TIER_PROBABILITIES,
    landmarks,
    level_variance_factor,
    peer_dispersion,
    predictive,
    reversion_weight,
    shift_variance_factor,
    shrink_to_peers,
    streak_corrected_variance,
    tier_odds,
    tier_totals,
    window_covariances,
)
from salesgoals.panel import activity_columns, quality_columns
from salesgoals.plotting import plot_goal_tiers

__all__ = [
    "personal_best_goals", "GoalPlan", "TIER_PROBABILITIES", "prob_at_least",
    "level_with_odds", "horizon_periods", "EXTRAORDINARY_STEP", "FAMILIES", "nb_params",
]  # fmt: skip

#: Window lengths by panel frequency: (baseline window, personal-best window, look-back,
#: recent window of the ``inactive`` check), in periods.  Weeks: the last quarter, the best
#: 13-week run of the last year, the last 4 weeks.
WINDOWS: dict[str, tuple[int, int, int, int]] = {"W": (13, 13, 52, 4), "M": (3, 3, 12, 1), "Q": (1, 1, 4, 1)}

#: Periods in one goal horizon, by panel frequency.
HORIZON_PERIODS: dict[str, dict[str, int]] = {
    "W": {"W": 1, "M": 4, "Q": 13, "Y": 52},
    "M": {"M": 1, "Q": 3, "Y": 12},
    "Q": {"Q": 1, "Y": 4},
}

#: A rep with fewer baseline periods than this is flagged ``short_history``.
MIN_HISTORY: dict[str, int] = {"W": 8, "M": 3, "Q": 1}

#: A personal best the rep reaches with lower odds than this over the goal period is out of
#: reach: stretch becomes the rep's recent reach and the row is flagged ``best_out_of_reach``.
BEST_REACH_MIN = 0.02

#: A recent level this many standard errors (streaks included) away from the rest of the year is
#: a change of level (a new hire ramping up, a rep who changed territory): the forecast keeps it
#: instead of expecting reversion toward the year level.
LEVEL_SHIFT_Z = 3.0

#: Periods in a year, by frequency: the seasonal index compares each period
#: with the same period a year earlier.
SEASON_LENGTH: dict[str, int] = {"W": 52, "M": 12, "Q": 4}


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




# ------------------------------------------------------------------- result
@dataclass
class GoalPlan:
    """Goals for the goal period, per rep and activity (result of :func:`personal_best_goals`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rep x activity; columns documented in :func:`personal_best_goals`.
    rep_stats : pandas.DataFrame
        One row per rep: ``rep, team, manager, region, n_periods, deals_rate,
        deals_rate_shape, deals_rate_periods, win_rate, win_alpha, win_beta,
        deal_size, deal_size_n, deal_size_sigma, flags, season_factor`` - the funnel used by
        :func:`salesgoals.project_targets`.
    freq : str
        Panel frequency.
    as_of : pandas.Period
        Last period of history used; goals apply to the periods after it.
    horizon : int
        Periods in the goal period.
    tier_probabilities : dict
        Design odds of the tiers (for the period total).
    outcome : str or None
        Outcome of the driver model used for priorities.
    effects : pandas.DataFrame or None
        The driver effects used: ``activity, effect, std_error, ci_low, ci_high, p_value,
        significant, ambiguous, source, deals_per_unit, revenue_per_unit`` (``significant`` = supported as a
        driver; ``ambiguous``: the driver model flags it ``follows_results`` or ``same_week_only``, or the
        leads check flags it, so it is never a focus; ``p_value`` is the adjusted one when the driver model
        gives it).
    excluded_reps : list of str
        Reps in the panel who are no longer active at ``as_of`` (no goals).
    moments : pandas.DataFrame
        ``rep, activity, mean, var, mean_total, var_total, deals_per_unit``: mean and variance
        of the rep's count per period (averaged over the horizon) and of the period total (the
        predictive distribution behind ``p_*``), and the extra deals per extra unit.
    landmarks : pandas.DataFrame
        One row per rep x activity x tier x period: ``rep, activity, tier, week, period_start,
        period_end, cumulative`` - what the rep must have done by the end of each period to be
        on pace for the goal total (paced by the season; the last equals the total).
    drivers_note : str
        One sentence on which activities the data supports as drivers.
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
    landmarks: pd.DataFrame | None = None
    drivers_note: str = ""

    def __repr__(self) -> str:
        return (
            f"GoalPlan(reps={self.table['rep'].nunique()}, "
            f"activities={self.table['activity'].nunique()}, as_of={self.as_of}, "
            f"horizon={self.horizon} x {self.freq}, drivers={self.outcome or 'none'})"
        )

    def focus(self) -> pd.DataFrame:
        """Only the priority rows (``priority`` 1-3), sorted by rep then priority."""
        t = self.table
        return t[t["priority"] > 0].sort_values(["rep", "priority"], kind="mergesort").reset_index(drop=True)

    def summary(self) -> Summary:
        """Overview: reps, tier odds for the period, the focus activities and flags."""
        t = self.table
        focus = self.focus()
        n_focus = focus.groupby("rep").size().reindex(t["rep"].unique(), fill_value=0)
        lines = [
            f"{t['rep'].nunique()} reps; goals are rates to hold over the {self.horizon} {self.freq} periods "
            f"after {self.as_of}.",
            "Mean stated odds that the period total reaches the goal: "
            + ", ".join(f"{k} {t[f'p_{k}'].mean():.0%}" for k in TIERS)
            + " (design: " + ", ".join(f"{k} {v:.0%}" for k, v in self.tier_probabilities.items()) + ").",
            self.drivers_note,
            f"Focus activities per rep: {n_focus.min()}-{n_focus.max()} (median {n_focus.median():.0f}).",
        ]
        if self.excluded_reps:
            lines.append(
                f"No goals for {len(self.excluded_reps)} rep(s) no longer active: {', '.join(self.excluded_reps[:5])}."
            )
        tables = []
        if len(focus):
            top = focus.groupby("activity", sort=False).agg(
                reps=("rep", "size"), mean_priority=("priority", "mean"), leverage=("leverage", "sum")
            ).reset_index().sort_values(["reps", "activity"], ascending=[False, True], kind="mergesort")
            tables.append(("Focus activities", top.round(2)))
        flags = t["flags"].str.split(";").explode()
        flags = flags[flags.astype(bool)]
        if len(flags):
            counts = flags.value_counts().rename_axis("flag").reset_index()
            tables.append(("Flags (rows)", counts.sort_values(["count", "flag"], ascending=[False, True])))
        return Summary("Goals for the goal period", lines, tables)

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
    currency: str = "",
) -> GoalPlan:
    """Set clear / stretch / extraordinary goals for the goal period from each rep's own history.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`salesgoals.build_panel`.
    drivers : DriverResult, optional
        From :func:`salesgoals.fit_drivers`.  Gives the effect of each activity, which ranks the
        priorities and flags activities that drive nothing.  Without it every row gets
        ``priority`` 0 and the flag ``no_driver_model``.
    as_of : str or Period, optional
        Set the goals as they would have been set at the end of this period (history after it is
        ignored).  Default: the last period of the panel.
    horizon : {"W", "M", "Q", "Y"} or int, default="Q"
        The goal period (a quarter: 13 weekly periods).
    activities : list of str, optional
        Metrics to set goals on; default every activity column and quality metric of the panel.
    tier_probabilities : dict, optional
        Design odds for the period total, ``{"clear": 0.85, "stretch": 0.35,
        "extraordinary": 0.10}`` (:data:`TIER_PROBABILITIES`).  ``stretch`` only applies to reps
        flagged ``declining`` / ``inactive``; everyone else's stretch is their personal best.
    baseline_window, best_window, lookback : int, optional
        Periods in the recent level, in the personal-best run and in the look-back; defaults by
        frequency in :data:`WINDOWS` (weeks: 13, 13, 52).
    max_priorities : int, default=3
        At most this many focus activities per rep.
    peer_col : str, default="team"
        Panel column defining peers for shrinkage (all reps if absent).
    seasonal : bool, default=True
        Adjust levels for the team's seasonal pattern (needs a year of history).
    currency : str, default=""
        Currency symbol used in ``why`` (for example ``"$"``).

    Returns
    -------
    GoalPlan
        ``.table`` has one row per rep x activity, sorted by rep, then priority (focus activities
        first), then activity, with columns:

        * ``rep`` : str; ``team`` : str — the peer group (``"(all)"`` without a roster).
        * ``activity`` : str — activity type or quality metric (``call_connected``, ``meeting_held``).
        * ``kind`` : str — ``"activity"`` or ``"quality"``.
        * ``priority`` : int — 1 = the rep's first focus activity; 0 = not a focus.
        * ``n_periods`` : int — periods of history in the look-back.
        * ``recent`` : float — plain mean per period over the last ``baseline_window`` periods.
        * ``baseline`` : float — expected level per period over the goal period (recent level
          shrunk toward peers, at the goal period's season).
        * ``personal_best`` : float — best sustained level: best ``best_window``-period mean of the
          look-back, seasonally adjusted and expressed at the goal period's season.
        * ``personal_best_period`` : str — when it was sustained (``"Mar-May 2025"``).
        * ``goal_clear``, ``goal_stretch``, ``goal_extraordinary`` : float — the rate per period to
          hold over the goal period (``goal_<tier>_total`` / periods).
        * ``goal_clear_total``, ``goal_stretch_total``, ``goal_extraordinary_total`` : int — whole
          count over the goal period.
        * ``p_clear``, ``p_stretch``, ``p_extraordinary`` : float — probability that the period
          total reaches ``goal_<tier>_total`` (the average reaches the rate).
        * ``p_clear_week``, ``p_stretch_week``, ``p_extraordinary_week`` : float — probability that
          a single period's count reaches the rate (averaged over the periods).
        * ``effect`` : float — revenue one more unit per period brings (0 without a driver model or
          for activities not supported as drivers).
        * ``leverage`` : float — ``effect x (goal_stretch - baseline)``: revenue per period from
          reaching stretch; ranks the priorities.
        * ``flags`` : str — ``;``-separated: ``inactive`` (nothing logged in the last few periods
          where several were expected), ``declining`` (recent level under 0.5x the best sustained and
          0.7x the rest of the year), ``best_out_of_reach`` (under 2 % odds of the personal best):
          for these three, stretch is the recent reach (``tier_probabilities["stretch"]`` odds)
          instead of the personal best; ``clear_below_recent`` with its reason ``falling_trend``,
          ``weak_season``, ``hot_streak`` (recent weeks above the rep's year level), ``short_history`` or
          ``variable_counts``; ``not_a_driver``,
          ``negative_effect``, ``follows_results``, ``same_week_only`` (no priority), ``no_driver_model``,
          ``no_history``, ``all_zero_history``, ``rare_activity``, ``no_room``, ``quality_metric``.
        * ``why`` : str — the goal explained in plain words.

    Raises
    ------
    SchemaError
        The panel lacks the rep, period or outcome columns, or ``activities`` names unknown columns.
    InsufficientDataError
        No rep is active at ``as_of``.

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
    cfg = _settings(panel, freq, horizon, activities, tier_probabilities, baseline_window, best_window, lookback)
    cfg.update(max_priorities=int(max_priorities), currency=str(currency))
    h = history_window(panel, as_of, lookback=cfg["lookback"], baseline_window=cfg["baseline_window"],
                       peer_col=peer_col)  # fmt: skip
    row_s, s_h, deals_season = season(panel, h, cfg["metrics"], season_len=SEASON_LENGTH.get(freq, 52),
                                      H=cfg["H"], seasonal=seasonal)  # fmt: skip
    X_raw = h.p[cfg["metrics"]].to_numpy(dtype=float)
    lv = rep_levels(h, X_raw, row_s, best_window=cfg["best_window"], recent_window=cfg["recent_window"])
    est = _estimate(h, lv, row_s, s_h, cfg)
    goals = _set_goals(est, lv, cfg)
    rep_stats = rep_funnel(h.p, h.code, h.reps, h.peer, h.in_base, drivers, h.n_look, cfg["lookback"])
    rep_stats["season_factor"] = deals_season
    v = driver_verdicts(drivers, h.reps, cfg["metrics"], rep_stats, quality_rates(h.p, h.code, len(h.reps),
                                                                                   cfg["metrics"]))  # fmt: skip
    table, moments = _assemble(h, lv, est, goals, v, cfg, X_raw)
    periods = [h.as_of + k for k in range(1, cfg["H"] + 1)]
    return GoalPlan(
        table=table, rep_stats=rep_stats, freq=freq, as_of=h.as_of, horizon=cfg["H"], tier_probabilities=cfg["tiers"],
        outcome=v["outcome"], effects=v["effects"], excluded_reps=h.excluded, moments=moments,
        landmarks=landmarks({k: goals[k] for k in TIERS}, s_h, h.reps, cfg["metrics"], periods),
        drivers_note=drivers_note(v["effects"], ex.activity_label),
    )  # fmt: skip


def _settings(panel, freq, horizon, activities, tier_probabilities, baseline_window, best_window, lookback) -> dict:
    """Validate the options; windows, horizon, design odds and metrics."""
    d_base, d_best, d_look, d_recent = WINDOWS.get(freq, WINDOWS["W"])
    baseline_window = int(baseline_window or d_base)
    best_window = int(best_window or d_best)
    tiers = dict(TIER_PROBABILITIES)
    if tier_probabilities:
        unknown = set(tier_probabilities) - set(TIERS)
        if unknown:
            raise ValueError(f"personal_best_goals: tier_probabilities keys must be {TIERS}; got {sorted(unknown)}.")
        tiers.update({k: float(v) for k, v in tier_probabilities.items()})
    if not 0 < tiers["extraordinary"] < tiers["stretch"] < tiers["clear"] < 1:
        raise ValueError(f"personal_best_goals: need 0 < extraordinary < stretch < clear < 1 odds; got {tiers}.")
    act_cols, q_cols = activity_columns(panel), quality_columns(panel)
    metrics = list(activities) if activities is not None else [*act_cols, *q_cols]
    unknown = [m for m in metrics if m not in panel.columns]
    if unknown:
        raise SchemaError(
            f"personal_best_goals: activities {', '.join(map(repr, unknown))} are not panel columns; "
            f"available: {', '.join([*act_cols, *q_cols])}."
        )
    if not metrics:
        raise SchemaError("personal_best_goals: the panel has no activity columns to set goals on.")
    return {
        "freq": freq, "H": horizon_periods(horizon, freq), "tiers": tiers, "metrics": metrics,
        "quality": [m for m in metrics if m in q_cols or m in FAMILIES], "baseline_window": baseline_window,
        "best_window": best_window, "lookback": int(max(lookback or d_look, baseline_window, best_window)),
        "recent_window": d_recent, "min_hist": MIN_HISTORY.get(freq, 8),
    }  # fmt: skip


def _estimate(h, lv, row_s, s_h, cfg) -> dict:
    """Shrunk levels, the activity state (inactive / declining) and the predictive distribution."""
    share, phi = autocorrelation(lv["X"], h.code)
    lv = {**lv, "var_raw": streak_corrected_variance(lv["var_raw"], h.n_base, share, phi)}
    cov = window_covariances(share, phi, h.n_look, h.n_base)
    c = reversion_weight(share, phi, cfg["baseline_window"], cfg["H"])[None, :]
    c = np.where(_level_shift(h, lv, cov, cfg), 1.0, c)
    year = (h.n_look >= 2 * cfg["baseline_window"])[:, None]  # a year level distinct from the recent one
    level = np.where(year, lv["overall"] + c * (lv["mean_raw"] - lv["overall"]), lv["mean_raw"])
    mean_s, disp, m_uncert = shrink_to_peers(level, lv["var_raw"], h.n_base, h.peer, min_hist=cfg["min_hist"],
                                             level_factor=level_variance_factor(cov, c, year))  # fmt: skip
    s_bar = s_h.mean(axis=0)
    R = len(h.reps)
    s_base = np.zeros((R, row_s.shape[1]))
    np.add.at(s_base, h.code[h.in_base], row_s[h.in_base])
    s_rel = s_bar[None, :] / np.maximum(s_base / np.maximum(h.n_base, 1)[:, None], 1e-9)
    state = ex.activity_state(lv, s_rel, h.n_base, cfg["min_hist"], cfg["recent_window"])
    mean_s = np.where(state["inactive"], 0.0, mean_s)  # activity stopped: the recent weeks, not the quarter
    best = np.where((h.n_base >= cfg["min_hist"])[:, None], lv["best"], np.maximum(lv["best"], mean_s))
    pred = predictive(mean_s, disp, m_uncert, s_h, share, phi)
    return {"pred": pred, "state": state, "baseline": mean_s * s_bar[None, :], "best_h": best * s_bar[None, :]}


def _level_shift(h, lv, cov, cfg) -> np.ndarray:
    """Rep-activities whose recent level differs from the older look-back by more than streaks explain.

    A change larger than ``LEVEL_SHIFT_Z`` standard errors (a new hire ramping up, a rep who
    changed territory) is the rep's new level: the forecast keeps it instead of expecting
    reversion.  The standard error is that of an ordinary rep of the peer group at the pooled
    level (:func:`~salesgoals.goals._tiers.peer_dispersion`, streaks included): the rep's own
    quarter variance rests on a handful of effective periods, and testing against it flagged
    about one cold quarter in twenty as a change of level, whose recovery the odds then missed.
    """
    n_old = np.maximum(h.n_look - h.n_base, 0)[:, None]
    n_new = np.maximum(h.n_base, 1)[:, None]
    finite = np.isfinite(lv["before"])
    before = np.where(finite, lv["before"], lv["mean_raw"])
    pooled = np.where(finite, (n_new * lv["mean_raw"] + n_old * before) / np.maximum(n_new + n_old, 1), lv["mean_raw"])
    disp = peer_dispersion(pooled, lv["var_raw"], h.n_base, h.peer, min_hist=cfg["min_hist"])
    se = np.sqrt(np.maximum(pooled + disp * pooled**2, 1e-12) * shift_variance_factor(cov))
    return finite & (np.abs(lv["mean_raw"] - before) > LEVEL_SHIFT_Z * np.maximum(se, 1e-9))


def _set_goals(est, lv, cfg) -> dict:
    """Tier totals and rates, their odds, and the reasons for a clear goal under the recent level."""
    H, state, pred = cfg["H"], est["state"], est["pred"]
    p_best = prob_at_least(np.ceil(est["best_h"] * H - 1e-9), pred["mean_sum"], pred["var_sum"])
    state["best_out_of_reach"] = (p_best < BEST_REACH_MIN) & ~state["inactive"] & ~state["declining"]
    held_back = state["inactive"] | state["declining"] | state["best_out_of_reach"]
    totals = tier_totals(est["pred"], est["best_h"], held_back, cfg["tiers"], H)
    goals = {**totals, **tier_odds(totals, est["pred"], H)}
    low = (totals["clear"] / H < ex.CLEAR_FLOOR_RATIO * lv["recent"]) & (lv["recent"] > 0) & ~held_back
    known = state["falling_trend"] | state["weak_season"] | state["short_history"] | state["hot_streak"]
    state.update(
        clear_below_recent=low, low_falling=low & state["falling_trend"], low_weak=low & state["weak_season"],
        low_hot=low & state["hot_streak"], variable_counts=low & ~known, held_back=held_back,
    )  # fmt: skip
    return goals


def _flag_matrix(h, lv, est, v, cfg, X_raw, room):
    """Every rep x activity's flags, in a fixed order."""
    R, M = len(h.reps), len(cfg["metrics"])
    st = est["state"]
    no_model = v["outcome"] is None
    team_total = X_raw.sum(axis=0)
    raw_recent = lv["recent"] * np.maximum(h.n_base, 1)[:, None]
    parts = [
        (st["inactive"], "inactive"), (st["declining"], "declining"), (st["best_out_of_reach"], "best_out_of_reach"),
        (st["clear_below_recent"], "clear_below_recent"), (st["low_falling"], "falling_trend"),
        (st["low_weak"], "weak_season"), (st["low_hot"], "hot_streak"), (st["variable_counts"], "variable_counts"),
        (np.full((R, M), no_model), "no_driver_model"),
        (~no_model & v["known"][None, :] & v["neg"][None, :], "negative_effect"),
        (~no_model & ~v["neg"][None, :] & ~v["sig"][None, :], "not_a_driver"),
        (~no_model & v["known"][None, :] & v["lead"][None, :], "follows_results"),
        (~no_model & v["known"][None, :] & v["same_week"][None, :], "same_week_only"),
        ((h.n_base == 0)[:, None], "no_history"),
        (((h.n_base > 0) & (h.n_base < cfg["min_hist"]))[:, None], "short_history"),
        ((raw_recent == 0) & (h.n_base > 0)[:, None], "all_zero_history"),
        ((team_total < max(5, 0.5 * R))[None, :], "rare_activity"),
        ((room <= 0) & v["sig"][None, :], "no_room"),
        (np.isin(cfg["metrics"], cfg["quality"])[None, :], "quality_metric"),
    ]  # fmt: skip
    return ex.row_flags(parts, (R, M))


_WHY_NOTES = [
    ("inactive", "inactive: none logged in the last few weeks, so the goals restart from zero - ask what changed"),
    ("declining", "declining: well under the best sustained level, so stretch is the recent reach, not the old best"),
    ("best_out_of_reach", "the best sustained level is out of reach this period (under 2% odds), so stretch is the "
     "recent reach"),
    ("low_falling", "the clear goal is under 0.8x the recent level because the level has been falling"),
    ("low_weak", "the clear goal is under 0.8x the recent level because the coming weeks are a quiet season"),
    ("low_hot", "the clear goal is under 0.8x the recent level because the last weeks ran above the rep's own year "
     "level and part of a hot streak usually fades"),
    ("variable_counts", "the clear goal is under 0.8x the recent level because the counts vary a lot week to week"),
    ("not_a_driver", "not supported as a driver on this data, so not a focus"),
    ("follows_results", "follows results rather than driving them, so not a focus"),
    ("same_week_only", "its link to results shows only within the same week (it may be logged because of a deal), "
     "so not a focus"),
]  # fmt: skip


def _assemble(h, lv, est, goals, v, cfg, X_raw):
    """The goal table (sorted, focus first) and the predictive moments."""
    R, M, H, metrics = len(h.reps), len(cfg["metrics"]), cfg["H"], cfg["metrics"]
    room = np.maximum(goals["stretch"] / H - est["baseline"], 0.0)
    leverage = np.maximum(v["effect_rev"], 0.0) * room
    eligible = (leverage > 0) & v["sig"][None, :] & ~v["lead"][None, :] & ~v["same_week"][None, :]
    priority = rank_priorities(leverage, eligible, metrics, cfg["max_priorities"])
    flags = _flag_matrix(h, lv, est, v, cfg, X_raw, room)
    masks = {**est["state"], "not_a_driver": np.char.find(flags.astype(str), "not_a_driver") >= 0,
             "follows_results": np.char.find(flags.astype(str), "follows_results") >= 0,
             "same_week_only": np.char.find(flags.astype(str), "same_week_only") >= 0}  # fmt: skip
    why = ex.why_text({
        "recent": lv["recent"], "best_h": est["best_h"], "effect_rev": v["effect_rev"], "freq": cfg["freq"],
        "as_of": h.as_of, "best_end": lv["best_end"], "best_window": cfg["best_window"], "metrics": metrics,
        "baseline_window": cfg["baseline_window"], "currency": cfg["currency"], "notes": _WHY_NOTES,
        "masks": masks, "clear_rate": goals["clear"] / H, "clear_total": goals["clear"], "p_clear": goals["p_clear"],
    })  # fmt: skip
    span = ex.month_span(h.as_of, lv["best_end"], cfg["best_window"]) if R else np.empty((0, M), dtype=object)
    rep_col, act_col = np.repeat(h.reps.to_numpy(), M).astype(str), np.tile(np.asarray(metrics, dtype=object), R)
    cols = {
        "rep": rep_col, "team": np.repeat(h.peer, M).astype(str), "activity": act_col.astype(str),
        "kind": np.tile(np.where(np.isin(metrics, cfg["quality"]), "quality", "activity"), R),
        "priority": priority.ravel(), "n_periods": np.repeat(h.n_look, M).astype(np.int64),
        "recent": lv["recent"], "baseline": est["baseline"], "personal_best": est["best_h"],
        "personal_best_period": span.ravel().astype(str),
    }  # fmt: skip
    cols.update({f"goal_{t}": goals[t] / H for t in TIERS})
    cols.update({f"goal_{t}_total": goals[t].astype(np.int64) for t in TIERS})
    cols.update({f"p_{t}": goals[f"p_{t}"] for t in TIERS})
    cols.update({f"p_{t}_week": goals[f"p_{t}_week"] for t in TIERS})
    cols.update(effect=v["effect_rev"], leverage=leverage, flags=flags.astype(str), why=why.astype(str))
    table = pd.DataFrame({k: (_clean(a).ravel() if np.asarray(a).dtype.kind == "f" else np.asarray(a).ravel())
                          for k, a in cols.items()})  # fmt: skip
    table["_order"] = np.where(table["priority"] > 0, table["priority"], 99)
    table["_m"] = np.tile(np.arange(M), R)
    table = table.sort_values(["rep", "_order", "_m"], kind="mergesort").drop(columns=["_order", "_m"])
    pred = est["pred"]
    moments = pd.DataFrame({
        "rep": rep_col, "activity": act_col.astype(str), "mean": pred["m_h"].mean(axis=0).ravel(),
        "var": pred["v_h"].mean(axis=0).ravel(), "mean_total": pred["mean_sum"].ravel(),
        "var_total": pred["var_sum"].ravel(), "deals_per_unit": v["deals_per_unit"].ravel(),
    })  # fmt: skip
    return table.reset_index(drop=True), moments


def _clean(a: np.ndarray) -> np.ndarray:
    """Replace NaN / inf by 0 (outputs promise finite numbers)."""
    return np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
