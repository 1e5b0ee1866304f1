"""Driver verdicts on an independent, event-level simulator (tests/independent_sim.py).

The driver model was tuned on ``salesgoals.simulate``; these tests check it on
a world written separately, with the traps that fooled it: activity logged
because a deal was created (same week, next week), many activities tested at
once on pure noise, and activity-sourced deals that are not like inbound ones.

Tolerances: each scenario row of tests/reference/drivers_honesty_study.py was
measured on seeds 1000-1099; the fast versions here use seeds 1-3 (disjoint)
and bounds whose failure probability on the reference distribution is below
1% (stated per test).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from independent_sim import make_events
from salesgoals.drivers._events import event_time_profile
from salesgoals.drivers._verdicts import holm
from salesgoals.errors import UnreliableEstimateWarning


#: Tests whose subject is not the lag length (flags, warnings, teams, the revenue funnel, goals) keep round 4's
#: default rule, AIC with its 3-week floor, so that they test their subject on the same fits as before.  At the
#: true lag length of this simulator (0..5, meetings source deals up to 5 weeks later) or under the new default
#: the intervals widen and meeting falls short of the Holm test on some of these single draws (seeds 1, 2 and 7
#: at 40-50 reps: it is a driver at 0..3 lags, not at 0..5): their claims rest on the power of the shorter
#: model.  Rechecked in round 6 on the default rule: all five fail for that reason, none for its subject (the
#: no-driver test and the same-week test: meeting not a driver; teams: the team split not found; the naive
#: funnel: meeting 277 against 1.5 x 230, its smaller effect over 0..5 lags; goal leverage: no focus, so every
#: goal is zero), so the pin stays.  The default rule (``lag_criterion="auto"``) is measured in
#: tests/reference/drivers_lag_study.py and tested in tests/test_drivers_lags.py and tests/test_drivers_recovery.py.
ROUND4_LAGS = {"lag_criterion": "aic"}


def _fit(sim, *, log: bool, **kw):
    extra = {"activity_log": sim.activities, "deals": sim.deals} if log else {}
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        return sg.fit_drivers(sim.panel(), n_boot=0, **extra, **kw)


def _trusted(row) -> bool:
    """A driver a priority may be set on: passes the control and carries no reverse-causality flag."""
    return bool(row["is_driver"]) and row["flags"] == ""


@pytest.fixture(scope="module")
def same_week():
    return make_events("same_week", seed=1, links=False, n_reps=40, n_periods=80)


# ------------------------------------------------------------------ multiplicity
def test_holm_matches_the_step_down_definition():
    rng = np.random.default_rng(0)
    for m in (1, 2, 5, 9):
        p = rng.uniform(0, 0.2, m)
        adj = holm(p)
        order = np.argsort(p)
        expect = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1)
        np.testing.assert_allclose(adj[order], expect)
        assert (adj >= p).all()
    assert np.isnan(holm(np.array([np.nan, 0.01]))[0]) and holm(np.array([np.nan, 0.01]))[1] == 0.01


def test_noise_rarely_names_a_driver():
    """Pure noise: Holm + positive sign keeps 'any driver' near 5% or below.

    16 fast fits (30 reps x 60 weeks): if the per-fit rate were 5%, P(>= 4 of 16)
    = 0.7%; the reference study measures the rate on 100+ seeds per size.
    """
    named = 0
    for seed in range(16):
        sim = make_events("noise", seed=seed, n_reps=30, n_periods=60)
        res = _fit(sim, log=False, diagnostics=False)
        named += bool((res.effects["is_driver"] & (res.effects["flags"] == "")).any())
        assert (res.effects["p_value_adj"] >= res.effects["p_value"]).all()
    assert named <= 3, named


def test_no_driver_warning_only_when_nothing_passes():
    sim = make_events("baseline", seed=2, n_reps=40, n_periods=80)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=False, **ROUND4_LAGS)
    assert res.effects.set_index("activity").loc["meeting", "is_driver"]
    assert not any("treat every effect as unknown" in str(w.message) for w in caught)
    assert re.search(r"^drivers\s+.*meeting", str(res.summary()), re.M)


# ------------------------------------------------------- same-week reverse causality
def test_same_week_proposal_is_flagged_not_a_driver_without_a_log(same_week):
    res = _fit(same_week, log=False)
    eff = res.effects.set_index("activity")
    assert "same_week_only" in eff.loc["proposal", "flags"]
    assert not _trusted(eff.loc["proposal"])
    text = str(res.summary())
    assert "proposal" in text and "AMBIGUOUS" in text and "link activities to deals" in text


def test_same_week_proposal_follows_and_real_driver_recovers_with_the_log(same_week):
    res = _fit(same_week, log=True, **ROUND4_LAGS)
    eff = res.effects.set_index("activity")
    assert eff.loc["proposal", "flags"] == "same_week_only;follows_results"
    assert not _trusted(eff.loc["proposal"])
    truth = same_week.truth["deals_created"]
    m = eff.loc["meeting"]
    assert m["ci_low"] <= truth["meeting"] <= m["ci_high"] and m["is_driver"]
    assert eff.loc["meeting", "flags"] == ""
    assert any("estimated without" in n for n in res.diagnostics.notes)
    timing = res.diagnostics.timing.set_index("activity")
    assert timing.loc["proposal", "follows"] and timing.loc["proposal", "difference"] > 0
    assert timing.loc["meeting", "difference"] < 0  # meetings come before the deals they source


def test_links_split_sourcing_from_progressing():
    sim = make_events("same_week", seed=2, links=True, n_reps=40, n_periods=80)
    res = _fit(sim, log=True)
    eff = res.effects.set_index("activity")
    assert "proposal" not in eff.index  # every proposal is logged on an existing deal: no sourcing proposals
    m = eff.loc["meeting"]
    assert m["ci_low"] <= sim.truth.loc["meeting", "deals_created"] <= m["ci_high"]
    assert any("sourcing" in n for n in res.diagnostics.notes)


def test_next_week_leads_message_is_signed():
    sim = make_events("next_week", seed=3, links=False, n_reps=40, n_periods=80)
    res = _fit(sim, log=False)
    eff = res.effects.set_index("activity")
    assert "follows_results" in eff.loc["proposal", "flags"] and not _trusted(eff.loc["proposal"])
    assert any("MORE proposal next period" in w for w in res.diagnostics.warnings)


def test_negative_lead_is_not_called_overstated():
    from salesgoals.drivers._model import _leads_messages

    leads = pd.DataFrame({"activity": ["call", "email"], "lead_effect": [-0.2, 0.3], "std_error": [0.01, 0.01],
                          "p_value": [1e-5, 1e-5], "flagged": [True, True]})  # fmt: skip
    msgs: list[str] = []
    _leads_messages(leads, "deals_created", msgs)
    neg, pos = msgs
    assert "LESS call" in neg and "overstated" not in neg.replace("not inflate", "")
    assert "MORE email" in pos and "overstated" in pos


# ------------------------------------------------------------------ event-time profile
def test_event_time_profile_counts_match_a_direct_count():
    """The vectorised profile equals a plain per-deal count on a small log."""
    sim = make_events("same_week", seed=4, links=False, n_reps=4, n_periods=12)
    acts, deals = sim.activities, sim.deals
    prof, timing = event_time_profile(acts, deals, ["proposal", "meeting"])
    a_day = acts["timestamp"].dt.normalize()
    for typ in ("proposal", "meeting"):
        sub = acts.loc[acts["activity_type"] == typ]
        after = before = 0
        at3 = 0
        for rep, c in zip(deals["rep"], deals["created"].dt.normalize()):  # a tiny reference loop
            d = (a_day[sub.index][sub["rep"].astype(str) == rep] - c).dt.days
            after += int(((d >= 1) & (d <= 7)).sum())
            before += int(((d >= -7) & (d <= -1)).sum())
            at3 += int((d == 3).sum())
        t = timing.set_index("activity").loc[typ]
        assert t["after_per_deal"] * len(deals) == pytest.approx(after)
        assert t["before_per_deal"] * len(deals) == pytest.approx(before)
        row = prof.loc[(prof["activity"] == typ) & (prof["day"] == 3)].iloc[0]
        assert row["per_deal"] * len(deals) == pytest.approx(at3)


def test_event_time_test_is_calibrated_on_noise():
    """No timing relation: 'follows' at 5% should be rare (binomial bound, P(fail) < 1%)."""
    hits, n = 0, 0
    for seed in range(6):
        sim = make_events("noise", seed=seed, n_reps=30, n_periods=52)
        _, timing = event_time_profile(sim.activities, sim.deals, ["call", "email", "meeting", "linkedin"])
        hits += int(timing["follows"].sum())
        n += len(timing)
    assert hits <= stats.binom.ppf(0.99, n, 0.025) + 1, (hits, n)


# ------------------------------------------------------------------ heterogeneity
def test_two_group_rep_intervals_cover_each_reps_truth():
    """Meeting effects x0.5 / x1.5 by rep: per-rep intervals cover each rep's own truth.

    Reference (seeds 1000-1099): coverage 0.99 on average, never below 0.90 in a
    seed; the bound 0.85 on the mean of 2 seeds is far in the tail.
    """
    cov = []
    for seed in (1, 2):
        sim = make_events("two_groups", seed=seed)
        res = _fit(sim, log=False, diagnostics=False)
        re = res.rep_effects.merge(sim.rep_truth[["rep", "activity", "deals_created"]], on=["rep", "activity"])
        m = re.loc[re["activity"] == "meeting"]
        cov.append(((m["ci_low"] <= m["deals_created"]) & (m["deals_created"] <= m["ci_high"])).mean())
        het = res.diagnostics.heterogeneity.set_index("activity")
        assert het.loc["meeting", "tau_upper"] > 0
    assert np.mean(cov) >= 0.85, cov


def test_teams_that_differ_give_each_rep_its_teams_effect():
    """Seed 2 of the two-group world: the rep-level test cannot see the x0.5 / x1.5 split (adjusted p 0.63) but
    the between-team F test can (teams 0/2 hold the x0.5 reps): each rep carries its team's effect, flagged
    ``team_level``; the per-rep DerSimonian-Laird shrinkage would have used a between-rep spread near zero
    (tau 0.017 against a true 0.064) and covered 46 % of the reps' truths."""
    sim = make_events("two_groups", seed=2)
    res = _fit(sim, log=False, diagnostics=False, **ROUND4_LAGS)
    m = res.diagnostics.heterogeneity.set_index("activity").loc["meeting"]
    assert m["reps_differ"] and m["differ_by"] == "teams" and m["differ_by_team"]
    re = res.rep_effects.merge(sim.rep_truth[["rep", "activity", "deals_created"]], on=["rep", "activity"])
    t = re.loc[re["activity"] == "meeting"]
    assert (t["flags"] == "team_level").all()
    by_group = t.groupby(t["rep"].str[-3:].astype(int) % 2)["effect"].mean()
    assert by_group[1] > 1.5 * by_group[0], by_group  # the truth is 3x
    assert ((t["ci_low"] <= t["deals_created"]) & (t["deals_created"] <= t["ci_high"])).mean() >= 0.9


def test_with_teams_each_test_runs_at_half_the_level():
    """Bonferroni across the rep-level and the between-team test: a rep-level p of 0.03 decides alone (no
    teams), not next to a team test; a team p of 0.02 decides."""
    from salesgoals.drivers._pooling import _heterogeneity_frame

    rep_test = {"q_stat": np.array([60.0, 55.0]), "df": np.array([49.0, 49.0]), "q_null_scale": np.ones(2),
                "p_value": np.array([0.015, 0.9])}  # Holm: 0.03, 0.9  # fmt: skip
    rows = {k: np.full(2, np.nan) for k in ("tau", "tau_upper", "cochran_q", "cochran_p_value", "team_f_stat")}
    alone = _heterogeneity_frame({**rows, "team_p": np.full(2, np.nan)}, rep_test, np.ones(2, bool), 0.05)
    assert alone["reps_differ"].tolist() == [True, False] and alone["differ_by"].tolist() == ["reps", ""]
    teams = _heterogeneity_frame({**rows, "team_p": np.array([0.5, 0.01])}, rep_test, np.ones(2, bool), 0.05)
    assert teams["reps_differ"].tolist() == [False, True] and teams["differ_by"].tolist() == ["", "teams"]


def test_homogeneous_reps_are_not_called_different():
    """Same effect for every rep: ``reps_differ`` (Q with a wild-bootstrap null, Holm across activities) rarely
    rejects; at a size of 6 % (the bar; measured 0-5 %, tests/reference) P(>= 2 of 3) = 1.0 %."""
    differ = 0
    for seed in (1, 2, 3):
        sim = make_events("baseline", seed=seed, n_reps=40, n_periods=80)
        res = _fit(sim, log=False, diagnostics=False)
        differ += bool(res.diagnostics.heterogeneity["reps_differ"].any())
        same = res.rep_effects.loc[~res.rep_effects["reps_differ"]]
        assert (same["flags"] == "reps_not_distinguishable").all()
    assert differ <= 1


def _count_world(rng, *, n_reps: int = 30, n_periods: int = 104, spread: float = 0.0):
    """A small two-activity world of counts where every rep has the same slopes (``spread`` 0) or where odd reps
    get ``1 + spread`` and even reps ``1 - spread`` times the first activity's: deals ~ Poisson(rep level
    + 0.15 meetings + 0.02 calls), activity ~ Poisson with rep and period noise.  Returns what
    ``rep_heterogeneity_test`` reads (a stand-in fit with the design and the team residual), the team-shaped
    contributions ``C`` and ``u`` = residual + contributions, like the driver model's within fit."""
    from types import SimpleNamespace

    G, T = n_reps, n_periods
    rep = np.repeat(np.arange(G), T)
    level = np.exp(rng.normal(np.log([3.0, 30.0]), 0.4, (G, 2)))
    x = rng.poisson(level[rep] * np.exp(rng.normal(0, 0.4, (G * T, 2)))).astype(float)
    theta = 1 + spread * np.where(np.arange(G) % 2, 1.0, -1.0)[:, None] * np.array([1.0, 0.0])
    y = rng.poisson(np.exp(rng.normal(-1, 0.5, G))[rep] + (x * [0.15, 0.02] * theta[rep]).sum(axis=1)).astype(float)
    x -= np.repeat(x.reshape(G, T, 2).mean(axis=1), T, axis=0)
    y -= np.repeat(y.reshape(G, T).mean(axis=1), T)
    C = x * np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - C.sum(axis=1)
    design = SimpleNamespace(rep=rep, n_reps=G, rep_counts=np.full(G, T), starts=np.arange(G) * T)
    return SimpleNamespace(design=design, ols=SimpleNamespace(resid=resid)), C, resid + C.sum(axis=1)


def _cochran_p(fit, C, u) -> np.ndarray:
    """The naive test: Cochran's Q of the per-rep slopes (plain robust per-rep variances, HC1, as before round 5)
    against chi-square(G - 1)."""
    from salesgoals.drivers._pooling import rep_slopes

    theta, var, _ = rep_slopes(fit, C, u, hc=1)
    w = 1.0 / var
    mean = (w * theta).sum(axis=0) / w.sum(axis=0)
    return stats.chi2.sf((w * (theta - mean) ** 2).sum(axis=0), theta.shape[0] - 1)


def test_rep_heterogeneity_test_keeps_its_size_where_cochrans_q_does_not():
    """300 homogeneous count worlds (30 reps x 104 periods): the bootstrap-null test rejects at 5 % in <= 28 of
    300 per activity; Cochran's Q against chi-square fails that bar.

    Measured on 1,500 worlds (another seed stream): the test 5.4 % and 5.4 %, Cochran's Q 17.2 % and 18.4 %
    (its per-rep variances are noisy and too small on average).  The bar 28 (9.3 %) is the 99th percentile
    of Binomial(300, 0.06): < 1 % failure for a test whose size is at most 6 %; Cochran's Q at 17 % stays
    under it with probability < 0.1 %.  Seeded, about 1 s CPU.
    """
    from salesgoals.drivers._pooling import rep_heterogeneity_test

    rng = np.random.default_rng(20261126)
    boot, naive = [], []
    for r in range(300):
        fit, C, u = _count_world(rng)
        boot.append(rep_heterogeneity_test(fit, C, np.array([True, True]), seed=r)["p_value"])
        naive.append(_cochran_p(fit, C, u))
    rejected, naive_rejected = (np.array(boot) < 0.05).sum(axis=0), (np.array(naive) < 0.05).sum(axis=0)
    assert (rejected <= 28).all(), rejected
    assert (naive_rejected > 28).all(), naive_rejected  # the naive test fails the same bar


def test_rep_heterogeneity_test_finds_reps_that_differ():
    """Odd reps 1.3x, even reps 0.7x the first activity's slope (30 reps x 104 periods): the test rejects that
    activity in >= 18 of 40 worlds (measured 60 %: 24 expected, P(< 18) < 1 %) and the untouched second
    activity in <= 6 of 40 (5 % size: P(> 6) < 1 %); it reports the bootstrap null's scale (> 1: the chi-square
    would be too narrow)."""
    from salesgoals.drivers._pooling import rep_heterogeneity_test

    rng = np.random.default_rng(7)
    p, scale = [], []
    for r in range(40):
        fit, C, _ = _count_world(rng, spread=0.3)
        out = rep_heterogeneity_test(fit, C, np.array([True, True]), seed=r)
        p.append(out["p_value"])
        scale.append(out["q_null_scale"])
    rejected = (np.array(p) < 0.05).sum(axis=0)
    assert rejected[0] >= 18 and rejected[1] <= 6, rejected
    assert np.mean(scale) > 1.0


def test_rep_heterogeneity_test_is_seeded_and_skips_untested_activities():
    from salesgoals.drivers._pooling import rep_heterogeneity_test

    fit, C, _ = _count_world(np.random.default_rng(3), n_reps=12, n_periods=40)
    a = rep_heterogeneity_test(fit, C, np.array([True, False]), seed=4)
    b = rep_heterogeneity_test(fit, C, np.array([True, False]), seed=4)
    c = rep_heterogeneity_test(fit, C, np.array([True, False]), seed=5)
    assert a["p_value"][0] == b["p_value"][0] and a["p_value"][0] != c["p_value"][0]
    assert a["df"][0] == 11 and np.isnan(a["p_value"][1]) and np.isnan(a["q_stat"][1])
    assert 0 < a["p_value"][0] < 1 and np.isfinite(a["q_stat"][0])


# ------------------------------------------------------------------ revenue along the funnel
def test_revenue_uses_sourced_deal_rates_when_links_tell_them_apart():
    """Inbound deals win 45% at 15k, sourced 20% at 9k: the rep-average funnel overstates meeting revenue >2x.

    Reference (seeds 1000-1029): with links, mean relative error within a few %
    and 95% coverage near nominal; without, +130% and no coverage.
    """
    sim = make_events("baseline", seed=2)
    truth = sim.truth.loc["meeting", "won_revenue"]
    with_log = _fit(sim, log=True, outcome="won_revenue", diagnostics=False).effects.set_index("activity")
    without = _fit(sim, log=False, outcome="won_revenue", diagnostics=False, **ROUND4_LAGS)
    m = with_log.loc["meeting"]
    assert m["ci_low"] <= truth <= m["ci_high"] and abs(m["effect"] / truth - 1) < 0.3
    assert without.effects.set_index("activity").loc["meeting", "effect"] > 1.5 * truth  # the naive funnel
    assert any("ASSUMPTION" in n for n in without.diagnostics.notes)
    assert "ASSUMPTION" in str(without.summary())


def test_lead_source_alone_gives_the_sourced_rates():
    sim = make_events("baseline", seed=3, links=False, n_reps=30, n_periods=80)
    res = _fit(sim, log=True, outcome="deals_won", diagnostics=False)
    assert any("activity-sourced deals" in n for n in res.diagnostics.notes)


# ------------------------------------------------------------------ lags from the data
def test_lag_length_from_observed_creation_delays():
    """Meetings source deals up to five weeks later: linked delays choose the lags, not an AIC floor."""
    sim = make_events("baseline", seed=5, n_reps=30, n_periods=80)
    res = _fit(sim, log=True, diagnostics=False)
    delays = res.diagnostics.creation_delays
    assert delays["share"].sum() == pytest.approx(1.0) and delays["lag"].max() >= 4
    L = int(res.effects["n_lags"].iloc[0])
    covered = delays.loc[delays["lag"] <= L, "share"].sum()
    assert covered >= 0.95 and delays.loc[delays["lag"] <= L - 1, "share"].sum() < 0.95
    assert any("from the data (deal links)" in n for n in res.diagnostics.notes)
    # the lag table shows the delay profile (the criteria are not computed: the delays settle the length)
    table = res.diagnostics.lag_selection.set_index("n_lags")
    assert table.index.tolist() == list(range(9)) and table.loc[L, "chosen"] and table["chosen"].sum() == 1
    share = delays.set_index("lag")["share"]
    np.testing.assert_allclose(table["delay_share"].iloc[:-1], share.reindex(range(8), fill_value=0), rtol=1e-12)
    assert table["delay_share"].iloc[-1] == pytest.approx(share[share.index >= 8].sum(), abs=1e-12)
    assert table["delay_cum_share"].iloc[-1] == pytest.approx(1.0) and table["aic"].isna().all()
    profile = ", ".join(f"{v:.0%}" for v in share.reindex(range(L + 1), fill_value=0))
    assert f"lags 0..{L} from the data (deal links)" in str(res.summary())
    assert f"share of creations by delay 0..{L}: {profile}" in str(res.summary())
    # a criterion asked for by name runs even with links: the delays are what "auto" (the default) reads
    named = _fit(sim, log=True, diagnostics=False, lag_criterion="cv_time_tail")
    assert named.diagnostics.lag_selection["cv_time_mse"].notna().all()


def test_lag_length_covers_the_slowest_activity_types_delays():
    """Calls source most deals within a week or two; meetings, fewer deals, take up to five weeks.  Pooled over
    types 95 % of linked creations fall within 3 weeks, which would cut meetings' fourth week (about 8 % of
    their deals) out of their effect; each type's own delays (>= 40 linked deals) set the length: 4.

    Seeds 1-3 of this world all give pooled 3, meeting 4, call 2, email 1 (linked deals: call ~2,600, meeting
    ~1,000, email ~400); about 1.2 s CPU."""
    from salesgoals.drivers._model import MIN_TYPE_DEALS

    sim = make_events("baseline", seed=1, n_reps=30, n_periods=80,
                      sourcing={"call": 0.09, "email": 0.004, "meeting": 0.15, "linkedin": 0.0})
    res = _fit(sim, log=True, diagnostics=False)
    pooled, by_type = res.diagnostics.creation_delays, res.diagnostics.creation_delays_by_type

    def quantile(t):
        return int(t["lag"].to_numpy()[np.searchsorted(t["share"].cumsum().to_numpy(), 0.95 - 1e-12)])

    own = {a: quantile(t) for a, t in by_type.groupby("activity")}
    n = by_type.groupby("activity")["n_deals"].sum()
    assert (n >= MIN_TYPE_DEALS).all() and by_type.groupby("activity")["share"].sum().round(12).eq(1).all()
    assert quantile(pooled) < own["meeting"] and own["meeting"] == max(own.values())
    L = int(res.effects["n_lags"].iloc[0])
    assert L == own["meeting"]
    note = next(x for x in res.diagnostics.notes if "from the data (deal links)" in x)
    assert f"within {L} period(s) of their first meeting, the slowest activity type" in note
    assert f"pooled over types: {quantile(pooled)} period(s)" in note
    assert "creation delays by type" in str(res.diagnostics.summary())


def test_lag_length_ignores_a_type_with_too_few_linked_deals():
    """A type's own 95th percentile needs >= MIN_TYPE_DEALS linked deals: below that, the pooled delays decide."""
    from salesgoals.drivers._model import MIN_TYPE_DEALS, _lag_from_delays

    pooled = pd.DataFrame({"lag": [0, 1, 2, 3, 4], "n_deals": [500, 300, 130, 50, 20]})
    pooled["share"] = pooled["n_deals"] / pooled["n_deals"].sum()

    def by_type(n_slow):
        rows = [("call", 0, 600), ("call", 1, 250), ("call", 2, 50), ("meeting", 0, n_slow // 4),
                ("meeting", 4, n_slow - n_slow // 4)]
        t = pd.DataFrame(rows, columns=["activity", "lag", "n_deals"])
        return t.assign(share=t["n_deals"] / t.groupby("activity")["n_deals"].transform("sum"))

    empty = pd.DataFrame({"n_lags": pd.Series([], dtype=float)})
    assert _lag_from_delays(pooled, 8, [], empty)[0] == 3  # 95 % of the pooled deals by lag 3
    assert _lag_from_delays(pooled, 8, [], empty, by_type=by_type(MIN_TYPE_DEALS))[0] == 4
    assert _lag_from_delays(pooled, 8, [], empty, by_type=by_type(MIN_TYPE_DEALS - 1))[0] == 3
    assert _lag_from_delays(pooled, 2, [], empty, by_type=by_type(MIN_TYPE_DEALS))[0] == 2  # the cap still holds


# ------------------------------------------------------------------ goals read the per-rep effects
def _goal_vs_rep_effects(sim, res) -> pd.DataFrame:
    """Per rep: the goal table's revenue per extra meeting, the rep's meeting effect and funnel, the rep's group."""
    plan = sg.personal_best_goals(sim.panel(), drivers=res)
    g = plan.table.loc[plan.table["activity"] == "meeting", ["rep", "effect"]].rename(columns={"effect": "goal"})
    re = res.rep_effects.loc[res.rep_effects["activity"] == "meeting", ["rep", "effect", "flags"]]
    out = g.merge(re, on="rep").merge(plan.rep_stats[["rep", "win_rate", "deal_size"]], on="rep")
    out["group"] = out["rep"].str[-3:].astype(int) % 2
    return out


def test_goal_leverage_uses_per_rep_effects_and_the_not_distinguishable_flag():
    """Goals' revenue per extra meeting = the rep's own (partially pooled) effect x the rep's funnel.

    Two groups (meeting x0.5 / x1.5) on seed 7, where the Q test says reps differ (it does on 3 of seeds
    1-8 at 50 x 104: the test has modest power): goals credit odd reps' meetings more.  Homogeneous reps:
    ``reps_not_distinguishable`` is set and every rep carries the team effect on deals created (up to the rep's
    own show rate), so goals differ between the groups by the funnel only.
    """
    sim = make_events("two_groups", seed=7)
    res = _fit(sim, log=False, diagnostics=False, **ROUND4_LAGS)
    assert res.diagnostics.heterogeneity.set_index("activity").loc["meeting", "reps_differ"]
    t = _goal_vs_rep_effects(sim, res)
    np.testing.assert_allclose(t["goal"], t["effect"] * t["win_rate"] * t["deal_size"], rtol=1e-9)
    per_deal = t.groupby("group")["effect"].mean()
    assert per_deal[1] > 1.4 * per_deal[0], per_deal  # the truth is 3x

    sim = make_events("baseline", seed=1, n_reps=40, n_periods=80)
    res = _fit(sim, log=False, diagnostics=False, **ROUND4_LAGS)
    t = _goal_vs_rep_effects(sim, res)
    assert (t["flags"] == "reps_not_distinguishable").all()
    np.testing.assert_allclose(t["goal"], t["effect"] * t["win_rate"] * t["deal_size"], rtol=1e-9)
    team = res.effects.set_index("activity").loc["meeting", "effect"]
    assert t["effect"].mean() == pytest.approx(team, rel=0.02) and t["effect"].std() < 0.1 * team


def test_cross_validated_lag_errors_equal_a_direct_refit():
    """The blocked CV errors (folds of whole reps, from per-fold cross-products) equal refitting the two-way
    demeaned regression without each fold and predicting it; ``lag_criterion="cv"`` keeps the longest lags
    whose paired excess error is within one standard error of the best."""
    from salesgoals.drivers._estimator import (_history_mask, _prepare, _rep_folds, _select_lag, _stacked,
                                               _subset_design, _two_way_demean)  # fmt: skip

    sim = make_events("baseline", seed=6, n_reps=12, n_periods=30)
    prep = _prepare(sim.panel())
    acts = ["call", "meeting", "linkedin"]
    y = prep.frame["deals_created"].to_numpy(dtype=float)
    best, table = _select_lag(prep, acts, y, 3, "cv", 0)
    keep = _history_mask(prep, 3)
    design = _subset_design(prep, keep)
    Z = _two_way_demean(design, _stacked(prep, y, acts, range(4), keep))
    folds = _rep_folds(design)
    assert len(folds) == 10 and folds[0][0] == 0 and folds[-1][1] == Z.shape[0]
    L = 2
    cols = [1 + k * 4 + j for k in range(3) for j in range(L + 1)]
    sse = 0.0
    for a, b in folds:
        train = np.r_[0:a, b : Z.shape[0]]
        coef = np.linalg.lstsq(Z[train][:, cols], Z[train, 0], rcond=None)[0]
        sse += float(((Z[a:b, 0] - Z[a:b][:, cols] @ coef) ** 2).sum())
    assert table.loc[L, "cv_mse"] == pytest.approx(sse / Z.shape[0], rel=1e-9)
    excess = table["cv_mse"] - table["cv_mse"].min()
    assert best == int(table.loc[excess <= table["cv_excess_se"].fillna(0), "n_lags"].max())
    assert table["chosen"].sum() == 1 and table.loc[best, "chosen"]


# ------------------------------------------------------------------ progressing activity
def test_progressing_activity_is_measured_on_its_own_deal_and_never_creates_it():
    """Follow-up emails in a deal's first 14 days add 8 points of win probability each (truth); calls none.

    The deal-level model (landmark at day 14, rep fixed effects, rep-clustered t(G-1)) recovers the email
    effect and finds nothing for calls (|z| < 4: failure probability near 1e-4 per row if the errors are
    calibrated; tests/reference: coverage over 20 seeds).  Time to close (truth zero) is confounded by the
    pace of follow-ups in this world and must never be a verdict.
    The effects on deals created are exactly those of the same world without the follow-up effect.
    """
    from salesgoals.drivers import progressing_effects

    sim = make_events("baseline", seed=3, n_reps=40, n_periods=80, progress_win={"email": 0.08})
    raw = progressing_effects(sim.activities, sim.deals)
    table = raw.set_index(["outcome", "activity"])
    win = table.loc["win_rate"]
    z = (win["effect"] - np.where(win.index == "email", 0.08, 0.0)) / win["std_error"]
    assert (z.abs() < 4).all(), z
    assert win.loc["email", "is_driver"] and win["flags"].eq("").all()
    # follow-ups paced over each deal's life predict closing soon without causing it: shown, never a verdict
    soon = table.loc["closes_within"]
    assert soon["flags"].eq("pace_confounded").all() and not soon["is_driver"].any()
    assert (table["p_value_adj"] >= table["p_value"]).all() and (table["n_reps"] == 40).all()

    res = _fit(sim, log=True, diagnostics=False)
    plain = _fit(make_events("baseline", seed=3, n_reps=40, n_periods=80), log=True, diagnostics=False)
    pd.testing.assert_frame_equal(res.effects, plain.effects)  # follow-ups never explain deals created
    pd.testing.assert_frame_equal(res.diagnostics.progressing, raw)
    note = next(n for n in res.diagnostics.notes if n.startswith("progressing activity"))
    assert "email moves the win rate" in note


def test_progressing_effects_without_links_is_empty():
    from salesgoals.drivers import progressing_effects

    sim = make_events("baseline", seed=4, n_reps=6, n_periods=20, links=False)
    out = progressing_effects(sim.activities, sim.deals)
    assert out.empty and "p_value_adj" in out.columns


def test_between_team_test_is_one_way_anova_and_ignores_a_common_variance_factor():
    """Equal variances: ``group_test`` is the one-way ANOVA F (scipy's ``f_oneway``); scaling every variance
    by one factor (per-rep errors misstated alike, which inflates Cochran's Q) leaves it unchanged."""
    from salesgoals.drivers._pooling import group_test

    rng = np.random.default_rng(5)
    groups = np.repeat(["a", "b", "c"], [7, 9, 8])
    d = rng.normal(0, 1, groups.size) + np.where(groups == "b", 0.8, 0.0)
    f, df1, df2, p = group_test(d, np.ones(d.size), groups)
    ref = stats.f_oneway(*(d[groups == g] for g in "abc"))
    assert (df1, df2) == (2, 21)
    assert f == pytest.approx(ref.statistic, rel=1e-12) and p == pytest.approx(ref.pvalue, rel=1e-12)
    assert group_test(d, np.full(d.size, 3.7), groups)[0] == pytest.approx(f, rel=1e-12)
    assert np.isnan(group_test(d, np.ones(d.size), np.array(["a"] * d.size))[0])  # one team: not tested


def test_heterogeneity_table_carries_the_between_team_test():
    """Teams 0/2 hold the x0.5 reps, 1/3 the x1.5 reps: the team test is reported for every tested activity."""
    sim = make_events("two_groups", seed=3)
    het = _fit(sim, log=False, diagnostics=False).diagnostics.heterogeneity.set_index("activity")
    tested = het["p_value"].notna()
    assert tested["meeting"]
    assert het.loc[tested, ["team_f_stat", "team_p_value", "team_p_value_adj"]].notna().all().all()
    assert het.loc[~tested, "team_p_value"].isna().all() and not het.loc[~tested, "differ_by_team"].any()
