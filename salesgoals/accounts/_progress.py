"""Progress against account objectives, and the account section of the manager's report."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesgoals.errors import SchemaError
from salesgoals.tracking import Review

__all__ = ["account_progress", "account_review", "account_report_section", "PROGRESS_COLUMNS"]

#: Columns of :func:`account_progress`' result.
PROGRESS_COLUMNS: tuple[str, ...] = (
    "account", "owner", "milestone", "target_revenue", "won_since", "attainment", "elapsed", "pace", "status",
    "milestone_done", "open_pipeline", "needed", "odds_still",
)  # fmt: skip

_STATUSES = ("done", "ahead", "on track", "behind", "not started")

#: Monte Carlo draws behind ``odds_still`` (seeded; the odds move by < 0.02 between seeds).
ODDS_DRAWS = 1000
_BLOCK = 500



def account_progress(objectives, deals: pd.DataFrame, *, as_of: str | pd.Timestamp | None = None,
                     product_col: str = "product", tolerance: float = 0.1, plan_date=None,
                     seed: int = 0) -> pd.DataFrame:
    """Track won revenue and milestones against the objectives set at ``objectives.as_of``.

    Parameters
    ----------
    objectives : AccountObjectives or pandas.DataFrame
        :func:`salesgoals.account_objectives` result (the plan and its start
        date), or its table read back from CSV (with ``plan_date=`` or a
        ``plan_date`` column).
    deals : pandas.DataFrame
        Canonical deals up to now (may hold deals created after the plan).
    as_of : date, optional
        Day of the review; default the day after the latest date in ``deals``.
    product_col : str, default="product"
    tolerance : float, default=0.1
        Pace within ``1 +- tolerance`` of the straight line to the target is "on track".
    plan_date : date, optional
        When the plan was made (default ``objectives.as_of``).
    seed : int, default=0
        Seed of the draws behind ``odds_still``.

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
        * ``open_pipeline`` (float): open deal amount now;
        * ``needed`` (float): what is still to win to reach the target (0 when reached);
        * ``odds_still`` (float): chance to win ``needed`` in the rest of the
          plan year at the account's pace before the plan (won deals a year,
          shrunk toward its peers', and their sizes; seeded draws); 1 when
          reached, 0 or 1 once the year is over.

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
    plan, start = _plan_of(objectives, plan_date)
    d = deals.assign(closed=pd.to_datetime(deals["closed"]), account=deals["account"].astype(str),
                     amount=pd.to_numeric(deals["amount"], errors="coerce").fillna(0.0))  # fmt: skip
    if as_of is None:
        as_of = pd.to_datetime(d[["closed"]].stack()).max() + pd.Timedelta(days=1)
    as_of = pd.Timestamp(as_of).normalize()
    won = d.loc[(d["status"] == "won") & (d["closed"] >= start) & (d["closed"] < as_of)]
    won_since = won.groupby("account")["amount"].sum().reindex(plan["account"], fill_value=0.0).to_numpy()
    target = plan["target_revenue"].to_numpy(float)
    attain = np.where(target > 0, won_since / np.where(target > 0, target, 1.0), 0.0)
    elapsed = float(np.clip((as_of - start).days / 365.0, 0.0, 1.0))
    pace = attain / elapsed if elapsed > 0 else np.full(len(plan), np.nan)
    status = np.select(
        [attain >= 1, won_since <= 0, pace > 1 + tolerance, pace >= 1 - tolerance],
        ["done", "not started", "ahead", "on track"], "behind")  # fmt: skip
    done = _milestone_done(plan, won, attain, product_col)
    opn = d.loc[d["status"] == "open"].groupby("account")["amount"].sum()
    need = np.maximum(target - won_since, 0.0)
    odds = _odds_still(plan, d, start, need, 1.0 - elapsed, seed)
    return pd.DataFrame(
        {
            "account": plan["account"].to_numpy(), "owner": plan["owner"].to_numpy(),
            "milestone": plan["milestone"].to_numpy(), "target_revenue": target, "won_since": won_since,
            "attainment": attain, "elapsed": elapsed, "pace": pace, "status": status, "milestone_done": done,
            "open_pipeline": opn.reindex(plan["account"], fill_value=0.0).to_numpy(), "needed": need,
            "odds_still": odds,
        }
    )[list(PROGRESS_COLUMNS)]  # fmt: skip


def _plan_of(objectives, plan_date) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The plan table and its start: an AccountObjectives, or its CSV (with ``plan_date=`` or a plan_date column)."""
    if hasattr(objectives, "table") and hasattr(objectives, "as_of"):
        return objectives.table, pd.Timestamp(plan_date or objectives.as_of).normalize()
    if not isinstance(objectives, pd.DataFrame):
        raise TypeError("account_progress: objectives must be an AccountObjectives (salesgoals.account_objectives) "
                        f"or its table; got {type(objectives).__name__}.")  # fmt: skip
    missing = [c for c in ("account", "owner", "milestone", "target_revenue") if c not in objectives.columns]
    if missing:
        raise SchemaError(f"account_progress: the objectives table has no {', '.join(missing)} column(s); pass "
                          "the account_objectives table (salesgoals accounts --out account_objectives.csv).")
    if plan_date is None:
        if "plan_date" not in objectives.columns:
            raise SchemaError("account_progress: the objectives table does not say when the plan was made: pass "
                              "plan_date= (the --as-of of `salesgoals accounts`).")  # fmt: skip
        plan_date = objectives["plan_date"].iloc[0]
    t = objectives.assign(account=objectives["account"].astype(str),
                          target_revenue=pd.to_numeric(objectives["target_revenue"], errors="coerce").fillna(0.0))
    return t, pd.Timestamp(plan_date).normalize()


def _odds_still(plan: pd.DataFrame, d: pd.DataFrame, start: pd.Timestamp, need: np.ndarray, remaining: float,
                seed: int) -> np.ndarray:
    """Chance that each account still wins ``need`` in the ``remaining`` share of the plan year.

    Won deals arrive as a Poisson process at the account's yearly rate over the
    history before the plan (shrunk toward its peer group's by one pseudo-year),
    with log-normal sizes (the account's mean log size shrunk toward the peers'
    by two pseudo-deals; the spread of all won deals); ``ODDS_DRAWS`` seeded draws.
    """
    if remaining <= 0:
        return (need <= 0).astype(float)
    lo = d["closed"].min() if len(d) else start
    years = float(np.clip((start - lo).days / 365.0, 1.0, 3.0))
    won = d.loc[(d["status"] == "won") & (d["closed"] < start) & (d["closed"] >= start - pd.Timedelta(days=round(
        365 * years))) & (d["amount"] > 0)]  # fmt: skip
    logs = np.log(won["amount"].to_numpy(float))
    acct = pd.Index(plan["account"].astype(str))
    pos = acct.get_indexer(won["account"])
    ok = pos >= 0
    k = np.bincount(pos[ok], minlength=len(acct)).astype(float)
    s = np.bincount(pos[ok], weights=logs[ok], minlength=len(acct))
    group = plan["peer_group"].astype(str).to_numpy() if "peer_group" in plan.columns else np.zeros(len(acct))
    g_codes, _ = pd.factorize(group)
    g_n = np.bincount(g_codes, minlength=g_codes.max() + 1).astype(float)
    peer_rate = (np.bincount(g_codes, weights=k) / g_n / years)[g_codes]
    mu_all = float(logs.mean()) if logs.size else 0.0
    g_k = np.bincount(g_codes, weights=k)
    peer_mu = np.where(g_k > 0, np.bincount(g_codes, weights=s) / np.maximum(g_k, 1), mu_all)[g_codes]
    rate = (k + peer_rate) / (years + 1.0)
    mu = (s + 2.0 * peer_mu) / (k + 2.0)
    resid = logs[ok] - (s / np.maximum(k, 1))[pos[ok]]
    sigma = max(float(np.std(resid)), 0.1) if resid.size > 1 else 1.0
    rng = np.random.default_rng(seed)
    out = np.empty(len(acct))
    for lo_i in range(0, len(acct), _BLOCK):  # blocks of accounts bound the memory; one stream, same draws
        sl = slice(lo_i, lo_i + _BLOCK)
        n = rng.poisson(rate[sl, None] * remaining, size=(len(rate[sl]), ODDS_DRAWS))
        flat = np.repeat(np.repeat(mu[sl], ODDS_DRAWS), n.ravel())
        sizes = np.exp(flat + sigma * rng.standard_normal(flat.size))
        total = np.bincount(np.repeat(np.arange(n.size), n.ravel()), weights=sizes, minlength=n.size)
        out[sl] = (total.reshape(n.shape) >= need[sl, None] - 1e-9).mean(axis=1)
    return out


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
        text.append("progress: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in _STATUSES))
    fig, ax = plt.subplots(figsize=(8, max(3, 0.35 * min(top, len(objectives.table)))))
    objectives.plot(ax=ax, top=top)
    fig.tight_layout()
    title = "Key accounts: objectives and progress" if progress is not None else "Key accounts: objectives"
    return {"title": title, "text": text, "tables": tables, "figure": fig}


def account_review(objectives, deals: pd.DataFrame, *, as_of: str | pd.Timestamp | None = None, plan_date=None,
                   top: int = 10, seed: int = 0) -> Review:
    """The accounts part of a review: each key account's progress against its objective.

    Parameters
    ----------
    objectives, deals, as_of, plan_date, seed :
        As in :func:`account_progress`.
    top : int, default=10
        Accounts listed in the report lines (the largest targets not yet done,
        lowest odds first).

    Returns
    -------
    salesgoals.tracking.Review
        ``.table`` is :func:`account_progress`; ``.lines`` say how far into
        the plan year the review is, won so far against the targets, the
        status counts and the accounts most at risk with what they still need
        and the odds they still have.  Print it next to
        :func:`salesgoals.weekly_review` (the CLI: ``salesgoals track
        --account-plan account_objectives.csv``).

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=4, n_weeks=156, seed=3, n_accounts=30)
    >>> plan = sg.account_objectives(sim.deals[sim.deals["created"] < "2026-01-01"], sim.accounts,
    ...                              as_of="2026-01-01")
    >>> rev = sg.account_review(plan, sim.deals, as_of="2026-04-01")
    >>> rev.title
    'Key accounts: progress against objectives'
    >>> bool(rev.table["odds_still"].between(0, 1).all())
    True
    """
    prog = account_progress(objectives, deals, as_of=as_of, plan_date=plan_date, seed=seed)
    counts = prog["status"].value_counts()
    won, tgt = float(prog["won_since"].sum()), float(prog["target_revenue"].sum())
    elapsed = float(prog["elapsed"].iloc[0]) if len(prog) else 0.0
    lines = [
        f"{len(prog):,} accounts, {elapsed:.0%} of the plan year gone; won {won:,.0f} of {tgt:,.0f} targeted "
        f"({won / tgt if tgt > 0 else 0:.0%}); expected odds of accounts reaching their target "
        f"{prog['odds_still'].mean() if len(prog) else 0:.0%}",
        "status: " + ", ".join(f"{int(counts.get(s, 0))} {s}" for s in _STATUSES),
    ]
    risk = prog.loc[prog["status"].isin(["behind", "not started"])].sort_values(
        ["odds_still", "target_revenue", "account"], ascending=[True, False, True], kind="mergesort").head(top)
    if len(risk):
        lines.append(f"most at risk ({len(risk)} of {int(prog['status'].isin(['behind', 'not started']).sum())}):")
        lines += [f"  {r.account} ({r.owner}): won {r.won_since:,.0f} of {r.target_revenue:,.0f}, needs "
                  f"{r.needed:,.0f} more, odds {r.odds_still:.0%}; {r.milestone}" for r in risk.itertuples()]
    return Review(prog, "Key accounts: progress against objectives", lines)
