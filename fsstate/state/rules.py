"""Podman's rules that are pure data transformations: no I/O, no locks.

* :func:`initial_networks` — the live network set a new container starts with
  (``spec/podman-state.md`` §2.8, API.md Decision 8).
* :func:`reset_container_state`, :func:`reset_pod_state`, :func:`reset_volume_state` — what
  ``refresh()`` does to each state document (§2.9, NEWEST column; API.md Decision 7).
* :func:`compare_db_config` — DB-config pinning (§2.10).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from fsstate.errors import InvalidArgumentError, NoSuchNetworkError
from fsstate.model import DBConfig
from fsstate.state import network_options
from fsstate.status import ContainerStatus as S

__all__ = [
    "DEFAULT_NETWORK",
    "compare_db_config",
    "initial_networks",
    "reset_container_state",
    "reset_pod_state",
    "reset_volume_state",
]

#: The runtime's default network, used to seed a live list that has nothing else (§1.2
#: NetworkConnect).
DEFAULT_NETWORK = "podman"

#: Networks document, in setup order: network name → alias list, or None when the network has
#: no alias list (Bolt: no alias sub-bucket for it; it is left out of get_all_network_aliases),
#: or the network's PerNetworkOptions object (:mod:`fsstate.state.network_options`).
Networks = dict[str, list[str] | dict[str, Any] | None]


def initial_networks(cid: str, config: Mapping[str, Any]) -> Networks | None:
    """The networks document for a container being added, or ``None`` for "no live list".

    Sources, first present wins (Decision 8): SEED ``networks`` + ``network_alises`` (alias
    lists); else Podman 6 ``orderedNetworks`` (in its order) or Podman 4/5 ``newNetworks`` (by
    name), each network with its whole PerNetworkOptions object.

    Raises, in order (§1.2 shared insert steps 5–6): :class:`InvalidArgumentError` for an
    empty network name; :class:`NoSuchNetworkError` for an alias key not among the networks.
    """
    if "networks" in config or "network_alises" in config:
        names = [n for n in config.get("networks") or [] if isinstance(n, str)]
        aliases = config.get("network_alises") or {}
        _no_empty(cid, names)
        for net in aliases:
            if net not in names:
                raise NoSuchNetworkError(
                    f"container {cid} has aliases for network {net} that it does not join",
                    id=cid,
                    network=net,
                )
        if config.get("networks") is None:
            return None
        return {n: list(aliases[n]) if n in aliases else None for n in names}
    if isinstance(config.get("newNetworks"), Mapping) or isinstance(
        config.get("orderedNetworks"), list
    ):
        listed = network_options.from_config(config) or []
        _no_empty(cid, [name for name, _ in listed])
        return dict(listed)
    return None


def seed_networks(config: Mapping[str, Any]) -> Networks:
    """The live list NetworkConnect creates when a container has none: ``config.networks``,
    or the default network when that list is empty (§1.2 NetworkConnect)."""
    names = [n for n in config.get("networks") or [] if isinstance(n, str) and n]
    return dict.fromkeys(names or [DEFAULT_NETWORK])


def _no_empty(cid: str, names: list[str]) -> None:
    if any(n == "" for n in names):
        raise InvalidArgumentError(f"container {cid} joins a network with an empty name", id=cid)


# -- refresh (§2.9, NEWEST) -------------------------------------------------------------------

_ZERO_TIME = "0001-01-01T00:00:00Z"
#: ContainerState keys refresh zeroes. All are ``omitempty`` in Go, so zero means "absent".
_CONTAINER_DROPPED = (
    "pid",
    "conmonPid",
    "mountPoint",
    "mounted",
    "newExecSessions",
    "execSessions",
    "bindMounts",
    "restartPolicyMatch",
    "restartCount",
    "checkpointed",
    "restored",
    "checkpointPath",
    "checkpointLog",
    "restoreLog",
    "startupHCPassed",
    "startupHCSuccessCount",
    "startupHCFailureCount",
    "hcUnitName",
    "netns",
    "networkStatus",
)
#: Time keys Go always emits: reset to the zero time when present.
_CONTAINER_ZERO_TIMES = ("checkpointedTime", "restoredTime")

#: A container's status after a reboot (NEWEST ``resetContainerState``).
_AFTER_REBOOT = {
    S.UNKNOWN: S.CONFIGURED,
    S.CONFIGURED: S.CONFIGURED,
    S.CREATED: S.CONFIGURED,
    S.RUNNING: S.EXITED,
    S.STOPPED: S.EXITED,
    S.PAUSED: S.EXITED,
    S.EXITED: S.EXITED,
    S.STOPPING: S.EXITED,
    S.REMOVING: S.REMOVING,
}


def reset_container_state(state: dict[str, Any]) -> dict[str, Any]:
    """The container state after a reboot: anything that ran → exited, configured/created/
    unknown → configured, removing kept; runtime-only fields cleared. Other keys untouched."""
    out = {k: v for k, v in state.items() if k not in _CONTAINER_DROPPED}
    if "state" in out:
        current = out["state"]
        out["state"] = _AFTER_REBOOT[S.of(current)].value
    for key in _CONTAINER_ZERO_TIMES:
        if key in out:
            out[key] = _ZERO_TIME
    return out


def reset_pod_state(state: dict[str, Any]) -> dict[str, Any]:
    """Pods lose their cgroup path (§2.9)."""
    return {**state, "cgroupPath": ""}


def reset_volume_state(state: dict[str, Any]) -> dict[str, Any]:
    """Volumes are unmounted: ``mountCount`` 0, ``mountPoint`` and ``copiedUp`` cleared."""
    out = {k: v for k, v in state.items() if k not in ("mountPoint", "copiedUp")}
    out["mountCount"] = 0
    return out


# -- DB config (§2.10) --------------------------------------------------------------------------

#: Fields compared after path cleaning (Go filepath.Clean; "" cleans to ".").
_CLEANED = ("libpod_root", "libpod_tmp", "storage_root", "storage_tmp")
#: NEWEST also cleans the volume path (sq:333) and resolves the symlinks of all five.
_PATHS = (*_CLEANED, "volume_path")


def normalize_db_config(config: DBConfig, *, clean_volume_path: bool = False) -> dict[str, str]:
    """The runtime's values as they are pinned and compared: the path fields cleaned (the
    volume path too with ``clean_volume_path``, NEWEST sq:333)."""
    cleaned = _PATHS if clean_volume_path else _CLEANED
    out = {}
    for name in DBConfig.field_names():
        value = getattr(config, name)
        if not isinstance(value, str):
            raise InvalidArgumentError(f"DBConfig.{name} must be a string", field=name)
        out[name] = os.path.normpath(value) if name in cleaned else value
    return out


def compare_db_config(
    pinned: Mapping[str, Any],
    runtime: Mapping[str, str],
    *,
    resolve: Callable[[str], str] | None = None,
) -> list[str]:
    """Names of the fields whose pinned value differs from the runtime's (fields not yet
    pinned never differ). Given ``resolve``, each non-empty path field is compared as
    ``resolve`` maps it on both sides (NEWEST sq:412-433 resolves symlinks there)."""

    def seen(name: str, value: Any) -> Any:
        if resolve is not None and name in _PATHS and isinstance(value, str) and value:
            return resolve(value)
        return value

    return [
        name
        for name, value in runtime.items()
        if name in pinned and seen(name, pinned[name]) != seen(name, value)
    ]
