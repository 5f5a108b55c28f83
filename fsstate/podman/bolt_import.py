"""Reading Podman's legacy BoltDB ``bolt_state.db`` into an :class:`~.plan.ImportPlan`
(``spec/podman-db-format.md`` §5), through :mod:`fsstate.podman.bolt`.

The ``ctr``, ``pod``, ``vol``, ``exec`` and ``runtime-config`` buckets are read, the way
Podman's Bolt-to-SQLite migration reads them: each container's ``networks`` sub-bucket goes
back into its config as ``newNetworks``, keys inserted where Go's struct order puts them.
The file is opened ``rb`` and never changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fsstate.errors import CorruptDocumentError, InvalidArgumentError
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume
from fsstate.podman.gojson import parse_go_time, parse_object
from fsstate.podman.plan import ImportPlan
from fsstate.podman.sniff import detect_format

if TYPE_CHECKING:
    from fsstate.podman.bolt import Bucket

# ContainerConfig keys that follow ``newNetworks`` in Go's struct order (libpod v5.8.2, up to
# ``createdTime``, which is never omitted): networks merged back from the Bolt ``networks``
# sub-bucket go before the first of them present.
_AFTER_NEW_NETWORKS = (
    "networks",
    "networkMode",
    "network_options",
    "userVolumes",
    "entrypoint",
    "command",
    "stdin",
    "labels",
    "stopSignal",
    "stopTimeout",
    "timeout",
    "createdTime",
)
# ContainerState keys that follow ``netns`` in Go's struct order (up to the first ones that
# are never omitted), from libpod v5.8.2.
_AFTER_NETNS = (
    "networkStatus",
    "bindMounts",
    "stoppedByUser",
    "restartPolicyMatch",
    "restartCount",
    "startupHCPassed",
    "startupHCSuccessCount",
    "startupHCFailureCount",
    "hcUnitName",
    "extensionStageHooks",
    "networkDescriptions",
    "Service",
    "checkpointedTime",
    "restoredTime",
)
_RUNTIME_CONFIG = (
    ("libpod_root", b"static-dir"),
    ("libpod_tmp", b"tmp-dir"),
    ("storage_root", b"graph-root"),
    ("storage_tmp", b"run-root"),
    ("graph_driver", b"graph-driver-name"),
    ("volume_path", b"volume-path"),
)


def put_new_networks(config: dict[str, Any], networks: dict[str, Any]) -> None:
    """Set ``config["newNetworks"]`` to ``networks`` (name → PerNetworkOptions), a new key
    at Go's position for it (``ContainerNetworkConfig``)."""
    _insert_before(config, "newNetworks", networks, _AFTER_NEW_NETWORKS)


def _insert_before(doc: dict[str, Any], key: str, value: Any, before: Iterable[str]) -> None:
    """Set ``doc[key]``; a new key goes before the first of ``before`` present (Go order)."""
    if key in doc:
        doc[key] = value
        return
    anchor = next((k for k in before if k in doc), None)
    items = list(doc.items())
    at = len(items) if anchor is None else [k for k, _ in items].index(anchor)
    items.insert(at, (key, value))
    doc.clear()
    doc.update(items)


def read_bolt(path: str) -> ImportPlan:
    """The contents of the ``bolt_state.db`` at ``path``, parsed (errors:
    ``importer.import_bolt``)."""
    from fsstate.podman.bolt import BoltReader  # imported here: only Bolt imports need the reader

    if detect_format(path) != "bolt":
        raise InvalidArgumentError(f"{path}: not a BoltDB file (bolt_state.db)", path=path)
    if os.path.getsize(path) == 0:  # bbolt initialises an empty file: an empty state
        plan = ImportPlan(path, "bolt")
        plan.warnings.append("empty file: an empty Podman state (nothing to import)")
        return plan
    try:
        with BoltReader(path) as reader:
            return _BoltSource(path, reader.root()).read()
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read: {exc.strerror}", path=path) from None


class _BoltSource:
    """Reads one open ``bolt_state.db`` (its root bucket) into a plan."""

    def __init__(self, path: str, root: Bucket) -> None:
        self.path, self.root = path, root
        self.plan = ImportPlan(path, "bolt")

    def read(self) -> ImportPlan:
        top = {name for name, _ in self.root.buckets()}
        if not top & {b"ctr", b"pod", b"vol", b"id-registry"}:
            raise InvalidArgumentError(
                f"{self.path}: not a Podman bolt_state.db (no ctr, pod or vol bucket)",
                path=self.path,
            )
        self._runtime_config()
        self._volumes()
        self._pods()
        self._containers()
        self._exec_sessions()
        if b"exit-code" in top:
            self._exit_codes(top)
        return self.plan

    def _exit_codes(self, top: set[bytes]) -> None:
        """The ``exit-code`` bucket (ID → decimal code) with ``exit-code-time-stamp`` (ID →
        Go ``time.MarshalText``), as Podman 4.x's BoltState.AddContainerExitCode wrote them; a
        code without a time stamp is as old as the Unix epoch (so a prune drops it)."""
        stamps = {}
        if b"exit-code-time-stamp" in top:
            stamps = dict(self._top(b"exit-code-time-stamp").items())
        for raw_id, raw_code in self._top(b"exit-code").items():
            cid = self._text(raw_id, "bucket exit-code")
            where = f"bucket exit-code, key {cid}"
            try:
                code = int(self._text(raw_code or b"", where))
            except ValueError:
                raise self._corrupt(f"{where}: {raw_code!r} is not an integer") from None
            raw_stamp = stamps.get(raw_id)
            when: datetime | None = datetime.fromtimestamp(0, UTC)
            if raw_stamp is not None:
                when = parse_go_time(
                    self._text(raw_stamp, f"bucket exit-code-time-stamp, key {cid}")
                )
            if when is None:
                raise self._corrupt(f"bucket exit-code-time-stamp, key {cid}: {raw_stamp!r}")
            self.plan.exit_codes.append((cid, code, when))

    def _top(self, name: bytes) -> Bucket:
        found = self.root.bucket(name)
        if found is None:
            raise self._corrupt(f"bucket {name.decode()} disappeared")
        return found

    def _sub_buckets(self, name: bytes) -> Iterator[tuple[str, Bucket]]:
        top = self.root.bucket(name)
        if top is not None:
            for key, bucket in top.buckets():
                yield self._text(key, name.decode()), bucket

    def _corrupt(self, message: str) -> CorruptDocumentError:
        return CorruptDocumentError(f"{self.path}: {message}", path=self.path)

    def _text(self, raw: bytes, where: str) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._corrupt(f"{where}: {raw!r} is not UTF-8 text") from None

    def _doc(self, bucket: Bucket, key: bytes, where: str, required: bool = True) -> Any:
        raw = bucket.get(key)
        if raw is None:
            if required:
                raise self._corrupt(f"bucket {where} has no {key.decode()} key")
            return None
        return parse_object(raw, self.path, f"bucket {where}, key {key.decode()}")

    def _runtime_config(self) -> None:
        bucket = self.root.bucket(b"runtime-config")
        if bucket is None:
            self.plan.warnings.append("no runtime-config bucket: the DBConfig is not pinned")
            return
        values = {}
        for attr, key in _RUNTIME_CONFIG:
            raw = bucket.get(key)
            values[attr] = "" if raw is None else self._text(raw, f"runtime-config/{key.decode()}")
        self.plan.db_config = DBConfig(**values)

    def _objects(
        self, top: bytes, key: str, state_required: bool
    ) -> Iterator[tuple[str, Bucket, dict[str, Any], Any]]:
        """``(where, bucket, config, state)`` for each sub-bucket of ``top``, the config's
        ``key`` checked against the bucket's name."""
        for name, bucket in self._sub_buckets(top):
            where = f"{top.decode()}/{name}"
            config = self._doc(bucket, b"config", where)
            if config.get(key) != name:
                raise self._corrupt(f"{where}: the config's {key} {config.get(key)!r} differs")
            yield where, bucket, config, self._doc(bucket, b"state", where, state_required)

    def _volumes(self) -> None:
        for _, _, config, state in self._objects(b"vol", "name", state_required=False):
            self.plan.volumes.append(Volume(config, state))

    def _pods(self) -> None:
        for _, _, config, state in self._objects(b"pod", "id", state_required=True):
            self.plan.pods.append(Pod(config, state))

    def _containers(self) -> None:
        for where, bucket, config, state in self._objects(b"ctr", "id", state_required=True):
            networks = self._networks(bucket, where)
            if networks:
                put_new_networks(config, networks)
            netns = bucket.get(b"netns")
            if netns and not state.get("netns"):  # legacy key, read only as a fallback
                _insert_before(state, "netns", self._text(netns, where), _AFTER_NETNS)
            self.plan.containers.append(Container(config, state))

    def _networks(self, bucket: Bucket, where: str) -> dict[str, Any]:
        """The ``networks`` sub-bucket as ``newNetworks``: name → PerNetworkOptions, sorted.
        Pre-4.0 entries hold a placeholder instead of JSON; their aliases come from the
        ``aliases`` sub-bucket and interfaces are numbered ``eth0``… as Podman migrates them."""
        nets = bucket.bucket(b"networks")
        if nets is None:
            return {}
        aliases = bucket.bucket(b"aliases")
        out: dict[str, Any] = {}
        for i, (key, raw) in enumerate(nets.items()):
            name = self._text(key, f"{where}/networks")
            if raw.lstrip().startswith(b"{"):
                out[name] = parse_object(raw, self.path, f"bucket {where}/networks, key {name}")
                continue
            legacy: dict[str, Any] = {}
            names = aliases.bucket(key) if aliases is not None else None
            if names is not None:
                found = [self._text(a, f"{where}/aliases/{name}") for a, _ in names.items()]
                if found:
                    legacy["aliases"] = found
            legacy["interface_name"] = f"eth{i}"
            out[name] = legacy
        return out

    def _exec_sessions(self) -> None:
        found: dict[str, str] = {}
        top = self.root.bucket(b"exec")
        pairs = list(top.items()) if top is not None else []
        for _, bucket in self._sub_buckets(b"ctr"):  # per-container copies (SEED)
            sub = bucket.bucket(b"exec")
            pairs += list(sub.items()) if sub is not None else []
        for key, value in pairs:
            sid, cid = self._text(key, "exec"), self._text(value, "exec")
            if found.setdefault(sid, cid) != cid:
                raise self._corrupt(f"exec session {sid} is registered to two containers")
        self.plan.exec_sessions = [ExecSession(s, c) for s, c in sorted(found.items())]
