"""Benchmark: the panel from an activity log larger than memory (issue 6).

Generates a synthetic activity log as partitioned Parquet (seeded, in chunks,
never whole in memory), then builds the weekly panel three ways and reports
wall time, rows per second and the peak resident memory of each run (each run
in a fresh process, so the peaks do not mix):

* ``inmem``  -- ``pandas.read_parquet`` of a slice + :func:`salesgoals.build_panel`;
* ``ooc``    -- :func:`salesgoals.panel.scale.panel_from_parquet` (DuckDB) on the same
  slice, checked equal to the in-memory panel, and on the whole log;
* ``dask``   -- with ``--dask``: :func:`salesgoals.panel.scale.panel_from_dask` on a
  ``LocalCluster`` of 2 worker processes (``dask.dataframe.read_parquet``).

Targets (issue 6): out-of-core peak memory < 4 GB at 100 million rows, and
out-of-core time per row within 2x of the in-memory path.

Usage::

    python benchmarks/bench_out_of_core.py                 # 100 million rows (~2.5 GB on disk)
    python benchmarks/bench_out_of_core.py --rows 5e6      # quick run
    python benchmarks/bench_out_of_core.py --keep          # keep benchmarks/_data/ afterwards
    python benchmarks/bench_out_of_core.py --dask          # also the Dask path (LocalCluster) on the slice
    python benchmarks/bench_out_of_core.py --pyarrow       # also pyarrow datasets (the engine not chosen)

The data go to ``benchmarks/_data/`` (git-ignored) and are removed at the end
unless ``--keep``.
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
DATA = HERE / "_data" / "activities"
SEED = 20240601
CHUNK_ROWS = 5_000_000  # rows per Parquet file (and per generation step)
N_REPS = 2_000
N_WEEKS = 156  # three years
TARGET_PEAK_GB = 4.0
TARGET_RATIO = 2.0

TYPES = np.array(["call", "email", "meeting", "linkedin", "task"])
TYPE_P = np.array([0.45, 0.33, 0.10, 0.08, 0.04])
OUTCOMES = np.array(["connected", "no_answer", "voicemail", "held", "no_show", "sent", ""])


def generate(rows: int, folder: Path = DATA, *, seed: int = SEED) -> list[Path]:
    """Write ``rows`` synthetic canonical activities as Parquet files of CHUNK_ROWS rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    reps = pa.array([f"rep_{i:05d}" for i in range(N_REPS)])
    types = pa.array(TYPES.tolist())
    outcomes = pa.array(OUTCOMES.tolist())
    t0 = np.datetime64("2022-01-03T00:00", "s").astype(np.int64)  # a Monday
    span = N_WEEKS * 7 * 86400
    n_chunks = -(-rows // CHUNK_ROWS)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chunks)]
    paths = []
    for k, rng in enumerate(rngs):
        n = min(CHUNK_ROWS, rows - k * CHUNK_ROWS)
        t = rng.choice(len(TYPES), n, p=TYPE_P)
        u = rng.random(n)
        out = np.select(
            [t == 0, t == 2, t == 1],
            [np.where(u < 0.3, 0, np.where(u < 0.7, 1, 2)), np.where(u < 0.8, 3, 4), 5],
            default=6,
        )
        ts = t0 + rng.integers(0, span, n)
        table = pa.table(
            {
                "activity_id": pa.array(np.arange(k * CHUNK_ROWS, k * CHUNK_ROWS + n, dtype=np.int64)),
                "rep": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, N_REPS, n).astype(np.int32)), reps)
                .cast(pa.string()),
                "timestamp": pa.array(ts.astype("datetime64[s]").astype("datetime64[us]")),
                "activity_type": pa.DictionaryArray.from_arrays(pa.array(t.astype(np.int32)), types).cast(pa.string()),
                "outcome": pa.DictionaryArray.from_arrays(pa.array(out.astype(np.int32)), outcomes).cast(pa.string()),
                "duration_min": pa.array(np.round(rng.exponential(5.0, n), 1)),
            }
        )
        path = folder / f"part-{k:05d}.parquet"
        pq.write_table(table, path, row_group_size=1_000_000)
        paths.append(path)
        print(f"  wrote {path.name}: {n:,} rows", file=sys.stderr, flush=True)
    return paths


def peak_rss_gb() -> float:
    """Peak resident memory of this process (VmHWM), in GB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KB on Linux


def _phase(name: str, files: list[str], memory_limit: str) -> dict:
    """Run one measurement in this (fresh) process; return the figures."""
    import pandas as pd

    import salesgoals as sg
    from salesgoals.panel.scale import panel_from_parquet

    warnings.simplefilter("ignore")
    out = {"phase": name, "files": len(files)}
    cpu0 = time.process_time()
    if name == "inmem":
        t0 = time.perf_counter()
        acts = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        t1 = time.perf_counter()
        panel = sg.build_panel(acts, freq="W")
        t2 = time.perf_counter()
        out.update(rows=len(acts), read_s=t1 - t0, panel_s=t2 - t1, total_s=t2 - t0)
        panel.to_pickle(HERE / "_data" / "panel_inmem.pkl")  # our own file, written just above
    elif name == "pyarrow":
        # the alternative engine: pyarrow datasets stream record batches with bounded memory, but the
        # group-by is ours: a partial aggregate per batch, then a merge (partials grow with the batches)
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.dataset as ds

        t0 = time.perf_counter()
        partials = []
        scan = ds.dataset(files, format="parquet").to_batches(
            columns=["rep", "timestamp", "activity_type", "outcome"], batch_size=1_000_000
        )
        for batch in scan:
            low = pc.utf8_lower(batch["outcome"])
            typ = batch["activity_type"]
            tb = pa.table({
                "rep": batch["rep"], "t": typ,
                "p": pc.floor_temporal(batch["timestamp"], unit="week", week_starts_monday=True),
                "cc": pc.cast(pc.and_(pc.equal(typ, "call"), pc.equal(low, "connected")), pa.int64()),
                "mh": pc.cast(pc.and_(pc.equal(typ, "meeting"), pc.equal(low, "held")), pa.int64()),
            })  # fmt: skip
            partials.append(tb.group_by(["rep", "p", "t"]).aggregate([("cc", "count"), ("cc", "sum"), ("mh", "sum")]))
        merged = pa.concat_tables(partials).group_by(["rep", "p", "t"]).aggregate(
            [("cc_count", "sum"), ("cc_sum", "sum"), ("mh_sum", "sum")]
        )
        t1 = time.perf_counter()
        out.update(rows=int(pc.sum(merged["cc_count_sum"]).as_py()), total_s=t1 - t0, counts_only=True)
        panel = merged
    elif name.startswith("dask"):
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        from salesgoals.panel.scale import panel_from_dask

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=50) as cluster, Client(cluster) as client:  # fmt: skip
            t0 = time.perf_counter()
            acts = dd.read_parquet(files, columns=["rep", "timestamp", "activity_type", "outcome"])
            panel = panel_from_dask(acts, freq="W", progress=sys.stderr.isatty())
            t1 = time.perf_counter()
            out["worker_peak_rss_gb"] = max(client.run(peak_rss_gb).values())
        out.update(rows=int(panel[panel.attrs["activity_columns"]].to_numpy().sum()), total_s=t1 - t0)
        ref = pd.read_pickle(HERE / "_data" / "panel_inmem.pkl")
        if name == "dask_slice":
            pd.testing.assert_frame_equal(panel.reset_index(drop=True), ref, check_exact=True)
            out["equal_to_inmem"] = True
    else:
        t0 = time.perf_counter()
        panel = panel_from_parquet(files, freq="W", memory_limit=memory_limit, progress=sys.stderr.isatty())
        t1 = time.perf_counter()
        out.update(rows=int(panel[panel.attrs["activity_columns"]].to_numpy().sum()), total_s=t1 - t0)
        if name == "ooc_slice":
            ref = pd.read_pickle(HERE / "_data" / "panel_inmem.pkl")
            pd.testing.assert_frame_equal(panel.reset_index(drop=True), ref, check_exact=True)
            out["equal_to_inmem"] = True
    out.update(panel_rows=len(panel) if hasattr(panel, "attrs") else None, peak_rss_gb=peak_rss_gb(),
               cpu_s=time.process_time() - cpu0)  # fmt: skip
    return out


def _run_phase(name: str, files: list[Path], memory_limit: str) -> dict:
    cmd = [sys.executable, __file__, "--phase", name, "--memory-limit", memory_limit, *map(str, files)]
    res = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=float, default=100e6, help="activity rows to generate (default 1e8)")
    p.add_argument("--slice-rows", type=float, default=10e6, help="rows for the in-memory comparison")
    p.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (default 2GB)")
    p.add_argument("--keep", action="store_true", help="keep benchmarks/_data/ afterwards")
    p.add_argument("--pyarrow", action="store_true",
                   help="also time the alternative engine (pyarrow datasets, counts only) on the slice")  # fmt: skip
    p.add_argument("--dask", nargs="?", const="slice", choices=["slice", "all"],
                   help="also time panel_from_dask on a LocalCluster (2 workers) over the slice or the whole log")  # fmt: skip
    p.add_argument("--phase", help=argparse.SUPPRESS)
    p.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.phase:
        print(json.dumps(_phase(args.phase, args.files, args.memory_limit)))
        return 0

    rows, slice_rows = int(args.rows), int(min(args.slice_rows, args.rows))
    free_gb = shutil.disk_usage(HERE).free / 1024**3
    need_gb = rows * 30 / 1024**3  # ~25 bytes per row in Parquet, with margin
    if free_gb < need_gb + 5:
        print(f"not enough disk: {free_gb:.0f} GB free, need ~{need_gb:.0f} GB", file=sys.stderr)
        return 1
    try:
        t0 = time.perf_counter()
        files = generate(rows)
        gen_s = time.perf_counter() - t0
        disk_gb = sum(f.stat().st_size for f in files) / 1024**3
        n_slice = max(1, slice_rows // CHUNK_ROWS)
        inmem = _run_phase("inmem", files[:n_slice], args.memory_limit)
        ooc_slice = _run_phase("ooc_slice", files[:n_slice], args.memory_limit)
        ooc = _run_phase("ooc", files, args.memory_limit)
        dask_slice = _run_phase("dask_slice", files[:n_slice], args.memory_limit) if args.dask else None
        dask_all = _run_phase("dask_all", files, args.memory_limit) if args.dask == "all" else None
        arrow = _run_phase("pyarrow", files[:n_slice], args.memory_limit) if args.pyarrow else None
    finally:
        if not args.keep:
            shutil.rmtree(HERE / "_data", ignore_errors=True)

    per_row_inmem = inmem["total_s"] / inmem["rows"]
    per_row_panel = inmem["panel_s"] / inmem["rows"]
    per_row_ooc = ooc["total_s"] / ooc["rows"]
    print(f"generated {rows:,} rows in {len(files)} Parquet files ({disk_gb:.2f} GB) in {gen_s:.0f} s")
    print(f"{N_REPS:,} reps x {N_WEEKS} weeks x {len(TYPES)} types; DuckDB memory_limit={args.memory_limit}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    print()
    print(f"{'path':<34}{'rows':>14}{'time s':>9}{'Mrows/s':>9}{'CPU s':>9}{'peak GB':>9}")
    lines = [
        ("in memory: read_parquet", inmem["rows"], inmem["read_s"], None, None),
        ("in memory: build_panel", inmem["rows"], inmem["panel_s"], None, None),
        ("in memory: read + build_panel", inmem["rows"], inmem["total_s"], inmem["cpu_s"], inmem["peak_rss_gb"]),
        ("out of core: same slice", ooc_slice["rows"], ooc_slice["total_s"], ooc_slice["cpu_s"],
         ooc_slice["peak_rss_gb"]),
        ("out of core: whole log", ooc["rows"], ooc["total_s"], ooc["cpu_s"], ooc["peak_rss_gb"]),
    ]  # fmt: skip
    for label, res in (("dask LocalCluster: same slice", dask_slice), ("dask LocalCluster: whole log", dask_all)):
        if res is not None:
            lines.append((label + " *", res["rows"], res["total_s"], None, res["worker_peak_rss_gb"]))
    if arrow is not None:
        lines.append(("pyarrow datasets: slice, counts", arrow["rows"], arrow["total_s"], arrow["cpu_s"],
                      arrow["peak_rss_gb"]))  # fmt: skip
    for label, n, s, cpu, peak in lines:
        cpu_txt = f"{cpu:9.1f}" if cpu is not None else f"{'':>9}"
        peak_txt = f"{peak:9.2f}" if peak is not None else f"{'':>9}"
        print(f"{label:<34}{n:>14,}{s:>9.2f}{n / s / 1e6:>9.1f}{cpu_txt}{peak_txt}")
    if dask_slice is not None:
        print("* 2 worker processes x 1 thread; peak = the larger worker's; the client holds only the counts")
        print(f"dask slice panel equals the in-memory panel: {dask_slice.get('equal_to_inmem', False)}")
    print()
    ratio = per_row_ooc / per_row_inmem
    ratio_panel = per_row_ooc / per_row_panel
    print(f"out-of-core slice panel equals the in-memory panel: {ooc_slice.get('equal_to_inmem', False)}")
    print(f"time per row, out of core / in memory (read + build_panel): {ratio:.2f}  (target <= {TARGET_RATIO})")
    print(f"time per row, out of core / in memory (build_panel alone):  {ratio_panel:.2f}")
    cpu_ratio = (ooc["cpu_s"] / ooc["rows"]) / (inmem["cpu_s"] / inmem["rows"])
    print(f"CPU per row, out of core / in memory (read + build_panel):  {cpu_ratio:.2f}  (insensitive to other load)")
    print(f"peak memory out of core: {ooc['peak_rss_gb']:.2f} GB  (target < {TARGET_PEAK_GB} GB)")
    ok = ooc["peak_rss_gb"] < TARGET_PEAK_GB and ratio <= TARGET_RATIO and ooc_slice.get("equal_to_inmem")
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
