"""The command line's exit codes, and the one table that maps an error class to its code.

====  =====================================================================================
0     success
1     any other error (internal error, lock time-out, I/O error); ``fsck`` found something
2     usage error (bad arguments, no ``--root``)
3     not found (container, pod, volume, exec session, network)
4     exists or in use (name or ID taken, dependency, exec sessions, volume in use, removed)
5     invalid or corrupt input (invalid argument, corrupt document or database, DB config
      mismatch, namespace mismatch)
130   interrupted
====  =====================================================================================
"""

from __future__ import annotations

from fsstate import errors

__all__ = [
    "EXIT_ERROR",
    "EXIT_EXISTS",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_USAGE",
    "exit_code",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_INVALID = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130

#: The codes, as ``--help`` lists them.
SUMMARY = (
    "exit codes: 0 ok, 1 other error, 2 usage, 3 not found, "
    "4 exists or in use, 5 invalid or corrupt, 130 interrupted"
)

# Most specific first: DependencyExistsError is a ContainerExistsError, CorruptDocumentError an
# InternalError, so the order of this table matters.
_EXIT_CODES: tuple[tuple[type[errors.StateError], int], ...] = (
    (errors.NotFoundError, EXIT_NOT_FOUND),
    (errors.ExistsError, EXIT_EXISTS),
    (errors.VolumeBeingUsedError, EXIT_EXISTS),
    (errors.RemovedError, EXIT_EXISTS),
    (errors.InvalidArgumentError, EXIT_INVALID),
    (errors.CorruptDocumentError, EXIT_INVALID),
    (errors.DBConfigMismatchError, EXIT_INVALID),
    (errors.NamespaceMismatchError, EXIT_INVALID),
)


def exit_code(exc: errors.StateError) -> int:
    """The documented exit code for ``exc`` (the module docstring's table)."""
    return next((code for cls, code in _EXIT_CODES if isinstance(exc, cls)), EXIT_ERROR)
