"""The on-disk format of an fsstate store, and the only place its paths are spelled.

The module holds the catalog of the tree as data: :data:`KINDS` (each kind of object, its
directory and its documents) and :data:`INDEXES` (each index: its path pattern, its sharding,
which document field derives it, which object its first key names). The State's catalog
(``fsstate.state.catalog``) fills the indexes from these, fsck (:func:`place`) judges every path
of a tree by them, and the crash suite derives its invariants from them: adding an index is a
change here and in the catalog code that fills it. ``docs/layout.md`` is the page for people
and names every pattern below.

Everything lives under ``<static_dir>/fsstate/``. Paths below are relative to it and always use
``/``. ``<id>``, ``<name>``, ``<ns>`` and ``<sid>`` are validated names (:func:`check_name`), so
no path component can be empty, ``.``, ``..`` or contain ``/``.

Control files::

    FORMAT                          "fsstate-layout 2" — refuse to open a newer layout; an
                                    older one is upgraded when opened (fsstate.store.upgrade)
    lock                            the store lock (flock), empty
    lock.queue                      the waiters' queue in front of it (byte-range locks)
    generation                      commit generation, applied journal offset, incarnation
    journal                         commit records since the last checkpoint (see journal.py)

Documents — the truth; pretty-printed JSON, one object each::

    dbconfig.json                   pinned DBConfig (absent until the first validation)
    semantics.json                  {"semantics": "bolt"|"sqlite"}: the Podman rules the store
                                    follows (fsstate.state.semantics; absent: "bolt")
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
    exit-codes/<id>                 a container's last exit code {"id", "exitCode",
                                    "timestamp"} (Unix seconds); outlives the container

Indexes — derived from the documents, rebuilt by ``fsck --repair``; one small file per entry,
so a change touches a fixed number of files however large the store is::

    index/names/<name>                      {"kind": "container"|"pod", "id": "<id>"}; under
                                            "sqlite" semantics containers only
    index/pod-names/<name>                  {"kind": "pod", "id": "<id>"}: the pod names of a
                                            "sqlite" store, a registry of their own
    index/containers/<shard>/<id>           empty: container ID registry
    index/pods/<shard>/<id>                 empty: pod ID registry
    index/volumes/<shard>/<name>            empty: volume name registry (for prefix lookups)
    index/namespaces/<ns>/containers/<id>   empty: containers in libpod namespace <ns>
    index/namespaces/<ns>/pods/<id>         empty: pods in namespace <ns>
    index/dependents/<id>/<dependent-id>    empty: <dependent-id> depends on <id>
    index/pod-members/<pod-id>/<ctr-id>     empty: <ctr-id> is a member of <pod-id>
    index/volume-users/<name>/<ctr-id>      empty: <ctr-id> mounts named volume <name>
    index/exec/<ctr-id>/<sid>               empty: session <sid> is registered to <ctr-id>
    index/volume-storage/<storage-id>/<name> empty: volume <name>'s config has that storageID
    index/exit-orphans/<id>                 empty: exit code <id> has no container (prunable)

``<shard>`` is the first :data:`SHARD_WIDTH` (three) characters of the ID or volume name (the
whole of it when it is shorter), as git shards its objects: a prefix lookup reads one small
directory, not them all. Three, not git's two: 4,096 shards keep a shard at 24 IDs at 10⁵
containers, where 256 held 390 and a fresh process's prefix lookup cost grew with the store
(layout 1 had two; ``benchmarks/README.md``, issue 10).

The trash — what a commit set aside, deleted after the commit in the background (never read as
store data; ``fsck`` reports what is left, ``fsck --repair`` and the next process that opens
the store delete it)::

    trash/<n>/<moved>               a directory a commit moved aside whole: ``exec`` and
                                    ``index.exec`` (``index/exec``) when ``refresh()`` drops
                                    every exec session (:func:`trash_entry`; ``<moved>.1``,
                                    … when a replay moves it again)
    trash/<n>/.fsstate-tmp-<pid>-<k> the old version of a file that commit replaced or
                                    deleted (its blocks are freed by the deletion, not the
                                    commit)

``<n>`` is the number of the journal record that moved them: a trash directory is deleted
only once that record can no longer be replayed (``storage.FileStorage``, "The trash").

Repair leaves unreadable documents in ``quarantine/<timestamp>/`` (never deleted; a hostile
``quarantine`` itself is set aside as ``quarantine-<timestamp>``). Temporary files are
``.fsstate-tmp-<pid>-<n>`` next to their target (not named after it: a 255-byte name leaves no
room) and are removed when recovery runs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from fsstate.errors import EmptyIDError, InvalidArgumentError

__all__ = [
    "ALIVE",
    "CONTAINERS",
    "CONTROL_FILES",
    "DBCONFIG",
    "EXEC",
    "EXIT_CODES",
    "FORMAT",
    "FORMAT_VERSION",
    "GENERATION",
    "INDEXES",
    "INDEX_DIR",
    "JOURNAL",
    "KINDS",
    "LOCK",
    "LOCK_QUEUE",
    "NAMES",
    "NAME_INDEX",
    "PODS",
    "QUARANTINE",
    "SEMANTICS",
    "SHARD_WIDTH",
    "STORE_DIR",
    "TRASH",
    "VOLUMES",
    "Index",
    "Kind",
    "check_name",
    "container_dir",
    "container_doc",
    "dependents_dir",
    "exec_doc",
    "exec_index",
    "exec_sid",
    "exit_code_doc",
    "id_index",
    "id_registry_dir",
    "id_shard_dir",
    "index_of",
    "is_temp_name",
    "is_valid_name",
    "kind_of",
    "name_index",
    "namespace_dir",
    "objects_dir",
    "place",
    "pod_dir",
    "pod_doc",
    "pod_members_dir",
    "pod_name_index",
    "quarantined",
    "shard",
    "temp_name",
    "trash_dir",
    "trash_entry",
    "trash_number",
    "volume_dir",
    "volume_doc",
    "volume_users_dir",
]

STORE_DIR = "fsstate"
FORMAT = "FORMAT"
#: The layout this fsstate writes: 2 since registry shards are three characters wide (1: two).
FORMAT_VERSION = 2
#: How many leading characters of an ID or volume name name its registry shard.
SHARD_WIDTH = 3
LOCK = "lock"
GENERATION = "generation"
JOURNAL = "journal"
DBCONFIG = "dbconfig.json"
#: The queue in front of the lock: a ticket counter and one locked byte per waiter (lock.py).
LOCK_QUEUE = "lock.queue"
CONTROL_FILES = (FORMAT, LOCK, LOCK_QUEUE, GENERATION, JOURNAL)
#: In ``tmp_dir``, outside the store: the boot ID of the boot whose refresh ran (API.md,
#: refresh_if_rebooted; the name of Podman's own marker, libpod/runtime.go).
ALIVE = "alive"
QUARANTINE = "quarantine"
#: Where a commit sets aside what is deleted after it (``trash/<record number>/``).
TRASH = "trash"
INDEX_DIR = "index"
#: The directory of exec-session registrations, ``exec/<sid>`` (no ``.json``: a 255-byte session
#: ID must still fit in a file name).
EXEC = "exec"
#: Which semantics the store follows (``fsstate.state.semantics``).
SEMANTICS = "semantics.json"
#: The directory of exit codes, ``exit-codes/<id>`` (no ``.json``, as ``exec/``).
EXIT_CODES = "exit-codes"
_DOC_SUFFIX = ".json"

#: API.md Decision 10: what a name or ID may look like.
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
MAX_NAME_BYTES = 255

_TEMP_PREFIX = ".fsstate-tmp-"
_TEMP = re.compile(re.escape(_TEMP_PREFIX) + r"\d+-\d+$")


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
    if _valid(value):
        return value
    if len(value.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidArgumentError(f"{what} {value[:40]!r}… is longer than 255 bytes", name=value)
    raise InvalidArgumentError(
        f"{what} {value!r} must match [a-zA-Z0-9][a-zA-Z0-9_.-]*", name=value
    )


def is_valid_name(value: object) -> bool:
    """True when ``value`` passes :func:`check_name` (for names read back from the tree)."""
    return isinstance(value, str) and _valid(value)


@functools.lru_cache(maxsize=8192)
def _valid(value: str) -> bool:
    """The test of :func:`check_name`, remembered for the names a process uses most: every
    call checks its argument and the catalog checks it again before it becomes a path. The
    pattern matches ASCII only, so characters are bytes."""
    return len(value) <= MAX_NAME_BYTES and _NAME.fullmatch(value) is not None


def shard(id: str) -> str:
    """The shard of an ID or volume name: its first :data:`SHARD_WIDTH` characters (all of a
    shorter one)."""
    return id[:SHARD_WIDTH]


# -- the catalog: kinds of objects and their documents -----------------------------------------


@dataclass(frozen=True)
class Kind:
    """A kind of object kept as ``<top>/<key>/<doc>.json``: ``name`` as messages, name entries
    and schema kinds say it, the config field ``key`` that names its directory, its documents
    (the first, ``config``, is the one it stands or falls with) and the ones fsck requires."""

    name: str
    top: str
    key: str
    docs: tuple[str, ...]
    required: tuple[str, ...]

    def dir(self, oid: str) -> str:
        return f"{self.top}/{oid}"

    def doc(self, oid: str, doc: str) -> str:
        """``doc`` is one of :attr:`docs`."""
        assert doc in self.docs, (self.name, doc)
        return f"{self.top}/{oid}/{doc}{_DOC_SUFFIX}"

    def doc_of(self, file_name: str) -> str:
        """The document a file name in an object directory stands for, ``""`` for none."""
        doc = file_name.removesuffix(_DOC_SUFFIX)
        return doc if doc in self.docs and file_name.endswith(_DOC_SUFFIX) else ""


CONTAINERS = Kind(
    "container", "containers", "id", ("config", "state", "networks"), ("config", "state")
)
PODS = Kind("pod", "pods", "id", ("config", "state"), ("config", "state"))
#: A volume's state is absent in very old stores.
VOLUMES = Kind("volume", "volumes", "name", ("config", "state"), ("config",))
KINDS = (CONTAINERS, PODS, VOLUMES)
_BY_TOP = {k.top: k for k in KINDS}


def kind_of(top: str) -> Kind | None:
    """The kind whose directory is ``top``, ``None`` for none."""
    return _BY_TOP.get(top)


def exec_doc(sid: str) -> str:
    return f"{EXEC}/{sid}"


def exit_code_doc(id: str) -> str:
    return f"{EXIT_CODES}/{id}"


def exec_sid(file_name: str) -> str:
    """The session ID an ``exec/`` file name stands for (``""`` when none)."""
    return file_name


# -- the catalog: indexes ---------------------------------------------------------------------


@dataclass(frozen=True)
class Index:
    """One index: a file per entry at ``pattern`` — literal components, and ``<key>``
    placeholders filled with names; ``<shard>`` is the :func:`shard` of the key after it.
    ``kinds`` are the object kinds (or ``"exec-session"``) whose documents imply entries,
    ``source`` the field they derive from, ``owner`` the kind its first key names (an entry whose
    owner does not exist is dangling; ``""``: the first key names no object), and
    ``name_entry`` whether an entry holds ``{"kind", "id"}`` instead of nothing."""

    pattern: str
    kinds: tuple[str, ...]
    source: str
    owner: str = ""
    name_entry: bool = False
    parts: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.pattern.split("/")))

    @property
    def sharded(self) -> bool:
        return "<shard>" in self.parts

    def path(self, *keys: str) -> str:
        """The entry for ``keys`` (one per placeholder, ``<shard>`` left out)."""
        out, rest = [], list(keys)
        for part in self.parts:
            if part == "<shard>":
                out.append(shard(rest[0]))
            elif _is_key(part):
                out.append(rest.pop(0))
            else:
                out.append(part)
        assert not rest, (self.pattern, keys)
        return "/".join(out)

    def dir(self, *keys: str) -> str:
        """The directory whose names are the next key after ``keys`` (``<shard>`` counts as a
        key here): ``DEPENDENTS.dir()`` lists owners, ``DEPENDENTS.dir(id)`` its dependents."""
        out, rest = [], list(keys)
        for part in self.parts:
            if _is_key(part):
                if not rest:
                    break
                out.append(rest.pop(0))
            else:
                out.append(part)
        assert not rest, (self.pattern, keys)
        return "/".join(out)

    def keys(self, path: str) -> tuple[str, ...] | None:
        """The keys of entry ``path`` (``<shard>`` left out), ``None`` when it is not one of
        this index's entries (a wrong shard included)."""
        parts = path.split("/")
        if len(parts) != len(self.parts) or not self.holds(parts):
            return None
        keys = tuple(
            p for p, q in zip(parts, self.parts, strict=True) if _is_key(q) and q != "<shard>"
        )
        return keys if self.path(*keys) == path else None

    def holds(self, parts: list[str] | tuple[str, ...]) -> bool:
        """Whether ``parts`` lie on this pattern (the entry, or a directory above it)."""
        if len(parts) > len(self.parts):
            return False
        return all(_is_key(q) or p == q for p, q in zip(parts, self.parts, strict=False))


def _is_key(part: str) -> bool:
    return part.startswith("<") and part.endswith(">")


CONTAINER_IDS = Index("index/containers/<shard>/<id>", ("container",), "the container's ID")
POD_IDS = Index("index/pods/<shard>/<id>", ("pod",), "the pod's ID")
VOLUME_NAMES = Index("index/volumes/<shard>/<name>", ("volume",), "the volume's name")
NAMES = Index("index/names/<name>", ("container", "pod"), "config name", name_entry=True)
#: Under "sqlite" semantics pod names have a registry of their own (and NAMES holds containers).
POD_NAMES = Index("index/pod-names/<name>", ("pod",), "config name", name_entry=True)
CONTAINER_NAMESPACES = Index(
    "index/namespaces/<ns>/containers/<id>", ("container",), "config namespace"
)
POD_NAMESPACES = Index("index/namespaces/<ns>/pods/<id>", ("pod",), "config namespace")
DEPENDENTS = Index(
    "index/dependents/<id>/<dependent-id>",
    ("container",),
    "config dependencies (Container.dependencies)",
    owner="container",
)
POD_MEMBERS = Index(
    "index/pod-members/<pod-id>/<ctr-id>", ("container",), "config pod", owner="pod"
)
VOLUME_USERS = Index(
    "index/volume-users/<name>/<ctr-id>",
    ("container",),
    "config namedVolumes (Container.named_volumes)",
    owner="volume",
)
EXEC_SESSIONS = Index(
    "index/exec/<ctr-id>/<sid>", ("exec-session",), "containerId", owner="container"
)
#: ``ContainerIDIsVolume``: the volumes whose config names a c/storage container.
VOLUME_STORAGE = Index("index/volume-storage/<storage-id>/<name>", ("volume",), "config storageID")
#: The exit codes whose container is gone: the only ones a prune reads.
EXIT_ORPHANS = Index("index/exit-orphans/<id>", ("exit-code",), "id, when no container has it")
#: Every index, in the order a container's entries are written.
INDEXES = (
    CONTAINER_IDS,
    POD_IDS,
    VOLUME_NAMES,
    NAMES,
    CONTAINER_NAMESPACES,
    POD_NAMESPACES,
    DEPENDENTS,
    POD_MEMBERS,
    VOLUME_USERS,
    EXEC_SESSIONS,
    POD_NAMES,
    VOLUME_STORAGE,
    EXIT_ORPHANS,
)
#: The sharded ID registry of each kind (a prefix lookup reads one shard).
REGISTRY = {"container": CONTAINER_IDS, "pod": POD_IDS, "volume": VOLUME_NAMES}
#: The namespace index of each kind that lives in a libpod namespace.
NAMESPACE = {"container": CONTAINER_NAMESPACES, "pod": POD_NAMESPACES}
NAME_INDEX = NAMES.dir()
POD_NAME_INDEX = POD_NAMES.dir()


def index_of(path: str) -> Index | None:
    """The index whose entry ``path`` is, ``None`` when it is none's."""
    return next((i for i in INDEXES if i.keys(path) is not None), None)


# -- where each path belongs ---------------------------------------------------------------------

#: The role of each top-level name.
_TOP = dict.fromkeys(CONTROL_FILES, "control") | {DBCONFIG: "doc", QUARANTINE: "skip"}
_TOP[TRASH] = "trash"
_TOP |= dict.fromkeys([*_BY_TOP, EXEC, EXIT_CODES, INDEX_DIR], "dir") | {SEMANTICS: "doc"}


def place(parts: list[str], is_dir: bool) -> str:
    """The role of the path ``parts`` (its components) in the layout — ``dir``, ``doc``,
    ``index``, ``control``, ``skip`` (the quarantine, never looked into) or ``trash`` (the
    trash directory, whose entries are deleted, never read) — or ``""`` when the layout has no
    place for it. Names are not checked here (see :func:`is_valid_name`)."""
    top, depth, name = parts[0], len(parts), parts[-1]
    if depth == 1:
        role = _TOP.get(name, "")
        return role if role and (role in ("dir", "skip", "trash")) == is_dir else ""
    kind = _BY_TOP.get(top)
    if kind is not None:
        if depth == 2:
            return "dir" if is_dir else ""
        return "doc" if depth == 3 and not is_dir and kind.doc_of(name) else ""
    if top in (EXEC, EXIT_CODES):
        return "" if is_dir or depth != 2 else "doc"
    if top != INDEX_DIR:
        return ""
    for index in INDEXES:
        if index.holds(parts):
            if len(parts) < len(index.parts):
                if is_dir:
                    return "dir"
            elif not is_dir:
                return "index"
    return ""


# -- path helpers kept for their callers ---------------------------------------------------------


def objects_dir(kind: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``: the directory of their documents'
    directories (one per object)."""
    return _BY_TOP[kind].top


def container_dir(id: str) -> str:
    return CONTAINERS.dir(id)


def container_doc(id: str, doc: str) -> str:
    """``doc`` is ``config``, ``state`` or ``networks``."""
    return CONTAINERS.doc(id, doc)


def pod_dir(id: str) -> str:
    return PODS.dir(id)


def pod_doc(id: str, doc: str) -> str:
    return PODS.doc(id, doc)


def volume_dir(name: str) -> str:
    return VOLUMES.dir(name)


def volume_doc(name: str, doc: str) -> str:
    return VOLUMES.doc(name, doc)


def name_index(name: str) -> str:
    return NAMES.path(name)


def pod_name_index(name: str) -> str:
    return POD_NAMES.path(name)


def id_registry_dir(kind: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``; its shards are the entries."""
    return REGISTRY[_BY_TOP[kind].name].dir()


def id_shard_dir(kind: str, shard_name: str) -> str:
    """``kind`` is ``containers``, ``pods`` or ``volumes``."""
    return REGISTRY[_BY_TOP[kind].name].dir(shard_name)


def id_index(kind: str, id: str) -> str:
    return REGISTRY[_BY_TOP[kind].name].path(id)


def namespace_dir(ns: str, kind: str) -> str:
    """``kind`` is ``containers`` or ``pods``."""
    return NAMESPACE[_BY_TOP[kind].name].dir(ns)


def dependents_dir(id: str) -> str:
    return DEPENDENTS.dir(id)


def pod_members_dir(pod_id: str) -> str:
    return POD_MEMBERS.dir(pod_id)


def volume_users_dir(name: str) -> str:
    return VOLUME_USERS.dir(name)


def exec_index(ctr_id: str) -> str:
    return EXEC_SESSIONS.dir(ctr_id)


def quarantined(stamp: str, rel: str) -> str:
    """Where repair moves ``rel`` in the repair of time ``stamp``: ``quarantine/<stamp>/<rel>``,
    or ``quarantine-<stamp>`` for a hostile quarantine itself."""
    return f"{QUARANTINE}-{stamp}" if rel == QUARANTINE else f"{QUARANTINE}/{stamp}/{rel}"


def trash_dir(number: int) -> str:
    """The trash directory of the commit of journal record ``number``."""
    return f"{TRASH}/{number}"


def trash_entry(number: int, path: str) -> str:
    """Where the commit of record ``number`` moves directory ``path`` (``index/exec`` →
    ``trash/<number>/index.exec``: names in the store hold no ``.`` at the top)."""
    return f"{trash_dir(number)}/{path.replace('/', '.')}"


def trash_number(name: str) -> int | None:
    """The record number a ``trash/<name>`` directory belongs to, ``None`` when it is not one."""
    return int(name) if name.isascii() and name.isdigit() else None


def temp_name(pid: int, n: int) -> str:
    return f"{_TEMP_PREFIX}{pid}-{n}"


def is_temp_name(name: str) -> bool:
    # The prefix test first: every listing filters each of its names through this.
    return name.startswith(_TEMP_PREFIX) and _TEMP.match(name) is not None
