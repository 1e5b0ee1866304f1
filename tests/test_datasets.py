"""The package's own samples: catalog, loading, and agreement with the simulator that made them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals._schema import ACTIVITY_COLUMNS, LOADED_DEAL_COLUMNS, ROSTER_COLUMNS
from salesgoals.simulate import make_crm_data

#: Keep the installed package small: the tiny sample is for examples, not analysis.
PACKAGE_DATA_BUDGET_BYTES = 1_500_000

CATALOG_COLUMNS = [
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
NAMES = ["activities", "deals", "roster", "truth", "truth_by_rep"]


@pytest.fixture(scope="module")
def catalog():
    return sg.datasets.list_samples()


@pytest.fixture(scope="module")
def tiny_sim(catalog):
    """Re-run the simulation the package sample was written from, with the catalog's arguments."""
    row = catalog.iloc[0]
    return make_crm_data(
        int(row["n_reps"]), int(row["n_weeks"]), seed=int(row["seed"]),
        volume_scale=float(row["volume_scale"]), start="2025-01-06",
    )  # fmt: skip


def test_list_samples_columns_and_names(catalog):
    assert catalog.columns.tolist() == CATALOG_COLUMNS
    assert sorted(catalog["name"]) == sorted(NAMES)
    assert catalog["seed"].nunique() == 1  # one simulation behind all package files


def test_row_counts_match_catalog(catalog):
    for row in catalog.itertuples(index=False):
        assert len(sg.datasets.load_sample(row.name)) == row.rows, row.name


@pytest.mark.parametrize(
    ("name", "columns", "dates"),
    [
        ("activities", ACTIVITY_COLUMNS, ["timestamp"]),
        ("deals", LOADED_DEAL_COLUMNS, ["created", "closed"]),
        ("roster", ROSTER_COLUMNS, ["start", "end"]),
    ],
)
def test_load_sample_gives_canonical_columns_and_parsed_dates(name, columns, dates):
    frame = sg.datasets.load_sample(name)
    assert frame.columns.tolist() == list(columns)
    for col in dates:
        assert pd.api.types.is_datetime64_any_dtype(frame[col]), col


def test_load_sample_truth_is_indexed_like_the_simulator():
    truth = sg.datasets.load_sample("truth")
    assert truth.index.name == "activity"
    assert truth.columns.tolist() == [
        "deals_created",
        "pipeline_created",
        "deals_won",
        "won_revenue",
    ]
    assert np.isfinite(truth.to_numpy()).all()


def _text_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """The simulator keeps text in object columns; a CSV reads back as pandas' str dtype."""
    return frame.astype({c: "str" for c in frame.columns if frame[c].dtype == object})


@pytest.mark.parametrize("name", ["activities", "deals", "roster", "truth_by_rep"])
def test_samples_equal_the_simulation_they_came_from(tiny_sim, name):
    expected = getattr(tiny_sim, name)
    got = sg.datasets.load_sample(name)
    if name == "deals":  # the loader's per-deal date issue: none in simulated deals
        assert got.pop("date_issue").isna().all()
    pd.testing.assert_frame_equal(got, _text_as_str(expected), check_dtype=False, rtol=1e-9)


def test_truth_equals_the_simulation(tiny_sim):
    pd.testing.assert_frame_equal(sg.datasets.load_sample("truth"), tiny_sim.truth, rtol=1e-9)


def test_open_deals_have_no_close_date():
    deals = sg.datasets.load_sample("deals")
    assert set(deals["status"]) == {"won", "lost", "open"}
    assert deals["closed"].isna().eq(deals["status"].eq("open")).all()


def test_kwargs_reach_read_csv():
    assert len(sg.datasets.load_sample("activities", nrows=25)) == 25


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match=r"must be one of 'activities', 'deals'.*got 'pipeline'"):
        sg.datasets.load_sample("pipeline")


def test_package_data_stays_small():
    from importlib import resources

    with resources.as_file(resources.files("salesgoals.datasets").joinpath("data")) as folder:
        total = sum(f.stat().st_size for f in folder.iterdir())
    assert 0 < total < PACKAGE_DATA_BUDGET_BYTES


def test_sample_builds_a_panel():
    load = sg.datasets.load_sample
    panel = sg.build_panel(load("activities"), load("deals"), roster=load("roster"))
    assert not panel.duplicated(["rep", "period"]).any()
    assert panel["rep"].nunique() == len(sg.datasets.load_sample("roster"))


@pytest.mark.parametrize("name", ["activities", "deals", "roster"])
def test_canonical_samples_go_through_the_loaders(name):
    frame = sg.datasets.load_sample(name)
    report = frame.attrs["quality"]
    assert report.loader == f"load_{name}"
    assert report.loaded_rows == len(frame) and report.n_excluded == 0
