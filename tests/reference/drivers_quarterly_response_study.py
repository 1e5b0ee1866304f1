"""Quarterly grain: the response subtraction against the linked fit and a naive one (issue 12, round 5).

World: ``salesgoals.simulate`` 40 reps x 208 weeks (16 quarters), quarterly
panel; the follow-up emails (1.5 per deal, the week after) are the responder.
Three default fits (``diagnostics=False, n_boot=0``) per seed on the same data:

* ``subtract``: the log without its deal links (timestamps only): email is found to respond and its estimated
  response is subtracted from the quarterly counts;
* ``naive``: the panel only (the follow-ups stay in the counts, nothing flagged);
* ``links``: the log with the links (the follow-ups are progressing activity, taken out exactly): the reference.

Writes ``drivers_quarterly_response.csv`` (per fit x activity: relative bias and
mean z against the truth, flag rate; and per activity the gap of ``subtract``
and ``naive`` to ``links`` in the linked fit's standard errors: mean, s.d.,
min, max) next to this file.  About 2 s of CPU per seed::

    flock /work/wt/heavy.lock nice -n 10 python tests/reference/drivers_quarterly_response_study.py --seeds 0-39 \
        --raw /tmp/q.csv
    python tests/reference/drivers_quarterly_response_study.py --combine /tmp/q.csv
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


def run(seeds: list[int]) -> pd.DataFrame:
    rows = []
    for seed in seeds:
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=208, seed=seed)
        panel = sim.panel(freq="Q")
        fits = {"subtract": {"activity_log": sim.activities.assign(deal_id=None), "deals": sim.deals}, "naive": {},
                "links": {"activity_log": sim.activities, "deals": sim.deals}}  # fmt: skip
        for name, kw in fits.items():
            with expected_warnings("fit_drivers"):  # the model's verdict notes, kept in its effects table
                res = sg.fit_drivers(panel, diagnostics=False, n_boot=0, **kw)
            eff = res.effects.set_index("activity")
            subtracted = any("subtracted" in n for n in res.diagnostics.notes)
            for act in eff.index:
                rows.append({"seed": seed, "fit": name, "activity": act,
                             "truth": float(sim.truth.loc[act, "deals_created"]), "effect": float(eff.loc[act, "effect"]),
                             "se": float(eff.loc[act, "std_error"]), "flags": eff.loc[act, "flags"],
                             "n_lags": int(eff.loc[act, "n_lags"]), "adjusted": subtracted})  # fmt: skip
        print(f"seed {seed} done", flush=True)
    return pd.DataFrame(rows)


def summarise(d: pd.DataFrame) -> pd.DataFrame:
    d = d.assign(z=(d["effect"] - d["truth"]) / d["se"], flagged=d["flags"].fillna("") != "")
    vs_truth = d.groupby(["fit", "activity"]).agg(n=("seed", "size"), mean_effect=("effect", "mean"),
                                                  truth=("truth", "mean"), mean_z=("z", "mean"), sd_z=("z", "std"),
                                                  flag_rate=("flagged", "mean")).reset_index()  # fmt: skip
    vs_truth["rel_bias"] = vs_truth["mean_effect"] / vs_truth["truth"] - 1
    vs_truth.loc[vs_truth["truth"] == 0, "rel_bias"] = float("nan")
    wide = d.pivot_table(index=["seed", "activity"], columns="fit", values=["effect", "se"])
    eff, se = wide["effect"], wide["se"]
    gaps = []
    for fit in ("subtract", "naive"):
        g = ((eff[fit] - eff["links"]) / se["links"]).rename("gap").reset_index()
        s = g.groupby("activity")["gap"].agg(gap_mean="mean", gap_sd="std", gap_min="min", gap_max="max")
        gaps.append(s.reset_index().assign(fit=fit))
    return vs_truth.merge(pd.concat(gaps), on=["fit", "activity"], how="left").round(4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="0-39", help="A-B, inclusive")
    ap.add_argument("--raw", help="write the per-fit rows here")
    ap.add_argument("--combine", nargs="+", help="raw files to combine into drivers_quarterly_response.csv")
    args = ap.parse_args()
    if args.combine:
        d = pd.concat([pd.read_csv(f, keep_default_na=False, na_values=[""]) for f in args.combine],
                      ignore_index=True)  # fmt: skip
        table = summarise(d)
        write_csv(table, HERE / "drivers_quarterly_response.csv")
        with pd.option_context("display.width", 220, "display.max_columns", 20):
            print(table.to_string(index=False))
        return
    a, b = map(int, args.seeds.split("-"))
    d = run(list(range(a, b + 1)))
    if args.raw:
        write_csv(d, args.raw)
    print(summarise(d).to_string(index=False))


if __name__ == "__main__":
    main()
