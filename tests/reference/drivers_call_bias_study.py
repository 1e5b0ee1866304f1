"""Is the call effect biased on the project simulator, and by which ingredient? (issue 12, round 5)

Round 4's lag study (``drivers_lag_study.py``, seeds 2000-2023, 40 reps x 104
weeks, panel only) found the summed call effect on deals created +10.9 % with
the simulator's follow-up emails and -13.8 % without them at the true lag
length (0..3), with the same sign under every lag rule.  This study repeats the
fixed-lag fit (``lags=3``, the truth; ``diagnostics=False, n_boot=0``) on more
seeds and switches one thing off at a time:

Worlds (``salesgoals.simulate.make_crm_data(n_reps=40, n_weeks=104)``, weekly panel):

* ``default``       : the simulator as shipped (1.5 follow-up emails per deal, the week after);
* ``nofu``          : ``followup_emails=0`` (no reverse causality);
* ``nofu_noskill``  : and ``skill_on_base=0`` (no skill confounding of the base rate);
* ``nofu_noseas``   : and ``season_amplitude=0`` (no annual cycle; holidays stay);
* ``nofu_nojoin``   : and ``frac_join=frac_leave=0`` (every rep present throughout).

Fit variants: ``default``; ``noquality`` (``quality=False``: one slope per
logged call, no connect-rate term); ``noseason`` (``season_scaling=False``).

Writes ``drivers_call_bias.csv`` (world x variant x activity x seed range: mean
relative bias, its standard error over seeds, s.d., n) next to this file.  About
0.25 s of CPU per fit (three fits per world and seed); run in chunks under the
heavy lock::

    flock /work/wt/heavy.lock nice -n 10 python tests/reference/drivers_call_bias_study.py --seeds 0-49 \
        --worlds default,nofu,nofu_noskill,nofu_noseas,nofu_nojoin --raw /tmp/cb_a.csv
    python tests/reference/drivers_call_bias_study.py --combine /tmp/cb_a.csv ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _expected import expected_warnings  # noqa: E402

import salesgoals as sg  # noqa: E402
from salesgoals.io import write_csv  # noqa: E402

WORLDS = {
    "default": {},
    "nofu": {"followup_emails": 0.0},
    "nofu_noskill": {"followup_emails": 0.0, "skill_on_base": 0.0},
    "nofu_noseas": {"followup_emails": 0.0, "season_amplitude": 0.0},
    "nofu_nojoin": {"followup_emails": 0.0, "frac_join": 0.0, "frac_leave": 0.0},
}
VARIANTS = {"default": {}, "noquality": {"quality": False}, "noseason": {"season_scaling": False}}


def run(seeds: list[int], worlds: list[str]) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        for name in worlds:
            sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed, **WORLDS[name])
            panel = sim.panel()
            for variant, kw in VARIANTS.items():
                with expected_warnings("fit_drivers"):  # the model's verdict notes, kept in its effects table
                    res = sg.fit_drivers(panel, diagnostics=False, n_boot=0, lags=3, **kw)
                eff = res.effects.set_index("activity")
                for act in eff.index:
                    rows.append({"seed": seed, "world": name, "variant": variant, "activity": act,
                                 "truth": float(sim.truth.loc[act, "deals_created"]),
                                 "effect": float(eff.loc[act, "effect"]),
                                 "std_error": float(eff.loc[act, "std_error"])})  # fmt: skip
        print(f"seed {seed} done", flush=True)
    return pd.DataFrame(rows)


def seed_range(seed: int) -> str:
    return "2000-2023 (round 4's lag study)" if seed >= 2000 else "0-149"


def summarise(d: pd.DataFrame) -> pd.DataFrame:
    """Mean relative bias (effect / truth - 1) with its standard error over seeds; linkedin (truth 0) left out."""
    d = d.loc[d["truth"] > 0].assign(rel=lambda x: x["effect"] / x["truth"] - 1, seeds=d["seed"].map(seed_range))
    g = d.groupby(["world", "variant", "activity", "seeds"], sort=True)["rel"]
    out = g.agg(n="size", mean_rel_bias="mean", sd="std").reset_index()
    out["bias_se"] = out["sd"] / out["n"] ** 0.5
    return out.round(4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-49", help="A-B, inclusive")
    ap.add_argument("--worlds", default=",".join(WORLDS))
    ap.add_argument("--raw", help="write the per-fit rows here")
    ap.add_argument("--combine", nargs="+", help="raw files to combine into drivers_call_bias.csv")
    args = ap.parse_args()
    if args.combine:
        d = pd.concat([pd.read_csv(f) for f in args.combine], ignore_index=True)
        table = summarise(d)
        write_csv(table, HERE / "drivers_call_bias.csv")
        with pd.option_context("display.width", 200, "display.max_rows", 200):
            print(table.to_string(index=False))
        return
    a, b = map(int, args.seeds.split("-"))
    d = run(list(range(a, b + 1)), args.worlds.split(","))
    if args.raw:
        write_csv(d, args.raw)
    print(summarise(d).to_string(index=False))


if __name__ == "__main__":
    main()
