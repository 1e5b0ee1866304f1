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


def _cli_examples() -> list[str]:
    """Every `salesgoals ...` command of the README's bash blocks (continuation lines joined, comments dropped)."""
    out = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("   #")[0].strip()
            if line.startswith("salesgoals "):
                out.append(line)
    return out


def test_every_cli_example_in_the_readme_parses_and_a_team_level_has_a_roster(tmp_path, monkeypatch):
    """The examples are what users copy: each must be accepted by the parser, and a --level other than total or
    rep needs a roster (the forecast example once asked for --level team without -r, which errors)."""
    import shlex

    from salesgoals import cli

    examples = _cli_examples()
    assert len(examples) >= 15
    monkeypatch.chdir(tmp_path)  # the samples as they are; the user's own files (deals.csv ...) as empty stand-ins
    (tmp_path / "data").symlink_to(ROOT / "data")
    for token in {t for line in examples for t in shlex.split(line)}:
        if re.search(r"\.(csv|gz|parquet|toml|xlsx)$", token) and not Path(token).exists():
            path = Path(token.replace("**/", "y=2025/").replace("*", "part-0"))  # a glob: one file it matches
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
    parser = cli._build_parser()
    for line in examples:
        args = parser.parse_args(shlex.split(line)[1:])  # a bad flag or path raises (the parser never exits)
        level = getattr(args, "level", None)
        if args.command == "forecast" and level not in (None, "total", "rep"):
            assert args.roster, f"README: {line!r} forecasts by {level!r} without a roster (-r)"
