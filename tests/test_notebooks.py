"""Execute every example notebook top to bottom; check the house rules for notebooks.

Each ``notebooks/*.ipynb`` runs in a fresh kernel of the interpreter running the
tests (not whatever ``python3`` kernel a user has registered), with the
working directory ``notebooks/`` so relative paths such as
``../data/samples/...`` resolve as they do for a reader.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat  # noqa: E402
import pytest
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import KernelManager  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))

#: Seconds one cell may run; notebooks aim at < 60 s in total, this only stops a hang.
CELL_TIMEOUT_S = 300
KERNEL_NAME = "salesgoals-test-python"


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/*.ipynb found"


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernelspec that starts ``sys.executable``, so the notebooks see this environment."""
    root = tmp_path_factory.mktemp("kernels")
    spec = root / KERNEL_NAME
    spec.mkdir()
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "salesgoals tests",
                "language": "python",
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
            }
        )
    )
    return root


def _read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path, kernel_dir: Path):
    nb = _read(path)
    km = KernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:  # show which notebook and the cell's traceback
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_follows_house_rules(path: Path):
    """Committed without outputs; opens with a markdown cell; imports sg; ends by printing versions."""
    nb = _read(path)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c for c in code if c.get("outputs") or c.get("execution_count")], (
        f"{path.name} is committed with outputs; rebuild it (notebooks/_build) or clear outputs"
    )
    assert nb.cells[0].cell_type == "markdown"
    assert any("import salesgoals as sg" in c.source for c in code)
    last = code[-1].source
    assert (
        "__version__" in last and "pandas" in last and "statsmodels" in last and "sklearn" in last
    )
