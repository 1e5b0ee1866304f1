"""Scenario study: the driver model on the independent event-level simulator (tests/independent_sim.py).

One row per scenario: what must hold (the pass criterion), what the model
measured, and what a naive method measured.  The naive method is pooled OLS of
deals created on the activity counts summed over lags 0..3, without rep or
period effects, with rep-clustered standard errors and no multiplicity control
(what a spreadsheet regression does); it must fail the rows it should fail.

Seeds 1000+ (the fast tests in tests/test_drivers_honesty.py use seeds 1-16,
a disjoint range).  Writes ``drivers_honesty.csv`` and the markdown table
``drivers_honesty.md`` next to this file.

Run::

    python tests/reference/drivers_honesty_study.py                 # 100 noise seeds, 20 per other row
    python tests/reference/drivers_honesty_study.py --seeds 5 --noise-seeds 20   # quicker
    python tests/reference/drivers_honesty_study.py --rows noise_8x40 --noise-seeds 40   # one row, others kept
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _expected import expected_warnings  # noqa: E402
from independent_sim import make_events  # noqa: E402

import salesgoals as sg  # noqa: E402
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


# ------------------------------------------------------------------ rows
def row_baseline(seeds):
    err, cov, nerr = [], [], []
    for s in seeds:
        sim = make_events("baseline", seed=s)
        e = fit(sim, log=True, n_boot=0).effects.set_index("activity")
        t = sim.truth["deals_created"]
        err.append(e.loc["meeting", "effect"] / t["meeting"] - 1)
        cov += [covers(e.loc[a], t[a]) for a in ("meeting", "call", "linkedin")]
        nerr.append(naive(sim).loc["linkedin", "p_value"] < 0.05)
    return dict(scenario="baseline recovery (links + log)", criterion="abs(mean rel. error meeting) < 15%; coverage 0.85-0.99",
                measured=f"meeting error {np.mean(err):+.1%}; coverage {np.mean(cov):.2f}",
                passed=abs(np.mean(err)) < 0.15 and 0.85 <= np.mean(cov) <= 0.99,
                naive=f"zero-effect linkedin significant in {np.mean(nerr):.0%} of seeds",
                naive_fails=np.mean(nerr) > 0.1, n_seeds=len(seeds))  # fmt: skip


def row_same_week(seeds, links: bool):
    named, flagged, err, nsig = [], [], [], []
    for s in seeds:
        sim = make_events("same_week", seed=s, links=links)
        e = fit(sim, log=links, n_boot=0).effects.set_index("activity")
        prop = e.loc["proposal"] if "proposal" in e.index else None
        named.append(bool(prop is not None and prop["is_driver"] and prop["flags"] == ""))
        flagged.append(bool(prop is None or prop["flags"] != ""))
        err.append(e.loc["meeting", "effect"] / sim.truth.loc["meeting", "deals_created"] - 1)
        nsig.append(naive(sim).loc["proposal", "p_value"] < 0.05)
    label = "with links + log" if links else "without links or log"
    crit = "proposal never a driver" + ("; meeting abs(error) < 20%" if links else "; flagged in >= 95%")
    ok = not any(named) and (abs(np.mean(err)) < 0.2 if links else np.mean(flagged) >= 0.95)
    return dict(scenario=f"same-week reverse causality, {label}", criterion=crit,
                measured=f"proposal named {np.mean(named):.0%}, flagged/removed {np.mean(flagged):.0%}; meeting error "
                         f"{np.mean(err):+.1%}",
                passed=ok, naive=f"proposal significant in {np.mean(nsig):.0%}", naive_fails=np.mean(nsig) > 0.5,
                n_seeds=len(seeds))  # fmt: skip


def row_next_week(seeds):
    named, follows, nsig = [], [], []
    for s in seeds:
        sim = make_events("next_week", seed=s, links=False)
        e = fit(sim, log=False, n_boot=0).effects.set_index("activity")
        named.append(bool(e.loc["proposal", "is_driver"] and e.loc["proposal", "flags"] == ""))
        follows.append("follows_results" in e.loc["proposal", "flags"])
        nsig.append(naive(sim).loc["proposal", "p_value"] < 0.05)
    return dict(scenario="next-week reverse causality (no log)", criterion="proposal never a driver; follows_results >= 95%",
                measured=f"named {np.mean(named):.0%}; follows_results {np.mean(follows):.0%}",
                passed=not any(named) and np.mean(follows) >= 0.95,
                naive=f"proposal significant in {np.mean(nsig):.0%}", naive_fails=np.mean(nsig) > 0.5,
                n_seeds=len(seeds))  # fmt: skip


NOISE_DETAIL = HERE / "drivers_honesty_noise.csv"


def row_noise(seeds, n_reps, n_periods):
    any_driver, naive_any, detail = [], [], []
    for s in seeds:
        sim = make_events("noise", seed=s, n_reps=n_reps, n_periods=n_periods)
        e = fit(sim, log=False).effects  # the default call (diagnostics, bootstrap below 30 reps)
        any_driver.append(bool((e["is_driver"] & (e["flags"] == "")).any()))
        naive_any.append(bool((e["p_value"] < 0.05).any()))
        detail.append(e[["activity", "effect", "std_error", "p_value", "p_value_adj", "is_driver", "flags"]].assign(
            size=f"{n_reps}x{n_periods}", seed=s))
    _store_noise_detail(pd.concat(detail, ignore_index=True))
    rate = np.mean(any_driver)
    se = np.sqrt(max(rate * (1 - rate), 0.05 * 0.95) / len(seeds))
    return dict(scenario=f"pure noise {n_reps} x {n_periods}", criterion="share of fits naming any driver <= 6%",
                measured=f"{rate:.1%} (+/- {1.96 * se:.1%})", passed=rate <= 0.06,
                naive=f"raw p < 0.05 on any activity: {np.mean(naive_any):.0%}", naive_fails=np.mean(naive_any) > 0.06,
                n_seeds=len(seeds))  # fmt: skip


def _store_noise_detail(new: pd.DataFrame) -> None:
    """Per seed and activity p-values of a noise row (calibration: raw p should be uniform), other sizes kept."""
    if NOISE_DETAIL.exists():
        old = pd.read_csv(NOISE_DETAIL, keep_default_na=False)
        new = pd.concat([old.loc[~old["size"].isin(new["size"])], new], ignore_index=True)
    cols = ["size", "seed", "activity", "effect", "std_error", "p_value", "p_value_adj", "is_driver", "flags"]
    write_csv(new[cols], NOISE_DETAIL)


def row_two_groups(seeds):
    cov, team_cov = [], []
    for s in seeds:
        sim = make_events("two_groups", seed=s)
        res = fit(sim, log=False, n_boot=0, diagnostics=False)
        re = res.rep_effects.merge(sim.rep_truth[["rep", "activity", "deals_created"]], on=["rep", "activity"])
        m = re.loc[re["activity"] == "meeting"]
        cov.append(((m["ci_low"] <= m["deals_created"]) & (m["deals_created"] <= m["ci_high"])).mean())
        e = res.effects.set_index("activity").loc["meeting"]
        team_cov.append(((e["ci_low"] <= m["deals_created"]) & (m["deals_created"] <= e["ci_high"])).mean())
    return dict(scenario="two-group heterogeneity (meeting x0.5 / x1.5)", criterion="per-rep 95% coverage 0.90-0.995",
                measured=f"coverage {np.mean(cov):.3f}", passed=0.90 <= np.mean(cov) <= 0.995,
                naive=f"team interval for every rep covers {np.mean(team_cov):.2f}", naive_fails=np.mean(team_cov) < 0.9,
                n_seeds=len(seeds))  # fmt: skip


def row_heterogeneity_test(seeds):
    """Power in the two-group world (teams 0/2 hold the x0.5 reps, 1/3 the x1.5 reps), size in the homogeneous
    baseline (any activity): the decision ``reps_differ`` (rep-level Q with a wild-bootstrap null, or the
    between-team F test, each at 2.5 %), each part alone, and the naive Cochran's Q against chi-square(G - 1);
    all Holm-adjusted across activities."""
    out = {k: [] for k in ("pow", "size", "r_pow", "r_raw", "r_size", "r_size_raw", "t_pow", "t_size", "q_pow",
                           "q_size", "q_size_raw", "scale")}  # fmt: skip
    for s in seeds:
        for scen in ("two_groups", "baseline"):
            het = fit(make_events(scen, seed=s), log=False, n_boot=0, diagnostics=False).diagnostics.heterogeneity
            meeting = (het["activity"] == "meeting").to_numpy()
            m = het.loc[meeting].iloc[0]
            rep_alone = holm(het["p_value"].to_numpy()) < 0.05
            team_alone = holm(het["team_p_value"].to_numpy()) < 0.05
            naive = holm(het["cochran_p_value"].to_numpy()) < 0.05
            if scen == "two_groups":
                out["pow"].append(bool(m["reps_differ"]))
                out["r_pow"].append(bool(rep_alone[meeting][0]))
                out["r_raw"].append(bool(m["p_value"] < 0.05))
                out["t_pow"].append(bool(team_alone[meeting][0]))
                out["q_pow"].append(bool(naive[meeting][0]))
            else:
                out["size"].append(bool(het["reps_differ"].any()))
                out["r_size"].append(bool(rep_alone.any()))
                out["r_size_raw"].append(bool(m["p_value"] < 0.05))
                out["t_size"].append(bool(team_alone.any()))
                out["q_size"].append(bool(naive.any()))
                out["q_size_raw"].append(bool(m["cochran_p_value"] < 0.05))
                out["scale"] += het["q_null_scale"].dropna().tolist()
    r = {k: np.mean(v) for k, v in out.items()}
    bar = 0.06 + 1.645 * np.sqrt(0.06 * 0.94 / len(seeds))  # not above 6 % beyond one-sided 95 % seed noise
    return dict(scenario="heterogeneity tests: power two groups (meeting), size baseline (any activity)",
                criterion="reps_differ (rep-level Q with a wild-bootstrap null, or between-team F; each at 2.5 %): "
                          "size <= 6% (+ 1.645 binomial s.e. of seed noise); power reported",
                measured=f"reps_differ: size {r['size']:.0%}, power {r['pow']:.0%}; rep-level test alone at 5 %: "
                         f"size {r['r_size']:.0%} (meeting raw {r['r_size_raw']:.0%}), power {r['r_pow']:.0%} (raw "
                         f"{r['r_raw']:.0%}), bootstrap null mean / df {r['scale']:.2f}; between-team F alone at 5 %: "
                         f"size {r['t_size']:.0%}, power {r['t_pow']:.0%}",
                passed=r["size"] <= bar,
                naive=f"Cochran's Q vs chi-square: size {r['q_size']:.0%} (meeting raw {r['q_size_raw']:.0%}), "
                      f"power {r['q_pow']:.0%}",
                naive_fails=r["q_size"] > bar, n_seeds=len(seeds))  # fmt: skip


def row_small(seeds):
    cov, false = [], []
    for s in seeds:
        sim = make_events("small_team", seed=s)
        e = fit(sim, log=True).effects.set_index("activity")
        cov.append(covers(e.loc["meeting"], sim.truth.loc["meeting", "deals_created"]))
        false.append(bool(e.loc["linkedin", "is_driver"] and e.loc["linkedin", "flags"] == ""))
    return dict(scenario="small team 8 x 40 (links + log)", criterion="meeting coverage >= 0.90; linkedin never a driver",
                measured=f"coverage {np.mean(cov):.2f}; linkedin named {np.mean(false):.0%}",
                passed=np.mean(cov) >= 0.9 and not any(false), naive="", naive_fails=None, n_seeds=len(seeds))  # fmt: skip


def row_monthly(seeds):
    err, cov = [], []
    for s in seeds:
        sim = make_events("monthly", seed=s)
        e = fit(sim, log=True, n_boot=0).effects.set_index("activity")
        t = sim.truth.loc["meeting", "deals_created"]
        err.append(e.loc["meeting", "effect"] / t - 1)
        cov.append(covers(e.loc["meeting"], t))
    return dict(scenario="monthly grain 40 x 36 (links + log)", criterion="abs(mean rel. error meeting) < 20%; coverage >= 0.85",
                measured=f"error {np.mean(err):+.1%}; coverage {np.mean(cov):.2f}",
                passed=abs(np.mean(err)) < 0.2 and np.mean(cov) >= 0.85, naive="", naive_fails=None,
                n_seeds=len(seeds))  # fmt: skip


def row_revenue(seeds):
    err, cov, nerr = [], [], []
    for s in seeds:
        sim = make_events("baseline", seed=s)
        t = sim.truth.loc["meeting", "won_revenue"]
        e = fit(sim, log=True, outcome="won_revenue", n_boot=0, diagnostics=False).effects.set_index("activity")
        err.append(abs(e.loc["meeting", "effect"] / t - 1))
        cov.append(covers(e.loc["meeting"], t))
        n = fit(sim, log=False, outcome="won_revenue", n_boot=0, diagnostics=False).effects.set_index("activity")
        nerr.append(n.loc["meeting", "effect"] / t - 1)
    return dict(scenario="revenue, inbound deals win more (links + log)",
                criterion="mean abs(rel. error) meeting revenue < 25%; coverage 0.90-0.97 (+/- seed noise)",
                measured=f"mean abs(error) {np.mean(err):.1%}; coverage {np.mean(cov):.2f}",
                passed=np.mean(err) < 0.25 and 0.85 <= np.mean(cov) <= 1.0,
                naive=f"rep-average funnel (no links): error {np.mean(nerr):+.0%}", naive_fails=np.mean(nerr) > 0.25,
                n_seeds=len(seeds))  # fmt: skip


def row_progressing(seeds):
    """Follow-up emails in a deal's first 14 days add 8 points of win probability each; calls and time to close 0."""
    from salesgoals.drivers import progressing_effects

    cov, found, false, pace = [], [], [], []
    for s in seeds:
        sim = make_events("baseline", seed=s, progress_win={"email": 0.08})
        t = progressing_effects(sim.activities, sim.deals).set_index(["outcome", "activity"])
        e = t.loc[("win_rate", "email")]
        cov.append(e["ci_low"] <= 0.08 <= e["ci_high"])
        found.append(bool(e["is_driver"]))
        zero = t.loc["win_rate"].drop(index="email")
        false.append(bool(zero["is_driver"].any() or t.loc["closes_within", "is_driver"].any()))
        cov += [bool(r.ci_low <= 0.0 <= r.ci_high) for r in zero.itertuples()]
        pace.append(float(t.loc[("closes_within", "email"), "effect"] / t.loc[("closes_within", "email"), "std_error"]))
    return dict(scenario="progressing activity on its own deal (links)",
                criterion="win-rate 95% coverage 0.90-0.99 (email +8 pts, call 0); email found >= 90%; zero-effect "
                          "rows named <= 10% of fits; time to close (confounded by pace, truth 0) never a verdict",
                measured=f"coverage {np.mean(cov):.2f}; email found {np.mean(found):.0%}; a zero-effect row named in "
                         f"{np.mean(false):.0%} of fits; closing-soon z of email (not a verdict) {np.mean(pace):.1f}",
                passed=0.90 <= np.mean(cov) <= 0.99 and np.mean(found) >= 0.9 and np.mean(false) <= 0.1, naive="",
                naive_fails=None, n_seeds=len(seeds))  # fmt: skip


JOBS = {
    "baseline": lambda a: row_baseline(a.seeds), "same_week": lambda a: row_same_week(a.seeds, False),
    "same_week_links": lambda a: row_same_week(a.seeds, True), "next_week": lambda a: row_next_week(a.seeds),
    "noise_50x104": lambda a: row_noise(a.noise, 50, 104), "noise_8x40": lambda a: row_noise(a.noise, 8, 40),
    "two_groups": lambda a: row_two_groups(a.seeds), "heterogeneity_test": lambda a: row_heterogeneity_test(a.seeds),
    "small_team": lambda a: row_small(a.seeds),
    "monthly": lambda a: row_monthly(a.seeds), "revenue": lambda a: row_revenue(a.seeds),
    "progressing": lambda a: row_progressing(a.seeds),
}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--noise-seeds", type=int, default=100)
    ap.add_argument("--rows", default=",".join(JOBS), help="comma-separated rows to (re)run; the others are kept")
    args = ap.parse_args()
    args.seeds = list(range(1000, 1000 + args.seeds))
    args.noise = list(range(1000, 1000 + args.noise_seeds))
    rows = []
    for name in filter(None, args.rows.split(",")):  # --rows "" only rewrites the markdown table
        t0 = time.perf_counter()
        rows.append({"row": name, **JOBS[name](args)})
        rows[-1]["seconds"] = round(time.perf_counter() - t0, 1)
        print(rows[-1], flush=True)
    path = HERE / "drivers_honesty.csv"
    table = pd.DataFrame(rows, columns=["row"] if not rows else None)
    if path.exists():  # keep the rows not rerun, in the table's order
        old = pd.read_csv(path)
        table = pd.concat([old.loc[~old["row"].isin(table["row"])], table], ignore_index=True)
    table = table.set_index("row").loc[[r for r in JOBS if r in set(table["row"])]].reset_index()
    write_csv(table, path)
    lines = ["| scenario | pass criterion | measured | pass | naive method | naive fails | seeds |", "|---" * 7 + "|"]
    for r in table.to_dict("records"):
        nf = "" if pd.isna(r["naive_fails"]) else ("yes" if str(r["naive_fails"]) == "True" else "NO")
        ok = "yes" if str(r["passed"]) == "True" else "NO"
        naive_text = "" if pd.isna(r["naive"]) else r["naive"]
        lines.append(f"| {r['scenario']} | {r['criterion']} | {r['measured']} | {ok} | {naive_text} | {nf} | "
                     f"{int(r['n_seeds'])} |")
    (HERE / "drivers_honesty.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
