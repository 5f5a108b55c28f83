"""Podman's per-network options of a container, as pure data: no I/O, no locks.

A container's place on one network is Podman's ``PerNetworkOptions`` (c/common
``libnetwork/types/network.go``): ``static_ips`` (list of IP strings), ``aliases`` (list of
names), ``static_mac`` (a MAC string), ``interface_name`` (string) and ``options`` (string →
string). Podman keeps the list of them in the ContainerConfig: ``orderedNetworks``
(``[{"name": …, <options>}, …]`` in setup order, Podman 6, ``5e94c95ad0``) or, before that,
``newNetworks`` (name → options; NEWEST ``convertLegacyNetworks``, sqi:676-690, orders it by
name).

* :func:`check_options` — a caller's options, checked and copied in Go's field order.
* :func:`from_config` — NEWEST ``GetNetworks``'s list from a config (sq:907-934).
* :func:`with_list` — the config with its list replaced, as NEWEST ``networkModify`` writes it
  (sqi:604-638: ``newNetworks`` converted away, ``orderedNetworks`` set).
* :func:`options_of` / :func:`aliases_of` — one entry of the Bolt-era live document (an alias
  list, ``null`` or an options object) read as options / as the 2020 alias list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsstate.errors import InvalidArgumentError

__all__ = [
    "OPTION_KEYS",
    "Named",
    "aliases_of",
    "check_options",
    "from_config",
    "options_of",
    "with_list",
]

#: PerNetworkOptions JSON keys in Go's field order (so a stored object reads as Podman's).
OPTION_KEYS = ("static_ips", "aliases", "static_mac", "interface_name", "options")
#: One network of a container: ``(name, PerNetworkOptions)``.
Named = tuple[str, dict[str, Any]]


def check_options(network: str, options: object) -> dict[str, Any]:
    """``options`` checked as a PerNetworkOptions mapping and copied in :data:`OPTION_KEYS`
    order (absent keys stay absent). :class:`InvalidArgumentError` naming ``network`` and every
    problem: not a mapping, an unknown key (``name`` included: the network is given apart),
    ``static_ips``/``aliases`` not a list of strings, ``static_mac``/``interface_name`` not a
    string, ``options`` not a mapping of strings to strings."""
    if not isinstance(options, Mapping):
        raise InvalidArgumentError(f"options for network {network} must be a mapping")
    problems = [f"unknown key {k!r}" for k in options if k not in OPTION_KEYS]
    for key in ("static_ips", "aliases"):
        value = options.get(key, [])
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings")
    for key in ("static_mac", "interface_name"):
        if not isinstance(options.get(key, ""), str):
            problems.append(f"{key} must be a string")
    opts = options.get("options", {})
    if not isinstance(opts, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in opts.items()
    ):
        problems.append("options must map strings to strings")
    if problems:
        raise InvalidArgumentError(
            f"options for network {network}: {'; '.join(problems)}", network=network
        )
    out: dict[str, Any] = {}
    for key in OPTION_KEYS:
        if key not in options:
            continue
        value = options[key]
        if key == "options":
            value = dict(value)
        elif key in ("static_ips", "aliases"):
            value = list(value)
        out[key] = value
    return out


def from_config(config: Mapping[str, Any]) -> list[Named] | None:
    """The container's networks as NEWEST ``GetNetworks`` reads them from its config
    (sq:929-933): ``orderedNetworks`` in its order; else ``newNetworks`` by name; ``None`` when
    the config has neither (Podman returns an empty list then)."""
    ordered = config.get("orderedNetworks")
    if isinstance(ordered, list):
        return [
            (str(e.get("name", "")), {k: v for k, v in e.items() if k != "name"})
            for e in ordered
            if isinstance(e, Mapping)
        ]
    legacy = config.get("newNetworks")
    if isinstance(legacy, Mapping):
        return [(k, dict(v) if isinstance(v, Mapping) else {}) for k, v in sorted(legacy.items())]
    return None


def with_list(config: Mapping[str, Any], networks: list[Named]) -> dict[str, Any]:
    """``config`` with ``orderedNetworks`` set to ``networks`` and ``newNetworks`` dropped
    (NEWEST sqi:604-608, 621-634). ``orderedNetworks`` takes the place of ``newNetworks`` when
    that was there, else it goes last; every other key keeps its place."""
    ordered = [{"name": name, **opts} for name, opts in networks]
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key == "newNetworks":
            if "orderedNetworks" not in config:
                out["orderedNetworks"] = ordered
            continue
        out[key] = ordered if key == "orderedNetworks" else value
    out.setdefault("orderedNetworks", ordered)
    return out


def options_of(entry: object) -> dict[str, Any]:
    """One entry of the Bolt-era live document as PerNetworkOptions: an options object as it
    is, an alias list as ``{"aliases": …}`` (``{}`` when empty), ``null`` as ``{}``."""
    if isinstance(entry, dict):
        return dict(entry)
    if isinstance(entry, list) and entry:
        return {"aliases": list(entry)}
    return {}


def aliases_of(entry: object) -> list[str] | None:
    """One entry of the Bolt-era live document as the 2020 alias list: the list itself, an
    options object's ``aliases`` (``None`` when it has none), ``None`` for ``null``."""
    if isinstance(entry, list):
        return list(entry)
    if isinstance(entry, dict) and isinstance(entry.get("aliases"), list):
        return list(entry["aliases"])
    return None
