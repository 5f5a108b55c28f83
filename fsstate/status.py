"""Container and pod statuses, as Podman numbers and spells them. Pure data: no I/O.

* :class:`ContainerStatus` — libpod ``define.ContainerStatus`` (``define/containerstate.go``;
  ``spec/podman-db-format.md`` §3, Enums): the integer stored in ContainerState ``state``, and
  :attr:`ContainerStatus.text`, Podman's ``String()`` of it as ``ps`` shows it.
* :class:`PodStatus` — libpod ``define.PodState*`` (``define/podstate.go``): a pod's status is
  not stored; :func:`pod_status` derives it from its containers' statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum
from typing import Any

__all__ = ["ContainerStatus", "PodStatus", "pod_status"]


class ContainerStatus(IntEnum):
    """Podman's container status, the integer of ContainerState ``state``."""

    UNKNOWN = 0
    CONFIGURED = 1
    CREATED = 2
    RUNNING = 3
    STOPPED = 4
    PAUSED = 5
    EXITED = 6
    REMOVING = 7
    STOPPING = 8

    @classmethod
    def of(cls, value: Any) -> ContainerStatus:
        """The status a stored ``state`` value means: :attr:`UNKNOWN` for anything that is not
        one of Podman's integers (a document may hold anything)."""
        try:
            return cls(value) if isinstance(value, int) else cls.UNKNOWN
        except ValueError:
            return cls.UNKNOWN

    @property
    def text(self) -> str:
        """Podman's ``ContainerStatus.String()``: its "configured" is Docker's "created", its
        own "created" shows as "initialized"."""
        return _TEXT.get(self, self.name.lower())


_TEXT = {ContainerStatus.CONFIGURED: "created", ContainerStatus.CREATED: "initialized"}


class PodStatus(StrEnum):
    """Podman's pod status strings (``define.PodStateCreated`` …)."""

    CREATED = "Created"
    ERROR = "Error"
    EXITED = "Exited"
    PAUSED = "Paused"
    RUNNING = "Running"
    DEGRADED = "Degraded"
    STOPPED = "Stopped"


#: The statuses ``createPodStatusResults`` does not count as errored (besides those that
#: decide earlier: running, exited, stopped).
_NOT_ERRORED = (ContainerStatus.CONFIGURED, ContainerStatus.CREATED, ContainerStatus.PAUSED)


def pod_status(members: Iterable[ContainerStatus]) -> PodStatus:
    """A pod's status from its containers' statuses (libpod ``pod_status.go``
    ``createPodStatusResults``): no container → created; some running → running when all
    are, else degraded; all paused → paused; all exited or stopped → exited; some → stopped;
    any other than configured/created/paused → error; else created."""
    statuses = list(members)
    if not statuses:
        return PodStatus.CREATED
    running = statuses.count(ContainerStatus.RUNNING)
    if running:
        return PodStatus.RUNNING if running == len(statuses) else PodStatus.DEGRADED
    if statuses.count(ContainerStatus.PAUSED) == len(statuses):
        return PodStatus.PAUSED
    stopped = sum(s in (ContainerStatus.EXITED, ContainerStatus.STOPPED) for s in statuses)
    if stopped == len(statuses):
        return PodStatus.EXITED
    if stopped:
        return PodStatus.STOPPED
    if any(s not in _NOT_ERRORED for s in statuses):
        return PodStatus.ERROR
    return PodStatus.CREATED
