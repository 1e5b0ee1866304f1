"""Linear algebra of the driver model: exact two-way within transformation, clustered OLS, lags.

Everything here works on a panel sorted by rep then period, so that each rep's
rows are contiguous and per-rep sums are one ``np.add.reduceat``.  No dummy
columns are built and no per-row Python loop runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp

from salesgoals._schema import MODEL_OUTCOMES
from salesgoals.errors import InsufficientDataError, SchemaError
from salesgoals.panel import activity_columns


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
    G = _solve_period_gram(_period_gram(design), C)
    Gt = G[design.period]
    out = Mr - (Gt - _rep_means(design, Gt)[rep_idx])
    return out[:, 0] if squeeze else out


def _solve_period_gram(A: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Solve ``A G = C`` for the T x T period Gram matrix, which has rank T - 1.

    The rep-demeaned period indicators sum to zero, so dropping the last one
    spans the same space: a Cholesky solve on the leading (T-1) block.  When
    reps and periods split into disconnected groups the block is singular too
    and a minimum-norm least-squares solve is used instead (same projection).
    """
    T = A.shape[0]
    G = np.zeros_like(C)
    if T <= 1:
        return G
    try:
        cho = scipy.linalg.cho_factor(A[:-1, :-1], check_finite=False)
        G[:-1] = scipy.linalg.cho_solve(cho, C[:-1], check_finite=False)
    except np.linalg.LinAlgError:
        G = np.linalg.lstsq(A, C, rcond=None)[0]
    return G


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
    count plus one per period effect; the rep effects are nested in the
    clusters and not counted.  This is pyfixest's default (``CRV1`` with
    ``ssc(k_fixef="nonnested")``), which the tests check to 1e-8.
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
    frame.attrs = {"freq": freq}  # pandas deep-copies attrs on every operation: keep them tiny
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
    sums: np.ndarray  # (K,) effect summed over lags >= 0
    sums_vcov: np.ndarray  # (K, K) covariance of the sums
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
    ols = _ols_clustered(design, Xd, yd, n_absorbed=design.n_periods)
    K = len(acts) + (len(extra) if extra else 0)
    width = len(lags)
    coef = ols.coef.reshape(K, width)
    sel = np.zeros((K, K * width))
    for k in range(K):
        sel[k, k * width + lead :(k + 1) * width] = 1.0  # sum over lags >= 0 only
    sums = sel @ ols.coef
    sums_vcov = sel @ ols.vcov @ sel.T
    sums_se = np.sqrt(np.clip(np.diag(sums_vcov), 0, None))
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
        acts=list(acts) + list(extra or {}), n_lags=L, coef=coef, vcov=ols.vcov, sums=sums, sums_vcov=sums_vcov,
        sums_se=sums_se,
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

