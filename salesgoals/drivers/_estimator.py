"""Linear algebra of the driver model: exact two-way within transformation, clustered OLS, lags.

Everything here works on a panel sorted by rep then period, so that each rep's
rows are contiguous; per-rep and per-period sums are one product with a sparse
indicator matrix.  No dummy columns are built and no per-row Python loop runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
from scipy import stats
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from salesgoals._schema import MODEL_OUTCOMES, QUALITY_METRICS
from salesgoals.errors import InsufficientDataError, SchemaError
from salesgoals.panel import activity_columns

#: Rows per block in the passes that write a big matrix (lag matrix, demeaning): a block of ~100 float64
#: columns stays in the CPU cache while it is written several times (about 2x faster on 1M rows).
_ROW_BLOCK = 16384


@dataclass
class _Design:
    """Index structure of a panel sorted by rep then period (rows contiguous per rep).

    The sparse period indicator and the factorised period Gram matrix are
    computed once per design and reused by every column demeaned with it.
    """

    rep: np.ndarray  # int codes 0..G-1, non-decreasing
    period: np.ndarray  # int codes 0..T-1
    n_reps: int
    n_periods: int

    @cached_property
    def starts(self) -> np.ndarray:
        return np.flatnonzero(np.r_[True, self.rep[1:] != self.rep[:-1]])

    @cached_property
    def rep_counts(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, self.rep.size])

    @cached_property
    def period_indicator(self) -> sp.csr_matrix:
        n = self.rep.size
        return sp.csr_matrix((np.ones(n), (self.period, np.arange(n))), shape=(self.n_periods, n))

    @cached_property
    def rep_indicator(self) -> sp.csr_matrix:
        """Sparse G x N indicator: ``rep_indicator @ M`` is the per-rep column sums (10x ``np.add.reduceat``)."""
        n = self.rep.size
        return sp.csr_matrix((np.ones(n), self.rep, np.arange(n + 1)), shape=(n, self.n_reps)).T.tocsr()

    @cached_property
    def incidence(self) -> sp.csr_matrix:
        """Rep x period incidence counts ``B`` (sparse)."""
        n = self.rep.size
        return sp.csr_matrix((np.ones(n), (self.rep, self.period)), shape=(self.n_reps, self.n_periods))

    @cached_property
    def period_gram(self):
        """``A = D_T' M_R D_T`` and its Cholesky factor on the leading (T-1) block (None if singular)."""
        A = _period_gram(self)
        if A.shape[0] <= 1:
            return A, None
        try:
            return A, scipy.linalg.cho_factor(A[:-1, :-1], check_finite=False)
        except np.linalg.LinAlgError:  # reps and periods fall into disconnected groups
            return A, None

    def solve_period(self, C: np.ndarray) -> np.ndarray:
        """Solve ``A G = C`` (A has rank T - 1: the rep-demeaned period indicators sum to zero).

        Dropping the last period spans the same space, so a Cholesky solve on
        the leading block suffices; when the panel splits into disconnected
        groups a minimum-norm least-squares solve gives the same projection.
        """
        A, cho = self.period_gram
        G = np.zeros_like(C)
        if A.shape[0] <= 1:
            return G
        if cho is None:
            return np.linalg.lstsq(A, C, rcond=None)[0]
        G[:-1] = scipy.linalg.cho_solve(cho, C[:-1], check_finite=False)
        return G


def _rep_means(design: _Design, M: np.ndarray) -> np.ndarray:
    """Per-rep column means (G x p); rows must be grouped by rep."""
    return np.asarray(design.rep_indicator @ M) / design.rep_counts[:, None]


def _two_way_demean(design: _Design, M: np.ndarray, *, overwrite: bool = False,
                    removed: list | None = None) -> np.ndarray:  # fmt: skip
    """Remove rep and period fixed effects from every column of ``M`` exactly.

    Frisch-Waugh-Lovell in two steps, without dummy columns or iteration:
    demean within rep (``M_R M``), then project out the rep-demeaned period
    indicators, whose cross-products are a small T x T matrix built from the
    rep x period incidence counts:
    ``A = D_T' M_R D_T = diag(n_t) - B' diag(1/n_r) B`` and
    ``M_RT M = M_R M - M_R D_T A^+ D_T' M_R M``.
    This is exact for unbalanced panels (reps joining and leaving) and costs a
    few passes over the data, O(N p) plus O(T^3) once per design.  With
    ``overwrite`` a float64 ``M`` is demeaned in place.  With a list
    ``removed``, the fixed-effect part taken out, row ``i`` being
    ``rep_part[rep_i] + period_part[period_i]``, is appended to it as
    ``(rep_part, period_part)`` (G x p and T x p; see :func:`_raw_centred_cross`).
    """
    M = np.asarray(M, dtype=float)
    squeeze = M.ndim == 1
    if squeeze:
        M = M[:, None]
    if not overwrite:
        M = M.copy()
    B = design.incidence
    rep_mean = _rep_means(design, M)  # G x p
    C = np.asarray(design.period_indicator @ M) - B.T @ rep_mean  # T x p: period sums of rep-demeaned data
    G = design.solve_period(C)  # T x p: the period effects of the rep-demeaned data
    # M_R M - M_R D_T G = M - D_R (rep_mean - H) - D_T G, H the rep means of D_T G (= B G / n_r):
    # the small G x p and T x p matrices carry both steps, so the N x p data is swept only once more.
    rep_shift = rep_mean - (B @ G) / design.rep_counts[:, None]
    if removed is not None:
        removed.append((rep_shift, G))
    for start in range(0, M.shape[0], _ROW_BLOCK):  # blocks of rows stay in cache for both subtractions
        rows = slice(start, start + _ROW_BLOCK)
        M[rows] -= rep_shift[design.rep[rows]]
        M[rows] -= G[design.period[rows]]
    return M[:, 0] if squeeze else M


def _raw_centred_cross(design: _Design, within_cross: np.ndarray, parts: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Cross-products of the raw columns, centred, from those of their within parts and the removed parts.

    A column is its within part (demeaned by :func:`_two_way_demean`, whose
    cross-products are ``within_cross``) plus the part removed,
    ``F = D_R a + D_T g``; the within part is
    orthogonal to every rep and period dummy, so ``X'X = within'within + F'F``,
    and ``F'F`` needs only the small ``a`` (G x p), ``g`` (T x p) and the rep x
    period incidence counts: no pass over the N rows.  Centring subtracts the
    column means (all in ``F``) from ``a`` first, so nothing large cancels.
    """
    a, g = parts
    n_r = design.rep_counts.astype(float)
    n_t = np.bincount(design.period, minlength=design.n_periods).astype(float)
    mean = (n_r @ a + n_t @ g) / design.rep.size
    a = a - mean
    a_bg = a.T @ (design.incidence @ g)
    return within_cross + (a.T * n_r) @ a + a_bg + a_bg.T + (g.T * n_t) @ g


def _period_gram(design: _Design) -> np.ndarray:
    """``diag(n_t) - B' diag(1/n_r) B`` with ``B`` the rep x period incidence matrix (dense BLAS when it fits)."""
    n_r = design.rep_counts.astype(float)
    n_t = np.bincount(design.period, minlength=design.n_periods).astype(float)
    w = 1.0 / np.sqrt(n_r[design.rep])
    if design.n_reps * design.n_periods <= 50_000_000:
        Bs = np.zeros((design.n_reps, design.n_periods))
        Bs[design.rep, design.period] = w
        return np.diag(n_t) - Bs.T @ Bs
    Bs = sp.csr_matrix((w, (design.rep, design.period)), shape=(design.n_reps, design.n_periods))
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
    xtx: np.ndarray | None = field(default=None, repr=False)  # X'X of the (demeaned) regressors


def _ols_clustered(design: _Design, X: np.ndarray | list[np.ndarray], y: np.ndarray, *, n_absorbed: int,
                  small_sample: bool = True) -> _OLS:  # fmt: skip
    """OLS on already-demeaned data with standard errors clustered by rep: CR3 up to :data:`CR3_MAX_REPS` reps, else CR1.

    ``X`` may be given as a list of column blocks (the regression on their
    concatenation, without building it).  CR1's small-sample factor is
    ``G/(G-1) * (N-1)/(N-K)`` with ``K`` the slope count plus one per period
    effect; the rep effects are nested in the clusters and not counted.  This
    is pyfixest's default (``CRV1`` with ``ssc(k_fixef="nonnested")``), which
    the tests check to 1e-8 (``small_sample=False`` returns it at every size).
    With ``small_sample`` and at most :data:`CR3_MAX_REPS` reps (:func:`_use_cr3`)
    the covariance is the exact cluster jackknife (CR3, :func:`_cr3_vcov`) instead.
    """
    blocks = [X] if isinstance(X, np.ndarray) else list(X)
    n, p = y.size, sum(b.shape[1] for b in blocks)
    cross = {(i, j): blocks[i].T @ blocks[j] for i in range(len(blocks)) for j in range(i, len(blocks))}
    xtx = np.block([[cross[i, j] if i <= j else cross[j, i].T for j in range(len(blocks))] for i in range(len(blocks))])
    xtx_inv = np.linalg.pinv(xtx)
    coef = xtx_inv @ np.concatenate([b.T @ y for b in blocks])
    ends = np.cumsum([b.shape[1] for b in blocks])
    resid = y.copy()
    for b, c in zip(blocks, np.split(coef, ends[:-1])):
        resid -= b @ c
    # cluster scores sum_i in rep x_i e_i: the rep indicator weighted by the residuals times X (no N x p temporary)
    weighted = design.rep_indicator.copy()
    weighted.data = resid[weighted.indices]
    scores = np.hstack([np.asarray(weighted @ b) for b in blocks])
    G = scores.shape[0]
    k = p + n_absorbed
    factor = (G / max(G - 1, 1)) * ((n - 1) / max(n - k, 1))
    meat = scores.T @ scores
    vcov = factor * xtx_inv @ meat @ xtx_inv
    if small_sample and _use_cr3(design):
        vcov = _cr3_vcov(design, blocks, xtx, resid, vcov)
    return _OLS(coef, vcov, resid, xtx_inv, scores, float(resid @ resid), n, G, max(n - k - G, 1), xtx=xtx)


#: The driver model's covariance is CR3 (the exact cluster jackknife, :func:`_cr3_vcov`) up to this many reps,
#: CR1 above.  CR1 understates the variance when reps are few or unequal (joiners and leavers with short
#: histories): each rep's own rows pull the fit toward its residuals, by its leverage, roughly ``p / G``.
#: Measured on the project simulator's monthly panel (40 reps; tests/reference/drivers_calibration_study.py):
#: CR1 standard errors are 0.82-0.98 of CR3's.  With hundreds of reps the leverage is negligible, while the
#: per-rep solves cost ``G T^3`` (see :data:`CR3_MAX_WORK`).
CR3_MAX_REPS = 500
#: ... and while ``reps x periods^3`` stays under this (about a second of dense solves at worst).
CR3_MAX_WORK = 3e9


def _use_cr3(design: _Design) -> bool:
    """Whether the covariance is CR3: more than two reps, at most :data:`CR3_MAX_REPS`, work bounded."""
    return 2 < design.n_reps <= CR3_MAX_REPS and design.n_reps * float(design.n_periods) ** 3 <= CR3_MAX_WORK


def _cr3_vcov(design: _Design, blocks: list[np.ndarray], xtx: np.ndarray, resid: np.ndarray,
              fallback: np.ndarray) -> np.ndarray:  # fmt: skip
    """The exact cluster jackknife (CR3): ``(G-1)/G sum_g d_g d_g'``, ``d_g`` the slopes' change when rep ``g`` is left out.

    CV3 of MacKinnon, Nielsen and Webb (2023, "Fast and reliable jackknife and bootstrap methods for
    cluster-robust inference", J. Appl. Econometrics), computed from per-rep cross-products, with t(G-1)
    critical values (the caller's).  Leaving a rep out drops its rep effect (nested) and re-estimates the
    period effects, so the regression is on ``Z = [X, D]``, ``X`` the two-way demeaned regressors (``blocks``)
    and ``D`` the rep-demeaned period indicators without the last period; ``X'D = 0``, so ``Z'Z`` is block
    diagonal with the period Gram ``C`` of the design.  Per rep, with ``P = X'X - X_g'X_g``, ``Q = -X_g'D_g``,
    ``R = C - D_g'D_g``: ``d_g = (P - Q R^-1 Q')^-1 (X_g'e_g - Q R^-1 D_g'e_g)`` (a Schur complement; the
    slopes are those of a refit without the rep, which tests/test_drivers.py checks against refits).
    Without period effects to re-estimate (one period) ``R`` is empty.  A rep whose removal leaves the model
    unidentified (the only rep to vary a regressor, or to cover a period) returns ``fallback`` (CR1).
    """
    A, cho = design.period_gram
    T1 = A.shape[0] - 1
    if T1 >= 1 and cho is None:  # reps and periods in disconnected groups: not handled, CR1
        return fallback
    C = A[:-1, :-1]
    ends = np.r_[design.starts[1:], resid.size]
    p = xtx.shape[0]
    meat = np.zeros((p, p))
    try:
        for a, b in zip(design.starts.tolist(), ends.tolist()):
            Xg, eg = np.hstack([blk[a:b] for blk in blocks]), resid[a:b]
            u, P = Xg.T @ eg, xtx - Xg.T @ Xg
            if T1 >= 1:
                per, n_g = design.period[a:b], b - a
                kept = per < T1
                cols = per[kept]
                Dt = np.zeros((T1, p + 1))  # [D_g'X_g | D_g'e_g], D_g rep-demeaned
                Dt[cols, :p] = Xg[kept]
                Dt[cols, p] = eg[kept]
                Dt[cols] -= np.r_[Xg.sum(axis=0), eg.sum()] / n_g
                R = C.copy()
                R[cols, cols] -= 1.0
                R[np.ix_(cols, cols)] += 1.0 / n_g
                sol = scipy.linalg.cho_solve(scipy.linalg.cho_factor(R, check_finite=False), Dt, check_finite=False)
                P = P - Dt[:, :p].T @ sol[:, :p]
                u = u + Dt[:, :p].T @ sol[:, p]
            d = np.linalg.solve(P, u)
            meat += np.outer(d, d)
    except np.linalg.LinAlgError:
        return fallback
    G = design.starts.size
    return (G - 1) / G * meat


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
    controls: np.ndarray | None = None  # (N, c) columns entered without lags (see _with_season_scaling)
    season_scaling: tuple[pd.Series, pd.Series] | None = None  # rep level, period effect behind the control
    # (N, K) float64 matrices of frame columns by column names, built once (see _series_matrix); not an init
    # field, so every new _Prepared, dataclasses.replace copies included, starts with an empty cache
    series_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)


def _prepare(panel: pd.DataFrame) -> _Prepared:
    ordv = _period_ordinals(panel["period"])
    reps_all = panel["rep"].astype(str).to_numpy(dtype=object)
    rep_codes, rep_labels = pd.factorize(reps_all, sort=True)  # codes in label order: sort ints, not strings
    order = np.lexsort((ordv, rep_codes))
    frame = panel.iloc[order]
    rep_codes = rep_codes[order]
    ordv = ordv[order]
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


def _before_period(prep: _Prepared, rows: np.ndarray) -> _Prepared:
    """``_prepare`` of the sub-panel of the rows before a period cutoff (``rows``), without sorting again.

    The rows stay sorted, and cutting every rep's history at the same period
    keeps the start of each consecutive run, so the positions within runs
    carry over; only the rep and period codes are renumbered.
    """
    frame = prep.frame.iloc[np.flatnonzero(rows)]
    frame.attrs = dict(prep.frame.attrs)
    used_reps, rep = np.unique(prep.rep[rows], return_inverse=True)
    used_periods, period = np.unique(prep.period[rows], return_inverse=True)
    return _Prepared(
        frame, prep.reps[used_reps], prep.periods[used_periods], rep.astype(np.int64), period.astype(np.int64),
        prep.ordinal[rows], prep.pos[rows], prep.freq,
    )  # fmt: skip


def _with_season_scaling(prep: _Prepared, y: np.ndarray) -> _Prepared:
    """Add the control ``(rep level - average level) x period effect``: seasons that scale with the rep.

    Two-way fixed effects assume a season adds the same amount to every rep.
    Real seasons (and the simulator's) *multiply*: a rep who sells twice as
    much also swings twice as much.  The leftover rep x season interaction
    correlates with anything that tracks the rep's level (skill), biasing
    activities such as LinkedIn touches upward.  Since the expected outcome is
    then ``level_i x season_t``, one extra column, the rep's mean outcome
    (centred) times the period effect of a fixed-effects-only fit, absorbs it
    (a one-factor interactive effect with the loading proxied by the level).
    Measured on the simulator (8 seeds, 40 reps x 104 weeks): the LinkedIn
    bias on deals created falls from +0.0024 to +0.0006 per touch, and the
    errors of calls and emails shrink slightly.
    """
    design = _Design(prep.rep, prep.period, len(prep.reps), len(prep.periods))
    means = _rep_means(design, y[:, None])[:, 0]
    within_rep = y - means[prep.rep]
    g = design.solve_period(np.asarray(design.period_indicator @ within_rep[:, None]))[:, 0]
    g = g - g.mean()
    level = means - means.mean()
    z = level[prep.rep] * g[prep.period]
    info = (pd.Series(level, index=prep.reps), pd.Series(g, index=prep.periods))
    return replace(prep, controls=z[:, None], season_scaling=info)


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
    gamma: np.ndarray  # coefficients of the controls (empty without)
    season_scaling: tuple[pd.Series, pd.Series] | None = None
    # The demeaned outcome and ``[lag columns, controls]`` of the kept rows and their design, kept (only when
    # asked) so that the diagnostics can add columns without demeaning the whole design again; dropped after.
    demeaned_y: np.ndarray | None = field(default=None, repr=False)
    demeaned_X: np.ndarray | None = field(default=None, repr=False)
    design: _Design | None = field(default=None, repr=False)
    # centred raw cross-products of [y, lag columns] on the kept rows (with keep_demeaned), for the pooled check
    pooled_cross: np.ndarray | None = field(default=None, repr=False)


def _history_mask(prep: _Prepared, need: int, lead: int = 0) -> np.ndarray:
    """Rows with ``need`` earlier periods (and ``lead`` later ones) in the same consecutive run."""
    keep = prep.pos >= need
    if lead:
        n = keep.size
        idx = np.arange(n) + lead
        ok = idx < n
        ok[ok] &= prep.pos[idx[ok]] == prep.pos[ok] + lead
        keep &= ok
    return keep


def _stacked(prep: _Prepared, y: np.ndarray | None, regs: list[str], lags: range, keep: np.ndarray,
             extra: dict[str, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """``[y, x_{k,t-l} ..., controls]`` for the kept rows only, one float64 matrix (no NaN intermediates).

    Without ``y`` (None) the matrix starts with the lag columns.
    """
    idx = np.flatnonzero(keep)
    V = _series_matrix(prep, regs, extra)
    K, W = V.shape[1], len(lags)
    n_ctrl = 0 if prep.controls is None else prep.controls.shape[1]
    first = 0 if y is None else 1
    Z = np.empty((idx.size, first + K * W + n_ctrl))
    if y is not None:
        Z[:, 0] = y[idx]
    # Column first + k W + j holds series k at lag lags[j].  For consecutive lags lo..hi the W values a row
    # needs are one window V[i - hi .. i - lo] of the series (a strided view, no copy): one gather of whole
    # windows per block of rows, written reversed (lag hi comes first in the window), is 4x faster on 1M rows
    # than a gather per lag.  Kept rows have those rows inside their own run (see _history_mask).
    if W and lags.step == 1 and idx.size:
        windows = sliding_window_view(V, W, axis=0)  # (N - W + 1, K, W): windows[m, k, w] = V[m + w, k]
        # the lag block of Z seen as (rows, K, W), a writable view (a reshape of the column slice would copy)
        block = as_strided(Z[:, first:], shape=(idx.size, K, W), strides=(Z.strides[0], W * Z.itemsize, Z.itemsize))
        for start in range(0, idx.size, _ROW_BLOCK):
            rows = idx[start : start + _ROW_BLOCK] - lags[-1]
            block[start : start + rows.size] = windows[rows, :, ::-1]
    else:
        for start in range(0, idx.size, _ROW_BLOCK):
            rows, Zb = idx[start : start + _ROW_BLOCK], Z[start : start + _ROW_BLOCK]
            for j, lag in enumerate(lags):
                Zb[:, first + j : first + K * W : W] = V[rows - lag]
    if n_ctrl:
        Z[:, first + K * W :] = prep.controls[idx]
    return Z


def _series_matrix(prep: _Prepared, regs: list[str], extra: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The regressors' raw series (and any ``extra`` ones) as one C-ordered (N, K) float64 matrix."""
    key = tuple(regs)
    if key not in prep.series_cache:
        cols = [prep.frame[a].to_numpy(dtype=float) for a in regs]
        prep.series_cache[key] = np.column_stack(cols) if cols else np.empty((prep.rep.size, 0))
    if not extra:
        return prep.series_cache[key]
    return np.column_stack([prep.series_cache[key], *extra.values()])


def _lag_combination(prep: _Prepared, regs: list[str], lags: range, keep: np.ndarray, coef: np.ndarray,
                     extra: dict[str, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """``sum_k sum_l coef[k, l] x_{k,t-l}`` on the kept rows, from the raw series (no lag matrix)."""
    idx = np.flatnonzero(keep)
    # (W, N): row j is sum_k coef[k, j] x_k, not yet lagged; rows (not columns) so each gather reads one
    # contiguous array
    VC = coef.T @ _series_matrix(prep, regs, extra).T
    out = np.zeros(idx.size)
    for j, lag in enumerate(lags):
        out += VC[j][idx - lag]
    return out


def _fit_lags(prep: _Prepared, acts: list[str], y: np.ndarray, L: int, *, sample_lag: int | None = None,
              extra: dict[str, np.ndarray] | None = None, lead: int = 0,
              keep_demeaned: bool = False, small_sample: bool = True) -> _LagFit:  # fmt: skip
    """Fit the FE distributed-lag model with lags 0..L (optionally leads) on rows with full history.

    With ``keep_demeaned`` the demeaned outcome, regressors and their design
    stay on the result (``demeaned_y``, ``demeaned_X``, ``design``) for
    :func:`_ols_added`.  ``small_sample=False``: CR1 at every size (see :func:`_ols_clustered`).
    """
    lags = range(-lead, L + 1)
    need = L if sample_lag is None else max(L, sample_lag)
    keep = _history_mask(prep, need, lead) & np.isfinite(y)
    K = len(acts) + (len(extra) if extra else 0)
    width = len(lags)
    if keep.sum() < K * width + 2:
        raise InsufficientDataError(
            f"fit_drivers: only {int(keep.sum()):,} rep-periods have {need} periods of history; too few to "
            f"estimate {K * width} lag coefficients. Use fewer lags (lags=0 or max_lag smaller) or a finer freq."
        )
    design = _subset_design(prep, keep)
    # demeaned in place (no second copy of a 1M-row matrix); y apart, so that Xd stays C-contiguous
    removed: list | None = [] if keep_demeaned else None
    Xd = _two_way_demean(design, _stacked(prep, None, acts, lags, keep, extra), overwrite=True, removed=removed)
    yd = _two_way_demean(design, y[keep], overwrite=True, removed=removed)
    ols = _ols_clustered(design, Xd, yd, n_absorbed=design.n_periods, small_sample=small_sample)
    n_lag = K * width
    pooled = None if removed is None else _pooled_cross(design, Xd[:, :n_lag], yd, ols.xtx[:n_lag, :n_lag], removed)
    coef, gamma, vcov = ols.coef[:n_lag].reshape(K, width), ols.coef[n_lag:], ols.vcov[:n_lag, :n_lag]
    sel = np.zeros((K, n_lag))
    for k in range(K):
        sel[k, k * width + lead : (k + 1) * width] = 1.0  # sum over lags >= 0 only
    sums = sel @ ols.coef[:n_lag]
    sums_vcov = sel @ vcov @ sel.T
    sums_se = np.sqrt(np.clip(np.diag(sums_vcov), 0, None))
    # fixed effects, exactly: r = y - Xb = a_i + g_t + e with e orthogonal to both sets of dummies,
    # so g solves the same period normal equations (A g = D_T' M_R r) and a_i is the rep mean of r - g_t
    r = y[keep] - _lag_combination(prep, acts, lags, keep, coef, extra)
    if gamma.size:
        r -= prep.controls[keep] @ gamma
    r_rep = r - _rep_means(design, r[:, None])[design.rep, 0]
    g = design.solve_period(np.asarray(design.period_indicator @ r_rep[:, None]))[:, 0]
    a = _rep_means(design, (r - g[design.period])[:, None])[:, 0]
    intercept = float(g.mean())  # prediction = a_i + intercept + g_t + Xb with the period effects centred
    g = g - intercept
    rep_labels = prep.reps[np.unique(prep.rep[keep])]
    per_labels = prep.periods[np.unique(prep.period[keep])]
    return _LagFit(
        acts=list(acts) + list(extra or {}), n_lags=L, coef=coef, vcov=vcov, sums=sums, sums_vcov=sums_vcov,
        sums_se=sums_se, rep_fe=pd.Series(a, index=rep_labels), period_fe=pd.Series(g, index=per_labels),
        intercept=intercept, n_obs=int(keep.sum()), n_reps=design.n_reps, n_periods=design.n_periods, rss=ols.rss,
        ols=ols, keep=keep, gamma=gamma, season_scaling=prep.season_scaling,
        demeaned_y=yd if keep_demeaned else None, demeaned_X=Xd if keep_demeaned else None,
        design=design if keep_demeaned else None, pooled_cross=pooled,
    )  # fmt: skip


def _pooled_cross(design: _Design, Xd: np.ndarray, yd: np.ndarray, xtx: np.ndarray, removed: list) -> np.ndarray:
    """Centred raw cross-products of ``[y, lag columns]`` (the pooled check's regression) without the raw data."""
    (a_x, g_x), (a_y, g_y) = removed
    p = Xd.shape[1]
    within = np.empty((p + 1, p + 1))
    within[0, 0] = yd @ yd
    within[1:, 0] = within[0, 1:] = Xd.T @ yd
    within[1:, 1:] = xtx
    parts = (np.hstack([a_y[:, None] if a_y.ndim == 1 else a_y, a_x[:, :p]]),
             np.hstack([g_y[:, None] if g_y.ndim == 1 else g_y, g_x[:, :p]]))  # fmt: skip
    return _raw_centred_cross(design, within, parts)


def _ols_added(prep: _Prepared, fit: _LagFit, series: dict[str, np.ndarray], lags: range) -> _OLS:
    """Refit ``fit``'s regression with the lags of extra ``series`` added, on the same rows (Frisch-Waugh).

    The two-way within transformation is linear and column by column, so the
    demeaned design of the bigger model is the kept demeaned design of ``fit``
    (``keep_demeaned=True``) next to the demeaned new columns: only those are
    demeaned here.  The new columns come last (after the controls); the
    estimates and clustered covariance are those of a full refit.
    """
    if fit.demeaned_X is None or fit.demeaned_y is None or fit.design is None:
        raise ValueError("_ols_added needs a fit made with keep_demeaned=True")
    new = _stacked(replace(prep, controls=None), None, [], lags, fit.keep, series)
    new = _two_way_demean(fit.design, new, overwrite=True)
    return _ols_clustered(fit.design, [fit.demeaned_X, new], fit.demeaned_y, n_absorbed=fit.design.n_periods)


def _select_lag(prep: _Prepared, acts: list[str], y: np.ndarray, max_lag: int,
                criterion: str = "cv_tail", min_lag: int = 0) -> tuple[int, pd.DataFrame]:  # fmt: skip
    """Choose L in 0..max_lag, all candidates fitted on the same rows (history >= max_lag).

    Every criterion is computed for every L (shown in the table); ``criterion``
    says which one chooses:

    * ``"cv"``: blocked cross-validation, 10 folds of whole reps (serial
      correlation within a rep stays inside a fold); each fold is predicted by
      slopes fitted on the others, from per-fold cross-products of the same
      demeaned matrix.  The longest L whose error exceeds the best by at most
      one standard error of the fold-paired difference.
    * ``"tail"``: the shortest L such that the effects summed over the lags
      beyond it, and beyond every longer candidate, are indistinguishable
      from zero at :data:`TAIL_ALPHA` in the model with every lag
      (:func:`_tail_tests`).
    * ``"cv_tail"``: the longer of the two.  Out-of-sample fit
      alone stops early when late lags barely improve predictions (measured:
      lags 0..1 on some seeds of the independent simulator, whose meetings act
      up to 5 weeks later); the tail test adds lags while what they would
      leave out of the summed effect is detectable.
    * ``"aic"``/``"bic"``: the information criterion over ``min_lag..max_lag``
      (the floor the model passes is :data:`~salesgoals.drivers.MIN_LAG`:
      unfloored, AIC picks L = 0 in short panels and drops most of an effect
      that arrives over weeks).

    The asymmetry behind the default: leaving out a lag that matters biases
    the summed effect (the estimate goals are set from), while an unneeded
    lag only widens its interval.

    One demeaning of all ``K (max_lag + 1)`` columns; every candidate is then
    a solve on a sub-block of the same cross-product matrix.

    Returns the chosen L and a table ``n_lags, n_params, rss, aic, bic,
    cv_mse, cv_excess_se, tail_f, tail_p, tail_share, tail_share_upper, tail_lead, cv_within_se, tail_detected,
    chosen``.
    """
    keep = _history_mask(prep, max_lag) & np.isfinite(y)
    K, W = len(acts), max_lag + 1
    if keep.sum() < K * W + 10:
        raise InsufficientDataError(
            f"fit_drivers: only {int(keep.sum()):,} rep-periods have {max_lag} periods of history, too few to "
            f"choose among lags 0..{max_lag}. Pass a smaller max_lag or a fixed lags=."
        )
    design = _subset_design(prep, keep)
    Z = _two_way_demean(design, _stacked(prep, y, acts, range(0, W), keep), overwrite=True)
    folds = _rep_folds(design)
    blocks = _time_blocks(design)
    cell_cross = _fold_block_cross(Z, folds, blocks)  # (rep folds, time blocks, 1 + p, 1 + p)
    fold_cross, block_cross = cell_cross.sum(axis=1), cell_cross.sum(axis=0)
    fold_rows = np.array([b - a for a, b in folds], dtype=float)
    block_rows = np.bincount(blocks, minlength=block_cross.shape[0]).astype(float)
    cross = fold_cross.sum(axis=0)
    # a block is scored when it has rows and the blocks before it do (few periods leave the first ones empty)
    scored = (block_rows[FORWARD_FIRST_SCORED:] > 0) & (np.cumsum(block_rows)[FORWARD_FIRST_SCORED - 1 : -1] > 0)
    yty, xty, gram = float(cross[0, 0]), cross[1:, 0], cross[1:, 1:]
    n = Z.shape[0]
    ctrl = np.arange(K * W, gram.shape[0])  # controls enter every candidate
    rows, fold_mse, time_mse, sums = [], [], [], np.zeros((W, K))
    for L in range(0, max_lag + 1):
        idx = np.concatenate([*(np.arange(k * W, k * W + L + 1) for k in range(K)), ctrl])
        b = np.linalg.lstsq(gram[np.ix_(idx, idx)], xty[idx], rcond=None)[0]
        sums[L] = b[: K * (L + 1)].reshape(K, L + 1).sum(axis=1)
        rss = max(yty - float(xty[idx] @ b), 1e-300)
        p = idx.size
        ll = n * np.log(rss / n)
        fold_mse.append(_cv_fold_errors(fold_cross, idx + 1) / fold_rows)
        time_mse.append(_forward_errors(block_cross, idx + 1)[scored] / block_rows[FORWARD_FIRST_SCORED:][scored])
        rows.append({"n_lags": L, "n_params": p, "rss": rss, "aic": ll + 2 * p, "bic": ll + p * np.log(n)})
    table = pd.DataFrame(rows)
    fold_mse = np.array(fold_mse)  # (candidates, folds)
    table["cv_mse"] = fold_mse @ fold_rows / fold_rows.sum()
    ref = int(np.argmin(table["cv_mse"].to_numpy()))
    diff = fold_mse - fold_mse[ref]  # paired by fold: the spread of reps between folds cancels
    table["cv_excess_se"] = diff.std(axis=1, ddof=1) / np.sqrt(diff.shape[1]) if diff.shape[1] > 1 else np.nan
    time_mse = np.array(time_mse)  # (candidates, scored blocks)
    scored_rows = block_rows[FORWARD_FIRST_SCORED:][scored]
    table["cv_time_mse"] = time_mse @ scored_rows / scored_rows.sum() if scored.any() else np.nan
    diff = time_mse - time_mse[int(np.argmin(table["cv_time_mse"].to_numpy()))] if scored.any() else time_mse
    table["cv_time_excess_se"] = diff.std(axis=1, ddof=1) / np.sqrt(diff.shape[1]) if diff.shape[1] > 1 else np.nan
    weight = np.abs(_series_matrix(prep, acts)[keep].mean(axis=0)) if keep.any() else np.ones(K)
    weight[np.isin(acts, list(QUALITY_METRICS))] = 0.0  # the leading driver is an activity, not a quality metric
    tails = _tail_tests(design, Z, gram, xty, sums, weight)
    tails["tail_lead"] = pd.Series([acts[int(i)] if i >= 0 else "" for i in tails.pop("lead")], dtype=object)
    for c in tails.columns:
        table[c] = tails[c].to_numpy()
    best = _choose_lag(table, ref, criterion, min(min_lag, max_lag))
    table["chosen"] = table["n_lags"] == best
    return best, table


def _choose_lag(table: pd.DataFrame, ref: int, criterion: str, min_lag: int) -> int:
    """The lag length ``criterion`` picks from the candidates' table (``ref``: the row of the lowest CV error).
    Adds the two columns that say why: ``cv_within_se`` (CV error within one s.e. of the best) and
    ``tail_detected`` (the effects summed beyond this L are told from zero at :data:`TAIL_ALPHA`)."""
    excess = table["cv_mse"] - table["cv_mse"].iloc[ref]
    table["cv_within_se"] = (excess <= table["cv_excess_se"].fillna(0.0)).to_numpy()
    excess = table["cv_time_mse"] - table["cv_time_mse"].min()
    table["cv_time_within_se"] = (excess <= table["cv_time_excess_se"].fillna(0.0)).to_numpy() | excess.isna()
    table["tail_detected"] = (table["tail_p"] < TAIL_ALPHA).to_numpy()
    by_cv = int(table.loc[table["cv_within_se"], "n_lags"].max())  # longest within 1 s.e.
    by_time = int(table.loc[table["cv_time_within_se"], "n_lags"].max())
    detected = table.loc[table["tail_detected"], "n_lags"]
    by_tail = int(detected.max()) + 1 if len(detected) else 0  # shortest with no detectable omitted tail
    table["tail_bounded"] = (table["tail_share_upper"] <= TAIL_BOUND).to_numpy()
    unbounded = table.loc[~table["tail_bounded"], "n_lags"]
    by_bound = int(unbounded.max()) + 1 if len(unbounded) else 0  # shortest with the omitted tail shown small
    if criterion in ("cv_tail", "cv", "tail", "cv_time", "cv_time_tail"):
        return {"cv_tail": max(by_cv, by_tail), "cv": by_cv, "tail": by_tail, "cv_time": by_time,
                "cv_time_tail": max(by_time, by_tail, by_bound)}[criterion]  # fmt: skip
    eligible = table.loc[table["n_lags"] >= min_lag]
    return int(eligible.loc[eligible[criterion].idxmin(), "n_lags"])


#: Level of the tail test behind ``lag_criterion="cv_tail"`` and ``"tail"``: lags beyond ``L`` are dropped
#: only when the effects summed over them are jointly indistinguishable from zero at this level.  20%, not
#: 5%: the test guards against truncation, and the two errors are not symmetric (leaving out a lag that
#: matters biases the summed effect; a false alarm only adds lags, which widens the interval).  Chosen on
#: seeds 1000-1023 of the independent simulator (5%, 10% and 20% compared) and checked on 2000-2023
#: (tests/reference/drivers_lag_study.py).
TAIL_ALPHA = 0.20
#: ``lag_criterion="cv_time_tail"`` (the default without deal links) keeps lags until the omitted tail is SHOWN
#: small: the shortest L such that, at it and every longer candidate, the upper end of the 95% interval of the
#: leading activity's summed effect beyond L is at most this share of its summed effect (``tail_share_upper``).
#: The burden of proof sits on shortening, as the asymmetry asks (an omitted real lag biases the summed effect,
#: an extra one only widens the interval); the test of a tail alone (``TAIL_ALPHA``) has too little power at
#: 40-50 reps to find a real 20% tail at lags 4-5 (tests/reference/drivers_lag_study.py).
TAIL_BOUND = 0.5
#: The lag length is called unsettled (a warning) when the model with every lag puts at least this share MORE
#: of the leading driver's summed effect beyond it (point estimate, ``tail_share``) and that tail is positive
#: with z > :data:`TAIL_Z_WARN` (one-sided 10%), a tail the joint test (all activities at once) misses.  The old
#: rule (upper 95% bound above 50%) fired on 88-100% of AIC fits at 40-50 reps x 104 weeks of both
#: simulators whether or not anything was cut off.  Chosen on seeds 1000-1023 (AIC fits: 25% of fits on the
#: project simulator, 8% on the independent one), checked on 2000-2023 (8% and 12%); at this size the data
#: cannot tell a cut-off tail from noise (tests/reference/drivers_lag_study.py), so the warning is rare on both
#: and certain only where a tail is plain (tests/test_drivers_lags.py, planted).
TAIL_SHARE_WARN = 0.25
#: z of the leading driver's omitted tail above which the warning may fire (one-sided 10%).
TAIL_Z_WARN = 1.2816


def _tail_tests(design: _Design, Z: np.ndarray, gram: np.ndarray, xty: np.ndarray, sums: np.ndarray,
                weight: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """Per candidate ``L``: is the effect summed over lags ``L+1..max_lag`` distinguishable from zero?

    Everything is read off the longest model (lags ``0..max_lag`` on the
    common rows ``Z = [y, X]``, already two-way demeaned, with
    ``gram = X'X`` and ``xty = X'y``): its slopes, and its rep-clustered
    covariance (CR1, as :func:`_ols_clustered`) from one pass for the
    residuals and the cluster scores.  The tail of regressor ``k`` beyond
    ``L`` is ``sum_{l > L} b_{k,l}``, the part of its summed effect a model
    with lags ``0..L`` leaves out; the K tails are tested jointly by the
    cluster Wald statistic with the small-sample F correction
    ``F = W/q (G-q)/(G-1)`` on ``(q, G-q)`` degrees of freedom (Hotelling's
    T^2; NaN when there are no more reps than tails).

    ``sums`` (candidates x K) are the summed effects of each candidate model.
    Returns one row per candidate: ``tail_f, tail_p``, ``lead``,
    ``tail_share`` (the leading regressor's tail beyond ``L`` over its summed
    effect in the candidate: the point estimate of the share a model with lags
    ``0..L`` leaves out, signed) and ``tail_share_upper``: how much of the leading regressor's summed effect
    (``lead``, its index: the largest contribution ``|summed effect| x
    weight``, weight its mean count, in the candidate) may lie beyond ``L``,
    the upper end of the 95% interval of its tail over its summed effect in
    the candidate.
    """
    W, K = sums.shape
    inv = np.linalg.pinv(gram)
    b = inv @ xty
    resid = Z[:, 0] - Z[:, 1:] @ b
    weighted = design.rep_indicator.copy()
    weighted.data = resid[weighted.indices]
    scores = np.asarray(weighted @ Z[:, 1:])
    G, n, p = scores.shape[0], Z.shape[0], gram.shape[0]
    factor = (G / max(G - 1, 1)) * ((n - 1) / max(n - p - design.n_periods, 1))
    V = factor * inv @ (scores.T @ scores) @ inv
    total = np.zeros((K, p))
    for k in range(K):
        total[k, k * W : (k + 1) * W] = 1.0
    rows = []
    for L in range(W):
        S = total.copy()
        S[:, [k * W + j for k in range(K) for j in range(L + 1)]] = 0.0
        tail, Vt = S @ b, S @ V @ S.T
        se = np.sqrt(np.clip(np.diag(Vt), 0, None))
        lead = int(np.argmax(np.abs(sums[L]) * weight))
        point = tail[lead] / sums[L, lead] if sums[L, lead] != 0 else np.inf
        share = (abs(tail[lead]) + 1.96 * se[lead]) / abs(sums[L, lead]) if sums[L, lead] != 0 else np.inf
        f, pv = (np.nan, 1.0) if L == W - 1 else _hotelling(tail, Vt, G)
        rows.append({"tail_f": f, "tail_p": pv, "lead": lead, "tail_share": float(point),
                     "tail_share_upper": float(share)})  # fmt: skip
    return pd.DataFrame(rows)


def _hotelling(est: np.ndarray, vcov: np.ndarray, n_clusters: int) -> tuple[float, float]:
    """Joint Wald test of ``est = 0`` with cluster covariance ``vcov``, as an F with the T^2 correction."""
    q = int(np.linalg.matrix_rank(vcov)) if vcov.size else 0
    if q == 0 or n_clusters <= q:
        return np.nan, np.nan
    wald = float(est @ np.linalg.pinv(vcov) @ est)
    f = wald / q * (n_clusters - q) / (n_clusters - 1)
    return f, float(stats.f.sf(f, q, n_clusters - q))


#: Folds of consecutive reps for the cross-validated lag choice.
CV_FOLDS = 10


def _rep_folds(design: _Design) -> list[tuple[int, int]]:
    """Row ranges of ``CV_FOLDS`` blocks of whole reps (rows are grouped by rep), as equal in rows as reps allow."""
    ends = np.r_[design.starts[1:], design.rep.size]
    k = min(CV_FOLDS, design.n_reps)
    cut = np.searchsorted(ends, np.linspace(0, design.rep.size, k + 1)[1:-1], side="left")
    bounds = np.unique(np.r_[0, ends[np.minimum(cut, ends.size - 1)], design.rep.size])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


#: Blocks of consecutive periods for the forward (time) cross-validation, and the first block scored: each
#: block from the 5th on is predicted by the slopes fitted on all the blocks before it (at least 40% of the
#: periods), so a lag length is judged on later periods than those it was fitted on.
CV_TIME_BLOCKS = 10
FORWARD_FIRST_SCORED = 4


def _time_blocks(design: _Design) -> np.ndarray:
    """Per row, its block of consecutive periods (``CV_TIME_BLOCKS`` blocks as equal in periods as they come)."""
    T = max(design.n_periods, 1)
    n = min(CV_TIME_BLOCKS, T)
    block = design.period * n // T
    if n < CV_TIME_BLOCKS:  # few periods: the blocks fill the end of the range, so the scored ones exist
        block = block + (CV_TIME_BLOCKS - n)
    return block.astype(np.int64)


def _fold_block_cross(Z: np.ndarray, folds: list[tuple[int, int]], blocks: np.ndarray) -> np.ndarray:
    """Cross-products ``Z'Z`` per (fold of reps, block of periods) cell: one pass over the rows for both CVs."""
    p = Z.shape[1]
    out = np.zeros((len(folds), CV_TIME_BLOCKS, p, p))
    for f, (a, b) in enumerate(folds):
        blk = blocks[a:b]
        order = np.argsort(blk, kind="stable")
        Zf = Z[a:b][order]  # this fold's rows grouped by time block (one copy of the fold)
        edges = np.searchsorted(blk[order], np.arange(CV_TIME_BLOCKS + 1))
        for k in range(CV_TIME_BLOCKS):
            if edges[k + 1] > edges[k]:
                part = Zf[edges[k] : edges[k + 1]]
                out[f, k] = part.T @ part
    return out


def _forward_errors(block_cross: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Squared error of each scored block of periods, predicted from the slopes fitted on the blocks before it.

    The columns were two-way demeaned on the whole sample, so the held-out block's rep and period effects are
    those of all the data (a nuisance the score does not depend on much); the slopes see only earlier periods.
    """
    train = block_cross[:FORWARD_FIRST_SCORED].sum(axis=0)
    sse = np.empty(block_cross.shape[0] - FORWARD_FIRST_SCORED)
    for j, c in enumerate(block_cross[FORWARD_FIRST_SCORED:]):
        b = np.linalg.lstsq(train[np.ix_(idx, idx)], train[idx, 0], rcond=None)[0]
        sse[j] = c[0, 0] - 2 * b @ c[idx, 0] + b @ c[np.ix_(idx, idx)] @ b
        train = train + c
    return sse


def _cv_fold_errors(fold_cross: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Out-of-sample squared error per fold of the two-way demeaned regression on columns ``idx``.

    Each fold (a block of whole reps) is predicted from the slopes fitted on the other folds, all from the
    per-fold cross-products of ``[y, X]`` (no pass over the data).
    """
    total = fold_cross.sum(axis=0)
    sse = np.empty(len(fold_cross))
    for f, c in enumerate(fold_cross):
        train = total - c
        b = np.linalg.lstsq(train[np.ix_(idx, idx)], train[idx, 0], rcond=None)[0]
        sse[f] = c[0, 0] - 2 * b @ c[idx, 0] + b @ c[np.ix_(idx, idx)] @ b
    return sse
