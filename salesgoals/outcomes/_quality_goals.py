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
period* reaches it if nothing changes: the rate's posterior (Jeffreys, from
the rep's judged interactions) and the binomial noise of the period's expected
number of interactions (beta-binomial).  Totals are advancing interactions at
that expected number; landmarks pace them evenly over the goal period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._schema import landmark_table
from salesgoals._typing import TIERS
from salesgoals.outcomes._rates import advance_goals, window_complete

__all__ = ["advance_goal_tiers", "advance_landmarks"]

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
        ``horizon`` periods' count, at least 1), ``method`` and ``goal``
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
    k = (t["current_rate"] * t["n"]).round().to_numpy()
    a, b = k + 0.5, t["n"].to_numpy() - k + 0.5
    m = t["expected_n"].to_numpy()
    for tier, g in zip(TIERS, (clear, stretch, extra)):
        g = np.clip(g, 0.0, 1.0)
        need = np.ceil(g * m - 1e-9)
        t[f"goal_{tier}"] = g
        t[f"goal_{tier}_total"] = need.astype(np.int64)
        t[f"p_{tier}"] = stats.betabinom.sf(need - 1, m, a, b)
    t["method"] = ",".join(sorted(advances["method"].unique())) if len(advances) else "none"
    t = t.rename(columns={"metric": "activity", "current_rate": "baseline"})
    return t[list(_COLUMNS)].reset_index(drop=True)


_COLUMNS = (
    "rep", "activity", "activity_type", "n", "n_periods", "recent", "baseline", "personal_best",
    "personal_best_period", "ci_low", "ci_high", "peer_rate", *[f"goal_{x}" for x in TIERS],
    *[f"goal_{x}_total" for x in TIERS], *[f"p_{x}" for x in TIERS], "expected_n", "method", "goal",
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
