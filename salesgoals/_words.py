"""Words for people: activity names, numbers as a person writes them (shared by goals, report and CLI)."""

from __future__ import annotations

import numpy as np

__all__ = ["activity_label", "fmt_number"]

_LABELS = {
    "call": ("call", "calls"), "email": ("email", "emails"), "meeting": ("meeting", "meetings"),
    "linkedin": ("LinkedIn message", "LinkedIn messages"), "call_connected": ("connected call", "connected calls"),
    "meeting_held": ("held meeting", "held meetings"), "demo": ("demo", "demos"),
    "proposal": ("proposal", "proposals"), "task": ("task", "tasks"), "sms": ("text message", "text messages"),
}  # fmt: skip


def activity_label(activity: str, plural: bool = True) -> str:
    """An activity in words: ``activity_label("meeting_held")`` -> ``'held meetings'``.

    Examples
    --------
    >>> activity_label("call_connected"), activity_label("demo", plural=False)
    ('connected calls', 'demo')
    """
    one, many = _LABELS.get(activity, (activity.replace("_", " "), activity.replace("_", " ") + "s"))
    return many if plural else one


def fmt_number(x: float, *, money: bool = False) -> str:
    """A number as a person writes it: ``4.3``, ``12``, ``2,400`` (no ``2.0``, no NaN).

    Examples
    --------
    >>> fmt_number(4.27), fmt_number(2.0), fmt_number(2412.6, money=True), fmt_number(float("nan"))
    ('4.3', '2', '2,413', '0')
    """
    if not np.isfinite(x):
        x = 0.0
    if money or abs(x) >= 100:
        return f"{x:,.0f}"
    r = round(float(x), 1)
    return f"{r:,.0f}" if r == int(r) else f"{r:,.1f}"
