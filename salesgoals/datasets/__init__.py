"""Small synthetic samples shipped inside the package.

``load_sample(name)`` returns a canonical frame (the layout the loaders in
:mod:`salesgoals.io` produce), so examples, docstrings and first experiments
work right after ``pip install`` without any file of your own.  The data come
from :func:`salesgoals.simulate.make_crm_data` (12 reps x 52 weeks, seed 5,
``volume_scale=0.3``), so the true effects are known: ``load_sample("truth")``.

Larger samples in real CRM export layouts (HubSpot, Salesforce, Pipedrive)
live in the repository's ``data/samples/`` folder; see its ``catalog.csv``.

Examples
--------
>>> import pandas as pd
>>> import salesgoals as sg
>>> sorted(sg.datasets.list_samples()["name"])
['activities', 'deals', 'roster', 'truth', 'truth_by_rep']
>>> acts = sg.datasets.load_sample("activities")
>>> acts.columns.tolist()[:3]
['rep', 'timestamp', 'activity_type']
>>> bool(pd.api.types.is_datetime64_any_dtype(acts["timestamp"]))
True
>>> truth = sg.datasets.load_sample("truth")
>>> float(truth.loc["linkedin", "deals_created"])
0.0
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pandas as pd

from salesgoals._schema import ACTIVITY_COLUMNS, DEAL_COLUMNS, ROSTER_COLUMNS

__all__ = ["load_sample", "list_samples"]

#: Date columns of each sample kind and their fixed ISO formats (the files are
#: written by ``data/samples/make_samples.py``, so no format guessing is needed).
_DATES: dict[str, dict[str, str]] = {
    "activities": {"timestamp": "%Y-%m-%d %H:%M:%S"},
    "deals": {"created": "%Y-%m-%d", "closed": "%Y-%m-%d"},
    "roster": {"start": "%Y-%m-%d", "end": "%Y-%m-%d"},
    "truth": {},
}
_COLUMNS = {"activities": ACTIVITY_COLUMNS, "deals": DEAL_COLUMNS, "roster": ROSTER_COLUMNS}


def _package_file(*parts: str):
    return resources.files(__name__).joinpath(*parts)


def list_samples() -> pd.DataFrame:
    """Catalog of the samples shipped inside the package.

    Returns
    -------
    pandas.DataFrame
        One row per sample with columns:

        * ``name`` : str — pass it to :func:`load_sample`.
        * ``file`` : str — file name inside the package.
        * ``kind`` : str — ``activities``, ``deals``, ``roster`` or ``truth``.
        * ``rows`` : int — number of rows.
        * ``description`` : str — what the sample holds.
        * ``seed``, ``n_reps``, ``n_weeks`` : int and ``volume_scale`` : float —
          the :func:`~salesgoals.simulate.make_crm_data` arguments that made it.

    Examples
    --------
    >>> list_samples().columns.tolist()[:4]
    ['name', 'file', 'kind', 'rows']
    """
    with _package_file("catalog.csv").open("rb") as fh:
        return pd.read_csv(fh)


def load_sample(name: str, **kwargs: Any) -> pd.DataFrame:
    """Load a sample shipped inside the package as a canonical frame.

    Parameters
    ----------
    name : {"activities", "deals", "roster", "truth", "truth_by_rep"}
        Which sample; :func:`list_samples` lists them.
    **kwargs
        Passed to :func:`pandas.read_csv` (for example ``nrows=1000``).

    Returns
    -------
    pandas.DataFrame
        By ``name``:

        * ``activities``: ``rep``, ``timestamp`` (datetime64), ``activity_type``
          (call/email/meeting/linkedin), ``activity_id``, ``deal_id`` (set on
          follow-up emails), ``account``, ``outcome`` (calls: connected /
          no_answer / voicemail; meetings: held / no_show; others: sent),
          ``duration_min`` (float).
        * ``deals``: ``deal_id``, ``rep``, ``created``, ``closed`` (datetime64,
          NaT when open), ``status`` (won/lost/open), ``amount`` (float),
          ``stage``, ``account``, ``currency``, ``pipeline``.
        * ``roster``: ``rep``, ``team``, ``manager``, ``region``, ``start``,
          ``end`` (datetime64; NaT = still active).
        * ``truth``: index ``activity``; columns ``deals_created``,
          ``pipeline_created``, ``deals_won``, ``won_revenue`` — the true effect
          of one extra activity, as :attr:`salesgoals.simulate.CRMData.truth`.
        * ``truth_by_rep``: ``rep``, ``activity`` and the same four columns.

    Raises
    ------
    ValueError
        If ``name`` is not a shipped sample; the message lists the names.

    Examples
    --------
    >>> deals = load_sample("deals")
    >>> sorted(deals["status"].unique())
    ['lost', 'open', 'won']
    >>> bool(deals.loc[deals["status"] == "open", "closed"].isna().all())
    True
    """
    catalog = list_samples()
    names = catalog["name"].tolist()
    if name not in names:
        raise ValueError(
            f"load_sample: name must be one of {', '.join(map(repr, names))}; got {name!r}. "
            "Larger vendor-format samples are in the repository's data/samples/ folder."
        )
    entry = catalog.loc[catalog["name"] == name].iloc[0]
    kind = str(entry["kind"])
    compression = "gzip" if str(entry["file"]).endswith(".gz") else None
    with _package_file("data", str(entry["file"])).open("rb") as fh:
        frame = pd.read_csv(fh, compression=compression, **kwargs)
    for col, fmt in _DATES.get(kind, {}).items():
        if col in frame.columns:
            frame[col] = pd.to_datetime(frame[col], format=fmt)
    if kind in _COLUMNS:
        frame = frame[[c for c in _COLUMNS[kind] if c in frame.columns]]
    if name == "truth":
        frame = frame.set_index("activity")
    return frame
