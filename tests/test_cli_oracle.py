"""CLI output checked against a hand computation from the raw CSV files (not against the library it calls).

The oracle reads the sample exports with the standard ``csv`` module and counts by hand: won revenue and
deals won per rep and month from the close date, deals created per rep and month from the created date,
calls per rep and ISO week (Monday-start) from the timestamp.  Every cell of the CLI's panel must match.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from salesgoals import cli

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"


def _hand_deals():
    won_rev, won_n, created = defaultdict(float), defaultdict(int), defaultdict(int)
    with open(SAMPLES / "canonical_deals.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            created[(row["rep"], row["created"][:7])] += 1
            if row["status"] == "won":
                won_rev[(row["rep"], row["closed"][:7])] += float(row["amount"])
                won_n[(row["rep"], row["closed"][:7])] += 1
    return won_rev, won_n, created


def _hand_weekly_calls():
    calls = defaultdict(int)
    with gzip.open(SAMPLES / "canonical_activities.csv.gz", "rt", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["activity_type"] == "call":
                day = dt.date.fromisoformat(row["timestamp"][:10])
                monday = day - dt.timedelta(days=day.weekday())
                calls[(row["rep"], monday.isoformat())] += 1
    return calls


@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "panel.csv"
    code = cli.main(["panel", "-a", str(SAMPLES / "canonical_activities.csv.gz"), "-d",
                     str(SAMPLES / "canonical_deals.csv"), "--freq", "M", "-o", str(out)])  # fmt: skip
    assert code == 0
    return pd.read_csv(out, dtype={"rep": str, "period": str})


def test_monthly_won_revenue_deals_won_and_created_match_a_hand_count(monthly):
    won_rev, won_n, created = _hand_deals()
    key = list(zip(monthly["rep"], monthly["period"].str[:7]))
    span = monthly.assign(month=monthly["period"].str[:7]).groupby("rep")["month"].agg(["min", "max"])
    for column, hand in (("won_revenue", won_rev), ("deals_won", won_n), ("deals_created", created)):
        got = dict(zip(key, monthly[column]))
        inside = {k: v for k, v in hand.items() if span.loc[k[0], "min"] <= k[1] <= span.loc[k[0], "max"]}
        # a deal outside its rep's months in the panel (before the first activity) is the only thing left out
        assert set(hand) - set(inside) == {k for k in hand if k not in got}, column
        assert {k: v for k, v in got.items() if v} == pytest.approx(inside, rel=1e-12), column


def test_weekly_calls_match_a_hand_count(tmp_path):
    out = tmp_path / "weekly.csv"
    assert cli.main(["panel", "-a", str(SAMPLES / "canonical_activities.csv.gz"), "--freq", "W", "-o", str(out)]) == 0
    weekly = pd.read_csv(out, dtype={"rep": str, "period": str})
    monday = weekly["period"].str[:10]  # weeks print as 'YYYY-MM-DD/YYYY-MM-DD', Monday first
    got = dict(zip(zip(weekly["rep"], monday), weekly["call"]))
    hand = _hand_weekly_calls()
    assert {k: v for k, v in got.items() if v} == hand
