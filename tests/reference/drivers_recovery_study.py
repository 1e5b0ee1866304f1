"""Recovery study of the driver model on the simulator: error and interval coverage over seeds.

Writes ``drivers_recovery.csv`` (one row per seed x outcome x activity) and
prints the summary quoted in ``tests/test_drivers_recovery.py`` and the README.
The tests do not read the CSV (they recompute a smaller version); it is the
record of what was measured and how.

Run::

    python tests/reference/drivers_recovery_study.py            # 8 seeds, ~1-2 minutes
    python tests/reference/drivers_recovery_study.py --seeds 3  # quicker
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import salesgoals as sg
from _expected import expected_warnings

HERE = Path(__file__).resolve().parent
OUTCOMES = ("deals_created", "deals_won", "won_revenue")
VARIANTS = {
    "default": {},
    "no_season_scaling": {"season_scaling": False},
    "no_quality_terms": {"quality": False},
    "direct": {"method": "direct"},
}


def run(seeds: list[int], n_reps: int = 40, n_weeks: int = 104) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        sim = sg.simulate.make_crm_data(n_reps=n_reps, n_weeks=n_weeks, seed=seed)
        panel = sim.panel()
        for variant, kw in VARIANTS.items():
            for outcome in OUTCOMES:
                if variant == "direct" and outcome == "deals_created":
                    continue
                with expected_warnings("fit_drivers"):  # the model's verdict notes, kept in its effects table
                    res = sg.fit_drivers(panel, outcome=outcome, diagnostics=False, n_boot=0, **kw)
                eff = res.effects.set_index("activity")
                for act, row in eff.iterrows():
                    truth = float(sim.truth.loc[act, outcome])
                    rows.append({
                        "seed": seed, "variant": variant, "outcome": outcome, "activity": act, "truth": truth,
                        "effect": row["effect"], "std_error": row["std_error"], "ci_low": row["ci_low"],
                        "ci_high": row["ci_high"], "n_lags": int(row["n_lags"]),
                    })  # fmt: skip
    out = pd.DataFrame(rows)
    out["covered"] = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
    out["rel_error"] = np.where(out["truth"] > 0, out["effect"] / out["truth"].where(out["truth"] > 0, 1) - 1, np.nan)
    return out


def summarise(res: pd.DataFrame) -> pd.DataFrame:
    g = res.groupby(["variant", "outcome", "activity"], sort=False)
    return g.agg(
        truth=("truth", "mean"),
        mean_effect=("effect", "mean"),
        bias=("rel_error", "mean"),
        mean_abs_rel_error=("rel_error", lambda s: s.abs().mean()),
        mean_std_error=("std_error", "mean"),
        sd_effect=("effect", "std"),
        coverage=("covered", "mean"),
    ).reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    res = run(list(range(100, 100 + args.seeds)))
    res.to_csv(HERE / "drivers_recovery.csv", index=False, float_format="%.6g")
    table = summarise(res)
    with pd.option_context("display.width", 160, "display.max_rows", 100, "display.precision", 4):
        print(table.to_string(index=False))
        cov = res.groupby("variant")["covered"].mean()
        print("\ncoverage of nominal 95% intervals by variant:\n" + cov.round(3).to_string())


if __name__ == "__main__":
    main()
