"""The duplicate-row rule of the loaders, in one place: when two rows are one record exported twice.

Every path that reads activity rows applies this rule, so every engine counts
the same activities: :func:`salesgoals.load_activities` (and the in-memory
engine of :func:`salesgoals.panel.panel_for`, which loads with it) calls
:func:`activity_duplicates`; the DuckDB engine
(:mod:`salesgoals.panel.scale`) states the same rule in SQL.

The rule for activities (:data:`ACTIVITY_RULE`):

1. Rows are compared on every canonical column after loading
   (:data:`salesgoals._schema.ACTIVITY_COLUMNS`: ``rep``, ``timestamp``,
   ``activity_type``, ``activity_id``, ``deal_id``, ``account``,
   ``outcome``, ``duration_min``), a missing value equal to a missing value.
   Rows already excluded for another reason (no rep, no date ...) take no
   part.  "Earlier" is input order (files in the order given, rows in file
   order).
2. Rows with an activity id: the first row of each ``(activity_type,
   activity_id)`` is kept.  A later row equal to it in every column is
   excluded as ``duplicate_row``; a later row with the same type and id but
   other values as ``duplicate_id`` (one record exported twice, e.g. before
   and after an edit).  Rows with different ids are never duplicates, however
   alike: the CRM says they are two activities.
3. Rows without an activity id, when their timestamps carry a time of day
   (at least one of them is not at midnight): a row equal in every column to
   an earlier one is excluded as ``duplicate_row``.  Without an id an
   activity exported twice and two activities alike look the same; with a
   time of day, the same rep logging the same type at the same minute (or
   second) with the same outcome, duration, deal and account is far more
   likely one activity exported twice, and double counting it would inflate
   that rep's behaviour.
4. Rows without an activity id whose timestamps are all at midnight (dates
   only, e.g. a Salesforce task report): nothing is excluded.  Two calls of
   one rep on one day are expected to look alike; the identical rows are
   counted in the report's notes.

Every exclusion is counted by reason in the data-quality report and warned
once with its count.  Whether the timestamps carry a time of day (rule 3 or 4)
is decided once over all the id-less rows of one load (all its files), on the
loaded timestamps (wall-clock, naive).

Deals (:func:`salesgoals.load_deals`) follow the same idea: with a deal id, a
later row equal in every column to an earlier row of the same id is excluded
(``duplicate_row``) and a later row with the same id but other values is kept
and warned (a deal exported twice after an edit); without an id column, a row
equal in every loaded column to an earlier row is excluded (``duplicate_row``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesgoals._activity_counts import WeeklyCounts
from salesgoals._schema import ACTIVITY_COLUMNS

__all__ = ["ACTIVITY_KEY", "ACTIVITY_RULE", "ActivityDuplicates", "activity_duplicates", "all_missing", "dates_only",
           "identical_rows", "identical_rows_counted", "may_repeat", "sorted_runs", "weekly_key",
           "time_disjoint_parts"]

#: The columns that identify one activity record when the export has ids.
ACTIVITY_KEY: tuple[str, str] = ("activity_type", "activity_id")

#: The activity rule in one sentence (the loader's docstring and README quote it).
ACTIVITY_RULE = (
    "an activity row equal in every loaded column to an earlier row is one activity exported twice and is excluded "
    "(duplicate_row); with an activity id, a later row with the same type and id but other values is excluded too "
    "(duplicate_id, first kept); without an id, identical rows are excluded only when the timestamps carry a time of "
    "day (an export with dates only keeps them: two calls of one rep on one day look alike)"
)

_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


@dataclass(frozen=True)
class ActivityDuplicates:
    """Which rows :data:`ACTIVITY_RULE` excludes.

    Attributes
    ----------
    duplicate_row : numpy.ndarray
        Positions (int64, ascending) of rows equal in every column to an earlier row.
    duplicate_id : numpy.ndarray
        Positions of rows with an earlier row's type and id but other values.
    alike_kept : int
        Id-less rows identical to an earlier one but kept (dates only, rule 4).
    dates_only : bool
        Whether the id-less rows' timestamps are all at midnight.
    weekly : WeeklyCounts or None
        The rows left (every row taking part, less the duplicates) per week
        and categorical codes, when the export has no ids and the search
        could count them on the way (:func:`identical_rows_counted`).
    """

    duplicate_row: np.ndarray
    duplicate_id: np.ndarray
    alike_kept: int = 0
    dates_only: bool = False
    weekly: WeeklyCounts | None = None


_NONE = np.array([], dtype=np.int64)


def activity_duplicates(acts: pd.DataFrame, alive: np.ndarray) -> ActivityDuplicates:
    """Apply :data:`ACTIVITY_RULE` to canonical activities.

    Parameters
    ----------
    acts : pandas.DataFrame
        Canonical activities (every column of ``ACTIVITY_COLUMNS``; ``rep``,
        ``activity_type`` and ``outcome`` categorical, ``timestamp`` datetime64).
    alive : numpy.ndarray of bool
        Rows still kept (the others take no part).

    Returns
    -------
    ActivityDuplicates
        Positions to exclude by reason, and the id-less alike rows kept.

    Examples
    --------
    >>> import pandas as pd
    >>> acts = pd.DataFrame({
    ...     "rep": pd.Categorical(["Ana", "Ana", "Ana"]),
    ...     "timestamp": pd.to_datetime(["2024-03-04 09:00", "2024-03-04 09:00", "2024-03-04 09:01"]),
    ...     "activity_type": pd.Categorical(["call"] * 3), "activity_id": [None] * 3, "deal_id": [None] * 3,
    ...     "account": [None] * 3, "outcome": pd.Categorical([None] * 3), "duration_min": [5.0] * 3})
    >>> activity_duplicates(acts, np.ones(3, bool)).duplicate_row.tolist()
    [1]
    """
    no_ids = all_missing(acts["activity_id"])
    if no_ids:  # an export without ids (no pass over the rows)
        dup_row, dup_id, alone = _NONE, _NONE, alive
    else:
        no_id = acts["activity_id"].isna().to_numpy()
        dup_row, dup_id = _keyed_duplicates(acts, alive & ~no_id)
        alone = alive & no_id
    if np.count_nonzero(alone) < 2:
        return ActivityDuplicates(dup_row, dup_id)
    rows = None if alone.all() else np.flatnonzero(alone)  # None: every row (no 100 MB index built)
    stamps = pd.DatetimeIndex(acts["timestamp"])
    ts = stamps.asi8 if rows is None else stamps.asi8[rows]
    same, weekly = identical_rows_counted(acts, rows, ts, count=no_ids)
    if dates_only(ts, stamps.unit):  # the alike rows are kept: the counts (made without them) do not hold
        return ActivityDuplicates(dup_row, dup_id, alike_kept=int(same.size), dates_only=True)
    return ActivityDuplicates(np.union1d(dup_row, same), dup_id, weekly=weekly)


def _keyed_duplicates(acts: pd.DataFrame, has_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rule 2: later rows (of the kept rows with an id, ``has_key``) of an earlier row's (type, id), equal or not."""
    ids = acts["activity_id"]
    if not has_key.any() or not may_repeat(ids[has_key]):
        return _NONE, _NONE
    pos = np.flatnonzero(has_key)
    kept = acts.iloc[pos]
    shared = kept[list(ACTIVITY_KEY)].duplicated(keep=False).to_numpy()
    if not shared.any():
        return _NONE, _NONE
    cand = kept.loc[shared]
    dup_row = cand.duplicated(list(ACTIVITY_COLUMNS), keep="first").to_numpy()
    dup_key = cand.duplicated(list(ACTIVITY_KEY), keep="first").to_numpy() & ~dup_row
    at = pos[np.flatnonzero(shared)]
    return at[dup_row], at[dup_key]


def dates_only(ts: np.ndarray, unit: str) -> bool:
    """Whether every timestamp (int64 in ``unit``) is at midnight: an export of dates without a time of day."""
    return all_multiples(ts, 86_400 * _PER_SECOND[unit])


def identical_rows(out: pd.DataFrame, rows: np.ndarray | None, ts: np.ndarray, *,
                   min_split_rows: int = 2_000_000) -> np.ndarray:
    """Rows (of ``rows``; None: every row) equal in every loaded column to an earlier one, ascending.

    Cheap on millions of rows.  When the values fit (the usual rep, time, type
    export), each row's values are packed exactly into one integer with its
    position in the low bits, and one sort puts copies side by side, earliest
    first.  Otherwise a hash of the parsed columns is sorted to find the few
    repeated hashes; only the rows carrying one are compared column by column
    (a hash collision only adds a candidate).  When the timestamps are in time
    order (as most exports are written), the rows are cut into parts that share
    no timestamp, so no copy spans two parts, and the parts are searched on two
    threads (numpy releases the GIL while it packs and sorts) when there are
    at least ``min_split_rows`` rows.  A log of a few runs each in time order
    (exports stacked one after another) is packed on two threads and each run
    is cut at one middle timestamp: the early parts of every run are searched
    on one thread, the late parts on the other (:func:`sorted_runs`).
    """
    return identical_rows_counted(out, rows, ts, min_split_rows=min_split_rows)[0]


def identical_rows_counted(out: pd.DataFrame, rows: np.ndarray | None, ts: np.ndarray, *, count: bool = True,
                           min_split_rows: int = 2_000_000) -> tuple[np.ndarray, WeeklyCounts | None]:
    """:func:`identical_rows`, and with ``count`` the rows left per week and categorical codes when found on the way.

    The counts come from the same sort: with a key laid out week first
    (:func:`weekly_key`), the rows of one (week, rep, type, outcome) sit side
    by side once sorted, so each group's rows less its copies are counted
    from where the groups change.  None when the key does not fit that layout
    (or the search had to hash), and then the search is as before.
    """
    span = (int(ts.min()), int(ts.max())) if count and ts.size else None
    parts = time_disjoint_parts(ts, min_rows=min_split_rows)
    if len(parts) == 1:
        runs = sorted_runs(ts, min_rows=min_split_rows)
        found = None if runs is None else _identical_by_time_halves(out, rows, ts, runs, span)
        if found is not None:
            return found
        later, counts = _identical_in_part(out, rows, ts, slice(0, ts.size), span)
        return later, _joined_counts([counts])
    with ThreadPoolExecutor(len(parts)) as pool:
        found = list(pool.map(lambda part: _identical_in_part(out, rows, ts, part, span), parts))
    later = np.concatenate([f[0] for f in found])  # parts in row order, each ascending
    return later, _joined_counts([f[1] for f in found])


def _joined_counts(found: list) -> WeeklyCounts | None:
    """One :class:`WeeklyCounts` of several searches' ``(group, n, layout)`` (one layout); None if any has none."""
    if not found or any(f is None for f in found):
        return None
    layout = found[0][2]
    group = np.concatenate([f[0] for f in found])
    n = np.concatenate([f[1] for f in found])
    return WeeklyCounts(group, n, layout.first_week, layout.columns, layout.cards, layout.categories)


def time_disjoint_parts(ts: np.ndarray, *, min_rows: int = 2_000_000) -> list[slice]:
    """Consecutive row ranges of ``ts`` that share no timestamp: two when ``ts`` is in time order, else one.

    Rows equal in every column have equal timestamps, so in a log sorted by
    time (either way) a cut between two different timestamps separates no copy
    from its original.  Below ``min_rows`` rows, or on one core, one part.

    Examples
    --------
    >>> time_disjoint_parts(np.array([1, 2, 2, 2, 3, 4]), min_rows=2)
    [slice(0, 4, None), slice(4, 6, None)]
    >>> time_disjoint_parts(np.array([3, 1, 2]), min_rows=2)
    [slice(0, 3, None)]
    """
    n = ts.size
    whole = [slice(0, n)]
    if n < max(min_rows, 2) or (os.cpu_count() or 1) < 2:
        return whole
    if not (_monotonic(ts, np.greater_equal) or _monotonic(ts, np.less_equal)):
        return whole
    mid = n // 2
    change = ts[mid:] != ts[mid - 1]
    cut = mid + int(np.argmax(change))
    if not change[cut - mid]:  # one timestamp from the middle to the end
        return whole
    return [slice(0, cut), slice(cut, n)]


def _monotonic(ts: np.ndarray, order, block: int = 1 << 20) -> bool:
    """Whether ``order(ts[i + 1], ts[i])`` holds everywhere, block by block (a log out of order stops early).

    Examples
    --------
    >>> rising = np.greater_equal
    >>> _monotonic(np.array([1, 2, 2, 3]), rising, block=2), _monotonic(np.array([1, 2, 3, 2]), rising, block=2)
    (True, False)
    """
    for i in range(0, ts.size - 1, block):
        part = ts[i : i + block + 1]  # one value of overlap: every neighbouring pair is compared
        if not order(part[1:], part[:-1]).all():
            return False
    return True


def sorted_runs(ts: np.ndarray, *, min_rows: int = 2_000_000, max_runs: int = 64) -> list[slice] | None:
    """The runs of ``ts`` in rising order when there are at most ``max_runs`` (stacked sorted exports); else None.

    None too below ``min_rows`` rows or on one core (the search then runs as one part).

    Examples
    --------
    >>> sorted_runs(np.array([1, 2, 5, 0, 3, 3, 4]), min_rows=2)
    [slice(0, 3, None), slice(3, 7, None)]
    >>> sorted_runs(np.array([3, 1, 2, 0]), min_rows=2, max_runs=2) is None
    True
    """
    n = ts.size
    if n < max(min_rows, 2) or (os.cpu_count() or 1) < 2:
        return None
    starts = np.flatnonzero(ts[1:] < ts[:-1]) + 1
    if starts.size + 1 > max_runs:
        return None
    bounds = [0, *starts.tolist(), n]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def _identical_by_time_halves(out: pd.DataFrame, rows: np.ndarray | None, ts: np.ndarray, runs: list[slice],
                              span: tuple[int, int] | None = None) -> tuple[np.ndarray, WeeklyCounts | None] | None:
    """:func:`identical_rows` of a log in sorted ``runs``, on two threads; None when the values do not pack.

    Rows equal in every column have equal timestamps, so cutting each run at
    one middle timestamp (a binary search per run) puts every copy on the
    same side as its original: the rows before the middle and the rows from
    it are searched apart, each on its own thread.  The key of every row
    (with its position in the low bits) is packed on two threads straight
    into its side's half of one array: the early rows of every run, then the
    late ones (no copy to gather the halves).
    """
    n = ts.size
    pos_bits = max(int(n - 1).bit_length(), 1)
    sample = np.sort(ts[:: max(1, n // 20_000)])
    middle = sample[sample.size // 2]
    cuts = [r.start + int(np.searchsorted(ts[r], middle, side="left")) for r in runs]
    halves = [[(r.start, c) for r, c in zip(runs, cuts)], [(c, r.stop) for r, c in zip(runs, cuts)]]
    key, layout = _search_key(out, rows, ts, pos_bits, span, threads=2, segments=halves)  # early rows, then late
    if key is None:
        return None
    n_early = sum(b - a for a, b in halves[0])
    early, late = key[:n_early], key[n_early:]  # views: each sorted in place on its thread
    shift = None if layout is None else layout.group_shift
    with ThreadPoolExecutor(2) as pool:
        found = list(pool.map(lambda k: _later_copies(k, pos_bits, shift), (early, late)))
    later = np.sort(np.concatenate([f[0] for f in found]))  # positions in ts: the two halves interleave
    counts = None if layout is None else _joined_counts([(*f[1], layout) for f in found])
    return (later if rows is None else rows[later]), counts


def _search_key(out, rows, ts, pos_bits: int, span, threads: int = 1, segments: list | None = None):
    """``(key, layout)``: the week-first key when counting (``span``) and it fits, else the packed key and None."""
    if span is not None:
        weekly = weekly_key(out, rows, ts, pos_bits=pos_bits, span=span, threads=threads, segments=segments)
        if weekly is not None:
            return weekly
    return packed_key(out, rows, ts, 63 - pos_bits, pos_bits=pos_bits, threads=threads, segments=segments), None


def _identical_in_part(out: pd.DataFrame, rows: np.ndarray | None, ts: np.ndarray, part: slice,
                       span: tuple[int, int] | None = None) -> tuple[np.ndarray, tuple | None]:
    """:func:`identical_rows` of the rows ``part`` (a range of positions in ``ts``), as positions of ``out``,
    and (with ``span``, when the week-first key fits) the part's ``(group, n, layout)`` counts."""
    sub_rows = part if rows is None else rows[part]  # a slice of out's rows is a view of each column
    sub_ts = ts[part]
    pos_bits = max(int(sub_ts.size - 1).bit_length(), 1)
    key, layout = _search_key(out, sub_rows, sub_ts, pos_bits, span)
    if key is not None:
        later, groups = _later_copies(key, pos_bits, None if layout is None else layout.group_shift)
        counts = None if layout is None else (*groups, layout)
        return (later + part.start if rows is None else sub_rows[later]), counts
    sub_rows = np.arange(part.start, part.stop) if rows is None else sub_rows
    h = _row_hash(out, sub_rows, sub_ts)
    srt = np.sort(h)
    repeated = srt[1:][srt[1:] == srt[:-1]]
    if not repeated.size:
        return np.array([], dtype=np.int64), None
    size = 1 << 22  # bucket filter: rows whose hash may repeat
    hit = np.zeros(size, dtype=bool)
    hit[(repeated & np.uint64(size - 1)).astype(np.int64)] = True
    cand = sub_rows[hit[(h & np.uint64(size - 1)).astype(np.int64)]]
    dup = out.iloc[cand][list(ACTIVITY_COLUMNS)].duplicated(keep="first").to_numpy()
    return cand[dup], None


_BLOCK = 1 << 20  # rows per block of the passes below: their temporaries stay small (no 100 MB page faults)
_CACHE_BLOCK = 1 << 16  # rows per block of the packing: each block's steps run on data still in the CPU's cache


def _later_copies(key: np.ndarray, pos_bits: int,
                  group_shift: int | None = None) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Positions (ascending) of the keys equal to an earlier key; ``key`` holds each row's position in its low
    ``pos_bits`` bits (:func:`packed_key`), so copies sort earliest first; it is sorted in place.

    With ``group_shift`` (a week-first key, :func:`weekly_key`), also each group's number (the key's bits from
    ``group_shift`` up) and its rows less its copies, found from where the sorted keys change group.
    """
    key.sort()
    low = np.int64((1 << pos_bits) - 1)
    found, starts, copies = [], [], []
    for i in range(0, key.size - 1, _BLOCK):
        part = key[i : i + _BLOCK + 1]  # one key of overlap: each pair of neighbours is seen once
        change = np.bitwise_xor(part[1:], part[:-1])
        same = change <= low  # same values, another position
        found.append(part[1:][same] & low)
        if group_shift is not None:
            starts.append(np.flatnonzero(change >= np.int64(1 << group_shift)) + (i + 1))
            copies.append(np.flatnonzero(same) + (i + 1))
    later = np.concatenate(found) if found else np.array([], dtype=np.int64)
    later.sort()
    if group_shift is None or not key.size:
        return later, (None if group_shift is None else (_NONE, _NONE))
    first = np.concatenate([np.zeros(1, dtype=np.int64), *starts])
    n = np.diff(np.append(first, key.size))
    if later.size:  # each copy is in its original's group: one row fewer there
        n -= np.bincount(np.searchsorted(first, np.concatenate(copies), side="right") - 1, minlength=first.size)
    return later, (key[first] >> group_shift, n)


def packed_key(out: pd.DataFrame, rows: np.ndarray | slice | None, ts: np.ndarray, bits: int, *,
               pos_bits: int = 0, threads: int = 1, segments: list | None = None) -> np.ndarray | None:
    """Each row's time and categorical codes packed exactly into ``bits`` bits; None when they do not fit.

    Only for rows whose text and duration columns are missing everywhere (a
    lean rep, time, type export): those columns cannot then tell rows apart.
    The time is counted in its resolution (minutes, seconds or finer) from the
    earliest; each categorical column then takes ``code + 1`` (0: missing) in
    the next digits; with ``pos_bits``, the row's position (in ``ts``) fills
    that many low bits below them.  The key is built block by block, every
    step of a block while it is in the CPU's cache (one pass over the rows, no
    full-length temporaries), on ``threads`` threads.  ``rows`` None: every
    row (a slice: a range of rows, read as views).  ``segments`` (one list of
    row ranges per thread) orders the key: the ranges one after another.
    """
    if not all(all_missing(out[col]) for col in ("deal_id", "account", "duration_min")):
        return None
    if not ts.size:
        return np.zeros(0, dtype=np.int64)
    per_s = _PER_SECOND[pd.DatetimeIndex(out["timestamp"]).unit]
    lo, hi = int(ts.min()), int(ts.max())
    cols = []  # (codes of the rows, cardinality incl. missing)
    room = 1
    for col in ("rep", "activity_type", "outcome"):
        cat = out[col].array
        card = len(cat.categories) + 1
        if card > 1:
            room *= card
            cols.append((cat.codes if rows is None else cat.codes[rows], card))  # a view when rows is a slice / None
    for step in (60 * per_s, per_s, 1):  # the time's resolution: minutes, seconds, or finer
        if (hi - lo) // step + 1 > (1 << bits) // room:
            return None  # finer steps only need more room
        key = _pack_blocks(ts, lo, step, cols, pos_bits, threads, segments)
        if key is not None:
            return key
    return None  # pragma: no cover - step 1 always divides


def _key_start(ts: np.ndarray, cols: list) -> tuple[int, int, np.ndarray]:
    """Rows, the offset that the +1 of every column's code adds to a packed key, and the key's (empty) array."""
    offset = 0
    for _, card in cols:
        offset = offset * card + 1
    return ts.size, offset, np.empty(ts.size, dtype=np.int64)


def _pack_blocks(ts: np.ndarray, lo: int, step: int, cols: list, pos_bits: int, threads: int = 1,
                 segments: list | None = None) -> np.ndarray | None:
    """:func:`packed_key`'s packing with the time counted in ``step``; None as soon as a time is not a multiple.

    With ``threads=2`` the two halves of the rows are packed on two threads (numpy releases the GIL).
    """
    n, offset, key = _key_start(ts, cols)

    def pack(a: int, b: int, dst: int) -> bool:
        since = np.empty(min(_CACHE_BLOCK, n), dtype=np.int64)  # time since ``lo``, then its whole steps' part
        whole = np.empty_like(since)
        for i in range(a, b, _CACHE_BLOCK):
            j = min(i + _CACHE_BLOCK, b)
            k = key[dst + i - a : dst + j - a]
            if step > 1:  # a floor division and a product: several times faster than % in numpy
                t, w = since[: k.size], whole[: k.size]
                np.subtract(ts[i:j], lo, out=t)
                np.floor_divide(t, step, out=k)
                np.multiply(k, step, out=w)
                if not np.array_equal(w, t):
                    return False
            else:
                np.subtract(ts[i:j], lo, out=k)
            for codes, card in cols:
                k *= card
                k += codes[i:j]
            if offset:
                k += offset
            if pos_bits:
                k <<= pos_bits
                k |= np.arange(i, j, dtype=np.int64)
        return True

    return key if _run_packing(pack, n, threads, segments) else None


@dataclass(frozen=True)
class _WeekLayout:
    """Where :func:`weekly_key` put each part of the key (see :class:`WeeklyCounts` for the group number)."""

    group_shift: int
    first_week: int
    columns: tuple[str, ...]
    cards: tuple[int, ...]
    categories: tuple[list, ...]


def weekly_key(out: pd.DataFrame, rows: np.ndarray | slice | None, ts: np.ndarray, *, pos_bits: int,
               span: tuple[int, int] | None = None, threads: int = 1,
               segments: list | None = None) -> tuple[np.ndarray, _WeekLayout] | None:
    """:func:`packed_key` laid out week first: ``(group, time into the week, position)``; None when it does not fit.

    The group is the row's Monday-based week (the panel's, counted from the
    first week of ``span``, the earliest and latest timestamps; default:
    ``ts``'s) and its categorical codes, so rows of one week, rep, type and
    outcome sort side by side.  The time into the week is in whole minutes,
    else whole seconds; a key that needs more than 63 bits, or times finer
    than seconds, gives None (the caller then uses :func:`packed_key`).

    Examples
    --------
    >>> acts = pd.DataFrame({"rep": pd.Categorical(["a", "b", "a"]), "activity_type": pd.Categorical(["call"] * 3),
    ...     "outcome": pd.Categorical([None] * 3), "deal_id": [None] * 3, "account": [None] * 3,
    ...     "duration_min": [np.nan] * 3,
    ...     "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-08 09:00", "2024-01-08 09:01"]).as_unit("us")})
    >>> key, layout = weekly_key(acts, None, acts["timestamp"].to_numpy().view(np.int64), pos_bits=2)
    >>> layout.columns, layout.cards  # group = (week * 3 + rep code + 1) * 2 + type code + 1
    (('rep', 'activity_type'), (3, 2))
    >>> (key >> layout.group_shift).tolist()  # weeks 0, 1, 1; reps a, b, a; all calls
    [3, 11, 9]
    """
    if not ts.size or not all(all_missing(out[col]) for col in ("deal_id", "account", "duration_min")):
        return None
    per_s = _PER_SECOND[pd.DatetimeIndex(out["timestamp"]).unit]
    per_day, week = 86_400 * per_s, 7 * 86_400 * per_s
    lo, hi = span if span is not None else (int(ts.min()), int(ts.max()))
    first = (lo + 3 * per_day) // week  # the rule of salesgoals._periods.ordinals: day d is in week (d + 3) // 7
    names, cols, cats = [], [], []
    room = (hi + 3 * per_day) // week - first + 1
    for col in ("rep", "activity_type", "outcome"):
        cat = out[col].array
        card = len(cat.categories) + 1
        if card > 1:
            names.append(col)
            cats.append(list(cat.categories))
            cols.append((cat.codes if rows is None else cat.codes[rows], card))
            room *= card
    group_bits = max(int(room - 1).bit_length(), 1)
    for step in (60 * per_s, per_s):  # whole minutes, else whole seconds
        time_bits = max(int(week // step - 1).bit_length(), 1)
        if group_bits + time_bits + pos_bits > 63:
            return None  # seconds need more bits than minutes
        key = _pack_weekly(ts, first * week - 3 * per_day, step, week // step, time_bits, cols, pos_bits, threads,
                           segments)
        if key is not None:
            layout = _WeekLayout(time_bits + pos_bits, first, tuple(names), tuple(c for _, c in cols), tuple(cats))
            return key, layout
    return None


def _pack_weekly(ts: np.ndarray, base: int, step: int, per_week: int, time_bits: int, cols: list, pos_bits: int,
                 threads: int = 1, segments: list | None = None) -> np.ndarray | None:
    """:func:`weekly_key`'s packing, block by block in the CPU's cache; None as soon as a time is not whole steps.

    ``base`` is the Monday 00:00 of the first week (in ``ts``'s unit).
    """
    n, offset, key = _key_start(ts, cols)

    def pack(a: int, b: int, dst: int) -> bool:
        since = np.empty(min(_CACHE_BLOCK, n), dtype=np.int64)
        other = np.empty_like(since)
        for i in range(a, b, _CACHE_BLOCK):
            j = min(i + _CACHE_BLOCK, b)
            k, t, w = key[dst + i - a : dst + j - a], since[: j - i], other[: j - i]
            np.subtract(ts[i:j], base, out=t)
            np.floor_divide(t, step, out=k)  # whole steps since the first Monday
            np.multiply(k, step, out=w)
            if not np.array_equal(w, t):
                return False
            np.floor_divide(k, per_week, out=w)  # the week, from the first
            np.multiply(w, per_week, out=t)
            np.subtract(k, t, out=t)  # steps into the week
            k[...] = w
            for codes, card in cols:
                k *= card
                k += codes[i:j]
            if offset:
                k += offset
            k <<= time_bits
            k |= t
            if pos_bits:
                k <<= pos_bits
                k |= np.arange(i, j, dtype=np.int64)
        return True

    return key if _run_packing(pack, n, threads, segments) else None


def _run_packing(pack, n: int, threads: int, segments: list | None) -> bool:
    """Run ``pack(a, b, dst)`` (rows ``a:b`` of ``ts`` into the key from ``dst``) over the rows; False if any fails.

    ``segments``: one list of ``(a, b)`` row ranges per thread, written one after another in that order (the
    key's order); default: every row in order, in two halves on two threads when ``threads`` is 2.
    """
    if segments is None:
        half = n // 2
        segments = [[(0, n)]] if threads < 2 or n < 2 * _CACHE_BLOCK else [[(0, half)], [(half, n)]]
    jobs, dst = [], 0
    for part in segments:
        jobs.append([(a, b, dst + sum(d - c for c, d in part[:m])) for m, (a, b) in enumerate(part)])
        dst += sum(b - a for a, b in part)
    if len(jobs) == 1:
        return all(pack(*job) for job in jobs[0])
    with ThreadPoolExecutor(len(jobs)) as pool:
        return all(pool.map(lambda job: all(pack(*one) for one in job), jobs))


def all_missing(values: pd.Series) -> bool:
    """Whether every value is missing; free for Arrow-backed text (Arrow keeps the null count).

    Examples
    --------
    >>> all_missing(pd.Series([None, None], dtype="str")), all_missing(pd.Series([np.nan, 1.0]))
    (True, False)
    """
    arr = values.array
    if not len(arr):
        return True
    if isinstance(arr, pd.Categorical):
        return int(arr.codes[0]) < 0 and int(arr.codes.max()) < 0
    if hasattr(arr, "__arrow_array__"):
        return arr.__arrow_array__().null_count == len(arr)
    return pd.isna(arr[0]) and not values.notna().any()  # a first value settles most columns at once


def all_multiples(values: np.ndarray, step: int, block: int = 1 << 20) -> bool:
    """Whether every value is a multiple of ``step``, checked block by block (small temporaries, early exit).

    A floor division and a product per block: integer division by a scalar is
    several times faster than ``%`` in numpy.

    Examples
    --------
    >>> all_multiples(np.array([0, -120, 60]), 60), all_multiples(np.array([0, 61]), 60)
    (True, False)
    """
    buf = np.empty(min(block, values.size), dtype=values.dtype)
    for i in range(0, values.size, block):
        part = values[i : i + block]
        q = buf[: part.size]
        np.floor_divide(part, step, out=q)
        q *= step
        if not np.array_equal(q, part):
            return False
    return True


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _row_hash(out: pd.DataFrame, rows: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row's loaded values (columns missing everywhere are skipped)."""
    h = ts.view(np.uint64).copy()
    with np.errstate(over="ignore"):
        for col in ACTIVITY_COLUMNS:
            s = out[col]
            if col in ("timestamp", "activity_id"):
                continue
            if isinstance(s.dtype, pd.CategoricalDtype):
                if len(s.cat.categories) < 2 and not s.hasnans:
                    continue
                v = s.cat.codes.to_numpy()[rows].astype(np.uint64)
            elif col == "duration_min":
                d = s.to_numpy(dtype=float)[rows]
                if np.isnan(d).all():
                    continue
                v = np.nan_to_num(d, nan=-1.0).view(np.uint64)
            else:
                if s.isna().all():
                    continue
                v = pd.util.hash_array(s.to_numpy(dtype=object)[rows])
            h = (h ^ v) * _MIX
            h ^= h >> np.uint64(29)
    return h


def may_repeat(ids: pd.Series) -> bool:
    """False when the ids are provably unique by a cheap vectorised check.

    Hashing ten million distinct strings costs seconds, so first try what is
    cheap: ids in strictly increasing or decreasing order cannot repeat,
    compared first as text (one Arrow pass, ~0.04 s on ten million ids), then,
    for numeric ids (HubSpot Record ID, Pipedrive ID), as integers.  Only
    otherwise does the caller run the full duplicate search.
    """
    arr = pa.array(ids.array) if not isinstance(ids.array, np.ndarray) else pa.array(ids.to_numpy(dtype=object))
    arr = arr.drop_null() if arr.null_count else arr
    if len(arr) < 2:
        return False
    if len(arr) < 200_000:
        return True  # small: the exact search is fast anyway
    head, tail = arr.slice(0, len(arr) - 1), arr.slice(1)
    try:  # ids in strictly increasing or decreasing text order: one pass of Arrow comparisons
        if pc.all(pc.less(head, tail)).as_py() or pc.all(pc.greater(head, tail)).as_py():
            return False
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    try:  # numeric ids whose text is not ordered ('9' before '10')
        ints = pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return True
    if (ints[1:] > ints[:-1]).all() or (ints[1:] < ints[:-1]).all():  # monotonic: cannot repeat
        return False
    srt = np.sort(ints)
    return bool((srt[1:] == srt[:-1]).any())
