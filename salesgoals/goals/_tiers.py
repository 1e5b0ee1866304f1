"""From a rep's history to goals for the goal period: shrinkage, predictive sums, tiers, landmarks.

Pieces of :func:`salesgoals.personal_best_goals`, each named for what it decides:

* :func:`streak_corrected_variance` - each rep's weekly variance with the part their own
  quarter mean absorbed put back;
* :func:`window_covariances`, :func:`level_variance_factor`, :func:`shift_variance_factor` -
  how uncertain a rep's level is (and a change of level would be) when weeks are streaky;
* :func:`shrink_to_peers` - each rep's level shrunk toward their peers (empirical Bayes, by the
  uncertainty of the level actually used) and the over-dispersion of their weekly counts;
* :func:`predictive` - mean and variance of each period's count and of the period *total*
  (season, persistent busy/quiet streaks, uncertainty of the level);
* :func:`tier_totals` - the clear / stretch / extraordinary totals for the period;
* :func:`tier_odds` - the stated odds of each tier (period total and a single period);
* :func:`landmarks` - what the rep must have done by each period of the horizon to be on pace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._schema import landmark_table
from salesgoals._typing import TIERS
from salesgoals.goals._odds import level_with_odds, prob_at_least

__all__ = [
    "TIERS", "TIER_PROBABILITIES", "EXTRAORDINARY_STEP", "DISPERSION_PRIOR_PERIODS",
    "mean_inflation", "streak_corrected_variance", "reversion_weight", "peer_dispersion", "window_covariances", "level_variance_factor", "shift_variance_factor", "shrink_to_peers", "predictive", "tier_totals", "tier_odds", "landmarks",
]  # fmt: skip

#: Design odds of each tier for the period total.  ``clear`` is set at the largest total the
#: rep reaches with these odds (the forecastable commitment); ``stretch`` is the personal best
#: (its odds are stated, not forced; for a rep flagged ``declining`` or ``inactive`` it is the
#: total reached with these odds instead); ``extraordinary`` is the total reached with these
#: odds, and at least :data:`EXTRAORDINARY_STEP` above stretch.
TIER_PROBABILITIES: dict[str, float] = {"clear": 0.85, "stretch": 0.35, "extraordinary": 0.10}

#: ``extraordinary`` is at least this much above ``stretch`` ("significantly beyond").
EXTRAORDINARY_STEP = 0.10

#: Pseudo-periods of the pooled over-dispersion added to each rep's own variance.
DISPERSION_PRIOR_PERIODS = 10.0


def mean_inflation(share, phi, n: int) -> np.ndarray:
    """Variance of a mean of ``n`` autocorrelated periods over the i.i.d. ``s^2 / n`` (per metric)."""
    k = np.arange(1, max(int(n), 1))
    return 1.0 + 2.0 * share * ((1 - k[:, None] / n) * phi[None, :] ** k[:, None]).sum(axis=0)


def streak_corrected_variance(var_raw, n_base, share, phi) -> np.ndarray:
    """Each rep's period variance with the part their own mean absorbed put back (R x M).

    The sample variance of ``n`` autocorrelated periods around their own mean has expectation
    ``variance * (n - infl_n) / (n - 1)``, with ``infl_n`` the :func:`mean_inflation` of the
    window: a quarter of busy weeks reads as a quieter, steadier rep than they are.  Without the
    correction the spread of the period total is understated and the stretch and extraordinary
    goals are reached more often than stated.
    """
    n_base = np.asarray(n_base, dtype=float)
    factor = np.ones((n_base.size, np.size(phi)))
    for n in np.unique(n_base[n_base >= 3]).astype(int):  # a few distinct window lengths
        infl = mean_inflation(share, phi, n)
        factor[n_base == n] = (n - 1) / np.maximum(n - infl, 1.0)
    return np.asarray(var_raw, dtype=float) * factor


def reversion_weight(share, phi, n: int, H: int) -> np.ndarray:
    """How much of a rep's recent deviation from their own year level carries into the goal period.

    With a persistent part of the weekly variance (``share``, decaying by ``phi`` a period, as
    estimated by :func:`salesgoals.goals._history.autocorrelation`) and count noise, the best
    linear forecast of the period's mean deviation from the recent ``n``-period mean deviation
    has weight ``share * a_H * a_n / (share * b_n + (1 - share) / n)``, with ``a_H`` the mean of
    ``phi**i`` over the period, ``a_n`` the mean of ``phi**j`` over the window and ``b_n`` the
    mean of ``phi**|j-k|`` over window pairs.  A hot (or cold) quarter is expected to cool (or
    warm) toward the rep's own level; without this the clear goal is missed and the
    extraordinary goal reached more often than stated.
    """
    n, H = max(int(n), 1), max(int(H), 1)
    i, j = np.arange(1, H + 1), np.arange(n)
    a_h = (phi[None, :] ** i[:, None]).mean(axis=0)
    a_n = (phi[None, :] ** j[:, None]).mean(axis=0)
    lag = np.abs(j[:, None] - j[None, :]).ravel()
    b_n = (phi[None, :] ** lag[:, None]).mean(axis=0)
    return np.clip(share * a_h * a_n / np.maximum(share * b_n + (1 - share) / n, 1e-12), 0.0, 1.0)


def shrink_to_peers(mean_raw, var_raw, n_base, peer, *, min_hist: int, inflation=1.0, level_factor=None):
    """Empirical-Bayes level, over-dispersion and level uncertainty per rep (R x M each).

    The level is the rep's mean shrunk toward the peer mean with weight
    ``tau^2 / (tau^2 + s^2 * f)``, where ``s^2 * f`` is the sampling variance of the rep's
    level: ``f = inflation / n`` for the plain mean of the ``n`` baseline periods (``n`` counts
    as fewer periods when busy and quiet streaks persist, :func:`mean_inflation`), or
    ``level_factor`` (R x M, :func:`level_variance_factor`) for a level that blends the year
    with the recent quarter.  Shrinking a year-long level as if it were one quarter's mean pulls
    strong reps down and weak reps up more than the data says: the odds of strong reps' stretch
    and extraordinary goals are then understated.
    Over-dispersion ``(var - mean) / mean^2`` is the rep's own shrunk toward the peer median
    with :data:`DISPERSION_PRIOR_PERIODS` pseudo-periods.
    """
    R, M = mean_raw.shape
    if level_factor is None:
        level_factor = np.broadcast_to(np.asarray(inflation, dtype=float), (M,))[None, :] / np.maximum(n_base, 1)[:, None]
    f = np.broadcast_to(np.asarray(level_factor, dtype=float), (R, M))
    group_disp = peer_dispersion(mean_raw, var_raw, n_base, peer, min_hist=min_hist)
    peer_codes, peer_idx = np.unique(peer, return_inverse=True)
    long_hist = n_base >= min_hist
    mean_s, disp, m_uncert = np.empty((R, M)), np.empty((R, M)), np.empty((R, M))
    for g in range(len(peer_codes)):  # loop over a few peer groups
        inside = peer_idx == g
        ref = inside & long_hist
        if ref.sum() < 2:
            ref = long_hist if long_hist.sum() >= 2 else np.ones(R, dtype=bool)
        peer_mean = mean_raw[ref].mean(axis=0)
        samp = np.maximum(var_raw[ref], mean_raw[ref]) * f[ref]
        tau2 = np.maximum(mean_raw[ref].var(axis=0) - samp.mean(axis=0), 1e-9)
        own_samp = np.maximum(var_raw[inside], np.maximum(mean_raw[inside], peer_mean)) * f[inside]
        w = np.where(n_base[inside, None] > 0, tau2 / (tau2 + own_samp), 0.0)
        mean_s[inside] = w * mean_raw[inside] + (1 - w) * peer_mean
        phi_g = group_disp[inside]
        mi = mean_raw[inside]
        own_phi = np.where(mi > 0, (var_raw[inside] - mi) / np.maximum(mi, 1e-9) ** 2, phi_g)
        k = n_base[inside, None]
        disp[inside] = (k * np.maximum(own_phi, 0) + DISPERSION_PRIOR_PERIODS * phi_g) / (k + DISPERSION_PRIOR_PERIODS)
        # posterior variance of the rep's mean: w * s^2/n, or the between-rep variance with no history
        m_uncert[inside] = np.where(n_base[inside, None] > 0, w * own_samp, tau2)
    return np.maximum(mean_s, 0.0), disp, m_uncert


def peer_dispersion(mean, var, n_base, peer, *, min_hist: int) -> np.ndarray:
    """Median over-dispersion ``(var - mean) / mean^2`` of each rep's peer group (R x M).

    Reps with at least ``min_hist`` baseline periods are the reference (all reps when a group
    has fewer than two).  The yardstick of an ordinary rep of the group: one rep's own variance
    over a quarter of streaky weeks rests on a handful of effective periods.
    """
    R, M = mean.shape
    peer_codes, peer_idx = np.unique(peer, return_inverse=True)
    long_hist = n_base >= min_hist
    out = np.zeros((R, M))
    for g in range(len(peer_codes)):  # loop over a few peer groups
        inside = peer_idx == g
        ref = inside & long_hist
        if ref.sum() < 2:
            ref = long_hist if long_hist.sum() >= 2 else np.ones(R, dtype=bool)
        mr = mean[ref]
        ratio = np.where(mr > 0, (var[ref] - mr) / np.maximum(mr, 1e-9) ** 2, 0.0)
        out[inside] = np.maximum(np.median(ratio, axis=0), 0.0)
    return out


def window_covariances(share, phi, n_look, n_base) -> dict:
    """Variances and covariances of a rep's window means, over one period's variance (R x M each).

    With periods ``k`` apart correlated ``share * phi**k``: ``year`` (mean of the whole
    look-back), ``recent`` (the last ``n_base`` periods), ``older`` (the periods before them),
    ``year_recent`` and ``older_recent`` (their covariances).  A rep without periods in a
    window gets 1 (the variance of a single period) for its terms.
    """
    n_look, n_base = np.asarray(n_look, dtype=int), np.asarray(n_base, dtype=int)
    share, phi = np.atleast_1d(share).astype(float), np.atleast_1d(phi).astype(float)
    keys = ("year", "recent", "older", "year_recent", "older_recent")
    out = {k: np.ones((n_look.size, share.size)) for k in keys}
    for L, B in set(zip(n_look.tolist(), n_base.tolist())):  # a few distinct (look-back, baseline) lengths
        if B < 1:
            continue
        rows = (n_look == L) & (n_base == B)
        L = max(L, B)
        lag = np.abs(np.arange(L)[:, None] - np.arange(L)[None, :])
        rho = np.where(lag[None] == 0, 1.0, share[:, None, None] * phi[:, None, None] ** lag[None])  # M x L x L
        out["year"][rows] = rho.mean(axis=(1, 2))
        out["recent"][rows] = rho[:, -B:, -B:].mean(axis=(1, 2))
        out["year_recent"][rows] = rho[:, :, -B:].mean(axis=(1, 2))
        if L > B:
            out["older"][rows] = rho[:, :-B, :-B].mean(axis=(1, 2))
            out["older_recent"][rows] = rho[:, :-B, -B:].mean(axis=(1, 2))
    return out


def level_variance_factor(cov: dict, c, year) -> np.ndarray:
    """Sampling variance of each rep's level over one period's variance (R x M).

    The level is ``(1 - c) * year mean + c * recent mean`` (``c`` from :func:`reversion_weight`)
    where ``year`` is true, else the recent mean alone; ``cov`` from :func:`window_covariances`.
    """
    c = np.broadcast_to(np.asarray(c, dtype=float), cov["year"].shape)
    blend = (1 - c) ** 2 * cov["year"] + 2 * c * (1 - c) * cov["year_recent"] + c**2 * cov["recent"]
    return np.where(np.broadcast_to(np.asarray(year, dtype=bool), c.shape), blend, cov["recent"])


def shift_variance_factor(cov: dict) -> np.ndarray:
    """Variance of (recent mean - older mean) over one period's variance, for a rep with no change of level."""
    return np.maximum(cov["recent"] + cov["older"] - 2 * cov["older_recent"], 1e-12)


def predictive(mean_s, disp, m_uncert, s_h, share, phi) -> dict:
    """Mean and variance of each horizon period's count (H x R x M) and of the period total (R x M).

    Busy and quiet streaks persist, so the total varies more than H independent periods would:
    the covariance of periods k apart is ``share * phi**k`` of the within-rep variance.  The
    uncertainty of the rep's level adds ``(sum of seasonal factors)^2 * m_uncert``.
    """
    H = s_h.shape[0]
    m_h = mean_s[None, :, :] * s_h[:, None, :]
    v_h = m_h + disp[None] * m_h**2 + m_uncert[None] * s_h[:, None, :] ** 2
    k = np.arange(1, H)
    w_lag = (H - k)[:, None] * phi[None, :] ** k[:, None]
    within = (m_h + disp[None] * m_h**2).mean(axis=0)
    var_sum = within * (H + 2 * share[None, :] * w_lag.sum(axis=0)[None, :])
    var_sum = var_sum + s_h.sum(axis=0)[None, :] ** 2 * m_uncert
    return {"m_h": m_h, "v_h": v_h, "mean_sum": m_h.sum(axis=0), "var_sum": var_sum}


def tier_totals(pred, best_h, held_back, tiers, H) -> dict:
    """Whole-count totals for the period per tier (R x M each).

    ``best_h`` is the personal best per period at the horizon's season; ``held_back`` marks
    rep-activities flagged ``declining`` / ``inactive`` / ``best_out_of_reach``, whose stretch is their recent reach
    (the total reached with ``tiers["stretch"]`` odds) rather than an old best.
    """
    mean_sum, var_sum = pred["mean_sum"], pred["var_sum"]
    clear = level_with_odds(tiers["clear"], mean_sum, var_sum)
    at_best = np.ceil(best_h * H - 1e-9)
    reach = level_with_odds(tiers["stretch"], mean_sum, var_sum)
    stretch = np.maximum(np.where(held_back, reach, at_best), clear + 1)
    extra = np.maximum.reduce([
        level_with_odds(tiers["extraordinary"], mean_sum, var_sum),
        np.ceil(stretch * (1 + EXTRAORDINARY_STEP) - 1e-9),
        stretch + 1,
    ])  # fmt: skip
    return {"clear": clear, "stretch": stretch, "extraordinary": extra}


def tier_odds(totals, pred, H) -> dict:
    """Stated odds per tier: ``p_<tier>`` for the period total, ``p_<tier>_week`` for one period."""
    out = {}
    for tier, total in totals.items():
        out[f"p_{tier}"] = prob_at_least(total, pred["mean_sum"], pred["var_sum"])
        rate = np.broadcast_to(total / H, pred["m_h"].shape)
        out[f"p_{tier}_week"] = prob_at_least(rate, pred["m_h"], pred["v_h"]).mean(axis=0)
    return out


def landmarks(totals, s_h, reps, metrics, periods) -> pd.DataFrame:
    """Cumulative must-have-done by the end of each horizon period, paced by the season.

    One row per rep x activity x tier x period: ``rep, activity, tier, week, period_start,
    period_end, cumulative`` (whole counts; the last period's equals the goal total).
    """
    H, M = s_h.shape
    share = np.cumsum(s_h, axis=0) / np.maximum(s_h.sum(axis=0), 1e-12)  # H x M
    cumulative = {}
    for tier, total in totals.items():  # three tiers
        cum = np.round(total[:, :, None] * share.T[None, :, :])  # R x M x H
        cum[:, :, -1] = total
        cumulative[tier] = cum.reshape(-1, H)
    R = len(reps)
    rep = np.repeat(np.asarray(reps, dtype=object), M)
    activity = np.tile(np.asarray(metrics, dtype=object), R)
    return landmark_table(rep, activity, cumulative, periods)
