"""Progress of a long command on stderr, and the ``--progress`` / ``--quiet`` habits.

A command that takes time (``import-podman``, ``export-podman``, ``fsck [--repair]``,
``snapshot``, ``refresh``) hands :meth:`Progress.report` to the library as its ``progress``
callback: ``(what, done, total)``, ``total`` 0 when it is not known ahead. What is shown:

* stderr is a terminal: a bar (``tqdm``) per ``what``, cleared when it ends;
* stderr is not a terminal and ``--progress`` was given: a line ``fsstate: <what>: <done>/<total>``
  (``<done>`` alone when the total is unknown) at most once a second (:data:`INTERVAL`), and
  always the last one of each ``what``, so a log gets a count without thousands of lines;
* ``--quiet``: nothing, and no notice either (:attr:`Progress.quiet`: warnings on stderr such
  as "not refreshed since boot" are left out); errors are still printed.

Everything goes to stderr; stdout keeps only the command's result.
"""

from __future__ import annotations

import os
import time
from typing import IO, TYPE_CHECKING, Never

if TYPE_CHECKING:  # imported when a bar is drawn: tqdm costs every command ~0.1 s to import
    from tqdm import tqdm

__all__ = ["INTERVAL", "Progress"]

#: Seconds between two count lines when stderr is not a terminal.
INTERVAL = 1.0


class Progress:
    """The progress display of one command (module docstring); call :meth:`close` at the end."""

    def __init__(self, err: IO[str], *, quiet: bool = False, lines: bool = False) -> None:
        self.err = err
        self.quiet = quiet
        self.bar_mode = not quiet and err.isatty()
        self.line_mode = not quiet and not self.bar_mode and lines
        self._bar: tqdm[Never] | None = None
        self._what = ""
        self._last = 0.0  # time.monotonic() of the last count line
        self._pending = ""  # the newest count line not printed yet

    @property
    def shown(self) -> bool:
        """Whether anything is shown at all."""
        return self.bar_mode or self.line_mode

    def report(self, what: str, done: int, total: int) -> None:
        """The ``progress`` callback: ``done`` of ``total`` ``what`` (``total`` 0: unknown)."""
        if self.bar_mode:
            self._show_bar(what, done, total)
        elif self.line_mode:
            self._show_line(what, done, total)

    def notice(self, text: str) -> None:
        """A warning or notice line on stderr (``fsstate: <text>``), unless ``--quiet``."""
        if not self.quiet:
            self._end_bar()
            print(f"fsstate: {text}", file=self.err, flush=True)

    def close(self) -> None:
        """End what is shown: the bar cleared, the last count line printed."""
        self._end_bar()
        self._flush_line()

    # -- a bar on a terminal -------------------------------------------------------------------

    def _show_bar(self, what: str, done: int, total: int) -> None:
        bar = self._bar
        if bar is None or what != self._what:
            self._end_bar()
            self._what = what
            from tqdm import tqdm

            cols, rows = self._size()
            bar = self._bar = tqdm(
                total=total or None, desc=what, file=self.err, leave=False, ncols=cols, nrows=rows
            )
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def _size(self) -> tuple[int, int]:
        """The terminal's columns and rows; 80 × 24 where it reports 0 (a pty nobody sized:
        tqdm would draw nothing there)."""
        try:
            size = os.get_terminal_size(self.err.fileno())
        except (OSError, ValueError):
            return 80, 24
        return size.columns or 80, size.lines or 24

    def _end_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -- count lines in a log ------------------------------------------------------------------

    def _show_line(self, what: str, done: int, total: int) -> None:
        if what != self._what:
            self._flush_line()
            self._what, self._last = what, 0.0
        line = f"fsstate: {what}: {done}/{total}" if total else f"fsstate: {what}: {done}"
        now = time.monotonic()
        if now - self._last >= INTERVAL or (total and done >= total):
            print(line, file=self.err, flush=True)
            self._last, self._pending = now, ""
        else:
            self._pending = line

    def _flush_line(self) -> None:
        if self._pending:
            print(self._pending, file=self.err, flush=True)
            self._pending = ""
