"""What every notebook builder shares: the closing versions cells and the writer.

A builder lists its cells, ends them with ``*versions_cells()``, makes ``NB =
notebook(cells, id_prefix="nbNN")`` and writes it with ``write(NB, OUT)`` when
run as a script.  Cell ids are stable (``nbNN-00``, ``nbNN-01``, ...), so
rebuilding gives the same file byte for byte (tests/test_notebooks.py checks
every committed notebook against its builder).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: The kernel every notebook names; the tests run them in a kernel of their own interpreter.
METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def versions_cells() -> list:
    """The closing "Versions" heading and the cell printing salesgoals, pandas, statsmodels and scikit-learn versions."""
    return [
        new_markdown_cell("## Versions"),
        new_code_cell(
            """import sklearn
import statsmodels

print("salesgoals", sg.__version__, "| pandas", pd.__version__, "| statsmodels", statsmodels.__version__,
      "| scikit-learn", sklearn.__version__)"""
        ),
    ]


def notebook(cells: list, *, id_prefix: str) -> nbformat.NotebookNode:
    """The notebook of ``cells`` with stable ids ``{id_prefix}-00``, ... and the shared metadata, validated."""
    for i, cell in enumerate(cells):
        cell["id"] = f"{id_prefix}-{i:02d}"
    nb = new_notebook(cells=cells, metadata={k: dict(v) for k, v in METADATA.items()})
    nbformat.validate(nb)
    return nb


def text(nb: nbformat.NotebookNode) -> str:
    """The file's exact text (what ``nbformat.write`` writes)."""
    s = nbformat.writes(nb)
    return s if s.endswith("\n") else s + "\n"


def write(nb: nbformat.NotebookNode, out: Path) -> None:
    """Write ``nb`` (without outputs) to ``out``."""
    out.write_text(text(nb), encoding="utf-8")
    print(f"wrote {out}")
