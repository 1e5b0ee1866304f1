"""Build the rep x period panel that every model in salesgoals works on.

The panel has one row per rep and period inside the rep's active span, one
column per activity type and quality metric, and the deal outcomes of the
period.  It is the only input the driver, goal and forecast models need, and it
stays small (10,000 reps x 3 years of weeks is 1.5 million rows) however large
the raw activity log is.

How events are counted (one definition, shared by every engine)
---------------------------------------------------------------
* an activity counts in the period of its ``timestamp``, under its
  ``activity_type``; quality metrics (:data:`QUALITY_METRICS`) count the
  activities of one type whose ``outcome`` is in a given set;
* a deal counts once in the period it was ``created`` (``deals_created``,
  ``pipeline_created`` = its amount) and once in the period it ``closed``, as
  won (``deals_won``, ``won_revenue``) or lost (``deals_lost``);
* periods are Monday-based weeks (``W``), calendar months (``M``) or calendar
  quarters (``Q``).

The observation window runs from the first period with an activity to the last
period with any event.  A rep's span is the roster's ``start``-``end`` (or,
without a roster entry, the first to the last period with an event of that
rep), cut to the window.  Events outside the rep's span are not counted; they
are tallied by reason in ``panel.attrs["excluded"]`` and warned about once.
Activities without a rep, a timestamp or a type, and deals without a rep, are
tallied the same way (``activities_without_rep``, ``activities_without_date``,
``activities_without_type``, ``deals_without_rep``).

One aggregation for every engine
--------------------------------
The raw log is first reduced to *activity counts*, one row per (rep, period
start, activity type), by :class:`salesgoals.panel._aggregate.Reduction`: numpy here,
DuckDB SQL for files larger than memory and a tree reduction for Dask
(:mod:`salesgoals.panel.scale`).  Everything after that step (window, spans,
exclusions, zero-filled rows, deals) is :func:`_assemble`, shared by all of
them, so the in-memory, out-of-core and cluster panels are identical.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesgoals.panel._aggregate import (
    COUNT,
    Reduction,
    datetime_values,
    ordinal_to_start,
    period_ordinal,
    period_start,
)
from salesgoals._activity_counts import recall as recall_counts
from salesgoals._periods import check_freq
from salesgoals._schema import (
    ACTIVITY_REQUIRED,
    ACTIVITY_TYPES,
    DEAL_REQUIRED,
    FREQ_ALIASES,
    OUTCOME_COLUMNS,
    QUALITY_METRICS,
    ROSTER_ATTRIBUTES,
    UNASSIGNED,
    activity_columns,
    quality_columns,
)
from salesgoals._typing import Freq
from salesgoals.errors import DataQualityError, DataQualityWarning, SchemaError

__all__ = ["build_panel", "activity_columns", "quality_columns", "period_start", "panel_summary"]

# The period rule lives with the reduction (salesgoals.panel._aggregate); these names stay for callers.
_period_ordinal = period_ordinal
_ordinal_to_start = ordinal_to_start
_datetime_values = datetime_values


def _to_periods(starts: np.ndarray, freq: str) -> pd.PeriodIndex:
    return pd.PeriodIndex(pd.DatetimeIndex(starts), freq=FREQ_ALIASES[freq])


# ---------------------------------------------------------------- validation
def _require(frame: object, required: Sequence[str], what: str, loader: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"build_panel: {what} must be a pandas DataFrame from {loader}(); got {type(frame).__name__}.")
    _require_columns(frame.columns, required, what, loader)
    return frame


def _require_columns(
    columns: Sequence[str], required: Sequence[str], what: str, loader: str, caller: str = "build_panel"
) -> None:
    missing = [c for c in required if c not in columns]
    if missing:
        raise SchemaError(
            f"{caller}: {what} has no column(s) {', '.join(map(repr, missing))}. "
            f"Expected the canonical columns {', '.join(required)}; found {', '.join(map(str, columns))}. "
            f"Load the export with {loader}(), which maps vendor headers to these names."
        )


def _is_dask(frame: object) -> bool:
    return type(frame).__module__.split(".")[0] == "dask" and hasattr(frame, "to_delayed")


# ---------------------------------------------------------------- counting
def _activity_type_order(types: Sequence[str]) -> list[str]:
    known = [t for t in ACTIVITY_TYPES if t in types]
    return known + sorted(t for t in types if t not in ACTIVITY_TYPES)


def build_panel(
    activities: pd.DataFrame | None,
    deals: pd.DataFrame | None = None,
    *,
    freq: Freq = "W",
    roster: pd.DataFrame | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Aggregate activities and deals into one row per rep x period.

    Parameters
    ----------
    activities : pandas.DataFrame or dask.dataframe.DataFrame or None
        ``None`` for a deals-only panel (outcome columns only, no activity
        columns: many teams have no activity export).
        Canonical activities from :func:`salesgoals.load_activities` (needs
        ``rep``, ``timestamp``, ``activity_type``; ``outcome`` enables the
        quality metrics).  A Dask DataFrame is aggregated partition by
        partition (see :func:`salesgoals.panel.scale.panel_from_dask`); for files
        larger than memory use :func:`salesgoals.panel.scale.panel_from_parquet`.
    deals : pandas.DataFrame, optional
        Canonical deals from :func:`salesgoals.load_deals`.  Without deals the
        outcome columns are zero.  Deals whose amounts are all missing (an
        export without amounts, ``columns={'amount': None}``) give NaN
        ``pipeline_created`` and ``won_revenue``: revenue is unavailable, not
        zero (``panel.attrs['revenue_available']`` is False).
    freq : {"W", "M", "Q"}, default="W"
        Monday-based weeks, calendar months or calendar quarters.
    roster : pandas.DataFrame, optional
        From :func:`salesgoals.load_roster`: gives each rep's active span and
        adds ``team``, ``manager``, ``region`` columns.  Roster reps with no
        events get zero rows over their span.
    start, end : date-like, optional
        Override the observation window (by default from the first period with
        an activity to the last period with any event).

    Returns
    -------
    pandas.DataFrame
        One row per (rep, period) within the rep's active span, sorted by rep
        then period, with columns:

        * ``rep`` : str — the rep.
        * ``period`` : pandas.Period — the week (``W-SUN``: Monday to Sunday),
          month or quarter.
        * ``team``, ``manager``, ``region`` : str — only with a roster;
          ``"(unassigned)"`` for reps missing from it.
        * ``<activity_type>`` : int — activities of each type logged in the
          period (for example ``call``, ``email``, ``meeting``).
        * ``call_connected``, ``meeting_held`` : int — quality metrics, present
          when the log has that activity type and an ``outcome`` column, and
          at least one of its activities counts (a log that records no call
          outcome, such as a rep / time / type export, has calls but no
          ``call_connected``: unknown, not zero; see
          ``attrs["quality_unavailable"]``).
        * ``deals_created`` : int — deals created in the period.
        * ``pipeline_created`` : float — total amount of those deals.
        * ``deals_won``, ``deals_lost`` : int — deals closed won / lost in the period.
        * ``won_revenue`` : float — amount of the deals won in the period.
        * ``win_rate`` : float — ``deals_won / (deals_won + deals_lost)``;
          NaN where the rep closed no deal in the period (a rate is undefined there).

        ``panel.attrs`` holds ``freq``, ``activity_columns``,
        ``quality_columns``, ``outcome_columns``, ``window`` (first and last
        period), ``excluded`` (events not counted, by reason: for
        example ``activities_outside_rep_span``, ``activities_without_date``,
        ``deals_closed_after_window``, ``reps_not_in_roster``) and
        ``quality_unavailable`` (quality metric -> why it is left out).

    Raises
    ------
    SchemaError
        A required canonical column is missing.
    DataQualityError
        There are no activities and no deals with usable dates.

    Warns
    -----
    DataQualityWarning
        Once, with counts, when events fall outside a rep's active span,
        lack a rep, date or type, or reps are missing from the roster.

    See Also
    --------
    salesgoals.panel.scale.panel_from_parquet : the same panel from Parquet/CSV files larger than memory.
    salesgoals.panel.scale.panel_from_dask : the same panel on a Dask cluster.

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> sim = make_crm_data(n_reps=5, n_weeks=20, seed=2)
    >>> panel = build_panel(sim.activities, sim.deals, roster=sim.roster)
    >>> bool(panel.duplicated(["rep", "period"]).any())
    False
    >>> int(panel["call"].sum()) == int((sim.activities["activity_type"] == "call").sum())
    True
    """
    freq = check_freq(freq)
    if activities is None:  # deals only: outcome columns, no activity columns
        if deals is None:
            raise ValueError("build_panel: pass activities, deals or both; got neither.")
        activities = _no_activities()
    if _is_dask(activities):
        _require_columns(list(activities.columns), ACTIVITY_REQUIRED, "activities", "load_activities")
        reduction = Reduction.for_columns(activities.columns, freq=freq)
        counts = None
    else:
        _require(activities, ACTIVITY_REQUIRED, "activities", "load_activities")
        reduction = Reduction.for_columns(activities.columns, freq=freq)
        weekly = recall_counts(activities) if freq == "W" else None  # counted while loading this very frame
        counts = None if weekly is None else reduction.on_weekly(activities, weekly)
        if counts is None:
            counts = reduction.on_frame(activities)
    deals, roster = _check_deals_roster(deals, roster)
    if counts is None:
        counts = reduction.on_dask(activities, progress=False)
    return _assemble(counts, reduction, deals, roster=roster, start=start, end=end, stacklevel=3)


#: Deal dates more than this many days past the 99th percentile (or before the 1st) of a panel's deal dates do
#: not stretch the window: one deal dated months after the others must not move the panel's end, the goal
#: horizon or the backtest origins (they are counted in ``attrs['excluded']`` as after / before the window).
BULK_GRACE_DAYS = 31
_DAYS_PER_PERIOD = {"W": 7, "M": 30.44, "Q": 91.3}


def _grace_periods(freq: str) -> int:
    return int(np.ceil(BULK_GRACE_DAYS / _DAYS_PER_PERIOD.get(str(freq)[0], 7)))


def bulk_end(ords: np.ndarray, freq: str) -> int:
    """Last period of a set of deal-date periods, ignoring isolated dates beyond the bulk.

    Examples
    --------
    >>> bulk_end(np.array([*range(100), 130]), "W")  # one date 30 weeks after the rest
    99
    >>> bulk_end(np.arange(100), "W")
    99
    """
    cap = int(np.ceil(np.percentile(ords, 99))) + _grace_periods(freq)
    inside = ords[ords <= cap]
    return int(inside.max()) if inside.size else int(ords.max())


def bulk_start(ords: np.ndarray, freq: str) -> int:
    """First period of a set of deal-date periods, ignoring isolated dates before the bulk."""
    return -bulk_end(-np.asarray(ords), freq)


def _no_activities() -> pd.DataFrame:
    """An empty canonical activity log (a deals-only panel)."""
    cat = pd.Categorical([], categories=pd.Index([], dtype="str"))
    return pd.DataFrame({"rep": cat, "timestamp": pd.Series([], dtype="datetime64[us]"), "activity_type": cat,
                         "outcome": cat})  # fmt: skip


def _check_deals_roster(deals, roster):
    """Validate the small inputs shared by every engine (a Dask frame of deals is computed)."""
    if deals is not None:
        if _is_dask(deals):
            deals = deals.compute()
        _require(deals, DEAL_REQUIRED, "deals", "load_deals")
    if roster is not None:
        if _is_dask(roster):
            roster = roster.compute()
        _require(roster, ("rep",), "roster", "load_roster")
    return deals, roster


@dataclass
class _Events:
    """Every activity count and deal with its period ordinal: the input of the panel, as arrays.

    Activities arrive as counts, one row per (rep, period start, type) with
    its count ``a_n``; ``rep`` and ``activity_type`` are Categoricals of text,
    so the arrays hold their integer codes.
    """

    counts: pd.DataFrame
    rep_codes: np.ndarray
    rep_cats: np.ndarray
    a_reps: np.ndarray  # reps with at least one activity (dated or not)
    a_n: np.ndarray
    a_ord: np.ndarray
    a_ok: np.ndarray
    type_codes: np.ndarray
    type_cats: np.ndarray
    d_rep: np.ndarray
    status: np.ndarray
    amount: np.ndarray
    revenue_available: bool
    c_ord: np.ndarray
    c_ok: np.ndarray
    k_ord: np.ndarray
    k_ok: np.ndarray


def _events(counts: pd.DataFrame, deals: pd.DataFrame | None, freq: str, excluded: dict[str, int]) -> _Events:
    """Periods of every event; activities and deals without a rep are tallied in ``excluded`` and dropped."""
    rep_codes = counts["rep"].cat.codes.to_numpy()
    has_rep = rep_codes >= 0
    if not has_rep.all():
        excluded["activities_without_rep"] = int(counts[COUNT].to_numpy()[~has_rep].sum())
        counts = counts[has_rep]
        rep_codes = rep_codes[has_rep]
    rep_cats = np.asarray(counts["rep"].cat.categories, dtype=object)
    a_start = counts["period_start"].to_numpy(dtype="datetime64[D]")
    if deals is not None and len(deals):
        d_has_rep = deals["rep"].notna().to_numpy()
        if not d_has_rep.all():
            excluded["deals_without_rep"] = int((~d_has_rep).sum())
            deals = deals[d_has_rep]
        c_start = period_start(_datetime_values(deals, "created", "deals"), freq)
        k_start = period_start(_datetime_values(deals, "closed", "deals"), freq)
        d_rep = deals["rep"].to_numpy(dtype=object).astype(str)
        status = deals["status"].astype(str).str.lower().to_numpy()
        amount = pd.to_numeric(deals["amount"], errors="coerce")
        revenue_available = bool(amount.notna().any())
        amount = amount.fillna(0.0).to_numpy(dtype=float)
    else:
        revenue_available = True
        c_start = k_start = np.array([], dtype="datetime64[D]")
        d_rep = np.array([], dtype=object)
        status = np.array([], dtype=object)
        amount = np.array([], dtype=float)
    return _Events(
        counts=counts,
        rep_codes=rep_codes,
        rep_cats=rep_cats,
        a_reps=rep_cats[np.unique(rep_codes)],
        a_n=counts[COUNT].to_numpy(dtype=np.int64),
        a_ord=_period_ordinal(a_start, freq),
        a_ok=~np.isnat(a_start),
        type_codes=counts["activity_type"].cat.codes.to_numpy(),
        type_cats=np.asarray(counts["activity_type"].cat.categories, dtype=object),
        d_rep=d_rep,
        status=status,
        amount=amount,
        revenue_available=revenue_available,
        c_ord=_period_ordinal(c_start, freq),
        c_ok=~np.isnat(c_start),
        k_ord=_period_ordinal(k_start, freq),
        k_ok=~np.isnat(k_start) & np.isin(status, ("won", "lost")),
    )


def _window(ev: _Events, start: object, end: object, freq: str) -> tuple[int, int]:
    """First and last period ordinal: ``start``/``end``, else the first activity to the last event."""
    if start is not None:
        lo = int(_period_ordinal(period_start(pd.DatetimeIndex([pd.Timestamp(start)]), freq), freq)[0])
    elif ev.a_ok.any():
        lo = int(ev.a_ord[ev.a_ok].min())
    elif ev.c_ok.any() or ev.k_ok.any():  # deals only: from where the bulk of the deals starts
        lo = int(min(bulk_start(x[m], freq) for x, m in ((ev.c_ord, ev.c_ok), (ev.k_ord, ev.k_ok)) if m.any()))
    else:
        raise DataQualityError(
            "build_panel: there are no activities and no deals with a usable date, so there is no period to "
            "build. Check that the exports are not empty and that their date columns were parsed."
        )
    if end is not None:
        hi = int(_period_ordinal(period_start(pd.DatetimeIndex([pd.Timestamp(end)]), freq), freq)[0])
    else:
        # deal dates count from where their bulk ends: one outlier deal must not stretch the window
        ends = [int(ev.a_ord[ev.a_ok].max())] if ev.a_ok.any() else []
        ends += [bulk_end(x[m], freq) for x, m in ((ev.c_ord, ev.c_ok), (ev.k_ord, ev.k_ok)) if m.any()]
        hi = int(max(ends))
    if hi < lo:
        raise DataQualityError(f"build_panel: the window is empty (start {start!r} is after end {end!r}).")
    return lo, hi


@dataclass
class _Spans:
    """The panel's reps (sorted as text: its row order), each event's rep code, and each rep's span."""

    reps: pd.Index
    roster: pd.DataFrame | None  # first row per rep
    a_code: np.ndarray
    d_code: np.ndarray
    lo: np.ndarray  # per rep: first period ordinal of the span
    hi: np.ndarray  # per rep: last (lo - 1 for an empty span)


def _rep_spans(ev: _Events, roster: pd.DataFrame | None, lo: int, hi: int, freq: str,
               excluded: dict[str, int]) -> _Spans:  # fmt: skip
    """Each rep's span: the roster's start-end, else first to last event of the rep; cut to the window."""
    r = roster.drop_duplicates("rep", keep="first") if roster is not None else None
    roster_reps = r["rep"].to_numpy(dtype=object).astype(str) if r is not None else np.array([], dtype=object)
    # every rep compared as text, sorted: the row order of the panel
    reps = pd.Index(np.unique(np.concatenate([roster_reps, ev.a_reps, ev.d_rep]).astype(str)).astype(object),
                    dtype=object)  # fmt: skip
    n_reps = len(reps)
    a_code = reps.get_indexer(ev.rep_cats)[ev.rep_codes] if ev.rep_codes.size else np.array([], dtype=np.int64)
    d_code = reps.get_indexer(ev.d_rep) if ev.d_rep.size else np.array([], dtype=np.int64)

    big = np.iinfo(np.int64).max
    first_evt = np.full(n_reps, big)
    last_evt = np.full(n_reps, -big)
    for code, ordv, ok in ((a_code, ev.a_ord, ev.a_ok), (d_code, ev.c_ord, ev.c_ok), (d_code, ev.k_ord, ev.k_ok)):
        inw = ok & (ordv >= lo) & (ordv <= hi)
        np.minimum.at(first_evt, code[inw], ordv[inw])
        np.maximum.at(last_evt, code[inw], ordv[inw])
    no_event = first_evt == big  # no event in the window: an empty span (not a wrapped-around one)
    span_lo = np.where(no_event, lo, np.maximum(first_evt, lo))
    span_hi = np.where(no_event, lo - 1, np.minimum(last_evt, hi))
    if r is not None:
        pos = reps.get_indexer(roster_reps)
        in_roster = np.zeros(n_reps, dtype=bool)
        in_roster[pos] = True
        r_lo = np.full(n_reps, lo)
        r_hi = np.full(n_reps, hi)
        for col, target, fill in (("start", r_lo, lo), ("end", r_hi, hi)):
            if col in r.columns:
                vals = period_start(_datetime_values(r, col, "roster"), freq)
                target[pos] = np.where(np.isnat(vals), fill, _period_ordinal(vals, freq))
        span_lo = np.where(in_roster, np.maximum(r_lo, lo), span_lo)
        span_hi = np.where(in_roster, np.minimum(r_hi, hi), span_hi)
        n_missing = int((~in_roster & np.isin(np.arange(n_reps), np.unique(np.concatenate([a_code, d_code])))).sum())
        if n_missing:
            excluded["reps_not_in_roster"] = n_missing
    return _Spans(reps, r, a_code, d_code, span_lo, span_hi)


@dataclass
class _Cube:
    """Counts per (rep, period[, column]) cell of the window, inside each rep's span; the rest is tallied."""

    spans: _Spans
    lo: int
    hi: int
    excluded: dict[str, int]

    @property
    def n_per(self) -> int:
        return self.hi - self.lo + 1

    def in_span(self, code: np.ndarray, ordv: np.ndarray, ok: np.ndarray) -> np.ndarray:
        inside = ok & (code >= 0)
        safe = np.maximum(code, 0)
        inside &= (ordv >= self.spans.lo[safe]) & (ordv <= self.spans.hi[safe])
        return inside

    def count(self, code, ordv, mask, weights=None, ncol=1, col=None) -> np.ndarray:
        cell = code[mask].astype(np.int64) * self.n_per + (ordv[mask] - self.lo)
        if col is not None:
            cell = cell * ncol + col[mask]
        w = None if weights is None else weights[mask]
        return np.bincount(cell, weights=w, minlength=len(self.spans.reps) * self.n_per * ncol)

    def tally(self, name: str, ok: np.ndarray, inside: np.ndarray, ordv: np.ndarray, weights=None) -> None:
        outside = ok & ~inside
        before = outside & (ordv < self.lo)
        after = outside & (ordv > self.hi)
        for reason, m in (("before_window", before), ("after_window", after),
                          ("outside_rep_span", outside & ~before & ~after)):  # fmt: skip
            if m.any():
                self.excluded[f"{name}_{reason}"] = int(m.sum() if weights is None else weights[m].sum())


def _count_activities(ev: _Events, cube: _Cube, reduction: Reduction):
    """Activity types in output order, their count matrix (cells x types), the quality-metric counts, and the
    metrics left out because no activity of the log counts for them (metric -> why)."""
    types = _activity_type_order(ev.type_cats[np.unique(ev.type_codes[ev.type_codes >= 0])].tolist())
    t_code = np.append(pd.Index(types, dtype=object).get_indexer(ev.type_cats), -1)[ev.type_codes]  # -1: no type
    metrics = [name for name, (typ, _) in reduction.metrics.items() if typ in types]
    unavailable = {name: _unrecorded(name, reduction.metrics[name]) for name in metrics
                   if not ev.counts[name].to_numpy().any()}  # fmt: skip
    metrics = [name for name in metrics if name not in unavailable]
    a_ok, a_n, code = ev.a_ok, ev.a_n, cube.spans.a_code
    if (~a_ok).any():
        cube.excluded["activities_without_date"] = int(a_n[~a_ok].sum())
    a_typed = a_ok & (t_code >= 0)
    if (a_ok & ~a_typed).any():
        cube.excluded["activities_without_type"] = int(a_n[a_ok & ~a_typed].sum())
    a_in = cube.in_span(code, ev.a_ord, a_typed)
    cube.tally("activities", a_typed, a_in, ev.a_ord, weights=a_n)
    # float bincount weights are exact for counts below 2**53
    act = cube.count(code, ev.a_ord, a_in, weights=a_n, ncol=len(types), col=t_code)
    act = act.reshape(len(cube.spans.reps) * cube.n_per, len(types))
    qual = {name: cube.count(code, ev.a_ord, a_in, weights=ev.counts[name].to_numpy(dtype=np.int64))
            for name in metrics}  # fmt: skip
    return types, act, qual, unavailable


def _unrecorded(name: str, metric: tuple[str, tuple[str, ...]]) -> str:
    """Why a quality metric that no activity of the log counts for is left out of the panel."""
    typ, good = metric
    return (f"no {typ} in the log has outcome {' or '.join(good)}: the export records no {typ} outcomes (an "
            f"export with rep, time and type only, or {typ}s marked just 'Done'), so {name} is unknown, not 0; "
            f"load an export with the {typ} outcome column (outcome_map= says what its values mean)")


def _count_deals(ev: _Events, cube: _Cube) -> dict[str, np.ndarray]:
    """Deals created (and their pipeline) in the creation period; won, lost and won revenue in the closing one."""
    code = cube.spans.d_code
    c_in = cube.in_span(code, ev.c_ord, ev.c_ok)
    k_in = cube.in_span(code, ev.k_ord, ev.k_ok)
    cube.tally("deals_created", ev.c_ok, c_in, ev.c_ord)
    cube.tally("deals_closed", ev.k_ok, k_in, ev.k_ord)
    won, lost = ev.status == "won", ev.status == "lost"
    return {
        "deals_created": cube.count(code, ev.c_ord, c_in),
        "pipeline_created": cube.count(code, ev.c_ord, c_in, weights=ev.amount),
        "deals_won": cube.count(code, ev.k_ord, k_in & won),
        "deals_lost": cube.count(code, ev.k_ord, k_in & lost),
        "won_revenue": cube.count(code, ev.k_ord, k_in & won, weights=ev.amount),
    }


def _panel_rows(cube: _Cube, types, act, qual, outcomes, freq: str) -> pd.DataFrame:
    """One row per rep and period within the rep's span, zero-filled, in the panel's column order."""
    spans = cube.spans
    length = np.clip(spans.hi - spans.lo + 1, 0, None)
    row_rep = np.repeat(np.arange(len(spans.reps)), length)
    offsets = np.arange(length.sum()) - np.repeat(np.cumsum(length) - length, length)
    row_ord = np.repeat(spans.lo, length) + offsets
    cell = row_rep * cube.n_per + (row_ord - cube.lo)

    data: dict[str, object] = {
        "rep": spans.reps.to_numpy()[row_rep],
        "period": _to_periods(_ordinal_to_start(row_ord, freq), freq),
    }
    if spans.roster is not None:
        attrs = spans.roster.set_index(spans.roster["rep"].astype(str))
        for col in ROSTER_ATTRIBUTES:
            if col in attrs.columns:
                vals = attrs[col].reindex(spans.reps).astype(object)
                vals = vals.where(vals.notna(), UNASSIGNED)
            else:
                vals = pd.Series(UNASSIGNED, index=spans.reps, dtype=object)
            data[col] = vals.to_numpy()[row_rep]
    for j, t in enumerate(types):
        data[t] = act[cell, j].astype(np.int64)
    for name, values in qual.items():
        data[name] = values[cell].astype(np.int64)
    for name in ("deals_created", "deals_won", "deals_lost"):
        data[name] = outcomes[name][cell].astype(np.int64)
    data["pipeline_created"] = outcomes["pipeline_created"][cell]
    data["won_revenue"] = outcomes["won_revenue"][cell]
    closed_n = data["deals_won"] + data["deals_lost"]
    with np.errstate(invalid="ignore", divide="ignore"):
        data["win_rate"] = np.where(closed_n > 0, data["deals_won"] / np.maximum(closed_n, 1), np.nan)

    order = [
        "rep", "period", *[c for c in ROSTER_ATTRIBUTES if c in data], *types, *qual,
        "deals_created", "pipeline_created", "deals_won", "deals_lost", "won_revenue", "win_rate",
    ]  # fmt: skip
    panel = pd.DataFrame({c: data[c] for c in order})
    panel.attrs = {
        "freq": freq,
        "activity_columns": list(types),
        "quality_columns": list(qual),
        "outcome_columns": list(OUTCOME_COLUMNS),
        "window": (str(_to_periods(_ordinal_to_start(np.array([cube.lo]), freq), freq)[0]),
                   str(_to_periods(_ordinal_to_start(np.array([cube.hi]), freq), freq)[0])),
        "excluded": cube.excluded,
    }  # fmt: skip
    return panel


def _assemble(
    counts: pd.DataFrame,
    reduction: Reduction,
    deals: pd.DataFrame | None,
    *,
    roster: pd.DataFrame | None,
    start: object,
    end: object,
    stacklevel: int,
) -> pd.DataFrame:
    """Build the panel from the activity counts (:mod:`salesgoals.panel._aggregate`) and the deals.

    Every engine (pandas, DuckDB, Dask) ends here, so the window, spans,
    exclusions and the layout of the panel are defined once: the periods of
    every event, the window, each rep's span, the count cube, the rows.
    """
    freq = reduction.freq
    excluded: dict[str, int] = {}
    ev = _events(counts, deals, freq, excluded)
    lo, hi = _window(ev, start, end, freq)
    cube = _Cube(_rep_spans(ev, roster, lo, hi, freq, excluded), lo, hi, excluded)
    types, act, qual, unavailable = _count_activities(ev, cube, reduction)
    panel = _panel_rows(cube, types, act, qual, _count_deals(ev, cube), freq)
    panel.attrs["revenue_available"] = ev.revenue_available
    panel.attrs["quality_unavailable"] = unavailable
    if not ev.revenue_available:  # an export without amounts: revenue unavailable, not 0
        panel["pipeline_created"] = np.nan
        panel["won_revenue"] = np.nan
    # Deals created before the activity window are normal (the deal export reaches further back
    # than the activity export): they are tallied in attrs but not warned about.
    noisy = {k: v for k, v in excluded.items() if k != "deals_created_before_window"}
    if noisy:
        parts = [f"{v:,} {k.replace('_', ' ')}" for k, v in noisy.items()]
        warnings.warn(
            f"build_panel: {'; '.join(parts)} (events not counted in the panel; see panel.attrs['excluded']). "
            "Events outside a rep's roster span (start-end) or the window are left out; widen the roster "
            "span or pass start=/end= to keep them.",
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return panel


def panel_summary(panel: pd.DataFrame) -> pd.DataFrame:
    """Per-rep totals of a panel: a quick look before modelling.

    Parameters
    ----------
    panel : pandas.DataFrame
        From :func:`build_panel`.

    Returns
    -------
    pandas.DataFrame
        One row per rep, sorted by ``won_revenue`` (largest first), with
        columns ``rep``, ``periods`` (rows in the panel), one column per
        activity type and quality metric (totals), ``deals_created``,
        ``deals_won``, ``deals_lost``, ``won_revenue`` (totals) and
        ``win_rate`` (won / closed over the whole span, 0 when nothing closed).

    Examples
    --------
    >>> from salesgoals.simulate import make_crm_data
    >>> s = panel_summary(make_crm_data(n_reps=3, n_weeks=10, seed=0).panel())
    >>> list(s.columns[:2])
    ['rep', 'periods']
    """
    cols = [*activity_columns(panel), *quality_columns(panel), "deals_created", "deals_won", "deals_lost", "won_revenue"]
    g = panel.groupby("rep", sort=True)
    out = g[cols].sum()
    out.insert(0, "periods", g.size())
    closed = out["deals_won"] + out["deals_lost"]
    out["win_rate"] = np.where(closed > 0, out["deals_won"] / closed.where(closed > 0, 1), 0.0)
    out = out.reset_index().sort_values(["won_revenue", "rep"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)
