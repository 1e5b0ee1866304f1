"""The README's quick start and two commands stay true."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from salesgoals.errors import UnreliableEstimateWarning

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _block(heading: str, lang: str) -> str:
    start = README.index(heading)
    body = README.index(f"```{lang}", start) + len(f"```{lang}")
    return README[body : README.index("```", body)]


def test_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = _block("## Quick start", "python").replace('"goals.csv"', repr(str(tmp_path / "goals.csv")))
    ns: dict = {}
    with warnings.catch_warnings():
        # expected: the sample's email and call are called ambiguous / flagged by the leads check
        warnings.filterwarnings("ignore", message=r"fit_drivers: (\w+ is AMBIGUOUS|Leads check)",
                                category=UnreliableEstimateWarning)
        exec(compile(code, "README quick start", "exec"), ns)  # noqa: S102 - our own README
    assert (tmp_path / "goals.csv").stat().st_size > 0
    assert np.isfinite(ns["drivers"].effects["effect"]).all()
    assert {"forecast", "lower", "upper"} <= set(ns["fc"].table.columns)


def test_two_commands_and_ci_agree():
    commands = re.findall(r"```bash\n(python3 -m venv[^\n]+)\n```", README)
    assert len(commands) == 2, "README must give exactly the two set-up commands"
    main_job, tests = commands
    assert "salesgoals recommend" in main_job and "data/samples/" in main_job
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci, ".ci/run must run the README's test command verbatim"
