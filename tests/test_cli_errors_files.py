"""Every file argument of every subcommand, given a malformed file: ONE line, exit code 2, no traceback.

``test_cli_errors.py`` enumerates the bad values of each option (out of range, unknown choice, unreadable or
unwritable path) from the parser; this file does the same for the fourth kind the README promises, a
malformed input file.  The file arguments are read off the parser too (options with ``type=cli.input_file`` or
``cli.input_files``, the positional file arguments and ``--users``, a file given as text), so a file option
added later is covered without editing this file.  Each is given, in turn, a binary file, a CSV with no usable columns, an empty file and a
gzip cut short, with valid small files for the subcommand's other required arguments; the line must name the
file where the file is readable text (the other kinds may fail before a name is known to the reader).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

import salesgoals as sg
from salesgoals import cli
from salesgoals.errors import FileFormatError
from salesgoals.io import write_csv
from salesgoals.panel.scale import panel_from_parquet
from test_cli_errors import _subparsers  # the parser's subcommands, read the same way as there

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
FILE_TYPES = (cli.input_file, cli.input_files)
POSITIONAL_FILES = {("inspect", "file"), ("panel-files", "source")}  # positional arguments that name files
TEXT_FILES = {"--users"}  # options typed as text that name a file the loaders read (the user id -> name export)


def _file_arguments():
    for name, sub in sorted(_subparsers().items()):
        for act in sub._actions:
            if act.option_strings and (act.type in FILE_TYPES or act.option_strings[-1] in TEXT_FILES):
                yield name, act.option_strings[-1], act.required
            elif not act.option_strings and (name, act.dest) in POSITIONAL_FILES:
                yield name, act.dest, True


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Small valid inputs (a slice of the canonical samples, goals set from them) and the malformed files."""
    d = tmp_path_factory.mktemp("cli_files")
    acts = pd.read_csv(SAMPLES / "canonical_activities.csv.gz", nrows=3000)
    deals = pd.read_csv(SAMPLES / "canonical_deals.csv", nrows=400)
    write_csv(acts, d / "acts.csv")
    write_csv(deals, d / "deals.csv")
    panel = sg.build_panel(sg.load_activities(d / "acts.csv"), sg.load_deals(d / "deals.csv"))
    write_csv(sg.personal_best_goals(panel).table, d / "goals.csv")
    out = {"acts": d / "acts.csv", "deals": d / "deals.csv", "roster": SAMPLES / "roster.csv",
           "goals": d / "goals.csv", "tmp": d}  # fmt: skip
    out["binary"] = d / "binary.csv"
    out["binary"].write_bytes(bytes(range(256)) * 8)
    out["no usable columns"] = d / "who.csv"
    out["no usable columns"].write_text("who,when\nann,2024-01-01\n", encoding="utf-8")
    out["empty"] = d / "empty.csv"
    out["empty"].write_text("", encoding="utf-8")
    out["truncated gzip"] = d / "cut.csv.gz"
    whole = gzip.compress((SAMPLES / "canonical_activities.csv.gz").read_bytes()[:5000] * 3)
    out["truncated gzip"].write_bytes(whole[:300])
    return out


MALFORMED = ("binary", "no usable columns", "empty", "truncated gzip")
# the valid required arguments of each subcommand, by flag; "source"/"file" are the positional ones
_REQUIRED = {
    "accounts": {"-d": "deals"}, "drivers": {"-a": "acts", "-d": "deals"}, "forecast": {"-a": "acts", "-d": "deals"},
    "inspect": {"file": "deals"}, "panel": {"-a": "acts"}, "panel-files": {"source": "acts"},
    "recommend": {"-a": "acts", "-d": "deals"}, "report": {"-a": "acts", "-d": "deals"},
    "track": {"-a": "acts", "-d": "deals", "-g": "goals"},
}  # fmt: skip
_EXTRA = {"panel-files": ["--no-progress"], "report": ["-o", "{tmp}/r.html"]}


def _argv(command: str, flag: str, bad: Path, files: dict[str, Path]) -> list[str]:
    args = {**{f: str(files[k]) for f, k in _REQUIRED[command].items()}, flag: str(bad)}
    positional = [v for f, v in args.items() if not f.startswith("-")]
    options = [x for f, v in args.items() if f.startswith("-") for x in (f, v)]
    extra = [a.format(tmp=files["tmp"]) for a in _EXTRA.get(command, [])]
    return [command, *positional, *options, *extra]


@pytest.mark.parametrize(("command", "flag"), [(c, f) for c, f, _ in _file_arguments()],
                         ids=lambda v: str(v))  # fmt: skip
def test_malformed_file_is_one_line_and_exit_2(command, flag, files, capsys):
    for kind in MALFORMED:
        bad = files[kind]
        code = cli.main(_argv(command, flag, bad, files))
        captured = capsys.readouterr()
        assert code == 2, (command, flag, kind, captured.err)
        assert "Traceback" not in captured.err + captured.out, (command, flag, kind)
        lines = captured.err.strip().splitlines()
        if command == "inspect" and not lines:  # inspect's verdict on a file that does not load is on stdout
            assert "DOES NOT LOAD" in captured.out and bad.name in captured.out, captured.out
            continue
        assert len(lines) == 1 and lines[0].startswith("salesgoals: error: "), (command, flag, kind, captured.err)
        if kind == "no usable columns":
            assert bad.name in lines[0], (command, flag, lines[0])


def test_every_subcommand_with_files_is_enumerated():
    args = list(_file_arguments())
    assert {c for c, _, _ in args} == set(_subparsers()), "a subcommand reads no file?"
    for command, flag, required in args:
        assert command in _REQUIRED, f"{command}: add its valid required file arguments to _REQUIRED"
        if required:
            assert flag in _REQUIRED[command], f"{command} {flag} is required: give it a valid file in _REQUIRED"
    assert len(args) >= 25


def test_panel_from_parquet_names_files_duckdb_cannot_read(files):
    # a binary 'CSV' and a gzip cut short used to escape as a DuckDB traceback (exit 1 in the CLI)
    for kind in ("binary", "truncated gzip"):
        with pytest.raises(FileFormatError, match=r"panel_from_parquet: DuckDB cannot read the activity files .*"
                                                  + files[kind].name):
            panel_from_parquet([str(files[kind])], progress=False)


@pytest.mark.parametrize(("command", "dest"), sorted(POSITIONAL_FILES))
def test_unreadable_positional_file_is_one_line_and_exit_2(command, dest, files, tmp_path, capsys):
    # test_cli_errors.py enumerates the options' bad paths; the positional file arguments are checked here
    empty_dir = tmp_path / "nothing_here"
    empty_dir.mkdir()
    for value in ("/nonexistent_dir/x.csv", "/nonexistent_dir/**/*.parquet", str(empty_dir)):
        code = cli.main(_argv(command, dest, Path(value), files))
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("salesgoals: error: "), (command, value, err)
        assert Path(value).name in lines[0] or "nonexistent_dir" in lines[0], (value, lines[0])
