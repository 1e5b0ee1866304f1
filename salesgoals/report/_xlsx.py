"""The report's views as an Excel workbook, one sheet per view (openpyxl, an optional dependency)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from salesgoals.errors import SalesgoalsError

__all__ = ["write_workbook"]

_MONEY_WORDS = ("Revenue", "Low", "High", "Target", "Gap", "Won revenue", "Average deal", "Interval")


def write_workbook(views: dict[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write each view to its own sheet: bold header, frozen first row, widths to fit, number formats."""
    _require_openpyxl()
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    p = Path(path)
    with pd.ExcelWriter(p, engine="openpyxl") as xw:
        for name, frame in views.items():  # a handful of sheets
            sheet = name[:31]
            frame.to_excel(xw, sheet_name=sheet, index=False)
            ws = xw.sheets[sheet]
            ws.freeze_panes = "A2"
            for j, col in enumerate(frame.columns, start=1):
                ws.cell(row=1, column=j).font = Font(bold=True)
                width = max([len(str(col)), *frame[col].astype(str).str.len().head(200).tolist()]) if len(frame) else 10
                ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 60)
                fmt = _number_format(str(col), frame[col])
                if fmt:
                    for row in range(2, len(frame) + 2):
                        ws.cell(row=row, column=j).number_format = fmt
    return p


def _require_openpyxl() -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SalesgoalsError(
            "report: writing .xlsx needs openpyxl; install it with `pip install salesgoals[report]` "
            "(or pip install openpyxl), or leave out --xlsx."
        ) from exc


def _number_format(col: str, s: pd.Series) -> str | None:
    if not pd.api.types.is_numeric_dtype(s):
        return None
    if "odds" in col.lower() or col in ("Win rate", "Stated odds", "Share reached", "Difference"):
        return "0%"
    if any(w in col for w in _MONEY_WORDS):
        return "#,##0"
    if pd.api.types.is_integer_dtype(s):
        return "#,##0"
    return "#,##0.0"
