"""Which behaviours drive results: activity effects estimated within rep and within period.

:func:`fit_drivers` answers "what does one more call (email, meeting, ...) in a
period add to this rep's results?" from a rep x period panel
(:func:`salesgoals.build_panel`), in a way that survives the traps of sales
data:

* **Skilled reps do more of everything and also win deals no activity made.**
  Comparing reps with each other therefore credits every activity with the
  skill behind it.  The model compares each rep only with *themselves*
  (rep fixed effects): does this rep create more deals in the weeks after they
  made more calls than usual?
* **Seasons and holidays move activity and results together.**  Period fixed
  effects compare reps only within the same week, and a seasonal scaling term
  lets a big rep's season swing more than a small rep's.
* **Effects arrive over several periods.**  Each activity enters with lags
  ``0..L`` (a distributed lag); ``L`` is chosen from the data: from the
  observed delays between sourcing activities and their deals' creation where
  activities are linked to deals, else by out-of-sample fit with a test that
  the effects beyond ``L`` sum to zero (``lag_criterion="auto"``), and the
  reported ``effect`` is the sum over lags.
* **Quality, not only quantity.**  Connected calls and held meetings enter
  next to calls and meetings, so a logged call is worth
  ``effect(call) + effect(connected call) x connect rate`` and each rep's
  effect follows their own connect and show rates.
* **Revenue is lumpy and closes weeks later.**  By default revenue outcomes are
  decomposed along the funnel, ``deals created x win rate x deal size``: the
  activity effects are estimated where the signal is (deals created, a count
  with little noise and a short delay) and carried to deals won, pipeline and
  revenue with each rep's win rate and deal size, shrunk toward the team
  (empirical Bayes) so reps with few closed deals borrow strength from the team.
  ``method="direct"`` regresses the outcome itself on long lags instead, for
  comparison.

The model (``family="linear"``) is a two-way fixed-effects distributed-lag
regression fitted by ordinary least squares,

.. math::

    y_{it} = \\alpha_i + \\gamma_t + \\sum_k \\sum_{l=0}^{L} \\beta_{kl} x_{k,i,t-l} + e_{it},

with standard errors clustered by rep (a rep's weeks are not independent) and
t(G - 1) reference distributions.  Up to ``CR3_MAX_REPS`` (500) reps the
covariance is the exact cluster jackknife (CR3: the spread of the slopes
refitted without each rep), which CR1 understates when reps are few or have
short histories; above, CR1.  With fewer than :data:`BOOTSTRAP_BELOW_REPS`
reps a pairs bootstrap over reps widens the intervals where it is wider.

Why linear and not Poisson
--------------------------
Deals are counts, but an extra connected call adds deals *on top of* the
business a rep gets anyway; it does not multiply it.  A Poisson model with
fixed effects would make the effect of a call proportional to the rep's base
rate (inbound, referrals), which is the confounder itself.  The linear model
estimates the additive effect directly, its fixed effects are removed exactly
(no iteration, no dummy columns: see :func:`_two_way_demean`), and its
interpretation, "deals per extra activity", is what goals are set from.  The
price is that predictions for tiny counts can be slightly negative; they are
floored at zero in :meth:`DriverResult.predict`.

Diagnostics shipped with every fit
----------------------------------
A placebo (each activity's timing shuffled within rep must show no effect), a
leads check (next period's activity must not "predict" this period's deals:
if it does, activity follows results and the effect is overstated), the naive
pooled answer next to the within-rep one, out-of-sample fit on the last
periods against each rep's average, and data-support checks (few reps, short
histories, one rep logging most of an activity, collinear activities).  Any
failure becomes an :class:`~salesgoals.errors.UnreliableEstimateWarning`, a
line in :meth:`DriverResult.summary` and wide intervals.

Assumptions (say them to the sales leader)
------------------------------------------
* No unlogged behaviour changes together with logged activity *within* a rep
  from week to week (busy weeks of all kinds are partly absorbed by the other
  activities in the model).
* Effects are the same for every rep up to quality: per-rep effects use the
  rep's own (shrunk) connect and show rates and carry the effect to revenue
  with the rep's own (shrunk) win rate and deal size.
* Seasons scale every rep's results in proportion to the rep's level (the
  ``season_scaling`` control, one extra column: the rep's mean outcome times
  the period effect).  Without it, multiplicative seasons leave a rep x season
  interaction that credits activities tracking skill (LinkedIn) with a small
  effect: measured +0.0024 deals per touch, +0.0006 with the control.
* Activity does not respond to results.  The leads check in
  :attr:`DriverResult.diagnostics` tests this and warns when it fails (for
  example follow-up emails sent after a deal is created).

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=12, n_weeks=40, seed=1)
>>> res = sg.fit_drivers(sim.panel(), outcome="deals_created", lags=2, diagnostics=False, n_boot=0)
>>> res.effects.columns.tolist()[:6]
['activity', 'effect', 'std_error', 'ci_low', 'ci_high', 'p_value']
>>> sorted(res.effects["activity"])
['call', 'email', 'linkedin', 'meeting']
"""

from salesgoals.drivers._diagnostics import (
    BOOTSTRAP_BELOW_REPS,
    LEADS_ALPHA,
    MAX_COLLINEARITY,
    MAX_REP_SHARE,
    MIN_PERIODS,
    MIN_REPS,
)
from salesgoals.drivers._model import (
    AUTO_CRITERION, DEFAULT_MAX_LAG, DEFAULT_MAX_LAG_DIRECT, DELAY_COVERAGE, MIN_LAG, DriverModel, fit_drivers,
)  # fmt: skip
from salesgoals._summary import Summary
from salesgoals.drivers._result import DriverDiagnostics, DriverResult
from salesgoals.drivers._progressing import progressing_effects
from salesgoals.drivers.performers import FUNNEL_STAGES, PerformerComparison, compare_performers

__all__ = [
    "fit_drivers",
    "compare_performers",
    "progressing_effects",
    "PerformerComparison",
    "FUNNEL_STAGES",
    "DriverModel",
    "DriverResult",
    "DriverDiagnostics",
    "Summary",
    "BOOTSTRAP_BELOW_REPS",
    "DEFAULT_MAX_LAG",
    "DEFAULT_MAX_LAG_DIRECT",
    "LEADS_ALPHA",
    "MAX_COLLINEARITY",
    "MAX_REP_SHARE",
    "MIN_LAG",
    "AUTO_CRITERION",
    "DELAY_COVERAGE",
    "MIN_PERIODS",
    "MIN_REPS",
]
