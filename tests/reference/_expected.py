"""The warnings the reference studies expect, named by category and message (no blanket filters).

The studies fit hundreds of models on purpose-built data; the library's reliability notes on them
(``fit_drivers: ...``, ``forecast: ...``, ``backtest_forecast: ...``: an
:class:`~salesgoals.errors.UnreliableEstimateWarning` whose text starts with the function's name) are
expected and are kept in each result's notes or verdict columns.  Anything else (another category, another
source, a pandas or numpy warning) still shows.
"""

from __future__ import annotations

import re
import warnings
from contextlib import contextmanager

from salesgoals.errors import DataQualityWarning, UnreliableEstimateWarning

__all__ = ["expected_warnings"]


@contextmanager
def expected_warnings(*sources: str, category: type[Warning] = UnreliableEstimateWarning):
    """Ignore ``category`` warnings whose message starts with ``<source>: `` for one of ``sources``."""
    assert category in (UnreliableEstimateWarning, DataQualityWarning), category
    with warnings.catch_warnings():
        for source in sources:
            warnings.filterwarnings("ignore", message=re.escape(source) + ": ", category=category)
        yield
