"""95 % intervals of the driver effects cover the truth at monthly grain on the project simulator (issue 12C).

Round 3 measured z = (effect - truth) / std_error with s.d. 1.46 (coverage 0.85) on the project
simulator's monthly panel: the follow-up emails it sends after every deal land in the deal's own month
and read as emails that create deals.  The fix (``salesgoals/drivers/_events.py``): with the activity
log, deal links make them progressing activity (left out of the panel); without links, the week-after
response test finds email responding to deals and the estimated response is subtracted from the monthly
counts (email stays flagged ``follows_results``; the calibration claim is on the unflagged effects).
Round 5: the covariance is the exact cluster jackknife (CR3) up to 500 reps; CR1 understated the
variance with 40 reps of unequal histories (study seeds: s.d. of z 1.14 -> 1.07 with links, 1.10 -> 1.03
without).

Tolerances (``tests/reference/drivers_calibration_study.py``, ``tolerances``; round 6: rerun on the default lag
rule, which this test now fits, with CR3 in the fit and in the week-after response test): bootstrap over
the study seeds 0-59 of the 99.5 % quantile of the mean z^2 and of |mean z| over the unflagged effects of 6 seeds,
so each bound fails with probability 0.5 % if the suite's seeds behave like the study's (1 % per test for
the two).  The suite runs seeds 300-305, disjoint from the study seeds; the evaluation seeds 100-159
(``tests/reference/drivers_calibration.csv``) check the bounds on 10 disjoint 6-seed blocks per world (see BOUNDS).
The naive companion (panel only, no log) fails where it should: its email z exceeds the log-based fit's on
the same seeds (the follow-ups it counts as drivers).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.errors import UnreliableEstimateWarning

SEEDS = range(300, 306)
#: From the study seeds 0-59 (drivers_calibration_study.py --combine ... prints them), 6 seeds, 99.5 %.
#: Round 6: the default lag rule's rows (variant default, CR3 covariance, CR3 in the week-after response test);
#: round 5's bounds from the AIC lag rule were 2.18 / 0.34 and 2.34 / 0.63 / 0.855, round 4's (CR1) 2.48 / 0.40
#: and 2.64 / 0.67 / 0.91.  Held out (evaluation seeds 100-159, 10 disjoint 6-seed blocks per world): proj_M passes
#: both bounds on 10 of 10 (worst mean z^2 2.01); proj_M_ts the |mean z| bound on 10 of 10 and mean z^2 on 9 of 10
#: (block 136-141: 2.08).  One miss in 40 checks of 0.5 % each is within design (expected 0.2; P(>= 1) = 18 %):
#: the bounds were not moved after it.  This run's seeds 300-305: 1.39 / 0.12 and 1.45 / 0.27, email gap 0.85.
BOUNDS = {
    "proj_M": {"mean_z2": 2.15, "abs_mean_z": 0.38},
    "proj_M_ts": {"mean_z2": 1.99, "abs_mean_z": 0.57, "email_gap": 0.66},
}


def _z_rows(sim, panel, **log) -> pd.DataFrame:
    with warnings.catch_warnings():  # the model's verdict notes (kept in its effects and warnings)
        warnings.filterwarnings("ignore", message="fit_drivers: ", category=UnreliableEstimateWarning)
        res = sg.fit_drivers(panel, diagnostics=False, n_boot=0, **log)  # the default lag rule, as in the study
    e = res.effects.set_index("activity")
    truth = sim.truth["deals_created"].reindex(e.index)
    return pd.DataFrame({"z": (e["effect"] - truth) / e["std_error"], "flagged": e["flags"] != ""})


@pytest.fixture(scope="module")
def monthly_z() -> dict[str, pd.DataFrame]:
    out: dict[str, list[pd.DataFrame]] = {"proj_M": [], "proj_M_ts": [], "proj_M_panel": []}
    for seed in SEEDS:
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=156, seed=seed)
        panel = sim.panel(freq="M")
        no_links = sim.activities.assign(deal_id=pd.Series(pd.NA, index=sim.activities.index, dtype=object))
        for world, kw in (("proj_M", {"activity_log": sim.activities, "deals": sim.deals}),
                          ("proj_M_ts", {"activity_log": no_links, "deals": sim.deals}), ("proj_M_panel", {})):
            out[world].append(_z_rows(sim, panel, **kw).assign(seed=seed))  # fmt: skip
    return {w: pd.concat(v).rename_axis("activity").reset_index() for w, v in out.items()}


@pytest.mark.parametrize("world", ["proj_M", "proj_M_ts"])
def test_monthly_intervals_are_calibrated_on_the_unflagged_effects(monthly_z, world):
    z = monthly_z[world]
    z = z.loc[~z["flagged"], "z"].to_numpy()
    b = BOUNDS[world]
    assert float(np.mean(z**2)) <= b["mean_z2"], (world, float(np.mean(z**2)))
    assert abs(float(np.mean(z))) <= b["abs_mean_z"], (world, float(np.mean(z)))


def test_email_is_flagged_without_links_and_rarely_with_them(monthly_z):
    """Without links email is flagged on 60 of 60 study seeds (the simulator's 1.5 follow-ups per deal):
    all 6 here.  With links the follow-ups leave the panel; the remaining (prospecting) emails were flagged on
    5 of 60 study seeds with CR1 errors, 2 of 60 with CR3 under AIC lags, 1 of 60 on the default lag rule (a false
    flag; designed <= 5 %: 2.5 % per route), so at most 2 of 6 are allowed (1.2 % failure at 8.9 % per seed, the
    95 % upper bound of 1 in 60)."""
    no_links = monthly_z["proj_M_ts"].query("activity == 'email'")
    assert no_links["flagged"].all(), no_links
    linked = monthly_z["proj_M"].query("activity == 'email'")
    assert int(linked["flagged"].sum()) <= 2, linked


def test_the_panel_only_fit_counts_follow_ups_as_emails_that_create_deals(monthly_z):
    """Naive companion: without the log the email effect is inflated by the follow-ups, by more than the
    study's 0.5 % quantile of the paired gap over 6 seeds (study seeds 0-59, default lag rule: gap 0.94 on
    average, s.d. 0.34, never below 0.40; AIC lags with CR3: 1.12, 0.29, 0.62; CR1 in round 4: 1.18, 0.29, 0.68)."""
    panel = monthly_z["proj_M_panel"].query("activity == 'email'").set_index("seed")["z"]
    fixed = monthly_z["proj_M_ts"].query("activity == 'email'").set_index("seed")["z"]
    assert float((panel - fixed).mean()) >= BOUNDS["proj_M_ts"]["email_gap"], (panel - fixed)
