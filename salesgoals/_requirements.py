"""Supported pandas: refuse an old one, make pandas 2.3 treat text exactly as pandas 3 does.

pandas 3 reads text into the ``str`` dtype, where a missing value stays missing.  On pandas 2.x,
``astype("str")`` turns a missing value into the text ``'None'``: an activity log without ids then
looks like one repeated id (rows excluded as duplicates) and a blank roster team becomes the team
``'None'``.  pandas 2.3 has the pandas 3 ``str`` dtype behind the option ``future.infer_string``; the
loaders run with it switched on (:func:`pandas3_text`, only for the duration of the call, so the
caller's session is untouched), and their frames carry the same ``str`` columns as on pandas 3.
pandas 2.2 lacks the ``str`` alias, so the floor is 2.3 (pyproject.toml, ci/constraints-min.txt,
README Requirements); :func:`check_pandas` catches environments installed without that metadata.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

import pandas as pd

__all__ = ["MIN_PANDAS", "check_pandas", "pandas3_text"]

#: Lowest supported pandas (major, minor); keep in step with pyproject.toml and ci/constraints-min.txt.
MIN_PANDAS = (2, 3)

F = TypeVar("F", bound=Callable)


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = (int("".join(c for c in part if c.isdigit()) or 0) for part in version.split(".")[:2])
    return major, minor


def check_pandas(version: str = pd.__version__) -> None:
    """Raise ImportError when ``version`` is below :data:`MIN_PANDAS`.

    Examples
    --------
    >>> check_pandas("3.0.0")
    >>> check_pandas("2.2.3")
    Traceback (most recent call last):
    ImportError: salesgoals needs pandas >= 2.3, found 2.2.3...
    """
    if _major_minor(version) < MIN_PANDAS:
        raise ImportError(
            f"salesgoals needs pandas >= {MIN_PANDAS[0]}.{MIN_PANDAS[1]}, found {version}: older pandas turns "
            "missing text into the string 'None', which drops rows of activity logs without ids and names "
            "blank roster teams 'None'. Upgrade with: pip install 'pandas>=2.3'."
        )


def pandas3_text(func: F) -> F:
    """Run ``func`` with pandas 3 text semantics (``str`` dtype, missing stays missing) on pandas 2.3.

    On pandas 3 ``func`` is returned unchanged.
    """
    if _major_minor(pd.__version__) >= (3, 0):
        return func

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with pd.option_context("future.infer_string", True):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


check_pandas()
