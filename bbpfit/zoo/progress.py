"""A one-line progress bar on stderr for long zoo runs (off when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return (f"{h}:" if h else "") + f"{rest // 60:02d}:{rest % 60:02d}"


class ProgressBar:
    """``[#####.....] 12/40 checkpoints, 1 error, 00:12 elapsed, ~00:28 left`` on one line.

    Parameters
    ----------
    total : int
        Number of items.
    enabled : bool or None, default None
        None: only when ``stream`` is a terminal (so logs and CI output stay clean).
    stream : file-like, default sys.stderr
    label : str, default "checkpoints"
    min_interval : float, default 0.2
        Seconds between redraws.
    """

    def __init__(self, total: int, *, enabled: bool | None = None, stream=None,
                 label: str = "checkpoints", min_interval: float = 0.2):
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled and total > 0
        self.total, self.label, self.min_interval = total, label, min_interval
        self.done = self.errors = 0
        self._start = time.perf_counter()
        self._last = -1.0

    def update(self, n: int = 1, *, errors: int = 0) -> None:
        """Count ``n`` more items done, ``errors`` of them failed; redraw if due."""
        self.done += n
        self.errors += errors
        now = time.perf_counter()
        if self.enabled and (now - self._last >= self.min_interval or self.done >= self.total):
            self._last = now
            self.stream.write("\r" + self.render(now - self._start))
            self.stream.flush()

    def render(self, elapsed: float) -> str:
        """The bar's text after ``elapsed`` seconds."""
        width = 24
        filled = int(width * self.done / self.total) if self.total else width
        text = (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self.label}"
                f", {self.errors} error{'s' if self.errors != 1 else ''}, "
                f"{_clock(elapsed)} elapsed")
        if 0 < self.done < self.total:
            text += f", ~{_clock(elapsed * (self.total - self.done) / self.done)} left"
        return text

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
