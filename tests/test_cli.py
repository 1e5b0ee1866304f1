"""The CLI as a user meets it: help, the panel command, one-line errors, README coverage."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from salesgoals import cli

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def _subcommands() -> list[str]:
    parser = cli._build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_subcommand_has_help_with_an_example_and_is_in_the_readme(capsys):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = _subcommands()
    assert {"panel", "drivers", "recommend", "forecast", "track"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as exc:
            cli.main([name, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert "Example: salesgoals " + name in out.replace("\n", " "), name
        assert re.search(rf"salesgoals {name}\b", readme), f"README does not show 'salesgoals {name}'"


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_panel_summary_on_canonical_samples(capsys):
    code = cli.main(["panel", "-a", str(SAMPLES / "canonical_activities.csv.gz"),
                     "-d", str(SAMPLES / "canonical_deals.csv"), "-r", str(SAMPLES / "roster.csv")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert re.match(r"panel: 30 reps x \d+ periods \(W, ", first), first
    assert "won_revenue" in out


def test_panel_to_csv_matches_library(tmp_path):
    import salesgoals as sg

    out = tmp_path / "panel.csv"
    args = ["panel", "-a", str(SAMPLES / "canonical_activities.csv.gz"), "-d", str(SAMPLES / "canonical_deals.csv"),
            "--freq", "M", "-o", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    written = pd.read_csv(out)
    acts = sg.load_activities(SAMPLES / "canonical_activities.csv.gz")
    deals = sg.load_deals(SAMPLES / "canonical_deals.csv")
    panel = sg.build_panel(acts, deals, freq="M")
    assert len(written) == len(panel)
    assert written["won_revenue"].sum() == pytest.approx(panel["won_revenue"].sum())
    assert written["period"].iloc[0] == str(panel["period"].iloc[0])


def test_library_errors_become_one_line(tmp_path, capsys):
    bad = tmp_path / "acts.csv"
    bad.write_text("who,when\nann,2024-01-01\n", encoding="utf-8")
    assert cli.main(["panel", "-a", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("salesgoals: error: ") and len(err.strip().splitlines()) == 1
    assert "acts.csv" in err
    assert cli.main(["panel", "-a", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_debug_reraises(tmp_path):
    from salesgoals.errors import SalesgoalsError

    bad = tmp_path / "acts.csv"
    bad.write_text("who,when\nann,2024-01-01\n", encoding="utf-8")
    with pytest.raises(SalesgoalsError):
        cli.main(["--debug", "panel", "-a", str(bad)])


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "salesgoals", "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("salesgoals ")
