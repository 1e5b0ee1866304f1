"""Honesty checks of the driver model: data support, placebo, leads, pooled vs within, hold-out, bootstrap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals.drivers._estimator import (
    _before_period,
    _Design,
    _fit_lags,
    _history_mask,
    _lag_combination,
    _ols_added,
    _Prepared,
    _stacked,
    _two_way_demean,
    _with_season_scaling,
)
from salesgoals.drivers._funnel import combine_effects, funnel_table
from salesgoals.errors import InsufficientDataError

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
#: Leads check: a lead coefficient with p below this (Bonferroni over activities) is flagged.
LEADS_ALPHA = 0.01


def usable_regressors(prep: _Prepared, acts: list[str], quality_of: dict[str, str], messages: list[str],
                      notes: list[str]) -> tuple[list[str], dict[str, str], dict[str, np.ndarray]]:  # fmt: skip
    """Drop activities with no variation within rep and period, and quality metrics that add nothing.

    A quality metric is kept only when it varies within rep and period and is
    not (nearly) a copy of its activity (every call connected, say).  Also
    returns the within (rep- and period-demeaned) columns, reused by
    :func:`support_checks`.
    """
    cols = [*acts, *quality_of.values()]
    design = _Design(prep.rep, prep.period, len(prep.reps), len(prep.periods))
    X = prep.frame[cols].to_numpy(dtype=float)
    W = _two_way_demean(design, X) if len(X) else X
    scale = 1e-9 * (1 + np.abs(X).mean(axis=0)) if len(X) else np.ones(len(cols))
    varies = dict(zip(cols, np.sqrt(np.mean(W**2, axis=0)) > scale)) if len(X) else dict.fromkeys(cols, False)
    keep = [a for a in acts if varies[a]]
    for a in acts:
        if not varies[a]:
            messages.append(
                f"activity {a!r} does not vary within reps and periods, so its effect cannot be estimated; left out."
            )
    if not keep:
        raise InsufficientDataError(
            "fit_drivers: no activity column varies within reps from period to period, so no effect can be "
            "estimated. Check that the panel has more than one period per rep."
        )
    q_keep = {}
    for a, m in quality_of.items():
        if a not in keep or not varies[m]:
            continue
        ia, im = cols.index(a), cols.index(m)
        c = np.corrcoef(W[:, ia], W[:, im])[0, 1]
        if abs(c) > 0.995:
            notes.append(f"{m} moves one-for-one with {a}; the quality term is left out.")
            continue
        q_keep[a] = m
    within = {c: W[:, j] for j, c in enumerate(cols)}
    return keep, q_keep, within


def cap_lag(prep: _Prepared, max_lag: int, notes: list[str]) -> int:
    """Lower max_lag so that at least half of the rows keep full history."""
    run_len = np.bincount(prep.rep)
    typical = int(np.median(run_len)) if run_len.size else 0
    cap = max(0, min(max_lag, typical // 2 - 1))
    if cap < max_lag:
        notes.append(f"max_lag lowered from {max_lag} to {cap}: reps have only {typical} periods (median).")
    return cap


def support_checks(prep: _Prepared, acts: list[str], within: dict[str, np.ndarray], messages: list[str]) -> pd.DataFrame:
    """Can the data support confident answers?  One row per check; failures are added to ``messages``.

    Checks: number of reps (>= :data:`MIN_REPS`), periods per rep (>=
    :data:`MIN_PERIODS`), the largest share of an activity logged by one rep
    (<= :data:`MAX_REP_SHARE`) and the within-rep, within-period correlation
    of every pair of activities (<= :data:`MAX_COLLINEARITY`).
    """
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
    if len(acts) > 1:
        W = np.column_stack([within[a] for a in acts])
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


def warn_no_driver(effects: pd.DataFrame, messages: list[str], *, reasons: pd.DataFrame) -> None:
    """Plain words on the verdicts: no driver at all, or activities that are ambiguous, why (``reasons``, the
    table of :func:`salesgoals.drivers._verdicts.flag_reasons`) and what data would settle it."""
    flagged = effects.loc[effects["flags"] != "", "activity"].tolist()
    for act in flagged:
        mine = reasons.loc[reasons["activity"] == act]
        if not len(mine):
            continue
        messages.append(f"{act} is AMBIGUOUS, not a driver: {'; and '.join(mine['evidence'])}. To settle it, "
                        f"{mine['settle'].iloc[0]}.")  # fmt: skip
    if len(effects) and not (effects["is_driver"] & (effects["flags"] == "")).any():
        messages.append(
            "No activity passes the driver test free of a reverse-causality flag (positive effect, Holm-adjusted p "
            "below the level): the data cannot say which activities drive results; treat every effect as unknown."
        )


def _resample_reps(prep: _Prepared, rng: np.random.Generator) -> _Prepared:
    """Draw reps with replacement (a pairs cluster bootstrap); a rep drawn twice becomes two reps.

    Whole rep blocks are copied, so the sort order, period codes and
    positions within each rep's run carry over without re-sorting.
    """
    n_r = len(prep.reps)
    draw = rng.integers(0, n_r, n_r)
    starts = np.flatnonzero(np.r_[True, prep.rep[1:] != prep.rep[:-1]])
    ends = np.r_[starts[1:], prep.rep.size]
    lens = ends[draw] - starts[draw]
    idx = np.repeat(starts[draw], lens) + (np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens))
    width = len(str(n_r))
    labels = np.array([f"b{i:0{width}d}" for i in range(n_r)], dtype=object)  # zero-padded: sorted = drawn order
    codes = np.repeat(np.arange(n_r), lens)
    frame = prep.frame.iloc[idx].reset_index(drop=True)
    frame["rep"] = pd.Series(labels[codes], dtype=object)
    frame.attrs = dict(prep.frame.attrs)
    return replace(prep, frame=frame, reps=pd.Index(labels, dtype=object), rep=codes, period=prep.period[idx],
                   ordinal=prep.ordinal[idx], pos=prep.pos[idx], controls=None, season_scaling=None)  # fmt: skip


def bootstrap_se(prep, activities, regressors, quality_of, y_col, L, outcome, carry, n_boot, seed) -> np.ndarray | None:
    """Standard deviation of the team effects over ``n_boot`` pairs-bootstrap draws of reps.

    Each draw refits the whole pipeline (fixed effects, lags, funnel), so the
    spread includes the uncertainty of the win rates and deal sizes.  Returns
    None when fewer than 20 draws could be fitted.
    """
    rng = np.random.default_rng(seed)
    draws = _bootstrap_draws(prep, activities, regressors, quality_of, y_col, L, outcome, carry, n_boot, rng)
    if len(draws) < 20:
        return None
    return np.std(np.asarray(draws), axis=0, ddof=1)


def _bootstrap_draws(prep, activities, regressors, quality_of, y_col, L, outcome, carry, n_boot, rng) -> list:
    draws = []
    for _ in range(int(n_boot)):
        bp = _resample_reps(prep, rng)
        if prep.controls is not None:
            bp = _with_season_scaling(bp, bp.frame[y_col].to_numpy(dtype=float))
        try:
            # only the estimates of a draw are used: no jackknife covariance per draw
            f = _fit_lags(bp, regressors, bp.frame[y_col].to_numpy(dtype=float), L, small_sample=False)
        except (InsufficientDataError, np.linalg.LinAlgError):
            continue
        funnel = funnel_table(bp.frame)
        draws.append(combine_effects(f, activities, quality_of, funnel, outcome, carry)["effect"])
    return draws


def placebo_check(prep, fit, targets, alpha, seed) -> pd.DataFrame:
    """Add a copy of each activity with its timing shuffled within rep; its effect must be near zero.

    The copy has the same per-rep totals (the rep fixed effect absorbs them)
    and the same distribution, but its weeks are random, so a sound design
    finds no effect.  All copies enter one extra fit (they are independent
    noise, so they do not disturb each other).  ``passed`` when the interval
    at level ``1 - alpha / n_targets`` covers zero (Bonferroni: with four
    activities and no correction one fit in five would fail by chance).  The
    reported ``ci_low``/``ci_high`` are at that corrected level.

    ``fit`` is the main fit, made with ``keep_demeaned=True``: the copies are
    added to its demeaned design (:func:`_ols_added`), the same regression as
    a refit with the copies as extra regressors.
    """
    rng = np.random.default_rng(seed)
    dof = max(len(prep.reps) - 1, 1)
    crit = float(stats.t.ppf(1 - alpha / (2 * max(len(targets), 1)), dof))
    # Rows are sorted by rep, so "a random order inside each rep's block" is np.lexsort((u, rep)) for
    # uniform u; the same permutation comes from a stable sort by u then a stable sort by rep (a radix
    # sort when the rep codes fit in int16), which is faster on a million rows.
    # The first sort may be the faster unstable one when no two draws tie (checked: a tie is a 1 in 10^4
    # event on a million rows, and then the stable sort is used).
    rep_key = prep.rep.astype(np.int16) if len(prep.reps) < np.iinfo(np.int16).max else prep.rep
    copies = {}
    for a in targets:
        v = prep.frame[a].to_numpy(dtype=float)
        u = rng.random(v.size)
        by_u = np.argsort(u)
        su = u[by_u]
        if (su[1:] == su[:-1]).any():
            by_u = np.argsort(u, kind="stable")
        perm = by_u[np.argsort(rep_key[by_u], kind="stable")]
        copies[f"placebo_{a}"] = v[perm]
    W = fit.n_lags + 1
    ols = _ols_added(prep, fit, copies, range(0, W))
    first = ols.coef.size - len(targets) * W  # the copies' lag columns come last
    rows = []
    for j, a in enumerate(targets):
        cols = slice(first + j * W, first + (j + 1) * W)
        e = float(ols.coef[cols].sum())
        s = float(np.sqrt(max(ols.vcov[cols, cols].sum(), 0.0)))
        p = float(2 * stats.t.sf(abs(e / s), dof)) if s > 0 else 1.0
        rows.append({"activity": f"placebo_{a}", "placebo_of": a, "effect": e, "std_error": s,
                     "ci_low": e - crit * s, "ci_high": e + crit * s, "p_value": p,
                     "passed": bool(e - crit * s <= 0 <= e + crit * s)})  # fmt: skip
    return pd.DataFrame(rows).astype({"activity": object, "placebo_of": object})


def leads_check(prep, regressors, y, L) -> pd.DataFrame:
    """Add next period's activity to the model; a clear lead effect means activity follows results.

    Fitted on the rows where the lead exists, with the same lags.  Flagged
    when ``p < LEADS_ALPHA / n_regressors`` (Bonferroni).
    """
    f = _fit_lags(prep, regressors, y, L, lead=1, sample_lag=L)
    K, W = len(regressors), L + 2
    lead_b = f.coef[:, 0]
    lead_se = np.sqrt(np.clip(np.diag(f.vcov), 0, None)).reshape(K, W)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(lead_se > 0, np.abs(lead_b / np.where(lead_se > 0, lead_se, 1.0)), 0.0)
    lead_p = 2 * stats.t.sf(t, max(f.n_reps - 1, 1))
    return pd.DataFrame({"activity": pd.Series(regressors, dtype=object), "lead_effect": lead_b,
                         "std_error": lead_se, "p_value": lead_p,
                         "flagged": lead_p < LEADS_ALPHA / K})  # fmt: skip


def pooled_check(prep, regressors, activities, quality_rates, y, L, fit) -> pd.DataFrame:
    """The naive answer: the same lags and regressors, no fixed effects (reps compared with each other).

    Both answers are per logged activity on the estimated outcome
    (``activity + quality metric x mean quality rate``, summed over lags).
    ``quality_rates`` maps an activity to ``(metric, mean rate)``.
    """
    # [y, lag columns] on the main fit's rows; with an intercept, OLS is the regression of the centred
    # columns, solved from their (small) cross-product matrix instead of a QR of the N x p design
    # (kept by a main fit with keep_demeaned, from the parts its demeaning removed: no pass over the data)
    cross = fit.pooled_cross
    if cross is None:
        Z = _stacked(replace(prep, controls=None), y, regressors, range(0, L + 1), fit.keep)
        Z -= Z.mean(axis=0)
        cross = Z.T @ Z
    b = np.linalg.lstsq(cross[1:, 1:], cross[1:, 0], rcond=None)[0]
    pooled_sums = b.reshape(len(regressors), L + 1).sum(axis=1)
    pos = {name: i for i, name in enumerate(regressors)}

    def per_activity(sums):
        out = []
        for a in activities:
            v = sums[pos[a]]
            if a in quality_rates:
                metric, rate = quality_rates[a]
                v = v + rate * sums[pos[metric]]
            out.append(v)
        return np.asarray(out, dtype=float)

    pooled, within = per_activity(pooled_sums), per_activity(fit.sums)
    return pd.DataFrame({"activity": pd.Series(activities, dtype=object), "pooled_effect": pooled,
                         "within_effect": within, "difference": pooled - within})  # fmt: skip


def holdout_check(prep, regressors, y, L, share) -> pd.DataFrame:
    """Fit on the earlier periods, predict the last ``share`` of periods; compare with each rep's average.

    The model's forecast for a held-out period is the rep's fixed effect plus
    the average period effect plus the activity terms (actual activity: this
    measures how well activity explains results, not how well it can be
    forecast).  The naive baseline is the rep's average outcome in training.
    """
    empty = pd.DataFrame({"model": pd.Series([], dtype=object), "rmse": [], "mae": [], "n_obs": []})
    periods = np.unique(prep.ordinal)
    n_test = max(1, int(round(share * periods.size)))
    if periods.size - n_test < L + 4:
        return empty
    train = prep.ordinal < periods[-n_test]
    tp = _before_period(prep, train)
    if prep.controls is not None:  # recomputed on the training periods only: no look-ahead
        tp = _with_season_scaling(tp, y[train])
    try:
        f = _fit_lags(tp, regressors, y[train], L)  # the train rows keep the sorted order
    except InsufficientDataError:
        return empty
    test = (~train) & _history_mask(prep, L)  # held-out rows whose lags 0..L all exist
    a = f.rep_fe.reindex(prep.reps[prep.rep[test]]).to_numpy(dtype=float)
    pred = a + f.intercept + _lag_combination(prep, regressors, range(0, L + 1), test, f.coef)
    base = pd.Series(y[train]).groupby(prep.rep[train]).mean().reindex(prep.rep[test]).to_numpy(dtype=float)
    ok = ~np.isnan(a) & ~np.isnan(base)
    yt = y[test][ok]
    if yt.size == 0:
        return empty
    rows = []
    for name, p in (("driver model", pred[ok]), ("rep average (naive)", base[ok])):
        err = yt - p
        rows.append({"model": name, "rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err))),
                     "n_obs": int(err.size)})  # fmt: skip
    table = pd.DataFrame(rows).astype({"model": object})
    base_rmse = table["rmse"].iloc[1]
    table.attrs["skill"] = float(1 - table["rmse"].iloc[0] / base_rmse) if base_rmse > 0 else 0.0
    return table
