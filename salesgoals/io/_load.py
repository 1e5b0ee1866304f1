"""Load CRM exports into canonical tidy frames, and write spreadsheet-safe CSV.

The loaders read what analysts already have: a Salesforce report or backup, a
HubSpot, Pipedrive, Zoho, Dynamics 365 or Close export, or any CSV with
recognisable headers.  They return the canonical frames every other module of
salesgoals works on (:data:`salesgoals._schema.ACTIVITY_COLUMNS`,
:data:`~salesgoals._schema.DEAL_COLUMNS`, :data:`~salesgoals._schema.ROSTER_COLUMNS`).

What the loaders take care of
-----------------------------
* **Layouts**: ``crm="auto"`` scores the headers against each vendor's report
  labels and API names (case- and punctuation-insensitive); ``columns={...}``
  overrides any mapping.  Several files (HubSpot exports calls, meetings and
  emails separately) are combined; the activity type of a file without a type
  column is read from its headers (``Call outcome`` -> call).
* **Dialects**: UTF-8, UTF-8 with BOM, cp1252 and NUL bytes; comma, semicolon,
  tab and pipe delimiters; CRLF; report title rows above the header and
  ``Grand Totals`` / ``Copyright`` / ``Confidential`` footers below the data;
  CSV, TSV, ``.csv.gz``, XLSX and Parquet files or DataFrames.
* **Values**: one date format detected per column (ISO, m/d/Y, d/m/Y, d.m.Y,
  12- or 24-hour times, Excel serials, epoch numbers); amounts such as
  ``€ 2.900,00``, ``"$1,234.56"`` or ``(1,200.00)``; durations in each vendor's
  unit converted to minutes; stages, outcomes and activity types mapped to the
  canonical vocabulary.
* **Accounting**: every input row is either loaded or excluded for a counted
  reason.  The :class:`DataQualityReport` travels with the result in
  ``df.attrs["quality"]`` and its counts are warned once
  (:class:`~salesgoals.errors.DataQualityWarning`).

Examples
--------
>>> import salesgoals as sg
>>> sim = sg.simulate.make_crm_data(n_reps=3, n_weeks=8, seed=0)
>>> acts = sg.load_activities(sim.activities)
>>> acts.columns.tolist()
['rep', 'timestamp', 'activity_type', 'activity_id', 'deal_id', 'account', 'outcome', 'duration_min']
>>> acts.attrs["quality"].loaded_rows == len(sim.activities)
True
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesgoals.io import _detect, _parse
from salesgoals.io import _vendors as V
from salesgoals._schema import (
    ACTIVITY_COLUMNS,
    ACTIVITY_REQUIRED,
    DEAL_COLUMNS,
    DEAL_STATUSES,
    QUALITY_METRICS,
    ROSTER_COLUMNS,
    UNASSIGNED,
)
from salesgoals._activity_counts import remember as remember_counts
from salesgoals._duplicates import activity_duplicates, all_missing, may_repeat
from salesgoals._summary import Summary
from salesgoals._typing import CRM
from salesgoals.errors import (
    DataQualityError,
    DataQualityWarning,
    SalesgoalsError,
    SchemaError,
    format_rows,
    format_values,
)

__all__ = ["load_activities", "load_deals", "load_roster", "write_csv", "DataQualityReport"]

_log = logging.getLogger("salesgoals")

#: Why a row was excluded, in the order the checks run (one reason per row).
EXCLUSION_REASONS: dict[str, str] = {
    "malformed_row": "row has the wrong number of fields",
    "missing_rep": "blank rep / owner",
    "missing_timestamp": "blank activity date",
    "unparseable_timestamp": "activity date not readable in the column's format",
    "not_an_activity": "status-change or system entry, not a rep activity",
    "missing_created": "blank created date",
    "unparseable_created": "created date not readable in the column's format",
    "missing_status": "no stage or status to tell won / lost / open",
    "closed_without_close_date": "won or lost deal without a (readable) close date",
    "unparseable_amount": "amount not readable as a number",
    "negative_amount": "negative amount",
    "duplicate_row": "exact duplicate of an earlier row",
    "duplicate_id": "id already seen in an earlier row (first kept)",
    "duplicate_rep": "rep already listed in an earlier row (first kept)",
}

#: Loader-specific words for reasons of other loaders (``load_stage_history`` registers its own), read
#: first by :attr:`DataQualityReport.table`.
LOADER_REASONS: dict[str, dict[str, str]] = {}

_NON_ACTIVITIES = frozenset({"leadstatuschange", "opportunitystatuschange", "statuschange", "created",
                             "leadmerge", "customactivity"})  # fmt: skip

#: Separate time-of-day columns that complete a date column.
_TIME_COLUMNS = {"pipedrive": ["Activity - Due time", "Due time"], "zoho": [], "generic": ["time"]}
#: Salesforce tasks often leave Type blank and put it in the subject ("Email: Proposal").
_SUBJECT_COLUMNS = ["Subject", "Activity Subject", "Activity - Subject", "Call Title", "Meeting name", "Task Title"]


# ======================================================================= report
@dataclass(eq=False)
class DataQualityReport(dict):
    """What a loader read, what it excluded and why.

    It is also a plain ``dict`` of its fields, so a loaded frame whose
    ``attrs`` carry it can still be written with ``to_parquet`` (pandas stores
    ``attrs`` as JSON) and copied freely.

    Attached to every loaded frame as ``df.attrs["quality"]``.  The accounting
    identity ``loaded_rows + sum(excluded.values()) == input_rows`` always
    holds; report furniture (title rows, footers, blank lines) is not data and
    is counted separately in ``furniture``.

    Attributes
    ----------
    loader : str
        ``"load_activities"``, ``"load_deals"`` or ``"load_roster"``.
    sources : list of str
        Names of the inputs, in order.
    crm : list of str
        Layout detected (or given) for each input.
    columns : list of dict
        For each input, the canonical column -> export header mapping used.
    column_origin : list of dict
        For each input, the canonical column -> where its mapping came from: the
        layout whose names resolved it (``"HubSpot"``), ``"generic words"``
        (header words and values) or ``"columns="``.
    input_rows, loaded_rows : int
        Data rows read and rows in the result.
    excluded : dict
        Rows excluded, by reason (see :data:`EXCLUSION_REASONS`).
    examples : dict
        One example per reason: ``"'file.csv' row 12: 'value'"``.
    repaired : dict
        Values repaired but kept (for example missing amounts set to 0).
    flagged : dict
        Rows kept as they are but flagged, by reason: ``close_before_create``,
        ``after_export`` (dated after ``as_of`` or well after the last created
        deal), ``far_outlier`` (years away from the bulk of the dates).
    furniture : dict
        Non-data lines dropped: ``title_rows``, ``footer_rows``, ``blank_rows``.
    notes : list of str
        How the data were read: encoding, delimiter, date formats, day/month order.
    """

    loader: str
    sources: list[str] = field(default_factory=list)
    crm: list[str] = field(default_factory=list)
    columns: list[dict[str, str]] = field(default_factory=list)
    column_origin: list[dict[str, str]] = field(default_factory=list)
    input_rows: int = 0
    loaded_rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, int] = field(default_factory=dict)
    furniture: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __setattr__(self, name: str, value) -> None:
        # keep the dict view (what JSON and deepcopy see) in step with the attributes
        object.__setattr__(self, name, value)
        dict.__setitem__(self, name, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataQualityReport) and dict.__eq__(self, other)

    __hash__ = None  # mutable, like dict

    def __reduce__(self):
        return (_report_from_dict, (dict(self),))

    @property
    def n_excluded(self) -> int:
        """Total rows excluded."""
        return int(sum(self.excluded.values()))

    @property
    def table(self) -> pd.DataFrame:
        """Excluded and repaired rows by reason: columns ``reason``, ``rows``, ``action``, ``description``, ``example``."""
        recs = [
            {"reason": k, "rows": int(v), "action": "excluded", "description": _reason_words(self.loader, k),
             "example": self.examples.get(k, "")}
            for k, v in self.excluded.items()
        ] + [
            {"reason": k, "rows": int(v), "action": "repaired", "description": k.replace("_", " "),
             "example": self.examples.get(k, "")}
            for k, v in self.repaired.items()
        ]  # fmt: skip
        return pd.DataFrame(recs, columns=["reason", "rows", "action", "description", "example"])

    def summary(self) -> Summary:
        """Text/HTML summary of the load."""
        crm = ", ".join(f"{s} ({V.VENDOR_LABELS.get(c, c)})" for s, c in zip(self.sources, self.crm))
        lines = [
            f"inputs: {crm}",
            f"rows: {self.input_rows:,} read, {self.loaded_rows:,} loaded, {self.n_excluded:,} excluded",
        ]
        if self.furniture:
            lines.append("report furniture dropped: " + ", ".join(f"{v:,} {k.replace('_', ' ')}"
                                                                    for k, v in self.furniture.items()))
        lines += self.notes
        if not len(self.table):
            lines.append("(no rows excluded)")
        return Summary(f"{self.loader}: data quality", lines, self.table)

    def __repr__(self) -> str:
        return (f"DataQualityReport({self.loader}: {self.input_rows:,} rows read, {self.loaded_rows:,} loaded, "
                f"{self.n_excluded:,} excluded {dict(self.excluded)})")  # fmt: skip


# ======================================================================= column mapping
def _known_headers() -> frozenset[str]:
    keys: set[str] = set()
    for table in (V.ACTIVITY_ALIASES, V.DEAL_ALIASES):
        for spec in table.values():
            for aliases in spec.values():
                keys.update(V.norm_header(a) for a in aliases)
    for aliases in V.ROSTER_ALIASES.values():
        keys.update(V.norm_header(a) for a in aliases)
    for sig in V.SIGNATURES.values():
        keys.update(sig)
    keys.update(V.norm_header(a) for a in _SUBJECT_COLUMNS)
    return frozenset(keys)


_KNOWN = _known_headers()

def _header_keys(headers: list[str]) -> dict[str, str]:
    """Normalised key -> header (exact keys, then keys without sync / entity prefixes)."""
    return _detect.header_keys(headers)


def _resolve(src: _parse.Source, table, crm: str, columns: Mapping[str, str] | None, canon: Sequence[str],
             loader: str, words: V.FieldWords | None = None,
             required: Sequence[str] = ()) -> _detect.Resolution:
    """Pick the layout and map canonical columns to headers (``columns=`` wins)."""
    if crm not in ("auto", *V.VENDORS):
        raise ValueError(f"{loader}: crm must be one of 'auto', {', '.join(map(repr, V.VENDORS))}; got {crm!r}.")
    headers, name = src.headers, src.name
    if words is None:  # the roster: one generic table
        res = _detect.Resolution(vendor="generic")
        res.mapping = _detect._alias_mapping(_header_keys(headers), [table["generic"]], canon)
        res.origin = {c: V.VENDOR_LABELS["generic"] for c in res.mapping}
    else:
        res = _detect.resolve_layout(headers, table, words, crm, canon, required, src.sample)
    if columns:
        _apply_columns(res, columns, headers, canon, name, loader)
    return res


def _apply_columns(res: _detect.Resolution, columns, headers, canon, name, loader) -> None:
    if not isinstance(columns, Mapping):
        raise TypeError(f"{loader}: columns must be a dict like {{'rep': 'Owner Name'}}; got {type(columns).__name__}.")
    unknown = [k for k in columns if k not in canon]
    if unknown:
        raise SchemaError(
            f"{loader}: columns= has unknown canonical name(s) {format_values(unknown)}. "
            f"Valid names: {', '.join(canon)}."
        )
    keys = _header_keys(headers)
    mapping = res.mapping
    for c, h in columns.items():
        if h is None:
            mapping.pop(c, None)
            res.origin[c] = "columns="
            continue
        hit = h if h in headers else keys.get(V.norm_header(h))
        if hit is None:
            raise SchemaError(
                f"{loader}: columns={{{c!r}: {h!r}}} but {name} has no column {h!r}. "
                f"Found: {', '.join(headers[:40])}{' ...' if len(headers) > 40 else ''}."
            )
        for k, v in list(mapping.items()):
            if v == hit and k != c:
                del mapping[k]
        mapping[c] = hit
        res.origin[c] = "columns="


def _missing_error(loader, name, vendor, missing, table, headers, extra=""):
    looked = []
    for c in missing:
        al = list(dict.fromkeys([*table[vendor].get(c, []), *table["generic"].get(c, [])]))
        looked.append(f"{c} (looked for, case-insensitive: {', '.join(al[:8])}{' ...' if len(al) > 8 else ''})")
    found = ", ".join(headers[:40]) + (" ..." if len(headers) > 40 else "")
    example = ", ".join(f"{c!r}: '<header>'" for c in missing)
    return SchemaError(
        f"{loader}: no {' / '.join(missing)} column in {name} (layout: {V.VENDOR_LABELS[vendor]}). "
        f"{'; '.join(looked)}. Found: {found}. Pass columns={{{example}}} to choose{extra}."
    )


def _find(headers: list[str], aliases: Sequence[str], exclude: set[str] = frozenset()) -> str | None:
    keys = _header_keys(headers)
    for a in aliases:
        h = keys.get(V.norm_header(a))
        if h is not None and h not in exclude:
            return h
    return None


# ======================================================================= per-file state
class _Rows:
    """Exclusion bookkeeping of one input: one reason per row, first reason wins."""

    def __init__(self, n: int, name: str):
        self.n, self.name = n, name
        self.reason = np.zeros(n, dtype=np.int16)
        self.codes = {r: i + 1 for i, r in enumerate(EXCLUSION_REASONS)}
        self.examples: dict[str, str] = {}
        self.repaired: dict[str, int] = {}
        self.flagged: dict[str, int] = {}

    def exclude(self, mask: np.ndarray, reason: str, values: Any = None) -> None:
        m = np.asarray(mask, dtype=bool) & (self.reason == 0)
        if not m.any():
            return
        self.reason[m] = self.codes[reason]
        if reason not in self.examples:
            i = int(np.argmax(m))  # the first row (no index of every row built)
            v = "" if values is None else f": {_item(values, i)!r}"
            self.examples[reason] = f"{self.name} row {i + 1}{v}"

    def repair(self, mask: np.ndarray, what: str, values: Any = None) -> None:
        m = np.asarray(mask, dtype=bool) & (self.reason == 0)
        k = int(m.sum())
        if k:
            self.repaired[what] = self.repaired.get(what, 0) + k
            if what not in self.examples:
                i = int(np.argmax(m))
                v = "" if values is None else f": {_item(values, i)!r}"
                self.examples[what] = f"{self.name} row {i + 1}{v}"

    def flag(self, mask: np.ndarray, what: str) -> None:
        """Count rows kept but flagged (suspect dates), with a first example."""
        m = np.asarray(mask, dtype=bool) & (self.reason == 0)
        if m.any():
            self.flagged[what] = self.flagged.get(what, 0) + int(m.sum())
            self.examples.setdefault(what, f"{self.name} row {int(np.argmax(m)) + 1}")

    @property
    def keep(self) -> np.ndarray:
        return self.reason == 0


def _item(values: Any, i: int) -> Any:
    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        return values[i].as_py()
    v = values.iloc[i] if isinstance(values, pd.Series) else values[i]
    return v.item() if hasattr(v, "item") else v


def _text(table: pa.Table, col: str | None, n: int) -> pd.Series:
    """Stripped text of a column as a pandas ``str`` Series; blanks are NaN (missing)."""
    if col is None:
        return pd.Series(np.full(n, np.nan, dtype=object), dtype="str")
    return _parse.to_str_series(_parse.clean_text(table.column(col)))


def _araw(table: pa.Table, col: str) -> pa.ChunkedArray:
    """Arrow text of a column as read (for columns mapped per distinct value)."""
    c = table.column(col)
    if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) or pa.types.is_dictionary(c.type):
        return c
    return _parse.clean_text(c)


def _atext(table: pa.Table, col: str | None, n: int) -> pa.ChunkedArray:
    """Stripped Arrow text of a column; blanks are null."""
    if col is None:
        return _parse.missing_text(n)
    return _parse.clean_text(table.column(col))


def _map_vocab(s: pd.Series, fn) -> pd.Series:
    """Map each distinct value through ``fn`` (vectorised over the few distinct values)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    mapped = np.array([fn(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _slug(v: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(v).lower()).strip("_") or "other"


def _as_sources(source: Any) -> list[Any]:
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError("no input given: pass a path, a DataFrame or a non-empty list of them.")
        return list(source)
    return [source]


def _open(src: Any, loader: str, encoding, sep, sheet_name) -> _parse.Source:
    try:
        return _parse.open_source(src, known=_KNOWN, encoding=encoding, sep=sep, sheet_name=sheet_name)
    except TypeError as exc:
        raise TypeError(f"{loader}: {exc}") from None


def _dates(table, col, name, loader, rows: _Rows, dayfirst, date_format, notes, *, required: bool,
           missing_reason: str | None = None, bad_reason: str | None = None) -> np.ndarray:
    n = table.num_rows
    if col is None:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    values, bad, note = _date_values(table, col, name, loader, dayfirst, date_format)
    notes.append(note)
    if required:
        _exclude_dates(rows, table.column(col), values, bad, missing_reason, bad_reason)
    return values


def _date_values(table, col, name, loader, dayfirst, date_format) -> tuple[np.ndarray, np.ndarray, str]:
    """Parse a date column: values, unparseable rows, and a note on how they were read (no side effects)."""
    values, bad, info = _parse.parse_dates(table.column(col), column=col, source=name, dayfirst=dayfirst,
                                           date_format=date_format, loader=loader)  # fmt: skip
    fmt = " / ".join(info.formats) if info.formats else "(empty)"
    note = f"{name}: dates in {col!r} read as {fmt}"
    if info.ambiguous:
        order = "day-first" if info.dayfirst else "month-first"
        if dayfirst is None:
            note += (f"; AMBIGUOUS (no day above 12), assumed {order}: pass dayfirst="
                     f"{not info.dayfirst} if they are {'month' if info.dayfirst else 'day'}-first")  # fmt: skip
        else:
            note += f"; ambiguous, {order} as requested by dayfirst={dayfirst}"
    elif info.dayfirst is not None:
        note += f" ({'day' if info.dayfirst else 'month'}-first, decided by the data)"
    return values, bad, note


def _exclude_dates(rows: _Rows, raw: pa.ChunkedArray, values: np.ndarray, bad: np.ndarray, missing_reason: str,
                   bad_reason: str) -> None:
    """Exclude the rows whose date is missing or unparseable."""
    any_bad = bool(bad.any())
    if any_bad or raw.null_count or not pa.types.is_timestamp(raw.type):  # a typed column without nulls has no NaT
        rows.exclude(np.isnat(values) & ~bad, missing_reason)
    if any_bad:
        rows.exclude(bad, bad_reason, raw)


def _finish(loader: str, frames: list[pd.DataFrame], reports: list[dict], canon: Sequence[str],
            key_cols: Sequence[str] | None, dup_reason: str, after_dedup=None) -> pd.DataFrame:
    """Concatenate per-file results, drop duplicates across files, attach and warn the report.

    ``after_dedup(out, reason, reports)`` runs once the duplicates are marked, so
    what it counts (the deals' date issues) is counted once per deal, not once per copy.
    A report's ``"counts"`` (rows per code of a categorical column, one input only)
    spare the kept rows a counting pass.
    """
    out = pd.concat(_common_categories(frames), ignore_index=True) if len(frames) > 1 else frames[0]
    reason = np.concatenate([r["rows"].reason for r in reports]) if len(reports) > 1 else reports[0]["rows"].reason
    codes = reports[0]["rows"].codes
    kept_dups = _mark_duplicates(out, reason, codes, canon, key_cols, dup_reason, loader)
    _exclude_unkeyed_duplicates(out, reports, reason, reason == 0, canon, key_cols, codes)
    if after_dedup is not None:
        after_dedup(out, reason, reports)
    report = _merged_report(loader, reports, reason, codes)
    if kept_dups:
        report.notes.append(f"ASSUMED: {kept_dups:,} deals share an id with an earlier deal but differ in content; "
                            "all kept (check the export: a deal exported twice after an edit counts twice)")  # fmt: skip
    keep = reason == 0
    if keep.all():
        result = out
    else:
        counts = reports[0].get("counts") if len(frames) == 1 else None
        result = _kept_rows(out, keep, counts)  # a value only excluded rows had is not a category of the result
    report.loaded_rows = len(result)
    if report.loaded_rows + report.n_excluded != report.input_rows:  # pragma: no cover - invariant
        raise RuntimeError("row accounting does not balance; please report this bug")
    result.attrs["quality"] = report
    _log.info("%s: %s", loader, "; ".join(n for n in report.notes if ": layout " in n))
    if report.input_rows and not report.loaded_rows:
        raise DataQualityError(
            f"{loader}: all {report.input_rows:,} rows of {', '.join(report.sources)} were excluded "
            f"({_counts_text(report.excluded)}); first: {next(iter(report.examples.values()), '')}. "
            "Check the column mapping (report.columns) or pass columns={...}."
        )
    _warn(loader, report)
    return result


def _kept_rows(out: pd.DataFrame, keep: np.ndarray, counts: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The kept rows, column by column on two threads; a categorical keeps only the categories kept rows use.

    Each column is gathered from its array by the mask (no index built or
    gathered; numpy releases the GIL while it gathers): a categorical's
    codes, a datetime or number column's numpy values.  A column missing
    everywhere is cut to length, not gathered: a lean export's empty id, deal
    and account columns would otherwise cost a full gather each (about a third
    of a second apiece on 12.5 million rows).  ``counts`` (rows per code of a
    categorical column, counted when it was made): the kept rows' counts are
    these less the excluded rows' (usually few), not a count of every kept row.
    """
    n_keep = int(np.count_nonzero(keep))
    counts = counts or {}
    dropped = np.flatnonzero(~keep) if counts else None

    def kept(col: str):
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes, cats = s.array.codes, list(s.cat.categories)
            left = None
            if counts.get(col) is not None and len(counts[col]) == len(cats) + 1:
                left = counts[col] - _parse.count_codes(codes[dropped], len(cats))
            return _parse.from_codes(codes[keep], cats, counts=left)[0]  # drops unused categories
        if all_missing(s):
            return s.array[:n_keep]
        if isinstance(s.dtype, np.dtype) and s.dtype != object:
            return s.to_numpy()[keep]  # datetime64 / float / int: a view, gathered by numpy
        return s.array[keep]

    with ThreadPoolExecutor(2) as pool:
        cols = dict(zip(out.columns, pool.map(kept, out.columns)))
    return pd.DataFrame(cols, copy=False)


def _mark_duplicates(out: pd.DataFrame, reason: np.ndarray, codes: dict[str, int], canon: Sequence[str],
                     key_cols: Sequence[str] | None, dup_reason: str, loader: str) -> int:
    """Mark exact duplicate rows (and, for activities and rosters, repeated ids) among the rows still kept.

    Returns the number of deals that share an id with an earlier deal but differ in content (kept).
    """
    keep = reason == 0
    kept = out if keep.all() else out.loc[keep]
    if not (len(kept) and key_cols and kept[key_cols[-1]].notna().any()):
        return 0
    # Exact duplicate rows can only be told from repeated activities when the export has ids, so
    # duplicates are looked for among rows that share a key: a row equal to an earlier one is a
    # duplicate row, a row with an earlier row's key but other values a duplicate id (first kept).
    shared = np.zeros(len(kept), bool)
    if may_repeat(kept[key_cols[-1]]):
        has_key = kept[key_cols[-1]].notna().to_numpy()
        shared[has_key] = kept.loc[has_key, list(key_cols)].duplicated(keep=False).to_numpy()
    if not shared.any():
        return 0
    idx = np.flatnonzero(keep)  # global row of each kept row
    cand = kept.loc[shared]
    dup_row = cand.duplicated(list(canon), keep="first").to_numpy()
    dup_key = cand.duplicated(list(key_cols), keep="first").to_numpy() & ~dup_row
    pos = idx[np.flatnonzero(shared)]
    reason[pos[dup_row]] = codes["duplicate_row"]
    if dup_reason == "duplicate_id" and loader == "load_deals":  # same id, other content: kept, warned
        return int(dup_key.sum())
    reason[pos[dup_key]] = codes[dup_reason]
    return 0


def _merged_report(loader: str, reports: list[dict], reason: np.ndarray, codes: dict[str, int]) -> DataQualityReport:
    """One report for every input: sources, mappings, notes, and rows by reason with a first example each."""
    starts = np.cumsum([0] + [r["rows"].n for r in reports])  # first global row of each input
    names = {v: k for k, v in codes.items()}
    excluded: dict[str, int] = {}
    examples: dict[str, str] = {}
    counts = np.bincount(reason[reason != 0], minlength=len(codes) + 1)  # excluded rows only: few
    for code in np.flatnonzero(counts[1:]) + 1:
        r = names[int(code)]
        excluded[r] = int(counts[code])
        ex = next((rep["rows"].examples[r] for rep in reports if r in rep["rows"].examples), None)
        if ex is None:
            first = int(np.argmax(reason == code))
            k = int(np.searchsorted(starts, first, side="right") - 1)
            ex = f"{reports[k]['name']} row {first - starts[k] + 1}"
        examples[r] = ex
    report = DataQualityReport(loader=loader)
    for rep in reports:
        report.sources.append(rep["name"])
        report.crm.append(rep["vendor"])
        report.columns.append(rep["mapping"])
        report.column_origin.append(rep.get("origin", {}))
        report.notes.extend(rep["notes"])
        for k, v in rep["furniture"].items():
            report.furniture[k] = report.furniture.get(k, 0) + v
        for target, part in ((report.repaired, rep["rows"].repaired), (report.flagged, rep["rows"].flagged)):
            for k, v in part.items():
                target[k] = target.get(k, 0) + v
                examples.setdefault(k, rep["rows"].examples.get(k, ""))
    report.input_rows = int(reason.size)
    report.excluded = excluded
    report.examples = examples
    return report


def _exclude_unkeyed_duplicates(out: pd.DataFrame, reports: list[dict], reason: np.ndarray, keep: np.ndarray,
                                canon: Sequence[str], key_cols: Sequence[str] | None, codes: dict[str, int]) -> None:
    """Exact duplicate rows of deal inputs without an id column (their made-up ids differ row by row)."""
    starts = np.cumsum([0] + [r["rows"].n for r in reports])
    for rep, a, b in zip(reports, starts[:-1], starts[1:]):
        if rep.get("has_id", True) or not key_cols:
            continue
        alive = np.flatnonzero(reason[a:b] == 0) + a
        if alive.size < 2:
            continue
        body = [c for c in canon if c not in key_cols]
        dup = out.iloc[alive][body].duplicated(keep="first").to_numpy()
        reason[alive[dup]] = codes["duplicate_row"]


def _exclude_activity_duplicates(out: pd.DataFrame, reason: np.ndarray, reports: list[dict]) -> None:
    """Exclude the activities :data:`salesgoals._duplicates.ACTIVITY_RULE` calls duplicates, counted and noted."""
    found = activity_duplicates(out, reason == 0)
    reports[0]["weekly"] = found.weekly  # rows per week, rep, type and outcome, when counted on the way
    codes = reports[0]["rows"].codes
    reason[found.duplicate_row] = codes["duplicate_row"]
    reason[found.duplicate_id] = codes["duplicate_id"]
    if found.dates_only:
        reports[-1]["notes"].append(
            f"no activity id column and dates without a time of day: {found.alike_kept:,} rows identical to an "
            "earlier one are kept (two activities of one rep on one day look alike)")  # fmt: skip
        return
    unkeyed = int(out["activity_id"].iloc[found.duplicate_row].isna().sum()) if found.duplicate_row.size else 0
    if not unkeyed:
        return
    reports[-1]["notes"].append(
        f"ASSUMED: {unkeyed:,} activities without an id are identical in every loaded column to an earlier one "
        "(same rep, time, type, outcome, duration, deal and account), taken as exported twice and excluded; "
        "rows that differ in any of these columns are kept. If the export has a record id column, name it "
        "(columns={'activity_id': '<header>'}) to tell repeated activities apart"
    )


def _common_categories(frames: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Put each categorical column of the frames on the sorted union of its categories, so they stack."""
    out = [f.copy(deep=False) for f in frames]
    for col in frames[0].columns:
        if not all(isinstance(f[col].dtype, pd.CategoricalDtype) for f in frames):
            continue
        union = sorted(set().union(*(f[col].cat.categories for f in frames)))
        dtype = pd.CategoricalDtype(pd.Index(union, dtype="str"))
        for f in out:
            f[col] = f[col].astype(dtype)
    return out


def _counts_text(d: Mapping[str, int]) -> str:
    return ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in d.items())


def _warn(loader: str, report: DataQualityReport) -> None:
    parts = []
    if report.excluded:
        parts.append(f"excluded {report.n_excluded:,} of {report.input_rows:,} rows ({_counts_text(report.excluded)})")
    if report.repaired:
        parts.append(f"repaired {_counts_text(report.repaired)}")
    amb = [n for n in report.notes if "AMBIGUOUS" in n]
    parts += amb
    parts += [n.replace("ASSUMED: ", "", 1) for n in report.notes if n.startswith("ASSUMED: ")]
    if parts:
        warnings.warn(
            f"{loader}: {'; '.join(parts)}. See df.attrs['quality'].summary() for examples.",
            DataQualityWarning,
            stacklevel=4,  # _warn -> _finish -> load_* -> the caller
        )


def _source_notes(src: _parse.Source, vendor: str, res: _detect.Resolution | None = None) -> list[str]:
    notes = [f"{src.name}: " + (res.describe() if res is not None else f"layout {V.VENDOR_LABELS[vendor]}")]
    if src.kind == "csv":
        notes[0] += f", encoding {src.encoding}, delimiter {src.delimiter!r}"
    return notes + [f"{src.name}: {n}" for n in src.notes]


_PLAIN_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$")
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _reader_types(src: _parse.Source, hints: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
    """Columns the CSV reader can convert itself, judged from the values in the file's first 256 KB.

    Only plain ISO dates and plain numbers qualify (what Arrow's reader parses
    exactly); anything else stays text for the loaders' own detection.  If a
    later value disagrees, :meth:`Source.read` reads the file again as text.
    """
    out = {}
    for col, typ in hints.items():
        if pa.types.is_dictionary(typ):
            out[col] = typ  # any text fits a dictionary column
            continue
        vals = src.peek_values(col)
        if len(vals) < 20:
            continue
        pattern = _PLAIN_ISO if pa.types.is_timestamp(typ) else _PLAIN_NUMBER
        if all(pattern.match(v) for v in vals):
            out[col] = typ
    return out


def _read(src: _parse.Source, cols: list[str], types: dict | None = None) -> tuple[pa.Table, _Rows]:
    table = src.read(cols, types)
    rows = _Rows(table.num_rows + len(src.malformed_text), src.name)
    if src.malformed_text:
        # ragged rows were skipped by the reader: they are input rows, excluded for a reason
        pad = len(src.malformed_text)
        table = pa.concat_tables([table, pa.table({c: pa.array([""] * pad, pa.large_string()) for c in table.column_names},
                                                  schema=table.schema) if _all_text(table) else
                                  _empty_like(table, pad)])  # fmt: skip
        mask = np.zeros(rows.n, bool)
        mask[-pad:] = True
        rows.exclude(mask, "malformed_row", np.array([""] * (rows.n - pad) + src.malformed_text, dtype=object))
    return table, rows


def _all_text(table: pa.Table) -> bool:
    return all(pa.types.is_string(t) or pa.types.is_large_string(t) for t in table.schema.types)


def _empty_like(table: pa.Table, n: int) -> pa.Table:
    return pa.table({c: pa.nulls(n, t) for c, t in zip(table.column_names, table.schema.types)}, schema=table.schema)


# ======================================================================= activities
def load_activities(
    source: Any,
    *,
    crm: CRM = "auto",
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    activity_type: str | Sequence[str | None] | None = None,
    type_map: Mapping[str, str] | None = None,
    outcome_map: Mapping[str, str] | None = None,
    users: Any = None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int = 0,
) -> pd.DataFrame:
    """Load an activity export (calls, emails, meetings ...) into the canonical layout.

    Parameters
    ----------
    source : path, DataFrame, or list of them
        CSV, TSV, ``.csv.gz``, XLSX or Parquet export(s).  Several inputs are
        stacked in the order given (for example HubSpot's separate calls,
        meetings and emails exports).
    crm : {"auto", "salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "close", "generic"}, default="auto"
        Export layout; ``"auto"`` detects it from the headers of each input.
    columns : dict, optional
        Canonical name -> export header, overriding the detected mapping,
        e.g. ``{"rep": "Owner Name", "timestamp": "Completed"}``.
    dayfirst : bool, optional
        Day/month order used only when the dates cannot tell (no day above
        12).  By default the data decide; ambiguous columns are read
        month-first (day-first for dotted ``d.m.Y`` dates, the German-style
        convention) with a warning naming this argument.
    date_format : str, optional
        strftime format of the date column (skips detection).
    activity_type : str or list, optional
        Activity type of every row (or one per input) when the export has no
        type column, e.g. ``"call"``.  Overrides the type column when given.
    type_map : dict, optional
        Merge types on purpose: source value -> type, e.g. ``{"Demo": "meeting"}``.
        Without it every activity type is kept as the source names it
        (normalised for case, plural and vendor codes: ``CALL``, ``calls``,
        ``Phone call`` are ``call``; ``demo`` stays ``demo``); the quality
        report lists each source value -> type with its rows.
    outcome_map : dict, optional
        What outcome values the vocabulary does not know mean: source value ->
        outcome, e.g. ``{"Gatekeeper": "no_answer", "Spoke - callback":
        "connected"}``.  Without it such a value is kept as its own outcome
        in snake_case; a call or meeting carrying one counts as an activity
        but not as a connected call / held meeting (the quality metrics), and
        a warning lists those values with their rows.  The quality report
        lists the outcomes of every type with their rows.
    users : path or DataFrame, optional
        Owner id -> name table (a Salesforce ``User`` export, HubSpot
        owners) for exports whose owner column holds ids (``OwnerId``,
        ``hubspot_owner_id``); ids not in it are kept as they are.
    encoding, sep : str, optional
        Text encoding and delimiter; detected by default (UTF-8, UTF-8 BOM,
        cp1252; comma, semicolon, tab, pipe).
    sheet_name : str or int, default=0
        Sheet of an Excel workbook.

    Returns
    -------
    pandas.DataFrame
        One row per activity, in input order, with columns:

        * ``rep`` : category — who did it (name, or owner id in API exports).
        * ``timestamp`` : datetime64 — when (UTC when the export has offsets).
        * ``activity_type`` : category — ``call``, ``email``, ``meeting``,
          ``linkedin``, ``task``, ``note``, ``sms``, or the export's own type
          in snake_case.
        * ``activity_id`` : str — the export's record id (missing if none).
        * ``deal_id`` : str — related deal / opportunity (missing if none).
        * ``account`` : str — company / account (missing if none).
        * ``outcome`` : category — ``connected``, ``no_answer``, ``voicemail``,
          ``busy``, ``wrong_number`` (calls); ``held``, ``no_show``,
          ``canceled``, ``rescheduled``, ``scheduled`` (meetings); ``sent``,
          ``received`` (emails); other values in snake_case; missing if unknown.
        * ``duration_min`` : float — duration in minutes (NaN if none).

        ``df.attrs["quality"]`` is the :class:`DataQualityReport`.

        The three ``category`` columns hold a few distinct values over what
        can be millions of rows, so they are pandas categoricals (sorted
        ``str`` categories, only values some row uses): an eighth of the
        memory of text, and no string is built per row while loading.  They
        compare, filter and group like text; to write a value that is not
        yet a category, go through text first, e.g.
        ``acts["rep"] = acts["rep"].astype("str").replace({"Bob": "Robert"})``.

    Raises
    ------
    FileNotFoundError
        A path does not exist.
    SchemaError
        No rep or date column could be found, or ``columns=`` names a header
        the file does not have.
    DateParseError
        The date column is not in one consistent format.
    FileFormatError
        The file cannot be read (type, encoding, delimiter).
    DataQualityError
        Every row was excluded.

    Warns
    -----
    DataQualityWarning
        Once, with counts, when rows are excluded, dates are ambiguous, or
        calls / meetings carry outcome values the vocabulary does not know.

    Notes
    -----
    Duplicate rows (the rule of :mod:`salesgoals._duplicates`, which the
    DuckDB engine of :func:`salesgoals.panel.panel_for` follows too): rows
    are compared on every column above, a missing value equal to a missing
    value, "earlier" meaning input order.  With an activity id, the first
    row of each ``(activity_type, activity_id)`` is kept; a later identical
    row is excluded as ``duplicate_row``, a later row with other values as
    ``duplicate_id``.  Rows without an id that are identical to an earlier
    one are excluded as ``duplicate_row`` when the timestamps carry a time of
    day (one activity exported twice), and kept, counted in a note, when the
    export has dates only (two calls of one rep on one day look alike).

    Examples
    --------
    >>> import pandas as pd
    >>> export = pd.DataFrame({
    ...     "Activity assigned to": ["Ana Lee", "Ben Ode"],
    ...     "Activity date": ["03/14/2024 09:30 AM", "03/15/2024 02:00 PM"],
    ...     "Call outcome": ["Connected", "Left voicemail"],
    ...     "Call duration": ["00:05:30", "00:00:40"],
    ... })
    >>> acts = load_activities(export)
    >>> acts[["rep", "activity_type", "outcome"]].values.tolist()
    [['Ana Lee', 'call', 'connected'], ['Ben Ode', 'call', 'voicemail']]
    >>> float(acts["duration_min"].iloc[0])
    5.5
    >>> acts.attrs["quality"].crm
    ['hubspot']
    """
    loader = "load_activities"
    sources = _as_sources(source)
    types = activity_type if isinstance(activity_type, (list, tuple)) else [activity_type] * len(sources)
    if len(types) != len(sources):
        raise ValueError(f"{loader}: activity_type has {len(types)} entries for {len(sources)} inputs.")
    tmap = {V.norm_value(k): str(v) for k, v in (type_map or {}).items()}
    omap = _outcome_map(outcome_map)
    frames, reports = [], []
    for src_obj, forced in zip(sources, types):
        src = _open(src_obj, loader, encoding, sep, sheet_name)
        res = _resolve(src, V.ACTIVITY_ALIASES, crm, columns, ACTIVITY_COLUMNS, loader, V.ACTIVITY_WORDS,
                       ACTIVITY_REQUIRED)
        vendor, mapping = res.vendor, res.mapping
        hint = _type_hint(src.headers)
        missing = [c for c in ACTIVITY_REQUIRED if c not in mapping]
        if "activity_type" in missing and (forced or hint or _find(src.headers, _SUBJECT_COLUMNS)):
            missing.remove("activity_type")
        if missing:
            extra = ", or activity_type='call'" if "activity_type" in missing else ""
            raise _missing_error(loader, src.name, vendor, missing, V.ACTIVITY_ALIASES, src.headers, extra)
        time_col = _find(src.headers, _TIME_COLUMNS.get(vendor, []), set(mapping.values()))
        subj_col = _find(src.headers, _SUBJECT_COLUMNS, set(mapping.values()))
        used = set(mapping.values()) | {time_col, subj_col}
        fallback_col = None if columns and "outcome" in columns else _find(
            src.headers, V.OUTCOME_FALLBACK.get(vendor, []), used)  # fmt: skip
        extra_cols = [c for c in (time_col, subj_col, fallback_col) if c]
        hints = {}
        if time_col is None and date_format is None:
            hints[mapping["timestamp"]] = pa.timestamp("us")
        if "duration_min" in mapping:
            hints[mapping["duration_min"]] = pa.float64()
        for col in (mapping["rep"], mapping.get("activity_type"), mapping.get("outcome"), fallback_col):
            if col is not None:  # few distinct values: let the reader dictionary-encode them
                hints[col] = pa.dictionary(pa.int32(), pa.string())
        table, rows = _read(src, [*mapping.values(), *extra_cols], _reader_types(src, hints))
        notes = _source_notes(src, vendor, res)
        frame, counts = _activities_frame(table, mapping, vendor, rows, src.name, loader, dayfirst, date_format,
                                          forced, hint, (tmap, omap), time_col, subj_col, fallback_col, notes)  # fmt: skip
        frames.append(frame)
        reports.append({"name": src.name, "vendor": vendor, "mapping": dict(mapping), "rows": rows,
                        "notes": notes, "furniture": dict(src.furniture), "origin": dict(res.origin),
                        "counts": counts})  # fmt: skip
    out = _finish(loader, frames, reports, ACTIVITY_COLUMNS, None, "duplicate_id",
                  after_dedup=_exclude_activity_duplicates)
    if reports[0].get("weekly") is not None and users is None:
        remember_counts(out, reports[0]["weekly"])  # build_panel(out, freq="W") need not count the rows again
    return _apply_users(out, users, loader)


def _type_hint(headers: list[str]) -> str | None:
    keys = _header_keys(headers)
    for key, typ in V.TYPE_HINTS:
        if key in keys:
            return typ
    return None


def _canon_type(v: str | None, tmap: Mapping[str, str]) -> str | None:
    """Type of a source value: ``type_map`` > a spelling of a known type > the value itself in snake_case, singular."""
    if v is None or not str(v).strip():
        return None
    k = V.norm_value(v)
    if k in tmap:
        return tmap[k]
    if k in V.TYPE_VALUES:
        return V.TYPE_VALUES[k]
    if k.endswith("s") and k[:-1] in V.TYPE_VALUES:
        return V.TYPE_VALUES[k[:-1]]
    slug = _slug(v)
    if len(slug) > 3 and slug.endswith("s") and not slug.endswith(("ss", "us", "is")):
        slug = slug[:-1]  # 'Demos' and 'demo' are one type
    return slug


def _note_types(raw: Mapping[str | None, int], tmap, name: str, col: str, notes: list[str]) -> None:
    """Say what each source type value became, with its rows (the quality report's ``types`` line)."""
    parts = [f"{v!r} -> {_canon_type(v, tmap) or '(blank: filled)'} ({k:,})" for v, k in
             sorted(raw.items(), key=lambda kv: (-kv[1], str(kv[0])))]  # fmt: skip
    notes.append(f"{name}: activity types from {col!r} (source value -> type (rows)): " + ", ".join(parts))


def _activities_frame(table, mapping, vendor, rows, name, loader, dayfirst, date_format, forced, hint, maps,
                      time_col, subj_col, fallback_col, notes) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The canonical activities of one input, and the rows per code of its categorical columns.

    ``maps`` is ``(type_map, outcome_map)``, keys normalised.
    """
    # Arrow end to end: the activity log is the big input (10M+ rows), so no
    # Python objects per row; vocabularies are mapped per distinct value.
    n = table.num_rows
    # Two threads (Arrow and numpy release the GIL), about even: this one maps the type and outcome
    # columns, the other parses the dates and converts the plain columns; the rep is coded on the
    # lighter side (the plain side's when the export has only a rep, a time and a type, as lean
    # exports do).  Rows are excluded afterwards, in a fixed order (the first reason of a row wins).
    ts_col = mapping["timestamp"]
    plain_cols = ("activity_id", "deal_id", "account", "duration_min")
    rep_aside = time_col is None and not any(c in mapping for c in plain_cols)
    with ThreadPoolExecutor(1) as pool:
        side = pool.submit(_plain_columns, table, mapping, vendor, n, ts_col, time_col, name, loader, dayfirst,
                           date_format)  # fmt: skip
        side_rep = pool.submit(_rep_column, table, mapping) if rep_aside else None  # after the plain columns
        if side_rep is None:
            rep, rep_counts = _rep_column(table, mapping)
        coded = _coded_columns(table, mapping, n, name, forced, hint, maps, subj_col, fallback_col, notes)
        plain = side.result()
        if side_rep is not None:
            rep, rep_counts = side_rep.result()
    atype = coded["activity_type"]
    if rep_counts[-1]:
        rows.exclude(rep.codes < 0, "missing_rep")
    notes.extend(plain["notes"])
    _exclude_dates(rows, plain["date_source"], plain["columns"]["timestamp"], plain["bad_dates"],
                   "missing_timestamp", "unparseable_timestamp")  # fmt: skip
    if coded["non_activities"]:
        non_act = np.array([v in _NON_ACTIVITIES for v in atype.categories] + [False])[atype.codes]
        rows.exclude(non_act, "not_an_activity", atype)
    columns = {**coded, **plain["columns"], "rep": rep}
    # the arrays are fresh; a copy would double the peak memory of a big log
    frame = pd.DataFrame({c: columns[c] for c in ACTIVITY_COLUMNS}, copy=False)
    return frame, {**coded["counts"], "rep": rep_counts}


def _plain_columns(table: pa.Table, mapping: Mapping[str, str], vendor: str, n: int, ts_col: str,
                   time_col: str | None, name: str, loader: str, dayfirst, date_format) -> dict[str, Any]:
    """Parse the dates and convert the id, deal, account and duration columns.

    No rows are excluded and no notes written here (the notes are returned),
    so this can run on a second thread.
    """
    notes = []
    if time_col is not None:  # a separate time-of-day column (Pipedrive 'Due time')
        d, t = _atext(table, ts_col, n), _atext(table, time_col, n)
        joined = pc.binary_join_element_wise(d, t, pa.scalar(" ", pa.large_string()))
        ts_table = pa.table({ts_col: pc.if_else(t.is_null(), d, joined)})
        notes.append(f"{name}: time of day taken from {time_col!r}")
    else:
        ts_table = table
    ts, bad, note = _date_values(ts_table, ts_col, name, loader, dayfirst, date_format)
    notes.append(note)
    S = _parse.to_str_series
    out = {"timestamp": ts}
    out.update({c: S(_atext(table, mapping.get(c), n)) for c in ("activity_id", "deal_id", "account")})
    if "duration_min" in mapping:
        h = mapping["duration_min"]
        unit = V.DURATION_UNITS.get((vendor, V.norm_header(h)), "s" if "second" in h.lower() else "min")
        out["duration_min"] = np.asarray(_parse.parse_durations(table.column(h), unit)[0], dtype=float)
        if unit != "min":
            notes.append(f"{name}: durations in {h!r} read as {unit}, converted to minutes")
    else:
        out["duration_min"] = np.full(n, np.nan)
    return {"columns": out, "notes": notes, "bad_dates": bad, "date_source": ts_table.column(ts_col)}


def _rep_column(table: pa.Table, mapping: Mapping[str, str]) -> tuple[pd.Categorical, np.ndarray]:
    """The rep as a categorical (each distinct value trimmed once) and its rows per code (last: missing)."""
    return _parse.categorize(_araw(table, mapping["rep"]), _clean_value)


def _coded_columns(table, mapping, n, name, forced, hint, maps, subj_col, fallback_col, notes) -> dict[str, Any]:
    """activity_type and outcome as categoricals, and whether any row is not an activity."""
    tmap, omap = maps
    # each distinct value is cleaned or mapped once: no string is materialised per row
    # ---- activity type: forced > type column > subject prefix > header hint
    if forced:
        atype, counts = _parse.categorize(pa.nulls(n, pa.string()), lambda v: _canon_type(forced, tmap))
    else:
        atype = counts = None
        if "activity_type" in mapping:
            # raw column: the mapping trims and treats blanks per distinct value, no per-row cleaning
            atype, counts, raw = _parse.categorize_counting(_araw(table, mapping["activity_type"]),
                                                            lambda v: _canon_type(v, tmap))  # fmt: skip
            _note_types(raw, tmap, name, mapping["activity_type"], notes)
        if atype is None or counts[-1]:
            filled = _fill_types(table, mapping, atype, n, subj_col, hint, tmap, name, notes)
            atype, counts = _parse.categorize(filled)
    non_activities = _parse.rows_with(counts, list(atype.categories), lambda v: v in _NON_ACTIVITIES)

    # ---- outcome, normalised per distinct (type, value) combination; emails without one were sent
    cols = [h for h in (mapping.get("outcome"), fallback_col) if h is not None]
    raw_outcomes = [_araw(table, h) for h in cols]
    outcome, outcome_counts = _map_outcomes(atype, raw_outcomes, omap, counts)
    if cols:
        _note_outcomes(atype, outcome, raw_outcomes, omap, name, cols, notes)
    return {"activity_type": atype, "outcome": outcome, "non_activities": non_activities,
            "counts": {"activity_type": counts, "outcome": outcome_counts}}  # fmt: skip


def _clean_value(v: str | None) -> str | None:
    """Trim a text value; blank is missing (what :func:`_parse.clean_text` does per row)."""
    v = None if v is None else v.strip()
    return v or None


def _fill_types(table, mapping, types, n, subj_col, hint, tmap, name, notes) -> pa.ChunkedArray:
    """Activity types where the type column is missing or blank: subject prefix > header hint > 'task'."""
    if types is None:
        atype = pa.chunked_array([pa.nulls(n, pa.large_string())])
    else:
        atype = pa.chunked_array([pa.array(types.astype(object), type=pa.large_string(), from_pandas=True)])
    if subj_col is not None and atype.null_count:
        first_word = pc.extract_regex(_atext(table, subj_col, n), r"^\s*(?P<w>[A-Za-z-]+)")
        words = pc.struct_field(first_word, "w")
        from_subj = _parse.map_text(
            words, lambda v: tmap.get(V.norm_value(v), V.TYPE_VALUES.get(V.norm_value(v))) if v else None
        )
        atype = pc.coalesce(atype, from_subj)
    if hint and atype.null_count:
        atype = pc.coalesce(atype, pa.scalar(hint))
    if atype.null_count and "activity_type" not in mapping and hint is None:
        atype = pc.coalesce(atype, pa.scalar("task"))
        notes.append(f"{name}: activity type not found for some rows; labelled 'task'")
    return pc.coalesce(atype, pa.scalar("other"))


#: Largest number of (type, raw outcome...) combinations mapped up front, before looking at the rows.
_MAX_OUTCOME_COMBOS = 4096


def _map_outcomes(types: pd.Categorical, columns: list[pa.ChunkedArray],
                  omap: Mapping[str, str], type_counts: np.ndarray | None = None) -> tuple[pd.Categorical, np.ndarray]:
    """Canonical outcome of every row from its activity type and up to two raw outcome columns, and its rows per code.

    The first column's outcome wins, then the second's (a vendor fallback);
    an email with neither was ``sent``.  The mapping runs once per distinct
    combination of type and raw values, never per row: each row's
    combination is one small integer built from the type's code and the
    columns' dictionary indices, block by block of the Arrow chunks (the
    temporaries stay in cache), then looked up.  ``type_counts`` (rows per type code, the last for a missing
    type), when given, count the outcomes of an export without an outcome column (no pass over the rows).
    """
    if not columns:  # no outcome column (a lean export): an email was sent, other outcomes are unknown
        lut = np.array([0 if t == "email" else -1 for t in types.categories] + [-1], dtype=np.int8)
        counts = None
        if type_counts is not None and len(type_counts) == len(lut):
            sent = int(type_counts[lut == 0].sum())
            counts = np.array([sent, int(type_counts.sum()) - sent], dtype=np.int64)
        return _parse.from_codes(lut[types.codes], ["sent"], counts=counts)  # code -1 (no type) takes lut[-1]
    encoded = [_parse.dictionary_parts(col) for col in columns]
    choices = [[None, *types.categories], *([None, *values] for values, _, _ in encoded)]  # 0: missing
    sizes = [len(c) for c in choices]
    if np.prod(sizes, dtype=np.float64) > _MAX_OUTCOME_COMBOS:  # many distinct raw values: map the used ones
        return _parse.to_categorical(*_map_outcomes_by_rows(types, columns, omap)), None  # not counted
    labels = [_outcome_of(typ, raws, omap) for typ, *raws in itertools.product(*choices)]
    cats = sorted({v for v in labels if v is not None})
    pos = {c: i for i, c in enumerate(cats)}
    small = np.int8 if len(cats) < 2**7 else np.int16
    combo_code = np.array([pos[v] if v is not None else -1 for v in labels], dtype=small)
    luts = [[np.append(local + 1, 0) for _, local, _ in parts] for _, parts, _ in encoded]  # null index -> 0
    starts = [np.array([p[0] for p in parts]) for _, parts, _ in encoded]
    n = len(types)
    bounds = sorted({0, n, *(int(a) for st in starts for a in st)})
    out = np.empty(n, dtype=small)
    for a, b in zip(bounds[:-1], bounds[1:]):  # segments where every column is in one chunk
        code = types.codes[a:b].astype(np.int32)
        code += 1
        for (_, parts, _), st, lut, size in zip(encoded, starts, luts, sizes[1:]):
            j = int(np.searchsorted(st, a, side="right")) - 1
            first, _, idx = parts[j]
            code *= size
            code += lut[j][idx[a - first : b - first]]
        np.take(combo_code, code, out=out[a:b], mode="clip")
    return _parse.from_codes(out, cats)


def _outcome_of(typ: str | None, raws: Sequence[str | None], omap: Mapping[str, str]) -> str | None:
    """Map one combination to its outcome: the first raw value that maps wins; emails default to sent."""
    for raw in raws:
        r = None if raw is None else _parse.as_label(_canon_outcome(typ, raw, omap))
        if r is not None:
            return r
    return "sent" if typ == "email" else None


def _map_outcomes_by_rows(types: pd.Categorical, columns: list[pa.ChunkedArray],
                          omap: Mapping[str, str]) -> tuple[np.ndarray, list, np.ndarray]:
    """:func:`_map_outcomes` for many distinct raw values: ``(codes, labels, counts)`` over the used combinations."""
    parts = [(types.codes, [None, *types.categories])]  # value of code c at position c + 1
    for col in columns:
        raw, _ = _parse.categorize(col, drop_unused=False)
        parts.append((raw.codes, [None, *raw.categories]))
    sizes = [len(vals) for _, vals in parts]
    combos = int(np.prod(sizes, dtype=np.float64))
    dtype = np.int16 if combos < 2**15 else np.int32 if combos < 2**31 else np.int64  # small: less to move
    code = parts[0][0].astype(dtype)
    code += 1
    for (ci, _), size in zip(parts[1:], sizes[1:]):
        code *= size
        code += ci
        code += 1
    dense = combos <= max(1 << 22, 4 * len(code))
    if dense:
        per_combo = _parse.count_codes(code, combos)[:combos]
        used = np.flatnonzero(per_combo)
        counts = per_combo[used]
    else:  # many distinct raw values in both columns: find the used combinations by sorting
        used, code, counts = np.unique(code, return_inverse=True, return_counts=True)
    lookup: list[Any] = []
    for c in used:  # one call per distinct combination
        idx = np.unravel_index(int(c), sizes)
        lookup.append(_outcome_of(parts[0][1][idx[0]], [vals[k] for (_, vals), k in zip(parts[1:], idx[1:])], omap))
    if dense and len(used) < combos:
        if combos <= 1 << 16:  # few combinations: spread the lookup over all of them, no per-row remap
            full: list[Any] = [None] * combos
            for c, v in zip(used, lookup):
                full[c] = v
            lookup, counts = full, per_combo
        else:
            remap = np.zeros(combos, dtype=code.dtype)
            remap[used] = np.arange(len(used), dtype=code.dtype)
            code = remap[code]
    return code, lookup, np.append(counts, 0)


#: Outcomes the vocabulary produces; any other outcome is a source value kept in snake_case.
KNOWN_OUTCOMES: frozenset[str] = frozenset(V.OUTCOME_VALUES.values()) | {v for v in V.OUTCOME_BY_TYPE.values() if v}

#: Outcome values listed per activity type in the quality report (the most frequent first).
_OUTCOMES_LISTED = 8


def _outcome_map(outcome_map: Mapping[str, str] | None) -> dict[str, str]:
    """``outcome_map`` with normalised keys; every value must be an outcome the quality metrics know."""
    out = {}
    for k, v in (outcome_map or {}).items():
        label = _slug(v)
        if label not in KNOWN_OUTCOMES:
            raise ValueError(
                f"load_activities: outcome_map[{k!r}] = {v!r} is not an outcome salesgoals knows; use one of "
                f"{', '.join(sorted(KNOWN_OUTCOMES))}. (A value left out of outcome_map is kept as its own "
                "outcome in snake_case.)"
            )
        out[V.norm_value(k)] = label
    return out


def _note_outcomes(types: pd.Categorical, outcome: pd.Categorical, raw: list[pa.ChunkedArray],
                   omap: Mapping[str, str], name: str, cols: list[str], notes: list[str]) -> None:
    """The quality report's ``outcomes`` line, and an ``ASSUMED`` note for calls / meetings with unknown outcomes.

    A call whose outcome the vocabulary does not know counts as a call but
    not as a connected one, which moves the connect rate: said with the
    values, their rows and the ``outcome_map`` that would say what they mean.
    """
    n_out = len(outcome.categories) + 1  # code -1 (missing) at 0
    small = np.int32 if (len(types.categories) + 1) * n_out < 2**31 else np.int64  # half the temporary
    code = types.codes.astype(small) + 1
    code *= n_out
    code += outcome.codes
    code += 1
    table = np.bincount(code, minlength=(len(types.categories) + 1) * n_out).reshape(-1, n_out)
    labels = ["(none)", *outcome.categories]
    unknown = [lab not in KNOWN_OUTCOMES for lab in labels]
    unknown[0] = False
    parts = []
    for t, typ in enumerate(types.categories, start=1):
        row = table[t]
        order = [j for j in np.argsort(-row, kind="stable") if row[j]]
        if not order or order == [0]:
            continue
        shown = [f"{labels[j]}{' (not recognised)' if unknown[j] else ''} {row[j]:,}" for j in order[:_OUTCOMES_LISTED]]
        if len(order) > _OUTCOMES_LISTED:
            rest = order[_OUTCOMES_LISTED:]
            shown.append(f"{len(rest)} more values ({int(row[rest].sum()):,})")
        parts.append(f"{typ}: " + ", ".join(shown))
    src = " (then " + repr(cols[1]) + ")" if len(cols) > 1 else ""
    notes.append(f"{name}: outcomes from {cols[0]!r}{src} by activity type (rows): " + "; ".join(parts))
    _note_unknown_outcomes(types, table, labels, unknown, raw, omap, name, notes)


def _note_unknown_outcomes(types, table, labels, unknown, raw, omap, name, notes) -> None:
    """``ASSUMED`` note (warned) naming the unknown outcome values of the types the quality metrics read."""
    metric_words = {typ: (metric, words) for metric, (typ, words) in QUALITY_METRICS.items()}
    cats = list(types.categories)
    hits = [(typ, j, int(table[cats.index(typ) + 1, j])) for typ in metric_words if typ in cats
            for j in np.flatnonzero(unknown) if table[cats.index(typ) + 1, j]]  # fmt: skip
    if not hits:
        return
    spellings: dict[str, list[str]] = {}
    for col in raw:  # the distinct source values (few): which ones became each unknown outcome
        values = pc.unique(pa.concat_arrays([c.dictionary for c in col.chunks])) if pa.types.is_dictionary(
            col.type) else pc.unique(col)  # fmt: skip
        for v in values.to_pylist()[:5000]:
            label = _parse.as_label(_canon_outcome("", v, omap)) if v is not None else None
            if label is not None and label not in KNOWN_OUTCOMES and v not in spellings.setdefault(label, []):
                spellings[label].append(v)
    words = "; ".join(f"{typ} {', '.join(repr(s) for s in spellings.get(labels[j], [labels[j]])[:3])} -> "
                      f"{labels[j]} ({k:,})" for typ, j, k in hits)  # fmt: skip
    counts = {typ: sum(k for t, _, k in hits if t == typ) for typ in metric_words}
    what = " and ".join(f"{k:,} {typ}{'s' if k != 1 else ''}" for typ, k in counts.items() if k)
    metrics = " / ".join(f"{metric_words[typ][0]}" for typ in counts if counts[typ])
    example = next(iter(spellings.get(labels[hits[0][1]], [labels[hits[0][1]]])))
    good = metric_words[hits[0][0]][1][0]
    notes.append(
        f"ASSUMED: {name}: {what} carry outcome values salesgoals does not know ({words}); they count as "
        f"activities but not in {metrics}. If one means {good} (or another known outcome), say so with "
        f"outcome_map={{{example!r}: {good!r}}} (CLI --outcome-map '{example}={good}')"
    )


def _canon_outcome(typ: str | None, raw: str | None, omap: Mapping[str, str] | None = None) -> Any:
    """Outcome of one raw value: ``outcome_map`` > the type's own word > the vocabulary > the value in snake_case."""
    if raw is None or not str(raw).strip():
        return None
    typ = typ or ""
    k = V.norm_value(raw)
    if omap and k in omap:
        return omap[k]
    if (typ, k) in V.OUTCOME_BY_TYPE:
        return V.OUTCOME_BY_TYPE[(typ, k)]
    if k in ("done", "completed", "complete", "true", "1") and typ not in ("meeting", "email"):
        return np.nan
    if k in V.OUTCOME_VALUES:
        return V.OUTCOME_VALUES[k]
    return _slug(raw)


# ======================================================================= deals
def load_deals(
    source: Any,
    *,
    crm: CRM = "auto",
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    stage_map: Mapping[str, str] | None = None,
    status: Literal["won"] | None = None,
    missing_close: str = "exclude",
    as_of: Any = None,
    users: Any = None,
    amount_in_cents: bool | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int = 0,
) -> pd.DataFrame:
    """Load a deal / opportunity export into the canonical layout.

    Won, lost or open comes from, in order: the vendor's status flags
    (Salesforce ``IsWon``/``IsClosed``, HubSpot ``Is Closed Won``), a status
    column (Pipedrive ``Deal - Status``, Dynamics ``Status``, Close
    ``status_type``, generic ``status``), then the stage name (the vendors'
    default stages such as ``Closed Won``, ``closedlost``, plus ``stage_map``).

    Parameters
    ----------
    source : path, DataFrame, or list of them
        CSV, TSV, ``.csv.gz``, XLSX or Parquet export(s).
    crm : {"auto", "salesforce", "hubspot", "pipedrive", "zoho", "dynamics", "close", "generic"}, default="auto"
        Export layout; ``"auto"`` detects it from the headers.
    columns : dict, optional
        Canonical name -> export header, e.g. ``{"amount": "ARR"}``.
    dayfirst : bool, optional
        Day/month order for ambiguous dates (see :func:`load_activities`).
    date_format : str, optional
        strftime format of the date columns.
    stage_map : dict, optional
        Custom stage (or status) names -> ``"won"``, ``"lost"`` or ``"open"``,
        e.g. ``{"Signed": "won", "Churned": "lost"}``.  Without it, when some
        stage is recognisably won, stages that are neither won nor lost by
        name are taken as open (warned, listing them); when none is, one
        error lists every stage with its rows and the ``stage_map`` to write.
        Values of a status column (``status``, ``outcome``) that no
        vocabulary knows follow the same rule; only a deal with neither a
        stage nor a status is excluded (``missing_status``).
        Boolean won / closed columns (``IsWon``, ``is_closed``) win over
        stage names.
    status : {"won"}, optional
        ``"won"``: every deal in the file is won (a closed-won-only export
        with no stage column).
    missing_close : str, default="exclude"
        Won or lost deals without a close date: ``"exclude"`` them (warned
        with the share of wins affected), take the ``"created"`` date, or
        name a column to take it from (e.g. ``"Modified Time"``).
    as_of : date-like, optional
        Export date: deals dated after it are flagged (by default, dates
        well after the bulk of the file's dates).  Suspect dates (closed
        before created, after the export, years from the bulk) are kept,
        counted in ``report.flagged`` and warned.
    users : path or DataFrame, optional
        Owner id -> name table, as in :func:`load_activities`.
    amount_in_cents : bool, optional
        Divide amounts by 100.  Default: for Close exports, True (Close's
        ``value`` field is in cents) unless a ``value_formatted`` column shows
        the values are already in currency units; False for other CRMs.
    encoding, sep, sheet_name
        As in :func:`load_activities`.

    Returns
    -------
    pandas.DataFrame
        One row per deal, in input order, with columns:

        * ``deal_id`` : str — the export's id (``<file>:<row>`` if it has none).
        * ``rep`` : str — deal owner.
        * ``created`` : datetime64 — when the deal was created.
        * ``closed`` : datetime64 — when it was won or lost; NaT while open
          (an open deal's expected close date is not kept).
        * ``status`` : str — ``won``, ``lost`` or ``open``.
        * ``amount`` : float — deal value (0 where the export left it blank,
          counted as repaired); NaN everywhere for an export without amounts
          (``columns={"amount": None}``): revenue is then unavailable, not 0.
        * ``stage`` : str — stage name as exported (missing if none).
        * ``account`` : str — company / account (missing if none).
        * ``currency`` : str — currency code from a currency column or from
          the amount text (``€`` -> ``EUR``); missing if unknown.
        * ``pipeline`` : str — pipeline / record type (missing if none).
        * ``date_issue`` : str — why the deal's dates are suspect, missing
          when they are fine: ``close_before_create``, ``after_export``
          (after ``as_of``, or well after the bulk of the file's dates) or
          ``far_outlier`` (years from the bulk), several joined by ``;``.
          Such deals are kept; each is counted once (after duplicates are
          excluded) in ``report.flagged`` and warned.  The panel window and
          the forecasts' origins follow the bulk of the dates, so one such
          deal does not move them.

        ``df.attrs["quality"]`` is the :class:`DataQualityReport`.

    Raises
    ------
    SchemaError
        No rep, created-date or amount column (the error names the columns
        holding numbers or money), or a bad ``columns=`` entry.
    DataQualityError
        Stage names that are neither a known default nor in ``stage_map``.
    DateParseError, AmountParseError, FileFormatError
        As described in their messages.

    Warns
    -----
    DataQualityWarning
        Once, with counts, when rows are excluded or repaired, stages are
        taken as open, dates are suspect (``date_issue``), or an amount lies
        far above the bulk of the file's amounts (more than 100x the median
        and 6 robust standard deviations on the log scale: kept as exported,
        counted in ``report.flagged["amount_outlier"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> export = pd.DataFrame({
    ...     "Opportunity Owner": ["Ana Lee", "Ben Ode", "Ana Lee"],
    ...     "Opportunity ID": ["006A", "006B", "006C"],
    ...     "Stage": ["Closed Won", "Closed Lost", "Signed"],
    ...     "Amount": ["$1,200.00", "$800.00", "$950.00"],
    ...     "Created Date": ["14/02/2024", "20/02/2024", "01/03/2024"],
    ...     "Close Date": ["28/03/2024", "15/03/2024", "30/03/2024"],
    ... })
    >>> deals = load_deals(export, stage_map={"Signed": "won"})
    >>> deals[["deal_id", "status", "amount"]].values.tolist()
    [['006A', 'won', 1200.0], ['006B', 'lost', 800.0], ['006C', 'won', 950.0]]
    >>> str(deals["closed"].iloc[0].date())
    '2024-03-28'
    """
    loader = "load_deals"
    opts = _DealOptions(dayfirst=dayfirst, date_format=date_format, smap=_check_stage_map(stage_map, loader),
                        all_won=_check_status(status, loader), missing_close=_check_missing_close(missing_close, loader),
                        as_of=None if as_of is None else np.datetime64(pd.Timestamp(as_of), "us"),
                        no_amount=bool(columns) and "amount" in columns and columns["amount"] is None)  # fmt: skip
    frames, reports = [], []
    for src_obj in _as_sources(source):
        src = _open(src_obj, loader, encoding, sep, sheet_name)
        res = _resolve(src, V.DEAL_ALIASES, crm, columns, DEAL_COLUMNS, loader, V.DEAL_WORDS,
                       ("rep", "created", "stage", "amount"))
        cols = _deal_columns(src, res, columns, opts, loader)
        table, rows = _read(src, cols.to_read())
        notes = _source_notes(src, res.vendor, res)
        cents = amount_in_cents
        if cents is None:
            cents = res.vendor == "close" and "amount" in res.mapping and _close_value_in_cents(
                table, res.mapping["amount"], cols.fmt_col)  # fmt: skip
        frame = _deals_frame(table, res.mapping, res.describe(), rows, src.name, loader, opts, cols, cents, notes)
        frames.append(frame)
        reports.append({"name": src.name, "vendor": res.vendor, "mapping": dict(res.mapping), "rows": rows,
                        "notes": notes, "furniture": dict(src.furniture), "origin": dict(res.origin),
                        "has_id": "deal_id" in res.mapping})  # fmt: skip
    out = _finish(loader, frames, reports, DEAL_COLUMNS, ["deal_id"], "duplicate_id",
                  after_dedup=lambda out, reason, reps: _flag_date_issues(out, reason, reps, opts.as_of))
    return _apply_users(out, users, loader)


@dataclass
class _DealOptions:
    dayfirst: bool | None
    date_format: str | None
    smap: dict[str, str]
    all_won: bool
    missing_close: str
    as_of: np.datetime64 | None
    no_amount: bool


@dataclass
class _DealColumns:
    """Headers a deals file is read from beyond the mapping."""

    mapping: dict[str, str]
    close_cols: list[str]
    flag_col: str | None = None
    fmt_col: str | None = None
    won_col: str | None = None
    fill_close_col: str | None = None

    def to_read(self) -> list[str]:
        extra = [self.flag_col, self.fmt_col, self.won_col, self.fill_close_col]
        return list(dict.fromkeys([*self.mapping.values(), *self.close_cols[1:], *[c for c in extra if c]]))


def _deal_columns(src: _parse.Source, res: _detect.Resolution, columns, opts: _DealOptions, loader: str) -> _DealColumns:
    """Close-date candidates, closed flag and helper columns; the errors for what is missing."""
    vendor, mapping, headers = res.vendor, res.mapping, src.headers
    used = set(mapping.values())
    # every close-date candidate (Pipedrive won time / lost time, Close date_won / date_lost)
    close_cols = [mapping["closed"]] if "closed" in mapping else []
    if not (columns and "closed" in columns):
        for a in V.DEAL_ALIASES[vendor].get("closed", []):
            h = _find(headers, [a], used | set(close_cols))
            if h is not None:
                close_cols.append(h)
    cols = _DealColumns(mapping, close_cols)
    cols.flag_col = _find(headers, _closed_flag_names(vendor), used | set(close_cols))
    missing = [c for c in ("rep", "created") if c not in mapping]
    if not opts.all_won and not any(c in mapping for c in ("status", "stage")):
        missing.append("stage")
    if missing:
        extra = ", or status='won' (CLI --all-won) if every deal in the file is won" if "stage" in missing else ""
        raise _missing_error(loader, src.name, vendor, missing, V.DEAL_ALIASES, headers, extra)
    if "amount" not in mapping and not opts.no_amount:
        raise _no_amount_error(src, res, loader)
    cols.fmt_col = _find(headers, ["value_formatted"], used) if vendor == "close" else None
    if not (columns and "amount" in columns):
        cols.won_col = _find(headers, V.WON_AMOUNT.get(vendor, []), used)
    if opts.missing_close not in ("exclude", "created"):
        cols.fill_close_col = _find(headers, [opts.missing_close])
        if cols.fill_close_col is None:
            raise SchemaError(f"{loader}: missing_close={opts.missing_close!r} but {src.name} has no such column. "
                              f"Found: {', '.join(headers[:40])}.")  # fmt: skip
    return cols


def _no_amount_error(src: _parse.Source, res: _detect.Resolution, loader: str) -> SchemaError:
    """No amount column: name the columns that hold numbers or money, and the two ways out."""
    kind = V.DEAL_WORDS["amount"][0]
    taken = set(res.mapping.values())
    cands = [h for h in src.headers if h not in taken and _detect.values_fit(src.sample(h), kind, h)
             and not re.search(r"(^|[^a-z])id$", h.lower())]  # fmt: skip
    found = (f"Columns holding numbers or money: {format_values(cands, 8)}. " if cands
             else "No column holds numbers or money. ")  # fmt: skip
    example = f"columns={{'amount': {cands[0]!r}}}" if cands else "columns={'amount': '<header>'}"
    return SchemaError(
        f"{loader}: no amount column recognised in {src.name} (looked for amount, value, revenue, deal size, "
        f"price ...). {found}Pass {example} (CLI --columns amount=<header>), or columns={{'amount': None}} "
        "(CLI --columns amount=) if the export has no deal values: revenue outcomes are then unavailable, not 0."
    )


def _check_status(status: str | None, loader: str) -> bool:
    if status is None:
        return False
    if str(status).lower() != "won":
        raise ValueError(f"{loader}: status must be None or 'won' (every deal in the file is won); got {status!r}.")
    return True


def _check_missing_close(missing_close: str, loader: str) -> str:
    if not isinstance(missing_close, str) or not missing_close.strip():
        raise ValueError(f"{loader}: missing_close must be 'exclude', 'created' or a column name; "
                         f"got {missing_close!r}.")  # fmt: skip
    return missing_close


def _close_value_in_cents(table: pa.Table, value_col: str, fmt_col: str | None) -> bool:
    """Close stores ``value`` in cents; ``value_formatted`` ("$1,250") tells for sure when present."""
    if fmt_col is None:
        return True
    try:
        v, *_ = _parse.parse_amounts(table.column(value_col), column=value_col, source="")
        f, *_ = _parse.parse_amounts(table.column(fmt_col), column=fmt_col, source="")
    except SalesgoalsError:
        return True
    ok = np.isfinite(v) & np.isfinite(f) & (f > 0)
    if not ok.any():
        return True
    return bool(np.median(v[ok] / f[ok]) > 10)


def _closed_flag_names(vendor: str) -> list[str]:
    """Closed-flag headers to look for: the layout's own first, then every other layout's."""
    names = [*V.CLOSED_FLAGS.get(vendor, []), *V.CLOSED_FLAGS["generic"]]
    return list(dict.fromkeys(names + [a for v in V.CLOSED_FLAGS for a in V.CLOSED_FLAGS[v]]))


def _check_stage_map(stage_map, loader) -> dict[str, str]:
    if stage_map is None:
        return {}
    if not isinstance(stage_map, Mapping):
        raise TypeError(f"{loader}: stage_map must be a dict like {{'Signed': 'won'}}; got {type(stage_map).__name__}.")
    bad = {k: v for k, v in stage_map.items() if str(v).lower() not in DEAL_STATUSES}
    if bad:
        raise ValueError(
            f"{loader}: stage_map values must be 'won', 'lost' or 'open'; got {format_values(list(bad.items()))}."
        )
    return {V.norm_value(k): str(v).lower() for k, v in stage_map.items()}


def _deals_frame(table: pa.Table, mapping: Mapping[str, str], layout: str, rows: _Rows, name: str, loader: str,
                 opts: _DealOptions, cols: _DealColumns, cents: bool, notes: list[str]) -> pd.DataFrame:
    """The canonical deals of one file; ``layout`` is the detection's one line (for error messages)."""
    n = table.num_rows
    rep = _text(table, mapping.get("rep"), n)
    rows.exclude(rep.isna().to_numpy(), "missing_rep")
    created = _dates(table, mapping["created"], name, loader, rows, opts.dayfirst, opts.date_format, notes,
                     required=True, missing_reason="missing_created", bad_reason="unparseable_created")  # fmt: skip
    status, stage = _deal_status(table, mapping, layout, rows, name, loader, opts, cols.flag_col, notes)
    closed = _close_dates(table, cols, status, created, rows, name, loader, opts, notes)
    amount, currency = _deal_amounts(table, mapping, status, rows, name, loader, cents, cols.won_col, notes)

    deal_id = _text(table, mapping.get("deal_id"), n)
    if "deal_id" not in mapping:
        base = name.strip("'")
        numbers = pc.cast(pa.array(np.arange(1, n + 1)), pa.large_string())
        ids = pc.binary_join_element_wise(pa.scalar(base, pa.large_string()), numbers, pa.scalar(":", pa.large_string()))
        deal_id = _parse.to_str_series(pa.chunked_array([ids]))
        notes.append(f"{name}: no deal id column; ids made from file name and row number (exact duplicate rows "
                     "are still found and excluded)")  # fmt: skip
    return pd.DataFrame(
        {
            "deal_id": deal_id.astype("str"),
            "rep": rep.astype("str"),
            "created": created,
            "closed": closed,
            "status": status.astype("str"),
            "amount": amount.astype(float),
            "stage": stage.astype("str"),
            "account": _text(table, mapping.get("account"), n).astype("str"),
            "currency": currency.astype("str").str.upper(),
            "pipeline": _text(table, mapping.get("pipeline"), n).astype("str"),
        }
    )


def _deal_status(table, mapping, layout: str, rows: _Rows, name, loader, opts: _DealOptions, flag_col,
                 notes) -> tuple[pd.Series, pd.Series]:
    """Won / lost / open of every deal: boolean flags > status column > stage name (``stage_map`` first)."""
    n = table.num_rows
    stage = _text(table, mapping.get("stage"), n)
    if opts.all_won:
        notes.append(f"{name}: every deal taken as won (status='won')")
        return pd.Series(np.full(n, "won", dtype=object)), stage
    smap = opts.smap
    status = pd.Series(np.full(n, np.nan, dtype=object))
    status_text = None  # a status vocabulary column's own values (not a true / false flag)
    closed_flag = None
    if flag_col is not None:
        t, known = _parse.parse_bool(table.column(flag_col))
        closed_flag = np.where(known, t, np.nan)
    if "status" in mapping:
        h = mapping["status"]
        if V.norm_header(h) in _WON_FLAGS:
            t, known = _parse.parse_bool(table.column(h))
            won_flag = np.where(known, t, np.nan)
            st = np.where(won_flag == 1, "won", None).astype(object)
            if closed_flag is not None:
                st = np.where((won_flag == 0) & (closed_flag == 1), "lost", st)
                st = np.where((won_flag == 0) & (closed_flag == 0), "open", st)
            status = pd.Series(st).where(pd.notna(pd.Series(st)), np.nan)
        else:
            status_text = _text(table, h, n)
            status = _map_vocab(status_text,
                                lambda v: smap.get(V.norm_value(v), V.STATUS_VALUES.get(V.norm_value(v))))
    elif closed_flag is not None:
        status = pd.Series(np.where(closed_flag == 0, "open", None)).where(lambda s: s.notna(), np.nan)
    from_stage = _map_vocab(stage, lambda v: smap.get(V.norm_value(v), V.STAGE_STATUS.get(V.norm_value(v))))
    if closed_flag is not None:  # the vendor says the deal is closed: an 'open' stage name cannot overrule
        from_stage = from_stage.where(~((closed_flag == 1) & (from_stage == "open")), np.nan)
    status = status.where(status.notna(), from_stage)
    # a value neither won, lost nor open by name, in the stage column or else in the status column,
    # follows the stage rule (open with a note when a won value is recognisable, else one error);
    # only a deal with neither value is excluded as missing status
    label, what = _status_labels(stage, status_text, mapping)
    unknown = status.isna() & label.notna() & pd.Series(rows.keep)
    if unknown.any():
        status = _unknown_stages(status, label, unknown, name, loader, layout, notes, what)
    rows.exclude(status.isna().to_numpy(), "missing_status")
    return status, stage


def _status_labels(stage: pd.Series, status_text: pd.Series | None, mapping) -> tuple[pd.Series, str]:
    """The value that names each deal's outcome (stage, else the status column's) and the words for it."""
    if status_text is None:
        return stage, "stages"
    if "stage" not in mapping:
        return status_text, f"values of the status column {mapping['status']!r}"
    return (stage.where(stage.notna(), status_text),
            f"stages (or, where the stage is empty, values of the status column {mapping['status']!r})")


#: Won-flag headers (normalised): a true / false column, not a status vocabulary.
_WON_FLAGS = frozenset({"iswon", "won", "isclosedwon", "hsisclosedwon", "closedwon", "wonflag"})


def _unknown_stages(status, label, unknown, name, loader, layout: str, notes, what: str = "stages") -> pd.Series:
    """Values that are neither won, lost nor open by name: open when a won deal is recognisable, else one error.

    ``label`` holds each deal's stage (or status value, see :func:`_status_labels`), ``what`` the words
    for them.  ``layout`` is :meth:`Resolution.describe`: the error names the layout detected and the
    header read for each field (values are looked up in every vendor's vocabulary, whatever the layout).
    """
    counts = label[unknown].value_counts(sort=True)
    if (status == "won").any():
        listed = ", ".join(f"{k!r} ({v:,} rows)" for k, v in counts.items())
        notes.append(
            f"ASSUMED: {name}: {int(unknown.sum()):,} deals have {what} not recognised as won or lost, taken as "
            f"open: {listed}. If one means won or lost, pass stage_map={{{counts.index[0]!r}: 'lost', ...}} "
            f"(CLI --stage-map '{counts.index[0]}=lost')"
        )
        return status.where(~unknown, "open")
    every = label.value_counts(sort=True)
    # what each value already means (stage_map or a vendor's vocabulary), from the deals that carry it
    known = status.groupby(label.to_numpy(), sort=False).first()
    spec = ", ".join(f"{k!r}: {known.get(k)!r}" if isinstance(known.get(k), str) else f"{k!r}: 'won'|'lost'|'open'"
                     for k in every.index)
    first_rows = np.flatnonzero(unknown.to_numpy())
    raise DataQualityError(
        f"{loader}: none of the {what} in {name} is recognisable as won by any vendor's stage names, so won, "
        f"lost and open cannot be told apart (detected {layout}). Values: "
        f"{', '.join(f'{k!r} ({v:,} rows)' for k, v in every.items())} "
        f"(first unrecognised: {format_rows(first_rows[:3], label[unknown].iloc[:3].tolist())}). "
        f"Say which outcome each value means with stage_map={{{spec}}} (CLI --stage-map 'Value=won,...'), "
        "or status='won' (CLI --all-won) if every deal in the file is won."
    )


def _close_dates(table, cols: _DealColumns, status: pd.Series, created: np.ndarray, rows: _Rows, name, loader,
                 opts: _DealOptions, notes) -> np.ndarray:
    """Close date of won / lost deals (first readable candidate); the ``missing_close`` policy for the rest."""
    n = table.num_rows
    closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    for h in cols.close_cols:
        v = _dates(table, h, name, loader, _Rows(n, name), opts.dayfirst, opts.date_format, notes, required=False)
        closed = np.where(np.isnat(closed), v, closed)
    is_closed = status.isin(["won", "lost"]).to_numpy()
    missing = is_closed & np.isnat(closed) & rows.keep
    won = (status == "won").to_numpy() & rows.keep
    if missing.any() and opts.missing_close != "exclude":
        if opts.missing_close == "created":
            fill, what = created, "created date"
        else:
            h = cols.fill_close_col
            fill = _dates(table, h, name, loader, _Rows(n, name), opts.dayfirst, opts.date_format, notes,
                          required=False)  # fmt: skip
            what = repr(h)
        rows.repair(missing & ~np.isnat(fill), "close_date_filled_from_" + _slug(what))
        closed = np.where(missing, fill, closed)
        missing = is_closed & np.isnat(closed) & rows.keep
    k_won = int((missing & won).sum())
    if k_won:
        notes.append(
            f"ASSUMED: {name}: {k_won:,} of {int(won.sum()):,} won deals ({k_won / max(int(won.sum()), 1):.0%}) "
            "have no close date and were excluded; pass missing_close='created' (CLI --missing-close created) or "
            "a column such as missing_close='Modified Time' to keep them"
        )
    rows.exclude(is_closed & np.isnat(closed), "closed_without_close_date", _text(table, cols.mapping.get("stage"), n))
    return np.where(is_closed, closed, np.datetime64("NaT")).astype("datetime64[us]")


def _deal_amounts(table, mapping, status, rows: _Rows, name, loader, cents, won_col, notes):
    """Amount and currency; NaN amounts everywhere when the user said the export has none."""
    n = table.num_rows
    currency = _text(table, mapping.get("currency"), n)
    if "amount" not in mapping:
        notes.append(f"{name}: no amount column (columns={{'amount': None}}): amounts are missing (NaN) and "
                     "revenue outcomes unavailable")  # fmt: skip
        return np.full(n, np.nan), currency
    h = mapping["amount"]
    amount, bad, cur_text, info = _parse.parse_amounts(table.column(h), column=h, source=name, loader=loader)
    rows.exclude(bad, "unparseable_amount", table.column(h) if bad.any() else None)
    if cents:
        amount = amount / 100.0
        notes.append(f"{name}: amounts in {h!r} are in cents (divided by 100; amount_in_cents=False to keep)")
    if info.decimal == ",":
        notes.append(f"{name}: amounts in {h!r} use a decimal comma")
    if cur_text is not None:
        currency = currency.where(currency.notna(), cur_text)
    if won_col is not None:
        booked, _b, _c, _i = _parse.parse_amounts(table.column(won_col), column=won_col, source=name, loader=loader)
        use = (status == "won").to_numpy() & np.isfinite(booked)
        amount = np.where(use, booked, amount)
        notes.append(f"{name}: won deals take their amount from {won_col!r}, the others from {h!r}")
    rows.exclude(amount < 0, "negative_amount", table.column(h))
    rows.repair(np.isnan(amount), "missing_amount_set_to_0")
    _flag_amount_outliers(amount, rows, name, h, notes)
    return np.where(np.isnan(amount), 0.0, amount), currency


#: An amount is far above the bulk when it is more than ``AMOUNT_OUTLIER_FACTOR`` times the median of the file's
#: positive amounts and more than ``AMOUNT_OUTLIER_Z`` robust standard deviations (1.4826 x the median absolute
#: deviation) above the median on the log scale: a typo that adds three zeros.  The bulk is measured by medians, so
#: the outlier cannot hide itself by moving it.  Deals are only flagged (kept, counted, warned); on log-normal amounts
#: a false alarm needs a 6-sigma deal (about 1 in 10^9).
AMOUNT_OUTLIER_FACTOR = 100.0
AMOUNT_OUTLIER_Z = 6.0


def _flag_amount_outliers(amount: np.ndarray, rows: _Rows, name: str, col: str, notes: list[str]) -> None:
    """Count and warn deals whose amount is far above the bulk of the file's amounts; they are kept as they are.

    One mistyped amount (three extra zeros) would otherwise become most of a
    rep's won revenue, every forecast's scale and the targets' base without a word.
    """
    pos = rows.keep & (amount > 0)
    if pos.sum() < 20:  # too few amounts to say what the bulk is
        return
    logs = np.log(amount[pos])
    mid = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - mid)))
    med = float(np.exp(mid))
    limit = max(AMOUNT_OUTLIER_FACTOR * med, float(np.exp(mid + AMOUNT_OUTLIER_Z * spread)))
    far = pos & (amount > limit)
    k = int(far.sum())
    if not k:
        return
    rows.flag(far, "amount_outlier")
    first = int(np.argmax(far))
    notes.append(
        f"ASSUMED: {name}: {k:,} deal{'s' if k > 1 else ''} with an amount in {col!r} more than "
        f"{AMOUNT_OUTLIER_FACTOR:g}x the median ({med:,.0f}) and {AMOUNT_OUTLIER_Z:g} robust standard deviations "
        f"above it on the log scale (above {limit:,.0f}), kept as exported (row {first + 1}: {amount[first]:,.2f}); "
        "check for a typo: one such deal sets a rep's won revenue, the forecasts' scale and the targets' base"
    )


#: Without ``as_of=``, a date this long after the 99th percentile of a file's dates is "after the export".
AFTER_EXPORT_GRACE = np.timedelta64(31 * 86_400_000_000, "us")
#: A date further than this from the bulk of a file's dates (its 1st-99th percentile span) is an outlier.
OUTLIER_YEARS = 2.0


def _flag_date_issues(out: pd.DataFrame, reason: np.ndarray, reports: list[dict], as_of) -> None:
    """Add the ``date_issue`` column: date sanity of the deals left after de-duplication, file by file.

    Runs after the duplicates are excluded, so a deal exported twice with a bad
    date is counted once.  Excluded rows get no flag (they are not loaded).
    """
    starts = np.cumsum([0] + [r["rows"].n for r in reports])
    created = out["created"].to_numpy(dtype="datetime64[us]")
    closed = out["closed"].to_numpy(dtype="datetime64[us]")
    issue = np.full(len(out), None, dtype=object)
    for rep, a, b in zip(reports, starts[:-1], starts[1:]):
        issue[a:b] = _date_sanity(created[a:b], closed[a:b], reason[a:b] == 0, rep["rows"], rep["name"], as_of,
                                  rep["notes"])  # fmt: skip
    out["date_issue"] = pd.Series(issue, index=out.index, dtype="str")


def _date_sanity(created: np.ndarray, closed: np.ndarray, keep: np.ndarray, rows: _Rows, name: str, as_of,
                 notes: list[str]) -> np.ndarray:
    """Flag close-before-create, dates after the export and far outliers among the kept deals (counted, warned).

    The export date is ``as_of`` when given; otherwise a date more than
    :data:`AFTER_EXPORT_GRACE` after the 99th percentile of the file's dates
    is taken to lie after the export (one deal dated months after all the
    others), since the bulk of a file ends near its export date.
    Returns each deal's issues joined by ``;`` (None when its dates are fine);
    the counts go to ``rows.flagged`` and the notes, so to the warning.
    """
    dates = np.concatenate([created[keep & ~np.isnat(created)], closed[keep & ~np.isnat(closed)]])
    if dates.size == 0:
        return np.full(created.shape[0], None, dtype=object)
    lo, hi = np.percentile(dates.astype("int64"), [1, 99])
    ref = as_of if as_of is not None else np.datetime64(int(hi), "us") + AFTER_EXPORT_GRACE
    span = np.timedelta64(int(OUTLIER_YEARS * 365.25 * 86_400e6), "us")
    lo_t, hi_t = np.datetime64(int(lo), "us") - span, np.datetime64(int(hi), "us") + span
    has_close = ~np.isnat(closed)
    after = keep & ((created > ref) | (has_close & (closed > ref)))
    far = keep & ((created < lo_t) | (created > hi_t) | (has_close & ((closed < lo_t) | (closed > hi_t)))) & ~after
    checks = (
        (keep & has_close & (closed < created), "close_before_create", "closed before they were created"),
        (after, "after_export",
         f"dated after the export ({str(ref)[:10]}{'' if as_of is not None else ', estimated; pass as_of='})"),
        (far, "far_outlier",
         f"dated more than {OUTLIER_YEARS:g} years from the bulk of the dates ({str(lo_t)[:10]} .. {str(hi_t)[:10]})"),
    )  # fmt: skip
    parts, bits = [], np.zeros(created.shape[0], dtype=np.int8)
    for k, (mask, label, text) in enumerate(checks):
        n = int(mask.sum())
        if n:
            bits |= mask.astype(np.int8) << k
            parts.append(f"{n:,} {text}")
            rows.flag(mask, label)
    if parts:
        notes.append(f"ASSUMED: {name}: deals kept with their dates flagged in 'date_issue': " + "; ".join(parts))
    # every combination of the three issues, looked up by its bits
    labels = [";".join(c[1] for j, c in enumerate(checks) if b >> j & 1) or None for b in range(2 ** len(checks))]
    return np.array(labels, dtype=object)[bits]


# ======================================================================= owner ids -> names
_USER_ID = ["Id", "User ID", "UserId", "user_id", "owner_id", "OwnerId", "hubspot_owner_id", "Owner ID", "id"]
_USER_NAME = ["Name", "Full Name", "full_name", "user_name", "User Name", "owner_name", "Owner Name", "name"]
_USER_FIRST = ["FirstName", "First Name", "first_name", "firstName"]
_USER_LAST = ["LastName", "Last Name", "last_name", "lastName"]


def read_users(source: Any, loader: str = "load_users") -> dict[str, str]:
    """Owner id -> display name from a user table (Salesforce ``User.csv``, HubSpot owners export)."""
    src = _open(source, loader, None, None, 0)
    idc = _find(src.headers, _USER_ID)
    name = _find(src.headers, _USER_NAME, {idc})
    first, last = _find(src.headers, _USER_FIRST), _find(src.headers, _USER_LAST)
    if idc is None or (name is None and first is None and last is None):
        raise SchemaError(f"{loader}: users={src.name} needs an id column (Id, user_id, owner_id ...) and a name "
                          f"(Name, or FirstName + LastName). Found: {', '.join(src.headers[:30])}.")  # fmt: skip
    table, _ = _read(src, [c for c in (idc, name, first, last) if c])
    n = table.num_rows
    ids = _text(table, idc, n)
    if name is not None:
        names = _text(table, name, n)
    else:
        names = (_text(table, first, n).fillna("") + " " + _text(table, last, n).fillna("")).str.strip()
    ok = ids.notna() & names.notna() & (names != "")
    return dict(zip(ids[ok].astype(str), names[ok].astype(str)))


def _apply_users(frame: pd.DataFrame, users: Any, loader: str) -> pd.DataFrame:
    """Replace owner ids in ``rep`` by names; ids the table does not know are kept and counted."""
    if users is None:
        return frame
    table = users if isinstance(users, Mapping) else read_users(users, loader)
    rep = frame["rep"]
    values = rep.cat.categories if isinstance(rep.dtype, pd.CategoricalDtype) else pd.Index(rep.dropna().unique())
    lookup = {v: table.get(str(v), str(v)) for v in values}
    unknown = [v for v in values if str(v) not in table]
    if isinstance(rep.dtype, pd.CategoricalDtype):
        codes, cats = rep.cat.codes.to_numpy(), [lookup[v] for v in rep.cat.categories]
        uniq = sorted(set(cats))
        pos = {c: i for i, c in enumerate(uniq)}
        remap = np.array([pos[c] for c in cats] + [-1], dtype=codes.dtype)
        frame["rep"] = _parse.from_codes(remap[codes], uniq, drop_unused=False)[0]
    else:
        frame["rep"] = rep.map(lookup).astype(rep.dtype)
    q = frame.attrs["quality"]
    q.notes.append(f"owner ids mapped to names from the users table ({len(values) - len(unknown):,} of "
                   f"{len(values):,} ids known" + (f"; unknown kept as ids: {format_values(unknown, 5)}" if unknown
                                                   else "") + ")")  # fmt: skip
    return frame


# ======================================================================= roster
def load_roster(
    source: Any,
    *,
    columns: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: str | int = 0,
) -> pd.DataFrame:
    """Load a roster: who is on which team, under which manager, from when to when.

    Parameters
    ----------
    source : path, DataFrame, or list of them
        CSV, TSV, XLSX or Parquet; headers such as ``Rep``/``Name``,
        ``Team``, ``Manager``/``Reports To``, ``Region``/``Territory``,
        ``Start Date``/``Hire Date``, ``End Date``/``Termination Date``.
    columns : dict, optional
        Canonical name -> header overrides.
    dayfirst, date_format, encoding, sep, sheet_name
        As in :func:`load_activities`.

    Returns
    -------
    pandas.DataFrame
        One row per rep, with columns:

        * ``rep`` : str — as named in the activity and deal exports.
        * ``team``, ``manager``, ``region`` : str — ``"(unassigned)"`` if blank.
        * ``start``, ``end`` : datetime64 — active span; NaT means open-ended.

        ``df.attrs["quality"]`` is the :class:`DataQualityReport`.

    Raises
    ------
    SchemaError
        No rep column.

    Examples
    --------
    >>> import pandas as pd
    >>> roster = load_roster(pd.DataFrame({"Name": ["Ana Lee"], "Team": ["East"], "Hire Date": ["2023-04-01"]}))
    >>> roster.iloc[0][["rep", "team", "manager"]].tolist()
    ['Ana Lee', 'East', '(unassigned)']
    """
    loader = "load_roster"
    table_aliases = {"generic": V.ROSTER_ALIASES}
    frames, reports = [], []
    for src_obj in _as_sources(source):
        src = _open(src_obj, loader, encoding, sep, sheet_name)
        res = _resolve(src, table_aliases, "generic", columns, ROSTER_COLUMNS, loader)
        mapping = res.mapping
        if "rep" not in mapping:
            raise _missing_error(loader, src.name, "generic", ["rep"], table_aliases, src.headers)
        table, rows = _read(src, list(mapping.values()))
        notes = _source_notes(src, "generic")
        n = table.num_rows
        rep = _text(table, mapping["rep"], n)
        rows.exclude(rep.isna().to_numpy(), "missing_rep")
        data: dict[str, Any] = {"rep": rep.astype("str")}
        for c in ("team", "manager", "region"):
            data[c] = _text(table, mapping.get(c), n).fillna(UNASSIGNED).astype("str")
        for c in ("start", "end"):
            data[c] = _dates(table, mapping.get(c), src.name, loader, rows, dayfirst, date_format, notes,
                             required=False) if c in mapping else np.full(n, np.datetime64("NaT"), "datetime64[us]")  # fmt: skip
        frames.append(pd.DataFrame(data)[list(ROSTER_COLUMNS)])
        reports.append({"name": src.name, "vendor": "generic", "mapping": dict(mapping), "rows": rows,
                        "notes": notes, "furniture": dict(src.furniture), "origin": dict(res.origin)})  # fmt: skip
    return _finish(loader, frames, reports, ROSTER_COLUMNS, ["rep"], "duplicate_rep")


# ======================================================================= writing
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, *, float_format: str = "%.10g") -> None:
    """Write a DataFrame as a deterministic, spreadsheet-safe CSV.

    * UTF-8 without BOM, ``\\n`` line endings, columns in frame order, no index.
    * Dates as ISO 8601 (``2024-03-31`` or ``2024-03-31 14:05:00``), periods
      as their string (``2024-03-25/2024-03-31``).
    * Floats with ``float_format`` (10 significant digits by default, so the
      bytes do not depend on platform repr); missing, NaN and inf are written
      as empty cells.
    * Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
      return get a leading ``'`` so a spreadsheet shows them as text instead
      of running them as formulas (OWASP CSV injection); text that is a plain
      number such as ``-12.5`` is left alone.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table to write.
    path : str or path-like
        Destination file.
    float_format : str, default="%.10g"
        printf-style format of float columns.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> df = pd.DataFrame({"rep": ["=HYPERLINK(1)", "Ana"], "x": [-12.5, float("nan")]})
    >>> p = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> write_csv(df, p)
    >>> print(open(p).read(), end="")
    rep,x
    '=HYPERLINK(1),-12.5
    Ana,
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"write_csv: expected a pandas DataFrame; got {type(frame).__name__}.")
    out = {}
    for c in frame.columns:
        s = frame[c]
        if isinstance(s.dtype, pd.PeriodDtype):
            s = s.astype(str).where(s.notna(), "")
        elif pd.api.types.is_datetime64_any_dtype(s):
            has_time = bool(((s.dropna() - s.dropna().dt.normalize()) != pd.Timedelta(0)).any())
            fmt = "%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d"
            s = s.dt.strftime(fmt).astype(object).where(s.notna(), "")
        elif pd.api.types.is_bool_dtype(s):
            s = s.astype(object).map({True: "true", False: "false"}).where(s.notna(), "")
        elif pd.api.types.is_float_dtype(s):
            v = s.astype(float)
            s = pd.Series(np.char.mod(float_format, np.where(np.isfinite(v), v, 0.0)), index=s.index, dtype=object)
            s = s.where(np.isfinite(v), "")
        elif pd.api.types.is_integer_dtype(s):
            s = s.astype(object).where(s.notna(), "").astype(str)
        else:
            t = s.astype(object).where(s.notna(), "").astype(str)
            risky = t.str.startswith(_FORMULA_START) & ~t.str.match(_NUMBER_RE)
            s = t.where(~risky, "'" + t)
        out[c] = s.astype(object)
    safe = pd.DataFrame(out, index=frame.index)
    header = [str(c) for c in frame.columns]
    risky_h = [("'" + h) if h.startswith(_FORMULA_START) else h for h in header]
    safe.columns = risky_h
    safe.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", na_rep="")


def _reason_words(loader: str, reason: str) -> str:
    """Plain words for an exclusion reason: the loader's own, the shared ones, else the key in words."""
    return LOADER_REASONS.get(loader, {}).get(reason) or EXCLUSION_REASONS.get(reason) or reason.replace("_", " ")


def _report_from_dict(fields: dict) -> DataQualityReport:
    """Rebuild a report from its dict view (copy and pickle support)."""
    return DataQualityReport(**fields)
