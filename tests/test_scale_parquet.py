"""Parquet input like benchmarks/bench_out_of_core.py's: the in-memory, DuckDB and Dask panels are identical.

Identical means ``assert_frame_equal`` with exact values *and* the same column
index dtype, column dtypes and ``attrs`` - the benchmark's own equality check
(it once stopped there: the Dask panel's column index had object dtype where
``build_panel``'s had the pyarrow string dtype).  Dask's ``convert-string``
setting changes the string dtype of the partitions it reads, so both settings
are checked.
"""

from __future__ import annotations

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import salesgoals as sg
from salesgoals.panel.scale import panel_from_dask, panel_from_parquet

TYPES = ["call", "email", "meeting", "linkedin", "task"]
OUTCOMES = ["connected", "no_answer", "voicemail", "held", "no_show", "sent", ""]


@pytest.fixture(scope="module")
def parquet_files(tmp_path_factory) -> list[str]:
    """Two Parquet files of seeded activities, written with pyarrow as the benchmark writes them."""
    folder = tmp_path_factory.mktemp("activities")
    rng = np.random.default_rng(20240601)
    t0 = np.datetime64("2022-01-03T00:00", "s").astype(np.int64)
    paths = []
    for k, n in enumerate((3_000, 2_000)):
        table = pa.table({
            "rep": pa.array([f"rep_{i:05d}" for i in rng.integers(0, 40, n)]),
            "timestamp": pa.array(t0 + rng.integers(0, 30 * 7 * 86400, n), type=pa.timestamp("s")),
            "activity_type": pa.array(rng.choice(TYPES, n).tolist()),
            "outcome": pa.array(rng.choice(OUTCOMES, n).tolist()),
        })  # fmt: skip
        path = folder / f"part-{k:05d}.parquet"
        pq.write_table(table, path)
        paths.append(str(path))
    return paths


def assert_identical(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert got.columns.dtype == want.columns.dtype, (got.columns.dtype, want.columns.dtype)
    assert got.dtypes.to_dict() == want.dtypes.to_dict()
    assert got.attrs == want.attrs
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.fixture(scope="module")
def in_memory(parquet_files) -> pd.DataFrame:
    acts = pd.concat([pd.read_parquet(f) for f in parquet_files], ignore_index=True)
    return sg.build_panel(acts, freq="W")


@pytest.mark.parametrize("convert_string", [True, False])
def test_dask_panel_from_parquet_is_identical_to_build_panel(parquet_files, in_memory, convert_string):
    with dask.config.set({"dataframe.convert-string": convert_string}):
        acts = dd.read_parquet(parquet_files, columns=["rep", "timestamp", "activity_type", "outcome"])
        panel = panel_from_dask(acts, freq="W", progress=False)
    assert_identical(panel, in_memory)
    assert panel[in_memory.attrs["activity_columns"]].to_numpy().sum() == 5_000  # every row counted once


def test_duckdb_panel_from_parquet_is_identical_to_build_panel(parquet_files, in_memory):
    assert_identical(panel_from_parquet(parquet_files, freq="W", progress=False), in_memory)


def test_column_index_dtype_does_not_depend_on_the_path(in_memory):
    """The column index is the dtype pandas gives a list of names: what every panel path builds."""
    assert in_memory.columns.dtype == pd.Index(list(in_memory.columns)).dtype
