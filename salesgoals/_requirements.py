"""Refuse to import on a pandas the package does not support (imported first by ``salesgoals/__init__``).

On pandas 2.x, ``astype("str")`` turns a missing value into the text ``'None'`` (pandas 3 keeps it
missing), so an activity log without ids looks like one repeated id (rows silently excluded as
duplicates) and a blank roster team becomes the team ``'None'``; groupbys over categoricals also
default to ``observed=False`` there.  The code is written for pandas 3, so the floor is 3.0: declared
in pyproject.toml, tested on its lowest versions by CI (ci/constraints-min.txt) and checked here for
environments that installed salesgoals without its dependency metadata (``--no-deps``, conda).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["MIN_PANDAS", "check_pandas"]

#: Lowest supported pandas (major, minor); keep in step with pyproject.toml and ci/constraints-min.txt.
MIN_PANDAS = (3, 0)


def check_pandas(version: str = pd.__version__) -> None:
    """Raise ImportError when ``version`` is below :data:`MIN_PANDAS`.

    Examples
    --------
    >>> check_pandas("3.0.0")
    >>> check_pandas("2.3.3")
    Traceback (most recent call last):
    ImportError: salesgoals needs pandas >= 3.0, found 2.3.3...
    """
    major, minor = (int("".join(c for c in part if c.isdigit()) or 0) for part in version.split(".")[:2])
    if (major, minor) < MIN_PANDAS:
        raise ImportError(
            f"salesgoals needs pandas >= {MIN_PANDAS[0]}.{MIN_PANDAS[1]}, found {version}: on pandas 2.x missing "
            "text becomes the string 'None', which drops rows of activity logs without ids and names blank "
            "roster teams 'None'. Upgrade with: pip install 'pandas>=3'."
        )


check_pandas()
