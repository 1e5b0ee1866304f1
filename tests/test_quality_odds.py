"""Advance-rate (quality) goal odds against what happened: goals set at past origins from what was known then.

Each seed: 40 reps x 104 weeks of the simulator with stage histories, 4 origins a quarter apart
(``tests/quality_backtest.py``: interactions, deals and stage entries as known at the origin; the outcome is the
rep's advance rate over the quarter after, classified on the whole data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from quality_backtest import backtest, calibration

#: Seeds of this test, inside the evaluation range (0-7) of tests/reference/quality_odds_study.py and disjoint
#: from its study seeds (100-107) that set the tolerance.
SEEDS = (0, 1, 2)
#: Per tier, |realised - stated| pooled over the three seeds.  Study (seeds 100-107, per seed): mean gap
#: +0.015 / +0.020 / +0.007 (clear / stretch / extraordinary), s.d. 0.023 / 0.021 / 0.012 over seeds; pooled over
#: 3 seeds the s.d. is ~0.013, and |mean| + 3.14 s.d. (1 % over the three tiers) is 0.058 -> 0.06.  Evaluation
#: seeds 0-7: mean gaps +0.007 / +0.006 / -0.008, each seed within the single-seed tolerance (0.088).
TOLERANCE = 0.06


@pytest.fixture(scope="module")
def details():
    out = []
    for seed in SEEDS:
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        out.append(backtest(sim).assign(seed=seed))
    return pd.concat(out, ignore_index=True)


def test_stated_quality_odds_match_the_realised_share(details):
    cal = calibration(details)
    print(cal.to_string())
    assert cal["tier"].tolist() == ["clear", "stretch", "extraordinary"]
    assert (cal["n_goals"] > 600).all()
    assert (cal["difference"].abs() <= TOLERANCE).all(), cal
    # the tiers are tiers: a goal at about the rep's own rate, then harder ones
    s = cal.set_index("tier")["stated"]
    assert 0.25 < s["clear"] < 0.6 and s["extraordinary"] < s["stretch"] < s["clear"]


def test_naive_odds_score_worse(details):
    """Jeffreys on raw counts at the last quarter's volume (the round-2 odds): sure of too much.

    Interactions on one deal share its fate, a quarter's volume is not the last one's and a rate measured on a
    few hundred interactions still regresses toward the peers: on study seeds 100-107 the naive odds of the goals
    they call likely (>= 40 %) were 0.490 against 0.434 reached (ours 0.425 on the same goals) and their log loss
    was worse on all 8 seeds.  Paired on the same goals.
    """
    d = details
    k = np.round(d["baseline"] * d["n_hist"])
    need = np.ceil(d["goal"] * d["expected_n"] - 1e-9)
    naive = stats.betabinom.sf(need - 1, d["expected_n"], k + 0.5, d["n_hist"] - k + 0.5)

    def log_loss(p):
        p = np.clip(p, 1e-4, 1 - 1e-4)
        return float(-(d["met"] * np.log(p) + (1 - d["met"]) * np.log(1 - p)).mean())

    ours, theirs = log_loss(d["stated"].to_numpy()), log_loss(naive)
    likely = naive >= 0.4
    print(f"log loss ours {ours:.4f} naive {theirs:.4f}; naive-likely goals: naive {naive[likely].mean():.3f}, "
          f"ours {d.loc[likely, 'stated'].mean():.3f}, reached {d.loc[likely, 'met'].mean():.3f}")  # fmt: skip
    assert ours < theirs
    assert naive[likely].mean() - d.loc[likely, "met"].mean() > d.loc[likely, "stated"].mean() - d.loc[likely, "met"].mean()
