"""How the command line shows things: Podman's status strings, the JSON fields of Podman's
``pod ps`` / ``volume ls``, and padded tables (``ps`` is :mod:`.ps`). Pure functions, no
I/O."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fsstate import Container, Pod, Volume
from fsstate.status import ContainerStatus
from fsstate.status import pod_status as pod_status_of

if TYPE_CHECKING:
    from fsstate.fsck import Finding

__all__ = [
    "POD_HEADER",
    "VOLUME_HEADER",
    "finding_line",
    "json_text",
    "pod_json",
    "pod_row",
    "table",
    "volume_json",
    "volume_row",
]


def json_text(data: Any) -> str:
    return json.dumps(data, indent=4, ensure_ascii=False)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterator[str]:
    """Columns padded to their widest cell, two spaces apart, like Podman's tables."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        yield "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()


def short(ident: str) -> str:
    return ident[:12]


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


def pod_json(pod: Pod, members: Sequence[Container]) -> dict[str, Any]:
    """A pod as Podman's ``pod ps --format json`` names its fields (a subset)."""
    return {
        "Id": pod.id,
        "Name": pod.name,
        "Status": pod_status(members),
        "Created": pod.config.get("created", ""),
        "InfraId": infra_id(pod),
        "Labels": pod.config.get("labels") or {},
        "Cgroup": pod.config.get("cgroupParent", ""),
        "Containers": [{"Id": c.id, "Names": c.name, "Status": state_name(c)} for c in members],
    }


def pod_row(pod: Pod, members: Sequence[Container]) -> tuple[str, ...]:
    """One row of ``pod ls``'s table, in the order of :data:`POD_HEADER`."""
    return (
        short(pod.id),
        pod.name,
        pod_status(members),
        short(infra_id(pod)),
        str(len(members)),
    )


POD_HEADER = ("POD ID", "NAME", "STATUS", "INFRA ID", "# OF CONTAINERS")


def volume_json(vol: Volume) -> dict[str, Any]:
    """A volume as Podman's ``volume ls --format json`` names its fields (a subset)."""
    return {
        "Name": vol.name,
        "Driver": vol.config.get("volumeDriver", ""),
        "Mountpoint": vol.config.get("mountPoint", ""),
        "CreatedAt": vol.config.get("createdAt", ""),
        "Labels": vol.config.get("labels") or {},
        "Scope": "local",
        "Options": vol.config.get("volumeOptions") or {},
        "Anonymous": bool(vol.config.get("isAnon", False)),
        "MountCount": vol.state.get("mountCount", 0),
    }


def volume_row(vol: Volume) -> tuple[str, ...]:
    """One row of ``volume ls``'s table, in the order of :data:`VOLUME_HEADER`."""
    return (str(vol.config.get("volumeDriver", "")), vol.name)


VOLUME_HEADER = ("DRIVER", "VOLUME NAME")


def finding_line(f: Finding) -> str:
    """One fsck finding as ``fsck`` prints it, with what was done or that it needs you."""
    done = f" [repaired: {f.action}]" if f.action else ""
    todo = "" if f.repairable or f.action else " [needs you]"
    return f"{f.code}: {f.message}{done}{todo}"
