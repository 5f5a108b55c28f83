"""The objects the State stores: containers, pods, volumes, exec sessions, and the DB config.

Each object holds Podman's own JSON documents as plain dicts with Podman's keys
(``spec/podman-state.md`` §5): ``config`` (ContainerConfig, PodConfig, VolumeConfig) and
``state`` (ContainerState, podState, VolumeState). Unknown keys are kept. The store interprets
only a few keys, read through the properties below. No I/O happens here.

Copies: constructors deep-copy their arguments, so a caller's dict and the object never share
mutable data; objects the store returns are built from freshly decoded documents.

Deferred decoding: a container or pod the store returns may hold its config as the stored bytes
until ``config`` is first read (:meth:`_Object._deferred`); its ID, name and namespace come
from the summary the store made when it checked those bytes. A reader that only needs the
object, or those three fields, pays no decode; one that reads ``config`` gets a dict of its
own, decoded from bytes the store already found valid.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Self

from fsstate.errors import CorruptDocumentError, InvalidArgumentError
from fsstate.store import codec

__all__ = [
    "DEPENDENCY_KEYS",
    "Container",
    "DBConfig",
    "ExecSession",
    "Pod",
    "Volume",
]

#: ContainerConfig keys whose non-empty value names a container this one depends on
#: (``spec/podman-state.md`` §2.4), besides the list under ``Dependencies``.
DEPENDENCY_KEYS = (
    "ipcNsCtr",
    "mountNsCtr",
    "netNsCtr",
    "pidNsCtr",
    "userNsCtr",
    "utsNsCtr",
    "cgroupNsCtr",
)


_POD_AND_DEPENDENCY_KEYS = ("pod", *DEPENDENCY_KEYS)
#: Every config key whose value names something that becomes a path: the ID, the name, the
#: namespace and those :meth:`Container._path_names` reads.
NAME_KEYS = ("id", "name", "namespace", *_POD_AND_DEPENDENCY_KEYS, "Dependencies", "namedVolumes")


def _copy_mapping(value: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(f"{what} must be a mapping, not {type(value).__name__}")
    try:
        # A JSON round trip copies JSON data some 30 times faster than deepcopy.
        return codec.decode_object(codec.encode_compact(dict(value)), what)
    except (TypeError, ValueError, CorruptDocumentError):
        return copy.deepcopy(dict(value))  # not JSON data: the schema check will say why


def _field(doc: Any, key: str) -> str:
    """A string field of a config that may have been replaced by anything at all."""
    value = doc.get(key) if type(doc) is dict or isinstance(doc, Mapping) else None
    return value if isinstance(value, str) else ""


#: What the store knew of a config it left undecoded: the stored bytes, the file they came
#: from (for messages), and its ``id``, ``name`` and ``namespace`` fields.
Deferred = tuple[bytes, str, tuple[str, str, str]]


class _Object:
    """Shared shape of Container, Pod and Volume: a config, a state and the valid flag."""

    __slots__ = ("_config", "_deferred_config", "state", "valid")
    _kind = "object"

    _config: dict[str, Any]
    _deferred_config: Deferred | None
    state: dict[str, Any]
    valid: bool

    def __init__(self, config: Mapping[str, Any], state: Mapping[str, Any] | None = None) -> None:
        if config is None:
            config = {}
        self.config = _copy_mapping(config, f"{self._kind} config")
        self.state = _copy_mapping(state, f"{self._kind} state")
        self.valid = True

    @property
    def config(self) -> dict[str, Any]:
        deferred = self._deferred_config
        if deferred is not None:  # bytes the store checked: they decode to a JSON object
            self._config = codec.decode_object(deferred[0], deferred[1])
            self._deferred_config = None
        return self._config

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._config = value
        self._deferred_config = None

    @classmethod
    def _adopt(cls, config: dict[str, Any], state: dict[str, Any] | None = None) -> Self:
        """Wrap dicts the caller owns outright (freshly decoded by the store): no copy."""
        obj = cls.__new__(cls)
        obj.config = config
        obj.state = state if state is not None else {}
        obj.valid = True
        return obj

    @classmethod
    def _deferred(cls, deferred: Deferred) -> Self:
        """An object with an empty state whose config is decoded from ``deferred``'s bytes
        when first read. Only for bytes the store has decoded and checked before, with the
        same ID, name and namespace (``fsstate.state.catalog``)."""
        obj = cls.__new__(cls)
        obj._deferred_config = deferred
        obj.state = {}
        obj.valid = True
        return obj

    def _summary(self, at: int, key: str) -> str:
        deferred = self._deferred_config
        return deferred[2][at] if deferred is not None else _field(self._config, key)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Object)
        return self.config == other.config and self.state == other.state

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value


class _Registered(_Object):
    """Containers and pods: an ID in the shared ID registry, a name, a libpod namespace."""

    __slots__ = ()

    @property
    def id(self) -> str:
        return self._summary(0, "id")

    @property
    def name(self) -> str:
        return self._summary(1, "name")

    @property
    def namespace(self) -> str:
        """The libpod namespace (SEED era), ``""`` when none."""
        return self._summary(2, "namespace")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r})"


class Container(_Registered):
    """A container: ``config`` is libpod's ContainerConfig JSON, ``state`` its ContainerState.

    ``Container(config, state=None)``; ``state`` defaults to ``{}``.
    """

    __slots__ = ()
    _kind = "container"

    @property
    def pod_id(self) -> str:
        """The full ID of the pod the container belongs to, ``""`` when none."""
        return _field(self.config, "pod")

    def dependencies(self) -> list[str]:
        """IDs of the containers this one depends on: the non-empty ``*NsCtr`` keys plus
        ``Dependencies``, de-duplicated and sorted (``spec/podman-state.md`` §2.4)."""
        deps = {_field(self.config, key) for key in DEPENDENCY_KEYS}
        generic = self.config.get("Dependencies") if isinstance(self.config, Mapping) else None
        if isinstance(generic, list):
            deps.update(d for d in generic if isinstance(d, str))
        deps.discard("")
        return sorted(deps)

    def _path_names(self) -> list[str]:
        """The pod, dependencies and named volumes, unsorted and possibly repeated: the
        names of :attr:`pod_id`, :meth:`dependencies` and :meth:`named_volumes` without their
        sorting, for the check every read config gets (``catalog.names_valid``)."""
        config = self.config
        if not isinstance(config, Mapping):
            return []
        names = [config.get(key) for key in _POD_AND_DEPENDENCY_KEYS]
        generic = config.get("Dependencies")
        if isinstance(generic, list):
            names += generic
        volumes = config.get("namedVolumes")
        if isinstance(volumes, list):
            names += [entry.get("volumeName") for entry in volumes if isinstance(entry, Mapping)]
        return [name for name in names if isinstance(name, str) and name]

    def named_volumes(self) -> list[str]:
        """Distinct ``namedVolumes[].volumeName`` values, sorted (§2.6)."""
        names: set[str] = set()
        volumes = self.config.get("namedVolumes") if isinstance(self.config, Mapping) else None
        if isinstance(volumes, list):
            for entry in volumes:
                if isinstance(entry, Mapping) and isinstance(entry.get("volumeName"), str):
                    names.add(entry["volumeName"])
        names.discard("")
        return sorted(names)


class Pod(_Registered):
    """A pod: ``config`` is libpod's PodConfig JSON, ``state`` its podState."""

    __slots__ = ()
    _kind = "pod"


class Volume(_Object):
    """A named volume: ``config`` is libpod's VolumeConfig JSON, ``state`` its VolumeState."""

    __slots__ = ()
    _kind = "volume"

    @property
    def name(self) -> str:
        return _field(self.config, "name")

    def __repr__(self) -> str:
        return f"Volume(name={self.name!r})"


class ExecSession:
    """An exec session registration: the session ID and the container it runs in.

    The session body itself lives in the container's state (``newExecSessions``); the State
    stores only this link (``spec/podman-state.md`` §2.7).
    """

    __slots__ = ("container_id", "id")

    def __init__(self, id: str, container_id: str) -> None:
        self.id = id
        self.container_id = container_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ExecSession):
            return NotImplemented
        return (self.id, self.container_id) == (other.id, other.container_id)

    def __hash__(self) -> int:
        return hash((self.id, self.container_id))

    def __repr__(self) -> str:
        return f"ExecSession(id={self.id!r}, container_id={self.container_id!r})"


@dataclass
class DBConfig:
    """The runtime paths pinned when the store is first validated (``spec/podman-state.md``
    §2.10). All fields are strings; ``""`` means unset."""

    libpod_root: str = ""
    libpod_tmp: str = ""
    storage_root: str = ""
    storage_tmp: str = ""
    graph_driver: str = ""
    volume_path: str = ""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
