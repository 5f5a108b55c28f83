"""Writing the store as a Podman 4.x ``bolt_state.db`` (``spec/podman-db-format.md`` §5), the
layout Podman 4.3's ``libpod/boltdb_state.go`` writes (checked against the real Podman 4.3.1
state in ``shared/podman-real/podman43/`` and by the real Podman opening the result):

* top-level buckets ``id-registry`` and ``name-registry`` (containers and pods, one name
  space), ``ns-registry`` (ID → libpod namespace, for objects in one), ``all-ctrs``,
  ``allPods``, ``allVolumes``, ``ctr``, ``pod``, ``vol``, ``exec``, ``volume-ctrs``,
  ``exit-code`` and ``exit-code-time-stamp`` (container ID → code, → time stamp) and
  ``runtime-config``, all present even when empty
  (Podman creates them on open anyway);
* ``ctr/<id>``: ``config`` (the ContainerConfig without ``newNetworks`` and
  ``orderedNetworks``), ``state`` (without
  ``netns``), ``netns`` (when the state has one), ``pod-id``, ``namespace``, the sub-buckets
  ``networks`` (network → PerNetworkOptions JSON, the live list, when the container has
  networks),
  ``dependencies`` (the IDs of the containers that depend on this one → their names; always
  present, Podman refuses to remove a container without it) and ``exec`` (its sessions);
* ``pod/<id>``: ``config``, ``state``, ``namespace``, sub-bucket ``containers`` (ID → name);
* ``vol/<name>``: ``config``, ``state``, sub-bucket ``vol-dependencies`` (users' IDs → IDs).

:func:`fsstate.podman.import_bolt` reads all of it back to the same documents: it merges
``networks`` into the config and ``netns`` into the state at Go's key positions.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fsstate.errors import InternalError
from fsstate.podman.bolt_write import build, save
from fsstate.podman.export import StoreCopy, export_file, read_store
from fsstate.podman.gojson import go_json
from fsstate.podman.plan import Problems, ProgressFn, StrPath, dependency_order, ticker
from fsstate.state import network_options

if TYPE_CHECKING:
    from fsstate.state import FileState

_TOP = (
    b"id-registry",
    b"name-registry",
    b"ns-registry",
    b"all-ctrs",
    b"ctr",
    b"allPods",
    b"pod",
    b"allVolumes",
    b"vol",
    b"exec",
    b"volume-ctrs",
    b"exit-code",
    b"exit-code-time-stamp",
    b"runtime-config",
)
_RUNTIME_CONFIG = (
    (b"static-dir", "libpod_root"),
    (b"tmp-dir", "libpod_tmp"),
    (b"graph-root", "storage_root"),
    (b"run-root", "storage_tmp"),
    (b"graph-driver-name", "graph_driver"),
    (b"volume-path", "volume_path"),
)

Buckets = dict[bytes, Any]  # a value is bytes or a nested Buckets


def export_bolt(
    state: FileState,
    bolt_path: StrPath,
    *,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> None:
    """Write the whole store as a Podman 4.x ``bolt_state.db`` at ``bolt_path``.

    Every volume, pod, container (config, state, networks, dependencies, pod membership,
    libpod namespace) and exec-session registration, in the layout described in this module's
    docstring; JSON as Go writes it. ``runtime-config`` holds the store's pinned DBConfig with
    OS ``linux``; a store never pinned leaves it empty, and Podman pins its own config on
    first start. Every exit code goes to ``exit-code`` (decimal text) and its time stamp to
    ``exit-code-time-stamp`` (Go's ``time.MarshalText``: RFC 3339, UTC, whole seconds as the
    store keeps them), as Podman 4.x's ``AddContainerExitCode`` writes them. The store is read
    in one transaction; the file is built under a temporary name in the target directory,
    synced, and renamed into place, so Podman never sees half a file.

    Raises :class:`~fsstate.errors.OutputExistsError` if ``bolt_path`` exists and
    ``overwrite`` is false, :class:`InvalidArgumentError` if its directory does not exist,
    :class:`InternalError` if the containers' dependencies form a cycle (the store never
    holds one; a damaged store might).
    """
    data = build(bolt_tree(read_store(state), progress))
    export_file(bolt_path, overwrite, lambda tmp: save(tmp, data, replace=True))


def bolt_tree(copy: StoreCopy, progress: ProgressFn | None = None) -> Buckets:
    """The buckets of ``copy`` in Podman's Bolt layout (errors: :func:`export_bolt`)."""
    problems = Problems("the store")
    ordered = dependency_order(copy.containers, problems)
    if problems.corrupt:
        raise InternalError(f"cannot export: {'; '.join(problems.corrupt)}")
    top: Buckets = {name: {} for name in _TOP}
    tick = ticker("exporting", len(copy.volumes) + len(copy.pods) + len(ordered), progress)
    cfg = copy.db_config
    if any(getattr(cfg, attr) for _, attr in _RUNTIME_CONFIG):
        top[b"runtime-config"][b"os"] = b"linux"
        for key, attr in _RUNTIME_CONFIG:
            top[b"runtime-config"][key] = getattr(cfg, attr).encode()
    for vol in copy.volumes:
        name = vol.name.encode()
        top[b"allVolumes"][name] = name
        top[b"vol"][name] = {
            b"config": _json(vol.config),
            b"state": _json(vol.state),
            b"vol-dependencies": {},
        }
        storage_id = vol.config.get("storageID")
        if isinstance(storage_id, str) and storage_id:
            top[b"volume-ctrs"][storage_id.encode()] = name
        tick()
    for pod in copy.pods:
        pid, name = pod.id.encode(), pod.name.encode()
        top[b"pod"][pid] = {b"config": _json(pod.config), b"state": _json(pod.state)}
        top[b"pod"][pid][b"containers"] = {}
        _register(top, pid, name, pod.namespace, top[b"allPods"], top[b"pod"][pid])
        tick()
    dependents: dict[str, Buckets] = {}
    for ctr in ordered:
        for dep in ctr.dependencies():
            dependents.setdefault(dep, {})[ctr.id.encode()] = ctr.name.encode()
    for ctr in ordered:
        cid, name = ctr.id.encode(), ctr.name.encode()
        config = {k: v for k, v in ctr.config.items() if k not in _NETWORK_KEYS}
        state = {k: v for k, v in ctr.state.items() if k != "netns"}
        bucket: Buckets = {
            b"config": _json(config),
            b"state": _json(state),
            b"dependencies": dependents.get(ctr.id, {}),
        }
        networks = network_options.from_config(ctr.config)
        if networks:
            bucket[b"networks"] = {net.encode(): _json(o) for net, o in networks}
        netns = ctr.state.get("netns")
        if isinstance(netns, str) and netns:
            bucket[b"netns"] = netns.encode()
        if ctr.pod_id:
            bucket[b"pod-id"] = ctr.pod_id.encode()
            top[b"pod"][ctr.pod_id.encode()][b"containers"][cid] = name
        _register(top, cid, name, ctr.namespace, top[b"all-ctrs"], bucket)
        for vol_name in ctr.named_volumes():
            top[b"vol"][vol_name.encode()][b"vol-dependencies"][cid] = cid
        top[b"ctr"][cid] = bucket
        tick()
    for sess in copy.exec_sessions:
        sid, cid = sess.id.encode(), sess.container_id.encode()
        top[b"exec"][sid] = cid
        top[b"ctr"][cid].setdefault(b"exec", {})[sid] = cid
    for ctr_id, (code, when) in copy.exit_codes.items():
        top[b"exit-code"][ctr_id.encode()] = str(code).encode()
        top[b"exit-code-time-stamp"][ctr_id.encode()] = _go_time_text(when)
    return top


#: Config keys that go to the ``networks`` sub-bucket instead (Podman 4.x keeps its list there).
_NETWORK_KEYS = ("newNetworks", "orderedNetworks")


def _go_time_text(when: datetime) -> bytes:
    """Go's ``time.Time.MarshalText`` of a UTC instant: RFC 3339 with the fraction's trailing
    zeros (and an empty fraction) dropped, ``Z`` for UTC."""
    utc = when.astimezone(UTC)
    fraction = f".{utc.microsecond:06d}".rstrip("0").rstrip(".")
    return f"{utc:%Y-%m-%dT%H:%M:%S}{fraction}Z".encode()


def _json(doc: Any) -> bytes:
    return go_json(doc).encode()


def _register(
    top: Buckets, oid: bytes, name: bytes, namespace: str, all_of_kind: Buckets, bucket: Buckets
) -> None:
    """Podman's registries for a new container or pod (``boltdb_state.go`` addContainer,
    AddPod): ID and name both ways, the kind's ``all`` bucket, and the namespace if any."""
    top[b"id-registry"][oid] = name
    top[b"name-registry"][name] = oid
    all_of_kind[oid] = name
    if namespace:
        top[b"ns-registry"][oid] = namespace.encode()
        bucket[b"namespace"] = namespace.encode()
