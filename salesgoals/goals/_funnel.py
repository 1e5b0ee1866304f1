"""Each rep's deal funnel (deal rate, win rate, deal size), shrunk toward the team.

Used by :func:`salesgoals.personal_best_goals` for ``GoalPlan.rep_stats`` (what
:func:`salesgoals.project_targets` simulates) and to turn driver effects into revenue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals.goals._priorities import FAMILIES

__all__ = ["rep_funnel", "quality_rates", "clean"]


def clean(a: np.ndarray) -> np.ndarray:
    """Replace NaN / inf by 0 (outputs promise finite numbers)."""
    return np.nan_to_num(np.asarray(a, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)


def quality_rates(p: pd.DataFrame, code: np.ndarray, R: int, metrics: list[str]) -> np.ndarray:
    """Per-rep share of an activity that counts as quality (connect rate, show rate)."""
    out = np.ones((R, len(metrics)))
    for j, m in enumerate(metrics):
        src = FAMILIES.get(m)
        if src is None or src not in p.columns:
            continue
        num = np.bincount(code, weights=p[m].to_numpy(float), minlength=R)
        den = np.bincount(code, weights=p[src].to_numpy(float), minlength=R)
        team = num.sum() / max(den.sum(), 1.0)
        out[:, j] = (num + 5 * team) / (den + 5)  # a few pseudo-activities of the team rate
    return out


#: Beta prior strength (pseudo-deals) of the win-rate shrinkage toward the team.
WIN_RATE_PRIOR_DEALS = 10.0
#: Pseudo-deals of the team mean deal size in the deal-size shrinkage.
DEAL_SIZE_PRIOR_DEALS = 5.0
#: Spread of log deal size used when the panel cannot estimate it.
DEFAULT_DEAL_SIZE_SIGMA = 0.7


def rep_funnel(p, code, reps, peer, in_base, drivers, n_look, lookback) -> pd.DataFrame:
    """Per-rep deal rate, win rate and deal size over the look-back, shrunk toward the team."""
    R = len(reps)
    f = lambda col: np.bincount(code, weights=p[col].to_numpy(float), minlength=R)  # noqa: E731
    created, won, lost, rev = f("deals_created"), f("deals_won"), f("deals_lost"), f("won_revenue")
    n = n_look.astype(float)
    team_rate = created.sum() / max(n.sum(), 1.0)
    # deals created per period: gamma posterior with a prior worth 4 periods of the team rate
    prior_periods = 4.0
    shape = created + prior_periods * team_rate
    rate_periods = n + prior_periods
    closed = won + lost
    team_wr = won.sum() / closed.sum() if closed.sum() > 0 else 0.0
    a = won + WIN_RATE_PRIOR_DEALS * team_wr
    b = lost + WIN_RATE_PRIOR_DEALS * (1 - team_wr)
    team_size = rev.sum() / won.sum() if won.sum() > 0 else 0.0
    size = (rev + DEAL_SIZE_PRIOR_DEALS * team_size) / (won + DEAL_SIZE_PRIOR_DEALS)
    # spread of log deal size from periods with exactly one deal created (its amount is exact)
    one = (p["deals_created"].to_numpy() == 1) & (p["pipeline_created"].to_numpy() > 0)
    sigma = DEFAULT_DEAL_SIZE_SIGMA
    if one.sum() >= 20:
        la = np.log(p["pipeline_created"].to_numpy()[one])
        c1 = code[one]
        mu_rep = np.bincount(c1, weights=la, minlength=R) / np.maximum(
            np.bincount(c1, minlength=R), 1
        )
        resid = la - mu_rep[c1]
        dof = max(one.sum() - len(np.unique(c1)), 1)
        sigma = float(np.sqrt((resid**2).sum() / dof))
    flags = np.full(R, "", dtype=object)
    flags[won == 0] = "no_won_deals"
    if won.sum() == 0:
        flags[:] = "no_won_deals_in_team"
    funnel = getattr(drivers, "funnel", None)
    wr = a / np.maximum(a + b, 1e-12)
    if isinstance(funnel, pd.DataFrame) and {"rep", "win_rate", "deal_size"} <= set(funnel.columns):
        fu = funnel.drop_duplicates("rep").set_index("rep").reindex(reps)
        wr = np.where(
            np.isfinite(fu["win_rate"].to_numpy(float)), fu["win_rate"].to_numpy(float), wr
        )
        fs = fu["deal_size"].to_numpy(float)
        size = np.where(np.isfinite(fs) & (fs > 0), fs, size)
        k = a + b
        a, b = wr * k, (1 - wr) * k
    out = pd.DataFrame(
        {
            "rep": reps.to_numpy().astype(str),
            "team": np.asarray(peer).astype(str),
            "n_periods": n_look.astype(np.int64),
            "deals_rate": shape / rate_periods,
            "deals_rate_shape": shape,
            "deals_rate_periods": rate_periods,
            "win_rate": clean(wr),
            "win_alpha": clean(a),
            "win_beta": clean(b),
            "deal_size": clean(size),
            "deal_size_n": won + DEAL_SIZE_PRIOR_DEALS,
            "deal_size_sigma": sigma,
            "flags": flags.astype(str),
        }
    )
    for col in ("manager", "region"):
        if col in p.columns:
            out.insert(
                2,
                col,
                p.groupby("rep", sort=True)[col].first().reindex(reps).astype(str).to_numpy(),
            )
    out = out[
        [c for c in ["rep", "team", "manager", "region"] if c in out.columns]
        + [c for c in out.columns if c not in ("rep", "team", "manager", "region")]
    ]
    return out
