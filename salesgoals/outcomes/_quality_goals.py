"""Quality goals in the shape of the volume goals: advance-rate tiers with odds, totals and landmarks.

:func:`advance_goal_tiers` turns :func:`advance_goals` (one target per rep and
interaction type) into three tiers, like the personal-best volume goals:

* ``clear``: the rep's own rate, or the peers' median when that is within the
  upper end of the rep's own interval (a level the rep has shown it can reach);
* ``stretch``: :func:`advance_goals`' target (the peers' upper quartile, capped at
  the upper end of the rep's interval plus 10 points), and at least halfway from
  the rep's rate to that upper end;
* ``extraordinary``: the peers' 90th percentile (capped at the interval's upper
  end plus 15 points), and at least that upper end.

The odds of a tier are the chance that the rep's advance rate *over the goal
period* reaches it if nothing changes (beta-binomial): the rate's posterior,
shrunk toward the peers of the same type (:func:`peer_posterior`) on the
*effective* number of interactions (interactions on one deal share its fate:
``n / design_effect``), and the noise of the period's volume, drawn from how
much one quarter's count of interactions differs from the last
(:func:`volume_ratios`, :func:`rate_odds`).  Checked against the realised rates
of goals set at past dates (``tests/test_quality_odds.py``,
``tests/reference/quality_odds_study.py``): per tier within 2 points on
average; the round-2 odds (Jeffreys on raw counts at a fixed volume) stated
0.49 for goals reached 0.43 of the time.  Totals are advancing interactions at
the expected number; landmarks pace them evenly over the goal period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._schema import landmark_table
from salesgoals._typing import TIERS
from salesgoals.outcomes._rates import advance_goals, advance_rates, window_complete

__all__ = ["advance_goal_tiers", "advance_landmarks", "peer_posterior", "volume_ratios", "rate_odds", "VOLUME_QUANTILES"]

_JUDGED = ("advanced", "stalled", "lost")


def advance_goal_tiers(advances: pd.DataFrame, *, as_of: pd.Period, horizon: int, reps=None, min_n: int = 20,
                       interval: float = 0.9) -> pd.DataFrame:
    """Advance-rate goals per rep and interaction type in three tiers, with odds, totals and the best run.

    Parameters
    ----------
    advances : pandas.DataFrame
        :func:`salesgoals.classify_advances` output.
    as_of : pandas.Period
        Last period of history (:attr:`salesgoals.goals.GoalPlan.as_of`); later interactions are ignored.
    horizon : int
        Periods in the goal period.
    reps : sequence of str, optional
        Reps who get goals (default: every rep with enough interactions).
    min_n, interval : optional
        As in :func:`salesgoals.advance_goals`.

    Returns
    -------
    pandas.DataFrame
        One row per rep x type with at least ``min_n`` judged interactions:
        ``rep``, ``activity`` (``<type>_advance_rate``), ``activity_type``,
        ``n`` (judged interactions whose window ended inside the data: the
        last ``window_days`` before the end are left out of every rate, since
        there an advance shows at once and a stall only later),
        ``n_periods`` (periods with any),
        ``recent`` (rate over the last ``horizon`` periods; the overall rate
        when they hold none), ``baseline`` (rate over all history),
        ``personal_best`` (best rate over ``horizon`` consecutive periods with
        at least ``min_n`` interactions; the baseline when none),
        ``personal_best_period`` (its periods), ``ci_low``, ``ci_high``,
        ``peer_rate``, ``goal_<tier>`` (rates), ``goal_<tier>_total``
        (advancing interactions at ``expected_n``), ``p_<tier>`` (odds),
        ``expected_n`` (interactions expected in the goal period: the last
        ``horizon`` periods' count, at least 1), ``design_effect`` (the
        deal-clustered variance of the rep's rate over the binomial one, at
        least 1), ``method`` and ``goal``
        (the stretch goal in words).

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=2)
    >>> adv = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history)
    >>> t = advance_goal_tiers(adv, as_of=pd.Period("2024-09-30", "W"), horizon=13)
    >>> bool((t["goal_clear"] <= t["goal_stretch"]).all() and (t["goal_stretch"] <= t["goal_extraordinary"]).all())
    True
    >>> bool((t["p_clear"] >= t["p_extraordinary"]).all())
    True
    """
    freq = as_of.freqstr
    if reps is not None:
        advances = advances.loc[advances["rep"].astype(str).isin([str(r) for r in reps]).to_numpy()]
    seen = advances.loc[(advances["timestamp"].dt.to_period(freq) <= as_of).to_numpy()]
    adv = seen.loc[seen["advance"].isin(_JUDGED).to_numpy() & window_complete(seen)]
    period = adv["timestamp"].dt.to_period(freq)
    goals = advance_goals(adv, min_n=min_n, interval=interval, quantile=0.75)
    if goals.empty:
        return pd.DataFrame(columns=_COLUMNS)
    peers = advance_goals(adv, min_n=min_n, interval=interval, quantile=0.5)["peer_rate"].to_numpy()
    top = advance_goals(adv, min_n=min_n, interval=interval, quantile=0.9)["peer_rate"].to_numpy()
    cur, hi = goals["current_rate"].to_numpy(), goals["ci_high"].to_numpy()
    clear = np.maximum(cur, np.minimum(peers, hi))
    stretch = np.maximum.reduce([clear, goals["target_rate"].to_numpy(), cur + 0.5 * (hi - cur)])
    extra = np.maximum.reduce([stretch, np.minimum(np.maximum(cur, top), hi + 0.15), hi])
    runs = _period_runs(adv, period, as_of, horizon, min_n)
    runs = runs.drop(columns="expected_n").merge(_expected(seen, as_of, horizon), on=["rep", "activity_type"],
                                                 how="left")  # fmt: skip
    t = goals.merge(runs, on=["rep", "activity_type"], how="left")
    t["recent"] = t["recent"].fillna(t["current_rate"])
    t["personal_best"] = np.fmax(t["personal_best"].to_numpy(float), np.nan_to_num(t["current_rate"].to_numpy()))
    t["personal_best_period"] = t["personal_best_period"].fillna("(all history)")
    t["n_periods"] = t["n_periods"].fillna(0).astype(np.int64)
    t["expected_n"] = t["expected_n"].fillna(0).clip(lower=1).astype(np.int64)
    deff = advance_rates(adv, by=["rep", "activity_type"], interval=interval, min_n=min_n).table
    deff = deff.set_index(["rep", "activity_type"])["design_effect"]
    t["design_effect"] = deff.reindex(pd.MultiIndex.from_frame(t[["rep", "activity_type"]].astype(str))).fillna(
        1.0).to_numpy()  # fmt: skip
    d = t["design_effect"].to_numpy(float)
    a, b = peer_posterior(t["current_rate"].to_numpy(float), t["n"].to_numpy(float) / d,
                          t["activity_type"].astype(str).to_numpy())  # fmt: skip
    m = t["expected_n"].to_numpy()
    ratios = volume_ratios(seen, as_of, horizon)
    for tier, g in zip(TIERS, (clear, stretch, extra)):
        g = np.clip(g, 0.0, 1.0)
        need = np.ceil(g * m - 1e-9)
        t[f"goal_{tier}"] = g
        t[f"goal_{tier}_total"] = need.astype(np.int64)
        t[f"p_{tier}"] = rate_odds(g, m, a, b, ratios.reindex(t["activity_type"].astype(str)).to_numpy(), d)
    t["method"] = ",".join(sorted(advances["method"].unique())) if len(advances) else "none"
    t = t.rename(columns={"metric": "activity", "current_rate": "baseline"})
    return t[list(_COLUMNS)].reset_index(drop=True)


def peer_posterior(rate: np.ndarray, n_eff: np.ndarray, kind: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Beta posterior of each rep's advance rate, shrunk toward the peers of the same type (empirical Bayes).

    Per type, the reps' rates scatter by the spread of the true rates (``tau^2``) plus the noise of
    ``n_eff`` effective interactions each; ``tau^2`` by the method of moments gives a Beta prior with the
    peers' mean and that spread, updated with the rep's own effective counts.  A rep's rate measured on a
    few hundred interactions still carries its noise: without shrinkage the reps above the peers fell back
    and those below caught up more often than their odds said (goals stated at 2 % reached 6 % of the time,
    a goal at the rep's own rate stated 46 % and reached 42 %; tests/reference/quality_odds_study.py).
    With fewer than 3 reps of a type, or no spread beyond the noise, the prior is Jeffreys' (0.5, 0.5)
    (no shrinkage) or the peers' mean with weight 1000 interactions, respectively.
    """
    rate, n_eff = np.asarray(rate, dtype=float), np.asarray(n_eff, dtype=float)
    a0, b0 = np.full(rate.shape, 0.5), np.full(rate.shape, 0.5)
    for k in np.unique(kind):  # a few interaction types
        sel = kind == k
        if sel.sum() < 3:
            continue
        mu = float(np.average(rate[sel], weights=n_eff[sel]))
        tau2 = float(np.var(rate[sel]) - np.mean(rate[sel] * (1 - rate[sel]) / np.maximum(n_eff[sel], 1.0)))
        conc = mu * (1 - mu) / tau2 - 1 if tau2 > 0 else 1000.0
        conc = float(np.clip(conc, 1.0, 1000.0))
        a0[sel], b0[sel] = mu * conc, (1 - mu) * conc
    k_eff = rate * n_eff
    return a0 + k_eff, b0 + n_eff - k_eff


#: Quantile levels at which the goal period's volume is drawn from the pooled quarter-to-quarter ratios.
VOLUME_QUANTILES = (np.arange(9) + 0.5) / 9


def volume_ratios(seen: pd.DataFrame, as_of: pd.Period, horizon: int) -> pd.Series:
    """Per type, quantiles (:data:`VOLUME_QUANTILES`) of one ``horizon``-block's interactions over the block before.

    Pooled over reps, from consecutive blocks of the history (the previous block with 5+ interactions); a type
    with fewer than 10 such pairs gets ratio 1 (volume as expected).  Index: type; values: arrays.
    """
    types = sorted(seen["activity_type"].astype(str).unique()) if len(seen) else []
    out = pd.Series({k: np.ones(len(VOLUME_QUANTILES)) for k in types}, dtype=object)
    if not len(seen):
        return out
    ordinal = np.asarray(seen["timestamp"].dt.to_period(as_of.freqstr).array.asi8, dtype=np.int64)
    block = (as_of.ordinal - ordinal) // max(int(horizon), 1)
    n = pd.DataFrame({"rep": seen["rep"].astype(str).to_numpy(), "type": seen["activity_type"].astype(str).to_numpy(),
                      "block": block}).groupby(["rep", "type", "block"]).size()  # fmt: skip
    n = n.unstack("block", fill_value=0)
    cols = sorted(n.columns)
    for k in types:  # a few interaction types
        sub = n.xs(k, level="type") if k in n.index.get_level_values("type") else None
        if sub is None:
            continue
        later, earlier = sub[cols[:-1]].to_numpy(float), sub[cols[1:]].to_numpy(float)  # block 0 is the latest
        ok = earlier >= 5
        if ok.sum() >= 10:
            out[k] = np.quantile(later[ok] / earlier[ok], VOLUME_QUANTILES)
    return out


def rate_odds(goal, expected_n, a, b, ratios, design_effect=1.0) -> np.ndarray:
    """Odds that the period's advance rate reaches ``goal``: beta-binomial, averaged over the period's volume.

    The rate's posterior is ``Beta(a, b)``.  The volume is ``expected_n`` times each quantile of
    :func:`volume_ratios` (at least 1): a quarter with fewer interactions than the last gives a rate further
    from the rep's own, either way.  Interactions on one deal share its fate, so ``n`` interactions carry the
    information of ``n / design_effect`` independent ones (the period's count is drawn on that scale, the goal
    count rescaled with it).  With independent interactions at a fixed volume goals stated at 53 % were reached
    43 % of the time and goals at 2 % 6 % (tests/reference/quality_odds_study.py).
    """
    goal, m = np.asarray(goal, dtype=float), np.asarray(expected_n, dtype=float)
    q = np.stack([np.asarray(r, dtype=float) for r in ratios]) if len(ratios) else np.ones((0, len(VOLUME_QUANTILES)))
    n = np.maximum(np.round(m[:, None] * q), 1.0)
    need = np.ceil(goal[:, None] * n - 1e-9)
    d = np.broadcast_to(np.maximum(np.asarray(design_effect, dtype=float), 1.0), m.shape)[:, None]
    n_eff = np.maximum(np.round(n / d), 1.0)
    need_eff = np.ceil(need * n_eff / n - 1e-9)
    return stats.betabinom.sf(need_eff - 1, n_eff, np.asarray(a)[:, None], np.asarray(b)[:, None]).mean(axis=1)


_COLUMNS = (
    "rep", "activity", "activity_type", "n", "n_periods", "recent", "baseline", "personal_best",
    "personal_best_period", "ci_low", "ci_high", "peer_rate", *[f"goal_{x}" for x in TIERS],
    *[f"goal_{x}_total" for x in TIERS], *[f"p_{x}" for x in TIERS], "expected_n", "design_effect", "method", "goal",
)  # fmt: skip


def _expected(seen: pd.DataFrame, as_of: pd.Period, horizon: int) -> pd.DataFrame:
    """Interactions of each rep and type in the last ``horizon`` periods, judged or not (the volume to expect)."""
    last = seen.loc[(seen["timestamp"].dt.to_period(as_of.freqstr) > as_of - horizon).to_numpy()]
    n = last.groupby([last["rep"].astype(str), last["activity_type"].astype(str)]).size()
    return n.rename("expected_n").rename_axis(["rep", "activity_type"]).reset_index()


def _period_runs(adv: pd.DataFrame, period: pd.Series, as_of: pd.Period, horizon: int, min_n: int) -> pd.DataFrame:
    """Per rep x type: periods seen, the last ``horizon`` periods' count and rate, and the best ``horizon`` run."""
    key = pd.MultiIndex.from_arrays([adv["rep"].astype(str).to_numpy(), adv["activity_type"].astype(str).to_numpy()],
                                    names=["rep", "activity_type"])  # fmt: skip
    codes, keys = pd.factorize(key, sort=True)
    ordinal = np.asarray(period.array.asi8, dtype=np.int64)
    o0 = int(ordinal.min()) if ordinal.size else as_of.ordinal
    width = as_of.ordinal - o0 + 1
    k_grid = np.zeros((len(keys), width))
    n_grid = np.zeros((len(keys), width))
    np.add.at(n_grid, (codes, ordinal - o0), 1.0)
    np.add.at(k_grid, (codes, ordinal - o0), (adv["advance"] == "advanced").to_numpy(float))
    seen = (n_grid > 0).sum(axis=1)
    h = min(horizon, width)
    ck = np.concatenate([np.zeros((len(keys), 1)), np.cumsum(k_grid, axis=1)], axis=1)
    cn = np.concatenate([np.zeros((len(keys), 1)), np.cumsum(n_grid, axis=1)], axis=1)
    wk, wn = ck[:, h:] - ck[:, :-h], cn[:, h:] - cn[:, :-h]  # window ending at each period
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(wn >= min_n, wk / wn, -1.0)
    end = np.argmax(rate, axis=1)  # first best window
    best = rate[np.arange(len(keys)), end]
    last_n, last_k = wn[:, -1], wk[:, -1]
    label = [f"{(pd.Period(ordinal=o0 + e - h + 1, freq=as_of.freq)).start_time.date()} to "
             f"{(pd.Period(ordinal=o0 + e, freq=as_of.freq)).end_time.date()}" for e in end]  # one per row
    out = pd.DataFrame({
        "n_periods": seen, "recent": np.where(last_n > 0, last_k / np.maximum(last_n, 1), np.nan),
        "expected_n": last_n, "personal_best": np.where(best >= 0, best, np.nan),
        "personal_best_period": np.where(best >= 0, np.asarray(label, dtype=object), None),
    }, index=pd.MultiIndex.from_tuples(list(keys), names=["rep", "activity_type"]))  # fmt: skip
    return out.reset_index()


def advance_landmarks(tiers: pd.DataFrame, *, as_of: pd.Period, horizon: int) -> pd.DataFrame:
    """Advancing interactions to have by the end of each period of the goal period (evenly paced).

    Columns as :attr:`salesgoals.goals.GoalPlan.landmarks`: ``rep, activity, tier, week,
    period_start, period_end, cumulative`` (the last period's equals the tier's total).
    """
    periods = [as_of + i for i in range(1, horizon + 1)]
    share = np.arange(1, horizon + 1) / horizon
    cumulative = {
        tier: np.round(tiers[f"goal_{tier}_total"].to_numpy(dtype=float)[:, None] * share[None, :]) for tier in TIERS
    }
    return landmark_table(tiers["rep"], tiers["activity"], cumulative, periods)
