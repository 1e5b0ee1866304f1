"""Periods: the one home of the grain check, the period truncation rules and the panel test.

Private module, public names: every package imports these helpers from here
(:mod:`salesgoals.panel` aggregates with :func:`ordinals`, the forecasts index
periods with :func:`pandas_ordinals`, tracking reads days with :func:`to_day`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesgoals._schema import FREQ_ALIASES
from salesgoals._typing import FREQS, Freq

__all__ = ["Freq", "FREQS", "check_freq", "ordinals", "pandas_ordinals", "is_panel", "to_day", "bulk_days",
           "BULK_GRACE_DAYS"]

#: Spellings :func:`check_freq` accepts besides ``W``, ``M`` and ``Q`` (pandas aliases of the same grains).
_ALIASES = ("W-SUN", "W-MON", "Q-DEC")
_NS_PER_DAY = 86_400 * 10**9
#: Dates more than this many days past the 99th percentile (or before the 1st) of a set of dates lie outside its
#: bulk: one deal dated months or years away from the others must not move a window, a horizon or an origin.
BULK_GRACE_DAYS = 31


def check_freq(freq: str, *, func: str = "build_panel") -> str:
    """Normalise ``freq`` to ``"W"``, ``"M"`` or ``"Q"`` or raise ``ValueError`` naming ``func``.

    Examples
    --------
    >>> check_freq("w"), check_freq("Q-DEC")
    ('W', 'Q')
    >>> check_freq("D", func="forecast")
    Traceback (most recent call last):
    ...
    ValueError: forecast: freq must be one of 'W', 'M', 'Q'; got 'D'.
    """
    key = str(freq).upper()
    if key not in FREQS and key not in _ALIASES:
        raise ValueError(f"{func}: freq must be one of 'W', 'M', 'Q'; got {freq!r}.")
    return key[:1]


def ordinals(ts: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Period ordinals of ``datetime64`` timestamps (s, ms, us, ns or D) and a not-NaT mask: THE truncation rule.

    ``W``: weeks since Monday 1969-12-29 (the epoch, 1970-01-01, is a
    Thursday: day ``d`` is in week ``(d + 3) // 7``); ``M``: months since
    1970-01; ``Q``: quarters since 1970Q1.  Floor division keeps dates before
    1970 right.  The ordinal of a NaT is meaningless: use the mask.

    Examples
    --------
    >>> ts = np.array(["1970-01-04", "1970-01-05", "NaT"], dtype="datetime64[D]")
    >>> o, ok = ordinals(ts, "W")
    >>> o[ok].tolist(), ok.tolist()
    ([0, 1], [True, True, False])
    """
    ok = ~np.isnat(ts)
    if freq == "W":
        unit, step = np.datetime_data(ts.dtype)
        per_day = _NS_PER_DAY // int(np.timedelta64(step, unit) / np.timedelta64(1, "ns"))
        # day d is in week (d + 3) // 7, so week = (t + 3 days) // 7 days: one new array, one division
        weeks = ts.view(np.int64) + 3 * per_day
        weeks //= 7 * per_day
        return weeks, ok
    months = ts.astype("datetime64[M]").view(np.int64)
    if freq == "Q":
        months //= 3
    return months, ok


def pandas_ordinals(days: np.ndarray, freq: str) -> np.ndarray:
    """Pandas ``Period`` ordinal of each day (``NaT`` -> a huge negative number).

    The forecasts index their grid with these, so ``pd.PeriodIndex.from_ordinals``
    turns an ordinal back into a period.  Weekly ordinals are one more than
    :func:`ordinals`' (pandas counts the week ending 1970-01-04 as week 1).
    """
    return pd.PeriodIndex(pd.DatetimeIndex(days), freq=FREQ_ALIASES[freq]).asi8


def is_panel(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a rep x period panel (from ``build_panel``) rather than an activity log."""
    return "period" in frame.columns


def to_day(values) -> np.ndarray:
    """Dates (strings, timestamps, tz-aware or not) as ``datetime64[D]``; unparseable values become NaT.

    Examples
    --------
    >>> to_day(["2024-03-01 17:30", None]).astype(str).tolist()
    ['2024-03-01', 'NaT']
    """
    s = pd.Series(values)
    if not pd.api.types.is_datetime64_any_dtype(s):
        s = pd.to_datetime(s, errors="coerce")
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def bulk_days(days: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
    """First and last of a set of days, ignoring isolated days outside the bulk (NaT ignored).

    A day more than :data:`BULK_GRACE_DAYS` before the 1st percentile or
    after the 99th is an outlier (a deal typed as 2031 or 1999): it does not
    move the span.

    Examples
    --------
    >>> days = np.array([*np.arange("2024-01-01", "2024-12-31", dtype="datetime64[D]"), "2031-06-01", "1999-01-01"],
    ...                 dtype="datetime64[D]")
    >>> [str(d) for d in bulk_days(days)]
    ['2024-01-01', '2024-12-30']
    """
    d = np.asarray(days, dtype="datetime64[D]")
    d = d[~np.isnat(d)].view(np.int64)
    lo, hi = np.percentile(d, [1, 99])
    inside = d[(d >= lo - BULK_GRACE_DAYS) & (d <= hi + BULK_GRACE_DAYS)]
    return np.datetime64(int(inside.min()), "D"), np.datetime64(int(inside.max()), "D")
