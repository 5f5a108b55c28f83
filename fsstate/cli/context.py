"""What a command runs with: the store, opened on first use, and the output streams."""

from __future__ import annotations

import os
from typing import IO, Any

from fsstate import FileState, podman
from fsstate.cli import render
from fsstate.cli.progress import Progress

__all__ = ["Context"]


class Context:
    """What a command needs: the store (opened on first use), its paths, and the streams."""

    def __init__(
        self, root: str, tmp: str, out: IO[str], err: IO[str], display: Progress | None = None
    ) -> None:
        self.root, self.tmp, self.out, self.err = root, tmp, out, err
        #: Progress, notices and ``--quiet`` on stderr (:mod:`.progress`).
        self.display = display or Progress(err)
        self._state: FileState | None = None

    def state(self, *, refreshing: bool = False, create: bool = False) -> FileState:
        """The store, opened on first use; unless ``refreshing``, a warning on stderr when it
        has not been refreshed in this boot. Only creating commands pass ``create``: any other
        finds no store as :class:`~fsstate.errors.NoSuchStoreError` and makes nothing."""
        if self._state is None:
            self._state = FileState(self.root, self.tmp, create=create)
            if not refreshing and self._state.needs_refresh():
                self.display.notice(
                    "warning: the store has not been refreshed since boot; "
                    "container states predate it (run `fsstate refresh`)"
                )
        return self._state

    @staticmethod
    def cpus() -> int:
        """The CPUs this process may run on: how many processes a listing of every container
        may share its reading with (``all_containers(processes=…)``; ``taskset`` narrows it)."""
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1

    def close(self) -> None:
        if self._state is not None:
            state, self._state = self._state, None
            state.close()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, data: Any) -> None:
        self.print(render.json_text(data))

    def progress(self) -> podman.ProgressFn | None:
        """The ``progress`` callback for a long command, ``None`` when nothing is shown."""
        return self.display.report if self.display.shown else None

    def notice(self, text: str) -> None:
        """A warning or "skipped" line on stderr (``fsstate: <text>``), unless ``--quiet``."""
        self.display.notice(text)

    def end_progress(self) -> None:
        """End what progress shows, so an error message starts on its own line."""
        self.display.close()
