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
quality rates.  Its variance is heteroskedasticity-robust within the rep
(serial correlation within a rep is not modelled; the team effect's own
clustered error enters the shrunk interval below).

The raw per-rep effects ``b_i`` (variance ``v_i``) are then shrunk toward the
team effect ``t_i`` with the between-rep variance ``tau^2`` estimated by the
DerSimonian-Laird moment estimator,

.. math::

    \\tilde b_i = t_i + \\frac{\\tau^2}{\\tau^2 + v_i}(b_i - t_i), \\qquad
    \\operatorname{Var} = \\frac{\\tau^2 v_i}{\\tau^2 + v_i}
      + \\Big(\\frac{v_i}{\\tau^2 + v_i}\\Big)^2 \\operatorname{se}(t)^2 .

Whether reps differ at all is Cochran's Q test, ``Q = sum (b_i - t_i)^2 / v_i``
against chi-square(G - 1), Holm-adjusted across the activities tested.  Where
it does not reject (or the team effect itself is not clear), reps cannot be
told apart: each rep gets the team effect (at the rep's own quality rates and
conversion), ``reps_differ`` is False, and the interval is the team interval
widened by the spread of rep effects the data cannot rule out (the Q-profile
upper confidence limit of ``tau``): an honest "somewhere around the team
effect", not a false per-rep precision.

Where the panel names each rep's team, :func:`group_test` also asks whether
effects differ *between teams*: the between-team part of Q over its
within-team part, an F test with K - 1 degrees of freedom.  It is the
stronger question when differences follow the teams (K - 1 instead of G - 1
degrees of freedom for the same signal), and a ratio of two Q's keeps its size
when the per-rep variances are misstated by a common factor, which inflates
Q's size (tests/reference/README.md, ``heterogeneity_test``).  Measured on the independent
simulator's two-group scenario (meeting effects x0.5 / x1.5, 50 reps x 104
weeks), single reps' slopes have standard errors near 0.11 against a group
difference of 0.13, so the test rarely rejects; the widened intervals still
cover each rep's truth near the nominal rate (tests/reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals.drivers._verdicts import holm

__all__ = ["rep_slopes", "pool_rep_effects", "group_test"]


def rep_slopes(fit, acts: list[str], quality_of: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-rep multipliers ``theta`` (G, A), their robust variances (G, A), and rows per rep (G,).

    Needs the demeaned data kept on the fit (``keep_demeaned=True``).
    """
    W = fit.n_lags + 1
    pos = {name: i for i, name in enumerate(fit.acts)}
    Xd, e, rep = fit.demeaned_X, fit.ols.resid, fit.design.rep
    G, A = fit.design.n_reps, len(acts)
    C = np.empty((e.size, A))
    for j, a in enumerate(acts):
        cols = [pos[a]] + ([pos[quality_of[a]]] if a in quality_of else [])
        C[:, j] = sum(Xd[:, i * W:(i + 1) * W] @ fit.coef[i] for i in cols)
    u = e + C.sum(axis=1)
    n = np.bincount(rep, minlength=G).astype(float)
    xtx = _per_rep_gram(fit.design, C, np.ones(e.size))
    xty = np.stack([np.bincount(rep, weights=C[:, j] * u, minlength=G) for j in range(A)], axis=1)
    ridge = 1e-12 * np.maximum(np.einsum("gii->g", xtx), 1e-300)[:, None, None] * np.eye(A)
    inv = np.linalg.pinv(xtx + ridge)
    theta = np.einsum("gij,gj->gi", inv, xty)
    res = u - np.einsum("nj,nj->n", C, theta[rep])
    meat = _per_rep_gram(fit.design, C, res)
    scale = n / np.maximum(n - A, 1.0)
    var = np.einsum("gii->gi", inv @ meat @ inv) * scale[:, None]
    var[n <= A + 1] = np.inf
    return theta, var, n


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


def pool_rep_effects(theta, var, team_rep, team_se, eligible, alpha: float, groups=None):
    """Shrink raw per-rep effects toward the team; Cochran's Q per activity.

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
    groups : (G,) array, optional
        Each rep's team: adds the between-team test of :func:`group_test`.

    Returns
    -------
    effect, std_error, raw, shrinkage : (G, A) arrays
    heterogeneity : pandas.DataFrame
        One row per activity: ``q_stat, df, p_value, tau, tau_upper, p_value_adj, reps_differ, team_f_stat,
        team_p_value, team_p_value_adj, differ_by_team``.
    """
    G, A = theta.shape
    raw = theta * team_rep
    v = var * team_rep**2
    effect, se = team_rep.copy(), team_se.copy()
    shrink = np.ones((G, A))
    rows = {k: np.full(A, np.nan) for k in ("q_stat", "df", "p_value", "tau", "tau_upper", "team_f_stat", "team_p")}
    for j in np.flatnonzero(eligible):
        ok = np.isfinite(v[:, j]) & (v[:, j] > 0)
        if ok.sum() < 3:
            continue
        d, w = raw[ok, j] - team_rep[ok, j], 1.0 / v[ok, j]
        q = float(np.sum(w * d**2))
        df = int(ok.sum() - 1)
        tau2 = max(0.0, (q - df) / (w.sum() - (w**2).sum() / w.sum()))
        rows["q_stat"][j], rows["df"][j], rows["p_value"][j] = q, df, stats.chi2.sf(q, df)
        if groups is not None:
            rows["team_f_stat"][j], _, _, rows["team_p"][j] = group_test(d, v[ok, j], np.asarray(groups)[ok])
        rows["tau"][j] = np.sqrt(tau2)
        if tau2 > 0:
            b = tau2 / (tau2 + v[ok, j])
            effect[ok, j] = team_rep[ok, j] + b * d
            se[ok, j] = np.sqrt(tau2 * v[ok, j] / (tau2 + v[ok, j]) + (1 - b) ** 2 * team_se[ok, j] ** 2)
            shrink[ok, j] = 1 - b
        rows["tau_upper"][j] = np.sqrt(_tau2_upper(d, v[ok, j], df, alpha))
    team_f, team_p = rows.pop("team_f_stat"), rows.pop("team_p")
    het = pd.DataFrame(rows)
    het["p_value_adj"] = holm(het["p_value"].to_numpy())
    het["reps_differ"] = (het["p_value_adj"] < alpha).to_numpy()
    het["team_f_stat"], het["team_p_value"], het["team_p_value_adj"] = team_f, team_p, holm(team_p)
    het["differ_by_team"] = (het["team_p_value_adj"] < alpha).to_numpy()
    same = ~het["reps_differ"].to_numpy()
    # reps cannot be told apart: the team effect, with an interval widened by the rep spread the data cannot rule
    # out (the upper confidence limit of tau), not a false per-rep precision
    spread = np.nan_to_num(het["tau_upper"].to_numpy(), nan=0.0)
    effect[:, same] = team_rep[:, same]
    se[:, same] = np.sqrt(team_se[:, same] ** 2 + spread[same] ** 2)
    shrink[:, same] = 1.0
    return effect, se, raw, shrink, het


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
