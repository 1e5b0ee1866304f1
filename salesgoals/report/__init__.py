"""The manager's report: one self-contained HTML file (and, optionally, an Excel workbook).

:func:`report` turns a :class:`salesgoals.Recommendation` into a file a first-line sales manager
opens before quarterly 1:1s: a team page (drivers with intervals in plain words, team goal vs
target, tier projection, leader goals, every seller at a glance) and one page per seller (their
goals with odds, why, weekly landmarks, their trend and their funnel vs the top performers).
The HTML needs no network and no server: styles are inline and images are embedded PNGs.

Examples
--------
>>> import salesgoals as sg, tempfile, os
>>> sim = sg.simulate.make_crm_data(n_reps=6, n_weeks=60, seed=3)
>>> rec = sg.recommend(sim.activities, sim.deals, sim.roster, n_sims=200, backtest=False)  # doctest: +SKIP
>>> rep = sg.report(rec, os.path.join(tempfile.mkdtemp(), "report.html"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from salesgoals._summary import Summary
from salesgoals.report._html import render_html, slug
from salesgoals.accounts import account_report_section
from salesgoals.report._views import VIEW_NAMES, account_views, build_views
from salesgoals.report._xlsx import write_workbook  # openpyxl itself is imported only when writing

__all__ = ["report", "ManagerReport", "VIEW_NAMES", "slug"]


@dataclass
class ManagerReport:
    """The manager's report (result of :func:`report`).

    Attributes
    ----------
    html : str
        The whole self-contained HTML document.
    views : dict of str -> DataFrame
        The tables behind the pages, one per view (:data:`VIEW_NAMES`): the workbook's sheets.
    path : pathlib.Path or None
        Where the HTML was written.
    xlsx_path : pathlib.Path or None
        Where the workbook was written.
    """

    html: str
    views: dict[str, pd.DataFrame]
    path: Path | None = None
    xlsx_path: Path | None = None
    sellers: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"ManagerReport(sellers={len(self.sellers)}, pages={len(self.sellers) + 1}, path={self.path})"

    def write(self, path: str | os.PathLike) -> Path:
        """Write the HTML (UTF-8) to ``path``."""
        p = Path(path)
        p.write_text(self.html, encoding="utf-8", newline="\n")
        self.path = p
        return p

    def to_excel(self, path: str | os.PathLike) -> Path:
        """Write the views to a workbook, one sheet per view (needs ``openpyxl``: ``pip install salesgoals[report]``)."""
        self.xlsx_path = write_workbook(self.views, path)
        return self.xlsx_path

    def summary(self) -> Summary:
        """Pages and views of the report."""
        lines = [f"Team page and {len(self.sellers)} seller pages; {len(self.html) / 1e6:.1f} MB of self-contained HTML.",
                 f"Views: {', '.join(self.views)}."]  # fmt: skip
        return Summary("Manager's report", lines)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


def report(
    rec: Any,
    out: str | os.PathLike | None = None,
    *,
    target: float | dict | None = None,
    currency: str = "$",
    xlsx: str | os.PathLike | None = None,
    title: str | None = None,
    accounts: Any = None,
) -> ManagerReport:
    """Make the manager's report from a recommendation: one HTML file, and optionally a workbook.

    Parameters
    ----------
    rec : Recommendation
        From :func:`salesgoals.recommend`.
    out : path, optional
        Write the HTML here.
    target : float or dict, optional
        Top-down revenue target for the goal period (one number, or ``{team: target}``); the team page
        shows the gap.
    currency : str, default="$"
        Currency symbol in the report.
    xlsx : path, optional
        Also write the views to this workbook, one sheet per view.
    title : str, optional
        Title of the report (default: "Sales goals and 1:1 notes").
    accounts : AccountObjectives or dict, optional
        Adds a key-account page (after the team page) and the sheets ``Account
        objectives`` (and ``Account progress``): an
        :func:`salesgoals.account_objectives` result, or the section of
        :func:`salesgoals.account_report_section` (which can carry progress).

    Returns
    -------
    ManagerReport
        ``.html``, ``.views`` (one DataFrame per view, :data:`VIEW_NAMES`), ``.path``, ``.xlsx_path``.

    Raises
    ------
    TypeError
        ``rec`` is not a Recommendation.
    SalesgoalsError
        ``xlsx`` was asked for but ``openpyxl`` is not installed.
    """
    if not all(hasattr(rec, a) for a in ("table", "goals", "projection", "panel")):
        raise TypeError(f"report: rec must be a Recommendation from salesgoals.recommend(); got {type(rec).__name__}.")
    views = build_views(rec, target=target, currency=str(currency))
    section = None
    if accounts is not None:
        section = accounts if isinstance(accounts, dict) else account_report_section(accounts)
        views.update(account_views(section))
    levels = rec.levels(target=target)
    html = render_html(rec, views, levels, currency=str(currency), title=title or "Sales goals and 1:1 notes",
                       accounts=section)
    res = ManagerReport(html=html, views=views, sellers=list(rec.table["rep"].unique()))
    if out is not None:
        res.write(out)
    if xlsx is not None:
        res.to_excel(xlsx)
    return res
