"""Loader options from the command line and from a ``salesgoals.toml`` file.

What the loaders' error messages tell users to pass (``columns={...}``,
``stage_map={...}``, ``type_map={...}``, ``outcome_map={...}``, ``status='won'``,
``missing_close=...``, ``users=...``) has a command-line spelling here, and
a config-file spelling, so the CLI stays a thin layer::

    salesgoals panel -d deals.csv --columns rep=sales_agent,created=engage_date --stage-map Engaging=open

    # salesgoals.toml (every key optional; command-line flags win)
    crm = "auto"
    dayfirst = "auto"           # or "yes" / "no"
    fiscal_year_start = 4       # first month of the fiscal year (track --period Q: fiscal quarters)
    holidays = ["2025-12-25"]   # not working days (track's landmarks)
    currency = "EUR"            # money in recommend / report ("EUR" -> "€"; report --currency wins)
    users = "User.csv"          # owner id -> name table (Salesforce User export, HubSpot owners)
    [columns]                   # canonical name = export header; "deals.rep" / "activities.rep" for one file
    rep = "sales_agent"
    amount = ""                 # the export has no amounts: revenue unavailable, not 0
    [stage_map]
    Engaging = "open"
    [type_map]
    "Discovery call" = "call"
    [outcome_map]               # what outcome values the vocabulary does not know mean
    Gatekeeper = "no_answer"
    [deals]
    all_won = false
    missing_close = "exclude"   # or "created", or a column name
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

from salesgoals._schema import ACTIVITY_COLUMNS, DEAL_COLUMNS
from salesgoals.errors import SchemaError

__all__ = ["add_load_arguments", "load_options", "read_config", "parse_pairs", "currency_symbol"]

#: Symbols of the common ISO currency codes (others are shown as the code and a space, "CHF 1,200").
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "KRW": "₩", "BRL": "R$"}


def currency_symbol(code: str | None) -> str | None:
    """How money is written for a ``currency`` setting: ISO code -> symbol; a symbol is kept.

    Examples
    --------
    >>> currency_symbol("eur"), currency_symbol("CHF"), currency_symbol("$"), currency_symbol(None)
    ('€', 'CHF ', '$', None)
    """
    if code is None or not str(code).strip():
        return None
    text = str(code).strip()
    if text.isalpha() and len(text) == 3:
        return _SYMBOLS.get(text.upper(), text.upper() + " ")
    return text

_ENTITY = {"deals": "deals", "deal": "deals", "activities": "activities", "activity": "activities"}


def parse_pairs(text: str | None, flag: str) -> dict[str, str | None]:
    """``"rep=sales_agent,created=engage_date"`` -> dict; an empty value means None (``amount=``).

    Examples
    --------
    >>> parse_pairs("rep=sales_agent, amount=", "--columns")
    {'rep': 'sales_agent', 'amount': None}
    """
    out: dict[str, str | None] = {}
    if not text:
        return out
    for part in text.split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise SchemaError(f"{flag}: expected NAME=VALUE pairs separated by commas, e.g. "
                              f"'rep=sales_agent,created=engage_date'; got {part.strip()!r}.")  # fmt: skip
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip() or None
    return out


def add_load_arguments(g: argparse._ArgumentGroup) -> None:
    """The loader flags shared by every data-reading subcommand."""
    g.add_argument("--columns", metavar="NAME=HEADER,...",
                   help="canonical column = export header, e.g. rep=sales_agent,created=engage_date; "
                        "deals.rep=... or activities.rep=... for one file; amount= for an export without amounts")
    g.add_argument("--stage-map", dest="stage_map", metavar="STAGE=won|lost|open,...",
                   help="what custom stages mean, e.g. 'Engaging=open,Signed=won'")
    g.add_argument("--type-map", dest="type_map", metavar="VALUE=TYPE,...",
                   help="merge activity types on purpose, e.g. 'Demo=meeting' (by default every type is kept)")
    g.add_argument("--outcome-map", dest="outcome_map", metavar="VALUE=OUTCOME,...",
                   help="what unknown activity outcomes mean, e.g. 'Gatekeeper=no_answer,Spoke=connected' "
                        "(by default they are kept as their own value and not counted as connected / held)")  # fmt: skip
    g.add_argument("--all-won", dest="all_won", action="store_true", default=None,
                   help="the deals file lists won deals only (no stage column)")
    g.add_argument("--missing-close", dest="missing_close", metavar="POLICY",
                   help="won/lost deals without a close date: exclude (default), created, or a column name")
    g.add_argument("--users", metavar="FILE", help="owner id -> name table (Salesforce User export, HubSpot owners)")
    g.add_argument("--config", metavar="FILE",
                   help="salesgoals.toml holding any of these options, plus: currency (money in recommend and "
                        "report), holidays (working days of track's landmarks), fiscal_year_start (the quarter "
                        "track --period Q follows); panels, forecasts, drivers and inspect use calendar periods "
                        "and every day, so they do not read those three")  # fmt: skip


def read_config(path: str | os.PathLike | None) -> dict[str, Any]:
    """Read a ``salesgoals.toml``; ``{}`` without a path."""
    if not path:
        return {}
    import tomllib

    if not os.path.exists(path):
        raise FileNotFoundError(f"No such config file: {os.fspath(path)!r}")
    try:
        with open(path, "rb") as fh:
            cfg = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SchemaError(f"--config {os.fspath(path)!r}: not valid TOML ({exc}).") from None
    known = {"crm", "dayfirst", "fiscal_year_start", "holidays", "currency", "users", "columns", "stage_map",
             "type_map", "outcome_map", "deals", "all_won", "missing_close"}  # fmt: skip
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise SchemaError(f"--config {os.fspath(path)!r}: unknown key(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(known))}.")  # fmt: skip
    return cfg


def _split_columns(columns: Mapping[str, str | None]) -> tuple[dict, dict]:
    """Canonical names -> (activity columns, deal columns); ``deals.`` / ``activities.`` prefixes pick one file."""
    acts, deals = {}, {}
    for key, header in columns.items():
        header = header if header not in ("",) else None
        entity, _, name = key.rpartition(".")
        if entity and entity.lower() not in _ENTITY:
            raise SchemaError(f"--columns: {key!r}: prefix must be 'deals.' or 'activities.'.")
        targets = [_ENTITY[entity.lower()]] if entity else [t for t, canon in (("activities", ACTIVITY_COLUMNS),
                                                                           ("deals", DEAL_COLUMNS)) if name in canon]  # fmt: skip
        if not targets:
            raise SchemaError(f"--columns: unknown canonical name {name!r}; activities take "
                              f"{', '.join(ACTIVITY_COLUMNS)}; deals take {', '.join(DEAL_COLUMNS)}.")  # fmt: skip
        for t in targets:
            (acts if t == "activities" else deals)[name] = header
    return acts, deals


def load_options(args: argparse.Namespace) -> dict[str, Any]:
    """Loader keyword arguments from the flags and ``--config`` (flags win).

    Returns ``{"activities": {...}, "deals": {...}, "roster": {...}, "users": path,
    "holidays": [...], "fiscal_year_start": int, "currency": str}``.
    """
    cfg = read_config(getattr(args, "config", None))
    deals_cfg = cfg.get("deals", {}) or {}
    columns = {**(cfg.get("columns") or {}), **parse_pairs(getattr(args, "columns", None), "--columns")}
    stage_map = {**(cfg.get("stage_map") or {}), **parse_pairs(getattr(args, "stage_map", None), "--stage-map")}
    type_map = {**(cfg.get("type_map") or {}), **parse_pairs(getattr(args, "type_map", None), "--type-map")}
    outcome_map = {**(cfg.get("outcome_map") or {}),
                   **parse_pairs(getattr(args, "outcome_map", None), "--outcome-map")}  # fmt: skip
    all_won = getattr(args, "all_won", None)
    all_won = all_won if all_won is not None else bool(deals_cfg.get("all_won", cfg.get("all_won", False)))
    missing_close = getattr(args, "missing_close", None) or deals_cfg.get("missing_close",
                                                                          cfg.get("missing_close", "exclude"))  # fmt: skip
    crm = getattr(args, "crm", None)
    crm = crm if crm not in (None, "auto") else cfg.get("crm", "auto")
    day = getattr(args, "dayfirst", None)
    day = day if day not in (None, "auto") else str(cfg.get("dayfirst", "auto")).lower()
    dayfirst = {"auto": None, "yes": True, "true": True, "no": False, "false": False}.get(day)
    a_cols, d_cols = _split_columns(columns)
    common = {"crm": crm, "dayfirst": dayfirst}
    return {
        "activities": {**common, "columns": a_cols or None, "type_map": type_map or None,
                       "outcome_map": outcome_map or None},
        "deals": {**common, "columns": d_cols or None, "stage_map": stage_map or None,
                  "status": "won" if all_won else None, "missing_close": missing_close},
        "roster": {"dayfirst": dayfirst},
        "users": getattr(args, "users", None) or cfg.get("users"),
        "holidays": list(cfg.get("holidays", []) or []),
        "fiscal_year_start": int(cfg.get("fiscal_year_start", 1)),
        "currency": currency_symbol(cfg.get("currency")),
    }  # fmt: skip
