"""The one :class:`Summary`: what every result object's ``.summary()`` returns.

Like statsmodels' summaries it prints as plain text (``str()``) and renders as
HTML in Jupyter (``_repr_html_``).  A summary is a title, optional key facts,
free-text lines, captioned tables and notes; each result object picks the
parts it needs.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["Summary", "fmt_float"]


def fmt_float(x: float) -> str:
    """Compact number for summary tables: thousands separated, about three significant digits below 1,000.

    Examples
    --------
    >>> [fmt_float(x) for x in (0.0, 0.012345, 3.14159, 123.456, 12345.6, float("nan"))]
    ['0', '0.0123', '3.14', '123.5', '12,346', 'nan']
    """
    if not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax == 0:
        return "0"
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 1:
        return f"{x:.3g}" if ax < 100 else f"{x:.1f}"
    return f"{x:.3g}"


Tables = Mapping[str, pd.DataFrame] | Sequence[tuple[str, pd.DataFrame]] | pd.DataFrame | None


class Summary:
    """A printable report: a title, key facts, lines of text, captioned tables and notes.

    ``str()`` gives plain text; Jupyter renders :meth:`_repr_html_`.

    Parameters
    ----------
    title : str
        First line.
    lines : sequence of str, optional
        Free-text lines shown under the title (and the facts).
    tables : DataFrame, dict of caption -> DataFrame, or list of (caption, DataFrame), optional
        Tables in order; a single frame is shown without a caption.  Empty
        tables are left out.
    facts : dict, optional
        ``name -> value`` pairs shown as an aligned block under the title.
    notes : sequence of str, optional
        Warnings and caveats, shown last as a bulleted list.
    float_format : callable, optional
        Formats the floats of the tables (e.g. :func:`fmt_float`); default: pandas'.

    Examples
    --------
    >>> s = Summary("Title", ["one line"], {"t": pd.DataFrame({"a": [1]})}, facts={"reps": 3}, notes=["a note"])
    >>> print(s)
    Title
    =====
    reps  3
    one line
    <BLANKLINE>
    t
    -
     a
     1
    <BLANKLINE>
    Notes
    * a note
    >>> "<table" in s._repr_html_()
    True
    """

    def __init__(
        self,
        title: str,
        lines: Sequence[str] | None = None,
        tables: Tables = None,
        *,
        facts: Mapping[str, object] | None = None,
        notes: Sequence[str] | None = None,
        float_format=None,
    ) -> None:
        self.title = title
        self.lines = list(lines or [])
        self.tables = _as_captioned(tables)
        self.facts = dict(facts or {})
        self.notes = list(notes or [])
        self.float_format = float_format

    @property
    def table(self) -> pd.DataFrame | None:
        """The first table (``None`` without tables)."""
        return self.tables[0][1] if self.tables else None

    def __str__(self) -> str:
        out = [self.title, "=" * len(self.title)]
        width = max((len(str(k)) for k in self.facts), default=0)
        out += [f"{k!s:<{width}}  {v}" for k, v in self.facts.items()]
        out += self.lines
        for caption, frame in self.tables:
            out.append("")
            if caption:
                out += [caption, "-" * len(caption)]
            out.append(frame.to_string(index=False, float_format=self.float_format))
        if self.notes:
            out += ["", "Notes", *(f"* {n}" for n in self.notes)]
        return "\n".join(out)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.facts:
            rows = "".join(
                f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                for k, v in self.facts.items()
            )
            parts.append(f"<table>{rows}</table>")
        parts += [f"<p>{html.escape(line)}</p>" for line in self.lines]
        for caption, frame in self.tables:
            if caption:
                parts.append(f"<h5>{html.escape(caption)}</h5>")
            parts.append(frame.to_html(index=False, float_format=self.float_format, border=0))
        if self.notes:
            parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        return "<div>" + "\n".join(parts) + "</div>"


def _as_captioned(tables: Tables) -> list[tuple[str, pd.DataFrame]]:
    if tables is None:
        return []
    if isinstance(tables, pd.DataFrame):
        pairs = [("", tables)]
    elif isinstance(tables, Mapping):
        pairs = list(tables.items())
    else:
        pairs = [(str(c), f) for c, f in tables]
    return [(c, f) for c, f in pairs if f is not None and len(f)]
