"""State-wide calls: part of :class:`~fsstate.state.FileState`.

:class:`LifecycleMethods` holds what concerns the store as a whole rather than one object:
the namespace selection (§1.2 SetNamespace, §2.3), the reboot refresh (§1.2 Refresh; §2.9
NEWEST; API.md Decision 7) with its ``tmp_dir`` marker, and the pinned DB config (§1.2
GetDBConfig, ValidateDBConfig; §2.10). ``close`` and ``transaction`` are plumbing and live
in ``base.py``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from fsstate.errors import CorruptDocumentError, DBConfigMismatchError
from fsstate.model import DBConfig
from fsstate.state import rules, schema
from fsstate.state.base import StateBase, log
from fsstate.state.catalog import CONTAINER, POD, Catalog
from fsstate.store import fsio
from fsstate.store import layout as L

__all__ = ["REFRESH_MARKER", "LifecycleMethods"]

#: Written to tmp_dir by refresh(); tmp_dir is a tmpfs in production, so the marker's absence
#: means "this boot has not been refreshed yet".
REFRESH_MARKER = "fsstate-refreshed"


class LifecycleMethods(StateBase):
    """Namespace selection, refresh and the DB config (§1.2)."""

    def set_namespace(self, ns: str) -> None:
        """Select the libpod namespace; ``""`` means all. Never fails (§1.2 SetNamespace,
        §2.3). Containers and pods outside it are hidden or refused as §2.3 lists."""
        self._namespace = ns

    @property
    def namespace(self) -> str:
        return self._namespace

    def needs_refresh(self) -> bool:
        """True until ``refresh()`` has run since ``tmp_dir`` was created (i.e. this boot)."""
        return not fsio.has_marker(os.path.join(self.tmp_dir, REFRESH_MARKER))

    def refresh(self) -> None:
        """Reset runtime-only state after a reboot, in one transaction (API.md Decision 7,
        §2.9 NEWEST): every container state is reset (:func:`rules.reset_container_state`),
        every exec-session registration is dropped, pod ``cgroupPath`` is cleared, volume
        ``mountCount`` is zeroed. Documents that cannot be read are skipped with a warning
        (``fsck`` reports them). Errors: :class:`StateClosedError`."""
        self._check_open()
        self._run(self._refresh)
        fsio.write_marker(os.path.join(self.tmp_dir, REFRESH_MARKER), b"refreshed\n")

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
            sessions = cat.exec_sessions(cid)
            for sid in sessions:
                cat.txn.delete(f"{L.exec_index(cid)}/{sid}")
            if sessions:
                cat.txn.rmdir(L.exec_index(cid))
        for sid in cat.all_exec_sessions():
            cat.txn.delete(L.exec_doc(sid))
        for pid in cat.ids(POD):
            reset(L.pod_doc(pid, "state"), "pod-state", rules.reset_pod_state)
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
        (§2.10). The four path fields are compared after ``os.path.normpath``, graph driver
        and volume path exactly. Errors, in order: :class:`StateClosedError`,
        :class:`InvalidArgumentError` (a field not a string), :class:`DBConfigMismatchError`
        naming every differing field."""
        self._check_open()
        runtime = rules.normalize_db_config(config)

        def validate(cat: Catalog) -> None:
            pinned = cat.doc(L.DBCONFIG, "db-config") or {}
            differ = rules.compare_db_config(pinned, runtime)
            if differ:
                detail = ", ".join(f"{f}: {pinned[f]!r} != {runtime[f]!r}" for f in differ)
                raise DBConfigMismatchError(f"pinned {detail}", mismatched=differ)
            merged = {**runtime, **pinned}
            if merged != pinned:
                schema.validate("db-config", merged, what="DB config")
                cat.put_doc(L.DBCONFIG, merged, "DB config")

        self._run(validate)
