"""The package's layering, checked by reading the imports (no module is executed).

The pipeline is a stack of floors; an import may only point down (or sideways
inside one package)::

    ground floor (errors, _schema, _typing, _summary, _periods, _compat, ...)
      -> io -> panel -> drivers -> goals -> forecasting -> tracking
      -> recommend / report / accounts -> cli

``plotting`` receives data: it imports only the ground floor.  ``simulate`` and
``datasets`` make data; they may import the pipeline, the pipeline never
imports them.  A private name (``_x``) never crosses a package boundary: a
helper two packages share gets a public name in a private ground-floor module.

No function has more than ``MAX_CODE_LINES`` lines of code (from its first
statement after the docstring to its end: the numpydoc docstring, which lists
every output column, does not count) unless its first line after the docstring
is a comment ``# long: <reason>``, or it is one of today's offenders in
``LONG_ALLOWLIST``.  An allowlist entry whose function is gone or now short
fails too: whoever splits a listed function removes its entry.

Run as a script (``python tests/test_architecture.py [ROOT]``) to print the
figures (cycles, private cross-imports, function-local imports, long
functions) for any checkout.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: Floor of each top-level unit; an import from floor a to floor b needs b <= a.
#: Units not listed (the package __init__, __main__, simulate, datasets) sit above the pipeline.
FLOORS: dict[str, int] = {
    "_ground": 0,
    "io": 1,
    "panel": 2,
    "drivers": 3,
    "goals": 4,
    "forecasting": 5,
    "tracking": 6,
    "recommend": 7,
    "report": 7,
    "accounts": 7,
    "outcomes": 7,
    "cli": 8,
}
#: Units that make data from the pipeline: they may import it, never the reverse.
DATA_MAKERS = {"simulate", "datasets"}
#: The top of the package: its front door imports everything.
TOP = {"__init__", "__main__"}

#: Most lines of code a function may have (docstring excluded) without a reason written at its top.
MAX_CODE_LINES = 80
#: The first line after a long function's docstring, followed by why it stays long.
LONG_REASON = "# long:"
#: Today's offenders, ``qualified name -> who splits it``.  Shrink only: split the function
#: along its sections (each piece named for what it decides) and remove its entry in the same
#: commit; the test fails on an entry whose function is gone or no longer long.
LONG_ALLOWLIST: dict[str, str] = {
}


# ---------------------------------------------------------------------- reading
def modules(root: Path) -> dict[str, Path]:
    """``dotted.module.name -> file`` for every module of ``root/salesgoals``."""
    out = {}
    for path in sorted((root / "salesgoals").rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(root: Path):
    """Yield ``(module, target_module, name_or_None, lineno, local)`` for every salesgoals import.

    ``local`` is True for an import inside a function body.  ``from pkg import sub``
    where ``sub`` is a module yields the submodule as the target.
    """
    mods = modules(root)
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_pkg = path.name == "__init__.py"
        local_lines = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(fn):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        local_lines.add(sub.lineno)
        for node in ast.walk(tree):
            local = getattr(node, "lineno", None) in local_lines
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "salesgoals":
                        yield mod, alias.name, None, node.lineno, local
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(mod, is_pkg, node)
                if target.split(".")[0] != "salesgoals":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in mods:
                        yield mod, sub, None, node.lineno, local
                    else:
                        yield mod, target, alias.name, node.lineno, local


def all_local_imports(root: Path) -> list[tuple[str, int, str]]:
    """Every import statement inside a function body (any package): ``(module, line, text)``."""
    out = []
    for mod, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(fn):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        out.append((mod, sub.lineno, ast.unparse(sub)))
    return sorted(set(out))


def unit(mod: str) -> str:
    """The top-level unit of a module: ``salesgoals.panel._build -> 'panel'``; ground-floor files -> ``'_ground'``.

    The ground floor is ``errors`` and every private top-level module (``_schema``, ``_typing``, ...).
    """
    parts = mod.split(".")
    if len(parts) == 1:
        return "__init__"
    head = parts[1]
    if head == "errors" or (head.startswith("_") and not head.startswith("__") and len(parts) == 2):
        return "_ground"
    return head


def graph(root: Path) -> dict[str, set[str]]:
    """Module-level import graph (function-local imports included: they are edges too)."""
    g: dict[str, set[str]] = defaultdict(set)
    mods = modules(root)
    for mod, target, _name, _line, _local in imports(root):
        # an import of a package runs its __init__; keep the package module itself as the node
        while target not in mods and "." in target:
            target = target.rsplit(".", 1)[0]
        if target != mod:
            g[mod].add(target)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10_000)
    for v in list(g):
        if v not in index:
            visit(v)
    return sorted(out)


def private_cross_imports(root: Path) -> list[str]:
    """Imports of a private name (``_x``) or a private module from another package.

    Within one package (``panel._build`` used by ``panel.scale``) is fine; the
    package's own ``__init__`` may re-export its private modules' public names.
    """
    out = []
    for mod, target, name, line, _local in imports(root):
        if unit(mod) == unit(target) and unit(mod) != "_ground":
            continue
        if unit(mod) == "_ground" and unit(target) == "_ground":
            continue
        private_name = name is not None and name.startswith("_") and not name.startswith("__")
        # a private module of *another package* (ground-floor private modules are the shared home)
        private_mod = unit(target) != "_ground" and any(
            p.startswith("_") and not p.startswith("__") for p in target.split(".")[2:]
        )
        if private_name or private_mod:
            out.append(f"{mod}:{line} imports {target}{'.' + name if name else ''}")
    return out


def floor_violations(root: Path) -> list[str]:
    """Imports pointing up the pipeline, from plotting into a step, or from the pipeline into simulate/datasets."""
    out = []
    for mod, target, name, line, _local in imports(root):
        a, b = unit(mod), unit(target)
        what = f"{mod}:{line} imports {target}{'.' + name if name else ''}"
        if a == b or a in TOP:
            continue
        if a == "plotting" and b != "_ground":
            out.append(f"plotting receives data, it must not import a step: {what}")
        elif b in DATA_MAKERS and a not in DATA_MAKERS:
            out.append(f"the pipeline must not import the data makers: {what}")
        elif b in TOP:
            out.append(f"nothing imports the package front door: {what}")
        elif a in FLOORS and b in FLOORS and FLOORS[b] > FLOORS[a]:
            out.append(f"lower step imports a higher one: {what}")
        elif a == "_ground" and b != "_ground":
            out.append(f"the ground floor imports a step: {what}")
    return out


def long_functions(root: Path, limit: int) -> list[tuple[int, str]]:
    """``(lines, qualified name)`` of every function longer than ``limit`` lines, longest first."""
    out = []
    for mod, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append((n, f"{mod}.{node.name}"))
    return sorted(out, reverse=True)


def _functions(tree: ast.AST, prefix: str):
    """Yield ``(qualified name, node)`` for every function and method, nested ones included."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{child.name}", child
            yield from _functions(child, f"{prefix}.{child.name}")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}.{child.name}")
        else:
            yield from _functions(child, prefix)


def function_lengths(root: Path) -> dict[str, tuple[int, int, str | None]]:
    """``qualified name -> (code lines, total lines, reason or None)`` for every function of the package.

    Code lines run from the first statement after the docstring to the function's
    end (comments and blank lines inside count, the signature and docstring do
    not).  The reason is the text of a ``# long: <reason>`` comment standing as
    the first non-blank line after the docstring (after the signature when there
    is no docstring).
    """
    out = {}
    for mod, path in modules(root).items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, fn in _functions(ast.parse("\n".join(lines)), mod):
            body = fn.body
            doc = ast.get_docstring(fn, clean=False) is not None
            code = body[1:] if doc else body
            n_code = fn.end_lineno - code[0].lineno + 1 if code else 0
            start = body[0].end_lineno if doc else fn.lineno
            stop = code[0].lineno - 1 if code else fn.end_lineno
            head = [ln.strip() for ln in lines[start:stop] if ln.strip()]
            reason = None
            if head and head[0].startswith(LONG_REASON) and head[0][len(LONG_REASON):].strip():
                reason = head[0][len(LONG_REASON):].strip()
            out[name] = (n_code, fn.end_lineno - fn.lineno + 1, reason)
    return out


def long_function_problems(root: Path, allowlist: dict[str, str], limit: int = MAX_CODE_LINES) -> list[str]:
    """Functions over ``limit`` code lines with neither a reason nor an allowlist entry, and stale entries."""
    lengths = function_lengths(root)
    out = []
    for name, (n, _total, reason) in sorted(lengths.items()):
        if n > limit and reason is None and name not in allowlist:
            out.append(
                f"{name}: {n} lines of code (more than {limit}): split it along its sections, each piece "
                f"named for what it decides, or write `{LONG_REASON} <reason>` as its first line after the docstring"
            )
    for name, owner in sorted(allowlist.items()):
        if name not in lengths:
            out.append(f"stale allowlist entry {name} ({owner}): no such function any more; remove the entry")
        elif lengths[name][0] <= limit:
            out.append(f"stale allowlist entry {name} ({owner}): now {lengths[name][0]} lines of code; remove the entry")
        elif lengths[name][2] is not None:
            out.append(f"stale allowlist entry {name} ({owner}): it states its reason at its top; remove the entry")
    return out


# ------------------------------------------------------------------------ tests
def test_no_import_cycles():
    found = cycles(graph(REPO))
    assert not found, "import cycles between salesgoals modules:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_private_name_crosses_a_package():
    found = private_cross_imports(REPO)
    assert not found, (
        "private names imported across packages (give the helper a public name in a private "
        "ground-floor module):\n" + "\n".join(found)
    )


def test_imports_point_down_the_pipeline():
    found = floor_violations(REPO)
    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_should(tmp_path):
    """The checks flag a planted cycle, an upward import and a private cross-import."""
    pkg = tmp_path / "salesgoals"
    for sub in ("panel", "goals", "plotting"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "panel" / "_build.py").write_text("from salesgoals.goals._tiers import _tier\n")
    (pkg / "goals" / "_tiers.py").write_text("from salesgoals.panel._build import x\n_tier = 1\n")
    (pkg / "plotting" / "_p.py").write_text("from salesgoals.goals import y\n")
    g = graph(tmp_path)
    assert cycles(g) == [["salesgoals.goals._tiers", "salesgoals.panel._build"]]
    assert any("_tier" in x for x in private_cross_imports(tmp_path))
    viol = floor_violations(tmp_path)
    assert any("lower step imports a higher one" in v for v in viol)
    assert any("plotting receives data" in v for v in viol)


def test_no_long_function_without_a_reason():
    found = long_function_problems(REPO, LONG_ALLOWLIST)
    assert not found, "\n".join(found)


def test_the_length_rule_catches_what_it_should(tmp_path):
    """A planted long function is caught; its reason or an allowlist entry clears it; stale entries are caught."""
    pkg = tmp_path / "salesgoals"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    doc = '    """Doc.\n\n' + "    a line of numpydoc\n" * 200 + '    """\n'
    code = "    x = 0\n" + "    x += 1\n" * (MAX_CODE_LINES - 2) + "    return x\n"
    src = (
        f"def short():\n{doc}{code}"  # exactly MAX_CODE_LINES lines of code: the docstring does not count
        f"def long():\n{doc}{code}    pass\n"
        f"def explained():\n{doc}\n    {LONG_REASON} one table per vendor, read top to bottom\n{code}    pass\n"
        f"def unexplained():\n{doc}    {LONG_REASON}\n{code}    pass\n"
        "class K:\n    def method(self):\n" + textwrap.indent(code + "    pass\n", "    ")  # a method counts too
    )
    (pkg / "_m.py").write_text(src)
    lengths = function_lengths(tmp_path)
    assert lengths["salesgoals._m.short"][0] == MAX_CODE_LINES
    assert lengths["salesgoals._m.long"][0] == MAX_CODE_LINES + 1
    assert lengths["salesgoals._m.explained"][2] == "one table per vendor, read top to bottom"
    found = long_function_problems(tmp_path, {})
    flagged = sorted(line.split(":")[0] for line in found)
    assert flagged == ["salesgoals._m.K.method", "salesgoals._m.long", "salesgoals._m.unexplained"]
    allow = {
        "salesgoals._m.long": "owner",
        "salesgoals._m.K.method": "owner",
        "salesgoals._m.unexplained": "owner",
        "salesgoals._m.short": "owner",  # now short
        "salesgoals._m.gone": "owner",  # split away
        "salesgoals._m.explained": "owner",  # states its reason
    }
    found = long_function_problems(tmp_path, allow)
    assert len(found) == 3 and all(line.startswith("stale allowlist entry") for line in found)
    assert {line.split()[3] for line in found} == {"salesgoals._m.short", "salesgoals._m.gone", "salesgoals._m.explained"}


# ------------------------------------------------------------------------ report
def report(root: Path) -> None:
    g = graph(root)
    cyc = cycles(g)
    print(f"import cycles: {len(cyc)}", *[" -> ".join(c) for c in cyc], sep="\n  ")
    priv = private_cross_imports(root)
    print(f"private names imported across packages: {len(priv)}", *priv, sep="\n  ")
    any_mod = [x for x in imports(root) if x[2] and x[2].startswith("_") and not x[2].startswith("__") and x[0] != x[1]]
    print(f"private names imported from another module (inside a package too): {len(any_mod)}")
    viol = floor_violations(root)
    print(f"upward / plotting / data-maker imports: {len(viol)}", *viol, sep="\n  ")
    local_sg = [x for x in imports(root) if x[4]]
    print(f"function-local salesgoals imports: {len(local_sg)}")
    loc = all_local_imports(root)
    print(f"function-local imports (any package): {len(loc)}")
    for limit in (100, 80):
        print(f"functions over {limit} lines: {len(long_functions(root, limit))}")
    print("longest:", *[f"{n:4d} {name}" for n, name in long_functions(root, 80)[:12]], sep="\n  ")
    lengths = sorted(((n, name, why) for name, (n, _t, why) in function_lengths(root).items()), reverse=True)
    over = [x for x in lengths if x[0] > MAX_CODE_LINES]
    print(f"functions over {MAX_CODE_LINES} lines of code (docstring excluded): {len(over)}")
    print("longest by code lines:", *[f"{n:4d} {name}" + (f"  (long: {why})" if why else "")
                                      for n, name, why in lengths[:12]], sep="\n  ")


if __name__ == "__main__":
    report(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO)
