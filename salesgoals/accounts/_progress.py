"""Progress against account objectives, and the account section of the manager's report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesgoals.errors import SchemaError

__all__ = ["account_progress", "account_report_section", "PROGRESS_COLUMNS"]

#: Columns of :func:`account_progress`' result.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "account", "owner", "milestone", "target_revenue", "won_since", "attainment", "elapsed", "pace", "status",
    "milestone_done", "open_pipeline",
)  # fmt: skip


def account_progress(objectives, deals: pd.DataFrame, *, as_of: str | pd.Timestamp | None = None,
                     product_col: str = "product", tolerance: float = 0.1) -> pd.DataFrame:
    """Track won revenue and milestones against the objectives set at ``objectives.as_of``.

    Parameters
    ----------
    objectives : AccountObjectives
        :func:`salesgoals.account_objectives` result (the plan and its start date).
    deals : pandas.DataFrame
        Canonical deals up to now (may hold deals created after the plan).
    as_of : date, optional
        Day of the review; default the day after the latest date in ``deals``.
    product_col : str, default="product"
    tolerance : float, default=0.1
        Pace within ``1 +- tolerance`` of the straight line to the target is "on track".

    Returns
    -------
    pandas.DataFrame
        One row per account of the plan, in the plan's order:

        * ``account``, ``owner``, ``milestone``, ``target_revenue``: from the plan;
        * ``won_since`` (float): revenue won from the plan date to ``as_of``;
        * ``attainment`` (float): ``won_since / target_revenue`` (0 when the target is 0);
        * ``elapsed`` (float): share of the plan's 12 months gone;
        * ``pace`` (float): attainment / elapsed (1 = on the straight line; NaN at the start);
        * ``status`` (str): ``done``, ``ahead``, ``on track``, ``behind`` or ``not started``;
        * ``milestone_done`` (bool): the product bought (expansion), a deal won
          (first deal, win back) or the target reached (growth, renewal);
        * ``open_pipeline`` (float): open deal amount now.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=156, seed=3, n_accounts=60)
    >>> cut = sim.deals["created"] < "2026-01-01"
    >>> plan = sg.account_objectives(sim.deals[cut].assign(
    ...     status=sim.deals["status"].where(sim.deals["closed"] < "2026-01-01", "open"),
    ...     closed=sim.deals["closed"].where(sim.deals["closed"] < "2026-01-01")), sim.accounts, as_of="2026-01-01")
    >>> prog = sg.account_progress(plan, sim.deals, as_of="2026-07-02")
    >>> bool(prog["elapsed"].round(2).eq(0.5).all())
    True
    """
    missing = [c for c in ("account", "status", "amount", "closed") if c not in deals.columns]
    if missing:
        raise SchemaError(f"account_progress: deals has no {', '.join(missing)} column(s).")
    plan = objectives.table
    start = objectives.as_of
    d = deals.assign(closed=pd.to_datetime(deals["closed"]), account=deals["account"].astype(str))
    if as_of is None:
        as_of = pd.to_datetime(d[["closed"]].stack()).max() + pd.Timedelta(days=1)
    as_of = pd.Timestamp(as_of).normalize()
    won = d.loc[(d["status"] == "won") & (d["closed"] >= start) & (d["closed"] < as_of)]
    won_since = won.groupby("account")["amount"].sum().reindex(plan["account"], fill_value=0.0).to_numpy()
    target = plan["target_revenue"].to_numpy()
    attain = np.where(target > 0, won_since / np.where(target > 0, target, 1.0), 0.0)
    elapsed = float(np.clip((as_of - start).days / 365.0, 0.0, 1.0))
    pace = attain / elapsed if elapsed > 0 else np.full(len(plan), np.nan)
    status = np.select(
        [attain >= 1, won_since <= 0, pace > 1 + tolerance, pace >= 1 - tolerance],
        ["done", "not started", "ahead", "on track"], "behind")  # fmt: skip
    done = _milestone_done(plan, won, attain, product_col)
    opn = d.loc[d["status"] == "open"].groupby("account")["amount"].sum()
    return pd.DataFrame(
        {
            "account": plan["account"].to_numpy(), "owner": plan["owner"].to_numpy(),
            "milestone": plan["milestone"].to_numpy(), "target_revenue": target, "won_since": won_since,
            "attainment": attain, "elapsed": elapsed, "pace": pace, "status": status, "milestone_done": done,
            "open_pipeline": opn.reindex(plan["account"], fill_value=0.0).to_numpy(),
        }
    )[list(PROGRESS_COLUMNS)]  # fmt: skip


def _milestone_done(plan: pd.DataFrame, won: pd.DataFrame, attain: np.ndarray, product_col: str) -> np.ndarray:
    kind = plan["milestone"].str.extract(r"^(\w+ \w+)", expand=False).fillna("")
    any_won = plan["account"].isin(won["account"]).to_numpy()
    done = attain >= 1
    first = kind.isin(["win the", "open the"]).to_numpy()
    done = np.where(first, any_won, done)
    if product_col in won.columns:
        want = plan["milestone"].str.extract(r"^expand into (.+?) \(bought", expand=False)
        bought = set(zip(won["account"], won[product_col].astype(str)))
        got = np.array([(a, p) in bought for a, p in zip(plan["account"], want.fillna(""))])  # one per account
        done = np.where(want.notna().to_numpy(), got, done)
    return done.astype(bool)


def account_report_section(objectives, progress: pd.DataFrame | None = None, *, top: int = 15) -> dict[str, Any]:
    """The account section of the manager's report: title, text, tables and a figure.

    Returns
    -------
    dict
        ``title`` (str), ``text`` (list of str: the summary lines), ``tables``
        (dict of DataFrames: ``objectives``, the ``top`` largest opportunities
        with owner, revenue, target, odds and milestone; ``progress`` when given)
        and ``figure`` (matplotlib Figure of :meth:`AccountObjectives.plot`).
        :mod:`salesgoals.report` lays it out; any other report can too.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=120, seed=3, n_accounts=30)
    >>> sec = sg.account_report_section(sg.account_objectives(sim.deals, sim.accounts), top=5)
    >>> sorted(sec), len(sec["tables"]["objectives"])
    (['figure', 'tables', 'text', 'title'], 5)
    """
    import matplotlib.pyplot as plt

    summary = objectives.summary()
    cols = ["account", "owner", "annual_revenue", "target_revenue", "odds", "odds_low", "odds_high", "milestone"]
    tables = {"objectives": objectives.table[cols].head(top).reset_index(drop=True)}
    text = list(summary.lines)
    if progress is not None:
        tables["progress"] = progress.head(top).reset_index(drop=True)
        counts = progress["status"].value_counts()
        text.append("progress: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in
                                             ("done", "ahead", "on track", "behind", "not started")))  # fmt: skip
    fig, ax = plt.subplots(figsize=(8, max(3, 0.35 * min(top, len(objectives.table)))))
    objectives.plot(ax=ax, top=top)
    fig.tight_layout()
    return {"title": "Key accounts: objectives and progress", "text": text, "tables": tables, "figure": fig}
