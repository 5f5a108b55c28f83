"""fsstate: Podman's libpod State kept as plain, crash-safe JSON files.

Public names: :class:`FileState` (the store), the model objects :class:`Container`, :class:`Pod`,
:class:`Volume`, :class:`ExecSession`, :class:`DBConfig`, the module :mod:`fsstate.errors`, and
the store's upkeep: :func:`check` and :func:`repair` (fsck), :func:`snapshot` (a consistent copy).
See ``docs/layout.md`` for the files on disk.

:func:`check` and :func:`repair` (``fsstate.fsck``) and :func:`snapshot` are imported on first
use, and the store loads ``filelock`` with its first lock and ``jsonschema`` with its first
invalid write: a program that only reads and writes the state does not pay for the checker,
JSON Schema or copying at start-up (``import fsstate`` stays cheap for a command-line call;
``tests/test_import.py``, benchmarks/README.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fsstate import errors
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.state import FileState

if TYPE_CHECKING:
    from fsstate.fsck import check
    from fsstate.fsck.repair import repair
    from fsstate.store.snapshot import snapshot

#: The release, as in CHANGELOG.md. pyproject.toml takes the package version from here
#: (``[tool.setuptools.dynamic]``, read from the source without importing it).
__version__ = "0.1.0"

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


def __getattr__(name: str) -> Any:
    # PEP 562: the fsck entry points and snapshot load with their modules on first access.
    if name == "snapshot":
        from fsstate.store.snapshot import snapshot

        return snapshot
    if name == "check":
        from fsstate.fsck import check

        return check
    if name == "repair":
        from fsstate.fsck.repair import repair

        return repair
    raise AttributeError(f"module 'fsstate' has no attribute {name!r}")
