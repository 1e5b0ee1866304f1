"""Figures for the manager's report: titles in words, currency with thousands separators, month axes,
names on points.  Each returns a base64 PNG (the report embeds it; no network, no files).
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from salesgoals._typing import TIERS  # noqa: E402
from salesgoals._words import activity_label  # noqa: E402

__all__ = ["png", "team_revenue_figure", "seller_revenue_figure", "trend_figure", "funnel_figure", "TIER_COLORS"]

TIER_COLORS = {"current": "#7f8c8d", "clear": "#2e8b57", "stretch": "#e69f00", "extraordinary": "#c0392b"}
_SCENARIO_WORDS = {"current": "Current pace", "clear": "Clear goals", "stretch": "Stretch goals",
                   "extraordinary": "Extraordinary goals"}  # fmt: skip


def _tex_safe(currency: str) -> str:
    """``$`` starts maths in matplotlib text: escape it."""
    return currency.replace("$", r"\$")


def money_formatter(currency: str) -> FuncFormatter:
    """Axis ticks as ``$1.2M`` / ``$350k`` / ``$900``."""
    currency = _tex_safe(currency)

    def fmt(x, _pos=None):
        a = abs(x)
        if a >= 1e6:
            return f"{currency}{x / 1e6:,.1f}M"
        if a >= 1e4:
            return f"{currency}{x / 1e3:,.0f}k"
        return f"{currency}{x:,.0f}"

    return FuncFormatter(fmt)


def png(fig) -> str:
    """The figure as a base64 PNG string (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax):
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="both", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)


def team_revenue_figure(revenue: pd.DataFrame, *, currency: str, interval: float) -> str:
    """Team won revenue for the period per scenario, with the joint interval and the target."""
    r = revenue[revenue["team"] == "(all)"].set_index("scenario").loc[["current", *TIERS]]
    cur = _tex_safe(currency)
    fig, ax = plt.subplots(figsize=(7.5, 3.0))
    y = np.arange(len(r))[::-1]
    ax.barh(y, r["revenue"], color=[TIER_COLORS[s] for s in r.index], height=0.6)
    ax.errorbar(r["revenue"], y, xerr=[r["revenue"] - r["revenue_low"], r["revenue_high"] - r["revenue"]],
                fmt="none", ecolor="#333333", capsize=4, linewidth=1)  # fmt: skip
    for yi, v in zip(y, r["revenue"]):
        ax.text(v * 0.02, yi, f"{cur}{v:,.0f}", va="center", ha="left", fontsize=8, color="white", fontweight="bold")
    if r["target"].max() > 0:
        ax.axvline(r["target"].iloc[0], color="#1f3a93", linestyle="--", linewidth=1.5,
                   label=f"Target {cur}{r['target'].iloc[0]:,.0f}")  # fmt: skip
        ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9)
    ax.set_yticks(y, [_SCENARIO_WORDS[s] for s in r.index])
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel(f"Won revenue this period (bars: expected; lines: {interval:.0%} range)")
    ax.set_title("Team won revenue: current pace and if every seller reaches each goal", loc="left", fontsize=11)
    ax.set_ylim(-0.6, len(r) + 0.2)
    _style(ax)
    return png(fig)


def seller_revenue_figure(table: pd.DataFrame, *, currency: str) -> str:
    """Each seller's expected won revenue at current pace and at stretch goals, one named row per seller."""
    per = table.drop_duplicates("rep").sort_values("projected_revenue_current", kind="mergesort")
    n = len(per)
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.24 * n + 1.0)))
    y = np.arange(n)
    x0, x1 = per["projected_revenue_current"].to_numpy(float), per["projected_revenue_stretch"].to_numpy(float)
    ax.hlines(y, x0, x1, color="#cccccc", linewidth=2.5, zorder=1)
    ax.scatter(x0, y, color=TIER_COLORS["current"], zorder=3, s=28, label="current pace")
    ax.scatter(x1, y, color=TIER_COLORS["stretch"], zorder=3, s=28, label="at stretch goals")
    for yi, a, b in zip(y, x0, x1):
        ax.text(max(a, b), yi, f"  +{_tex_safe(currency)}{max(b - a, 0):,.0f}", va="center", fontsize=7,
                color="#555555")  # fmt: skip
    ax.set_yticks(y, per["rep"], fontsize=8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, max(x1.max(initial=1), x0.max(initial=1)) * 1.18)
    ax.xaxis.set_major_formatter(money_formatter(currency))
    ax.set_xlabel("Expected won revenue this period")
    ax.set_title("Sellers: expected won revenue now and what reaching stretch would add", loc="left", fontsize=11)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    _style(ax)
    return png(fig)


def trend_figure(panel: pd.DataFrame, rep: str, rows: pd.DataFrame, *, weeks: int, period_start, period_end) -> str:
    """A seller's weekly counts of their focus activities (last year) and the goal rates for the period."""
    hist = panel[panel["rep"].astype(str) == rep].sort_values("period").tail(weeks)
    acts = list(rows["activity"])[:3]
    fig, axes = plt.subplots(1, len(acts), figsize=(7.5, 2.6), squeeze=False)
    start, end = pd.Timestamp(period_start), pd.Timestamp(period_end)
    for ax, act in zip(axes[0], acts):
        row = rows[rows["activity"] == act].iloc[0]
        when = hist["period"].dt.start_time
        ax.plot(when, hist[act], color="#b0b0b0", linewidth=0.8, label="each week")
        ax.plot(when, hist[act].rolling(4, min_periods=1).mean(), color="#34495e", linewidth=1.8,
                label="4-week average")  # fmt: skip
        ax.axvspan(start, end, color="#f3f3f3")
        for tier in TIERS:
            ax.hlines(row[f"goal_{tier}"], start, end, color=TIER_COLORS[tier], linewidth=2, label=f"{tier} goal")
        ax.set_title(f"{activity_label(act).capitalize()} a week", loc="left", fontsize=10)
        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_ylim(bottom=0)
        _style(ax)
    axes[0][0].legend(loc="upper left", fontsize=7, frameon=False, ncol=2)
    fig.suptitle(f"{rep}: the last {weeks} weeks and the goals for the coming period (shaded)", x=0.01, ha="left",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    return png(fig)


def funnel_figure(funnel: pd.DataFrame, rep: str, *, currency: str) -> str:
    """The seller's funnel as a share of the top performers' (100 % = top-performer median)."""
    cols = ["Deals created a week", "Win rate", "Average deal", "Won revenue a week"]
    me = funnel.set_index("Seller").loc[rep, cols].astype(float)
    top = funnel.set_index("Seller").loc["Top performers", cols].astype(float)
    share = np.where(top > 0, me / top.replace(0, np.nan), 0.0)
    share = np.nan_to_num(share) * 100
    fig, ax = plt.subplots(figsize=(7.5, 2.2))
    y = np.arange(len(cols))[::-1]
    ax.barh(y, share, color="#5d8aa8", height=0.55)
    ax.axvline(100, color="#1f3a93", linestyle="--", linewidth=1)
    cur = _tex_safe(currency)
    labels = {"Deals created a week": lambda v: f"{v:.1f}", "Win rate": lambda v: f"{v:.0%}",
              "Average deal": lambda v: f"{cur}{v:,.0f}", "Won revenue a week": lambda v: f"{cur}{v:,.0f}"}
    for yi, c, s in zip(y, cols, share):
        ax.text(s + 2, yi, f"{labels[c](me[c])} vs {labels[c](top[c])}", va="center", fontsize=8)
    ax.set_yticks(y, cols)
    ax.set_xlim(0, max(160, float(np.max(share, initial=0)) + 60))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}%"))
    ax.set_xlabel("Share of the top performers' median (dashed line = 100%)")
    ax.set_title(f"{rep}'s funnel over the last year vs the top quarter of sellers", loc="left", fontsize=11)
    _style(ax)
    return png(fig)
