"""Writing the store as a Podman ``db.sql`` (``spec/podman-db-format.md`` §2, "Statements
Podman issues", and §6.4 for the insertion order).

The store is read in one transaction; the file is built under a temporary name in the target
directory, synced, and only then given its name, so a reader never sees half a database.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fsstate.errors import (
    InternalError,
    InvalidArgumentError,
    NoSuchNetworkError,
    OutputExistsError,
)
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.podman.bolt_import import put_new_networks
from fsstate.podman.gojson import go_json
from fsstate.podman.plan import Problems, ProgressFn, StrPath, dependency_order, ticker
from fsstate.podman.tables import INSERT_EXIT_CODE, INSERT_STATE, SCHEMA_VERSION, TABLES
from fsstate.state import network_options, rules
from fsstate.store import fsio

if TYPE_CHECKING:
    from fsstate.state import FileState


@dataclass
class StoreCopy:
    db_config: DBConfig
    volumes: list[Volume]
    pods: list[Pod]
    containers: list[Container]
    exec_sessions: list[ExecSession]
    exit_codes: dict[str, tuple[int, datetime]]


def export_db(
    state: FileState,
    db_path: StrPath,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> None:
    """Write the whole store as a Podman ``db.sql`` (schema version 1) at ``db_path``.

    Podman's tables, columns and constraints exactly; JSON columns as Go writes them; index
    columns as Podman fills them at insert (``ContainerState.State`` 1 and ``ExitCode`` 0,
    ``PodState.InfraContainerID`` from the pod state, ``VolumeConfig.StorageID`` from the
    config). The ``DBConfig`` row holds the store's pinned config with OS ``linux``; a store
    never pinned gets no row, so Podman pins its own config on first start as it does for a
    new database. ``ContainerExitCode`` holds every exit code with its Unix-seconds time stamp
    (the container may be gone, as in Podman). The store is read in one transaction; the
    file is written to a temporary file in the same directory, synced, and renamed into place.

    Raises :class:`OutputExistsError` if ``db_path`` exists and ``overwrite`` is false,
    :class:`InvalidArgumentError` if its directory does not exist, :class:`InternalError` if
    the store's data break one of Podman's constraints.
    """
    copy = read_store(state)
    export_file(db_path, overwrite, lambda tmp: _write_sqlite(tmp, copy, progress))


def export_file(out: StrPath, overwrite: bool, write: Callable[[str], None]) -> None:
    """Make the file ``out`` with ``write(tmp)``: ``tmp`` is a new empty file in ``out``'s
    directory; once ``write`` returns it is synced and renamed to ``out`` (never clobbering a
    file that appeared meanwhile unless ``overwrite``). Whatever ``write`` raises propagates
    and leaves nothing behind.

    Raises :class:`InvalidArgumentError` if ``out``'s directory does not exist;
    :class:`OutputExistsError` (an :class:`InvalidArgumentError` too) if ``out`` exists and
    ``overwrite`` is false.
    """
    path = os.path.abspath(os.fspath(out))
    parent = os.path.dirname(path)
    if not fsio.is_dir(parent):
        raise InvalidArgumentError(f"{path}: directory {parent} does not exist", path=path)
    if fsio.exists(path) and not overwrite:
        raise OutputExistsError(
            f"{path}: file exists (export with overwrite / --force to replace it)", path=path
        )
    tmp = fsio.new_temp_file(parent, f".{os.path.basename(path)}.", ".tmp")
    try:
        write(tmp)
        _publish(tmp, path, overwrite)
    finally:
        for leftover in (tmp, tmp + "-journal"):
            fsio.remove_if_present(leftover)


def read_store(state: FileState) -> StoreCopy:
    """Everything the store holds, read in one transaction (one consistent view)."""
    with state.transaction():  # one consistent view of the store
        volumes = state.all_volumes()
        pods = state.all_pods()
        for pod in pods:
            state.update_pod(pod)
        containers = state.all_containers()
        sessions = []
        for ctr in containers:
            state.update_container(ctr)
            sessions += [ExecSession(s, ctr.id) for s in state.get_container_exec_sessions(ctr)]
            _live_networks_into_config(state, ctr)
        exit_codes = state.all_exit_codes()
        return StoreCopy(state.get_db_config(), volumes, pods, containers, sessions, exit_codes)


def _live_networks_into_config(state: FileState, ctr: Container) -> None:
    """Under ``"bolt"`` the live network list is a document of its own: when connects,
    modifies or disconnects have made it differ from the list the config gives, put it in the
    config, so both writers export what the store holds: as ``newNetworks`` (the map Podman
    4.x and 5.x read) and as ``orderedNetworks`` (the list Podman 6 reads first, keeping the
    setup order; older Podman ignores the key). The 2020 keys ``networks`` and
    ``network_alises`` go then: they name the list the container was created with, which a
    reader would take over ``newNetworks`` (API.md Decision 8). Under ``"sqlite"`` the config
    is the live list already."""
    if state.semantics != "bolt":
        return
    try:
        live = state.get_network_options(ctr)
    except NoSuchNetworkError:
        return  # no live list: the config says it all
    born = rules.initial_networks(ctr.id, ctr.config) or {}
    if list(live.items()) == [(n, network_options.options_of(e)) for n, e in born.items()]:
        return
    for stale in ("networks", "network_alises"):
        ctr.config.pop(stale, None)
    put_new_networks(ctr.config, live)
    ordered = network_options.with_list(ctr.config, list(live.items()))["orderedNetworks"]
    ctr.config["orderedNetworks"] = ordered


def _write_sqlite(tmp: str, copy: StoreCopy, progress: ProgressFn | None) -> None:
    problems = Problems(tmp)
    ordered = dependency_order(copy.containers, problems)
    if problems.corrupt:
        raise InternalError(f"cannot export: {'; '.join(problems.corrupt)}")
    try:
        with closing(sqlite3.connect(tmp, isolation_level=None)) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = OFF")  # the whole file is synced before rename
            conn.execute("BEGIN EXCLUSIVE")
            for ddl in TABLES.values():
                conn.execute(ddl)
            _insert_all(conn, copy, ordered, progress)
            conn.execute("COMMIT")  # deferred foreign keys are checked here
    except sqlite3.Error as exc:
        raise InternalError(f"cannot export the store as a Podman database: {exc}") from None


def _insert_all(
    conn: sqlite3.Connection,
    copy: StoreCopy,
    ordered: list[Container],
    progress: ProgressFn | None,
) -> None:
    cfg = copy.db_config
    if any(getattr(cfg, f) for f in DBConfig.field_names()):
        conn.execute(
            "INSERT INTO DBConfig VALUES (1, ?, 'linux', ?, ?, ?, ?, ?, ?)",
            (SCHEMA_VERSION, cfg.libpod_root, cfg.libpod_tmp, cfg.storage_root,
             cfg.storage_tmp, cfg.graph_driver, cfg.volume_path),
        )  # fmt: skip
    total = len(copy.volumes) + len(copy.pods) + len(ordered) + len(copy.exec_sessions)
    total += len(copy.exit_codes)
    tick = ticker("exporting", total, progress)
    for vol in copy.volumes:
        storage_id = vol.config.get("storageID") or None
        conn.execute(
            "INSERT INTO VolumeConfig VALUES (?, ?, ?)",
            (vol.name, storage_id, go_json(vol.config)),
        )
        conn.execute("INSERT INTO VolumeState VALUES (?, ?)", (vol.name, go_json(vol.state)))
        tick()
    ctr_ids = {c.id for c in ordered}
    for pod in copy.pods:
        infra = pod.state.get("InfraContainerID")
        infra = infra if isinstance(infra, str) and infra in ctr_ids else None
        conn.execute("INSERT INTO IDNamespace VALUES (?)", (pod.id,))
        conn.execute(
            "INSERT INTO PodConfig VALUES (?, ?, ?)", (pod.id, pod.name, go_json(pod.config))
        )
        conn.execute("INSERT INTO PodState VALUES (?, ?, ?)", (pod.id, infra, go_json(pod.state)))
        tick()
    for ctr in ordered:
        _insert_container(conn, ctr)
        tick()
    for sess in copy.exec_sessions:
        conn.execute("INSERT INTO ContainerExecSession VALUES (?, ?)", (sess.id, sess.container_id))
        tick()
    for cid, (exit_code, when) in copy.exit_codes.items():
        conn.execute(
            "INSERT INTO ContainerExitCode VALUES (?, ?, ?)",
            (cid, int(when.timestamp()), exit_code),
        )
        tick()


def _insert_container(conn: sqlite3.Connection, ctr: Container) -> None:
    """Podman's "add container" statements (``spec/podman-db-format.md`` §2)."""
    conn.execute("INSERT INTO IDNamespace VALUES (?)", (ctr.id,))
    conn.execute(
        "INSERT INTO ContainerConfig VALUES (?, ?, ?, ?)",
        (ctr.id, ctr.name, ctr.pod_id or None, go_json(ctr.config)),
    )
    conn.execute(
        "INSERT INTO ContainerState VALUES (?, ?, ?, ?)",
        (ctr.id, INSERT_STATE, INSERT_EXIT_CODE, go_json(ctr.state)),
    )
    conn.executemany(
        "INSERT INTO ContainerDependency VALUES (?, ?)",
        [(ctr.id, dep) for dep in ctr.dependencies()],
    )
    conn.executemany(
        "INSERT INTO ContainerVolume VALUES (?, ?)",
        [(ctr.id, vol) for vol in ctr.named_volumes()],
    )


def _publish(tmp: str, path: str, overwrite: bool) -> None:
    """Make the finished temporary file durable and give it its name; never clobber a file
    that appeared meanwhile unless ``overwrite``."""
    try:
        fsio.publish_file(tmp, path, overwrite=overwrite)
    except FileExistsError:
        raise InvalidArgumentError(f"{path}: file exists", path=path) from None
