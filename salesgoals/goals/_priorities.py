"""Which activities a rep should focus on: the driver model's verdicts and the rep's leverage.

Pieces of :func:`salesgoals.personal_best_goals`, each named for what it decides:

* :func:`driver_verdicts` - per activity, whether the driver model supports it as a driver
  (``is_driver`` after multiplicity control when the model gives it, else a confidence interval
  above zero), and the revenue one more unit brings for each rep;
* :func:`rank_priorities` - up to ``max_priorities`` focus activities per rep, ranked by
  leverage = per-rep effect x room to grow, one per activity family;
* :func:`drivers_note` - one plain sentence saying which drivers the data supports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FAMILIES", "OUTCOME_TO_REVENUE", "driver_verdicts", "rank_priorities", "drivers_note"]

#: Activity families: a quality metric and the raw activity it counts.  Only
#: one member of a family can be a priority, so effort is not counted twice.
FAMILIES: dict[str, str] = {"call_connected": "call", "meeting_held": "meeting"}

#: Revenue per unit of a driver-model outcome, as a function of the rep funnel.
OUTCOME_TO_REVENUE = {
    "deals_created": lambda wr, ds: wr * ds,
    "deals_won": lambda wr, ds: ds,
    "won_revenue": lambda wr, ds: np.ones_like(wr),
    "pipeline_created": lambda wr, ds: wr,
}

#: Driver-model flags that rule an activity out as a priority (issue-12 verdicts).
_DISQUALIFYING = ("follows_results", "same_week_only")


def _effect_table(drivers: Any):
    eff = getattr(drivers, "effects", None)
    outcome = getattr(drivers, "outcome", None)
    if not isinstance(eff, pd.DataFrame) or not {"activity", "effect"} <= set(eff.columns):
        raise TypeError("personal_best_goals: drivers must be a DriverResult from salesgoals.fit_drivers().")
    if outcome not in OUTCOME_TO_REVENUE:
        raise ValueError(
            f"personal_best_goals: drivers were fitted to outcome {outcome!r}; need one of "
            f"{', '.join(map(repr, OUTCOME_TO_REVENUE))}."
        )
    return eff.drop_duplicates("activity").set_index("activity"), outcome


def _follows_results(drivers: Any, eff: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Activities the driver model says follow results (positive lead effect or ``follows_results`` flag), and those
    whose effect shows only in the same week (``same_week_only``: it may be logged because of the deal)."""
    out: set[str] = set()
    leads = getattr(getattr(drivers, "diagnostics", None), "leads", None)
    if isinstance(leads, pd.DataFrame) and {"activity", "flagged"} <= set(leads.columns):
        hit = leads["flagged"].astype(bool)
        if "lead_effect" in leads.columns:  # a negative lead (less of it after results) does not inflate the effect
            hit &= leads["lead_effect"].to_numpy(dtype=float) > 0
        out |= set(leads.loc[hit, "activity"].astype(str))
    same: set[str] = set()
    if "flags" in eff.columns:
        f = eff["flags"].fillna("").astype(str)
        out |= set(f.index[f.str.contains(_DISQUALIFYING[0])].astype(str))
        same = set(f.index[f.str.contains(_DISQUALIFYING[1])].astype(str))
    return out, same


def _rep_effect_matrix(drivers: Any, eff: pd.DataFrame, reps: pd.Index, metrics: list[str]) -> np.ndarray:
    """Per-rep effects (R x M) from ``drivers.rep_effects`` (partially pooled); team effect where missing.

    Where the driver model cannot tell reps apart (``flags`` ``reps_not_distinguishable``) its rep rows
    already carry the team effect (at the rep's own connect or show rate), with the team interval widened by
    the spread the data cannot rule out, so leverage differs between reps only through their funnels then.
    """
    out = np.full((len(reps), len(metrics)), np.nan)
    re = getattr(drivers, "rep_effects", None)
    if isinstance(re, pd.DataFrame) and {"rep", "activity", "effect"} <= set(re.columns):
        wide = re.pivot_table(index="rep", columns="activity", values="effect", aggfunc="mean")
        wide.index = wide.index.astype(str)
        out = wide.reindex(index=reps, columns=metrics).to_numpy(dtype=float)
    team = eff["effect"].reindex(metrics).to_numpy(dtype=float)
    return np.where(np.isfinite(out), out, team[None, :])


def _supported(e: pd.Series) -> bool:
    """The driver model's verdict: ``is_driver`` when given, else the interval above zero."""
    if "is_driver" in e.index and pd.notna(e["is_driver"]):
        return bool(e["is_driver"]) and float(e["effect"]) > 0
    lo = float(e.get("ci_low", np.nan))
    return bool(np.isfinite(lo) and lo > 0)


def driver_verdicts(drivers, reps, metrics, rep_stats, qrate) -> dict:
    """Per metric: known / supported / negative / follows-results, and per-rep revenue per unit."""
    R, M = len(reps), len(metrics)
    v = {k: np.zeros(M, dtype=bool) for k in ("known", "sig", "neg", "lead", "same_week")}
    v.update(effect_rev=np.zeros((R, M)), deals_per_unit=np.zeros((R, M)), effects=None, outcome=None)
    if drivers is None:
        return v
    eff, outcome = _effect_table(drivers)
    wr, ds = rep_stats["win_rate"].to_numpy(), rep_stats["deal_size"].to_numpy()
    to_rev = OUTCOME_TO_REVENUE[outcome](wr, ds)
    to_deals = to_rev / np.maximum(wr * ds, 1e-12)
    rep_eff = _rep_effect_matrix(drivers, eff, reps, metrics)
    follows, same_week = _follows_results(drivers, eff)
    rows = []
    for j, mname in enumerate(metrics):  # loop over a handful of metrics
        src = mname if mname in eff.index else FAMILIES.get(mname)
        if src is None or src not in eff.index:
            continue
        e = eff.loc[src]
        v["known"][j], v["sig"][j], v["lead"][j] = True, _supported(e), src in follows
        v["same_week"][j] = src in same_week
        v["neg"][j] = bool(np.isfinite(float(e.get("ci_high", np.nan))) and float(e["ci_high"]) < 0)
        per_unit = rep_eff[:, metrics.index(src)] if src in metrics else np.full(R, float(e["effect"]))
        per_unit = np.where(np.isfinite(per_unit), per_unit, float(e["effect"]))
        if src != mname:  # a quality metric credited with its activity's effect
            per_unit = per_unit / np.maximum(qrate[:, j], 1e-3)
        v["effect_rev"][:, j] = np.where(v["sig"][j], per_unit * to_rev, 0.0)
        v["deals_per_unit"][:, j] = np.where(v["sig"][j], per_unit * to_deals, 0.0)
        rows.append({
            "activity": mname, "effect": float(e["effect"]), "std_error": float(e.get("std_error", np.nan)),
            "ci_low": float(e.get("ci_low", np.nan)), "ci_high": float(e.get("ci_high", np.nan)),
            "p_value": float(e.get("p_value_adj", e.get("p_value", np.nan))),
            "significant": bool(v["sig"][j]), "ambiguous": bool(v["lead"][j] or v["same_week"][j]), "source": src,
            "deals_per_unit": float(np.mean(v["deals_per_unit"][:, j])),
            "revenue_per_unit": float(np.mean(per_unit * to_rev)),
        })  # fmt: skip
    v["effects"], v["outcome"] = pd.DataFrame(rows), outcome
    return v


def rank_priorities(leverage, eligible, metrics, max_priorities: int) -> np.ndarray:
    """Priority 1..k per rep (0 = none): eligible metrics by leverage, one per family."""
    R, M = leverage.shape
    family = np.array([FAMILIES.get(m, m) for m in metrics], dtype=object)
    fam_codes = pd.Index(sorted(set(family))).get_indexer(family)
    order = np.argsort(-np.where(eligible, leverage, -1.0), axis=1, kind="stable")
    priority = np.zeros((R, M), dtype=np.int64)
    rank = np.zeros(R, dtype=np.int64)
    used = np.zeros((R, len(set(family))), dtype=bool)
    rows = np.arange(R)
    for slot in range(M):  # loop over the few metric slots, vectorised over reps
        j = order[:, slot]
        ok = eligible[rows, j] & ~used[rows, fam_codes[j]] & (rank < max_priorities)
        rank = rank + ok
        priority[rows[ok], j[ok]] = rank[ok]
        used[rows[ok], fam_codes[j[ok]]] = True
    return priority


def drivers_note(effects: pd.DataFrame | None, labels) -> str:
    """One sentence on which activities the data supports as drivers, and why the others are not.

    ``labels(activity, plural)`` names an activity in words.
    """
    if effects is None or not len(effects):
        return "No driver model: goals are set on every activity without priorities."
    raw = effects[effects["source"] == effects["activity"]]
    amb = raw["ambiguous"].astype(bool) if "ambiguous" in raw.columns else pd.Series(False, index=raw.index)
    sup = raw[raw["significant"] & ~amb]
    rest = raw[~raw["significant"] & ~amb]
    names = [labels(a, True) for a in sup["activity"]]
    if not names:
        head = "No activity is supported as a driver on this data, so no focus activities are set"
    elif len(names) == 1:
        head = f"Only {names[0]} are supported as a driver on this data"
    else:
        head = f"{', '.join(names[:-1])} and {names[-1]} are supported as drivers on this data"
    why = [
        f"{labels(a, True)}: about {money:,.0f} in won revenue per {labels(a, False)}, "
        + ("not distinguishable from zero" if lo <= 0 <= hi else "but it does not pass the driver checks")
        for a, money, lo, hi in zip(rest["activity"], rest["revenue_per_unit"], rest["ci_low"].fillna(-np.inf),
                                    rest["ci_high"].fillna(np.inf))
    ]  # fmt: skip
    why += [f"{labels(a, True)}: ambiguous, not a focus: it may be logged because of deals rather than create them "
            "(the notes say why and what data would settle it)" for a in raw.loc[amb, "activity"]]  # fmt: skip
    return head + ("; " + "; ".join(why) if why else "") + "."
