"""Recovery: advance rates per rep and type come back from exported stage histories; the proxy does not.

The simulator's truth (``truth_advances.advance_rate``) is the probability that
an interaction of a type by a rep moves the deal one stage; deals are won after
four advances and die after stalls, so advance rates cause wins.

Tolerances (three seeds, 20 reps x 52 weeks, 9,000-11,500 judged interactions
per seed, 60 rep x type cells of ~150-200 interactions each).  Measured
(seeds 21/22/23): bias per type within -0.018..+0.023, MAE per cell
0.022-0.045, correlation across reps 0.91-0.98 (calls, meetings), 0.77-0.95
(emails); the proxy's bias +0.44..+0.76 with correlations -0.48..0.29.

* bias of the mean rate per type <= 0.04: the rule credits a stage change to the
  last interaction before it and the simulator enters the stage minutes after the
  interaction, so misclassifications are rare (stage changes clipped to a close
  date or landing after a same-day next touch: ~4 % of advances on the
  30-rep x 104-week sample simulation);
* mean absolute error per rep x type cell <= 0.07: binomial noise of ~150
  trials around rates of 0.1-0.45 is 0.025-0.04, plus those misclassifications;
* correlation across reps of estimated and true rates >= 0.7 for calls and
  meetings (true rates vary across reps by a factor of ~2);
* the rep-level estimated advance rate correlates >= 0.5 with the rep's realised
  win rate (0.83-0.96 measured: advances drive wins in the truth).

The naive proxy (a later interaction on the deal within 14 days) is shown to
fail: every type lands near 0.85 (bias > 0.3) and it cannot order reps
(correlation < 0.5 for calls).

Plain 90 % Wilson intervals cover the true cell rate in 80-87 % of cells: they
carry binomial noise only, not the misattributed credits nor the clustering
within deals.  ``advance_rates`` now widens them for both (design effect,
Imbens-Manski over the ambiguous credits); their coverage is asserted below.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg

SEEDS = (21, 22, 23)


@pytest.fixture(scope="module", params=SEEDS)
def study(request):
    sim = sg.simulate.make_crm_data(n_reps=20, n_weeks=52, seed=request.param)
    adv = sg.classify_advances(sim.deal_activities, sim.deals, sim.stage_history, next_meeting=False)
    proxy = sg.classify_advances(sim.deal_activities, sim.deals)
    truth = sim.truth_advances
    est = sg.advance_rates(adv).table.merge(truth, on=["rep", "activity_type"], suffixes=("", "_true"))
    naive = sg.advance_rates(proxy).table.merge(truth, on=["rep", "activity_type"], suffixes=("", "_true"))
    return sim, adv, est, naive


def test_rates_recovered_per_type(study):
    _, _, est, _ = study
    for kind, g in est.groupby("activity_type"):
        bias = g["advance_rate"].mean() - g["advance_rate_true"].mean()
        mae = (g["advance_rate"] - g["advance_rate_true"]).abs().mean()
        assert abs(bias) <= 0.04, (kind, bias)
        assert mae <= 0.07, (kind, mae)
    for kind in ("call", "meeting"):
        g = est[est["activity_type"] == kind]
        assert np.corrcoef(g["advance_rate"], g["advance_rate_true"])[0, 1] >= 0.7, kind


def test_advance_rate_tracks_win_rate(study):
    sim, adv, _, _ = study
    per_rep = sg.advance_rates(adv, by=["rep"]).table.set_index("rep")
    won = sim.deals.groupby("rep")["status"].apply(lambda s: (s == "won").sum() / max((s != "open").sum(), 1))
    both = per_rep.join(won.rename("win_rate"), how="inner")
    assert np.corrcoef(both["advance_rate"], both["win_rate"])[0, 1] >= 0.5


def test_naive_proxy_fails(study):
    _, _, _, naive = study
    bias = naive["advance_rate"].mean() - naive["advance_rate_true"].mean()
    assert bias > 0.3
    calls = naive[naive["activity_type"] == "call"]
    assert np.corrcoef(calls["advance_rate"], calls["advance_rate_true"])[0, 1] < 0.5


def test_intervals_cover_near_nominal(study):
    """The 90 % intervals own up to clustering and ambiguous credit: they cover about as stated.

    Plain Wilson intervals covered 69-88 % per type in the 10-seed study; these
    cover 89-98 % there (tests/reference/outcomes_accounts_study.py).  Per seed
    here, 60 cells: a 90 % interval's coverage has s.d. ~0.04, so >= 0.75 fails
    a correct interval about once in a thousand seeds; the plain Wilson
    interval is shown to fall short of the new one on the same cells.
    """
    _, adv, est, _ = study
    cover = ((est["ci_low"] <= est["advance_rate_true"]) & (est["advance_rate_true"] <= est["ci_high"])).mean()
    assert cover >= 0.75, cover
    lo, hi = sg.outcomes.wilson_interval(est["advanced"].to_numpy(), est["n"].to_numpy(), 0.9)
    plain = ((lo <= est["advance_rate_true"]) & (est["advance_rate_true"] <= hi)).mean()
    assert plain < cover, (plain, cover)
    assert (est["design_effect"] >= 1).all() and (est["credit_out"] >= 0).all()
    # with the widening switched off only the design effect remains: narrower
    off = sg.advance_rates(adv, credit_hours=0).table
    assert ((off["ci_high"] - off["ci_low"]).to_numpy() <= (est["ci_high"] - est["ci_low"]).to_numpy() + 1e-12).all()


def test_which_advances_drive_wins(study):
    """Advances drive wins in the truth (win rate = s**4, s = P / (P + (1 - P) h)); the data recover it.

    From the classified interactions: each rep's advance rate P, death-after-stall
    rate h = lost / (lost + stalled), the implied win rate, and each type's share
    of the rep's advances (which advances drive the rep's wins).  Tolerances from
    seeds 100-109 at this size (tests/reference/outcomes_accounts_study.py,
    advance_drivers.csv; disjoint from the seeds here), about 1.5x the worst seed:
    MAE of P 0.012-0.022 (<= 0.035), correlation with the true P 0.88-0.98
    (>= 0.75), correlation of the implied with the realised win rate 0.87-0.96
    (>= 0.75), MAE of the type shares 0.030-0.046 (<= 0.07), meetings' share
    biased -0.015..-0.046 (ambiguous credits go to the later touch; >= -0.07).
    """
    sim, adv, _, _ = study
    per_rep = sg.advance_rates(adv, by=["rep"]).table.set_index("rep")
    P = per_rep["advance_rate"]
    h = per_rep["lost"] / (per_rep["lost"] + per_rep["stalled"])
    implied = (P / (P + (1 - P) * h)) ** 4
    truth = sim.truth_advances
    true_p = truth.drop_duplicates("rep").set_index("rep")["rep_advance_rate"].reindex(P.index)
    closed = sim.deals[sim.deals["status"] != "open"]
    win = closed.groupby("rep")["status"].apply(lambda x: (x == "won").mean()).reindex(P.index)
    assert (P - true_p).abs().mean() <= 0.035
    assert np.corrcoef(P, true_p)[0, 1] >= 0.75
    assert np.corrcoef(implied, win)[0, 1] >= 0.75
    advanced = adv[adv["advance"] == "advanced"]
    share = advanced.groupby(["rep", "activity_type"]).size() / advanced.groupby("rep").size()
    true_share = pd.Series((truth["share"] * truth["advance_rate"] / truth["rep_advance_rate"]).to_numpy(),
                           index=pd.MultiIndex.from_frame(truth[["rep", "activity_type"]]))  # fmt: skip
    both = pd.concat([share.rename("est"), true_share.rename("true")], axis=1, join="inner")
    assert (both["est"] - both["true"]).abs().mean() <= 0.07
    assert (both["est"] - both["true"]).xs("meeting", level=1).mean() >= -0.07
    # meetings drive the most wins per interaction in the truth, and the estimate says so for most reps
    rates = sg.advance_rates(adv).table.pivot(index="rep", columns="activity_type", values="advance_rate")
    assert (rates["meeting"] > rates[["call", "email"]].max(axis=1)).mean() >= 0.8
