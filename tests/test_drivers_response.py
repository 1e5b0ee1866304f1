"""Activity that responds to deals is found from timestamps whatever the panel's period (issue 12, part C).

The project simulator sends follow-up emails in the week after every deal it
creates (1.5 per deal; linked to the deal).  At monthly grain most of them land
in the same month as their deal, so a monthly panel reads them as emails that
*created* deals (mean z +1.33, coverage 0.70 in round 3's calibration study).
The before/after comparison of the event-time profile could not see it: email
also (weakly) drives deals, and its lead before creations and its response
after them cancel.  The week-after response test (``response_to_deals``:
next week's count regressed on this week's deals given every type's recent
counts, rep and week effects) does, at day grain from the log, so the flag no
longer depends on the panel's period.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.drivers._events import response_to_deals
from salesgoals.errors import UnreliableEstimateWarning

TYPES = ["call", "email", "meeting", "linkedin"]


def _toy_log(seed: int, response: float, n_reps: int = 30, n_weeks: int = 60):
    """Deals Poisson(1) per rep-week; ``followup`` logged ``response`` per deal in the next week (Poisson);
    ``call`` independent of everything.  Weekdays random, timestamps at 10:00."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2025-01-06")  # a Monday
    deals_per = rng.poisson(1.0, (n_reps, n_weeks))
    follow = rng.poisson(response * np.roll(deals_per, 1, axis=1) + 3.0)
    follow[:, 0] = rng.poisson(3.0, n_reps)
    calls = rng.poisson(10.0, (n_reps, n_weeks))

    def rows(counts, kind=None):
        r, w = np.nonzero(counts)
        n = counts[r, w]
        r, w = np.repeat(r, n), np.repeat(w, n)
        day = start + pd.to_timedelta(7 * w + rng.integers(0, 5, r.size), unit="D") + pd.Timedelta(hours=10)
        out = pd.DataFrame({"rep": [f"rep {i:02d}" for i in r], "timestamp": day})
        return out if kind is None else out.assign(activity_type=kind)

    deals = rows(deals_per).rename(columns={"timestamp": "created"})
    log = pd.concat([rows(follow, "followup"), rows(calls, "call")], ignore_index=True)
    return log, deals


def test_response_recovers_a_known_response():
    """Two follow-ups per deal: the estimate's 99 % interval covers 2; the independent calls are not
    found to respond (a one-sided 2.5 % test on one seed: <= 2.5 % failure by design)."""
    log, deals = _toy_log(seed=5, response=2.0)
    r = response_to_deals(log, deals, ["followup", "call"]).set_index("activity")
    f = r.loc["followup"]
    assert abs(f["response_per_deal"] - 2.0) <= 2.58 * f["response_std_error"], f
    assert f["response_p_value"] < 1e-6
    c = r.loc["call"]
    assert not (c["response_per_deal"] > 0 and c["response_p_value"] < 0.025), c


def test_response_is_zero_without_a_response():
    """No follow-ups: the follow-up type's estimate sits within 3 standard errors of zero (0.3 % by design)."""
    log, deals = _toy_log(seed=6, response=0.0)
    r = response_to_deals(log, deals, ["followup", "call"]).set_index("activity")
    assert (r["response_per_deal"].abs() <= 3 * r["response_std_error"]).all(), r


@pytest.fixture(scope="module")
def monthly_sim():
    return sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=11)


def _fit_monthly(sim, log):
    with warnings.catch_warnings():  # the model's verdict notes (kept in its effects and warnings)
        warnings.filterwarnings("ignore", message="fit_drivers: ", category=UnreliableEstimateWarning)
        return sg.fit_drivers(sim.panel(freq="M"), activity_log=log, deals=sim.deals, diagnostics=False, n_boot=0)


def test_follow_up_emails_are_flagged_at_monthly_grain_from_timestamps(monthly_sim):
    """Deal links dropped: only timing can tell.  Email is flagged follows_results (its response t-statistic
    is 6-10 on study seeds 0-59, so a miss is far in the tail) and never a trusted driver; the others are not
    flagged.  The response estimate is near the simulator's 1.5 follow-ups per deal."""
    log = monthly_sim.activities.assign(deal_id=None)
    res = _fit_monthly(monthly_sim, log)
    eff = res.effects.set_index("activity")
    assert "follows_results" in eff.loc["email", "flags"]
    assert (eff.drop(index="email")["flags"] == "").all(), eff["flags"]
    timing = res.diagnostics.timing.set_index("activity")
    e = timing.loc["email"]
    assert abs(e["response_per_deal"] - 1.5) <= 3 * e["response_std_error"], e
    assert timing.loc["email", "responds"] and not timing.drop(index="email")["responds"].any()
    print(res.summary())


def test_with_deal_links_the_follow_ups_leave_the_panel_and_email_is_not_flagged(monthly_sim):
    """The follow-ups name their deal: they are progressing activity, left out of the sourcing panel, and the
    remaining (prospecting) emails do not respond to deals.  Checked on one seed: a type without a response is
    flagged on 1.7-8.3 % of the study seeds 0-59 (drivers_calibration_seeds.csv, world proj_M), so this seed
    could in principle be one of them; tests/test_drivers_interval_calibration.py checks the rate on 6."""
    res = _fit_monthly(monthly_sim, monthly_sim.activities)
    eff = res.effects.set_index("activity")
    assert (eff["flags"] == "").all(), eff["flags"]
    r = res.diagnostics.timing.set_index("activity")
    assert not r["follows"].any() and not r["responds"].any()


def test_response_standard_error_is_the_cluster_jackknife_of_refits():
    """The response equation's standard error is CR3: (G-1)/G times the sum of squared changes of the deal
    coefficient when each rep is left out and the model (rep and week dummies included) is refitted.  Checked
    against explicit dummy-variable refits on a small unbalanced panel (reps joining late / leaving early)."""
    from salesgoals.drivers._events import _response_fit

    rng = np.random.default_rng(3)
    R, W, p = 7, 12, 3
    mask = np.ones((R, W), dtype=bool)
    mask[0, :3] = mask[4, 9:] = mask[6, :2] = False
    rows = rng.normal(size=(int(mask.sum()), p + 2))
    rows[:, p:] += rows[:, :p] @ rng.normal(size=(p, 2))
    coef, se = _response_fit(rows, mask, p)
    rep, week = np.nonzero(mask)

    def refit(keep):
        dummies = [(rep[keep] == r).astype(float) for r in np.unique(rep[keep])]
        dummies += [(week[keep] == w).astype(float) for w in np.unique(week[keep])[1:]]
        X = np.column_stack([rows[keep, :p], *dummies])
        return np.linalg.lstsq(X, rows[keep, p:], rcond=None)[0][0]

    full = refit(np.ones(rep.size, dtype=bool))
    np.testing.assert_allclose(coef, full, rtol=1e-8, atol=1e-10)
    loo = np.array([refit(rep != r) for r in range(R)])
    np.testing.assert_allclose(se, np.sqrt((R - 1) / R * ((loo - full) ** 2).sum(axis=0)), rtol=1e-7)
