"""Ranges on the scale of the data: additive, log and count ranges, and the one ``auto`` picks.

Two series with known truth, made here (one won deal per close):

* ``counts``: 12 reps whose weekly deals won are Poisson with rates 0.3-6 a
  week (small counts: the additive range, floored and rounded to whole deals,
  covers far more than its nominal 80 %);
* ``skewed``: 8 reps whose weekly revenue is lognormal (sigma 0.9) around
  levels 2k-60k (the additive range is symmetric in dollars: its lower bound
  hits 0 where the truth is skewed up).

Measured (``trailing_mean``, 104 weeks, 26 origins x 4 weeks; seeds 1-3):
counts: additive coverage 0.96-0.97, relative width 2.01-2.07, interval
score 3.15-3.65; count (negative binomial) 0.90-0.91, 1.54-1.63,
3.04-3.46 (0.95-1.00x the additive score), and auto picked count at every
origin.  skewed: additive coverage 0.79-0.81, score 4.02-4.19; log
0.78-0.80, 4.00-4.26; auto 4.15-4.23 (1.00-1.01x additive): on lognormal
noise the log ranges are skewed up as they should be but score about the
same as the additive ones, and auto stays close to the better of the two.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from expected_warnings import WIDE_RANGES, ignoring
from salesgoals.errors import UnreliableEstimateWarning
from salesgoals.forecasting import backtest_forecast, forecast

START = pd.Timestamp("2023-01-02")


def _deals(Y: np.ndarray, *, counts: bool) -> pd.DataFrame:
    """One won deal per unit (counts) or per non-zero week (revenue), closed mid-week."""
    n_w, G = Y.shape
    k = Y.astype(int) if counts else (Y > 0).astype(int)
    rep = np.repeat(np.tile(np.arange(G), n_w), k.ravel())
    week = np.repeat(np.repeat(np.arange(n_w), G), k.ravel())
    amount = np.ones(rep.size) if counts else np.repeat(Y.ravel(), k.ravel())
    closed = START + pd.to_timedelta(week * 7 + 2, unit="D")
    return pd.DataFrame({
        "deal_id": [f"D{i:06d}" for i in range(rep.size)], "rep": [f"R{j:02d}" for j in rep],
        "created": closed - pd.Timedelta(days=20), "closed": closed, "status": "won", "amount": amount,
    })  # fmt: skip


def _counts(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _deals(rng.poisson(np.geomspace(0.3, 6, 12)[None, :], (104, 12)), counts=True)


def _skewed(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _deals(np.round(np.geomspace(2_000, 60_000, 8)[None, :] * rng.lognormal(0, 0.9, (104, 8)), -1), counts=False)


def _bt(deals, target, ranges):
    return backtest_forecast(deals, level="rep", freq="W", horizon=4, target=target, methods=["trailing_mean"], ranges=ranges)


def _score(e: pd.DataFrame) -> float:
    miss = (e["lower"] - e["actual"]).clip(lower=0) + (e["actual"] - e["upper"]).clip(lower=0)
    return float((((e["upper"] - e["lower"]) + miss / 0.1) / e["scale"]).mean())


@pytest.fixture(scope="module")
def counts():
    deals = _counts(1)
    return {r: _bt(deals, "deals_won", r) for r in ("additive", "count", "auto")}


@pytest.fixture(scope="module")
def skewed():
    deals = _skewed(1)
    return deals, {r: _bt(deals, "won_revenue", r) for r in ("additive", "log", "auto")}


def test_count_ranges_are_narrower_and_still_cover_on_small_counts(counts):
    add, nb, auto = (counts[r] for r in ("additive", "count", "auto"))
    # the same point forecasts on every scale: only the ranges differ
    np.testing.assert_array_equal(add.errors["forecast"], nb.errors["forecast"])
    a, c = add.table.iloc[0], nb.table.iloc[0]
    # the additive range over-covers small counts (measured 0.96-0.97); the negative binomial is a fifth
    # narrower and still covers at least the nominal 80 % (whole deals: each tail holds at most 10 %)
    assert a["coverage"] > 0.93, a["coverage"]
    assert 0.8 <= c["coverage"] < a["coverage"], (c["coverage"], a["coverage"])
    assert c["relative_width"] < 0.85 * a["relative_width"], (c["relative_width"], a["relative_width"])
    assert _score(nb.errors) <= 1.02 * _score(add.errors), (_score(nb.errors), _score(add.errors))
    assert (nb.errors[["lower", "upper"]] % 1 == 0).all().all()
    # auto, choosing each day from the earlier origins only, ends up on the count scale
    assert (auto.errors["ranges"] == "count").mean() > 0.8, auto.errors["ranges"].value_counts()
    assert _score(auto.errors) <= 1.02 * _score(add.errors)


def test_log_ranges_are_skewed_up_and_auto_is_no_worse_on_skewed_revenue(skewed):
    deals, bt = skewed
    add, log, auto = (bt[r] for r in ("additive", "log", "auto"))
    e = log.errors
    pos = e["forecast"] > 0
    # multiplicative ranges: more room above the forecast than below it, and never floored at 0
    assert ((e["upper"] - e["forecast"]) > (e["forecast"] - e["lower"]))[pos].mean() > 0.95
    assert (e.loc[pos, "lower"] > 0).all()
    for res in (add, log, auto):  # 26 origins x 8 reps x 4 weeks, correlated within an origin
        assert 0.72 <= res.table["coverage"].iloc[0] <= 0.88, res.table["coverage"].iloc[0]
    # nothing gets worse: auto's interval score within 3 % of the additive one's (measured 1.00-1.01x)
    assert _score(auto.errors) <= 1.03 * _score(add.errors), (_score(auto.errors), _score(add.errors))


def test_ranges_contract_and_bad_input():
    deals = _counts(2)
    with ignoring(UnreliableEstimateWarning, WIDE_RANGES):
        res = forecast(deals, level="rep", freq="W", target="deals_won", method="trailing_mean")
        fixed = forecast(deals, level="rep", freq="W", target="deals_won", method="trailing_mean", ranges="log")
    assert res.ranges["trailing_mean"] in ("additive", "log", "count") and fixed.ranges == {"trailing_mean": "log"}
    assert any("ranges on the" in n and "interval score" in n for n in res.notes)
    np.testing.assert_array_equal(res.table["forecast"], fixed.table["forecast"])
    assert (res.table[["lower", "upper"]] % 1 == 0).all().all()
    with pytest.raises(ValueError, match="ranges='count' needs whole deals"):
        forecast(deals, level="rep", freq="W", target="won_revenue", method="trailing_mean", ranges="count")
    with pytest.raises(ValueError, match="ranges must be one of"):
        backtest_forecast(deals, level="rep", freq="W", methods=["ets"], ranges="sqrt")


def test_auto_ranges_at_an_origin_use_nothing_after_it():
    """No look-ahead: what happens after an origin cannot change that origin's forecast, range or scale choice.

    For a run of cutoffs, revenue closed after the cutoff is multiplied by 30 (a shock no earlier origin could
    know of); every row of an origin up to the cutoff must come out exactly as before.
    """
    deals = _skewed(2)
    before = _bt(deals, "won_revenue", "auto").errors
    ends = before["origin"].map(lambda p: p.end_time)
    cols = ["origin", "group", "period", "forecast", "lower", "upper", "ranges"]
    for cutoff in ends.drop_duplicates().sort_values().iloc[4:24:2]:
        later = deals["closed"] > cutoff
        shocked = deals.assign(amount=deals["amount"].where(~later, deals["amount"] * 30))
        after = _bt(shocked, "won_revenue", "auto").errors
        assert (after["actual"] != before["actual"]).any()  # the shock reached the backtest
        early = (ends <= cutoff).to_numpy()
        where = f"origins to {cutoff:%Y-%m-%d}"
        pd.testing.assert_frame_equal(after.loc[early, cols], before.loc[early, cols], obj=where)
