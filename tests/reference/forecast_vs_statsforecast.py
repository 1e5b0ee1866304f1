"""Reference study: the library's forecasts next to statsforecast's AutoETS and AutoTheta.

Same series, same rolling origins, same horizons, same MASE scale: for each
evaluation origin of :func:`salesgoals.backtest_forecast`, statsforecast's
``AutoETS`` and ``AutoTheta`` are fitted on the history known at that origin
(the group's series up to it) and forecast the same ``horizon`` periods with
80 % intervals.  MASE uses the scale the library reports per origin and group
(``errors["scale"]``), coverage the share of actuals inside the interval.

Series
------
* ``simulator``: weekly won revenue per team of ``make_crm_data(n_reps=40,
  n_weeks=104, seed)`` (seeds 1-3, and 7: the suite's), 26 origins, 4 weeks ahead;
* ``young_company``: the young-company fixture of ``tests/test_forecast_young.py``
  (leading zeros, a ramp, sparse reps, one huge deal), weekly by team and
  monthly total.

The harness (series, fits, scores) is ``tests/test_vs_statsforecast.py``'s,
whose test runs seed 7 in CI's lowest-versions leg.  Run (statsforecast is the
``compare`` extra, not in ``test``: 2.1.x pins pandas < 3, and 2.0.3 pins
scipy < 1.16; see README) from a side virtual environment::

    python -m venv /tmp/venv_sf && /tmp/venv_sf/bin/pip install -e ".[test,compare]"
    /tmp/venv_sf/bin/python tests/reference/forecast_vs_statsforecast.py

It writes ``tests/reference/forecast_vs_statsforecast.csv`` (one row per
series and method) and prints the table reported in the README.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

import salesgoals as sg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _expected import expected_warnings  # noqa: E402
from test_vs_statsforecast import group_series, score, statsforecast_points  # noqa: E402

OUT = HERE / "forecast_vs_statsforecast.csv"
LEVEL = 80
LIBRARY = ["auto", "seasonal_naive", "trailing_mean", "drift", "ets", "pipeline", "combination"]


def run_case(name: str, data, *, freq: str, level: str, horizon: int, season: int, **kw) -> pd.DataFrame:
    with expected_warnings("backtest_forecast"):  # rough / wide ranges, flagged in the table
        bt = sg.backtest_forecast(data, level=level, freq=None if "period" in data.columns else freq,
                                  horizon=horizon, methods=LIBRARY, **kw)
    if "period" in data.columns:
        frame = data.assign(_g=data[level] if level != "total" else "(all)")
        series = group_series(frame, "_g", "won_revenue", freq)
    else:
        won = data.loc[data["status"].eq("won")].assign(period=lambda d: d["closed"].dt.to_period(freq))
        roster = kw.get("roster")
        won["_g"] = "(all)" if level == "total" else won["rep"].map(roster.set_index("rep")[level])
        series = group_series(won, "_g", "amount", freq)
        first = data["created"].dt.to_period(freq).min()
        series = {g: s.reindex(pd.period_range(first, s.index.max(), freq=freq), fill_value=0.0)
                  for g, s in series.items()}
    sf, failed = statsforecast_points(bt.errors, series, season)
    if failed:
        print(f"{name}: {failed} statsforecast fit(s) failed, scored as the last non-zero value")
    table = score(bt.errors, sf)
    best = min(("seasonal_naive", "trailing_mean", "drift"), key=lambda k: table.set_index("method").loc[k, "mae"])
    table["vs_best_benchmark"] = table["mae"] / table.set_index("method").loc[best, "mae"]
    table.insert(0, "series", name)
    auto_note = [n for n in bt.notes if n.startswith("auto picked")]
    print(f"{name}: {auto_note[0] if auto_note else ''}")
    return table


def main() -> pd.DataFrame:
    from test_forecast_young import young_company

    tables = []
    for seed in (1, 2, 3, 7):  # 7: the suite's shared simulation (tests/conftest.py)
        sim = sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=seed)
        panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
        tables.append(run_case(f"simulator_seed{seed}_W_team", panel, freq="W", level="team", horizon=4, season=1,
                               deals=sim.deals))
    deals, roster = young_company()
    tables.append(run_case("young_company_W_team", deals, freq="W", level="team", horizon=4, season=1, roster=roster))
    tables.append(run_case("young_company_M_total", deals, freq="M", level="total", horizon=3, season=1,
                           roster=roster))
    out = pd.concat(tables, ignore_index=True)
    out.round(4).to_csv(OUT, index=False)
    return out


if __name__ == "__main__":
    res = main()
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(res.round(3).to_string(index=False))
