"""Container lookups and the per-container documents: part of :class:`~fsstate.state.FileState`.

:class:`ContainerMethods` holds the getters (§1.2 GetName, Container, LookupContainerID,
LookupContainer, HasContainer, GetContainerConfig, AllContainers; lookup rules §2.2) and the
calls that read or replace one stored container's documents (UpdateContainer, SaveContainer,
ContainerInUse, RewriteContainerConfig). Adding and removing a container is in
``container_add_remove.py``; its networks and exec sessions have their own modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fsstate.errors import (
    ContainerExistsError,
    CorruptDocumentError,
    InvalidArgumentError,
    NoSuchContainerError,
    NotFoundError,
)
from fsstate.model import Container
from fsstate.state import schema
from fsstate.state.base import StateBase, mapping_arg, no_document
from fsstate.state.catalog import CONTAINER, Catalog
from fsstate.state.networks import network_names, no_networks
from fsstate.store import codec
from fsstate.store import layout as L

__all__ = ["ContainerMethods"]


def _networks(cat: Catalog, ctr: Container) -> list[str] | CorruptDocumentError:
    """:meth:`~fsstate.state.FileState.get_networks` of a container just read in a listing's
    pass (its config is the stored one): its names, ``[]`` for none, or the error of a damaged
    networks document."""
    if no_networks(cat.rules, ctr.config):
        return []
    try:
        return network_names(cat, ctr.id, ctr.config) or []
    except CorruptDocumentError as exc:
        return exc


class ContainerMethods(StateBase):
    """Container getters and per-container document calls (§1.2)."""

    # -- reads ---------------------------------------------------------------------------------

    def get_name(self, id: str) -> str:
        """Name of the container or pod with full ID ``id`` (§1.2 GetName). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchContainerError` (also for a pod, and for an object outside the
        namespace)."""
        self._arg(id, "ID")

        def get_name(cat: Catalog) -> str:
            obj = cat.container(id) or cat.pod(id)
            if obj is None or self._ns_hidden(obj.namespace):
                raise NoSuchContainerError(f"no container or pod with ID {id}", id=id)
            return obj.name

        return self._read(get_name)

    def get_container_name(self, id: str) -> str:
        """Name of the container with full ID ``id`` (NEWEST GetContainerName, sq:475). Errors,
        in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError` (``"bolt"``: not a storable ID),
        :class:`NoSuchContainerError` (also for a pod's ID, and outside the namespace)."""
        self._arg(id, "container ID")

        def get_name(cat: Catalog) -> str:
            ctr = self._visible(cat.container(id))
            if ctr is None:
                raise NoSuchContainerError(f"no container with ID {id}", id=id)
            return ctr.name

        return self._read(get_name)

    def container(self, id: str) -> Container:
        """The container with full ID ``id``, with an empty state (§1.2 Container). Errors, in
        order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchContainerError`, :class:`NamespaceMismatchError`,
        :class:`CorruptDocumentError`."""
        self._arg(id, "container ID")
        return self._read(lambda cat: self._get_container(cat, id))

    def _get_container(self, cat: Catalog, cid: str) -> Container:
        ctr = cat.container(cid)
        if ctr is None:
            raise NoSuchContainerError(f"no container with ID {cid}", id=cid)
        self._ns_check(f"container {cid}", ctr.namespace)
        return ctr

    def lookup_container_id(self, id_or_name: str) -> str:
        """Full ID of the container named by full ID, name or unique ID prefix (§1.2
        LookupContainerID, §2.2; Decision 6). Errors, in order: :class:`EmptyIDError`,
        :class:`StateClosedError`, :class:`InvalidArgumentError`, :class:`ContainerExistsError`
        (ambiguous prefix), :class:`NoSuchContainerError`. With a namespace set, every
        resolution failure is :class:`NoSuchContainerError` (SEED quirk)."""
        self._arg(id_or_name, "container name or ID")

        def lookup(cat: Catalog) -> str:
            try:
                cid = self._resolve(cat, CONTAINER, id_or_name)
            except (NotFoundError, ContainerExistsError) as exc:
                if self._namespace:
                    raise NoSuchContainerError(str(exc.message), id=id_or_name) from None
                raise
            if self._visible(cat.container(cid)) is None:
                raise NoSuchContainerError(
                    f"no container {id_or_name} in namespace {self._namespace!r}", id=id_or_name
                )
            return cid

        return self._read(lookup)

    def lookup_container(self, id_or_name: str) -> Container:
        """The container named by full ID, name or unique prefix (§1.2 LookupContainer).
        Errors, in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError`, :class:`ContainerExistsError` (ambiguous prefix),
        :class:`NoSuchContainerError`, :class:`NamespaceMismatchError` (full ID or name of a
        container in another namespace)."""
        self._arg(id_or_name, "container name or ID")
        return self._read(
            lambda cat: self._get_container(cat, self._resolve(cat, CONTAINER, id_or_name))
        )

    def has_container(self, id: str) -> bool:
        """Whether a container with full ID ``id`` exists in the namespace (§1.2 HasContainer).
        Errors: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(id, "container ID")
        found = self._cached_exists(id, L.container_doc)
        if found is not None:
            return found

        def has(cat: Catalog) -> bool:
            # Existence and namespace from the tree, not by reading the config, so the answer
            # is the same (and cheap) with or without a namespace, corrupt config or not.
            return cat.is_container(id) and (
                not self._namespace or cat.in_namespace(CONTAINER, id, self._namespace)
            )

        return self._read(has)

    def get_container_config(self, id: str) -> dict[str, Any]:
        """The stored ContainerConfig of full ID ``id`` (§1.2 GetContainerConfig). Errors as
        :meth:`container`."""
        return self.container(id).config

    def all_containers(
        self,
        load_state: bool = False,
        *,
        skipped: list[CorruptDocumentError] | None = None,
        networks: dict[str, list[str] | CorruptDocumentError] | None = None,
        view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        processes: int = 1,
    ) -> list[Container]:
        """Every container in the namespace, sorted by ID (§1.2 AllContainers; NEWEST
        AllContainers(loadState), API.md "Methods added"): with empty states, or with
        ``load_state`` each stored state read in the same pass and under the same lock, so
        configs and states are of one instant (as Podman's SQL join). A container whose config
        or state cannot be read, or whose directory has no config (or, with ``load_state``, no
        state) document, is skipped with a warning (``fsck`` reports it); given ``skipped`` (an
        extension, for listings that name what they could not show), each such skip is
        appended there as a :class:`CorruptDocumentError` whose ``path`` names the file.
        Given ``networks`` (an extension, for listings: ``ps`` shows every container's
        networks), it receives, by ID, each listed container's :meth:`get_networks` answer
        read in the same pass — its network names, ``[]`` where that raises
        :class:`NoSuchNetworkError`, or the :class:`CorruptDocumentError` of a damaged
        networks document (the container is still listed) — so a listing makes no call per
        container. Given ``view`` (an extension, for listings that print a few fields), each
        listed config is replaced by ``view(config)`` as soon as the pass has read it (and
        its networks): the pass then does not hold every config whole (10,000 real configs
        are a gigabyte of objects; benchmarks/README.md). ``view`` returns a new dict and
        keeps ``id``, ``name``, ``namespace`` and ``pod``, which the container's properties
        read. A ``view`` that is a :class:`~fsstate.store.codec.Projection` is read without
        decoding the rest of each config (2.5 times faster for a real config; what a read
        checks is checked all the same). Given ``processes`` > 1 (an extension, for a
        command that lists thousands of containers, such as ``ps``), the pass may be shared
        with up to ``processes`` - 1 forked children (one process per 500 containers at
        most), with the same answer (``fsstate/state/fanout.py``; worth it with ``view``: a
        child sends back what it loaded); it forks only while the calling thread is the
        process's only thread. Errors: :class:`StateClosedError`."""

        keep = view if isinstance(view, codec.Projection) else None

        def load(
            cat: Catalog, cid: str
        ) -> tuple[Container, list[str] | CorruptDocumentError | None] | None:
            ctr = cat.container(cid, keep)
            if ctr is None:
                raise no_document(cat, L.container_doc(cid, "config"), f"container {cid}")
            ctr = self._visible(ctr)
            if ctr is None:
                return None
            if load_state:
                state = cat.doc(L.container_doc(cid, "state"), "container-state")
                if state is None:
                    state_doc = L.container_doc(cid, "state")
                    raise no_document(cat, state_doc, f"container {cid}", logged=True)
                ctr.state = state
            found = None if networks is None else _networks(cat, ctr)
            if view is not None:
                ctr.config = view(ctr.config)
            return ctr, found

        listed = self._load_all(
            "all_containers",
            lambda cat: cat.ids(CONTAINER, self._namespace),
            load,
            skipped,
            processes,
        )
        if networks is not None:
            networks.update((ctr.id, found) for ctr, found in listed if found is not None)
        return [ctr for ctr, _ in listed]

    # -- one container's documents -------------------------------------------------------------

    def update_container(self, ctr: Container) -> None:
        """Replace ``ctr.state`` with the stored state (§1.2 UpdateContainer). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`InternalError` (no state document), :class:`CorruptDocumentError`."""
        self._live(ctr)

        def update(cat: Catalog) -> dict[str, Any]:
            self._require_container(cat, ctr)
            return self._state_doc(cat, L.container_doc(ctr.id, "state"), "container", ctr.id)

        ctr.state = self._read(update, ctr)

    def save_container(self, ctr: Container) -> None:
        """Store ``ctr.state`` (§1.2 SaveContainer). Errors, in order:
        :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`InvalidArgumentError` (state fails its schema)."""
        self._live(ctr)

        def save(cat: Catalog) -> None:
            self._require_container(cat, ctr)
            schema.validate("container-state", ctr.state, what=f"container {ctr.id} state")
            cat.put_doc(L.container_doc(ctr.id, "state"), ctr.state, f"container {ctr.id} state")

        self._run(save)

    def container_in_use(self, ctr: Container) -> list[str]:
        """Sorted IDs of the containers that depend on ``ctr`` (§1.2 ContainerInUse). Errors,
        in order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv)."""
        self._live(ctr)

        def in_use(cat: Catalog) -> list[str]:
            self._require_container(cat, ctr)
            return cat.dependents(ctr.id)

        return self._read(in_use, ctr)

    def rewrite_container_config(self, ctr: Container, config: Mapping[str, Any]) -> None:
        """Replace the stored ContainerConfig and set ``ctr.config`` (§1.2
        RewriteContainerConfig). A new name is registered (Appendix A); the ID, pod,
        namespace, dependencies and named volumes cannot change.

        Errors, in order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NoSuchContainerError` (+inv), :class:`InvalidArgumentError` (not a mapping,
        schema, or an immutable field changed), :class:`ContainerExistsError` /
        :class:`PodExistsError` (new name taken).
        """
        self._live(ctr)
        new = mapping_arg(config, f"container {ctr.id} config")

        def rewrite(cat: Catalog) -> None:
            stored = self._stored_container(cat, ctr, ns=False)
            schema.validate("container-config", new, what=f"container {ctr.id} config")
            candidate = Container._adopt(new)
            for what, old_v, new_v in (
                ("ID", stored.id, candidate.id),
                ("pod", stored.pod_id, candidate.pod_id),
                ("namespace", stored.namespace, candidate.namespace),
                ("dependencies", stored.dependencies(), candidate.dependencies()),
                ("named volumes", stored.named_volumes(), candidate.named_volumes()),
            ):
                if old_v != new_v:
                    raise InvalidArgumentError(
                        f"container {stored.id}: the {what} cannot be changed by a rewrite",
                        id=stored.id,
                    )
            self._rename(cat, CONTAINER, stored.id, stored.name, candidate.name)
            cat.put_doc(L.container_doc(stored.id, "config"), new, f"container {stored.id} config")

        self._run(rewrite)
        ctr.config = codec.decode_object(codec.encode(new), "config")
