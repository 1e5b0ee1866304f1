"""Reading and value parsing for the loaders: files, encodings, dates, amounts.

Everything here is vectorised.  A column's format is decided once from a
sample of its values (one date format, one decimal separator) and then applied
to the whole column with one C-level call (``pyarrow.compute.strptime``,
pandas string methods), because guessing per value is an order of magnitude
slower on real exports.

Reading a text export
---------------------
1. Peek at the first 256 KB: byte-order mark, UTF-8 or cp1252, NUL bytes.
2. Sniff the delimiter (comma, semicolon, tab, pipe): the candidate that splits
   the most sample lines into the same number (> 1) of fields.
3. Find the header line below any report title rows: the first line with the
   most fields that look like known CRM headers.
4. Read with ``pyarrow.csv`` (multi-threaded), only the columns the loader
   needs, every column as text so ids keep their leading zeros.  Rows with the
   wrong number of fields are collected, not fatal.
5. Drop the report "furniture" below the data: trailing blank rows and footer
   lines such as ``Grand Totals (25 records)``, ``Copyright ...``,
   ``Confidential ...``.  These are counted separately from data rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from salesgoals.errors import AmountParseError, DateParseError, FileFormatError, format_rows, format_values

__all__ = [
    "Source",
    "clean_text",
    "map_text",
    "encode",
    "categorize",
    "dictionary_parts",
    "from_codes",
    "as_label",
    "to_categorical",
    "rows_with",
    "count_codes",
    "drop_unused_categories",
    "to_str_series",
    "missing_text",
    "open_source",
    "parse_dates",
    "parse_amounts",
    "parse_durations",
    "parse_bool",
    "text_values",
    "FOOTER_RE",
]

PEEK_BYTES = 256 * 1024
SAMPLE_SIZE = 400  # values used to decide a column's format
_DELIMS = (",", ";", "\t", "|")

#: First cell of a report footer line (case-insensitive).
FOOTER_RE = re.compile(
    # the copyright sign is a literal character, not a \u escape: the RE2 of older pyarrow (15) rejects \u escapes
    r"^\s*(grand\s*totals?|totals?\b|sub-?totals?|sum\b|count\b|copyright|" "\u00a9" r"|\(c\)\s|confidential|"
    r"generated\s+(by|on|at)|report\s+(generated|run)|salesforce\.com|powered\s+by|filtered\s+by|"
    r"total\s+records|\d[\d,.]*\s+records?\b|records?\s*:|row\s+count|end\s+of\s+report|exported\s+(by|on|at))",
    re.IGNORECASE,
)


# ======================================================================= reading
@dataclass
class Source:
    """One input, opened: its headers and how to read its columns.

    ``headers`` are the original header names (deduplicated with ``.1``,
    ``.2`` suffixes, as pandas does); :meth:`read` returns a
    :class:`pyarrow.Table` of the requested columns.
    """

    name: str  # for messages, e.g. "'deals.csv'"
    headers: list[str]
    kind: str  # csv, excel, parquet, frame
    encoding: str | None = None
    delimiter: str | None = None
    title_rows: int = 0
    _path: Any = None
    _data: bytes | None = None
    _frame: pd.DataFrame | None = None
    _table: pa.Table | None = None
    _newlines_in_values: bool = False
    _peek: str | None = None
    encoding_forced: bool = False
    furniture: dict[str, int] = field(default_factory=dict)
    malformed_rows: list[int] = field(default_factory=list)
    malformed_text: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def peek_values(self, column: str) -> list[str]:
        """Values of ``column`` in the first 256 KB of a text file (trimmed, blanks dropped)."""
        if self.kind != "csv" or self._peek is None or column not in self.headers:
            return []
        j = self.headers.index(column)
        rows = list(csv.reader(io.StringIO(self._peek, newline=""), delimiter=self.delimiter))
        body = rows[self.title_rows + 1 : -1] if len(rows) > self.title_rows + 2 else rows[self.title_rows + 1 :]
        return [r[j].strip() for r in body if len(r) == len(self.headers) and r[j].strip()]

    def sample(self, column: str, k: int = SAMPLE_SIZE) -> pa.Array | None:
        """Up to ``k`` values of ``column`` from the start of the input, for judging what it holds."""
        if column not in self.headers:
            return None
        if self.kind == "csv":
            vals = self.peek_values(column)[:k]
            return pa.array(vals, type=pa.large_string()) if self._peek is not None else None
        if self._table is not None:
            return self._table.column(column).slice(0, k).combine_chunks()
        return None

    def read(self, columns: list[str], types: dict[str, pa.DataType] | None = None) -> pa.Table:
        """Read ``columns`` (a subset of :attr:`headers`), drop furniture, return a table.

        ``types`` lets the CSV reader convert columns itself (multi-threaded), for
        columns whose peeked values are plain ISO dates or plain numbers; if any
        value in the file disagrees, the file is read again as text.
        """
        first = self.headers[0]
        want = list(dict.fromkeys([first, *columns]))
        if self.kind == "csv":
            before = (dict(self.furniture), list(self.malformed_text))
            table = self._read_typed(want, types or {})
            if self._data is None and _has_nul(table):
                # NUL bytes past the first 256 KB (some exports pad with them): read again without them
                self.furniture, self.malformed_text = before
                self._data = _decode_all(_read_bytes(self._path), self.encoding, self.name).replace("\x00", "")
                self._data = self._data.lstrip("\ufeff").encode("utf-8")
                self.notes.append("NUL bytes removed")
                table = self._read_typed(want, types or {})
        else:
            table = self._table.select(want)
        table = self._drop_footer(table, want)
        return table.select(list(dict.fromkeys(columns))) if columns else table.select([])

    # ---------------------------------------------------------------- CSV
    def _read_typed(self, want: list[str], types: dict[str, pa.DataType]) -> pa.Table:
        try:
            return self._read_csv(want, types)
        except _TypedReadFailed:
            if "column types guessed from the first rows did not hold; read as text" not in self.notes:
                self.notes.append("column types guessed from the first rows did not hold; read as text")
            return self._read_csv(want, {})

    def _read_csv(self, want: list[str], types: dict[str, pa.DataType]) -> pa.Table:
        bad: list[str] = []

        def on_invalid(row):  # called once per ragged row: few rows, not a data path
            bad.append((row.actual_columns, row.text))
            return "skip"

        def attempt(newlines: bool) -> pa.Table:
            bad.clear()
            # pyarrow picks gzip from a '.gz' path itself
            src = pa.BufferReader(self._data) if self._data is not None else str(self._path)
            ro = pacsv.ReadOptions(
                column_names=self.headers, skip_rows=self.title_rows + 1, encoding="utf8", block_size=1 << 24
            )
            po = pacsv.ParseOptions(
                delimiter=self.delimiter, newlines_in_values=newlines, invalid_row_handler=on_invalid
            )
            column_types = {c: types.get(c, pa.large_string()) for c in want}
            # text read only as dictionaries (a lean export's rep and type): their few distinct values are
            # checked for UTF-8 below instead of every row's (the same error, the same fallbacks)
            per_value = not any(pa.types.is_large_string(t) or pa.types.is_string(t) for t in column_types.values())
            co = pacsv.ConvertOptions(
                include_columns=want,
                column_types=column_types,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=not per_value,
            )
            table = pacsv.read_csv(src, read_options=ro, parse_options=po, convert_options=co)
            if per_value:
                _check_dictionaries_utf8(table)
            return table

        try:
            table = attempt(self._newlines_in_values)
            if bad and not self._newlines_in_values:
                # a quoted value with a line break splits rows; read again keeping them together
                table2 = attempt(True)
                table = table2
        except pa.ArrowInvalid as exc:
            msg = str(exc)
            if "UTF8" in msg or "utf8" in msg.lower():
                if self._data is None and not self.encoding_forced:
                    # valid UTF-8 in the first 256 KB, not later: decode the whole file (cp1252 fallback)
                    raw = _read_bytes(self._path)
                    text = _decode_all(raw, "utf-8", self.name).replace("\x00", "")
                    self._data = text.lstrip("\ufeff").encode("utf-8")
                    self.encoding = "cp1252 (after UTF-8 failed past the first 256 KB)"
                    return self._read_csv(want, types)
                raise FileFormatError(
                    f"{self.name}: the file is not valid {self.encoding}. "
                    "Pass encoding='cp1252' (Windows/Excel exports) or the file's encoding."
                ) from exc
            if types and "conversion error" in msg.lower():
                raise _TypedReadFailed(msg) from exc
            raise FileFormatError(
                f"{self.name}: cannot parse the file as delimited text with delimiter {self.delimiter!r}: "
                f"{msg.splitlines()[0]}. Check the export, or pass sep= and encoding=."
            ) from exc
        if bad:
            # a line with a single field in a multi-column export is report text (a repeated title,
            # 'Copyright ...', 'Confidential ...'), never a data row
            notes = [t for k, t in bad if k <= 1 or FOOTER_RE.match(t.strip('" '))]
            self.furniture["footer_rows"] = self.furniture.get("footer_rows", 0) + len(notes)
            self.malformed_text.extend(t for k, t in bad if not (k <= 1 or FOOTER_RE.match(t.strip('" '))))
        return table

    def _drop_footer(self, table: pa.Table, want: list[str]) -> pa.Table:
        n = table.num_rows
        if n == 0:
            return table
        tail = min(n, 200)
        part = table.slice(n - tail)
        cells = [text_values(part.column(c)).str.strip() for c in want]
        blank = np.logical_and.reduce([(c.fillna("") == "").to_numpy(dtype=bool) for c in cells])
        firstcell = np.full(tail, "", dtype=object)
        for c in reversed(cells):  # first non-empty cell of each row (loop over columns)
            v = c.fillna("").to_numpy(dtype=object)
            firstcell = np.where(v != "", v, firstcell)
        # Python's re on the (at most 200) tail cells: pandas 3.0.6 hands .str.match of Arrow-backed strings to
        # RE2, which rejects the pattern's \u escape
        footer = np.array([FOOTER_RE.match(str(v)) is not None for v in firstcell], dtype=bool)
        furn = blank | footer
        # trailing block of furniture, allowing data-less lines between footer lines
        if not furn[-1]:
            return table
        k = tail - 1
        while k >= 0 and furn[k]:
            k -= 1
        block = furn[k + 1 :]
        # a trailing block of only blank rows is still furniture (blank lines under a report)
        n_footer = int(footer[k + 1 :].sum())
        n_blank = int(block.size - n_footer)
        if n_footer:
            self.furniture["footer_rows"] = self.furniture.get("footer_rows", 0) + n_footer
        if n_blank:
            self.furniture["blank_rows"] = self.furniture.get("blank_rows", 0) + n_blank
        return table.slice(0, n - block.size)


class _TypedReadFailed(Exception):
    """A column type guessed from the peek does not hold for the whole file."""


def _read_bytes(path: str) -> bytes:
    opener = gzip.open if str(path).lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        return fh.read()


def _dedupe(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for raw in names:
        name = str(raw).replace("\ufeff", "").replace("\x00", "").strip().strip('"').strip()
        if not name:
            name = "Unnamed"
        key = name
        if seen[name]:
            key = f"{name}.{seen[name]}"
        seen[name] += 1
        out.append(key)
    return out


def _decode_peek(head: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode the start of a file; return (text, encoding name)."""
    if encoding:
        try:
            return head.decode(encoding, errors="strict"), encoding
        except UnicodeDecodeError:
            # the peek may end mid-character
            return head[:-4].decode(encoding, errors="replace"), encoding
        except LookupError as exc:
            raise FileFormatError(f"unknown encoding {encoding!r}; use e.g. 'utf-8', 'cp1252', 'latin-1'.") from exc
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace"), "utf-16"
    if len(head) > 3 and head[1:2] == b"\x00" and head[3:4] == b"\x00" and head[0:1] != b"\x00":
        return head.decode("utf-16-le", errors="replace"), "utf-16-le"
    try:
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # cut inside a multi-byte character
            return head[: exc.start].decode("utf-8"), "utf-8"
        return head.decode("cp1252", errors="replace"), "cp1252"


def _sniff(lines: list[str], sep: str | None) -> str:
    if sep is not None:
        return sep
    best, best_score = ",", (-1.0, 0)
    for d in _DELIMS:
        counts = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        multi = [c for c in counts if c >= 2]  # one-field lines are titles and notes, whatever the delimiter
        if not multi:
            continue
        mode, freq = Counter(multi).most_common(1)[0]
        score = (freq / len(counts), mode)
        if score > best_score:
            best, best_score = d, score
    return best


def _header_line(rows: list[list[str]], known: frozenset[str]) -> int:
    """Index of the header row among the first rows: most known headers, then first wide row."""
    from salesgoals.io._vendors import norm_header

    scores = []
    for i, r in enumerate(rows[:40]):
        keys = [norm_header(c) for c in r]
        hits = sum(1 for k in keys if k in known)
        dyn = sum(1 for c in r if str(c).lower().startswith("(do not modify)"))
        scores.append((hits + dyn, i))
    if scores:
        top = max(s for s, _ in scores)
        if top >= 2:
            return min(i for s, i in scores if s == top)
    # fall back: the first row as wide as the typical row
    widths = [len(r) for r in rows if r]
    if not widths:
        return 0
    mode = Counter(widths).most_common(1)[0][0]
    for i, r in enumerate(rows):
        if len(r) == mode and sum(1 for c in r if str(c).strip()) >= max(1, mode // 2):
            return i
    return 0


def open_source(source: Any, *, known: frozenset[str], encoding: str | None = None, sep: str | None = None,
                sheet_name: Any = 0) -> Source:
    """Open a path or DataFrame and find its header row, delimiter and encoding.

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    FileFormatError
        Unknown extension, unreadable file, or no header row.
    TypeError
        ``source`` is neither a path nor a DataFrame.
    """
    from salesgoals.errors import source_name

    if isinstance(source, pd.DataFrame):
        frame = source.copy(deep=False)
        frame.columns = _dedupe([str(c) for c in frame.columns])
        return Source(name="'<DataFrame>'", headers=list(frame.columns), kind="frame",
                      _table=_frame_to_table(frame, "'<DataFrame>'"))  # fmt: skip
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(
            f"expected a file path or a pandas DataFrame; got {type(source).__name__}. "
            "Pass the path of a CSV, TSV, XLSX or Parquet export, or a DataFrame."
        )
    path = os.fspath(source)
    name = source_name(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory; pass the export file itself.")
    lower = path.lower()
    if lower.endswith((".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")):
        return _open_excel(path, name, known, sheet_name)
    if lower.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq

            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for a corrupt file
            raise FileFormatError(f"{name}: cannot read as Parquet ({exc}).") from exc
        frame = table.to_pandas()
        frame.columns = _dedupe([str(c) for c in frame.columns])
        return Source(name=name, headers=list(frame.columns), kind="parquet", _table=_frame_to_table(frame, name))
    if lower.endswith((".json", ".pkl", ".pickle", ".feather", ".zip", ".7z")):
        raise FileFormatError(
            f"{name}: unsupported file type. Export the report as CSV, TSV, XLSX or Parquet "
            "(salesgoals never unpickles files)."
        )
    return _open_text(path, name, known, encoding, sep)


def _open_text(path: str, name: str, known, encoding, sep) -> Source:
    gz = path.lower().endswith(".gz")
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(PEEK_BYTES)
            more = bool(fh.read(1))
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"{name}: cannot read the file ({exc}).") from exc
    if not head.strip(b" \r\n\t\x00\xef\xbb\xbf"):
        raise FileFormatError(f"{name}: the file is empty; export the report again with its data rows.")
    text, enc = _decode_peek(head, encoding)
    has_nul = b"\x00" in head if not enc.startswith("utf-16") else False
    data = None
    # NUL bytes in the first 256 KB take this path at once; later ones are found in the columns read
    if enc not in ("utf-8", "utf-8-sig") or has_nul:
        # messy path: decode the whole file in Python, strip NUL bytes, re-encode as UTF-8
        raw = _read_bytes(path)
        text_all = _decode_all(raw, enc, name)
        if "\x00" in text_all:
            text_all = text_all.replace("\x00", "")
            has_nul = True
        if text_all.startswith("\ufeff"):
            text_all = text_all[1:]
        data = text_all.encode("utf-8")
        text = text_all[:PEEK_BYTES]
        more = False
    elif enc == "utf-8-sig":
        # pyarrow's reader skips the BOM itself; we only adjust the peek
        pass
    notes = []
    if has_nul:
        notes.append("NUL bytes removed")
    if more or data is None and len(head) >= PEEK_BYTES:
        text = text[: text.rfind("\n") + 1] or text
    lines = text.splitlines()
    if not lines:
        raise FileFormatError(f"{name}: no lines of text found.")
    sample_lines = [ln for ln in lines[:200] if ln.strip()]
    delim = _sniff(sample_lines[-150:] if len(sample_lines) > 10 else sample_lines, sep)
    rows = list(csv.reader(lines[:60], delimiter=delim))
    hdr = _header_line(rows, known)
    header_fields = rows[hdr] if hdr < len(rows) else []
    # title rows counted as physical lines above the header (blank lines included)
    headers = _dedupe(header_fields)
    if len(headers) < 1:
        raise FileFormatError(f"{name}: no header row found in the first lines.")
    # a quoted value with a line break inside needs the slower reader mode: look for one in the peek
    # (if one appears only later, the ragged rows it causes trigger a second read in that mode)
    newlines = '"' in text and any(
        "\n" in f or "\r" in f for r in csv.reader(io.StringIO(text, newline=""), delimiter=delim) for f in r
    )
    src = Source(name=name, headers=headers, kind="csv", encoding=enc, delimiter=delim, title_rows=hdr,
                 _path=path, _data=data, _newlines_in_values=newlines, notes=notes, _peek=text,
                 encoding_forced=encoding is not None)  # fmt: skip
    if hdr:
        src.furniture["title_rows"] = hdr
    return src


def _has_nul(table: pa.Table) -> bool:
    """Whether a text column of ``table`` holds a NUL byte (dictionary columns: only their few values)."""
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            if any(pc.any(pc.match_substring(c.dictionary, "\x00")).as_py() for c in col.chunks):
                return True
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            if len(col) and pc.any(pc.match_substring(col, "\x00")).as_py():
                return True
    return False


def _decode_all(raw: bytes, enc: str, name: str) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, enc = raw[3:], "utf-8"
    if enc in ("utf-8", "utf-8-sig"):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")
    try:
        return raw.decode(enc)
    except UnicodeDecodeError:
        if enc == "cp1252":  # five bytes are undefined in cp1252; latin-1 maps every byte
            return raw.decode("latin-1")
        raise FileFormatError(f"{name}: cannot decode the file as {enc}; pass encoding= with the right codec.")


def _open_excel(path: str, name: str, known, sheet_name) -> Source:
    try:
        grid = pd.read_excel(path, sheet_name=sheet_name, header=None, engine="calamine", dtype=object)
    except ImportError as exc:  # pragma: no cover - calamine is a dependency
        raise FileFormatError(f"{name}: reading .xlsx needs python-calamine (pip install python-calamine).") from exc
    except ValueError as exc:
        raise FileFormatError(f"{name}: cannot read sheet {sheet_name!r} ({exc}). Pass sheet_name=.") from exc
    except Exception as exc:
        raise FileFormatError(f"{name}: cannot read as an Excel workbook ({exc}).") from exc
    if isinstance(grid, dict):
        raise FileFormatError(f"{name}: pass one sheet_name (a name or a 0-based position), not {sheet_name!r}.")
    grid = grid.dropna(how="all", axis=1)
    if grid.empty:
        raise FileFormatError(f"{name}: the sheet is empty.")
    rows = [["" if pd.isna(v) else str(v) for v in grid.iloc[i].tolist()] for i in range(min(len(grid), 40))]
    hdr = _header_line(rows, known)
    headers = _dedupe(rows[hdr])
    body = grid.iloc[hdr + 1 :].reset_index(drop=True)
    body.columns = headers
    src = Source(name=name, headers=headers, kind="excel", _table=_frame_to_table(body, name))
    if hdr:
        src.furniture["title_rows"] = hdr
    return src


def _frame_to_table(frame: pd.DataFrame, name: str) -> pa.Table:
    """Arrow table of a frame: typed columns stay typed, anything mixed becomes text."""
    arrays = {}
    for col in frame.columns:
        s = frame[col]
        if isinstance(s, pd.DataFrame):  # duplicated labels after dedupe cannot happen; defensive
            s = s.iloc[:, 0]
        arrays[col] = _series_to_arrow(s)
    return pa.table(arrays) if arrays else pa.table({})


def _series_to_arrow(s: pd.Series) -> pa.Array:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        return pa.array(s.astype("datetime64[us]"), type=pa.timestamp("us"), from_pandas=True)
    if pd.api.types.is_bool_dtype(s):
        return pa.array(s.astype(object).map({True: "true", False: "false"}), type=pa.large_string(), from_pandas=True)
    if pd.api.types.is_numeric_dtype(s):
        return pa.array(s.astype("float64"), type=pa.float64(), from_pandas=True)
    # text: straight to Arrow when it already is text (no per-value Python)
    if isinstance(s.dtype, pd.StringDtype):
        return pa.array(s.array, type=pa.large_string(), from_pandas=True) if len(s) else pa.array([], pa.large_string())
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return pa.array(s.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    if kind in ("floating", "integer", "mixed-integer-float", "decimal"):
        return _series_to_arrow(pd.to_numeric(s, errors="coerce").astype("float64"))
    if kind in ("datetime", "datetime64", "date"):
        try:
            return _series_to_arrow(pd.to_datetime(s, errors="raise"))
        except (ValueError, TypeError):
            pass
    # mixed kinds (Excel columns with text and numbers): render as text, vectorised by pandas
    text = s.astype(str).where(s.notna(), None)
    return pa.array(text.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)


# ======================================================================= values
def text_values(col: pa.ChunkedArray | pa.Array) -> pd.Series:
    """Column as pandas text (``str`` dtype), NUL bytes removed, typed columns rendered."""
    if pa.types.is_timestamp(col.type):
        return pd.Series(col.to_pandas()).dt.strftime("%Y-%m-%d %H:%M:%S").astype("str")
    if pa.types.is_floating(col.type):
        vals = pd.Series(col.to_pandas(), copy=False)
        whole = np.isfinite(vals) & (np.mod(vals.fillna(0), 1) == 0) & (vals.abs() < 1e15)
        out = vals.astype(str).where(~whole, vals.where(whole, 0).astype("int64").astype(str))
        return out.where(vals.notna(), np.nan).astype("str")
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = pc.cast(col, pa.large_string())
    s = pd.Series(col.to_pandas(), copy=False)
    if s.dtype != "str":
        s = s.astype("str")
    return s


def clean_text(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """Column as Arrow text: trimmed (only if needed), NUL-free, blanks as null.

    Vectorised in Arrow: on 10 million values the checks cost about 0.2 s and a
    trim, when needed, 0.8 s.
    """
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        s = text_values(col)
        col = pa.array(s.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col])
    if len(col) == 0:
        return col
    # two cheap scans decide whether the (slower) trim is needed at all
    if pc.any(pc.starts_with(col, " ")).as_py() or pc.any(pc.ends_with(col, " ")).as_py():
        col = pc.utf8_trim_whitespace(col)
    empty = pc.equal(col, "")
    if pc.any(empty).as_py():
        col = pc.if_else(empty, pa.scalar(None, pa.large_string()), col)
    return col


def encode(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[Any]]:
    """Dictionary-encode a column: ``(codes, values)``, code ``len(values)`` for null."""
    if pa.types.is_dictionary(col.type):  # encoded by the CSV reader already (in parallel, while parsing)
        enc = col.unify_dictionaries().combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    else:
        enc = pc.dictionary_encode(col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col)
    values = enc.dictionary.to_pylist()
    indices = enc.indices
    if indices.null_count:
        indices = pc.fill_null(indices, len(values))
    return indices.to_numpy(zero_copy_only=False), values  # int32: half the memory of int64


def count_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Rows per code of ``codes`` in ``[-1, k)``: an array of ``k + 1`` counts, the last for code -1 (missing).

    Counted in blocks of 64K rows: ``np.bincount`` converts its input to
    64-bit integers first, and on ten million small codes that temporary's
    page faults cost more than the counting.

    Examples
    --------
    >>> count_codes(np.array([0, 2, 2, -1], dtype=np.int8), 3).tolist()
    [1, 0, 2, 1]
    """
    codes = np.asarray(codes)
    out = np.zeros(k + 1, dtype=np.int64)
    step = 1 << 16
    for start in range(0, len(codes), step):  # blocks, not rows: 153 iterations for ten million
        block = np.bincount(codes[start : start + step].astype(np.intp) + 1, minlength=k + 1)
        out[:k] += block[1 : k + 1]
        out[k] += block[0]
    return out


def as_label(v: Any) -> str | None:
    """``v`` as text, None (and NaN) as missing."""
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def dictionary_parts(
    col: pa.ChunkedArray | pa.Array,
) -> tuple[list[Any], list[tuple[int, np.ndarray, np.ndarray]], int]:
    """Find the distinct values of a text column and, per Arrow chunk, how its rows index them.

    Returns ``(values, parts, nulls)``: ``values`` the distinct values (a
    Python list, in no set order); per chunk, ``(first_row, local,
    indices)``: the chunk's dictionary positions in ``values`` (``local``)
    and its rows' dictionary indices (``indices``, ``len(local)`` for a
    null); and the number of null rows.  A
    column the CSV reader dictionary-encoded is used as it is; others are
    encoded here once.
    """
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col])
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    chunks = [c for c in col.chunks if len(c)]
    dicts = [c.dictionary for c in chunks]
    same = all(d.equals(dicts[0]) for d in dicts[1:])
    values = dicts[0] if same and dicts else pc.unique(pa.concat_arrays(dicts)) if dicts else pa.array([], pa.string())
    parts, start = [], 0
    for c, d in zip(chunks, dicts):
        local = np.arange(len(d)) if same else pc.index_in(d, values).to_numpy(zero_copy_only=False)
        idx = c.indices if not c.null_count else pc.fill_null(c.indices, len(d))
        parts.append((start, local, idx.to_numpy(zero_copy_only=False)))
        start += len(c)
    return values.to_pylist(), parts, col.null_count


def categorize(
    col: pa.ChunkedArray | pa.Array, fn=None, *, drop_unused: bool = True
) -> tuple[pd.Categorical, np.ndarray | None]:
    """Turn a text column into a pandas Categorical, mapping each distinct value through ``fn`` once.

    ``fn`` takes a raw value (str, or None for a null) and returns the
    label (None for missing); by default values are kept as they are.  The
    categories are the distinct labels, sorted (``str`` dtype), so the
    result does not depend on the order rows or dictionary entries arrive
    in; two raw values with one label share a category.  With
    ``drop_unused`` (the default) only labels some row uses are categories
    (a dictionary can keep values of dropped footer rows); without it the
    counts are not computed (None).

    The work per row is one integer gather per Arrow chunk into the final
    codes, plus a count; a column the CSV reader dictionary-encoded (in
    parallel, while parsing) is never hashed again, and no string is built
    per row.

    Returns
    -------
    (pandas.Categorical, numpy.ndarray)
        The column and its rows per category (:func:`count_codes` layout:
        the last count is the missing rows; None when ``drop_unused=False``).

    Examples
    --------
    >>> cat, counts = categorize(pa.array(["b ", "a", None, "b"]), lambda v: v and v.strip())
    >>> cat.tolist(), list(cat.categories), counts.tolist()
    (['b', 'a', nan, 'b'], ['a', 'b'], [1, 2, 1])
    """
    return _categorize_parts(*dictionary_parts(col), fn, drop_unused)


def categorize_counting(col: pa.ChunkedArray | pa.Array, fn=None) -> tuple[pd.Categorical, np.ndarray, dict]:
    """:func:`categorize`, plus the rows per distinct raw value (``None`` for nulls): what each source value became.

    Examples
    --------
    >>> cat, counts, raw = categorize_counting(pa.array(["Call", "CALL", "demo"]), lambda v: v.lower())
    >>> list(cat.categories), raw
    (['call', 'demo'], {'Call': 1, 'CALL': 1, 'demo': 1})
    """
    values, parts, nulls = dictionary_parts(col)
    per_value = np.zeros(len(values) + 1, dtype=np.int64)
    for _, local, idx in parts:  # one integer count per chunk: no string per row
        c = np.bincount(idx, minlength=len(local) + 1)
        np.add.at(per_value, np.append(local, len(values)), c[: len(local) + 1])
    raw = {v: int(k) for v, k in zip([*values, None], per_value) if k}
    cat, counts = _categorize_parts(values, parts, nulls, fn, True, per_value=per_value)
    return cat, counts, raw


def _categorize_parts(values, parts, nulls, fn, drop_unused,
                      per_value: np.ndarray | None = None) -> tuple[pd.Categorical, np.ndarray | None]:
    """The Categorical of :func:`categorize`; ``per_value`` (rows per distinct value, then the nulls), when the
    caller counted them, gives the rows per category without a counting pass over the rows."""
    labels = [as_label(v) for v in (values if fn is None else map(fn, values))]
    null_label = as_label(fn(None)) if fn is not None and nulls else None  # nulls map through fn too
    cats = sorted({v for v in (*labels, null_label) if v is not None})
    pos = {c: i for i, c in enumerate(cats)}
    small = np.int8 if len(cats) < 2**7 else np.int16 if len(cats) < 2**15 else np.int32
    code_of_value = np.array([pos[v] if v is not None else -1 for v in labels], dtype=small)
    null_code = small(pos[null_label] if null_label is not None else -1)
    out = np.empty(sum(len(idx) for _, _, idx in parts), dtype=small)
    for start, local, idx in parts:
        lut = np.append(code_of_value[local], null_code)  # index len(local): a null row
        np.take(lut, idx, out=out[start : start + len(idx)], mode="clip")
    counts = None
    if per_value is not None and drop_unused:  # code -1 (missing) counts in the last slot, as count_codes does
        slot = np.append(code_of_value, null_code).astype(np.int64)
        counts = np.bincount(np.where(slot < 0, len(cats), slot), weights=per_value, minlength=len(cats) + 1)
        counts = counts.astype(np.int64)
    return from_codes(out, cats, drop_unused=drop_unused, counts=counts)


def from_codes(
    codes: np.ndarray, cats: list[str], *, drop_unused: bool = True, counts: np.ndarray | None = None
) -> tuple[pd.Categorical, np.ndarray | None]:
    """``pd.Categorical`` of ``codes`` (-1 missing) over the sorted ``cats``, and its rows per category.

    With ``drop_unused``, categories no row uses are dropped (one more
    gather, only then); otherwise the counts are not computed (None).
    ``counts``: the rows per code when the caller knows them already (as
    :func:`count_codes` gives them), which saves the counting pass.
    """
    if drop_unused:
        counts = count_codes(codes, len(cats)) if counts is None else counts
        used = counts[: len(cats)] > 0
        if not used.all():
            remap = np.append(np.cumsum(used) - 1, -1).astype(codes.dtype)  # old code -> new; -1 stays -1
            codes = remap[codes]
            cats = [c for c, u in zip(cats, used) if u]
            counts = np.append(counts[: len(used)][used], counts[-1])
    else:
        counts = None
    dtype = pd.CategoricalDtype(pd.Index(cats, dtype="str"))
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False), counts


def map_text(col: pa.ChunkedArray, fn) -> pa.ChunkedArray:
    """Map each distinct value of a text column through ``fn`` (returns str or None).

    The column is dictionary-encoded in Arrow, ``fn`` runs once per distinct
    value (a handful for types, outcomes, stages), and the result is gathered
    back with one ``take``: no per-row Python.
    """
    codes, values = encode(col)
    mapped = [as_label(fn(v)) for v in values]
    return pa.chunked_array([pc.take(pa.array([*mapped, None], type=pa.large_string()), pa.array(codes))])


def to_categorical(codes: np.ndarray, labels: list[Any], counts: np.ndarray | None = None) -> pd.Categorical:
    """Build a Categorical from ``codes`` into ``labels`` (None labels, code ``len(labels)``: missing).

    The categories are the distinct labels some row uses, sorted (``str``
    dtype), so the result does not depend on the order rows or dictionary
    entries arrive in.  Labels that repeat (two raw spellings cleaned to one
    name) share a category.  One integer gather over the rows; no strings
    are built per row.  ``counts`` (:func:`count_codes` of the codes), when the
    caller has it, saves a pass.

    Examples
    --------
    >>> c = to_categorical(np.array([0, 2, 1, 3, 0]), ["b", "a", "b"])
    >>> c.tolist(), list(c.categories)
    (['b', 'b', 'a', nan, 'b'], ['a', 'b'])
    """
    codes = np.asarray(codes)
    k = len(labels)
    if counts is None:
        counts = count_codes(codes, k + 1)  # code k (= len(labels)) is a missing value too
    used = counts[:k] > 0
    cats = sorted({str(v) for v, u in zip(labels, used) if u and v is not None})
    pos = {c: i for i, c in enumerate(cats)}
    small = np.int8 if len(cats) < 2**7 else np.int16 if len(cats) < 2**15 else np.int32
    lut = np.array([pos[str(v)] if v is not None and u else -1 for v, u in zip(labels, used)] + [-1], dtype=small)
    return from_codes(lut[codes], cats, drop_unused=False)[0]


def rows_with(counts: np.ndarray, labels: list[Any], pred) -> int:
    """Rows whose label satisfies ``pred`` (None for the missing code ``len(labels)``), from the value counts."""
    hit = np.array([bool(pred(v)) for v in labels] + [bool(pred(None))])
    return int(counts[hit].sum())


def drop_unused_categories(values: pd.Series) -> pd.Series:
    """``values`` without categories no row uses (a counting pass; pandas' own method sorts the codes)."""
    cat, _ = from_codes(values.cat.codes.to_numpy(), list(values.cat.categories))
    return pd.Series(cat, index=values.index, name=values.name)


def missing_text(n: int) -> pa.ChunkedArray:
    """``n`` missing text values, from zeroed buffers the OS hands out lazily (no pages touched).

    ``pa.nulls`` writes its 8-byte offsets, which costs page faults on a log
    of ten million rows for a column the export does not have.
    """
    offsets = pa.py_buffer(np.zeros(n + 1, dtype=np.int64))
    validity = pa.py_buffer(np.zeros((n + 7) // 8, dtype=np.uint8))
    return pa.chunked_array([pa.LargeStringArray.from_buffers(n, offsets, pa.py_buffer(b""), validity, n)])


def _check_dictionaries_utf8(table: pa.Table) -> None:
    """Raise ``pyarrow.ArrowInvalid`` ('invalid UTF8 data', as the CSV reader does) if a dictionary holds bad text.

    Each chunk's dictionary holds the distinct values of its rows, so checking
    them checks every row at a fraction of the cost.
    """
    for col in table.columns:
        if not pa.types.is_dictionary(col.type):
            continue
        for chunk in col.chunks:
            try:
                chunk.dictionary.validate(full=True)
            except pa.ArrowInvalid as exc:
                raise pa.ArrowInvalid(f"CSV conversion error to string: invalid UTF8 data ({exc})") from exc


def to_str_series(col: pa.ChunkedArray) -> pd.Series:
    """Arrow text -> pandas ``str`` Series (no copy through Python objects)."""
    s = col.to_pandas()
    if s.dtype != "str":
        s = s.astype("str")
    return s


def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | (s.str.strip() == "")).to_numpy(dtype=bool)


def _sample_idx(n_nonblank: int) -> np.ndarray:
    if n_nonblank <= SAMPLE_SIZE:
        return np.arange(n_nonblank)
    head = np.arange(SAMPLE_SIZE // 2)
    spread = np.linspace(SAMPLE_SIZE // 2, n_nonblank - 1, SAMPLE_SIZE // 2).astype(np.int64)
    return np.unique(np.concatenate([head, spread]))


_TIME_PARTS = (
    "", " %H:%M:%S", " %H:%M", " %I:%M %p", " %I:%M:%S %p", "T%H:%M:%S", "T%H:%M", " %I:%M%p", " %I:%M:%S%p",
    ", %H:%M", ", %H:%M:%S", ", %I:%M %p",
)
_ISO_RE = re.compile(r"^\d{4}([-/.])\d{1,2}\1\d{1,2}")
_NUM_RE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{2}|\d{4})(?!\d)")
_TEXT_MONTH_DATES = ("%d %b %Y", "%d-%b-%Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y", "%d-%b-%y", "%b %d %Y",
                     "%d. %b %Y", "%d %b, %Y")
_SERIAL_RE = re.compile(r"^(\d{4,6}(\.\d+)?|\d{10}(\.\d+)?|\d{13})$")
_EXCEL_EPOCH = np.datetime64("1899-12-30", "us")


@dataclass
class DateInfo:
    """How a date column was read (goes into the data-quality report)."""

    column: str
    formats: list[str]
    dayfirst: bool | None = None
    ambiguous: bool = False
    n_bad: int = 0


def parse_dates(col: pa.ChunkedArray, *, column: str, source: str, dayfirst: bool | None = None,
                date_format: str | None = None, loader: str = "load") -> tuple[np.ndarray, np.ndarray, DateInfo]:
    """Parse a date column with one detected format.

    Returns
    -------
    values : numpy.ndarray of datetime64[us]
        NaT where blank or unparseable.
    bad : numpy.ndarray of bool
        Non-blank values that could not be parsed.
    info : DateInfo
        Formats used, the day/month order and whether it was ambiguous.

    Raises
    ------
    DateParseError
        No format fits the column, more than half of its values fail, or the
        data contradict an explicit ``dayfirst``.
    """
    typed = _typed_dates(col, column, source)
    if typed is not None:
        return typed
    # the format is decided on a sample of the raw text (trimmed in Python: 400 values)
    n = len(col)
    raw = col if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else clean_text(col)
    if isinstance(raw, pa.Array):
        raw = pa.chunked_array([raw])
    sample, t = _date_sample(raw)
    if not sample:
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[us]"), np.zeros(n, bool), DateInfo(column, [])
    if date_format is not None:
        formats, info = [date_format], DateInfo(column, [date_format], dayfirst)
    elif all(_SERIAL_RE.match(x) for x in sample):
        return _serial_text_dates(raw if t is None else t, column, source, cleaned=t is not None)
    else:
        formats, info = _detect_formats(sample, column, source, dayfirst)
    if t is None and len(formats) == 1 and formats[0] in _ISO_CAST and raw.null_count == 0:
        try:  # fast path for clean ISO columns: one all-or-nothing C++ cast of the raw text
            return _ts_numpy(pc.cast(raw, pa.timestamp("us"))), np.zeros(n, bool), info
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    t = clean_text(raw) if t is None else t
    blank = t.is_null().to_numpy(zero_copy_only=False)
    out = _apply_formats(t, formats)
    bad = ~blank & np.isnat(out)
    info.n_bad = int(bad.sum())
    _check_bad_share(info.n_bad, int((~blank).sum()), bad, t, formats, column, source, loader)
    return out, bad, info


def _typed_dates(col, column: str, source: str) -> tuple[np.ndarray, np.ndarray, DateInfo] | None:
    """Values of a column that is already typed (timestamps, dates, numbers); None for text."""
    n = len(col)
    if pa.types.is_timestamp(col.type):
        c = col
        if col.type.tz is not None:
            c = pc.cast(pc.cast(col, pa.timestamp(col.type.unit, "UTC")), pa.timestamp(col.type.unit))
        v = _timestamp_values(c)
        return v, np.zeros(n, bool), DateInfo(column, ["(already datetimes: a typed column, or plain ISO converted by the CSV reader)"])
    if pa.types.is_date(col.type):
        v = pc.cast(col, pa.timestamp("us")).to_numpy().astype("datetime64[us]")
        return v, np.zeros(n, bool), DateInfo(column, ["(typed date)"])
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        num = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        return _numeric_dates(num, column, source)
    return None


def _date_sample(raw: pa.ChunkedArray) -> tuple[list[str], pa.ChunkedArray | None]:
    """The values the format is decided on: a spread of rows, else the non-blank ones (then also the cleaned text)."""
    n = len(raw)
    picked = raw.take(pa.array(_sample_idx(n))).to_pylist() if n else []
    sample = [v.strip() for v in picked if v is not None and v.strip()]
    if sample:
        return sample, None
    t = clean_text(raw)  # the head and the spread are blank: look at the non-blank values themselves
    nonblank = np.flatnonzero(~t.is_null().to_numpy(zero_copy_only=False))
    if nonblank.size == 0:
        return [], t
    return t.take(pa.array(nonblank[_sample_idx(nonblank.size)])).to_pylist(), t


def _serial_text_dates(raw, column: str, source: str, *, cleaned: bool) -> tuple[np.ndarray, np.ndarray, DateInfo]:
    """Dates written as numbers in text (Excel serials, epoch seconds or milliseconds)."""
    t = raw if cleaned else clean_text(raw)
    num = pd.to_numeric(to_str_series(t), errors="coerce").to_numpy(dtype=float)
    blank = t.is_null().to_numpy(zero_copy_only=False)
    v, bad, info = _numeric_dates(num, column, source)
    return v, bad | (~blank & np.isnan(num)), info


def _check_bad_share(n_bad: int, n_vals: int, bad: np.ndarray, t, formats, column, source, loader) -> None:
    """More than half of a column's values unreadable in the detected format: not a date column, an error."""
    if n_bad and n_bad * 2 > n_vals:
        rows = np.flatnonzero(bad)
        shown = t.take(pa.array(rows[:5])).to_pylist()
        raise DateParseError(
            f"{loader}: {n_bad:,} of {n_vals:,} values in column {column!r} of {source} are not dates in the "
            f"detected format {' / '.join(formats)!r} ({format_rows(rows[:5], shown)}). "
            "Check that the column holds dates, or pass date_format='...' (e.g. '%d/%m/%Y %H:%M') or "
            f"columns={{...}} to use another column."
        )


def _numeric_dates(num: np.ndarray, column: str, source: str) -> tuple[np.ndarray, np.ndarray, DateInfo]:
    finite = np.isfinite(num)
    med = float(np.median(num[finite])) if finite.any() else 0.0
    if 1e12 <= med < 1e14:  # epoch milliseconds (HubSpot API exports)
        label = "epoch milliseconds"
        vals = np.where(finite, num, 0).astype(np.int64).astype("datetime64[ms]").astype("datetime64[us]")
        ok = finite
    elif 1e9 <= med < 1e11:  # epoch seconds
        label = "epoch seconds"
        vals = np.where(finite, num, 0).astype(np.int64).astype("datetime64[s]").astype("datetime64[us]")
        ok = finite
    elif 1 <= med < 2_958_466:  # Excel serial day numbers (1900 date system)
        label = "Excel serial days"
        ok = finite & (num >= 1) & (num < 2_958_466)
        micros = np.round(np.where(ok, num, 0) * 86_400_000_000).astype(np.int64)
        vals = _EXCEL_EPOCH + micros.astype("timedelta64[us]")
    else:
        raise DateParseError(
            f"column {column!r} of {source} holds numbers (median {med:g}) that are neither Excel serial dates "
            "nor epoch seconds/milliseconds. Pass columns={...} to choose the right date column."
        )
    out = np.where(ok, vals, np.datetime64("NaT"))
    return out.astype("datetime64[us]"), ~ok & ~np.isnan(num), DateInfo(column, [label])


def _detect_formats(sample: list[str], column: str, source: str, dayfirst: bool | None) -> tuple[list[str], DateInfo]:
    """The date format(s) of a column, decided on a sample of its values."""
    iso = [x for x in sample if _ISO_RE.match(x)]
    nums = [m for x in sample if (m := _NUM_RE.match(x))]
    info = DateInfo(column, [])
    if len(iso) >= len(nums) and iso:
        sep = _ISO_RE.match(iso[0]).group(1)
        bases = [f"%Y{sep}%m{sep}%d"]
    elif nums:
        bases = [_numeric_date_base(nums, column, source, dayfirst, info)]
    else:
        bases = list(_TEXT_MONTH_DATES)
    info.formats = _formats_reading(sample, [b + t for b in bases for t in _TIME_PARTS], iso, column, source)
    return info.formats, info


def _numeric_date_base(nums: list[re.Match], column: str, source: str, dayfirst: bool | None, info: DateInfo) -> str:
    """Day-first or month-first for numeric dates (``03/04/2024``): decided by the data, else ``dayfirst``.

    Sets ``info.dayfirst`` and ``info.ambiguous``; returns the date part of the format.
    """
    first = [int(m.group(1)) for m in nums]
    second = [int(m.group(3)) for m in nums]
    sep = Counter(m.group(2) for m in nums).most_common(1)[0][0]
    yr = "%Y" if len(nums[0].group(4)) == 4 else "%y"
    # a value is evidence only if exactly one of its first two fields can be a day above 12;
    # '32/13/2024' is simply not a date.  A few stray values (<= 10 % of the evidence) are
    # outvoted and end up as unparseable rows, counted in the report.
    n_day = sum(1 for a, b in zip(first, second) if 12 < a <= 31 and b <= 12)
    n_month = sum(1 for a, b in zip(first, second) if 12 < b <= 31 and a <= 12)
    minority = min(n_day, n_month)
    if minority and minority <= 0.1 * (n_day + n_month):
        n_day, n_month = (n_day, 0) if n_day > n_month else (0, n_month)
    if n_day and n_month:
        ex_d = next(m.group(0) for m in nums if 12 < int(m.group(1)) <= 31 and int(m.group(3)) <= 12)
        ex_m = next(m.group(0) for m in nums if 12 < int(m.group(3)) <= 31 and int(m.group(1)) <= 12)
        raise DateParseError(
            f"column {column!r} of {source} mixes day-first and month-first dates (e.g. {ex_d!r} and "
            f"{ex_m!r}), so no single format fits. Export the dates in one format (ISO yyyy-mm-dd is safest) "
            "or pass date_format='...'."
        )
    if n_day or n_month:
        df = n_day > 0
    else:
        info.ambiguous = True
        df = bool(dayfirst) if dayfirst is not None else (sep == ".")
    if dayfirst is not None and not info.ambiguous and dayfirst != df:
        ex = next(m.group(0) for m in nums if 12 < int(m.group(1 if df else 3)) <= 31)
        raise DateParseError(
            f"column {column!r} of {source}: dayfirst={dayfirst} was passed, but values such as {ex!r} can "
            f"only be {'day' if df else 'month'}-first. Drop dayfirst= to let the data decide, or pass "
            "date_format='...'."
        )
    info.dayfirst = df
    return f"%d{sep}%m{sep}{yr}" if df else f"%m{sep}%d{sep}{yr}"


def _formats_reading(sample: list[str], candidates: list[str], iso: list[str], column: str, source: str) -> list[str]:
    """Up to three candidate formats, best first, that together read the sample (ISO 8601 as the last resort)."""
    remaining = pa.array(sample, type=pa.large_string())
    chosen: list[str] = []
    for _ in range(3):
        scores = []
        for f in candidates:
            if f in chosen:
                continue
            ok = pc.sum(pc.is_valid(_strptime(remaining, f))).as_py() or 0
            scores.append((ok, -candidates.index(f), f))
        if not scores:
            break
        ok, _, f = max(scores)
        if ok == 0:
            break
        chosen.append(f)
        remaining = pc.filter(remaining, pc.is_null(_strptime(remaining, f)))
        if len(remaining) == 0:
            break
    if not chosen:
        if iso:  # last resort: ISO 8601 with fractions or offsets (handled by pandas)
            return ["ISO8601"]
        raise DateParseError(
            f"column {column!r} of {source} does not hold dates in a known format (first values: "
            f"{format_values(sample, 3)}). Expected ISO (2024-03-31), m/d/Y, d/m/Y, d.m.Y (with or without "
            "a time) or Excel serial numbers. Pass date_format='...' (strftime codes) or columns={...}."
        )
    if iso and len(remaining) and "ISO8601" not in chosen:
        chosen.append("ISO8601")
    return chosen


def _strptime(arr, fmt: str):
    if fmt == "ISO8601" or "%f" in fmt or "%z" in fmt:
        s = pd.Series(arr.to_pandas(), dtype=object)
        v = pd.to_datetime(s, format=fmt if fmt != "ISO8601" else "ISO8601", errors="coerce", utc=True)
        v = v.dt.tz_localize(None).astype("datetime64[us]")
        return pa.array(v, type=pa.timestamp("us"), from_pandas=True)
    return pc.strptime(arr, format=fmt, unit="us", error_is_null=True)


#: Formats Arrow's own ISO-8601 cast reads exactly (about 3x faster than strptime).
_ISO_CAST = frozenset({"%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"})


def _apply_formats(arr: pa.ChunkedArray, formats: list[str]) -> np.ndarray:
    """Apply the formats in turn: each later one only to values the earlier ones left."""
    out = None
    if formats[0] in _ISO_CAST and len(formats) == 1:
        try:  # all-or-nothing: raises on the first value it cannot read, then strptime decides
            out = pc.cast(arr, pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out = None
    if out is None:
        out = _strptime(arr, formats[0])
    res = _ts_numpy(out)
    for f in formats[1:]:
        todo = np.flatnonzero(np.isnat(res) & ~arr.is_null().to_numpy(zero_copy_only=False))
        if todo.size == 0:
            break
        sub = _strptime(arr.take(pa.array(todo)), f)
        res = res.copy() if not res.flags.writeable else res
        res[todo] = _ts_numpy(sub)
    return _reject_rollovers(arr, res, formats)


def _reject_rollovers(arr: pa.ChunkedArray, res: np.ndarray, formats: list[str]) -> np.ndarray:
    """NaT for impossible dates that strptime rolled over (``30/02/2024`` read as 2024-03-01).

    A rolled-over date lands on day 1-3 of the next month, so only those rows
    are checked: written back in the column's format(s), their numbers must be
    the text's (leading zeros and case aside).
    """
    fmts = [f for f in formats if f not in _ISO_CAST and f != "ISO8601" and not re.search(r"%[bBaAfz]", f)]
    if not fmts:
        return res
    day = res.astype("datetime64[D]")
    cand = np.flatnonzero(~np.isnat(res) & ((day - day.astype("datetime64[M]")).astype(np.int64) <= 2))
    if cand.size == 0:
        return res
    text = _digits_only(arr.take(pa.array(cand)))
    stamps = pa.array(res[cand], type=pa.timestamp("us"))
    ok = np.zeros(cand.size, bool)
    for f in fmts:
        ok |= pc.fill_null(pc.equal(_digits_only(pc.strftime(stamps, format=f)), text), False).to_numpy(
            zero_copy_only=False)  # fmt: skip
    if ok.all():
        return res
    res = res.copy() if not res.flags.writeable else res
    res[cand[~ok]] = np.datetime64("NaT")
    return res


def _digits_only(text) -> pa.Array:
    """The numbers of a date text without leading zeros, lower case: '05/01/2024 9:05 AM' == '5/1/2024 09:05 am'."""
    return pc.utf8_lower(pc.replace_substring_regex(text, r"(^|[^0-9])0+([0-9])", r"\1\2"))


def _ts_numpy(a) -> np.ndarray:
    if isinstance(a, pa.ChunkedArray):
        a = a.combine_chunks() if a.num_chunks != 1 else a.chunk(0)
    return a.to_numpy(zero_copy_only=False).astype("datetime64[us]", copy=False)


# ------------------------------------------------------------------ amounts
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "CHF": "CHF", "R$": "BRL",
            "kr": "SEK", "zł": "PLN", "A$": "AUD", "C$": "CAD", "US$": "USD"}
_CODE_RE = r"(?:^|[^A-Za-z])(?P<code>[A-Z]{3})(?:[^A-Za-z]|$)"


@dataclass
class AmountInfo:
    """How an amount column was read."""

    column: str
    decimal: str = "."
    n_bad: int = 0
    currency_from_text: bool = False


def parse_amounts(col: pa.ChunkedArray, *, column: str, source: str, loader: str = "load",
                  decimal: str | None = None) -> tuple[np.ndarray, np.ndarray, pd.Series | None, AmountInfo]:
    """Parse money text such as ``€ 2.900,00``, ``"$1,234.56"``, ``(1,200.00)``, ``1.234,5 EUR``.

    One decimal separator is decided per column from the values that show it
    (``1.234,50`` or ``12,5`` mean a decimal comma; ``1,234.50`` or ``12.5`` a
    decimal point).  Returns ``(values, bad, currency_or_None, info)``: NaN for
    blanks, ``bad`` marks non-blank values that are not amounts, and the
    currency code found in the text (``€`` -> ``EUR``) when any value has one.

    Raises
    ------
    AmountParseError
        The column mixes decimal commas and decimal points, or more than half
        of its values are not numbers.
    """
    n = len(col)
    info = AmountInfo(column)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
            v = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
            return v, np.zeros(n, bool), None, info
    # everything below runs in Arrow compute (RE2 regexes, C++ kernels): no per-value Python
    t = clean_text(col)
    t = t.combine_chunks() if t.num_chunks != 1 else t.chunk(0)
    blank = t.is_null().to_numpy(zero_copy_only=False)
    if blank.all():
        return np.full(n, np.nan), np.zeros(n, bool), None, info
    cur = _currency_in_text(t)
    info.currency_from_text = cur is not None
    neg = _matches(t, r"^\s*[^\d(]*\(.*\)\s*$") | _matches(t, r"\d\s*-$")
    core = pc.replace_substring_regex(pc.replace_substring_regex(t, r"[^\d,.\-]", ""), r"-$", "")
    info.decimal = decimal if decimal is not None else _decimal_mark(core, t, column, source, loader)
    if info.decimal == ",":
        num_text = pc.replace_substring(pc.replace_substring(core, ".", ""), ",", ".")
    else:
        num_text = pc.replace_substring(core, ",", "")
    valid = pc.fill_null(pc.match_substring_regex(num_text, r"^-?(\d+\.?\d*|\.\d+)$"), False)
    v = pc.cast(pc.if_else(valid, num_text, pa.scalar(None, num_text.type)), pa.float64())
    v = v.to_numpy(zero_copy_only=False).astype(float)
    v = np.where(neg & (v > 0), -v, v)
    bad = ~blank & ~np.isfinite(v)
    info.n_bad = int(bad.sum())
    n_vals = int((~blank).sum())
    if info.n_bad * 2 > n_vals:
        rows = np.flatnonzero(bad)
        shown = t.take(pa.array(rows[:5])).to_pylist()
        raise AmountParseError(
            f"{loader}: {info.n_bad:,} of {n_vals:,} values in column {column!r} of {source} are not amounts "
            f"({format_rows(rows[:5], shown)}). Expected numbers such as 1234.56, "
            "'$1,234.56' or '€ 2.900,00'. Pass columns={'amount': '...'} to use another column."
        )
    v = np.where(bad, np.nan, v)
    return v, bad, cur, info


def _matches(arr, pattern: str) -> np.ndarray:
    return pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(zero_copy_only=False)


def _currency_in_text(t: pa.Array) -> pd.Series | None:
    """Currency code of each amount written with one (``€ 2.900``, ``1.234,5 EUR``); None when none has one."""
    if not _matches(t, r"[^\d\s,.\-+()'’]").any():
        return None
    code = pc.struct_field(pc.extract_regex(t, _CODE_RE), "code")
    found = pc.if_else(pc.equal(code, ""), pa.scalar(None, code.type), code)
    for k in sorted(_SYMBOLS, key=len, reverse=True):  # a dozen symbols, each one vectorised pass
        hit = pc.fill_null(pc.match_substring(t, k), False)
        found = pc.if_else(pc.and_(hit, found.is_null()), pa.scalar(_SYMBOLS[k], found.type), found)
    if found.null_count == len(found):
        return None
    return pd.Series(to_str_series(pa.chunked_array([found])).to_numpy(dtype=object))


def _decimal_mark(core: pa.Array, t: pa.Array, column: str, source: str, loader: str) -> str:
    """The column's one decimal separator, from the values that show it; mixing both is an error."""
    comma_dec = _matches(core, r"^-?\d{1,3}(\.\d{3})+,\d*$|^-?\d*,\d{1,2}$|^-?\d+,\d{4,}$|^-?\d{1,3}(\.\d{3}){2,}$")
    dot_dec = _matches(core, r"^-?\d{1,3}(,\d{3})+\.\d*$|^-?\d*\.\d{1,2}$|^-?\d+\.\d{4,}$|^-?\d{1,3}(,\d{3}){2,}$")
    nc, nd = int(comma_dec.sum()), int(dot_dec.sum())
    if nc and nd:
        ex_c = t[int(np.flatnonzero(comma_dec)[0])].as_py()
        ex_d = t[int(np.flatnonzero(dot_dec)[0])].as_py()
        raise AmountParseError(
            f"{loader}: column {column!r} of {source} mixes decimal commas and decimal points "
            f"(e.g. {ex_c!r} and {ex_d!r}), so the amounts cannot be read safely. Export amounts in one number "
            "format, or pass a cleaned numeric column."
        )
    if nc:
        return ","
    if not nd and _matches(core, r"^-?\d{1,3}\.\d{3}$").any():
        return ","  # only '1.500'-style values: dots group thousands (European)
    return "."


# ------------------------------------------------------------------ durations
def _float_values(col: pa.ChunkedArray) -> np.ndarray:
    """Convert a numeric column to float64 (nulls NaN), chunk by chunk into one numpy array."""
    out = np.empty(len(col), dtype=np.float64)
    start = 0
    for chunk in col.chunks:
        vals = pc.cast(chunk, pa.float64()) if chunk.type != pa.float64() else chunk
        out[start : start + len(chunk)] = pc.fill_null(vals, np.nan).to_numpy() if vals.null_count else vals.to_numpy()
        start += len(chunk)
    return out


def _timestamp_values(col: pa.ChunkedArray) -> np.ndarray:
    """Convert a tz-naive timestamp column to ``datetime64[us]`` (nulls NaT), chunk by chunk."""
    out = np.empty(len(col), dtype="datetime64[us]")
    start = 0
    for chunk in col.chunks:
        out[start : start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)  # converts the unit if needed
        start += len(chunk)
    return out


def parse_durations(col: pa.ChunkedArray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """Durations in minutes from numbers in ``unit`` (ms, s, min) or colon text.

    Colon text is h:m:s (``1:02:03``); two parts are m:s for ``unit='mmss'``
    and h:m otherwise.  Returns ``(minutes, bad)``.
    """
    n = len(col)
    factor = {"ms": 1 / 60_000, "s": 1 / 60, "min": 1.0, "mmss": 1 / 60, "hhmm": 1.0}[unit]
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        v = _float_values(col)
        if factor != 1.0:
            v *= factor
        return v, np.zeros(n, bool)
    t = clean_text(col)
    blank = t.is_null().to_numpy(zero_copy_only=False)
    if n == 0 or blank.all():
        return np.full(n, np.nan), np.zeros(n, bool)
    try:  # fast path: plain numbers, one C++ cast
        v = pc.cast(t, pa.float64()).to_numpy(zero_copy_only=False).astype(float) * factor
        return v, np.zeros(n, bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parts = pc.extract_regex(t, r"^(?P<a>\d+):(?P<b>\d{1,2})(?::(?P<c>\d{1,2}(?:\.\d+)?))?$")

    def num(x):
        x = pc.if_else(pc.equal(x, ""), pa.scalar(None, pa.large_string()), x)
        return pc.cast(x, pa.float64()).to_numpy(zero_copy_only=False).astype(float)

    a, b, c = (num(pc.struct_field(parts, f)) for f in ("a", "b", "c"))
    colon = ~np.isnan(a)
    three = colon & ~np.isnan(c)
    two_minutes = a + b / 60 if unit == "mmss" else a * 60 + b
    clock = np.where(three, a * 60 + b + np.nan_to_num(c) / 60, two_minutes)
    # numbers with a unit suffix ("90 s", "1,5 min") or decimal commas
    numeric = pc.extract_regex(pc.replace_substring(t, ",", "."),
                               r"^\s*(?P<v>\d+(?:\.\d+)?)\s*(?P<u>ms|sec|secs|seconds|s|min|mins|minutes|m|h|hrs|hours)?\s*$")
    value = num(pc.struct_field(numeric, "v"))
    u = pc.struct_field(numeric, "u")
    per_unit = {"ms": 1 / 60_000, "sec": 1 / 60, "secs": 1 / 60, "seconds": 1 / 60, "s": 1 / 60, "min": 1.0,
                "mins": 1.0, "minutes": 1.0, "m": 1.0, "h": 60.0, "hrs": 60.0, "hours": 60.0}
    uf = map_text(pc.utf8_lower(pc.if_else(pc.equal(u, ""), pa.scalar(None, pa.large_string()), u)),
                  lambda x: per_unit.get(x))
    uf = pc.cast(uf, pa.float64()).to_numpy(zero_copy_only=False).astype(float)
    number = value * np.where(np.isnan(uf), factor, uf)
    out = np.where(colon, clock, number)
    bad = ~blank & ~np.isfinite(out)
    return np.where(bad, np.nan, out), bad


def parse_bool(col: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean flags from ``1/0``, ``true/false``, ``yes/no``.  Returns ``(value, known)``."""
    from salesgoals.io._vendors import FALSE_VALUES, TRUE_VALUES

    s = text_values(col).str.strip().str.lower().fillna("")
    t = s.isin(TRUE_VALUES).to_numpy(dtype=bool)
    f = s.isin(FALSE_VALUES - {""}).to_numpy(dtype=bool)
    return t, t | f
