"""Revenue forecasts with honest prediction intervals, and their backtests.

:func:`forecast` answers "what will we close this month / quarter?" for the
whole company, a team, a rep or any roster group, at week, month or quarter
grain, from an as-of date and using only what was known then.
:func:`backtest_forecast` replays that question at many past dates (rolling
origins) and reports how good the answers were: MASE against the seasonal
naive benchmark and the coverage of the prediction intervals.

Methods
-------
``seasonal_naive``
    Same period last year; the last period where that one is missing or had
    no close (a young company's first year), and the notes say how often.
``trailing_mean``
    The mean of the last :data:`TRAILING_WINDOW` periods (8 weeks, 3 months).
``drift``
    The last period plus the average change per period so far.

    These three are the simple benchmarks; ``auto`` reports a model only when
    it beat the best of them over the origins before the as-of date, and
    otherwise that benchmark (the notes say which and by how much).
``ets``
    Exponential smoothing (statsmodels ``ETSModel``, additive errors; with an
    additive season at month and quarter grain when two full years are known).
``pipeline``
    Open deals as of the origin x the probability that a deal of that age
    closes won in each coming week (a discrete-time competing-risks hazard,
    won vs lost, estimated from the deals whose fate was known then, with
    censoring), plus the revenue that deals not yet created typically bring
    within the horizon (the average of recent periods).
``activity``
    The driver model (:func:`salesgoals.fit_drivers`) fitted on the history and
    fed with each rep's recent activity (the average of the last periods), or
    with planned activity.  Needs a panel built from activities.
``combination``
    The mean of the ets, pipeline and activity point forecasts (those available).

Prediction intervals (all methods)
----------------------------------
Intervals are *conformal*: the point forecast plus quantiles of the errors the
same method made at the previous origins (each of those forecasts also used
only what was known at its own origin), per horizon, after dividing each error
by the group's in-sample MASE scale so that big and small groups can be pooled
(a group with no scale of its own, all zeros so far, borrows the other
groups' median: see :func:`_pool_scales`).  That is the ``additive`` scale;
the errors can instead be pooled on the ``log`` scale (``log1p``: skewed,
multiplicative ranges for revenue) or, for deals, as a negative-binomial
``count`` predictive, and ``ranges="auto"`` picks the scale by the interval
score of the earlier origins (:mod:`salesgoals.forecasting._ranges`).  The
bounds stay on the data's
scale: never below 0, whole deals for ``deals_won``, and never above
:data:`MAX_UPPER_MULTIPLE` x the largest period the group has seen (capped,
with a warning).  Series that start with periods before their first close
(a company's or a rep's first months) are forecast from their active span
only (flag ``ramp_up``); groups with fewer than :data:`MIN_DEALS_FOR_RANGE`
won deals are flagged ``sparse_history``.
They are therefore calibrated on this data set rather than on model
assumptions, which the lumpy, skewed revenue of a sales team would break.
Backtests evaluate each interval at origin *t* from the errors made before *t*
only.  See :data:`N_CALIBRATION`.

Data known at the as-of date
----------------------------
Everything after ``as_of`` is removed before anything is computed: deals
created after it are dropped, deals closed after it are treated as open, and
panel periods ending after it are dropped.  Origins are period ends: when
``as_of`` falls inside a period, the forecast starts from the end of the last
complete period (a period is complete once its last business day has passed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._periods import bulk_days, check_freq
from salesgoals._periods import is_panel as _is_panel
from salesgoals._periods import pandas_ordinals as _ordinals
from salesgoals._periods import to_day as _to_day
from salesgoals._schema import DEAL_REQUIRED, FREQ_ALIASES, UNASSIGNED, activity_columns
from salesgoals._summary import Summary
from salesgoals._typing import Freq, Target
from salesgoals.drivers import fit_drivers
from salesgoals.errors import InsufficientDataError, SalesgoalsWarning, SchemaError, UnreliableEstimateWarning
from salesgoals.forecasting._hierarchy import pool_sparse_reps, reconcile, rollup_members, rollup_sums
from salesgoals.forecasting._ranges import MIN_CALIBRATION_ERRORS, RANGES, available_ranges, ranged
from salesgoals.forecasting._ranges import conformal as _conformal  # noqa: F401 - the split-conformal rule, tested here
from salesgoals.panel import group_panel, is_activity_source, panel_for
from salesgoals.forecasting import _benchmarks as _bench
from salesgoals.plotting import plot_backtest, plot_forecast

__all__ = [
    "forecast",
    "backtest_forecast",
    "ForecastResult",
    "BacktestResult",
    "METHODS",
    "BENCHMARKS",
]

Ranges = Literal["auto", "additive", "log", "count"]
Method = Literal[
    "auto", "seasonal_naive", "trailing_mean", "drift", "ets", "pipeline", "activity", "combination"
]

#: The simple benchmarks a forecaster reports: seasonal naive (naive where
#: last season is missing or zero), the trailing mean and drift.
BENCHMARKS: tuple[str, ...] = ("seasonal_naive", "trailing_mean", "drift")
#: Forecast methods, in the order they are reported.
METHODS: tuple[str, ...] = (*BENCHMARKS, "ets", "pipeline", "activity", "combination")
#: Methods averaged by ``combination`` (those available).
COMBINED: tuple[str, ...] = ("ets", "pipeline", "activity")
TARGETS: tuple[str, ...] = ("won_revenue", "deals_won")
#: Season length per grain (seasonal naive and seasonal ETS).
SEASON: dict[str, int] = {"W": 52, "M": 12, "Q": 4}
#: Default horizon per grain: a month of weeks, a quarter of months, two quarters.
DEFAULT_HORIZON: dict[str, int] = {"W": 4, "M": 3, "Q": 2}
#: Origins whose out-of-sample errors calibrate the intervals (half a year of
#: weeks, a year of months, a year and a half of quarters).  More origins give
#: steadier quantiles; older ones describe a team that may have changed.
N_CALIBRATION: dict[str, int] = {"W": 26, "M": 12, "Q": 6}
#: Periods of history an origin needs before it is forecast from at all.
MIN_HISTORY: dict[str, int] = {"W": 12, "M": 6, "Q": 4}
#: Recent periods averaged for the revenue of deals not yet created (pipeline).
NEW_BUSINESS_WINDOW: dict[str, int] = {"W": 26, "M": 6, "Q": 4}
#: Deal-age weeks with fewer deals at risk are pooled into one tail hazard.
MIN_AT_RISK = 15
#: Periods averaged by the trailing-mean benchmark (8 weeks, 3 months, 2 quarters).
TRAILING_WINDOW: dict[str, int] = {"W": 8, "M": 3, "Q": 2}
#: Recent periods whose activity feeds the activity-driven forecast.
ACTIVITY_WINDOW: dict[str, int] = {"W": 8, "M": 3, "Q": 2}
#: Origins between re-estimations of the ETS parameters and the driver model
#: (a quarter of weeks, a quarter of months); in between the parameters found
#: on the data known at the last re-estimation are applied to the new data.
REFIT_EVERY: dict[str, int] = {"W": 13, "M": 3, "Q": 1}
#: A series is forecast from its first non-zero period once it has this many
#: non-zero periods (leading zeros = a business or rep not started yet).
MIN_ACTIVE_NONZERO = 3
#: No upper bound above this multiple of the largest period the group has seen
#: (the range is capped there, and a warning says so).  A sales series can
#: beat its record, rarely by 3x in one period; a range above that is the
#: model's, not the data's.
MAX_UPPER_MULTIPLE = 3.0
#: Interval width (mean, relative to the series' mean level per period) above
#: which a range is reported as wider than the data can justify (on the
#: simulator, 80 % ranges of weekly team revenue are 2-4x the mean week).
MAX_RELATIVE_WIDTH = 6.0
#: Won deals a rep needs in the history for a rep-level range of their own;
#: below it the rep is flagged ``sparse_history``.
MIN_DEALS_FOR_RANGE = 3
#: Monte Carlo draws of the pipeline method's model intervals.
N_SIMS = 1000
#: Fewest groups (teams at level="total") for which a group-level forecast runs
#: on the group x period panel instead of the rep panel (see ``_model_unit``).
MIN_MODEL_GROUPS = 30
#: Most groups a total-level forecast models: more teams are pooled into this many blocks (``_pool_units``).
MAX_MODEL_GROUPS = 100
ALL_GROUP = "(all)"


# ====================================================================== data prep
def _check_choice(name: str, value, choices, func: str = "forecast"):
    if value not in choices:
        raise ValueError(
            f"{func}: {name} must be one of {', '.join(map(repr, choices))}; got {value!r}."
        )
    return value


def _period(ordinal: int | np.ndarray, freq: str):
    return pd.PeriodIndex.from_ordinals(np.atleast_1d(ordinal), freq=FREQ_ALIASES[freq])


def _end_day(ordinal: int, freq: str) -> np.datetime64:
    return np.datetime64(_period(ordinal, freq)[0].end_time.normalize().date(), "D")


def _last_complete_ordinal(day: np.datetime64, freq: str) -> int:
    """Ordinal of the last period whose last business day is on or before ``day``."""
    o = int(_ordinals(np.array([day]), freq)[0])
    last_bday = np.busday_offset(_end_day(o, freq), 0, roll="backward")
    return o if day >= last_bday else o - 1


@dataclass
class _Data:
    """Target history and deals, cut at the as-of date, on a regular period grid."""

    freq: str
    target: str
    level: str
    first: int  # ordinal of the first period of the grid
    y: np.ndarray  # (n_periods, n_groups), NaN outside a group's span
    groups: list[str]
    # deals (cut at as_of), one entry per deal
    d_created: np.ndarray | None = None
    d_closed: np.ndarray | None = None
    d_status: np.ndarray | None = None  # 0 open, 1 won, 2 lost
    d_value: np.ndarray | None = None
    d_group: np.ndarray | None = None  # index into groups, -1 unknown
    panel: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def last(self) -> int:
        return self.first + self.y.shape[0] - 1


def _group_values(frame: pd.DataFrame, level: str, what: str) -> np.ndarray:
    if level == "total":
        return np.full(len(frame), ALL_GROUP, dtype=object)
    if level not in frame.columns:
        hint = (
            "pass roster= (from load_roster) "
            if what == "deals"
            else "build the panel with roster= "
        )
        raise SchemaError(
            f"forecast: level={level!r} needs a {level!r} column, which the {what} "
            f"{'does' if what == 'panel' else 'do'} not have "
            f"(found: {', '.join(map(str, frame.columns))}). Use level='rep' or "
            f"level='total', or {hint}"
            f"so that each rep belongs to a {level}."
        )
    return (
        frame[level]
        .astype(object)
        .where(frame[level].notna(), UNASSIGNED)
        .astype(str)
        .to_numpy(dtype=object)
    )


def _require_revenue(target: str, panel, deals, func: str) -> None:
    """Revenue targets need amounts: deals loaded without them (columns={'amount': None}) are not 0 revenue."""
    if target not in ("won_revenue", "pipeline_created"):
        return
    no_panel_revenue = panel is not None and panel.attrs.get("revenue_available") is False
    no_deal_amounts = deals is not None and len(deals) and pd.to_numeric(deals["amount"], errors="coerce").isna().all()
    if no_panel_revenue or no_deal_amounts:
        raise InsufficientDataError(
            f"{func}: target={target!r} needs deal amounts, but the deals were loaded without an amount column "
            "(columns={'amount': None}), so revenue is unavailable, not zero. Forecast target='deals_won', or "
            "load the deals with their amount column (columns={'amount': '<header>'})."
        )


def _read_input(data, *, target: str, freq, deals, func: str):
    """Validate the first argument; return ``(panel or None, deals or None, freq)``."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"{func}: the first argument must be a panel (build_panel) or a deals DataFrame "
            "(load_deals); "
            f"got {type(data).__name__}."
        )
    _check_choice("target", target, TARGETS, func)
    if not _is_panel(data):
        missing = [c for c in DEAL_REQUIRED if c not in data.columns]
        if missing:
            raise SchemaError(
                f"{func}: the first argument is neither a panel (no 'period' column) nor a "
                "deals table: "
                f"missing {', '.join(map(repr, missing))}. Found: "
                f"{', '.join(map(str, data.columns))}. "
                "Pass build_panel(...) output or load_deals(...) output."
            )
        if deals is not None:
            raise ValueError(
                f"{func}: deals= is only used with a panel; the first argument already is "
                "the deals."
            )
        _require_revenue(target, None, data, func)
        return None, data, check_freq("M" if freq is None else freq, func=func)
    panel = data
    if target not in panel.columns:
        raise SchemaError(
            f"{func}: the panel has no {target!r} column; build it with deals "
            "(build_panel(acts, deals))."
        )
    pfreq = panel.attrs.get("freq") or str(panel["period"].dt.freqstr)[:1]
    if freq is not None and check_freq(freq, func=func) != pfreq:
        raise ValueError(
            f"{func}: freq={freq!r} but the panel was built with freq={pfreq!r}; "
            "rebuild the panel with "
            f"build_panel(..., freq={freq!r}) or drop freq=."
        )
    if deals is not None:
        missing = [c for c in DEAL_REQUIRED if c not in deals.columns]
        if missing:
            raise SchemaError(
                f"{func}: deals= is missing {', '.join(map(repr, missing))}; "
                f"found {', '.join(map(str, deals.columns))}. Load it with load_deals()."
            )
    _require_revenue(target, panel, deals, func)
    return panel, deals, check_freq(pfreq, func=func)


def _rep_groups(panel, deals, roster, level: str, func: str) -> dict[str, str]:
    """Map rep -> group for the deals (empty when the deals carry the group or level is rep/total)."""
    if level in ("rep", "total"):
        return {}
    if panel is not None:
        return dict(zip(panel["rep"].astype(str), _group_values(panel, level, "panel")))
    if roster is not None:
        if "rep" not in roster.columns:
            raise SchemaError(f"{func}: roster= has no 'rep' column; load it with load_roster().")
        return dict(zip(roster["rep"].astype(str), _group_values(roster, level, "roster")))
    _group_values(deals, level, "deals")  # raises a SchemaError unless deals carry the column
    return {}


def _deal_arrays(deals, target: str, level: str, rep_group: dict[str, str]) -> dict | None:
    """One array per deal field: created, closed (days), status (0 open/1 won/2 lost), value, group, rep."""
    if deals is None or not len(deals):
        return None
    status_s = deals["status"].astype(str).str.lower().to_numpy()
    if target == "won_revenue":
        value = pd.to_numeric(deals["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    else:
        value = np.ones(len(deals))
    reps = deals["rep"].astype(str).to_numpy(dtype=object)
    if level == "rep":
        grp = reps
    elif level == "total":
        grp = np.full(len(deals), ALL_GROUP, dtype=object)
    elif rep_group:
        grp = pd.Series(reps).map(rep_group).fillna(UNASSIGNED).to_numpy(dtype=object)
    else:
        grp = _group_values(deals, level, "deals")
    return dict(
        created=_to_day(deals["created"]),
        closed=_to_day(deals["closed"]),
        status=np.select([status_s == "won", status_s == "lost"], [1, 2], 0),
        value=value,
        group=grp,
        rep=reps,
    )


def _cutoff(panel, d: dict | None, as_of, freq: str) -> tuple[int, np.datetime64]:
    """``(ordinal of the origin period, last day known)`` for ``as_of`` (default: the data's end)."""
    if as_of is None:
        cutoff_ord = int(panel["period"].max().ordinal) if panel is not None else np.iinfo(np.int64).max
        if d is not None:
            # the export date is about the last event: a period it ends inside is not complete yet
            # ... of the bulk of the deals: one deal dated years ahead must not move the origin
            last_day = bulk_days(np.concatenate([d["created"], d["closed"]]))[1]
            cutoff_ord = min(cutoff_ord, _last_complete_ordinal(last_day, freq))
        return cutoff_ord, _end_day(cutoff_ord, freq)
    day = np.datetime64(pd.Timestamp(as_of).normalize().date(), "D")
    cutoff_ord = _last_complete_ordinal(day, freq)
    return cutoff_ord, min(_end_day(cutoff_ord, freq), day)


def _cut_deals(d: dict, cutoff: np.datetime64) -> dict:
    """Deals as known on ``cutoff``: later creations dropped, later closes reopened."""
    known = (d["created"] <= cutoff) & ~np.isnat(d["created"])
    d = {k: v[known] for k, v in d.items()}
    late = (d["closed"] > cutoff) | np.isnat(d["closed"]) | (d["status"] == 0)
    d["status"] = np.where(late, 0, d["status"])
    d["closed"] = np.where(late, np.datetime64("NaT", "D"), d["closed"])
    return d


def _model_unit(panel: pd.DataFrame, level: str) -> str | None:
    """Roster column whose groups stand in for the reps of a group-level forecast, or None.

    The series and the activity model then run on the group x period panel
    (:func:`salesgoals.panel.group_panel`), once per group instead of once per
    rep.  Only with at least :data:`MIN_MODEL_GROUPS` groups: with fewer the
    driver model has too few units, and the rep panel is small anyway.
    ``level="total"`` uses the teams.
    """
    by = "team" if level == "total" else level
    if level == "rep" or by not in panel.columns:
        return None
    return by if panel[by].nunique() >= MIN_MODEL_GROUPS else None


def _pool_units(panel: pd.DataFrame, unit: str) -> pd.DataFrame:
    """For a total-level forecast: more than :data:`MAX_MODEL_GROUPS` groups pooled into that many blocks.

    The total is the same sum whatever the blocks, and the activity model has
    MAX_MODEL_GROUPS units to learn from, so its cost stops growing with the
    number of teams (10,000 reps in teams of 10 = 1,000 teams).  Blocks are
    runs of consecutive group names (sorted), so the pooling is deterministic.
    """
    keys = panel[unit].astype(object).where(panel[unit].notna(), "(unassigned)").astype(str)
    names = np.sort(keys.unique())
    if len(names) <= MAX_MODEL_GROUPS:
        return panel
    block = np.arange(len(names)) * MAX_MODEL_GROUPS // len(names)
    label = pd.Series([f"{unit}s {i + 1:03d} of {MAX_MODEL_GROUPS}" for i in block], index=names)
    return panel.assign(**{unit: label.reindex(keys).to_numpy()})


def _panel_from_lake(data, deals, roster, freq):
    """Activity files (path, glob, list) or a Dask DataFrame: their panel (``panel_for``); else as given."""
    if not is_activity_source(data):
        return data
    return panel_for(data, deals, roster=roster, freq=freq or "W")


def _y_from_panel(panel, target: str, level: str, cutoff_ord: int, as_of, func: str):
    """Target per period x group from the panel rows up to the origin: ``(first, y, groups, panel_cut)``."""
    ords = panel["period"].array.asi8
    p = panel.loc[ords <= cutoff_ord]
    unit = _model_unit(p, level)
    if unit is not None:  # aggregate first: the cost no longer grows with the number of reps
        p = group_panel(_pool_units(p, unit) if level == "total" else p, unit)
    ords = p["period"].array.asi8
    if not len(p):
        raise InsufficientDataError(f"{func}: no panel period ends on or before as_of={as_of!r}.")
    grp = p["rep"].astype(str).to_numpy(dtype=object) if level == "rep" else _group_values(p, level, "panel")
    groups = sorted(pd.unique(grp).tolist())
    gi = pd.Index(groups).get_indexer(grp)
    first = int(ords.min())
    n_per = cutoff_ord - first + 1
    y = np.zeros((n_per, len(groups)))
    np.add.at(y, (ords - first, gi), p[target].to_numpy(dtype=float))
    seen = np.zeros((n_per, len(groups)), dtype=bool)
    seen[ords - first, gi] = True
    return first, np.where(seen, y, np.nan), groups, p


def _y_from_deals(d: dict, freq: str, cutoff_ord: int):
    """Won value per close period x group, NaN before each group's first deal: ``(first, y, groups)``."""
    groups = sorted(pd.unique(d["group"]).tolist())
    gi = pd.Index(groups).get_indexer(d["group"])
    c_ord = _ordinals(d["created"], freq)
    k_ord = _ordinals(d["closed"], freq)
    first = int(_ordinals(np.array([bulk_days(d["created"])[0]]), freq)[0])  # one deal dated 1999 starts nothing
    n_per = cutoff_ord - first + 1
    won = (d["status"] == 1) & (k_ord >= first)
    y = np.zeros((n_per, len(groups)))
    np.add.at(y, (k_ord[won] - first, gi[won]), d["value"][won])
    start = np.full(len(groups), n_per)
    np.minimum.at(start, gi, c_ord - first)
    y = np.where(np.arange(n_per)[:, None] >= start[None, :], y, np.nan)
    return first, y, groups


def _end_reps(y: np.ndarray, groups: list[str], roster: pd.DataFrame, first: int, freq: str) -> np.ndarray:
    """Blank the periods after each rep's roster end date (blank end dates: still active)."""
    end = _to_day(roster["end"])
    has = ~np.isnat(end)
    if not has.any():
        return y
    end_ord = pd.Series(_ordinals(end[has], freq), index=roster["rep"].astype(str).to_numpy()[has])
    end_ord = end_ord[~end_ord.index.duplicated(keep="last")]
    cut = end_ord.reindex(groups).to_numpy(dtype=float) - first + 1  # NaN: no end date
    rows = np.arange(y.shape[0])[:, None]
    return np.where(np.isfinite(cut)[None, :] & (rows >= np.nan_to_num(cut, nan=0.0)[None, :]), np.nan, y)


def _prepare(
    data: pd.DataFrame,
    *,
    target: str,
    level: str,
    freq: str | None,
    deals: pd.DataFrame | None,
    roster: pd.DataFrame | None,
    as_of,
    func: str = "forecast",
) -> _Data:
    panel, deals, freq = _read_input(data, target=target, freq=freq, deals=deals, func=func)
    rep_group = _rep_groups(panel, deals, roster, level, func)
    d = _deal_arrays(deals, target, level, rep_group)
    cutoff_ord, cutoff = _cutoff(panel, d, as_of, freq)
    if d is not None:
        d = _cut_deals(d, cutoff)
    if panel is not None:
        first, y, groups, panel_cut = _y_from_panel(panel, target, level, cutoff_ord, as_of, func)
    else:
        first, y, groups = _y_from_deals(d, freq, cutoff_ord)
        panel_cut = None
        if roster is not None and level == "rep" and "end" in roster.columns:
            y = _end_reps(y, groups, roster, first, freq)
    out = _Data(freq=freq, target=target, level=level, first=first, y=y, groups=groups, panel=panel_cut)
    if d is not None:
        out.d_created, out.d_closed, out.d_status, out.d_value = d["created"], d["closed"], d["status"], d["value"]
        out.d_group = pd.Index(groups).get_indexer(d["group"])
    return out


# ====================================================================== methods
def _active_start(s: np.ndarray) -> int:
    """Index where a series becomes active: its first non-zero period.

    Leading zeros (a company's or a rep's first months, before the first close)
    describe a business that did not exist yet, not one that sells nothing;
    they are dropped once the series has :data:`MIN_ACTIVE_NONZERO` non-zero
    periods.  Sparser series keep their zeros (they are flagged
    ``sparse_history`` instead: dropping the zeros before one lucky close
    would inflate the rate).
    """
    nz = np.flatnonzero(s)
    return int(nz[0]) if nz.size >= MIN_ACTIVE_NONZERO else 0


def _history(data: _Data, o: int, j: int) -> np.ndarray:
    """Group ``j``'s history up to origin row ``o`` (NaN-free), from its active start."""
    s = data.y[: o + 1, j]
    s = s[~np.isnan(s)]
    return s[_active_start(s) :]


def _seasonal_naive(s: np.ndarray, H: int, m: int) -> np.ndarray:
    """Same period last season; naive (last value) where that period is missing or zero.

    A season with no close at all (a young company's first year) is no
    forecast of the next one, so those horizons fall back to the last value.
    """
    last = np.full(H, s[-1])
    if len(s) < m:
        return last
    f = s[len(s) - m + (np.arange(H) % m)]
    return np.where(f > 0, f, last)


def _scale(s: np.ndarray, m: int) -> float:
    """In-sample MASE scale: mean absolute seasonal difference (lag 1 when short).

    NaN when the history has no variation and no value (all zeros): such a
    group has no scale of its own and borrows the other groups' (see
    :func:`_pool_scales`).  A fixed fallback (it used to be 1.0) put raw
    dollar errors among the scaled ones and blew every pooled range up.
    """
    lag = m if len(s) >= 2 * m else 1
    level = float(np.mean(np.abs(s))) if len(s) else 0.0
    sc = float(np.mean(np.abs(s[lag:] - s[:-lag]))) if len(s) > lag else 0.0
    if sc > 0:
        return sc
    return level if level > 0 else np.nan


def _pool_scales(S: np.ndarray) -> np.ndarray:
    """Fill the groups without a scale of their own (NaN) from the others.

    First the median scale of the other groups at the same origin, then the
    group's own first later scale, then the median of all; 1.0 only when no
    group of the data has ever had a non-zero value (all errors are then 0).
    """
    S = S.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
        row = np.nanmedian(S, axis=1)
    S = np.where(np.isnan(S), row[:, None], S)
    if np.isnan(S).any():
        later = pd.DataFrame(S).bfill().to_numpy()
        S = np.where(np.isnan(S), later, S)
        S = np.where(np.isnan(S), np.nanmedian(S) if np.isfinite(S).any() else 1.0, S)
    return S


def _caps(data: _Data, origins: Sequence[int]) -> np.ndarray:
    """Largest upper bound the history supports per origin and group.

    :data:`MAX_UPPER_MULTIPLE` x the largest period the group has seen up to
    the origin (the largest any group has seen when the group has none yet;
    no cap while nothing has been seen anywhere).
    """
    running = np.fmax.accumulate(np.nan_to_num(data.y, nan=0.0), axis=0)[np.asarray(origins)]
    widest = running.max(axis=1, keepdims=True)
    top = np.where(running > 0, running, widest)
    return np.where(top > 0, MAX_UPPER_MULTIPLE * top, np.inf)


def _ets(
    s: np.ndarray,
    H: int,
    freq: str,
    cache: dict | None = None,
    key=None,
    o: int = 0,
    info: dict | None = None,
) -> np.ndarray:
    """ETS forecast; non-seasonal fits are re-estimated every :data:`REFIT_EVERY` origins.

    Between re-estimations the smoothing parameter and initial level found at
    the last re-estimation (on data known then) are run over the longer
    series, which is what a weekly production forecast does too.  When
    ``info`` is given, ``info["sd"]`` receives the analytic h-step standard
    deviations of ETS(A,N,N): ``sigma * sqrt(1 + (h - 1) alpha^2)``.
    """
    from scipy.signal import lfilter
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = SEASON[freq]
    seasonal = "add" if freq != "W" and len(s) >= 2 * m + 2 else None
    s = s.astype(float)

    def spread(alpha: float, l0: float) -> None:
        if info is None:
            return
        levels = lfilter([alpha], [1.0, -(1.0 - alpha)], s, zi=[(1.0 - alpha) * l0])[0]
        prev = np.concatenate([[l0], levels[:-1]])
        sigma = float(np.sqrt(np.mean((s - prev) ** 2)))
        info["sd"] = sigma * np.sqrt(1 + np.arange(H) * alpha**2)

    if len(s) < 6 or np.all(s == s[0]):
        if info is not None:
            info["sd"] = np.full(H, float(np.std(s)) if len(s) > 1 else 0.0) * np.sqrt(
                1 + 1 / max(len(s), 1)
            )
        return np.full(H, float(np.mean(s[-m:])))
    if (
        cache is not None
        and seasonal is None
        and key in cache
        and o - cache[key][0] < REFIT_EVERY[freq]
    ):
        _, alpha, l0, n0 = cache[key]
        if len(s) >= n0:
            level = lfilter([alpha], [1.0, -(1.0 - alpha)], s, zi=[(1.0 - alpha) * l0])[0][-1]
            spread(alpha, l0)
            return np.full(H, max(float(level), 0.0))
    with warnings.catch_warnings():
        # the optimiser's convergence / value notes and numpy overflow in poor candidate fits; a FutureWarning
        # or DeprecationWarning from statsmodels or numpy still shows
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ETSModel(
                s,
                error="add",
                trend=None,
                seasonal=seasonal,
                seasonal_periods=m if seasonal else None,
                initialization_method="estimated",
            ).fit(disp=False, maxiter=200)
            f = np.asarray(res.forecast(H), dtype=float)
            alpha = float(res.params[0])
            if seasonal is None:
                if cache is not None:
                    cache[key] = (o, alpha, float(res.params[-1]), len(s))
                spread(alpha, float(res.params[-1]))
            elif info is not None:
                info["sd"] = float(np.sqrt(np.mean(np.asarray(res.resid) ** 2))) * np.sqrt(
                    1 + np.arange(H) * alpha**2
                )
        except Exception:  # noqa: BLE001 - any numerical failure falls back to the recent mean
            f = np.full(H, np.nan)
    if not np.all(np.isfinite(f)):
        f = np.full(H, float(np.mean(s[-m:])))
        if info is not None:
            info["sd"] = np.full(H, float(np.std(s[-m:])))
    return np.maximum(f, 0.0)


def _sn_offsets(s: np.ndarray, H: int, m: int, interval: float) -> tuple[np.ndarray, np.ndarray]:
    """Seasonal-naive interval offsets: empirical quantiles of in-sample seasonal differences.

    The h-step error of a seasonal naive forecast sums ``ceil(h / m)`` such
    differences, so the quantiles are widened by the square root of that.
    """
    lag = m if len(s) > m else 1
    r = s[lag:] - s[:-lag] if len(s) > lag else np.zeros(1)
    a = (1 - interval) / 2
    qlo, qhi = np.quantile(r, [a, 1 - a])
    k = np.sqrt(np.ceil(np.arange(1, H + 1) / lag))
    return qlo * k, qhi * k


def _pipeline(data: _Data, o: int, H: int, mc: tuple[int, float, int] | None = None):
    """Forecast the target per group and horizon from open deals + not-yet-created deals.

    With ``mc=(n_sims, interval, seed)`` also returns Monte Carlo bounds: each
    open deal closes won in one of the horizon periods (or not) with the
    hazard probabilities, at its listed amount; the not-yet-created revenue is
    a bootstrap draw of one recent period's.
    """
    G = len(data.groups)
    if data.d_created is None:
        return np.full((G, H), np.nan)
    E = _end_day(data.first + o, data.freq)
    known = data.d_created <= E
    resolved = known & (data.d_status > 0) & (data.d_closed <= E)
    open_ = known & ~resolved
    hw, hl = _hazards(data, known, resolved, E)
    P = _open_win_probs(data, open_, hw, hl, o, H, E)
    value, grp = data.d_value[open_], data.d_group[open_]
    out = np.zeros((G, H))
    for h in range(H):
        out[:, h] = np.bincount(grp, weights=P[:, h] * value, minlength=G)[:G]
    Rc, active = _new_business(data, known, o, H, E)
    out += (Rc * active[:, :, None]).sum(axis=0) / np.maximum(active.sum(axis=0), 1)[:, None]
    if mc is None:
        return out
    lo, hi = _pipeline_draws(P, value, grp, Rc, active, G, mc)
    return out, lo, hi


def _hazards(data: _Data, known: np.ndarray, resolved: np.ndarray, E) -> tuple[np.ndarray, np.ndarray]:
    """Competing-risks hazards (won, lost) by deal-age week, from the deals known at ``E``, with censoring.

    Weeks with fewer than :data:`MIN_AT_RISK` deals at risk (and all after
    the first such week) share one tail hazard.
    """
    created, closed, status = data.d_created, data.d_closed, data.d_status
    dur = ((np.where(resolved, closed, E) - created).astype(np.int64) // 7)[known]
    dur = np.maximum(dur, 0)
    res_k = resolved[known]
    won_k = (status[known] == 1) & res_k
    K = int(dur.max()) + 2 if dur.size else 2
    exposure = np.bincount(dur, minlength=K)[::-1].cumsum()[::-1]  # deals alive at start of week k
    # censored deals were not seen through their current week: remove that partial week
    at_risk = exposure - np.bincount(dur[~res_k], minlength=K)
    w_ev = np.bincount(dur[won_k], minlength=K).astype(float)
    l_ev = np.bincount(dur[res_k & ~won_k], minlength=K).astype(float)
    thin = np.nonzero(at_risk < MIN_AT_RISK)[0]
    cut = max(int(thin[0]) if thin.size else K, 1)
    hw, hl = np.zeros(K + 1), np.zeros(K + 1)
    ok = at_risk[:cut] > 0
    hw[:cut][ok] = w_ev[:cut][ok] / at_risk[:cut][ok]
    hl[:cut][ok] = l_ev[:cut][ok] / at_risk[:cut][ok]
    tail_risk = at_risk[cut:].sum()
    if tail_risk > 0:
        hw[cut:] = w_ev[cut:].sum() / tail_risk
        hl[cut:] = l_ev[cut:].sum() / tail_risk
    return hw, hl


def _open_win_probs(data: _Data, open_: np.ndarray, hw, hl, o: int, H: int, E) -> np.ndarray:
    """Probability that each open deal closes won in each horizon period: (n_open, H)."""
    P = np.zeros((int(open_.sum()), H))
    if not open_.any():
        return P
    o_ord = data.first + o
    K = len(hw) - 1
    J = int((_end_day(o_ord + H, data.freq) - E).astype(np.int64) // 7) + 2  # weeks to the horizon's end
    age = (E - data.d_created[open_]).astype(np.int64)
    mid = age[:, None] + 7 * np.arange(1, J + 1)[None, :] - 3.5
    k = np.minimum((mid // 7).astype(np.int64), K)
    surv = np.cumprod(np.clip(1 - hw[k] - hl[k], 0, 1), axis=1)
    prev = np.hstack([np.ones((surv.shape[0], 1)), surv[:, :-1]])
    p_win = prev * hw[k]  # (n_open, J): won in coming week j
    week_day = E + (7 * np.arange(1, J + 1) - 3).astype("timedelta64[D]")
    h_idx = _ordinals(week_day, data.freq) - o_ord  # period of each coming week: 1..
    for h in range(1, H + 1):
        cols = h_idx == h
        if cols.any():
            P[:, h - 1] = p_win[:, cols].sum(axis=1)
    return P


def _new_business(data: _Data, known: np.ndarray, o: int, H: int, E) -> tuple[np.ndarray, np.ndarray]:
    """Revenue won within ``h`` periods by deals created after the origin, from the recent periods.

    Returns ``(Rc, active)``: ``Rc`` (window, groups, H) the revenue each of the
    last :data:`NEW_BUSINESS_WINDOW` periods won from deals created fewer than
    ``h`` periods before its close; ``active`` (window, groups) the periods in
    which the group was active (their mean is the forecast's new business).
    """
    G = len(data.groups)
    won = known & (data.d_status == 1) & (data.d_closed <= E)
    if not won.any():
        return np.zeros((1, G, H)), np.ones((1, G), dtype=bool)
    W = NEW_BUSINESS_WINDOW[data.freq]
    o_ord = data.first + o
    pc = _ordinals(data.d_closed[won], data.freq)
    lag = pc - _ordinals(data.d_created[won], data.freq)
    recent = (pc > o_ord - W) & (lag < H)
    R = np.zeros((W, G, H))
    np.add.at(R, (pc[recent] - (o_ord - W + 1), data.d_group[won][recent], lag[recent]), data.d_value[won][recent])
    active = ~np.isnan(data.y[max(o - W + 1, 0) : o + 1])  # (<=W, G)
    active = np.vstack([np.zeros((W - active.shape[0], G), dtype=bool), active])
    return R.cumsum(axis=2), active  # revenue with lag <= h-1


def _pipeline_draws(P, value, grp, Rc, active, G: int, mc: tuple[int, float, int]):
    """Monte Carlo bounds of the pipeline: each open deal won in one period (or not), plus a recent period's new business."""
    n_sims, interval, seed = mc
    H = Rc.shape[2]
    rng = np.random.default_rng(seed)
    draws = np.zeros((n_sims, G, H))
    if P.shape[0]:
        cum = np.cumsum(P, axis=1)
        u = rng.random((n_sims, P.shape[0]))
        when = (u[:, :, None] > cum[None, :, :]).sum(axis=2)  # 0..H-1 = period won, H = not in horizon
        onehot = np.zeros((P.shape[0], G))
        onehot[np.arange(P.shape[0]), grp] = 1.0
        for h in range(H):
            draws[:, :, h] = ((when == h) * value) @ onehot
    rows = np.nonzero(active.any(axis=1))[0]
    if rows.size:
        pick = rows[rng.integers(0, rows.size, n_sims)]
        draws += Rc[pick] * active[pick][:, :, None]
    a = (1 - interval) / 2
    lo, hi = np.quantile(draws, [a, 1 - a], axis=0)
    return lo, hi


def _activity(
    data: _Data,
    o: int,
    H: int,
    drivers,
    planned,
    cache: dict | None = None,
    info: dict | None = None,
) -> np.ndarray:
    """Driver model fitted on the history, fed with recent (or planned) activity."""
    G = len(data.groups)
    if data.panel is None:
        return np.full((G, H), np.nan)
    freq = data.freq
    o_ord = data.first + o
    p = data.panel
    ords = p["period"].array.asi8
    hist = p.loc[ords <= o_ord]
    if drivers is not None:
        res = drivers
    elif cache is not None and "fit" in cache and o - cache["fit"][0] < REFIT_EVERY[freq]:
        res = cache["fit"][1]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SalesgoalsWarning)  # the driver notes; the forecast's own notes say enough
            res = fit_drivers(hist, outcome=data.target, diagnostics=False, n_boot=0)
        if cache is not None:
            cache["fit"] = (o, res)
    acts = activity_columns(hist)
    last = hist.loc[hist["period"].array.asi8 == o_ord]
    recent = hist.loc[hist["period"].array.asi8 > o_ord - ACTIVITY_WINDOW[freq]]
    mean_act = recent.groupby("rep")[acts].mean()
    rows = []
    for h in range(1, H + 1):
        fut = last.copy()
        fut["period"] = _period(o_ord + h, freq).repeat(len(fut))
        if planned is not None:
            plan = planned.set_index("rep")
            for c in acts:
                if c in plan.columns:
                    mean_act[c] = plan[c].reindex(mean_act.index).fillna(mean_act[c])
        for c in acts:
            fut[c] = np.round(fut["rep"].map(mean_act[c]).fillna(0.0).to_numpy())
        rows.append(fut)
    fut = pd.concat([hist, *rows], ignore_index=True)
    fut.attrs = dict(hist.attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SalesgoalsWarning)
        pred = np.asarray(res.predict(fut), dtype=float)
    fo = fut["period"].array.asi8
    grp = (
        fut["rep"].astype(str).to_numpy(dtype=object)
        if data.level == "rep"
        else _group_values(fut, data.level, "panel")
    )
    gi = pd.Index(data.groups).get_indexer(grp)
    out = np.zeros((G, H))
    sel = (fo > o_ord) & (gi >= 0)
    np.add.at(out, (gi[sel], fo[sel] - o_ord - 1), np.nan_to_num(np.maximum(pred[sel], 0.0)))
    if info is not None:  # in-sample residuals per group and period: the model's own interval
        past = (fo <= o_ord) & (gi >= 0)
        resid = np.zeros((o_ord - int(fo[past].min()) + 1, G))
        np.add.at(
            resid,
            (fo[past] - int(fo[past].min()), gi[past]),
            fut[data.target].to_numpy(dtype=float)[past] - np.nan_to_num(pred[past]),
        )
        a = (1 - info["interval"]) / 2
        info["lo"], info["hi"] = np.quantile(resid, a, axis=0), np.quantile(resid, 1 - a, axis=0)
    return out


def _available_methods(data: _Data) -> list[str]:
    """Methods the data supports: activity needs a panel with activity columns."""
    out = [*BENCHMARKS, "ets"]
    if data.d_created is not None:
        out.append("pipeline")
    if _has_activities(data.panel) and _drivers_available():
        out.append("activity")
    out.append("combination")
    return out


def _has_activities(panel: pd.DataFrame | None) -> bool:
    """Whether a panel has activity columns (a deals-only panel has none)."""
    if panel is None:
        return False
    return bool(activity_columns(panel))


def _drivers_available() -> bool:
    try:
        import salesgoals.drivers as _drv  # noqa: F401
    except ImportError:
        return False
    return hasattr(_drv, "fit_drivers")


def _trailing_mean(s: np.ndarray, H: int, w: int) -> np.ndarray:
    """Mean of the last ``w`` periods, flat over the horizon."""
    return np.full(H, float(np.mean(s[-w:])))


def _drift(s: np.ndarray, H: int) -> np.ndarray:
    """Last value plus the average change per period so far, per step ahead (>= 0)."""
    if len(s) < 2:
        return np.full(H, float(s[-1]))
    slope = (s[-1] - s[0]) / (len(s) - 1)
    return np.maximum(s[-1] + slope * np.arange(1, H + 1), 0.0)


def _benchmark_bounds(name: str, s: np.ndarray, f: np.ndarray, H: int, m: int, interval: float):
    """Model bounds of the simple benchmarks (``intervals="model"``)."""
    if name == "seasonal_naive":
        qlo, qhi = _sn_offsets(s, H, m, interval)
        return f + qlo, f + qhi
    z = float(stats.norm.ppf(0.5 + interval / 2))
    if name == "trailing_mean":
        w = min(len(s), m)
        sd = float(np.std(s[-w:], ddof=1)) if w > 1 else 0.0
        half = z * sd * np.sqrt(1 + 1 / max(w, 1)) * np.ones(H)
    else:  # drift: random walk with drift
        sd = float(np.std(np.diff(s), ddof=1)) if len(s) > 2 else 0.0
        h = np.arange(1, H + 1)
        half = z * sd * np.sqrt(h * (1 + h / max(len(s) - 1, 1)))
    return f - half, f + half


def _group_points(data: _Data, i: int, o: int, H: int, out: dict, bounds: dict, state: dict) -> None:
    """Per-group methods at origin ``i``: the benchmarks and ETS (fills ``out``/``bounds`` in place).

    The benchmarks and MASE scales are computed for every group at once
    (:mod:`salesgoals.forecasting._benchmarks`, equal to the group-by-group
    definitions above); only ETS, a fitted model, runs group by group.
    """
    m = SEASON[data.freq]
    model = state["model"]
    cols = np.nonzero(~np.isnan(data.y[o]))[0]
    if not cols.size:
        return
    hist = _bench.histories(data.y[: o + 1], cols, MIN_ACTIVE_NONZERO)
    state["scales"][i, cols] = _bench.mase_scales(hist, m)
    state["trimmed"][i, cols] = hist.trimmed
    names = [k for k in ("seasonal_naive", "trailing_mean", "drift") if k in out]
    fits, fallback = _bench.benchmark_forecasts(hist, H, m, TRAILING_WINDOW[data.freq], names)
    state["sn_fallback"] += fallback
    for name, f in fits.items():
        out[name][i, cols] = f
    if model:
        for name, (lo, hi) in _bench.benchmark_bounds(hist, fits, H, m, model[1]).items():
            bounds[name][0][i, cols], bounds[name][1][i, cols] = lo, hi
    if "ets" in out:
        z = float(stats.norm.ppf(0.5 + model[1] / 2)) if model else 0.0
        for g, j in enumerate(cols):  # a model fit per group (cached between re-estimations)
            s = hist.column(g)
            info: dict = {}
            key = (j, o + 1 - len(s))  # refit when the active span starts anew
            f = _ets(s, H, data.freq, state["ets_cache"], key, o, info if model else None)
            out["ets"][i, j] = f
            if model:
                bounds["ets"][0][i, j], bounds["ets"][1][i, j] = f - z * info["sd"], f + z * info["sd"]


def _deal_points(data, i, o, H, out, bounds, state, drivers, planned) -> None:
    """Pipeline and activity methods at origin ``i`` (all groups at once)."""
    model = state["model"]
    active = ~np.isnan(data.y[o])
    if "pipeline" in out:
        if model:
            f, lo, hi = _pipeline(data, o, H, mc=(model[0], model[1], model[2] + i))
            bounds["pipeline"][0][i], bounds["pipeline"][1][i] = (
                np.where(active[:, None], x, np.nan) for x in (lo, hi)
            )
        else:
            f = _pipeline(data, o, H)
        out["pipeline"][i] = np.where(active[:, None], f, np.nan)
    if "activity" in out:
        info = {"interval": model[1]} if model else None
        f = _activity(data, o, H, drivers, planned, state["act_cache"], info)
        out["activity"][i] = np.where(active[:, None], f, np.nan)
        if model:
            lo, hi = f + info["lo"][:, None], f + info["hi"][:, None]
            bounds["activity"][0][i], bounds["activity"][1][i] = (
                np.where(active[:, None], x, np.nan) for x in (lo, hi)
            )


@dataclass
class _Points:
    """Point forecasts at the origins, with what the intervals and notes need."""

    F: dict  # method -> (n_origins, n_groups, H)
    S: np.ndarray  # (n_origins, n_groups) MASE scales, pooled where a group has none
    B: dict  # method -> (lower, upper) model bounds (intervals="model" only)
    caps: np.ndarray  # (n_origins, n_groups) largest upper bound the history supports
    trimmed: np.ndarray  # (n_origins, n_groups) leading periods dropped (not started yet)
    sn_fallback: int  # seasonal-naive forecasts that fell back to the last value


def _points(
    data: _Data,
    origins: Sequence[int],
    H: int,
    methods: Sequence[str],
    drivers=None,
    planned=None,
    model: tuple[int, float, int] | None = None,
) -> _Points:
    """Point forecasts ``{method: (n_origins, n_groups, H)}`` at origin rows ``origins``.

    ``model=(n_sims, interval, seed)`` also makes each method's *model*
    interval (else :attr:`_Points.B` is empty).
    """
    G = len(data.groups)
    base = [x for x in methods if x != "combination"]
    if "combination" in methods:
        parts = [x for x in COMBINED if x in _available_methods(data)]
        base = list(dict.fromkeys([*base, *parts]))
    shape = (len(origins), G, H)
    out = {k: np.full(shape, np.nan) for k in base}
    bounds = {k: (np.full(shape, np.nan), np.full(shape, np.nan)) for k in base} if model else {}
    state = dict(
        model=model,
        scales=np.full((len(origins), G), np.nan),
        trimmed=np.zeros((len(origins), G), dtype=int),
        sn_fallback=0,
        ets_cache={},
        act_cache={},
    )
    for i, o in enumerate(origins):
        _group_points(data, i, o, H, out, bounds, state)
        _deal_points(data, i, o, H, out, bounds, state, drivers, planned)
    if "combination" in methods:
        parts = [k for k in COMBINED if k in out]
        out["combination"] = np.mean([out[k] for k in parts], axis=0)
        if model:  # quantile averaging of the components' intervals
            bounds["combination"] = tuple(np.mean([bounds[k][b] for k in parts], axis=0) for b in (0, 1))
    bounds = {k: tuple(np.maximum(x, 0.0) for x in v) for k, v in bounds.items() if k in methods}
    return _Points(
        F={k: out[k] for k in methods},
        S=_pool_scales(state["scales"]),
        B=bounds,
        caps=_caps(data, origins),
        trimmed=state["trimmed"],
        sn_fallback=state["sn_fallback"],
    )


def _actuals(data: _Data, origins: Sequence[int], H: int) -> np.ndarray:
    n = data.y.shape[0]
    A = np.full((len(origins), len(data.groups), H), np.nan)
    for i, o in enumerate(origins):
        hi = min(o + H, n - 1)
        if hi > o:
            A[i, :, : hi - o] = data.y[o + 1 : hi + 1].T
    return A


# ====================================================================== results
def _history_frame(data: _Data) -> pd.DataFrame:
    n, G = data.y.shape
    periods = _period(np.arange(data.first, data.first + n), data.freq)
    frame = pd.DataFrame(
        {
            "group": np.tile(np.asarray(data.groups, dtype=object), n),
            "period": periods.repeat(G),
            "actual": data.y.ravel(),
        }
    )
    frame = frame.loc[frame["actual"].notna()].sort_values(["group", "period"], kind="mergesort")
    return frame.reset_index(drop=True)


@dataclass
class BacktestResult:
    """Rolling-origin backtest of the forecast methods.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per method: ``method``, ``n_origins``, ``n_forecasts``,
        ``mae``, ``mase`` (mean absolute error scaled by each group's in-sample
        seasonal-naive error; < 1 beats that benchmark in-sample),
        ``relative_mae`` (MAE / MAE of ``seasonal_naive`` on the same forecasts;
        < 1 beats the benchmark out of sample), ``vs_best_benchmark`` (MAE /
        MAE of the best of the simple benchmarks, :data:`BENCHMARKS`),
        ``bias`` (mean forecast - actual), ``coverage`` (share of actuals
        inside the interval), ``nominal``, ``mean_width`` (mean interval
        width), ``relative_width`` (``mean_width`` / the mean actual: the
        interval-width check; above :data:`MAX_RELATIVE_WIDTH` it warns),
        ``ranges`` (the scale of the ranges: ``log``, or with
        ``ranges="auto"`` the origins per scale, e.g. ``additive 20, log 6``;
        absent with ``intervals="model"``).
        Every method is scored on the same forecasts, the rows of ``errors``.
    errors : pandas.DataFrame
        One row per origin, group, horizon and method: ``origin`` (period of
        the origin), ``group``, ``period``, ``horizon``, ``method``,
        ``forecast``, ``lower``, ``upper``, ``actual``, ``scale`` (the
        group's MASE scale at the origin), ``covered``, ``ranges`` (the
        scale of that origin's range; conformal intervals only).
    """

    table: pd.DataFrame
    errors: pd.DataFrame
    target: str
    level: str
    freq: str
    horizon: int
    interval: float
    notes: list[str] = field(default_factory=list)
    intervals: str = "conformal"

    def summary(self) -> Summary:
        """Per-method accuracy and coverage, as a printable summary."""
        lines = [
            f"target {self.target}, level {self.level}, freq {self.freq}, horizon {self.horizon}, "
            f"{self.table['n_origins'].max() if len(self.table) else 0} origins, "
            f"nominal interval {self.interval:.0%} ({self.intervals})",
            *self.notes,
        ]
        return Summary("Forecast backtest", lines, self.table.round(3))

    def plot(self, ax=None):
        """Coverage and relative MAE per method (see :func:`salesgoals.plotting.plot_backtest`)."""
        return plot_backtest(self, ax=ax)

    def __repr__(self) -> str:
        return (
            f"BacktestResult(target={self.target!r}, level={self.level!r}, freq={self.freq!r}, "
            f"horizon={self.horizon}, methods={self.table['method'].tolist()})"
        )


@dataclass
class ForecastResult:
    """Forecast of revenue or deals won per group and period, with intervals.

    Attributes
    ----------
    table : pandas.DataFrame
        See :func:`forecast` (Returns).
    history : pandas.DataFrame
        ``group, period, actual``: the target per group and period known at the as-of date.
    method : str
        Method reported in ``table`` (the one picked when ``method="auto"``).
    selection : pandas.DataFrame
        Accuracy of each candidate over the calibration origins before the
        as-of date (same columns as :attr:`BacktestResult.table` minus
        coverage), with ``chosen`` marking the method reported.
    as_of : pandas.Timestamp
        End of the last complete period used (the forecast origin).
    ranges : dict
        Method -> the scale its conformal ranges are on (``additive``,
        ``log`` or ``count``; see :func:`forecast`'s ``ranges``).
    hierarchy : pandas.DataFrame
        At ``level="rep"`` with teams known (a panel built with a roster, or
        ``roster=``): the reps' forecasts (sparse reps pooled toward their
        team) added up bottom-up to teams and the total, so the levels agree;
        ``level, group, method, period, forecast, lower, upper``.  Team and
        total ranges come from the roll-ups' own past errors (the reps' summed
        forecasts against the team's and total's actual at earlier origins, on
        the scale ``ranges`` picks), not from the reps' ranges, which do not
        add up when reps share busy weeks; the notes say which (with
        ``intervals="model"``: the reps' half-widths in quadrature).  See
        :mod:`salesgoals.forecasting._hierarchy`.  Empty otherwise.
    """

    table: pd.DataFrame
    history: pd.DataFrame
    method: str
    selection: pd.DataFrame
    as_of: pd.Timestamp
    target: str
    level: str
    freq: str
    interval: float
    notes: list[str] = field(default_factory=list)
    intervals: str = "conformal"
    hierarchy: pd.DataFrame = field(default_factory=pd.DataFrame)
    ranges: dict = field(default_factory=dict)

    def summary(self) -> Summary:
        """Totals per period over all groups and the method choice, as a printable summary."""
        lines = [
            f"{self.target} by {self.level}, freq {self.freq}, as of {self.as_of.date()}, "
            f"method {self.method}, {self.interval:.0%} intervals "
            + (
                "(conformal, from past errors)"
                if self.intervals == "conformal"
                else "(model-based)"
            ),
        ]
        if len(self.selection) > 1:
            sel = self.selection.sort_values("vs_best_benchmark", kind="mergesort")
            lines.append(
                "backtest before the as-of date (MAE relative to the best simple benchmark, "
                f"{self.selection.attrs.get('best_benchmark')}; lower is better): "
                + ", ".join(f"{r.method} {r.vs_best_benchmark:.2f}" for r in sel.itertuples())
            )
        lines += self.notes
        if len(self.table["group"].unique()) > 1:
            for method, part in self.table.groupby("method", sort=True):
                tot = part.groupby("period", sort=True)["forecast"].sum()
                lines.append(
                    f"{method} summed over groups: "
                    + ", ".join(
                        f"{p}: {v:,.0f}" for p, v in zip(tot.index.astype(str), tot.to_numpy())
                    )
                )
        cols = ["group", "period", "method", "forecast", "lower", "upper", "flags"]
        tab = self.table[cols].copy()
        tab[["forecast", "lower", "upper"]] = tab[["forecast", "lower", "upper"]].round(1)
        return Summary("Forecast", lines, tab)

    def plot(self, ax=None, *, group: str | None = None):
        """Fan chart of history and forecast (see :func:`salesgoals.plotting.plot_forecast`)."""
        return plot_forecast(self, group=group, ax=ax)

    def __repr__(self) -> str:
        return (
            f"ForecastResult(target={self.target!r}, level={self.level!r}, freq={self.freq!r}, "
            f"groups={self.table['group'].nunique()}, horizon={self.table['horizon'].max()}, "
            f"method={self.method!r}, as_of={str(self.as_of.date())!r})"
        )


# ====================================================================== front doors
def _common_mask(F: dict, A: np.ndarray, lower: dict | None = None) -> np.ndarray:
    """Forecasts every method made and whose actual is known (and, for backtests, ranged).

    One mask behind both :attr:`BacktestResult.table` and ``.errors`` so that
    every method is scored on the same forecasts.
    """
    ok = np.isfinite(A)
    for f in F.values():
        ok &= np.isfinite(f)
    for lo in (lower or {}).values():
        ok &= np.isfinite(lo)
    return ok


def _metrics(F, A, S, methods, ok, lower=None, upper=None, nominal=None) -> pd.DataFrame:
    """Accuracy per method over the forecasts in ``ok`` (see :class:`BacktestResult`)."""
    scale = np.broadcast_to(S[:, :, None], A.shape)[ok]
    level = float(np.mean(np.abs(A[ok]))) if ok.any() else np.nan
    n_orig = int(ok.any(axis=(1, 2)).sum())
    mae = {k: float(np.mean(np.abs(F[k] - A)[ok])) if ok.any() else np.nan for k in methods}
    bench = [k for k in BENCHMARKS if k in mae]
    best = min(bench, key=lambda k: (mae[k], BENCHMARKS.index(k))) if bench else None
    rows = []
    for k in methods:
        err = (F[k] - A)[ok]
        row = {
            "method": k,
            "n_origins": n_orig,
            "n_forecasts": int(ok.sum()),
            "mae": mae[k],
            "mase": float(np.mean(np.abs(err) / scale)) if err.size else np.nan,
            "relative_mae": mae[k] / max(mae.get("seasonal_naive", np.nan), 1e-12) if err.size else np.nan,
            "vs_best_benchmark": mae[k] / max(mae[best], 1e-12) if err.size and best else np.nan,
            "bias": float(np.mean(err)) if err.size else np.nan,
        }
        if lower is not None:
            lo, up, a = lower[k][ok], upper[k][ok], A[ok]
            row["coverage"] = float(np.mean((a >= lo) & (a <= up))) if a.size else np.nan
            row["nominal"] = nominal
            row["mean_width"] = float(np.mean(up - lo)) if a.size else np.nan
            row["relative_width"] = row["mean_width"] / level if level > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["best_benchmark"] = best
    return out


def _resolve_methods(method, data: _Data, func: str) -> list[str]:
    avail = _available_methods(data)
    if isinstance(method, str):
        _check_choice("method", method, ("auto", "all", *METHODS), func)
        if method in ("auto", "all"):
            return avail
        wanted = [method]
    else:
        wanted = list(method)
        for m in wanted:
            _check_choice("method", m, METHODS, func)
    for m in wanted:
        if m not in avail:
            why = {
                "pipeline": "it needs the deals (pass deals=, or pass the deals as the "
                "first argument)",
                "activity": "it needs a panel built from activities (this one has no activity columns: "
                "build_panel(activities, deals)) and salesgoals.drivers (fit_drivers)",
            }.get(m, "")
            raise ValueError(f"{func}: method {m!r} is not available here: {why}.")
    return wanted


def forecast(
    panel_or_deals: pd.DataFrame,
    *,
    target: Target = "won_revenue",
    level: str = "team",
    freq: Freq | None = None,
    horizon: int | None = None,
    as_of=None,
    method: Method | Sequence[str] = "auto",
    interval: float = 0.8,
    intervals: Literal["conformal", "model"] = "conformal",
    deals: pd.DataFrame | None = None,
    roster: pd.DataFrame | None = None,
    drivers=None,
    planned_activity: pd.DataFrame | None = None,
    ranges: Ranges = "auto",
    seed: int = 0,
) -> ForecastResult:
    """Forecast won revenue (or deals won) per group and period, with prediction intervals.

    Parameters
    ----------
    panel_or_deals : pandas.DataFrame, path, glob or Dask DataFrame
        A panel from :func:`salesgoals.build_panel` (its ``freq`` is used), or
        canonical deals from :func:`salesgoals.load_deals`; activity files
        (``"lake/**/*.parquet"``) or a Dask DataFrame of activities are built
        into the panel first (:func:`salesgoals.panel.panel_for`, with ``deals``).
    target : {"won_revenue", "deals_won"}, default="won_revenue"
        What to forecast.
    level : str, default="team"
        ``"total"`` (one series), ``"rep"``, or a roster column such as
        ``"team"``, ``"manager"`` or ``"region"``.
    freq : {"W", "M", "Q"}, optional
        Grain; taken from the panel, ``"M"`` for deals.
    horizon : int, optional
        Periods ahead (default: 4 weeks, 3 months or 2 quarters).
    as_of : date-like, optional
        Forecast as of this date, using only data known then (default: the end
        of the last complete period in the data).
    method : str or list of str, default="auto"
        ``"auto"`` picks the method with the lowest backtest error before
        ``as_of`` (a model only if it beats the best simple benchmark); ``"all"`` reports every available method; or one of
        :data:`METHODS` (or a list of them).
    interval : float, default=0.8
        Nominal coverage of the prediction intervals.
    intervals : {"conformal", "model"}, default="conformal"
        How the bounds are made.  ``"conformal"``: from the method's own past
        errors (calibrated; see the module notes).  ``"model"``: from each
        method's assumptions - empirical seasonal differences (seasonal
        naive), the analytic ETS(A,N,N) variance, a seeded Monte Carlo of
        Bernoulli wins of the open deals plus a bootstrap of new business
        (pipeline), in-sample residuals (activity), quantile averaging
        (combination).  Backtests show the model bounds are too narrow for
        some methods; they are offered for comparison.
    deals : pandas.DataFrame, optional
        Canonical deals, for the pipeline method when the first argument is a panel.
    roster : pandas.DataFrame, optional
        Maps reps to teams when the first argument is deals.
    drivers : DriverResult, optional
        A fitted driver model for the activity method (refitted at each origin
        when omitted).
    planned_activity : pandas.DataFrame, optional
        ``rep`` plus activity columns: planned activity per period, used by the
        activity method instead of the recent average.
    ranges : {"auto", "additive", "log", "count"}, default="auto"
        Scale of the conformal ranges (see :mod:`salesgoals.forecasting._ranges`):
        ``"additive"`` (errors in units of the group's MASE scale),
        ``"log"`` (errors of ``log1p``: multiplicative, skewed-up ranges),
        ``"count"`` (``deals_won`` only: a negative-binomial predictive with
        its dispersion fitted to the past errors), or ``"auto"``: the scale
        with the lowest interval score over the origins before ``as_of``
        (:attr:`ForecastResult.ranges` and the notes say which).  The point
        forecast is the same on every scale.  Ignored with ``intervals="model"``.
    seed : int, default=0
        Seed of the Monte Carlo of the pipeline method's model intervals.

    Returns
    -------
    ForecastResult
        ``.table`` has one row per group, period and method with columns:

        * ``level`` : str — the grouping (``total``, ``rep``, ``team``, ...).
        * ``group`` : str — the team, rep, ... (``"(all)"`` for ``total``).
        * ``period`` : pandas.Period — the forecast period.
        * ``horizon`` : int — periods after the as-of period (1 = next).
        * ``method`` : str — the method.
        * ``forecast`` : float — point forecast (>= 0).
        * ``lower``, ``upper`` : float — prediction interval bounds (>= 0).
        * ``interval`` : float — nominal coverage of the bounds.
        * ``as_of`` : pandas.Timestamp — the origin (end of the last complete period).
        * ``relative_width`` : float — (upper - lower) / the group's mean period (NaN when 0).
        * ``flags`` : str — ';'-joined: ``sparse_history`` (fewer than
          :data:`MIN_DEALS_FOR_RANGE` won deals), ``ramp_up`` (leading periods
          before the first close dropped), ``capped`` (upper bound cut at
          :data:`MAX_UPPER_MULTIPLE` x the largest period seen),
          ``wide_range`` (``relative_width`` > :data:`MAX_RELATIVE_WIDTH`),
          ``few_errors`` (fewer than :data:`MIN_CALIBRATION_ERRORS` past errors),
          ``pooled`` (a sparse rep's forecast and bounds shrunk toward the
          team's mean rep, at ``level="rep"`` with teams known).

    Raises
    ------
    SchemaError
        Missing columns, or a ``level`` the data cannot group by.
    InsufficientDataError
        Too little history before ``as_of`` to forecast.
    ValueError
        Unknown ``target``, ``method``, ``freq`` or a bad ``horizon``/``interval``.

    Warns
    -----
    UnreliableEstimateWarning
        When fewer than :data:`MIN_CALIBRATION_ERRORS` past errors calibrate an
        interval, a range is capped or wider than the data can justify, or a
        group has too few won deals (the flags above).

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=60, seed=1)
    >>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
    >>> res = forecast(panel, deals=sim.deals, level="total", horizon=4, method="pipeline")
    >>> res.table[["horizon", "method"]].to_dict("list")
    {'horizon': [1, 2, 3, 4], 'method': ['pipeline', 'pipeline', 'pipeline', 'pipeline']}
    >>> bool((res.table["lower"] <= res.table["forecast"]).all())
    True
    """
    panel_or_deals = _panel_from_lake(panel_or_deals, deals, roster, freq)
    data = _prepare(
        panel_or_deals,
        target=target,
        level=level,
        freq=freq,
        deals=deals,
        roster=roster,
        as_of=as_of,
    )
    H = _check_horizon(horizon, data.freq)
    _check_interval(interval)
    _check_choice("intervals", intervals, ("conformal", "model"))
    ranges_ = _check_ranges(ranges, target, "forecast")
    methods = _resolve_methods(method, data, "forecast")
    origins = _forecast_origins(data, H)
    model = (N_SIMS, float(interval), int(seed)) if intervals == "model" else None
    cand = list(dict.fromkeys([*BENCHMARKS, *methods]))  # the benchmarks are always scored
    P = _points(data, origins, H, cand, drivers=drivers, planned=planned_activity, model=model)
    A = _actuals(data, origins, H)
    Fp = {k: v[:-1] for k, v in P.F.items()}
    selection = _metrics(Fp, A[:-1], P.S[:-1], cand, _common_mask(Fp, A[:-1]))
    chosen, notes = _choose(method, methods, selection, len(origins) - 1)
    notes += _data_notes(data, P, methods)
    frames = []
    used = {}
    for k in chosen:
        lo, up, n_used, picks, scores = ranged(
            P.F[k], A, P.S, origins, [len(origins) - 1], interval, N_CALIBRATION[data.freq], ranges=ranges_, target=target
        )
        if model is not None:
            lo, up = P.B[k][0][-1:], P.B[k][1][-1:]
        else:
            used[k] = picks[0]
            notes += _ranges_note(k, ranges, picks[0], scores)
        frames.append(_forecast_frame(data, P, k, lo[0], up[0], n_used[0] if model is None else None, interval))
    table = pd.concat(frames, ignore_index=True)
    notes += _range_warnings(table, data, "forecast")
    calib = None if model is not None else dict(P=P, A=A, origins=origins, chosen=chosen, interval=interval,
                                                ranges=ranges_)  # fmt: skip
    table, hierarchy = _rep_hierarchy(table, data, panel_or_deals, roster, notes, calib)
    as_of_ts = pd.Timestamp(_end_day(data.first + data.y.shape[0] - 1, data.freq))
    table.insert(9, "as_of", as_of_ts)
    table = table.sort_values(["group", "method", "period"], kind="mergesort").reset_index(drop=True)
    selection["chosen"] = selection["method"].isin(chosen)
    return ForecastResult(
        table=table,
        history=_history_frame(data),
        method=chosen[0] if len(chosen) == 1 else "+".join(chosen),
        selection=selection,
        as_of=as_of_ts,
        target=target,
        level=level,
        freq=data.freq,
        interval=float(interval),
        notes=notes,
        intervals=intervals,
        hierarchy=hierarchy,
        ranges=used,
    )


def _team_of(first: pd.DataFrame, roster: pd.DataFrame | None) -> dict[str, str] | None:
    """Rep -> team from the panel's ``team`` column or the roster (None when neither has one)."""
    src = first if _is_panel(first) and "team" in first.columns else roster
    if src is None or "team" not in src.columns or "rep" not in src.columns:
        return None
    return dict(zip(src["rep"].astype(str), _group_values(src, "team", "roster")))


def _rep_hierarchy(table, data: _Data, first, roster, notes: list[str], calib: dict | None = None):
    """Rep level with teams known: sparse reps pooled toward their team, and the bottom-up hierarchy.

    ``calib`` (the points, actuals, origins, chosen methods, interval and
    range scale; None with model intervals) calibrates the team and total
    ranges on their own past errors (:func:`_rollup_ranges`).  Returns
    ``(table, hierarchy)``.
    """
    team_of = _team_of(first, roster) if data.level == "rep" else None
    if team_of is None:
        return table, pd.DataFrame(columns=["level", "group", "method", "period", "forecast", "lower", "upper"])
    n_won = dict(zip(data.groups, _won_deals(data)))
    table = pool_sparse_reps(table, team_of, n_won, MIN_DEALS_FOR_RANGE)
    n_pooled = table.loc[table["flags"].str.contains("pooled", regex=False), "group"].nunique()
    if n_pooled:
        notes.append(
            f"{n_pooled} rep(s) with fewer than {MIN_DEALS_FOR_RANGE} won deals pooled toward their team's mean rep "
            "(flag pooled); .hierarchy adds the reps up to teams and the total."
        )
    hierarchy = reconcile(table, team_of)
    if calib is not None:
        hierarchy, picks = _rollup_ranges(hierarchy, data, team_of=team_of, **calib)
        notes += _rollup_note(picks, min(len(calib["origins"]) - 1, N_CALIBRATION[data.freq]))
    return table, hierarchy


def _rollup_scales(y_r: np.ndarray, origins: Sequence[int], freq: str) -> np.ndarray:
    """In-sample MASE scale of each roll-up's own history at each origin (from its active start), pooled."""
    m = SEASON[freq]
    S = np.full((len(origins), y_r.shape[1]), np.nan)
    for i, o in enumerate(origins):
        for r in range(y_r.shape[1]):
            s = y_r[: o + 1, r]
            s = s[~np.isnan(s)]
            S[i, r] = _scale(s[_active_start(s) :], m) if s.size else np.nan
    return _pool_scales(S)


def _rollup_bounds(F_r, A_r, S_r, caps, origins, data: _Data, *, interval: float, ranges: str):
    """Conformal bounds at the as-of origin of roll-ups from their own past errors: (lower, upper, ok, picks)."""
    lo, up, _, picks, _ = ranged(F_r, A_r, S_r, origins, [len(origins) - 1], interval, N_CALIBRATION[data.freq],
                                 ranges=ranges, target=data.target)  # fmt: skip
    f = F_r[-1]
    ok = np.isfinite(lo[0]) & np.isfinite(up[0]) & np.isfinite(f)
    lo, up, _ = _bounded(lo[0], up[0], f, caps[:, None], data.target)
    return lo, up, ok, picks


def _rollup_ranges(hierarchy: pd.DataFrame, data: _Data, P: _Points, A: np.ndarray, origins: Sequence[int],
                   chosen: list[str], *, interval: float, ranges: str, team_of: dict[str, str]):  # fmt: skip
    """Team and total ranges calibrated on the roll-ups' own past errors, on the scale they pick.

    The sum of the reps' forecasts at each earlier origin against the team's
    (the total's) actual gives the roll-up's own errors, busy weeks shared by
    the reps and all; its conformal range (additive, log or count, as for the
    reps) replaces the quadrature sum of the reps' half-widths, which assumes
    independent reps and under-covers when their weeks move together.  Teams
    and the total are calibrated apart.  A roll-up with fewer than 2 past
    errors keeps the quadrature range.  The past forecasts are the reps' own
    (sparse reps not pooled: pooling moves only the as-of point, whose
    reconciled sum is what the range is put around).  Returns
    ``(hierarchy, picks)``: per method, the scales the calibrated roll-ups used.
    """
    rollups, M = rollup_members(data.groups, team_of)
    y_r = rollup_sums(data.y.T[None], M)[0].T  # (n_periods, n_rollups)
    A_r, S_r = rollup_sums(A, M), _rollup_scales(y_r, origins, data.freq)
    top = np.nanmax(np.where(np.isfinite(y_r), y_r, 0.0), axis=0)
    caps = np.where(top > 0, MAX_UPPER_MULTIPLE * top, np.inf)
    H = A.shape[2]
    periods = _period(data.last + 1 + np.arange(H), data.freq)
    h = hierarchy.set_index(["level", "group", "method", "period"])
    key = pd.MultiIndex.from_tuples([(lv, g, p) for lv, g in rollups for p in periods])
    level = np.array([lv for lv, _ in rollups])
    picks: dict[str, list[str]] = {}
    for k in chosen:
        F_r = rollup_sums(P.F[k], M)
        F_r[-1] = h.xs(k, level="method")["forecast"].reindex(key).to_numpy().reshape(len(rollups), H)
        for part in (level == "team", level == "total"):
            lo, up, ok, pick = _rollup_bounds(F_r[:, part], A_r[:, part], S_r[:, part], caps[part], origins, data,
                                              interval=interval, ranges=ranges)  # fmt: skip
            names = [rollups[i] for i in np.flatnonzero(part)]
            rows = [(lv, g, k, p) for (lv, g), row in zip(names, ok) for p, o in zip(periods, row) if o]
            if rows:
                at = pd.MultiIndex.from_tuples(rows)
                h.loc[at, "lower"], h.loc[at, "upper"] = lo[ok], up[ok]
                picks.setdefault(k, []).extend(pick)
    return h.reset_index()[hierarchy.columns], picks


def _rollup_note(picks: dict[str, list[str]], n_origins: int) -> list[str]:
    """Where the team and total ranges of ``.hierarchy`` come from, in words."""
    used = sorted({sc for v in picks.values() for sc in v})
    if not used:
        return [".hierarchy: team and total ranges add the reps' half-widths in quadrature (too few past errors "
                "of the roll-ups to calibrate them; independent reps assumed, so they can be too narrow)."]
    return [f".hierarchy: team and total ranges calibrated on the roll-ups' own past errors (the reps' summed "
            f"forecasts against the team's and the total's actual, up to {n_origins} earlier origins), on the "
            f"{' / '.join(used)} scale; the reps' ranges added in quadrature would assume reps whose weeks do not "
            "move together."]


def _forecast_origins(data: _Data, H: int) -> list[int]:
    """Origin rows of :func:`forecast`: the calibration origins, then the as-of one (last)."""
    T = data.y.shape[0] - 1
    start = MIN_HISTORY[data.freq] - 1
    if T < start:
        raise InsufficientDataError(
            f"forecast: only {T + 1} {data.freq} periods of history before the as-of date; "
            f"need at least {start + 1}. Use a coarser freq, an earlier as_of, or more history."
        )
    return list(range(max(start, T - N_CALIBRATION[data.freq] - H + 1), T + 1))


def _choose(method, methods: list[str], selection: pd.DataFrame, n_past: int) -> tuple[list[str], list[str]]:
    """Methods reported, and the note saying why (``auto``: beat the best benchmark or be it)."""
    if method != "auto":
        return methods, []
    sel = selection.loc[selection["method"].isin(methods)].dropna(subset=["mae"])
    best = selection.attrs.get("best_benchmark")
    if not len(sel) or best is None:
        return ["ets"], [f"method='auto' fell back to 'ets': no backtest error could be measured over {n_past} origins."]
    ranked = sel.sort_values(["vs_best_benchmark", "method"], kind="mergesort")
    top = ranked.iloc[0]
    if top["method"] in BENCHMARKS or top["vs_best_benchmark"] >= 1.0:
        models = ranked.loc[~ranked["method"].isin(BENCHMARKS)]
        runner = (
            f"; the best model, {models['method'].iloc[0]!r}, had {models['vs_best_benchmark'].iloc[0]:.2f}x its error"
            if len(models)
            else ""
        )
        return [best], [
            f"method='auto' picked {best!r}, the best simple benchmark over the {n_past} origins before the "
            f"as-of date: no model beat it{runner}."
        ]
    return [str(top["method"])], [
        f"method='auto' picked {top['method']!r}: its backtest error over the {n_past} origins before the as-of "
        f"date is {top['vs_best_benchmark']:.2f}x that of the best simple benchmark, {best!r} "
        f"({1 - top['vs_best_benchmark']:.0%} lower)."
    ]


def _won_deals(data: _Data) -> np.ndarray:
    """Won deals per group known at the as-of date (NaN when the data cannot tell)."""
    G = len(data.groups)
    if data.d_status is not None:
        won = (data.d_status == 1) & (data.d_group >= 0)
        return np.bincount(data.d_group[won], minlength=G)[:G].astype(float)
    if data.panel is not None and "deals_won" in data.panel.columns:
        p = data.panel
        grp = p["rep"].astype(str).to_numpy(dtype=object) if data.level == "rep" else _group_values(p, data.level, "panel")
        s = pd.Series(p["deals_won"].to_numpy(dtype=float)).groupby(grp).sum()
        return s.reindex(data.groups).fillna(0.0).to_numpy()
    return np.full(G, np.nan)


def _group_flags(data: _Data, P: _Points) -> np.ndarray:
    """Per group: ``sparse_history`` (too few won deals for a range of its own), ``ramp_up`` (leading zeros dropped)."""
    n_won = _won_deals(data)
    flags = np.full(len(data.groups), "", dtype=object)
    flags = np.where(n_won < MIN_DEALS_FOR_RANGE, "sparse_history", flags)
    ramp = P.trimmed[-1] > 0
    return np.where(ramp, np.where(flags == "", "ramp_up", flags + ";ramp_up"), flags)


def _data_notes(data: _Data, P: _Points, methods: list[str]) -> list[str]:
    """Notes on what the data allowed: benchmark fallbacks, young series, no activity columns."""
    notes = []
    if data.panel is not None and not _has_activities(data.panel):
        notes.append(
            "the panel has no activity columns (deals only): the activity method is skipped and the forecast "
            "uses methods that need no activities."
        )
    if P.sn_fallback:
        notes.append(
            f"seasonal naive fell back to the last value for {P.sn_fallback} group-horizon forecasts whose period "
            "last season had no close or is not in the (active) history."
        )
    ramp = np.flatnonzero(P.trimmed[-1] > 0)
    if ramp.size:
        notes.append(
            f"{ramp.size} group(s) start with periods before their first close (not started yet): forecast from "
            "their active span only (flag ramp_up)."
        )
    return notes


def _bounded(lo, up, f, caps, target: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounds on the data's scale: >= 0, around the point, capped by the history; whole deals for counts.

    Returns ``(lower, upper, capped)`` with ``capped`` marking the upper bounds cut at the cap.
    """
    lo = np.where(np.isnan(lo), 0.5 * f, lo)  # no calibration error at all: +-50 %, flagged
    up = np.where(np.isnan(up), 1.5 * f, up)
    lo, up = np.minimum(np.maximum(lo, 0.0), f), np.maximum(up, f)
    capped = up > caps
    up = np.where(capped, np.maximum(caps, f), up)
    if target == "deals_won":  # whole deals (+ 0.0: no -0.0 from the ceiling of a bound at 0)
        lo, up = np.floor(lo + 1e-9) + 0.0, np.ceil(up - 1e-9) + 0.0
    return lo, up, capped


def _forecast_frame(data: _Data, P: _Points, k: str, lo, up, n_used, interval: float) -> pd.DataFrame:
    """Rows of :attr:`ForecastResult.table` for method ``k`` at the as-of origin."""
    f = P.F[k][-1]
    G, H = f.shape
    lo, up, capped = _bounded(lo, up, f, P.caps[-1][:, None], data.target)
    flags = np.repeat(_group_flags(data, P), H).astype(object)
    hist = np.array([np.mean(_history(data, data.y.shape[0] - 1, j)) if np.isfinite(data.y[-1, j]) else np.nan
                     for j in range(G)])
    width = ((up - lo) / np.where(hist > 0, hist, np.nan)[:, None]).ravel()
    extra = [
        (capped.ravel(), "capped"),
        (np.nan_to_num(width, nan=0.0) > MAX_RELATIVE_WIDTH, "wide_range"),
        (np.repeat(np.zeros(G, bool), H) if n_used is None else np.tile(n_used < MIN_CALIBRATION_ERRORS, G), "few_errors"),
    ]
    for mask, name in extra:
        flags = np.where(mask, np.where(flags == "", name, flags + ";" + name), flags)
    frame = pd.DataFrame(
        {
            "level": data.level,
            "group": np.repeat(np.asarray(data.groups, dtype=object), H),
            "period": _period(np.tile(data.first + data.y.shape[0] + np.arange(H), G), data.freq),
            "horizon": np.tile(np.arange(1, H + 1), G),
            "method": k,
            "forecast": f.ravel(),
            "lower": lo.ravel(),
            "upper": up.ravel(),
            "interval": float(interval),
            "relative_width": width,
            "flags": flags,
        }
    )
    return frame.loc[np.repeat(np.isfinite(f).all(axis=1), H)]


def _range_warnings(table: pd.DataFrame, data: _Data, func: str) -> list[str]:
    """Warn (once per kind) about ranges the data cannot justify; return the messages as notes."""
    cap = f"{MAX_UPPER_MULTIPLE:g}x the largest period seen"
    checks = {
        "few_errors": f"fewer than {MIN_CALIBRATION_ERRORS} past forecast errors calibrate {{n}} range(s); treat "
        "them as rough (more history or a finer freq helps).",
        "capped": f"{{n}} upper bound(s) were capped at {cap}: the errors behind them would allow more than "
        "this history has ever shown.",
        "wide_range": f"{{n}} range(s) are wider than {MAX_RELATIVE_WIDTH:g}x the group's mean period: wider than "
        "the data can justify as a forecast.",
        "sparse_history": f"{{n}} group(s) have fewer than {MIN_DEALS_FOR_RANGE} won deals: no range of their own "
        "is meaningful (flag sparse_history); read them at the team level.",
    }
    notes = []
    for flag, text in checks.items():
        hit = table.loc[table["flags"].str.contains(flag, regex=False)]
        n = hit["group"].nunique() if flag == "sparse_history" else len(hit)
        if n:
            msg = f"{func}: " + text.format(n=n)
            warnings.warn(msg, UnreliableEstimateWarning, stacklevel=3)
            notes.append(msg)
    return notes


def _check_ranges(ranges, target: str, func: str) -> str:
    """The range scale asked for; ``count`` only for whole deals."""
    _check_choice("ranges", ranges, ("auto", *RANGES), func)
    if ranges not in ("auto", *available_ranges(target)):
        raise ValueError(
            f"{func}: ranges={ranges!r} needs whole deals (target='deals_won'); for {target!r} use "
            "'additive', 'log' or 'auto'."
        )
    return ranges


def _ranges_note(method: str, asked: str, used: str, scores: dict) -> list[str]:
    """Which range scale a forecast's bounds are on, and (``auto``) the backtest that picked it."""
    if asked != "auto":
        return [f"{method}: ranges on the {used} scale (asked for)."]
    if not scores:
        return [f"{method}: ranges on the {used} scale (no past range could be scored yet)."]
    ranked = ", ".join(f"{k} {v:.2f}" for k, v in sorted(scores.items(), key=lambda kv: kv[1]))
    return [
        f"{method}: ranges on the {used} scale, picked by the backtest before the as-of date "
        f"(mean interval score relative to the group's scale, lower is better: {ranked})."
    ]


def _check_horizon(horizon, freq) -> int:
    H = DEFAULT_HORIZON[freq] if horizon is None else horizon
    if not isinstance(H, (int, np.integer)) or isinstance(H, bool) or H < 1:
        raise ValueError(
            f"forecast: horizon must be a positive integer number of periods; got {horizon!r}."
        )
    return int(H)


def _check_interval(interval) -> None:
    if not (isinstance(interval, (float, int)) and 0.5 <= float(interval) < 1):
        raise ValueError(
            f"forecast: interval must be a coverage between 0.5 and 1 (e.g. 0.8); got {interval!r}."
        )


def backtest_forecast(
    panel_or_deals: pd.DataFrame,
    *,
    target: Target = "won_revenue",
    level: str = "team",
    freq: Freq | None = None,
    horizon: int | None = None,
    methods: Sequence[str] | str = "all",
    n_origins: int | None = None,
    as_of=None,
    interval: float = 0.8,
    intervals: Literal["conformal", "model"] = "conformal",
    deals: pd.DataFrame | None = None,
    roster: pd.DataFrame | None = None,
    ranges: Ranges = "auto",
    seed: int = 0,
) -> BacktestResult:
    """Rolling-origin backtest: accuracy (MASE) and interval coverage per method.

    At each of the last ``n_origins`` period ends (with the whole horizon
    observed afterwards), every method forecasts from the data known then, and
    its interval is calibrated from the errors made at earlier origins only,
    exactly as :func:`forecast` would have done on that day.

    Parameters
    ----------
    panel_or_deals, target, level, freq, horizon, as_of, interval, intervals, deals, roster, seed
        As in :func:`forecast` (``as_of`` ends the backtest window).
    methods : str or list of str, default="all"
        Methods to evaluate (``"all"``: every available one).  A list may
        include ``"auto"``: at each origin, the method :func:`forecast` with
        ``method="auto"`` would have picked from the errors known that day.
    n_origins : int, optional
        Evaluation origins (default: :data:`N_CALIBRATION` for the grain).
    ranges : {"auto", "additive", "log", "count"}, default="auto"
        As in :func:`forecast`; with ``"auto"`` the scale is picked at each
        origin from the earlier origins only (``.errors["ranges"]`` says
        which, ``.table["ranges"]`` counts them).

    Returns
    -------
    BacktestResult
        ``.table`` (one row per method) and ``.errors`` (one row per origin,
        group, horizon and method); see :class:`BacktestResult`.

    Raises
    ------
    InsufficientDataError
        Not enough history for a single evaluation origin.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=70, seed=1)
    >>> panel = sg.build_panel(sim.activities, sim.deals, roster=sim.roster)
    >>> bt = backtest_forecast(panel, deals=sim.deals, level="total", horizon=2,
    ...                        methods=["seasonal_naive", "pipeline"], n_origins=8)
    >>> bt.table["method"].tolist()
    ['seasonal_naive', 'pipeline']
    >>> sorted(bt.table.columns)[:3]
    ['bias', 'coverage', 'mae']
    """
    panel_or_deals = _panel_from_lake(panel_or_deals, deals, roster, freq)
    data = _prepare(
        panel_or_deals,
        target=target,
        level=level,
        freq=freq,
        deals=deals,
        roster=roster,
        as_of=as_of,
        func="backtest_forecast",
    )
    H = _check_horizon(horizon, data.freq)
    _check_interval(interval)
    _check_choice("intervals", intervals, ("conformal", "model"), "backtest_forecast")
    ranges_ = _check_ranges(ranges, target, "backtest_forecast")
    with_auto = not isinstance(methods, str) and "auto" in methods
    if with_auto:
        methods = [m for m in methods if m != "auto"]
    methods = _resolve_methods("all" if methods in ("all", "auto") else methods, data, "backtest_forecast")
    origins, eval_idx = _backtest_origins(data, H, n_origins)
    model = (N_SIMS, float(interval), int(seed)) if intervals == "model" else None
    cand = list(dict.fromkeys([*methods, *BENCHMARKS, *(_resolve_methods("auto", data, "") if with_auto else [])]))
    P = _points(data, origins, H, cand, model=model)
    A = _actuals(data, origins, H)
    if with_auto:
        picks = _auto_points(P, A, origins, H, cand, N_CALIBRATION[data.freq])
        methods, cand = [*methods, "auto"], [*cand, "auto"]
    lower, upper, notes, n_capped, used = {}, {}, [], 0, {}
    for k in cand:
        lo, up, n_used, used[k], _ = ranged(
            P.F[k], A, P.S, origins, eval_idx, interval, N_CALIBRATION[data.freq], ranges=ranges_, target=target
        )
        if model is not None:
            lo, up = P.B[k][0][eval_idx], P.B[k][1][eval_idx]
        elif k in methods and n_used.min() < MIN_CALIBRATION_ERRORS:
            notes.append(f"{k}: as few as {int(n_used.min())} past errors calibrated some intervals.")
        lo, up, capped = _bounded(lo, up, P.F[k][eval_idx], P.caps[eval_idx][:, :, None], data.target)
        lower[k], upper[k] = np.where(np.isnan(P.F[k][eval_idx]), np.nan, lo), up
        n_capped += int(capped[np.isfinite(P.F[k][eval_idx])].sum()) if k in methods else 0
    Fe = {k: P.F[k][eval_idx] for k in cand}
    ok = _common_mask(Fe, A[eval_idx], lower)
    table = _metrics(Fe, A[eval_idx], P.S[eval_idx], cand, ok, lower=lower, upper=upper, nominal=float(interval))
    table = table.loc[table["method"].isin(methods)].reset_index(drop=True)
    errors = _errors_frame(data, origins, eval_idx, Fe, A, lower, upper, P.S, ok, methods)
    if model is None:
        errors["ranges"] = _ranges_column(errors, used, origins, eval_idx, data)
        table.insert(len(table.columns), "ranges", [_ranges_label(used[k]) for k in table["method"]])
        if ranges_ == "auto":
            notes.append(
                "ranges picked at each origin by the interval score of the earlier origins: "
                + "; ".join(f"{k} {_ranges_label(used[k])}" for k in table["method"])
                + "."
            )
    notes += _backtest_notes(table, data, P, n_capped)
    if with_auto:
        counts = pd.Series([picks[i] for i in eval_idx]).value_counts()
        notes.append("auto picked " + ", ".join(f"{k} at {v}" for k, v in counts.items()) + " of the origins.")
    return BacktestResult(
        table=table,
        errors=errors,
        target=target,
        level=level,
        freq=data.freq,
        horizon=H,
        interval=float(interval),
        notes=notes,
        intervals=intervals,
    )


def _auto_points(P: _Points, A: np.ndarray, origins: Sequence[int], H: int, cand: list[str], n_cal: int) -> list[str]:
    """Add ``auto`` to ``P``: at each origin, the method :func:`forecast` would have picked that day.

    That is the one with the lowest MAE (a model only when it beats the best
    benchmark) over the forecasts of the previous ``n_cal`` origins whose
    actuals were known by then; ``ets`` before any error is known.  Returns
    the method picked at each origin.
    """
    rows = np.asarray(origins)
    picks = []
    F_auto = np.full_like(P.F[cand[0]], np.nan)
    B_auto = tuple(np.full_like(F_auto, np.nan) for _ in range(2)) if P.B else None
    horizon = np.arange(1, H + 1)
    for i, t in enumerate(rows):
        # forecasts made at earlier origins for periods known at t
        past = (rows < t) & (rows > t - n_cal - H)
        known = (rows[past][:, None] + horizon[None, :]) <= t  # (n_past, H)
        ok = np.isfinite(A[past]) & known[:, None, :]
        for f in P.F.values():
            ok &= np.isfinite(f[past])
        if ok.any():
            mae = {k: float(np.mean(np.abs(P.F[k][past] - A[past])[ok])) for k in cand}
            best = min(mae, key=lambda k: (mae[k], k not in BENCHMARKS, cand.index(k)))
        else:
            best = "ets" if "ets" in cand else cand[0]
        picks.append(best)
        F_auto[i] = P.F[best][i]
        if B_auto is not None:
            B_auto[0][i], B_auto[1][i] = P.B[best][0][i], P.B[best][1][i]
    P.F["auto"] = F_auto
    if B_auto is not None:
        P.B["auto"] = B_auto
    return picks


def _backtest_origins(data: _Data, H: int, n_origins) -> tuple[list[int], list[int]]:
    """Origin rows (calibration + evaluation) and the indices of the evaluation ones."""
    n_cal = N_CALIBRATION[data.freq]
    n_eval = n_cal if n_origins is None else int(n_origins)
    if n_eval < 1:
        raise ValueError(f"backtest_forecast: n_origins must be >= 1; got {n_origins!r}.")
    n = data.y.shape[0]
    last_eval = n - 1 - H
    start = MIN_HISTORY[data.freq] - 1
    first_eval = max(last_eval - n_eval + 1, start + 1)
    if last_eval < first_eval:
        raise InsufficientDataError(
            f"backtest_forecast: {n} {data.freq} periods are too few for a backtest with horizon {H} "
            f"(need at least {start + 2 + H}). Use a shorter horizon or a finer freq."
        )
    origins = list(range(max(start, first_eval - n_cal - H + 1), last_eval + 1))
    return origins, [i for i, o in enumerate(origins) if o >= first_eval]


def _errors_frame(data, origins, eval_idx, Fe, A, lower, upper, S, ok, methods) -> pd.DataFrame:
    """:attr:`BacktestResult.errors`: the forecasts in ``ok`` (the same as the table's), one row each."""
    n_e, G, H = A[eval_idx].shape
    o_rows = np.asarray(origins)[eval_idx]
    sel = ok.ravel()
    ords = (data.first + o_rows[:, None, None] + np.arange(1, H + 1)[None, None, :] + np.zeros((1, G, 1), np.int64))
    base = {
        "origin": _period(np.repeat(data.first + o_rows, G * H)[sel], data.freq),
        "group": np.tile(np.repeat(np.asarray(data.groups, dtype=object), H), n_e)[sel],
        "period": _period(ords.ravel()[sel], data.freq),
        "horizon": np.tile(np.arange(1, H + 1), n_e * G)[sel],
    }
    scale = np.broadcast_to(S[eval_idx][:, :, None], (n_e, G, H)).ravel()[sel]
    frames = [
        pd.DataFrame(
            {
                **base,
                "method": k,
                "forecast": Fe[k].ravel()[sel],
                "lower": lower[k].ravel()[sel],
                "upper": upper[k].ravel()[sel],
                "actual": A[eval_idx].ravel()[sel],
                "scale": scale,
            }
        )
        for k in methods
    ]
    errors = pd.concat(frames, ignore_index=True)
    errors["covered"] = (errors["actual"] >= errors["lower"]) & (errors["actual"] <= errors["upper"])
    return errors


def _ranges_label(picks: list[str]) -> str:
    """``log`` when one scale was used throughout, else e.g. ``log 20, additive 6`` (origins per scale)."""
    counts = pd.Series(picks).value_counts(sort=True)
    return str(counts.index[0]) if len(counts) == 1 else ", ".join(f"{k} {v}" for k, v in counts.items())


def _ranges_column(errors: pd.DataFrame, used: dict, origins, eval_idx, data: _Data) -> np.ndarray:
    """The range scale behind each row of :attr:`BacktestResult.errors` (it can change by origin)."""
    key = pd.Series(
        [p for k in used for p in used[k]],
        index=pd.MultiIndex.from_arrays(
            [
                np.repeat(list(used), len(eval_idx)),
                np.tile(_period(data.first + np.asarray(origins)[eval_idx], data.freq).astype(str), len(used)),
            ]
        ),
    )
    idx = pd.MultiIndex.from_arrays([errors["method"], errors["origin"].astype(str)])
    return key.reindex(idx).to_numpy(dtype=object)


def _backtest_notes(table: pd.DataFrame, data: _Data, P: _Points, n_capped: int) -> list[str]:
    """The benchmark to beat, the interval-width check, capped ranges and fallbacks, in words."""
    notes = []
    best = table.attrs.get("best_benchmark")
    if best is not None and len(table):
        models = table.loc[~table["method"].isin(BENCHMARKS)].sort_values("vs_best_benchmark", kind="mergesort")
        if len(models):
            top = models.iloc[0]
            verdict = "beats" if top["vs_best_benchmark"] < 1 else "does not beat"
            notes.append(
                f"best simple benchmark: {best}; the best model, {top['method']}, {verdict} it "
                f"({top['vs_best_benchmark']:.2f}x its MAE)."
            )
    wide = table.loc[table["relative_width"] > MAX_RELATIVE_WIDTH, "method"].tolist()
    if wide:
        msg = (
            f"backtest_forecast: mean interval width is over {MAX_RELATIVE_WIDTH:g}x the series' mean level for "
            f"{', '.join(wide)}: ranges wider than the data can justify; their coverage says little."
        )
        warnings.warn(msg, UnreliableEstimateWarning, stacklevel=3)
        notes.append(msg)
    if n_capped:
        notes.append(f"{n_capped} upper bound(s) were capped at {MAX_UPPER_MULTIPLE:g}x the largest period seen.")
    notes += _data_notes(data, P, list(table["method"]))
    return notes
