"""Every CLI error path: each subcommand x each bad-argument kind gives ONE line and exit code 2.

README promises: a bad argument or bad input file gives one line ``salesgoals: error: ...`` on stderr and
exit code 2, never a traceback.  The enumeration below reads the options off the parser itself, so a flag
added later with the shared argument types (``cli.positive_int``, ``cli.output_file``, ...) or with
``choices=`` is covered without editing this file; ``test_every_option_with_a_value_is_checked`` fails when
a new numeric or path option is added without a checking type.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from salesgoals import cli
from salesgoals.errors import SchemaError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
ACTS = str(SAMPLES / "canonical_activities.csv.gz")
DEALS = str(SAMPLES / "canonical_deals.csv")
ROSTER = str(SAMPLES / "roster.csv")

# bad values per checking type: (kind, value)
_BAD = {
    cli.positive_int: [("out of range", "0"), ("out of range", "-3"), ("not a number", "many")],
    cli.nonnegative_int: [("out of range", "-1"), ("not a number", "1.5")],
    cli.fraction: [("out of range", "0"), ("out of range", "1.2"), ("not a number", "eighty")],
    cli.goal_horizon: [("out of range", "0"), ("unknown choice", "decade")],
    cli.day: [("malformed date", "2025-13-45")],
    cli.input_file: [("unreadable path", "/nonexistent_dir/x.csv"), ("unreadable path", "/")],
    cli.input_files: [("unreadable path", "/nonexistent_dir/x.csv"), ("unreadable path", "/"),
                      ("unreadable path", "/nonexistent_dir/**/*.parquet")],
    cli.output_file: [("unwritable path", "/nonexistent_dir/x.csv"), ("unwritable path", "/tmp")],
    cli.amount: [("out of range", "-5"), ("not a number", "lots")],
    cli.memory_size: [("not a size", "lots"), ("not a size", "2G"), ("out of range", "0GB"),
                      ("out of range", "150%")],
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli._build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _cases():
    for name, sub in sorted(_subparsers().items()):
        for act in sub._actions:
            if not act.option_strings or act.nargs == 0:
                continue
            flag = act.option_strings[-1]
            for kind, value in _BAD.get(act.type, []):
                yield pytest.param(name, flag, kind, value, id=f"{name} {flag} {kind} {value}")
            if act.choices is not None:
                yield pytest.param(name, flag, "unknown choice", "no_such_choice", id=f"{name} {flag} unknown choice")


def _one_line_exit_2(argv, capsys, *needles):
    code = cli.main(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("salesgoals: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize(("command", "flag", "kind", "value"), list(_cases()))
def test_bad_argument_is_one_line_and_exit_2(command, flag, kind, value, capsys):
    # the bad value is named, with the option it was given to and the subcommand
    _one_line_exit_2([command, flag, value], capsys, command, flag, value.strip("/") or value)


def test_the_enumeration_covers_every_subcommand_and_kind():
    cases = list(_cases())
    commands = {c.values[0] for c in cases}
    assert commands == set(_subparsers()), "a subcommand has no checked option"
    kinds = {c.values[2] for c in cases}
    assert {"out of range", "unknown choice", "unreadable path", "unwritable path"} <= kinds


def test_every_option_with_a_value_is_checked():
    """A numeric, date or path option without a checking type would reach the library unchecked."""
    free_text = {"--level", "--method", "--column", "--stage-map", "--type-map", "--outcome-map", "--columns",
                 "--config", "--users", "--currency", "--title", "--missing-close"}  # checked by the library, whose errors the frame turns into one line
    for name, sub in _subparsers().items():
        for act in sub._actions:
            if not act.option_strings or act.nargs == 0 or act.option_strings[0] in ("-h", "--help"):
                continue
            flag = act.option_strings[-1]
            checked = act.type in _BAD or act.choices is not None or flag in free_text
            assert checked, f"{name} {flag}: give it a checking type= from salesgoals.cli or choices="
            assert act.type not in (int, float), f"{name} {flag}: use cli.positive_int/nonnegative_int/fraction"


# ---------------------------------------------------------------- free-text options, checked by the library
# The loader flags (--columns, --stage-map, ...) and a few others take text that only the library can judge;
# each malformed kind must still end as one line and exit 2, on every subcommand that has the flag.  Values
# per flag: (kind, value); "{bad_toml}" / "{unknown_key}" are files written by the test.
_FREE_BAD = {
    "--columns": [("malformed pairs", "rep"), ("unknown choice", "nosuch=x"), ("unknown choice", "sales.rep=x")],
    "--stage-map": [("malformed pairs", "Won")],
    "--type-map": [("malformed pairs", "Demo")],
    "--outcome-map": [("malformed pairs", "Gatekeeper")],
    "--config": [("unreadable path", "/nonexistent_dir/x.toml"), ("malformed file", "{bad_toml}"),
                 ("unknown choice", "{unknown_key}")],
    "--users": [("unreadable path", "/nonexistent_dir/users.csv")],
    "--missing-close": [("unknown choice", "no_such_column")],
    "--level": [("unknown choice", "no_such_column")],
    "--method": [("unknown choice", "no_such_method")],
    "--column": [("malformed pairs", "rep")],
}
_ANY_TEXT = {"--title", "--currency"}  # any text is a valid title or currency label
_FREE_NEEDS = {  # valid required arguments of each subcommand (with deals, so --missing-close applies)
    "inspect": [DEALS], "panel": ["-a", ACTS, "-d", DEALS], "panel-files": [ACTS, "-d", DEALS, "--no-progress"],
    "drivers": ["-a", ACTS, "-d", DEALS], "recommend": ["-a", ACTS, "-d", DEALS],
    "report": ["-a", ACTS, "-d", DEALS, "-o", "{tmp}/r.html"], "forecast": ["-a", ACTS, "-d", DEALS, "-r", ROSTER],
    "track": ["-a", ACTS, "-d", DEALS, "-g", DEALS], "accounts": ["-d", DEALS],
}
# inspect reports a file that does not load as it is on stdout (its verdict, exit 2), not as an error line
_FREE_SKIP = {("inspect", "--missing-close")}


def _free_cases():
    for name, sub in sorted(_subparsers().items()):
        for act in sub._actions:
            flag = act.option_strings[-1] if act.option_strings else ""
            if flag in _FREE_BAD and (name, flag) not in _FREE_SKIP:
                for kind, value in _FREE_BAD[flag]:
                    yield pytest.param(name, flag, kind, value, id=f"{name} {flag} {kind} {value}")


@pytest.mark.parametrize(("command", "flag", "kind", "value"), list(_free_cases()))
def test_bad_free_text_option_is_one_line_and_exit_2(command, flag, kind, value, tmp_path, capsys):
    files = {"bad_toml": tmp_path / "bad.toml", "unknown_key": tmp_path / "unknown.toml", "tmp": tmp_path}
    files["bad_toml"].write_text("crm = [unclosed\n", encoding="utf-8")
    files["unknown_key"].write_text("colour = 'red'\n", encoding="utf-8")
    value = value.format(**files)
    needs = [a.format(**files) for a in _FREE_NEEDS[command]]
    line = _one_line_exit_2([command, *needs, flag, value], capsys)
    shown = Path(value).name if kind in ("unreadable path", "malformed file") else value.split("=")[0]
    assert shown in line, (shown, line)
    assert capsys.readouterr().out == ""


def test_every_free_text_option_is_enumerated():
    """A new free-text option needs malformed values above (or a reason it accepts any text)."""
    for name, sub in _subparsers().items():
        for act in sub._actions:
            if not act.option_strings or act.nargs == 0 or act.type is not None or act.choices is not None:
                continue
            flag = act.option_strings[-1]
            if flag in ("-h", "--help"):
                continue
            assert flag in _FREE_BAD or flag in _ANY_TEXT, f"{name} {flag}: add its malformed values to _FREE_BAD"
            if flag in _FREE_BAD and (name, flag) not in _FREE_SKIP:
                assert name in _FREE_NEEDS, f"{name}: add its valid required arguments to _FREE_NEEDS"


# ---------------------------------------------------------------- the five cases named in issue 17
_ISSUE_CASES = [
    ["drivers", "-a", ACTS, "-d", DEALS, "--lags", "-1"],
    ["recommend", "-a", ACTS, "-d", DEALS, "--horizon", "decade"],
    ["forecast", "-a", ACTS, "-d", DEALS, "--level", "total", "--horizon", "0"],
    ["panel", "-a", ACTS, "--crm", "sap"],
    ["panel", "-a", ACTS, "-o", "/nonexistent_dir/x.csv"],
]


@pytest.mark.parametrize("argv", _ISSUE_CASES, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_issue_cases(argv, capsys):
    _one_line_exit_2(argv, capsys, argv[-1])
    assert capsys.readouterr().out == ""


def test_an_issue_case_through_the_real_entry_point():
    # one subprocess (starting Python with the scientific stack costs seconds): the exit code the shell sees
    proc = subprocess.run([sys.executable, "-m", "salesgoals", *_ISSUE_CASES[0]], capture_output=True, text=True,
                          check=False, cwd=ROOT)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("salesgoals: error: drivers: argument --lags"), proc.stderr
    assert proc.stdout == ""


# ---------------------------------------------------------------- malformed files, per subcommand
def _malformed(tmp_path: Path) -> dict[str, Path]:
    files = {
        "binary": tmp_path / "acts.csv",
        "no usable columns": tmp_path / "who.csv",
        "empty": tmp_path / "empty.csv",
        "truncated gzip": tmp_path / "cut.csv.gz",
    }
    files["binary"].write_bytes(bytes(range(256)) * 8)
    files["no usable columns"].write_text("who,when\nann,2024-01-01\n", encoding="utf-8")
    files["empty"].write_text("", encoding="utf-8")
    files["truncated gzip"].write_bytes(gzip.compress(Path(ACTS).read_bytes()[:5000] * 3)[:300])
    return files


_NEEDS = {  # the other required arguments of each subcommand, valid
    "panel": [], "drivers": ["-d", DEALS], "recommend": ["-d", DEALS], "forecast": ["-d", DEALS],
    "track": ["-d", DEALS, "-g", DEALS],
}


@pytest.mark.parametrize("command", sorted(_NEEDS))
def test_malformed_activity_file_is_one_line_naming_the_file(command, tmp_path, capsys):
    for kind, path in _malformed(tmp_path).items():
        line = _one_line_exit_2([command, "-a", str(path), *_NEEDS[command]], capsys)
        assert path.name in line or kind in ("binary", "empty", "truncated gzip"), (kind, line)


def test_malformed_deals_and_roster_are_one_line(tmp_path, capsys):
    bad = _malformed(tmp_path)["no usable columns"]
    _one_line_exit_2(["panel", "-a", ACTS, "-d", str(bad)], capsys, bad.name)
    _one_line_exit_2(["panel", "-a", ACTS, "-r", str(bad)], capsys, bad.name)


def test_malformed_goals_file_for_track_is_one_line(tmp_path, capsys):
    goals = tmp_path / "goals.csv"
    goals.write_text("rep,activity\nann,calls\n", encoding="utf-8")  # no goal columns
    _one_line_exit_2(["track", "-a", ACTS, "-d", DEALS, "-g", str(goals)], capsys)


def test_panel_files_with_a_bad_column_mapping_is_one_line(capsys):
    _one_line_exit_2(["panel-files", ACTS, "--column", "rep"], capsys, "CANONICAL=SOURCE")


def test_debug_still_shows_the_traceback():
    with pytest.raises(ValueError):
        cli.main(["--debug", "panel", "-a", str(ROOT / "README.md")])


# ---------------------------------------------------------------- errors raised past the argument types
# The argument types stop most bad input before the library runs; these reach the library (or the disk) and
# must still end as one line and exit 2: an OSError while writing, and messages that contain line breaks.
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full to make the disk 'full'")
def test_disk_full_while_writing_is_one_line(capsys):
    # /dev/full passes output_file's checks (its folder exists and is writable) and fails on write with ENOSPC:
    # the OSError comes from the writer after the work is done, not from the argument check
    _one_line_exit_2(["panel", "-a", ACTS, "-o", "/dev/full"], capsys, "No space left on device")


def test_a_multi_line_library_message_is_joined_on_one_line(monkeypatch, capsys):
    from salesgoals import io

    def fail(*args, **kwargs):
        raise SchemaError("load_activities: column 'rep' is empty\nin rows 2-9 of 'acts.csv'.\n\nFix the export.")

    monkeypatch.setattr(io, "load_activities", fail)
    line = _one_line_exit_2(["panel", "-a", ACTS], capsys, "column 'rep' is empty", "rows 2-9", "Fix the export.")
    assert "\n" not in line


def test_an_argument_with_a_line_break_is_reported_on_one_line(capsys):
    # float() accepts surrounding whitespace, so '\n1.5' reaches the range check, whose message quotes the text
    _one_line_exit_2(["forecast", "-a", ACTS, "-d", DEALS, "--interval", "\n1.5"], capsys, "between 0 and 1")
