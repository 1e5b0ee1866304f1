"""The estimator (:class:`DriverModel`) and its function front door (:func:`fit_drivers`)."""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator

from salesgoals._schema import QUALITY_METRICS
from salesgoals.drivers._diagnostics import (
    BOOTSTRAP_BELOW_REPS,
    bootstrap_se,
    cap_lag,
    holdout_check,
    leads_check,
    placebo_check,
    pooled_check,
    support_checks,
    usable_regressors,
    warn_no_driver,
)
from salesgoals._deprecate import renamed_attribute, renamed_kwargs
from salesgoals._typing import Outcome
from salesgoals.drivers._estimator import _check_panel, _fit_lags, _prepare, _select_lag, _with_season_scaling
from salesgoals.drivers._funnel import combine_effects, funnel_table, quality_rate_name
from salesgoals.drivers._result import DriverDiagnostics, DriverResult
from salesgoals.errors import NotFittedError, SchemaError, UnreliableEstimateWarning

Method = Literal["auto", "funnel", "direct"]

#: Default maximum lag by panel frequency (weeks, months, quarters), for deals created.
DEFAULT_MAX_LAG: dict[str, int] = {"W": 8, "M": 3, "Q": 1}
#: Shortest lag length the criterion may choose, by frequency: sales effects rarely arrive within the
#: same week, and dropping a real lag biases the effect while an extra one only widens the interval.
MIN_LAG: dict[str, int] = {"W": 3, "M": 1, "Q": 0}
#: Default maximum lag for ``method="direct"`` on closed outcomes (deals close weeks later).
DEFAULT_MAX_LAG_DIRECT: dict[str, int] = {"W": 16, "M": 5, "Q": 2}

_FUNNEL_BASE = "deals_created"
_EFFECT_COLUMNS = [
    "activity", "effect", "std_error", "ci_low", "ci_high", "p_value", "significant", "n_lags", "peak_lag",
    "mean_per_period", "contribution", "share", "effect_on_created", "quality_metric", "quality_effect",
]  # fmt: skip


class DriverModel(BaseEstimator):
    """Two-way fixed-effects distributed-lag driver model (scikit-learn style).

    ``__init__`` only stores the options; :meth:`fit` validates the panel,
    estimates, runs the diagnostics and sets the fitted attributes.

    Parameters
    ----------
    outcome : {"deals_created", "deals_won", "won_revenue", "pipeline_created"}, default="deals_created"
        Outcome the effects are reported on.
    method : {"auto", "funnel", "direct"}, default="auto"
        ``"funnel"`` estimates on deals created and carries the effects to the
        outcome by each rep's shrunk win rate and deal size; ``"direct"``
        regresses the outcome itself on (longer) lags.  ``"auto"`` is
        ``"funnel"`` when the panel has deals created, else ``"direct"``.
    lags : int, optional
        Fixed lag length ``L`` (lags ``0..L``).  By default chosen from the
        data by ``lag_criterion`` over ``MIN_LAG..max_lag`` (3 weeks, 1 month
        or 0 quarters at least); a direct fit of deals
        won or won revenue keeps all lags ``0..max_lag`` instead (their
        effect is spread over many weeks and a criterion cuts it short).
    max_lag : int, optional
        Longest lag considered; defaults to :data:`DEFAULT_MAX_LAG` (funnel)
        or :data:`DEFAULT_MAX_LAG_DIRECT` (direct on closed outcomes) for the
        panel frequency, lowered when reps have short histories.
    lag_criterion : {"aic", "bic"}, default="aic"
        How the lag length is chosen (all candidates on the same rows).  AIC
        because dropping a real lag biases the summed effect while an extra
        lag only widens the interval.
    activities : list of str, optional
        Activity columns to use; default every activity column of the panel.
    quality : bool, default=True
        Add the quality metrics (``call_connected``, ``meeting_held``) as
        regressors next to their activity, so a logged call is worth
        ``effect(call) + effect(connected) x connect rate`` and per-rep effects
        follow each rep's own connect and show rates.
    season_scaling : bool, default=True
        Let seasons scale with each rep's level: adds one control column,
        (rep's mean outcome - team mean) x period effect, so that a big rep's
        bigger seasonal swing is not credited to activities that track the
        rep's size (see ``_with_season_scaling`` in ``drivers/_estimator.py``).
        ``False`` gives the plain two-way fixed-effects model.
    interval : float, default=0.95
        Confidence level of the intervals (the old name ``level=`` still works
        until salesgoals 0.3, with a ``DeprecationWarning``).
    n_boot : int, default=199
        Pairs-bootstrap draws over reps, run when there are fewer than
        :data:`~salesgoals.drivers.BOOTSTRAP_BELOW_REPS` reps (0 turns it off).
    diagnostics : bool, default=True
        Run the placebo, leads, pooled and hold-out checks (a few extra fits).
    holdout_share : float, default=0.2
        Share of the last periods held out for the out-of-sample check.
    seed : int, default=0
        Seed of the placebo shuffle and the bootstrap.

    Attributes
    ----------
    result_ : DriverResult
        Everything the fit produced.
    effects_ : pandas.DataFrame
        Same as ``result_.effects``.
    coef_ : pandas.DataFrame
        Lag coefficients, same as ``result_.lags``.
    n_lags_ : int
        Chosen lag length ``L``.
    n_reps_ : int
        Reps in the estimation sample.
    activities_ : list of str
        Activities with an estimated effect.

    Examples
    --------
    >>> import salesgoals as sg
    >>> from sklearn.base import clone
    >>> sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=30, seed=2)
    >>> model = sg.DriverModel(outcome="won_revenue", lags=1, diagnostics=False, n_boot=0).fit(sim.panel())
    >>> model.result_.outcome
    'won_revenue'
    >>> clone(model).get_params()["lags"]
    1
    """

    @renamed_kwargs(level="interval")
    def __init__(self, outcome: Outcome = "deals_created", *, method: Method = "auto", lags: int | None = None,
                 max_lag: int | None = None, lag_criterion: Literal["aic", "bic"] = "aic",
                 activities: list[str] | None = None, quality: bool = True, season_scaling: bool = True,
                 interval: float = 0.95,
                 n_boot: int = 199, diagnostics: bool = True, holdout_share: float = 0.2,
                 seed: int = 0) -> None:  # fmt: skip
        self.outcome = outcome
        self.method = method
        self.lags = lags
        self.max_lag = max_lag
        self.lag_criterion = lag_criterion
        self.activities = activities
        self.quality = quality
        self.season_scaling = season_scaling
        self.interval = interval
        self.n_boot = n_boot
        self.diagnostics = diagnostics
        self.holdout_share = holdout_share
        self.seed = seed

    # ------------------------------------------------------------------ checks
    def _validate_options(self) -> None:
        if self.method not in ("auto", "funnel", "direct"):
            raise ValueError(f"DriverModel: method must be one of 'auto', 'funnel', 'direct'; got {self.method!r}.")
        if not 0 < self.interval < 1:
            raise ValueError(f"DriverModel: interval must be between 0 and 1; got {self.interval!r}.")
        for name in ("lags", "max_lag"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not float(v).is_integer() or v < 0):
                raise ValueError(f"DriverModel: {name} must be a non-negative integer; got {v!r}.")
        if self.lag_criterion not in ("aic", "bic"):
            raise ValueError(f"DriverModel: lag_criterion must be 'aic' or 'bic'; got {self.lag_criterion!r}.")
        if not 0 < self.holdout_share < 1:
            raise ValueError(f"DriverModel: holdout_share must be between 0 and 1; got {self.holdout_share!r}.")
        if self.n_boot < 0:
            raise ValueError(f"DriverModel: n_boot must be >= 0; got {self.n_boot!r}.")

    level = renamed_attribute("level", "interval")

    # --------------------------------------------------------------------- fit
    def fit(self, panel: pd.DataFrame, y=None) -> DriverModel:
        """Fit the model to a rep x period panel; returns ``self``.

        Parameters
        ----------
        panel : pandas.DataFrame
            From :func:`salesgoals.build_panel`.
        y : None
            Ignored (the outcome is a panel column); present for scikit-learn.

        Returns
        -------
        DriverModel
            ``self``, fitted.

        Raises
        ------
        SchemaError
            Missing or non-numeric columns, duplicated (rep, period) rows.
        InsufficientDataError
            Too few rep-periods for the lags, or no activity varies within reps.
        ValueError
            Unknown outcome, method or option values.
        """
        from threadpoolctl import threadpool_limits  # installed with scikit-learn

        self._validate_options()
        # The work is memory-bound passes and small solves; multi-threaded BLAS adds little and, on a
        # busy or oversubscribed machine (pytest -n 2, several fits at once), spins: measured 4.8 s with
        # one BLAS thread against 13.4 s with two for the 1M-row benchmark on a shared 2-core machine.
        with threadpool_limits(limits=1, user_api="blas"):
            return self._fit(panel)

    def _fit(self, panel: pd.DataFrame) -> DriverModel:
        panel, acts = _check_panel(panel, self.outcome, self.activities)
        method = self.method
        if method == "auto":
            method = "funnel" if _FUNNEL_BASE in panel.columns else "direct"
        if method == "funnel" and _FUNNEL_BASE not in panel.columns:
            raise SchemaError("DriverModel: method='funnel' needs the column 'deals_created' in the panel.")
        if self.outcome == _FUNNEL_BASE:
            method = "funnel"  # direct and funnel are the same model for deals created; report it one way
        y_col = _FUNNEL_BASE if method == "funnel" else self.outcome
        carry = method == "funnel" and self.outcome != y_col
        prep = _prepare(panel)
        freq = prep.freq if prep.freq in DEFAULT_MAX_LAG else "W"
        messages: list[str] = []  # warnings: the data cannot support a confident answer
        notes: list[str] = []  # how the answer was computed where it departs from the default

        quality_of = {}
        if self.quality:
            quality_of = {a: m for m, (a, _) in QUALITY_METRICS.items() if a in acts and m in panel.columns}
        acts, quality_of, within = usable_regressors(prep, acts, quality_of, messages, notes)
        regressors = [*acts, *quality_of.values()]
        y = prep.frame[y_col].to_numpy(dtype=float)
        if self.season_scaling:
            prep = _with_season_scaling(prep, y)
        checks = support_checks(prep, acts, within, messages)
        del within

        # ------------------------------------------------------- lag length
        lag_table = pd.DataFrame({c: pd.Series([], dtype=float) for c in ("n_lags", "n_params", "rss", "aic", "bic")})
        lag_table["chosen"] = pd.Series([], dtype=bool)
        closed_outcome = method == "direct" and y_col in ("deals_won", "won_revenue")
        if self.lags is not None:
            L = int(self.lags)
        elif closed_outcome:
            # Deals close weeks after the activity that created them, so each lag carries a thin slice of the
            # effect and a criterion cuts the lag short, losing most of it (measured on the simulator: AIC kept
            # 0..2 of ~0..12 weeks and the meeting effect on revenue came out near zero, 1 in 8 intervals
            # covering the truth).  All lags up to max_lag are kept: wide intervals, no truncation bias.
            L = cap_lag(prep, int(self.max_lag) if self.max_lag is not None else DEFAULT_MAX_LAG_DIRECT[freq], notes)
            notes.append(f"direct fit of {y_col}: all lags 0..{L} kept (a closed deal's effect is spread over "
                         "many weeks; choosing fewer would cut it off).")  # fmt: skip
        else:
            max_lag = cap_lag(prep, int(self.max_lag) if self.max_lag is not None else DEFAULT_MAX_LAG[freq], notes)
            L, lag_table = _select_lag(prep, regressors, y, max_lag, self.lag_criterion, MIN_LAG[freq])
        fit = _fit_lags(prep, regressors, y, L, keep_demeaned=self.diagnostics)
        n_reps = fit.n_reps

        # ------------------------------------------ effects along the funnel
        funnel = funnel_table(prep.frame)
        funnel = funnel.loc[funnel["rep"].isin(fit.rep_fe.index.astype(str))].reset_index(drop=True)
        funnel.attrs = funnel_table(prep.frame.loc[fit.keep]).attrs
        comb = combine_effects(fit, acts, quality_of, funnel, self.outcome, carry)
        effect, se = comb["effect"], comb["std_error"]
        dof = max(n_reps - 1, 1)
        crit = float(stats.t.ppf(0.5 + self.interval / 2, dof))
        if n_reps < BOOTSTRAP_BELOW_REPS and self.n_boot:
            boot = bootstrap_se(prep, acts, regressors, quality_of, y_col, L, self.outcome, carry, self.n_boot, self.seed)
            if boot is not None:
                se = np.maximum(se, boot)
                notes.append(
                    f"{n_reps} reps (< {BOOTSTRAP_BELOW_REPS}): standard errors are the larger of the clustered "
                    f"and a {self.n_boot}-draw bootstrap over reps; intervals use t({dof})."
                )
        t = np.divide(np.abs(effect), se, out=np.zeros_like(effect), where=se > 0)
        p_value = 2 * stats.t.sf(t, dof)

        frame_k = prep.frame.loc[fit.keep]
        mean_x = frame_k[acts].to_numpy(dtype=float).mean(axis=0)
        mean_y = float(frame_k[self.outcome].mean()) if self.outcome in frame_k else 0.0
        contribution = effect * mean_x
        share = contribution / mean_y if mean_y > 0 else np.zeros_like(contribution)
        effects = pd.DataFrame(
            {
                "activity": pd.Series(acts, dtype=object),
                "effect": effect,
                "std_error": se,
                "ci_low": effect - crit * se,
                "ci_high": effect + crit * se,
                "p_value": p_value,
                "significant": p_value < (1 - self.interval),
                "n_lags": np.full(len(acts), L, dtype=np.int64),
                "peak_lag": _peak_lags(fit, acts, quality_of, funnel),
                "mean_per_period": mean_x,
                "contribution": contribution,
                "share": share,
                "effect_on_created": comb["created"] if method == "funnel" else effect,
                "quality_metric": pd.Series([quality_of.get(a, "") for a in acts], dtype=object),
                "quality_effect": comb["quality_effect"],
            }
        )[_EFFECT_COLUMNS]
        effects = effects.sort_values(["contribution", "activity"], ascending=[False, True], kind="mergesort")
        effects = effects.reset_index(drop=True)

        lag_se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None)).reshape(fit.coef.shape)
        lag_rows = pd.DataFrame(
            {
                "activity": pd.Series(np.repeat(regressors, L + 1), dtype=object),
                "lag": np.tile(np.arange(L + 1), len(regressors)).astype(np.int64),
                "coef": fit.coef.ravel(),
                "std_error": lag_se.ravel(),
            }
        )
        profile = _lag_profile(fit, acts, quality_of, funnel)
        G = len(funnel)
        rep_effects = pd.DataFrame(
            {
                "rep": pd.Series(np.repeat(funnel["rep"].to_numpy(dtype=object), len(acts)), dtype=object),
                "activity": pd.Series(np.tile(np.asarray(acts, dtype=object), G), dtype=object),
                "effect": comb["rep_effect"].ravel(),
                "std_error": comb["rep_se"].ravel(),
            }
        )
        rep_effects["ci_low"] = rep_effects["effect"] - crit * rep_effects["std_error"]
        rep_effects["ci_high"] = rep_effects["effect"] + crit * rep_effects["std_error"]

        # ----------------------------------------------------- diagnostics
        diag = DriverDiagnostics(lag_selection=lag_table, checks=checks)
        if self.diagnostics:
            diag.placebo = placebo_check(prep, fit, acts, 1 - self.interval, self.seed)
            failed = diag.placebo.loc[~diag.placebo["passed"], "placebo_of"].tolist()
            if failed:
                messages.append(
                    f"Placebo check: a timing-shuffled copy of {', '.join(failed)} shows an effect; part of the "
                    "effects may come from differences between reps or periods the model does not remove."
                )
            diag.leads = leads_check(prep, regressors, y, L)
            for _, row in diag.leads.loc[diag.leads["flagged"]].iterrows():
                messages.append(
                    f"Leads check: next period's {row['activity']} 'predicts' this period's {y_col} (lead effect "
                    f"{row['lead_effect']:.3g}, p = {row['p_value']:.1g}). {row['activity']} partly FOLLOWS results "
                    "(for example follow-ups after a deal is created), so its effect is probably overstated."
                )
            rates = {a: (m, float(funnel[quality_rate_name(m)].mean())) for a, m in quality_of.items()}
            diag.pooled = pooled_check(prep, regressors, acts, rates, y, L, fit)
            diag.holdout = holdout_check(prep, regressors, y, L, self.holdout_share)
        fit.demeaned_y = fit.demeaned_X = fit.design = None  # large: only the diagnostics needed them
        warn_no_driver(effects, messages)
        diag.warnings, diag.notes = messages, notes
        for msg in messages:
            warnings.warn(f"fit_drivers: {msg}", UnreliableEstimateWarning, stacklevel=3)

        self.result_ = DriverResult(
            outcome=self.outcome, method=method, effects=effects, lags=lag_rows, lag_profile=profile,
            rep_effects=rep_effects,
            funnel=funnel, diagnostics=diag, fit=fit, n_reps=n_reps, n_periods=fit.n_periods, n_obs=fit.n_obs,
            interval=self.interval, freq=freq, activities=acts, regressors=regressors, estimated_outcome=y_col,
        )  # fmt: skip
        self.effects_ = effects
        self.coef_ = lag_rows
        self.n_lags_ = L
        self.n_reps_ = n_reps
        self.activities_ = acts
        return self

    def predict(self, panel: pd.DataFrame) -> pd.Series:
        """Expected outcome per panel row (see :meth:`DriverResult.predict`).

        Raises
        ------
        NotFittedError
            When called before :meth:`fit`.
        """
        if not hasattr(self, "result_"):
            raise NotFittedError("This DriverModel is not fitted yet; call .fit(panel) first.")
        return self.result_.predict(panel)


def _profile_weights(fit, activity: str, quality_of: dict[str, str], funnel: pd.DataFrame) -> np.ndarray:
    """Weights (n_lags+1, n_coef) turning lag coefficients into the per-logged-activity profile."""
    pos = {name: i for i, name in enumerate(fit.acts)}
    W = fit.n_lags + 1
    w = np.zeros((W, fit.coef.size))
    w[np.arange(W), pos[activity] * W + np.arange(W)] = 1.0
    m = quality_of.get(activity)
    if m is not None:
        w[np.arange(W), pos[m] * W + np.arange(W)] = float(funnel[quality_rate_name(m)].mean())
    return w


def _peak_lags(fit, acts: list[str], quality_of: dict[str, str], funnel: pd.DataFrame) -> np.ndarray:
    """Lag with the largest combined coefficient (activity + quality metric x mean quality rate)."""
    coef = fit.coef.ravel()
    return np.array([int(np.argmax(_profile_weights(fit, a, quality_of, funnel) @ coef)) for a in acts], dtype=np.int64)


def _lag_profile(fit, acts: list[str], quality_of: dict[str, str], funnel: pd.DataFrame) -> pd.DataFrame:
    """Per activity and lag: the effect of one logged activity on the estimated outcome, with its s.e."""
    coef = fit.coef.ravel()
    parts = []
    for a in acts:
        w = _profile_weights(fit, a, quality_of, funnel)
        parts.append(pd.DataFrame({
            "activity": pd.Series([a] * w.shape[0], dtype=object), "lag": np.arange(w.shape[0], dtype=np.int64),
            "effect": w @ coef, "std_error": np.sqrt(np.clip(np.einsum("ij,jk,ik->i", w, fit.vcov, w), 0, None)),
        }))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def fit_drivers(panel: pd.DataFrame, outcome: Outcome = "deals_created", **kwargs) -> DriverResult:
    """Estimate which activities drive an outcome, within rep and within period.

    Parameters
    ----------
    panel : pandas.DataFrame
        Rep x period panel from :func:`salesgoals.build_panel`.
    outcome : {"deals_created", "deals_won", "won_revenue", "pipeline_created"}, default="deals_created"
        Outcome the effects are reported on.
    **kwargs
        Keyword-only options of :class:`DriverModel`: ``method``, ``lags``,
        ``max_lag``, ``lag_criterion``, ``activities``, ``quality``,
        ``season_scaling``, ``interval``,
        ``n_boot``, ``diagnostics``, ``holdout_share``, ``seed``.

    Returns
    -------
    DriverResult
        ``.effects`` (one row per activity, most important first), ``.lags``,
        ``.rep_effects``, ``.funnel``, ``.diagnostics``, ``.predict(panel)``,
        ``.summary()``, ``.plot()``; every column is listed on
        :class:`DriverResult`.

    Raises
    ------
    SchemaError
        The panel lacks ``rep``, ``period``, the outcome or activity columns,
        has non-numeric values or duplicated (rep, period) rows.
    InsufficientDataError
        Too little history for the lags, or no activity varies within reps.

    Warns
    -----
    UnreliableEstimateWarning
        Few reps or periods, one rep dominating an activity, collinear
        activities, a failed placebo or leads check, or no clear driver.

    See Also
    --------
    DriverModel : the estimator behind this function.
    salesgoals.compare_performers : what top performers do differently.

    Notes
    -----
    The model, why it is linear, and its assumptions are described in the
    :mod:`salesgoals.drivers` module docstring.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=40, seed=1)
    >>> res = sg.fit_drivers(sim.panel(), outcome="won_revenue", lags=2, diagnostics=False, n_boot=0)
    >>> res.outcome, res.method
    ('won_revenue', 'funnel')
    >>> bool(res.effects["effect"].notna().all())
    True
    """
    return DriverModel(outcome=outcome, **kwargs).fit(panel).result_
