"""Which export header feeds which canonical column: detection by resolvability.

Every known layout (each vendor's report labels, API / backup names and
warehouse-sync spellings, all in :mod:`salesgoals.io._vendors`) is scored on
how many canonical fields it resolves in a file; the best layout is taken, and
a field it cannot resolve is taken from any other layout that can, then from
the generic word matcher (:data:`~salesgoals.io._vendors.DEAL_WORDS`,
:data:`~salesgoals.io._vendors.ACTIVITY_WORDS`), which reads headers as words
(``sales_agent``, ``engage_date``, ``close_value``, ``dealowner``) and checks
the values (a date column must parse as dates, an amount column must be
numbers or currency text, a stage column must have few distinct values).

Nothing here reads a whole file: the value checks look at a sample (the
first 256 KB of a text file, the first rows of a frame).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from salesgoals.errors import SalesgoalsError
from salesgoals.io import _parse
from salesgoals.io import _vendors as V

__all__ = ["Resolution", "header_keys", "resolve_layout", "header_words"]

_DNM_SKIP = re.compile(r"^\s*\(do not modify\)\s*(row checksum|modified on)", re.I)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^0-9a-z]+")
#: Generic words are matched inside a run-together header only from this length on
#: (``dealowner`` holds ``owner``; ``rep`` inside ``report`` must not count).
_MIN_SUBSTRING = 4


def _strip_prefix(header: str) -> str | None:
    """A header without its entity or sync prefix (``Deal - Owner`` -> ``Owner``), or None."""
    h = V.ENTITY_PREFIX.sub("", header, count=1)
    key = V.norm_header(h)
    for p in V.HEADER_PREFIXES:
        if key.startswith(p) and len(key) > len(p):
            return key[len(p):]
    return key if h != header else None


def header_keys(headers: Sequence[str]) -> dict[str, str]:
    """Normalised key -> header: exact keys first, then keys without prefixes.

    Dynamics checksum columns are skipped.  ``property_hubspot_owner_id``
    (a Fivetran HubSpot sync) is also found as ``hubspotownerid``, and
    ``Deal - Owner`` (Pipedrive) as ``owner``, unless a header already has
    that key.

    Examples
    --------
    >>> header_keys(["Close Date", "property_dealstage"])
    {'closedate': 'Close Date', 'propertydealstage': 'property_dealstage', 'dealstage': 'property_dealstage'}
    """
    keys: dict[str, str] = {}
    for h in headers:
        if not _DNM_SKIP.match(h):
            keys.setdefault(V.norm_header(h), h)
    for h in headers:
        if not _DNM_SKIP.match(h):
            s = _strip_prefix(h)
            if s:
                keys.setdefault(s, h)
    return keys


def header_words(header: str) -> tuple[list[str], str]:
    """Tokens of a header (``closeValue`` -> ``close``, ``value``) and its run-together key."""
    h = V.ENTITY_PREFIX.sub("", str(header), count=1)
    tokens = [t for t in _SPLIT.split(_CAMEL.sub(" ", h).lower()) if t]
    while tokens and tokens[0] in V.HEADER_PREFIXES:
        tokens = tokens[1:]
    return tokens, "".join(tokens)


@dataclass
class Resolution:
    """What detection decided for one input.

    Attributes
    ----------
    vendor : str
        Layout taken (a key of :data:`~salesgoals.io._vendors.VENDORS`).
    mapping : dict
        Canonical field -> header.
    origin : dict
        Canonical field -> where the mapping came from: a layout label
        (``"HubSpot"``), ``"generic words"`` or ``"columns="``.
    alternatives : dict
        Canonical field -> other headers that could have fed it.
    scores : dict
        Layout -> (required fields resolved, fields resolved, vendor-specific headers seen).
    """

    vendor: str
    mapping: dict[str, str] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)
    alternatives: dict[str, list[str]] = field(default_factory=dict)
    scores: dict[str, tuple[int, int, float]] = field(default_factory=dict)

    def describe(self) -> str:
        """One line: layout and the header used for each field, e.g. ``rep <- 'Owner' (HubSpot)``."""
        parts = [f"{c} <- {h!r}" + (f" ({self.origin[c]})" if self.origin.get(c) != V.VENDOR_LABELS[self.vendor]
                                     else "") for c, h in self.mapping.items()]  # fmt: skip
        return f"layout {V.VENDOR_LABELS[self.vendor]}: " + ", ".join(parts)


def _alias_mapping(keys: Mapping[str, str], specs: Sequence[Mapping[str, list[str]]], canon: Sequence[str],
                   taken: set[str] = frozenset()) -> dict[str, str]:
    """Canonical field -> header by the aliases of ``specs`` (first spec first; a header feeds one field)."""
    mapping: dict[str, str] = {}
    used = set(taken)
    for spec in specs:
        for c in canon:
            if c in mapping:
                continue
            for alias in spec.get(c, []):
                h = keys.get(V.norm_header(alias))
                if h is not None and h not in used:
                    mapping[c] = h
                    used.add(h)
                    break
    return mapping


def _signature(headers: Sequence[str], keys: Mapping[str, str], table, vendor: str) -> float:
    """How many headers only this vendor uses (its own aliases and signature columns)."""
    generic = {V.norm_header(a) for aliases in table["generic"].values() for a in aliases}
    own = {V.norm_header(a) for aliases in table[vendor].values() for a in aliases} - generic
    own |= set(V.SIGNATURES[vendor])
    score = float(len(set(keys) & own))
    if vendor == "pipedrive":
        score += 2 * sum(bool(re.match(r"^\s*(deal|activity|person|organization)\s+-\s+", h, re.I)) for h in headers)
    if vendor == "close":
        score += 2 * sum(h.strip() == "_type" for h in headers)
    if vendor == "dynamics":
        score += 3 * sum(bool(re.match(r"^\s*\(do not modify\)", h, re.I)) for h in headers)
    return score


def _rank_layouts(headers, keys, table, canon, required) -> tuple[dict[str, dict[str, str]], dict[str, tuple]]:
    mappings, scores = {}, {}
    for v in V.VENDORS:
        m = _alias_mapping(keys, [table[v], table["generic"]], canon)
        sig = 0.0 if v == "generic" else _signature(headers, keys, table, v)
        mappings[v] = m
        scores[v] = (sum(c in m for c in required), len(m), sig)
    return mappings, scores


def _best(scores: Mapping[str, tuple]) -> str:
    """Most required fields, then most fields plus vendor-specific headers.

    A vendor none of whose own headers is present adds nothing to the generic
    layout, so it is not a candidate; ties go to the order of ``VENDORS``.
    """
    cands = [v for v in V.VENDORS if v == "generic" or scores[v][2] >= 1]
    return max(cands, key=lambda v: (scores[v][0], scores[v][1] + scores[v][2], -cands.index(v)))


# ------------------------------------------------------------------ generic words
def _word_rank(header: str, words: Sequence[object], banned: Sequence[str]) -> tuple[int, int] | None:
    tokens, run = header_words(header)
    if not tokens or any(b in tokens for b in banned):
        return None
    for i, w in enumerate(words):
        parts = w if isinstance(w, tuple) else (w,)
        if all(p in tokens for p in parts):
            return (0, i)
    for i, w in enumerate(words):
        parts = w if isinstance(w, tuple) else (w,)
        if len(tokens) == 1 and all(len(p) >= _MIN_SUBSTRING and p in run for p in parts):
            return (1, i)
    return None


def values_fit(values: pa.Array | None, kind: str, header: str) -> bool:
    """Do the sampled values look like a ``kind`` column (date, amount, few, text)?"""
    if values is None or kind == "text":
        return True
    vals = values.drop_null() if values.null_count else values
    if len(vals) == 0:
        return kind != "amount"  # an empty column fits nothing numeric, but a blank date column may be a date
    typ = vals.type
    textual = pa.types.is_string(typ) or pa.types.is_large_string(typ)
    if kind == "date":
        if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
            return True
        tokens, _ = header_words(header)
        numeric_text = textual and all(re.fullmatch(r"-?\d+(\.\d+)?", str(x)) for x in vals.to_pylist()[:50])
        if (not textual or numeric_text) and not {"date", "time", "timestamp", "at", "on", "dt"} & set(tokens):
            return False  # plain numbers are dates only under a date-like header (Excel serials, epochs)
        return _parse_ok(lambda c: _parse.parse_dates(c, column=header, source="")[1], vals)
    if kind == "amount":
        if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
            return True
        if not textual:
            return False
        return _parse_ok(lambda c: _parse.parse_amounts(c, column=header, source="")[1], vals)
    # few distinct text values (stage, type, outcome)
    if not textual and not pa.types.is_dictionary(typ):
        return False
    text = [str(x).strip() for x in vals.to_pylist()]
    if all(re.fullmatch(r"-?[\d.,]+", x) for x in text):
        return False
    distinct = set(text)
    few = len(distinct) <= 60 and (len(distinct) <= max(3, len(text) // 2))
    if kind == "types":  # and at least one value names a known activity type (Call, emails, Phone call)
        keys = {V.norm_value(x) for x in distinct}
        return few and any(k in V.TYPE_VALUES or k.rstrip("s") in V.TYPE_VALUES for k in keys)
    return few


def _parse_ok(fn: Callable[[pa.ChunkedArray], np.ndarray], vals: pa.Array) -> bool:
    try:
        bad = fn(pa.chunked_array([vals]))
    except (SalesgoalsError, ValueError, TypeError, pa.ArrowException):
        return False
    return float(np.mean(bad)) <= 0.2


def word_candidates(headers: Sequence[str], field_name: str, words: V.FieldWords,
                    sample: Callable[[str], pa.Array | None]) -> list[str]:
    """Headers whose words name ``field_name`` and whose values fit it, best first."""
    kind, wlist, banned = words[field_name]
    ranked = []
    for pos, h in enumerate(headers):
        if _DNM_SKIP.match(h):
            continue
        r = _word_rank(h, wlist, banned)
        if r is not None:
            ranked.append((r, pos, h))
    return [h for _, _, h in sorted(ranked) if values_fit(sample(h), kind, h)]


# ------------------------------------------------------------------ front door
def resolve_layout(headers: Sequence[str], table: Mapping[str, Mapping[str, list[str]]], words: V.FieldWords,
                   crm: str, canon: Sequence[str], required: Sequence[str],
                   sample: Callable[[str], pa.Array | None]) -> Resolution:
    """Pick the layout that resolves most fields, then fill its gaps from the others and the word matcher.

    ``crm`` other than ``"auto"`` fixes the layout, but a field it cannot
    resolve is still looked for elsewhere.
    """
    keys = header_keys(headers)
    mappings, scores = _rank_layouts(headers, keys, table, canon, required)
    vendor = _best(scores) if crm == "auto" else crm
    res = Resolution(vendor=vendor, scores=scores)
    label = V.VENDOR_LABELS[vendor]
    res.mapping = dict(mappings[vendor])
    res.origin = {c: label for c in res.mapping}
    order = sorted((v for v in V.VENDORS if v != vendor), key=lambda v: scores[v], reverse=True)
    for c in canon:  # a field the layout misses, from the layout that resolves it
        if c in res.mapping:
            continue
        for v in order:
            h = mappings[v].get(c)
            if h is not None and h not in res.mapping.values():
                res.mapping[c], res.origin[c] = h, V.VENDOR_LABELS[v]
                break
    found = {c: word_candidates(headers, c, words, sample) for c in canon if c in words}
    for c in canon:  # then from the words
        if c in res.mapping:
            continue
        free = [h for h in found.get(c, []) if h not in res.mapping.values()]
        if free:
            res.mapping[c], res.origin[c] = free[0], "generic words"
    for c in canon:
        alts = [mappings[v][c] for v in V.VENDORS if c in mappings[v]] + found.get(c, [])
        res.alternatives[c] = [h for h in dict.fromkeys(alts) if h != res.mapping.get(c)]
    res.mapping = {c: res.mapping[c] for c in canon if c in res.mapping}
    return res
