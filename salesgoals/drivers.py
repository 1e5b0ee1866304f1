"""Which behaviours drive results: activity effects estimated within rep and within period.

:func:`fit_drivers` answers "what does one more call (email, meeting, ...) in a
period add to this rep's results?" from a rep x period panel
(:func:`salesgoals.build_panel`), in a way that survives the traps of sales
data:

* **Skilled reps do more of everything and also win deals no activity made.**
  Comparing reps with each other therefore credits every activity with the
  skill behind it.  The model compares each rep only with *themselves*
  (rep fixed effects): does this rep create more deals in the weeks after they
  made more calls than usual?
* **Seasons and holidays move activity and results together.**  Period fixed
  effects compare reps only within the same week.
* **Effects arrive over several periods.**  Each activity enters with lags
  ``0..L`` (a distributed lag); ``L`` is chosen from the data by AIC on a common
  sample, and the reported ``effect`` is the sum over lags.
* **Revenue is lumpy and closes weeks later.**  By default revenue outcomes are
  decomposed along the funnel, ``deals created x win rate x deal size``: the
  activity effects are estimated where the signal is (deals created, a count
  with little noise and a short delay) and carried to deals won, pipeline and
  revenue with each rep's win rate and deal size, shrunk toward the team
  (empirical Bayes) so reps with few closed deals borrow strength from the team.
  ``method="direct"`` regresses the outcome itself on long lags instead, for
  comparison.

The model (``family="linear"``) is a two-way fixed-effects distributed-lag
regression fitted by ordinary least squares,

.. math::

    y_{it} = \\alpha_i + \\gamma_t + \\sum_k \\sum_{l=0}^{L} \\beta_{kl} x_{k,i,t-l} + e_{it},

with standard errors clustered by rep (a rep's weeks are not independent) and
t(G - 1) reference distributions; with fewer than :data:`BOOTSTRAP_BELOW_REPS`
reps a pairs bootstrap over reps widens the intervals where it is wider.

Why linear and not Poisson
--------------------------
Deals are counts, but an extra connected call adds deals *on top of* the
business a rep gets anyway; it does not multiply it.  A Poisson model with
fixed effects would make the effect of a call proportional to the rep's base
rate (inbound, referrals), which is the confounder itself.  The linear model
estimates the additive effect directly, its fixed effects are removed exactly
(no iteration, no dummy columns: see :func:`_two_way_demean`), and its
interpretation, "deals per extra activity", is what goals are set from.  The
price is that predictions for tiny counts can be slightly negative; they are
floored at zero in :meth:`DriverResult.predict`.

Assumptions (say them to the sales leader)
------------------------------------------
* No unlogged behaviour changes together with logged activity *within* a rep
  from week to week (busy weeks of all kinds are partly absorbed by the other
  activities in the model).
* Effects are the same for every rep up to quality: per-rep effects scale the
  team effect of calls and meetings by the rep's connect and show rates and
  carry it to revenue with the rep's own (shrunk) win rate and deal size.
* Activity does not respond to results.  The leads check in
  :attr:`DriverResult.diagnostics` tests this and warns when it fails (for
  example follow-up emails sent after a deal is created).

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=40, seed=1)
>>> res = sg.fit_drivers(sim.panel(), outcome="deals_created", lags=2, diagnostics=False, n_boot=0)
>>> res.effects.columns.tolist()[:6]
['activity', 'effect', 'std_error', 'ci_low', 'ci_high', 'p_value']
>>> sorted(res.effects["activity"])
['call', 'email', 'linkedin', 'meeting']
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import stats
from sklearn.base import BaseEstimator

from salesgoals._schema import MODEL_OUTCOMES
from salesgoals.errors import (
    InsufficientDataError,
    NotFittedError,
    SchemaError,
    UnreliableEstimateWarning,
)
from salesgoals.panel import activity_columns

__all__ = [
    "fit_drivers",
    "DriverModel",
    "DriverResult",
    "DriverDiagnostics",
    "Summary",
    "BOOTSTRAP_BELOW_REPS",
    "MIN_REPS",
    "MIN_PERIODS",
]

Outcome = Literal["deals_created", "deals_won", "won_revenue", "pipeline_created"]
Method = Literal["auto", "funnel", "direct"]

#: With fewer reps than this, clustered standard errors are unreliable (few
#: clusters); a pairs bootstrap over reps is run and the wider interval kept.
BOOTSTRAP_BELOW_REPS = 30
#: Below this many reps the estimates are flagged as unreliable.
MIN_REPS = 10
#: Below this many periods per rep (on average) the estimates are flagged as unreliable.
MIN_PERIODS = 20
#: A rep logging more than this share of an activity type makes that effect one rep's story.
MAX_REP_SHARE = 0.5
#: Within-rep, within-period correlation above which two activities are called collinear.
MAX_COLLINEARITY = 0.9
#: Default maximum lag by panel frequency (weeks, months, quarters), for deals created.
DEFAULT_MAX_LAG = {"W": 8, "M": 3, "Q": 1}
#: Default maximum lag for ``method="direct"`` on closed outcomes (deals close weeks later).
DEFAULT_MAX_LAG_DIRECT = {"W": 16, "M": 5, "Q": 2}
#: Leads check: a lead coefficient with p below this (Bonferroni over activities) is flagged.
LEADS_ALPHA = 0.01

_FUNNEL_BASE = "deals_created"


# =============================================================================
# Summary object (prints as text, renders as HTML)
# =============================================================================
class Summary:
    """A printable report: a title, key facts, tables and notes.

    ``str()`` gives plain text; Jupyter renders :meth:`_repr_html_`.

    Examples
    --------
    >>> s = Summary("Title", facts={"reps": 3}, tables={"t": pd.DataFrame({"a": [1]})}, notes=["a note"])
    >>> "reps" in str(s) and "<table" in s._repr_html_()
    True
    """

    def __init__(self, title: str, *, facts=None, tables=None, notes=None) -> None:
        self.title = title
        self.facts = dict(facts or {})
        self.tables = dict(tables or {})
        self.notes = list(notes or [])

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        width = max((len(k) for k in self.facts), default=0)
        lines += [f"{k:<{width}}  {v}" for k, v in self.facts.items()]
        for name, table in self.tables.items():
            lines += ["", name, "-" * len(name)]
            with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_rows", 60):
                lines.append(table.to_string(index=False, float_format=_fmt_float))
        if self.notes:
            lines += ["", "Notes"]
            lines += [f"* {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.facts:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                for k, v in self.facts.items()
            )
            parts.append(f"<table>{rows}</table>")
        for name, table in self.tables.items():
            parts.append(f"<h5>{html.escape(name)}</h5>")
            parts.append(table.to_html(index=False, float_format=_fmt_float, border=0))
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "\n".join(parts)


def _fmt_float(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 1:
        return f"{x:.3g}" if ax < 100 else f"{x:.1f}"
    return f"{x:.3g}"


# =============================================================================
# Linear algebra: exact two-way within transformation and clustered OLS
# =============================================================================
@dataclass
class _Design:
    """Index structure of a panel sorted by rep then period (rows contiguous per rep)."""

    rep: np.ndarray  # int codes 0..G-1, non-decreasing
    period: np.ndarray  # int codes 0..T-1
    n_reps: int
    n_periods: int

    @property
    def starts(self) -> np.ndarray:
        return np.flatnonzero(np.r_[True, self.rep[1:] != self.rep[:-1]])


def _rep_means(design: _Design, M: np.ndarray) -> np.ndarray:
    """Per-rep column means (G x p); rows must be grouped by rep."""
    sums = np.add.reduceat(M, design.starts, axis=0)
    counts = np.diff(np.r_[design.starts, M.shape[0]])
    return sums / counts[:, None]


def _two_way_demean(design: _Design, M: np.ndarray) -> np.ndarray:
    """Remove rep and period fixed effects from every column of ``M`` exactly.

    Frisch-Waugh-Lovell in two steps, without dummy columns or iteration:
    demean within rep (``M_R M``), then project out the rep-demeaned period
    indicators, whose cross-products are a small T x T matrix built from the
    rep x period incidence counts:
    ``A = D_T' M_R D_T = diag(n_t) - B' diag(1/n_r) B`` and
    ``M_RT M = M_R M - M_R D_T A^+ D_T' M_R M``.
    This is exact for unbalanced panels (reps joining and leaving) and costs a
    few passes over the data, O(N p) plus O(T^3).
    """
    M = np.asarray(M, dtype=float)
    squeeze = M.ndim == 1
    if squeeze:
        M = M[:, None]
    n = M.shape[0]
    rep_idx = design.rep
    Mr = M - _rep_means(design, M)[rep_idx]
    D = sp.csr_matrix((np.ones(n), (design.period, np.arange(n))), shape=(design.n_periods, n))
    C = np.asarray(D @ Mr)  # T x p: period sums of rep-demeaned data
    A = _period_gram(design)
    G = np.linalg.lstsq(A, C, rcond=None)[0]  # minimum-norm solution (A has rank T-1)
    Gt = G[design.period]
    out = Mr - (Gt - _rep_means(design, Gt)[rep_idx])
    return out[:, 0] if squeeze else out


def _period_gram(design: _Design) -> np.ndarray:
    n = design.rep.size
    B = sp.csr_matrix((np.ones(n), (design.rep, design.period)), shape=(design.n_reps, design.n_periods))
    n_r = np.asarray(B.sum(axis=1)).ravel()
    n_t = np.asarray(B.sum(axis=0)).ravel()
    Bs = sp.diags(1.0 / np.sqrt(n_r)) @ B
    return np.diag(n_t) - np.asarray((Bs.T @ Bs).todense())


@dataclass
class _OLS:
    coef: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    xtx_inv: np.ndarray
    scores: np.ndarray  # G x p cluster scores
    rss: float
    n_obs: int
    n_clusters: int
    df_resid: int


def _ols_clustered(design: _Design, X: np.ndarray, y: np.ndarray, *, n_absorbed: int) -> _OLS:
    """OLS on already-demeaned data with CR1 standard errors clustered by rep.

    The small-sample factor is ``G/(G-1) * (N-1)/(N-K)`` with ``K`` the slope
    count plus the period effects (the rep effects are nested in the clusters
    and not counted, as in fixest's ``fixef_k="nested"``).
    """
    n, p = X.shape
    xtx = X.T @ X
    xtx_inv = np.linalg.pinv(xtx)
    coef = xtx_inv @ (X.T @ y)
    resid = y - X @ coef
    scores = np.add.reduceat(X * resid[:, None], design.starts, axis=0)
    G = scores.shape[0]
    k = p + n_absorbed
    factor = (G / max(G - 1, 1)) * ((n - 1) / max(n - k, 1))
    meat = scores.T @ scores
    vcov = factor * xtx_inv @ meat @ xtx_inv
    return _OLS(coef, vcov, resid, xtx_inv, scores, float(resid @ resid), n, G, max(n - k - G, 1))


# =============================================================================
# Panel preparation
# =============================================================================
def _check_panel(panel: object, outcome: str, activities: list[str] | None) -> tuple[pd.DataFrame, list[str]]:
    if not isinstance(panel, pd.DataFrame):
        raise TypeError(f"fit_drivers: panel must be a pandas DataFrame from build_panel(); got {type(panel).__name__}.")
    if outcome not in MODEL_OUTCOMES:
        raise ValueError(
            f"fit_drivers: outcome must be one of {', '.join(map(repr, MODEL_OUTCOMES))}; got {outcome!r}."
        )
    missing = [c for c in ("rep", "period", outcome) if c not in panel.columns]
    if missing:
        raise SchemaError(
            f"fit_drivers: the panel has no column(s) {', '.join(map(repr, missing))}. "
            f"Found: {', '.join(map(str, panel.columns))}. Build it with sg.build_panel(activities, deals)."
        )
    acts = list(activities) if activities is not None else activity_columns(panel)
    unknown = [a for a in acts if a not in panel.columns]
    if unknown:
        raise SchemaError(
            f"fit_drivers: activities {', '.join(map(repr, unknown))} are not columns of the panel. "
            f"Activity columns found: {', '.join(activity_columns(panel))}."
        )
    if not acts:
        raise SchemaError("fit_drivers: the panel has no activity columns; build it with sg.build_panel().")
    for c in [*acts, outcome]:
        v = pd.to_numeric(panel[c], errors="coerce")
        bad = ~np.isfinite(v.to_numpy(dtype=float))
        if bad.any():
            rows = np.flatnonzero(bad)[:5].tolist()
            raise SchemaError(
                f"fit_drivers: column {c!r} has {int(bad.sum()):,} missing or non-numeric values "
                f"(first rows {rows}). Expected counts/amounts; build the panel with sg.build_panel()."
            )
    if panel.duplicated(["rep", "period"]).any():
        dup = panel.loc[panel.duplicated(["rep", "period"], keep=False), ["rep", "period"]].head(3)
        raise SchemaError(
            "fit_drivers: the panel has several rows for the same (rep, period), e.g. "
            f"{dup.to_dict('records')}. Expected one row per rep and period, as build_panel() returns."
        )
    return panel, acts


def _period_ordinals(period: pd.Series) -> np.ndarray:
    if isinstance(period.dtype, pd.PeriodDtype):
        return period.array.asi8.astype(np.int64)
    try:
        return pd.PeriodIndex(period).asi8.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            "fit_drivers: column 'period' must hold pandas Periods (as build_panel() returns); "
            f"got dtype {period.dtype}."
        ) from exc


@dataclass
class _Prepared:
    """A panel sorted by rep and period with integer codes and lag bookkeeping."""

    frame: pd.DataFrame  # sorted copy (index = original row labels)
    reps: pd.Index  # rep labels by code
    periods: np.ndarray  # period ordinals by code
    rep: np.ndarray
    period: np.ndarray
    ordinal: np.ndarray
    pos: np.ndarray  # position of the row within its rep's consecutive run
    freq: str


def _prepare(panel: pd.DataFrame) -> _Prepared:
    ordv = _period_ordinals(panel["period"])
    reps_all = panel["rep"].astype(str).to_numpy(dtype=object)
    order = np.lexsort((ordv, reps_all))
    frame = panel.iloc[order]
    reps_sorted = reps_all[order]
    ordv = ordv[order]
    rep_codes, rep_labels = pd.factorize(reps_sorted, sort=True)
    per_codes, per_labels = pd.factorize(ordv, sort=True)
    n = len(frame)
    new_rep = np.r_[True, rep_codes[1:] != rep_codes[:-1]] if n else np.array([], dtype=bool)
    gap = np.r_[True, np.diff(ordv) != 1] if n else np.array([], dtype=bool)
    run_start = new_rep | gap
    start_idx = np.maximum.accumulate(np.where(run_start, np.arange(n), 0)) if n else np.array([], dtype=np.int64)
    pos = np.arange(n) - start_idx
    freq = panel.attrs.get("freq") or _freq_of(panel["period"])
    return _Prepared(
        frame, pd.Index(rep_labels, dtype=object), np.asarray(per_labels), rep_codes.astype(np.int64),
        per_codes.astype(np.int64), ordv, pos, str(freq),
    )  # fmt: skip


def _freq_of(period: pd.Series) -> str:
    try:
        name = period.dtype.freq.name if isinstance(period.dtype, pd.PeriodDtype) else "W"
    except AttributeError:  # pragma: no cover
        return "W"
    return {"W": "W", "M": "M", "Q": "Q"}.get(str(name)[:1], "W")


def _lagged(values: np.ndarray, pos: np.ndarray, lags: range) -> np.ndarray:
    """Columns ``x_{t-l}`` within each rep's consecutive run; NaN where the lag reaches before it."""
    n = values.size
    out = np.full((n, len(lags)), np.nan)
    for j, lag in enumerate(lags):
        if lag == 0:
            out[:, j] = values
        elif lag > 0:
            ok = pos >= lag
            out[ok, j] = values[np.flatnonzero(ok) - lag]
        else:  # leads: the run must continue -lag rows further
            lead = -lag
            idx = np.arange(n) + lead
            ok = idx < n
            ok[ok] &= pos[idx[ok]] == pos[ok] + lead
            out[ok, j] = values[idx[ok]]
    return out


def _lag_matrix(prep: _Prepared, acts: list[str], lags: range, extra: dict[str, np.ndarray] | None = None):
    cols, names = [], []
    series = {a: prep.frame[a].to_numpy(dtype=float) for a in acts}
    if extra:
        series.update(extra)
    for a, v in series.items():
        cols.append(_lagged(v, prep.pos, lags))
        names += [(a, lag) for lag in lags]
    return np.hstack(cols), names


def _subset_design(prep: _Prepared, keep: np.ndarray) -> _Design:
    rep = prep.rep[keep]
    period = prep.period[keep]
    _, rep_c = np.unique(rep, return_inverse=True)
    per_u, per_c = np.unique(period, return_inverse=True)
    return _Design(rep_c.astype(np.int64), per_c.astype(np.int64), int(rep_c.max()) + 1 if rep.size else 0, per_u.size)


# =============================================================================
# Core fit of one linear two-way FE distributed-lag model
# =============================================================================
@dataclass
class _LagFit:
    acts: list[str]
    n_lags: int  # L: lags 0..L
    coef: np.ndarray  # (K, L+1)
    vcov: np.ndarray  # (K(L+1), K(L+1))
    sums: np.ndarray  # (K,)
    sums_se: np.ndarray
    rep_fe: pd.Series  # by rep label
    period_fe: pd.Series  # by period ordinal
    intercept: float
    n_obs: int
    n_reps: int
    n_periods: int
    rss: float
    ols: _OLS
    keep: np.ndarray


def _fit_lags(prep: _Prepared, acts: list[str], y: np.ndarray, L: int, *, sample_lag: int | None = None,
              extra: dict[str, np.ndarray] | None = None, lead: int = 0) -> _LagFit:  # fmt: skip
    """Fit the FE distributed-lag model with lags 0..L (optionally leads) on rows with full history."""
    lags = range(-lead, L + 1)
    X, names = _lag_matrix(prep, acts, lags, extra)
    need = L if sample_lag is None else max(L, sample_lag)
    keep = (prep.pos >= need) & np.isfinite(X).all(axis=1) & np.isfinite(y)
    if keep.sum() < X.shape[1] + 2:
        raise InsufficientDataError(
            f"fit_drivers: only {int(keep.sum()):,} rep-periods have {need} periods of history; too few to "
            f"estimate {X.shape[1]} lag coefficients. Use fewer lags (lags=0 or max_lag smaller) or a finer freq."
        )
    design = _subset_design(prep, keep)
    Xk, yk = X[keep], y[keep]
    Z = _two_way_demean(design, np.column_stack([yk, Xk]))
    yd, Xd = Z[:, 0], Z[:, 1:]
    ols = _ols_clustered(design, Xd, yd, n_absorbed=design.n_periods - 1)
    K = len(acts) + (len(extra) if extra else 0)
    width = len(lags)
    coef = ols.coef.reshape(K, width)
    sel = np.zeros((K, K * width))
    for k in range(K):
        sel[k, k * width + lead :(k + 1) * width] = 1.0  # sum over lags >= 0 only
    sums = sel @ ols.coef
    sums_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", sel, ols.vcov, sel), 0, None))
    # recover fixed effects: y - Xb = a_i + g_t + e; alternate two passes (exact after convergence)
    r = yk - Xk @ ols.coef
    a = np.zeros(design.n_reps)
    g = np.zeros(design.n_periods)
    cnt_r = np.bincount(design.rep, minlength=design.n_reps)
    cnt_t = np.bincount(design.period, minlength=design.n_periods)
    for _ in range(200):
        a_new = np.bincount(design.rep, r - g[design.period], design.n_reps) / np.maximum(cnt_r, 1)
        g_new = np.bincount(design.period, r - a_new[design.rep], design.n_periods) / np.maximum(cnt_t, 1)
        done = np.max(np.abs(a_new - a), initial=0) + np.max(np.abs(g_new - g), initial=0) < 1e-10
        a, g = a_new, g_new
        if done:
            break
    intercept = float(g.mean())
    g = g - intercept
    rep_labels = prep.reps[np.unique(prep.rep[keep])]
    per_labels = prep.periods[np.unique(prep.period[keep])]
    return _LagFit(
        acts=list(acts) + list(extra or {}), n_lags=L, coef=coef, vcov=ols.vcov, sums=sums, sums_se=sums_se,
        rep_fe=pd.Series(a, index=rep_labels), period_fe=pd.Series(g, index=per_labels), intercept=intercept,
        n_obs=int(keep.sum()), n_reps=design.n_reps, n_periods=design.n_periods, rss=ols.rss, ols=ols, keep=keep,
    )  # fmt: skip


def _select_lag(prep: _Prepared, acts: list[str], y: np.ndarray, max_lag: int,
                criterion: str = "aic") -> tuple[int, pd.DataFrame]:  # fmt: skip
    """Choose L in 0..max_lag by AIC (or BIC), all candidates fitted on the same rows (history >= max_lag).

    AIC is the default because the two errors are not symmetric: leaving out a
    lag that matters biases the summed effect (the estimate goals are set
    from), while an unneeded lag only widens its interval.  BIC's heavier
    penalty drops late, small lags (measured on the simulator: BIC keeps lags
    0..1 of a 0..3 meeting profile and loses a quarter of the effect).

    Returns the chosen L and a table ``n_lags, n_params, rss, aic, bic``.
    """
    X, _ = _lag_matrix(prep, acts, range(0, max_lag + 1))
    keep = (prep.pos >= max_lag) & np.isfinite(X).all(axis=1)
    if keep.sum() < X.shape[1] + 10:
        raise InsufficientDataError(
            f"fit_drivers: only {int(keep.sum()):,} rep-periods have {max_lag} periods of history, too few to "
            f"choose among lags 0..{max_lag}. Pass a smaller max_lag or a fixed lags=."
        )
    design = _subset_design(prep, keep)
    Z = _two_way_demean(design, np.column_stack([y[keep], X[keep]]))
    yd, Xd = Z[:, 0], Z[:, 1:]
    K, W = len(acts), max_lag + 1
    n = yd.size
    rows = []
    gram = Xd.T @ Xd
    xty = Xd.T @ yd
    yty = float(yd @ yd)
    for L in range(0, max_lag + 1):
        idx = np.concatenate([np.arange(k * W, k * W + L + 1) for k in range(K)])
        g = gram[np.ix_(idx, idx)]
        b = np.linalg.lstsq(g, xty[idx], rcond=None)[0]
        rss = max(yty - float(xty[idx] @ b), 1e-300)
        p = idx.size
        ll = n * np.log(rss / n)
        rows.append({"n_lags": L, "n_params": p, "rss": rss, "aic": ll + 2 * p, "bic": ll + p * np.log(n)})
    table = pd.DataFrame(rows)
    best = int(table.loc[table[criterion].idxmin(), "n_lags"])
    table["chosen"] = table["n_lags"] == best
    return best, table


# =============================================================================
# Funnel: win rate and deal size per rep, shrunk toward the team
# =============================================================================
def _shrink_rate(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Beta-binomial empirical Bayes: posterior mean rate per unit, prior mean and strength.

    The prior strength ``m`` is the method-of-moments estimate from the
    between-unit variance beyond binomial noise; with no excess variance the
    rates shrink fully to the team rate.
    """
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    tot = trials.sum()
    p = successes.sum() / tot if tot > 0 else 0.0
    has = trials > 0
    if has.sum() >= 2 and 0 < p < 1:
        raw = successes[has] / trials[has]
        w = trials[has]
        var_obs = np.average((raw - p) ** 2, weights=w)
        noise = p * (1 - p) * has.sum() / tot
        tau2 = max(var_obs - noise, 0.0)
        m = p * (1 - p) / tau2 - 1 if tau2 > 0 else 1e6
        m = float(np.clip(m, 1.0, 1e6))
    else:
        m = 1e6
    post = (successes + m * p) / (trials + m)
    return post, float(p), m


def _shrink_size(totals: np.ndarray, counts: np.ndarray, within_var: float) -> tuple[np.ndarray, float]:
    """Normal-normal empirical Bayes for mean deal size per rep; returns posterior means and team mean."""
    totals = np.asarray(totals, dtype=float)
    counts = np.asarray(counts, dtype=float)
    has = counts > 0
    mu = totals.sum() / counts.sum() if counts.sum() > 0 else 0.0
    if has.sum() >= 2:
        raw = totals[has] / counts[has]
        var_obs = np.var(raw, ddof=1)
        noise = within_var * np.mean(1.0 / counts[has])
        tau2 = max(var_obs - noise, 0.0)
    else:
        tau2 = 0.0
    raw_all = np.where(has, totals / np.maximum(counts, 1), mu)
    weight = np.where(has, tau2 / (tau2 + within_var / np.maximum(counts, 1)), 0.0) if tau2 > 0 else np.zeros_like(counts)
    return weight * raw_all + (1 - weight) * mu, float(mu)


def _within_size_var(frame: pd.DataFrame, total_col: str, count_col: str) -> float:
    """Variance of single deal amounts, estimated from per-period averages (``Var(avg) = s^2 / n``)."""
    n = frame[count_col].to_numpy(dtype=float)
    tot = frame[total_col].to_numpy(dtype=float)
    has = n > 0
    if has.sum() < 3:
        return 1.0
    rep = frame["rep"].astype(str).to_numpy(dtype=object)[has]
    avg = tot[has] / n[has]
    codes, _ = pd.factorize(rep)
    rep_tot = np.bincount(codes, tot[has])
    rep_n = np.bincount(codes, n[has])
    rep_mean = rep_tot / rep_n
    ss = float((n[has] * (avg - rep_mean[codes]) ** 2).sum())
    dof = has.sum() - codes.max() - 1
    if dof <= 0 or ss <= 0:
        return float(np.var(avg)) + 1.0
    return ss / dof


def _funnel_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-rep conversion from deals created to revenue, shrunk toward the team."""
    g = frame.groupby(frame["rep"].astype(str), sort=True)
    cols = {c: g[c].sum() for c in ("deals_created", "pipeline_created", "deals_won", "deals_lost", "won_revenue")
            if c in frame.columns}  # fmt: skip
    out = pd.DataFrame(cols)
    out.index.name = "rep"
    won = out.get("deals_won", pd.Series(0, index=out.index)).to_numpy(dtype=float)
    lost = out.get("deals_lost", pd.Series(0, index=out.index)).to_numpy(dtype=float)
    closed = won + lost
    win, _, _ = _shrink_rate(won, closed)
    if "won_revenue" in out:
        s2 = _within_size_var(frame, "won_revenue", "deals_won")
        size, mu = _shrink_size(out["won_revenue"].to_numpy(dtype=float), won, s2)
    else:
        size, mu = np.zeros(len(out)), 0.0
    if "pipeline_created" in out:
        s2c = _within_size_var(frame, "pipeline_created", "deals_created")
        created_n = out["deals_created"].to_numpy(dtype=float)
        csize, _ = _shrink_size(out["pipeline_created"].to_numpy(dtype=float), created_n, s2c)
    else:
        created_n = np.zeros(len(out))
        csize = size
    table = pd.DataFrame(
        {
            "rep": out.index.to_numpy(dtype=object),
            "win_rate": win,
            "deal_size": size,
            "n_closed": closed.astype(np.int64),
            "n_won": won.astype(np.int64),
            "n_created": created_n.astype(np.int64),
            "created_deal_size": csize,
            "raw_win_rate": np.where(closed > 0, won / np.maximum(closed, 1), np.nan),
            "raw_deal_size": np.where(won > 0, out.get("won_revenue", 0) / np.maximum(won, 1), np.nan),
        }
    )
    for q, (num, den) in {"connect_rate": ("call_connected", "call"), "show_rate": ("meeting_held", "meeting")}.items():
        if num in frame.columns and den in frame.columns:
            rate, _, _ = _shrink_rate(g[num].sum().to_numpy(dtype=float), g[den].sum().to_numpy(dtype=float))
            table[q] = rate
    return table.reset_index(drop=True)


def _conversion(outcome: str, funnel: pd.DataFrame) -> np.ndarray:
    """Per-rep factor turning one deal created into the outcome."""
    if outcome == "deals_created":
        return np.ones(len(funnel))
    if outcome == "deals_won":
        return funnel["win_rate"].to_numpy(dtype=float)
    if outcome == "won_revenue":
        return (funnel["win_rate"] * funnel["deal_size"]).to_numpy(dtype=float)
    if outcome == "pipeline_created":
        return funnel["created_deal_size"].to_numpy(dtype=float)
    raise ValueError(outcome)  # pragma: no cover


_QUALITY_OF = {"call": "connect_rate", "meeting": "show_rate"}


def _quality_factor(funnel: pd.DataFrame, activity: str, enabled: bool) -> np.ndarray:
    """Per-rep multiplier of the team effect of one activity: rep quality rate / team mean rate."""
    col = _QUALITY_OF.get(activity)
    if not enabled or col is None or col not in funnel.columns:
        return np.ones(len(funnel))
    q = funnel[col].to_numpy(dtype=float)
    mean = q.mean()
    return q / mean if mean > 0 else np.ones(len(funnel))


# =============================================================================
# Diagnostics
# =============================================================================
@dataclass
class DriverDiagnostics:
    """Honesty checks of a driver fit.

    Attributes
    ----------
    lag_selection : pandas.DataFrame
        ``n_lags, n_params, rss, aic, bic, chosen``: the criteria of every
        candidate lag length, all on the same rows (empty when ``lags`` was fixed).
    placebo : pandas.DataFrame
        ``activity, placebo_of, effect, std_error, ci_low, ci_high, p_value,
        passed``: a copy of the activity with its timing shuffled within each
        rep, added to the model.  A sound design finds no effect
        (``passed`` = interval covers zero).
    leads : pandas.DataFrame
        ``activity, lead_effect, std_error, p_value, flagged``: next period's
        activity added to the model.  A clear lead effect (``flagged``) means
        activity *responds* to results (reverse causality) and the activity's
        effect is overstated.
    pooled : pandas.DataFrame
        ``activity, pooled_effect, within_effect, ratio``: the naive pooled
        regression (no fixed effects) against the within-rep answer.
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
    """

    lag_selection: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo: pd.DataFrame = field(default_factory=pd.DataFrame)
    leads: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled: pd.DataFrame = field(default_factory=pd.DataFrame)
    holdout: pd.DataFrame = field(default_factory=pd.DataFrame)
    checks: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> Summary:
        """All checks as one printable :class:`Summary`."""
        tables = {}
        for name in ("checks", "placebo", "leads", "pooled", "holdout", "lag_selection"):
            t = getattr(self, name)
            if len(t):
                tables[name.replace("_", " ")] = t
        return Summary("Driver model diagnostics", tables=tables, notes=[*self.warnings, *self.notes])

    def __repr__(self) -> str:
        return f"DriverDiagnostics(warnings={len(self.warnings)})"


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
        * ``std_error`` : float — standard error (clustered by rep; bootstrap
          over reps when it is wider and reps are few).
        * ``ci_low``, ``ci_high`` : float — ``level`` confidence interval.
        * ``p_value`` : float — two-sided test of no effect (t with G-1 df).
        * ``significant`` : bool — ``p_value < 1 - level``.
        * ``n_lags`` : int — lags 0..n_lags in the model.
        * ``peak_lag`` : int — the lag with the largest coefficient.
        * ``mean_per_period`` : float — average count per rep-period.
        * ``contribution`` : float — ``effect * mean_per_period``: outcome per
          rep-period attributable to the activity (the importance used for sorting).
        * ``share`` : float — contribution / mean outcome per rep-period.
        * ``effect_on_created`` : float — the effect on deals created the
          funnel started from (equal to ``effect`` for ``method="direct"``
          on deals created; NaN-free: for direct fits it repeats ``effect``).
    lags : pandas.DataFrame
        The lag profile: ``activity, lag, coef, std_error`` (on the estimated
        outcome: deals created for the funnel method).
    rep_effects : pandas.DataFrame
        ``rep, activity, effect, ci_low, ci_high``: per-rep effect on the
        outcome, the team effect scaled by the rep's (shrunk) quality rate and
        funnel conversion.
    funnel : pandas.DataFrame
        Per rep: ``rep, win_rate, deal_size, n_closed, n_won, n_created,
        created_deal_size, raw_win_rate, raw_deal_size`` (raw rates are NaN
        where a rep closed nothing) and ``connect_rate``/``show_rate`` when the
        panel has quality columns.  Rates and sizes are shrunk toward the team.
    diagnostics : DriverDiagnostics
        Placebo, leads, pooled-vs-within, hold-out fit and data-support checks.
    n_reps, n_periods, n_obs : int
        Size of the estimation sample.
    level : float
        Confidence level of the intervals.
    """

    def __init__(self, *, outcome, method, effects, lags, rep_effects, funnel, diagnostics, fit, n_reps,
                 n_periods, n_obs, level, freq, activities, quality_adjust, estimated_outcome):  # fmt: skip
        self.outcome = outcome
        self.method = method
        self.effects = effects
        self.lags = lags
        self.rep_effects = rep_effects
        self.funnel = funnel
        self.diagnostics = diagnostics
        self._fit = fit
        self.n_reps = n_reps
        self.n_periods = n_periods
        self.n_obs = n_obs
        self.level = level
        self.freq = freq
        self.activities = list(activities)
        self.quality_adjust = quality_adjust
        self.estimated_outcome = estimated_outcome

    # ------------------------------------------------------------------ API
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
        missing = [c for c in ("rep", "period", *self.activities) if c not in panel.columns]
        if missing:
            raise SchemaError(
                f"DriverResult.predict: the panel has no column(s) {', '.join(map(repr, missing))}; "
                f"it needs rep, period and the activity columns {', '.join(self.activities)}."
            )
        fit = self._fit
        prep = _prepare(panel)
        X, _ = _lag_matrix(prep, self.activities, range(0, fit.n_lags + 1))
        if np.isnan(X).any():
            means = prep.frame.groupby(prep.rep)[self.activities].mean().to_numpy(dtype=float)
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
        if self.method == "funnel" and self.outcome != self.estimated_outcome:
            conv = pd.Series(_conversion(self.outcome, self.funnel), index=self.funnel["rep"].astype(str))
            c = conv.reindex(rep_labels.astype(str)).to_numpy(dtype=float)
            c = np.where(np.isnan(c), float(conv.mean()), c)
            pred = pred * c
        pred = np.maximum(pred, 0.0)
        out = pd.Series(pred, index=prep.frame.index, name=f"predicted_{self.outcome}")
        return out.reindex(panel.index)

    def summary(self) -> Summary:
        """Effects with intervals, the method, and every warning, as a printable report."""
        eff = self.effects[["activity", "effect", "std_error", "ci_low", "ci_high", "p_value", "peak_lag", "share"]]
        facts = {
            "outcome": self.outcome,
            "method": (
                f"{self.method}: two-way fixed effects (rep, period) distributed lag 0..{self._fit.n_lags}"
                + (f", carried from {self.estimated_outcome} by win rate x deal size" if self.method == "funnel"
                   and self.outcome != self.estimated_outcome else "")  # fmt: skip
            ),
            "sample": f"{self.n_reps:,} reps x {self.n_periods:,} periods ({self.n_obs:,} rep-periods, freq {self.freq})",
            "intervals": f"{self.level:.0%}, standard errors clustered by rep",
            "effect": f"change in {self.outcome} per period-sum from ONE extra activity, summed over lags",
        }
        notes = list(self.diagnostics.warnings)
        extra = list(self.diagnostics.notes)
        hold = self.diagnostics.holdout
        if len(hold) and "skill" in hold.attrs:
            facts["hold-out skill"] = f"{hold.attrs['skill']:+.1%} RMSE vs each rep's average"
        if not notes:
            notes = ["No warnings: placebo near zero, no lead effects, data support confident answers."]
        notes += extra
        return Summary(f"What drives {self.outcome}", facts=facts, tables={"effects": eff}, notes=notes)

    def plot(self, ax=None, **kwargs):
        """Effects with their confidence intervals (see :func:`salesgoals.plotting.plot_drivers`)."""
        from salesgoals.plotting._drivers import plot_drivers

        return plot_drivers(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        return (
            f"DriverResult(outcome={self.outcome!r}, method={self.method!r}, reps={self.n_reps}, "
            f"periods={self.n_periods}, lags=0..{self._fit.n_lags}, warnings={len(self.diagnostics.warnings)})"
        )


# =============================================================================
# The estimator
# =============================================================================
class DriverModel(BaseEstimator):
    """Two-way fixed-effects distributed-lag driver model (scikit-learn style).

    Parameters
    ----------
    outcome : {"deals_created", "deals_won", "won_revenue", "pipeline_created"}, default="deals_created"
        Outcome the effects are reported on.
    method : {"auto", "funnel", "direct"}, default="auto"
        ``"funnel"`` estimates on deals created and carries effects to the
        outcome by each rep's shrunk win rate and deal size; ``"direct"``
        regresses the outcome itself on (longer) lags.  ``"auto"`` is
        ``"funnel"`` when the panel has deals created, else ``"direct"``.
        Keyword-only from here on.
    lags : int, optional
        Fixed lag length ``L`` (lags ``0..L``).  By default chosen from the
        data by ``lag_criterion`` over ``0..max_lag``.
    max_lag : int, optional
        Longest lag considered; defaults to :data:`DEFAULT_MAX_LAG` (funnel
        or deals created) or :data:`DEFAULT_MAX_LAG_DIRECT` (direct on closed
        outcomes) for the panel frequency.
    lag_criterion : {"aic", "bic"}, default="aic"
        How the lag length is chosen (all candidates on the same rows).  AIC
        because dropping a real lag biases the summed effect while an extra
        lag only widens the interval.
    activities : list of str, optional
        Activity columns to use; default every activity column of the panel.
    quality_adjust : bool, default=True
        Per-rep effects of calls and meetings scale with the rep's connect
        and show rate relative to the team.
    level : float, default=0.95
        Confidence level.
    n_boot : int, default=299
        Bootstrap draws over reps, run when there are fewer than
        :data:`BOOTSTRAP_BELOW_REPS` reps (0 turns it off).
    diagnostics : bool, default=True
        Run the placebo, leads, pooled and hold-out checks (a few extra fits).
    holdout_share : float, default=0.2
        Share of the last periods held out for the out-of-sample check.
    seed : int, default=0
        Seed of the placebo shuffle and the bootstrap.

    Attributes
    ----------
    result_ : DriverResult
    effects_ : pandas.DataFrame
        Same as ``result_.effects``.
    coef_ : pandas.DataFrame
        Lag coefficients, same as ``result_.lags``.
    n_lags_ : int
    n_reps_ : int
    activities_ : list of str

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

    def __init__(self, outcome: Outcome = "deals_created", *, method: Method = "auto", lags: int | None = None,
                 max_lag: int | None = None, lag_criterion: Literal["aic", "bic"] = "aic", activities: list[str] | None = None, quality_adjust: bool = True,
                 level: float = 0.95, n_boot: int = 299, diagnostics: bool = True, holdout_share: float = 0.2,
                 seed: int = 0) -> None:  # fmt: skip
        self.outcome = outcome
        self.method = method
        self.lags = lags
        self.max_lag = max_lag
        self.lag_criterion = lag_criterion
        self.activities = activities
        self.quality_adjust = quality_adjust
        self.level = level
        self.n_boot = n_boot
        self.diagnostics = diagnostics
        self.holdout_share = holdout_share
        self.seed = seed

    # ------------------------------------------------------------------ fit
    def fit(self, panel: pd.DataFrame, y=None) -> DriverModel:
        """Fit the model to a rep x period panel; returns ``self``.

        Raises
        ------
        SchemaError
            Missing or non-numeric columns, duplicated (rep, period) rows.
        InsufficientDataError
            Too few rep-periods for the lags, or no activity varies within reps.
        ValueError
            Unknown outcome, method or option values.
        """
        panel, acts = _check_panel(panel, self.outcome, self.activities)
        if self.method not in ("auto", "funnel", "direct"):
            raise ValueError(f"DriverModel: method must be one of 'auto', 'funnel', 'direct'; got {self.method!r}.")
        if not 0 < self.level < 1:
            raise ValueError(f"DriverModel: level must be between 0 and 1; got {self.level!r}.")
        if self.lags is not None and (int(self.lags) != self.lags or self.lags < 0):
            raise ValueError(f"DriverModel: lags must be a non-negative integer; got {self.lags!r}.")
        if self.lag_criterion not in ("aic", "bic"):
            raise ValueError(f"DriverModel: lag_criterion must be 'aic' or 'bic'; got {self.lag_criterion!r}.")
        if not 0 < self.holdout_share < 1:
            raise ValueError(f"DriverModel: holdout_share must be between 0 and 1; got {self.holdout_share!r}.")
        method = self.method
        if method == "auto":
            method = "funnel" if _FUNNEL_BASE in panel.columns else "direct"
        if method == "funnel" and _FUNNEL_BASE not in panel.columns:
            raise SchemaError("DriverModel: method='funnel' needs the column 'deals_created' in the panel.")
        estimated = _FUNNEL_BASE if method == "funnel" else self.outcome
        if method == "direct" and self.outcome == _FUNNEL_BASE:
            method = "funnel"  # same thing; report it one way
        prep = _prepare(panel)
        freq = prep.freq if prep.freq in DEFAULT_MAX_LAG else "W"
        messages: list[str] = []  # warnings: the data cannot support a confident answer
        notes: list[str] = []  # how the answer was computed

        # activities with no variation within rep and period cannot be estimated
        acts = _drop_constant(prep, acts, messages)
        y = prep.frame[estimated].to_numpy(dtype=float)
        checks = _support_checks(prep, acts, messages)

        # ------------------------------------------------------- lag length
        if self.lags is not None:
            L = int(self.lags)
            lag_table = pd.DataFrame(columns=["n_lags", "n_params", "rss", "aic", "bic", "chosen"])
        else:
            default = DEFAULT_MAX_LAG_DIRECT if (method == "direct" and estimated in ("deals_won", "won_revenue")) \
                else DEFAULT_MAX_LAG  # fmt: skip
            max_lag = int(self.max_lag) if self.max_lag is not None else default[freq]
            max_lag = _cap_lag(prep, max_lag, len(acts), notes)
            L, lag_table = _select_lag(prep, acts, y, max_lag, self.lag_criterion)
        fit = _fit_lags(prep, acts, y, L)
        n_reps = fit.n_reps

        # --------------------------------------------- funnel and conversion
        funnel = _funnel_table(prep.frame)
        funnel = funnel.loc[funnel["rep"].isin(fit.rep_fe.index.astype(str))].reset_index(drop=True)
        conv = _conversion(self.outcome, funnel) if (method == "funnel") else np.ones(len(funnel))
        qf = {a: _quality_factor(funnel, a, self.quality_adjust) for a in acts}
        mult = np.array([float(np.mean(qf[a] * conv)) for a in acts])  # mean over reps
        mult_se = np.array([float(np.std(qf[a] * conv, ddof=1) / np.sqrt(len(conv))) if len(conv) > 1 else 0.0
                            for a in acts])  # fmt: skip

        effect = fit.sums * mult
        se = np.sqrt((fit.sums_se * mult) ** 2 + (fit.sums * mult_se) ** 2)
        dof = max(n_reps - 1, 1)
        crit = stats.t.ppf(0.5 + self.level / 2, dof)

        # ------------------------------------------- bootstrap over few reps
        boot_se = None
        if n_reps < BOOTSTRAP_BELOW_REPS and self.n_boot:
            boot_se = _bootstrap_reps(prep, acts, estimated, L, self.outcome, method, self.quality_adjust,
                                      self.n_boot, self.seed)  # fmt: skip
            if boot_se is not None:
                wider = boot_se > se
                se = np.where(wider, boot_se, se)
                notes.append(
                    f"{n_reps} reps: standard errors are the larger of the clustered and a "
                    f"{self.n_boot}-draw bootstrap over reps; intervals use t({dof})."
                )
        with np.errstate(divide="ignore", invalid="ignore"):
            tstat = np.where(se > 0, effect / se, 0.0)
        p_value = 2 * stats.t.sf(np.abs(tstat), dof)

        mean_x = prep.frame.loc[fit.keep, acts].to_numpy(dtype=float).mean(axis=0)
        if method == "funnel" and self.outcome != estimated:
            mean_y = float(prep.frame.loc[fit.keep, self.outcome].mean()) if self.outcome in prep.frame else 0.0
        else:
            mean_y = float(y[fit.keep].mean())
        contribution = effect * mean_x
        share = contribution / mean_y if mean_y > 0 else np.zeros_like(contribution)
        peak = np.argmax(fit.coef[: len(acts)], axis=1)
        effects = pd.DataFrame(
            {
                "activity": pd.Series(acts, dtype=object),
                "effect": effect,
                "std_error": se,
                "ci_low": effect - crit * se,
                "ci_high": effect + crit * se,
                "p_value": p_value,
                "significant": p_value < (1 - self.level),
                "n_lags": np.full(len(acts), L, dtype=np.int64),
                "peak_lag": peak.astype(np.int64),
                "mean_per_period": mean_x,
                "contribution": contribution,
                "share": share,
                "effect_on_created": fit.sums if method == "funnel" else effect,
            }
        )
        effects = effects.sort_values(["contribution", "activity"], ascending=[False, True], kind="mergesort")
        effects = effects.reset_index(drop=True)

        lag_se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None)).reshape(fit.coef.shape)
        lag_rows = pd.DataFrame(
            {
                "activity": pd.Series(np.repeat(acts, L + 1), dtype=object),
                "lag": np.tile(np.arange(L + 1), len(acts)).astype(np.int64),
                "coef": fit.coef[: len(acts)].ravel(),
                "std_error": lag_se[: len(acts)].ravel(),
            }
        )

        # ------------------------------------------------------- per rep
        rows = []
        scale = crit * np.sqrt((fit.sums_se) ** 2 + (boot_se if boot_se is not None else 0) ** 2 * 0)
        for j, a in enumerate(acts):
            f = qf[a] * conv
            e = fit.sums[j] * f
            rows.append(pd.DataFrame({
                "rep": funnel["rep"].to_numpy(dtype=object), "activity": a, "effect": e,
                "ci_low": (fit.sums[j] - scale[j]) * f, "ci_high": (fit.sums[j] + scale[j]) * f,
            }))  # fmt: skip
        rep_effects = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
            columns=["rep", "activity", "effect", "ci_low", "ci_high"])  # fmt: skip
        rep_effects["activity"] = rep_effects["activity"].astype(object)

        # ---------------------------------------------------- diagnostics
        diag = DriverDiagnostics(lag_selection=lag_table, checks=checks)
        if self.diagnostics:
            _run_diagnostics(diag, prep, acts, y, L, fit, self.seed, self.holdout_share, estimated, messages, crit)
        _warn_wide(effects, messages)
        diag.warnings = messages
        diag.notes = notes
        for msg in messages:
            warnings.warn(f"fit_drivers: {msg}", UnreliableEstimateWarning, stacklevel=3)

        self.result_ = DriverResult(
            outcome=self.outcome, method=method, effects=effects, lags=lag_rows, rep_effects=rep_effects,
            funnel=funnel, diagnostics=diag, fit=fit, n_reps=n_reps, n_periods=fit.n_periods, n_obs=fit.n_obs,
            level=self.level, freq=freq, activities=acts, quality_adjust=self.quality_adjust,
            estimated_outcome=estimated,
        )  # fmt: skip
        self.effects_ = effects
        self.coef_ = lag_rows
        self.n_lags_ = L
        self.n_reps_ = n_reps
        self.activities_ = acts
        return self

    def predict(self, panel: pd.DataFrame) -> pd.Series:
        """Expected outcome per panel row (see :meth:`DriverResult.predict`)."""
        if not hasattr(self, "result_"):
            raise NotFittedError("This DriverModel is not fitted yet; call .fit(panel) first.")
        return self.result_.predict(panel)


# ---------------------------------------------------------------- fit helpers
def _drop_constant(prep: _Prepared, acts: list[str], messages: list[str]) -> list[str]:
    keep = []
    for a in acts:
        v = prep.frame[a].to_numpy(dtype=float)
        design = _Design(prep.rep, prep.period, len(prep.reps), len(prep.periods))
        within = _two_way_demean(design, v) if v.size else v
        if v.size and np.sqrt(np.mean(within**2)) > 1e-9 * (1 + np.abs(v).mean()):
            keep.append(a)
        else:
            messages.append(
                f"activity {a!r} does not vary within reps and periods, so its effect cannot be estimated; left out."
            )
    if not keep:
        raise InsufficientDataError(
            "fit_drivers: no activity column varies within reps from period to period, so no effect can be "
            "estimated. Check that the panel has more than one period per rep."
        )
    return keep


def _cap_lag(prep: _Prepared, max_lag: int, n_acts: int, messages: list[str]) -> int:
    """Lower max_lag so that at least half of the rows keep full history."""
    run_len = np.bincount(prep.rep)
    typical = int(np.median(run_len)) if run_len.size else 0
    cap = max(0, min(max_lag, typical // 2 - 1))
    if cap < max_lag:
        messages.append(f"max_lag lowered from {max_lag} to {cap}: reps have only {typical} periods (median).")
    return cap


def _support_checks(prep: _Prepared, acts: list[str], messages: list[str]) -> pd.DataFrame:
    rows = []
    n_reps = len(prep.reps)
    per_rep = np.bincount(prep.rep).mean() if len(prep.rep) else 0.0
    rows.append(("reps", float(n_reps), float(MIN_REPS), n_reps >= MIN_REPS,
                 f"{n_reps} reps: effects rest on few people; intervals are wide and may still be optimistic."))
    rows.append(("periods_per_rep", float(per_rep), float(MIN_PERIODS), per_rep >= MIN_PERIODS,
                 f"{per_rep:.0f} periods per rep on average: too short a history to separate lags and seasons."))
    totals = prep.frame.groupby(prep.rep)[acts].sum().to_numpy(dtype=float)
    col_tot = totals.sum(axis=0)
    shares = np.divide(totals.max(axis=0), col_tot, out=np.zeros(len(acts)), where=col_tot > 0)
    for a, s, j in zip(acts, shares, np.argmax(totals, axis=0)):
        rows.append((f"top_rep_share:{a}", float(s), MAX_REP_SHARE, s <= MAX_REP_SHARE,
                     f"one rep ({prep.reps[j]}) logs {s:.0%} of all {a} activity: its effect mostly describes that rep."))
    design = _Design(prep.rep, prep.period, len(prep.reps), len(prep.periods))
    if len(acts) > 1:
        W = _two_way_demean(design, prep.frame[acts].to_numpy(dtype=float))
        sd = W.std(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.corrcoef(W, rowvar=False) if (sd > 0).all() else np.zeros((len(acts), len(acts)))
        for i in range(len(acts)):
            for j in range(i + 1, len(acts)):
                c = float(np.nan_to_num(corr[i, j]))
                rows.append((f"collinearity:{acts[i]}~{acts[j]}", abs(c), MAX_COLLINEARITY, abs(c) <= MAX_COLLINEARITY,
                             f"{acts[i]} and {acts[j]} move together within reps (r = {c:.2f}): their effects cannot "
                             "be told apart; read their sum, not each one."))  # fmt: skip
    table = pd.DataFrame(rows, columns=["check", "value", "threshold", "ok", "message"])
    table["check"] = table["check"].astype(object)
    table["message"] = table["message"].astype(object)
    for ok, msg in zip(table["ok"], table["message"]):
        if not ok:
            messages.append(msg)
    table.loc[table["ok"], "message"] = ""
    return table


def _warn_wide(effects: pd.DataFrame, messages: list[str]) -> None:
    top = effects.iloc[0] if len(effects) else None
    if top is not None and not bool(top["significant"]):
        messages.append(
            f"Even the most important activity ({top['activity']}) has an interval covering zero: the data cannot "
            "say which activities drive results; treat every effect as unknown."
        )


def _resample_panel(prep: _Prepared, rng: np.random.Generator) -> pd.DataFrame:
    """Draw reps with replacement; duplicated reps become separate reps."""
    n_r = len(prep.reps)
    draw = rng.integers(0, n_r, n_r)
    starts = np.flatnonzero(np.r_[True, prep.rep[1:] != prep.rep[:-1]])
    ends = np.r_[starts[1:], prep.rep.size]
    lens = ends[draw] - starts[draw]
    idx = np.repeat(starts[draw], lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    frame = prep.frame.iloc[idx].copy()
    frame["rep"] = np.repeat(np.arange(n_r), lens).astype(str).astype(object)
    frame["rep"] = pd.Series([f"b{i:05d}" for i in np.repeat(np.arange(n_r), lens)], index=frame.index, dtype=object)
    frame = frame.reset_index(drop=True)
    frame.attrs = dict(prep.frame.attrs)
    return frame


def _bootstrap_reps(prep, acts, estimated, L, outcome, method, quality_adjust, n_boot, seed) -> np.ndarray | None:
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(int(n_boot)):
        frame = _resample_panel(prep, rng)
        bp = _prepare(frame)
        try:
            f = _fit_lags(bp, acts, bp.frame[estimated].to_numpy(dtype=float), L)
        except (InsufficientDataError, np.linalg.LinAlgError):
            continue
        funnel = _funnel_table(bp.frame)
        conv = _conversion(outcome, funnel) if method == "funnel" else np.ones(len(funnel))
        mult = np.array([float(np.mean(_quality_factor(funnel, a, quality_adjust) * conv)) for a in acts])
        draws.append(f.sums[: len(acts)] * mult)
    if len(draws) < 20:
        return None
    return np.std(np.asarray(draws), axis=0, ddof=1)


def _run_diagnostics(diag, prep, acts, y, L, fit, seed, holdout_share, estimated, messages, crit) -> None:
    rng = np.random.default_rng(seed)
    # ---------------------------------------------------------- placebo
    rows = []
    targets = acts  # one shuffled copy per activity, each in its own fit
    for a in targets:
        v = prep.frame[a].to_numpy(dtype=float)
        perm = np.lexsort((rng.random(v.size), prep.rep))  # random order within rep
        shuffled = v[perm]
        f = _fit_lags(prep, acts, y, L, extra={f"placebo_{a}": shuffled})
        j = len(acts)
        e, s = f.sums[j], f.sums_se[j]
        p = 2 * stats.t.sf(abs(e / s), max(f.n_reps - 1, 1)) if s > 0 else 1.0
        rows.append({"activity": f"placebo_{a}", "placebo_of": a, "effect": e, "std_error": s,
                     "ci_low": e - crit * s, "ci_high": e + crit * s, "p_value": p,
                     "passed": bool(e - crit * s <= 0 <= e + crit * s)})  # fmt: skip
    diag.placebo = pd.DataFrame(rows).astype({"activity": object, "placebo_of": object})
    failed = diag.placebo.loc[~diag.placebo["passed"], "placebo_of"].tolist()
    if failed:
        messages.append(
            f"Placebo check: a timing-shuffled copy of {', '.join(failed)} shows an effect; some of the effects may "
            "come from differences between reps or periods the model does not remove."
        )
    # ------------------------------------------------------------ leads
    f = _fit_lags(prep, acts, y, L, lead=1, sample_lag=L)
    W = L + 2
    lead_b = f.ols.coef.reshape(len(acts), W)[:, 0]
    lead_se = np.sqrt(np.clip(np.diag(f.vcov), 0, None)).reshape(len(acts), W)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        lead_p = np.where(lead_se > 0, 2 * stats.t.sf(np.abs(lead_b / lead_se), max(f.n_reps - 1, 1)), 1.0)
    flagged = lead_p < LEADS_ALPHA / len(acts)
    diag.leads = pd.DataFrame({"activity": pd.Series(acts, dtype=object), "lead_effect": lead_b,
                               "std_error": lead_se, "p_value": lead_p, "flagged": flagged})  # fmt: skip
    for a, b, p in zip(np.array(acts, dtype=object)[flagged], lead_b[flagged], lead_p[flagged]):
        messages.append(
            f"Leads check: next period's {a} 'predicts' this period's {estimated} (lead effect {b:.3g}, "
            f"p = {p:.1g}). {a} partly FOLLOWS results (e.g. follow-ups after a deal is created), so its effect "
            "is likely overstated; treat it with caution."
        )
    # ----------------------------------------------------------- pooled
    X, _ = _lag_matrix(prep, acts, range(0, L + 1))
    keep = fit.keep
    Xk = np.column_stack([np.ones(keep.sum()), X[keep]])
    b = np.linalg.lstsq(Xk, y[keep], rcond=None)[0][1:].reshape(len(acts), L + 1).sum(axis=1)
    within = fit.sums[: len(acts)]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(within != 0, b / within, np.nan)
    diag.pooled = pd.DataFrame({"activity": pd.Series(acts, dtype=object), "pooled_effect": b,
                                "within_effect": within, "ratio": np.nan_to_num(ratio, nan=0.0)})  # fmt: skip
    # ---------------------------------------------------------- holdout
    diag.holdout = _holdout(prep, acts, y, L, holdout_share)


def _holdout(prep, acts, y, L, share) -> pd.DataFrame:
    periods = np.unique(prep.ordinal)
    n_test = max(1, int(round(share * periods.size)))
    if periods.size - n_test < L + 4:
        return pd.DataFrame(columns=["model", "rmse", "mae", "n_obs"])
    cut = periods[-n_test]
    train = prep.ordinal < cut
    frame = prep.frame.loc[train]
    frame.attrs = dict(prep.frame.attrs)
    tp = _prepare(frame)
    try:
        f = _fit_lags(tp, acts, y[train], L)  # the train rows keep the sorted order
    except InsufficientDataError:
        return pd.DataFrame(columns=["model", "rmse", "mae", "n_obs"])
    X, _ = _lag_matrix(prep, acts, range(0, L + 1))
    test = (~train) & np.isfinite(X).all(axis=1)
    rep_lab = prep.reps[prep.rep[test]]
    a = f.rep_fe.reindex(rep_lab).to_numpy(dtype=float)
    seen = ~np.isnan(a)
    pred = a + f.intercept + X[test] @ f.coef.ravel()
    rep_mean = pd.Series(y[train]).groupby(prep.rep[train]).mean()
    base = rep_mean.reindex(prep.rep[test]).to_numpy(dtype=float)
    ok = seen & ~np.isnan(base)
    yt = y[test][ok]
    out = []
    for name, p in (("driver model", pred[ok]), ("rep average (naive)", base[ok])):
        err = yt - p
        out.append({"model": name, "rmse": float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
                    "mae": float(np.mean(np.abs(err))) if err.size else 0.0, "n_obs": int(err.size)})  # fmt: skip
    table = pd.DataFrame(out).astype({"model": object})
    if table["rmse"].iloc[1] > 0:
        table.attrs["skill"] = float(1 - table["rmse"].iloc[0] / table["rmse"].iloc[1])
    return table


# =============================================================================
# Front door
# =============================================================================
def fit_drivers(panel: pd.DataFrame, outcome: Outcome = "deals_created", **kwargs) -> DriverResult:
    """Estimate which activities drive an outcome, within rep and within period.

    Parameters
    ----------
    panel : pandas.DataFrame
        Rep x period panel from :func:`salesgoals.build_panel`.
    outcome : {"deals_created", "deals_won", "won_revenue", "pipeline_created"}, default="deals_created"
        Outcome the effects are reported on.
    **kwargs
        Keyword-only options of :class:`DriverModel` (``method``, ``lags``,
        ``max_lag``, ``activities``, ``quality_adjust``, ``level``,
        ``n_boot``, ``diagnostics``, ``holdout_share``, ``seed``).

    Returns
    -------
    DriverResult
        ``.effects`` (one row per activity, most important first: ``activity,
        effect, std_error, ci_low, ci_high, p_value, significant, n_lags,
        peak_lag, mean_per_period, contribution, share, effect_on_created``),
        ``.lags``, ``.rep_effects``, ``.funnel``, ``.diagnostics``,
        ``.predict(panel)``, ``.summary()``, ``.plot()``.

    Raises
    ------
    SchemaError
        The panel lacks ``rep``, ``period``, the outcome or activity columns.
    InsufficientDataError
        Too little history for the lags.

    Warns
    -----
    UnreliableEstimateWarning
        Few reps or periods, one rep dominating an activity, collinear
        activities, a failed placebo or leads check, or no clear driver.

    See Also
    --------
    DriverModel : the estimator behind this function.
    compare_performers : what top performers do differently.

    Notes
    -----
    See the module docstring of :mod:`salesgoals.drivers` for the model, why it
    is linear, and its assumptions.

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
