"""Revenue targets projected from activity goals, the inverse plan, and the cascade.

* :func:`project_targets` - if each rep works at a goal tier, how many deals
  and how much revenue follow, with a prediction interval from a seeded Monte
  Carlo simulation through the rep's funnel; roll-ups by team, manager and
  region whose totals add up exactly and whose intervals come from the joint
  draws (never by adding intervals).
* :func:`plan_for_target` - the inverse: the activity levels that reach a
  revenue quota with a stated probability, against each rep's personal best.
* :func:`cascade` - an annual target spread to quarters, months, weeks and
  working days with the seasonality seen in history; parts add up to the cent.

The funnel simulation
---------------------
For rep *r* in draw *s*, over the ``H`` periods of the horizon:

1. the rep's base rate of deals created per period is drawn from its gamma
   posterior (the look-back history, shrunk toward the team);
2. each priority activity moved from ``baseline`` to the scenario level adds
   ``deals_per_unit x (level - baseline)`` deals per period; the effect of each
   activity is drawn once per simulation from its driver-model standard error
   and *shared by all reps*, so team totals carry the common model uncertainty;
3. deals created ~ Poisson(H x rate); each is won with the rep's win rate
   (drawn from its beta posterior); a won deal's amount is log-normal around
   the rep's deal size (its mean drawn from its posterior).

Scenarios share random numbers (Poisson thinning), so a higher tier never
projects less revenue than a lower one in the same draw.  Revenue is the
eventual value of the deals created in the horizon (at steady state this
equals revenue closed per horizon).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesgoals._deprecate import renamed_attribute, renamed_kwargs
from salesgoals._progress import bar
from salesgoals._summary import Summary
from salesgoals._typing import TIERS
from salesgoals.errors import DataQualityError
from salesgoals.goals._personal_best import GoalPlan, horizon_periods
from salesgoals.plotting import plot_cascade, plot_projection, plot_target_plan

__all__ = [
    "project_targets",
    "TargetProjection",
    "plan_for_target",
    "TargetPlan",
    "cascade",
    "Cascade",
    "SCENARIOS",
]

#: Scenarios of a projection: current behaviour, then the three tiers.
SCENARIOS: tuple[str, ...] = ("current", *TIERS)

#: Largest effort searched by :func:`plan_for_target` (3 = three times the
#: room between baseline and personal best).
MAX_EFFORT = 3.0
#: Effort grid step of :func:`plan_for_target`.
EFFORT_STEP = 0.05
#: Reps simulated together, each group from its own random stream: memory is
#: bounded by n_sims x STREAM_REPS, and a team of up to this many reps draws
#: from ``default_rng(seed)`` alone, exactly as before the simulation was streamed.
STREAM_REPS = 256


# ------------------------------------------------------------- simulation core
def _check_plan(goals: Any, func: str) -> GoalPlan:
    if not isinstance(goals, GoalPlan):
        raise TypeError(
            f"{func}: goals must be a GoalPlan from salesgoals.personal_best_goals(); "
            f"got {type(goals).__name__}."
        )
    return goals


def _focus_matrices(
    plan: GoalPlan,
) -> tuple[pd.Index, list[str], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Reps, metrics, level matrices per tier, deals-per-unit and the focus mask (R x M)."""
    t = plan.table
    reps = pd.Index(plan.rep_stats["rep"].astype(str).to_numpy(), dtype=object)
    metrics = list(dict.fromkeys(t["activity"]))
    rows = reps.get_indexer(t["rep"])
    cols = pd.Index(metrics).get_indexer(t["activity"])
    R, M = len(reps), len(metrics)

    def mat(values) -> np.ndarray:
        out = np.zeros((R, M))
        out[rows, cols] = np.asarray(values, dtype=float)
        return out

    focus = mat(t["priority"] > 0) > 0
    levels = {"baseline": mat(t["baseline"]), "personal_best": mat(t["personal_best"])}
    for tier in TIERS:
        levels[tier] = mat(t[f"goal_{tier}"])
    mo = plan.moments
    dpu = np.zeros((R, M))
    dpu[reps.get_indexer(mo["rep"]), pd.Index(metrics).get_indexer(mo["activity"])] = mo[
        "deals_per_unit"
    ].to_numpy(float)
    return reps, metrics, levels, dpu, focus


def _effect_factors(
    plan: GoalPlan, metrics: list[str], n_sims: int, rng: np.random.Generator
) -> np.ndarray:
    """Per-simulation multiplier of each metric's effect (S x M), from its standard error."""
    f = np.ones((n_sims, len(metrics)))
    eff = plan.effects
    if eff is None or not len(eff):
        return f
    e = eff.set_index("activity").reindex(metrics)
    rel = (e["std_error"] / e["effect"].abs()).to_numpy(float)
    rel = np.where(np.isfinite(rel), rel, 0.0)
    z = rng.standard_normal((n_sims, len(metrics)))
    return np.maximum(1.0 + rel[None, :] * z, 0.0)


@dataclass
class _Draws:
    """Random quantities of one simulation, shared by every scenario.

    Only *won* deals are drawn one by one (their amounts matter); lost deals
    are a Poisson count per rep and draw, thinned in expectation.
    """

    base: np.ndarray  # S x R deals per period
    delta_unit: np.ndarray  # S x R x M extra deals per period per unit of activity
    mu_max: np.ndarray  # S x R
    cand_cell: np.ndarray  # flat (draw, rep) index of each candidate won deal
    cand_u: (
        np.ndarray
    )  # position of the candidate in [0, mu_max): kept when below the scenario's rate
    cand_value: np.ndarray  # amount of the won deal
    n_lost: np.ndarray  # S x R lost deals at the largest rate
    H: int
    counts: np.ndarray | None = None  # candidates per cell when cand_cell is sorted (one group)


def _group_rng(seed: int, group: int) -> np.random.Generator:
    """Random stream of the ``group``-th run of :data:`STREAM_REPS` reps.

    Group 0 is ``default_rng(seed)`` itself, so a team of up to STREAM_REPS reps
    draws exactly the numbers it drew before the simulation was streamed.
    """
    if group == 0:
        return np.random.default_rng(seed)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(group,)))


def _draw_group(
    plan: GoalPlan,
    fm: tuple,
    sl: slice,
    levels_max: np.ndarray,
    H: int,
    n_sims: int,
    rng: np.random.Generator,
    fac: np.ndarray | None,
) -> tuple[_Draws, np.ndarray]:
    """Draw base rates, effects and candidate won deals of the reps ``sl`` (one stream group).

    ``fac`` (S x M effect multipliers, shared by all reps) is drawn by group 0
    in its stream, right after the base rates, and passed to the others.
    """
    rs = plan.rep_stats.iloc[sl]
    reps, metrics, levels, dpu, focus = fm
    R, S = len(rs), int(n_sims)
    shape = rs["deals_rate_shape"].to_numpy(float)
    rate_p = rs["deals_rate_periods"].to_numpy(float)
    season = rs["season_factor"].to_numpy(float) if "season_factor" in rs.columns else np.ones(R)
    base = (
        rng.gamma(np.maximum(shape, 1e-9)[None, :], 1.0 / rate_p[None, :], size=(S, R))
        * season[None, :]
    )
    if fac is None:
        fac = _effect_factors(plan, metrics, S, rng)
    delta_unit = dpu[None, sl, :] * fac[:, None, :] * focus[None, sl, :]
    room = np.maximum(levels_max[sl] - levels["baseline"][sl], 0.0)
    mu_max = np.maximum(base + (delta_unit * room[None]).sum(axis=2), 0.0)
    a = rs["win_alpha"].to_numpy(float)
    b = rs["win_beta"].to_numpy(float)
    wr = rng.beta(np.maximum(a, 1e-6)[None, :], np.maximum(b, 1e-6)[None, :], size=(S, R))
    wr = np.where((a + b) > 0, wr, 0.0)
    # Poisson splitting: won and lost deals are independent Poisson counts
    n_won = rng.poisson(H * mu_max * wr)
    n_lost = rng.poisson(H * mu_max * (1.0 - wr))
    sigma = rs["deal_size_sigma"].to_numpy(float)
    size_n = np.maximum(rs["deal_size_n"].to_numpy(float), 1.0)
    size = np.maximum(rs["deal_size"].to_numpy(float), 0.0)
    size_draw = size[None, :] * np.exp(
        sigma / np.sqrt(size_n) * rng.standard_normal((S, R)) - sigma**2 / (2 * size_n)
    )
    flat = n_won.ravel()
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)  # sorted: repeat, not gather
    u = rng.random(cell.size) * np.repeat(mu_max.ravel(), flat)
    sig = np.repeat(np.broadcast_to(sigma, (S, R)).ravel(), flat)
    amount = np.repeat(size_draw.ravel(), flat) * np.exp(
        sig * rng.standard_normal(cell.size) - sig**2 / 2
    )
    return _Draws(base, delta_unit, mu_max, cell, u, amount, n_lost, H, flat), fac


def _merge(parts: list[_Draws]) -> _Draws:
    """One :class:`_Draws` for consecutive stream groups (reps side by side).

    Candidate deals keep their order within each (draw, rep) cell, so sums per
    cell are the same as in the groups apart.
    """
    if len(parts) == 1:
        return parts[0]
    widths = [p.base.shape[1] for p in parts]
    offsets = np.cumsum([0, *widths[:-1]])
    R = int(sum(widths))
    cells = [
        (p.cand_cell // w) * R + (p.cand_cell % w) + o for p, w, o in zip(parts, widths, offsets)
    ]
    return _Draws(
        np.concatenate([p.base for p in parts], axis=1),
        np.concatenate([p.delta_unit for p in parts], axis=1),
        np.concatenate([p.mu_max for p in parts], axis=1),
        np.concatenate(cells),
        np.concatenate([p.cand_u for p in parts]),
        np.concatenate([p.cand_value for p in parts]),
        np.concatenate([p.n_lost for p in parts], axis=1),
        parts[0].H,
    )


def _simulate_blocks(plan: GoalPlan, levels_max: np.ndarray, H: int, n_sims: int, seed: int):
    """Yield ``(slice of reps, draws)`` one group of :data:`STREAM_REPS` reps at a time.

    Memory is bounded by n_sims x STREAM_REPS (never all reps x draws); each
    group draws from its own stream, so a rep's numbers do not depend on how
    the others are processed.
    """
    fm = _focus_matrices(plan)
    n = len(fm[0])
    fac = None
    for g in range(-(-n // STREAM_REPS)):  # loop over groups of reps
        sl = slice(g * STREAM_REPS, min((g + 1) * STREAM_REPS, n))
        d, fac = _draw_group(plan, fm, sl, levels_max, H, n_sims, _group_rng(seed, g), fac)
        yield sl, d


def _simulate(plan: GoalPlan, levels_max: np.ndarray, H: int, n_sims: int, seed: int) -> _Draws:
    """Every rep's draws at once (the same numbers as the groups of :func:`_simulate_blocks`)."""
    return _merge([d for _, d in _simulate_blocks(plan, levels_max, H, n_sims, seed)])


def _scenario_totals(d: _Draws, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count deals created, deals won and revenue (each S x R) at deal rate ``rate`` (S x R).

    Won deals and revenue are exact draws; deals created adds the expected
    share of the lost deals kept at this rate (only its mean is reported).
    """
    S, R = rate.shape
    at = rate.ravel()
    keep = d.cand_u < (at[d.cand_cell] if d.counts is None else np.repeat(at, d.counts))
    idx = d.cand_cell[keep]
    won = np.bincount(idx, minlength=S * R).reshape(S, R).astype(float)
    revenue = np.bincount(idx, weights=d.cand_value[keep], minlength=S * R).reshape(S, R)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = np.where(d.mu_max > 0, rate / np.where(d.mu_max > 0, d.mu_max, 1.0), 0.0)
    return won + d.n_lost * kept, won, revenue


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(
        np.nan_to_num(np.asarray(x, dtype=float), nan=0.0, posinf=0.0, neginf=0.0) * 100
    ).astype(np.int64)



def _lift(delta_unit: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Extra deals per period (S x R): sum over metrics of per-unit effect x units above baseline.

    Summed metric by metric so every (draw, rep) adds in the same order whatever
    the number of reps in the block (numpy's own reductions may regroup terms
    by array shape, changing the last bit).
    """
    room = np.maximum(room, 0.0)
    out = np.zeros(delta_unit.shape[:2])
    for j in range(delta_unit.shape[2]):  # loop over the few metrics
        out += delta_unit[:, :, j] * room[None, :, j]
    return out


def _col_mean(x: np.ndarray) -> np.ndarray:
    """Mean of each column, adding draw after draw (the same bits whatever the block's width;
    numpy switches to pairwise sums for a single column)."""
    return np.cumsum(x, axis=0)[-1] / x.shape[0]


#: Draws x reps up to which :attr:`TargetProjection.draws` keeps every rep's revenue draws
#: (4 scenarios x 8 bytes each: 128 MB at the limit); above it only the roll-up groups' sums are kept.
KEEP_DRAWS_CELLS = 4_000_000


def _project_blocks(
    plan: GoalPlan, H: int, n_sims: int, seed: int, interval: float, scenarios: Sequence[str] = SCENARIOS
) -> tuple[pd.Index, dict[str, np.ndarray] | None, dict[str, dict[str, np.ndarray]], dict]:
    """Per-rep statistics, per-rep revenue draws (S x R per scenario, None past :data:`KEEP_DRAWS_CELLS`)
    and the roll-up groups' summed draws, simulated one stream group of reps at a time.

    ``scenarios`` (``"current"`` first) limits the work to the scenarios asked for;
    the draws are the same whichever are asked.
    """
    reps, metrics, levels, dpu, focus = _focus_matrices(plan)
    top = np.maximum.reduce([levels[t] for t in TIERS])
    q = [(1 - interval) / 2, (1 + interval) / 2]
    R = len(reps)
    draws = {scn: np.empty((n_sims, R)) for scn in scenarios} if n_sims * R <= KEEP_DRAWS_CELLS else None
    codes = _rollup_codes(plan)
    sums = {by: {scn: np.zeros((n_sims, len(g))) for scn in scenarios} for by, (_, g) in codes.items()}
    cols = ("deals_created", "deals_won", "revenue", "revenue_low", "revenue_high")
    stats = {scn: {c: np.empty(R) for c in (*cols, "p_beats_current")} for scn in scenarios}
    progress = bar(-(-R // STREAM_REPS), "project targets", "group")
    for sl, d in _simulate_blocks(plan, top, H, n_sims, seed):  # bounded memory per group
        progress.update(1)
        cur_rev = None
        for scn in scenarios:  # up to four scenarios
            if scn == "current":  # at the baseline: no lift
                rate = np.maximum(d.base, 0.0)
            else:
                rate = np.maximum(d.base + _lift(d.delta_unit, levels[scn][sl] - levels["baseline"][sl]), 0.0)
            created, won, rev = _scenario_totals(d, np.minimum(rate, d.mu_max))
            cur_rev = rev if scn == "current" else cur_rev
            if draws is not None:
                draws[scn][:, sl] = rev
            _add_group_sums(sums, codes, scn, rev, sl)
            lo, hi = np.quantile(rev, q, axis=0)
            out = stats[scn]
            out["deals_created"][sl], out["deals_won"][sl] = _col_mean(created), _col_mean(won)
            out["revenue"][sl] = _cents(_col_mean(rev)) / 100
            out["revenue_low"][sl], out["revenue_high"][sl] = np.round(lo, 2), np.round(hi, 2)
            out["p_beats_current"][sl] = (rev > cur_rev).mean(axis=0)
    progress.close()
    return reps, draws, stats, {by: (codes[by][1], sums[by]) for by in codes}


def _rollup_codes(plan: GoalPlan) -> dict[str | None, tuple[np.ndarray, list[str]]]:
    """For every roll-up (``None`` = all reps, and the roster columns): each rep's group number and the groups."""
    rs = plan.rep_stats
    out: dict[str | None, tuple[np.ndarray, list[str]]] = {None: (np.zeros(len(rs), dtype=np.int64), ["(all)"])}
    for by in ("team", "manager", "region"):
        if by in rs.columns:
            keys = rs[by].astype(str).to_numpy()
            groups = sorted(set(keys))
            out[by] = (pd.Index(groups).get_indexer(keys), groups)
    return out


def _add_group_sums(sums: dict, codes: dict, scn: str, rev: np.ndarray, sl: slice) -> None:
    """Add one stream group's revenue draws (S x reps) to the summed draws of every roll-up group.

    Summed as :meth:`TargetProjection.rollup` summed all reps' columns, so up to
    STREAM_REPS reps the group totals are the same to the last bit.
    """
    for by, (code, _) in codes.items():  # loop over the few roll-ups
        local = code[sl]
        acc = sums[by][scn]
        for g in np.unique(local):  # loop over the groups present in this stream group
            acc[:, g] += rev[:, local == g].sum(axis=1)


# ------------------------------------------------------------------ projection
@dataclass
class TargetProjection:
    """Projected deals and revenue per rep and scenario (result of :func:`project_targets`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per rep x scenario (documented in :func:`project_targets`).
    draws : dict or None
        ``{scenario: ndarray (n_sims x n_reps)}`` of simulated revenue, columns
        in the order of ``reps``; sum columns to get any group's joint draws.
        ``None`` when n_sims x reps exceeds :data:`KEEP_DRAWS_CELLS` (memory
        stays bounded at enterprise scale): the roll-ups use ``group_draws``.
    reps : pandas.DataFrame
        ``rep, team, manager, region`` in the order of the draw columns.
    interval : float
        Coverage of the prediction intervals (``level`` is its deprecated alias).
    horizon : int
        Periods projected.
    group_draws : dict, optional
        ``{by: (groups, {scenario: ndarray (n_sims x n_groups)})}`` for
        ``by`` = ``None`` (all reps), ``"team"``, ``"manager"``, ``"region"``:
        the summed revenue draws of every roll-up group (what :meth:`rollup` reads).
    """

    table: pd.DataFrame
    draws: dict[str, np.ndarray] | None
    reps: pd.DataFrame
    interval: float
    horizon: int
    freq: str
    seed: int
    n_sims: int
    group_draws: dict | None = None

    def __repr__(self) -> str:
        return (
            f"TargetProjection(reps={len(self.reps)}, horizon={self.horizon} x {self.freq}, "
            f"interval={self.interval:.0%}, n_sims={self.n_sims})"
        )

    level = renamed_attribute("level", "interval")

    def rollup(self, by: str | None = "team") -> pd.DataFrame:
        """Totals by ``team``, ``manager``, ``region`` (or ``None``: all reps), per scenario.

        The ``revenue`` of a group is the exact sum (to the cent) of its reps'
        ``revenue``; ``revenue_low`` / ``revenue_high`` are quantiles of the
        summed joint draws.

        Returns
        -------
        pandas.DataFrame
            Columns ``group`` (the ``by`` value, ``"(all)"`` for the total),
            ``scenario``, ``n_reps``, ``deals_created``, ``deals_won``,
            ``revenue``, ``revenue_low``, ``revenue_high``, sorted by group then
            scenario order; the last rows (``"(all)"``) are the grand total.
        """
        t = self.table
        if by is not None and by not in self.reps.columns:
            raise ValueError(
                f"rollup: by must be one of "
                f"{', '.join(c for c in self.reps.columns if c != 'rep')} or None; got {by!r}."
            )
        keys = (
            np.full(len(self.reps), "(all)", dtype=object)
            if by is None
            else self.reps[by].astype(str).to_numpy()
        )
        groups = sorted(set(keys))
        q = [(1 - self.interval) / 2, (1 + self.interval) / 2]
        rows = []
        for scn in SCENARIOS:  # loop over 4 scenarios x a few groups
            sub = t[t["scenario"] == scn].set_index("rep").reindex(self.reps["rep"])
            cents = _cents(sub["revenue"].to_numpy())
            for g in [*groups, *(["(all)"] if by is not None else [])]:
                m = np.ones(len(keys), bool) if g == "(all)" else keys == g
                tot = self._joint_draws(scn, None if g == "(all)" else by, g, m)
                lo, hi = np.quantile(tot, q)
                rows.append({
                    "group": g, "scenario": scn, "n_reps": int(m.sum()),
                    "deals_created": float(sub["deals_created"].to_numpy()[m].sum()),
                    "deals_won": float(sub["deals_won"].to_numpy()[m].sum()),
                    "revenue": int(cents[m].sum()) / 100, "revenue_low": float(np.round(lo, 2)),
                    "revenue_high": float(np.round(hi, 2)),
                })  # fmt: skip
        out = pd.DataFrame(rows)
        out["_g"] = out["group"].eq("(all)")
        out["_s"] = out["scenario"].map({s: i for i, s in enumerate(SCENARIOS)})
        out = out.sort_values(["_g", "group", "_s"], kind="mergesort").drop(columns=["_g", "_s"])
        return out.reset_index(drop=True)

    def _joint_draws(self, scn: str, by: str | None, g: str, m: np.ndarray) -> np.ndarray:
        """Summed revenue draws of group ``g`` (its reps are ``m``): stored sums, else the reps' columns."""
        if self.group_draws is not None and by in self.group_draws:
            groups, sums = self.group_draws[by]
            return sums[scn][:, bisect.bisect_left(groups, g)]  # groups are sorted
        return self.draws[scn][:, m].sum(axis=1)

    def summary(self) -> Summary:
        """Team totals per scenario with their prediction intervals."""
        tot = self.rollup(None)
        lines = [
            f"{len(self.reps)} reps, {self.horizon} {self.freq} periods, "
            f"{self.interval:.0%} prediction intervals "
            f"from {self.n_sims:,} seeded simulations (seed={self.seed}).",
        ]
        return Summary("Projected revenue by goal tier", lines, [("All reps", tot.round(0))])

    def plot(self, *, by: str | None = "team", ax=None):
        """Revenue by scenario with intervals (see :func:`salesgoals.plotting.plot_projection`)."""
        return plot_projection(self, by=by, ax=ax)


@renamed_kwargs(level="interval")
def project_targets(
    goals: GoalPlan,
    drivers: Any = None,
    *,
    horizon: str | int | None = None,
    interval: float = 0.8,
    n_sims: int = 2000,
    seed: int = 0,
) -> TargetProjection:
    """Project deals and revenue if each rep works at each goal tier.

    Parameters
    ----------
    goals : GoalPlan
        From :func:`salesgoals.personal_best_goals`, built with the driver model.
    drivers : DriverResult, optional
        Accepted for symmetry with the pipeline; the effects used are the ones
        stored in ``goals`` (``goals.effects``).  Passing a driver model to a
        plan built without one raises, since the tiers would carry no lift.
    horizon : {"W", "M", "Q", "Y"} or int, optional
        Periods to project; default the plan's horizon.
    interval : float, default=0.8
        Coverage of the prediction intervals (the old name ``level=`` still
        works until salesgoals 0.3, with a ``DeprecationWarning``).
    n_sims : int, default=2000
        Monte Carlo draws.
    seed : int, default=0
        Seed of the simulation; the same seed gives the same numbers.

    Returns
    -------
    TargetProjection
        ``.table`` has one row per rep x scenario (``current``, ``clear``,
        ``stretch``, ``extraordinary``), sorted by rep then scenario, with:

        * ``rep``, ``team``, ``manager``, ``region`` : str (roster columns the panel has).
        * ``scenario`` : str — ``current`` = the rep keeps the baseline; a tier =
          the rep's priority activities at that goal, the rest at baseline.  A
          goal below the baseline (``clear`` usually is: it is the level the rep
          reaches in 80 % of periods) is projected at the baseline - the rep is
          not assumed to slow down - so ``clear`` is the forecastable floor.
        * ``deals_created``, ``deals_won`` : float — expected counts over the horizon.
        * ``revenue`` : float — expected won revenue over the horizon, rounded to cents.
        * ``revenue_low``, ``revenue_high`` : float — the ``interval`` prediction interval.
        * ``p_beats_current`` : float — share of draws in which the scenario's
          revenue exceeds the current-behaviour revenue.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=1)
    >>> proj = sg.project_targets(sg.personal_best_goals(sim.panel()), n_sims=200)
    >>> sorted(proj.table["scenario"].unique())
    ['clear', 'current', 'extraordinary', 'stretch']
    >>> bool((proj.table["revenue_low"] <= proj.table["revenue_high"]).all())
    True
    """
    plan = _check_plan(goals, "project_targets")
    if drivers is not None and plan.outcome is None:
        raise ValueError(
            "project_targets: this GoalPlan was built without a driver model, "
            "so the goal tiers carry no "
            "projected lift; pass drivers to personal_best_goals(panel, drivers) instead."
        )
    _check_sims(interval, n_sims)
    H = plan.horizon if horizon is None else horizon_periods(horizon, plan.freq)
    reps, draws, stats, group_draws = _project_blocks(plan, H, int(n_sims), int(seed), interval)
    frames = [
        pd.DataFrame({"rep": reps.to_numpy().astype(str), "scenario": scn, **stats[scn]})
        for scn in SCENARIOS
    ]
    table = pd.concat(frames, ignore_index=True)
    attrs = plan.rep_stats[
        [c for c in ("rep", "team", "manager", "region") if c in plan.rep_stats.columns]
    ]
    table = attrs.merge(table, on="rep", how="right")
    table["_s"] = table["scenario"].map({s: i for i, s in enumerate(SCENARIOS)})
    table = (
        table.sort_values(["rep", "_s"], kind="mergesort").drop(columns="_s").reset_index(drop=True)
    )
    for col in (
        "deals_created",
        "deals_won",
        "revenue",
        "revenue_low",
        "revenue_high",
        "p_beats_current",
    ):
        table[col] = np.nan_to_num(table[col].to_numpy(float), nan=0.0, posinf=0.0, neginf=0.0)
    return TargetProjection(
        table,
        draws,
        attrs.reset_index(drop=True),
        float(interval),
        H,
        plan.freq,
        int(seed),
        int(n_sims),
        group_draws,
    )


def _check_sims(interval: float, n_sims: int) -> None:
    if not 0 < interval < 1:
        raise ValueError(f"project_targets: interval must be between 0 and 1; got {interval}.")
    if int(n_sims) < 10:
        raise ValueError(f"project_targets: n_sims must be at least 10; got {n_sims}.")


def _current_revenue(plan: GoalPlan, *, interval: float, n_sims: int, seed: int) -> pd.DataFrame:
    """``rep, revenue, revenue_low, revenue_high`` at current behaviour, sorted by rep.

    The ``current`` rows of :func:`project_targets` (same draws, same numbers),
    without simulating the tiers: what the goal backtest checks.
    """
    _check_sims(interval, n_sims)
    reps, _, stats, _ = _project_blocks(plan, plan.horizon, int(n_sims), int(seed), interval, ("current",))
    cols = ("revenue", "revenue_low", "revenue_high")
    out = pd.DataFrame({"rep": reps.to_numpy().astype(str),
                        **{c: np.nan_to_num(stats["current"][c], nan=0.0, posinf=0.0, neginf=0.0) for c in cols}})
    return out.sort_values("rep", kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------ inverse plan
@dataclass
class TargetPlan:
    """Activity levels that reach a revenue target (result of :func:`plan_for_target`).

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per group (``"(all)"`` for a company target): ``group, target,
        prob, n_reps, projected_current, projected_low, projected_high, gap,
        p_current, effort, p_at_personal_best, feasible, reachable``.
        ``gap`` = target - projected current revenue (bottom-up vs quota);
        ``effort`` = the share of the room between baseline and personal best
        that every rep's priority activities must cover (1 = all at personal
        best; ``inf`` if not reachable within :data:`MAX_EFFORT`);
        ``feasible`` = effort <= 1.
    activities : pandas.DataFrame
        One row per rep x priority activity: ``group, rep, activity, baseline,
        personal_best, required, above_personal_best, feasible``
        (``required`` is the level per period; ``above_personal_best`` =
        required - personal best, negative when within reach).
    prob : float
        Stated probability of reaching the target.
    """

    groups: pd.DataFrame
    activities: pd.DataFrame
    prob: float
    by: str | None
    horizon: int
    freq: str

    def __repr__(self) -> str:
        return (
            f"TargetPlan(groups={len(self.groups)}, prob={self.prob:.0%}, "
            f"horizon={self.horizon} x {self.freq})"
        )

    def summary(self) -> Summary:
        """Summarise the gap per group and the effort needed."""
        g = self.groups.copy()
        lines = [
            f"Activity needed to reach each target with {self.prob:.0%} probability over "
            f"{self.horizon} {self.freq} periods.",
            "effort 1.0 = every rep's focus activities at their personal best; "
            "feasible = effort <= 1.",
        ]
        return Summary("Plan for target", lines, [("Groups", g.round(2))])

    def plot(self, *, ax=None):
        """Plot required vs personal-best levels (:func:`salesgoals.plotting.plot_target_plan`)."""
        return plot_target_plan(self, ax=ax)


def plan_for_target(
    goals: GoalPlan,
    target: float | Mapping[str, float],
    *,
    by: str | None = None,
    prob: float = 0.8,
    n_sims: int = 2000,
    seed: int = 0,
) -> TargetPlan:
    """Find the activity levels that reach a revenue target with a stated probability.

    Every rep in a group moves their priority activities the same share
    (``effort``) of the way from baseline toward their personal best (beyond
    it when effort > 1); the smallest effort whose simulated group revenue
    reaches the target with probability ``prob`` is reported.

    Parameters
    ----------
    goals : GoalPlan
        From :func:`salesgoals.personal_best_goals` with a driver model.
    target : float or mapping
        Revenue over the plan's horizon: one number for all reps together
        (``by=None``), or ``{group: target}`` with ``by="team"``, ``"manager"``,
        ``"region"`` or ``"rep"`` (a single number is then used for every group).
    by : str, optional
        Grouping of the targets.
    prob : float, default=0.8
        Required probability of reaching the target.
    n_sims, seed : int
        Monte Carlo draws and seed.

    Returns
    -------
    TargetPlan
        ``.groups`` and ``.activities`` (columns documented on :class:`TargetPlan`).

    Notes
    -----
    The simulation runs :data:`STREAM_REPS` reps at a time (as in
    :func:`project_targets`), and a group's revenue draws at each effort are
    kept only until its last rep has been simulated, so memory grows with
    ``n_sims`` x efforts x the groups open at once, not with reps x draws.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=40, seed=1)
    >>> res = sg.plan_for_target(sg.personal_best_goals(sim.panel()), 50_000, n_sims=200)
    >>> res.groups.columns[:4].tolist()
    ['group', 'target', 'prob', 'n_reps']
    """
    plan = _check_plan(goals, "plan_for_target")
    if not 0 < prob < 1:
        raise ValueError(f"plan_for_target: prob must be between 0 and 1; got {prob}.")
    reps, metrics, levels, dpu, focus = _focus_matrices(plan)
    keys = _target_keys(plan, reps, by)
    targets = _targets_by_group(target, sorted(set(keys)), by)
    room = np.maximum(levels["personal_best"] - levels["baseline"], 0.0)
    grid = np.round(np.arange(0.0, MAX_EFFORT + 1e-9, EFFORT_STEP), 10)
    rows = {}
    for g, tot in _group_totals_by_effort(plan, keys, targets, room, grid, int(n_sims), int(seed)):
        rows[g] = _group_outcome(g, tot, targets[g], float(prob), grid, int((keys == g).sum()))
    g_rows = [rows[g] for g in sorted(rows)]
    a_rows = []
    for row in g_rows:  # loop over groups: their reps' focus activities at the group's effort
        e = row["effort"] if np.isfinite(row["effort"]) else MAX_EFFORT
        a_rows += _required_levels(row["group"], np.nonzero(keys == row["group"])[0], e, reps, metrics, levels,
                                   room, focus)  # fmt: skip
    acts = pd.DataFrame(a_rows, columns=["group", "rep", "activity", "baseline", "personal_best", "required",
                                         "above_personal_best", "feasible"])  # fmt: skip
    return TargetPlan(pd.DataFrame(g_rows), acts, float(prob), by, plan.horizon, plan.freq)


def _target_keys(plan: GoalPlan, reps: pd.Index, by: str | None) -> np.ndarray:
    """The group of each rep (in the order of ``reps``): ``"(all)"``, the rep, or its roster value."""
    rs = plan.rep_stats.set_index("rep").reindex(reps)
    if by is None:
        return np.full(len(reps), "(all)", dtype=object)
    if by == "rep":
        return reps.to_numpy().astype(object)
    if by in rs.columns:
        return rs[by].astype(str).to_numpy()
    raise ValueError(
        "plan_for_target: by must be None, 'rep' or a roster column "
        f"({', '.join(c for c in ('team', 'manager', 'region') if c in rs.columns)}); "
        f"got {by!r}."
    )


def _targets_by_group(target: Any, groups: list[str], by: str | None) -> dict[str, float]:
    """``{group: target}`` for the groups that have one; checked finite and non-negative."""
    if isinstance(target, Mapping):
        unknown = sorted(set(map(str, target)) - set(groups))
        if unknown:
            raise ValueError(
                f"plan_for_target: unknown {by or 'group'} {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(groups[:10])}."
            )
        targets = {g: float(target[g]) for g in groups if g in target}
    else:
        targets = {g: float(target) for g in groups}
    if any(not np.isfinite(v) or v < 0 for v in targets.values()):
        raise ValueError("plan_for_target: targets must be finite, non-negative revenue amounts.")
    return targets


#: Draws x reps x effort levels of revenue held at once by :func:`plan_for_target` (8 bytes each).
EFFORT_CELLS = 8_000_000


def _group_totals_by_effort(plan, keys, targets, room, grid, n_sims: int, seed: int):
    """Yield ``(group, revenue draws x effort levels)`` for each group with a target, once its last rep is simulated.

    The simulation is streamed by stream groups of reps (:func:`_simulate_blocks`)
    and, within one, by runs of draws, so memory holds one run's revenue per
    rep and effort plus the totals of the groups still open (n_sims x efforts
    each), never all reps x draws.  Within a stream group the sums are taken in
    the same order as over all reps at once, so up to STREAM_REPS reps the
    numbers are those of the unstreamed computation.
    """
    levels = _focus_matrices(plan)[2]
    wanted = np.array([k in targets for k in keys])
    last = {k: i for i, k in enumerate(keys) if k in targets}  # position of each group's last rep
    open_: dict[str, np.ndarray] = {}
    for sl, d in _simulate_blocks(plan, levels["baseline"] + MAX_EFFORT * room, plan.horizon, n_sims, seed):
        local = keys[sl]
        here = [k for k in dict.fromkeys(local[wanted[sl]])]  # groups in this stream group, in rep order
        step = max(1, EFFORT_CELLS // (d.base.shape[1] * grid.size))
        for s0 in range(0, n_sims, step):  # loop over runs of draws
            rev = _effort_revenue(d, room[sl], grid, s0, min(s0 + step, n_sims))
            for k in here:  # loop over the groups present
                part = rev[:, local == k, :].sum(axis=1)
                tot = open_.setdefault(k, np.zeros((n_sims, grid.size)))
                tot[s0 : s0 + len(part)] += part
        for k in here:
            if last[k] < sl.stop:
                yield k, open_.pop(k)


def _effort_revenue(d: _Draws, room: np.ndarray, grid: np.ndarray, s0: int, s1: int) -> np.ndarray:
    """Won revenue of draws ``s0:s1`` of one stream group at each effort of ``grid`` ((s1-s0) x reps x efforts).

    A candidate deal is won at the first effort whose deal rate reaches its
    position ``u``: base + effort x slope >= u.
    """
    S, R = d.base.shape
    G = grid.size
    bounds = np.concatenate([[0], np.cumsum(d.counts)])[[s0 * R, s1 * R]]
    c = slice(int(bounds[0]), int(bounds[1]))
    cell = d.cand_cell[c] - s0 * R
    slope = (d.delta_unit[s0:s1] * room[None]).sum(axis=2)  # extra deals per period at effort 1
    base_c = d.base[s0:s1].ravel()[cell]
    slope_c = slope.ravel()[cell]
    u = d.cand_u[c]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_need = np.where(u < base_c, 0.0, np.where(slope_c > 0, (u - base_c) / slope_c, np.inf))
    gi = np.searchsorted(grid, t_need - 1e-12, side="left")  # first grid point that includes the deal
    ok = gi < G
    rev = np.bincount((cell * G + gi)[ok], weights=d.cand_value[c][ok], minlength=(s1 - s0) * R * G)
    return np.cumsum(rev.reshape(s1 - s0, R, G), axis=2, out=rev.reshape(s1 - s0, R, G))


def _group_outcome(g: str, tot: np.ndarray, target: float, prob: float, grid: np.ndarray, n_reps: int) -> dict:
    """One row of :attr:`TargetPlan.groups` from the group's revenue draws at each effort (draws x efforts)."""
    p_reach = np.maximum.accumulate((tot >= target).mean(axis=0))
    hit = np.nonzero(p_reach >= prob)[0]
    effort = float(grid[hit[0]]) if hit.size else float("inf")
    cur = tot[:, 0]
    i_pb = int(np.searchsorted(grid, 1.0 - 1e-12))
    return {
        "group": g, "target": target, "prob": prob, "n_reps": n_reps,
        "projected_current": float(np.round(cur.mean(), 2)),
        "projected_low": float(np.round(np.quantile(cur, 0.1), 2)),
        "projected_high": float(np.round(np.quantile(cur, 0.9), 2)),
        "gap": float(np.round(target - cur.mean(), 2)), "p_current": float(p_reach[0]),
        "effort": effort, "p_at_personal_best": float(p_reach[i_pb]),
        "feasible": bool(effort <= 1.0 + 1e-9), "reachable": bool(np.isfinite(effort)),
    }  # fmt: skip


def _required_levels(g, rows, effort, reps, metrics, levels, room, focus) -> list[dict]:
    """Rows of :attr:`TargetPlan.activities` for one group's reps at ``effort``."""
    out = []
    for r in rows:  # rows of this group's reps (few per group)
        for j in np.nonzero(focus[r])[0]:
            req = levels["baseline"][r, j] + effort * room[r, j]
            pb = levels["personal_best"][r, j]
            out.append({
                "group": g, "rep": str(reps[r]), "activity": metrics[j],
                "baseline": float(levels["baseline"][r, j]), "personal_best": float(pb),
                "required": float(req), "above_personal_best": float(req - pb),
                "feasible": bool(req <= levels["personal_best"][r, j] + 1e-9),
            })  # fmt: skip
    return out


# ----------------------------------------------------------------------- cascade
@dataclass
class Cascade:
    """An annual target spread over the fiscal year (result of :func:`cascade`).

    Attributes
    ----------
    quarters, months, weeks, days : pandas.DataFrame
        One row per unit (x entity): ``entity, <unit>, start, end,
        working_days, target`` (``days`` has ``date`` and ``quarter``, ``month``,
        ``week`` labels).  Targets are whole cents; each level sums exactly to
        the level above and to the annual target.
    seasonality : pandas.DataFrame
        ``month_of_year, weight`` - the monthly share used (per working day).
    """

    quarters: pd.DataFrame
    months: pd.DataFrame
    weeks: pd.DataFrame
    days: pd.DataFrame
    seasonality: pd.DataFrame
    fiscal_year_start: pd.Timestamp

    def __repr__(self) -> str:
        return (
            f"Cascade(entities={self.quarters['entity'].nunique()}, "
            f"fiscal year from {self.fiscal_year_start.date()}, "
            f"working days={self.days['date'].nunique()})"
        )

    def summary(self) -> Summary:
        """Quarter and month targets of the team total."""
        q = self.quarters[self.quarters["entity"] == self.quarters["entity"].iloc[-1]]
        return Summary(
            "Target cascade",
            [
                f"Fiscal year starting {self.fiscal_year_start.date()}; "
                f"{self.days['date'].nunique()} working days."
            ],
            [("Quarters", q[["quarter", "start", "end", "working_days", "target"]])],
        )

    def plot(self, *, entity: str | None = None, ax=None):
        """Monthly targets (see :func:`salesgoals.plotting.plot_cascade`)."""
        return plot_cascade(self, entity=entity, ax=ax)


def _largest_remainder(
    total_cents: np.ndarray, weights: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Split each group's integer total over its members in proportion to weights, exactly.

    ``total_cents[g]`` is split over the rows with ``groups == g``.
    """
    weights = np.maximum(np.asarray(weights, dtype=float), 0.0)
    wsum = np.bincount(groups, weights=weights, minlength=total_cents.size)
    n = np.bincount(groups, minlength=total_cents.size)
    share = np.where(
        wsum[groups] > 0,
        weights / np.where(wsum[groups] > 0, wsum[groups], 1.0),
        1.0 / np.maximum(n[groups], 1),
    )
    raw = share * total_cents[groups]
    base = np.floor(raw).astype(np.int64)
    left = total_cents - np.bincount(groups, weights=base, minlength=total_cents.size).astype(
        np.int64
    )
    frac = raw - base
    # rank members within their group by remainder (ties by position), give +1 to the top `left`
    order = np.lexsort((np.arange(raw.size), -frac, groups))
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    rank = np.empty(raw.size, dtype=np.int64)
    rank[order] = np.arange(raw.size) - first[groups[order]]
    return base + (rank < left[groups]).astype(np.int64)


def _seasonal_weights(
    panel: pd.DataFrame | None, column: str, fy_months: np.ndarray, shrink_years: float
) -> np.ndarray:
    """Relative value of one working day in each calendar month, from history."""
    w = np.ones(12)
    if panel is None or column not in panel.columns or len(panel) == 0:
        return w
    starts = panel["period"].dt.start_time
    month = starts.dt.month.to_numpy()
    per = panel.groupby(month)[column].sum().reindex(range(1, 13), fill_value=0.0)
    periods = panel.groupby(month)["period"].nunique().reindex(range(1, 13), fill_value=0)
    if (periods == 0).any() or per.sum() <= 0:
        return w  # not a full year of history: no seasonal shape
    rate = per / periods  # per period; periods are equal-length within a freq (weeks)
    years = periods.min() / max(
        1, {"W": 4.35, "M": 1, "Q": 1 / 3}.get(panel.attrs.get("freq", "W"), 4.35)
    )
    k = years / (years + shrink_years)
    rel = rate / rate.mean()
    return (k * rel + (1 - k)).to_numpy(float)


def cascade(
    target: float | Mapping[str, float],
    *,
    year: int,
    panel: pd.DataFrame | None = None,
    fiscal_year_start: int = 1,
    holidays: Sequence[Any] = (),
    workdays: Sequence[int] = (0, 1, 2, 3, 4),
    column: str = "won_revenue",
    shrink_years: float = 1.0,
) -> Cascade:
    """Spread an annual target over quarters, months, weeks and working days.

    Parameters
    ----------
    target : float or mapping
        The annual target (currency) for the team, or ``{rep: target}``; with a
        mapping the team total ``"(team)"`` is added as the exact sum.
    year : int
        Calendar year in which the fiscal year starts.
    panel : pandas.DataFrame, optional
        History whose monthly pattern of ``column`` sets the seasonality (per
        working day, shrunk toward flat by ``shrink_years``).  Without it, or with
        less than a year of history, every working day weighs the same.
    fiscal_year_start : int, default=1
        Month (1-12) in which the fiscal year starts.
    holidays : sequence of date-like, default=()
        Non-working dates.
    workdays : sequence of int, default=Monday-Friday
        Working weekdays (0 = Monday).
    column : str, default="won_revenue"
        Panel column that defines the seasonal pattern.
    shrink_years : float, default=1.0
        Prior weight of a flat pattern, in years of history.

    Returns
    -------
    Cascade
        ``.quarters``, ``.months``, ``.weeks`` (Monday-based, cut at the fiscal
        year's ends) and ``.days`` frames with ``entity`` and ``target``; targets
        are rounded to cents by the largest-remainder method so that every
        level sums exactly to the one above.

    Raises
    ------
    DataQualityError
        The fiscal year has no working day, or a target is negative or not finite.

    Examples
    --------
    >>> c = cascade(1_000_000, year=2026, fiscal_year_start=2, holidays=["2026-12-25"])
    >>> [float(f["target"].sum()) for f in (c.quarters, c.months, c.weeks, c.days)]
    [1000000.0, 1000000.0, 1000000.0, 1000000.0]
    >>> str(c.fiscal_year_start.date()), str(c.quarters["start"].iloc[0].date())  # 1st working day
    ('2026-02-01', '2026-02-02')
    """
    if not 1 <= int(fiscal_year_start) <= 12:
        raise ValueError(
            f"cascade: fiscal_year_start must be a month 1-12; got {fiscal_year_start}."
        )
    if isinstance(target, Mapping):
        entities = {str(k): float(v) for k, v in target.items()}
    else:
        entities = {"(team)": float(target)}
    bad = {k: v for k, v in entities.items() if not np.isfinite(v) or v < 0}
    if bad:
        raise DataQualityError(f"cascade: targets must be finite and non-negative; got {bad}.")
    start = pd.Timestamp(year=int(year), month=int(fiscal_year_start), day=1)
    end = start + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    days = pd.date_range(start, end, freq="D")
    hol = (
        pd.DatetimeIndex(pd.to_datetime(list(holidays))).normalize()
        if len(holidays)
        else pd.DatetimeIndex([])
    )
    work = days[np.isin(days.day_of_week, list(workdays)) & ~days.isin(hol)]
    if len(work) == 0:
        raise DataQualityError(
            "cascade: the fiscal year has no working day (check workdays and holidays)."
        )
    fy_month = (
        (work.month - int(fiscal_year_start)) % 12
    ).to_numpy()  # 0..11 within the fiscal year
    fy_quarter = fy_month // 3
    sw = _seasonal_weights(panel, column, np.arange(12), shrink_years)
    day_w = sw[work.month.to_numpy() - 1]
    week_start = (work - pd.to_timedelta(work.day_of_week, unit="D")).normalize()

    names = list(entities)
    if len(names) > 1:
        names.append("(team)")
    frames_d = []
    q_w = np.bincount(fy_quarter, weights=day_w, minlength=4)
    m_w = np.bincount(fy_month, weights=day_w, minlength=12)
    for name in names:  # loop over entities (reps)
        if name == "(team)" and len(entities) > 1:
            continue
        total = np.array([int(round(entities[name] * 100))], dtype=np.int64)
        qc = _largest_remainder(total, q_w, np.zeros(4, dtype=np.int64))
        mc = _largest_remainder(qc, m_w, np.arange(12) // 3)
        dc = _largest_remainder(mc, day_w, fy_month)
        frames_d.append(pd.DataFrame({"entity": name, "date": work, "cents": dc}))
    d = pd.concat(frames_d, ignore_index=True)
    if len(entities) > 1:
        team = d.groupby("date", sort=True)["cents"].sum().reset_index()
        team.insert(0, "entity", "(team)")
        d = pd.concat([d, team], ignore_index=True)
    n_ent = d["entity"].nunique()
    d["quarter"] = np.tile([f"FY{year}-Q{q + 1}" for q in fy_quarter], n_ent)
    d["month"] = np.tile(work.strftime("%Y-%m").to_numpy(), n_ent)
    d["week"] = np.tile(week_start.strftime("%Y-%m-%d").to_numpy(), n_ent)
    ent_order = {e: i for i, e in enumerate(names)}
    d["_e"] = d["entity"].map(ent_order)
    d = d.sort_values(["_e", "date"], kind="mergesort").drop(columns="_e").reset_index(drop=True)

    def level(key: str) -> pd.DataFrame:
        g = d.groupby(["entity", key], sort=False)
        out = g.agg(
            start=("date", "min"),
            end=("date", "max"),
            working_days=("date", "size"),
            cents=("cents", "sum"),
        ).reset_index()
        out["target"] = out["cents"] / 100
        return out.drop(columns="cents")

    quarters, months, weeks = level("quarter"), level("month"), level("week")
    d["target"] = d["cents"] / 100
    d = d.drop(columns="cents")[["entity", "date", "quarter", "month", "week", "target"]]
    seas = pd.DataFrame({"month_of_year": np.arange(1, 13), "weight": sw})
    return Cascade(quarters, months, weeks, d, seas, start)
