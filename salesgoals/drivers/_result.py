"""Result objects of the driver model: :class:`DriverResult` and :class:`DriverDiagnostics`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from salesgoals._deprecate import renamed_attribute
from salesgoals._summary import Summary, fmt_float
from salesgoals.drivers._estimator import _lag_matrix, _prepare
from salesgoals.drivers._funnel import conversion
from salesgoals.errors import SchemaError
from salesgoals.plotting import plot_drivers

__all__ = ["DriverDiagnostics", "DriverResult"]


@dataclass
class DriverDiagnostics:
    """Honesty checks of a driver fit.

    Attributes
    ----------
    lag_selection : pandas.DataFrame
        ``n_lags, n_params, rss, aic, bic, cv_mse, cv_excess_se, cv_time_mse, cv_time_excess_se, tail_f, tail_p,
        tail_share, tail_share_upper, tail_lead, cv_within_se, cv_time_within_se, tail_detected, tail_bounded,
        chosen``: the criteria of every candidate lag length (``cv_mse``: out-of-sample error over 10 folds of
        whole reps; ``cv_time_mse``: forward out-of-sample error, the last 6 of 10 blocks of periods each
        predicted from the earlier ones; ``*_excess_se``: standard error of the excess over the best, paired by
        fold or block; ``tail_f``, ``tail_p``: the rep-clustered F test that the effects summed over the later
        lags are all zero, in the model with every lag; ``tail_share``: the share of the leading activity
        ``tail_lead``'s summed effect that the model with every lag puts beyond this lag length, signed, and
        ``tail_share_upper`` the upper end of its 95% interval; the reasons behind the choice:
        ``cv_within_se`` / ``cv_time_within_se``, the CV error is within one s.e. of the best,
        ``tail_detected``, ``tail_p`` < 20%, and ``tail_bounded``, ``tail_share_upper`` <= 50%), all on the
        same rows; empty when ``lags`` was fixed.  When deal links gave the lag length, one row per candidate
        with ``delay_share`` (share of linked creations that many periods after their first sourcing activity;
        the last row also holds the later ones) and ``delay_cum_share``, the criteria left empty.
    placebo : pandas.DataFrame
        ``activity, placebo_of, effect, std_error, ci_low, ci_high, p_value,
        passed``: a copy of the activity with its timing shuffled within each
        rep, added to the model.  A sound design finds no effect
        (``passed``: the Bonferroni-corrected interval covers zero).
    leads : pandas.DataFrame
        ``activity, lead_effect, std_error, p_value, flagged``: next period's
        activity added to the model.  A clear lead effect (``flagged``) means
        activity *responds* to results (reverse causality) and the activity's
        effect is overstated.
    pooled : pandas.DataFrame
        ``activity, pooled_effect, within_effect, difference``: the pooled
        regression (same lags and regressors, no fixed effects) against the
        within-rep answer, per logged activity on the estimated outcome.
    holdout : pandas.DataFrame
        ``model, rmse, mae, n_obs``: out-of-sample fit on the last
        ``holdout_share`` of periods for the model and the naive baseline
        (each rep's average outcome), plus ``skill`` in the ``attrs``.
    checks : pandas.DataFrame
        ``check, value, threshold, ok, message``: data-support checks (reps,
        periods, concentration, collinearity).
    warnings : list of str
        Every warning raised during the fit, in plain language.
    notes : list of str
        How the answer was computed where it departs from the default (bootstrap, lowered lags).
    event_time : pandas.DataFrame
        Only when the activity log and deals were given to the fit:
        ``activity, day, per_deal, baseline, excess``: mean count of each
        activity on each day from -14 to +14 around a deal creation of the
        same rep, against the same reps' average day (see
        ``salesgoals/drivers/_events.py``).
    timing : pandas.DataFrame
        Only with the activity log: ``activity, before_per_deal,
        after_per_deal, difference, std_error, p_value, follows,
        response_per_deal, response_std_error, response_p_value, responds``:
        activities per deal in the 7 days before and after creation;
        ``follows`` when clearly more come after; ``response_per_deal``: extra
        activities in the week after each deal beyond what the type's recent
        activity predicts (rep and week effects, clustered by rep);
        ``responds`` when that is clearly positive.  At monthly or quarterly
        grain a responder is flagged ``follows_results`` and its response is
        subtracted from the panel's counts before the fit.
    creation_delays : pandas.DataFrame
        Only with deal links: ``lag, n_deals, share``: periods between a
        deal's first sourcing activity and its creation.  The lag length is
        chosen to cover 95% of them (capped at ``max_lag``) instead of by AIC,
        and 95% of each activity type's own (below).
    creation_delays_by_type : pandas.DataFrame
        Only with deal links: ``activity, lag, n_deals, share``: periods
        between a deal's first sourcing activity *of that type* and its
        creation, ``share`` within the type.  The slowest type with at least
        40 linked deals sets the lag length where it needs more lags than
        the pooled delays (a type that sources few deals but takes long is
        not cut short).
    progressing : pandas.DataFrame
        Only with deal links: what activity logged on an existing deal does to
        *that* deal (win rate, closing within 30 days after its first 14),
        never counted as creating it; columns of
        :func:`salesgoals.drivers.progressing_effects`.
    flag_reasons : pandas.DataFrame
        ``activity, flag, reason, evidence, settle``: why each flagged
        activity carries its flag, one row per reason: ``same_period``
        (``same_week_only``: the lag-0 effect is clear, later weeks add
        nothing), ``after_creation`` (more of it in the 7 days after a deal
        is created than in the 7 before), ``responds`` (more of it in the
        week after a deal than the rep's recent level predicts: part of its
        count is a response to results) and ``leads`` (next period's activity
        "predicts" this period's results), the last three setting
        ``follows_results``; ``evidence`` the reason in plain words with its
        numbers, ``settle`` the data that would settle it.
    heterogeneity : pandas.DataFrame
        ``activity, q_stat, df, q_null_scale, p_value, p_value_adj, reps_differ,
        differ_by, tau, tau_upper, cochran_q, cochran_p_value, team_f_stat,
        team_p_value, team_p_value_adj, differ_by_team``: do reps differ in what an activity
        does for them?  ``q_stat`` is the spread of the per-rep slopes around
        the team's over their variances (``df`` = reps - 1) and ``p_value`` its
        p-value from a wild bootstrap under the team model (199 replicates, a
        scaled chi-square fitted to them); ``q_null_scale`` is the bootstrap
        null's mean over ``df`` (how far a plain chi-square would be off);
        Holm-adjusted across activities.  ``reps_differ`` where it or (with
        two or more teams) the between-team F test ``team_*`` rejects, each at
        half the level then; ``differ_by`` ``reps`` / ``teams`` / "" says
        which (``differ_by_team``: the team test's part).  ``tau`` is the estimated spread (standard
        deviation) of rep effects on the estimated outcome (DerSimonian-Laird),
        ``tau_upper`` its upper confidence limit.  ``cochran_q``,
        ``cochran_p_value``: the textbook test against chi-square(G-1), for
        comparison only (oversized: per-rep variances from one rep's history
        are noisy and too small).  ``team_*``: do
        the effects differ between the panel's teams (F test of the
        between-team part of Q over its within-team part, Holm-adjusted; NaN
        without a ``team`` column or with fewer than two teams).  NaN where the
        team effect is not clear (not tested).
    """

    lag_selection: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo: pd.DataFrame = field(default_factory=pd.DataFrame)
    leads: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)
    holdout: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    event_time: pd.DataFrame = field(default_factory=pd.DataFrame)
    timing: pd.DataFrame = field(default_factory=pd.DataFrame)
    heterogeneity: pd.DataFrame = field(default_factory=pd.DataFrame)
    creation_delays: pd.DataFrame = field(default_factory=pd.DataFrame)
    creation_delays_by_type: pd.DataFrame = field(default_factory=pd.DataFrame)
    progressing: pd.DataFrame = field(default_factory=pd.DataFrame)
    flag_reasons: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> Summary:
        """All checks as one printable :class:`Summary`."""
        tables = {}
        for name in ("checks", "placebo", "leads", "timing", "flag_reasons", "heterogeneity", "creation_delays",
                     "creation_delays_by_type", "progressing", "pooled", "holdout", "lag_selection"):
            t = getattr(self, name)
            if len(t):
                tables[name.replace("_", " ")] = t
        return Summary("Driver model diagnostics", tables=tables, notes=[*self.warnings, *self.notes],
                       float_format=fmt_float)

    def __repr__(self) -> str:
        return f"DriverDiagnostics(warnings={len(self.warnings)})"


def verdict_facts(effects: pd.DataFrame, interval: float, reasons: pd.DataFrame | None = None) -> dict[str, str]:
    """Plain words: which activities are drivers, which are ambiguous and why (``reasons``: the
    ``diagnostics.flag_reasons`` table), what would settle it, and which cannot be told from zero."""
    clean = effects["is_driver"] & (effects["flags"] == "")
    drivers = effects.loc[clean, "activity"].tolist()
    flagged = effects.loc[effects["flags"] != "", "activity"].tolist()
    reasons = reasons if isinstance(reasons, pd.DataFrame) and len(reasons) else None
    ambiguous, settle = [], []
    for act in flagged:
        mine = reasons.loc[reasons["activity"] == act] if reasons is not None else None
        if mine is None or not len(mine):
            ambiguous.append(f"{act} ({effects.loc[effects['activity'] == act, 'flags'].iloc[0]})")
            continue
        ambiguous.append(f"{act} ({'; and '.join(mine['evidence'])})")
        settle += [s for s in mine["settle"] if s not in settle]
    rest = effects.loc[~effects["is_driver"] & (effects["flags"] == ""), "activity"].tolist()
    out = {"drivers": ", ".join(drivers) if drivers else "none: no activity passes the driver test"}
    if ambiguous:
        out["ambiguous (not drivers)"] = "; ".join(ambiguous) + ". To settle it, " + (
            "; ".join(settle) if settle else "link activities to deals (deal_id)") + "."
    if rest:
        out["not shown to matter"] = (f"{', '.join(rest)} (effect not distinguishable from zero, or negative, after "
                                      f"adjusting for testing {len(effects)} activities at {interval:.0%})")  # fmt: skip
    return out


def heterogeneity_words(het: pd.DataFrame) -> str:
    """Plain words on what the per-rep test found: where reps differ, where they cannot be told apart."""
    if not len(het) or "q_stat" not in het.columns:
        return ""
    tested = het.loc[het["q_stat"].notna()]
    if not len(tested):
        return "not tested (no activity has a clear team effect): every rep carries the team effect"
    by = tested["differ_by"] if "differ_by" in tested.columns else tested["reps_differ"].map({True: "reps"})
    parts = []
    differ, teams, same = tested.loc[by == "reps"], tested.loc[by == "teams"], tested.loc[~tested["reps_differ"]]
    if len(differ):
        p = ", ".join(f"{r.activity} (p = {r.p_value_adj:.2g})" for r in differ.itertuples())
        parts.append(f"reps differ for {p}: each rep's effect is its own, shrunk toward the team")
    if len(teams):
        p = ", ".join(f"{r.activity} (p = {r.team_p_value_adj:.2g})" for r in teams.itertuples())
        parts.append(f"effects differ between teams for {p}: each rep carries its team's effect (reps within a "
                     "team cannot be told apart)")
    if len(same):
        p = ", ".join(f"{r.activity} (p = {r.p_value_adj:.2g})" for r in same.itertuples())
        parts.append(f"reps cannot be told apart for {p}: every rep carries the team effect, its interval widened "
                     "by the rep spread the data cannot rule out (longer histories per rep would settle it)")
    return "; ".join(parts) + " (rep-level test with a bootstrap null and between-team F test, Holm-adjusted p)"


def lag_profile_words(profile: pd.DataFrame, effects: pd.DataFrame, top: int = 3) -> str:
    """When the effect of one activity arrives, in words: its cumulative share by lag, for up to ``top`` drivers
    (by contribution; the activities with the largest contribution when none is a driver)."""
    if not len(profile) or not len(effects):
        return ""
    chosen = effects.loc[effects["is_driver"], "activity"].tolist()[:top] or effects["activity"].tolist()[:1]
    parts = []
    for act in chosen:
        eff = profile.loc[profile["activity"] == act, "effect"].to_numpy(dtype=float)
        total = eff.sum()
        if eff.size < 2 or not np.isfinite(total) or total <= 0:
            continue
        cum = np.cumsum(eff) / total
        parts.append(f"{act} " + ", ".join(f"{c:.0%}" for c in cum) + f" by lag 0..{eff.size - 1}")
    if not parts:
        return ""
    return "cumulative share of the summed effect by lag: " + "; ".join(parts)


# =============================================================================
# The result object
# =============================================================================
class DriverResult:
    """What drives the outcome: effects with intervals, per-rep effects, funnel and diagnostics.

    Returned by :func:`fit_drivers` (and :attr:`DriverModel.result_`).

    Attributes
    ----------
    outcome : str
        The outcome the effects are on (``deals_created``, ``deals_won``,
        ``won_revenue`` or ``pipeline_created``).
    method : str
        ``"funnel"`` (estimated on deals created and carried along the funnel)
        or ``"direct"`` (estimated on the outcome itself).
    effects : pandas.DataFrame
        One row per activity, most important first, with columns:

        * ``activity`` : str — activity type (panel column).
        * ``effect`` : float — expected change in the outcome, summed over the
          following periods, from ONE extra activity in a period (mean over reps).
        * ``std_error`` : float — standard error (clustered by rep: the jackknife
          over reps, CR3, up to 500 reps, CR1 above; bootstrap over reps when it
          is wider and reps are few).
        * ``ci_low``, ``ci_high`` : float — ``interval`` confidence interval.
        * ``p_value`` : float — two-sided test of no effect (t with G-1 df).
        * ``p_value_adj`` : float — ``p_value`` adjusted for testing every
          activity of the fit (Holm step-down: family-wise error control).
        * ``significant`` : bool — ``p_value < 1 - interval`` (one test alone; use ``is_driver``).
        * ``is_driver`` : bool — passes the control: positive effect and
          ``p_value_adj < 1 - interval``.  Only drivers WITHOUT a flag should
          become priorities (a flagged driver is ambiguous).
        * ``flags`` : str — ``;``-joined reverse-causality flags,
          ``same_week_only`` (association in the same period only) and
          ``follows_results`` (more of it in the week after a deal is created
          than before it, a response to deals, or a positive lead effect; the
          reason of each flag is in ``diagnostics.flag_reasons``); ``""`` when none.  An activity that follows
          results is left out of the model and its row comes from the fit that
          included it (see the notes).
        * ``n_lags`` : int — lags 0..n_lags in the model.
        * ``peak_lag`` : int — the lag where the effect of one logged activity peaks.
        * ``mean_per_period`` : float — average count per rep-period.
        * ``contribution`` : float — ``effect * mean_per_period``: outcome per
          rep-period attributable to the activity (the importance used for sorting).
        * ``share`` : float — contribution / mean outcome per rep-period.
        * ``effect_on_created`` : float — the effect on deals created the
          funnel starts from (equals ``effect`` for direct fits).
        * ``quality_metric`` : str — the quality column modelled with the
          activity (``call_connected``, ``meeting_held``) or ``""``.
        * ``quality_effect`` : float — extra effect of a connected call / held
          meeting over a logged one, on the outcome (0.0 without a metric).
    lags : pandas.DataFrame
        Raw lag coefficients on the estimated outcome (deals created for the
        funnel method): ``activity, lag, coef, std_error``, one block per
        regressor (activities, then quality metrics).
    lag_profile : pandas.DataFrame
        ``activity, lag, effect, std_error``: when the effect of one logged
        activity arrives (activity + quality metric x mean quality rate).
    rep_effects : pandas.DataFrame
        One row per rep and activity, partially pooled (``drivers/_pooling.py``):

        * ``rep``, ``activity`` : str.
        * ``effect`` : float — the rep's effect on the outcome: the rep's own
          slope shrunk toward the team effect (empirical Bayes), at the rep's
          own quality rates and funnel conversion.
        * ``std_error``, ``ci_low``, ``ci_high`` : float — posterior standard
          error and interval (slope and team-effect uncertainty; not that of
          the rep's rates).
        * ``raw_effect`` : float — the rep's own, unpooled estimate (NaN where
          not estimated).
        * ``shrinkage`` : float — weight on the team effect (1 = the team
          effect: reps cannot be told apart).
        * ``reps_differ`` : bool — the heterogeneity test (Q of the per-rep
          slopes with a wild-bootstrap null, Holm-adjusted) finds that reps
          differ for this activity.
        * ``flags`` : str — ``reps_not_distinguishable`` where they do not:
          the row carries the team effect, with the team interval widened by
          the rep spread the data cannot rule out; ``team_level`` where only
          the between-team test finds a difference: the row carries its
          team's effect (team mean of the reps' own slopes) with that mean's
          uncertainty and the within-team spread the data cannot rule out.
    funnel : pandas.DataFrame
        Per rep: ``rep, win_rate, deal_size, n_closed, n_won, n_created,
        created_deal_size, raw_win_rate, raw_deal_size`` (raw values are NaN
        where a rep closed or won nothing) and ``connect_rate``/``show_rate``
        when the panel has quality columns.  Rates and sizes are shrunk toward
        the team (empirical Bayes).
    diagnostics : DriverDiagnostics
        Placebo, leads, pooled-vs-within, hold-out fit and data-support checks.
    n_reps, n_periods, n_obs : int
        Size of the estimation sample.
    interval : float
        Confidence level of the intervals (``level`` is its deprecated alias).
    freq : str
        Panel frequency (``W``, ``M``, ``Q``).
    activities : list of str
        Activities with an effect; ``regressors`` adds the quality metrics.
    estimated_outcome : str
        The panel column the regression was fitted to.
    """

    def __init__(self, *, outcome, method, effects, lags, lag_profile, rep_effects, funnel, diagnostics, fit, n_reps,
                 n_periods, n_obs, interval, freq, activities, regressors, estimated_outcome):  # fmt: skip
        self.outcome = outcome
        self.method = method
        self.effects = effects
        self.lags = lags
        self.lag_profile = lag_profile
        self.rep_effects = rep_effects
        self.funnel = funnel
        self.diagnostics = diagnostics
        self._fit = fit
        self.n_reps = n_reps
        self.n_periods = n_periods
        self.n_obs = n_obs
        self.interval = interval
        self.freq = freq
        self.activities = list(activities)
        self.regressors = list(regressors)
        self.estimated_outcome = estimated_outcome

    # ------------------------------------------------------------------ API
    level = renamed_attribute("level", "interval")

    def predict(self, panel: pd.DataFrame) -> pd.Series:
        """Expected outcome for each row of a panel from the fitted model.

        The prediction is the rep's own level (its fixed effect; the average
        rep for reps not seen in fitting) plus the average period level (the
        fitted period effect for periods seen in fitting) plus the effects of
        the activities in this and the previous ``n_lags`` periods.  Lags
        reaching before a rep's first row use that rep's average count.  For
        the funnel method the deals-created prediction is carried to the
        outcome with the rep's conversion factor (the closing delay is
        ignored: revenue is booked in the period its deals are created).
        Floored at zero.

        Parameters
        ----------
        panel : pandas.DataFrame
            A panel with the same activity columns (need not contain the outcome).

        Returns
        -------
        pandas.Series
            Float, aligned to ``panel.index``, named ``predicted_<outcome>``.
        """
        missing = [c for c in ("rep", "period", *self.regressors) if c not in panel.columns]
        if missing:
            raise SchemaError(
                f"DriverResult.predict: the panel has no column(s) {', '.join(map(repr, missing))}; "
                f"it needs rep, period and the columns the model was fitted on: {', '.join(self.regressors)}."
            )
        fit = self._fit
        prep = _prepare(panel)
        X, _ = _lag_matrix(prep, self.regressors, range(0, fit.n_lags + 1))
        if np.isnan(X).any():
            means = prep.frame.groupby(prep.rep)[self.regressors].mean().to_numpy(dtype=float)
            W = fit.n_lags + 1
            fill = np.repeat(means, W, axis=1)[prep.rep]
            X = np.where(np.isnan(X), fill, X)
        base = X @ fit.coef.ravel()
        rep_labels = prep.reps[prep.rep]
        a = pd.Series(fit.rep_fe).reindex(rep_labels).to_numpy(dtype=float)
        a = np.where(np.isnan(a), float(fit.rep_fe.mean()), a)
        g = fit.period_fe.reindex(prep.periods[prep.period]).to_numpy(dtype=float)
        g = np.where(np.isnan(g), 0.0, g)
        pred = a + fit.intercept + g + base
        if fit.season_scaling is not None and fit.gamma.size:
            level, season = fit.season_scaling
            lv = level.reindex(rep_labels).to_numpy(dtype=float)
            sv = season.reindex(prep.periods[prep.period]).to_numpy(dtype=float)
            pred = pred + fit.gamma[0] * np.nan_to_num(lv) * np.nan_to_num(sv)
        if self.method == "funnel" and self.outcome != self.estimated_outcome:
            conv = pd.Series(conversion(self.outcome, self.funnel), index=self.funnel["rep"].astype(str))
            c = conv.reindex(rep_labels.astype(str)).to_numpy(dtype=float)
            c = np.where(np.isnan(c), float(conv.mean()), c)
            pred = pred * c
        pred = np.maximum(pred, 0.0)
        out = pd.Series(pred, index=prep.frame.index, name=f"predicted_{self.outcome}")
        return out.reindex(panel.index)

    def summary(self) -> Summary:
        """Effects with intervals, the method, and every warning, as a printable report."""
        eff = self.effects[["activity", "effect", "ci_low", "ci_high", "p_value", "p_value_adj", "is_driver", "flags",
                            "peak_lag", "share"]]  # fmt: skip
        quality = self.effects.loc[self.effects["quality_metric"] != "", ["activity", "quality_metric", "quality_effect"]]
        facts = {
            "outcome": self.outcome,
            "method": (
                f"{self.method}: two-way fixed effects (rep, period) distributed lag 0..{self._fit.n_lags}"
                + (f", carried from {self.estimated_outcome} by win rate x deal size" if self.method == "funnel"
                   and self.outcome != self.estimated_outcome else "")  # fmt: skip
            ),
            "sample": f"{self.n_reps:,} reps x {self.n_periods:,} periods ({self.n_obs:,} rep-periods, freq {self.freq})",
            "intervals": f"{self.interval:.0%}, standard errors clustered by rep",
            "effect": f"change in {self.outcome} per period-sum from ONE extra activity, summed over lags",
            **verdict_facts(self.effects, self.interval, self.diagnostics.flag_reasons),
        }
        profile = lag_profile_words(self.lag_profile, self.effects)
        if profile:
            facts["lag profile"] = profile
        per_rep = heterogeneity_words(self.diagnostics.heterogeneity)
        if per_rep:
            facts["per-rep effects"] = per_rep
        notes = list(self.diagnostics.warnings)
        extra = list(self.diagnostics.notes)
        why_lags = [n for n in extra if n.startswith("lags 0..")]  # the lag choice and its reasons, up front
        if why_lags:
            facts["lag length"] = why_lags[0]
            extra.remove(why_lags[0])
        hold = self.diagnostics.holdout
        if len(hold) and "skill" in hold.attrs:
            skill = hold.attrs["skill"]
            facts["hold-out fit"] = (
                f"RMSE {abs(skill):.1%} {'lower' if skill >= 0 else 'higher'} than each rep's own average "
                "(last periods, not used in fitting)"
            )
        if not notes:
            notes = ["No warnings: placebo near zero, no lead effects, data support confident answers."]
        notes += extra
        tables = {"effects": eff}
        if len(quality):
            tables["quality: extra effect of a connected call / held meeting over a logged one"] = quality
        return Summary(f"What drives {self.outcome}", facts=facts, tables=tables, notes=notes, float_format=fmt_float)

    def plot(self, ax=None, **kwargs):
        """Effects with their confidence intervals (see :func:`salesgoals.plotting.plot_drivers`)."""
        return plot_drivers(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        return (
            f"DriverResult(outcome={self.outcome!r}, method={self.method!r}, reps={self.n_reps}, "
            f"periods={self.n_periods}, lags=0..{self._fit.n_lags}, warnings={len(self.diagnostics.warnings)})"
        )
