"""The command line's exit codes, and the one table that maps an error to its code.

:data:`CODES` is the one list of the codes and what each means; ``fsstate --help`` (its
epilog, :func:`help_table`) and the README's "Exit codes" table (:func:`markdown_table`) are
generated from it, and ``tests/test_exit_codes.py`` checks both, and that every error class of
:mod:`fsstate.errors` maps to one of these codes. :func:`exit_code` maps an error: a
:class:`~fsstate.errors.StateError` by :data:`_EXIT_CODES`, an :class:`OSError` by its kind
(:data:`_OS_EXIT_CODES`: an existing file is "exists", EACCES, EPERM and EROFS are "permission
denied"; a tmp dir other users could change is a usage error, as a bad ``--tmp`` is), anything
else is 1.
"""

from __future__ import annotations

import errno

from fsstate import errors
from fsstate.store.fsio import UnsafeDirError

__all__ = [
    "CODES",
    "EXIT_ERROR",
    "EXIT_EXISTS",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_NO_PERMISSION",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "exit_code",
    "help_table",
    "markdown_table",
]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_INVALID = 0, 1, 2, 3, 4, 5
#: sysexits.h ``EX_NOPERM``: the user may not open or change a file of the store.
EXIT_NO_PERMISSION = 77
#: A listing printed what it could read and named on stderr what it could not (issue 8).
EXIT_PARTIAL = 6
EXIT_INTERRUPTED = 130

#: Every exit code and what it means, in order: the one table.
CODES: tuple[tuple[int, str], ...] = (
    (EXIT_OK, "success"),
    (EXIT_ERROR, "other error (lock time-out, I/O error, internal error); fsck found something"),
    (EXIT_USAGE, "usage error (bad arguments, no --root, an unsafe or missing tmp dir)"),
    (EXIT_NOT_FOUND, "not found (no store, container, pod, volume, exec session, network)"),
    (EXIT_EXISTS, "exists or in use (name, ID or file taken, dependency, already removed)"),
    (EXIT_INVALID, "invalid or corrupt input (argument, document, database; config mismatch)"),
    (EXIT_PARTIAL, "partial listing: every readable object shown, each unreadable file named"),
    (EXIT_NO_PERMISSION, "permission denied (this user may not open or change a file)"),
    (EXIT_INTERRUPTED, "interrupted"),
)

# Most specific first: DependencyExistsError is a ContainerExistsError, CorruptDocumentError an
# InternalError, so the order of this table matters. Every class of fsstate.errors is covered
# by a row of its own or of an ancestor (tests/test_exit_codes.py).
_EXIT_CODES: tuple[tuple[type[errors.StateError], int], ...] = (
    (errors.NotFoundError, EXIT_NOT_FOUND),
    (errors.ExistsError, EXIT_EXISTS),
    (errors.VolumeBeingUsedError, EXIT_EXISTS),
    (errors.RemovedError, EXIT_EXISTS),
    (errors.InvalidArgumentError, EXIT_INVALID),
    (errors.CorruptDocumentError, EXIT_INVALID),
    (errors.DBConfigMismatchError, EXIT_INVALID),
    (errors.NamespaceMismatchError, EXIT_INVALID),
    (errors.PermissionDeniedError, EXIT_NO_PERMISSION),
    (errors.InternalError, EXIT_ERROR),
    (errors.LockTimeoutError, EXIT_ERROR),
    (errors.LockNotHeldError, EXIT_ERROR),
    (errors.StateClosedError, EXIT_ERROR),
    (errors.StateError, EXIT_ERROR),
)

#: OSError kinds with a code of their own (by errno); any other OSError is 1.
_OS_EXIT_CODES: dict[int, int] = {
    errno.EEXIST: EXIT_EXISTS,
    errno.EACCES: EXIT_NO_PERMISSION,
    errno.EPERM: EXIT_NO_PERMISSION,
    errno.EROFS: EXIT_NO_PERMISSION,
}


def exit_code(exc: BaseException) -> int:
    """The documented exit code for ``exc`` (:data:`CODES`)."""
    if isinstance(exc, errors.StateError):
        return next(code for cls, code in _EXIT_CODES if isinstance(exc, cls))
    if isinstance(exc, UnsafeDirError):  # a tmp dir others can change: pick another (--tmp)
        return EXIT_USAGE
    if isinstance(exc, OSError) and exc.errno is not None:
        return _OS_EXIT_CODES.get(exc.errno, EXIT_ERROR)
    return EXIT_ERROR


def help_table() -> str:
    """The codes as ``fsstate --help`` ends: one line each."""
    return "exit codes:\n" + "\n".join(f"  {code:>3}  {text}" for code, text in CODES)


def markdown_table() -> str:
    """The codes as the README's "Exit codes" table."""
    rows = [f"| {code} | {text} |" for code, text in CODES]
    return "\n".join(["| code | meaning |", "|---:|---|", *rows])
