"""Supported dependency versions: the cases pandas 2.x got wrong, the floor, and the CI constraints file.

pandas 2.x turned missing text into the string ``'None'`` (``astype("str")``): an activity log without ids
looked like one repeated id and lost all but a few rows as "duplicate id", and blank roster teams became the
team ``'None'``.  The floor is pandas 3.0 (README, Requirements); these tests pin the behaviour on whatever
pandas CI installs, including the lowest versions in ci/constraints-min.txt.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals import _requirements
from salesgoals.errors import DataQualityWarning

ROOT = Path(__file__).resolve().parents[1]


def _load_clean(fn, frame):
    """Load a frame with nothing to exclude or repair: the loader must not warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        return fn(frame)


def test_two_activities_without_ids_both_load():
    frame = pd.DataFrame({"rep": ["rep A", "rep A"], "timestamp": ["2025-01-06 10:00", "2025-01-06 11:00"],
                          "activity_type": ["call", "call"]})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # nothing is excluded, so nothing to warn about
        acts = sg.load_activities(frame)
    assert len(acts) == 2
    assert acts.attrs["quality"].excluded == {}
    assert acts["activity_id"].isna().all()  # missing stays missing, never the text 'None'
    assert list(acts["timestamp"]) == [pd.Timestamp("2025-01-06 10:00"), pd.Timestamp("2025-01-06 11:00")]


def test_large_activity_log_without_ids_loads_every_row():
    # above the size where the loader first tries the cheap "ids are sorted" check (200,000 rows)
    n = 250_003
    rng = np.random.default_rng(17)
    frame = pd.DataFrame({
        "rep": np.array(["Ann", "Bo", "Cy", "Di", "Ed"])[np.arange(n) % 5],
        "timestamp": pd.Timestamp("2025-01-06") + pd.to_timedelta(np.arange(n) // 5, unit="min"),
        "activity_type": np.array(["call", "email", "meeting"])[rng.integers(0, 3, n)],
    })  # fmt: skip
    acts = _load_clean(sg.load_activities, frame)
    assert len(acts) == n
    assert acts.attrs["quality"].n_excluded == 0
    counts = acts.groupby("activity_type", observed=True).size()
    assert counts.to_dict() == frame.groupby("activity_type").size().to_dict()


def test_activities_with_real_duplicate_ids_still_lose_exactly_the_repeats():
    # the oracle for the fix above: ids that do repeat are still caught (first kept)
    frame = pd.DataFrame({"rep": ["A", "A", "B"], "timestamp": ["2025-01-06 10:00", "2025-01-06 11:00", "2025-01-07"],
                          "activity_type": ["call", "call", "call"], "activity_id": ["x1", "x1", None]})  # fmt: skip
    with pytest.warns(DataQualityWarning, match=r"load_activities: excluded 1 of 3 rows \(1 duplicate id\)"):
        acts = sg.load_activities(frame)
    assert len(acts) == 2 and acts.attrs["quality"].excluded == {"duplicate_id": 1}
    assert acts["rep"].astype(str).tolist() == ["A", "B"]


def test_blank_roster_team_is_unassigned_not_the_text_none():
    frame = pd.DataFrame({"rep": ["Ana Lee", "Bo Chen", "Cy Diaz"], "team": ["East", None, np.nan],
                          "manager": [None, "Mo", ""]})  # fmt: skip
    roster = _load_clean(sg.load_roster, frame)
    assert roster["team"].tolist() == ["East", "(unassigned)", "(unassigned)"]
    assert "None" not in roster["manager"].tolist() and "nan" not in roster["team"].tolist()
    assert roster.loc[roster["rep"] == "Bo Chen", "manager"].item() == "Mo"


@pytest.mark.parametrize(("version", "ok"), [("3.0.0", True), ("3.1.1", True), ("4.0.0rc1", True),
                                             ("2.3.3", False), ("2.2.0", False), ("1.5.3", False)])  # fmt: skip
def test_unsupported_pandas_is_refused_with_the_reason(version, ok):
    if ok:
        _requirements.check_pandas(version)
    else:
        with pytest.raises(ImportError, match=r"pandas >= 3\.0, found .*'None'.*pip install"):
            _requirements.check_pandas(version)


def _floors() -> dict[str, str]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    out = {}
    for dep in deps:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([0-9.]+)", dep.split(";")[0].strip())
        assert m, f"every core dependency declares a floor: {dep}"
        out[m.group(1).lower()] = m.group(2)
    return out


def test_constraints_file_pins_the_declared_floors():
    """CI installs ci/constraints-min.txt in its second venv: each pin is the floor of pyproject.toml."""
    pins = {}
    for line in (ROOT / "ci" / "constraints-min.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[name.strip().lower()] = version.strip()
    floors = _floors()
    assert set(pins) == set(floors), "pin every core dependency at its floor (and nothing else)"
    for name, floor in floors.items():
        parts = floor.split(".")
        # the lowest release with CPython 3.11 wheels: same major.minor (e.g. scipy>=1.11 -> 1.11.1)
        assert pins[name].split(".")[: len(parts)] == parts or pins[name].split(".")[:2] == parts[:2], name
    assert _floors()["pandas"].split(".")[:2] == [str(v) for v in _requirements.MIN_PANDAS]
