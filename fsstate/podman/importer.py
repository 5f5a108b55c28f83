"""The import entry points: read a file into an :class:`~.plan.ImportPlan`, check it, then add
all of it inside one ``state.transaction()`` (``spec/podman-db-format.md`` §2, "BoltDB →
SQLite migration": volumes, then pods, then containers in dependency order)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from fsstate.errors import StateError
from fsstate.podman.bolt_import import read_bolt
from fsstate.podman.plan import (
    ImportPlan,
    ImportReport,
    ProgressFn,
    RenamedPod,
    StrPath,
    check,
    ticker,
)
from fsstate.podman.sniff import detect_format
from fsstate.podman.sqlite_import import read_sqlite

if TYPE_CHECKING:
    from fsstate.model import Container
    from fsstate.state import FileState


def import_file(
    path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """:func:`import_db` or :func:`import_bolt`, chosen by the file's magic bytes (a 0-byte
    file is an empty ``bolt_state.db``: :func:`~.sniff.detect_format`)."""
    if detect_format(path) == "bolt":
        return import_bolt(
            path, state, rename_pods_on_clash=rename_pods_on_clash, progress=progress
        )
    return import_db(path, state, rename_pods_on_clash=rename_pods_on_clash, progress=progress)


def import_db(
    db_path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Add everything in Podman's ``db.sql`` to ``state``, all or nothing.

    A new store (no pin, nothing stored, opened without ``semantics=``) becomes a
    ``"sqlite"`` store, pinned by the import's commit, as the file is Podman's SQLite state;
    a store already pinned keeps its semantics (API.md, Today's Podman). Under ``"sqlite"``
    containers and pods have names of their own: a pod and a container of one name are taken
    as they are, and ``rename_pods_on_clash`` changes nothing.

    Adds every volume (config and state), pod, container (config and state; depended-on
    containers first), exec-session registration and exit code (``ContainerExitCode``, with
    its time stamp), and pins the file's DBConfig with ``state.validate_db_config``. The file
    is opened read-only and never changes.

    Errors (nothing is added when any is raised):

    * :class:`InvalidArgumentError` — the file is missing or not a SQLite file, is not a
      Podman database, has a schema version other than 1, or (into a ``"bolt"`` store) a
      container and a pod share a name and ``rename_pods_on_clash`` is false (the message
      names both objects).
    * :class:`CorruptDocumentError` — the file is truncated or damaged, a JSON column does not
      parse (the message names the table and row), or rows point at objects that are missing.
    * :class:`LockTimeoutError` — Podman held the database locked for the whole busy timeout.
    * any :class:`StateError` the store raises while adding (an object already in the store,
      a DBConfig mismatch …), its message prefixed with the file name.
    """
    path = os.fspath(db_path)
    return _apply(read_sqlite(path), state, rename_pods_on_clash, progress)


def import_bolt(
    bolt_path: StrPath,
    state: FileState,
    *,
    rename_pods_on_clash: bool = False,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """:func:`import_db` for a legacy ``bolt_state.db``; a new store becomes ``"bolt"``.

    Reads the ``ctr``, ``pod``, ``vol``, ``exec`` and ``runtime-config`` buckets; the networks
    of each container (its ``networks`` sub-bucket) go back into its config as
    ``newNetworks``, as Podman's Bolt-to-SQLite migration does; exit codes come from the
    ``exit-code`` and ``exit-code-time-stamp`` buckets. A 0-byte file is an empty state, as for
    Podman (bbolt initialises it on open): nothing is added, and the report says so in its
    warnings. Same errors as :func:`import_db`; a damaged file raises
    :class:`CorruptDocumentError` naming the page.
    """
    path = os.fspath(bolt_path)
    return _apply(read_bolt(path), state, rename_pods_on_clash, progress)


def _apply(
    plan: ImportPlan, state: FileState, rename: bool, progress: ProgressFn | None
) -> ImportReport:
    report = ImportReport(plan.path, plan.format, skipped=plan.skipped, warnings=plan.warnings)
    try:
        # A new store follows the file's semantics (API.md, Today's Podman).
        with state._import_transaction(plan.format):
            # Under "sqlite" containers and pods have separate names: nothing clashes.
            shared_names = state.semantics == "bolt"
            ordered = check(plan, rename or not shared_names)
            _add_all(plan, ordered, state, rename and shared_names, report, progress)
    except StateError as exc:
        if plan.path in str(exc):
            raise
        raise _in_context(exc, f"importing {plan.path}") from exc
    return report


def _in_context(exc: StateError, prefix: str) -> StateError:
    """The same error class and fields, its message prefixed (callers match on the class)."""
    return type(exc)(f"{prefix}: {exc.message}", **exc.fields)


def _add_all(
    plan: ImportPlan,
    ordered: list[Container],
    state: FileState,
    rename: bool,
    report: ImportReport,
    progress: ProgressFn | None,
) -> None:
    """Add the plan; the caller holds ``state.transaction()``."""
    if rename:
        report.renamed_pods = _rename_clashing_pods(plan, state)
    if plan.db_config is not None:
        state.validate_db_config(plan.db_config)
        report.db_config_pinned = True
    total = len(plan.volumes) + len(plan.pods) + len(ordered) + len(plan.exec_sessions)
    total += len(plan.exit_codes)
    tick = ticker("importing", total, progress)
    for vol in plan.volumes:
        state.add_volume(vol)
        report.volumes += 1
        tick()
    pods = {}
    for pod in plan.pods:
        state.add_pod(pod)
        pods[pod.id] = pod
        report.pods += 1
        tick()
    ctrs = {}
    for ctr in ordered:
        if ctr.pod_id:
            state.add_container_to_pod(pods[ctr.pod_id], ctr)
        else:
            state.add_container(ctr)
        ctrs[ctr.id] = ctr
        report.containers += 1
        tick()
    for sess in plan.exec_sessions:
        state.add_exec_session(ctrs[sess.container_id], sess)
        report.exec_sessions += 1
        tick()
    for cid, exit_code, when in plan.exit_codes:
        state.add_container_exit_code(cid, exit_code, timestamp=when)
        report.exit_codes += 1
        tick()


def _rename_clashing_pods(plan: ImportPlan, state: FileState) -> list[RenamedPod]:
    """Give every pod whose name a container holds (in the file or the store) a free name:
    ``<name>-pod``, then ``<name>-pod-2``, ``-pod-3`` …; the pod's config is changed."""
    ctr_names = {c.name for c in plan.containers} | {c.name for c in state.all_containers()}
    taken = ctr_names | {p.name for p in plan.pods} | {p.name for p in state.all_pods()}
    renamed = []
    for pod in plan.pods:
        if pod.name not in ctr_names:
            continue
        new, n = f"{pod.name}-pod", 1
        while new in taken:
            n += 1
            new = f"{pod.name}-pod-{n}"
        taken.add(new)
        renamed.append(RenamedPod(pod.id, pod.name, new))
        pod.config["name"] = new  # same key, so the config keeps its key order
    return renamed
