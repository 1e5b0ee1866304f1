"""The README's main job writes the goals CSV stored in tests/data, byte for byte.

A change that alters the goals on the bundled samples must update the stored copy on purpose
(``salesgoals recommend ... --out tests/data/goals_canonical.csv``) and say why in its commit.
"""

from pathlib import Path

from salesgoals.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def test_main_job_writes_the_stored_goals_csv(tmp_path, capsys):
    out = tmp_path / "goals.csv"
    code = main([
        "recommend",
        "--activities", str(SAMPLES / "canonical_activities.csv.gz"),
        "--deals", str(SAMPLES / "canonical_deals.csv"),
        "--roster", str(SAMPLES / "roster.csv"),
        "--out", str(out),
    ])  # fmt: skip
    assert code in (0, None)
    stored = (ROOT / "tests" / "data" / "goals_canonical.csv").read_bytes()
    assert out.read_bytes() == stored, "goals.csv on the bundled samples changed; see this module's docstring"
