"""Exceptions and warnings raised by salesgoals.

Every exception derives from :class:`SalesgoalsError` and also from the builtin
that fits (``ValueError`` for a wrong value, ``TypeError`` for a wrong kind of
object), so ``except ValueError`` keeps working in user code, as with
``pandas.errors.ParserError``.

Messages follow one pattern: *what* was being done, *where* (file, column,
first offending rows and values), *what was expected*, and *how to fix it*.
Helpers at the bottom of this module build those parts consistently.

Examples
--------
>>> import salesgoals as sg
>>> issubclass(sg.errors.SchemaError, ValueError)
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "SalesgoalsError",
    "SchemaError",
    "DateParseError",
    "AmountParseError",
    "FileFormatError",
    "DataQualityError",
    "InsufficientDataError",
    "NotFittedError",
    "SalesgoalsWarning",
    "DataQualityWarning",
    "UnreliableEstimateWarning",
    "ConvergenceWarning",
]


class SalesgoalsError(Exception):
    """Base class of every error salesgoals raises on purpose."""


class SchemaError(SalesgoalsError, ValueError):
    """A column is missing, duplicated, ambiguous or of the wrong kind."""


class DateParseError(SalesgoalsError, ValueError):
    """Date values could not be parsed with one consistent format."""


class AmountParseError(SalesgoalsError, ValueError):
    """Money values could not be parsed as numbers."""


class FileFormatError(SalesgoalsError, ValueError):
    """A file cannot be read: unknown extension, encoding, delimiter or header."""


class DataQualityError(SalesgoalsError, ValueError):
    """The data are readable but unusable as given (for example no rows left)."""


class InsufficientDataError(SalesgoalsError, ValueError):
    """There is too little data for the requested analysis to mean anything."""


class NotFittedError(SalesgoalsError, ValueError, AttributeError):
    """An estimator was used before ``fit`` was called."""


class SalesgoalsWarning(UserWarning):
    """Base class of salesgoals warnings."""


class DataQualityWarning(SalesgoalsWarning):
    """Rows were excluded or values repaired while loading; counts are in the message."""


class UnreliableEstimateWarning(SalesgoalsWarning):
    """The data cannot support a confident answer; intervals are wide."""


class ConvergenceWarning(SalesgoalsWarning):
    """An iterative fit did not converge; the message suggests a remedy."""


# --------------------------------------------------------------------------- helpers
def format_values(values: Iterable[Any], limit: int = 5) -> str:
    """Render the first ``limit`` values for an error message, with a count of the rest.

    Examples
    --------
    >>> format_values(["a", "b", "c"], limit=2)
    "'a', 'b' (+1 more)"
    """
    values = list(values)
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:limit])
    rest = len(values) - limit
    return f"{shown} (+{rest:,} more)" if rest > 0 else shown


def format_rows(rows: Sequence[int], values: Sequence[Any] | None = None, limit: int = 5) -> str:
    """Describe offending rows as ``row 12 ('13/31/2024'), row 40 ('x')``.

    Row numbers are 1-based data rows as a spreadsheet user counts them below
    the header, so ``row 1`` is the first line of data.

    Examples
    --------
    >>> format_rows([11, 39], ["13/31/2024", "x"])
    "row 12 ('13/31/2024'), row 40 ('x')"
    """
    rows = list(rows)
    parts = []
    for j, r in enumerate(rows[:limit]):
        part = f"row {int(r) + 1}"
        if values is not None:
            v = values[j]
            part += f" ({(v.item() if hasattr(v, 'item') else v)!r})"
        parts.append(part)
    rest = len(rows) - limit
    out = ", ".join(parts)
    return f"{out} (+{rest:,} more)" if rest > 0 else out


def source_name(source: Any) -> str:
    """Name of an input for messages: the file name, or ``'<DataFrame>'``.

    Examples
    --------
    >>> source_name("data/deals.csv")
    "'deals.csv'"
    """
    if isinstance(source, (str, os.PathLike)):
        return repr(os.path.basename(os.fspath(source)))
    return "'<DataFrame>'"
