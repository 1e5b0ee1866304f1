"""Per-rep effects by partial pooling: rep x activity slopes shrunk toward the team (empirical Bayes).

The team model gives one lag profile per activity.  Reps may still differ in
how much an activity does for them (one rep's meetings convert, another's do
not).  For each rep and activity with a clear team effect, a rep-specific
slope is estimated on the activity's team-shaped contribution

.. math::

    u_{it} = \\sum_a \\theta_{ia} c_{a,it} + e_{it}, \\qquad
    c_{a,it} = \\sum_l \\hat\\beta_{al} \\ddot x_{a,i,t-l} (+ \\text{its quality metric}),

on the two-way demeaned data of the team fit (``u`` is the team residual plus
every activity's team contribution), so ``theta = 1`` is the team effect and
the rep's raw effect is ``theta_ia`` times the team effect at the rep's own
quality rates.  Its variance is heteroskedasticity-robust within the rep and
leverage-corrected (HC3: each squared residual over ``(1 - h)^2``, ``h`` the
period's leverage in the rep's own regression).  The plain sandwich (HC1)
left the per-rep ``z^2`` about 1.2 on average where every rep has the same
effect, so the moment estimator below saw a spread that is not there (on the
project simulator's regressors with outcomes from the exact linear model, 100
draws: mean ``z^2`` 1.19 / 1.21 for call / meeting with HC1, 1.07 / 1.09 with
HC2, 0.98 / 1.01 with HC3; ``tau^2 > 0`` in 74-76 %, 51-63 %, 40-49 % of the
draws, against about half for an unbiased Q).  Serial correlation within a rep
is not modelled; the team effect's own clustered error enters the shrunk
interval below.

The raw per-rep effects ``b_i`` (variance ``v_i``) are then shrunk toward the
team effect ``t_i`` with the between-rep variance ``tau^2`` estimated by the
DerSimonian-Laird moment estimator,

.. math::

    \\tilde b_i = t_i + \\frac{\\tau^2}{\\tau^2 + v_i}(b_i - t_i), \\qquad
    \\operatorname{Var} = \\frac{\\tau^2 v_i}{\\tau^2 + v_i}
      + \\Big(\\frac{v_i}{\\tau^2 + v_i}\\Big)^2 \\operatorname{se}(t)^2 .

Whether reps differ at all is :func:`rep_heterogeneity_test`: the spread of
the per-rep slopes around the team's, over their variances, with its null
distribution from a wild bootstrap under the team model (Holm-adjusted across
the activities tested).  Cochran's Q against chi-square(G - 1), the textbook
test, is reported next to it but not used: per-rep variances estimated from
one rep's history are noisy and about 10-25 % too small on average, which
inflates Q (measured on the independent simulator's homogeneous baseline, 30
seeds: Cochran's Q called reps different in 23 % of fits at 5 %; the
bootstrap-null test's size and power are in tests/reference/README.md, row
``heterogeneity_test``).  Where it does not reject (or the team effect itself
is not clear), reps cannot be told apart: each rep gets the team effect (at
the rep's own quality rates and conversion), ``reps_differ`` is False, and the
interval is the team interval widened by the spread of rep effects the data
cannot rule out (the Q-profile upper confidence limit of ``tau``): an honest
"somewhere around the team effect", not a false per-rep precision.

Where the panel names each rep's team, :func:`group_test` also asks whether
effects differ *between teams*: the between-team part of Q over its
within-team part, an F test with K - 1 degrees of freedom.  It is the
stronger question when differences follow the teams (K - 1 instead of G - 1
degrees of freedom for the same signal), and a ratio of two Q's keeps its size
when the per-rep variances are misstated by a common factor.  With teams,
``reps_differ`` is either test at half the level (``differ_by`` says which);
where only the team test finds a difference each rep carries its team's
effect (``flags`` ``team_level``), not a per-rep slope shrunk with a
between-rep spread the rep-level data could not see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals.drivers._verdicts import holm

__all__ = ["rep_contributions", "rep_slopes", "rep_heterogeneity_test", "pool_rep_effects", "group_test", "N_BOOT_HET"]


#: Wild-bootstrap replicates behind the rep heterogeneity test (a scaled chi-square is fitted to their moments,
#: so tail p-values below 1 / (replicates + 1), which Holm needs, stay usable).
N_BOOT_HET = 199
#: Reps per block of the bootstrap (bounds the memory of the sign draws: reps x periods x replicates bits).
_BOOT_CHUNK = 256
#: Rows per block of :func:`rep_leverage` (bounds its per-row (A, A) copies).
_ROW_BLOCK = 8192
#: The bootstrap's two-point weights: ``_W_HIGH`` with probability 1/4 (both of two random bits set), else
#: ``_W_LOW``: mean 0 and variance 1 exactly, skewness 1.15 (Mammen's weights: probability 0.276, skewness 1).
_W_LOW, _W_HIGH = -1.0 / float(np.sqrt(3.0)), float(np.sqrt(3.0))


def rep_contributions(fit, acts: list[str], quality_of: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Each activity's team-shaped contribution ``C`` (N, A) on the demeaned data, and ``u`` = residual + all of them."""
    W = fit.n_lags + 1
    pos = {name: i for i, name in enumerate(fit.acts)}
    Xd, e = fit.demeaned_X, fit.ols.resid
    C = np.empty((e.size, len(acts)))
    for j, a in enumerate(acts):
        cols = [pos[a]] + ([pos[quality_of[a]]] if a in quality_of else [])
        C[:, j] = sum(Xd[:, i * W:(i + 1) * W] @ fit.coef[i] for i in cols)
    return C, e + C.sum(axis=1)


def rep_slopes(fit, C: np.ndarray, u: np.ndarray, *, hc: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-rep multipliers ``theta`` (G, A), their robust variances (G, A), and rows per rep (G,).

    ``C, u`` from :func:`rep_contributions` (needs the demeaned data kept on the fit, ``keep_demeaned=True``).
    The variances are leverage-corrected (HC2 by default: each squared residual over ``1 - h``, ``h`` the
    period's leverage in the rep's own regression, :func:`rep_leverage`; ``hc=1``: the plain sandwich times
    ``n / (n - A)``; ``hc=3``: over ``(1 - h)^2``).
    """
    rep, (G, A) = fit.design.rep, (fit.design.n_reps, C.shape[1])
    n = np.bincount(rep, minlength=G).astype(float)
    inv = _per_rep_inverse(_per_rep_gram(fit.design, C, np.ones(u.size)))
    xty = np.stack([np.bincount(rep, weights=C[:, j] * u, minlength=G) for j in range(A)], axis=1)
    theta = np.einsum("gij,gj->gi", inv, xty)
    res = u - np.einsum("nj,nj->n", C, theta[rep])
    if hc == 1:
        meat, scale = _per_rep_gram(fit.design, C, res), n / np.maximum(n - A, 1.0)
    else:
        meat, scale = _per_rep_gram(fit.design, C, res / (1.0 - rep_leverage(fit.design, C, inv)) ** (hc / 2)), 1.0
    var = np.einsum("gii->gi", inv @ meat @ inv) * np.broadcast_to(scale, n.shape)[:, None]
    var[n <= A + 1] = np.inf
    return theta, var, n


def rep_leverage(design, C: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Each row's leverage ``h = C_t' (C_i'C_i)^{-1} C_t`` in its rep's own regression on ``C``, in [0, 0.99].

    ``inv`` the per-rep inverses (G, A, A) of :func:`_per_rep_inverse`.  Blocks of rows keep the per-row
    (A, A) copies small."""
    h = np.empty(C.shape[0])
    for lo in range(0, C.shape[0], _ROW_BLOCK):
        rows = slice(lo, lo + _ROW_BLOCK)
        h[rows] = np.einsum("na,nab,nb->n", C[rows], inv[design.rep[rows]], C[rows])
    return np.clip(h, 0.0, 0.99)


def _per_rep_inverse(xtx: np.ndarray) -> np.ndarray:
    """(G, A, A) pseudo-inverses of the per-rep Gram matrices (a tiny ridge keeps all-zero columns at zero)."""
    A = xtx.shape[-1]
    ridge = 1e-12 * np.maximum(np.einsum("gii->g", xtx), 1e-300)[:, None, None] * np.eye(A)
    return np.linalg.pinv(xtx + ridge)


def rep_heterogeneity_test(fit, C: np.ndarray, tested: np.ndarray, *, n_boot: int = N_BOOT_HET,
                           seed: int = 0) -> dict[str, np.ndarray]:  # fmt: skip
    """Do reps differ in what an activity does for them?  Q of the per-rep slopes, its null by a wild bootstrap.

    The statistic, per activity ``a``, is ``Q_a = sum_i (d_ia - mean_a)^2 / v_ia`` with ``d_ia = theta_ia - 1``
    the rep's deviation from the team slope (the per-rep regression of the team residual on every activity's
    team-shaped contribution ``C``), ``v_ia = s_i^2 [(C_i'C_i)^{-1}]_aa`` and ``s_i^2`` the rep's residual
    variance, and ``mean_a`` the ``1/v``-weighted mean.  Its null distribution is not taken from the
    chi-square: per-rep variances estimated from one rep's hundred periods are noisy and too small on
    average, so ``sum d^2 / v`` runs ~10-25 % above its degrees of freedom when every rep has the same effect
    (Cochran's Q rejected in 23 % of homogeneous worlds at 5 %; tests/reference/README.md).  Instead the
    team residuals are multiplied by random two-point weights (mean 0, variance 1, skewness ~1; one per
    rep-period) ``n_boot`` times, which imposes the null (every rep's slope is the team's) and keeps each
    rep-period's own error variance; the statistic is recomputed on each replicate exactly as on the data,
    and a scaled chi-square ``c * chi2(nu)`` is matched to the replicates' mean and variance (so p-values
    below ``1 / (n_boot + 1)`` remain usable for Holm).  Vectorised: per block of reps one batched matrix
    product of the padded ``C * e`` with the weight draws.

    Each replicate's residuals are centred within the rep, as the data's are by the rep fixed effect
    (without it each rep's residual variance in a replicate keeps one degree of freedom more than
    the data's, and the null's mean ran ~1.3 % low; measured on the project simulator's own regressors with
    outcomes drawn from the exact linear model, 300 draws on each of two seeds).

    Returns arrays over the A activities (NaN where not ``tested`` or fewer than 3 reps): ``q_stat``, ``df``
    (reps tested - 1), ``q_null_scale`` (the replicates' mean over ``df``: how far the plain chi-square would
    be off) and ``p_value``.
    """
    design, e = fit.design, fit.ols.resid
    G, A = design.n_reps, C.shape[1]
    n = design.rep_counts.astype(float)
    inv = _per_rep_inverse(_per_rep_gram(design, C, np.ones(e.size)))
    xte = np.stack([np.bincount(design.rep, weights=C[:, j] * e, minlength=G) for j in range(A)], axis=1)
    ee = np.bincount(design.rep, weights=e * e, minlength=G)
    diag = np.einsum("gii->gi", inv)
    use = (n > A + 1)[:, None] & (diag > 0) & np.asarray(tested, dtype=bool)[None, :]
    out = {k: np.full(A, np.nan) for k in ("q_stat", "df", "q_null_scale", "p_value")}
    cols = np.flatnonzero(use.sum(axis=0) >= 3)
    if not cols.size:
        return out
    q0 = _het_q(inv, xte[:, None, :], ee[:, None], n, A, use)[0, cols]
    scores, squares = _wild_scores(design, C, e, n_boot, seed)
    qb = _het_q(inv, scores, squares, n, A, use)[:, cols]
    m, var = qb.mean(axis=0), qb.var(axis=0, ddof=1)
    df = use[:, cols].sum(axis=0) - 1.0
    scale, nu = var / (2 * m), 2 * m**2 / np.maximum(var, 1e-300)
    out["q_stat"][cols], out["df"][cols], out["q_null_scale"][cols] = q0, df, m / df
    out["p_value"][cols] = stats.chi2.sf(q0 / scale, nu)
    return out


def _het_q(inv, xte, ee, n, A: int, use) -> np.ndarray:
    """The statistic of :func:`rep_heterogeneity_test` per activity and replicate: ``xte`` (G, B, A) the
    per-rep ``C'e``, ``ee`` (G, B) the per-rep ``e'e``; returns (B, A)."""
    d = np.matmul(xte, inv.transpose(0, 2, 1))  # each rep's slope minus the team's
    rss = ee - np.einsum("gba,gba->gb", d, xte)
    s2 = np.maximum(rss, 0.0) / np.maximum(n - A, 1.0)[:, None]
    v = s2[:, :, None] * np.einsum("gaa->ga", inv)[:, None, :]
    w = np.divide(use[:, None, :], v, out=np.zeros_like(v), where=v > 0)
    sw, swd = w.sum(axis=0), np.einsum("gba,gba->ba", w, d)
    return np.einsum("gba,gba,gba->ba", w, d, d) - swd**2 / np.maximum(sw, 1e-300)


def _wild_scores(design, C: np.ndarray, e: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``C_i' (e_i * w_b)`` (G, B, A) and ``sum (e_i * w_b - mean_i)^2`` (G, B) for every rep i and replicate b,
    ``mean_i`` the rep's mean of ``e_i * w_b`` (the rep fixed effect; ``C`` sums to zero within each rep).

    ``w`` are independent two-point weights per rep-period with mean 0, variance 1 and skewness 1.15 (near
    Mammen's): deal counts are skewed, and Rademacher signs, which erase the skew, ran the test a little
    hotter in a small skewed world (6.9 % against 6.5 % for Mammen's, 3,000 replications of 30 reps x 52
    periods).  Drawn as packed random bits (one seeded stream, reps in order; ``bit`` = both of two bits set);
    the products run as one float32 batched matrix product per block of reps over the zero-padded rows:
    ``w = a + (b - a) * bit``.
    """
    G, A = design.n_reps, C.shape[1]
    counts, starts = design.rep_counts, design.starts
    # a stream of its own (7041: this test's tag); built from its class, so a test that swaps out
    # np.random.default_rng for another check's draws leaves this one alone
    rng = np.random.Generator(np.random.PCG64([seed, 7041]))
    M = np.column_stack([C * e[:, None], e, e * e])
    total = np.stack([np.bincount(design.rep, weights=M[:, j], minlength=G) for j in range(A + 2)], axis=1)
    hits = np.empty((G, n_boot, A + 2))
    for lo in range(0, G, _BOOT_CHUNK):
        hi = min(G, lo + _BOOT_CHUNK)
        T = int(counts[lo:hi].max())
        rows = np.arange(starts[lo], starts[hi - 1] + counts[hi - 1])
        pad = np.zeros((hi - lo, T, A + 2), dtype=np.float32)
        pad[design.rep[rows] - lo, rows - starts[design.rep[rows]]] = M[rows]
        size = (hi - lo) * n_boot * T
        raw = rng.integers(0, 256, (2, (size + 7) // 8), dtype=np.uint8)
        bits = np.unpackbits(raw[0] & raw[1], count=size).reshape(hi - lo, n_boot, T)
        hits[lo:hi] = np.matmul(bits.astype(np.float32), pad)
    lo_w, hi_w = _W_LOW, _W_HIGH
    scores = lo_w * total[:, None, :A] + (hi_w - lo_w) * hits[..., :A]
    sums = lo_w * total[:, None, A] + (hi_w - lo_w) * hits[..., A]
    squares = lo_w**2 * total[:, None, A + 1] + (hi_w**2 - lo_w**2) * hits[..., A + 1]
    # centred within the rep, like the data's residuals (C sums to zero within each rep, so the scores keep)
    return scores, squares - sums**2 / np.maximum(counts, 1)[:, None]


def _per_rep_gram(design, C: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Per-rep ``sum_t (w_t C_t)' (w_t C_t)`` as (G, A, A); rows must be grouped by rep.

    When padding every rep to the longest history costs at most twice the rows (panels of whole years), the
    rows go into a zero-padded (G, T, A) array and one batched matrix product does all reps; otherwise one
    bincount per pair of columns.
    """
    G, A = design.n_reps, C.shape[1]
    counts, starts = design.rep_counts, design.starts
    T = int(counts.max()) if G else 0
    WC = C * w[:, None]
    if G * T <= 2 * C.shape[0]:
        pad = np.zeros((G, T, A))
        pad[design.rep, np.arange(C.shape[0]) - starts[design.rep]] = WC
        return np.matmul(pad.transpose(0, 2, 1), pad)
    out = np.zeros((G, A, A))
    for i in range(A):
        for j in range(i, A):
            out[:, i, j] = out[:, j, i] = np.bincount(design.rep, weights=WC[:, i] * WC[:, j], minlength=G)
    return out


def pool_rep_effects(theta, var, team_rep, team_se, eligible, alpha: float, rep_test: dict, groups=None):
    """Shrink raw per-rep effects toward the team; decide per activity whether reps differ.

    Parameters
    ----------
    theta, var : (G, A) arrays
        Per-rep multipliers of the team effect and their variances.
    team_rep : (G, A) array
        The team effect at each rep's own quality rates (on the estimated outcome).
    team_se : (G, A) array
        Its standard error.
    eligible : (A,) bool
        Activities with a clear team effect (others keep the team value).
    rep_test : dict of (A,) arrays
        :func:`rep_heterogeneity_test` of the same activities: ``q_stat, df, q_null_scale, p_value``.
    groups : (G,) array, optional
        Each rep's team: adds the between-team test of :func:`group_test`.

    Returns
    -------
    effect, std_error, raw, shrinkage : (G, A) arrays
    heterogeneity : pandas.DataFrame
        One row per activity: ``q_stat, df, q_null_scale, p_value, p_value_adj, reps_differ, differ_by, tau,
        tau_upper, cochran_q, cochran_p_value, team_f_stat, team_p_value, team_p_value_adj, differ_by_team``.
    """
    G, A = theta.shape
    raw = theta * team_rep
    v = var * team_rep**2
    effect, se, shrink = team_rep.copy(), team_se.copy(), np.ones((G, A))
    rows = {k: np.full(A, np.nan) for k in ("tau", "tau_upper", "cochran_q", "cochran_p_value", "team_f_stat",
                                            "team_p")}  # fmt: skip
    for j in np.flatnonzero(eligible):
        ok = np.isfinite(v[:, j]) & (v[:, j] > 0)
        if ok.sum() < 3:
            continue
        d = raw[ok, j] - team_rep[ok, j]
        tau2 = _cochran(d, v[ok, j], alpha, rows, j)
        if groups is not None:
            rows["team_f_stat"][j], _, _, rows["team_p"][j] = group_test(d, v[ok, j], np.asarray(groups)[ok])
        if tau2 > 0:
            b = tau2 / (tau2 + v[ok, j])
            effect[ok, j] = team_rep[ok, j] + b * d
            se[ok, j] = np.sqrt(tau2 * v[ok, j] / (tau2 + v[ok, j]) + (1 - b) ** 2 * team_se[ok, j] ** 2)
            shrink[ok, j] = 1 - b
    het = _heterogeneity_frame(rows, rep_test, np.asarray(eligible, dtype=bool), alpha)
    for j in np.flatnonzero((het["differ_by"] == "teams").to_numpy()):
        ok = np.isfinite(v[:, j]) & (v[:, j] > 0)
        dev, dev_var, spread2 = _team_level(raw[ok, j] - team_rep[ok, j], v[ok, j], np.asarray(groups)[ok], alpha)
        effect[:, j], se[:, j], shrink[:, j] = team_rep[:, j], np.sqrt(team_se[:, j] ** 2 + spread2), 1.0
        effect[ok, j] = team_rep[ok, j] + dev
        se[ok, j] = np.sqrt(team_se[ok, j] ** 2 + dev_var + spread2)
    same = ~het["reps_differ"].to_numpy()
    # reps cannot be told apart: the team effect, with an interval widened by the rep spread the data cannot rule
    # out (the upper confidence limit of tau), not a false per-rep precision
    spread = np.nan_to_num(het["tau_upper"].to_numpy(), nan=0.0)
    effect[:, same] = team_rep[:, same]
    se[:, same] = np.sqrt(team_se[:, same] ** 2 + spread[same] ** 2)
    shrink[:, same] = 1.0
    return effect, se, raw, shrink, het


def _cochran(d: np.ndarray, v: np.ndarray, alpha: float, rows: dict, j: int) -> float:
    """Cochran's Q against chi-square(G - 1) (reported only: oversized here), the DerSimonian-Laird ``tau^2``
    (returned) and the Q-profile upper limit of ``tau``, written into ``rows`` at activity ``j``."""
    w = 1.0 / v
    q, df = float(np.sum(w * d**2)), d.size - 1
    tau2 = max(0.0, (q - df) / (w.sum() - (w**2).sum() / w.sum()))
    rows["cochran_q"][j], rows["cochran_p_value"][j] = q, stats.chi2.sf(q, df)
    rows["tau"][j] = np.sqrt(tau2)
    rows["tau_upper"][j] = np.sqrt(_tau2_upper(d, v, df, alpha))
    return tau2


def _heterogeneity_frame(rows: dict, rep_test: dict, eligible: np.ndarray, alpha: float) -> pd.DataFrame:
    """The heterogeneity table and its decision ``reps_differ`` (with ``differ_by``: ``reps``, ``teams`` or "").

    Reps differ when the rep-level test finds it (``differ_by`` ``reps``: each rep's own shrunk slope), or,
    where the panel names two or more teams, when the between-team F test does (``teams``: each rep carries
    its team's effect, see :func:`_team_level`).  With teams each test runs at half the level (Bonferroni
    across the two, Holm across activities within each), so the decision keeps its size.  Measured on the
    independent simulator (60 seeds, tests/reference/README.md row ``heterogeneity_test``): size 3 % and power
    53 % in the two-group world, against 2 % and 22 % for the rep-level test alone at 5 %.  The team test finds
    differences that line up with teams with K - 1 instead of G - 1 degrees of freedom; the rep-level test
    keeps the others findable.
    """
    p = np.where(eligible, rep_test["p_value"], np.nan)
    het = pd.DataFrame({k: np.where(eligible, rep_test[k], np.nan) for k in ("q_stat", "df", "q_null_scale")})
    het["p_value"], het["p_value_adj"] = p, holm(p)
    team_adj = holm(rows["team_p"])
    level = alpha / 2 if np.isfinite(team_adj).any() else alpha
    by_reps, by_team = het["p_value_adj"].to_numpy() < level, team_adj < level
    het["reps_differ"] = by_reps | by_team
    het["differ_by"] = pd.Series(np.where(by_reps, "reps", np.where(by_team, "teams", "")), dtype=object)
    for k in ("tau", "tau_upper", "cochran_q", "cochran_p_value"):
        het[k] = rows[k]
    het["team_f_stat"], het["team_p_value"], het["team_p_value_adj"] = rows["team_f_stat"], rows["team_p"], team_adj
    het["differ_by_team"] = by_team
    return het


def _team_level(d: np.ndarray, v: np.ndarray, groups: np.ndarray, alpha: float):
    """Teams differ, reps within a team cannot be told apart: each rep's deviation from the team effect is its
    team's (``1/v``-weighted mean of its reps' deviations).  Returns the deviation per rep, its variance (the
    team mean's, scaled by the within-team dispersion ``Q_within / (G - K)`` when above 1: per-rep variances
    too small or reps differing inside teams), and the within-team spread the data cannot rule out (Q-profile
    upper limit of the within-team ``tau^2``), both per rep."""
    codes, _ = pd.factorize(pd.Series(groups, dtype=object).fillna("(no team)"))
    w = 1.0 / v
    W = np.bincount(codes, weights=w)
    mean = np.bincount(codes, weights=w * d) / W
    resid = d - mean[codes]
    G, K = d.size, int(codes.max()) + 1
    phi = max(1.0, float(np.sum(w * resid**2)) / max(G - K, 1))
    return mean[codes], phi / W[codes], _tau2_upper(resid, v, max(G - K, 1), alpha)


def group_test(d: np.ndarray, v: np.ndarray, groups: np.ndarray) -> tuple[float, int, int, float]:
    """Do rep effects differ between groups of reps (teams)?  ``(f_stat, df_between, df_within, p_value)``.

    ``d`` are the reps' deviations from the team effect, ``v`` their variances.
    The between-group part of Cochran's Q over its within-group part,
    ``F = (Q_between / (K - 1)) / (Q_within / (G - K))`` against F(K-1, G-K):
    a test with K - 1 degrees of freedom instead of Q's G - 1, so a difference
    that lines up with the teams is found with far fewer reps, and a ratio of
    two Q's, so it keeps its size when the per-rep variances are off by a
    common factor (measured in the homogeneous baseline of the independent
    simulator, Q's per-rep z^2 averages ~1.2-1.3, which inflates Q's size).
    NaN where fewer than two groups or fewer than two reps beyond the groups.
    """
    codes, _ = pd.factorize(pd.Series(groups))
    ok = np.isfinite(d) & np.isfinite(v) & (v > 0) & (codes >= 0)
    codes, w, d = codes[ok], 1.0 / v[ok], d[ok]
    K, G = np.unique(codes).size, d.size
    if K < 2 or G - K < 2:
        return np.nan, K - 1, G - K, np.nan
    W = np.bincount(codes, weights=w)
    used = W > 0
    mean_k = np.bincount(codes, weights=w * d)[used] / W[used]
    mean = float(np.sum(w * d) / w.sum())
    q_between = float(np.sum(W[used] * (mean_k - mean) ** 2))
    q_within = float(np.sum(w * (d - (np.bincount(codes, weights=w * d) / np.where(used, W, 1.0))[codes]) ** 2))
    if q_within <= 0:
        return np.nan, K - 1, G - K, np.nan
    f = (q_between / (K - 1)) / (q_within / (G - K))
    return f, K - 1, G - K, float(stats.f.sf(f, K - 1, G - K))


def _tau2_upper(d: np.ndarray, v: np.ndarray, df: int, alpha: float) -> float:
    """Upper ``1 - alpha/2`` confidence limit of tau^2 by the Q-profile method (bisection on a monotone function)."""
    target = stats.chi2.ppf(alpha / 2, df)

    def q(t2: float) -> float:
        return float(np.sum(d**2 / (v + t2)))

    if q(0.0) <= target:
        return 0.0
    lo, hi = 0.0, max(float(np.max(d**2)), 1e-12)
    while q(hi) > target:
        hi *= 4
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if q(mid) > target else (lo, mid)
    return hi
