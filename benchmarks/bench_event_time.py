"""Benchmark: the event-time check (activity timing around deal creations) on ~10 million activity rows.

Target: under 2 s.  The log is the independent test simulator's same-week
scenario (50 reps x 104 weeks, ~0.47M activities) copied 21 times under new
rep names: ~9.8M activities, ~200k deals, 1,050 reps.  The profile counts
each activity type on each day -14..+14 around every deal creation of the same
rep (``salesgoals/drivers/_events.py``).  Wall and CPU time and the load
average are printed (the machine is shared).

Run::

    python benchmarks/bench_event_time.py          # ~10M rows
    python benchmarks/bench_event_time.py --copies 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from independent_sim import make_events  # noqa: E402

from salesgoals.drivers._events import event_time_profile  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=21)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sim = make_events("same_week", seed=1, links=False)
    a, d = sim.activities, sim.deals
    n = args.copies
    acts = pd.concat([a] * n, ignore_index=True)
    deals = pd.concat([d] * n, ignore_index=True)
    names = a["rep"].astype(str).to_numpy()
    acts["rep"] = pd.Categorical(np.concatenate([np.char.add(names, f"_{i}") for i in range(n)]))
    deals["rep"] = np.concatenate([np.char.add(d["rep"].astype(str).to_numpy(), f"_{i}") for i in range(n)])
    types = list(a["activity_type"].cat.categories)
    print(f"{len(acts):,} activities, {len(deals):,} deals, {acts['rep'].nunique():,} reps; load {os.getloadavg()}")
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        _, timing = event_time_profile(acts, deals, types)
        print(f"event-time check: wall {time.perf_counter() - t0:.2f} s, cpu {time.process_time() - c0:.2f} s")
    print(timing.to_string(index=False))


if __name__ == "__main__":
    main()
