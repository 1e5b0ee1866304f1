"""Reference study: choosing the lag length without deal links, and what it does to the summed effect.

Two worlds, 24 seeds each, fitted on the panel only (no activity log, no links), diagnostics off (they do
not touch the lag length or the effects):

* ``independent``: tests/independent_sim.py, scenario ``baseline`` (50 reps x 104 weeks), seeds 2000-2023
  (disjoint from seeds 1000-1023, on which the tail test's level was chosen).  Meetings source deals with
  creation delays spread over weeks 0-4 plus up to six days (30/30/20/12/8%), so their effect on deals
  created reaches lag 5; calls and emails act within about two weeks; LinkedIn has no effect.
* ``house``: ``salesgoals.simulate.make_crm_data`` (40 reps x 104 weeks), seeds 2000-2023; effects within
  about three weeks.

Lag rules compared (``lag_criterion``):

* ``aic`` with the 3-week floor (the default);
* ``cv``: blocked cross-validation by reps, the longest lags within one standard error of the best;
* ``tail``: the shortest lags beyond which the summed effect of every activity is indistinguishable from zero
  (rep-clustered F test at 20%, in the model with every lag);
* ``cv_tail``: the longer of the two (CV, with the tail test as a guard against truncation);
* ``fixed8``: every lag 0..8 (no truncation possible; the widest intervals).

Per world, rule and activity (meeting, call): the lag lengths chosen, the relative bias of the summed effect
on deals created (mean over seeds, with its standard error ``bias_se``), its RMSE, the share of seeds more than
10% below the truth (``share_10pct_low``: truncation), 95% interval coverage and mean width relative to the
truth, and how often the fit warns that the data cannot settle the lag length.

Run (about 2 minutes of CPU)::

    python tests/reference/drivers_lag_study.py            # writes drivers_lag.csv and drivers_lag_seeds.csv
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

RULES = {"aic": {"lag_criterion": "aic"}, "cv": {"lag_criterion": "cv"}, "tail": {"lag_criterion": "tail"},
         "cv_tail": {"lag_criterion": "cv_tail"}, "fixed3": {"lags": 3}, "fixed5": {"lags": 5},
         "fixed8": {"lags": 8}}  # fmt: skip
FIRST_SEED = 2000
#: Last lag with an effect in each world: a tail the test detects beyond it is a false detection.
TRUE_LAST = {"independent": 5, "house": 3, "house_nofollow": 3}
ACTIVITIES = ("meeting", "call")


def world(name: str, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """The panel and the true effects on deals created of one seed of one world."""
    if name == "independent":
        sim = make_events("baseline", seed=seed, links=False)
        return sim.panel(), sim.truth["deals_created"]
    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed,
                                    followup_emails=0.0 if name == "house_nofollow" else 1.5)
    return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W"), sim.truth["deals_created"]


def one_seed(name: str, seed: int) -> list[dict]:
    panel, truth = world(name, seed)
    rows = []
    for rule, kw in RULES.items():
        with warnings.catch_warnings(record=True):  # recorded, not shown: the fit's own list is read below
            warnings.filterwarnings("always", category=UnreliableEstimateWarning)
            res = sg.fit_drivers(panel, outcome="deals_created", diagnostics=False, n_boot=0, max_lag=8, **kw)
        unsettled = any("cannot settle how long effects last" in m for m in res.diagnostics.warnings)
        table = res.diagnostics.lag_selection
        beyond = table.loc[table["n_lags"] >= TRUE_LAST[name], "tail_detected"] if len(table) else pd.Series([False])
        tail_detected = bool(beyond.any())
        eff = res.effects.set_index("activity")
        for act in ACTIVITIES:
            e = eff.loc[act]
            rows.append({"world": name, "seed": seed, "rule": rule, "activity": act, "n_lags": int(e["n_lags"]),
                         "effect": float(e["effect"]), "truth": float(truth[act]), "ci_low": float(e["ci_low"]),
                         "ci_high": float(e["ci_high"]), "unsettled_warning": unsettled,
                         "false_tail": tail_detected})  # fmt: skip
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
            "mean_rel_width": g["width"].mean(), "unsettled_warning_rate": g["unsettled_warning"].mean(),
            "tail_beyond_truth_rate": g["false_tail"].mean(),
        })  # fmt: skip
    return pd.DataFrame(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--first-seed", type=int, default=FIRST_SEED)
    parser.add_argument("--worlds", default="independent,house,house_nofollow",
                        help="comma-separated: independent, house, house_nofollow")
    parser.add_argument("--out", default=str(HERE / "drivers_lag.csv"))
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    raw = pd.DataFrame([r for w in args.worlds.split(",") for s in seeds for r in one_seed(w, s)])
    table = summarise(raw)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    if args.seeds >= 20:
        sg.io.write_csv(table.round(4), args.out)
        sg.io.write_csv(raw.round(6), Path(args.out).with_name("drivers_lag_seeds.csv"))


if __name__ == "__main__":
    main()
