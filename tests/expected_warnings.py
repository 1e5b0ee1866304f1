"""The library warnings tests expect but do not test, named by category AND message.

A test that runs the library on small simulated data meets reliability notes it is not about (fit_drivers on 8
reps says the effects rest on few people; forecast on a young company says its ranges are wide).  It silences
exactly those, with :func:`ignoring` and the patterns below, so that any other warning (a new note, a loader
repairing rows nobody expected, a dependency's deprecation) still shows in the run's warnings summary, and a
FutureWarning still fails it (pyproject's ``filterwarnings``).  ``tests/test_warning_filters.py`` fails any
ignore filter in tests/ that does not name both.  Where a warning IS what a test expects, the test uses
``pytest.warns(..., match=...)`` instead.

Patterns are matched from the start of the message, case-insensitively (``warnings.filterwarnings``).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

# fit_drivers' notes on what the data cannot support (DriverResult.diagnostics.warnings), one pattern per kind
FEW_REPS = r"fit_drivers: \d+ reps: effects rest on few people"
ONE_REP_DOMINATES = r"fit_drivers: one rep \(.+\) logs \d+% of all \w+ activity"
AMBIGUOUS = r"fit_drivers: \w+ is AMBIGUOUS, not a driver"
LEADS_CHECK = r"fit_drivers: Leads check: "
PLACEBO_CHECK = r"fit_drivers: Placebo check: "
LAGS_UNSETTLED = r"fit_drivers: The data cannot settle how long effects last"
LAGS_FEW_REPS = r"fit_drivers: Too few reps \(\d+\) to choose the lag length"
NO_DRIVER = r"fit_drivers: No activity passes the driver test"
CONSTANT_ACTIVITY = r"fit_drivers: activity '.+' does not vary within reps and periods"
#: every kind above: for tests that fit drivers on simulated data and test something else
DRIVER_NOTES = (FEW_REPS, ONE_REP_DOMINATES, AMBIGUOUS, LEADS_CHECK, PLACEBO_CHECK, LAGS_UNSETTLED, LAGS_FEW_REPS,
                NO_DRIVER, CONSTANT_ACTIVITY)  # fmt: skip

# forecast's and backtest_forecast's notes on ranges the history cannot justify (flags few_errors, capped, ...)
FEW_ERRORS = r"(backtest_)?forecast: fewer than \d+ past forecast errors calibrate"
CAPPED = r"(backtest_)?forecast: \d+ upper bound\(s\) were capped at"
WIDE_RANGES = r"(backtest_)?forecast: \d+ range\(s\) are wider than"
SPARSE_HISTORY = r"(backtest_)?forecast: \d+ group\(s\) have fewer than \d+ won deals"
#: every kind above
RANGE_NOTES = (FEW_ERRORS, CAPPED, WIDE_RANGES, SPARSE_HISTORY)

# the loaders' and build_panel's counts of rows left out of a messy export (salesgoals.simulate.exports)
PANEL_EXCLUDES = r"build_panel: \d+ activities without (rep|date|type)"
WON_WITHOUT_CLOSE = r"load_deals: excluded \d+ of \d+ rows \(\d+ closed without close date\)"

# track's refusal to call anyone at risk when as_of is outside what the data or the goals cover
TRACK_AS_OF = r"track: as_of \S+ is (outside the goals' horizon|before the data starts|\d+ working days after)"


def any_of(*patterns: str) -> str:
    """One regex matching any of ``patterns`` (each anchored at the message's start by ``warnings``)."""
    return "|".join(f"(?:{p})" for p in patterns)


@contextlib.contextmanager
def ignoring(category: type[Warning], *patterns: str) -> Iterator[None]:
    """Ignore warnings of ``category`` whose message matches one of ``patterns``; everything else shows.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     with ignoring(UserWarning, r"fit_drivers: 8 reps"):
    ...         warnings.warn("fit_drivers: 8 reps: effects rest on few people", UserWarning)
    ...         warnings.warn("load_deals: excluded 1 of 2 rows", UserWarning)
    >>> [str(w.message) for w in seen]
    ['load_deals: excluded 1 of 2 rows']
    """
    if not patterns:
        raise TypeError("ignoring() needs at least one message pattern: name the warnings you expect")
    if re.match(any_of(*patterns), "a warning nobody expected", re.IGNORECASE):
        raise ValueError(f"ignoring{patterns}: a pattern matches any message (a blanket); name the expected text")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=any_of(*patterns), category=category)
        yield
