"""The catalog: documents and indexes in Podman's terms, over one transaction.

:class:`Catalog` answers "which containers exist, who owns this name, who depends on X" from the
files of ``layout.py``, and records the puts and deletes that add or remove an object together
with every index entry derived from it. It knows paths and index shapes, not Podman's check
order — that lives in ``fsstate.state``. The indexes are the ones ``layout.INDEXES`` declares;
:data:`KEYS` says how each is filled from an object (adding an index: a line there and one in
layout). ``fsstate.fsck`` and the crash suite use :func:`container_entries` and friends to
derive the index from documents.
"""

from __future__ import annotations

import bisect
import functools
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from fsstate.errors import (
    ContainerExistsError,
    CorruptDocumentError,
    PodExistsError,
)
from fsstate.model import NAME_KEYS, Container, Pod
from fsstate.state import shape
from fsstate.state.checked import CheckedConfigs
from fsstate.state.semantics import BOLT, Semantics
from fsstate.store import codec
from fsstate.store import layout as L
from fsstate.store.txn import Txn

__all__ = [
    "CONTAINER",
    "EXEC_SESSION",
    "KEYS",
    "POD",
    "VOLUME",
    "Catalog",
    "container_entries",
    "exec_entries",
    "exists_error",
    "name_path",
    "names_valid",
    "pod_entries",
    "volume_entries",
]

log = logging.getLogger(__name__)

CONTAINER = L.CONTAINERS.name
POD = L.PODS.name
VOLUME = L.VOLUMES.name
EXEC_SESSION = "exec-session"
EXIT_CODE = "exit-code"
#: The kinds that share the name registry, and their kinds in the layout.
_NAMED = {CONTAINER: L.CONTAINERS, POD: L.PODS}
ObjT = TypeVar("ObjT", Container, Pod)
#: The name registries, and the kind whose registry each is.
_NAME_DIRS = {L.NAME_INDEX: CONTAINER, L.POD_NAME_INDEX: POD}
#: Container and pod configs found valid, shared by every store of this process (keyed by the
#: store's own path of each file).
_CHECKED = CheckedConfigs()


def _ns(obj: Container | Pod) -> list[tuple[str, ...]]:
    return [(obj.namespace, obj.id)] if obj.namespace else []


def _storage_id(vol: tuple[str, Mapping[str, Any]]) -> list[tuple[str, ...]]:
    storage_id = vol[1].get("storageID")
    return [(storage_id, vol[0])] if isinstance(storage_id, str) and _ok(storage_id) else []


#: How each index of ``layout.INDEXES`` is filled: the keys of its pattern (``<shard>`` left
#: out) that one object implies — a Container, a Pod, a volume's ``(name, config)``, an exec
#: session's ``(sid, ctr-id)``, or the container ID of an exit code whose container is gone.
KEYS: dict[L.Index, Callable[[Any], Iterable[tuple[str, ...]]]] = {
    L.CONTAINER_IDS: lambda ctr: [(ctr.id,)],
    L.POD_IDS: lambda pod: [(pod.id,)],
    L.VOLUME_NAMES: lambda vol: [(vol[0],)],
    L.NAMES: lambda obj: [(obj.name,)],
    L.CONTAINER_NAMESPACES: _ns,
    L.POD_NAMESPACES: _ns,
    L.DEPENDENTS: lambda ctr: [(dep, ctr.id) for dep in ctr.dependencies()],
    L.POD_MEMBERS: lambda ctr: [(ctr.pod_id, ctr.id)] if ctr.pod_id else [],
    L.VOLUME_USERS: lambda ctr: [(vol, ctr.id) for vol in ctr.named_volumes()],
    L.EXEC_SESSIONS: lambda session: [(session[1], session[0])],
    L.POD_NAMES: lambda pod: [(pod.name,)],
    L.VOLUME_STORAGE: _storage_id,
    L.EXIT_ORPHANS: lambda cid: [(cid,)],
}


def _applies(index: L.Index, kind: str, rules: Semantics) -> bool:
    """Whether ``index`` is kept for ``kind`` under ``rules``: pod names go to
    ``index/pod-names`` unless names are shared, and namespaces are indexed only where they
    are honoured (``semantics.py``)."""
    if index is L.NAMES:
        return kind == CONTAINER or rules.shared_names
    if index is L.POD_NAMES:
        return not rules.shared_names
    if index in (L.CONTAINER_NAMESPACES, L.POD_NAMESPACES):
        return rules.namespaces
    return True


def _entries(kind: str, obj: Any, oid: str, rules: Semantics = BOLT) -> dict[str, bytes]:
    """Every index file object ``obj`` (ID or name ``oid``) of ``kind`` implies under
    ``rules``, in the order of ``layout.INDEXES``: path → contents."""
    out: dict[str, bytes] = {}
    for index in L.INDEXES:
        if kind in index.kinds and _applies(index, kind, rules):
            data = codec.encode({"kind": kind, "id": oid}) if index.name_entry else b""
            out |= dict.fromkeys((index.path(*keys) for keys in KEYS[index](obj)), data)
    return out


def container_entries(ctr: Container, rules: Semantics = BOLT) -> dict[str, bytes]:
    """Every index file a stored container implies under ``rules`` (path → contents)."""
    return _entries(CONTAINER, ctr, ctr.id, rules)


def pod_entries(pod: Pod, rules: Semantics = BOLT) -> dict[str, bytes]:
    """Every index file a stored pod implies under ``rules``."""
    return _entries(POD, pod, pod.id, rules)


def volume_entries(name: str, config: Mapping[str, Any]) -> dict[str, bytes]:
    """Every index file a stored volume with ``config`` implies: its registry entry, and the
    ``ContainerIDIsVolume`` entry of its ``storageID`` when that can be a file name."""
    return _entries(VOLUME, (name, config), name)


def name_path(kind: str, name: str, rules: Semantics) -> str:
    """The name registry entry of ``name`` for a ``kind`` under ``rules``."""
    index = L.NAMES if rules.shared_names or kind == CONTAINER else L.POD_NAMES
    return index.path(name)


def exec_entries(sid: str, cid: str) -> dict[str, bytes]:
    """Every index file the registration of exec session ``sid`` to container ``cid``
    implies."""
    return _entries(EXEC_SESSION, (sid, cid), sid)


class Catalog:
    """Documents and indexes seen through ``txn`` (pending changes included), under the
    store's ``rules``. Every method that takes a caller's name or ID answers "absent" for one
    that cannot be stored (:func:`fsstate.store.layout.is_valid_name`): it never becomes a
    path."""

    def __init__(self, txn: Txn, rules: Semantics = BOLT) -> None:
        self.txn = txn
        self.rules = rules

    # -- documents -------------------------------------------------------------------------

    def doc(self, path: str, kind: str | None = None) -> dict[str, Any] | None:
        """The decoded JSON object at ``path``, ``None`` when absent;
        :class:`CorruptDocumentError` when unreadable or, given the document ``kind`` (one of
        ``schema.KINDS``), when a value the store interprets has the wrong JSON type
        (:func:`fsstate.state.shape.check`)."""
        data = self.txn.read(path)
        if data is None:
            return None
        abspath = self.abspath(path)
        doc = codec.decode_object(data, abspath)
        if kind is not None:
            shape.check(kind, doc, abspath)
        return doc

    def abspath(self, path: str) -> str:
        """``path`` with the store directory in front, for messages (as it is, in memory)."""
        root = getattr(self.txn.storage, "root", "")
        return f"{root}/{path}" if root else path

    def put_doc(self, path: str, doc: Any, what: str) -> None:
        self.txn.put(path, codec.encode(doc, what=what))

    def container_config(self, cid: str) -> dict[str, Any] | None:
        return self.doc(L.container_doc(cid, "config"), "container-config")

    def container(self, cid: str, keep: codec.Projection | None = None) -> Container | None:
        """The stored container with its config and an empty state, or ``None``;
        :class:`CorruptDocumentError` when its config does not decode, has the wrong shape, or
        holds another ID or a name that cannot be a path. The config is decoded when first
        read if these bytes were checked before (``checked.py``). Given ``keep``, the config
        holds what ``keep`` keeps and the keys these checks read (:func:`_keeping`), and
        nothing else is decoded (a listing that prints a few fields)."""
        if not _ok(cid):
            return None
        path = L.container_doc(cid, "config")
        return self._registered(Container, "container-config", path, cid, keep)

    def pod(self, pid: str) -> Pod | None:
        """The stored pod with its config and an empty state, or ``None``; errors as
        :meth:`container`."""
        if not _ok(pid):
            return None
        return self._registered(Pod, "pod-config", L.pod_doc(pid, "config"), pid)

    def _registered(
        self, cls: type[ObjT], kind: str, path: str, oid: str, keep: codec.Projection | None = None
    ) -> ObjT | None:
        data = self.txn.read(path)
        if data is None:
            return None
        abspath = self.abspath(path)
        if keep is not None:
            doc = _keeping(keep, kind).decode(data, abspath)
            shape.check(kind, doc, abspath)  # the same verdict: it holds every key checked
            return _checked(cls._adopt(doc), oid, abspath, self.rules)
        key = (abspath, self.rules.namespaces)
        deferred = _CHECKED.get(key, data)
        if deferred is not None:
            return cls._deferred(deferred)
        doc = codec.decode_object(data, abspath)
        shape.check(kind, doc, abspath)
        obj = _checked(cls._adopt(doc), oid, abspath, self.rules)
        _CHECKED.add(key, (data, abspath, (obj.id, obj.name, obj.namespace)))
        return obj

    # -- registries ------------------------------------------------------------------------

    def is_container(self, cid: str) -> bool:
        return _ok(cid) and self.txn.exists(L.container_doc(cid, "config"))

    def is_pod(self, pid: str) -> bool:
        return _ok(pid) and self.txn.exists(L.pod_doc(pid, "config"))

    def is_volume(self, name: str) -> bool:
        return _ok(name) and self.txn.exists(L.volume_doc(name, "config"))

    def name_owner(self, name: str, kind: str = CONTAINER) -> tuple[str, str] | None:
        """``(kind, id)`` of the object that holds ``name`` in the registry a ``kind`` uses
        (under shared names that may be the other kind), or ``None``."""
        if not _ok(name):
            return None
        entry = self.doc(name_path(kind, name, self.rules))
        if entry is None:
            return None
        holder, oid = entry.get("kind"), entry.get("id")
        if holder not in _NAMED or not isinstance(oid, str) or not L.is_valid_name(oid):
            return None
        return holder, oid

    def id_owner(self, oid: str) -> str | None:
        """``container``, ``pod`` or ``None``: who holds ``oid`` in the shared ID registry."""
        if self.is_container(oid):
            return CONTAINER
        if self.is_pod(oid):
            return POD
        return None

    def check_free(self, oid: str, name: str, kind: str = CONTAINER) -> None:
        """Raise if ``oid`` (one registry for container and pod IDs in both semantics) or
        ``name`` (in the registry ``kind`` uses) is taken: by a container →
        :class:`ContainerExistsError`, by a pod → :class:`PodExistsError` (API.md Decisions 1
        and 2). Bolt checks the ID first (§1.2 shared insert steps 3–4); NEWEST the name
        (sqi:441-453, sq:1609-1620)."""

        def check_id() -> None:
            owner = self.id_owner(oid)
            if owner is not None:
                raise exists_error(owner, f"ID {oid} is in use by a {owner}", id=oid)

        if self.rules.id_first:
            check_id()
        held = self.name_owner(name, kind)
        if held is not None:
            raise exists_error(held[0], f"name {name} is in use by {held[0]} {held[1]}", name=name)
        check_id()

    def ids(self, kind: str, namespace: str = "") -> list[str]:
        """Sorted IDs of every container or pod (``kind``), or of those in ``namespace``.

        Every ID is listed from the documents' directory, not the ID registry: a registry
        shard lost to damage must not hide its objects (issue 8; ``fsck`` reports it)."""
        if namespace:
            if not L.is_valid_name(namespace):
                return []
            return [i for i in self.txn.listdir(L.NAMESPACE[kind].dir(namespace)) if _ok(i)]
        return [i for i in self.txn.listdir(_NAMED[kind].top) if _ok(i)]

    def index_missing(self) -> bool:
        """Whether the index is gone while containers or pods exist: a store holding any has
        a name registry (an entry per name; the directory is never removed). Cheap: one
        ``exists``, and two directory listings only when that fails."""
        if any(self.txn.exists(d) for d in _NAME_DIRS):
            return False
        return any(self.txn.listdir(kind.top) for kind in _NAMED.values())

    def ids_with_prefix(self, kind: str, prefix: str) -> list[str]:
        """Sorted IDs (volume names, for ``VOLUME``) of ``kind`` starting with ``prefix`` (a
        valid, non-empty name): one shard directory, or, for a prefix shorter than a shard's
        name, the shards starting with it (names that short included)."""
        registry = L.REGISTRY[kind]
        if not _ok(prefix):
            return []
        if len(prefix) >= L.SHARD_WIDTH:  # sorted listing: the matches are one run (bisection)
            names = self.txn.listdir(registry.dir(L.shard(prefix)))
            found = []
            for i in names[bisect.bisect_left(names, prefix) :]:
                if not i.startswith(prefix):
                    break
                if _ok(i):
                    found.append(i)
            return found
        shards = [s for s in self.txn.listdir(registry.dir()) if s.startswith(prefix)]
        return sorted(
            i
            for s in shards
            for i in self.txn.listdir(registry.dir(s))
            if i.startswith(prefix) and _ok(i)
        )

    def in_namespace(self, kind: str, oid: str, namespace: str) -> bool:
        return L.is_valid_name(namespace) and self.txn.exists(
            L.NAMESPACE[kind].path(namespace, oid)
        )

    def volume_names(self) -> list[str]:
        return [n for n in self.txn.listdir(L.VOLUMES.top) if _ok(n)]

    def dependents(self, cid: str) -> list[str]:
        return [i for i in self.txn.listdir(L.dependents_dir(cid)) if _ok(i)]

    def pod_members(self, pid: str) -> list[str]:
        """The member entries of pod ``pid`` (an entry may outlive a container removed by
        hand: see :meth:`live_pod_members`)."""
        return [i for i in self.txn.listdir(L.pod_members_dir(pid)) if _ok(i)]

    def live_pod_members(self, pid: str) -> list[str]:
        """The member entries of pod ``pid`` whose container exists."""
        return [i for i in self.pod_members(pid) if self.is_container(i)]

    def volume_users(self, name: str) -> list[str]:
        return [i for i in self.txn.listdir(L.volume_users_dir(name)) if _ok(i)]

    def exec_sessions(self, cid: str) -> list[str]:
        return [i for i in self.txn.listdir(L.exec_index(cid)) if _ok(i)]

    def all_exec_sessions(self) -> list[str]:
        return [n for n in self.txn.listdir(L.EXEC) if _ok(n)]

    # -- adding and removing objects with their index entries -----------------------------

    def add_container(self, ctr: Container, networks: dict[str, Any] | None) -> None:
        cid = ctr.id
        self.put_doc(L.container_doc(cid, "config"), ctr.config, f"container {cid} config")
        self.put_doc(L.container_doc(cid, "state"), ctr.state, f"container {cid} state")
        if networks is not None:
            self.put_doc(L.container_doc(cid, "networks"), networks, f"container {cid} networks")
        self._put_entries(container_entries(ctr, self.rules))
        if self.txn.exists(L.EXIT_ORPHANS.path(cid)):
            self.txn.delete(L.EXIT_ORPHANS.path(cid))  # its exit code has a container again

    def remove_container(self, stored: Container) -> None:
        """Delete a stored container's documents, index entries and exec registrations."""
        cid = stored.id
        for sid in self.exec_sessions(cid):
            self.txn.delete(L.EXEC_SESSIONS.path(cid, sid))
            self._delete_exec_doc_of(sid, cid)
        self.txn.rmdir(L.exec_index(cid))
        self._delete_entries(container_entries(stored, self.rules), keep_name_of_other=cid)
        self._delete_dir(L.container_dir(cid))
        self.txn.rmdir(L.dependents_dir(cid))
        if self.txn.exists(L.exit_code_doc(cid)):
            self.txn.put(L.EXIT_ORPHANS.path(cid), b"")  # the exit code stays, now prunable

    def _delete_exec_doc_of(self, sid: str, cid: str) -> None:
        record = self.doc(L.exec_doc(sid))
        if record is not None and record.get("containerId") == cid:
            self.txn.delete(L.exec_doc(sid))

    def add_volume(self, name: str, config: dict[str, Any], state: dict[str, Any]) -> None:
        self.put_doc(L.volume_doc(name, "config"), config, f"volume {name} config")
        self.put_doc(L.volume_doc(name, "state"), state, f"volume {name} state")
        self._put_entries(volume_entries(name, config))

    def remove_volume(self, name: str, config: Mapping[str, Any] | None = None) -> None:
        """Delete a volume's documents, its index entries and its (stale) user entries;
        ``config`` is its config (read from the store when not given)."""
        if config is None:
            config = self.doc(L.volume_doc(name, "config")) or {}
        self._delete_dir(L.volume_users_dir(name))
        self._delete_dir(L.volume_dir(name))
        self._delete_entries(volume_entries(name, config), keep_name_of_other=name)

    def rewrite_volume_config(self, name: str, old: Mapping[str, Any], new: Any) -> None:
        """Store a volume's new config, moving its ``storageID`` entry with it."""
        self._delete_entries(volume_entries(name, old), keep_name_of_other=name)
        self.put_doc(L.volume_doc(name, "config"), new, f"volume {name} config")
        self._put_entries(volume_entries(name, new))

    def volumes_with_storage_id(self, storage_id: str) -> list[str]:
        """Names of the volumes whose config has ``storageID == storage_id`` (one index
        directory; a stale entry is ignored)."""
        if not _ok(storage_id):
            return []
        names = self.txn.listdir(L.VOLUME_STORAGE.dir(storage_id))
        return [n for n in names if self.is_volume(n)]

    def add_pod(self, pod: Pod) -> None:
        self.put_doc(L.pod_doc(pod.id, "config"), pod.config, f"pod {pod.id} config")
        self.put_doc(L.pod_doc(pod.id, "state"), pod.state, f"pod {pod.id} state")
        self._put_entries(pod_entries(pod, self.rules))

    def remove_pod(self, stored: Pod) -> None:
        """Delete a pod's documents and index entries, with member entries left by containers
        that are gone (the caller checked that no member exists)."""
        pid = stored.id
        self._delete_entries(pod_entries(stored, self.rules), keep_name_of_other=pid)
        self._delete_dir(L.pod_dir(pid))
        self._delete_dir(L.pod_members_dir(pid))

    def remove_stale_members(self, pid: str) -> None:
        """Drop the member entries of pod ``pid`` whose container is gone."""
        for cid in self.pod_members(pid):
            if not self.is_container(cid):
                self.txn.delete(L.POD_MEMBERS.path(pid, cid))

    def rename(self, kind: str, oid: str, old: str, new: str) -> None:
        """Move the name registry entry of ``oid`` from ``old`` to ``new`` (both checked)."""
        if self.name_owner(old, kind) == (kind, oid):
            self.txn.delete(name_path(kind, old, self.rules))
        self.txn.put(name_path(kind, new, self.rules), codec.encode({"kind": kind, "id": oid}))

    def _delete_dir(self, directory: str) -> None:
        """Delete every file in ``directory`` (one level), then the directory."""
        for name in self.txn.listdir(directory):
            self.txn.delete(f"{directory}/{name}")
        self.txn.rmdir(directory)

    def _put_entries(self, entries: dict[str, bytes]) -> None:
        for path, data in entries.items():
            self.txn.put(path, data)

    def _delete_entries(self, entries: dict[str, bytes], *, keep_name_of_other: str) -> None:
        for path in entries:
            directory, _, name = path.rpartition("/")
            if directory in _NAME_DIRS:
                owner = self.name_owner(name, _NAME_DIRS[directory])
                if owner is not None and owner[1] != keep_name_of_other:
                    continue  # the name belongs to someone else now; not ours to drop
            self.txn.delete(path)
        # Not listed first: index/volume-users/<volume> may hold every container of the store.
        # A directory that still holds an entry stays (rmdir of a non-empty one is a no-op).
        for directory in _emptied_dirs(entries):
            self.txn.rmdir(directory)

    # -- exec sessions ---------------------------------------------------------------------

    def exec_owner(self, sid: str) -> str | None:
        """The container ID a session is registered to, or ``None``."""
        if not _ok(sid):
            return None
        record = self.doc(L.exec_doc(sid), "exec-session")
        if record is None:
            return None
        owner = record.get("containerId")
        return owner if L.is_valid_name(owner) else ""  # never a path out of index/exec

    def add_exec(self, sid: str, cid: str) -> None:
        self.put_doc(L.exec_doc(sid), {"id": sid, "containerId": cid}, f"exec session {sid}")
        self._put_entries(exec_entries(sid, cid))

    def remove_exec(self, sid: str, cid: str) -> None:
        """Drop a registration; ``cid`` is ``""`` when the record named no valid container,
        and then there is no per-container index entry to drop."""
        self.txn.delete(L.exec_doc(sid))
        if cid:
            self.txn.delete(L.EXEC_SESSIONS.path(cid, sid))

    # -- exit codes ------------------------------------------------------------------------

    def exit_code(self, cid: str) -> dict[str, Any] | None:
        """The exit-code document of container ID ``cid``, or ``None``."""
        return self.doc(L.exit_code_doc(cid), EXIT_CODE) if _ok(cid) else None

    def put_exit_code(self, cid: str, exit_code: int, timestamp: int) -> None:
        """Store (or replace) the exit code of ``cid``. Without a container it is indexed as
        an orphan, the only exit codes a prune looks at."""
        doc = {"id": cid, "exitCode": exit_code, "timestamp": timestamp}
        self.put_doc(L.exit_code_doc(cid), doc, f"exit code of container {cid}")
        if not self.is_container(cid):
            self.txn.put(L.EXIT_ORPHANS.path(cid), b"")

    def prune_exit_codes(self, cutoff: int) -> None:
        """Drop the exit codes with ``timestamp <= cutoff`` whose container is gone (NEWEST
        sq:1049-1077). Reads only the orphan index: the codes of containers removed since the
        last prune, never every container or every exit code."""
        for cid in self.txn.listdir(L.EXIT_ORPHANS.dir()):
            if not _ok(cid):
                continue
            try:
                doc = self.exit_code(cid)
            except CorruptDocumentError:
                continue  # fsck reports it; the other codes are still pruned
            if self.is_container(cid) or doc is None:
                self.txn.delete(L.EXIT_ORPHANS.path(cid))  # not an orphan (any more)
            elif doc["timestamp"] <= cutoff:
                self.txn.delete(L.exit_code_doc(cid))
                self.txn.delete(L.EXIT_ORPHANS.path(cid))

    def exit_code_ids(self) -> list[str]:
        """Sorted container IDs that have an exit code."""
        return [i for i in self.txn.listdir(L.EXIT_CODES) if _ok(i)]

    def clear_exit_codes(self) -> None:
        """Drop every exit code (NEWEST Refresh, sq:261)."""
        for cid in self.txn.listdir(L.EXIT_CODES):
            self.txn.delete(L.exit_code_doc(cid))
        for cid in self.txn.listdir(L.EXIT_ORPHANS.dir()):
            self.txn.delete(L.EXIT_ORPHANS.path(cid))

    # -- loading many ----------------------------------------------------------------------

    def load_containers(self, ids: Iterable[str]) -> Iterator[Container]:
        """The containers ``ids`` (index entries); one whose directory is gone is left out
        with a warning: the documents are the truth, ``fsck --repair`` drops the entry."""
        for cid in ids:
            ctr = self.container(cid)
            if ctr is None:
                log.warning("container %s is indexed but has no config; run fsck --repair", cid)
                continue
            yield ctr


def _ok(name: object) -> bool:
    return L.is_valid_name(name)


@functools.lru_cache(maxsize=16)
def _keeping(keep: codec.Projection, kind: str) -> codec.Projection:
    """``keep`` and the keys every read of a ``kind`` document checks: those of
    ``shape.check`` and the names :func:`names_valid` reads."""
    return keep.with_keys((*shape.interpreted_keys(kind), *NAME_KEYS))


def _checked(obj: ObjT, oid: str, path: str, rules: Semantics) -> ObjT:
    """``obj`` as read from ``path``, if its ID is ``oid`` and every name in it that becomes a
    path is valid: a planted config must not lead a removal or rename out of its own entries."""
    if obj.id != oid or not names_valid(obj, namespaces=rules.namespaces):
        raise CorruptDocumentError(f"{path}: a name or ID in it is not valid; run fsck", path=path)
    return obj


def names_valid(obj: Container | Pod, *, namespaces: bool = True) -> bool:
    """Whether every name in ``obj`` that becomes a path (ID, name, namespace where
    ``namespaces`` are honoured; a container's pod, dependencies and named volumes) passes
    ``layout.is_valid_name``."""
    valid = L.is_valid_name
    if not (valid(obj.id) and valid(obj.name)):
        return False
    if namespaces and (namespace := obj.namespace) and not valid(namespace):
        return False
    return not isinstance(obj, Container) or all(valid(n) for n in obj._path_names())


def _emptied_dirs(entries: dict[str, bytes]) -> list[str]:
    """The directories holding ``entries`` (registry shards, per-object index directories)
    that may be left empty after deleting them; the name registry itself always stays."""
    return sorted({path.rpartition("/")[0] for path in entries} - set(_NAME_DIRS))


def exists_error(kind: str, message: str, **fields: str) -> ContainerExistsError | PodExistsError:
    """The "already exists" error for a name or ID held by a ``kind`` (API.md Decision 2)."""
    cls = ContainerExistsError if kind == CONTAINER else PodExistsError
    return cls(message, **fields)
