"""Look at an export before trusting it: what the loader would do, field by field, and how to change it.

:func:`inspect` answers the questions an analyst handed someone else's export
asks first: which layout was recognised, which header feeds each field (and
what else could have), what each stage and activity-type value becomes, how
the dates were read, how many rows load, and the exact ``columns=``,
``stage_map=``, ``type_map=`` (and CLI flags) to change any of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from salesgoals._schema import ACTIVITY_COLUMNS, ACTIVITY_REQUIRED, DEAL_COLUMNS
from salesgoals._summary import Summary
from salesgoals.errors import SalesgoalsError, SalesgoalsWarning
from salesgoals.io import _detect
from salesgoals.io import _vendors as V
from salesgoals.io._load import _WON_FLAGS, _as_sources, _open, _text, load_activities, load_deals

__all__ = ["inspect", "Inspection"]

_DEAL_SIGNS = ("created", "closed", "stage", "status", "amount")
_ACT_SIGNS = ("timestamp", "activity_type", "outcome", "duration_min")


@dataclass
class Inspection:
    """What :func:`inspect` found; ``.summary()`` prints it.

    Attributes
    ----------
    source : str
        The input's name.
    kind : str
        ``"deals"`` or ``"activities"``.
    layout : str
        Layout detected (``"HubSpot"``, ``"generic / canonical"`` ...).
    mapping : pandas.DataFrame
        One row per canonical field: ``field``, ``header`` (used; empty if
        none), ``from`` (the layout or ``generic words`` that resolved it),
        ``alternatives`` (other headers considered, ``;``-joined).
    values : pandas.DataFrame
        Stage values (deals) or activity-type values (activities) with
        ``value``, ``rows`` and ``maps_to`` (``won``/``lost``/``open`` or
        the activity type).
    notes : list of str
        How the file was read: encoding, delimiter, date formats and order,
        what was assumed.
    rows : dict
        ``read``, ``loaded``, ``excluded`` and the exclusions by reason.
    error : str
        The loader's error when the file does not load as it is ('' if it loads).
    python, cli : str
        The exact call and command-line flags that reproduce (and let you
        change) this mapping.
    """

    source: str
    kind: str
    layout: str
    mapping: pd.DataFrame
    values: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    rows: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    python: str = ""
    cli: str = ""

    def summary(self) -> Summary:
        """Printable report (text, or HTML in Jupyter)."""
        facts = {"file": self.source, "kind": self.kind, "layout": self.layout}
        if self.rows:
            facts["rows"] = (f"{self.rows.get('read', 0):,} read, {self.rows.get('loaded', 0):,} loaded, "
                             f"{self.rows.get('excluded', 0):,} excluded")  # fmt: skip
        lines = [f"DOES NOT LOAD AS IT IS: {self.error}"] if self.error else []
        lines += ["", "To change any of it:", f"  python: {self.python}", f"  cli:    {self.cli}"]
        caption = "stage values -> status" if self.kind == "deals" else "activity-type values -> type"
        return Summary(f"inspect: {self.source}", lines,
                       [("mapping (canonical field <- header)", self.mapping), (caption, self.values)],
                       facts=facts, notes=self.notes)  # fmt: skip

    def __repr__(self) -> str:
        return f"Inspection({self.source}: {self.kind}, layout {self.layout}{', does not load' if self.error else ''})"


def _kind_of(src, kind: str) -> tuple[str, _detect.Resolution]:
    """Deals or activities: the reading that resolves more of its own telltale fields."""
    res_d = _detect.resolve_layout(src.headers, V.DEAL_ALIASES, V.DEAL_WORDS, "auto", DEAL_COLUMNS,
                                   ("rep", "created", "stage", "amount"), src.sample)  # fmt: skip
    res_a = _detect.resolve_layout(src.headers, V.ACTIVITY_ALIASES, V.ACTIVITY_WORDS, "auto", ACTIVITY_COLUMNS,
                                   ACTIVITY_REQUIRED, src.sample)  # fmt: skip
    if kind == "deals":
        return kind, res_d
    if kind == "activities":
        return kind, res_a
    d = sum(f in res_d.mapping for f in _DEAL_SIGNS)
    a = sum(f in res_a.mapping for f in _ACT_SIGNS) + (0.5 if "activity_type" in res_a.mapping else 0)
    return ("deals", res_d) if d >= a else ("activities", res_a)


def _mapping_table(res: _detect.Resolution, canon) -> pd.DataFrame:
    return pd.DataFrame(
        [{"field": c, "header": res.mapping.get(c, ""), "from": res.origin.get(c, ""),
          "alternatives": "; ".join(res.alternatives.get(c, []))} for c in canon]  # fmt: skip
    )


def _deal_values(df: pd.DataFrame | None) -> pd.DataFrame:
    if df is None or not len(df):
        return pd.DataFrame(columns=["value", "rows", "maps_to"])
    g = df.assign(stage=df["stage"].fillna("(no stage)")).groupby(["stage", "status"], sort=False).size()
    out = g.rename("rows").reset_index().rename(columns={"stage": "value", "status": "maps_to"})
    return out.sort_values(["rows", "value"], ascending=[False, True], kind="mergesort")[["value", "rows", "maps_to"]]


def _status_values(src, res: _detect.Resolution, df: pd.DataFrame | None, stage_map) -> pd.DataFrame | None:
    """A status column's values when the file has no stage column (each would show as '(no stage)'), else None.

    Each value with its rows in the file and what the loader makes of it:
    ``stage_map``, then the status vocabulary; any other value is open when
    some deal is won (the stage rule), unknown ('?') when none is.
    """
    h = res.mapping.get("status")
    if h is None or "stage" in res.mapping or V.norm_header(h) in _WON_FLAGS:
        return None
    table = src.read([h])
    counts = _text(table, h, table.num_rows).value_counts(dropna=False, sort=False)
    smap = {V.norm_value(k): str(v).lower() for k, v in (stage_map or {}).items()}
    any_won = df is not None and bool((df["status"] == "won").any())
    recs = []
    for value, rows in counts.items():
        if pd.isna(value):
            recs.append({"value": "(blank)", "rows": int(rows), "maps_to": "excluded (missing status)"})
            continue
        known = smap.get(V.norm_value(value), V.STATUS_VALUES.get(V.norm_value(value)))
        recs.append({"value": value, "rows": int(rows), "maps_to": known or ("open" if any_won else "?")})
    out = pd.DataFrame(recs, columns=["value", "rows", "maps_to"])
    return out.sort_values(["rows", "value"], ascending=[False, True], kind="mergesort")


def _type_values(notes: list[str]) -> pd.DataFrame:
    recs = []
    for n in notes:
        if "activity types from" not in n:
            continue
        body = n.split("(source value -> type (rows)): ", 1)[-1]
        for part in body.split(", '"):
            part = part if part.startswith("'") else "'" + part
            value, _, rest = part.partition("' -> ")
            typ, _, rows = rest.rpartition(" (")
            recs.append({"value": value.strip("'"), "rows": int(rows.rstrip(")").replace(",", "") or 0),
                         "maps_to": typ})  # fmt: skip
    return pd.DataFrame(recs, columns=["value", "rows", "maps_to"])


def _how_to_change(kind: str, res: _detect.Resolution, values: pd.DataFrame, path_text: str) -> tuple[str, str]:
    cols = {c: h for c, h in res.mapping.items()}
    fn = "load_deals" if kind == "deals" else "load_activities"
    py = f"sg.{fn}({path_text}, columns={cols!r}"
    cli_cols = ",".join(f"{'' if c not in ('rep', 'deal_id', 'account') else kind + '.'}{c}={h}" for c, h in cols.items())
    cli = f"salesgoals panel {'-d' if kind == 'deals' else '-a'} {path_text.strip(chr(39))} --columns '{cli_cols}'"
    if kind == "deals" and len(values):
        # values a stage_map can name (not '(no stage)' / '(blank)'); one no rule decides: the choices
        named = values[~values["value"].isin(["(no stage)", "(blank)"])]
        smap = {v: m if m in ("won", "lost", "open") else "won|lost|open"
                for v, m in zip(named["value"], named["maps_to"])}
        py += f", stage_map={smap!r}"
        cli += " --stage-map '" + ",".join(f"{k}={v}" for k, v in smap.items()) + "'"
    elif len(values):
        tmap = dict(zip(values["value"], values["maps_to"]))
        py += f", type_map={tmap!r}"
        cli += " --type-map '" + ",".join(f"{k}={v}" for k, v in tmap.items()) + "'"
    return py + ")", cli


def inspect(source: Any, *, kind: Literal["auto", "deals", "activities"] = "auto", **options: Any) -> Inspection:
    """Show what loading an export would do, and how to change it, without trusting it yet.

    Parameters
    ----------
    source : path or DataFrame
        One export (CSV, TSV, XLSX, Parquet) or a DataFrame.
    kind : {"auto", "deals", "activities"}, default="auto"
        What the file holds; ``"auto"`` decides from the headers.
    **options
        Passed to :func:`load_deals` / :func:`load_activities` (``columns=``,
        ``stage_map=``, ``type_map=``, ``dayfirst=`` ...), to see their effect.

    Returns
    -------
    Inspection
        ``.mapping`` (field, header, from, alternatives), ``.values`` (value,
        rows, maps_to), ``.notes``, ``.rows``, ``.error``, ``.python`` and
        ``.cli``; ``print(result.summary())`` shows it all.

    Examples
    --------
    >>> import pandas as pd
    >>> export = pd.DataFrame({"sales_agent": ["Ana", "Ben"], "engage_date": ["2024-01-02", "2024-01-03"],
    ...                        "close_date": ["2024-02-01", ""], "deal_stage": ["Won", "Engaging"],
    ...                        "close_value": ["1200", ""]})
    >>> found = inspect(export)
    >>> found.kind, found.mapping.set_index("field").loc["rep", "header"]
    ('deals', 'sales_agent')
    >>> found.values[["value", "maps_to"]].values.tolist()
    [['Engaging', 'open'], ['Won', 'won']]
    """
    if kind not in ("auto", "deals", "activities"):
        raise ValueError(f"inspect: kind must be 'auto', 'deals' or 'activities'; got {kind!r}.")
    (obj,) = _as_sources(source)[:1]
    src = _open(obj, "inspect", options.get("encoding"), options.get("sep"), options.get("sheet_name", 0))
    kind, res = _kind_of(src, kind)
    loader = load_deals if kind == "deals" else load_activities
    df, error = None, ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SalesgoalsWarning)  # inspect reports what the loader found in its own words
        try:
            df = loader(obj, **options)
        except SalesgoalsError as exc:
            error = str(exc)
    q = df.attrs["quality"] if df is not None else None
    if q is not None and q.columns:  # what the loader actually used (columns= included)
        res.mapping, res.origin = dict(q.columns[0]), {**res.origin, **q.column_origin[0]}
    values = _deal_values(df) if kind == "deals" else _type_values(q.notes if q is not None else [])
    if kind == "deals":  # a status column without a stage column: its own values, not '(no stage)'
        status_values = _status_values(src, res, df, options.get("stage_map"))
        values = values if status_values is None else status_values
    if kind == "activities" and df is not None and not len(values):  # no type column: from headers or subjects
        counts = df["activity_type"].astype(str).value_counts()
        values = pd.DataFrame({"value": "(no type column)", "rows": counts.to_numpy(), "maps_to": counts.index})
    path_text = repr(str(obj)) if not isinstance(obj, pd.DataFrame) else "df"
    py, cli = _how_to_change(kind, res, values, path_text)
    rows = {} if q is None else {"read": q.input_rows, "loaded": q.loaded_rows, "excluded": q.n_excluded,
                                 **{f"excluded: {k}": v for k, v in q.excluded.items()}}  # fmt: skip
    return Inspection(source=src.name, kind=kind, layout=V.VENDOR_LABELS[res.vendor],
                      mapping=_mapping_table(res, DEAL_COLUMNS if kind == "deals" else ACTIVITY_COLUMNS),
                      values=values.reset_index(drop=True), notes=list(q.notes) if q is not None else [],
                      rows=rows, error=error, python=py, cli=cli)  # fmt: skip
