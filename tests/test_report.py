"""The manager's report: one self-contained HTML file checked with a real parser and, where Chromium is
installed, rendered headless (every page and image shows); the workbook; goal levels; the CLI."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.report import VIEW_NAMES, slug

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def rec():
    sim = sg.simulate.make_crm_data(n_reps=10, n_weeks=70, seed=3)
    return sg.recommend(sim.activities, sim.deals, sim.roster, n_sims=200, backtest=False, currency="$")


@pytest.fixture(scope="module")
def built(rec, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    res = sg.report(rec, out / "report.html", target=400_000, xlsx=out / "report.xlsx", currency="$")
    return res, out


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.images, self.links, self.text, self.errors = [], [], [], [], []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in ("img", "meta", "br", "link", "input"):
            self.stack.append(tag)
        if tag == "section":
            self.sections.append(a.get("id"))
        if tag == "img":
            self.images.append((a.get("src", ""), a.get("alt", "")))
        for key in ("href", "src"):
            if key in a:
                self.links.append(a[key])

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_file_with_a_page_per_seller(built, rec):
    res, out = built
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page == res.html and page.startswith("<!DOCTYPE html>")
    p = _Collect()
    p.feed(page)
    p.close()
    assert not p.errors and not p.stack, p.errors[:3]
    reps = list(rec.table["rep"].unique())
    assert p.sections == ["team", *[slug(r) for r in reps]]
    # no network: every image inline, every link an in-page anchor
    assert all(src.startswith("data:image/png;base64,") for src, _ in p.images)
    assert all(base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for src, _ in p.images)
    assert all(alt for _, alt in p.images)
    assert all(link.startswith(("#", "data:")) for link in p.links), [x for x in p.links if not x.startswith("#")][:3]
    assert len(p.images) == 2 + 2 * len(reps)  # team: revenue + sellers; each seller: trend + funnel
    text = " ".join(p.text)
    assert "nan" not in text.lower().split() and "NaN" not in text
    for phrase in ("What drives results", "Team activity goals", "Leader goals", "Why these goals", "Landmarks",
                   "Target", "$400,000"):
        assert phrase in text, phrase


def test_views_are_the_workbook_sheets(built):
    openpyxl = pytest.importorskip("openpyxl")  # the report extra; the test extra installs it
    res, out = built
    wb = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert wb.sheetnames == list(VIEW_NAMES) == list(res.views)
    for name, frame in res.views.items():
        header = [c.value for c in next(wb[name].iter_rows(max_row=1))] if len(frame.columns) else []
        assert header == list(frame.columns), name
        assert wb[name].max_row == len(frame) + 1
    goals = res.views["Seller goals"]
    assert (goals["Clear total"] < goals["Stretch total"]).all()
    assert res.views["Team revenue"]["Revenue"].dtype == np.int64


def test_levels_add_up(rec):
    lv = rec.levels(target={"Atlas": 100_000})
    focus = rec.table[rec.table["priority"] > 0]
    team = lv.teams.set_index(["team", "activity"])
    for (tm, act), g in focus.groupby(["team", "activity"]):
        assert team.loc[(tm, act), "goal_stretch_total"] == g["goal_stretch_total"].sum()
        assert team.loc[(tm, act), "n_sellers"] == len(g)
    everyone = lv.teams[lv.teams["team"] == "(all)"].set_index("activity")
    assert (everyone["goal_clear_total"] == focus.groupby("activity")["goal_clear_total"].sum()).all()
    # the sum of clear goals is likelier than each seller's own, the sum of stretch goals less likely
    assert (lv.teams["p_clear"] >= 0.85).all() and (lv.teams["expected_low"] <= lv.teams["expected"]).all()
    rev = lv.revenue.set_index(["team", "scenario"])
    atlas = rev.loc[("Atlas", "current")]
    assert atlas["target"] == 100_000 and atlas["gap"] == 100_000 - atlas["revenue"]
    assert rev.loc[("(all)", "current"), "target"] == 100_000
    # no coaching logged: the convention, said so
    assert lv.leaders["basis"].str.startswith("convention").all()
    n = rec.goals.rep_stats.groupby("manager").size()
    one = lv.leaders[lv.leaders["goal"] == "one_on_ones"].set_index("manager")["total"]
    assert (one == n.reindex(one.index) * rec.goals.horizon).all()


def test_logged_coaching_sets_the_leader_goals(rec):
    panel = rec.panel.assign(one_on_one=2)  # every seller logs two 1:1s a week
    lv = sg.goals.goal_levels(rec.goals, rec.projection, panel=panel)
    one = lv.leaders[lv.leaders["goal"] == "one_on_ones"]
    assert one["basis"].str.startswith("logged 'one_on_one'").all()
    assert (one["per_week"] == 2 * one["n_sellers"]).all()


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_every_page_and_image_renders_in_chromium(built, tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    from report_screenshots import render_check, screenshot

    res, out = built
    pages = render_check(out / "report.html", _chromium(), tmp_path / "profile")
    assert [p["id"] for p in pages] == ["team", *[slug(r) for r in res.sellers]]
    for p in pages:
        assert p["height"] > 400, p["id"]
        assert p["images"] and all(i["ok"] and i["w"] > 300 and i["h"] > 100 for i in p["images"]), p
    png = screenshot(out / "report.html", slug(res.sellers[0]), tmp_path, _chromium(), tmp_path / "profile", 1200)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_report_rejects_other_objects():
    with pytest.raises(TypeError, match="Recommendation"):
        sg.report(pd.DataFrame())


# ----------------------------------------------------------------------------- CLI
def _sample_args():
    return ["-a", str(SAMPLES / "canonical_activities.csv.gz"), "-d", str(SAMPLES / "canonical_deals.csv"),
            "-r", str(SAMPLES / "roster.csv"), "--sims", "200", "--no-backtest"]  # fmt: skip


def test_cli_report_writes_html_and_xlsx(tmp_path, capsys):
    pytest.importorskip("openpyxl")
    html, xlsx = tmp_path / "r.html", tmp_path / "r.xlsx"
    code = main(["report", *_sample_args(), "--target", "1,500,000", "--out", str(html), "--xlsx", str(xlsx)])
    assert code == 0
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err.count("\n") == 1 and "wrote the report" in cap.err
    assert html.read_text(encoding="utf-8").count("<section class=\"page\"") == 28
    assert xlsx.stat().st_size > 5_000
    assert main(["report", *_sample_args(), "--target", "lots", "--out", str(html)]) == 2
    assert "expected an amount" in capsys.readouterr().err


def test_cli_recommend_prints_fit_120_columns_and_quiet_prints_nothing(tmp_path, capsys):
    out = tmp_path / "g.csv"
    assert main(["recommend", *_sample_args(), "--out", str(out)]) == 0
    cap = capsys.readouterr()
    assert "Focus goals" in cap.out and "Goal recommendations" in cap.out
    assert max(map(len, cap.out.splitlines())) <= 120
    assert main(["recommend", *_sample_args(), "--out", str(out), "--quiet"]) == 0
    cap = capsys.readouterr()
    assert cap.out == "" and cap.err == ""
    assert main(["recommend", *_sample_args(), "--quiet", "--verbose"]) == 2  # one or the other
    assert "not allowed with" in capsys.readouterr().err


def test_cli_warnings_are_one_plain_line(monkeypatch, capsys):
    import salesgoals.cli as cli

    def noisy(args):
        warnings.warn("first line of the problem\nsecond line", sg.errors.DataQualityWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_run_recommend", noisy)
    assert main(["recommend", *_sample_args()]) == 0
    err = capsys.readouterr().err
    assert err == "salesgoals: warning: first line of the problem second line\n"
    assert main(["recommend", *_sample_args(), "-q"]) == 0
    assert capsys.readouterr().err == ""
