"""Driver priorities across seeds: the focus activity is a true driver, the zero-effect one is never a focus.

The shared simulator (:func:`salesgoals.simulate.make_crm_data`, 40 reps x 104 weeks) has three true
drivers of ``deals_created`` (meetings strongest, calls, a small email effect hidden behind follow-up
emails that follow deals) and LinkedIn with no effect at all, which the more skilled reps log more of
(the confounding trap).  For each seed, :func:`salesgoals.personal_best_goals` with the driver model
sets up to three priorities per rep; :func:`priority_outcome` scores them against the truth.

Tolerances come from ``tests/reference/priority_seed_study.py`` on study seeds 100-139; the pass
rates on the disjoint evaluation seeds 0-39 are in ``tests/reference/priority_seeds.csv`` and the
reference README.  The tests below run evaluation seeds 0-5 (about 1 s of CPU per seed).

Design (failure probability under the truth):

* LinkedIn is a focus only when the driver model calls it a driver, a team-level verdict: a false
  positive of the Holm-corrected, positive-sign test (at most 2.5 % per fit; 1 of 40 study seeds,
  0 of 40 evaluation seeds).  Allowing it on at most 1 of 6 seeds fails with probability
  ``1 - 0.975**6 - 6 * 0.025 * 0.975**5`` = 0.9 % at the worst-case 2.5 %.
* The top focus of every rep with a focus is a true driver (``call``/``call_connected``,
  ``meeting``/``meeting_held`` or ``email``): it can fail only through the same false verdict, so the
  same allowance covers it.
* Meetings (the strongest driver per unit) are the top focus of most reps on 35 of 40 study seeds
  (calls lead on the others; 31 of 40 in round 3's run of the study): required on at least 2 of 6 seeds,
  which fails with probability 0.4 % at the 95 % lower bound of that rate (0.72).  Every seed gives at
  least 33 of 40 reps a focus in the study: at least 25 required.
* Email, whose follow-ups are logged after deals are created, is flagged ``follows_results`` for every rep
  and is nobody's priority on 40 of 40 study seeds (and 40 of 40 evaluation seeds).  Required on at least
  4 of 6 seeds: at the 95 % upper bound of the miss rate (7.2 % per seed) three or more misses have
  probability 0.6 %.  The naive companion has no leads check: email is a focus on every study seed, and the
  test requires it on at least 4 of 6.
* The rules that turn verdicts into priorities (:func:`priority_structure_breaks`) are not statistical: they
  hold on every seed, for the model and the naive verdicts alike (0 breaks in 160 study and evaluation fits).
* Not tested, measured: LinkedIn's rows carry the ``not_a_driver`` flag on 39 of 40 study seeds but only 36 of
  40 evaluation seeds: on seeds 5, 9, 15 and 30 its 95 % interval lies below zero (flag ``negative_effect``,
  not a focus either), on study seed 115 above it (the false positive above).  5 of 80 intervals excluding
  the true zero is what a 95 % interval should do (4 expected), so the flag is no claim for every seed.
* The naive companion (pooled least squares without rep or week effects, its 95 % interval above zero
  as the verdict) makes LinkedIn a focus on every study seed (it reads the skill confounding as an
  effect): the test requires it on at least 4 of the 6 seeds (0.6 % at the 7.2 % upper bound of the miss
  rate), so a driver model that lost its rep effects would fail here.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as smapi

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.errors import UnreliableEstimateWarning

ACTS = ["call", "email", "meeting", "linkedin"]
#: Families of the activities with a true (non-zero) effect on deals_created in the simulator.
TRUE_DRIVERS = {"call", "call_connected", "meeting", "meeting_held", "email"}
ZERO_EFFECT = {"linkedin"}
SEEDS = range(0, 6)  # evaluation seeds: disjoint from the study's 100-139
MAX_FALSE_FOCUS_SEEDS = 1  # of 6: 0.9 % failure at the worst-case 2.5 % false-positive rate per fit
MIN_NAIVE_FALSE_FOCUS_SEEDS = 4  # of 6: LinkedIn in focus on 40 of 40 study seeds; P(3+ misses) = 0.6 % at 7.2 %
MIN_MEETING_LEADS_SEEDS = 2  # of 6: meetings lead on 35 of 40 study seeds; P(fewer than 2 of 6) <= 0.4 %
MIN_EMAIL_FLAGGED_SEEDS = 4  # of 6: on 40 of 40 study seeds; P(3+ misses of 6) = 0.6 % at a 7.2 % miss rate
MIN_NAIVE_EMAIL_FOCUS_SEEDS = 4  # of 6: the naive method puts email in focus on 40 of 40 study seeds
MIN_REPS_WITH_FOCUS = 25  # of 40: the study's minimum is 32


def seed_panel(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shared simulator's weekly panel on ``seed`` and its true effects (activity x outcome)."""
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
    return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W"), sim.truth


def model_drivers(panel: pd.DataFrame):
    """The driver model as the goals use it (the leads check's warning on follow-up emails is expected)."""
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        return sg.fit_drivers(panel, outcome="deals_created")


def naive_drivers(panel: pd.DataFrame):
    """Pooled least squares of deals created on the activities (no rep or week effects), 95 % intervals."""
    X = smapi.add_constant(panel[ACTS].to_numpy(dtype=float))
    fit = smapi.OLS(panel["deals_created"].to_numpy(dtype=float), X).fit()
    eff = pd.DataFrame({"activity": ACTS, "effect": fit.params[1:], "std_error": fit.bse[1:]})
    eff["ci_low"] = eff["effect"] - 1.96 * eff["std_error"]
    eff["ci_high"] = eff["effect"] + 1.96 * eff["std_error"]
    return types.SimpleNamespace(effects=eff, outcome="deals_created", rep_effects=None, diagnostics=None)


def priority_outcome(panel: pd.DataFrame, drivers) -> dict:
    """Score the priorities of :func:`salesgoals.personal_best_goals` against the simulator's truth.

    Returns ``reps_with_focus``, ``top_true_share`` (share of those reps whose priority 1 is a true
    driver), ``top_meeting_share`` (priority 1 in the meeting family, the strongest driver),
    ``zero_effect_focus`` (reps with a zero-effect activity among their priorities),
    ``linkedin_not_driver_share`` (reps whose LinkedIn row is flagged ``not_a_driver``),
    ``email_follows_share`` (reps whose email row is flagged ``follows_results``: the leads check caught the
    follow-up emails), ``email_focus`` (reps with email among their priorities), ``structure_breaks``
    (:func:`priority_structure_breaks`, joined by ``|``; empty on every seed) and ``top_activities`` (the
    priority-1 activities and their counts, for the study's table).
    """
    t = sg.personal_best_goals(panel, drivers).table
    focus = t[t["priority"] > 0]
    top = focus[focus["priority"] == 1]["activity"]
    n = len(top)
    flags = t.set_index("activity")["flags"]
    return {
        "reps_with_focus": n,
        "top_true_share": float(top.isin(TRUE_DRIVERS).mean()) if n else np.nan,
        "top_meeting_share": float(top.isin({"meeting", "meeting_held"}).mean()) if n else np.nan,
        "zero_effect_focus": int(focus.loc[focus["activity"].isin(ZERO_EFFECT), "rep"].nunique()),
        "linkedin_not_driver_share": float(flags.loc[["linkedin"]].str.contains("not_a_driver").mean()),
        "email_follows_share": float(flags.loc[["email"]].str.contains("follows_results").mean()),
        "email_focus": int((focus["activity"] == "email").sum()),
        "structure_breaks": "|".join(priority_structure_breaks(t)),
        "top_activities": ";".join(f"{a}={c}" for a, c in top.value_counts().sort_index().items()),
    }


def priority_structure_breaks(table: pd.DataFrame, *, max_priorities: int = 3) -> list[str]:
    """What must hold on every seed, whatever the data: the rules that turn driver verdicts into priorities.

    At most ``max_priorities`` per rep; one member per activity family (never both call and
    call_connected); leverage decreasing with priority; only activities with a positive effect that the
    model does not flag ``not_a_driver`` or ``follows_results`` become priorities.  Returns what broke.
    """
    focus = table[table["priority"] > 0]
    fam = focus["activity"].replace({"call_connected": "call", "meeting_held": "meeting"})
    breaks = []
    if len(focus) and focus.groupby("rep")["priority"].max().max() > max_priorities:
        breaks.append(f"more than {max_priorities} priorities")
    if pd.DataFrame({"rep": focus["rep"], "fam": fam}).duplicated().any():
        breaks.append("two members of one family")
    if not all(g.sort_values("priority")["leverage"].is_monotonic_decreasing for _, g in focus.groupby("rep")):
        breaks.append("leverage not decreasing with priority")
    if not (focus["effect"] > 0).all() or focus["flags"].str.contains("not_a_driver|follows_results").any():
        breaks.append("a priority the driver model does not call a driver")
    numbered = focus.groupby("rep")["priority"].agg(lambda p: sorted(p) == list(range(1, len(p) + 1)))
    if not numbered.all():
        breaks.append("priorities not numbered 1..k")
    return breaks


@pytest.fixture(scope="module")
def outcomes():
    rows = []
    for seed in SEEDS:
        panel, truth = seed_panel(seed)
        assert truth.loc["linkedin", "deals_created"] == 0 and (truth.loc[["call", "meeting"], "deals_created"] > 0).all()
        rows.append({"seed": seed, "method": "model", **priority_outcome(panel, model_drivers(panel))})
        rows.append({"seed": seed, "method": "naive", **priority_outcome(panel, naive_drivers(panel))})
    return pd.DataFrame(rows)


def test_zero_effect_activity_is_not_a_focus_across_seeds(outcomes):
    m = outcomes[outcomes["method"] == "model"]
    bad = m[m["zero_effect_focus"] > 0]
    assert len(bad) <= MAX_FALSE_FOCUS_SEEDS, f"LinkedIn (no effect) in focus on seeds {bad['seed'].tolist()}"


def test_top_focus_is_a_true_driver_across_seeds(outcomes):
    m = outcomes[outcomes["method"] == "model"]
    assert (m["reps_with_focus"] >= MIN_REPS_WITH_FOCUS).all(), m[["seed", "reps_with_focus"]]
    off = m[m["top_true_share"] < 1.0]
    assert len(off) <= MAX_FALSE_FOCUS_SEEDS, off[["seed", "top_activities"]]
    # meetings are the strongest driver per unit: they lead for most reps on most seeds (calls on the others)
    assert (m["top_meeting_share"] > 0.5).sum() >= MIN_MEETING_LEADS_SEEDS, m[["seed", "top_activities"]]


def test_naive_priorities_put_the_zero_effect_activity_in_focus(outcomes):
    # the companion: without rep effects LinkedIn (logged more by the better reps) looks like a driver
    n = outcomes[outcomes["method"] == "naive"]
    assert (n["zero_effect_focus"] > 0).sum() >= MIN_NAIVE_FALSE_FOCUS_SEEDS, n[["seed", "zero_effect_focus"]]
    assert (n["top_true_share"] < 1.0).any()


def test_priority_rules_hold_on_every_seed(outcomes):
    # not statistical: at most 3 per rep, one per family, leverage decreasing, only named drivers (any verdicts)
    broken = outcomes[outcomes["structure_breaks"] != ""]
    assert broken.empty, broken[["seed", "method", "structure_breaks"]]


def test_email_that_follows_results_is_flagged_and_never_a_focus_across_seeds(outcomes):
    m = outcomes[outcomes["method"] == "model"]
    caught = (m["email_follows_share"] == 1.0) & (m["email_focus"] == 0)
    assert caught.sum() >= MIN_EMAIL_FLAGGED_SEEDS, m[["seed", "email_follows_share", "email_focus"]]
    # the companion: without the leads check the follow-up emails read as a driver
    n = outcomes[outcomes["method"] == "naive"]
    assert (n["email_focus"] > 0).sum() >= MIN_NAIVE_EMAIL_FOCUS_SEEDS, n[["seed", "email_focus"]]
