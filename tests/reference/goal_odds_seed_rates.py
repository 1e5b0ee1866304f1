"""Goal odds and revenue intervals across seeds: the tolerance study and the pass rates on disjoint seeds.

For each simulator (``project`` = :func:`salesgoals.simulate.make_crm_data`, ``independent`` = the event-level
simulator of ``tests/independent_sim.py``) and seed: 40 reps x 104 weeks, :func:`salesgoals.backtest_goals`
(4 rolling origins, n_sims as in the suite's tests), and record per tier the stated-minus-realised gap over goal
periods and per week, and the realised coverage of the 80 % revenue intervals.

The **study** seeds (100-139) set the tolerances of ``tests/test_backtest_goals.py``; the **evaluation** seeds
(0-39, disjoint) give the pass rates quoted in ``tests/reference/README.md``.  Round 3 widened both ranges from
12 to 40 seeds: the seed-to-seed spread of the gaps (s.d. ~0.03, mostly the team's seasonal factors, which every
rep of a seed shares) needs more than 12 seeds to pin a 1 % tail, and the 12 study seeds of round 2 happened to
drift upward (activity 2 % higher in their second year), which overstated the bias.

Run (about 4 minutes of CPU; under the heavy lock on a shared machine)::

    python tests/reference/goal_odds_seed_rates.py
    python tests/reference/goal_odds_seed_rates.py --report   # tolerances, pass rates, pooled-seed failure rates

Round 4 (issue 17): ``--report`` also gives the failure probability of the 8-point bar checked on k seeds
pooled (normal, from the study seeds' per-tier mean and s.d. of the gap; empirical, over every k-seed set of
study seeds) and the pass rate of disjoint k-seed blocks of evaluation seeds: the design of
``test_stated_odds_are_honest_over_goal_periods`` (4 seeds).  ``--oracle`` is the diagnostic of what the
per-seed spread is made of, on the project simulator's study seeds: the goal-period gaps with the
simulator's *true* seasonal factors (season x holiday, scaled to the mean of the year before the origin) in
place of the estimated ones, for the look-back and the goal period (``true``) or the goal period only
(``true_future``); two candidate estimators: the activity factors pooled over activities (``pooled``) and a
two-harmonic fit to the last year's log factors with outlying weeks (residual beyond 3 MADs: holidays) kept
as estimated (``harmonic``); written to ``goal_odds_season_oracle.csv`` (about 50 s of CPU per variant;
``--oracle true`` runs one variant and keeps the others' rows).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import salesgoals as sg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

STUDY = range(100, 140)
EVALUATION = range(0, 40)
N_SIMS = {"project": 1000, "independent": 100}  # as in the tests


def _panel(simulator: str, seed: int) -> pd.DataFrame:
    if simulator == "project":
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    from independent_sim import make_events

    return make_events("baseline", seed=seed, n_reps=40, n_periods=104).panel()


def run() -> pd.DataFrame:
    rows = []
    for simulator in ("project", "independent"):
        for role, seeds in (("study", STUDY), ("evaluation", EVALUATION)):
            for seed in seeds:
                bt = sg.backtest_goals(_panel(simulator, seed), n_origins=4, n_sims=N_SIMS[simulator],
                                       seed=0 if simulator == "project" else seed)  # fmt: skip
                row = {"simulator": simulator, "role": role, "seed": seed,
                       "revenue_coverage": bt.revenue_coverage}  # fmt: skip
                for view, cal in (("goal_period", bt.calibration), ("week", bt.calibration_week)):
                    for tier, diff in zip(cal["tier"], cal["difference"]):
                        row[f"{view}_{tier}"] = diff
                for tier, stated in zip(bt.calibration["tier"], bt.calibration["stated"]):
                    row[f"stated_{tier}"] = stated  # goal period
                rows.append(row)
                print(row, flush=True)
    return pd.DataFrame(rows).round(4)


def report(out: pd.DataFrame) -> None:
    """Mean and s.d. of every gap per simulator and role; tolerances from the study; pass rates on evaluation."""
    gaps = [c for c in out.columns if c.startswith(("goal_period_", "week_"))]
    stated = [c for c in out.columns if c.startswith("stated_")]
    print(out.groupby(["simulator", "role"])[stated + gaps + ["revenue_coverage"]].agg(["mean", "std", "min", "max"])
          .round(3).T.to_string())  # fmt: skip
    for simulator, d in out.groupby("simulator"):
        study, ev = d[d["role"] == "study"], d[d["role"] == "evaluation"]
        for view in ("goal_period", "week"):
            cols = [c for c in gaps if c.startswith(view)]
            # |mean| + 3.14 s.d.: two-sided 1 % over the three tiers (Bonferroni, 0.33 % each) under the study's spread
            tol = float((study[cols].mean().abs() + 3.14 * study[cols].std()).max())
            print(f"{simulator} {view}: study tolerance {tol:.3f}; evaluation max |gap| per seed <= {tol:.3f} on "
                  f"{int((ev[cols].abs().max(axis=1) <= tol).sum())} of {len(ev)}; the 8-point bar on "
                  f"{int((ev[cols].abs().max(axis=1) <= 0.08).sum())} of {len(ev)} evaluation and "
                  f"{int((study[cols].abs().max(axis=1) <= 0.08).sum())} of {len(study)} study seeds")  # fmt: skip
        lo, hi = study["revenue_coverage"].mean() - 2.58 * study["revenue_coverage"].std(), \
            study["revenue_coverage"].mean() + 2.58 * study["revenue_coverage"].std()  # fmt: skip
        inside = ev["revenue_coverage"].between(lo, hi).sum()
        print(f"{simulator} revenue coverage: study bounds [{lo:.3f}, {hi:.3f}]; evaluation inside {inside} of {len(ev)}")


def pooled_failure(out: pd.DataFrame, *, bar: float = 0.08, ks=(1, 2, 3, 4)) -> pd.DataFrame:
    """Failure probability of the bar on the goal-period gap pooled over k seeds, and evaluation blocks passing.

    One row per simulator x k: ``p_normal`` (the pooled gap ~ N(study mean, study s.d.^2 / k) per tier,
    independent tiers), ``p_empirical`` (share of all k-seed sets of study seeds whose mean gap exceeds
    the bar on some tier; seeds weigh equally, as their goal counts nearly do), ``eval_blocks_pass`` /
    ``eval_blocks`` (disjoint k-seed blocks of evaluation seeds, in order) and ``eval_worst``.
    """
    from itertools import combinations

    cols = ["goal_period_clear", "goal_period_stretch", "goal_period_extraordinary"]
    rows = []
    for simulator, d in out.groupby("simulator"):
        s = d.loc[d["role"] == "study", cols].to_numpy(float)
        e = d.loc[d["role"] == "evaluation", cols].to_numpy(float)
        for k in ks:
            m, sd = s.mean(axis=0), s.std(axis=0, ddof=1) / np.sqrt(k)
            p_in = stats.norm.cdf(bar, m, sd) - stats.norm.cdf(-bar, m, sd)
            sets = np.array(list(combinations(range(len(s)), k)))
            blocks = e[: len(e) // k * k].reshape(-1, k, len(cols)).mean(axis=1)
            rows.append({"simulator": simulator, "k": k, "p_normal": 1 - float(np.prod(p_in)),
                         "p_empirical": float((np.abs(s[sets].mean(axis=1)).max(axis=1) > bar).mean()),
                         "n_sets": len(sets), "eval_blocks_pass": int((np.abs(blocks).max(axis=1) <= bar).sum()),
                         "eval_blocks": len(blocks), "eval_worst": float(np.abs(blocks).max())})  # fmt: skip
    res = pd.DataFrame(rows)
    print(res.to_string(index=False, float_format=lambda v: f"{v:.5f}"))
    return res


def _true_factors(sim, panel, h, cols, season_len, H):
    """The simulator's season x holiday factors in the shape ``season`` returns (past rows, horizon)."""
    truth = sim.season.assign(f=sim.season["season"] * sim.season["holiday"]).set_index("week_start")["f"]
    per = pd.PeriodIndex(np.sort(panel.loc[panel["period"] <= h.as_of, "period"].unique()))
    past = truth.reindex(per.start_time).to_numpy(float)
    level = past[-season_len:].mean()
    future = truth.reindex(pd.period_range(per[-1] + 1, periods=H, freq=per.freq).start_time).to_numpy(float) / level
    if np.isnan(future).any() or np.isnan(past[-season_len:]).any():
        raise RuntimeError("the simulator's season does not cover the panel's periods")
    past = past / level
    past[: len(per) - season_len] = 1.0  # as the library: only the last year is used
    row_s = pd.Series(past, index=per).reindex(h.p["period"]).to_numpy(float)
    return np.repeat(row_s[:, None], len(cols), axis=1), np.repeat(future[:, None], len(cols), axis=1)


def _harmonic_factors(panel, h, cols, season_len, H, k_max=2):
    """Seasonal factors from ``k_max`` harmonics fitted to the last year's log factors; outlying weeks kept."""
    per = panel[panel["period"] <= h.as_of].groupby("period", sort=True)[list(cols)].mean()
    last = per.iloc[-season_len:].to_numpy(float)
    log_f = np.log(np.clip(last / last.mean(axis=0), 0.05, None))
    t = 2 * np.pi * np.arange(season_len) / season_len
    X = np.column_stack([np.ones(season_len)] + [f(k * t) for k in range(1, k_max + 1) for f in (np.sin, np.cos)])
    fit = X @ np.linalg.lstsq(X, log_f, rcond=None)[0]
    res = log_f - fit
    mad = 1.4826 * np.median(np.abs(res - np.median(res, axis=0)), axis=0)
    fac = np.exp(np.where(np.abs(res) > 3 * mad, log_f, fit))
    fac = fac / fac.mean(axis=0)
    past = np.ones((len(per), len(cols)))
    past[-season_len:] = fac
    return pd.DataFrame(past, index=per.index).reindex(h.p["period"]).to_numpy(float), fac[:H]


def oracle(variants=("true", "true_future", "pooled", "harmonic")) -> pd.DataFrame:
    """Goal-period gaps on the project simulator's study seeds with the seasonal factors replaced (diagnostic).

    Patches the odds model's ``season`` step (``salesgoals.goals._personal_best``) for the run only.
    """
    import salesgoals.goals._personal_best as pb

    original, state, rows = pb.season, {}, []

    def patched(panel, h, cols, *, season_len, H, seasonal):
        row_s, s_h, deals = original(panel, h, cols, season_len=season_len, H=H, seasonal=seasonal)
        if np.all(s_h == 1.0):  # no year of history: nothing to replace
            return row_s, s_h, deals
        if state["variant"] == "pooled":  # one factor for every activity: geometric mean over them
            gm = lambda a: np.repeat(np.exp(np.log(a).mean(axis=1, keepdims=True)), a.shape[1], axis=1)  # noqa: E731
            return gm(row_s), gm(s_h), deals
        if state["variant"] == "harmonic":
            return (*_harmonic_factors(panel, h, cols, season_len, H), deals)
        t_row, t_h = _true_factors(state["sim"], panel, h, cols, season_len, H)
        return (row_s if state["variant"] == "true_future" else t_row), t_h, deals

    pb.season = patched
    try:
        for variant in variants:
            for seed in STUDY:
                state.update(variant=variant, sim=sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed))
                sim = state["sim"]
                panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
                cal = sg.backtest_goals(panel, n_origins=4, n_sims=N_SIMS["project"], seed=0).calibration
                rows.append({"variant": variant, "seed": seed,
                             **{f"goal_period_{t}": v for t, v in zip(cal["tier"], cal["difference"])}})  # fmt: skip
                print(rows[-1], flush=True)
    finally:
        pb.season = original
    res = pd.DataFrame(rows).round(4)
    gaps = [c for c in res.columns if c.startswith("goal_period_")]
    print(res.groupby("variant", sort=False)[gaps].agg(["mean", "std"]).round(3).to_string())
    print("seeds over the 8-point bar:", res.assign(over=res[gaps].abs().max(axis=1) > 0.08)
          .groupby("variant", sort=False)["over"].sum().to_dict())  # fmt: skip
    return res


if __name__ == "__main__":
    if "--oracle" in sys.argv:
        rest = sys.argv[sys.argv.index("--oracle") + 1 :]
        path = HERE / "goal_odds_season_oracle.csv"
        new = oracle(tuple(rest) if rest else ("true", "true_future", "pooled", "harmonic"))
        old = pd.read_csv(path) if path.exists() else new.iloc[:0]
        sg.write_csv(pd.concat([old[~old["variant"].isin(new["variant"])], new], ignore_index=True), path)
    elif "--report" in sys.argv:
        report(pd.read_csv(HERE / "goal_odds_seed_rates.csv"))
        pooled_failure(pd.read_csv(HERE / "goal_odds_seed_rates.csv"))
    else:
        out = run()
        sg.write_csv(out, HERE / "goal_odds_seed_rates.csv")
        report(out)
        pooled_failure(out)
