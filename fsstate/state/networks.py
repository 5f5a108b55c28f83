"""A container's networks, their aliases and options: part of :class:`~fsstate.state.FileState`.

:class:`NetworkMethods` holds §1.2 GetNetworks, GetNetworkAliases, GetAllNetworkAliases,
NetworkConnect and NetworkDisconnect, and NEWEST's per-network options (GetNetworks' newest
shape as :meth:`~NetworkMethods.get_network_options`, NetworkConnect with options,
NetworkModify; ``spec/podman-state-newest.md`` #18-21).

Where the live list lives depends on the store's semantics (:mod:`fsstate.state.semantics`):

* ``"bolt"``: a side document per container (§2.8; Decision 9), network → alias list, ``null``
  or PerNetworkOptions object, in setup order; the 2020 getters sort. The list a new container
  starts with (Decision 8) is built by :mod:`fsstate.state.rules`.
* ``"sqlite"``: the config's own ordered list, as NEWEST keeps it (sq:907-934, sqi:580-641):
  ``orderedNetworks``, or ``newNetworks`` read in name order; connect, modify and disconnect
  rewrite the stored config (``newNetworks`` becomes ``orderedNetworks``) and ``ctr.config``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fsstate.errors import (
    InvalidArgumentError,
    NetworkConnectedError,
    NetworkExistsError,
    NoAliasesError,
    NoSuchNetworkError,
)
from fsstate.model import Container
from fsstate.state import network_options as N
from fsstate.state import rules
from fsstate.state.base import StateBase
from fsstate.state.catalog import Catalog
from fsstate.state.semantics import Semantics
from fsstate.store import codec
from fsstate.store import layout as L

__all__ = ["NetworkMethods", "network_names", "no_networks"]

#: Live list: network → Bolt-era document entry (alias list, None or options object).
_Doc = dict[str, Any]


def no_networks(rules: Semantics, config: Mapping[str, Any]) -> bool:
    """Under ``"sqlite"``: a container with ``config`` is not in ``bridge`` network mode, so
    it has no networks (NEWEST sq:916-919, ``NetMode.IsBridge``)."""
    return rules.networks_in_config and config.get("networkMode") != "bridge"


def network_names(cat: Catalog, cid: str, config: Mapping[str, Any]) -> list[str] | None:
    """The names of the networks stored container ``cid`` joined, as GetNetworks gives them
    (§1.2; NEWEST sq:907-934), its existence and namespace already checked; ``config`` is its
    stored config. Under ``"bolt"`` its side document's networks sorted, ``None`` when it has
    none; under ``"sqlite"`` the config's list in setup order, ``[]`` without one (see
    :func:`no_networks` first). :class:`CorruptDocumentError` for a damaged side document.
    Shared by :meth:`NetworkMethods.get_networks` and the listing's one pass
    (``all_containers(networks=…)``)."""
    if cat.rules.networks_in_config:
        listed = N.from_config(config)
        return [] if listed is None else list(dict(listed))
    doc = cat.doc(L.container_doc(cid, "networks"), "networks")
    return None if doc is None else sorted(doc)


class NetworkMethods(StateBase):
    """Container network membership, aliases and per-network options (§1.2, §2.8, NEWEST)."""

    def _live_list(self, cat: Catalog, ctr: Container) -> _Doc | None:
        """The container's live list as network → document entry, in setup order; ``None``
        when it has none. Under ``"sqlite"`` built from the stored config (entries are
        options objects). Raises as :meth:`_require_container`."""
        self._require_container(cat, ctr)
        if self._rules.networks_in_config:
            listed = N.from_config(cat.container_config(ctr.id) or {})
            return None if listed is None else dict(listed)
        return cat.doc(L.container_doc(ctr.id, "networks"), "networks")

    def _store_list(self, cat: Catalog, ctr: Container, networks: _Doc) -> None:
        """Write the live list back: the side document, or (``"sqlite"``) the config with
        ``orderedNetworks``, also set on ``ctr.config`` once committed (NEWEST sqi:634-638)."""
        if not self._rules.networks_in_config:
            cat.put_doc(L.container_doc(ctr.id, "networks"), networks, "networks")
            return
        listed = [(name, N.options_of(entry)) for name, entry in networks.items()]
        new = N.with_list(cat.container_config(ctr.id) or {}, listed)
        cat.put_doc(L.container_doc(ctr.id, "config"), new, f"container {ctr.id} config")

        def adopt() -> None:
            ctr.config = codec.decode_object(codec.encode(new), "config")

        cat.txn.on_commit.append(adopt)

    def _no_networks(self, ctr: Container) -> bool:
        return no_networks(self._rules, ctr.config)

    def _missing_list(self, ctr: Container) -> NoSuchNetworkError:
        return NoSuchNetworkError(f"container {ctr.id} has no network list", id=ctr.id)

    def get_networks(self, ctr: Container) -> list[str]:
        """Names of the networks ``ctr`` has joined (§1.2 GetNetworks): sorted under
        ``"bolt"``, in setup order under ``"sqlite"``. Errors, in order:
        :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NoSuchNetworkError` (``"bolt"``: the container has no live network list).
        Under ``"sqlite"`` a container whose ``networkMode`` is not ``bridge`` has none:
        ``[]``, before any existence check (NEWEST sq:916-919); so has one without a list."""
        self._live(ctr)
        if self._no_networks(ctr):
            return []

        def get(cat: Catalog) -> list[str]:
            self._require_container(cat, ctr)
            stored = cat.container_config(ctr.id) if self._rules.networks_in_config else None
            names = network_names(cat, ctr.id, stored or {})
            if names is None:
                raise self._missing_list(ctr)
            return names

        return self._read(get, ctr)

    def get_network_options(self, ctr: Container) -> dict[str, dict[str, Any]]:
        """Network → Podman's PerNetworkOptions JSON (``static_ips``, ``aliases``,
        ``static_mac``, ``interface_name``, ``options``; absent keys omitted), in setup order
        (NEWEST GetNetworks, sq:907-934). Under ``"bolt"`` a network joined the 2020 way has
        only its ``aliases`` (none when empty). A container whose ``networkMode`` is not
        ``bridge`` (absent included: host, none, another container's namespace) has none:
        ``{}``, before the existence check, as Podman's GetNetworks of this shape gives it in
        both of its states (``spec/podman-state.md`` FINAL-BOLT GetNetworks, Podman 4.3
        ``boltdb_state.go:1073-1076``; NEWEST sq:916-919). Errors, in order:
        :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError` (``"bolt"``), :class:`NoSuchContainerError` (+inv),
        :class:`NoSuchNetworkError` (``"bolt"``: a bridge container without a live list)."""
        self._live(ctr)
        if self._rules.namespaces:
            self._ns_check(f"container {ctr.id}", ctr.namespace)
        if ctr.config.get("networkMode") != "bridge":
            return {}

        def get(cat: Catalog) -> dict[str, dict[str, Any]]:
            networks = self._live_list(cat, ctr)
            if networks is None and not self._rules.networks_in_config:
                raise self._missing_list(ctr)
            return {name: N.options_of(entry) for name, entry in (networks or {}).items()}

        return self._run(get)

    def get_network_aliases(self, ctr: Container, network: str) -> list[str]:
        """Sorted aliases of ``ctr`` on ``network`` (§1.2 GetNetworkAliases). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network), :class:`NamespaceMismatchError`,
        :class:`NoSuchContainerError` (+inv), :class:`NoAliasesError` (network not joined).
        ``[]`` when the container has no network list or the network has no aliases."""
        self._live(ctr)
        _network_arg(network)

        def get(cat: Catalog) -> list[str]:
            networks = self._live_list(cat, ctr)
            if networks is None:
                return []
            if network not in networks:
                raise NoAliasesError(
                    f"container {ctr.id} has not joined network {network}", network=network
                )
            return sorted(N.aliases_of(networks[network]) or [])

        return self._read(get, ctr)

    def get_all_network_aliases(self, ctr: Container) -> dict[str, list[str]]:
        """Network → sorted aliases, for every joined network that has an alias list (§1.2
        GetAllNetworkAliases; under ``"sqlite"`` every joined network, ``[]`` when it has no
        aliases). Errors: as :meth:`get_networks` but never :class:`NoSuchNetworkError`
        (``{}`` instead; also for a non-bridge container under ``"sqlite"``)."""
        self._live(ctr)
        if self._no_networks(ctr):
            return {}
        every = self._rules.networks_in_config

        def get(cat: Catalog) -> dict[str, list[str]]:
            networks = self._live_list(cat, ctr) or {}
            out = {}
            for name, entry in sorted(networks.items()):
                aliases = N.aliases_of(entry)
                if aliases is not None or every:
                    out[name] = sorted(aliases or [])
            return out

        return self._read(get, ctr)

    def network_connect(
        self,
        ctr: Container,
        network: str,
        aliases: Sequence[str] = (),
        *,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """Join ``network`` last, with ``aliases`` and the PerNetworkOptions ``options``
        (§1.2 NetworkConnect; NEWEST sqi:580-641). ``aliases`` given beside ``options`` become
        its ``aliases``. Under ``"bolt"`` a container without a live list first gets one from
        ``config.networks`` (or the default network), and a connect without ``options`` stores
        the 2020 alias list. Errors, in order: :class:`StateClosedError`,
        :class:`ContainerRemovedError`, :class:`InvalidArgumentError` (empty network, aliases
        not strings, bad options, aliases given twice), :class:`NamespaceMismatchError`,
        :class:`NoSuchContainerError` (+inv), :class:`NetworkExistsError` (already joined;
        under ``"sqlite"`` its subclass :class:`NetworkConnectedError`, NEWEST sqi:612-613)."""
        self._live(ctr)
        _network_arg(network)
        entry = _connect_entry(network, aliases, options, self._rules.networks_in_config)

        def connect(cat: Catalog) -> None:
            networks = self._live_list(cat, ctr)
            if networks is None:
                if self._rules.networks_in_config:
                    networks = {}
                else:
                    networks = rules.seed_networks(cat.container_config(ctr.id) or {})
            if network in networks:
                cls = NetworkConnectedError if self._rules.network_connected_error else None
                raise (cls or NetworkExistsError)(
                    f"container {ctr.id} has already joined network {network}", network=network
                )
            networks[network] = entry
            self._store_list(cat, ctr, networks)

        self._run(connect)

    def network_modify(self, ctr: Container, network: str, options: Mapping[str, Any]) -> None:
        """Replace the PerNetworkOptions of ``network``, which ``ctr`` has joined, keeping its
        place in the setup order (NEWEST NetworkModify, sq:943 → sqi:580-641). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network, bad options),
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NoSuchNetworkError` (no live list, or network not joined)."""
        self._live(ctr)
        _network_arg(network)
        entry = N.check_options(network, options)

        def modify(cat: Catalog) -> None:
            networks = self._live_list(cat, ctr)
            if networks is None or network not in networks:
                raise _not_joined(ctr, network)
            networks[network] = entry
            self._store_list(cat, ctr, networks)

        self._run(modify)

    def network_disconnect(self, ctr: Container, network: str) -> None:
        """Leave ``network`` (§1.2 NetworkDisconnect; Decision 9; NEWEST sqi:580-641). Errors,
        in order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network), :class:`NamespaceMismatchError`,
        :class:`NoSuchContainerError` (+inv), :class:`NoSuchNetworkError` (no live list, or
        network not joined)."""
        self._live(ctr)
        _network_arg(network)

        def disconnect(cat: Catalog) -> None:
            networks = self._live_list(cat, ctr)
            if networks is None or network not in networks:
                raise _not_joined(ctr, network)
            del networks[network]
            self._store_list(cat, ctr, networks)

        self._run(disconnect)


def _network_arg(network: str) -> None:
    if not isinstance(network, str) or network == "":
        raise InvalidArgumentError("network name must be a non-empty string")


def _not_joined(ctr: Container, network: str) -> NoSuchNetworkError:
    return NoSuchNetworkError(
        f"container {ctr.id} has not joined network {network}", network=network
    )


def _connect_entry(
    network: str, aliases: Sequence[str], options: Mapping[str, Any] | None, in_config: bool
) -> Any:
    """The live-list entry a connect stores: the 2020 alias list when no ``options`` are given
    under ``"bolt"``, else the checked options object (``aliases`` merged in)."""
    if isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
        raise InvalidArgumentError(f"aliases for network {network} must be strings")
    if options is None and not in_config:
        return list(aliases)
    entry = N.check_options(network, options if options is not None else {})
    if aliases:
        if "aliases" in entry:
            raise InvalidArgumentError(
                f"aliases for network {network} given both as an argument and in options",
                network=network,
            )
        entry = N.check_options(network, {**entry, "aliases": list(aliases)})
    return entry
