"""Command-line interface: a thin argparse layer over the public functions.

Every subcommand loads the exports with :mod:`salesgoals.io`, calls one public
function and writes CSV (``-o``) or prints a readable table.  Library errors
become one line on stderr and exit code 2; ``--debug`` shows the traceback.

Examples
--------
>>> from salesgoals.cli import main
>>> main(["--version"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import get_args

import pandas as pd

from salesgoals import io
from salesgoals._progress import StepLog, set_progress, step
from salesgoals._schema import DEAL_COLUMNS
from salesgoals._typing import CRM, FREQS, TIERS, Outcome
from salesgoals._version import __version__
from salesgoals.accounts import account_objectives, account_review
from salesgoals.drivers import fit_drivers
from salesgoals.drivers.performers import compare_performers
from salesgoals.errors import (
    FileFormatError,
    SalesgoalsError,
    SalesgoalsWarning,
    SchemaError,
    UnreliableEstimateWarning,
)
from salesgoals.forecasting import backtest_forecast, forecast
from salesgoals.io import add_load_arguments, inspect, load_options, load_stage_history, parse_pairs, write_csv
from salesgoals.panel import activity_columns, activity_files, choose_engine, panel_for, panel_summary
from salesgoals.panel.scale import panel_from_parquet
from salesgoals.recommend import recommend
from salesgoals.report import report
from salesgoals.tracking import track

__all__ = ["main"]


# ------------------------------------------------------------------ argument types and the one-line error
# Every bad argument ends as ONE line ``salesgoals: error: ...`` on stderr and exit code 2 (README promise):
# values are checked where argparse reads them (the types below; add new flags with them), and whatever the
# library raises about the user's input (SalesgoalsError, ValueError, OSError) is caught once in ``main``.
class _UsageError(Exception):
    """A bad command line; ``main`` prints it as one line and returns 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors become :class:`_UsageError` (one line, exit code 2), not usage + exit."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        where = self.prog.removeprefix("salesgoals").strip()
        raise _UsageError(f"{where + ': ' if where else ''}{message}")


def _int_at_least(low: int, what: str):
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    convert.__name__ = what  # argparse names the type in its messages
    return convert


#: ``type=`` for counts that must be >= 1 (horizons, draws, threads) and >= 0 (lags, seeds).
positive_int = _int_at_least(1, "a whole number >= 1")
nonnegative_int = _int_at_least(0, "a whole number >= 0")


def fraction(text: str) -> float:
    """``type=`` for a probability strictly between 0 and 1 (interval coverage)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, got {text}")
    return value


def memory_size(text: str) -> str:
    """``type=`` for a DuckDB memory limit: a size such as 2GB, 512MB, 1.5GiB, or a share of RAM such as 80%.

    DuckDB reads a bare unit letter ("2G") as bytes and then fails out of memory, and "-1GB" as no limit:
    both are refused here.
    """
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB|%)\s*", text, flags=re.IGNORECASE)
    if not m or float(m.group(1)) <= 0 or (m.group(2) == "%" and float(m.group(1)) > 100):
        raise argparse.ArgumentTypeError(f"expected a memory size such as 2GB, 512MB or 80%, got {text!r}")
    return text.strip()


def goal_horizon(text: str) -> str | int:
    """``type=`` for a goal horizon: W, M, Q, Y or a whole number of periods >= 1."""
    if text.upper() in ("W", "M", "Q", "Y"):
        return text.upper()
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected W, M, Q, Y or a number of periods >= 1, got {text!r}") from None


def day(text: str) -> str:
    """``type=`` for a date such as 2025-12-17 (kept as text; the library parses it)."""
    try:
        pd.Timestamp(text)
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"expected a date such as 2025-12-17, got {text!r}") from None
    return text


def input_file(text: str) -> str:
    """``type=`` for a file to read: it must exist, be a file and be readable."""
    import os

    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, expected a file")
    if not os.access(text, os.R_OK):
        raise argparse.ArgumentTypeError(f"cannot read {text!r} (permission denied)")
    return text


def input_files(text: str) -> str:
    """``type=`` for activity files: a file as :func:`input_file`, or a glob (``'lake/**/*.parquet'``) matching one."""
    import glob

    if any(ch in text for ch in "*?[") and not os.path.exists(text):
        if not any(os.path.isfile(f) for f in glob.iglob(text, recursive=True)):
            raise argparse.ArgumentTypeError(f"no file matches {text!r}")
        return text
    return input_file(text)


def output_file(text: str) -> str:
    """``type=`` for a file to write: its folder must exist and be writable; it must not be a folder."""
    import os

    folder = os.path.dirname(os.path.abspath(text))
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a directory, expected a file name")
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(text) and not os.access(text, os.W_OK)):
        raise argparse.ArgumentTypeError(f"cannot write {text!r} (permission denied)")
    return text


def _one_line(exc: BaseException) -> str:
    """The error message on one line (a multi-line message is joined)."""
    text = " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
    return text or type(exc).__name__


#: Outcomes the driver model and the goals can be set on.
_OUTCOMES = list(get_args(Outcome))


# ------------------------------------------------------------------ shared helpers
def _add_input_args(p: argparse.ArgumentParser, *, deals_required: bool = True) -> None:
    """Options every data-reading subcommand shares."""
    g = p.add_argument_group("input exports")
    g.add_argument("--activities", "-a", nargs="+", metavar="FILE", type=input_files,
                   help="activity export(s): CSV, TSV, XLSX or Parquet, or a glob such as 'lake/**/*.parquet'; "
                        "several files are combined (optional where only deals are needed: panel, forecast, "
                        "drivers --performers)")  # fmt: skip
    g.add_argument("--deals", "-d", nargs="+", required=deals_required, metavar="FILE", type=input_file,
                   help="deal / opportunity export(s)")  # fmt: skip
    g.add_argument("--roster", "-r", metavar="FILE", type=input_file, help="roster: rep, team, manager, region, start, end")
    g.add_argument("--crm", default="auto", choices=get_args(CRM), metavar="CRM",
                   help="export layout: auto (default), salesforce, hubspot, pipedrive, zoho, dynamics, close, generic")  # fmt: skip
    g.add_argument("--dayfirst", choices=["auto", "yes", "no"], default="auto",
                   help="day/month order of ambiguous dates such as 03/04/2024 (default: detect from the data)")  # fmt: skip
    g.add_argument("--freq", choices=FREQS, default="W", help="panel grain: weeks, months or quarters")
    g.add_argument("--engine", choices=["auto", "memory", "duckdb", "dask"], default="auto",
                   help="how the panel is built: auto (default: files of 256 MB or more out of core with DuckDB), "
                   "memory, duckdb or dask")  # fmt: skip
    add_load_arguments(g)
    add_verbosity_args(p)


def add_verbosity_args(p: argparse.ArgumentParser) -> None:
    """``--quiet`` / ``--verbose``: the ONE definition every subcommand shares (progress bars read it too)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quiet", "-q", action="store_true",
                   help="print nothing but errors (files are still written)")  # fmt: skip
    g.add_argument("--verbose", "-v", action="store_true",
                   help="print every note and the full table (a long one: a roll-up and its first and last rows), and end "
                   "with one line: activities read, reps, periods, time and peak memory (default: summary, fitted table, one line per warning)")  # fmt: skip


def _verbosity(args: argparse.Namespace) -> int:
    """0 = quiet, 1 = normal, 2 = verbose."""
    return 0 if getattr(args, "quiet", False) else 2 if getattr(args, "verbose", False) else 1


def _say(args: argparse.Namespace, *text, file=None) -> None:
    """Print unless ``--quiet``."""
    if _verbosity(args):
        print(*text, file=file or sys.stdout)


def _plain_warning(args: argparse.Namespace):
    """``warnings.showwarning`` for the CLI: one plain line per warning on stderr, no source line."""

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001 - warnings hook
        if _verbosity(args):
            print(f"salesgoals: warning: {_one_line(message)}", file=sys.stderr)

    return show


def print_wrapped(text, *, width: int = 120) -> None:
    """Print text with every line longer than ``width`` wrapped (continuation lines indented)."""
    import textwrap

    for line in str(text).splitlines():
        print(textwrap.fill(line, width, subsequent_indent="  ", break_on_hyphens=False) if len(line) > width else line)


def fit_table(frame: pd.DataFrame, *, width: int = 120, max_text: int = 28) -> tuple[pd.DataFrame, list[str]]:
    """The columns that fit ``width`` characters, left to right: floats rounded, long text cut with ``...``.

    Returns the fitted frame and the names of the columns left out (they are in the written file).
    """
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(2)
        elif out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            text = out[c].astype(str)
            out[c] = text.where(text.str.len() <= max_text, text.str.slice(0, max_text - 3) + "...")
    keep: list[str] = []
    for c in out.columns:
        trial = out[[*keep, c]].head(50).to_string(index=False)
        if max(map(len, trial.splitlines())) > width and keep:
            break
        keep.append(c)
    return out[keep], [c for c in out.columns if c not in keep]


def _load_inputs(args: argparse.Namespace, *, need_activities: str | None = None):
    """Load activities, deals and roster named on the command line (loader options from flags and --config).

    Activity files that ``--engine`` (or their size) sends out of core stay a
    list of files: the library aggregates them without loading them whole.
    """
    opts = load_options(args)
    args.options = opts
    if need_activities and not args.activities:
        raise SchemaError(f"salesgoals {args.command}: {need_activities} needs an activity export: pass -a FILE.")
    if not args.activities and not args.deals:
        raise SchemaError(f"salesgoals {args.command}: pass an activity export (-a FILE), a deals export "
                          "(-d FILE) or both.")  # fmt: skip
    refuse_flags_without_their_export(args, deals=bool(args.deals), activities=bool(args.activities))
    users = opts["users"]
    acts = _activities(args, io, users, opts["activities"]) if args.activities else None
    deals = io.load_deals(_one_or_many(args.deals), users=users, **opts["deals"]) if args.deals else None
    roster = io.load_roster(args.roster, **opts["roster"]) if args.roster else None
    return acts, deals, roster


#: Loader flags that only a deals export reads, and those that only an activity export reads.
_DEAL_FLAGS = {"stage_map": "--stage-map", "all_won": "--all-won", "missing_close": "--missing-close"}
_ACTIVITY_FLAGS = {"type_map": "--type-map", "outcome_map": "--outcome-map"}


def refuse_flags_without_their_export(args: argparse.Namespace, *, deals: bool, activities: bool) -> None:
    """One error for a loader flag given on the command line whose export was not given.

    Such a flag would be ignored without a word (``--missing-close`` with no
    ``-d``).  Only the command line is checked: a ``--config`` file is shared by
    every subcommand, so its deal options stay quietly unused by a run without deals.
    """
    columns = parse_pairs(getattr(args, "columns", None), "--columns")
    for has, flags, prefix, what, fix in ((deals, _DEAL_FLAGS, "deals.", "a deals export", "-d FILE"),
                                          (activities, _ACTIVITY_FLAGS, "activities.", "an activity export",
                                           "-a FILE")):  # fmt: skip
        given = [flag for dest, flag in flags.items() if getattr(args, dest, None)]
        given += [f"--columns {k}=" for k in columns if k.lower().startswith(prefix)]
        if not has and given:
            raise SchemaError(f"salesgoals {args.command}: {', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} "
                              f"to {what}, and none was given: pass {fix}, or leave the flag out.")  # fmt: skip


def _activities(args: argparse.Namespace, io, users, options: dict):
    """The activity log loaded in memory, or the list of files when they go out of core (by size or ``--engine``).

    The out-of-core engines read canonical activity files and apply none of the
    loader options; with any of them given, ``--engine auto`` loads in memory
    (one note on stderr says why) and an explicit out-of-core engine is an error.
    """
    named = list(args.activities)
    if any(any(ch in a for ch in "*?[") and not os.path.exists(a) for a in named):
        named = activity_files(named)  # globs: the files they match
    if all(os.path.isfile(a) for a in named) and (engine := choose_engine(named, args.engine)) != "memory":
        wanted = _in_memory_only_options(users, options)
        if not wanted:
            return named
        if args.engine != "auto":
            raise SchemaError(f"salesgoals {args.command}: --engine {engine} reads canonical activity files and "
                              f"cannot apply {', '.join(wanted)}: leave out --engine (the log is then loaded in "
                              "memory with them), or write the log with canonical columns first (salesgoals panel "
                              "... --engine memory).")  # fmt: skip
        _say(args, f"salesgoals {args.command}: the activity files are large enough to go out of core, but "
                   f"{', '.join(wanted)} need the in-memory loader: loading them in memory.", file=sys.stderr)  # fmt: skip
    return io.load_activities(_one_or_many(named), users=users, **options)


def _in_memory_only_options(users, options: dict) -> list[str]:
    """The activity loader options given (flags or ``--config``) that only the in-memory loader applies."""
    given = {"--users": users, "--columns activities.*": options.get("columns"),
             "--type-map": options.get("type_map"), "--outcome-map": options.get("outcome_map"),
             "--dayfirst": options.get("dayfirst") is not None,
             f"--crm {options.get('crm')}": options.get("crm") not in (None, "auto")}  # fmt: skip
    return [flag for flag, value in given.items() if value]


#: The current run's :class:`salesgoals._progress.StepLog` (for ``--verbose``).
_RUN: dict = {}


def _note_panel(panel: pd.DataFrame) -> None:
    """Record the activities, reps and periods of the panel a command built (``--verbose``)."""
    log = _RUN.get("log")
    if log is not None and len(panel):
        acts = activity_columns(panel)
        log.note(activities_read=int(panel[acts].to_numpy().sum()) if acts else 0,
                 reps=panel["rep"].nunique(), periods=panel["period"].nunique())  # fmt: skip


def _one_or_many(paths: Sequence[str]):
    return paths[0] if len(paths) == 1 else list(paths)


def _write_or_print(frame: pd.DataFrame, out: str | None, *, max_rows: int = 30) -> None:
    """Write a spreadsheet-safe CSV to ``out``, or print the table."""
    if out:
        write_csv(frame, out)
        print(f"wrote {len(frame):,} rows to {out}", file=sys.stderr)
    else:
        with pd.option_context("display.max_rows", max_rows, "display.width", 120, "display.max_columns", 30):
            print(frame.to_string(max_rows=max_rows))


def _show_panel(panel: pd.DataFrame, args: argparse.Namespace) -> None:
    """Write the panel to ``args.out``, or print its size and a per-rep summary."""
    if args.out:
        _write_or_print(panel.assign(period=panel["period"].astype(str)), args.out)
        return
    lo, hi = panel.attrs["window"]
    print(f"panel: {panel['rep'].nunique():,} reps x {panel['period'].nunique():,} periods "
          f"({args.freq}, {lo} to {hi}), {len(panel):,} rows")  # fmt: skip
    _write_or_print(panel_summary(panel).round(3), None)


# ------------------------------------------------------------------ panel
def _add_panel(sub) -> None:
    p = sub.add_parser(
        "panel",
        help="load exports and build the rep x period panel",
        description="Load the exports, report data quality and build the rep x period panel.",
        epilog="Example: salesgoals panel -a data/samples/canonical_activities.csv.gz "
        "-d data/samples/canonical_deals.csv -r data/samples/roster.csv --freq W -o panel.csv",
    )
    _add_input_args(p, deals_required=False)
    p.add_argument("-o", "--out", type=output_file, help="write the panel to this CSV (default: print a per-rep summary)")
    p.set_defaults(func=_run_panel)


def _run_panel(args: argparse.Namespace) -> int:
    acts, deals, roster = _load_inputs(args)
    panel = panel_for(acts, deals, freq=args.freq, roster=roster, engine=args.engine)
    _note_panel(panel)
    _show_panel(panel, args)
    return 0


# ------------------------------------------------------------------ inspect
def _add_inspect(sub) -> None:
    p = sub.add_parser(
        "inspect",
        help="what loading an export would do: layout, mapping, stage/type values, dates, rows, how to change it",
        description="Show the detected layout, the header used for each field (and the alternatives), every stage "
        "or activity-type value and what it maps to, how dates were read, row counts, and the exact --columns / "
        "--stage-map / --type-map flags (and Python arguments) to change any of it.",
        epilog="Example: salesgoals inspect data/samples/zoho_deals.csv",
    )
    p.add_argument("file", type=input_file, help="one export: CSV, TSV, XLSX or Parquet")
    p.add_argument("--kind", choices=["auto", "deals", "activities"], default="auto", help="what the file holds")
    g = p.add_argument_group("loader options (to see their effect)")
    g.add_argument("--crm", default="auto", choices=get_args(CRM), metavar="CRM", help="export layout (default: detect)")
    g.add_argument("--dayfirst", choices=["auto", "yes", "no"], default="auto", help="day/month order of dates")
    add_load_arguments(g)
    p.set_defaults(func=_run_inspect)


def _run_inspect(args: argparse.Namespace) -> int:
    opts = load_options(args)
    probe = inspect(args.file, kind="auto" if args.kind == "auto" else args.kind)
    kw = dict(opts["deals"] if probe.kind == "deals" else opts["activities"], users=opts["users"])
    kw = {k: v for k, v in kw.items() if v is not None and not (k == "crm" and v == "auto")
          and not (k == "missing_close" and v == "exclude")}  # fmt: skip
    res = inspect(args.file, kind=probe.kind, **kw) if kw else probe
    print(res.summary())
    return 0 if not res.error else 2


# ------------------------------------------------------------------ panel-files (salesgoals.panel.scale)
def _add_panel_files(sub) -> None:
    p = sub.add_parser(
        "panel-files",
        help="build the panel from Parquet/CSV activity files larger than memory (DuckDB)",
        description="Aggregate activity files in the canonical layout (rep, timestamp, activity_type, outcome), "
        "larger than memory, with DuckDB and bounded memory, then build the rep x period panel exactly as "
        "'salesgoals panel' does. Deals and roster are ordinary exports.",
        epilog="Example: salesgoals panel-files 'lake/activities/**/*.parquet' -d deals.csv -r roster.csv "
        "--memory-limit 2GB -o panel.csv",
    )
    p.add_argument("source", nargs="+", help="directory, glob or files (Parquet or CSV) of canonical activities")
    p.add_argument("--deals", "-d", nargs="+", metavar="FILE", type=input_file, help="deal / opportunity export(s)")
    p.add_argument("--roster", "-r", metavar="FILE", type=input_file, help="roster: rep, team, manager, region, start, end")
    p.add_argument("--freq", choices=FREQS, default="W", help="panel grain: weeks, months or quarters")
    p.add_argument("--column", action="append", default=[], metavar="CANONICAL=SOURCE",
                   help="map a canonical column to the files' name, e.g. --column rep=owner_id (repeatable; "
                        "the same as --columns activities.rep=owner_id)")  # fmt: skip
    g = p.add_argument_group("loader options (the deals and roster exports are loaded as by 'salesgoals panel'; "
                             "of the activity options, --columns applies to the files, --type-map cannot)")  # fmt: skip
    g.add_argument("--crm", default="auto", choices=get_args(CRM), metavar="CRM",
                   help="layout of the deals export: auto (default), salesforce, hubspot, pipedrive, zoho, dynamics, "
                        "close, generic")  # fmt: skip
    g.add_argument("--dayfirst", choices=["auto", "yes", "no"], default="auto",
                   help="day/month order of ambiguous dates in the deals and roster (default: detect from the data)")  # fmt: skip
    add_load_arguments(g)
    p.add_argument("--memory-limit", default="2GB", type=memory_size, help="DuckDB memory limit; above it DuckDB spills to disk")
    p.add_argument("--threads", type=positive_int, help="DuckDB threads (default: all cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("-o", "--out", type=output_file, help="write the panel to this CSV (default: print a per-rep summary)")
    p.set_defaults(func=_run_panel_files)


def _run_panel_files(args: argparse.Namespace) -> int:
    opts = load_options(args)
    refuse_flags_without_their_export(args, deals=bool(args.deals), activities=True)
    columns = _file_columns(args, opts["activities"])
    deals = io.load_deals(_one_or_many(args.deals), users=opts["users"], **opts["deals"]) if args.deals else None
    roster = io.load_roster(args.roster, **opts["roster"]) if args.roster else None
    panel = panel_from_parquet(_one_or_many(args.source), deals, freq=args.freq, roster=roster, columns=columns or None,
                               memory_limit=args.memory_limit, threads=args.threads,
                               progress=not args.no_progress, users=opts["users"])  # fmt: skip
    _show_panel(panel, args)
    return 0


def _file_columns(args: argparse.Namespace, options: dict) -> dict[str, str]:
    """The activity files' column mapping: ``--columns`` (and ``--config``) activity entries, then ``--column``."""
    for key, flag, col in (("type_map", "--type-map", "activity_type"), ("outcome_map", "--outcome-map", "outcome")):
        if options.get(key):
            raise SchemaError(f"panel-files: {flag} cannot be applied to activity files aggregated out of core "
                              f"(their {col} values are counted as written); load them in memory with "
                              f"'salesgoals panel -a FILES --engine memory {flag} ...', or write the mapped values "
                              "into the files.")  # fmt: skip
    # deal_id and account name deals columns too: the out-of-core reader does not read them from activities
    columns = {k: v for k, v in (options.get("columns") or {}).items() if k == "rep" or k not in DEAL_COLUMNS}
    for canon, src in columns.items():
        if src is None:
            raise SchemaError(f"panel-files: --columns {canon}= (the export has no such column) cannot be applied to "
                              "activity files aggregated out of core: they are read as they are; prefix it deals. "
                              "if it is meant for the deals export.")  # fmt: skip
    for item in args.column:
        canon, sep, src = item.partition("=")
        if not sep or not canon or not src:
            raise SchemaError(f"panel-files: --column takes CANONICAL=SOURCE (e.g. rep=owner_id); got {item!r}.")
        columns[canon.strip()] = src.strip()
    return columns


# ------------------------------------------------------------------ recommend
def _add_recommend(sub) -> None:
    p = sub.add_parser(
        "recommend",
        help="personal-best goals in three tiers with projected revenue (the goal recommendations CSV)",
        description="Build the panel, find the activities that drive results, set each rep clear / stretch / "
        "extraordinary goals from their own history and project the revenue of each tier. Writes one row per "
        "rep x activity (see README: goal recommendations CSV) and prints a short summary.",
        epilog="Example: salesgoals recommend --activities data/samples/canonical_activities.csv.gz "
        "--deals data/samples/canonical_deals.csv --roster data/samples/roster.csv --out goals.csv",
    )
    _add_input_args(p)
    p.add_argument("--horizon", default="Q", type=goal_horizon,
                   help="goal horizon: W, M, Q (default) or Y, or a number of periods")  # fmt: skip
    p.add_argument("--outcome", default="deals_created", choices=_OUTCOMES,
                   help="driver-model outcome: deals_created (default), deals_won, won_revenue, pipeline_created")  # fmt: skip
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the revenue simulation (default 0)")
    p.add_argument("--sims", type=positive_int, default=2000, help="Monte Carlo draws (default 2000)")
    p.add_argument("--no-backtest", action="store_true",
                   help="skip the backtest of the stated odds on this history (faster)")  # fmt: skip
    p.add_argument("--stage-history", dest="stage_history", metavar="FILE", type=input_file,
                   help="deal stage history (Salesforce OpportunityHistory, HubSpot 'Date entered' deals, ...): "
                   "adds advance-rate quality goals per rep and interaction type")  # fmt: skip
    p.add_argument("-o", "--out", type=output_file, help="write the goal recommendations CSV here (default: print the table)")
    p.set_defaults(func=_run_recommend)


def _run_recommend(args: argparse.Namespace) -> int:
    rec = _recommendation(args)
    if args.out:
        rec.to_csv(args.out)
        _say(args, f"wrote {len(rec.table):,} rows to {args.out}", file=sys.stderr)
    _show_goals(rec, args)
    return 0


def _recommendation(args: argparse.Namespace):
    """Load the exports and run :func:`salesgoals.recommend` (shared by ``recommend`` and ``report``)."""
    acts, deals, roster = _load_inputs(args, need_activities="setting activity goals")
    args.deals_frame = deals  # the report's key-account page reads them too
    history = None
    if getattr(args, "stage_history", None):
        history = load_stage_history(args.stage_history)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SalesgoalsWarning)  # the notes are part of the summary
        rec = recommend(acts, deals, roster, freq=args.freq, horizon=args.horizon, outcome=args.outcome,
                        n_sims=args.sims, seed=args.seed, backtest=not args.no_backtest,
                        currency=_currency(args, ""), engine=args.engine,
                        stage_history=history)  # fmt: skip
    _note_panel(rec.panel)
    return rec


def _currency(args: argparse.Namespace, default: str) -> str:
    """Money symbol: ``--currency``, else the config's ``currency``, else ``default``."""
    return getattr(args, "currency", None) or args.options.get("currency") or default


#: Goal columns printed by ``recommend`` (the rest is in the file).
_GOAL_VIEW = ["rep", "activity", "priority", "recent", "goal_clear", "p_clear", "goal_stretch", "p_stretch", "flags",
              "goal_extraordinary", "p_extraordinary"]  # fmt: skip


#: ``--verbose`` prints tables up to this many rows in full; a larger one (50,000 rows at 10,000 reps) prints
#: its first and last :data:`VERBOSE_ENDS` rows after a roll-up by activity.
VERBOSE_ROWS = 200
VERBOSE_ENDS = 30


def _show_goals(rec, args: argparse.Namespace) -> None:
    """The summary and the focus goals, fitted to 120 columns (``--verbose``: every row, or a bounded view)."""
    level = _verbosity(args)
    if not level:
        return
    print_wrapped(rec.summary())
    rows = rec.table if level > 1 else rec.table[rec.table["priority"] > 0]
    limit = 40 if level == 1 else None if len(rows) <= VERBOSE_ROWS else 2 * VERBOSE_ENDS
    if level > 1 and limit:
        print(f"\nGoals by activity ({len(rows):,} rows, {rows['rep'].nunique():,} reps; medians, rates a week):")
        print(goal_rollup(rows).to_string(index=False))
    short = {"priority": "focus", "goal_clear": "clear", "goal_stretch": "stretch", "goal_extraordinary": "extra",
             "p_extraordinary": "p_extra"}  # fmt: skip
    table, left_out = fit_table(rows[_GOAL_VIEW].rename(columns=short))
    which = "priority > 0" if level == 1 else "all rows" if not limit else f"first and last {VERBOSE_ENDS} rows"
    print(f"\nFocus goals ({which}; rates a week, odds for the period):")
    print(table.to_string(index=False, max_rows=limit))
    if left_out or not args.out:
        print("Every column (why, totals, revenue) is in the CSV: pass --out goals.csv.")


def goal_rollup(table: pd.DataFrame) -> pd.DataFrame:
    """One row per activity of a goals table: reps, focus goals, and the median rate and goal of each tier.

    Columns: ``activity``, ``reps``, ``focus`` (rows with priority > 0),
    ``recent``, ``goal_clear``, ``goal_stretch``, ``goal_extraordinary``
    (medians over reps), ``p_clear``, ``p_stretch``, ``p_extraordinary``
    (medians of the stated odds); in the table's order of activities.
    """
    cols = ["recent", "goal_clear", "goal_stretch", "goal_extraordinary", "p_clear", "p_stretch", "p_extraordinary"]
    g = table.groupby("activity", sort=False, observed=True)
    out = g[cols].median().round(2)
    out.insert(0, "focus", (table["priority"] > 0).groupby(table["activity"], sort=False, observed=True).sum())
    out.insert(0, "reps", g["rep"].nunique())
    return out.reset_index()


# ------------------------------------------------------------------ report
def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="the manager's report: one self-contained HTML file (team page + one page per seller), and .xlsx",
        description="Run the goal recommendations and write the manager's report: a team page (drivers in plain "
        "words, team goal vs target, tier projection, leader goals) and one page per seller for the 1:1 (goals "
        "with odds, why, weekly landmarks, trend, funnel vs top performers). One HTML file, no network needed.",
        epilog="Example: salesgoals report -a data/samples/canonical_activities.csv.gz -d data/samples/canonical_deals.csv "
        "-r data/samples/roster.csv --target 1500000 --out report.html --xlsx report.xlsx",
    )
    _add_input_args(p)
    p.add_argument("--out", "-o", required=True, type=output_file, help="write the HTML report here")
    p.add_argument("--xlsx", type=output_file, help="also write the report's tables to this workbook (needs openpyxl)")
    p.add_argument("--target", type=amount, help="top-down revenue target for the goal period (team total)")
    p.add_argument("--currency", default=None,
                   help="currency symbol shown in the report (default: the config's currency, else $)")  # fmt: skip
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--horizon", default="Q", type=goal_horizon, help="goal period: W, M, Q (default) or Y")
    p.add_argument("--outcome", default="deals_created", choices=_OUTCOMES, help="driver-model outcome")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the revenue simulation (default 0)")
    p.add_argument("--sims", type=positive_int, default=2000, help="Monte Carlo draws (default 2000)")
    p.add_argument("--no-backtest", action="store_true", help="skip the backtest of the stated odds (faster)")
    p.add_argument("--key-accounts", dest="key_accounts", action="store_true",
                   help="add a key-account page and sheets: each account's objective (next milestone, target with "
                   "odds), from the deals export")  # fmt: skip
    p.add_argument("--accounts", dest="accounts_table", metavar="FILE", type=input_file,
                   help="accounts table for the key-account page (account plus industry, size_band or employees, "
                   "owner); implies --key-accounts")  # fmt: skip
    p.set_defaults(func=_run_report)


def amount(text: str) -> float:
    """``type=`` for an amount such as 1500000 or 1,500,000 (>= 0)."""
    try:
        value = float(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount such as 1500000, got {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"expected an amount >= 0, got {text}")
    return value


def _run_report(args: argparse.Namespace) -> int:
    table = _read_accounts(args.accounts_table) if args.accounts_table else None  # first: a bad file fails at once
    rec = _recommendation(args)
    objectives = None
    if args.key_accounts or args.accounts_table:
        objectives = account_objectives(args.deals_frame, table)
    res = report(rec, args.out, target=args.target, currency=_currency(args, "$"), xlsx=args.xlsx, title=args.title,
                 accounts=objectives)
    if _verbosity(args) > 1:
        print_wrapped(rec.summary())
    _say(args, f"wrote the report ({len(res.sellers) + 1} pages: team + {len(res.sellers)} sellers) to {args.out}"
         + (f" and its tables to {args.xlsx}" if args.xlsx else ""), file=sys.stderr)  # fmt: skip
    return 0


# ------------------------------------------------------------------ forecast
def _add_forecast(sub) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast won revenue (or deals won) with prediction intervals",
        description="Forecast won revenue or deals won per team, rep or in total, with intervals calibrated on "
        "the errors of past forecasts (conformal). --method auto picks the method with the lowest backtest error; "
        "--backtest prints the rolling-origin backtest (MASE, interval coverage) instead.",
        epilog="Example: salesgoals forecast -a data/samples/canonical_activities.csv.gz "
        "-d data/samples/canonical_deals.csv -r data/samples/roster.csv --level team --freq M --horizon 3 "
        "-o forecast.csv",
    )
    _add_input_args(p)
    p.add_argument("--level", default=None,
                   help="total, rep, or a roster column such as team (default: team with a roster -r, else total)")
    p.add_argument("--horizon", type=positive_int, default=None,
                   help="periods ahead (default 4 weeks / 3 months / 2 quarters)")  # fmt: skip
    p.add_argument("--method", default="auto",
                   help="auto (default), all, seasonal_naive, ets, pipeline, activity or combination")  # fmt: skip
    p.add_argument("--target", default="won_revenue", choices=["won_revenue", "deals_won"],
                   help="won_revenue (default) or deals_won")  # fmt: skip
    p.add_argument("--as-of", dest="as_of", type=day, help="forecast as of this date, using only data known then")
    p.add_argument("--interval", type=fraction, default=0.8, help="nominal interval coverage (default 0.8)")
    p.add_argument("--ranges", default="auto", choices=["auto", "additive", "log", "count"],
                   help="scale of the ranges: auto (default: the best-scoring on past origins), additive, log "
                   "(multiplicative, skewed up) or count (deals_won only: whole deals)")  # fmt: skip
    p.add_argument("--backtest", action="store_true", help="print the backtest table instead of forecasting")
    p.add_argument("-o", "--out", type=output_file, help="write the forecast (or backtest) table to this CSV")
    p.set_defaults(func=_run_forecast)


def _run_forecast(args: argparse.Namespace) -> int:
    acts, deals, roster = _load_inputs(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SalesgoalsWarning)  # panel data-quality notes; forecast notes are printed below
        panel = panel_for(acts, deals, freq=args.freq, roster=roster, engine=args.engine)
    _note_panel(panel)
    level = args.level or ("team" if roster is not None else "total")  # without a roster there are no teams
    kw = dict(target=args.target, level=level, horizon=args.horizon, as_of=args.as_of,
              interval=args.interval, ranges=args.ranges, deals=deals)  # fmt: skip
    if args.backtest:
        res = backtest_forecast(panel, methods=args.method if args.method != "auto" else "all", **kw)
        print(res.summary())
        if args.out:
            _write_or_print(res.table, args.out)
        return 0
    method = args.method.split(",") if "," in args.method else args.method
    with step("forecast"):
        res = forecast(panel, method=method, **kw)
    print(res.summary() if not args.out else "\n".join(res.summary().lines), file=sys.stderr if args.out else sys.stdout)
    if args.out:
        _write_or_print(res.table.assign(period=res.table["period"].astype(str)), args.out)
    return 0


# ------------------------------------------------------------------ track
def _add_track(sub) -> None:
    p = sub.add_parser(
        "track",
        help="progress against goals: landmarks, pace, odds and at-risk flags",
        description="Compare each rep's activity so far in the week (month, quarter) with their goals from a "
        "goals CSV (columns rep, activity, goal_clear, goal_stretch, goal_extraordinary; priority, baseline, "
        "team used when present): landmark to date, pace, projected end of period, odds of reaching the goal "
        "and a status (ahead, on_track, at_risk, behind) with the reason.",
        epilog="Example: salesgoals track -a data/samples/canonical_activities.csv.gz "
        "-d data/samples/canonical_deals.csv -r data/samples/roster.csv --goals goals.csv --as-of 2025-12-17 "
        "-o progress.csv",
    )
    _add_input_args(p)
    p.add_argument("--goals", "-g", required=True, metavar="FILE", type=input_file,
                   help="goals CSV (from `salesgoals recommend`)")  # fmt: skip
    p.add_argument("--as-of", dest="as_of", type=day, help="track to this day, inclusive (default: last activity day)")
    p.add_argument("--period", choices=FREQS, default="W", help="goal period tracked (default W)")
    p.add_argument("--tier", choices=TIERS, default="clear",
                   help="goal tier the status refers to (default clear)")  # fmt: skip
    p.add_argument("--view", choices=["rep", "team", "manager"], default="rep", help="rows written/printed")
    p.add_argument("-o", "--out", type=output_file, help="write the progress table to this CSV")
    _add_account_plan_args(p)
    p.add_argument("--accounts-out", dest="accounts_out", type=output_file,
                   help="write the account progress table to this CSV (with --account-plan)")  # fmt: skip
    p.set_defaults(func=_run_track)


def _add_account_plan_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--account-plan", dest="account_plan", metavar="FILE", type=input_file,
                   help="account objectives CSV (from `salesgoals accounts --out`): adds each account's progress "
                   "against its objective (won so far vs target, pace, odds still, status)")  # fmt: skip
    p.add_argument("--plan-date", dest="plan_date", type=day,
                   help="day the account plan was made (default: its plan_date column)")  # fmt: skip


def _account_plan(args: argparse.Namespace) -> pd.DataFrame | None:
    """The account objectives CSV named by --account-plan (with --plan-date written in), or None."""
    if not getattr(args, "account_plan", None):
        return None
    plan = _plain_csv(args.account_plan, "account plan", dtype={"account": str, "owner": str}, keep_default_na=False)
    if args.plan_date:
        plan["plan_date"] = args.plan_date
    return plan


def _run_track(args: argparse.Namespace) -> int:
    plan = _account_plan(args)  # first: a bad --account-plan file fails before the tracking work
    acts, deals, roster = _load_inputs(args, need_activities="tracking activity goals")
    data = (acts, deals)
    if not isinstance(acts, pd.DataFrame):  # files that --engine (or their size) sends out of core: on that engine
        data = panel_for(acts, deals, freq=args.period, roster=roster, engine=args.engine)
        _note_panel(data)
    res = track(data, args.goals, as_of=args.as_of, period=args.period, tier=args.tier, roster=roster,
                holidays=args.options["holidays"], fiscal_year_start=args.options["fiscal_year_start"])  # fmt: skip
    frame = {"rep": res.table, "team": res.team, "manager": res.managers}[args.view]
    print(res.summary(), file=sys.stderr if args.out else sys.stdout)
    _write_or_print(frame, args.out)
    if plan is not None:
        if deals is None:
            raise SchemaError("salesgoals track: --account-plan needs the deals export: pass -d FILE.")
        try:
            review = account_review(plan, deals, as_of=pd.Timestamp(res.as_of) + pd.Timedelta(days=1))
        except SchemaError as exc:  # the library sees a table: say which file it came from
            raise SchemaError(f"--account-plan {os.path.basename(args.account_plan)!r}: {exc}") from exc
        print(review, file=sys.stderr if args.out else sys.stdout)
        if args.accounts_out:
            _write_or_print(review.table, args.accounts_out)
    return 0


# ------------------------------------------------------------------ drivers
def _add_drivers(sub) -> None:
    p = sub.add_parser(
        "drivers",
        help="which activities drive results (within-rep, within-period effects with intervals)",
        description="Estimate the effect of one extra activity of each type on an outcome, comparing each rep "
        "with themselves week to week (rep and period fixed effects, distributed lags, standard errors "
        "clustered by rep), with placebo, leads and hold-out checks. Prints the summary; -o writes the effects "
        "table. --performers prints what top performers do differently and where each rep's funnel leaks.",
        epilog="Example: salesgoals drivers -a data/samples/canonical_activities.csv.gz "
        "-d data/samples/canonical_deals.csv -r data/samples/roster.csv --outcome won_revenue -o effects.csv",
    )
    _add_input_args(p)
    p.add_argument("--outcome", default="deals_created",
                   choices=_OUTCOMES,
                   help="outcome the effects are on (default deals_created)")  # fmt: skip
    p.add_argument("--method", default="auto", choices=["auto", "funnel", "direct"],
                   help="funnel: estimate on deals created, carry by win rate x deal size (default); direct")  # fmt: skip
    p.add_argument("--lags", type=nonnegative_int, default=None, help="fixed lag length (default: chosen from the data)")
    p.add_argument("--max-lag", dest="max_lag", type=nonnegative_int, default=None, help="longest lag considered")
    p.add_argument("--no-diagnostics", dest="diagnostics", action="store_false",
                   help="skip the placebo, leads, pooled and hold-out checks (faster)")  # fmt: skip
    p.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the placebo shuffle and the bootstrap")
    p.add_argument("--rep-effects", dest="rep_effects", metavar="FILE", type=output_file,
                   help="also write per-rep effects to this CSV")  # fmt: skip
    p.add_argument("--performers", action="store_true",
                   help="compare top performers with the rest and show funnel leaks instead of effects")  # fmt: skip
    p.add_argument("-o", "--out", type=output_file,
                   help="write the effects (or, with --performers, the leaks) table to this CSV")  # fmt: skip
    p.set_defaults(func=_run_drivers)


def _run_drivers(args: argparse.Namespace) -> int:
    acts, deals, roster = _load_inputs(args, need_activities=None if args.performers else "fitting drivers")
    panel = panel_for(acts, deals, freq=args.freq, roster=roster, engine=args.engine)
    stream = sys.stderr if args.out else sys.stdout
    if args.performers:
        comp = compare_performers(panel, deals)
        print(comp.summary(), file=stream)
        if args.out:
            _write_or_print(comp.leaks, args.out)
        return 0
    with warnings.catch_warnings():
        # the warnings are part of the printed summary; do not print them twice
        warnings.simplefilter("ignore", UnreliableEstimateWarning)
        res = fit_drivers(panel, outcome=args.outcome, method=args.method, lags=args.lags, max_lag=args.max_lag,
                          diagnostics=args.diagnostics, seed=args.seed)  # fmt: skip
    print(res.summary(), file=stream)
    if args.out:
        _write_or_print(res.effects, args.out)
    if args.rep_effects:
        _write_or_print(res.rep_effects, args.rep_effects)
    return 0


# ------------------------------------------------------------------ accounts
def _add_accounts(sub) -> None:
    p = sub.add_parser(
        "accounts",
        help="an objective per account: next milestone, financial target with odds, owner",
        description="For every account in the deals export: won revenue per 12 months, products, open pipeline, "
        "last activity; peers (same industry and size band from --accounts, else the same revenue band); the "
        "potential (peers' upper-quartile annual revenue, products peers buy that it does not); the next "
        "milestone in words and a target for the next 12 months with its odds. Sorted by headroom to the "
        "peer potential.",
        epilog="Example: salesgoals accounts -d data/samples/canonical_deals.csv --out account_objectives.csv",
    )
    p.add_argument("--deals", "-d", nargs="+", required=True, metavar="FILE", type=input_file,
                   help="deal / opportunity export(s)")  # fmt: skip
    p.add_argument("--accounts", metavar="FILE", type=input_file,
                   help="accounts table: account plus industry, size_band or employees, owner")  # fmt: skip
    p.add_argument("--activities", "-a", nargs="+", metavar="FILE", type=input_file,
                   help="activity export(s), for last activity")  # fmt: skip
    p.add_argument("--crm", default="auto", choices=get_args(CRM), metavar="CRM", help="export layout (default auto)")
    p.add_argument("--as-of", dest="as_of", type=day, help="plan date (default: the day after the latest deal date)")
    p.add_argument("-o", "--out", type=output_file,
                   help="write the objectives table to this CSV (with a plan_date column, for track --account-plan)")
    add_load_arguments(p.add_argument_group("loader options (money stays in the deals' own currency column)"))
    p.set_defaults(func=_run_accounts)


def _run_accounts(args: argparse.Namespace) -> int:
    opts = load_options(args)
    refuse_flags_without_their_export(args, deals=True, activities=bool(args.activities))
    deals = io.load_deals(_one_or_many(args.deals), users=opts["users"], **opts["deals"])
    acts = io.load_activities(_one_or_many(args.activities), users=opts["users"],
                              **opts["activities"]) if args.activities else None  # fmt: skip
    accounts = _read_accounts(args.accounts) if args.accounts else None
    res = account_objectives(deals, accounts, activities=acts, as_of=args.as_of)
    print(res.summary(), file=sys.stderr if args.out else sys.stdout)
    # the plan date goes into the file, so `track --account-plan` knows when the year started
    _write_or_print(res.table.assign(plan_date=str(res.as_of.date())) if args.out else res.table, args.out)
    return 0


def _plain_csv(path: str, what: str, **kwargs) -> pd.DataFrame:
    """``pd.read_csv`` of a plain table; a file that is not CSV text is one FileFormatError naming it."""
    import csv

    try:
        return pd.read_csv(path, **kwargs)
    except (EOFError, csv.Error, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FileFormatError(f"{os.path.basename(path)!r}: cannot read the {what} as CSV ({why}).") from exc


def _read_accounts(path: str) -> pd.DataFrame:
    """An accounts table is plain: CSV / XLSX / Parquet with an ``account`` column (read as text)."""
    lower = path.lower()
    if lower.endswith((".xlsx", ".xls")):
        frame = pd.read_excel(path, dtype=str)
    elif lower.endswith((".parquet", ".pq")):
        frame = pd.read_parquet(path)
    else:
        frame = _plain_csv(path, "accounts table", dtype=str, keep_default_na=False, sep=None, engine="python")
    frame.columns = [str(c).strip().lower().replace(" ", "_") for c in frame.columns]
    if "account" not in frame.columns:
        raise SchemaError(f"{path}: the accounts table needs an 'account' column; found {', '.join(frame.columns)}.")
    return frame


# ------------------------------------------------------------------ entry point
def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="salesgoals",
        description="Behaviour-driven sales goals from CRM exports: drivers, personal-best goals, "
        "projected targets, forecasts and tracking.",
    )
    parser.add_argument("--version", action="version", version=f"salesgoals {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


#: Subcommands in pipeline order; each ``_add_*`` registers one.
_SUBCOMMANDS = [_add_inspect, _add_panel, _add_recommend]

_SUBCOMMANDS += [_add_forecast, _add_track]
_SUBCOMMANDS.append(_add_accounts)  # issue 15: account objectives
_SUBCOMMANDS.insert(_SUBCOMMANDS.index(_add_recommend) + 1, _add_report)  # issue 13: the manager's report
_SUBCOMMANDS.insert(_SUBCOMMANDS.index(_add_panel) + 1, _add_drivers)  # pipeline: panel -> drivers
_SUBCOMMANDS.insert(_SUBCOMMANDS.index(_add_panel) + 1, _add_panel_files)  # right after 'panel'


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``salesgoals`` command line; returns the process exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"salesgoals: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    set_progress(False if getattr(args, "quiet", False) else None)
    _RUN["log"] = StepLog()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _plain_warning(args)  # one plain line per warning, none with --quiet
            code = int(args.func(args) or 0)
        if _verbosity(args) > 1:
            print(_RUN["log"].line(), file=sys.stderr)
        return code
    except (SalesgoalsError, ValueError, OSError) as exc:  # the user's input or files; --debug shows where
        if args.debug:
            raise
        print(f"salesgoals: error: {_one_line(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
