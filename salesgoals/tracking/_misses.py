"""Account for misses: why a goal is behind its landmark, and what to do about it.

For every goal behind its landmark (actual < expected), the shortfall
``expected - actual`` is split into

* **volume**: fewer of the underlying activity (calls made, meetings booked);
* **quality / conversion**: the same volume converting less often (calls
  connected per call, meetings held per meeting) - only for quality metrics
  (:data:`salesgoals._schema.QUALITY_METRICS`), whose base activity is known;

so that ``volume_units + quality_units == shortfall`` exactly:
``volume = (base expected - base actual) x usual conversion`` and
``quality = base actual x (usual - current conversion)``, with the base
activity expected at the landmark's pace at the usual conversion.  Each part
is also put in money at the rep's recent won revenue per unit of the goal's
activity (an average, not a causal effect: it sizes the miss, it does not
promise what one more call brings).

What to do: the catch-up plan (the activity per remaining week that still
makes the goal, its odds under the pace model, and how it compares with the
rep's personal best week of the last :data:`HISTORY_WEEKS` weeks); where the
odds are below :data:`CATCH_UP_MIN_ODDS`, a *suggested* adjusted goal - the
level the rep reaches with even odds at the current pace - for the manager to
decide on (``action == "suggest_adjusted_goal"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._periods import is_panel as _is_panel
from salesgoals._periods import to_day as _days
from salesgoals._schema import QUALITY_METRICS

#: Weeks of history before the period for usual conversion, revenue per unit and the personal best.
HISTORY_WEEKS = 13
#: Odds of catching up below which an adjusted goal is suggested instead.
CATCH_UP_MIN_ODDS = 0.10
#: Odds of the suggested adjusted goal (even odds at the current pace).
SUGGESTED_ODDS = 0.5

MISS_COLUMNS: list[str] = [
    "rep",
    "team",
    "activity",
    "goal",
    "expected",
    "actual",
    "shortfall",
    "base_activity",
    "conversion_usual",
    "conversion_now",
    "volume_units",
    "quality_units",
    "value_per_unit",
    "volume_money",
    "quality_money",
    "weeks_left",
    "needed_per_week",
    "p_catch_up",
    "personal_best_week",
    "vs_personal_best",
    "action",
    "suggested_goal",
    "suggested_odds",
    "plan",
]


def _events(acts: pd.DataFrame, deals, lo, hi, metrics) -> pd.DataFrame:
    """One row per counted event between ``lo`` and ``hi``: ``rep, activity, day`` (activity log)."""
    day = _days(acts["timestamp"])
    inside = (day >= lo) & (day <= hi)
    a = acts.loc[inside]
    d = day[inside]
    typ = a["activity_type"].astype(str).str.lower().to_numpy(dtype=object)
    rep = a["rep"].astype(str).to_numpy(dtype=object)
    frames = [pd.DataFrame({"rep": rep, "activity": typ, "day": d})]
    if "outcome" in a.columns:
        out = a["outcome"].astype(str).str.lower()
        for name, (t, outs) in QUALITY_METRICS.items():
            if name in metrics:
                m = ((typ == t) & out.isin(outs).to_numpy())
                frames.append(pd.DataFrame({"rep": rep[m], "activity": name, "day": d[m]}))
    long = pd.concat(frames, ignore_index=True)
    return long.loc[long["activity"].isin(list(metrics))]


def history_stats(acts: pd.DataFrame, deals, lo: np.datetime64, metrics) -> pd.DataFrame:
    """Per rep and metric over the :data:`HISTORY_WEEKS` weeks before ``lo``.

    Returns ``rep, activity, hist_count, personal_best_week, revenue`` (won
    revenue of the rep in the window, repeated on each metric row).
    """
    start = lo - np.timedelta64(7 * HISTORY_WEEKS, "D")
    end = lo - np.timedelta64(1, "D")
    if _is_panel(acts):
        p = acts.loc[(acts["period"].dt.start_time >= pd.Timestamp(start)) & (acts["period"].dt.end_time <= pd.Timestamp(lo))]
        cols = [m for m in metrics if m in p.columns]
        long = p.melt(id_vars=["rep"], value_vars=cols, var_name="activity", value_name="n")
        long["rep"] = long["rep"].astype(str)
        g = long.groupby(["rep", "activity"], sort=True)["n"]
        out = pd.DataFrame({"hist_count": g.sum(), "personal_best_week": g.max()}).reset_index()
        rev = p.groupby(p["rep"].astype(str))["won_revenue"].sum() if "won_revenue" in p.columns else None
    else:
        ev = _events(acts, deals, start, end, metrics)
        week = (ev["day"].to_numpy().astype("datetime64[D]") - start).astype(np.int64) // 7
        per_week = ev.assign(week=week).groupby(["rep", "activity", "week"], sort=True).size()
        g = per_week.groupby(level=["rep", "activity"])
        out = pd.DataFrame({"hist_count": g.sum(), "personal_best_week": g.max()}).reset_index()
        rev = None
        if deals is not None and "amount" in deals.columns:
            k = _days(deals["closed"])
            won = deals["status"].astype(str).str.lower().eq("won").to_numpy() & (k >= start) & (k <= end)
            amt = pd.to_numeric(deals["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
            rev = pd.Series(amt[won]).groupby(deals["rep"].astype(str).to_numpy()[won]).sum()
    out["revenue"] = out["rep"].map(rev).fillna(0.0).to_numpy(dtype=float) if rev is not None else 0.0
    return out


def decompose(t: pd.DataFrame, hist: pd.DataFrame, n_e: int, N: int) -> pd.DataFrame:
    """Volume / quality split of ``expected - actual`` per goal row, in units and money (all rows)."""
    key = ["rep", "activity"]
    h = hist.set_index(key)
    base = t["activity"].map({k: v[0] for k, v in QUALITY_METRICS.items()})
    has_base = base.notna().to_numpy()
    idx = pd.MultiIndex.from_arrays([t["rep"], t["activity"]])
    bidx = pd.MultiIndex.from_arrays([t["rep"], base.fillna(t["activity"])])
    q_hist = h["hist_count"].reindex(idx).fillna(0.0).to_numpy()
    b_hist = h["hist_count"].reindex(bidx).fillna(0.0).to_numpy()
    usual = np.where(has_base & (b_hist > 0), q_hist / np.where(b_hist > 0, b_hist, 1.0), 1.0)
    b_now = t["base_actual"].to_numpy(dtype=float)
    actual = t["actual"].to_numpy(dtype=float)
    now = np.where(has_base & (b_now > 0), actual / np.where(b_now > 0, b_now, 1.0), np.where(has_base, 0.0, 1.0))
    shortfall = t["expected"].to_numpy(dtype=float) - actual
    # base activity the landmark needs at the usual conversion; quality: the conversion gap on what was done
    quality = np.where(has_base & (usual > 0), b_now * usual - actual, 0.0)
    volume = shortfall - quality
    revenue = h["revenue"].reindex(idx).fillna(0.0).to_numpy()
    per_unit = np.where(q_hist > 0, revenue / np.where(q_hist > 0, q_hist, 1.0), 0.0)
    out = t.copy()
    out["shortfall"] = shortfall
    out["base_activity"] = base.fillna(t["activity"]).to_numpy()
    out["conversion_usual"], out["conversion_now"] = usual, now
    out["volume_units"], out["quality_units"] = volume, quality
    out["value_per_unit"] = per_unit
    out["volume_money"], out["quality_money"] = volume * per_unit, quality * per_unit
    out["personal_best_week"] = h["personal_best_week"].reindex(idx).fillna(0.0).to_numpy()
    return out


def catch_up(d: pd.DataFrame, *, n_e: int, n_r: int, shrink: float) -> pd.DataFrame:
    """Catch-up plan, its odds vs the personal best, and the suggested goal where catching up is out of reach.

    The odds of the plan are the pace model's (``p_meet``); the suggested goal
    is ``actual`` + the median of the remaining count under the same
    Gamma-Poisson model (odds >= :data:`SUGGESTED_ODDS`, stated exactly).
    """
    weeks = n_r / 5.0
    d = d.copy()
    d["weeks_left"] = weeks
    need = np.maximum(d["goal"] - d["actual"], 0.0)
    d["needed_per_week"] = need / weeks if weeks > 0 else need
    d["p_catch_up"] = d["p_meet"].to_numpy(dtype=float)
    pb = d["personal_best_week"].to_numpy(dtype=float)
    d["vs_personal_best"] = np.where(pb > 0, d["needed_per_week"] / np.where(pb > 0, pb, 1.0), np.inf)
    b = shrink + n_e
    a = np.maximum(d["rate_per_day"].to_numpy(dtype=float) * b, 1e-12)
    if n_r > 0:
        p = b / (b + n_r)
        k = stats.nbinom.ppf(SUGGESTED_ODDS, a, p)
        d["suggested_goal"] = d["actual"] + k
        d["suggested_odds"] = np.where(k > 0, stats.nbinom.sf(k - 1, a, p), 1.0)
    else:
        d["suggested_goal"], d["suggested_odds"] = d["actual"], 1.0
    reach = (d["p_catch_up"] >= CATCH_UP_MIN_ODDS) & (n_r > 0)
    d["action"] = np.where(reach, "catch_up", np.where(n_r > 0, "suggest_adjusted_goal", "period_over"))
    d["suggested_goal"] = np.where(reach, d["goal"], d["suggested_goal"])
    d["suggested_odds"] = np.where(reach, d["p_catch_up"], d["suggested_odds"])
    d["vs_personal_best"] = d["vs_personal_best"].replace(np.inf, np.nan).fillna(0.0)
    d["plan"] = _plan_text(d)
    return d


def _plan_text(d: pd.DataFrame) -> pd.Series:
    """The why and the what, in words (vectorised string building)."""
    if not len(d):
        return pd.Series([], index=d.index, dtype=object)
    act = d["activity"].str.replace("_", " ")
    base = d["base_activity"].str.replace("_", " ")
    why = (
        d["shortfall"].round(1).astype(str) + " " + act + " behind the landmark: "
        + d["volume_units"].round(1).astype(str) + " from volume"
        + np.where(d["base_activity"] != d["activity"], " (fewer " + base + ")", "")
        + ", " + d["quality_units"].round(1).astype(str) + " from conversion ("
        + (100 * d["conversion_now"]).round().astype(int).astype(str) + "% vs usual "
        + (100 * d["conversion_usual"]).round().astype(int).astype(str) + "%)"
        + "; about " + (d["volume_money"] + d["quality_money"]).round(-2).map("{:,.0f}".format)
        + " of revenue at the usual revenue per " + act
    )
    catch = (
        ". Catch-up: " + d["needed_per_week"].round(1).astype(str) + " " + act + " per remaining week ("
        + (100 * d["vs_personal_best"]).round().astype(int).astype(str) + "% of the personal best week), "
        + (100 * d["p_catch_up"]).round().astype(int).astype(str) + "% odds"
    )
    suggest = (
        ". Catching up has " + (100 * d["p_catch_up"]).round().astype(int).astype(str)
        + "% odds: SUGGESTION for the manager, adjust the goal to " + d["suggested_goal"].round().map("{:,.0f}".format)
        + " (" + (100 * d["suggested_odds"]).round().astype(int).astype(str) + "% odds at the current pace)"
    )
    what = np.where(d["action"] == "catch_up", catch, np.where(d["action"] == "period_over", ". The period is over.", suggest))
    return why + what


def account_for_misses(t: pd.DataFrame, hist: pd.DataFrame, *, n_e: int, N: int, shrink: float) -> pd.DataFrame:
    """One row per goal behind its landmark; columns :data:`MISS_COLUMNS` (see the module notes)."""
    d = decompose(t, hist, n_e, N)
    d = d.loc[(d["level"] == "rep") & (d["actual"] < d["expected"])]
    d = catch_up(d, n_e=n_e, n_r=N - n_e, shrink=shrink)
    return d[MISS_COLUMNS].reset_index(drop=True)


def team_misses(t: pd.DataFrame, hist: pd.DataFrame, team: pd.DataFrame, *, n_e: int, N: int) -> pd.DataFrame:
    """Team goals behind their landmark: the reps' volume/quality parts summed, and the team's catch-up."""
    d = decompose(t.loc[t["level"] == "rep"], hist, n_e, N)
    parts = d.groupby(["team", "activity"], sort=True)[
        ["volume_units", "quality_units", "volume_money", "quality_money", "personal_best_week"]
    ].sum()
    behind = team.loc[team["actual"] < team["expected"]].merge(parts.reset_index(), on=["team", "activity"], how="left")
    n_r = N - n_e
    weeks = n_r / 5.0
    behind["shortfall"] = behind["expected"] - behind["actual"]
    behind["weeks_left"] = weeks
    need = np.maximum(behind["goal"] - behind["actual"], 0.0)
    behind["needed_per_week"] = need / weeks if weeks > 0 else need
    behind["p_catch_up"] = behind["p_meet"]
    reach = (behind["p_catch_up"] >= CATCH_UP_MIN_ODDS) & (n_r > 0)
    behind["action"] = np.where(reach, "catch_up", np.where(n_r > 0, "suggest_adjusted_goal", "period_over"))
    # even odds at the team's current pace: the projection
    behind["suggested_goal"] = np.where(reach, behind["goal"], np.floor(behind["projected"]))
    behind["suggested_odds"] = np.where(reach, behind["p_catch_up"], SUGGESTED_ODDS)
    return behind.reset_index(drop=True)


def revenue_misses(t: pd.DataFrame, *, closed, won, value, amount, day) -> pd.DataFrame:
    """Revenue scopes behind their landmark: volume (fewer won deals) vs deal size, in deals and money.

    The usual deal size is the mean won deal of the year before the scope;
    ``expected deals = landmark / usual size``; volume = (expected - actual
    deals) x usual size, size = actual deals x (usual - actual mean size).
    """
    rows = []
    for r in t.itertuples():
        lo, hi = np.datetime64(r.start.date(), "D"), np.datetime64(r.end.date(), "D")
        inside = won & (closed >= lo) & (closed <= min(day, hi))
        before = won & (closed < lo) & (closed >= lo - np.timedelta64(365, "D"))
        usual = float(amount[before].mean()) if before.any() else (float(amount[inside].mean()) if inside.any() else 0.0)
        n_deals = int(inside.sum())
        size_now = float(amount[inside].mean()) if n_deals else 0.0
        expected_deals = r.expected / usual if usual > 0 else 0.0
        rows.append(
            dict(
                deals_won=n_deals,
                usual_deal_size=usual,
                deal_size_now=size_now,
                volume_deals=expected_deals - n_deals,
                volume_money=(expected_deals - n_deals) * usual,
                size_money=n_deals * (usual - size_now) if n_deals else 0.0,
            )
        )
    return pd.DataFrame(rows, index=t.index)
