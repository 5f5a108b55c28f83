"""The errors fsstate raises on purpose: one tree rooted at :class:`StateError`.

Each class mirrors a Podman ``define.Err*`` sentinel (``spec/podman-state.md`` §0.1) and names
it in the class attribute ``podman``. Not-found errors are also :class:`LookupError`, invalid
arguments also :class:`ValueError`, lock time-outs also :class:`TimeoutError`, so callers that
know only the builtins still catch the right thing.

Every error carries the object it is about in keyword fields (``id``, ``name``, ``path`` …),
keeps them through ``pickle`` (errors cross process boundaries in runtimes), and names them in
its message. This module imports nothing from fsstate.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ContainerExistsError",
    "ContainerRemovedError",
    "CorruptDocumentError",
    "DBConfigMismatchError",
    "DependencyExistsError",
    "EmptyIDError",
    "ExecSessionExistsError",
    "ExistsError",
    "InternalError",
    "InvalidArgumentError",
    "LockNotHeldError",
    "LockTimeoutError",
    "NamespaceMismatchError",
    "NetworkConnectedError",
    "NetworkExistsError",
    "NoAliasesError",
    "NoSuchContainerError",
    "NoSuchExecSessionError",
    "NoSuchExitCodeError",
    "NoSuchNetworkError",
    "NoSuchPodError",
    "NoSuchStoreError",
    "NoSuchVolumeError",
    "NotFoundError",
    "OutputExistsError",
    "PermissionDeniedError",
    "PodExistsError",
    "PodRemovedError",
    "RemovedError",
    "StateClosedError",
    "StateError",
    "VolumeBeingUsedError",
    "VolumeExistsError",
    "VolumeRemovedError",
]


class StateError(Exception):
    """Base of every error the store raises on purpose.

    ``StateError(message, **fields)``: the fields (``id=…``, ``name=…``, ``path=…``) become
    attributes; one of :attr:`FIELDS` not given reads as ``None``, and any other attribute
    that is not there raises :class:`AttributeError` naming it (a misspelt ``exc.pth`` is a
    bug, not ``None``).
    """

    #: The fields an error of the store may carry: ``id`` and ``name`` of the object, ``path``
    #: of the file, ``what`` it is, ``where`` in a document, ``pointer`` (JSON pointer),
    #: ``network``, ``field`` (of the DB config), ``mismatched`` (DB config field names),
    #: ``problems`` (every schema problem).
    FIELDS: ClassVar[frozenset[str]] = frozenset(
        ("id", "name", "path", "what", "where", "pointer", "network", "field", "mismatched",
         "problems")
    )  # fmt: skip
    podman: ClassVar[str | None] = None
    #: Podman's text for the sentinel, appended to messages as Podman does ("…: no such pod").
    text: ClassVar[str] = ""

    def __init__(self, message: str = "", **fields: Any) -> None:
        self.message = message
        self.fields = fields
        super().__init__(self._render())

    def __getattr__(self, item: str) -> Any:
        # Only reached for attributes not set normally (and for "fields" while unpickling).
        if item != "fields" and (item in self.fields or item in self.FIELDS):
            return self.fields.get(item)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {item!r}", name=item, obj=self
        )

    def _render(self) -> str:
        if self.message and self.text:
            return f"{self.message}: {self.text}"
        return self.message or self.text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fields))


def _rebuild(cls: type[StateError], message: str, fields: dict[str, Any]) -> StateError:
    return cls(message, **fields)


class NotFoundError(StateError, LookupError):
    """An object the call names does not exist (or is hidden by the namespace)."""


class NoSuchContainerError(NotFoundError):
    podman = "ErrNoSuchCtr"
    text = "no such container"


class NoSuchPodError(NotFoundError):
    podman = "ErrNoSuchPod"
    text = "no such pod"


class NoSuchStoreError(NotFoundError):
    """No fsstate store where one was to be opened without creating it (``create=False``).
    ``.path`` names the store directory. No Podman sentinel: Podman always creates."""

    text = "no fsstate store"


class NoSuchVolumeError(NotFoundError):
    podman = "ErrNoSuchVolume"
    text = "no such volume"


class NoSuchNetworkError(NotFoundError):
    podman = "ErrNoSuchNetwork"
    text = "network not found"


class NoSuchExecSessionError(NotFoundError):
    podman = "ErrNoSuchExecSession"
    text = "no such exec session"


class NoAliasesError(NotFoundError):
    podman = "ErrNoAliases"
    text = "no aliases for container"


class NoSuchExitCodeError(NotFoundError):
    podman = "ErrNoSuchExitCode"
    text = "no such exit code"


class ExistsError(StateError):
    """A name or ID is taken, or an object still has something attached."""


class ContainerExistsError(ExistsError):
    podman = "ErrCtrExists"
    text = "container already exists"


class PodExistsError(ExistsError):
    podman = "ErrPodExists"
    text = "pod already exists"


class VolumeExistsError(ExistsError):
    podman = "ErrVolumeExists"
    text = "volume already exists"


class ExecSessionExistsError(ExistsError):
    podman = "ErrExecSessionExists"
    text = "exec session already exists"


class NetworkExistsError(ExistsError):
    podman = "ErrNetworkExists"
    text = "network already exists"


class NetworkConnectedError(NetworkExistsError):
    podman = "ErrNetworkConnected"
    text = "network is already connected"


class DependencyExistsError(ContainerExistsError):
    podman = "ErrDepExists"
    text = "dependency exists"


class VolumeBeingUsedError(StateError):
    podman = "ErrVolumeBeingUsed"
    text = "volume is being used"


class InvalidArgumentError(StateError, ValueError):
    podman: ClassVar[str | None] = "ErrInvalidArg"
    text = "invalid argument"


class EmptyIDError(InvalidArgumentError):
    podman = "ErrEmptyID"
    text = "name or ID cannot be empty"


class OutputExistsError(ExistsError, InvalidArgumentError):
    """A file an export would create exists and may not be replaced (no ``overwrite``, no
    ``--force``). ``.path`` names it. An :class:`InvalidArgumentError` too, as it was before
    it had a class of its own; the command line says "exists" (exit 4). No Podman sentinel."""

    podman: ClassVar[str | None] = None
    text = "file exists"


class RemovedError(StateError):
    """The object passed in was marked invalid (``valid == False``) earlier."""


class ContainerRemovedError(RemovedError):
    podman = "ErrCtrRemoved"
    text = "container has already been removed"


class PodRemovedError(RemovedError):
    podman = "ErrPodRemoved"
    text = "pod has already been removed"


class VolumeRemovedError(RemovedError):
    podman = "ErrVolumeRemoved"
    text = "volume has already been removed"


class StateClosedError(StateError):
    podman = "ErrDBClosed"
    text = "database connection already closed"


class DBConfigMismatchError(StateError):
    podman = "ErrDBBadConfig"
    text = "database configuration mismatch"


class NamespaceMismatchError(StateError):
    podman = "ErrNSMismatch"
    text = "target is in a different namespace"


class InternalError(StateError):
    podman: ClassVar[str | None] = "ErrInternal"
    text = "internal libpod error"


class CorruptDocumentError(InternalError):
    """A stored file cannot be read, is not JSON, or fails its schema. ``.path`` names it."""

    podman: ClassVar[str | None] = None
    text = "corrupt document"


class PermissionDeniedError(StateError):
    """This user may not open a file of the store as it must be opened (``EACCES``, ``EPERM``,
    or ``EROFS`` outside a read-only mount, on ``open``): the file is not damaged, the user
    lacks the right. ``.path`` names the file. No Podman sentinel. Not an :class:`OSError`:
    code that skips an unreadable file on ``OSError`` must not take it for one."""

    text = "permission denied"


class LockTimeoutError(StateError, TimeoutError):
    """The store lock was not acquired within the timeout. ``.path`` names the lock file."""

    text = "timed out waiting for the store lock"


class LockNotHeldError(StateError):
    """A change was refused because the store lock does not guard it: the lock file was
    deleted or replaced while held, this process was forked while holding it, or this thread
    holds it through another FileState on the same store. Nothing was written. ``.path``
    names the lock file."""

    text = "the store lock does not guard this change"
