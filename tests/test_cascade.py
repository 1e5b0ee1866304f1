"""cascade: exact to the cent at every level, fiscal year, holidays, seasonality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import salesgoals as sg
from salesgoals.errors import DataQualityError


def cents(s: pd.Series) -> int:
    return int(np.round(s.to_numpy(float) * 100).astype(np.int64).sum())


def assert_exact(c, entity, total):
    want = int(round(total * 100))
    q = c.quarters[c.quarters["entity"] == entity]
    m = c.months[c.months["entity"] == entity]
    w = c.weeks[c.weeks["entity"] == entity]
    d = c.days[c.days["entity"] == entity]
    for frame in (q, m, w, d):
        assert cents(frame["target"]) == want
    # each month is the sum of its days, each quarter the sum of its months
    assert (np.round(d.groupby("month")["target"].sum() * 100).astype(np.int64)
            == np.round(m.set_index("month")["target"] * 100).astype(np.int64)).all()  # fmt: skip
    qm = d.groupby("quarter")["month"].unique()
    for quarter, months in qm.items():
        assert cents(m[m["month"].isin(months)]["target"]) == cents(
            q[q["quarter"] == quarter]["target"]
        )


@settings(max_examples=25, deadline=None)
@given(
    total=st.floats(0, 1e9, allow_nan=False).map(lambda x: round(x, 2)),
    start=st.integers(1, 12),
    year=st.integers(2020, 2030),
)
def test_parts_add_up_exactly(total, start, year):
    c = sg.cascade(total, year=year, fiscal_year_start=start)
    assert_exact(c, "(team)", total)


def test_per_rep_targets_and_team_total():
    targets = {"Ana": 1_000_000.01, "Bo": 333_333.33, "=Cy": 7.0}
    c = sg.cascade(targets, year=2026, fiscal_year_start=4, holidays=["2026-12-25", "2027-01-01"])
    for rep, v in targets.items():
        assert_exact(c, rep, v)
    assert_exact(c, "(team)", sum(targets.values()))
    assert c.quarters["entity"].unique().tolist() == [*targets, "(team)"]


def test_fiscal_year_holidays_and_working_days():
    c = sg.cascade(1e6, year=2026, fiscal_year_start=2, holidays=["2026-12-25"])
    d = c.days
    assert d["date"].min() >= pd.Timestamp("2026-02-01") and d["date"].max() <= pd.Timestamp(
        "2027-01-31"
    )
    assert pd.Timestamp("2026-12-25") not in set(d["date"])
    assert (d["date"].dt.day_of_week < 5).all()
    assert c.quarters["quarter"].tolist() == [f"FY2026-Q{i}" for i in range(1, 5)]
    assert c.quarters["start"].iloc[0] == pd.Timestamp("2026-02-02")  # first working day
    # without history: equal per working day, so a quarter's share = its share of working days
    share = c.quarters["target"] / c.quarters["target"].sum()
    wd = c.quarters["working_days"] / c.quarters["working_days"].sum()
    np.testing.assert_allclose(share, wd, atol=1e-6)
    assert "Cascade(" in repr(c) and "Quarters" in str(c.summary())


def test_seasonality_from_history(sim_panel):
    c = sg.cascade(1e6, year=2026, panel=sim_panel)
    m = c.months.set_index("month")
    per_day = m["target"] / m["working_days"]
    w = c.seasonality.set_index("month_of_year")["weight"]
    # the month with the highest historical weight gets the highest target per working day
    assert per_day.idxmax()[-2:] == f"{int(w.idxmax()):02d}"
    # a planted pattern is recovered: triple revenue in March of every year
    planted = sim_panel.copy()
    march = planted["period"].dt.start_time.dt.month == 3
    planted.loc[march, "won_revenue"] *= 3
    c3 = sg.cascade(1e6, year=2026, panel=planted)
    m3 = c3.months.set_index("month")
    assert (m3["target"] / m3["working_days"]).idxmax() == "2026-03"


def test_errors():
    with pytest.raises(ValueError, match="fiscal_year_start"):
        sg.cascade(1.0, year=2026, fiscal_year_start=13)
    with pytest.raises(DataQualityError, match="non-negative"):
        sg.cascade(-5.0, year=2026)
    with pytest.raises(DataQualityError, match="no working day"):
        sg.cascade(5.0, year=2026, workdays=())


def test_plot():
    import matplotlib.pyplot as plt

    ax = sg.cascade(1e6, year=2026).plot()
    assert len(ax.patches) == 12
    plt.close("all")
