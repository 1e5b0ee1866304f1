"""Apply each curated mutation to a temporary copy of the repository and run the tests that should catch it.

Usage (from the repository root; not part of the default suite)::

    python tests/mutations/run.py                 # every mutation
    python tests/mutations/run.py --only few_rep_bootstrap_min conformal_lookahead
    python tests/mutations/run.py --check         # only report stale patterns (fast)
    python tests/mutations/run.py --only ID ... --update   # rerun some, merge them into results.csv
    flock /work/wt/heavy.lock nice -n 10 python tests/mutations/run.py   # a full run on a shared machine

Speed: each mutation first runs only the test that caught it in the stored results (its
``first_failure``); if that test still fails the mutation is caught, and the rest of its selection is
skipped.  If it does not fail (or there is no stored catcher), the mutation's whole selection runs, ``-x``,
without xdist, under ``--timeout``.  ``--no-hints`` always runs the whole selection.  ``--lock PATH``
takes an exclusive lock on PATH around each mutation's test run (not the whole run), so other heavy jobs
sharing that lock can interleave.

A mutation is *caught* when its tests fail, *survived* when they pass, *stale* when its pattern no longer
occurs exactly once in its file (the code moved on: update the pattern), *timeout* when the tests ran
longer than ``--timeout`` seconds (not scored; listed: rerun it with a longer timeout).  The
results go to ``tests/mutations/results.csv`` and a summary line with the mutation score
(caught / (caught + survived)).
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutations import MUTATIONS  # noqa: E402

COPY = ["salesgoals", "tests", "data", "notebooks", "pyproject.toml", "README.md", "ci", ".ci"]


def _status(src: str, pattern: str) -> str:
    n = src.count(pattern)
    return "ok" if n == 1 else ("stale: pattern not found" if n == 0 else f"stale: pattern found {n} times")


def _copy_repo(dest: Path) -> None:
    for name in COPY:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
        elif p.exists():
            shutil.copy2(p, dest / name)


def _pytest(work: Path, tests: list[str], timeout: float, workers: str) -> tuple[int, str]:
    """Run pytest on ``tests`` in ``work`` (the suite's own warning filters, no doctests): exit code, stdout."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=",
           *(["-n", workers] if workers != "0" else []), *tests]
    env = dict(os.environ, PYTHONPATH=str(work), PYTHONHASHSEED="0")
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return proc.returncode, proc.stdout
    except subprocess.TimeoutExpired:
        return -1, ""


def _hint(m: dict, hints: dict[str, str], work: Path) -> list[str]:
    """The test node that caught ``m`` last time (from its stored ``first_failure``), if it still exists."""
    line = hints.get(m["id"], "")
    node = line.split()[1] if line.startswith("FAILED ") and len(line.split()) > 1 else ""
    return [node] if node and (work / node.split("::")[0]).exists() else []


def _run_one(work: Path, m: dict, timeout: float, workers: str, hints: dict[str, str]) -> tuple[str, float, str]:
    path = work / m["file"]
    original = path.read_text(encoding="utf-8")
    status = _status(original, m["pattern"])
    if status != "ok":
        return status, 0.0, ""
    path.write_text(original.replace(m["pattern"], m["replacement"]), encoding="utf-8")
    tests = [t for t in m["tests"] if (work / t).exists()]
    t0 = time.perf_counter()
    try:
        code, out = 0, ""
        first = _hint(m, hints, work)
        if first:
            code, out = _pytest(work, first, timeout, workers)
        if code != 1:  # the old catcher passes, is gone or errs: the whole selection decides
            code, out = _pytest(work, tests, max(timeout - (time.perf_counter() - t0), 1.0), workers)
    finally:
        path.write_text(original, encoding="utf-8")
    secs = time.perf_counter() - t0
    if code == -1:
        return "timeout", secs, ""
    if code in (2, 3, 4):  # interrupted / internal / usage error: the mutation broke the import (caught, say so)
        return "caught (error)", secs, _first_failure(out)
    return ("caught" if code == 1 else "survived" if code == 0 else f"no tests ({code})"), secs, _first_failure(out)


def _locked(lock: str | None, fn, *args):
    """``fn(*args)`` holding an exclusive lock on the file ``lock`` (no lock when None)."""
    if not lock:
        return fn(*args)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            return fn(*args)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _stored_hints(path: str) -> dict[str, str]:
    """``id -> first_failure`` of the stored results (empty when there are none)."""
    if not os.path.exists(path):
        return {}
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["id"]: r.get("first_failure", "") for r in csv.DictReader(fh)}


def _first_failure(out: str) -> str:
    for line in out.splitlines():
        if line.startswith(("FAILED", "ERROR")):
            return line[:200]
    return ""


def _write(path: str, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _merged(path: str, rows: list[dict]) -> list[dict]:
    """The stored results with ``rows`` replacing the runs of the same ids, in the order of MUTATIONS."""
    with open(path, newline="", encoding="utf-8") as fh:
        old = {r["id"]: r for r in csv.DictReader(fh)}
    old.update({r["id"]: r for r in rows})
    return [old[m["id"]] for m in MUTATIONS if m["id"] in old]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", help="ids of the mutations to run")
    ap.add_argument("--check", action="store_true", help="only check that every pattern still exists once")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per mutation (default 600)")
    ap.add_argument("--no-hints", action="store_true", help="always run the whole selection (ignore stored catchers)")
    ap.add_argument("--lock", help="file to flock around each mutation's test run (e.g. /work/wt/heavy.lock)")
    ap.add_argument("-n", "--workers", default="0", help="pytest-xdist workers per run (default 0: none)")
    ap.add_argument("--update", action="store_true",
                    help="with --only: replace those mutations' rows in --out and score the whole table")
    ap.add_argument("--out", default=str(ROOT / "tests" / "mutations" / "results.csv"))
    args = ap.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m["id"] in args.only]
    if args.check:
        stale = [(m["id"], s) for m in chosen if (s := _status((ROOT / m["file"]).read_text(), m["pattern"])) != "ok"]
        for mid, s in stale:
            print(f"{mid}: {s}")
        print(f"{len(chosen) - len(stale)} of {len(chosen)} patterns found exactly once")
        return 1 if stale else 0
    rows = []
    hints = {} if args.no_hints else _stored_hints(args.out)
    with tempfile.TemporaryDirectory(prefix="sg-mut-") as tmp:
        work = Path(tmp)
        _copy_repo(work)
        for m in chosen:
            status, secs, first = _locked(args.lock, _run_one, work, m, args.timeout, args.workers, hints)
            rows.append({"id": m["id"], "file": m["file"], "status": status, "seconds": round(secs, 1),
                         "first_failure": first, "why": m["why"]})  # fmt: skip
            print(f"{status:16s} {secs:7.1f}s  {m['id']}  {first}", flush=True)
    if not args.only:
        _write(args.out, rows)
    elif args.update:
        rows = _merged(args.out, rows)
        _write(args.out, rows)
    caught = sum(r["status"].startswith("caught") for r in rows)
    survived = [r["id"] for r in rows if r["status"] == "survived"]
    stale = [r["id"] for r in rows if r["status"].startswith("stale")]
    timeouts = [r["id"] for r in rows if r["status"] == "timeout"]
    scored = caught + len(survived)
    print(f"mutation score: {caught}/{scored} caught ({caught / max(scored, 1):.0%}); survived: {survived or 'none'}; "
          f"stale: {stale or 'none'}; timeout: {timeouts or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
