"""FileState: Podman's libpod ``State`` interface over the plain-file store.

Each public method follows ``spec/podman-state.md`` §1.2 (SEED, Nov 2020) in its check order,
with Appendix A where SEED was a bug and the Decisions of API.md. The checks of a call read
through a :class:`~fsstate.index.Catalog`; only after every check passes does the call record
its changes, which the storage commits as one atomic, durable record. So a call that raises
has written nothing.

"+inv" in a docstring means: before raising, the passed-in object's ``valid`` becomes False
(§2.11).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from fsstate import codec, rules, schema
from fsstate import layout as L
from fsstate.errors import (
    ContainerExistsError,
    ContainerRemovedError,
    CorruptDocumentError,
    DBConfigMismatchError,
    DependencyExistsError,
    EmptyIDError,
    ExecSessionExistsError,
    InternalError,
    InvalidArgumentError,
    NamespaceMismatchError,
    NetworkExistsError,
    NoAliasesError,
    NoSuchContainerError,
    NoSuchExecSessionError,
    NoSuchNetworkError,
    NoSuchPodError,
    NoSuchVolumeError,
    NotFoundError,
    PodExistsError,
    PodRemovedError,
    StateClosedError,
    VolumeBeingUsedError,
    VolumeExistsError,
    VolumeRemovedError,
)
from fsstate.index import CONTAINER, POD, Catalog
from fsstate.lock import DEFAULT_TIMEOUT
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.storage import FileStorage, Storage
from fsstate.txn import Txn

__all__ = ["FileState"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Written to tmp_dir by refresh(); tmp_dir is a tmpfs in production, so the marker's absence
#: means "this boot has not been refreshed yet".
REFRESH_MARKER = "fsstate-refreshed"


class FileState:
    """Podman's State kept as plain JSON files under ``<static_dir>/fsstate``.

    ``FileState(static_dir, tmp_dir, *, lock_timeout=100.0)`` creates the tree when missing.
    Any number of FileState objects, threads and processes may share one ``static_dir``; every
    method is atomic and linearizable across all of them. Usable as a context manager
    (``close()`` on exit). ``storage=MemoryStorage()`` runs the same rules with nothing on disk
    (the conformance suite's second backend).

    Raises :class:`CorruptDocumentError` when the tree holds a newer layout or a symlink
    where the store directory should be.
    """

    def __init__(
        self,
        static_dir: str | os.PathLike[str],
        tmp_dir: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        storage: Storage | None = None,
    ) -> None:
        self.static_dir = os.fspath(static_dir)
        self.tmp_dir = os.fspath(tmp_dir)
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)
        self._storage: Storage = storage or FileStorage(self.static_dir, lock_timeout=lock_timeout)
        self._namespace = ""
        self._closed = False
        self._txn: Txn | None = None

    def __enter__(self) -> FileState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StateClosedError("the state is closed")

    @contextmanager
    def _catalog(self) -> Iterator[Catalog]:
        """The store lock, and a catalog over the current transaction (or a new one that is
        committed when the block ends without an exception)."""
        with self._storage.locked():
            if self._txn is not None:
                mark = self._txn.mark()
                try:
                    yield Catalog(self._txn)
                except BaseException:
                    self._txn.rollback(mark)
                    raise
                return
            txn = Txn(self._storage)
            self._txn = txn
            try:
                yield Catalog(txn)
                self._storage.commit(txn.ops)
            finally:
                self._txn = None

    @contextmanager
    def transaction(self) -> Iterator[FileState]:
        """Group several calls into one atomic, durable change.

        Holds the store lock for the whole block; calls inside see each other's changes;
        everything is committed when the block ends normally and nothing is written if it
        raises. Yields ``self``. Raises :class:`StateClosedError` if closed.
        """
        self._check_open()
        with self._catalog():
            yield self

    def _run(self, fn: Callable[[Catalog], T]) -> T:
        with self._catalog() as cat:
            return fn(cat)

    # -- state-wide ---------------------------------------------------------------------------

    def close(self) -> None:
        """Mark the state closed; every later call but ``close`` and ``set_namespace`` raises
        :class:`StateClosedError`. Idempotent (§1.2 Close)."""
        if not self._closed:
            self._storage.close()  # waits for a call in flight in another thread
            self._closed = True

    def set_namespace(self, ns: str) -> None:
        """Select the libpod namespace; ``""`` means all. Never fails (§1.2 SetNamespace,
        §2.3). Containers and pods outside it are hidden or refused as §2.3 lists."""
        self._namespace = ns

    @property
    def namespace(self) -> str:
        return self._namespace

    def needs_refresh(self) -> bool:
        """True until ``refresh()`` has run since ``tmp_dir`` was created (i.e. this boot)."""
        return not os.path.exists(os.path.join(self.tmp_dir, REFRESH_MARKER))

    def refresh(self) -> None:
        """Reset runtime-only state after a reboot, in one transaction (API.md Decision 7,
        §2.9 NEWEST): every container state is reset (:func:`rules.reset_container_state`),
        every exec-session registration is dropped, pod ``cgroupPath`` is cleared, volume
        ``mountCount`` is zeroed. Documents that cannot be read are skipped with a warning
        (``fsck`` reports them). Errors: :class:`StateClosedError`."""
        self._check_open()
        self._run(self._refresh)
        os.makedirs(self.tmp_dir, mode=0o700, exist_ok=True)  # it may have been cleaned since
        with open(os.path.join(self.tmp_dir, REFRESH_MARKER), "w", encoding="ascii") as f:
            f.write("refreshed\n")

    def _refresh(self, cat: Catalog) -> None:
        def reset(path: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
            try:
                doc = cat.doc(path)
            except CorruptDocumentError as exc:
                log.warning("refresh: skipping %s", exc)
                return
            if doc is not None:
                cat.put_doc(path, fn(doc), path)

        for cid in cat.ids(CONTAINER):
            reset(L.container_doc(cid, "state"), rules.reset_container_state)
            for sid in cat.exec_sessions(cid):
                cat.txn.delete(f"{L.exec_index(cid)}/{sid}")
            cat.txn.rmdir(L.exec_index(cid))
        for sid in cat.all_exec_sessions():
            cat.txn.delete(L.exec_doc(sid))
        for pid in cat.ids(POD):
            reset(L.pod_doc(pid, "state"), rules.reset_pod_state)
        for name in cat.volume_names():
            reset(L.volume_doc(name, "state"), rules.reset_volume_state)

    def get_db_config(self) -> DBConfig:
        """The pinned paths; all ``""`` before the first ``validate_db_config`` (§1.2
        GetDBConfig). Errors: :class:`StateClosedError`, :class:`CorruptDocumentError`."""
        self._check_open()
        pinned = self._run(lambda cat: cat.doc(L.DBCONFIG)) or {}
        return DBConfig(**{k: v for k, v in pinned.items() if k in DBConfig.field_names()})

    def validate_db_config(self, config: DBConfig) -> None:
        """Compare the runtime's paths with the pinned ones, pinning fields not pinned yet
        (§2.10). The four path fields are compared after ``os.path.normpath``, graph driver
        and volume path exactly. Errors, in order: :class:`StateClosedError`,
        :class:`InvalidArgumentError` (a field not a string), :class:`DBConfigMismatchError`
        naming every differing field."""
        self._check_open()
        runtime = rules.normalize_db_config(config)

        def validate(cat: Catalog) -> None:
            pinned = cat.doc(L.DBCONFIG) or {}
            differ = rules.compare_db_config(pinned, runtime)
            if differ:
                detail = ", ".join(f"{f}: {pinned[f]!r} != {runtime[f]!r}" for f in differ)
                raise DBConfigMismatchError(f"pinned {detail}", mismatched=differ)
            merged = {**runtime, **pinned}
            if merged != pinned:
                schema.validate("db-config", merged, what="DB config")
                cat.put_doc(L.DBCONFIG, merged, "DB config")

        self._run(validate)

    # -- namespace helpers (§2.3) -------------------------------------------------------------

    def _ns_hidden(self, namespace: str) -> bool:
        return self._namespace != "" and namespace != self._namespace

    def _ns_check(self, what: str, namespace: str) -> None:
        if self._ns_hidden(namespace):
            raise NamespaceMismatchError(
                f"{what} is in namespace {namespace!r}, not {self._namespace!r}", what=what
            )

    # -- containers: reads --------------------------------------------------------------------

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

        return self._run(get_name)

    def container(self, id: str) -> Container:
        """The container with full ID ``id``, with an empty state (§1.2 Container). Errors, in
        order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchContainerError`, :class:`NamespaceMismatchError`,
        :class:`CorruptDocumentError`."""
        self._arg(id, "container ID")
        return self._run(lambda cat: self._get_container(cat, id))

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
            ctr = cat.container(cid)
            if ctr is None or self._ns_hidden(ctr.namespace):
                raise NoSuchContainerError(f"no container {id_or_name} in namespace")
            return cid

        return self._run(lookup)

    def lookup_container(self, id_or_name: str) -> Container:
        """The container named by full ID, name or unique prefix (§1.2 LookupContainer).
        Errors, in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError`, :class:`ContainerExistsError` (ambiguous prefix),
        :class:`NoSuchContainerError`, :class:`NamespaceMismatchError` (full ID or name of a
        container in another namespace)."""
        self._arg(id_or_name, "container name or ID")
        return self._run(
            lambda cat: self._get_container(cat, self._resolve(cat, CONTAINER, id_or_name))
        )

    def _resolve(self, cat: Catalog, kind: str, key: str) -> str:
        """The one resolver for every container and pod lookup (§2.2, Decision 6): exact full
        ID, then exact name, then unique ID prefix within the namespace."""
        if cat.id_owner(key) == kind:
            return key
        owner = cat.name_owner(key)
        if owner is not None and owner[0] == kind:
            return owner[1]
        matches = cat.ids_with_prefix(kind, key)
        if self._namespace:
            matches = [m for m in matches if cat.in_namespace(kind, m, self._namespace)]
        if len(matches) == 1:
            return matches[0]
        if kind == CONTAINER:
            if matches:
                raise ContainerExistsError(f"more than one container ID starts with {key}")
            raise NoSuchContainerError(f"no container with name or ID {key}", id=key)
        if matches:
            raise PodExistsError(f"more than one pod ID starts with {key}")
        hint = " (it names a container)" if owner is not None else ""
        raise NoSuchPodError(f"no pod with name or ID {key}{hint}", id=key)

    def has_container(self, id: str) -> bool:
        """Whether a container with full ID ``id`` exists in the namespace (§1.2 HasContainer).
        Errors: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(id, "container ID")

        def has(cat: Catalog) -> bool:
            ctr = cat.container(id) if self._namespace else None
            if self._namespace:
                return ctr is not None and not self._ns_hidden(ctr.namespace)
            return cat.is_container(id)

        return self._run(has)

    def get_container_config(self, id: str) -> dict[str, Any]:
        """The stored ContainerConfig of full ID ``id`` (§1.2 GetContainerConfig). Errors as
        :meth:`container`."""
        return self.container(id).config

    def all_containers(self) -> list[Container]:
        """Every container in the namespace, sorted by ID, with empty states (§1.2
        AllContainers). A container whose config cannot be read is skipped with a warning.
        Errors: :class:`StateClosedError`."""
        self._check_open()

        def all_containers(cat: Catalog) -> list[Container]:
            out = []
            for cid in cat.ids(CONTAINER, self._namespace):
                try:
                    ctr = cat.container(cid)
                except CorruptDocumentError as exc:
                    log.warning("all_containers: skipping %s", exc)
                    continue
                if ctr is not None and not self._ns_hidden(ctr.namespace):
                    out.append(ctr)
            return out

        with codec.many_documents():
            return self._run(all_containers)

    # -- containers: checks shared by the object-taking methods --------------------------------

    def _require_container(self, cat: Catalog, ctr: Container, *, ns: bool = True) -> None:
        """The usual prefix of an object-taking method after the closed and valid checks:
        namespace check of the passed object, then existence (+inv)."""
        if ns:
            self._ns_check(f"container {ctr.id}", ctr.namespace)
        cid = ctr.id
        if not (L.is_valid_name(cid) and cat.is_container(cid)):
            ctr.valid = False
            raise NoSuchContainerError(f"container {cid} is not in the state", id=cid)

    def _stored_container(self, cat: Catalog, ctr: Container, *, ns: bool = True) -> Container:
        """:meth:`_require_container`, returning the stored container (its config)."""
        self._require_container(cat, ctr, ns=ns)
        stored = cat.container(ctr.id)
        assert stored is not None  # it exists: we hold the lock
        return stored

    def _live(self, ctr: Container) -> None:
        self._check_open()
        if not ctr.valid:
            raise ContainerRemovedError(f"container {ctr.id} was removed", id=ctr.id)

    # -- containers: writes ---------------------------------------------------------------------

    def add_container(self, ctr: Container) -> None:
        """Add a container that is not in a pod (§1.2 AddContainer + shared insert routine).

        Errors, in order: :class:`StateClosedError`; :class:`ContainerRemovedError`;
        :class:`InvalidArgumentError` (config or state fails its schema, or ``config.pod`` is
        set — use :meth:`add_container_to_pod`); :class:`NamespaceMismatchError`;
        :class:`ContainerExistsError` / :class:`PodExistsError` (ID, then name, taken —
        Decisions 1–2); :class:`InvalidArgumentError` (empty network name);
        :class:`NoSuchNetworkError` (alias for a network not joined);
        :class:`InvalidArgumentError` (self-dependency); :class:`NoSuchContainerError`
        (dependency missing); :class:`InvalidArgumentError` (dependency in a pod);
        :class:`NamespaceMismatchError` (dependency in another namespace);
        :class:`NoSuchVolumeError` (named volume missing).
        """
        self._live(ctr)
        self._validate_container(ctr)
        if ctr.pod_id:
            raise InvalidArgumentError(
                f"container {ctr.id} is in pod {ctr.pod_id}; add it with add_container_to_pod",
                id=ctr.id,
            )
        self._run(lambda cat: self._insert(cat, ctr, None))

    def add_container_to_pod(self, pod: Pod, ctr: Container) -> None:
        """Add a container that is a member of ``pod`` (§1.2 AddContainerToPod).

        Errors, in order: :class:`StateClosedError`; :class:`PodRemovedError`;
        :class:`ContainerRemovedError`; :class:`InvalidArgumentError` (schema);
        :class:`NoSuchContainerError` (``config.pod`` is not ``pod``'s ID, as SEED);
        :class:`NamespaceMismatchError`; :class:`NoSuchPodError` (+inv pod);
        :class:`NamespaceMismatchError` (pod in another namespace); then as
        :meth:`add_container`, with the pod rule for dependencies (§2.4): each must be a member
        of the same pod, else :class:`InvalidArgumentError`.
        """
        self._live_pod(pod)
        self._live(ctr)
        self._validate_container(ctr)
        if ctr.pod_id != pod.id:
            raise NoSuchContainerError(
                f"container {ctr.id} belongs to pod {ctr.pod_id!r}, not {pod.id}", id=ctr.id
            )
        self._run(lambda cat: self._insert(cat, ctr, pod))

    def _validate_container(self, ctr: Container) -> None:
        schema.validate("container-config", ctr.config, what=f"container {ctr.id} config")
        schema.validate("container-state", ctr.state, what=f"container {ctr.id} state")
        if ctr.namespace:
            L.check_name(ctr.namespace, f"container {ctr.id} namespace")

    def _insert(self, cat: Catalog, ctr: Container, pod: Pod | None) -> None:
        """SEED Bolt ``addContainer``: every check first, then every write (§1.2)."""
        cid = ctr.id
        self._ns_check(f"container {cid}", ctr.namespace)
        if pod is not None:
            stored_pod = cat.pod(pod.id)
            if stored_pod is None:
                pod.valid = False
                raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
            if stored_pod.namespace != ctr.namespace:
                raise NamespaceMismatchError(
                    f"container {cid} namespace {ctr.namespace!r} differs from pod "
                    f"{pod.id}'s {stored_pod.namespace!r}",
                    id=cid,
                )
        cat.check_free(cid, ctr.name)
        networks = rules.initial_networks(cid, ctr.config)
        for dep in ctr.dependencies():
            self._check_dependency(cat, ctr, dep, pod)
        for volume in ctr.named_volumes():
            if not L.is_valid_name(volume) or not cat.is_volume(volume):
                raise NoSuchVolumeError(
                    f"container {cid} mounts volume {volume}, which does not exist", name=volume
                )
        cat.add_container(ctr, networks)

    def _check_dependency(self, cat: Catalog, ctr: Container, dep: str, pod: Pod | None) -> None:
        cid = ctr.id
        if dep == cid:
            raise InvalidArgumentError(f"container {cid} depends on itself", id=cid)
        stored = cat.container(dep) if L.is_valid_name(dep) else None
        if stored is None:
            raise NoSuchContainerError(
                f"container {cid} depends on {dep}, which is not a container", id=dep
            )
        if pod is None and stored.pod_id:
            raise InvalidArgumentError(
                f"container {cid} is not in a pod but depends on {dep} in pod {stored.pod_id}"
            )
        if pod is not None and stored.pod_id != pod.id:
            where = f"pod {stored.pod_id}" if stored.pod_id else "no pod"
            raise InvalidArgumentError(
                f"container {cid} in pod {pod.id} depends on {dep} in {where}"
            )
        if stored.namespace != ctr.namespace:
            raise NamespaceMismatchError(
                f"container {cid} and its dependency {dep} are in different namespaces"
            )

    def remove_container(self, ctr: Container) -> None:
        """Remove a container that is not in a pod (§1.2 RemoveContainer + shared delete).

        Errors, in order: :class:`StateClosedError`; :class:`PodExistsError` (``config.pod``
        set — use :meth:`remove_container_from_pod`); :class:`NoSuchContainerError` (+inv);
        :class:`NamespaceMismatchError`; :class:`ExecSessionExistsError`;
        :class:`DependencyExistsError` (Decision 3). Does not check or change ``valid``.
        """
        self._check_open()
        if ctr.pod_id:
            raise PodExistsError(
                f"container {ctr.id} is in pod {ctr.pod_id}; remove it with "
                "remove_container_from_pod",
                id=ctr.id,
            )
        self._run(lambda cat: self._delete(cat, ctr, None))

    def remove_container_from_pod(self, pod: Pod, ctr: Container) -> None:
        """Remove a member of ``pod`` (§1.2 RemoveContainerFromPod).

        Errors, in order: :class:`StateClosedError`; :class:`PodRemovedError`;
        :class:`NamespaceMismatchError`; :class:`NoSuchPodError` (container in no pod);
        :class:`InvalidArgumentError` (container in another pod); :class:`NoSuchPodError`
        (+inv pod); :class:`NoSuchContainerError` (+inv); :class:`NoSuchContainerError` (not a
        member); :class:`ExecSessionExistsError`; :class:`DependencyExistsError`.
        """
        self._live_pod(pod)
        if self._ns_hidden(pod.namespace) or self._ns_hidden(ctr.namespace):
            raise NamespaceMismatchError(
                f"pod {pod.id} or container {ctr.id} is not in {self._namespace!r}"
            )
        if not ctr.pod_id:
            raise NoSuchPodError(f"container {ctr.id} is not in a pod", id=ctr.id)
        if ctr.pod_id != pod.id:
            raise InvalidArgumentError(
                f"container {ctr.id} is in pod {ctr.pod_id}, not {pod.id}", id=ctr.id
            )
        self._run(lambda cat: self._delete(cat, ctr, pod))

    def _delete(self, cat: Catalog, ctr: Container, pod: Pod | None) -> None:
        """SEED Bolt ``removeContainer`` (§1.2 shared delete routine)."""
        if pod is not None and cat.pod(pod.id) is None:
            pod.valid = False
            raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
        stored = self._stored_container(cat, ctr, ns=False)
        cid = stored.id
        self._ns_check(f"container {cid}", stored.namespace)
        if pod is not None:
            self._ns_check(f"pod {pod.id}", pod.namespace)
            if cid not in cat.pod_members(pod.id):
                raise NoSuchContainerError(f"container {cid} is not a member of pod {pod.id}")
        if cat.exec_sessions(cid):
            raise ExecSessionExistsError(
                f"container {cid} has exec sessions; remove them first", id=cid
            )
        dependents = cat.dependents(cid)
        if dependents:
            raise DependencyExistsError(
                f"container {cid} is a dependency of {', '.join(dependents)}", id=cid
            )
        cat.remove_container(stored)

    def update_container(self, ctr: Container) -> None:
        """Replace ``ctr.state`` with the stored state (§1.2 UpdateContainer). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`InternalError` (no state document), :class:`CorruptDocumentError`."""
        self._live(ctr)

        def update(cat: Catalog) -> dict[str, Any]:
            self._require_container(cat, ctr)
            state = cat.doc(L.container_doc(ctr.id, "state"))
            if state is None:
                raise InternalError(f"container {ctr.id} has no state document", id=ctr.id)
            return state

        ctr.state = self._run(update)

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

        return self._run(in_use)

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
        new = _mapping(config, f"container {ctr.id} config")

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

    def _rename(self, cat: Catalog, kind: str, oid: str, old: str, new: str) -> None:
        if old == new:
            return
        held = cat.name_owner(new)
        if held is not None and held[1] != oid:
            cls = ContainerExistsError if held[0] == CONTAINER else PodExistsError
            raise cls(f"name {new} is in use by {held[0]} {held[1]}", name=new)
        cat.rename(kind, oid, old, new)

    # -- networks (§1.2, §2.8) ------------------------------------------------------------------

    def _networks(self, cat: Catalog, ctr: Container) -> dict[str, list[str] | None] | None:
        self._require_container(cat, ctr)
        return cat.doc(L.container_doc(ctr.id, "networks"))

    def get_networks(self, ctr: Container) -> list[str]:
        """Sorted names of the networks ``ctr`` has joined (§1.2 GetNetworks). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NoSuchNetworkError` (the container has no live network list)."""
        self._live(ctr)

        def get(cat: Catalog) -> list[str]:
            networks = self._networks(cat, ctr)
            if networks is None:
                raise NoSuchNetworkError(f"container {ctr.id} has no network list", id=ctr.id)
            return sorted(networks)

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
            networks = self._networks(cat, ctr)
            if networks is None:
                return []
            if network not in networks:
                raise NoAliasesError(
                    f"container {ctr.id} has not joined network {network}", network=network
                )
            return sorted(networks[network] or [])

        return self._run(get)

    def get_all_network_aliases(self, ctr: Container) -> dict[str, list[str]]:
        """Network → sorted aliases, for every joined network that has an alias list (§1.2
        GetAllNetworkAliases). Errors: as :meth:`get_networks` but never
        :class:`NoSuchNetworkError` (``{}`` instead)."""
        self._live(ctr)

        def get(cat: Catalog) -> dict[str, list[str]]:
            networks = self._networks(cat, ctr) or {}
            return {n: sorted(a) for n, a in sorted(networks.items()) if a is not None}

        return self._run(get)

    def network_connect(self, ctr: Container, network: str, aliases: Sequence[str] = ()) -> None:
        """Join ``network`` with ``aliases`` (§1.2 NetworkConnect). A container without a live
        list first gets one from ``config.networks`` (or the default network). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`InvalidArgumentError` (empty network, aliases not strings),
        :class:`NamespaceMismatchError`, :class:`NoSuchContainerError` (+inv),
        :class:`NetworkExistsError` (already joined)."""
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
                raise NetworkExistsError(
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

    # -- exec sessions (§1.2, §2.7) -----------------------------------------------------------

    def add_exec_session(self, ctr: Container, session: ExecSession) -> None:
        """Register ``session`` to ``ctr`` (§1.2 AddExecSession; ``session.container_id`` is
        not checked, as SEED). Errors, in order: :class:`StateClosedError`,
        :class:`ContainerRemovedError`, :class:`EmptyIDError` / :class:`InvalidArgumentError`
        (session ID), :class:`NoSuchContainerError` (+inv), :class:`ExecSessionExistsError`."""
        self._live(ctr)
        sid = L.check_name(session.id, "exec session ID")

        def add(cat: Catalog) -> None:
            self._require_container(cat, ctr, ns=False)
            if cat.exec_owner(sid) is not None:
                raise ExecSessionExistsError(f"exec session {sid} is already registered", id=sid)
            cat.add_exec(sid, ctr.id)

        self._run(add)

    def get_exec_session(self, id: str) -> str:
        """The container ID exec session ``id`` is registered to (§1.2 GetExecSession).
        Errors, in order: :class:`StateClosedError`, :class:`EmptyIDError`,
        :class:`InvalidArgumentError`, :class:`NoSuchExecSessionError`."""
        self._check_open()
        L.check_name(id, "exec session ID")

        def get(cat: Catalog) -> str:
            owner = cat.exec_owner(id)
            if owner is None:
                raise NoSuchExecSessionError(f"no exec session {id}", id=id)
            return owner

        return self._run(get)

    def remove_exec_session(self, session: ExecSession) -> None:
        """Unregister ``session`` (§1.2 RemoveExecSession). Errors, in order:
        :class:`StateClosedError`, :class:`NoSuchExecSessionError`, :class:`InternalError`
        (registered to another container than ``session.container_id``)."""
        self._check_open()
        sid = session.id

        def remove(cat: Catalog) -> None:
            owner = cat.exec_owner(sid) if L.is_valid_name(sid) else None
            if owner is None:
                raise NoSuchExecSessionError(f"no exec session {sid}", id=sid)
            if owner != session.container_id:
                raise InternalError(
                    f"exec session {sid} is registered to container {owner}, "
                    f"not {session.container_id}",
                    id=sid,
                )
            cat.remove_exec(sid, owner)

        self._run(remove)

    def get_container_exec_sessions(self, ctr: Container) -> list[str]:
        """Sorted IDs of the sessions registered to ``ctr`` (§1.2 GetContainerExecSessions).
        Errors, in order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NoSuchContainerError` (+inv)."""
        self._live(ctr)

        def get(cat: Catalog) -> list[str]:
            self._require_container(cat, ctr, ns=False)
            return cat.exec_sessions(ctr.id)

        return self._run(get)

    def remove_container_exec_sessions(self, ctr: Container) -> None:
        """Unregister every session of ``ctr`` (§1.2 RemoveContainerExecSessions). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NoSuchContainerError` (+inv), :class:`InternalError` (a session's registry
        entry names another container)."""
        self._live(ctr)

        def remove(cat: Catalog) -> None:
            self._require_container(cat, ctr, ns=False)
            sessions = cat.exec_sessions(ctr.id)
            owners = {sid: cat.exec_owner(sid) for sid in sessions}
            for sid, owner in owners.items():
                if owner is not None and owner != ctr.id:
                    raise InternalError(
                        f"exec session {sid} of container {ctr.id} is registered to {owner}",
                        id=sid,
                    )
            for sid, owner in owners.items():
                cat.txn.delete(f"{L.exec_index(ctr.id)}/{sid}")
                if owner is not None:
                    cat.txn.delete(L.exec_doc(sid))
            cat.txn.rmdir(L.exec_index(ctr.id))

        self._run(remove)

    # -- pods (§1.2, §2.5) --------------------------------------------------------------------

    def _live_pod(self, pod: Pod) -> None:
        self._check_open()
        if not pod.valid:
            raise PodRemovedError(f"pod {pod.id} was removed", id=pod.id)

    def _stored_pod(self, cat: Catalog, pod: Pod, *, ns: bool = True) -> Pod:
        if ns:
            self._ns_check(f"pod {pod.id}", pod.namespace)
        stored = cat.pod(pod.id) if L.is_valid_name(pod.id) else None
        if stored is None:
            pod.valid = False
            raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
        return stored

    def pod(self, id: str) -> Pod:
        """The pod with full ID ``id``, with an empty state (§1.2 Pod). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchPodError`, :class:`NamespaceMismatchError`."""
        self._arg(id, "pod ID")
        return self._run(lambda cat: self._get_pod(cat, id))

    def _get_pod(self, cat: Catalog, pid: str) -> Pod:
        pod = cat.pod(pid)
        if pod is None:
            raise NoSuchPodError(f"no pod with ID {pid}", id=pid)
        self._ns_check(f"pod {pid}", pod.namespace)
        return pod

    def lookup_pod(self, id_or_name: str) -> Pod:
        """The pod named by full ID, name or unique ID prefix (§1.2 LookupPod). Errors, in
        order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`PodExistsError` (ambiguous prefix), :class:`NoSuchPodError`,
        :class:`NamespaceMismatchError`."""
        self._arg(id_or_name, "pod name or ID")
        return self._run(lambda cat: self._get_pod(cat, self._resolve(cat, POD, id_or_name)))

    def has_pod(self, id: str) -> bool:
        """Whether a pod with full ID ``id`` exists in the namespace (§1.2 HasPod). Errors:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(id, "pod ID")

        def has(cat: Catalog) -> bool:
            pod = cat.pod(id)
            return pod is not None and not self._ns_hidden(pod.namespace)

        return self._run(has)

    def pod_has_container(self, pod: Pod, ctr_id: str) -> bool:
        """Whether container ``ctr_id`` is a member of ``pod`` (§1.2 PodHasContainer). Errors,
        in order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`PodRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchPodError` (+inv)."""
        if ctr_id == "":
            raise EmptyIDError("container ID is empty")
        self._live_pod(pod)

        def has(cat: Catalog) -> bool:
            self._stored_pod(cat, pod)
            return L.is_valid_name(ctr_id) and ctr_id in cat.pod_members(pod.id)

        return self._run(has)

    def pod_containers_by_id(self, pod: Pod) -> list[str]:
        """Sorted IDs of ``pod``'s members (§1.2 PodContainersByID). Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NamespaceMismatchError`,
        :class:`NoSuchPodError` (+inv)."""
        self._live_pod(pod)

        def members(cat: Catalog) -> list[str]:
            self._stored_pod(cat, pod)
            return cat.pod_members(pod.id)

        return self._run(members)

    def pod_containers(self, pod: Pod) -> list[Container]:
        """``pod``'s members, sorted by ID, with empty states (§1.2 PodContainers). Errors as
        :meth:`pod_containers_by_id`, then :class:`CorruptDocumentError` for a member that
        cannot be read."""
        self._live_pod(pod)

        def members(cat: Catalog) -> list[Container]:
            self._stored_pod(cat, pod)
            return list(cat.load_containers(cat.pod_members(pod.id)))

        with codec.many_documents():
            return self._run(members)

    def add_pod(self, pod: Pod) -> None:
        """Add a pod (§1.2 AddPod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`InvalidArgumentError` (schema),
        :class:`NamespaceMismatchError`, :class:`PodExistsError` / :class:`ContainerExistsError`
        (ID, then name, taken by a pod / a container — Decisions 1–2)."""
        self._live_pod(pod)
        schema.validate("pod-config", pod.config, what=f"pod {pod.id} config")
        schema.validate("pod-state", pod.state, what=f"pod {pod.id} state")
        if pod.namespace:
            L.check_name(pod.namespace, f"pod {pod.id} namespace")

        def add(cat: Catalog) -> None:
            self._ns_check(f"pod {pod.id}", pod.namespace)
            cat.check_free(pod.id, pod.name)
            cat.add_pod(pod)

        self._run(add)

    def remove_pod(self, pod: Pod) -> None:
        """Remove an empty pod (§1.2 RemovePod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`NamespaceMismatchError`, :class:`NoSuchPodError`
        (+inv), :class:`ContainerExistsError` (the pod has members)."""
        self._live_pod(pod)

        def remove(cat: Catalog) -> None:
            stored = self._stored_pod(cat, pod)
            members = cat.pod_members(pod.id)
            if members:
                raise ContainerExistsError(
                    f"pod {pod.id} still has containers: {', '.join(members)}", id=pod.id
                )
            cat.remove_pod(stored)

        self._run(remove)

    def remove_pod_containers(self, pod: Pod) -> None:
        """Remove every member of ``pod`` at once, with their exec-session registrations and
        volume-user entries (§1.2 RemovePodContainers; exec sessions do not block). Errors, in
        order: :class:`StateClosedError`, :class:`PodRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchPodError` (+inv),
        :class:`NoSuchContainerError` (a member has no config), :class:`ContainerExistsError`
        (a container outside the pod depends on a member)."""
        self._live_pod(pod)

        def remove(cat: Catalog) -> None:
            self._stored_pod(cat, pod)
            ids = cat.pod_members(pod.id)
            members = list(cat.load_containers(ids))
            inside = set(ids)
            for member in members:
                outside = [d for d in cat.dependents(member.id) if d not in inside]
                if outside:
                    raise ContainerExistsError(
                        f"container {outside[0]} outside pod {pod.id} depends on member "
                        f"{member.id}",
                        id=member.id,
                    )
            for member in members:
                cat.remove_container(member)

        self._run(remove)

    def update_pod(self, pod: Pod) -> None:
        """Replace ``pod.state`` with the stored state (§1.2 UpdatePod). Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NamespaceMismatchError`,
        :class:`NoSuchPodError` (+inv), :class:`InternalError` (no state document)."""
        self._live_pod(pod)

        def update(cat: Catalog) -> dict[str, Any]:
            self._stored_pod(cat, pod)
            state = cat.doc(L.pod_doc(pod.id, "state"))
            if state is None:
                raise InternalError(f"pod {pod.id} has no state document", id=pod.id)
            return state

        pod.state = self._run(update)

    def save_pod(self, pod: Pod) -> None:
        """Store ``pod.state`` (§1.2 SavePod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`NamespaceMismatchError`, :class:`NoSuchPodError`
        (+inv), :class:`InvalidArgumentError` (schema)."""
        self._live_pod(pod)

        def save(cat: Catalog) -> None:
            self._stored_pod(cat, pod)
            schema.validate("pod-state", pod.state, what=f"pod {pod.id} state")
            cat.put_doc(L.pod_doc(pod.id, "state"), pod.state, f"pod {pod.id} state")

        self._run(save)

    def rewrite_pod_config(self, pod: Pod, config: Mapping[str, Any]) -> None:
        """Replace the stored PodConfig and set ``pod.config`` (§1.2 RewritePodConfig). A new
        name is registered; the ID and namespace cannot change. Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NoSuchPodError` (+inv),
        :class:`InvalidArgumentError`, :class:`ContainerExistsError` / :class:`PodExistsError`
        (new name taken)."""
        self._live_pod(pod)
        new = _mapping(config, f"pod {pod.id} config")

        def rewrite(cat: Catalog) -> None:
            stored = self._stored_pod(cat, pod, ns=False)
            schema.validate("pod-config", new, what=f"pod {pod.id} config")
            candidate = Pod._adopt(new)
            if (candidate.id, candidate.namespace) != (stored.id, stored.namespace):
                raise InvalidArgumentError(
                    f"pod {stored.id}: the ID and namespace cannot be changed by a rewrite"
                )
            self._rename(cat, POD, stored.id, stored.name, candidate.name)
            cat.put_doc(L.pod_doc(stored.id, "config"), new, f"pod {stored.id} config")

        self._run(rewrite)
        pod.config = codec.decode_object(codec.encode(new), "config")

    def all_pods(self) -> list[Pod]:
        """Every pod in the namespace, sorted by ID, with empty states (§1.2 AllPods). A pod
        whose config cannot be read is skipped with a warning. Errors:
        :class:`StateClosedError`."""
        self._check_open()

        def all_pods(cat: Catalog) -> list[Pod]:
            out = []
            for pid in cat.ids(POD, self._namespace):
                try:
                    pod = cat.pod(pid)
                except CorruptDocumentError as exc:
                    log.warning("all_pods: skipping %s", exc)
                    continue
                if pod is not None and not self._ns_hidden(pod.namespace):
                    out.append(pod)
            return out

        with codec.many_documents():
            return self._run(all_pods)

    # -- volumes (§1.2, §2.6; never namespaced) ------------------------------------------------

    def _live_volume(self, vol: Volume) -> None:
        self._check_open()
        if not vol.valid:
            raise VolumeRemovedError(f"volume {vol.name} was removed", name=vol.name)

    def _stored_volume(self, cat: Catalog, vol: Volume) -> Volume:
        stored = self._load_volume(cat, vol.name) if L.is_valid_name(vol.name) else None
        if stored is None:
            vol.valid = False
            raise NoSuchVolumeError(f"volume {vol.name} is not in the state", name=vol.name)
        return stored

    def _load_volume(self, cat: Catalog, name: str) -> Volume | None:
        config = cat.doc(L.volume_doc(name, "config"))
        if config is None:
            return None
        return Volume._adopt(config, cat.doc(L.volume_doc(name, "state")) or {})

    def volume(self, name: str) -> Volume:
        """The volume called ``name``, with its state (§1.2 Volume). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchVolumeError`."""
        self._arg(name, "volume name")

        def get(cat: Catalog) -> Volume:
            vol = self._load_volume(cat, name)
            if vol is None:
                raise NoSuchVolumeError(f"no volume {name}", name=name)
            return vol

        return self._run(get)

    def lookup_volume(self, name: str) -> Volume:
        """The volume called ``name``, or the only one whose name starts with it (§1.2
        LookupVolume). Errors, in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError`, :class:`VolumeExistsError` (ambiguous),
        :class:`NoSuchVolumeError`."""
        self._arg(name, "volume name")

        def lookup(cat: Catalog) -> Volume:
            vol = self._load_volume(cat, name)
            if vol is not None:
                return vol
            matches = [n for n in cat.volume_names() if n.startswith(name)]
            if len(matches) > 1:
                raise VolumeExistsError(f"more than one volume name starts with {name}")
            vol = self._load_volume(cat, matches[0]) if matches else None
            if vol is None:
                raise NoSuchVolumeError(f"no volume with name or prefix {name}", name=name)
            return vol

        return self._run(lookup)

    def has_volume(self, name: str) -> bool:
        """Whether volume ``name`` exists (§1.2 HasVolume). Errors: :class:`EmptyIDError`,
        :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(name, "volume name")
        return self._run(lambda cat: cat.is_volume(name))

    def volume_in_use(self, vol: Volume) -> list[str]:
        """Sorted IDs of existing containers that mount ``vol`` (§1.2 VolumeInUse). Errors, in
        order: :class:`StateClosedError`, :class:`VolumeRemovedError`,
        :class:`NoSuchVolumeError` (+inv)."""
        self._live_volume(vol)

        def in_use(cat: Catalog) -> list[str]:
            self._stored_volume(cat, vol)
            return [c for c in cat.volume_users(vol.name) if cat.is_container(c)]

        return self._run(in_use)

    def add_volume(self, vol: Volume) -> None:
        """Add a named volume (§1.2 AddVolume). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`InvalidArgumentError` (schema),
        :class:`VolumeExistsError`."""
        self._live_volume(vol)
        schema.validate("volume-config", vol.config, what=f"volume {vol.name} config")
        schema.validate("volume-state", vol.state, what=f"volume {vol.name} state")
        name = vol.name

        def add(cat: Catalog) -> None:
            if cat.is_volume(name):
                raise VolumeExistsError(f"volume {name} already exists", name=name)
            cat.put_doc(L.volume_doc(name, "config"), vol.config, f"volume {name} config")
            cat.put_doc(L.volume_doc(name, "state"), vol.state, f"volume {name} state")

        self._run(add)

    def remove_volume(self, vol: Volume) -> None:
        """Remove an unused volume (§1.2 RemoveVolume; ``valid`` is not checked). Errors, in
        order: :class:`StateClosedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`VolumeBeingUsedError` (an existing container mounts it)."""
        self._check_open()

        def remove(cat: Catalog) -> None:
            self._stored_volume(cat, vol)
            name = vol.name
            users = cat.volume_users(name)
            live = [c for c in users if cat.is_container(c)]
            if live:
                raise VolumeBeingUsedError(
                    f"volume {name} is used by containers {', '.join(live)}", name=name
                )
            for cid in users:  # stale entries (Decision 4: readers ignore them)
                cat.txn.delete(f"{L.volume_users_dir(name)}/{cid}")
            cat.txn.rmdir(L.volume_users_dir(name))
            for doc in cat.txn.listdir(L.volume_dir(name)):
                cat.txn.delete(f"{L.volume_dir(name)}/{doc}")
            cat.txn.rmdir(L.volume_dir(name))

        self._run(remove)

    def update_volume(self, vol: Volume) -> None:
        """Replace ``vol.state`` with the stored state, ``{}`` if none (§1.2 UpdateVolume).
        Errors, in order: :class:`StateClosedError`, :class:`VolumeRemovedError`,
        :class:`NoSuchVolumeError` (+inv)."""
        self._live_volume(vol)
        vol.state = self._run(lambda cat: self._stored_volume(cat, vol).state)

    def save_volume(self, vol: Volume) -> None:
        """Store ``vol.state`` (§1.2 SaveVolume). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`InvalidArgumentError` (schema)."""
        self._live_volume(vol)

        def save(cat: Catalog) -> None:
            self._stored_volume(cat, vol)
            schema.validate("volume-state", vol.state, what=f"volume {vol.name} state")
            cat.put_doc(L.volume_doc(vol.name, "state"), vol.state, f"volume {vol.name} state")

        self._run(save)

    def rewrite_volume_config(self, vol: Volume, config: Mapping[str, Any]) -> None:
        """Replace the stored VolumeConfig and set ``vol.config`` (§1.2 RewriteVolumeConfig;
        the name cannot change). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`InvalidArgumentError`."""
        self._live_volume(vol)
        new = _mapping(config, f"volume {vol.name} config")

        def rewrite(cat: Catalog) -> None:
            self._stored_volume(cat, vol)
            schema.validate("volume-config", new, what=f"volume {vol.name} config")
            if new.get("name") != vol.name:
                raise InvalidArgumentError(f"volume {vol.name}: the name cannot be changed")
            cat.put_doc(L.volume_doc(vol.name, "config"), new, f"volume {vol.name} config")

        self._run(rewrite)
        vol.config = codec.decode_object(codec.encode(new), "config")

    def all_volumes(self) -> list[Volume]:
        """Every volume with its state, sorted by name (§1.2 AllVolumes). A volume that cannot
        be read is skipped with a warning. Errors: :class:`StateClosedError`."""
        self._check_open()

        def all_volumes(cat: Catalog) -> list[Volume]:
            out = []
            for name in cat.volume_names():
                try:
                    vol = self._load_volume(cat, name)
                except CorruptDocumentError as exc:
                    log.warning("all_volumes: skipping %s", exc)
                    continue
                if vol is not None:
                    out.append(vol)
            return out

        with codec.many_documents():
            return self._run(all_volumes)

    # -- arguments -------------------------------------------------------------------------------

    def _arg(self, value: str, what: str) -> None:
        """Getter argument checks, in SEED order: empty → closed → syntax."""
        if value == "":
            raise EmptyIDError(f"{what} is empty")
        self._check_open()
        L.check_name(value, what)


def _network_arg(network: str) -> None:
    if not isinstance(network, str) or network == "":
        raise InvalidArgumentError("network name must be a non-empty string")


def _mapping(config: Any, what: str) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping, not {type(config).__name__}")
    return codec.decode_object(codec.encode(dict(config), what=what), what)
