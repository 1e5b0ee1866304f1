"""Account objectives: the next milestone and a financial target for every account, with odds.

For each account, :func:`account_objectives` reads the deal history (won
revenue per year, products bought, open pipeline, last activity), finds its
**peers** (same industry and size band from an accounts table, else the same
revenue band), measures the **potential** (the peers' upper-quartile annual
revenue; products most peers buy that this account does not), suggests the next
**milestone** in words and sets a **financial target** with **odds**: the share
of comparable account-years (the account's own and its peers' 12-month windows
that started at a similar revenue) that ended at or above the target, with a
Jeffreys interval.

Years are rolling 12-month windows ending at ``as_of`` (year 0 is the last 12
months), so a plan made in March is not judged on a calendar year that has
barely started.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from salesgoals._summary import Summary
from salesgoals.errors import InsufficientDataError, SchemaError, UnreliableEstimateWarning

__all__ = ["AccountObjectives", "account_objectives", "OBJECTIVE_COLUMNS"]

#: Columns of :attr:`AccountObjectives.table`, in order.
OBJECTIVE_COLUMNS: tuple[str, ...] = (
    "account", "owner", "industry", "size_band", "peer_group", "n_peers", "annual_revenue", "revenue_prior_year",
    "won_revenue_total", "products", "open_pipeline", "open_deals", "last_activity", "peer_potential",
    "headroom", "missing_products", "milestone", "target_revenue", "required_growth", "odds", "odds_low",
    "odds_high", "odds_basis",
)  # fmt: skip


class AccountObjectives:
    """Objectives per account: ``.table``, ``.history``, ``.summary()``, ``.plot()``.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per account, sorted by ``headroom`` (the opportunity) then
        annual revenue, with the columns of :data:`OBJECTIVE_COLUMNS`:

        * ``account``, ``owner`` (rep: the accounts table's owner, else the rep
          with the most won revenue, else of the latest deal), ``industry``,
          ``size_band`` (``""`` without an accounts table);
        * ``peer_group`` (str) and ``n_peers`` (int, accounts in it, itself included);
        * ``annual_revenue`` (won in the last 12 months), ``revenue_prior_year``
          (the 12 months before), ``won_revenue_total`` (all history);
        * ``products`` (';'-joined, won), ``open_pipeline`` (amount of open
          deals), ``open_deals`` (int), ``last_activity`` (date: latest activity
          or deal event);
        * ``peer_potential``: the peer group's ``quantile`` of annual revenue;
          ``headroom``: potential minus annual revenue, at least 0;
          ``missing_products``: products at least ``product_share`` of buying
          peers bought and this account did not, most common first;
        * ``milestone`` (str): the suggested next milestone in words;
        * ``target_revenue``: next 12 months' won revenue to aim for;
          ``required_growth``: target / annual revenue (NaN for a first deal);
        * ``odds`` (Jeffreys posterior mean), ``odds_low``, ``odds_high``
          (interval at ``interval``): share of comparable account-years (peers'
          and own years that started at a similar revenue) that ended at or
          above the target; ``odds_basis`` (int) is how many account-years
          that share rests on.
    history : pandas.DataFrame
        ``account, year, won_revenue``: year 0 = the last 12 months, 1 = the
        12 before, ... (only the windows the data cover).
    as_of : pandas.Timestamp
    calibration : pandas.DataFrame
        How the odds were calibrated on last year (see :func:`account_objectives`); empty when not.
    """

    def __init__(self, table, history, as_of, params, calibration=None):
        self.table, self.history, self.as_of, self.params = table, history, as_of, params
        self.calibration = calibration if calibration is not None else _empty_calibration()

    def summary(self) -> Summary:
        """Totals and the ten largest opportunities."""
        t = self.table
        lines = [
            f"{len(t):,} accounts as of {self.as_of.date()}; peers by {self.params['peers_by']}",
            f"annual revenue {t['annual_revenue'].sum():,.0f}; targets {t['target_revenue'].sum():,.0f}; "
            f"headroom to peer potential {t['headroom'].sum():,.0f}",
            f"open pipeline {t['open_pipeline'].sum():,.0f} in {int(t['open_deals'].sum()):,} deals",
            "odds calibrated on last year's plan: " + "; ".join(
                f"{r.segment} stated {r.stated:.0%} vs reached {r.realised:.0%} ({r.accounts} accounts)"
                for r in self.calibration.itertuples()) if len(self.calibration) else
            "odds not calibrated (less than three years of history)",
        ]
        cols = ["account", "owner", "annual_revenue", "peer_potential", "target_revenue", "odds", "milestone"]
        top = t[cols].head(10).copy()
        top["odds"] = top["odds"].round(2)
        return Summary("Account objectives", lines, top)

    def plot(self, ax=None, *, top: int = 15):
        """Current annual revenue, target and peer potential of the largest opportunities; returns the Axes."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter

        t = self.table.head(top).iloc[::-1]
        if ax is None:
            _, ax = plt.subplots(figsize=(8, max(3, 0.35 * len(t))))
        y = np.arange(len(t))
        ax.barh(y, t["peer_potential"], color="0.85", label="peer potential")
        ax.barh(y, t["annual_revenue"], height=0.5, label="last 12 months")
        ax.scatter(t["target_revenue"], y, marker="|", s=200, color="k", label="target", zorder=3)
        ax.set_yticks(y, t["account"])
        ax.set_xlabel("won revenue per year")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:,.0f}"))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize="small", frameon=False)
        return ax

    def __repr__(self) -> str:
        return f"AccountObjectives(accounts={len(self.table):,}, as_of={self.as_of.date()})"


def account_objectives(
    deals: pd.DataFrame,
    accounts: pd.DataFrame | None = None,
    *,
    activities: pd.DataFrame | None = None,
    as_of: str | pd.Timestamp | None = None,
    years: int = 3,
    quantile: float = 0.75,
    product_share: float = 0.3,
    min_peers: int = 5,
    interval: float = 0.8,
    neighbours: int = 30,
    history_start: str | pd.Timestamp | None = None,
    product_col: str = "product",
    calibrate: bool = True,
) -> AccountObjectives:
    """Suggest an objective for every account: next milestone, financial target and its odds.

    Parameters
    ----------
    deals : pandas.DataFrame
        Canonical deals (:func:`salesgoals.load_deals`) with an ``account``
        column; a ``product`` column (``product_col``) enables product expansion.
    accounts : pandas.DataFrame, optional
        ``account`` plus any of ``industry``, ``size_band`` (or ``employees``,
        banded 1-49 / 50-249 / 250-999 / 1000+), ``owner``.  Peers are then the
        same industry and size band (widened to the size band, then to all,
        when fewer than ``min_peers``); without it, the same revenue band
        (quartiles of annual revenue among accounts with revenue).
    activities : pandas.DataFrame, optional
        Canonical activities; their latest ``timestamp`` per account is the last activity.
    as_of : date, optional
        Plan date; default the day after the latest date in the deals.
    years : int, default=3
        12-month windows of history used.
    quantile : float, default=0.75
        Peer quantile that sets the potential.
    product_share : float, default=0.3
        Share of buying peers a product needs to count as "peers buy it".
    min_peers : int, default=5
        Smallest peer group used as is.
    interval : float, default=0.8
        Interval coverage of the odds.
    neighbours : int, default=30
        Comparable account-years behind the odds: the peers' (and the
        account's own) 12-month windows that started closest to the account's
        current annual revenue; the odds are the share of them that ended at
        or above the target.
    history_start : date, optional
        First day the deals export covers; default the earliest created date.
        Only 12-month windows inside the data count (a window before the
        export is not a year without revenue); with fewer than two windows
        there is no account-year to compare with, the odds are 0.5 with a wide
        interval and an :class:`~salesgoals.errors.UnreliableEstimateWarning` says so.
    product_col : str, default="product"
    calibrate : bool, default=True
        Calibrate the odds on the last year: the same plan made a year earlier
        (with what was known then) is checked against what happened, per
        segment (first deal / growth); each segment's odds are shifted on the
        logit scale so last year's stated odds would have matched last year's
        share reached (shrunk: Jeffreys).  Needs three 12-month windows of
        history; otherwise the odds stay raw and ``.calibration`` is empty.

    Returns
    -------
    AccountObjectives
        ``.calibration``: one row per segment: ``segment``, ``accounts``
        (last year's plan), ``stated`` (its mean raw odds), ``realised`` (share
        that reached the target), ``shift`` (logit shift applied this year),
        ``stated_after`` (last year's odds after the shift).

    Raises
    ------
    SchemaError
        ``deals`` lacks ``account``, ``status``, ``amount``, ``closed`` or ``rep``.
    InsufficientDataError
        No deal with an account.

    Examples
    --------
    >>> import salesgoals as sg
    >>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=104, seed=3, n_accounts=60)
    >>> obj = sg.account_objectives(sim.deals, sim.accounts)
    >>> obj.table.columns[:3].tolist()
    ['account', 'owner', 'industry']
    >>> bool(obj.table["headroom"].is_monotonic_decreasing)
    True
    >>> bool(obj.table["odds"].between(0, 1).all())
    True
    """
    if accounts is not None and (not isinstance(accounts, pd.DataFrame) or "account" not in accounts.columns):
        found = ", ".join(map(str, accounts.columns)) if isinstance(accounts, pd.DataFrame) else type(accounts).__name__
        raise SchemaError("account_objectives: accounts needs an 'account' column (plus industry, size_band or "
                          f"employees, owner); found {found}.")  # fmt: skip
    d, as_of, n_unassigned = _prepare(deals, as_of, product_col)
    years_used = _covered_years(d, as_of, years, history_start)
    hist = _history(d, as_of, years_used)
    base = _current(d, hist, activities, as_of, product_col)
    base, peers_by = _peer_groups(base, accounts, min_peers)
    base = _potential(base, d, quantile, product_share, product_col)
    base = _targets(base, hist, interval, neighbours)
    calibration = _empty_calibration()
    if calibrate and years_used >= 3:
        past = _known_at(deals, as_of - pd.Timedelta(days=365))
        prev = account_objectives(past, accounts, as_of=as_of - pd.Timedelta(days=365), years=years_used - 1,
                                  quantile=quantile, product_share=product_share, min_peers=min_peers,
                                  interval=interval, neighbours=neighbours, history_start=history_start,
                                  product_col=product_col, calibrate=False)  # fmt: skip
        calibration = _calibration(prev.table, d, as_of)
        base = _apply_calibration(base, calibration)
    base["milestone"] = _milestones(base)
    table = base.sort_values(["headroom", "annual_revenue", "account"], ascending=[False, False, True],
                             kind="mergesort").reset_index(drop=True)  # fmt: skip
    params = dict(calibrated=bool(len(calibration)), years=years, years_used=years_used, quantile=quantile, product_share=product_share, min_peers=min_peers, interval=interval,
                  peers_by=peers_by, deals_without_account=n_unassigned)  # fmt: skip
    return AccountObjectives(table[list(OBJECTIVE_COLUMNS)], hist, as_of, params, calibration)


_SEGMENTS = ("first deal", "growth")


def _empty_calibration() -> pd.DataFrame:
    return pd.DataFrame(columns=["segment", "accounts", "stated", "realised", "shift", "stated_after"])


def _known_at(deals: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The deals as an export on ``day`` would have shown them: later deals out, later closes still open."""
    created, closed = pd.to_datetime(deals["created"]), pd.to_datetime(deals["closed"])
    later = (closed >= day).to_numpy()
    out = deals.assign(status=deals["status"].where(~later, "open"), closed=closed.where(~later))
    return out.loc[(created < day).to_numpy()]


def _segment(t: pd.DataFrame) -> np.ndarray:
    return np.where(t["required_growth"].isna(), "first deal", "growth")


def _calibration(prev: pd.DataFrame, d: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Last year's plan against last year: stated vs realised per segment, and the logit shift that matches them."""
    start = as_of - pd.Timedelta(days=365)
    won = d.loc[(d["status"] == "won") & (d["closed"] >= start) & (d["closed"] < as_of)]
    got = won.groupby("account")["amount"].sum().reindex(prev["account"], fill_value=0.0).to_numpy()
    reached = got >= prev["target_revenue"].to_numpy() - 1e-9
    seg = _segment(prev)
    rows = []
    for name in _SEGMENTS:  # two segments
        m = seg == name
        if not m.any():
            continue
        odds = prev["odds"].to_numpy()[m]
        realised = (reached[m].sum() + 0.5) / (m.sum() + 1.0)  # Jeffreys: a small segment is not taken literally
        shift = _logit_shift(odds, realised)
        rows.append(dict(segment=name, accounts=int(m.sum()), stated=float(odds.mean()),
                         realised=float(reached[m].mean()), shift=shift,
                         stated_after=float(_shifted(odds, shift).mean())))  # fmt: skip
    return pd.DataFrame(rows, columns=_empty_calibration().columns)


def _shifted(p: np.ndarray, shift: float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(q / (1 - q)) + shift)))


def _logit_shift(odds: np.ndarray, target: float) -> float:
    """The shift ``s`` with ``mean(expit(logit(odds) + s)) == target`` (bisection; the mean rises with s)."""
    lo, hi = -6.0, 6.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _shifted(odds, mid).mean() < target else (lo, mid)
    return 0.5 * (lo + hi)


def _apply_calibration(base: pd.DataFrame, cal: pd.DataFrame) -> pd.DataFrame:
    base = base.copy()
    shift = pd.Series(_segment(base)).map(cal.set_index("segment")["shift"]).fillna(0.0).to_numpy()
    for c in ("odds", "odds_low", "odds_high"):
        base[c] = np.where(shift != 0, _shifted(base[c].to_numpy(), shift), base[c].to_numpy())
    return base


# ------------------------------------------------------------------ steps
def _prepare(deals: pd.DataFrame, as_of, product_col: str):
    if not isinstance(deals, pd.DataFrame):
        raise TypeError(f"account_objectives: deals must be a DataFrame; got {type(deals).__name__}.")
    need = ["account", "status", "amount", "closed", "created", "rep"]
    missing = [c for c in need if c not in deals.columns]
    if missing:
        raise SchemaError(f"account_objectives: deals has no {', '.join(missing)} column(s); found "
                          f"{', '.join(map(str, deals.columns))}. Load deals with salesgoals.load_deals.")  # fmt: skip
    acct = deals["account"].astype(object)
    ok = acct.notna() & acct.astype(str).str.strip().ne("") & acct.astype(str).ne("None")
    if not ok.any():
        raise InsufficientDataError("account_objectives: no deal names an account; the deals export needs an "
                                    "account / company column.")  # fmt: skip
    cols = [*need, *([product_col] if product_col in deals.columns else [])]
    d = deals.loc[ok.to_numpy(), cols].copy()
    d["account"] = d["account"].astype(str)
    d["closed"], d["created"] = pd.to_datetime(d["closed"]), pd.to_datetime(d["created"])
    d["amount"] = pd.to_numeric(d["amount"], errors="coerce").fillna(0.0)
    if as_of is None:
        as_of = max(d["closed"].max(), d["created"].max()).normalize() + pd.Timedelta(days=1)
    return d, pd.Timestamp(as_of).normalize(), int((~ok).sum())


def _covered_years(d: pd.DataFrame, as_of: pd.Timestamp, years: int, history_start) -> int:
    """How many of the ``years`` 12-month windows before ``as_of`` lie inside the data (at least 1)."""
    start = pd.Timestamp(history_start) if history_start is not None else d["created"].min()
    covered = int((as_of - start.normalize()).days // 365)
    used = max(1, min(years, covered))
    if used < 2:
        warnings.warn(
            f"account_objectives: the deals cover {max(covered, 0)} full 12-month window(s) before {as_of.date()} "
            "(from " + str(start.date()) + "), so no account-year can be compared with the next: the odds are "
            "0.5 with a wide interval. Export at least two years of deals, or pass history_start= if the export "
            "starts earlier than its first deal.",
            UnreliableEstimateWarning,
            stacklevel=3,
        )
    return used


def _history(d: pd.DataFrame, as_of: pd.Timestamp, years: int) -> pd.DataFrame:
    """Won revenue per account and rolling 12-month window (year 0 = the last 12 months), zeros included."""
    won = d.loc[(d["status"] == "won") & (d["closed"] < as_of)]
    days = (as_of - won["closed"]).dt.days.to_numpy()
    year = (days - 1) // 365  # closed on as_of - 1 day ... as_of - 365 days -> year 0
    w = pd.DataFrame({"account": won["account"].to_numpy(), "year": year, "won_revenue": won["amount"].to_numpy()})
    w = w.loc[w["year"] < years].groupby(["account", "year"])["won_revenue"].sum()
    grid = pd.MultiIndex.from_product([sorted(d["account"].unique()), range(years)], names=["account", "year"])
    return w.reindex(grid, fill_value=0.0).reset_index()


def _current(d, hist, activities, as_of, product_col) -> pd.DataFrame:
    wide = hist.pivot(index="account", columns="year", values="won_revenue")
    won = d.loc[d["status"] == "won"]
    opn = d.loc[d["status"] == "open"]
    g = d.groupby("account")
    out = pd.DataFrame(index=wide.index)
    out["annual_revenue"] = wide[0]
    out["revenue_prior_year"] = wide[1] if 1 in wide.columns else 0.0
    out["won_revenue_total"] = won.groupby("account")["amount"].sum().reindex(out.index, fill_value=0.0)
    if product_col in d.columns:
        prods = won.dropna(subset=[product_col]).groupby("account")[product_col].agg(
            lambda s: ";".join(sorted(set(map(str, s)))))  # few products per account
        out["products"] = prods.reindex(out.index).fillna("")
    else:
        out["products"] = ""
    out["open_pipeline"] = opn.groupby("account")["amount"].sum().reindex(out.index, fill_value=0.0)
    out["open_deals"] = opn.groupby("account").size().reindex(out.index, fill_value=0).astype(np.int64)
    last = pd.concat([g["created"].max(), g["closed"].max()], axis=1).max(axis=1)
    if activities is not None and "account" in activities.columns:
        a = activities.dropna(subset=["account"])
        la = pd.to_datetime(a["timestamp"]).groupby(a["account"].astype(str)).max()
        last = pd.concat([last, la.reindex(out.index)], axis=1).max(axis=1)
    out["last_activity"] = last.reindex(out.index).dt.normalize()
    by_rev = won.groupby(["account", "rep"])["amount"].sum().reset_index().sort_values(
        ["account", "amount"], ascending=[True, False], kind="mergesort").drop_duplicates("account")
    latest = d.sort_values("created", kind="mergesort").groupby("account")["rep"].last()
    out["owner"] = by_rev.set_index("account")["rep"].reindex(out.index).fillna(latest.reindex(out.index))
    return out.reset_index()


_BANDS = (("1-49", 50), ("50-249", 250), ("250-999", 1000), ("1000+", np.inf))


def _peer_groups(base: pd.DataFrame, accounts, min_peers: int) -> tuple[pd.DataFrame, str]:
    """Peer group per account: industry x size band (widened when small), else the revenue band."""
    base = base.copy()
    base["industry"], base["size_band"] = "", ""
    if accounts is not None:
        if "account" not in accounts.columns:
            raise SchemaError("account_objectives: accounts needs an 'account' column (plus industry, size_band "
                              f"or employees, owner); found {', '.join(map(str, accounts.columns))}.")  # fmt: skip
        a = accounts.drop_duplicates("account").set_index(accounts.drop_duplicates("account")["account"].astype(str))
        if "industry" in a:
            base["industry"] = base["account"].map(a["industry"]).fillna("").astype(str)
        if "size_band" in a:
            base["size_band"] = base["account"].map(a["size_band"]).fillna("").astype(str)
        elif "employees" in a:
            emp = pd.to_numeric(base["account"].map(a["employees"]), errors="coerce")
            cuts = np.searchsorted([u for _, u in _BANDS], emp.fillna(-1), side="right")
            base["size_band"] = np.where(emp.notna(), np.array([b for b, _ in _BANDS])[cuts.clip(0, 3)], "")
        if "owner" in a:
            base["owner"] = base["account"].map(a["owner"]).fillna(base["owner"])
        fine = base["industry"] + " / " + base["size_band"]
        coarse = "size " + base["size_band"]
        size, csize = fine.map(fine.value_counts()), coarse.map(coarse.value_counts())
        base["peer_group"] = np.where(size >= min_peers, fine, np.where(csize >= min_peers, coarse, "all accounts"))
        how = "industry x size band (widened to the size band, then to all accounts, when fewer than min_peers)"
    else:
        rev = base["annual_revenue"]
        pos = rev[rev > 0]
        if len(pos) >= 4 * min_peers:
            edges = np.quantile(pos, [0.25, 0.5, 0.75])
            band = 1 + np.searchsorted(edges, rev, side="right")
            base["peer_group"] = np.where(rev > 0, "revenue band " + pd.Series(band).astype(str), "no revenue")
        else:
            base["peer_group"] = "all accounts"
        how = "revenue band (quartiles of annual revenue)"
    masks = _peer_masks(base)
    base["n_peers"] = base["peer_group"].map({g: int(m.sum()) for g, m in masks.items()}).astype(np.int64)
    return base, how


def _peer_masks(base: pd.DataFrame) -> dict[str, np.ndarray]:
    """Peer group label -> which accounts are in it.

    A widened group holds every account of the wider set (``size 250-999`` = all
    accounts of that band, ``all accounts`` = everyone), not only the accounts
    that were widened; the other labels hold the accounts that carry them.
    """
    label = base["peer_group"].to_numpy(dtype=object)
    fine = (base["industry"] + " / " + base["size_band"]).to_numpy(dtype=object)
    coarse = ("size " + base["size_band"]).to_numpy(dtype=object)
    masks = {}
    for g in pd.unique(label):  # a few dozen groups at most
        if g == "all accounts":
            masks[g] = np.ones(len(base), dtype=bool)
        elif g.startswith("size ") and (coarse == g).any():
            masks[g] = coarse == g
        elif (fine == g).any():
            masks[g] = fine == g
        else:
            masks[g] = label == g
    return masks


def _by_group(base: pd.DataFrame, masks: dict[str, np.ndarray], fn) -> np.ndarray:
    """``fn(mask_of_peers, rows_of_accounts_in_group)`` -> values for those accounts, assembled in order."""
    out = np.full(len(base), np.nan)
    for g, rows in base.groupby("peer_group", sort=False).indices.items():
        out[rows] = fn(masks[g], rows)
    return out


def _potential(base, d, quantile, product_share, product_col) -> pd.DataFrame:
    """Peer quantile of annual revenue and the products most buying peers have and this account lacks."""
    base = base.copy()
    masks = _peer_masks(base)
    rev = base["annual_revenue"].to_numpy()
    base["peer_potential"] = _by_group(base, masks, lambda m, rows: np.quantile(rev[m], quantile))
    base["headroom"] = (base["peer_potential"] - base["annual_revenue"]).clip(lower=0.0)
    base["_product"], base["_share"], base["missing_products"] = "", np.nan, ""
    if product_col not in d.columns:
        return base
    won = d.loc[(d["status"] == "won"), ["account", product_col]].dropna().drop_duplicates()
    products = sorted(won[product_col].astype(str).unique())
    pos = pd.Index(base["account"])
    bought = np.zeros((len(base), len(products)), dtype=bool)
    bought[pos.get_indexer(won["account"]), pd.Index(products).get_indexer(won[product_col].astype(str))] = True
    share = np.zeros((len(base), len(products)))
    for g, rows in base.groupby("peer_group", sort=False).indices.items():  # share of buying peers per product
        peers = bought[masks[g]]
        share[rows] = peers.sum(axis=0) / max(int(peers.any(axis=1).sum()), 1)
    want = (share >= product_share) & ~bought
    order = np.argsort(-share, axis=1, kind="stable")  # most common first, then product name
    labels, first, first_share = [], [], []
    for i in range(len(base)):  # one short list per account (a handful of products)
        picks = [j for j in order[i] if want[i, j]]
        labels.append("; ".join(f"{products[j]} ({share[i, j]:.0%} of peers)" for j in picks))
        first.append(products[picks[0]] if picks else "")
        first_share.append(share[i, picks[0]] if picks else np.nan)
    base["missing_products"], base["_product"], base["_share"] = labels, first, first_share
    return base


def _jeffreys(k: np.ndarray, n: np.ndarray, interval: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = k + 0.5, n - k + 0.5
    return a / (a + b), stats.beta.ppf((1 - interval) / 2, a, b), stats.beta.ppf((1 + interval) / 2, a, b)


def _targets(base: pd.DataFrame, hist: pd.DataFrame, interval: float, neighbours: int) -> pd.DataFrame:
    """Target = halfway to the peer potential (or +10 % at or above it); odds from comparable account-years."""
    base = base.copy()
    masks = _peer_masks(base)
    cur = base["annual_revenue"].to_numpy()
    pot = base["peer_potential"].to_numpy()
    target = np.where(pot > cur, cur + 0.5 * (pot - cur), 1.10 * cur)
    first = cur <= 0
    # an account without revenue: the peers' typical year (median of the peers' revenue > 0)
    overall = float(np.median(cur[cur > 0])) if (cur > 0).any() else 0.0
    med = _by_group(base, masks, lambda m, rows: np.median(cur[m & (cur > 0)]) if (m & (cur > 0)).any() else overall)
    target = np.where(first, med, target)
    base["target_revenue"] = np.round(target, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        base["required_growth"] = np.where(first, np.nan, target / cur)
    # account-years: revenue in window k (later) vs window k+1 (earlier)
    h = hist.pivot(index="account", columns="year", values="won_revenue").reindex(base["account"])
    n_pairs = h.shape[1] - 1
    later = np.concatenate([h[k].to_numpy() for k in range(n_pairs)]) if n_pairs > 0 else np.array([])
    earlier = np.concatenate([h[k + 1].to_numpy() for k in range(n_pairs)]) if n_pairs > 0 else np.array([])
    owner_row = np.tile(np.arange(len(base)), max(n_pairs, 0))  # account of each account-year
    k_all, n_all = np.zeros(len(base)), np.zeros(len(base))
    for g, rows in base.groupby("peer_group", sort=False).indices.items():
        cand = masks[g][owner_row]
        k_all[rows], n_all[rows] = _reach_counts(np.log1p(earlier[cand]), later[cand], np.log1p(cur[rows]),
                                                 base["target_revenue"].to_numpy()[rows], neighbours)
    base["odds"], base["odds_low"], base["odds_high"] = _jeffreys(k_all, n_all, interval)
    base["odds_basis"] = n_all.astype(np.int64)
    return base


def _reach_counts(start, end, x, target, neighbours) -> tuple[np.ndarray, np.ndarray]:
    """For each account: its ``neighbours`` closest peer account-years, and how many ended at or above its target.

    ``start`` / ``end``: log revenue at the start and revenue at the end of the
    peers' account-years (the account's own years among them); ``x``: each
    account's log revenue now.  Closest = nearest start on the log scale, so the
    odds carry regression to the mean and the lumpiness of revenue: a peer year
    that started where this account stands now, how often did it end at or above
    this target?  The K nearest of a sorted array lie within K places of the
    insertion point, so a window of 2K candidates per account is enough.
    """
    m = start.size
    if m == 0:
        return np.zeros(x.size), np.zeros(x.size)
    order = np.argsort(start, kind="stable")
    s, e = start[order], end[order]
    k = min(neighbours, m)
    width = min(2 * k, m)
    first = np.clip(np.searchsorted(s, x) - k, 0, m - width)
    idx = first[:, None] + np.arange(width)[None, :]  # (account, candidate)
    dist = np.abs(s[idx] - x[:, None])
    near = np.take_along_axis(idx, np.argsort(dist, axis=1, kind="stable")[:, :k], axis=1)
    return (e[near] >= target[:, None] - 1e-9).sum(axis=1).astype(float), np.full(x.size, float(k))


def _milestones(t: pd.DataFrame) -> pd.Series:
    """The next milestone in words, by the first rule that applies."""
    money = t["target_revenue"].map("{:,.0f}".format)
    cur = t["annual_revenue"].map("{:,.0f}".format)
    rules = [
        (t["annual_revenue"] <= 0) & (t["open_pipeline"] > 0),
        (t["annual_revenue"] <= 0) & (t["won_revenue_total"] > 0),
        t["annual_revenue"] <= 0,
        t["_product"] != "",
        t["headroom"] > 0,
    ]
    words = [
        "win the first deal of the year: " + t["open_deals"].astype(str) + " open deal(s), pipeline "
        + t["open_pipeline"].map("{:,.0f}".format) + "; aim for " + money + " in 12 months",
        "win the account back: nothing won in 12 months (" + t["revenue_prior_year"].map("{:,.0f}".format)
        + " the year before); aim for " + money,
        "open the account: a first deal of about " + money + " (peers' typical year)",
        "expand into " + t["_product"] + " (bought by " + (100 * t["_share"]).round().astype("Int64").astype(str)
        + "% of peers); grow from " + cur + " to " + money + " a year",
        "grow to the peer level: " + cur + " -> " + money + " a year (peers' upper quartile "
        + t["peer_potential"].map("{:,.0f}".format) + ")",
    ]
    default = "renew and upsell: keep " + cur + " and grow to " + money + " a year"
    return pd.Series(np.select(rules, words, default), index=t.index)


