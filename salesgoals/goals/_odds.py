"""Count distributions behind the stated odds: negative binomial (or Poisson) by mean and variance."""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["nb_params", "prob_at_least", "level_with_odds"]


def nb_params(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    poisson, n, p = nb_params(mean, var)
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
    poisson, n, p = nb_params(mean, var)
    m = np.maximum(np.asarray(mean, dtype=float), 1e-12)
    q = 1.0 - odds
    out = np.where(poisson, stats.poisson.ppf(q, m), stats.nbinom.ppf(q, n, p))
    return np.nan_to_num(out, nan=0.0, posinf=0.0).astype(float)
