"""Team and total ranges of a rep-level forecast: calibrated on the roll-ups' own past errors.

Reps of one team share busy and quiet weeks (a campaign, a holiday, the
company's quarter), so their forecast errors move together and the team's range
is wider than the reps' half-widths added in quadrature (the rule for
independent errors).  The fixture makes that explicit: every rep's weekly rate
is multiplied by a team-wide and a company-wide lognormal shock.  The test walks
the as-of date through the second year and scores the team and total ranges of
``.hierarchy`` against what closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesgoals import forecast

START = pd.Timestamp("2023-01-02")
N_WEEKS = 110


def shared_shock_company(seed: int = 11, *, shock_sd: float = 0.45, reps_per_team: int = 5):
    """Deals and roster: 3 teams x ``reps_per_team`` reps whose weekly wins share team and company shocks."""
    rng = np.random.default_rng(seed)
    week = np.arange(N_WEEKS)
    company = rng.normal(0.0, shock_sd / 2, N_WEEKS)
    season = 0.25 * np.sin(2 * np.pi * week / 52)
    rows, roster = [], []
    for team in ("East", "North", "West"):
        shock = rng.normal(0.0, shock_sd, N_WEEKS)
        for k in range(reps_per_team):
            rep = f"{team}{k}"
            roster.append((rep, team))
            rate = rng.uniform(1.0, 2.5) * np.exp(company + shock + season - 0.625 * shock_sd**2)
            rows.append(pd.DataFrame({"rep": rep, "week": np.repeat(week, rng.poisson(rate))}))
    d = pd.concat(rows, ignore_index=True)
    n = len(d)
    closed = START + pd.to_timedelta(d["week"] * 7 + rng.integers(0, 5, n), unit="D")
    deals = pd.DataFrame(
        {
            "deal_id": [f"S{i:06d}" for i in range(n)],
            "rep": d["rep"],
            "created": closed - pd.to_timedelta(rng.integers(20, 60, n), unit="D"),
            "closed": closed,
            "status": "won",
            "amount": np.round(rng.lognormal(np.log(8000), 0.5, n), -2),
        }
    )
    return deals, pd.DataFrame(roster, columns=["rep", "team"])


def rollup_scores(deals, roster, as_ofs, **kw) -> pd.DataFrame:
    """Team and total rows of ``.hierarchy`` at each as-of date with the actual, the calibrated and the
    quadrature bounds (the reps' half-widths, from the same ``.hierarchy``, added in quadrature)."""
    won = deals.loc[deals["status"].eq("won")]
    team = won["rep"].map(roster.set_index("rep")["team"])
    period = won["closed"].dt.to_period("W")
    actual = pd.concat([won.groupby([team, period])["amount"].sum(),
                        won.groupby([pd.Series("(all)", index=won.index), period])["amount"].sum()])  # fmt: skip
    actual.index.names = ["group", "period"]
    out = []
    for a in as_ofs:
        h = forecast(deals, roster=roster, level="rep", freq="W", horizon=4, as_of=a, **kw).hierarchy
        reps = h[h["level"] == "rep"].assign(team=lambda x: x["group"].map(roster.set_index("rep")["team"]))
        lo2 = (reps["forecast"] - reps["lower"]) ** 2
        hi2 = (reps["upper"] - reps["forecast"]) ** 2
        sq = pd.DataFrame({"lo2": lo2, "hi2": hi2})
        everyone = pd.Series("(all)", index=reps.index)
        quad = pd.concat([sq.groupby([reps["team"], reps["period"]]).sum(), sq.groupby([everyone, reps["period"]]).sum()])
        quad.index.names = ["group", "period"]
        r = h[h["level"] != "rep"].set_index(["group", "period"])
        r = r.join(quad).assign(actual=actual.reindex(r.index).fillna(0.0).to_numpy())
        r["q_lower"] = np.maximum(r["forecast"] - np.sqrt(r["lo2"]), 0.0)
        r["q_upper"] = r["forecast"] + np.sqrt(r["hi2"])
        out.append(r.reset_index())
    s = pd.concat(out, ignore_index=True)
    s = s[s["period"] <= period.max()]
    s["covered"] = s["actual"].between(s["lower"], s["upper"])
    s["q_covered"] = s["actual"].between(s["q_lower"], s["q_upper"])
    return s


@pytest.fixture(scope="module")
def scores():
    deals, roster = shared_shock_company()
    as_ofs = pd.date_range(START + pd.Timedelta(weeks=44), periods=30, freq="2W-SUN")
    return rollup_scores(deals, roster, as_ofs, method="trailing_mean")


def test_rollup_ranges_cover_when_reps_share_busy_weeks(scores):
    """Calibrated team and total ranges cover near the nominal 80 %; the quadrature sum under-covers.

    30 as-of dates x 4 weeks: 360 team and 120 total forecasts, errors
    correlated across horizons and teams (sampling s.d. about 0.03 team and
    0.05 total if independent): tolerance 0.08 (team) and 0.12 (total).  The
    quadrature sum must miss by more than 0.1: on this fixture it covers about
    0.57 (team) and 0.43 (total), the calibrated ones 0.78 and 0.83.
    """
    cov = scores.groupby("level")[["covered", "q_covered"]].mean()
    assert scores.groupby("level").size().to_dict() == {"team": 360, "total": 120}
    assert abs(cov.loc["team", "covered"] - 0.8) <= 0.08, cov
    assert abs(cov.loc["total", "covered"] - 0.8) <= 0.12, cov
    assert (cov["q_covered"] < 0.7).all(), cov
    assert ((scores["lower"] <= scores["forecast"]) & (scores["forecast"] <= scores["upper"])).all()


def test_rollup_ranges_of_deal_counts_are_whole_deals_and_say_where_they_come_from():
    deals, roster = shared_shock_company(12)
    res = forecast(deals, roster=roster, level="rep", freq="W", horizon=4, as_of="2024-09-29",
                   target="deals_won", method="trailing_mean", ranges="count")  # fmt: skip
    h = res.hierarchy
    up = h[h["level"] != "rep"]
    assert set(up["level"]) == {"team", "total"} and len(up) == 4 * 4  # 3 teams and the total, 4 weeks
    for col in ("lower", "upper"):
        assert (up[col] == np.round(up[col])).all() and not np.signbit(up[col]).any()
    assert ((up["lower"] <= up["forecast"]) & (up["forecast"] <= up["upper"])).all()
    assert any(".hierarchy: team and total ranges calibrated on the roll-ups' own past errors" in n
               and "count scale" in n for n in res.notes)  # fmt: skip
    # the total's range is its own: narrower than the teams' widths added up, at least as wide as any one team's
    tot = up[up["level"] == "total"].set_index("period")
    team_width = up[up["level"] == "team"].assign(w=lambda x: x["upper"] - x["lower"]).groupby("period")["w"]
    width = tot["upper"] - tot["lower"]
    assert (width < team_width.sum()).all() and (width >= team_width.max()).all()
