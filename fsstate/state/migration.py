"""Converting a store from one semantics to the other: part of :class:`~fsstate.state.FileState`.

:meth:`MigrationMethods.migrate` does for a store what ``podman system migrate --migrate-db``
does for Podman's state (``libpod/runtime_migrate.go`` ``migrateDB``): the Bolt state becomes
the SQLite one, every container's live networks moving into its config as the ordered list
(``ctr.config.Networks = convertLegacyNetworks(oldState.GetNetworks(ctr))``, so by network
name; a container not in ``bridge`` mode gets none, as Bolt's GetNetworks gives it none). The
reverse, which Podman lacks, puts each config's list back into the side document that the
``"bolt"`` rules read (:mod:`fsstate.state.networks`); it is refused while a pod and a
container share a name, which the one name registry of ``"bolt"`` cannot hold.

Unlike Podman's (volumes, pods, then containers one by one, each its own transaction, leaving
exec sessions and exit codes behind), a migration here is one commit: the pin, the index
entries whose layout differs between the two semantics (pod names, namespaces), and the
network lists change together or not at all, and nothing else is touched.
"""

from __future__ import annotations

from typing import Any

from fsstate.errors import InvalidArgumentError
from fsstate.model import Container, Pod
from fsstate.state import network_options as N
from fsstate.state import rules as R
from fsstate.state.base import StateBase
from fsstate.state.catalog import CONTAINER, POD, Catalog, container_entries, pod_entries
from fsstate.state.pinning import write_semantics
from fsstate.state.semantics import Semantics, by_name
from fsstate.store import layout as L

__all__ = ["MigrationMethods"]


class MigrationMethods(StateBase):
    """:meth:`migrate`: a store's semantics changed in one commit."""

    def migrate(self, semantics: str) -> bool:
        """Convert the store to ``semantics`` (``"bolt"`` or ``"sqlite"``) in one atomic,
        durable commit; ``True`` when it changed, ``False`` when it already followed it (a new
        store without a pin is pinned to it). Afterwards this object and every other opened
        without an explicit semantics follow the new one; one opened with the old one raises
        :class:`DBConfigMismatchError` on its next call.

        ``"bolt"`` → ``"sqlite"``: each container in ``bridge`` mode with a live list gets it
        as ``orderedNetworks`` in its config, by name (``newNetworks`` dropped), the others
        none; the side documents go. ``"sqlite"`` → ``"bolt"``: each container whose config
        has a list gets it back as its side document (``rules.initial_networks`` otherwise).
        Both ways: pod names and namespaces are re-indexed; documents, exec sessions and exit
        codes stay as they are.

        Errors, in order: :class:`StateClosedError`; :class:`InvalidArgumentError` (an unknown
        semantics; inside :meth:`transaction`; to ``"bolt"`` while pods and containers share
        names or IDs, every clash named); :class:`CorruptDocumentError` for a document that
        cannot be read (nothing is written: run fsck first).
        """
        self._check_open()
        target = by_name(semantics)
        if self._txn is not None:
            raise InvalidArgumentError("migrate cannot run inside a transaction")
        source, changed = self._rules, False
        try:
            with self._catalog() as cat:
                source = self._rules
                if source == target and self._settled:
                    return False
                changed = source != target and self._settled  # a new store is only pinned
                if changed:
                    _convert(cat, source, target)
                write_semantics(cat, target)
                self._rules = target  # the commit below must not pin the source instead
        except BaseException:
            self._rules = source
            raise
        if self._requested is not None:
            self._requested = target
        return changed


def _convert(cat: Catalog, source: Semantics, target: Semantics) -> None:
    ctrs = [_must(cat.container(cid), cid) for cid in cat.ids(CONTAINER)]
    pods = [_must(cat.pod(pid), pid) for pid in cat.ids(POD)]
    if target.shared_names:
        _refuse_clashes(cat, ctrs, pods)
    for ctr in ctrs:
        _move(cat, container_entries(ctr, source), container_entries(ctr, target))
        if target.networks_in_config:
            _networks_into_config(cat, ctr)
        else:
            _networks_out_of_config(cat, ctr)
    for pod in pods:
        _move(cat, pod_entries(pod, source), pod_entries(pod, target))


def _must(obj: Any, oid: str) -> Any:
    if obj is None:  # listed, but its config is gone: fsck's business
        raise InvalidArgumentError(f"{oid} is listed but has no config; run fsck", id=oid)
    return obj


def _refuse_clashes(cat: Catalog, ctrs: list[Container], pods: list[Pod]) -> None:
    """One registry for both kinds ("bolt"): no name or ID may be a container's and a pod's."""
    by_name = {c.name: c for c in ctrs}
    ids = {c.id for c in ctrs}
    clashes = [
        f"name {p.name} (container {by_name[p.name].id}, pod {p.id})"
        for p in pods
        if p.name in by_name
    ]
    clashes += [f"ID {p.id} (a container's and a pod's)" for p in pods if p.id in ids]
    if clashes:
        raise InvalidArgumentError(
            f"{cat.abspath('')}: cannot migrate to 'bolt' semantics, whose one name registry "
            f"cannot hold a pod and a container of one name; clashing: {'; '.join(clashes)} "
            "(rename one of each pair first)",
            clashes=clashes,
        )


def _move(cat: Catalog, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """Replace the index entries ``old`` by ``new`` (path → contents)."""
    for path in old.keys() - new.keys():
        cat.txn.delete(path)
    for path, data in new.items():
        if old.get(path) != data:
            cat.txn.put(path, data)


def _networks_into_config(cat: Catalog, ctr: Container) -> None:
    """ "bolt" → "sqlite", as ``migrateDB`` (runtime_migrate.go): the live list, by name, into
    the config (none for a non-bridge container: Bolt's GetNetworks gives it none)."""
    path = L.container_doc(ctr.id, "networks")
    doc = cat.doc(path, "networks")
    if doc is None:
        return
    cat.txn.delete(path)
    if ctr.config.get("networkMode") != "bridge":
        return
    listed = sorted((name, N.options_of(entry)) for name, entry in doc.items())
    new = N.with_list(ctr.config, listed)
    if new != ctr.config:
        cat.put_doc(L.container_doc(ctr.id, "config"), new, f"container {ctr.id} config")


def _networks_out_of_config(cat: Catalog, ctr: Container) -> None:
    """ "sqlite" → "bolt": the config's list (in its order) becomes the side document, or, for
    a config without one, what ``add_container`` under "bolt" would make of it."""
    listed = N.from_config(ctr.config)
    doc = dict(listed) if listed is not None else R.initial_networks(ctr.id, ctr.config)
    if doc is not None:
        cat.put_doc(L.container_doc(ctr.id, "networks"), doc, "networks")
