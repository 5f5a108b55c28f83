"""The on-disk format of an fsstate store, and the only place paths are spelled.

Everything lives under ``<static_dir>/fsstate/``. Paths below are relative to it and always use
``/``. ``<id>``, ``<name>``, ``<ns>`` and ``<sid>`` are validated names (:func:`check_name`), so
no path component can be empty, ``.``, ``..`` or contain ``/``.

Control files::

    FORMAT                          "fsstate-layout 1" — refuse to open a newer layout
    lock                            the store lock (flock), empty
    generation                      commit generation, applied journal offset, incarnation
    journal                         commit records since the last checkpoint (see journal.py)

Documents — the truth; pretty-printed JSON, one object each::

    dbconfig.json                   pinned DBConfig (absent until the first validation)
    containers/<id>/config.json     libpod ContainerConfig
    containers/<id>/state.json      libpod ContainerState
    containers/<id>/networks.json   live networks: {"<network>": ["alias", …] | null}
                                    (absent: the container never had a network list)
    pods/<id>/config.json           libpod PodConfig
    pods/<id>/state.json            libpod podState
    volumes/<name>/config.json      libpod VolumeConfig
    volumes/<name>/state.json       libpod VolumeState (absent in very old stores)
    exec/<sid>                      exec-session registration {"id", "containerId"}
                                    (no ".json": a 255-byte session ID must still fit)

Indexes — derived from the documents, rebuilt by ``fsck --repair``; one small file per entry,
so a change touches a fixed number of files however large the store is::

    index/names/<name>                      {"kind": "container"|"pod", "id": "<id>"}
    index/containers/<shard>/<id>           empty: container ID registry
    index/pods/<shard>/<id>                 empty: pod ID registry
    index/volumes/<shard>/<name>            empty: volume name registry (for prefix lookups)
    index/namespaces/<ns>/containers/<id>   empty: containers in libpod namespace <ns>
    index/namespaces/<ns>/pods/<id>         empty: pods in namespace <ns>
    index/dependents/<id>/<dependent-id>    empty: <dependent-id> depends on <id>
    index/pod-members/<pod-id>/<ctr-id>     empty: <ctr-id> is a member of <pod-id>
    index/volume-users/<name>/<ctr-id>      empty: <ctr-id> mounts named volume <name>
    index/exec/<ctr-id>/<sid>               empty: session <sid> is registered to <ctr-id>

``<shard>`` is the first two characters of the ID or volume name (the whole of it when it is one
character), as git shards its objects: a prefix lookup reads one small directory, not them all.

Repair leaves unreadable documents in ``quarantine/`` (never deleted). Temporary files are
``.fsstate-tmp-<pid>-<n>`` next to their target (not named after it: a 255-byte name leaves no
room) and are removed when recovery runs.
"""

from __future__ import annotations

import re

from fsstate.errors import EmptyIDError, InvalidArgumentError

__all__ = [
    "ALIVE",
    "CONTROL_FILES",
    "DBCONFIG",
    "FORMAT",
    "FORMAT_VERSION",
    "GENERATION",
    "JOURNAL",
    "LOCK",
    "NAME_INDEX",
    "STORE_DIR",
    "check_name",
    "container_dir",
    "container_doc",
    "dependents_dir",
    "exec_doc",
    "exec_index",
    "id_index",
    "id_registry_dir",
    "id_shard_dir",
    "is_temp_name",
    "is_valid_name",
    "name_index",
    "namespace_dir",
    "objects_dir",
    "pod_dir",
    "pod_doc",
    "pod_members_dir",
    "shard",
    "temp_name",
    "volume_dir",
    "volume_doc",
    "volume_users_dir",
]

STORE_DIR = "fsstate"
FORMAT = "FORMAT"
FORMAT_VERSION = 1
LOCK = "lock"
GENERATION = "generation"
JOURNAL = "journal"
DBCONFIG = "dbconfig.json"
NAME_INDEX = "index/names"
CONTROL_FILES = (FORMAT, LOCK, GENERATION, JOURNAL)
#: In ``tmp_dir``, outside the store: the boot ID of the boot whose refresh ran (API.md,
#: refresh_if_rebooted; the name of Podman's own marker, libpod/runtime.go).
ALIVE = "alive"

#: API.md Decision 10: what a name or ID may look like.
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
MAX_NAME_BYTES = 255

_TEMP = re.compile(r"^\.fsstate-tmp-\d+-\d+$")


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it can be a name, ID or session ID on disk.

    Raises, in order: :class:`EmptyIDError` for ``""``; :class:`InvalidArgumentError` for a
    non-string, more than 255 bytes, or anything not matching ``[a-zA-Z0-9][a-zA-Z0-9_.-]*``
    (API.md Decision 10: nothing that could name another directory).
    """
    if value == "":
        raise EmptyIDError(f"{what} is empty", what=what)
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{what} must be a string, not {type(value).__name__}")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgumentError(f"{what} {value[:40]!r}… is longer than 255 bytes", name=value)
    if not _NAME.fullmatch(value):
        raise InvalidArgumentError(
            f"{what} {value!r} must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", name=value
        )
    return value


def is_valid_name(value: object) -> bool:
    """True when ``value`` passes :func:`check_name` (for names read back from the tree)."""
    return (
        isinstance(value, str)
        and bool(_NAME.fullmatch(value))
        and len(value.encode("utf-8", "surrogatepass")) <= MAX_NAME_BYTES
    )


def shard(id: str) -> str:
    return id[:2]


def objects_dir(kind: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``: the directory of their documents'
    directories (one per object)."""
    return kind


def container_dir(id: str) -> str:
    return f"containers/{id}"


def container_doc(id: str, doc: str) -> str:
    """``doc`` is ``config``, ``state`` or ``networks``."""
    return f"containers/{id}/{doc}.json"


def pod_dir(id: str) -> str:
    return f"pods/{id}"


def pod_doc(id: str, doc: str) -> str:
    return f"pods/{id}/{doc}.json"


def volume_dir(name: str) -> str:
    return f"volumes/{name}"


def volume_doc(name: str, doc: str) -> str:
    return f"volumes/{name}/{doc}.json"


def exec_doc(sid: str) -> str:
    return f"exec/{sid}"


def name_index(name: str) -> str:
    return f"{NAME_INDEX}/{name}"


def id_registry_dir(kind: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``; its shards are the entries."""
    return f"index/{kind}"


def id_shard_dir(kind: str, shard_name: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``."""
    return f"index/{kind}/{shard_name}"


def id_index(kind: str, id: str) -> str:
    return f"index/{kind}/{shard(id)}/{id}"


def namespace_dir(ns: str, kind: str) -> str:
    return f"index/namespaces/{ns}/{kind}"


def dependents_dir(id: str) -> str:
    return f"index/dependents/{id}"


def pod_members_dir(pod_id: str) -> str:
    return f"index/pod-members/{pod_id}"


def volume_users_dir(name: str) -> str:
    return f"index/volume-users/{name}"


def exec_index(ctr_id: str) -> str:
    return f"index/exec/{ctr_id}"


def temp_name(pid: int, n: int) -> str:
    return f".fsstate-tmp-{pid}-{n}"


def is_temp_name(name: str) -> bool:
    return bool(_TEMP.match(name))
