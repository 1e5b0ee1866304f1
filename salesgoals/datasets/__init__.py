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

from salesgoals import io

__all__ = ["load_sample", "list_samples"]

#: Loader of each canonical kind: the package samples go through the same code
#: path as a user's export, so they come back with the same dtypes and with the
#: data-quality report in ``attrs["quality"]``.
_LOADERS = {"activities": "load_activities", "deals": "load_deals", "roster": "load_roster"}


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
        Passed to :func:`pandas.read_csv` (for example ``nrows=1000``).  The
        canonical samples are then read by :func:`salesgoals.load_activities`,
        :func:`~salesgoals.load_deals` or :func:`~salesgoals.load_roster`.

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
          ``stage``, ``account``, ``currency``, ``pipeline``, ``date_issue``
          (missing: simulated dates are sane).
        * ``roster``: ``rep``, ``team``, ``manager``, ``region``, ``start``,
          ``end`` (datetime64; NaT = still active).
        * ``truth``: index ``activity``; columns ``deals_created``,
          ``pipeline_created``, ``deals_won``, ``won_revenue`` — the true effect
          of one extra activity, as :attr:`salesgoals.simulate.CRMData.truth`.
        * ``truth_by_rep``: ``rep``, ``activity`` and the same four columns.

        Activities, deals and roster carry the loader's data-quality report in
        ``attrs["quality"]``.

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
    options = {"compression": compression, **kwargs}
    if kind in _LOADERS:  # text in, so the loader parses dates exactly as it does for any export
        options = {"dtype": str, "keep_default_na": False, **options}
    with _package_file("data", str(entry["file"])).open("rb") as fh:
        frame = pd.read_csv(fh, **options)
    if kind in _LOADERS:
        loader = getattr(io, _LOADERS[kind])
        return loader(frame) if kind == "roster" else loader(frame, crm="generic")
    if name == "truth":
        frame = frame.set_index("activity")
    return frame
