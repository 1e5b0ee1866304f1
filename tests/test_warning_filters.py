"""No blanket warning filters: not in the tests, the notebook builders, the notebooks or the reference studies.

A filter that ignores warnings must name both the category and the message it expects
(``warnings.filterwarnings("ignore", message=..., category=...)``), so a new warning (a pandas
deprecation, a data-quality note nobody expected) still shows.  ``simplefilter("ignore", ...)`` cannot name
a message, so it is not allowed here at all.  Tests name what they expect through
``tests/expected_warnings.py`` (or ``pytest.warns(..., match=...)`` where the warning is the point);
``simplefilter("always")`` or ``("error")`` to record or forbid warnings is fine.  The same holds for
``pytest.mark.filterwarnings("ignore:...")`` marks: they need a message and a category.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = sorted((ROOT / "notebooks" / "_build").glob("build_*.py"))
REFERENCE = sorted((ROOT / "tests" / "reference").glob("*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TESTS = sorted((ROOT / "tests").glob("*.py"))  # the test modules, conftest.py and their helpers


def blanket_filters(source: str) -> list[str]:
    """``filename:line`` of every ignore filter in ``source`` that does not name a category and a message."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name == "filterwarnings" and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "mark":
            bad += _blanket_marks(node)
            continue
        if name not in ("simplefilter", "filterwarnings") or not node.args:
            continue
        action = node.args[0]
        if not (isinstance(action, ast.Constant) and action.value == "ignore"):
            continue
        kw = {k.arg for k in node.keywords}
        has_message = len(node.args) >= 2 or "message" in kw
        has_category = len(node.args) >= 3 or "category" in kw
        if name == "simplefilter" or not (has_message and has_category):
            bad.append(f"line {node.lineno}: {ast.unparse(node)}")
    return bad


def _blanket_marks(node: ast.Call) -> list[str]:
    """``pytest.mark.filterwarnings("ignore:message:category")`` marks whose message or category is empty."""
    bad = []
    for arg in node.args:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("ignore"):
            parts = arg.value.split(":")
            if len(parts) < 3 or not parts[1].strip() or not parts[2].strip():
                bad.append(f"line {node.lineno}: {ast.unparse(node)}")
    return bad


def _notebook_code(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not c.source.lstrip().startswith("%"))


@pytest.mark.parametrize("path", BUILDERS + REFERENCE, ids=lambda p: p.name)
def test_no_blanket_warning_filters_in_builders_and_studies(path: Path):
    # a builder's cells are strings: the notebooks it writes are checked below
    bad = blanket_filters(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.name}: name the category and the message of the expected warnings: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_blanket_warning_filters_in_notebooks(path: Path):
    bad = blanket_filters(_notebook_code(path))
    assert not bad, f"{path.name}: {bad}"


@pytest.mark.parametrize("path", TESTS, ids=lambda p: p.name)
def test_no_blanket_warning_filters_in_the_tests(path: Path):
    bad = blanket_filters(path.read_text(encoding="utf-8"))
    assert not bad, (f"{path.name}: ignore only the warnings the test expects, by category and message "
                     f"(tests/expected_warnings.py, or pytest.warns(..., match=...)): {bad}")  # fmt: skip


def test_the_check_finds_blanket_filters():
    found = blanket_filters(
        "import warnings\n"
        "warnings.simplefilter('ignore')\n"
        "warnings.simplefilter('ignore', UserWarning)\n"
        "warnings.filterwarnings('ignore', category=UserWarning)\n"
        "warnings.filterwarnings('ignore', message='x: ')\n"
        "warnings.filterwarnings('ignore', message='x: ', category=UserWarning)\n"
        "warnings.filterwarnings('ignore', 'x: ', UserWarning)\n"
        "warnings.simplefilter('error')\n"
    )
    assert [f.split(":")[0] for f in found] == ["line 2", "line 3", "line 4", "line 5"]


def test_the_check_finds_blanket_marks():
    found = blanket_filters(
        "import pytest\n"
        "@pytest.mark.filterwarnings('ignore::UserWarning')\n"
        "@pytest.mark.filterwarnings('ignore:few reps:')\n"
        "@pytest.mark.filterwarnings('ignore')\n"
        "@pytest.mark.filterwarnings('ignore:few reps:UserWarning')\n"
        "@pytest.mark.filterwarnings('error::UserWarning')\n"
        "def test_x(): pass\n"
    )
    assert [f.split(":")[0] for f in found] == ["line 2", "line 3", "line 4"]


def test_the_helper_refuses_a_blanket_in_disguise():
    from expected_warnings import ignoring

    for blanket in (".*", "", r"\w*"):
        with pytest.raises(ValueError, match="matches any message"), ignoring(UserWarning, blanket):
            pass
    with pytest.raises(TypeError, match="at least one message pattern"), ignoring(UserWarning):
        pass


LIBRARY = sorted((ROOT / "salesgoals").rglob("*.py"))
#: Categories the library must never silence: they are how numpy, pandas and statsmodels announce that a call
#: will change or stop working, and the suite turns FutureWarning into an error to hear them in time.
NEVER_SILENCED = {"Warning", "FutureWarning", "DeprecationWarning", "PendingDeprecationWarning"}


def category_less_filters(source: str) -> list[str]:
    """``line N: ...`` of every ignore filter that silences every category, or a deprecation category."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("simplefilter", "filterwarnings") or not node.args:
            continue
        action = node.args[0]
        if not (isinstance(action, ast.Constant) and action.value == "ignore"):
            continue
        position = 1 if node.func.attr == "simplefilter" else 2
        category = next((k.value for k in node.keywords if k.arg == "category"), None)
        if category is None and len(node.args) > position:
            category = node.args[position]
        name = ast.unparse(category).split(".")[-1] if category is not None else "Warning"
        if name in NEVER_SILENCED:
            bad.append(f"line {node.lineno}: {ast.unparse(node)}")
    return bad


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_silences_every_warning(path: Path):
    """A library-internal ``simplefilter("ignore")`` hid statsmodels' and pandas' deprecations from the suite."""
    bad = category_less_filters(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.relative_to(ROOT)}: name the categories the block expects: {bad}"


def test_the_library_check_finds_category_less_filters():
    found = category_less_filters(
        "import warnings\n"
        "warnings.simplefilter('ignore')\n"
        "warnings.simplefilter('ignore', UserWarning)\n"
        "warnings.filterwarnings('ignore', category=FutureWarning)\n"
        "warnings.filterwarnings('ignore', 'x')\n"
        "warnings.filterwarnings('ignore', 'x', errors.SalesgoalsWarning)\n"
        "warnings.simplefilter('ignore', category=Warning)\n"
        "warnings.simplefilter('always')\n"
    )
    assert [f.split(":")[0] for f in found] == ["line 2", "line 4", "line 5", "line 7"]
