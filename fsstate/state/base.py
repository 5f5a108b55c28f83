"""The plumbing every part of :class:`~fsstate.state.FileState` stands on, and shared checks.

:class:`StateBase` holds the constructor, the store lock and transaction (``_catalog``,
``transaction``, ``_run``; ``_read`` for a read that runs lock-free when it can), ``close``,
and the preconditions that open most calls, in SEED's order: argument syntax (``_arg``), the
namespace rules of §2.3 (``_ns_hidden``, ``_ns_check``), "the passed object is still valid"
(``_live``, ``_live_pod``) and "it is still stored" (``_require_container``,
``_stored_container``, ``_stored_pod``; these are the "+inv" of the docstrings). Also the one
resolver for container, pod and volume lookups (§2.2), the name change of a config rewrite, and
the "load each, skip an unreadable one" loop of the ``all_*`` methods.
Volume checks live in ``volumes.py``: no other part needs them.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Self, TypeVar

from fsstate.errors import (
    ContainerExistsError,
    ContainerRemovedError,
    CorruptDocumentError,
    EmptyIDError,
    ExistsError,
    InternalError,
    InvalidArgumentError,
    NamespaceMismatchError,
    NoSuchContainerError,
    NoSuchPodError,
    NoSuchVolumeError,
    NotFoundError,
    PodExistsError,
    PodRemovedError,
    StateClosedError,
    VolumeExistsError,
)
from fsstate.model import Container, Pod, Volume
from fsstate.state import fanout
from fsstate.state.catalog import CONTAINER, VOLUME, Catalog, exists_error, names_valid
from fsstate.state.pinning import settle, write_semantics
from fsstate.state.semantics import BOLT, by_name
from fsstate.store import codec
from fsstate.store import layout as L
from fsstate.store.fsio import PrivateDir
from fsstate.store.lock import DEFAULT_TIMEOUT
from fsstate.store.storage import FileStorage, Storage
from fsstate.store.txn import Txn

__all__ = ["StateBase", "mapping_arg"]

log = logging.getLogger(__name__)
T = TypeVar("T")
#: Lock-free tries of a read before it takes the lock (a commit landed during each).
_ATTEMPTS = 3
#: The objects that live in a namespace.
NsObj = TypeVar("NsObj", Container, Pod)


class StateBase:
    """What every part of FileState uses: the lock, the transaction and the shared checks."""

    def __init__(
        self,
        static_dir: str | os.PathLike[str],
        tmp_dir: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_TIMEOUT,
        storage: Storage | None = None,
        create: bool = True,
        semantics: str | None = None,
    ) -> None:
        requested = None if semantics is None else by_name(semantics)
        self.static_dir = os.fspath(static_dir)
        self.tmp_dir = os.fspath(tmp_dir)
        self._storage: Storage = storage or FileStorage(
            self.static_dir, lock_timeout=lock_timeout, create=create, on_create=self._born
        )
        try:
            PrivateDir(self.tmp_dir).close()  # made 0700 now; refused now if another user's
        except BaseException:
            self._storage.close()
            raise
        self._namespace = ""
        self._closed = False
        self._txn: Txn | None = None
        self._requested = requested
        self._rules, self._settled = BOLT, False
        self._pin_seen: bytes | None = None  # semantics.json as last settled
        try:
            if not self._settle_lock_free():
                with self._catalog() as cat:  # settles the semantics; pins an explicit one
                    self._check_index(cat)
                    if not self._settled and requested is not None and not _read_only(cat):
                        write_semantics(cat, self._rules)
        except BaseException:
            self._storage.close()
            raise

    def _settle_lock_free(self) -> bool:
        """Settle the semantics and check the index as the locked path of ``__init__`` does,
        in one lock-free read (:meth:`_read`) when the store is pinned already: opening a
        store to look one thing up then takes no lock at all. False when that cannot be
        decided without the lock (no lock-free read now; a new store, whose pin is written
        under the lock; an answer that a commit may have changed meanwhile)."""
        attempt = self._storage.attempt()
        if attempt is None:
            return False
        with attempt:
            txn = Txn(attempt)
            pin = txn.read(L.SEMANTICS)
            try:
                rules, settled = settle(Catalog(txn), self._requested)
                if settled:
                    self._check_index(Catalog(txn, rules))
            except Exception:
                if attempt.holds():
                    raise
                return False
            if not settled or not attempt.holds():
                return False
        self._rules, self._settled, self._pin_seen = rules, True, pin
        return True

    @property
    def semantics(self) -> str:
        """The semantics pinned in the store: ``"bolt"`` or ``"sqlite"`` (API.md, Today's
        Podman)."""
        return self._rules.name

    def _check_index(self, cat: Catalog) -> None:
        """Refuse a store whose index is gone (issue 8): it would list nothing and take any
        name. :class:`CorruptDocumentError` naming the index and ``fsck --repair``."""
        if cat.index_missing():
            path = cat.abspath(L.NAME_INDEX)
            raise CorruptDocumentError(
                f"{path}: the index is missing while the store holds containers or pods; "
                "rebuild it with `fsstate fsck --repair`",
                path=path,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _born(self) -> None:
        """Called by the storage, under the store lock, when this open creates the store;
        before any other opener can see it. Overridden where a new store needs marking."""

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
                    yield Catalog(self._txn, self._rules)
                except BaseException:
                    self._txn.rollback(mark)
                    raise
                return
            txn = Txn(self._storage)
            pin = txn.read(L.SEMANTICS)  # a cached read unless someone committed meanwhile
            if not self._settled or pin != self._pin_seen:  # new, or migrated by anyone
                self._rules, self._settled = settle(Catalog(txn), self._requested)
                self._pin_seen = pin
            self._txn = txn
            try:
                cat = Catalog(txn, self._rules)
                yield cat
                if txn.ops and not self._settled:
                    write_semantics(cat, self._rules)  # the first commit pins the store
                self._storage.commit(txn.ops)
                for hook in txn.on_commit:
                    hook()
                if txn.ops:
                    self._settled = True
            finally:
                self._txn = None

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Group several calls into one atomic, durable change.

        Holds the store lock for the whole block; calls inside see each other's changes;
        everything is committed when the block ends normally and nothing is written if it
        raises. Yields ``self``. Raises :class:`StateClosedError` if closed.
        """
        self._check_open()
        with self._catalog():
            yield self

    @contextmanager
    def _import_transaction(self, semantics: str) -> Iterator[Self]:
        """:meth:`transaction` for a Podman import of a file of ``semantics``' kind (API.md,
        Today's Podman: a ``db.sql`` makes a ``"sqlite"`` store, a ``bolt_state.db`` a
        ``"bolt"`` one). A store that is still new (no pin, nothing stored, opened without an
        explicit semantics) follows ``semantics`` inside the block and its commit pins it, even
        when nothing else is written; any other store keeps its own. If the block raises, the
        store is left as it was, new store included."""
        self._check_open()
        adopt = not self._settled and self._requested is None and self._txn is None
        if adopt:
            self._requested = by_name(semantics)
        try:
            with self._catalog() as cat:
                yield self
                if adopt and not self._settled:
                    write_semantics(cat, self._rules)
        except BaseException:
            if adopt and not self._settled:
                self._requested, self._rules = None, BOLT
            raise
        finally:
            if adopt:
                self._requested = None

    def _run(self, fn: Callable[[Catalog], T]) -> T:
        with self._catalog() as cat:
            return fn(cat)

    def _read(self, fn: Callable[[Catalog], T], *passed: Container | Pod | Volume) -> T:
        """``fn`` (a read: it records no change) lock-free when the storage allows it
        (:meth:`FileStorage.attempt <fsstate.store.storage.FileStorage.attempt>`), else as
        :meth:`_run`. Its answer, or the error it raised, stands when the generation did not
        move meanwhile; else it is tried again (:data:`_ATTEMPTS` in all), then run under the
        lock (at once when the pinned semantics changed: the lock path settles them), with the
        ``valid`` flag of each ``passed`` object put back as it was after each
        try (the only thing a read may change)."""
        valid = [obj.valid for obj in passed]
        for _ in range(_ATTEMPTS if self._settled else 0):
            attempt = self._storage.attempt()
            if attempt is None:
                break
            with attempt:
                txn = Txn(attempt)
                if txn.read(L.SEMANTICS) != self._pin_seen:
                    break  # migrated by another process: the lock path settles the rules anew
                try:
                    result = fn(Catalog(txn, self._rules))
                except Exception:
                    if attempt.holds():
                        raise
                else:
                    if attempt.holds():
                        return result
            for obj, was in zip(passed, valid, strict=True):
                obj.valid = was
        return self._run(fn)

    def _cached_exists(self, oid: str, doc: Callable[[str, str], str]) -> bool | None:
        """Whether the config ``doc(oid, "config")`` exists, from the storage's cache
        (:meth:`FileStorage.cached_exists`), for ``has_*`` outside a namespace: ``None`` when
        the call must read as :meth:`_read` does (``oid`` is not a name that can be a path
        included)."""
        if self._namespace or not self._settled or not L.is_valid_name(oid):
            return None
        return self._storage.cached_exists(doc(oid, "config"))

    def close(self) -> None:
        """Mark the state closed; every later call but ``close`` and ``set_namespace`` raises
        :class:`StateClosedError`. Idempotent (§1.2 Close)."""
        if not self._closed:
            self._storage.close()  # waits for a call in flight in another thread
            self._closed = True

    # -- arguments and namespaces (§2.3) --------------------------------------------------------

    def _arg(self, value: str, what: str) -> None:
        """Getter argument checks, in SEED order: empty → closed → syntax. The syntax check
        raises only where ``odd_is_invalid``; elsewhere an odd string is simply not found, as
        the catalog never makes it a path."""
        if value == "":
            raise EmptyIDError(f"{what} is empty")
        self._check_open()
        if self._rules.odd_is_invalid:
            L.check_name(value, what)

    def _ns_hidden(self, namespace: str) -> bool:
        return self._namespace != "" and namespace != self._namespace

    def _ns_check(self, what: str, namespace: str) -> None:
        if self._ns_hidden(namespace):
            raise NamespaceMismatchError(
                f"{what} is in namespace {namespace!r}, not {self._namespace!r}", what=what
            )

    def _visible(self, obj: NsObj | None) -> NsObj | None:
        """``obj``, or ``None`` when it is absent or outside the namespace."""
        return obj if obj is not None and not self._ns_hidden(obj.namespace) else None

    # -- checks shared by the object-taking methods --------------------------------------------

    def _live(self, ctr: Container) -> None:
        self._check_open()
        if not ctr.valid:
            raise ContainerRemovedError(f"container {ctr.id} was removed", id=ctr.id)

    def _live_pod(self, pod: Pod) -> None:
        self._check_open()
        if not pod.valid:
            raise PodRemovedError(f"pod {pod.id} was removed", id=pod.id)

    def _require_container(self, cat: Catalog, ctr: Container, *, ns: bool = True) -> None:
        """The usual prefix of an object-taking method after the closed and valid checks:
        namespace check of the passed object, then existence (+inv)."""
        if ns:
            self._ns_check(f"container {ctr.id}", ctr.namespace)
        cid = ctr.id
        if not cat.is_container(cid):
            ctr.valid = False
            raise NoSuchContainerError(f"container {cid} is not in the state", id=cid)

    def _stored_container(
        self, cat: Catalog, ctr: Container, *, ns: bool = True, removing: bool = False
    ) -> Container:
        """:meth:`_require_container`, returning the stored container (its config); see
        :meth:`_passed_instead` for ``removing``."""
        self._require_container(cat, ctr, ns=ns)
        return self._load_stored(cat.container, ctr, removing)

    def _stored_pod(
        self, cat: Catalog, pod: Pod, *, ns: bool = True, removing: bool = False
    ) -> Pod:
        if ns:
            self._ns_check(f"pod {pod.id}", pod.namespace)
        if not (L.is_valid_name(pod.id) and cat.is_pod(pod.id)):
            pod.valid = False
            raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
        return self._load_stored(cat.pod, pod, removing)

    def _load_stored(
        self, load: Callable[[str], NsObj | None], obj: NsObj, removing: bool
    ) -> NsObj:
        """``load(obj.id)`` of an object known to be stored (we hold the lock); for a removal
        whose stored config cannot be read, the object passed in (:meth:`_passed_instead`)."""
        try:
            stored = load(obj.id)
        except CorruptDocumentError as exc:
            if not removing:
                raise
            return self._passed_instead(obj, exc)
        assert stored is not None
        return stored

    def _passed_instead(self, obj: NsObj, exc: CorruptDocumentError) -> NsObj:
        """For a removal whose stored config cannot be read: the object passed in, so damage
        never traps an object (issue 8). The removal then goes by ID, dropping the index
        entries of this ID that the passed config implies (a name entry only while it names
        this ID). When a name in it could not be a path either, ``exc`` is raised."""
        kind = type(obj).__name__.lower()
        if not names_valid(obj, namespaces=self._rules.namespaces):
            raise exc
        log.warning("removing %s %s by the config passed in: %s", kind, obj.id, exc)
        return obj

    def _state_doc(self, cat: Catalog, path: str, kind: str, oid: str) -> dict[str, Any]:
        """The state document at ``path`` of a stored container or pod; its absence is an
        :class:`InternalError` (the config exists, so the store is inconsistent)."""
        state = cat.doc(path, f"{kind}-state")
        if state is None:
            raise InternalError(f"{kind} {oid} has no state document", id=oid)
        return state

    # -- lookups, renames and listings shared by containers and pods ---------------------------

    def _resolve(self, cat: Catalog, kind: str, key: str) -> str:
        """The one resolver for every container, pod and volume lookup: the ID (for a volume,
        its name) that ``key`` means.

        Containers and pods, Bolt (§2.2, Decision 6): exact full ID, then exact name, then
        unique ID prefix within the namespace; NEWEST (sq:552-590, sq:1383-1425): exact name,
        then unique ID prefix, a full ID being one. Volumes (§1.2 LookupVolume; never
        namespaced): exact name, then unique literal name prefix. Raises, for a prefix that
        two or more share, :class:`ContainerExistsError` / :class:`PodExistsError` (NEWEST:
        :class:`ContainerExistsError` for pods too, sq:1420) / :class:`VolumeExistsError`; for
        none, :class:`NoSuchContainerError` / :class:`NoSuchPodError` /
        :class:`NoSuchVolumeError`."""
        if kind == VOLUME:
            if cat.is_volume(key):
                return key
            owner = None
        else:
            if self._rules.id_first and cat.id_owner(key) == kind:
                return key
            owner = cat.name_owner(key, kind)
            if owner is not None and owner[0] == kind:
                return owner[1]
        matches = cat.ids_with_prefix(kind, key)
        if self._namespace and kind != VOLUME:
            matches = [m for m in matches if cat.in_namespace(kind, m, self._namespace)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            if kind == "pod" and self._rules.ambiguous_pod_is_container_exists:
                raise ContainerExistsError(f"more than one pod ID starts with {key}")
            raise _ambiguous(kind, key)
        raise _not_found(kind, key, names_other=owner is not None)

    def _rename(self, cat: Catalog, kind: str, oid: str, old: str, new: str) -> None:
        if old == new:
            return
        held = cat.name_owner(new, kind)
        if held is not None and held[1] != oid:
            raise exists_error(held[0], f"name {new} is in use by {held[0]} {held[1]}", name=new)
        cat.rename(kind, oid, old, new)

    def _load_all(
        self,
        caller: str,
        keys: Callable[[Catalog], Iterable[str]],
        load: Callable[[Catalog, str], T | None],
        skipped: list[CorruptDocumentError] | None = None,
        processes: int = 1,
    ) -> list[T]:
        """``load`` every key in one call, in key order, keeping what is not ``None``: the body
        of ``all_containers``, ``all_pods`` and ``all_volumes``. A document that cannot be read
        (``load`` raised :class:`CorruptDocumentError`) is skipped with a warning (``fsck``
        reports it) and, given ``skipped``, its error appended there. With ``processes`` > 1
        the loads may be shared with forked processes (``fanout.py``; what ``load`` returns
        must pickle). Errors: :class:`StateClosedError`."""
        self._check_open()

        bad: list[CorruptDocumentError] = []

        def load_all(cat: Catalog) -> list[T]:
            out: list[T] = []
            del bad[:]  # a retried pass starts over
            listed, load_one = list(keys(cat)), functools.partial(load, cat)
            outcomes = fanout.load_shared(listed, load_one, processes)
            if outcomes is None:
                outcomes = fanout.load_each(listed, load_one)
            else:  # read by other processes too: any commit since counts as touching it
                cat.txn.read_elsewhere()
            for outcome in outcomes:
                if isinstance(outcome, CorruptDocumentError):
                    bad.append(outcome)
                elif isinstance(outcome, Exception):
                    raise outcome
                elif outcome is not None:
                    out.append(outcome)
            return out

        with codec.many_documents():
            try:
                found = self._read(load_all)
            finally:  # the skips of the pass that stands, once each (a pass may be retried)
                for exc in bad:
                    if not isinstance(exc, _NoDocument):  # a lone directory was never logged
                        log.warning("%s: skipping %s", caller, exc)
        if skipped is not None:
            skipped.extend(bad)
        return found


class _NoDocument(CorruptDocumentError):
    """A listed directory without its document: skipped by ``all_*`` without a log line (as
    before ``skipped=``; ``fsck`` reports it), handed back as a CorruptDocumentError."""


def no_document(
    cat: Catalog, path: str, what: str, *, logged: bool = False
) -> CorruptDocumentError:
    """What an ``all_*`` call skips for an object whose directory is listed but lacks the
    document at ``path`` (a hand deletion or a lost file; ``fsck`` reports it); ``logged``:
    the skip is also logged (a container's missing state always was)."""
    where = cat.abspath(path)
    cls = CorruptDocumentError if logged else _NoDocument
    return cls(f"{what}: no document {where}", path=where)


def _ambiguous(kind: str, key: str) -> ExistsError:
    if kind == VOLUME:
        return VolumeExistsError(f"more than one volume name starts with {key}")
    if kind == CONTAINER:
        return ContainerExistsError(f"more than one container ID starts with {key}")
    return PodExistsError(f"more than one pod ID starts with {key}")


def _not_found(kind: str, key: str, *, names_other: bool) -> NotFoundError:
    """The lookup error for ``key``; ``names_other``: it is the name of another kind."""
    if kind == VOLUME:
        return NoSuchVolumeError(f"no volume with name or prefix {key}", name=key)
    if kind == CONTAINER:
        return NoSuchContainerError(f"no container with name or ID {key}", id=key)
    hint = " (it names a container)" if names_other else ""
    return NoSuchPodError(f"no pod with name or ID {key}{hint}", id=key)


def _read_only(cat: Catalog) -> bool:
    return bool(getattr(cat.txn.storage, "read_only", False))


def mapping_arg(config: Any, what: str) -> dict[str, Any]:
    """A rewrite's ``config`` argument as a fresh JSON object; :class:`InvalidArgumentError` if
    it is not a mapping or not encodable."""
    if not isinstance(config, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping, not {type(config).__name__}")
    return codec.decode_object(codec.encode(dict(config), what=what), what)
