"""fsstate: Podman's libpod State kept as plain, crash-safe JSON files.

Public names: :class:`FileState` (the store), the model objects :class:`Container`, :class:`Pod`,
:class:`Volume`, :class:`ExecSession`, :class:`DBConfig`, and the module :mod:`fsstate.errors`.
See ``docs/layout.md`` for the files on disk.
"""

from fsstate import errors
from fsstate.fsck import check
from fsstate.fsck.repair import repair
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.state import FileState

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
]
