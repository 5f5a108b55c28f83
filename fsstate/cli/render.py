"""How the command line shows things: Podman's status strings, JSON text, padded tables and
fsck's lines (the listings' own shapes are in :mod:`.ps`, :mod:`.pods`, :mod:`.volumes`). Pure
functions, no I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fsstate import Container, Pod
from fsstate.status import ContainerStatus
from fsstate.status import pod_status as pod_status_of

if TYPE_CHECKING:
    from fsstate.fsck import Finding

__all__ = [
    "container_status",
    "finding_line",
    "infra_id",
    "json_text",
    "pod_status",
    "state_name",
]


def json_text(data: Any) -> str:
    return json.dumps(data, indent=4, ensure_ascii=False)


def container_status(ctr: Container) -> ContainerStatus:
    return ContainerStatus.of(ctr.state.get("state", ContainerStatus.UNKNOWN))


def state_name(ctr: Container) -> str:
    """The container's status as Podman's ``ps`` spells it (``ContainerStatus.String()``)."""
    return container_status(ctr).text


def pod_status(members: Sequence[Container]) -> str:
    """Podman's pod status from its containers' statuses (:func:`fsstate.status.pod_status`)."""
    return pod_status_of(container_status(c) for c in members).value


def infra_id(pod: Pod) -> str:
    infra = pod.state.get("InfraContainerID") or pod.state.get("infraContainerID") or ""
    return infra if isinstance(infra, str) else ""


def finding_line(f: Finding) -> str:
    """One fsck finding as ``fsck`` prints it, with what was done or that it needs you."""
    done = f" [repaired: {f.action}]" if f.action else ""
    todo = "" if f.repairable or f.action else " [needs you]"
    return f"{f.code}: {f.message}{done}{todo}"
