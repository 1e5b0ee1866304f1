"""Independent oracles for promises that circular tests could not break.

* Few reps: the pairs bootstrap over reps exists to WIDEN clustered errors that are too optimistic with
  few clusters.  Oracle: the same fit without the bootstrap; the reported errors may never be smaller, and
  on a 14-rep panel with CR1 errors at least one must be larger (the reason the bootstrap runs).  Since
  round 5 the default covariance up to 500 reps is the cluster jackknife (CR3), itself wider than CR1 on
  this panel, so the bootstrap rarely widens it further: the widening is checked with CR1 forced.
* Win rates: the beta-binomial shrinkage must pull a rep with one closed (won) deal toward the team rate,
  and leave a rep with hundreds of deals near its own rate; checked against the closed-form posterior mean
  with the prior strength computed here by the method of moments, independently of the library.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals.drivers import _estimator
from salesgoals.drivers._funnel import shrink_rate
from salesgoals.errors import UnreliableEstimateWarning


@pytest.fixture(scope="module")
def few_rep_panel():
    return sg.simulate.make_crm_data(n_reps=14, n_weeks=36, seed=11).panel()


def _errors(panel, n_boot: int) -> pd.DataFrame:
    with ignoring(UnreliableEstimateWarning, *DRIVER_NOTES):
        return sg.fit_drivers(panel, lags=1, diagnostics=False, n_boot=n_boot, seed=3).effects.set_index("activity")


@pytest.mark.parametrize("covariance", ["CR3", "CR1"])
def test_few_rep_bootstrap_only_widens_the_errors(few_rep_panel, monkeypatch, covariance):
    if covariance == "CR1":
        monkeypatch.setattr(_estimator, "CR3_MAX_REPS", 0)
    plain, boot = _errors(few_rep_panel, 0), _errors(few_rep_panel, 99)
    se0, se1 = plain["std_error"], boot.loc[plain.index, "std_error"]
    assert (se1 >= se0 * (1 - 1e-12)).all(), (se0, se1)
    if covariance == "CR1":
        assert (se1 > se0 * 1.001).any(), "with 14 reps the bootstrap should widen at least one CR1 interval"
    np.testing.assert_allclose(boot.loc[plain.index, "effect"], plain["effect"], rtol=1e-12)  # errors only


def _moments_posterior(won, closed):
    p = won.sum() / closed.sum()
    raw = won / closed
    var_obs = np.average((raw - p) ** 2, weights=closed)
    tau2 = max(var_obs - p * (1 - p) * len(closed) / closed.sum(), 0.0)
    m = np.clip(p * (1 - p) / tau2 - 1, 1.0, 1e6) if tau2 > 0 else 1e6
    return (won + m * p) / (closed + m), p


def test_win_rate_shrinkage_pulls_small_samples_to_the_team():
    won = np.array([1.0, 0.0, 30.0, 45.0, 60.0, 12.0])
    closed = np.array([1.0, 2.0, 100.0, 100.0, 150.0, 60.0])
    post, p, _ = shrink_rate(won, closed)
    expected, team = _moments_posterior(won, closed)
    assert p == pytest.approx(team)
    np.testing.assert_allclose(post, expected, rtol=1e-9)
    assert team < post[0] < 1.0 and abs(post[0] - team) < 0.5 * abs(1.0 - team)  # 1 of 1 is not a 100 % rep
    assert 0.0 < post[1] < team
    assert abs(post[4] - 0.4) < abs(team - 0.4)  # a rep with 150 deals stays nearer its own 40 %


def test_goals_follow_the_season_of_the_goal_horizon():
    """Oracle for the seasonal adjustment: where the season clearly changes between the baseline weeks and
    the goal horizon, the seasonal goals move the same way as the team's activity did a year earlier
    (computed by hand: the horizon's weeks over the baseline's weeks, one year back).

    Strong season (amplitude 0.5).  Only the direction is asserted, and only where the hand ratio is
    beyond 1.5x either way (measured 0.42-0.47 at the low-season origin; 1.08-1.25 at the high-season one,
    where the goals moved 0.99-1.27x): how far the goals move depends on the library's shrinkage of the
    seasonal factors, which this hand count does not model.
    """
    sim = sg.simulate.make_crm_data(n_reps=20, n_weeks=120, seed=5, season_amplitude=0.5)
    panel = sim.panel()
    periods = panel["period"].drop_duplicates().sort_values().tolist()
    team = panel.groupby("period", observed=True)[["call", "email", "meeting"]].sum()
    checked = 0
    for i in (70, 83, 96):  # horizons in low, falling and high season
        kw = dict(as_of=periods[i], horizon="Q")
        seasonal = sg.personal_best_goals(panel, **kw).table.set_index(["rep", "activity"])
        flat = sg.personal_best_goals(panel, seasonal=False, **kw).table.set_index(["rep", "activity"])
        ratio = (seasonal["baseline"] / flat["baseline"]).groupby("activity").median()
        hand = team.iloc[i + 1 - 52 : i + 14 - 52].mean() / team.iloc[i - 12 - 52 : i + 1 - 52].mean()
        for act in ("call", "email", "meeting"):
            if abs(np.log(hand[act])) > np.log(1.5):
                checked += 1
                assert np.sign(np.log(ratio[act])) == np.sign(np.log(hand[act])), (periods[i], act, ratio[act])
                assert abs(np.log(ratio[act])) > np.log(1.1), (periods[i], act, ratio[act], hand[act])
    assert checked >= 3


def test_goals_win_rate_is_shrunk_toward_the_team():
    """Goals' win rate: each rep's lies between their own raw rate and the team's (a Beta prior toward the team);
    a rep with no closed deal gets the team's rate, and one lucky win does not make a 100 % closer."""
    sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=30, seed=5)
    panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    reps = sorted(panel["rep"].unique())
    no_close, one_win = reps[0], reps[1]
    panel.loc[panel["rep"] == no_close, ["deals_won", "deals_lost"]] = 0
    lucky = panel["rep"] == one_win
    panel.loc[lucky, ["deals_won", "deals_lost"]] = 0
    panel.loc[panel.index[lucky][-1], "deals_won"] = 1
    stats = sg.personal_best_goals(panel, lookback=30).rep_stats.set_index("rep")
    assert (stats["n_periods"] == panel.groupby("rep").size().reindex(stats.index)).all()  # look-back = all weeks
    won, lost = panel.groupby("rep")[["deals_won", "deals_lost"]].sum().reindex(stats.index).T.to_numpy()
    team = won.sum() / (won + lost).sum()  # by hand, from the panel
    rate = (stats["win_alpha"] / (stats["win_alpha"] + stats["win_beta"])).to_numpy()
    raw = np.divide(won, won + lost, out=np.full(len(won), team), where=won + lost > 0)
    tol = 1e-12
    assert ((rate >= np.minimum(raw, team) - tol) & (rate <= np.maximum(raw, team) + tol)).all(), (rate, raw, team)
    by_rep = dict(zip(stats.index, rate))
    assert by_rep[no_close] == pytest.approx(team)  # nothing closed: the team's rate
    assert team < by_rep[one_win] < 0.5  # one win of one: above the team, far from 100 %
