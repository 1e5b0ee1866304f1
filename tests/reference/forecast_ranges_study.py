"""Reference study: ranges on the additive, log and count scales, and the one ``auto`` picks.

For each series below, :func:`salesgoals.backtest_forecast` is run once per
``ranges`` option (``additive``, ``log``, ``count`` for deals, ``auto``) with
the same methods, origins and horizons; the point forecasts are identical
across the options (only the ranges change), so the rows differ only in
coverage of the 80 % ranges, their mean width relative to the series' mean
level (``relative_width``) and the mean interval score (width + 10 x each
miss, divided by the group's MASE scale: lower is better; the score ``auto``
ranks by).  MASE of each method against the benchmarks is reported too (the
same in every option).

Series (the real traps: skew, small counts, zeros, ramps):

* ``simulator``: ``make_crm_data(n_reps=40, n_weeks=104, seed=1)``, weekly
  revenue by team, weekly deals won by rep, monthly revenue by rep;
* ``young``: the young-company fixture (``tests/test_forecast_young.py``):
  weekly revenue by team, weekly deals won by rep, monthly revenue total;
* ``independent``: ``tests/independent_sim.make_events("small_team", seed=1,
  n_reps=16, n_periods=80)``: weekly revenue by team, weekly deals by rep.

Run (about 3 minutes of CPU)::

    flock /work/wt/heavy.lock nice -n 10 env PYTHONPATH=.:tests python tests/reference/forecast_ranges_study.py

It writes ``tests/reference/forecast_ranges.csv`` (one row per series,
method and ranges option) and prints the README table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import salesgoals as sg
from salesgoals.forecasting import backtest_forecast

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _expected import expected_warnings  # noqa: E402
METHODS = ["seasonal_naive", "trailing_mean", "drift", "ets", "pipeline"]


def _series():
    from independent_sim import make_events
    from test_forecast_young import young_company

    sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=1)
    deals, roster = young_company()
    ev = make_events("small_team", seed=1, n_reps=16, n_periods=80)
    return [
        ("simulator", "won_revenue", "team", "W", sim.deals, sim.roster),
        ("simulator", "deals_won", "rep", "W", sim.deals, sim.roster),
        ("simulator", "won_revenue", "rep", "M", sim.deals, sim.roster),
        ("young", "won_revenue", "team", "W", deals, roster),
        ("young", "deals_won", "rep", "W", deals, roster),
        ("young", "won_revenue", "total", "M", deals, roster),
        ("independent", "won_revenue", "team", "W", ev.deals, ev.roster),
        ("independent", "deals_won", "rep", "W", ev.deals, ev.roster),
    ]


def _score(e: pd.DataFrame, interval: float) -> pd.Series:
    a = 1 - interval
    s = (e["upper"] - e["lower"]) + (2 / a) * ((e["lower"] - e["actual"]).clip(lower=0) + (e["actual"] - e["upper"]).clip(lower=0))
    return (s / e["scale"]).groupby(e["method"]).mean()


def main() -> pd.DataFrame:
    rows = []
    for name, target, level, freq, deals, roster in _series():
        options = ["additive", "log", *(["count"] if target == "deals_won" else []), "auto"]
        for rg in options:
            with expected_warnings("backtest_forecast"):  # rough / wide ranges, flagged in the table
                bt = backtest_forecast(deals, roster=roster, target=target, level=level, freq=freq,
                                       methods=[*METHODS, "auto"], ranges=rg)
            t = bt.table.set_index("method")
            score = _score(bt.errors, bt.interval)
            for m in t.index:
                rows.append({
                    "series": name, "target": target, "level": level, "freq": freq, "ranges": rg, "method": m,
                    "mase": t.loc[m, "mase"], "vs_best_benchmark": t.loc[m, "vs_best_benchmark"],
                    "coverage": t.loc[m, "coverage"], "relative_width": t.loc[m, "relative_width"],
                    "interval_score": score[m], "ranges_used": t.loc[m, "ranges"],
                })
            print(name, target, level, freq, rg, "done", flush=True)
    out = pd.DataFrame(rows)
    out.round(4).to_csv(HERE / "forecast_ranges.csv", index=False)
    return out


def table(out: pd.DataFrame) -> str:
    """README table: the ``auto`` method's ranges per option (coverage / relative width / score)."""
    a = out.loc[out["method"] == "auto"].copy()
    a["cell"] = [f"{c:.2f} / {w:.2f} / {s:.2f}" for c, w, s in zip(a["coverage"], a["relative_width"], a["interval_score"])]
    a["row"] = a["series"] + ", " + a["target"] + " by " + a["level"] + " (" + a["freq"] + ")"
    return a.pivot(index="row", columns="ranges", values="cell").fillna("-").to_markdown()


if __name__ == "__main__":
    res = main()
    print(table(res))
    print(np.round(res.pivot_table(index=["series", "target", "level"], columns="ranges", values="coverage"), 3))
