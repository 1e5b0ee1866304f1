"""Parsed amounts against the values written: number formats whose reading depends on the whole column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import salesgoals as sg


def _deals_csv(tmp_path: Path, amounts: list[str], sep: str = ";") -> Path:
    lines = [sep.join(["deal_id", "rep", "created", "closed", "status", "amount"])]
    for i, a in enumerate(amounts):
        lines.append(sep.join([f"D{i}", "ann" if i % 2 else "bob", "2025-01-06", "2025-02-03", "won", a]))
    p = tmp_path / "deals.csv"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("texts", "truth"),
    [
        # only '1.500'-style values (and plain integers): dots group thousands, as a German export writes them
        (["1.500", "12.000", "250", "3.750"], [1500, 12000, 250, 3750]),
        (["€ 2.900", "€ 120.000", "€ 75"], [2900, 120000, 75]),
        # a decimal comma anywhere settles it the same way
        (["1.500", "2.350,50", "12,5"], [1500, 2350.5, 12.5]),
        # a decimal point anywhere: '1.500' is one and a half
        (["1.500", "2.35", "12"], [1.5, 2.35, 12]),
        (["1,500", "12,000", "250"], [1500, 12000, 250]),
    ],
)
def test_thousands_and_decimal_separators_read_as_written(tmp_path, texts, truth):
    deals = sg.load_deals(_deals_csv(tmp_path, texts))
    got = deals.set_index("deal_id")["amount"].reindex([f"D{i}" for i in range(len(texts))]).to_numpy(float)
    np.testing.assert_allclose(got, np.asarray(truth, float), rtol=0, atol=1e-9)
