"""Benchmark: the whole chain at enterprise scale, from a Parquet lake (issue 16).

Generates a lake of ``--reps`` reps x 156 weeks (default 10,000 reps: about
115 million activity rows in 20 Parquet files of 500 reps each, 1.5 million
deals, a roster of teams of 10), seeded and chunk by chunk (never whole in
memory), under ``benchmarks/_data/enterprise/`` (git-ignored).  Activity
drives results: deals created follow last week's meetings and calls on top of
each rep's skill and the season, so the driver model has something to find.

Then, each in a fresh process so the peaks do not mix:

* ``steps``     -- the chain step by step in one process, printing each
  step's time and the peak memory so far (the table of issue 16):
  ``load_deals``, ``panel_for`` (DuckDB), ``fit_drivers``,
  ``personal_best_goals``, ``project_targets``, ``backtest_goals``,
  ``forecast(level="total", freq="W", horizon=4)``;
* ``recommend`` -- ``salesgoals recommend --activities '<lake>/*.parquet' ... --verbose``;
* ``forecast``  -- ``salesgoals forecast --activities '<lake>/*.parquet' --level total ... --verbose``;
* ``slice``     -- the in-memory comparison on the first two files (1,000
  reps): ``panel_for(engine="memory")`` against ``engine="duckdb"`` (equal
  panels, both timed).

Targets (issue 16): the whole chain at 10,000 reps x 3 years under 3 minutes
on 2 cores; peak memory under 4 GB (8 GB ceiling).

Usage::

    python benchmarks/bench_enterprise.py --reps 1000        # quick (develop at 500-1000 reps)
    python benchmarks/bench_enterprise.py                    # 10,000 reps: ~115M rows, ~3 GB on disk
    python benchmarks/bench_enterprise.py --keep             # keep the lake for the next run
    python benchmarks/bench_enterprise.py --only steps,slice # some phases only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEED = 20261126
REPS_PER_FILE = 500
N_WEEKS = 156
TEAM_SIZE = 10
START = np.datetime64("2023-01-02", "D")  # a Monday
TYPES = ["call", "email", "meeting", "linkedin", "task"]
#: Mean activities per rep-week by type (about 74 in all: 115M rows at 10,000 reps x 156 weeks).
TYPE_MEAN = np.array([30.0, 25.0, 5.0, 8.0, 5.7])
OUTCOMES = ["connected", "no_answer", "voicemail", "held", "no_show"]
TARGET_S = 180.0
TARGET_GB = 4.0


# ------------------------------------------------------------------ the lake
def _chunk(k: int, n_reps: int, rng: np.random.Generator):
    """Activities (Arrow table) and deals (DataFrame) of reps k*500 .. k*500+n_reps-1."""
    import pandas as pd
    import pyarrow as pa

    first = k * REPS_PER_FILE
    reps = np.array([f"rep_{i:05d}" for i in range(first, first + n_reps)])
    skill = rng.lognormal(0.0, 0.3, n_reps)
    week = np.arange(N_WEEKS)
    season = 1.0 + 0.15 * np.sin(2 * np.pi * week / 52.0)
    lam = skill[:, None, None] * season[None, :, None] * TYPE_MEAN[None, None, :]  # R x W x T
    counts = rng.poisson(lam)
    # deals created follow last week's meetings and calls (truth: 0.08 per meeting, 0.004 per call)
    prev = np.concatenate([counts[:, :1], counts[:, :-1]], axis=1)
    mu = 0.3 * skill[:, None] * season[None, :] + 0.08 * prev[:, :, 2] + 0.004 * prev[:, :, 0]
    n_deals = rng.poisson(mu)
    # activity rows: one per count, at distinct random seconds of the working week within each (rep, week, type)
    # cell, so no two true activities are alike (the loaders take identical id-less timed rows as one activity
    # exported twice: salesgoals._duplicates.ACTIVITY_RULE); sorted draws from [0, S - n] plus their rank are a
    # uniform random n-subset of [0, S)
    flat = counts.reshape(-1)
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    r, rest = np.divmod(cell, N_WEEKS * len(TYPES))
    w, t = np.divmod(rest, len(TYPES))
    first_row = np.repeat(np.cumsum(flat) - flat, flat)
    draw = rng.integers(0, 5 * 86400 - flat[cell] + 1)
    draw = np.sort(cell * (5 * 86400) + draw) - cell * (5 * 86400)  # sorted within each cell (cells ascend)
    sec = (START.astype("datetime64[s]").astype(np.int64) + w * 7 * 86400
           + draw + np.arange(cell.size) - first_row)  # fmt: skip
    u = rng.random(cell.size)
    out = np.full(cell.size, -1, dtype=np.int32)
    out[t == 0] = np.where(u[t == 0] < 0.3, 0, np.where(u[t == 0] < 0.7, 1, 2))
    out[t == 2] = np.where(u[t == 2] < 0.8, 3, 4)
    acts = pa.table({
        "rep": pa.DictionaryArray.from_arrays(pa.array(r.astype(np.int32)), pa.array(reps.tolist())),
        "timestamp": pa.array(sec.astype("datetime64[s]")),
        "activity_type": pa.DictionaryArray.from_arrays(pa.array(t.astype(np.int32)), pa.array(TYPES)),
        "outcome": pa.DictionaryArray.from_arrays(
            pa.array(out, mask=out < 0), pa.array(OUTCOMES)
        ),
    })  # fmt: skip
    # deals: created in their week, closed after a gamma cycle; won 30 %, lost 55 %, else open
    dflat = n_deals.reshape(-1)
    dcell = np.repeat(np.arange(dflat.size, dtype=np.int64), dflat)
    dr, dw = np.divmod(dcell, N_WEEKS)
    created = START + (dw * 7 + rng.integers(0, 5, dcell.size)).astype("timedelta64[D]")
    closed = created + np.ceil(rng.gamma(2.0, 15.0, dcell.size)).astype("timedelta64[D]")
    v = rng.random(dcell.size)
    end = START + np.timedelta64(N_WEEKS * 7 - 1, "D")
    status = np.where(closed > end, "open", np.where(v < 0.35, "won", "lost"))
    deals = pd.DataFrame({
        "deal_id": [f"D{k:03d}-{i:07d}" for i in range(dcell.size)],
        "rep": reps[dr],
        "created": created.astype("datetime64[ns]"),
        "closed": np.where(status == "open", np.datetime64("NaT"), closed).astype("datetime64[ns]"),
        "status": status,
        "amount": np.round(rng.lognormal(np.log(8000.0), 0.6, dcell.size) * skill[dr] ** 0.5, 2),
    })  # fmt: skip
    roster = pd.DataFrame({
        "rep": reps,
        "team": [f"team_{i // TEAM_SIZE:04d}" for i in range(first, first + n_reps)],
        "manager": [f"mgr_{i // TEAM_SIZE:04d}" for i in range(first, first + n_reps)],
        "region": [f"region_{i // 2500}" for i in range(first, first + n_reps)],
    })  # fmt: skip
    return acts, deals, roster


def generate(n_reps: int, folder: Path) -> dict:
    """Write the lake (activities in files of 500 reps, deals, roster); return its paths and sizes."""
    import pandas as pd
    import pyarrow.parquet as pq

    if folder.exists():
        shutil.rmtree(folder)
    (folder / "activities").mkdir(parents=True)
    n_files = -(-n_reps // REPS_PER_FILE)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(SEED).spawn(n_files)]
    deals, roster, rows = [], [], 0
    for k, rng in enumerate(rngs):  # one chunk of reps at a time: the lake is never whole in memory
        acts, d, ro = _chunk(k, min(REPS_PER_FILE, n_reps - k * REPS_PER_FILE), rng)
        pq.write_table(acts, folder / "activities" / f"part-{k:03d}.parquet", row_group_size=1_000_000)
        rows += acts.num_rows
        deals.append(d)
        roster.append(ro)
        print(f"  wrote part-{k:03d}.parquet: {acts.num_rows:,} activities, {len(d):,} deals",
              file=sys.stderr, flush=True)  # fmt: skip
        del acts
    pd.concat(deals, ignore_index=True).to_parquet(folder / "deals.parquet", index=False)
    pd.concat(roster, ignore_index=True).to_csv(folder / "roster.csv", index=False)
    return {"reps": n_reps, "files": n_files, "activity_rows": rows,
            "deals": int(sum(len(d) for d in deals))}  # fmt: skip


# ------------------------------------------------------------------ phases
def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KB on Linux


def _steps(folder: Path) -> list[dict]:
    """The chain step by step in this process: time and peak memory so far per step."""
    import salesgoals as sg
    from salesgoals.panel import panel_for

    warnings.simplefilter("ignore")
    rows, state = [], {}
    glob = str(folder / "activities" / "*.parquet")

    def run(name, fn):
        t0, c0 = time.perf_counter(), time.process_time()
        state[name] = fn()
        rows.append({"step": name, "seconds": round(time.perf_counter() - t0, 1),
                     "cpu": round(time.process_time() - c0, 1), "peak_gb": round(peak_gb(), 2)})  # fmt: skip
        print(f"  {name:<22} {rows[-1]['seconds']:>7.1f} s  cpu {rows[-1]['cpu']:>7.1f} s  "
              f"peak {rows[-1]['peak_gb']:.2f} GB", file=sys.stderr, flush=True)  # fmt: skip
        return state[name]

    deals = run("load_deals", lambda: sg.load_deals(folder / "deals.parquet"))
    roster = sg.load_roster(folder / "roster.csv")
    panel = run("panel_for (duckdb)", lambda: panel_for(glob, deals, roster=roster, engine="duckdb", progress=False))
    drivers = run("fit_drivers", lambda: sg.fit_drivers(panel, outcome="deals_created"))
    plan = run("personal_best_goals", lambda: sg.personal_best_goals(panel, drivers))
    proj = run("project_targets", lambda: sg.project_targets(plan, n_sims=2000))
    now = proj.rollup(None).set_index("scenario").loc["current", "revenue"]
    run("plan_for_target", lambda: sg.plan_for_target(plan, 1.1 * now, n_sims=2000))
    run("backtest_goals", lambda: sg.backtest_goals(panel, drivers, horizon=plan.horizon, n_sims=500))
    run("forecast total W h=4",
        lambda: sg.forecast(panel, deals=deals, level="total", freq="W", horizon=4))  # fmt: skip
    return rows


def _cli(folder: Path, command: str, out: Path) -> dict:
    """One CLI run end to end in a child process; its wall time and the child's peak memory."""
    glob = str(folder / "activities" / "*.parquet")
    args = [sys.executable, "-m", "salesgoals", command, "--activities", glob,
            "--deals", str(folder / "deals.parquet"), "--roster", str(folder / "roster.csv"),
            "--out", str(out), "--verbose"]  # fmt: skip (no bars: stderr is not a terminal here)
    if command == "forecast":
        args += ["--level", "total", "--horizon", "4"]
    t0, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode:
        raise SystemExit(f"salesgoals {command} failed:\n{proc.stderr[-3000:]}")
    summary = [x for x in proc.stderr.splitlines() if "peak memory" in x][-1]
    return {"step": f"CLI {command}", "seconds": round(wall, 1), "cpu": round(cpu, 1),
            "peak_gb": float(summary.rsplit("peak memory", 1)[1].split("GB")[0]),  # the CLI's own (--verbose)
            "summary": summary}  # fmt: skip


def _slice(folder: Path) -> list[dict]:
    """In-memory against out-of-core on the first two files (1,000 reps): same panel, both timed."""
    import pandas as pd

    import salesgoals as sg
    from salesgoals.panel import panel_for

    warnings.simplefilter("ignore")
    files = sorted(str(p) for p in (folder / "activities").glob("*.parquet"))[:2]
    roster = sg.load_roster(folder / "roster.csv").iloc[: 2 * REPS_PER_FILE]  # the reps of the first two files
    deals = sg.load_deals(folder / "deals.parquet")
    deals = deals[deals["rep"].isin(roster["rep"])].reset_index(drop=True)
    out = []
    panels = {}
    for engine in ("memory", "duckdb"):
        t0 = time.perf_counter()
        panels[engine] = panel_for(files, deals, roster=roster, engine=engine, progress=False)
        out.append({"step": f"slice panel_for {engine}", "seconds": round(time.perf_counter() - t0, 1),
                    "cpu": None, "peak_gb": round(peak_gb(), 2)})  # fmt: skip
    reps = set(panels["memory"]["rep"])
    pd.testing.assert_frame_equal(
        panels["duckdb"].reset_index(drop=True), panels["memory"].reset_index(drop=True)
    )
    out.append({"step": "slice panels equal", "seconds": 0.0, "peak_gb": 0.0, "summary": f"{len(reps)} reps"})
    return out


def _child(phase: str, folder: Path) -> list[dict]:
    """Run one phase in a fresh process (peaks do not mix); return its rows."""
    code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import bench_enterprise as b; "
            f"from pathlib import Path; print(json.dumps(b._{phase}(Path({str(folder)!r}))))")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"phase {phase} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=10_000, help="reps in the lake (default 10,000)")
    ap.add_argument("--keep", action="store_true", help="keep benchmarks/_data/enterprise afterwards")
    ap.add_argument("--reuse", action="store_true", help="reuse a kept lake of the same size")
    ap.add_argument("--only", default="steps,recommend,forecast,slice", help="phases to run")
    args = ap.parse_args(argv)
    folder = HERE / "_data" / "enterprise"
    meta_path = folder / "meta.json"
    t0 = time.perf_counter()
    if args.reuse and meta_path.exists() and json.loads(meta_path.read_text())["reps"] == args.reps:
        meta = json.loads(meta_path.read_text())
    else:
        meta = generate(args.reps, folder)
        meta_path.write_text(json.dumps(meta))
    print(f"load average before the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print(f"lake: {meta['reps']:,} reps x {N_WEEKS} weeks, {meta['activity_rows']:,} activity rows in "
          f"{meta['files']} Parquet files, {meta['deals']:,} deals ({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    rows = []
    phases = args.only.split(",")
    if "steps" in phases:
        rows += _child("steps", folder)
    for command in ("recommend", "forecast"):
        if command in phases:
            rows.append(_cli(folder, command, folder / f"{command}.csv"))
    if "slice" in phases and meta["files"] >= 2:
        rows += _child("slice", folder)
    print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")
    print("\n| step | wall | CPU | peak memory |\n|---|---|---|---|")
    for r in rows:
        cpu = f"{r['cpu']:.1f} s" if r.get("cpu") is not None else ""
        print(f"| {r['step']} | {r['seconds']:.1f} s | {cpu} | {r['peak_gb']:.2f} GB |")
    for r in rows:
        if r.get("summary"):
            print(f"{r['step']}: {r['summary']}")
    chain = [r for r in rows if r["step"].startswith("CLI")]
    if chain:
        total = sum(r["seconds"] for r in chain)
        peak = max(r["peak_gb"] for r in chain)
        print(f"\nCLI recommend + forecast: {total:.0f} s (target {TARGET_S:.0f} s), "
              f"peak {peak:.2f} GB (target {TARGET_GB:.0f} GB)")  # fmt: skip
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
