"""Podman 4.3's ``inspect`` documents of a container, a pod and a volume, from what the state
holds (libpod ``container_inspect.go`` ``getContainerInspectData``, ``pod_api.go``
``Inspect``, ``volume_inspect.go``).

A key is printed only when its value follows from the stored documents; a key whose value
Podman takes from elsewhere (the image store, the storage driver's mounts, netavark's results,
the running container's OCI spec) is left out, never guessed. docs/cli.md lists what is left
out and why. In particular, a container that has been started (its state names a runtime
``configPath``) is inspected by Podman through the runtime's copy of its OCI spec, which the
state does not hold: the spec-derived keys (``EffectiveCaps``, ``BoundingCaps``,
``AppArmorProfile``, ``State.OciVersion`` and ``Config``'s ``Hostname``, ``Env``, ``Tty``,
``WorkingDir``, ``Annotations``) are printed only for containers never started.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fsstate import Container, Pod, Volume
from fsstate.cli import render
from fsstate.cli.volumes import volume_doc

__all__ = ["container_inspect", "pod_inspect", "volume_inspect"]

#: libpod ``define.HealthCheckOnFailureAction`` names.
_ON_FAILURE = {0: "none", 1: "kill", 2: "restart", 3: "stop"}


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _go_time(value: Any) -> str:
    return value if isinstance(value, str) and value else "0001-01-01T00:00:00Z"


#: A container by ID, ``None`` when it cannot be had.
Lookup = Callable[[str], Container | None]


def container_inspect(ctr: Container, graph_driver: str, lookup: Lookup) -> dict[str, Any]:
    """``podman inspect`` of ``ctr`` (its state loaded): Podman's keys in Podman's order, less
    those the state cannot know (module docstring). ``graph_driver``: the store's pinned
    ``graph_driver`` (``Driver``; left out when ``""``); ``lookup`` finds the container whose
    UTS namespace ``ctr`` joined (``Config.Hostname``)."""
    cfg, st = ctr.config, ctr.state
    spec = cfg.get("spec") if isinstance(cfg.get("spec"), dict) else {}
    own_spec = not st.get("configPath")  # never started: the stored spec is what Podman reads
    args = _get(spec, "process", "args")
    args = [str(a) for a in args] if isinstance(args, list) else []
    binds: dict[str, Any] = st["bindMounts"] if isinstance(st.get("bindMounts"), dict) else {}
    doc: dict[str, Any] = {
        "Id": ctr.id,
        "Created": _go_time(cfg.get("createdTime")),
        "Path": args[0] if args else "",
        "Args": args[1:] if len(args) > 1 else args,
        "State": _state(ctr, spec if own_spec else None),
        "Image": _str(cfg.get("rootfsImageID")),
        "ImageName": _str(cfg.get("rootfsImageName")),
        "Rootfs": _str(cfg.get("rootfs")),
        "Pod": ctr.pod_id,
        "ResolvConfPath": _str(binds.get("/etc/resolv.conf")),
        "HostnamePath": _str(binds.get("/etc/hostname")),
        "HostsPath": _str(binds.get("/etc/hosts")),
        "StaticDir": _str(cfg.get("staticDir")),
    }
    if _str(st.get("configPath")):  # omitempty
        doc["OCIConfigPath"] = st["configPath"]
    doc |= {
        "OCIRuntime": _str(cfg.get("runtime")),
        "ConmonPidFile": _str(cfg.get("conmonPidFile")),
        "PidFile": _str(cfg.get("pid_file")),
        "Name": ctr.name,
        "RestartCount": _int(st.get("restartCount")),
    }
    if graph_driver:
        doc["Driver"] = graph_driver
    doc["MountLabel"] = _str(cfg.get("MountLabel"))
    doc["ProcessLabel"] = _str(cfg.get("ProcessLabel"))
    if own_spec:
        caps = _get(spec, "process", "capabilities") or {}
        doc["AppArmorProfile"] = _str(_get(spec, "process", "apparmorProfile"))
        doc["EffectiveCaps"] = caps.get("effective") if isinstance(caps, dict) else None
        doc["BoundingCaps"] = caps.get("bounding") if isinstance(caps, dict) else None
    sessions = st.get("newExecSessions")
    doc["ExecIDs"] = sorted(sessions) if isinstance(sessions, dict) else []
    doc["Dependencies"] = _dependencies(ctr)
    doc["Namespace"] = ctr.namespace
    doc["IsInfra"] = bool(cfg.get("pause", False))
    doc["IsService"] = bool(cfg.get("isService", False))
    doc["Config"] = _config(ctr, spec if own_spec else None, _hostname(ctr, lookup))
    return doc


def _state(ctr: Container, spec: dict[str, Any] | None) -> dict[str, Any]:
    st = ctr.state
    status = render.container_status(ctr)
    out: dict[str, Any] = {}
    if spec is not None:
        out["OciVersion"] = _str(spec.get("ociVersion"))
    out.update(
        {
            "Status": render.state_name(ctr),
            "Running": status.name == "RUNNING",
            "Paused": status.name == "PAUSED",
            "Restarting": False,
            "OOMKilled": bool(st.get("oomKilled", False)),
            "Dead": False,
            "Pid": _int(st.get("pid")),
        }
    )
    if _int(st.get("conmonPid")):
        out["ConmonPid"] = _int(st.get("conmonPid"))
    out.update(
        {
            "ExitCode": _int(st.get("exitCode")),
            "Error": _str(st.get("error")),
            "StartedAt": _go_time(st.get("startedTime")),
            "FinishedAt": _go_time(st.get("finishedTime")),
            "CheckpointedAt": _go_time(st.get("checkpointedTime")),
            "RestoredAt": _go_time(st.get("restoredTime")),
        }
    )
    return out


def _dependencies(ctr: Container) -> list[str]:
    """libpod ``Container.Dependencies()``: the namespace containers and the generic
    dependencies (:meth:`Container.dependencies`, plus Podman's own ``dependencyCtrs`` key),
    each once (Podman's order is a Go map's: here sorted)."""
    deps = set(ctr.dependencies())
    generic = ctr.config.get("dependencyCtrs")
    if isinstance(generic, list):
        deps.update(str(d) for d in generic if d)
    return sorted(deps)


def _hostname(ctr: Container, lookup: Lookup, depth: int = 0) -> str | None:
    """libpod ``Container.Hostname()``: that of the container whose UTS namespace ``ctr``
    joined, else the stored spec's, else the short ID; ``None`` when the UTS owner cannot be
    read (the key is then left out)."""
    owner = ctr.config.get("utsNsCtr")
    if isinstance(owner, str) and owner:
        other = lookup(owner) if depth < 8 else None
        return None if other is None else _hostname(other, lookup, depth + 1)
    return _str(_get(ctr.config, "spec", "hostname")) or ctr.id[:12]


def _config(ctr: Container, spec: dict[str, Any] | None, hostname: str | None) -> dict[str, Any]:
    cfg = ctr.config
    out: dict[str, Any] = {}
    if hostname is not None:
        out["Hostname"] = hostname
    out["User"] = _str(cfg.get("user"))
    if spec is not None:
        out["Tty"] = bool(_get(spec, "process", "terminal"))
        out["Env"] = _get(spec, "process", "env")
    command = cfg.get("command")
    out["Cmd"] = command if isinstance(command, list) and command else None
    out["Image"] = _str(cfg.get("rootfsImageName"))
    if spec is not None:
        out["WorkingDir"] = _str(_get(spec, "process", "cwd"))
    entrypoint = cfg.get("entrypoint")
    out["Entrypoint"] = " ".join(entrypoint) if isinstance(entrypoint, list) else ""
    labels = cfg.get("labels")
    out["Labels"] = labels if isinstance(labels, dict) and labels else None
    if spec is not None:
        out["Annotations"] = spec.get("annotations")
    out["StopSignal"] = _int(cfg.get("stopSignal"))
    if isinstance(cfg.get("healthcheck"), dict):
        out["Healthcheck"] = cfg["healthcheck"]
    out["HealthcheckOnFailureAction"] = _ON_FAILURE.get(
        _int(cfg.get("healthcheck_on_failure_action")), "invalid"
    )
    out["CreateCommand"] = cfg.get("CreateCommand")
    out["Umask"] = _str(cfg.get("umask"))
    out["Timeout"] = _int(cfg.get("timeout"))
    out["StopTimeout"] = _int(cfg.get("stopTimeout"))
    if isinstance(cfg.get("passwd"), bool):
        out["Passwd"] = cfg["passwd"]
    out["sdNotifyMode"] = _str(cfg.get("sdnotifyMode"))
    return out


#: pod config flag → the namespace ``SharedNamespaces`` names.
_SHARES = {
    "sharesCgroupNS": "cgroup",
    "sharesIpc": "ipc",
    "sharesMnt": "mnt",
    "sharesNet": "net",
    "sharesPid": "pid",
    "sharesUser": "user",
    "sharesUts": "uts",
}


def pod_inspect(pod: Pod, members: Sequence[Container]) -> dict[str, Any]:
    """``podman pod inspect`` of ``pod`` (its state loaded; ``members`` with theirs, by ID):
    Podman's keys in Podman's order (``Namespace``, ``ExitPolicy``, ``Labels``,
    ``CgroupPath``, ``InfraContainerID``, ``SharedNamespaces`` only when set, as Go's
    ``omitempty``), less ``InfraConfig`` (rebuilt by Podman from the infra container's spec
    and network options)."""
    cfg, st = pod.config, pod.state
    doc: dict[str, Any] = {"Id": pod.id, "Name": pod.name}
    if pod.namespace:
        doc["Namespace"] = pod.namespace
    doc["Created"] = _go_time(cfg.get("created"))
    doc["CreateCommand"] = cfg.get("CreateCommand")
    if cfg.get("ExitPolicy"):
        doc["ExitPolicy"] = cfg["ExitPolicy"]
    doc["State"] = render.pod_status(members)
    doc["Hostname"] = _str(cfg.get("hostname"))
    labels = cfg.get("labels")
    if isinstance(labels, dict) and labels:
        doc["Labels"] = labels
    doc["CreateCgroup"] = bool(cfg.get("sharesCgroup", False))
    doc["CgroupParent"] = _str(cfg.get("cgroupParent"))
    if _str(st.get("cgroupPath")):
        doc["CgroupPath"] = st["cgroupPath"]
    doc["CreateInfra"] = bool(cfg.get("hasInfra", False))
    if render.infra_id(pod):
        doc["InfraContainerID"] = render.infra_id(pod)
    # Podman's order is a Go map's: here sorted
    shared = sorted(name for key, name in _SHARES.items() if cfg.get(key) is True)
    if shared:
        doc["SharedNamespaces"] = shared
    doc["NumContainers"] = len(members)
    doc["Containers"] = [
        {"Id": c.id, "Name": c.name, "State": render.state_name(c)} for c in members
    ]
    return doc


def volume_inspect(vol: Volume) -> dict[str, Any]:
    """``podman volume inspect`` of ``vol``: the document ``volume ls --format json`` prints."""
    return volume_doc(vol)
