"""State-wide calls: part of :class:`~fsstate.state.FileState`.

:class:`LifecycleMethods` holds what concerns the store as a whole rather than one object:
the namespace selection (§1.2 SetNamespace, §2.3), the reboot refresh (§1.2 Refresh; §2.9
NEWEST; API.md Decision 7) with its ``tmp_dir`` marker, and the pinned DB config (§1.2
GetDBConfig, ValidateDBConfig; §2.10). ``close`` and ``transaction`` are plumbing and live
in ``base.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fsstate.errors import CorruptDocumentError, DBConfigMismatchError, InvalidArgumentError
from fsstate.model import DBConfig
from fsstate.state import rules, schema
from fsstate.state.base import StateBase
from fsstate.state.catalog import CONTAINER, POD, Catalog
from fsstate.store import layout as L
from fsstate.store.fsio import PrivateDir, boot_id, resolve_if_exists

__all__ = ["LifecycleMethods"]

log = logging.getLogger(__name__)


class LifecycleMethods(StateBase):
    """Namespace selection, refresh and the DB config (§1.2)."""

    def set_namespace(self, ns: str) -> None:
        """Select the libpod namespace; ``""`` means all. Never fails under ``"bolt"`` (§1.2
        SetNamespace, §2.3): containers and pods outside it are hidden or refused as §2.3
        lists. Under ``"sqlite"`` namespaces are gone (Podman ``5c2a0670fc``): ``""`` is
        accepted and anything else is :class:`InvalidArgumentError`."""
        if not self._rules.namespaces and ns != "":
            raise InvalidArgumentError(
                f"namespace {ns!r}: the store follows {self._rules.name!r} semantics, which "
                "has no namespaces"
            )
        self._namespace = ns

    @property
    def namespace(self) -> str:
        return self._namespace

    # -- the reboot refresh ----------------------------------------------------------------
    #
    # A boot is "refreshed" when ``tmp_dir/alive`` holds its boot ID
    # (/proc/sys/kernel/random/boot_id): absent, empty or another boot's ID means not, wherever
    # tmp_dir lives (a tmpfs wiped at boot, or a disk that keeps the old marker). The marker
    # is written after the refresh commits, under the store lock, through a directory only
    # this user can write in (fsio.PrivateDir). Podman keeps an empty ``alive`` there
    # (libpod/runtime.go); the boot ID is what makes it work off a tmpfs too.

    def _born(self) -> None:
        # A store born in this boot has nothing to reset. Marked under the lock that creates
        # it, so a process that opens it next never sees it unrefreshed.
        self._mark_refreshed()

    def _refreshed_this_boot(self) -> bool:
        with PrivateDir(self.tmp_dir) as tmp:
            marker = tmp.read(L.ALIVE)
        current = boot_id()
        return marker is not None and marker.strip() == current.encode()

    def _mark_refreshed(self) -> None:
        with PrivateDir(self.tmp_dir) as tmp:
            tmp.replace(L.ALIVE, f"{boot_id()}\n".encode())

    def needs_refresh(self) -> bool:
        """True until ``refresh()`` (or ``refresh_if_rebooted()``) has run in this boot: the
        marker ``tmp_dir/alive`` is absent or holds another boot's ID. A store that this
        process created is marked refreshed when it is created. Errors:
        :class:`~fsstate.store.fsio.UnsafeDirError` (tmp_dir not private to this user)."""
        return not self._refreshed_this_boot()

    def refresh(self) -> None:
        """Reset runtime-only state after a reboot, in one transaction (API.md Decision 7,
        §2.9 NEWEST): every container state is reset (:func:`rules.reset_container_state`),
        every exec-session registration is dropped (``exec/`` and ``index/exec/`` moved into
        the trash by the commit and deleted after it in the background: docs/layout.md, "The
        trash"; an ``exec/`` entry no session ID can name is left for fsck), pod
        ``cgroupPath`` is cleared, volume
        ``mountCount`` is zeroed, and every exit code is dropped (NEWEST sq:261; in both
        semantics, API.md); then this boot is marked refreshed. Documents that cannot be read
        are skipped with a warning (``fsck`` reports them). Errors: :class:`StateClosedError`,
        :class:`~fsstate.store.fsio.UnsafeDirError`."""
        self._check_open()

        def refresh(cat: Catalog) -> None:
            self._refresh(cat)
            cat.txn.on_commit.append(self._mark_refreshed)

        self._run(refresh)

    def refresh_if_rebooted(self) -> bool:
        """``refresh()`` unless this boot was refreshed already; True when it refreshed
        (API.md, Today's Podman: the runtime's alive file). The check, the refresh and the
        marker all happen under the store lock, so of any number of concurrent callers exactly
        one refreshes; a new, empty tmp_dir counts as a reboot. Errors:
        :class:`StateClosedError`, :class:`~fsstate.store.fsio.UnsafeDirError`."""
        self._check_open()

        def refresh_once(cat: Catalog) -> bool:
            if self._refreshed_this_boot():
                return False
            self._refresh(cat)
            cat.txn.on_commit.append(self._mark_refreshed)
            return True

        return self._run(refresh_once)

    def _refresh(self, cat: Catalog) -> None:
        def reset(path: str, kind: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
            try:
                doc = cat.doc(path, kind)
            except CorruptDocumentError as exc:
                log.warning("refresh: skipping %s", exc)
                return
            if doc is not None and (after := fn(doc)) != doc:  # unchanged: nothing to write
                cat.put_doc(path, after, path)

        for cid in cat.ids(CONTAINER):
            reset(L.container_doc(cid, "state"), "container-state", rules.reset_container_state)
        # Every exec session goes: ``exec/`` and ``index/exec/`` are moved into the trash whole
        # (one rename each, in the commit) and deleted after it, in the background
        # (storage.FileStorage, "The trash"): deleting 100,000 registrations one by one inside
        # the call cost 80 s and more on a disk that discards (benchmarks/README.md). An entry
        # of exec/ that no session ID can name is fsck's to judge (it quarantines, never
        # deletes): with one there, the registrations go one by one and it stays.
        registered = cat.txn.listdir(L.EXEC)
        if all(map(L.is_valid_name, registered)):
            if registered:
                cat.txn.trash(L.EXEC)
        else:
            for sid in filter(L.is_valid_name, registered):
                cat.txn.delete(L.exec_doc(sid))
        # Derived (fsck rebuilds what it held). Set aside even when absent (then nothing
        # moves): a commit that trashes keeps the old states in the trash too, so freeing
        # their blocks is not part of the call either.
        cat.txn.trash(L.EXEC_SESSIONS.dir())
        for pid in cat.ids(POD):
            reset(L.pod_doc(pid, "state"), "pod-state", rules.reset_pod_state)
        cat.clear_exit_codes()
        for name in cat.volume_names():
            reset(L.volume_doc(name, "state"), "volume-state", rules.reset_volume_state)

    def get_db_config(self) -> DBConfig:
        """The pinned paths; all ``""`` before the first ``validate_db_config`` (§1.2
        GetDBConfig). Errors: :class:`StateClosedError`, :class:`CorruptDocumentError`."""
        self._check_open()
        pinned = self._run(lambda cat: cat.doc(L.DBCONFIG, "db-config")) or {}
        return DBConfig(**{k: v for k, v in pinned.items() if k in DBConfig.field_names()})

    def validate_db_config(self, config: DBConfig) -> None:
        """Compare the runtime's paths with the pinned ones, pinning fields not pinned yet
        (§2.10). Under ``"bolt"`` the four path fields are compared after
        ``os.path.normpath``, graph driver and volume path exactly; under ``"sqlite"`` the
        volume path is cleaned too and every path is compared with its symlinks resolved (a
        path that does not exist compares as cleaned), as NEWEST sq:412-433. Errors, in order:
        :class:`StateClosedError`, :class:`InvalidArgumentError` (a field not a string),
        :class:`DBConfigMismatchError` naming every differing field."""
        self._check_open()
        resolve = self._rules.resolve_symlinks
        runtime = rules.normalize_db_config(config, clean_volume_path=resolve)

        def validate(cat: Catalog) -> None:
            pinned = cat.doc(L.DBCONFIG, "db-config") or {}
            differ = rules.compare_db_config(
                pinned, runtime, resolve=resolve_if_exists if resolve else None
            )
            if differ:
                detail = ", ".join(f"{f}: {pinned[f]!r} != {runtime[f]!r}" for f in differ)
                raise DBConfigMismatchError(f"pinned {detail}", mismatched=differ)
            merged = {**runtime, **pinned}
            if merged != pinned:
                schema.validate("db-config", merged, what="DB config")
                cat.put_doc(L.DBCONFIG, merged, "DB config")

        self._run(validate)
