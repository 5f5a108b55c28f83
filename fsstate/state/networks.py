"""A container's networks and aliases: part of :class:`~fsstate.state.FileState`.

:class:`NetworkMethods` holds §1.2 GetNetworks, GetNetworkAliases, GetAllNetworkAliases,
NetworkConnect and NetworkDisconnect over the container's live networks document (§2.8;
Decision 9). The list a new container starts with (Decision 8) is built by
:mod:`fsstate.state.rules`.
"""

from __future__ import annotations

from collections.abc import Sequence

from fsstate.errors import (
    InvalidArgumentError,
    NetworkConnectedError,
    NetworkExistsError,
    NoAliasesError,
    NoSuchNetworkError,
)
from fsstate.model import Container
from fsstate.state import rules
from fsstate.state.base import StateBase
from fsstate.state.catalog import Catalog
from fsstate.store import layout as L

__all__ = ["NetworkMethods"]


class NetworkMethods(StateBase):
    """Container network membership and aliases (§1.2, §2.8)."""

    def _networks(self, cat: Catalog, ctr: Container) -> dict[str, list[str] | None] | None:
        self._require_container(cat, ctr)
        return cat.doc(L.container_doc(ctr.id, "networks"), "networks")

    def _no_networks(self, ctr: Container) -> bool:
        """Under ``"sqlite"``: ``ctr`` is not in ``bridge`` network mode, so it has no networks
        (NEWEST sq:916-919, ``NetMode.IsBridge``)."""
        return self._rules.networks_in_config and ctr.config.get("networkMode") != "bridge"

    def get_networks(self, ctr: Container) -> list[str]:
        """Sorted names of the networks ``ctr`` has joined (§1.2 GetNetworks). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NoSuchNetworkError` (the container has no live network list). Under
        ``"sqlite"`` a container whose ``networkMode`` is not ``bridge`` has none: ``[]``,
        before any existence check (NEWEST sq:916-919)."""
        self._live(ctr)
        if self._no_networks(ctr):
            return []

        def get(cat: Catalog) -> list[str]:
            networks = self._networks(cat, ctr)
            if networks is None:
                raise NoSuchNetworkError(f"container {ctr.id} has no network list", id=ctr.id)
            return sorted(networks)

        return self._read(get, ctr)

    def get_network_aliases(self, ctr: Container, network: str) -> list[str]:
        """Sorted aliases of ``ctr`` on ``network`` (§1.2 GetNetworkAliases). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network), :class:`NamespaceMismatchError`,
        :class:`NoSuchContainerError` (+inv), :class:`NoAliasesError` (network not joined).
        ``[]`` when the container has no network list or the network has no aliases."""
        self._live(ctr)
        _network_arg(network)

        def get(cat: Catalog) -> list[str]:
            networks = self._networks(cat, ctr)
            if networks is None:
                return []
            if network not in networks:
                raise NoAliasesError(
                    f"container {ctr.id} has not joined network {network}", network=network
                )
            return sorted(networks[network] or [])

        return self._read(get, ctr)

    def get_all_network_aliases(self, ctr: Container) -> dict[str, list[str]]:
        """Network → sorted aliases, for every joined network that has an alias list (§1.2
        GetAllNetworkAliases). Errors: as :meth:`get_networks` but never
        :class:`NoSuchNetworkError` (``{}`` instead; also for a non-bridge container under
        ``"sqlite"``, as :meth:`get_networks`)."""
        self._live(ctr)
        if self._no_networks(ctr):
            return {}

        def get(cat: Catalog) -> dict[str, list[str]]:
            networks = self._networks(cat, ctr) or {}
            return {n: sorted(a) for n, a in sorted(networks.items()) if a is not None}

        return self._read(get, ctr)

    def network_connect(self, ctr: Container, network: str, aliases: Sequence[str] = ()) -> None:
        """Join ``network`` with ``aliases`` (§1.2 NetworkConnect). A container without a live
        list first gets one from ``config.networks`` (or the default network). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network, aliases not strings),
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NetworkExistsError` (already joined; under ``"sqlite"`` its subclass
        :class:`NetworkConnectedError`, NEWEST sqi:600-606)."""
        self._live(ctr)
        _network_arg(network)
        if isinstance(aliases, str) or not all(isinstance(a, str) for a in aliases):
            raise InvalidArgumentError(f"aliases for network {network} must be strings")
        new_aliases = list(aliases)

        def connect(cat: Catalog) -> None:
            networks = self._networks(cat, ctr)
            if networks is None:
                networks = rules.seed_networks(cat.container_config(ctr.id) or {})
            if network in networks:
                cls = NetworkConnectedError if self._rules.network_connected_error else None
                raise (cls or NetworkExistsError)(
                    f"container {ctr.id} has already joined network {network}", network=network
                )
            networks[network] = new_aliases
            cat.put_doc(L.container_doc(ctr.id, "networks"), networks, "networks")

        self._run(connect)

    def network_disconnect(self, ctr: Container, network: str) -> None:
        """Leave ``network`` (§1.2 NetworkDisconnect; Decision 9). Errors, in order:
        :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network), :class:`NamespaceMismatchError`,
        :class:`NoSuchContainerError` (+inv), :class:`NoSuchNetworkError` (no live list, or
        network not joined)."""
        self._live(ctr)
        _network_arg(network)

        def disconnect(cat: Catalog) -> None:
            networks = self._networks(cat, ctr)
            if networks is None or network not in networks:
                raise NoSuchNetworkError(
                    f"container {ctr.id} has not joined network {network}", network=network
                )
            del networks[network]
            cat.put_doc(L.container_doc(ctr.id, "networks"), networks, "networks")

        self._run(disconnect)


def _network_arg(network: str) -> None:
    if not isinstance(network, str) or network == "":
        raise InvalidArgumentError("network name must be a non-empty string")
