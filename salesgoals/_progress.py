"""Progress bars for the steps of a long run: one tqdm bar per step, silent when asked or off a terminal.

:func:`step` wraps a step with no natural count (fitting the drivers) in a bar
that shows its elapsed time; :func:`bar` counts items (blocks of reps,
origins).  Both are silent when :func:`set_progress` turned progress off (the
CLI's ``--quiet``) or when stderr is not a terminal (scripts, CI, notebooks
writing to files), so library calls stay quiet by default.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["set_progress", "progress_enabled", "bar", "step", "StepLog"]

_STATE: dict[str, Any] = {"enabled": None}


def set_progress(enabled: bool | None) -> None:
    """Turn progress bars on (True), off (False), or back to "only on a terminal" (None)."""
    _STATE["enabled"] = enabled


def progress_enabled() -> bool:
    """Whether bars are shown now: the :func:`set_progress` setting, else stderr is a terminal."""
    if _STATE["enabled"] is not None:
        return bool(_STATE["enabled"])
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass


def bar(total: int | None, desc: str, unit: str = "it") -> Any:
    """A tqdm bar counting ``total`` items, or a silent stand-in."""
    if not progress_enabled():
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=True, file=sys.stderr)


@contextmanager
def step(desc: str) -> Iterator[None]:
    """Show ``desc`` with its elapsed time while the block runs (ticks every half second)."""
    if not progress_enabled():
        yield
        return
    from tqdm.auto import tqdm

    b = tqdm(total=1, desc=desc, bar_format="{desc}: {elapsed}", file=sys.stderr, leave=True)
    done = threading.Event()

    def tick() -> None:
        while not done.wait(0.5):
            b.refresh()

    t = threading.Thread(target=tick, daemon=True)
    t.start()
    try:
        yield
    finally:
        done.set()
        t.join()
        b.update(1)
        b.close()


class StepLog:
    """Wall time and peak memory of a run, for the CLI's one-line ``--verbose`` summary."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.counts: dict[str, int] = {}

    def note(self, **counts: int) -> None:
        """Record counts such as ``rows=...``, ``reps=...``, ``weeks=...``."""
        self.counts.update({k: int(v) for k, v in counts.items()})

    def line(self) -> str:
        """``rows read 1,234 | reps 40 | weeks 104 | 3.2 s | peak memory 0.41 GB``."""
        parts = [f"{k.replace('_', ' ')} {v:,}" for k, v in self.counts.items()]
        parts.append(f"{time.perf_counter() - self.start:.1f} s")
        parts.append(f"peak memory {peak_memory_gb():.2f} GB")
        return " | ".join(parts)


def peak_memory_gb() -> float:
    """Peak resident memory of this process so far, in GB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**30 if sys.platform == "darwin" else 2**20)
