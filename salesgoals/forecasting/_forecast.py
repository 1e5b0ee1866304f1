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
    Same period last year (last period when there is less than a year of
    history).  The benchmark every other method must beat.
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
by the group's in-sample MASE scale so that big and small groups can be pooled.
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

from salesgoals._periods import check_freq
from salesgoals._periods import is_panel as _is_panel
from salesgoals._periods import pandas_ordinals as _ordinals
from salesgoals._periods import to_day as _to_day
from salesgoals._schema import DEAL_REQUIRED, FREQ_ALIASES, UNASSIGNED, activity_columns
from salesgoals._summary import Summary
from salesgoals._typing import Freq, Target
from salesgoals.drivers import fit_drivers
from salesgoals.errors import InsufficientDataError, SchemaError, UnreliableEstimateWarning
from salesgoals.plotting import plot_backtest, plot_forecast

__all__ = [
    "forecast",
    "backtest_forecast",
    "ForecastResult",
    "BacktestResult",
    "METHODS",
]

Method = Literal["auto", "seasonal_naive", "ets", "pipeline", "activity", "combination"]

#: Forecast methods, in the order they are reported.
METHODS: tuple[str, ...] = ("seasonal_naive", "ets", "pipeline", "activity", "combination")
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
#: Pooled scaled errors below which the intervals are flagged as unreliable
#: (an 80 % interval from fewer than 20 errors rests on 2 points per tail).
MIN_CALIBRATION_ERRORS = 20
#: Deal-age weeks with fewer deals at risk are pooled into one tail hazard.
MIN_AT_RISK = 15
#: Recent periods whose activity feeds the activity-driven forecast.
ACTIVITY_WINDOW: dict[str, int] = {"W": 8, "M": 3, "Q": 2}
#: Origins between re-estimations of the ETS parameters and the driver model
#: (a quarter of weeks, a quarter of months); in between the parameters found
#: on the data known at the last re-estimation are applied to the new data.
REFIT_EVERY: dict[str, int] = {"W": 13, "M": 3, "Q": 1}
#: Monte Carlo draws of the pipeline method's model intervals.
N_SIMS = 1000
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
            f"forecast: level={level!r} needs a {level!r} column, which the {what} do not have "
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
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"{func}: the first argument must be a panel (build_panel) or a deals DataFrame "
            "(load_deals); "
            f"got {type(data).__name__}."
        )
    _check_choice("target", target, TARGETS, func)
    panel = data if _is_panel(data) else None
    if panel is None:
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
        deals = data
        if freq is None:
            freq = "M"
    else:
        if target not in panel.columns:
            raise SchemaError(
                f"{func}: the panel has no {target!r} column; build it with deals "
                "(build_panel(acts, deals))."
            )
        pfreq = panel.attrs.get("freq") or str(panel["period"].dt.freqstr)[:1]
        if freq is not None and check_freq(freq, func="forecast") != pfreq:
            raise ValueError(
                f"{func}: freq={freq!r} but the panel was built with freq={pfreq!r}; "
                "rebuild the panel with "
                f"build_panel(..., freq={freq!r}) or drop freq=."
            )
        freq = pfreq
        if deals is not None:
            missing = [c for c in DEAL_REQUIRED if c not in deals.columns]
            if missing:
                raise SchemaError(
                    f"{func}: deals= is missing {', '.join(map(repr, missing))}; "
                    f"found {', '.join(map(str, deals.columns))}. Load it with load_deals()."
                )
    freq = check_freq(freq, func="forecast")

    # ---------------------------------------------------------- deals arrays
    rep_group: dict[str, str] = {}
    if panel is not None:
        if level != "rep":
            g = _group_values(panel, level, "panel")
            rep_group = dict(zip(panel["rep"].astype(str), g))
    elif roster is not None and level not in ("rep", "total"):
        if "rep" not in roster.columns:
            raise SchemaError(f"{func}: roster= has no 'rep' column; load it with load_roster().")
        rep_group = dict(zip(roster["rep"].astype(str), _group_values(roster, level, "roster")))
    elif level not in ("rep", "total"):
        _group_values(deals, level, "deals")  # raises a SchemaError unless deals carry the column

    d = None
    if deals is not None and len(deals):
        created = _to_day(deals["created"])
        closed = _to_day(deals["closed"])
        status_s = deals["status"].astype(str).str.lower().to_numpy()
        status = np.select([status_s == "won", status_s == "lost"], [1, 2], 0)
        if target == "won_revenue":
            value = (
                pd.to_numeric(deals["amount"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
            )
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
        d = dict(created=created, closed=closed, status=status, value=value, group=grp, rep=reps)

    # ---------------------------------------------------------- as-of cut-off
    if as_of is None:
        cutoff_ord = (
            int(panel["period"].max().ordinal) if panel is not None else np.iinfo(np.int64).max
        )
        if d is not None:
            # the export date is about the last event: a period it ends inside is not complete yet
            last_day = np.max(
                np.concatenate(
                    [d["created"][~np.isnat(d["created"])], d["closed"][~np.isnat(d["closed"])]]
                )
            )
            cutoff_ord = min(cutoff_ord, _last_complete_ordinal(last_day, freq))
    else:
        day = np.datetime64(pd.Timestamp(as_of).normalize().date(), "D")
        cutoff_ord = _last_complete_ordinal(day, freq)
    cutoff = _end_day(cutoff_ord, freq)
    if as_of is not None:
        cutoff = min(cutoff, np.datetime64(pd.Timestamp(as_of).normalize().date(), "D"))

    if d is not None:
        known = (d["created"] <= cutoff) & ~np.isnat(d["created"])
        d = {k: v[known] for k, v in d.items()}
        late = (d["closed"] > cutoff) | np.isnat(d["closed"]) | (d["status"] == 0)
        d["status"] = np.where(late, 0, d["status"])
        d["closed"] = np.where(late, np.datetime64("NaT", "D"), d["closed"])

    # ------------------------------------------------------------ target y
    if panel is not None:
        ords = panel["period"].array.asi8
        p = panel.loc[ords <= cutoff_ord]
        ords = ords[ords <= cutoff_ord]
        if not len(p):
            raise InsufficientDataError(
                f"{func}: no panel period ends on or before as_of={as_of!r}."
            )
        grp = (
            p["rep"].astype(str).to_numpy(dtype=object)
            if level == "rep"
            else _group_values(p, level, "panel")
        )
        groups = sorted(pd.unique(grp).tolist())
        gi = pd.Index(groups).get_indexer(grp)
        first = int(ords.min())
        n_per = cutoff_ord - first + 1
        vals = p[target].to_numpy(dtype=float)
        y = np.zeros((n_per, len(groups)))
        np.add.at(y, (ords - first, gi), vals)
        seen = np.zeros((n_per, len(groups)), dtype=bool)
        seen[ords - first, gi] = True
        y = np.where(seen, y, np.nan)
        panel_cut = p
    else:
        groups = sorted(pd.unique(d["group"]).tolist())
        gi = pd.Index(groups).get_indexer(d["group"])
        c_ord = _ordinals(d["created"], freq)
        k_ord = _ordinals(d["closed"], freq)
        first = int(c_ord.min())
        n_per = cutoff_ord - first + 1
        won = d["status"] == 1
        y = np.zeros((n_per, len(groups)))
        np.add.at(y, (k_ord[won] - first, gi[won]), d["value"][won])
        start = np.full(len(groups), n_per)
        np.minimum.at(start, gi, c_ord - first)
        y = np.where(np.arange(n_per)[:, None] >= start[None, :], y, np.nan)
        if roster is not None and level == "rep" and "end" in roster.columns:
            end = pd.Series(_to_day(roster["end"]), index=roster["rep"].astype(str))
            for j, g in enumerate(groups):
                e = end.get(g)
                if e is not None and not np.isnat(e):
                    y[int(_ordinals(np.array([e]), freq)[0]) - first + 1 :, j] = np.nan
        panel_cut = None

    out = _Data(
        freq=freq, target=target, level=level, first=first, y=y, groups=groups, panel=panel_cut
    )
    if d is not None:
        out.d_created, out.d_closed, out.d_status, out.d_value = (
            d["created"],
            d["closed"],
            d["status"],
            d["value"],
        )
        out.d_group = pd.Index(groups).get_indexer(d["group"])
    return out


# ====================================================================== methods
def _history(data: _Data, o: int, j: int) -> np.ndarray:
    """Group ``j``'s history up to origin row ``o`` (NaN-free)."""
    s = data.y[: o + 1, j]
    return s[~np.isnan(s)]


def _seasonal_naive(s: np.ndarray, H: int, m: int) -> np.ndarray:
    if len(s) >= m:
        idx = len(s) - m + (np.arange(H) % m)
        return s[idx]
    return np.full(H, s[-1])


def _scale(s: np.ndarray, m: int) -> float:
    """In-sample MASE scale: mean absolute seasonal difference (lag 1 when short)."""
    lag = m if len(s) >= 2 * m else 1
    if len(s) <= lag:
        return max(float(np.mean(np.abs(s))), 1.0) if len(s) else 1.0
    sc = float(np.mean(np.abs(s[lag:] - s[:-lag])))
    return sc if sc > 0 else max(float(np.mean(np.abs(s))), 1.0)


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
        warnings.simplefilter("ignore")
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
    out = np.zeros((G, H))
    if data.d_created is None:
        return np.full((G, H), np.nan)
    freq = data.freq
    o_ord = data.first + o
    E = _end_day(o_ord, freq)
    created, closed, status, value, grp = (
        data.d_created,
        data.d_closed,
        data.d_status,
        data.d_value,
        data.d_group,
    )
    known = created <= E
    resolved = known & (status > 0) & (closed <= E)
    open_ = known & ~resolved
    # ---- competing-risks hazard by age week, from the deals known at E
    dur = ((np.where(resolved, closed, E) - created).astype(np.int64) // 7)[known]
    dur = np.maximum(dur, 0)
    res_k = resolved[known]
    won_k = (status[known] == 1) & res_k
    K = int(dur.max()) + 2 if dur.size else 2
    exposure = np.bincount(dur, minlength=K)[::-1].cumsum()[::-1]  # deals alive at start of week k
    # censored deals were not seen through their current week: remove that partial week
    cens = np.bincount(dur[~res_k], minlength=K)
    at_risk = exposure - cens
    w_ev = np.bincount(dur[won_k], minlength=K).astype(float)
    l_ev = np.bincount(dur[res_k & ~won_k], minlength=K).astype(float)
    thin = np.nonzero(at_risk < MIN_AT_RISK)[0]
    cut = int(thin[0]) if thin.size else K
    cut = max(cut, 1)
    hw = np.zeros(K + 1)
    hl = np.zeros(K + 1)
    ok = at_risk[:cut] > 0
    hw[:cut][ok] = w_ev[:cut][ok] / at_risk[:cut][ok]
    hl[:cut][ok] = l_ev[:cut][ok] / at_risk[:cut][ok]
    tail_risk = at_risk[cut:].sum()
    if tail_risk > 0:
        hw[cut:] = w_ev[cut:].sum() / tail_risk
        hl[cut:] = l_ev[cut:].sum() / tail_risk
    # ---- open deals: probability of closing won in each coming week
    last_end = _end_day(o_ord + H, freq)
    J = int((last_end - E).astype(np.int64) // 7) + 2
    P = np.zeros((int(open_.sum()), H))
    if open_.any():
        age = (E - created[open_]).astype(np.int64)
        mid = age[:, None] + 7 * np.arange(1, J + 1)[None, :] - 3.5
        k = np.minimum((mid // 7).astype(np.int64), K)
        w, l_ = hw[k], hl[k]
        surv = np.cumprod(np.clip(1 - w - l_, 0, 1), axis=1)
        prev = np.hstack([np.ones((surv.shape[0], 1)), surv[:, :-1]])
        p_win = prev * w  # (n_open, J)
        week_day = E + (7 * np.arange(1, J + 1) - 3).astype("timedelta64[D]")
        h_idx = _ordinals(week_day, freq) - o_ord  # 1..
        for h in range(1, H + 1):
            cols = h_idx == h
            if cols.any():
                P[:, h - 1] = p_win[:, cols].sum(axis=1)
                pw = P[:, h - 1] * value[open_]
                out[:, h - 1] += np.bincount(grp[open_], weights=pw, minlength=G)[:G]
    # ---- deals not created yet: recent revenue won from deals created < h periods before
    won = known & (status == 1) & (closed <= E)
    if won.any():
        W = NEW_BUSINESS_WINDOW[freq]
        pc = _ordinals(closed[won], freq)
        lag = pc - _ordinals(created[won], freq)
        recent = (pc > o_ord - W) & (lag < H)
        row = pc[recent] - (o_ord - W + 1)
        R = np.zeros((W, G, H))
        np.add.at(R, (row, grp[won][recent], lag[recent]), value[won][recent])
        Rc = R.cumsum(axis=2)  # revenue with lag <= h-1
        active = ~np.isnan(data.y[max(o - W + 1, 0) : o + 1])  # (<=W, G)
        active = np.vstack([np.zeros((W - active.shape[0], G), dtype=bool), active])
        n_act = np.maximum(active.sum(axis=0), 1)
        out += (Rc * active[:, :, None]).sum(axis=0) / n_act[:, None]
    else:
        Rc = np.zeros((1, G, H))
        active = np.ones((1, G), dtype=bool)
    if mc is None:
        return out
    n_sims, interval, seed = mc
    rng = np.random.default_rng(seed)
    draws = np.zeros((n_sims, G, H))
    if P.shape[0]:
        cum = np.cumsum(P, axis=1)
        u = rng.random((n_sims, P.shape[0]))
        when = (u[:, :, None] > cum[None, :, :]).sum(
            axis=2
        )  # 0..H-1 = period won, H = not in horizon
        onehot = np.zeros((P.shape[0], G))
        onehot[np.arange(P.shape[0]), grp[open_]] = 1.0
        for h in range(H):
            draws[:, :, h] = ((when == h) * value[open_]) @ onehot
    rows = np.nonzero(active.any(axis=1))[0]
    if rows.size:
        pick = rows[rng.integers(0, rows.size, n_sims)]
        draws += Rc[pick] * active[pick][:, :, None]
    a = (1 - interval) / 2
    lo, hi = np.quantile(draws, [a, 1 - a], axis=0)
    return out, lo, hi


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
            warnings.simplefilter("ignore")
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
        warnings.simplefilter("ignore")
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
    out = ["seasonal_naive", "ets"]
    if data.d_created is not None:
        out.append("pipeline")
    if data.panel is not None and _drivers_available():
        out.append("activity")
    out.append("combination")
    return out


def _drivers_available() -> bool:
    try:
        import salesgoals.drivers as _drv  # noqa: F401
    except ImportError:
        return False
    return hasattr(_drv, "fit_drivers")


def _points(
    data: _Data,
    origins: Sequence[int],
    H: int,
    methods: Sequence[str],
    drivers=None,
    planned=None,
    model: tuple[int, float, int] | None = None,
):
    """Point forecasts ``{method: (n_origins, n_groups, H)}`` at origin rows ``origins``.

    Returns ``(points, scales, bounds)``; ``bounds`` maps each method to the
    (lower, upper) arrays of its *model* interval when ``model=(n_sims,
    interval, seed)`` is given (else it is empty).
    """
    G = len(data.groups)
    m = SEASON[data.freq]
    base = [x for x in methods if x != "combination"]
    if "combination" in methods:
        base = list(
            dict.fromkeys(
                [
                    *base,
                    *[x for x in ("ets", "pipeline", "activity") if x in _available_methods(data)],
                ]
            )
        )
    shape = (len(origins), G, H)
    out = {k: np.full(shape, np.nan) for k in base}
    bounds = {k: (np.full(shape, np.nan), np.full(shape, np.nan)) for k in base} if model else {}
    scales = np.full((len(origins), G), np.nan)
    ets_cache: dict = {}
    act_cache: dict = {}
    z = float(stats.norm.ppf(0.5 + model[1] / 2)) if model else 0.0
    for i, o in enumerate(origins):
        active = ~np.isnan(data.y[o])
        for j in np.nonzero(active)[0]:
            s = _history(data, o, j)
            scales[i, j] = _scale(s, m)
            if "seasonal_naive" in out:
                f = _seasonal_naive(s, H, m)
                out["seasonal_naive"][i, j] = f
                if model:
                    qlo, qhi = _sn_offsets(s, H, m, model[1])
                    bounds["seasonal_naive"][0][i, j], bounds["seasonal_naive"][1][i, j] = (
                        f + qlo,
                        f + qhi,
                    )
            if "ets" in out:
                info: dict = {}
                f = _ets(s, H, data.freq, ets_cache, j, o, info if model else None)
                out["ets"][i, j] = f
                if model:
                    bounds["ets"][0][i, j], bounds["ets"][1][i, j] = (
                        f - z * info["sd"],
                        f + z * info["sd"],
                    )
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
            f = _activity(data, o, H, drivers, planned, act_cache, info)
            out["activity"][i] = np.where(active[:, None], f, np.nan)
            if model:
                lo, hi = f + info["lo"][:, None], f + info["hi"][:, None]
                bounds["activity"][0][i], bounds["activity"][1][i] = (
                    np.where(active[:, None], x, np.nan) for x in (lo, hi)
                )
    if "combination" in methods:
        parts = [k for k in ("ets", "pipeline", "activity") if k in out]
        out["combination"] = np.mean([out[k] for k in parts], axis=0)
        if model:  # quantile averaging of the components' intervals
            bounds["combination"] = tuple(
                np.mean([bounds[k][b] for k in parts], axis=0) for b in (0, 1)
            )
    bounds = {k: tuple(np.maximum(x, 0.0) for x in v) for k, v in bounds.items() if k in methods}
    return {k: out[k] for k in methods}, scales, bounds


def _actuals(data: _Data, origins: Sequence[int], H: int) -> np.ndarray:
    n = data.y.shape[0]
    A = np.full((len(origins), len(data.groups), H), np.nan)
    for i, o in enumerate(origins):
        hi = min(o + H, n - 1)
        if hi > o:
            A[i, :, : hi - o] = data.y[o + 1 : hi + 1].T
    return A


def _conformal(errors: np.ndarray, interval: float) -> tuple[float, float, int]:
    """Lower and upper scaled-error quantiles with the finite-sample conformal correction.

    With fewer than :data:`MIN_CALIBRATION_ERRORS` errors the empirical
    quantiles cannot reach the nominal level (with 4 errors the widest
    empirical interval, min to max, covers only 60 %), so a Student-t
    prediction interval for one more error is used instead:
    ``mean +- t(n-1) * sd * sqrt(1 + 1/n)``.
    """
    e = errors[np.isfinite(errors)]
    n = e.size
    if n < 2:
        return np.nan, np.nan, n
    a = (1 - interval) / 2
    if n < MIN_CALIBRATION_ERRORS:
        half = float(stats.t.ppf(1 - a, n - 1) * np.std(e, ddof=1) * np.sqrt(1 + 1 / n))
        return float(e.mean()) - half, float(e.mean()) + half, n
    # split-conformal order statistics: the k-th smallest and the k'-th smallest error
    e = np.sort(e)
    k_lo = max(math.floor((n + 1) * a), 1)
    k_hi = min(math.ceil((n + 1) * (1 - a)), n)
    return float(e[k_lo - 1]), float(e[k_hi - 1]), n


def _intervals(F, A, S, origin_rows, eval_idx, interval, n_cal):
    """Conformal bounds for the forecasts made at ``eval_idx`` from errors of earlier origins."""
    n_o, G, H = F.shape
    lower = np.full((len(eval_idx), G, H), np.nan)
    upper = np.full((len(eval_idx), G, H), np.nan)
    n_used = np.zeros((len(eval_idx), H), dtype=int)
    E = (A - F) / S[:, :, None]
    rows = np.asarray(origin_rows)
    for k, i in enumerate(eval_idx):
        t = rows[i]
        for h in range(1, H + 1):
            ok = (rows + h <= t) & (rows > t - n_cal - h)
            qlo, qhi, n = _conformal(E[ok, :, h - 1].ravel(), interval)
            n_used[k, h - 1] = n
            lower[k, :, h - 1] = np.maximum(F[i, :, h - 1] + S[i] * qlo, 0.0)
            upper[k, :, h - 1] = np.maximum(F[i, :, h - 1] + S[i] * qhi, 0.0)
    return lower, upper, n_used


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
        < 1 beats the benchmark out of sample), ``bias`` (mean forecast - actual),
        ``coverage`` (share of actuals inside the interval), ``nominal``,
        ``mean_width`` (mean interval width).
    errors : pandas.DataFrame
        One row per origin, group, horizon and method: ``origin`` (period of
        the origin), ``group``, ``period``, ``horizon``, ``method``,
        ``forecast``, ``lower``, ``upper``, ``actual``, ``covered``.
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
            sel = self.selection.sort_values("relative_mae")
            lines.append(
                "backtest before the as-of date (relative MAE vs seasonal naive, lower is better): "
                + ", ".join(f"{r.method} {r.relative_mae:.2f}" for r in sel.itertuples())
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
        cols = ["group", "period", "method", "forecast", "lower", "upper"]
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
def _metrics(F, A, S, base, methods, lower=None, upper=None, nominal=None) -> pd.DataFrame:
    rows = []
    for k in methods:
        f = F[k]
        ok = np.isfinite(f) & np.isfinite(A) & np.isfinite(base)
        for other in F.values():
            ok &= np.isfinite(other)
        err = (f - A)[ok]
        sn = (base - A)[ok]
        scale = np.broadcast_to(S[:, :, None], A.shape)[ok]
        n_orig = int(ok.any(axis=(1, 2)).sum())
        row = {
            "method": k,
            "n_origins": n_orig,
            "n_forecasts": int(ok.sum()),
            "mae": float(np.mean(np.abs(err))) if err.size else np.nan,
            "mase": float(np.mean(np.abs(err) / scale)) if err.size else np.nan,
            "relative_mae": float(np.mean(np.abs(err)) / max(np.mean(np.abs(sn)), 1e-12))
            if err.size
            else np.nan,
            "bias": float(np.mean(err)) if err.size else np.nan,
        }
        if lower is not None:
            lo, up = lower[k], upper[k]
            ok2 = ok & np.isfinite(lo)
            a = A[ok2]
            row["coverage"] = float(np.mean((a >= lo[ok2]) & (a <= up[ok2]))) if a.size else np.nan
            row["nominal"] = nominal
            row["mean_width"] = float(np.mean(up[ok2] - lo[ok2])) if a.size else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


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
                "activity": "it needs a panel built from activities and salesgoals.drivers "
                "(fit_drivers)",
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
    seed: int = 0,
) -> ForecastResult:
    """Forecast won revenue (or deals won) per group and period, with prediction intervals.

    Parameters
    ----------
    panel_or_deals : pandas.DataFrame
        A panel from :func:`salesgoals.build_panel` (its ``freq`` is used), or
        canonical deals from :func:`salesgoals.load_deals`.
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
        ``as_of``; ``"all"`` reports every available method; or one of
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
        When fewer than :data:`MIN_CALIBRATION_ERRORS` past errors calibrate an interval.

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
    methods = _resolve_methods(method, data, "forecast")
    n_cal = N_CALIBRATION[data.freq]
    T = data.y.shape[0] - 1
    start = MIN_HISTORY[data.freq] - 1
    if T < start:
        raise InsufficientDataError(
            f"forecast: only {T + 1} {data.freq} periods of history before the as-of date; "
            "need at least "
            f"{start + 1}. Use a coarser freq, an earlier as_of, or more history."
        )
    cand = methods if "seasonal_naive" in methods else ["seasonal_naive", *methods]
    origins = [o for o in range(max(start, T - n_cal - H + 1), T + 1)]
    _check_choice("intervals", intervals, ("conformal", "model"))
    model = (N_SIMS, float(interval), int(seed)) if intervals == "model" else None
    F, S, B = _points(
        data, origins, H, cand, drivers=drivers, planned=planned_activity, model=model
    )
    A = _actuals(data, origins, H)
    past = slice(0, len(origins) - 1)
    Fp = {k: v[past] for k, v in F.items()}
    selection = _metrics(Fp, A[past], S[past], Fp["seasonal_naive"], cand)
    notes = []
    if method == "auto":
        ranked = selection.dropna(subset=["relative_mae"]).sort_values(
            "relative_mae", kind="mergesort"
        )
        chosen = [ranked["method"].iloc[0]] if len(ranked) else ["ets"]
        notes.append(
            f"method='auto' picked {chosen[0]!r}: lowest backtest error over the "
            f"{len(origins) - 1} origins "
            f"before the as-of date."
        )
    else:
        chosen = methods
    selection["chosen"] = selection["method"].isin(chosen)
    rows = []
    warned = False
    for k in chosen:
        lo, up, n_used = _intervals(F[k], A, S, origins, [len(origins) - 1], interval, n_cal)
        if model is not None:
            lo, up = B[k][0][-1:], B[k][1][-1:]
        elif n_used.min() < MIN_CALIBRATION_ERRORS and not warned:
            warned = True
            msg = (
                f"forecast: only {int(n_used.min())} past forecast errors calibrate the intervals "
                f"(want >= {MIN_CALIBRATION_ERRORS}); treat the ranges as rough. More "
                "history or a finer freq helps."
            )
            warnings.warn(msg, UnreliableEstimateWarning, stacklevel=2)
            notes.append(msg)
        f = F[k][-1]
        lo, up = lo[0], up[0]
        # without calibration errors fall back to +-50 % (flagged above)
        lo = np.where(np.isnan(lo), 0.5 * f, lo)
        up = np.where(np.isnan(up), 1.5 * f, up)
        lo, up = np.minimum(lo, f), np.maximum(up, f)
        G = len(data.groups)
        rows.append(
            pd.DataFrame(
                {
                    "level": level,
                    "group": np.repeat(np.asarray(data.groups, dtype=object), H),
                    "period": _period(np.tile(data.first + T + np.arange(1, H + 1), G), data.freq),
                    "horizon": np.tile(np.arange(1, H + 1), G),
                    "method": k,
                    "forecast": f.ravel(),
                    "lower": lo.ravel(),
                    "upper": up.ravel(),
                    "interval": float(interval),
                }
            ).loc[np.repeat(np.isfinite(f).all(axis=1), H)]
        )
    table = pd.concat(rows, ignore_index=True)
    as_of_ts = pd.Timestamp(_end_day(data.first + T, data.freq))
    table["as_of"] = as_of_ts
    table = table.sort_values(["group", "method", "period"], kind="mergesort").reset_index(
        drop=True
    )
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
    )


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
        Methods to evaluate (``"all"``: every available one).
    n_origins : int, optional
        Evaluation origins (default: :data:`N_CALIBRATION` for the grain).

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
    methods = _resolve_methods(
        "all" if methods in ("all", "auto") else methods, data, "backtest_forecast"
    )
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
            f"backtest_forecast: {n} {data.freq} periods are too few for a backtest with "
            f"horizon {H} "
            f"(need at least {start + 2 + H}). Use a shorter horizon or a finer freq."
        )
    origins = list(range(max(start, first_eval - n_cal - H + 1), last_eval + 1))
    cand = methods if "seasonal_naive" in methods else ["seasonal_naive", *methods]
    _check_choice("intervals", intervals, ("conformal", "model"), "backtest_forecast")
    model = (N_SIMS, float(interval), int(seed)) if intervals == "model" else None
    F, S, B = _points(data, origins, H, cand, model=model)
    A = _actuals(data, origins, H)
    eval_idx = [i for i, o in enumerate(origins) if o >= first_eval]
    lower, upper, frames = {}, {}, []
    G = len(data.groups)
    notes = []
    for k in methods:
        lo, up, n_used = _intervals(F[k], A, S, origins, eval_idx, interval, n_cal)
        if model is not None:
            lo, up = B[k][0][eval_idx], B[k][1][eval_idx]
        lower[k], upper[k] = lo, up
        if model is None and n_used.min() < MIN_CALIBRATION_ERRORS:
            notes.append(
                f"{k}: as few as {int(n_used.min())} past errors calibrated some intervals."
            )
        f, a = F[k][eval_idx], A[eval_idx]
        o_rows = np.asarray(origins)[eval_idx]
        frames.append(
            pd.DataFrame(
                {
                    "origin": _period(np.repeat(data.first + o_rows, G * H), data.freq),
                    "group": np.tile(
                        np.repeat(np.asarray(data.groups, dtype=object), H), len(eval_idx)
                    ),
                    "period": _period(
                        (
                            data.first
                            + o_rows[:, None, None]
                            + np.arange(1, H + 1)[None, None, :]
                            + np.zeros((1, G, 1), dtype=np.int64)
                        ).ravel(),
                        data.freq,
                    ),
                    "horizon": np.tile(np.arange(1, H + 1), len(eval_idx) * G),
                    "method": k,
                    "forecast": f.ravel(),
                    "lower": lo.ravel(),
                    "upper": up.ravel(),
                    "actual": a.ravel(),
                }
            )
        )
    Fe = {k: F[k][eval_idx] for k in cand}
    Ae, Se = A[eval_idx], S[eval_idx]
    table = _metrics(
        {k: Fe[k] for k in methods},
        Ae,
        Se,
        Fe["seasonal_naive"],
        methods,
        lower=lower,
        upper=upper,
        nominal=float(interval),
    )
    errors = pd.concat(frames, ignore_index=True)
    errors = errors.loc[errors[["forecast", "actual", "lower"]].notna().all(axis=1)].reset_index(
        drop=True
    )
    errors["covered"] = (errors["actual"] >= errors["lower"]) & (
        errors["actual"] <= errors["upper"]
    )
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
