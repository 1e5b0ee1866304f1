"""Scenario study: the driver model on the independent event-level simulator (tests/independent_sim.py).

One row per scenario: what must hold (the pass criterion), what the model
measured, and what a naive method measured.  The naive method is pooled OLS of
deals created on the activity counts summed over lags 0..3, without rep or
period effects, with rep-clustered standard errors and no multiplicity control
(what a spreadsheet regression does); for the heterogeneity row it is the
textbook Cochran's Q of the per-rep slopes on their plain (HC1) robust
variances against chi-square(G - 1).  It must fail the rows it should fail.

Coverage criteria: a 95 % interval passes when its coverage over the seeds is
0.90-0.99 (0.90-0.97 for revenue, the issue's target); the measured figure
carries the binomial seed noise at the nominal 0.95 (+/- 1.96 s.e. over the
intervals counted; intervals of one seed are not independent, so it is a
floor on the noise).

Seeds 1000+ (the fast tests in tests/test_drivers_honesty.py use seeds 1-16,
a disjoint range).  Writes ``drivers_honesty.csv``, the markdown table
``drivers_honesty.md`` and the per-seed figures ``drivers_honesty_seeds.csv``
(long: row, seed, key, value) next to this file.

Run::

    python tests/reference/drivers_honesty_study.py                 # every row: 200 noise seeds, 30 per other row
    python tests/reference/drivers_honesty_study.py --rows noise_8x40 --noise-seeds 40   # one row, others kept
    # in chunks (each a few minutes of CPU), then one table from the chunks:
    python tests/reference/drivers_honesty_study.py --rows monthly --seeds 10 --first-seed 1000 --raw /tmp/dh
    python tests/reference/drivers_honesty_study.py --rows monthly --seeds 10 --first-seed 1010 --raw /tmp/dh
    python tests/reference/drivers_honesty_study.py --rows monthly --combine /tmp/dh
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _expected import expected_warnings  # noqa: E402
from independent_sim import make_events  # noqa: E402

import salesgoals as sg  # noqa: E402
import salesgoals.drivers._model as drivers_model  # noqa: E402
from salesgoals.drivers._pooling import rep_slopes  # noqa: E402
from salesgoals.drivers._verdicts import holm  # noqa: E402
from salesgoals.io import write_csv  # noqa: E402

ACTS = ["call", "email", "meeting", "linkedin", "proposal"]


def fit(sim, *, log: bool, **kw):
    extra = {"activity_log": sim.activities, "deals": sim.deals} if log else {}
    with expected_warnings("fit_drivers"):  # the model's verdict notes, kept in its effects table
        return sg.fit_drivers(sim.panel(), **extra, **kw)


def naive(sim, lags: int = 3) -> pd.DataFrame:
    """Pooled OLS on lag sums, no fixed effects, rep-clustered errors: effect and raw p per activity."""
    p = sim.panel().sort_values(["rep", "period"])
    acts = [a for a in ACTS if a in p.columns]
    X = pd.DataFrame({a: sum(p.groupby("rep", observed=True)[a].shift(l) for l in range(lags + 1)) for a in acts})
    ok = X.notna().all(axis=1).to_numpy()
    groups = pd.factorize(p["rep"].astype(str))[0][ok]
    res = sm.OLS(p["deals_created"].to_numpy(float)[ok], sm.add_constant(X[ok].to_numpy(float))).fit(
        cov_type="cluster", cov_kwds={"groups": groups})
    return pd.DataFrame({"activity": acts, "effect": res.params[1:], "p_value": res.pvalues[1:]}).set_index("activity")


def covers(row, truth: float) -> bool:
    return bool(row["ci_low"] <= truth <= row["ci_high"])


def coverage_text(hits: float, n: float, nominal: float = 0.95) -> str:
    """Coverage with the binomial seed noise at the nominal rate (+/- 1.96 s.e. over ``n`` intervals)."""
    return f"{hits / n:.3f} ({int(hits)} of {int(n)}; seed noise at 0.95: +/- {1.96 * np.sqrt(nominal * (1 - nominal) / n):.3f})"


# ------------------------------------------------------------------ rows
# Each row is a per-seed function (seed -> dict of numbers; a noise seed also returns its per-activity detail)
# and a summary (per-seed frame, one row per seed -> the table row).  Chunks of seeds combine exactly.
def seed_baseline(s):
    sim = make_events("baseline", seed=s)
    e = fit(sim, log=True, n_boot=0).effects.set_index("activity")
    t = sim.truth["deals_created"]
    out = {"err": e.loc["meeting", "effect"] / t["meeting"] - 1, "naive_sig": naive(sim).loc["linkedin", "p_value"] < 0.05}
    out.update({f"cov_{a}": covers(e.loc[a], t[a]) for a in ("meeting", "call", "linkedin")})
    return out


def sum_baseline(d):
    hits, n = d[["cov_meeting", "cov_call", "cov_linkedin"]].to_numpy().sum(), 3 * len(d)
    err = d["err"].mean()
    return dict(scenario="baseline recovery (links + log)",
                criterion="abs(mean rel. error meeting) < 15%; 95% coverage (meeting, call, linkedin) 0.90-0.99",
                measured=f"meeting error {err:+.1%}; coverage {coverage_text(hits, n)}",
                passed=abs(err) < 0.15 and 0.90 <= hits / n <= 0.99,
                naive=f"zero-effect linkedin significant in {d['naive_sig'].mean():.0%} of seeds",
                naive_fails=d["naive_sig"].mean() > 0.1)  # fmt: skip


def seed_same_week(s, links: bool):
    sim = make_events("same_week", seed=s, links=links)
    e = fit(sim, log=links, n_boot=0).effects.set_index("activity")
    prop = e.loc["proposal"] if "proposal" in e.index else None
    return {"named": bool(prop is not None and prop["is_driver"] and prop["flags"] == ""),
            "flagged": bool(prop is None or prop["flags"] != ""),
            "err": e.loc["meeting", "effect"] / sim.truth.loc["meeting", "deals_created"] - 1,
            "naive_sig": naive(sim).loc["proposal", "p_value"] < 0.05}  # fmt: skip


def sum_same_week(d, links: bool):
    label = "with links + log" if links else "without links or log"
    crit = "proposal never a driver" + ("; meeting abs(error) < 20%" if links else "; flagged in >= 95%")
    err = d["err"].mean()
    ok = not d["named"].any() and (abs(err) < 0.2 if links else d["flagged"].mean() >= 0.95)
    return dict(scenario=f"same-week reverse causality, {label}", criterion=crit,
                measured=f"proposal named {d['named'].mean():.0%}, flagged/removed {d['flagged'].mean():.0%}; meeting "
                         f"error {err:+.1%}",
                passed=ok, naive=f"proposal significant in {d['naive_sig'].mean():.0%}",
                naive_fails=d["naive_sig"].mean() > 0.5)  # fmt: skip


def seed_next_week(s):
    sim = make_events("next_week", seed=s, links=False)
    e = fit(sim, log=False, n_boot=0).effects.set_index("activity")
    return {"named": bool(e.loc["proposal", "is_driver"] and e.loc["proposal", "flags"] == ""),
            "follows": "follows_results" in e.loc["proposal", "flags"],
            "naive_sig": naive(sim).loc["proposal", "p_value"] < 0.05}  # fmt: skip


def sum_next_week(d):
    return dict(scenario="next-week reverse causality (no log)", criterion="proposal never a driver; follows_results >= 95%",
                measured=f"named {d['named'].mean():.0%}; follows_results {d['follows'].mean():.0%}",
                passed=not d["named"].any() and d["follows"].mean() >= 0.95,
                naive=f"proposal significant in {d['naive_sig'].mean():.0%}", naive_fails=d["naive_sig"].mean() > 0.5)  # fmt: skip


NOISE_DETAIL = HERE / "drivers_honesty_noise.csv"
NOISE_COLS = ["size", "seed", "activity", "effect", "std_error", "p_value", "p_value_adj", "is_driver", "flags"]


def seed_noise(s, n_reps, n_periods):
    sim = make_events("noise", seed=s, n_reps=n_reps, n_periods=n_periods)
    e = fit(sim, log=False).effects  # the default call (diagnostics, bootstrap below 30 reps)
    detail = e[NOISE_COLS[2:]].assign(size=f"{n_reps}x{n_periods}", seed=s)[NOISE_COLS]
    return {"any_driver": bool((e["is_driver"] & (e["flags"] == "")).any()),
            "naive_any": bool((e["p_value"] < 0.05).any()), "detail": detail}


def sum_noise(d, n_reps, n_periods):
    rate = d["any_driver"].mean()
    se = np.sqrt(max(rate * (1 - rate), 0.05 * 0.95) / len(d))
    return dict(scenario=f"pure noise {n_reps} x {n_periods}", criterion="share of fits naming any driver <= 6%",
                measured=f"{rate:.1%} (+/- {1.96 * se:.1%})", passed=rate <= 0.06,
                naive=f"raw p < 0.05 on any activity: {d['naive_any'].mean():.0%}", naive_fails=d["naive_any"].mean() > 0.06)  # fmt: skip


def seed_two_groups(s):
    sim = make_events("two_groups", seed=s)
    res = fit(sim, log=False, n_boot=0, diagnostics=False)
    re = res.rep_effects.merge(sim.rep_truth[["rep", "activity", "deals_created"]], on=["rep", "activity"])
    m = re.loc[re["activity"] == "meeting"]
    e = res.effects.set_index("activity").loc["meeting"]
    return {"cov_hits": ((m["ci_low"] <= m["deals_created"]) & (m["deals_created"] <= m["ci_high"])).sum(),
            "cov_n": len(m),
            "team_cov": ((e["ci_low"] <= m["deals_created"]) & (m["deals_created"] <= e["ci_high"])).mean()}


def sum_two_groups(d):
    hits, n = d["cov_hits"].sum(), d["cov_n"].sum()
    return dict(scenario="two-group heterogeneity (meeting x0.5 / x1.5)", criterion="per-rep 95% coverage 0.90-0.99",
                measured=f"coverage {coverage_text(hits, n)}", passed=0.90 <= hits / n <= 0.99,
                naive=f"team interval for every rep covers {d['team_cov'].mean():.2f}",
                naive_fails=d["team_cov"].mean() < 0.9)  # fmt: skip

def _hc1_cochran(record: dict):
    """Wraps the model's per-rep slopes: keeps their plain HC1 variances (the textbook Cochran's Q's input)."""

    def slopes(fit_, C, u, **kw):
        record["theta"], record["var"], _ = rep_slopes(fit_, C, u, hc=1)
        return rep_slopes(fit_, C, u, **kw)

    return mock.patch.object(drivers_model, "rep_slopes", slopes)


def naive_cochran_p(record: dict, het: pd.DataFrame) -> np.ndarray:
    """Textbook Cochran's Q: per-rep slopes about the team value on HC1 variances, against chi-square(G - 1), for
    the activities the model tested (the same reps as its own Q); NaN elsewhere."""
    theta, var = record["theta"], record["var"]
    out = np.full(len(het), np.nan)
    for j in np.flatnonzero(het["cochran_p_value"].notna().to_numpy()):
        ok = np.isfinite(var[:, j]) & (var[:, j] > 0)
        out[j] = stats.chi2.sf(float(np.sum((theta[ok, j] - 1.0) ** 2 / var[ok, j])), ok.sum() - 1)
    return out


def _holm_any(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted rejections at 5 % over the tested (non-NaN) activities."""
    out = np.zeros(p.size, dtype=bool)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = holm(p[ok]) < 0.05
    return out


def seed_heterogeneity_test(s):
    out = {}
    for scen, tag in (("two_groups", "pow"), ("baseline", "size")):
        record: dict = {}
        with _hc1_cochran(record):
            het = fit(make_events(scen, seed=s), log=False, n_boot=0, diagnostics=False).diagnostics.heterogeneity
        meeting = (het["activity"] == "meeting").to_numpy()
        m = het.loc[meeting].iloc[0]
        alone = {"r": holm(het["p_value"].to_numpy()) < 0.05, "t": holm(het["team_p_value"].to_numpy()) < 0.05,
                 "q3": holm(het["cochran_p_value"].to_numpy()) < 0.05}
        q1 = naive_cochran_p(record, het)
        alone["q1"] = _holm_any(q1)
        pick = (lambda v: bool(v[meeting][0])) if tag == "pow" else (lambda v: bool(v.any()))
        out[tag] = pick(het["reps_differ"].to_numpy())
        out.update({f"{k}_{tag}": pick(v) for k, v in alone.items()})
        out[f"r_{tag}_raw"] = bool(m["p_value"] < 0.05)
        out[f"q1_{tag}_raw"] = bool(q1[meeting][0] < 0.05)
        if tag == "size":
            scale = het["q_null_scale"].dropna()
            out["scale_sum"], out["scale_n"] = float(scale.sum()), len(scale)
    return out


def sum_heterogeneity_test(d):
    r = d.mean()
    n = len(d)
    bar = 0.06 + 1.645 * np.sqrt(0.06 * 0.94 / n)  # not above 6 % beyond one-sided 95 % seed noise
    band = 1.96 * np.sqrt(r["size"] * (1 - r["size"]) / n) if 0 < r["size"] < 1 else 0.0
    return dict(scenario="heterogeneity tests: power two groups (meeting), size baseline (any activity)",
                criterion=f"reps_differ (rep-level Q with a wild-bootstrap null, or between-team F; each at 2.5 %): "
                          f"size <= 6% (+ 1.645 binomial s.e. of seed noise: <= {bar:.1%} at {n} seeds); power reported",
                measured=f"reps_differ: size {r['size']:.1%} ({int(d['size'].sum())} of {n}, +/- {band:.1%}), power "
                         f"{r['pow']:.0%}; rep-level test alone at 5 %: size {r['r_size']:.0%} (meeting raw "
                         f"{r['r_size_raw']:.0%}), power {r['r_pow']:.0%} (raw {r['r_pow_raw']:.0%}), bootstrap null "
                         f"mean / df {d['scale_sum'].sum() / d['scale_n'].sum():.2f}; between-team F alone at 5 %: size "
                         f"{r['t_size']:.0%}, power {r['t_pow']:.0%}; Cochran's Q on the model's HC3 variances: size "
                         f"{r['q3_size']:.0%}, power {r['q3_pow']:.0%}",
                passed=r["size"] <= bar,
                naive=f"textbook Cochran's Q (HC1 per-rep variances) vs chi-square(G - 1), Holm at 5 %: size "
                      f"{r['q1_size']:.0%} (meeting raw {r['q1_size_raw']:.0%}), power {r['q1_pow']:.0%}",
                naive_fails=r["q1_size"] > bar)  # fmt: skip


def seed_small(s):
    sim = make_events("small_team", seed=s)
    e = fit(sim, log=True).effects.set_index("activity")
    return {"cov": covers(e.loc["meeting"], sim.truth.loc["meeting", "deals_created"]),
            "false": bool(e.loc["linkedin", "is_driver"] and e.loc["linkedin", "flags"] == "")}


def sum_small(d):
    cov = d["cov"].mean()
    # "linkedin never a driver" (round 2, 20 seeds) cannot hold for any test at a 5 % level over 100 seeds; the bar
    # for a zero-effect activity is the noise rows' one: named in at most 6 % of fits (changed in round 6 after
    # seeing 1 of 100, and said so in the README)
    return dict(scenario="small team 8 x 40 (links + log)",
                criterion="meeting 95% coverage 0.90-0.99; zero-effect linkedin named a driver in <= 6% of fits",
                measured=f"coverage {coverage_text(d['cov'].sum(), len(d))}; linkedin named {d['false'].mean():.0%}",
                passed=0.90 <= cov <= 0.99 and d["false"].mean() <= 0.06, naive="", naive_fails=None)  # fmt: skip


def seed_monthly(s):
    sim = make_events("monthly", seed=s)
    e = fit(sim, log=True, n_boot=0).effects.set_index("activity")
    t = sim.truth.loc["meeting", "deals_created"]
    m = e.loc["meeting"]
    c, tc = e.loc["call"], sim.truth.loc["call", "deals_created"]
    return {"err": m["effect"] / t - 1, "cov": covers(m, t), "z": (m["effect"] - t) / m["std_error"],
            "lags": float(m["n_lags"]), "z_call": (c["effect"] - tc) / c["std_error"],
            "n_follows": float(e["flags"].str.contains("follows_results").sum())}  # responders adjusted at this grain


def sum_monthly(d):
    err, cov = d["err"].mean(), d["cov"].mean()
    return dict(scenario="monthly grain 40 x 36 (links + log)",
                criterion="abs(mean rel. error meeting) < 20%; 95% coverage 0.90-0.99",
                measured=f"error {err:+.1%}; coverage {coverage_text(d['cov'].sum(), len(d))}; z mean "
                         f"{d['z'].mean():+.2f}, s.d. {d['z'].std():.2f}",
                passed=abs(err) < 0.2 and 0.90 <= cov <= 0.99, naive="", naive_fails=None)  # fmt: skip


def seed_revenue(s):
    sim = make_events("baseline", seed=s)
    t = sim.truth.loc["meeting", "won_revenue"]
    e = fit(sim, log=True, outcome="won_revenue", n_boot=0, diagnostics=False).effects.set_index("activity")
    n = fit(sim, log=False, outcome="won_revenue", n_boot=0, diagnostics=False).effects.set_index("activity")
    return {"abs_err": abs(e.loc["meeting", "effect"] / t - 1), "err": e.loc["meeting", "effect"] / t - 1,
            "cov": covers(e.loc["meeting"], t), "naive_err": n.loc["meeting", "effect"] / t - 1}


def sum_revenue(d):
    err, cov = d["abs_err"].mean(), d["cov"].mean()
    return dict(scenario="revenue, inbound deals win more (links + log)",
                criterion="mean abs(rel. error) meeting revenue < 25%; 95% coverage 0.90-0.97 (the issue's target)",
                measured=f"mean abs(error) {err:.1%} (mean error {d['err'].mean():+.1%}); coverage "
                         f"{coverage_text(d['cov'].sum(), len(d))}",
                passed=err < 0.25 and 0.90 <= cov <= 0.97,
                naive=f"rep-average funnel (no links): error {d['naive_err'].mean():+.0%}",
                naive_fails=d["naive_err"].mean() > 0.25)  # fmt: skip


def seed_progressing(s):
    """Follow-up emails in a deal's first 14 days add 8 points of win probability each; calls and time to close 0."""
    from salesgoals.drivers import progressing_effects

    sim = make_events("baseline", seed=s, progress_win={"email": 0.08})
    t = progressing_effects(sim.activities, sim.deals).set_index(["outcome", "activity"])
    e = t.loc[("win_rate", "email")]
    zero = t.loc["win_rate"].drop(index="email")
    hits = [bool(e["ci_low"] <= 0.08 <= e["ci_high"])] + [bool(r.ci_low <= 0.0 <= r.ci_high) for r in zero.itertuples()]
    return {"cov_hits": sum(hits), "cov_n": len(hits), "found": bool(e["is_driver"]),
            "false": bool(zero["is_driver"].any() or t.loc["closes_within", "is_driver"].any()),
            "pace": float(t.loc[("closes_within", "email"), "effect"] / t.loc[("closes_within", "email"), "std_error"])}


def sum_progressing(d):
    hits, n = d["cov_hits"].sum(), d["cov_n"].sum()
    return dict(scenario="progressing activity on its own deal (links)",
                criterion="win-rate 95% coverage 0.90-0.99 (email +8 pts, call 0); email found >= 90%; zero-effect "
                          "rows named <= 10% of fits; time to close (confounded by pace, truth 0) never a verdict",
                measured=f"coverage {coverage_text(hits, n)}; email found {d['found'].mean():.0%}; a zero-effect row "
                         f"named in {d['false'].mean():.0%} of fits; closing-soon z of email (not a verdict) "
                         f"{d['pace'].mean():.1f}",
                passed=0.90 <= hits / n <= 0.99 and d["found"].mean() >= 0.9 and d["false"].mean() <= 0.1, naive="",
                naive_fails=None)  # fmt: skip


#: Calls source most deals (within a week or two), meetings fewer but up to five weeks later.
CALL_HEAVY = {"call": 0.09, "email": 0.004, "meeting": 0.15, "linkedin": 0.0}


def seed_slow_minority(s):
    """The default (the slowest type's delays set the lag length) against the pooled delay rule (round 5's)."""
    from salesgoals.drivers._model import DELAY_COVERAGE

    sim = make_events("baseline", seed=s, sourcing=CALL_HEAVY)
    res = fit(sim, log=True, n_boot=0, diagnostics=False)
    delays = res.diagnostics.creation_delays
    pooled = int(delays["lag"].to_numpy()[np.searchsorted(delays["share"].cumsum().to_numpy(), DELAY_COVERAGE - 1e-12)])
    out = {"lags": float(res.effects["n_lags"].iloc[0]), "pooled_lags": float(pooled)}
    t = sim.truth.loc["meeting", "deals_created"]
    for tag, r in (("", res), ("naive_", fit(sim, log=True, n_boot=0, diagnostics=False, lags=pooled))):
        m = r.effects.set_index("activity").loc["meeting"]
        out.update({f"{tag}err": m["effect"] / t - 1, f"{tag}cov": covers(m, t), f"{tag}z": (m["effect"] - t) / m["std_error"]})
    return out


def sum_slow_minority(d):
    err, cov, diff = d["err"].mean(), d["cov"].mean(), d["err"] - d["naive_err"]
    return dict(scenario="slow minority type: calls source most deals, meetings fewer but later (links + log)",
                criterion="abs(mean rel. error meeting) < 10%; 95% coverage 0.90-0.99",
                measured=f"lags 0..{d['lags'].median():.0f} (pooled rule {d['pooled_lags'].median():.0f}); meeting error "
                         f"{err:+.1%}; coverage {coverage_text(d['cov'].sum(), len(d))}; z mean {d['z'].mean():+.2f}, "
                         f"s.d. {d['z'].std():.2f}",
                passed=abs(err) < 0.10 and 0.90 <= cov <= 0.99,
                naive=f"pooled delay rule: meeting error {d['naive_err'].mean():+.1%} (paired difference "
                      f"{diff.mean():+.1%} +/- {1.96 * diff.std() / np.sqrt(len(d)):.1%}), coverage "
                      f"{d['naive_cov'].mean():.2f}, z s.d. {d['naive_z'].std():.2f}",
                # the naive rule fails when it misses the row's own criterion (error or coverage)
                naive_fails=bool(abs(d["naive_err"].mean()) >= 0.10 or not 0.90 <= d["naive_cov"].mean() <= 0.99))  # fmt: skip


#: row -> (per-seed function, summary, uses the noise seed count)
JOBS = {
    "baseline": (seed_baseline, sum_baseline, False),
    "same_week": (lambda s: seed_same_week(s, False), lambda d: sum_same_week(d, False), False),
    "same_week_links": (lambda s: seed_same_week(s, True), lambda d: sum_same_week(d, True), False),
    "next_week": (seed_next_week, sum_next_week, False),
    "noise_50x104": (lambda s: seed_noise(s, 50, 104), lambda d: sum_noise(d, 50, 104), True),
    "noise_8x40": (lambda s: seed_noise(s, 8, 40), lambda d: sum_noise(d, 8, 40), True),
    "two_groups": (seed_two_groups, sum_two_groups, False),
    "heterogeneity_test": (seed_heterogeneity_test, sum_heterogeneity_test, False),
    "small_team": (seed_small, sum_small, False),
    "slow_minority": (seed_slow_minority, sum_slow_minority, False),
    "monthly": (seed_monthly, sum_monthly, False),
    "revenue": (seed_revenue, sum_revenue, False),
    "progressing": (seed_progressing, sum_progressing, False),
}  # fmt: skip
SEEDS_CSV = HERE / "drivers_honesty_seeds.csv"
#: per-seed keys that are counts or numbers even where a chunk holds only 0 and 1
_NUMERIC_KEYS = {"cov_hits", "cov_n", "scale_n", "scale_sum", "err", "abs_err", "naive_err", "z", "naive_z", "lags",
                 "pooled_lags", "pace", "team_cov", "z_call", "n_follows", "seconds", "cpu_seconds"}


def run_seeds(name: str, seeds: list[int]) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Per-seed figures of one row, long (row, seed, key, value), with wall and CPU seconds; noise details."""
    records, details = [], []
    for s in seeds:
        t0, c0 = time.perf_counter(), time.process_time()
        out = JOBS[name][0](s)
        if "detail" in out:
            details.append(out.pop("detail"))
        out.update(seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0)
        records += [{"row": name, "seed": s, "key": k, "value": float(v)} for k, v in out.items()]
        print(name, s, f"{out['cpu_seconds']:.1f} s CPU", flush=True)
    return pd.DataFrame(records, columns=["row", "seed", "key", "value"]), details


def summarise(name: str, long: pd.DataFrame) -> dict:
    wide = long.pivot(index="seed", columns="key", values="value").sort_index()
    flags = [c for c in wide.columns if c not in _NUMERIC_KEYS]
    wide[flags] = wide[flags].astype(bool)
    row = JOBS[name][1](wide.drop(columns=["seconds", "cpu_seconds"]))
    seeds = wide.index.to_numpy()
    return {"row": name, **row, "n_seeds": len(wide), "seeds": f"{seeds.min()}-{seeds.max()}",
            "seconds": round(wide["seconds"].sum(), 1), "cpu_seconds": round(wide["cpu_seconds"].sum(), 1)}


def _replace(path: Path, new: pd.DataFrame, key: str, keys) -> pd.DataFrame:
    """``new`` plus the rows of the CSV at ``path`` whose ``key`` is not in ``keys``."""
    if path.exists():
        old = pd.read_csv(path, keep_default_na=False)
        new = pd.concat([old.loc[~old[key].isin(list(keys))], new], ignore_index=True)
    return new


def write_outputs(rows: list[dict], longs: list[pd.DataFrame], details: list[pd.DataFrame]) -> None:
    names = [r["row"] for r in rows]
    if details:
        det = pd.concat(details, ignore_index=True)
        write_csv(_replace(NOISE_DETAIL, det, "size", det["size"].unique())[NOISE_COLS], NOISE_DETAIL)
    if longs:
        seeds = _replace(SEEDS_CSV, pd.concat(longs, ignore_index=True), "row", names)
        write_csv(seeds.sort_values(["row", "seed", "key"], kind="stable"), SEEDS_CSV)
    path = HERE / "drivers_honesty.csv"
    table = _replace(path, pd.DataFrame(rows, columns=["row"] if not rows else None), "row", names)
    table = table.set_index("row").loc[[r for r in JOBS if r in set(table["row"])]].reset_index()
    write_csv(table, path)
    lines = ["| scenario | pass criterion | measured | pass | naive method | naive fails | seeds |", "|---" * 7 + "|"]
    for r in table.to_dict("records"):
        nf = {"True": "yes", "False": "NO"}.get(str(r["naive_fails"]), "")
        ok = "yes" if str(r["passed"]) == "True" else "NO"
        naive_text = "" if pd.isna(r["naive"]) else r["naive"]
        rerun = str(r.get("seeds", "")) not in ("", "nan")  # rows without a seed range predate the chunked runs
        seeds = f"{int(r['n_seeds'])}" + (f" ({r['seeds']})" if rerun else " (earlier code, not rerun in round 6)")
        lines.append(f"| {r['scenario']} | {r['criterion']} | {r['measured']} | {ok} | {naive_text} | {nf} | {seeds} |")
    (HERE / "drivers_honesty.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _chunks(name: str, folder: Path) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """A row's per-seed figures and noise details from the chunks in ``folder`` (a seed in two chunks is an error)."""
    files = sorted(folder.glob(f"{name}__*.csv"))
    if not files:
        raise SystemExit(f"{name}: no chunks in {folder}")
    long = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    dup = long.duplicated(["seed", "key"])
    if dup.any():
        raise SystemExit(f"{name}: seeds in more than one chunk: {sorted(long.loc[dup, 'seed'].unique())}")
    dets = [pd.read_csv(f, keep_default_na=False) for f in sorted(folder.glob(f"{name}_detail__*.csv"))]
    return long, dets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--noise-seeds", type=int, default=200)
    ap.add_argument("--first-seed", type=int, default=1000)
    ap.add_argument("--rows", default=",".join(JOBS), help="comma-separated rows to (re)run; the others are kept")
    ap.add_argument("--raw", type=Path, help="write each row's per-seed figures to this folder (a chunk), no table")
    ap.add_argument("--combine", type=Path, help="build the rows from the chunks in this folder (no fits)")
    args = ap.parse_args()
    rows, longs, details = [], [], []
    for name in [n for n in args.rows.split(",") if n]:  # --rows "" only rewrites the markdown table
        if args.combine:
            long, dets = _chunks(name, args.combine)
        else:
            n = args.noise_seeds if JOBS[name][2] else args.seeds
            long, dets = run_seeds(name, list(range(args.first_seed, args.first_seed + n)))
            if args.raw:
                args.raw.mkdir(parents=True, exist_ok=True)
                tag = f"{args.first_seed}-{args.first_seed + n - 1}"
                long.to_csv(args.raw / f"{name}__{tag}.csv", index=False)
                if dets:
                    pd.concat(dets, ignore_index=True).to_csv(args.raw / f"{name}_detail__{tag}.csv", index=False)
                continue
        rows.append(summarise(name, long))
        longs.append(long)
        details += dets
        print(rows[-1], flush=True)
    if not args.raw:
        write_outputs(rows, longs, details)


if __name__ == "__main__":
    main()
