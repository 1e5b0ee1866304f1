"""Weekly activity counts found while loading, kept for the panel of the very same frame.

:func:`salesgoals.load_activities` sorts a lean log's rows (rep, time, type,
outcome packed into one integer key) to find the rows exported twice
(:mod:`salesgoals._duplicates`).  When the key is laid out week first, that
sort also puts every (week, rep, type, outcome) group side by side, so the
rows of each group are counted at almost no cost.  The loader remembers
those counts (:func:`remember`) for the frame it returns, and
:func:`salesgoals.build_panel` with ``freq="W"`` uses them (:func:`recall`)
instead of counting the rows again, only while the frame is provably the one
the counts describe:

* the same object (the counts are keyed on its identity, and dropped when it
  is garbage-collected); a copy, a filtered frame or a concatenation is
  counted afresh;
* the same column arrays for ``rep``, ``timestamp``, ``activity_type`` and
  ``outcome`` (buffer address, shape, strides and dtype, categories
  included).  Those columns are held beside the counts (shared, not copied), so under
  pandas' copy-on-write every edit made through pandas (``loc``/``iloc``
  assignment, ``replace(inplace=True)``, replacing or deleting a column)
  copies the edited column first: its address changes and the counts are
  dropped.  Writes straight into the arrays behind the frame
  (``acts["rep"].array[0] = ...``) bypass pandas and are not seen.  The cost:
  the first edit of a guarded column copies it (once), and its old array
  stays in memory until ``build_panel`` drops the counts or the frame is
  garbage-collected.

Private module (the ground floor: the loaders and the panel both use it).
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["WeeklyCounts", "remember", "recall", "GUARDED_COLUMNS"]

#: The columns the panel's reduction reads: their arrays must be the ones counted.
GUARDED_COLUMNS = ("rep", "timestamp", "activity_type", "outcome")


@dataclass(frozen=True)
class WeeklyCounts:
    """Rows per (week, categorical codes) group of a loaded activity log, duplicates excluded.

    Attributes
    ----------
    group : numpy.ndarray
        Group number of each count (int64; a group may appear more than once:
        the counts of one group then add up).  A group number is
        ``(week - first_week) * prod(cards) + sum(code + 1 of each column in
        columns, mixed radix by cards)``; code 0 is a missing value.
    n : numpy.ndarray
        Rows of each group (int64, > 0).
    first_week : int
        Week ordinal (:func:`salesgoals._periods.ordinals`, ``W``) of group week 0.
    columns : tuple of str
        The categorical columns in the group number, outermost first.
    cards : tuple of int
        Each column's radix (its categories + 1).
    categories : tuple of list
        Each column's categories when counted (code ``c`` is ``categories[c]``).
    """

    group: np.ndarray
    n: np.ndarray
    first_week: int
    columns: tuple[str, ...]
    cards: tuple[int, ...]
    categories: tuple[list, ...]

    def decoded(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Each count's week ordinal and, per column, its code in ``categories`` (-1: missing)."""
        rest = self.group.copy()
        codes = {}
        for col, card in zip(reversed(self.columns), reversed(self.cards)):
            rest, digit = np.divmod(rest, card)
            codes[col] = digit - 1
        return rest + self.first_week, codes


@dataclass
class _Entry:
    ref: weakref.ref
    view: pd.DataFrame  # the guarded columns, shared: under copy-on-write, an edit of the frame copies the column
    marks: dict
    counts: WeeklyCounts


_REGISTRY: dict[int, _Entry] = {}
_LOCK = threading.Lock()


def _mark(frame: pd.DataFrame, col: str):
    """What identifies the array behind ``frame[col]``: buffer address, shape, strides and dtype."""
    if col not in frame.columns:
        return None
    s = frame[col]
    arr = s.array
    data = np.asarray(arr.codes) if isinstance(arr, pd.Categorical) else s.to_numpy()
    iface = data.__array_interface__
    return iface["data"][0], data.shape, data.strides, s.dtype


def remember(frame: pd.DataFrame, counts: WeeklyCounts) -> None:
    """Keep ``counts`` for ``frame`` (this object, while its guarded columns stay the same arrays)."""
    key = id(frame)
    guarded = [c for c in GUARDED_COLUMNS if c in frame.columns]  # only these columns' arrays are held
    entry = _Entry(weakref.ref(frame), frame[guarded], {c: _mark(frame, c) for c in GUARDED_COLUMNS}, counts)
    with _LOCK:
        _REGISTRY[key] = entry
    weakref.finalize(frame, _forget, key, entry)


def _forget(key: int, entry: _Entry) -> None:
    with _LOCK:
        if _REGISTRY.get(key) is entry:
            del _REGISTRY[key]


def recall(frame: pd.DataFrame) -> WeeklyCounts | None:
    """The counts remembered for ``frame`` if it is still the frame they describe, else None (and they are dropped).

    Examples
    --------
    >>> frame = pd.DataFrame({"rep": pd.Categorical(["a"]), "timestamp": pd.to_datetime(["2024-01-01"]),
    ...                       "activity_type": pd.Categorical(["call"]), "outcome": pd.Categorical([None])})
    >>> counts = WeeklyCounts(np.array([5]), np.array([1]), 2800, ("rep",), (2,), (["a"],))
    >>> remember(frame, counts)
    >>> recall(frame) is counts, recall(frame.copy()) is None
    (True, True)
    >>> frame.loc[0, "rep"] = "a"  # an edit through pandas: the column is copied first
    >>> recall(frame) is None
    True
    """
    with _LOCK:
        entry = _REGISTRY.get(id(frame))
    if entry is None or entry.ref() is not frame:
        return None
    for col, mark in entry.marks.items():
        now = _mark(frame, col)
        if (now is None) != (mark is None) or (now is not None and (now[:3] != mark[:3] or now[3] != mark[3])):
            _forget(id(frame), entry)
            return None
    return entry.counts
