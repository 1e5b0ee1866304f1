"""Load deal stage histories: when each deal entered each stage.

Stage history is what tells whether a call or meeting *advanced* a deal (see
:mod:`salesgoals.outcomes`).  CRMs keep it in three shapes, all read by
:func:`load_stage_history`:

* **long** -- one row per stage entered: Salesforce ``OpportunityHistory``
  (API: ``OpportunityId, StageName, CreatedDate``; "Opportunity History" report:
  ``Opportunity Name, To Stage, Last Modified``), the Zoho "Stage History" related
  list (``Deal Name, Stage, Modified Time``) and the generic
  ``deal_id, stage, entered`` table;
* **field history** -- one row per field change, stage changes among them:
  Salesforce ``OpportunityFieldHistory`` (``OpportunityId, Field, OldValue,
  NewValue, CreatedDate``; report: ``Field / Event, Old Value, New Value, Edit
  Date``) and Pipedrive's deal change log (``field_key`` ``stage_id``);
* **wide** -- one row per deal and one ``Date entered "<stage> (<pipeline>)"``
  column per stage: HubSpot deal exports (API names
  ``hs_date_entered_<stage id>`` / ``hs_v2_date_entered_<stage id>``).

Pipedrive and Zoho have no stage history in their standard deal exports (only
the *last* stage change time); the shapes above are what their change-log and
related-list exports contain.  The vocabulary (header spellings, field values,
default pipelines) lives in :mod:`salesgoals.io._vendors` with the rest.

The stage order comes from ``stage_order=`` when given, else from the vendor's
default pipeline when every stage of the data belongs to it, else from the data:
stages sorted by their median position in the deals' own sequences (closed won
and closed lost last).

Every input row is loaded or excluded for a counted reason (missing deal id,
missing or unreadable date, another field than the stage, a repeated stage);
the :class:`~salesgoals.io.DataQualityReport` is in ``df.attrs["quality"]``.

Examples
--------
>>> import pandas as pd
>>> import salesgoals as sg
>>> raw = pd.DataFrame({"OpportunityId": ["A", "A", "A", "B"],
...                     "StageName": ["Prospecting", "Needs Analysis", "Closed Won", "Prospecting"],
...                     "CreatedDate": ["2025-01-02", "2025-01-09", "2025-02-01", "2025-01-05"]})
>>> hist = sg.load_stage_history(raw)
>>> hist[["deal_id", "stage", "stage_index", "status"]].to_string(index=False)
'deal_id          stage  stage_index status\\n      A    Prospecting            0   open\\n      A Needs Analysis            2   open\\n      A     Closed Won            8    won\\n      B    Prospecting            0   open'
>>> hist.attrs["stage_order_source"]
'vendor pipeline (Salesforce)'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from salesgoals.errors import DataQualityError, DataQualityWarning, SchemaError, format_values
from salesgoals.io import _parse
from salesgoals.io import _vendors as V
from salesgoals.io._load import LOADER_REASONS, DataQualityReport

__all__ = ["load_stage_history", "STAGE_HISTORY_COLUMNS", "STAGE_HISTORY_REASONS"]

_LOADER = "load_stage_history"

#: Columns of a loaded stage history, in order.
STAGE_HISTORY_COLUMNS: tuple[str, ...] = ("deal_id", "stage", "entered", "stage_index", "status")

#: Why a stage-history row was excluded.
STAGE_HISTORY_REASONS: dict[str, str] = {
    "missing_deal_id": "blank deal / opportunity id",
    "missing_stage": "blank stage",
    "missing_entered": "blank date",
    "unparseable_entered": "date not readable in the column's format",
    "other_field": "field-history row about another field than the stage",
    "created_without_stage": "creation row of a deal whose first stage the file does not say",
    "duplicate_row": "same deal, stage and date as an earlier row",
    "no_stage_change": "same stage as the deal's previous row (an amount or date edit, not a stage entered)",
}
LOADER_REASONS[_LOADER] = STAGE_HISTORY_REASONS  # the quality report's table describes them in these words

_HIST = V.STAGE_HISTORY_ALIASES
_WIDE = [re.compile(p, re.I) for p in V.WIDE_ENTERED_PATTERNS]
_SUFFIX = re.compile(V.WIDE_PIPELINE_SUFFIX)
_KNOWN = frozenset(V.norm_header(a) for spec in _HIST.values() for al in spec.values() for a in al)


def load_stage_history(
    source: Any,
    *,
    crm: str = "auto",
    columns: Mapping[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
    stage_map: Mapping[str, str] | None = None,
    dayfirst: bool | None = None,
    date_format: str | None = None,
    encoding: str | None = None,
    sep: str | None = None,
    sheet_name: Any = 0,
) -> pd.DataFrame:
    """Load a stage-history export into one row per stage a deal entered.

    Parameters
    ----------
    source : path, DataFrame, or list of them
        Salesforce ``OpportunityHistory`` / ``OpportunityFieldHistory`` (API or
        report labels), a HubSpot deals export with ``Date entered`` columns, a
        Zoho "Stage History" or Pipedrive change-log export, or any table with
        ``deal_id, stage, entered`` columns.  CSV, TSV, XLSX or Parquet.
    crm : str, default="auto"
        Layout: ``"auto"`` (detected from the headers), ``"salesforce"``,
        ``"hubspot"``, ``"pipedrive"``, ``"zoho"`` or ``"generic"``.
    columns : dict, optional
        Canonical name -> header, overriding detection: ``deal_id``, ``stage``,
        ``entered`` (long files) or ``field``, ``new_value``, ``old_value``
        (field-history files).
    stage_order : sequence of str, optional
        The pipeline's stages in order.  Every stage of the data must be in it.
        Default: the vendor's default pipeline when it holds every stage, else
        the median order in which deals entered the stages.
    stage_map : dict, optional
        Stage -> ``"won"``, ``"lost"`` or ``"open"`` for custom closed stages
        (the standard spellings such as ``Closed Won`` are known).
    dayfirst, date_format : optional
        How to read ambiguous dates, as in :func:`salesgoals.load_deals`.
    encoding, sep, sheet_name : optional
        File dialect, detected when not given.

    Returns
    -------
    pandas.DataFrame
        One row per stage entered, sorted by deal and date:

        * ``deal_id`` (str): the deal or opportunity id (HubSpot ``Record ID``);
        * ``stage`` (str): the stage entered (HubSpot labels without the
          ``(<pipeline>)`` suffix when that is unambiguous);
        * ``entered`` (datetime64): when the deal entered the stage;
        * ``stage_index`` (int): position of the stage in the stage order (0 first);
        * ``status`` (str): ``open``, ``won`` or ``lost``: what the stage means.

        ``attrs["quality"]`` is the :class:`~salesgoals.io.DataQualityReport`
        (``loaded_rows + excluded == input_rows``), ``attrs["stage_order"]``
        the order used and ``attrs["stage_order_source"]`` where it came from.

    Raises
    ------
    SchemaError
        No deal id, stage or date column (the message lists what was looked
        for and what was found), or a stage missing from ``stage_order``.
    DataQualityError
        No row left after the exclusions.
    """
    if crm not in ("auto", *V.STAGE_HISTORY_ALIASES):
        raise ValueError(f"{_LOADER}: crm must be 'auto' or one of {format_values(list(_HIST), 10)}; got {crm!r}.")
    smap = _check_stage_map(stage_map)
    srcs = list(source) if isinstance(source, (list, tuple)) else [source]
    if not srcs:
        raise ValueError(f"{_LOADER}: no input given: pass a path, a DataFrame or a non-empty list of them.")
    parts, reports, vendors = [], [], []
    for i, src in enumerate(srcs):
        opened = _parse.open_source(src, known=_KNOWN, encoding=encoding, sep=sep, sheet_name=sheet_name)
        frame, report, vendor = _read_one(opened, crm, columns, dayfirst, date_format)
        parts.append(frame.assign(_src=i))
        reports.append(report)
        vendors.append(vendor)
    hist = pd.concat(parts, ignore_index=True)
    hist = _drop_repeats(hist, reports)
    if hist.empty:
        raise DataQualityError(
            f"{_LOADER}: no stage entries left in {', '.join(r.sources[0] for r in reports)} "
            f"(excluded: {_merged(reports).excluded}). Check the columns chosen (see .attrs or columns=)."
        )
    order, how = _stage_order(hist, stage_order, vendors, smap)
    return _finish(hist, order, how, smap, reports)


# ---------------------------------------------------------------------------- one file
def _read_one(src: _parse.Source, crm: str, columns, dayfirst, date_format):
    """Read one opened source in its shape: (frame of deal_id, stage, entered, _row), report, vendor."""
    shape, vendor, mapping = _layout(src, crm, columns)
    report = DataQualityReport(loader=_LOADER, sources=[src.name], crm=[vendor], columns=[dict(mapping)])
    report.furniture = dict(src.furniture)
    report.notes = list(src.notes)
    if shape == "wide":
        frame = _read_wide(src, mapping, report, dayfirst, date_format)
    else:
        table = src.read(list(dict.fromkeys(mapping.values())))
        report.input_rows = table.num_rows
        n = table.num_rows
        reason = np.zeros(n, dtype=object)
        deal = _text(table, mapping["deal_id"])
        entered = _dates(table, mapping["entered"], src.name, dayfirst, date_format, report)
        if shape == "field":
            stage = _field_stages(table, mapping, deal, entered, reason)
        else:
            stage = _text(table, mapping["stage"])
        _mark(reason, deal.isna().to_numpy(), "missing_deal_id")
        _mark(reason, stage.isna().to_numpy(), "missing_stage")
        raw = table.column(mapping["entered"])
        _mark(reason, np.isnat(entered) & _blank(raw), "missing_entered")
        _mark(reason, np.isnat(entered), "unparseable_entered")
        _count(report, reason, src.name, table, mapping)
        keep = reason == 0
        frame = pd.DataFrame({"deal_id": deal[keep].to_numpy(dtype=object), "stage": stage[keep].to_numpy(dtype=object),
                              "entered": entered[keep], "_row": np.flatnonzero(keep)})  # fmt: skip
    return frame, report, vendor


def _layout(src: _parse.Source, crm: str, columns) -> tuple[str, str, dict[str, str]]:
    """Shape (long / field / wide), vendor and canonical -> header mapping of one file."""
    headers = src.headers
    wide = [h for h in headers if _wide_stage(h) is not None]
    if len(wide) >= 2 and crm in ("auto", "hubspot") and not (columns and "stage" in columns):
        vendor = "hubspot"
        mapping = _resolve(headers, vendor, columns, ("deal_id",))
        _require(mapping, ("deal_id",), src, vendor)
        mapping.update({f"entered:{h}": h for h in wide})
        return "wide", vendor, mapping
    vendor = _detect(headers) if crm == "auto" else crm
    mapping = _resolve(headers, vendor, columns, ("deal_id", "stage", "entered", "field", "new_value", "old_value"))
    if "field" in mapping and "new_value" in mapping and not (columns and "stage" in columns):
        mapping.pop("stage", None)
        _require(mapping, ("deal_id", "entered"), src, vendor)
        return "field", vendor, mapping
    for c in ("field", "new_value", "old_value"):
        mapping.pop(c, None)
    _require(mapping, ("deal_id", "stage", "entered"), src, vendor)
    return "long", vendor, mapping


def _detect(headers: list[str]) -> str:
    """Vendor whose own stage-history spellings match most headers (ties: vendor order)."""
    keys = {V.norm_header(h) for h in headers}
    generic = {V.norm_header(a) for al in _HIST["generic"].values() for a in al}
    best, vendor = 0, "generic"
    for v in ("salesforce", "zoho", "pipedrive"):
        own = {V.norm_header(a) for al in _HIST[v].values() for a in al} - generic
        score = len(keys & own)
        if score > best:
            best, vendor = score, v
    return vendor


def _resolve(headers: list[str], vendor: str, columns, canon: Sequence[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for h in headers:
        keys.setdefault(V.norm_header(h), h)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in (_HIST[vendor], _HIST["generic"]):
        for c in canon:
            for alias in spec.get(c, []) if c not in mapping else []:
                h = keys.get(V.norm_header(alias))
                if h is not None and h not in used:
                    mapping[c] = h
                    used.add(h)
                    break
    for c, h in (columns or {}).items():
        if c not in ("deal_id", "stage", "entered", "field", "new_value", "old_value"):
            raise SchemaError(f"{_LOADER}: columns= has an unknown canonical name {c!r}; valid: deal_id, stage, "
                              "entered, field, new_value, old_value.")  # fmt: skip
        hit = h if h in headers else keys.get(V.norm_header(h))
        if hit is None:
            raise SchemaError(f"{_LOADER}: columns={{{c!r}: {h!r}}} but the file has no column {h!r}. "
                              f"Found: {', '.join(headers[:40])}.")  # fmt: skip
        mapping = {k: v for k, v in mapping.items() if v != hit}
        mapping[c] = hit
    return mapping


def _require(mapping: dict[str, str], need: Sequence[str], src: _parse.Source, vendor: str) -> None:
    missing = [c for c in need if c not in mapping]
    if not missing:
        return
    looked = "; ".join(
        f"{c} (looked for: {', '.join(dict.fromkeys([*_HIST[vendor].get(c, []), *_HIST['generic'][c]]))})"
        for c in missing
    )
    raise SchemaError(
        f"{_LOADER}: no {' / '.join(missing)} column in {src.name} (layout: {V.VENDOR_LABELS.get(vendor, vendor)}). "
        f"{looked}. Found: {', '.join(src.headers[:40])}. A stage history needs a deal id, a stage and a date per "
        f"row, a Field/NewValue pair, or HubSpot 'Date entered' columns; pass columns={{...}} to choose."
    )


# ---------------------------------------------------------------------------- values
def _text(table: pa.Table, col: str) -> pd.Series:
    return _parse.to_str_series(_parse.clean_text(table.column(col))).astype(object)


def _blank(raw: pa.ChunkedArray) -> np.ndarray:
    return _parse.text_values(raw).str.strip().fillna("").eq("").to_numpy(dtype=bool)


def _dates(table: pa.Table, col: str, name: str, dayfirst, date_format, report: DataQualityReport) -> np.ndarray:
    values, _bad, info = _parse.parse_dates(table.column(col), column=col, source=name, dayfirst=dayfirst,
                                            date_format=date_format, loader=_LOADER)  # fmt: skip
    fmt = " / ".join(info.formats) if info.formats else "(empty)"
    note = f"{name}: dates in {col!r} read as {fmt}"
    if info.ambiguous and dayfirst is None:
        note += f"; AMBIGUOUS, assumed {'day' if info.dayfirst else 'month'}-first (pass dayfirst= to choose)"
    report.notes.append(note)
    return values


def _mark(reason: np.ndarray, mask: np.ndarray, why: str) -> None:
    """Give rows without a reason yet this one (the first reason wins)."""
    reason[np.asarray(mask, dtype=bool) & (reason == 0)] = why


def _count(report: DataQualityReport, reason: np.ndarray, name: str, table: pa.Table, mapping) -> None:
    whys, counts = np.unique(reason[reason != 0].astype(str), return_counts=True)
    for why, k in zip(whys, counts):
        report.excluded[str(why)] = int(k)
        i = int(np.flatnonzero(reason == why)[0])
        report.examples[str(why)] = f"{name} row {i + 1}"
    report.loaded_rows = int((reason == 0).sum())


def _field_stages(table: pa.Table, mapping, deal: pd.Series, entered: np.ndarray, reason: np.ndarray) -> pd.Series:
    """Stage entered per field-history row: NewValue of stage rows, the first OldValue for creation rows."""
    raw_field = _text(table, mapping["field"])
    codes, uniques = pd.factorize(raw_field)  # few distinct field names
    field = pd.Series(np.array([V.norm_value(u) for u in uniques] + [None], dtype=object)[codes])
    new = _text(table, mapping["new_value"])
    is_stage = field.isin(V.STAGE_FIELD_VALUES).to_numpy()
    is_created = field.isin(V.CREATED_FIELD_VALUES).to_numpy()
    stage = new.where(is_stage, np.nan)
    if is_created.any() and "old_value" in mapping:
        old = _text(table, mapping["old_value"])
        changes = pd.DataFrame({"deal_id": deal, "t": entered, "old": old})[is_stage & deal.notna().to_numpy()]
        first_old = changes.sort_values("t", kind="mergesort").groupby("deal_id", sort=False)["old"].first()
        stage = stage.where(~is_created, deal.map(first_old))
    _mark(reason, ~(is_stage | is_created), "other_field")
    _mark(reason, is_created & stage.isna().to_numpy(), "created_without_stage")
    return stage


def _wide_stage(header: str) -> str | None:
    for pat in _WIDE:
        m = pat.match(str(header))
        if m:
            return m.group(1).strip()
    return None


def _read_wide(src: _parse.Source, mapping, report: DataQualityReport, dayfirst, date_format) -> pd.DataFrame:
    """HubSpot ``Date entered <stage>`` columns -> one row per non-blank cell (a stage entered)."""
    cols = [h for k, h in mapping.items() if k.startswith("entered:")]
    table = src.read([mapping["deal_id"], *cols])
    n, k = table.num_rows, len(cols)
    labels = _wide_labels(cols)
    deal = _text(table, mapping["deal_id"]).to_numpy(dtype=object)
    dates = np.empty((n, k), dtype="datetime64[us]")
    blank = np.empty((n, k), dtype=bool)
    for j, c in enumerate(cols):  # one pass per stage column, vectorised over deals
        dates[:, j] = _dates(table, c, src.name, dayfirst, date_format, report)
        blank[:, j] = _blank(table.column(c))
    cell = ~blank.ravel()
    reason = np.zeros(n * k, dtype=object)
    _mark(reason, pd.isna(np.repeat(deal, k)), "missing_deal_id")
    _mark(reason, np.isnat(dates.ravel()), "unparseable_entered")
    reason = reason[cell]
    report.input_rows = int(cell.sum())
    report.notes.append(f"{src.name}: wide HubSpot layout, {n:,} deals x {k} 'Date entered' columns; "
                        f"{int(blank.sum()):,} blank cells are stages a deal never entered (not rows)")  # fmt: skip
    whys, counts = np.unique(reason[reason != 0].astype(str), return_counts=True)
    rows = np.repeat(np.arange(n), k)[cell]
    for why, c in zip(whys, counts):
        report.excluded[str(why)] = int(c)
        report.examples[str(why)] = f"{src.name} row {int(rows[np.flatnonzero(reason == why)[0]]) + 1}"
    keep = reason == 0
    report.loaded_rows = int(keep.sum())
    return pd.DataFrame({"deal_id": np.repeat(deal, k)[cell][keep], "stage": np.tile(labels, n)[cell][keep],
                         "entered": dates.ravel()[cell][keep], "_row": rows[keep]})  # fmt: skip


def _wide_labels(cols: list[str]) -> np.ndarray:
    """Stage of each wide column: the label without ``(<pipeline>)`` unless two pipelines share it."""
    full = [_wide_stage(c) for c in cols]
    short = []
    for s in full:
        m = _SUFFIX.match(s)
        short.append(m.group(1) if m else s)
    seen = pd.Series(short).duplicated(keep=False).to_numpy()
    return np.array([f if dup else s for f, s, dup in zip(full, short, seen)], dtype=object)


# ---------------------------------------------------------------------------- all files
def _drop_repeats(hist: pd.DataFrame, reports: list[DataQualityReport]) -> pd.DataFrame:
    """Exclude exact repeats and rows that re-state the deal's current stage."""
    hist = hist.sort_values(["deal_id", "entered", "_src", "_row"], kind="mergesort").reset_index(drop=True)
    dup = hist.duplicated(["deal_id", "stage", "entered"]).to_numpy()
    same_deal = hist["deal_id"].eq(hist["deal_id"].shift()).to_numpy()
    repeat = same_deal & hist["stage"].eq(hist["stage"].shift()).to_numpy() & ~dup
    # a repeat of a duplicate's stage is judged against the row before the duplicate
    for why, mask in (("duplicate_row", dup), ("no_stage_change", repeat)):
        if not mask.any():
            continue
        per_src = np.bincount(hist["_src"].to_numpy()[mask], minlength=len(reports))
        for i, k in enumerate(per_src):
            if k:
                r = reports[i]
                r.excluded[why] = r.excluded.get(why, 0) + int(k)
                r.loaded_rows -= int(k)
                first = hist.loc[mask & (hist["_src"].to_numpy() == i), "_row"].iloc[0]
                r.examples.setdefault(why, f"{r.sources[0]} row {int(first) + 1}")
    return hist.loc[~(dup | repeat)].reset_index(drop=True)


def _check_stage_map(stage_map) -> dict[str, str]:
    if stage_map is None:
        return {}
    if not isinstance(stage_map, Mapping):
        raise TypeError(f"{_LOADER}: stage_map must be a dict like {{'Signed': 'won'}}; got {type(stage_map).__name__}.")
    bad = {k: v for k, v in stage_map.items() if v not in ("won", "lost", "open")}
    if bad:
        raise ValueError(f"{_LOADER}: stage_map values must be 'won', 'lost' or 'open'; got {bad}.")
    return {V.norm_value(k): v for k, v in stage_map.items()}


def _status_of(stages: pd.Series, smap: dict[str, str]) -> pd.Series:
    """``stage_map`` first, then the known spellings (``Closed Won`` ...); anything else is open."""
    codes, uniques = pd.factorize(stages.to_numpy(dtype=object))
    keys = [V.norm_value(u) for u in uniques]  # few distinct stages
    status = np.array([smap.get(k) or V.STAGE_STATUS.get(k) or V.HISTORY_STAGE_STATUS.get(k) or "open"
                       for k in keys], dtype=object)  # fmt: skip
    return pd.Series(status[codes], index=stages.index)


def _stage_order(hist: pd.DataFrame, given, vendors: list[str], smap) -> tuple[list[str], str]:
    """Stage order: given, a vendor's default pipeline holding every stage, or the median entry order."""
    stages = pd.unique(hist["stage"])
    if given is not None:
        given = [str(s) for s in given]
        unknown = sorted(set(stages) - set(given))
        if unknown:
            rows = hist.index[hist["stage"].isin(unknown)][:5] + 1
            raise SchemaError(
                f"{_LOADER}: stage_order does not list {format_values(unknown)} (first rows of the loaded history: "
                f"{', '.join(map(str, rows))}). Add them to stage_order, or leave stage_order=None to take the "
                "order from the data."
            )
        return given, "given"
    keys = {V.norm_value(s) for s in stages}
    for v in dict.fromkeys([*vendors, "salesforce", "hubspot", "hubspot_ids", "pipedrive", "zoho"]):
        pipe = V.DEFAULT_PIPELINES.get(v)
        if pipe and keys <= {V.norm_value(s) for s in pipe}:
            spelled = {V.norm_value(s): s for s in stages}  # the whole pipeline, in the data's spelling
            label = V.VENDOR_LABELS.get(v.replace("_ids", ""), v)
            return [spelled.get(V.norm_value(s), s) for s in pipe], f"vendor pipeline ({label})"
    return _median_order(hist, smap), "data (median entry order)"


def _median_order(hist: pd.DataFrame, smap) -> list[str]:
    """Open stages by the median position at which deals first entered them; then won, then lost."""
    first = hist.drop_duplicates(["deal_id", "stage"])
    pos = first.groupby("deal_id", sort=False).cumcount()
    status = _status_of(first["stage"], smap)
    closed_rank = status.map({"open": 0, "won": 1, "lost": 2}).to_numpy()
    med = pd.DataFrame({"stage": first["stage"].to_numpy(), "pos": pos.to_numpy(), "closed": closed_rank})
    agg = med.groupby("stage").agg(closed=("closed", "first"), pos=("pos", "median"), n=("pos", "size"))
    agg = agg.reset_index().sort_values(["closed", "pos", "n", "stage"], ascending=[True, True, False, True],
                                        kind="mergesort")  # fmt: skip
    return agg["stage"].tolist()


def _finish(hist, order, how, smap, reports) -> pd.DataFrame:
    index = {s: i for i, s in enumerate(order)}
    out = pd.DataFrame(
        {
            "deal_id": hist["deal_id"].astype(str).to_numpy(dtype=object),
            "stage": hist["stage"].to_numpy(dtype=object),
            "entered": pd.to_datetime(hist["entered"].to_numpy()),
            "stage_index": hist["stage"].map(index).to_numpy(dtype=np.int64),
            "status": _status_of(hist["stage"], smap).to_numpy(dtype=object),
        }
    )
    out = out.sort_values(["deal_id", "entered", "stage_index"], kind="mergesort").reset_index(drop=True)
    report = _merged(reports)
    report.notes.append(f"stage order from {how}: {' > '.join(order)}")
    out.attrs["quality"] = report
    out.attrs["stage_order"] = list(order)
    out.attrs["stage_order_source"] = how
    if report.n_excluded:
        parts = ", ".join(f"{k}: {v:,}" for k, v in report.excluded.items())
        warnings.warn(
            f"{_LOADER}: {report.n_excluded:,} of {report.input_rows:,} rows excluded ({parts}); "
            "see df.attrs['quality'].summary().",
            DataQualityWarning,
            stacklevel=3,
        )
    return out


def _merged(reports: list[DataQualityReport]) -> DataQualityReport:
    out = DataQualityReport(loader=_LOADER)
    for r in reports:
        out.sources = out.sources + r.sources
        out.crm = out.crm + r.crm
        out.columns = out.columns + r.columns
        out.input_rows = out.input_rows + r.input_rows
        out.loaded_rows = out.loaded_rows + r.loaded_rows
        exc = dict(out.excluded)
        for k, v in r.excluded.items():
            exc[k] = exc.get(k, 0) + v
        out.excluded = exc
        out.examples = {**r.examples, **out.examples}
        fur = dict(out.furniture)
        for k, v in r.furniture.items():
            fur[k] = fur.get(k, 0) + v
        out.furniture = fur
        out.notes = out.notes + r.notes
    return out
