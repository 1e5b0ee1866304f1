"""Size of the heterogeneity decision on the project simulator (``salesgoals.simulate``), where every rep has
the same effect per effective activity.

Per seed (40 reps x 104 weeks, default call without bootstrap or diagnostics; with ``--diagnostics`` the
diagnostics run too, as in the default call: then the leads check flags email ``follows_results`` and the
refit without it leaves email untested) it records whether any tested activity is called different across
reps by: the decision ``reps_differ`` (rep-level test with a bootstrap
null, or the between-team F test, each at 2.5 %), the rep-level test alone at 5 %, the between-team F test alone
at 5 %, and the naive Cochran's Q against chi-square(G - 1) at 5 % (all Holm across activities).  Round-4
figures are in tests/reference/README.md (row ``heterogeneity_test``); about 35 s CPU per 50 seeds.

Run::

    python tests/reference/heterogeneity_size_project.py 0 50                       # default simulator
    python tests/reference/heterogeneity_size_project.py 0 50 "{'followup_emails': 0.0}"
    python tests/reference/heterogeneity_size_project.py 0 50 "{'frac_join': 0.0, 'frac_leave': 0.0}"
    python tests/reference/heterogeneity_size_project.py 0 50 {} --diagnostics       # as the default call
"""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _expected import expected_warnings  # noqa: E402

import salesgoals as sg  # noqa: E402
from salesgoals.drivers._verdicts import holm  # noqa: E402


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--diagnostics"]
    diagnostics = "--diagnostics" in sys.argv
    lo, hi = int(args[0]), int(args[1])
    options = ast.literal_eval(args[2]) if len(args) > 2 else {}  # e.g. "{'followup_emails': 0.0}"
    rows, c0 = [], time.process_time()
    for seed in range(lo, hi):
        sim = sg.simulate.make_crm_data(seed=seed, **options)
        with expected_warnings("fit_drivers"):  # the model's verdict notes; only the heterogeneity table is read
            het = sg.fit_drivers(sim.panel(), n_boot=0, diagnostics=diagnostics).diagnostics.heterogeneity
        rows.append([bool(het["reps_differ"].any())]
                    + [bool((holm(het[c].to_numpy()) < 0.05).any()) for c in ("p_value", "team_p_value",
                                                                              "cochran_p_value")])  # fmt: skip
    r = np.asarray(rows, dtype=float).mean(axis=0)
    run = f"seeds {lo}-{hi - 1} {options}" + (" diagnostics" if diagnostics else "")
    print(f"{run}: decision {r[0]:.1%}, rep-level alone {r[1]:.1%}, team F alone {r[2]:.1%}, "
          f"Cochran {r[3]:.1%}; {time.process_time() - c0:.0f} s CPU")


if __name__ == "__main__":
    main()
