"""A text progress bar for long analyses (written to stderr).

>>> with ProgressBar("uncertainty") as bar:
...     uncertainty.run(model, problem, 1000, seed=0, progress=bar)

It redraws one line at most ten times a second:
``uncertainty [########............] 40%  400/1000 runs  12.3 runs/s  ETA 0:49``,
and only when the stream is a terminal unless ``enabled=True``.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Callable ``progress(done, total)`` drawing a bar on ``stream``.

    Parameters
    ----------
    label : str
        Shown before the bar.
    stream : file, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool, optional
        Force on or off; by default on when ``stream`` is a terminal.
    width : int
        Bar width in characters.
    """

    def __init__(self, label: str, stream: TextIO | None = None, enabled: bool | None = None, width: int = 24) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width
        self.started = time.monotonic()
        self._last = 0.0
        self._drawn = False
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        self.stream.write("\r" + self.line(now) + "\033[K")
        self.stream.flush()
        self._drawn = True

    def line(self, now: float | None = None) -> str:
        """The bar's text for the current state."""
        elapsed = max((now or time.monotonic()) - self.started, 1e-9)
        fraction = min(1.0, self.done / self.total) if self.total else 0.0
        filled = int(round(fraction * self.width))
        rate = self.done / elapsed
        if self.done and self.total > self.done:
            eta = f"ETA {_clock((self.total - self.done) / rate)}"
        else:
            eta = f"{_clock(elapsed)} elapsed"
        return (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}  "
                f"{self.done}/{self.total} runs  {rate:.3g} runs/s  {eta}")

    def close(self) -> None:
        """End the line so that later output starts on a fresh one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
