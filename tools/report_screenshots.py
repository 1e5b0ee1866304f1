"""Render the manager's report in headless Chromium and save a screenshot of every page.

Builds the report from the bundled samples (or takes an existing HTML file), then for the team page
and each seller page opens ``report.html#<page>`` (the report shows only the targeted page) and saves
``<out>/<page>.png``; it also prints, per page, whether the page and each of its images rendered
(height > 0, image decoded).  Look at the PNGs to judge what a manager sees.

Needs the Debian package ``chromium`` (``apt-get install -y chromium``).

Run::

    python tools/report_screenshots.py --out /tmp/report_shots            # from the samples
    python tools/report_screenshots.py --html report.html --out shots --pages 3
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--hide-scrollbars"]  # fmt: skip

#: Injected into a copy of the report: after load, every page's height and every image's decoded size.
CHECK_SCRIPT = """<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('section.page').forEach(function (s) {
    var imgs = Array.prototype.map.call(s.querySelectorAll('img'), function (i) {
      return {ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth, h: i.offsetHeight};
    });
    out.push({id: s.id, height: s.offsetHeight, images: imgs});
  });
  var pre = document.createElement('pre'); pre.id = 'render-check';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


def chromium() -> str | None:
    """The Chromium executable, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def render_check(html_path: Path, exe: str, profile: Path) -> list[dict]:
    """Pages and images as Chromium laid them out: ``[{id, height, images: [{ok, w, h}]}]``."""
    text = html_path.read_text(encoding="utf-8").replace("</body>", CHECK_SCRIPT + "</body>")
    probe = html_path.with_name(html_path.stem + ".check.html")
    probe.write_text(text, encoding="utf-8")
    res = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000",
                          "--window-size=1280,1000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=180)  # fmt: skip
    probe.unlink()
    m = re.search(r'<pre id="render-check">(.*?)</pre>', res.stdout, re.S)
    if not m:
        raise RuntimeError(f"chromium did not run the check (exit {res.returncode}): {res.stderr[-500:]}")
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def screenshot(html_path: Path, page: str, out: Path, exe: str, profile: Path, height: int) -> Path:
    """Screenshot of one page of the report (``#page`` shows only that page)."""
    png = out / f"{page}.png"
    subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                    f"--window-size=1280,{height}", f"--screenshot={png}", f"{html_path.as_uri()}#{page}"],
                   capture_output=True, timeout=180, check=True)  # fmt: skip
    return png


def build_sample_report(path: Path) -> Path:
    """The report of the bundled samples (as in the README)."""
    import salesgoals as sg

    samples = ROOT / "data" / "samples"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = sg.recommend(sg.load_activities(samples / "canonical_activities.csv.gz"),
                           sg.load_deals(samples / "canonical_deals.csv"), sg.load_roster(samples / "roster.csv"),
                           n_sims=500, currency="$")  # fmt: skip
    sg.report(rec, path, target=1_500_000)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", type=Path, help="an existing report (default: build one from the samples)")
    ap.add_argument("--out", type=Path, default=Path("report_screenshots"), help="folder for the PNGs")
    ap.add_argument("--pages", type=int, default=0, help="seller pages to shoot (default: all)")
    args = ap.parse_args(argv)
    exe = chromium()
    if exe is None:
        print("chromium is not installed (apt-get install -y chromium)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    html_path = (args.html or build_sample_report(args.out / "report.html")).resolve()
    with tempfile.TemporaryDirectory() as profile:
        pages = render_check(html_path, exe, Path(profile))
        sellers = [p for p in pages if p["id"] != "team"]
        shoot = [pages[0], *(sellers[: args.pages] if args.pages else sellers)]
        for p in shoot:
            bad = [i for i in p["images"] if not i["ok"]]
            png = screenshot(html_path, p["id"], args.out, exe, Path(profile), min(max(p["height"] + 200, 800), 6000))
            print(f"{p['id']:<32} height {p['height']:>5} px, {len(p['images'])} images"
                  f"{', ' + str(len(bad)) + ' NOT SHOWN' if bad else ''} -> {png}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
