"""One self-contained HTML file: a team page and one page per seller (no network, images inline)."""

from __future__ import annotations

import html
import re

import pandas as pd

from salesgoals._typing import TIERS
from salesgoals._version import __version__
from salesgoals._words import activity_label, fmt_number
from salesgoals.report import _plots as pl

__all__ = ["render_html", "slug"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0;
background:#f6f6f4;font-size:14px;line-height:1.45}
header{background:#1f3a5f;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px} header p{margin:0;opacity:.85}
nav{padding:8px 32px;background:#e9eef4;font-size:13px;line-height:1.9}
nav a{color:#1f3a5f;margin-right:12px;text-decoration:none;white-space:nowrap}
.page{background:#fff;max-width:1040px;margin:24px auto;padding:24px 32px;border-radius:6px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h2{font-size:20px;margin:0 0 4px;color:#1f3a5f} h3{font-size:15px;margin:22px 0 6px;color:#1f3a5f}
.sub{color:#666;margin:0 0 12px}
.facts{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.fact{background:#f3f6f9;border-radius:6px;padding:10px 14px;min-width:150px}
.fact b{display:block;font-size:18px;color:#1f3a5f}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th{background:#eef2f6;text-align:left;font-weight:600;padding:5px 8px;border-bottom:1px solid #ccd6e0}
td{padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
img{max-width:100%;height:auto;display:block;margin:8px 0}
.why li{margin-bottom:4px} .flag{color:#a0522d} .note{color:#555;font-size:13px}
a.back{font-size:12px;color:#1f3a5f}
body:has(.page:target) .page:not(:target){display:none}
@media print{body{background:#fff}.page{box-shadow:none;margin:0;page-break-before:always}nav{display:none}}
"""


def slug(name: str) -> str:
    """An HTML id for a seller: ``"Ana López"`` -> ``"seller-ana-l-pez"``."""
    return "seller-" + (re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-") or "x")


def _e(x) -> str:
    return html.escape(str(x))


def _table(frame: pd.DataFrame, num: set[str] | None = None) -> str:
    num = num or set()
    head = "".join(f"<th class='num'>{_e(c)}</th>" if c in num else f"<th>{_e(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{v}</td>" if c in num else f"<td>{v}</td>"
                         for c, v in zip(frame.columns, row)) + "</tr>"
        for row in frame.itertuples(index=False, name=None)
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(b64: str, alt: str) -> str:
    return f"<img alt='{_e(alt)}' src='data:image/png;base64,{b64}'>"


def _money(x, cur: str) -> str:
    return f"{cur}{fmt_number(float(x), money=True)}"


def _odds(p) -> str:
    p = float(p)
    return "<1%" if p < 0.005 else ">99%" if p > 0.995 else f"{p:.0%}"


def _team_page(rec, views, levels, cur: str) -> str:
    t, rev = rec.table, levels.revenue
    drivers = views["Drivers"]
    drv = "".join(f"<li>{_e(w)}.</li>" for w in drivers.sort_values("Supported as a driver", ascending=False,
                                                                    kind="mergesort")["In words"])  # fmt: skip
    team_tab = _teams_revenue_table(rev, cur)
    act_tab = _team_activity_table(levels.teams)
    lead_tab, lead_note = _leader_table(levels.leaders)
    glance = _glance(t)
    fact_html = _team_facts(rec, rev, cur)
    cal = _odds_check(rec.backtest)
    return f"""<section class="page" id="team">
<h2>Team</h2><p class="sub">Goals for {_e(_span(rec))}; {t['rep'].nunique()} sellers.</p>
<div class="facts">{fact_html}</div>
<h3>What drives results</h3><p>{_e(rec.goals.drivers_note.split(";")[0].rstrip("."))}.</p><ul class="why">{drv}</ul>
{_img(pl.team_revenue_figure(rev, currency=cur, interval=rec.projection.interval), "Team won revenue by scenario")}
<h3>Teams: won revenue this period</h3>{_table(team_tab, {"Sellers", "Expected", "Range", "Target", "Gap"})}
<h3>Team activity goals (sum of the sellers' focus goals)</h3>
{_table(act_tab, {"Sellers with this focus", "Expected this period", *[f"{x.capitalize()} total (odds)" for x in TIERS]})}
<p class="note">Team goal = the sum of the sellers' goals. Odds that the team's total reaches it (sellers treated as
independent): the sum of every clear goal is near certain, the sum of every stretch goal rare - few teams have every
seller at stretch at once; the expected total and its range sit in between.</p>
<h3>Leader goals (per manager, this period)</h3>{_table(lead_tab, set(lead_tab.columns[2:]))}
<p class="note">{_e(lead_note)}</p>
{_img(pl.seller_revenue_figure(t, currency=cur), "Sellers: revenue at current pace and at stretch")}
<h3>Sellers at a glance</h3>{glance}{cal}
</section>"""


def _team_facts(rec, rev: pd.DataFrame, cur: str) -> str:
    """The headline boxes: sellers, expected revenue and its range, revenue at stretch, target and gap."""
    # without a roster the one team is itself called "(all)": the total is the last row of each scenario
    tot = rev[rev["team"] == "(all)"].drop_duplicates("scenario", keep="last").set_index("scenario")
    cur_row, st = tot.loc["current"], tot.loc["stretch"]
    facts = [("Sellers with goals", f"{rec.table['rep'].nunique()}"),
             ("Expected won revenue", _money(cur_row["revenue"], cur)),
             (f"Range ({rec.projection.interval:.0%})", f"{_money(cur_row['revenue_low'], cur)} - "
                                                         f"{_money(cur_row['revenue_high'], cur)}"),
             ("If all reach stretch", _money(st["revenue"], cur))]  # fmt: skip
    if cur_row["target"] > 0:
        gap = cur_row["gap"]
        facts.append(("Target", _money(cur_row["target"], cur)))
        facts.append(("Gap at current pace" if gap > 0 else "Ahead of target", _money(abs(gap), cur)))
    return "".join(f"<div class='fact'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in facts)


def _teams_revenue_table(rev: pd.DataFrame, cur: str) -> pd.DataFrame:
    """Won revenue per team at current pace and at stretch (target and gap columns only when a target was set)."""
    by_team = rev[(rev["team"] != "(all)") & rev["scenario"].isin(["current", "stretch"])]
    team_tab = pd.DataFrame({
        "Team": by_team["team"].map(_e), "Scenario": by_team["scenario"].map(lambda s: _e(pl._SCENARIO_WORDS[s])),
        "Sellers": by_team["n_reps"], "Expected": by_team["revenue"].map(lambda v: _money(v, cur)),
        "Range": [f"{_money(a, cur)} - {_money(b, cur)}" for a, b in zip(by_team["revenue_low"], by_team["revenue_high"])],
        "Target": by_team["target"].map(lambda v: _money(v, cur) if v else "-"),
        "Gap": by_team["gap"].map(lambda v: _money(v, cur) if v else "-"),
    })  # fmt: skip
    if not (by_team["target"] > 0).any():
        return team_tab.drop(columns=["Target", "Gap"])
    return team_tab


def _team_activity_table(teams: pd.DataFrame) -> pd.DataFrame:
    """The whole team's activity goals: the sum of the sellers' focus goals per activity, with odds."""
    act = teams[teams["team"] == "(all)"]
    return pd.DataFrame({
        "Activity": act["activity"].map(lambda a: _e(activity_label(a).capitalize())),
        "Sellers with this focus": act["n_sellers"],
        "Expected this period": [f"{e:,} ({lo:,} - {hi:,})" for e, lo, hi in
                                 zip(act["expected"], act["expected_low"], act["expected_high"])],
        **{f"{x.capitalize()} total (odds)": [f"{g:,} ({_odds(p)})" for g, p in zip(act[f"goal_{x}_total"],
                                                                                     act[f"p_{x}"])] for x in TIERS},
    })  # fmt: skip


def _odds_check(backtest) -> str:
    """The paragraph comparing stated and realised odds per tier (empty without a backtest)."""
    if backtest is None:
        return ""
    c = backtest.calibration.set_index("tier")
    return ("<h3>How honest are the odds?</h3><p>Goals set the same way at past dates, checked against the "
            "period that followed: " + ", ".join(f"{k} goals stated {c.loc[k, 'stated']:.0%}, reached "
                                                 f"{c.loc[k, 'realised']:.0%}" for k in TIERS)
            + f" ({int(c['n_goals'].iloc[0]):,} goals per tier).</p>")  # fmt: skip


_LEADER_WORDS = {"one_on_ones": "1:1s", "coaching_hours": "Coaching hours", "ride_alongs": "Ride-alongs"}


def _leader_table(leaders: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """One row per manager; the basis of each goal said once below the table."""
    wide = leaders.pivot_table(index=["manager", "n_sellers"], columns="goal", values="total", aggfunc="first")
    wide = wide.reindex(columns=[g for g in _LEADER_WORDS if g in wide.columns]).reset_index()
    wide.columns = ["Manager", "Sellers", *[_LEADER_WORDS[g] for g in wide.columns[2:]]]
    wide["Manager"] = wide["Manager"].map(_e)
    basis = leaders.drop_duplicates("goal").set_index("goal")["basis"]
    note = "; ".join(f"{_LEADER_WORDS.get(g, g)}: {b}" for g, b in basis.items()) + "."
    return wide, note


def _span(rec) -> str:
    a, b = pd.Timestamp(rec.table["period_start"].iloc[0]), pd.Timestamp(rec.table["period_end"].iloc[0])
    return f"{a:%-d %b %Y} to {b:%-d %b %Y} ({rec.goals.horizon} weeks)"


#: Flags in words for the report (``quality_metric`` and the driver verdicts are said elsewhere).
FLAG_WORDS = {
    "inactive": "stopped logging", "declining": "declining", "best_out_of_reach": "old best out of reach",
    "clear_below_recent": "clear under recent level", "falling_trend": "falling", "weak_season": "quiet season",
    "hot_streak": "after a hot streak", "variable_counts": "varies a lot", "short_history": "new: short history",
    "no_history": "no history", "all_zero_history": "none logged", "no_won_deals": "no won deals yet",
    "no_room": "already at best",
}  # fmt: skip


def flags_in_words(flags: str) -> str:
    """``"clear_below_recent;hot_streak;quality_metric"`` -> ``"clear under recent level, after a hot streak"``."""
    return ", ".join(FLAG_WORDS[f] for f in str(flags).split(";") if f in FLAG_WORDS)


def _glance(t: pd.DataFrame) -> str:
    first = t.sort_values(["rep", "priority"], kind="mergesort")
    first = first[first["priority"] == 1].set_index("rep")
    reps = list(t["rep"].unique())
    rows = []
    for r in reps:  # one row per seller (a few dozen)
        link = f"<a href='#{slug(r)}'>{_e(r)}</a>"
        if r in first.index:
            f = first.loc[r]
            rows.append([link, _e(activity_label(f["activity"]).capitalize()), fmt_number(f["recent"]),
                         f"{fmt_number(f['goal_clear'])} ({_odds(f['p_clear'])})",
                         f"{fmt_number(f['goal_stretch'])} ({_odds(f['p_stretch'])})",
                         f"<span class='flag'>{_e(flags_in_words(f['flags']))}</span>"])  # fmt: skip
        else:
            flags = flags_in_words(";".join(sorted({x for fl in t.loc[t["rep"] == r, "flags"] for x in fl.split(";")})))
            rows.append([link, "none", "", "", "", f"<span class='flag'>{_e(flags)}</span>"])
    frame = pd.DataFrame(rows, columns=["Seller", "First focus", "Recent a week", "Clear a week (odds)",
                                        "Stretch a week (odds)", "Watch"])  # fmt: skip
    return _table(frame, {"Recent a week", "Clear a week (odds)", "Stretch a week (odds)"})


def _seller_page(rec, rep: str, views, cur: str) -> str:
    t = rec.table[rec.table["rep"] == rep]
    focus = t[t["priority"] > 0].sort_values("priority")
    shown = focus if len(focus) else t.sort_values("recent", ascending=False).head(2)
    info = t.iloc[0]
    goals = pd.DataFrame({
        "Activity": shown["activity"].map(lambda a: _e(activity_label(a).capitalize())),
        "Focus": shown["priority"].map(lambda p: str(p) if p else "-"), "Recent a week": shown["recent"].map(fmt_number),
        **{f"{x.capitalize()}: a week / total / odds": [
            f"{fmt_number(g)} / {n:,} / {_odds(p)}" for g, n, p in zip(shown[f"goal_{x}"], shown[f"goal_{x}_total"],
                                                                       shown[f"p_{x}"])] for x in TIERS},
    })  # fmt: skip
    why = "".join(f"<li><b>{_e(activity_label(a).capitalize())}</b>: {_e(w)}</li>"
                  for a, w in zip(shown["activity"], shown["why"]))  # fmt: skip
    lm = rec.goals.landmarks
    lm = lm[(lm["rep"] == rep) & lm["activity"].isin(shown["activity"]) & lm["tier"].isin(["clear", "stretch"])]
    wide = lm.pivot_table(index=["activity", "tier"], columns="period_end", values="cumulative", aggfunc="first")
    wide = wide.reindex(sorted(wide.columns), axis=1)
    wide.columns = [f"{pd.Timestamp(c):%-d %b}" for c in wide.columns]
    wide = wide.reset_index()
    wide.insert(0, "Goal", [f"{_e(activity_label(a).capitalize())} ({tr})" for a, tr in zip(wide["activity"],
                                                                                              wide["tier"])])
    wide = wide.drop(columns=["activity", "tier"])
    note = "" if len(focus) else (f"<p class='note'>No focus activity for {_e(rep)}: "
                                  f"{_e(rec.goals.drivers_note)} Shown: the two busiest activities.</p>")  # fmt: skip
    funnel = views["Funnel vs top performers"]
    fun_img = _img(pl.funnel_figure(funnel, rep, currency=cur), f"{rep}'s funnel vs top performers") if (
        rep in set(funnel["Seller"])) else ""  # fmt: skip
    trend = _img(pl.trend_figure(rec.panel, rep, shown, weeks=52, period_start=info["period_start"],
                                 period_end=info["period_end"]), f"{rep}'s weekly activity and goals")  # fmt: skip
    return f"""<section class="page" id="{slug(rep)}">
<a class="back" href="#team">&larr; team</a>
<h2>{_e(rep)}</h2><p class="sub">Team {_e(info['team'])}, manager {_e(info['manager'])}; goals for {_e(_span(rec))}</p>
{note}<h3>Goals for the period</h3>{_table(goals, set(goals.columns[2:]))}
<h3>Why these goals</h3><ul class="why">{why}</ul>{_advance_goals(t)}
<h3>Landmarks: done by the end of each week to stay on pace</h3>{_table(wide, set(wide.columns[1:]))}
{trend}{fun_img}
</section>"""


def _accounts_page(section: dict, views, cur: str) -> str:
    """The key-account page: the section's lines, its figure, the objectives and (when given) the progress."""
    lines = "".join(f"<li>{_e(x)}</li>" for x in section["text"])
    fig = _img(pl.png(section["figure"]), "Key accounts: last 12 months, target and peer potential")
    obj = views["Account objectives"]
    money = {"Last 12 months", "Target", "Peer potential", "Won so far", "Still needed", "Open pipeline"}
    shown = obj.assign(**{c: obj[c].map(lambda x: _money(x, cur)) for c in obj.columns if c in money},
                       **{c: obj[c].map(_odds) for c in obj.columns if "odds" in c.lower()})  # fmt: skip
    out = [f"<h3>Objectives: the largest opportunities</h3>{_table(shown.astype(str).map(_e), set())}"]
    if "Account progress" in views:
        pr = views["Account progress"]
        pr = pr.assign(**{c: pr[c].map(lambda x: _money(x, cur)) for c in pr.columns if c in money},
                       **{c: pr[c].map(_odds) for c in pr.columns if "odds" in c.lower()},
                       **{c: pr[c].map(lambda x: f"{float(x):.0%}") for c in ("Attainment", "Year gone")},
                       Pace=pr["Pace"].map(lambda x: "-" if pd.isna(x) else f"{float(x):.2f}"),
                       **{"Milestone done": pr["Milestone done"].map({True: "yes", False: "no"})})  # fmt: skip
        out.append(f"<h3>Progress against the objectives</h3>{_table(pr.astype(str).map(_e), set())}")
    return f"""<section class="page" id="accounts">
<a class="back" href="#team">&larr; team</a>
<h2>{_e(section["title"])}</h2><ul class="why">{lines}</ul>
{fig}{''.join(out)}
</section>"""


def _advance_goals(t: pd.DataFrame) -> str:
    """The seller's call-outcome goals (advance-rate rows of ``recommend(stage_history=...)``), or nothing."""
    q = t[t["flags"].str.contains("advance_rate", regex=False)]
    if q.empty:
        return ""
    kind = q["activity"].str.replace("_advance_rate", "", regex=False)
    pct = lambda v: f"{float(v):.0%}"  # noqa: E731 - local formatter
    table = pd.DataFrame({
        "Interaction": kind.map(lambda k: _e(activity_label(k).capitalize())),
        "Advance rate now": q["baseline"].map(pct), "Recent": q["recent"].map(pct),
        **{f"{x.capitalize()}: rate / advancing / odds": [
            f"{pct(g)} / {n:,} / {_odds(p)}" for g, n, p in zip(q[f"goal_{x}"], q[f"goal_{x}_total"], q[f"p_{x}"])]
           for x in TIERS},
    })  # fmt: skip
    return ("<h3>Call outcomes: share of interactions that advance a deal</h3>"
            + _table(table, set(table.columns[1:])))  # fmt: skip


def render_html(rec, views, levels, *, currency: str, title: str, accounts: dict | None = None) -> str:
    """The whole report as one HTML string (with a key-account page when ``accounts`` is given)."""
    reps = list(rec.table["rep"].unique())
    nav = "<a href='#team'><b>Team</b></a>\n" + ("<a href='#accounts'><b>Key accounts</b></a>\n" if accounts else "") \
        + "\n".join(f"<a href='#{slug(r)}'>{_e(r)}</a>" for r in reps)  # fmt: skip
    pages = [_team_page(rec, views, levels, currency), *(_seller_page(rec, r, views, currency) for r in reps)]
    if accounts:
        pages.insert(1, _accounts_page(accounts, views, currency))
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_e(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n<header><h1>{_e(title)}</h1><p>Goals for {_e(_span(rec))}; "
            f"history up to {_e(rec.goals.as_of.end_time.date())}; made with salesgoals {_e(__version__)}.</p>"
            f"</header>\n<nav>{nav}</nav>\n" + "\n".join(pages) + "\n</body></html>\n")  # fmt: skip
