"""Container exit codes: part of :class:`~fsstate.state.FileState`.

:class:`ExitCodeMethods` holds NEWEST AddContainerExitCode, GetContainerExitCode,
GetContainerExitCodeTimeStamp and PruneContainerExitCodes (``sqlite_state.go`` 967-1077;
``spec/podman-state-newest.md`` §1 #23-25, §3.1), the same in both semantics (API.md). An exit
code is one document ``exit-codes/<id>`` (``{"id", "exitCode", "timestamp"}``, Unix seconds)
that outlives its container for ``podman wait`` and ``run --rm``; ``refresh()`` drops them all.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fsstate.errors import EmptyIDError, InvalidArgumentError, NoSuchExitCodeError
from fsstate.state.base import StateBase
from fsstate.state.catalog import Catalog
from fsstate.store import layout as L

__all__ = ["PRUNE_AGE", "ExitCodeMethods"]

#: Exit codes of removed containers are kept this many seconds (NEWEST sq:1058).
PRUNE_AGE = 300.0


class ExitCodeMethods(StateBase):
    """Exit codes that outlive their containers (NEWEST)."""

    def add_container_exit_code(
        self, id: str, exit_code: int, *, timestamp: datetime | None = None
    ) -> None:
        """Record ``exit_code`` for container ``id`` now, replacing an older one (NEWEST
        sq:967-997: ``INSERT OR REPLACE``). The container need not exist. ``timestamp`` (an
        extension, for imports) records it as of that time instead, to the whole second.
        Errors, in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError` (``id`` cannot be stored, ``exit_code`` is not an
        integer in −1…255 (the table's CHECK), or ``timestamp`` has no time zone)."""
        if id == "":
            raise EmptyIDError("container ID is empty")
        self._check_open()
        L.check_name(id, "container ID")
        if not isinstance(exit_code, int) or isinstance(exit_code, bool):
            raise InvalidArgumentError(f"exit code of container {id} must be an integer", id=id)
        if not -1 <= exit_code <= 255:
            raise InvalidArgumentError(
                f"exit code {exit_code} of container {id} is not in -1…255", id=id
            )
        if timestamp is None:
            when = int(time.time())
        elif timestamp.tzinfo is None:
            raise InvalidArgumentError(f"exit code of container {id}: timestamp has no time zone")
        else:
            when = int(timestamp.timestamp())
        self._run(lambda cat: cat.put_exit_code(id, exit_code, when))

    def get_container_exit_code(self, id: str) -> int:
        """The exit code recorded for container ``id`` (NEWEST sq:1000-1019). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`
        (``"bolt"``: not a storable ID), :class:`NoSuchExitCodeError`,
        :class:`CorruptDocumentError`."""
        exit_code: int = self._exit_code_doc(id)["exitCode"]
        return exit_code

    def get_container_exit_code_timestamp(self, id: str) -> datetime:
        """When the exit code of container ``id`` was recorded, UTC, whole seconds (NEWEST
        sq:1023-1045). Errors as :meth:`get_container_exit_code`."""
        return datetime.fromtimestamp(self._exit_code_doc(id)["timestamp"], UTC)

    def _exit_code_doc(self, id: str) -> dict[str, int]:
        self._arg(id, "container ID")

        def get(cat: Catalog) -> dict[str, int]:
            doc = cat.exit_code(id)
            if doc is None:
                raise NoSuchExitCodeError(f"no exit code for container {id}", id=id)
            return {"exitCode": doc["exitCode"], "timestamp": doc["timestamp"]}

        return self._run(get)

    def all_exit_codes(self) -> dict[str, tuple[int, datetime]]:
        """Every recorded exit code, container ID → ``(exit code, timestamp)``, sorted by ID
        (an extension: what an export writes to ``ContainerExitCode``). An exit code that
        cannot be read is skipped with a warning. Errors: :class:`StateClosedError`."""

        def load(cat: Catalog, cid: str) -> tuple[str, tuple[int, datetime]] | None:
            doc = cat.exit_code(cid)
            if doc is None:
                return None
            return cid, (doc["exitCode"], datetime.fromtimestamp(doc["timestamp"], UTC))

        return dict(self._load_all("all_exit_codes", lambda cat: cat.exit_code_ids(), load))

    def prune_container_exit_codes(self, older_than: float = PRUNE_AGE) -> None:
        """Drop the exit codes recorded ``older_than`` seconds ago or earlier (Podman: 5
        minutes) whose container no longer exists (NEWEST sq:1049-1077). Only the exit codes of
        removed containers are read (an index of them), so the cost does not grow with the
        number of containers. Errors: :class:`StateClosedError`."""
        self._check_open()
        cutoff = int(time.time() - older_than)
        self._run(lambda cat: cat.prune_exit_codes(cutoff))
