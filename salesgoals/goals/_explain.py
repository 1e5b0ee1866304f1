"""Flags and a plain-words ``why`` for every goal.

Pieces of :func:`salesgoals.personal_best_goals`, each named for what it decides:

* :func:`activity_state` - whether a rep's activity stopped (``inactive``) or collapsed
  (``declining``), and the reasons a clear goal sits well below the recent level;
* :func:`row_flags` - the ``;``-joined flags of each rep x activity;
* :func:`why_text` - one sentence per goal a seller can read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._words import activity_label, fmt_number

__all__ = [
    "month_span", "activity_state", "row_flags", "why_text",
    "DECLINE_RATIO", "DECLINE_FROM_BEFORE", "CLEAR_FLOOR_RATIO", "INACTIVE_EXPECTED", "HOT_STREAK_RATIO",
]  # fmt: skip

#: ``declining``: the recent level is under this share of the best sustained level *and* under
#: :data:`DECLINE_FROM_BEFORE` of the rest of the year (a collapse, not an ordinary quiet streak:
#: on the simulator a steady rep's best 13-week run is typically 1.3-1.6x their recent level).
DECLINE_RATIO = 0.5
DECLINE_FROM_BEFORE = 0.7
#: A clear goal below this share of the recent level carries a reason in ``flags``.
CLEAR_FLOOR_RATIO = 0.8
#: ``hot_streak``: the recent level is this much above the rep's own year level (part of it is
#: expected to fade, so the clear goal sits under the recent level).
HOT_STREAK_RATIO = 1.15
#: ``inactive``: nothing logged in the last few periods where at least this many were expected.
INACTIVE_EXPECTED = 5.0

_UNIT = {"W": ("a week", "weeks"), "M": ("a month", "months"), "Q": ("a quarter", "quarters")}


def activity_state(lv: dict, s_rel: np.ndarray, n_base, min_hist, recent_window: int) -> dict:
    """``inactive`` / ``declining`` masks and the reasons available for a low clear goal (R x M)."""
    look_mean = np.where(np.isfinite(lv["before"]), (lv["before"] + lv["mean_raw"]) / 2, lv["mean_raw"])
    inactive = (lv["last_sum"] == 0) & (look_mean * recent_window >= INACTIVE_EXPECTED)
    declining = ~inactive & (lv["best"] >= 1.0) & (lv["mean_raw"] < DECLINE_RATIO * lv["best"])
    declining &= np.isfinite(lv["before"]) & (lv["mean_raw"] < DECLINE_FROM_BEFORE * np.nan_to_num(lv["before"]))
    falling = np.isfinite(lv["before"]) & (lv["mean_raw"] < 0.85 * lv["before"])
    weak = np.broadcast_to(s_rel < 0.9, lv["mean_raw"].shape)
    short = np.broadcast_to((n_base < min_hist)[:, None], lv["mean_raw"].shape)
    hot = lv["mean_raw"] > HOT_STREAK_RATIO * lv["overall"]
    return {"inactive": inactive, "declining": declining, "falling_trend": falling,
            "weak_season": weak, "short_history": short, "hot_streak": hot}  # fmt: skip


def row_flags(parts: list[tuple[np.ndarray, str]], shape) -> np.ndarray:
    """Join the labels whose mask is true, in the order given, with ``;`` (R x M strings)."""
    out = np.full(shape, "", dtype=object)
    for mask, label in parts:  # a dozen flags, vectorised over rows
        m = np.broadcast_to(mask, shape)
        out = np.where(m, np.where(out == "", label, out + ";" + label), out)
    return out


def month_span(as_of: pd.Period, end_back: np.ndarray, window: int) -> np.ndarray:
    """Month span of a run of ``window`` periods ending ``end_back`` periods before ``as_of``."""
    uniq = np.unique(end_back)
    text = {}
    for b in uniq:  # a few distinct run ends
        last = as_of - int(b)
        first = last - (window - 1)
        a, z = first.start_time, last.end_time
        if window <= 1:
            text[b] = z.strftime("%b %Y")
        elif a.year == z.year:
            text[b] = f"{a:%b}-{z:%b %Y}" if a.month != z.month else f"{z:%b %Y}"
        else:
            text[b] = f"{a:%b %Y}-{z:%b %Y}"
    return np.vectorize(text.get, otypes=[object])(end_back)


def why_text(ctx: dict) -> np.ndarray:
    """One plain sentence per rep x activity: recent level, best sustained, value, flags, goals."""
    recent, best, eff = ctx["recent"], ctx["best_h"], ctx["effect_rev"]
    R, M = recent.shape
    per, unit = _UNIT.get(ctx["freq"], _UNIT["W"])
    span = month_span(ctx["as_of"], ctx["best_end"], ctx["best_window"])
    out = np.empty((R, M), dtype=object)
    for j, act in enumerate(ctx["metrics"]):  # a handful of metrics; the rows are formatted as text
        many, one = activity_label(act, True), activity_label(act, False)
        for r in range(R):
            bits = [f"{fmt_number(recent[r, j])} {many} {per} over the last {ctx['baseline_window']} {unit}",
                    f"best sustained {fmt_number(best[r, j])} ({span[r, j]})"]  # fmt: skip
            if eff[r, j] > 0:
                bits.append(f"each extra {one} brings about {ctx['currency']}{fmt_number(eff[r, j], money=True)} "
                            "in won revenue")  # fmt: skip
            bits += [text for key, text in ctx["notes"] if ctx["masks"][key][r, j]]
            bits.append(f"clear goal {fmt_number(ctx['clear_rate'][r, j])} {per} "
                        f"({int(ctx['clear_total'][r, j]):,} in total, {ctx['p_clear'][r, j]:.0%} odds)")  # fmt: skip
            out[r, j] = "; ".join(bits) + "."
    return out
