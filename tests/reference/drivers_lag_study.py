"""Reference study: choosing the lag length, and what it does to the summed effect.

Worlds, 24 seeds each, diagnostics off (they do not touch the lag length or the effects):

* ``independent``: tests/independent_sim.py, scenario ``baseline`` (50 reps x 104 weeks), fitted on the panel only
  (no links).  Meetings source deals with creation delays spread over weeks 0-4 plus up to six days
  (30/30/20/12/8%), so their effect on deals created reaches lag 5; calls and emails act within about two weeks;
  LinkedIn has no effect.
* ``independent_links``: the same world with deal links, fitted with the activity log and deals (the default
  then reads the lag length from the observed creation delays).
* ``house``: ``salesgoals.simulate.make_crm_data`` (40 reps x 104 weeks), panel only; effects within about three
  weeks; ``house_nofollow``: the same without its follow-up emails.

Lag rules compared (``lag_criterion``; every rule on the same fits):

* ``auto``: the default (round 5): deal links -> the creation delays; else ``cv_time_tail``: the longest of forward
  cross-validation (one-s.e.), the tail test at 20% and the tail bound (lags kept until the leading activity's
  omitted tail is shown <= 50% of its summed effect), candidates capped where the model with every lag would have as
  many slopes as reps;
* ``aic`` with the 3-week floor (the default until round 5);
* ``cv``: blocked cross-validation by reps, the longest lags within one standard error of the best;
* ``cv_time``: forward cross-validation (later blocks of periods predicted from earlier ones), the same one-s.e. rule;
* ``cv_tail``: the longer of ``cv`` and the tail test (rep-clustered F test at 20%, in the model with every lag);
* ``fixed3``/``fixed5``/``fixed8``: every lag 0..3 / 0..5 / 0..8.

Per world, rule and activity (meeting, call): the lag lengths chosen, the relative bias of the summed effect
on deals created (mean over seeds, with its standard error ``bias_se``), its RMSE, the share of seeds more than
10% below the truth (``share_10pct_low``: truncation), 95% interval coverage and mean width relative to the
truth, how often the effect is named a driver (``driver_rate``), and how often the fit warns that the data cannot
settle the lag length.

Run in chunks (about 1 minute of CPU per world and 12 seeds)::

    python tests/reference/drivers_lag_study.py --worlds house --first-seed 2000 --seeds 12 --raw /tmp/a.csv
    python tests/reference/drivers_lag_study.py --combine /tmp/a.csv /tmp/b.csv ...   # writes drivers_lag.csv
    python tests/reference/drivers_lag_study.py --seeds 4  # a quick look, nothing written
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import salesgoals as sg  # noqa: E402
from independent_sim import make_events  # noqa: E402
from salesgoals.errors import UnreliableEstimateWarning  # noqa: E402

RULES = {"auto": {}, "aic": {"lag_criterion": "aic"}, "cv": {"lag_criterion": "cv"},
         "cv_time": {"lag_criterion": "cv_time"}, "cv_tail": {"lag_criterion": "cv_tail"}, "fixed3": {"lags": 3},
         "fixed5": {"lags": 5}, "fixed8": {"lags": 8}}  # fmt: skip
FIRST_SEED = 2000
#: Last lag with an effect in each world: a tail the test detects beyond it is a false detection.
TRUE_LAST = {"independent": 5, "independent_links": 5, "house": 3, "house_nofollow": 3}
ACTIVITIES = ("meeting", "call")


def world(name: str, seed: int) -> tuple[pd.DataFrame, pd.Series, dict]:
    """The panel, the true effects on deals created and the log to fit with (if any) of one seed of one world."""
    if name.startswith("independent"):
        links = name == "independent_links"
        sim = make_events("baseline", seed=seed, links=links)
        log = {"activity_log": sim.activities, "deals": sim.deals} if links else {}
        return sim.panel(), sim.truth["deals_created"], log
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed,
                                    followup_emails=0.0 if name == "house_nofollow" else 1.5)
    return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W"), sim.truth["deals_created"], {}


def one_seed(name: str, seed: int) -> list[dict]:
    panel, truth, log = world(name, seed)
    rows = []
    for rule, kw in RULES.items():
        with warnings.catch_warnings(record=True):  # recorded, not shown: the fit's own list is read below
            warnings.filterwarnings("always", category=UnreliableEstimateWarning)
            res = sg.fit_drivers(panel, outcome="deals_created", diagnostics=False, n_boot=0, max_lag=8, **log, **kw)
        unsettled = any("cannot settle how long effects last" in m for m in res.diagnostics.warnings)
        table = res.diagnostics.lag_selection
        beyond = table.loc[table["n_lags"] >= TRUE_LAST[name], "tail_detected"] if len(table) else pd.Series([False])
        tail_detected = bool(beyond.fillna(False).astype(bool).any())
        eff = res.effects.set_index("activity")
        for act in ACTIVITIES:
            e = eff.loc[act]
            rows.append({"world": name, "seed": seed, "rule": rule, "activity": act, "n_lags": int(e["n_lags"]),
                         "effect": float(e["effect"]), "truth": float(truth[act]), "ci_low": float(e["ci_low"]),
                         "ci_high": float(e["ci_high"]), "is_driver": bool(e["is_driver"]),
                         "unsettled_warning": unsettled, "false_tail": tail_detected})  # fmt: skip
    return rows


def summarise(raw: pd.DataFrame) -> pd.DataFrame:
    raw = raw.assign(rel_error=(raw["effect"] - raw["truth"]) / raw["truth"],
                     covered=(raw["ci_low"] <= raw["truth"]) & (raw["truth"] <= raw["ci_high"]),
                     width=(raw["ci_high"] - raw["ci_low"]) / raw["truth"])  # fmt: skip
    out = []
    for (w, rule, act), g in raw.groupby(["world", "rule", "activity"], sort=False):
        lags = g["n_lags"].value_counts().sort_index()
        out.append({
            "world": w, "rule": rule, "activity": act, "n_seeds": len(g),
            "lags_chosen": " ".join(f"{k}:{v}" for k, v in lags.items()), "mean_lags": g["n_lags"].mean(),
            "mean_rel_bias": g["rel_error"].mean(), "bias_se": g["rel_error"].std(ddof=1) / np.sqrt(len(g)),
            "rel_rmse": float(np.sqrt((g["rel_error"] ** 2).mean())),
            "share_10pct_low": (g["rel_error"] < -0.10).mean(), "coverage": g["covered"].mean(),
            "mean_rel_width": g["width"].mean(), "driver_rate": g["is_driver"].mean(),
            "unsettled_warning_rate": g["unsettled_warning"].mean(),
            "tail_beyond_truth_rate": g["false_tail"].mean(),
        })  # fmt: skip
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--first-seed", type=int, default=FIRST_SEED)
    parser.add_argument("--worlds", default="independent,independent_links,house,house_nofollow",
                        help="comma-separated: independent, independent_links, house, house_nofollow")
    parser.add_argument("--out", default=str(HERE / "drivers_lag.csv"))
    parser.add_argument("--raw", help="write this chunk's per-seed rows here (nothing else written)")
    parser.add_argument("--combine", nargs="+", help="per-seed chunks to summarise into --out")
    args = parser.parse_args()
    if args.combine:
        raw = pd.concat([pd.read_csv(f) for f in args.combine], ignore_index=True)
        raw = raw.sort_values(["world", "seed", "rule", "activity"], kind="mergesort").reset_index(drop=True)
    else:
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        raw = pd.DataFrame([r for w in args.worlds.split(",") for s in seeds for r in one_seed(w, s)])
        if args.raw:
            raw.to_csv(args.raw, index=False)
            return
    raw["seed_range"] = np.where(raw["seed"] >= 2000, "2000-", "1000-")
    table = pd.concat([summarise(g).assign(seeds=k) for k, g in raw.groupby("seed_range", sort=True)],
                      ignore_index=True)  # fmt: skip
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    if args.combine or args.seeds >= 20:
        sg.io.write_csv(table.round(4), args.out)
        sg.io.write_csv(raw.drop(columns="seed_range").round(6), Path(args.out).with_name("drivers_lag_seeds.csv"))


if __name__ == "__main__":
    main()
