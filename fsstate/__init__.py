"""fsstate: Podman's libpod State kept as plain, crash-safe JSON files.

Public names: :class:`FileState` (the store), the model objects :class:`Container`, :class:`Pod`,
:class:`Volume`, :class:`ExecSession`, :class:`DBConfig`, the module :mod:`fsstate.errors`, and
the store's upkeep: :func:`check` and :func:`repair` (fsck), :func:`snapshot` (a consistent copy).
See ``docs/layout.md`` for the files on disk.
"""

from fsstate import errors
from fsstate.fsck import check
from fsstate.fsck.repair import repair
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.state import FileState
from fsstate.store.snapshot import snapshot

__all__ = [
    "Container",
    "DBConfig",
    "ExecSession",
    "FileState",
    "Pod",
    "Volume",
    "check",
    "errors",
    "repair",
    "snapshot",
]
