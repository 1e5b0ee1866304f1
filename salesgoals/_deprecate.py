"""Renamed keywords and attributes keep working for one release, with a :class:`DeprecationWarning`.

The one home of the deprecation shims: :func:`renamed_kwargs` for a keyword
argument, :func:`renamed_attribute` for a result object's attribute.
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed_kwargs", "renamed_attribute", "REMOVED_IN"]

#: The release in which the old names go away.
REMOVED_IN = "0.3"


def renamed_kwargs(**old_to_new: str):
    """Decorate a function whose keyword ``old`` is now called ``new``.

    Calls with the old keyword still work, warn once per call with a
    :class:`DeprecationWarning` naming the new keyword, and fail with a
    ``TypeError`` when both names are given.

    Examples
    --------
    >>> import warnings
    >>> @renamed_kwargs(level="interval")
    ... def f(x, *, interval=0.8):
    ...     return interval
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(1, level=0.9), w[0].category.__name__
    (0.9, 'DeprecationWarning')
    """

    def decorate(func):
        name = func.__qualname__.replace(".__init__", "")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name}: pass {new}= only ({old}= is its old name).")
                    warnings.warn(
                        f"{name}: {old}= is renamed {new}= and will be removed in salesgoals {REMOVED_IN}; "
                        f"pass {new}={kwargs[old]!r}.",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def renamed_attribute(old: str, new: str) -> property:
    """A read-only property ``old`` that returns ``self.<new>`` with a :class:`DeprecationWarning`.

    Examples
    --------
    >>> class R:
    ...     interval = 0.8
    ...     level = renamed_attribute("level", "interval")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):
    ...     warnings.simplefilter("always")
    ...     R().level
    0.8
    """

    def get(self):
        warnings.warn(
            f"{type(self).__name__}.{old} is renamed .{new} and will be removed in salesgoals {REMOVED_IN}.",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(self, new)

    return property(get, doc=f"Deprecated alias of :attr:`{new}`.")
