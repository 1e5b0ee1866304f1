"""The funnel from deals created to revenue: per-rep win rate, deal size and quality rates.

Every rate is shrunk toward the team by empirical Bayes, so a rep with three
closed deals does not get a win rate of 0 % or 100 %: beta-binomial for rates
(win rate, connect rate, show rate) and normal-normal for mean deal size, with
the prior's strength estimated from how much reps really differ beyond noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._schema import QUALITY_METRICS

#: Funnel column holding the (shrunk) rate of each quality metric.
QUALITY_RATE_NAMES: dict[str, str] = {"call_connected": "connect_rate", "meeting_held": "show_rate"}


def quality_rate_name(metric: str) -> str:
    """Funnel column of a quality metric's rate (``call_connected`` -> ``connect_rate``)."""
    return QUALITY_RATE_NAMES.get(metric, f"{metric}_rate")


def shrink_rate(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, float, float]:
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


def shrink_size(totals: np.ndarray, counts: np.ndarray, within_var: float) -> tuple[np.ndarray, float]:
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


def within_size_var(frame: pd.DataFrame, total_col: str, count_col: str) -> float:
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


def funnel_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Per-rep conversion from deals created to revenue, shrunk toward the team."""
    codes, labels = pd.factorize(frame["rep"].astype(str).to_numpy(dtype=object), sort=True)
    G = len(labels)

    def rep_sum(col: str) -> np.ndarray:  # per-rep totals with bincount: this runs in every bootstrap draw
        return np.bincount(codes, weights=frame[col].to_numpy(dtype=float), minlength=G)

    cols = {c: rep_sum(c) for c in ("deals_created", "pipeline_created", "deals_won", "deals_lost", "won_revenue")
            if c in frame.columns}  # fmt: skip
    out = pd.DataFrame(cols, index=pd.Index(np.asarray(labels, dtype=object), name="rep"))
    won = out.get("deals_won", pd.Series(0, index=out.index)).to_numpy(dtype=float)
    lost = out.get("deals_lost", pd.Series(0, index=out.index)).to_numpy(dtype=float)
    closed = won + lost
    win, _, _ = shrink_rate(won, closed)
    s2 = s2c = 0.0
    if "won_revenue" in out:
        s2 = within_size_var(frame, "won_revenue", "deals_won")
        size, mu = shrink_size(out["won_revenue"].to_numpy(dtype=float), won, s2)
    else:
        size, mu = np.zeros(len(out)), 0.0
    if "pipeline_created" in out:
        s2c = within_size_var(frame, "pipeline_created", "deals_created")
        created_n = out["deals_created"].to_numpy(dtype=float)
        csize, _ = shrink_size(out["pipeline_created"].to_numpy(dtype=float), created_n, s2c)
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
    for metric, (activity, _) in QUALITY_METRICS.items():
        if metric in frame.columns and activity in frame.columns:
            rate, _, _ = shrink_rate(rep_sum(metric), rep_sum(activity))
            table[quality_rate_name(metric)] = rate
    n_won, n_closed, n_created = won.sum(), closed.sum(), created_n.sum()
    table.attrs = {
        "team_win_rate": float(n_won / n_closed) if n_closed else 0.0,
        "n_closed": float(n_closed),
        "n_won": float(n_won),
        "n_created": float(n_created),
        "size_cv2": float(s2 / mu**2) if "won_revenue" in out and mu > 0 else 0.0,
        "created_size_cv2": float(s2c / np.mean(csize) ** 2) if "pipeline_created" in out and np.mean(csize) > 0 else 0.0,
    }
    return table.reset_index(drop=True)


def conversion(outcome: str, funnel: pd.DataFrame) -> np.ndarray:
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


def conversion_rel_var(outcome: str, funnel: pd.DataFrame) -> float:
    """Squared relative standard error of the team's mean conversion factor.

    Win rate: binomial, ``(1 - p) / (p * n_closed)``; deal size: ``CV^2 / n``
    with the coefficient of variation of single deal amounts.  Rep-level
    clustering of wins is ignored (a small understatement, noted in the docs).
    """
    a = funnel.attrs
    p = a.get("team_win_rate", 0.0)
    rv = 0.0
    if outcome in ("deals_won", "won_revenue") and 0 < p and a.get("n_closed", 0) > 0:
        rv += (1 - p) / (p * a["n_closed"])
    if outcome == "won_revenue" and a.get("n_won", 0) > 0:
        rv += a.get("size_cv2", 0.0) / a["n_won"]
    if outcome == "pipeline_created" and a.get("n_created", 0) > 0:
        rv += a.get("created_size_cv2", 0.0) / a["n_created"]
    return float(rv)


def combine_effects(fit, activities: list[str], quality_of: dict[str, str], funnel: pd.DataFrame, outcome: str,
                    carry: bool) -> dict[str, np.ndarray]:  # fmt: skip
    """Turn summed lag coefficients into effects per logged activity, per rep and for the team.

    For activity ``a`` with quality metric ``m`` (a connected call for a call)
    the effect on deals created for rep ``i`` is ``s_a + s_m * q_i``: a logged
    call is worth ``s_a`` plus ``s_m`` times the chance it connects.  With
    ``carry`` it is multiplied by the rep's conversion (win rate x deal size
    for revenue).  The team effect is the mean over reps, as the simulator's
    truth is; its variance is ``g' V g`` from the clustered covariance of the
    sums plus the relative error of the team's conversion factor.

    Returns a dict of arrays: ``effect``, ``std_error``, ``created`` (team
    effect on deals created), ``quality_effect`` (``s_m`` carried to the
    outcome), ``rep_effect`` and ``rep_se`` (reps x activities).
    """
    pos = {name: i for i, name in enumerate(fit.acts)}
    sums, V = fit.sums, fit.sums_vcov
    G, A = len(funnel), len(activities)
    conv = conversion(outcome, funnel) if carry else np.ones(G)
    rel_var = conversion_rel_var(outcome, funnel) if carry else 0.0
    out = {k: np.zeros(A) for k in ("effect", "std_error", "created", "quality_effect")}
    out["rep_effect"] = np.zeros((G, A))
    out["rep_se"] = np.zeros((G, A))
    for j, a in enumerate(activities):
        ia = pos[a]
        m = quality_of.get(a)
        im = pos.get(m) if m is not None else None
        q = funnel[quality_rate_name(m)].to_numpy(dtype=float) if im is not None else np.zeros(G)
        g = np.zeros(len(sums))
        g[ia] = conv.mean()
        created = sums[ia]
        var_rep = np.full(G, V[ia, ia])
        if im is not None:
            g[im] = float(np.mean(q * conv))
            created = created + sums[im] * q.mean()
            var_rep = var_rep + 2 * q * V[ia, im] + q**2 * V[im, im]
            out["quality_effect"][j] = sums[im] * conv.mean()
        rep_created = sums[ia] + (sums[im] * q if im is not None else 0.0)
        out["rep_effect"][:, j] = rep_created * conv
        out["rep_se"][:, j] = np.sqrt(np.clip(var_rep, 0, None)) * np.abs(conv)
        effect = float(g @ sums)
        out["effect"][j] = effect
        out["std_error"][j] = float(np.sqrt(max(g @ V @ g, 0.0) + effect**2 * rel_var))
        out["created"][j] = created
    return out


def sourced_funnel(funnel: pd.DataFrame, deals: pd.DataFrame, sourced: np.ndarray) -> pd.DataFrame:
    """A copy of ``funnel`` whose conversion is that of activity-sourced deals (team rates, every rep).

    ``sourced`` marks the rows of ``deals`` that an activity sourced.  Win
    rate = won / closed sourced deals; deal size = mean amount of the won
    ones; created size = mean amount of all of them.  The attrs carry their
    sample sizes and size dispersion, so :func:`conversion_rel_var` adds their
    uncertainty to the effect's interval.
    """
    d = deals.loc[sourced]
    status = d["status"].astype(str).str.lower().to_numpy()
    amount = pd.to_numeric(d["amount"], errors="coerce").to_numpy(dtype=float)
    won, closed = status == "won", np.isin(status, ("won", "lost"))
    n_won, n_closed = int(won.sum()), int(closed.sum())
    out = funnel.copy()
    p = n_won / n_closed if n_closed else float(out["win_rate"].mean())
    won_amt, all_amt = amount[won & np.isfinite(amount)], amount[np.isfinite(amount)]
    size = float(won_amt.mean()) if won_amt.size else float(out["deal_size"].mean())
    csize = float(all_amt.mean()) if all_amt.size else float(out["created_deal_size"].mean())
    out["win_rate"], out["deal_size"], out["created_deal_size"] = p, size, csize
    out.attrs = {
        "team_win_rate": float(p), "n_closed": float(n_closed), "n_won": float(n_won), "n_created": float(len(d)),
        "size_cv2": float(won_amt.var(ddof=1) / size**2) if won_amt.size > 1 and size > 0 else 0.0,
        "created_size_cv2": float(all_amt.var(ddof=1) / csize**2) if all_amt.size > 1 and csize > 0 else 0.0,
        "sourced": True,
    }  # fmt: skip
    return out
