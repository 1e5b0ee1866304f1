"""Regenerate every bundled sample from the simulator, deterministically.

Run from the repository root::

    python data/samples/make_samples.py            # data/samples/* and salesgoals/datasets/data/*
    python data/samples/make_samples.py --check    # regenerate into a temp dir, compare bytes, exit 1 on a difference

Every file comes from :func:`salesgoals.simulate.make_crm_data` with the fixed
seed and settings in :data:`SIMULATIONS`, written by the vendor layouts in
:mod:`salesgoals.simulate.exports`.  Each run gives byte-identical files (gzip files are
written without time stamp or file name), so ``git diff`` after a rerun shows
only real changes.  The catalogs (``data/samples/catalog.csv`` and
``salesgoals/datasets/catalog.csv``) and ``data/samples/README.md`` are written
from the same list, so they cannot drift from the files.

Four simulated companies are used:

* ``canonical``: 30 reps x 104 weeks at full activity volume: the rich sample for
  the driver, goal and forecast notebooks (canonical CSV pair + roster + truth);
* ``hubspot``, ``salesforce``, ``pipedrive``: smaller companies (10-15 reps x 52
  weeks, a quarter of the activity volume) exported in each vendor's layout, so the
  loaders can be checked against totals known from the canonical frames;
* ``tiny``: 12 reps x 52 weeks at 0.3 volume, shipped inside the package for
  ``sg.datasets.load_sample`` and docstring examples.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import sys
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from salesgoals.simulate import exports as ex
from salesgoals.simulate import CRMData, make_crm_data

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PACKAGE_DATA = REPO / "salesgoals" / "datasets"

#: Every simulation behind a sample: name -> make_crm_data arguments.
SIMULATIONS: dict[str, dict] = {
    "canonical": dict(n_reps=30, n_weeks=104, seed=11, volume_scale=1.0, start="2024-01-01"),
    "hubspot": dict(n_reps=12, n_weeks=52, seed=101, volume_scale=0.25, start="2024-12-30"),
    "salesforce": dict(n_reps=12, n_weeks=52, seed=202, volume_scale=0.15, start="2024-12-30"),
    "pipedrive": dict(n_reps=10, n_weeks=52, seed=303, volume_scale=0.25, start="2024-12-30"),
    "zoho": dict(n_reps=5, n_weeks=26, seed=505, volume_scale=0.15, start="2025-06-30"),
    "dynamics": dict(n_reps=5, n_weeks=26, seed=606, volume_scale=0.15, start="2025-06-30"),
    "salesforce_backup": dict(
        n_reps=6, n_weeks=30, seed=404, volume_scale=0.15, start="2025-06-02"
    ),
    "tiny": dict(n_reps=12, n_weeks=52, seed=5, volume_scale=0.3, start="2025-01-06"),
}

#: Defects planted in the HubSpot calls export, as real exports have them: exact
#: duplicate rows (a double export) and calls logged without an owner.  The loaders
#: must exclude exactly these and report them by reason.
HUBSPOT_CALLS_DEFECTS: dict[str, int] = {"duplicate_row": 9, "missing_rep": 6}

#: Day the vendor samples were "exported" (the day after their window ends).
EXPORT_DAY = "2025-12-29"

CATALOG_COLUMNS = [
    "file",
    "vendor",
    "kind",
    "rows",
    "description",
    "seed",
    "simulation",
    "n_reps",
    "n_weeks",
    "volume_scale",
    "start",
]
PACKAGE_CATALOG_COLUMNS = [
    "name",
    "file",
    "kind",
    "rows",
    "description",
    "seed",
    "n_reps",
    "n_weeks",
    "volume_scale",
]


@cache
def simulate(name: str) -> CRMData:
    """Run (once; cached) the simulation behind sample ``name``."""
    params = SIMULATIONS[name]
    return make_crm_data(**params)


def _truth_table(sim: CRMData) -> pd.DataFrame:
    return sim.truth.reset_index()


def _entry(file: str, vendor: str, kind: str, rows: int, description: str, simulation: str) -> dict:
    p = SIMULATIONS[simulation]
    return dict(
        file=file,
        vendor=vendor,
        kind=kind,
        rows=int(rows),
        description=description,
        seed=p["seed"],
        simulation=simulation,
        n_reps=p["n_reps"],
        n_weeks=p["n_weeks"],
        volume_scale=p["volume_scale"],
        start=p["start"],
    )


def _write_canonical(
    frame: pd.DataFrame, path: Path, *, float_format: str | None = None, compresslevel: int = 9
) -> None:
    table = ex.to_canonical(frame)
    if float_format is not None:
        for col in table.columns:
            if pd.api.types.is_float_dtype(table[col]):
                table[col] = table[col].map(float_format.__mod__)
    ex.write_export(table, path, compresslevel=compresslevel)


# ------------------------------------------------------------------ data/samples
def write_repo_samples(out: Path, *, compresslevel: int = 9) -> list[dict]:
    """Write the samples of ``data/samples/`` into ``out``; return the catalog rows.

    ``compresslevel`` only changes how hard gzip files are squeezed, not their
    content (checks compare decompressed content and use a fast level).
    """
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []

    # --- canonical pair + roster + truth (rich: 30 reps x 104 weeks)
    sim = simulate("canonical")
    _write_canonical(
        sim.activities, out / "canonical_activities.csv.gz", compresslevel=compresslevel
    )
    rows.append(
        _entry(
            "canonical_activities.csv.gz",
            "canonical",
            "activities",
            len(sim.activities),
            "Activity log in the canonical layout (gzip CSV): rep, timestamp, activity_type, "
            "activity_id, deal_id, account, outcome, duration_min.",
            "canonical",
        )
    )
    _write_canonical(sim.deals, out / "canonical_deals.csv")
    rows.append(
        _entry(
            "canonical_deals.csv",
            "canonical",
            "deals",
            len(sim.deals),
            "Deals in the canonical layout: deal_id, rep, created, closed (empty if open), "
            "status won/lost/open, amount, stage, account, currency, pipeline.",
            "canonical",
        )
    )
    _write_canonical(sim.roster, out / "roster.csv")
    rows.append(
        _entry(
            "roster.csv",
            "canonical",
            "roster",
            len(sim.roster),
            "Roster of the canonical company: rep, team, manager, region, start, end "
            "(empty end = still active).",
            "canonical",
        )
    )
    _write_canonical(_truth_table(sim), out / "truth.csv", float_format="%.10g")
    rows.append(
        _entry(
            "truth.csv",
            "canonical",
            "truth",
            len(sim.truth),
            "True effect of ONE extra activity of each type on deals_created, pipeline_created, "
            "deals_won and won_revenue (summed over later weeks, mean over reps).",
            "canonical",
        )
    )
    _write_canonical(sim.truth_by_rep, out / "truth_by_rep.csv", float_format="%.10g")
    rows.append(
        _entry(
            "truth_by_rep.csv",
            "canonical",
            "truth",
            len(sim.truth_by_rep),
            "The same true effects per rep (rep, activity, four outcome columns).",
            "canonical",
        )
    )

    # --- HubSpot: one UI export per object, labels as headers, owner names, ISO dates
    sim = simulate("hubspot")
    stem = "hubspot-crm-exports-all-{}-" + EXPORT_DAY + ".csv"
    described = {
        "calls": "HubSpot calls export: 'Activity date' (YYYY-MM-DD HH:MM), 'Activity assigned to' (owner name), "
        "'Call outcome' (Connected / No answer / Left voicemail), 'Call duration' as HH:MM:SS.",
        "meetings": "HubSpot meetings export: 'Start Time', 'End Time', 'Meeting outcome' COMPLETED / NO_SHOW.",
        "emails": "HubSpot emails export: 'Email direction' EMAIL, 'Email send status' SENT; follow-up emails "
        "carry 'Associated Deal IDs'.",
        "tasks": "HubSpot tasks export holding the LinkedIn touches: 'Due date', 'Assigned to', 'Task Type' LINKED_IN.",
    }
    for kind, text in described.items():
        table = ex.to_hubspot(sim.activities, kind=kind)
        if kind == "calls":
            table = _plant_defects(
                table,
                owner="Activity assigned to",
                record_id="Record ID",
                date="Activity date",
                **HUBSPOT_CALLS_DEFECTS,
            )
            text += (
                f" Contains {HUBSPOT_CALLS_DEFECTS['duplicate_row']} exact duplicate rows and "
                f"{HUBSPOT_CALLS_DEFECTS['missing_rep']} calls with a blank owner (not in the canonical data)."
            )
        ex.write_export(table, out / stem.format(kind))
        rows.append(_entry(stem.format(kind), "hubspot", "activities", len(table), text, "hubspot"))
    table = ex.to_hubspot(sim.deals, kind="deals", export_date=EXPORT_DAY)
    ex.write_export(table, out / stem.format("deals"), bom=True)
    rows.append(
        _entry(
            stem.format("deals"),
            "hubspot",
            "deals",
            len(table),
            "HubSpot deals export with a UTF-8 BOM: 'Deal Stage' labels (Closed Won / Closed Lost / "
            "Appointment Scheduled ...), 'Deal owner', plain 'Amount', 'Close Date' set for open deals too "
            "(expected close).",
            "hubspot",
        )
    )

    # HubSpot deals with the "Date entered <stage>" properties selected: the stage history, wide
    table = ex.to_hubspot_stage_dates(sim.deals, sim.stage_history, export_date=EXPORT_DAY)
    file = "hubspot-crm-exports-deals-stage-dates-" + EXPORT_DAY + ".csv"
    ex.write_export(table, out / file)
    rows.append(
        _entry(
            file,
            "hubspot",
            "stage_history",
            len(table),
            "HubSpot deals export with 'Date entered \"<stage> (Sales Pipeline)\"' and 'Date exited' columns "
            "(one per stage of the default pipeline, blank when never entered): the stage history, one row per "
            "deal; same deals and Record IDs as the deals export.",
            "hubspot",
        )
    )

    # --- Salesforce: report exports, labels, US dates, title block + Grand Totals footer, CRLF, all quoted
    sim = simulate("salesforce")
    table = ex.to_salesforce_report(sim.deals, kind="opportunities", export_date=EXPORT_DAY)
    ex.write_salesforce_report(
        table,
        out / "salesforce_opportunities_report.csv",
        title="Opportunity Pipeline",
        run_at=EXPORT_DAY + " 09:05",
    )
    rows.append(
        _entry(
            "salesforce_opportunities_report.csv",
            "salesforce",
            "deals",
            len(table),
            "Salesforce opportunity report (Details only): title block above the header, "
            "'Opportunity Owner', 'Stage', 'Amount' as $12,500.00, 'Close Date' m/d/Y (expected close "
            "for open deals), 'Grand Totals (N records)' row and copyright footer; CRLF.",
            "salesforce",
        )
    )
    table = ex.to_salesforce_report(sim.activities, kind="activities")
    ex.write_salesforce_report(
        table,
        out / "salesforce_activities_report.csv",
        title="Tasks and Events",
        run_at=EXPORT_DAY + " 09:07",
    )
    rows.append(
        _entry(
            "salesforce_activities_report.csv",
            "salesforce",
            "activities",
            len(table),
            "Salesforce 'Tasks and Events' report: 'Assigned', 'Date' m/d/Y (day only), "
            "'Activity Type' Call/Email/Meeting/LinkedIn, 'Call Result' (Connected / No Answer / Left "
            "Voicemail), 'Call Duration' in seconds, meeting 'Status' Completed / No Show; title block "
            "and Grand Totals footer.",
            "salesforce",
        )
    )

    # --- Pipedrive: European locale, semicolons, d.m.Y, '€ 2.900,00'
    sim = simulate("pipedrive")
    table = ex.to_pipedrive(sim.activities, kind="activities")
    ex.write_export(table, out / "pipedrive_activities_eu.csv", sep=";")
    rows.append(
        _entry(
            "pipedrive_activities_eu.csv",
            "pipedrive",
            "activities",
            len(table),
            "Pipedrive activities export, European locale: ';' delimiter, 'Activity - Due date' d.m.Y "
            "+ 'Activity - Due time', 'Activity - Assigned to user'; 'Activity - Done' Done, or Undone for "
            "meetings that did not take place; no call outcomes (Pipedrive has no standard field for them).",
            "pipedrive",
        )
    )
    table = ex.to_pipedrive(sim.deals, kind="deals", currency="EUR")
    ex.write_export(table, out / "pipedrive_deals_eu.csv", sep=";")
    rows.append(
        _entry(
            "pipedrive_deals_eu.csv",
            "pipedrive",
            "deals",
            len(table),
            "Pipedrive deals export, European locale: ';' delimiter, 'Deal - Value' as '€ 2.900,00', "
            "'Deal - Status' won/lost/open (the stage of a closed deal is its last open stage), "
            "'Deal - Deal created' d.m.Y HH:MM.",
            "pipedrive",
        )
    )

    # --- Salesforce backup / Data Loader export: API names, owner ids, cp1252, Spanish stages, NUL bytes
    sim = simulate("salesforce_backup")
    folder = out / "salesforce_backup"
    folder.mkdir(exist_ok=True)
    backup = {
        "Opportunity.csv": (
            "deals",
            ex.to_salesforce_backup(sim.deals, kind="opportunities", language="es"),
            "Salesforce backup Opportunity object: API names (StageName, CloseDate, OwnerId), Spanish "
            "stages (Negociación, Cerrada ganada) so only IsClosed/IsWon tell the result, owner ids.",
        ),
        "Task.csv": (
            "activities",
            _with_nul_notes(ex.to_salesforce_backup(sim.activities, kind="tasks")),
            "Salesforce backup Task object (calls, emails, LinkedIn): ActivityDate, OwnerId, Type, "
            "CallDisposition, CallDurationInSeconds; empty lookups as 000000000000000AAA; "
            f"{NUL_ROWS} Description values contain NUL bytes.",
        ),
        "Event.csv": (
            "activities",
            ex.to_salesforce_backup(sim.activities, kind="events", language="es"),
            "Salesforce backup Event object (meetings): ActivityDateTime, DurationInMinutes, OwnerId; "
            "events carry no held/no-show outcome.",
        ),
        "User.csv": (
            "users",
            ex.to_salesforce_backup(
                pd.concat([sim.deals[["rep"]], sim.activities[["rep"]]]), kind="users"
            ),
            "Salesforce backup User object: Id -> Name, to turn OwnerId into rep names.",
        ),
    }
    backup["OpportunityHistory.csv"] = (
        "stage_history",
        ex.to_salesforce_opportunity_history(sim.stage_history, sim.deals, seed=404, language="es"),
        "Salesforce backup OpportunityHistory object: one row per change of Stage, Amount, Probability or "
        "Close Date (OpportunityId, StageName, CreatedDate), so some rows re-state the stage (amount edits); "
        "Spanish stages as in Opportunity.csv.",
    )
    for file, (kind, table, text) in backup.items():
        ex.write_export(table, folder / file, quote_all=True, encoding="cp1252")
        rows.append(
            _entry(
                f"salesforce_backup/{file}",
                "salesforce",
                kind,
                len(table),
                text,
                "salesforce_backup",
            )
        )

    # --- Zoho CRM: one file per module, display labels, day-first dd/mm/yyyy dates
    sim = simulate("zoho")
    table = ex.to_zoho(sim.activities, kind="calls")
    ex.write_export(table, out / "zoho_calls.csv")
    rows.append(
        _entry(
            "zoho_calls.csv",
            "zoho",
            "activities",
            len(table),
            "Zoho CRM Calls module export (calls only): 'Call Owner', 'Call Start Time' dd/mm/yyyy HH:MM, "
            "'Call Duration' mm:ss and in seconds, 'Call Status' Attended / Unattended Dialled.",
            "zoho",
        )
    )
    table = ex.to_zoho(sim.deals, kind="deals")
    ex.write_export(table, out / "zoho_deals.csv")
    rows.append(
        _entry(
            "zoho_deals.csv",
            "zoho",
            "deals",
            len(table),
            "Zoho CRM Deals module export: 'Deal Owner', 'Stage' (Closed Won / Closed Lost / open stages), "
            "'Closing Date' dd/mm/yyyy (expected close for open deals), 'Created Time'.",
            "zoho",
        )
    )

    # --- Dynamics 365: Export to Excel saved as CSV, (Do Not Modify) columns, US 12-hour times, $ amounts
    sim = simulate("dynamics")
    table = ex.to_dynamics(sim.activities, kind="phonecalls")
    ex.write_export(table, out / "dynamics_phonecalls.csv")
    rows.append(
        _entry(
            "dynamics_phonecalls.csv",
            "dynamics",
            "activities",
            len(table),
            "Dynamics 365 Phone Calls view (calls only): three '(Do Not Modify)' columns, 'Owner', "
            "'Actual End' m/d/yyyy h:mm AM, 'Duration' in whole minutes.",
            "dynamics",
        )
    )
    table = ex.to_dynamics(sim.deals, kind="opportunities")
    ex.write_export(table, out / "dynamics_opportunities.csv")
    rows.append(
        _entry(
            "dynamics_opportunities.csv",
            "dynamics",
            "deals",
            len(table),
            "Dynamics 365 Opportunities view: 'Status' Open/Won/Lost, 'Est. Revenue' for every deal and "
            "'Actual Revenue' for won deals only ($12,500.00), 'Actual Close Date', 'Est. Close Date'.",
            "dynamics",
        )
    )

    catalog = pd.DataFrame(rows, columns=CATALOG_COLUMNS)
    ex.write_export(catalog, out / "catalog.csv")
    (out / "README.md").write_bytes(_readme(catalog).encode("utf-8"))
    return rows


#: Task rows whose Description holds NUL bytes, as some real backups do.
NUL_ROWS = 3


def _with_nul_notes(table: pd.DataFrame) -> pd.DataFrame:
    """Add a Description column, empty except a few values with embedded NUL bytes."""
    notes = np.full(len(table), "", dtype=object)
    notes[np.linspace(0, len(table) - 1, NUL_ROWS, dtype=int)] = "Left message\x00\x00 call back"
    out = table.copy()
    out.insert(out.columns.get_loc("Subject") + 1, "Description", notes)
    return out


def _plant_defects(
    table: pd.DataFrame,
    *,
    owner: str,
    record_id: str,
    date: str,
    duplicate_row: int,
    missing_rep: int,
):
    """Add exact duplicates of evenly spaced rows and extra rows with a blank owner; keep date order."""
    n = len(table)
    dup = table.iloc[np.linspace(0, n - 1, duplicate_row + 2, dtype=int)[1:-1]]
    blank = table.iloc[np.linspace(0, n - 1, missing_rep + 2, dtype=int)[1:-1] + 1].copy()
    blank[owner] = ""
    last = pd.to_numeric(table[record_id]).max()
    blank[record_id] = [str(last + i) for i in range(1, missing_rep + 1)]
    out = pd.concat([table, dup, blank])
    return out.sort_values(date, kind="mergesort").reset_index(drop=True)


def _readme(catalog: pd.DataFrame) -> str:
    lines = [
        "# Sample data",
        "",
        "Every file here is synthetic: made by `salesgoals.simulate.make_crm_data` with a fixed seed and written",
        "in a real CRM's export layout by `salesgoals.simulate.exports` (header spellings from the vendors' field",
        "references). Regenerate them all, byte for byte, with `python data/samples/make_samples.py`;",
        "`catalog.csv` lists the seed and settings of each file. The true effects of the simulation behind",
        "the canonical files are in `truth.csv`, so anything estimated from these samples can be checked.",
        "",
        "| file | vendor | kind | rows | simulation (seed) | what it is |",
        "|---|---|---|---:|---|---|",
    ]
    for r in catalog.itertuples(index=False):
        lines.append(
            f"| `{r.file}` | {r.vendor} | {r.kind} | {r.rows:,} | {r.simulation} ({r.seed}): "
            f"{r.n_reps} reps x {r.n_weeks} weeks | {r.description} |"
        )
    lines += [
        "",
        "Load them with the loaders, which detect the layout:",
        "",
        "```python",
        "import salesgoals as sg",
        'acts = sg.load_activities("data/samples/hubspot-crm-exports-all-calls-2025-12-29.csv")',
        'deals = sg.load_deals("data/samples/salesforce_opportunities_report.csv")',
        "```",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ package data
#: Package sample name -> (file, kind, description).
PACKAGE_SAMPLES: dict[str, tuple[str, str, str]] = {
    "activities": (
        "activities.csv.gz",
        "activities",
        "Canonical activity log of a small simulated team (gzip CSV).",
    ),
    "deals": ("deals.csv", "deals", "Canonical deals of the same team (closed empty when open)."),
    "roster": ("roster.csv", "roster", "Roster: rep, team, manager, region, start, end."),
    "truth": (
        "truth.csv",
        "truth",
        "True effect of one extra activity of each type on each outcome.",
    ),
    "truth_by_rep": ("truth_by_rep.csv", "truth", "The same true effects per rep."),
}


def write_package_samples(out: Path) -> list[dict]:
    """Write the tiny package sample (``data/`` files + ``catalog.csv``) under ``out``."""
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    sim = simulate("tiny")
    frames = {
        "activities": sim.activities,
        "deals": sim.deals,
        "roster": sim.roster,
        "truth": _truth_table(sim),
        "truth_by_rep": sim.truth_by_rep,
    }
    p = SIMULATIONS["tiny"]
    rows = []
    for name, (file, kind, text) in PACKAGE_SAMPLES.items():
        frame = frames[name]
        _write_canonical(frame, data / file, float_format="%.10g" if kind == "truth" else None)
        rows.append(
            dict(
                name=name,
                file=file,
                kind=kind,
                rows=len(frame),
                description=text,
                seed=p["seed"],
                n_reps=p["n_reps"],
                n_weeks=p["n_weeks"],
                volume_scale=p["volume_scale"],
            )
        )
    ex.write_export(pd.DataFrame(rows, columns=PACKAGE_CATALOG_COLUMNS), out / "catalog.csv")
    return rows


# ------------------------------------------------------------------ checking
def _same(a: Path, b: Path) -> bool:
    if a.suffix == ".gz":  # compare content: compressed bytes may differ across zlib builds
        return gzip.decompress(a.read_bytes()) == gzip.decompress(b.read_bytes())
    return filecmp.cmp(a, b, shallow=False)


def compare_dirs(made: Path, shipped: Path, names: list[str]) -> list[str]:
    """Files in ``names`` that differ between ``made`` and ``shipped`` (or are missing)."""
    return [n for n in names if not (shipped / n).exists() or not _same(made / n, shipped / n)]


def main(argv: list[str] | None = None) -> int:
    """Write every sample, or with ``--check`` verify that the shipped ones reproduce."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temp dir and compare with the shipped files",
    )
    args = parser.parse_args(argv)
    if not args.check:
        repo_rows = write_repo_samples(HERE)
        pkg_rows = write_package_samples(PACKAGE_DATA)
        for r in repo_rows:
            print(
                f"{r['file']:<55} {r['rows']:>9,} rows  {(HERE / r['file']).stat().st_size / 1e6:6.2f} MB"
            )
        for r in pkg_rows:
            size = (PACKAGE_DATA / "data" / r["file"]).stat().st_size / 1e6
            print(f"salesgoals/datasets/data/{r['file']:<30} {r['rows']:>9,} rows  {size:6.2f} MB")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        repo_rows = write_repo_samples(tmp / "samples", compresslevel=1)
        pkg_rows = write_package_samples(tmp / "pkg")
        bad = compare_dirs(
            tmp / "samples", HERE, [r["file"] for r in repo_rows] + ["catalog.csv", "README.md"]
        )
        bad += compare_dirs(
            tmp / "pkg", PACKAGE_DATA, ["data/" + r["file"] for r in pkg_rows] + ["catalog.csv"]
        )
    print("all samples reproduce byte for byte" if not bad else f"differ: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
