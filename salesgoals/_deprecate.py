"""Renamed keywords and attributes keep working for one release, with a :class:`DeprecationWarning`.

The one home of the deprecation shims: :func:`renamed_kwargs` for a keyword
argument (:func:`rename_kwargs` inside a function that passes ``**kwargs`` on),
:func:`renamed_attribute` for a result object's attribute.
"""

from __future__ import annotations

import functools
import warnings

__all__ = ["renamed_kwargs", "rename_kwargs", "renamed_attribute", "REMOVED_IN"]

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
            return func(*args, **rename_kwargs(name, kwargs, stacklevel=3, **old_to_new))

        return wrapper

    return decorate


def rename_kwargs(name: str, kwargs: dict, *, stacklevel: int = 3, **old_to_new: str) -> dict:
    """Rename the old keywords in ``kwargs`` in place (and return it), warning as :func:`renamed_kwargs` does.

    For a function that passes ``**kwargs`` on (``fit_drivers`` to ``DriverModel``): called in its body it
    names that function and points the warning at its caller, without the extra frame a decorator would put
    between the caller and the warnings the function itself raises with a fixed ``stacklevel``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     rename_kwargs("f", {"level": 0.9}, level="interval"), str(w[0].message)[:31]
    ({'interval': 0.9}, 'f: level= is renamed interval= ')
    """
    for old, new in old_to_new.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{name}: pass {new}= only ({old}= is its old name).")
            warnings.warn(
                f"{name}: {old}= is renamed {new}= and will be removed in salesgoals {REMOVED_IN}; "
                f"pass {new}={kwargs[old]!r}.",
                DeprecationWarning,
                stacklevel=stacklevel,
            )
            kwargs[new] = kwargs.pop(old)
    return kwargs


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
