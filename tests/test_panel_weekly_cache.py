"""The weekly activity counts load_activities makes on the way (salesgoals._activity_counts) and build_panel reuses.

The counts come out of the duplicate search's sort; the panel takes them only for the very frame the loader
returned, unedited.  Each test compares against the panel counted from the rows (on_frame), never against
stored numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import salesgoals as sg
import salesgoals._duplicates as sio
from salesgoals.errors import DataQualityWarning
from salesgoals import _activity_counts
from salesgoals._schema import ACTIVITY_COLUMNS
from salesgoals.panel._aggregate import Reduction
from tests.test_io_properties import SETTINGS


def _lean_log(n: int, seed: int, order: str, unit: str = "min") -> pd.DataFrame:
    """Canonical lean activities (rep, time, type; emails 'sent') over about four weeks, with exact copies."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(0, 4 * 7 * 24 * 60 if unit == "min" else 4 * 7 * 86_400, n)
    steps[rng.random(n) < 0.3] = steps[0]  # many rows at one time: copies, and alike rows of other reps/types
    if order == "sorted":
        steps = np.sort(steps)
    elif order == "stacked":  # two exports in time order, one after the other
        half = n // 2
        steps = np.concatenate([np.sort(steps[:half]), np.sort(steps[half:])])
    types = rng.choice(["call", "email", "meeting", None], n, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame({
        "rep": pd.Categorical(rng.choice(["a", "b", "c"], n), categories=pd.Index(["a", "b", "c", "z"], dtype="str")),
        "timestamp": pd.Timestamp("2024-02-28 13:00") + pd.to_timedelta(steps, unit=unit),
        "activity_type": pd.Categorical(types, categories=pd.Index(["call", "email", "meeting"], dtype="str")),
        "activity_id": pd.Series([np.nan] * n, dtype="str"),
        "deal_id": pd.Series([np.nan] * n, dtype="str"),
        "account": pd.Series([np.nan] * n, dtype="str"),
        "outcome": pd.Categorical(np.where(types == "email", "sent", None), categories=pd.Index(["sent"], dtype="str")),
        "duration_min": np.nan,
    })  # fmt: skip


@SETTINGS
@given(n=st.integers(2, 80), seed=st.integers(0, 2**16), keep=st.floats(0.3, 1.0),
       order=st.sampled_from(["random", "sorted", "stacked"]), split=st.sampled_from([2, 2_000_000]),
       unit=st.sampled_from(["min", "s"]))
def test_counts_from_the_duplicate_search_equal_the_panel_counted_from_the_kept_rows(n, seed, keep, order, split,
                                                                                     unit):
    # every path of the search (one part; two parts of a log in time order; early and late halves of stacked
    # runs, split=2 forcing the threads on these small logs) counts the rows left per week, rep, type and outcome,
    # and those counts give the same activity counts as counting the kept rows themselves
    out = _lean_log(n, seed, order, unit)
    rng = np.random.default_rng(seed + 1)
    rows = np.flatnonzero(rng.random(n) < keep)
    if rows.size < 2:
        return
    ts = pd.DatetimeIndex(out["timestamp"]).asi8[rows]
    later, weekly = sio.identical_rows_counted(out, rows, ts, min_split_rows=split)
    oracle = rows[out.iloc[rows][list(ACTIVITY_COLUMNS)].duplicated().to_numpy()]
    assert later.tolist() == oracle.tolist()
    assert weekly is not None and int(weekly.n.sum()) == rows.size - oracle.size
    kept = out.iloc[np.setdiff1d(rows, oracle)]
    red = Reduction.for_columns(out.columns, freq="W")
    pd.testing.assert_frame_equal(red.on_weekly(kept, weekly), red.on_frame(kept))
    assert Reduction.for_columns(out.columns, freq="M").on_weekly(kept, weekly) is None  # weeks only


def test_no_counts_when_the_key_cannot_be_laid_out_by_week():
    out = _lean_log(50, 1, "random")
    ts = pd.DatetimeIndex(out["timestamp"]).asi8.copy()
    ts[7] += 1  # one time off the second: the week-first key has no room for microseconds
    later, weekly = sio.identical_rows_counted(out, None, ts)
    assert weekly is None
    assert later.tolist() == np.flatnonzero(out.assign(timestamp=ts)[list(ACTIVITY_COLUMNS)].duplicated()).tolist()
    assert sio.identical_rows_counted(out, None, pd.DatetimeIndex(out["timestamp"]).asi8, count=False)[1] is None
    with_deal = out.assign(deal_id=pd.Series(["d1"] * 50, dtype="str"))  # text columns cannot be packed
    assert sio.identical_rows_counted(with_deal, None, pd.DatetimeIndex(out["timestamp"]).asi8)[1] is None


@pytest.fixture
def lean_csv(tmp_path):
    """A lean export (rep, timestamp, type) of three months, whole minutes, some rows exported twice."""
    rng = np.random.default_rng(11)
    n = 3_000
    stamps = pd.Timestamp("2024-01-03 08:00") + pd.to_timedelta(np.sort(rng.integers(0, 90 * 24 * 60, n)), unit="min")
    frame = pd.DataFrame({"rep": rng.choice(["Ana Lee", "Ben Ode", "Cy Park"], n), "timestamp": stamps,
                          "type": rng.choice(["Call", "Email", "Meeting", "Demo"], n)})
    frame = pd.concat([frame, frame.iloc[::50]]).sort_values("timestamp", kind="stable")  # 60 copies
    path = tmp_path / "lean.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path


def _load(path):
    with pytest.warns(DataQualityWarning, match="duplicate"):
        return sg.load_activities(path)


def test_the_loaded_frame_gets_the_same_panel_from_the_counts(lean_csv):
    acts = _load(lean_csv)
    copies = int(pd.read_csv(lean_csv).duplicated().sum())  # the 60 planted, and a few alike by chance
    assert copies >= 60 and acts.attrs["quality"].excluded == {"duplicate_row": copies}
    assert _activity_counts.recall(acts) is not None  # the loader counted on the way: the fast path is taken
    panel = sg.build_panel(acts)
    fresh = sg.build_panel(acts.copy())  # a copy is counted from its rows
    assert _activity_counts.recall(acts.copy()) is None
    pd.testing.assert_frame_equal(panel, fresh)
    assert panel.attrs == fresh.attrs
    monthly = sg.build_panel(acts, freq="M")  # other grains count the rows
    assert int(monthly["call"].sum()) == int((acts["activity_type"] == "call").sum())


@pytest.mark.parametrize("edit", ["loc_rep", "iloc_time", "replace_type", "new_outcome", "drop_outcome",
                                  "rename_reps", "filter", "loc_type"])
def test_an_edited_frame_is_counted_from_its_rows(lean_csv, edit):
    # every edit made through pandas copies the edited column first (copy-on-write: the loader holds a shallow
    # copy), so the counts are dropped and the panel shows the edit
    acts = _load(lean_csv)
    if edit == "loc_rep":
        acts.loc[acts.index[:40], "rep"] = "Ben Ode"
    elif edit == "iloc_time":
        acts.iloc[:40, acts.columns.get_loc("timestamp")] = pd.Timestamp("2024-03-20 10:00")
    elif edit == "replace_type":
        acts.replace({"activity_type": {"demo": "meeting"}}, inplace=True)
    elif edit == "new_outcome":
        acts["outcome"] = pd.Categorical(np.where(acts["activity_type"] == "call", "connected", None))
    elif edit == "drop_outcome":
        del acts["outcome"]
    elif edit == "rename_reps":
        acts["rep"] = acts["rep"].cat.rename_categories({"Ana Lee": "Ana Lee-Smith"})
    elif edit == "filter":
        acts = acts[acts["rep"] != "Cy Park"]
    elif edit == "loc_type":
        acts.loc[acts["activity_type"] == "demo", "activity_type"] = "meeting"
    assert _activity_counts.recall(acts) is None
    expected = sg.build_panel(pd.DataFrame({c: acts[c].copy() for c in acts.columns}))
    pd.testing.assert_frame_equal(sg.build_panel(acts), expected)
    if edit != "drop_outcome":
        before = sg.build_panel(_load(lean_csv))
        assert not before.equals(expected)  # the edit shows in the panel: a stale count would fail above
