"""One corruption per fsck finding code, each applied to a freshly built store.

:func:`build_store` makes a small store through the public API (every kind of object and index
entry). Each builder in :data:`BUILDERS` then damages it on disk, as a crash, a bad copy, a
person or a bug would, and returns the findings ``fsstate.check`` must report: exactly those,
as ``(code, path, repairable)`` with paths relative to ``<static>/fsstate``. Builders whose
name is a finding code are the canonical case of that code; the others are variants.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from conftest import container_id, new_container, new_pod, new_volume, pod_id

from fsstate import ExecSession, FileState
from fsstate.fsck import Code
from fsstate.state.catalog import container_entries
from fsstate.store import codec
from fsstate.store import layout as L
from fsstate.store.journal import Generation, Journal

C1, C3, C4, C5, C6 = (container_id(n) for n in (1, 3, 4, 5, 6))
P2 = pod_id(2)
GONE = "d" * 32  # an ID no object has
SESSION = "sess1"


class Expected(NamedTuple):
    code: Code
    path: str
    repairable: bool = True


Builder = Callable[[Path], list[Expected]]
BUILDERS: dict[str, Builder] = {}


def builder(fn: Builder) -> Builder:
    BUILDERS[fn.__name__.replace("_", "-")] = fn
    return fn


def build_store(static: Path) -> Path:
    """A store with two volumes, a pod of two (an infra container and one that joins its
    network namespace), a container with a volume, a network and an exec session, a plain
    container and one in a libpod namespace. Returns the store directory."""
    with FileState(static, static.parent / "tmp") as st:
        st.add_volume(new_volume("vol1"))
        st.add_volume(new_volume("vol2"))
        mounts = [{"volumeName": "vol1", "dest": "/data", "options": []}]
        st.add_container(new_container(1, namedVolumes=mounts, networks=["podman"]))
        pod = new_pod(2)
        st.add_pod(pod)
        st.add_container_to_pod(pod, new_container(3, pod=P2, pause=True))
        st.add_container_to_pod(pod, new_container(4, pod=P2, netNsCtr=C3))
        st.add_container(new_container(5))
        st.set_namespace("ns1")
        st.add_container(new_container(6, namespace="ns1"))
        st.set_namespace("")
        st.add_exec_session(st.container(C1), ExecSession(SESSION, C1))
    return static / L.STORE_DIR


# -- helpers: write as the store does (0600 files, 0700 directories) -------------------------


def put(store: Path, rel: str, data: bytes) -> None:
    path = store / rel
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_doc(store: Path, rel: str) -> dict[str, object]:
    return codec.decode_object((store / rel).read_bytes(), rel)


def write_doc(store: Path, rel: str, doc: object) -> None:
    put(store, rel, codec.encode(doc))


def cfg(cid: str) -> str:
    return L.container_doc(cid, "config")


def state(cid: str) -> str:
    return L.container_doc(cid, "state")


# -- documents that cannot be read -----------------------------------------------------------


@builder
def empty_document(store: Path) -> list[Expected]:
    """A crash after create, before the data reached the disk: the state of container 5."""
    put(store, state(C5), b"")
    return [Expected(Code.EMPTY_DOCUMENT, state(C5))]


@builder
def empty_config(store: Path) -> list[Expected]:
    put(store, cfg(C5), b"")
    return [Expected(Code.EMPTY_DOCUMENT, cfg(C5))]


@builder
def nul_document(store: Path) -> list[Expected]:
    """ext4 after a power cut: the size made it to disk, the data did not."""
    size = (store / cfg(C5)).stat().st_size
    put(store, cfg(C5), b"\x00" * size)
    return [Expected(Code.NUL_DOCUMENT, cfg(C5))]


@builder
def truncated_document(store: Path) -> list[Expected]:
    data = (store / state(C5)).read_bytes()
    put(store, state(C5), data[: len(data) // 2])
    return [Expected(Code.TRUNCATED_DOCUMENT, state(C5))]


@builder
def truncated_nul_tail(store: Path) -> list[Expected]:
    """Half a document, then the NUL bytes of blocks that never got written."""
    data = (store / cfg(C5)).read_bytes()
    put(store, cfg(C5), data[: len(data) // 2] + b"\x00" * 512)
    return [Expected(Code.TRUNCATED_DOCUMENT, cfg(C5))]


@builder
def invalid_json(store: Path) -> list[Expected]:
    put(store, L.volume_doc("vol2", "config"), b"name = 'vol2'\n")
    return [Expected(Code.INVALID_JSON, L.volume_doc("vol2", "config"))]


@builder
def invalid_json_exec(store: Path) -> list[Expected]:
    put(store, L.exec_doc(SESSION), b"\xff\xfe{}")
    return [Expected(Code.INVALID_JSON, L.exec_doc(SESSION))]


@builder
def schema_violation(store: Path) -> list[Expected]:
    doc = read_doc(store, state(C5))
    doc["state"] = "running"
    write_doc(store, state(C5), doc)
    return [Expected(Code.SCHEMA_VIOLATION, state(C5))]


@builder
def schema_violation_unsafe_namespace(store: Path) -> list[Expected]:
    """A namespace the store would turn into a path outside index/namespaces."""
    doc = read_doc(store, cfg(C5))
    doc["namespace"] = "../../containers"
    write_doc(store, cfg(C5), doc)
    return [Expected(Code.SCHEMA_VIOLATION, cfg(C5))]


@builder
def schema_violation_dbconfig(store: Path) -> list[Expected]:
    write_doc(store, L.DBCONFIG, {"libpod_root": 7})
    return [Expected(Code.SCHEMA_VIOLATION, L.DBCONFIG)]


@builder
def misplaced_document(store: Path) -> list[Expected]:
    doc = read_doc(store, cfg(C5))
    doc["id"] = GONE
    write_doc(store, cfg(C5), doc)
    return [Expected(Code.MISPLACED_DOCUMENT, cfg(C5))]


# -- objects missing a document, directories without any -------------------------------------


@builder
def missing_config(store: Path) -> list[Expected]:
    (store / cfg(C5)).unlink()
    return [Expected(Code.MISSING_CONFIG, cfg(C5))]


@builder
def missing_state(store: Path) -> list[Expected]:
    (store / state(C5)).unlink()
    return [Expected(Code.MISSING_STATE, state(C5))]


@builder
def missing_pod_state(store: Path) -> list[Expected]:
    (store / L.pod_doc(P2, "state")).unlink()
    return [Expected(Code.MISSING_STATE, L.pod_doc(P2, "state"))]


@builder
def orphan_directory(store: Path) -> list[Expected]:
    (store / L.container_dir(GONE)).mkdir(mode=0o700)
    return [Expected(Code.ORPHAN_DIRECTORY, L.container_dir(GONE))]


# -- the index -------------------------------------------------------------------------------


@builder
def missing_index_entry(store: Path) -> list[Expected]:
    path = f"{L.dependents_dir(C3)}/{C4}"
    (store / path).unlink()
    return [Expected(Code.MISSING_INDEX_ENTRY, path)]


@builder
def empty_index_directory(store: Path) -> list[Expected]:
    """A copy taken while the last dependent of a removed container was being removed."""
    (store / L.dependents_dir(GONE)).mkdir(mode=0o700)
    return [Expected(Code.ORPHAN_DIRECTORY, L.dependents_dir(GONE))]


@builder
def missing_name_entry(store: Path) -> list[Expected]:
    (store / L.name_index("test5")).unlink()
    return [Expected(Code.MISSING_INDEX_ENTRY, L.name_index("test5"))]


@builder
def extra_index_entry(store: Path) -> list[Expected]:
    path = f"{L.volume_users_dir('vol2')}/{C5}"
    put(store, path, b"")
    return [Expected(Code.EXTRA_INDEX_ENTRY, path)]


@builder
def extra_index_entry_misplaced(store: Path) -> list[Expected]:
    """An ID registry entry in the wrong shard."""
    path = f"{L.id_shard_dir('containers', 'zz')}/{C5}"
    put(store, path, b"")
    return [Expected(Code.EXTRA_INDEX_ENTRY, path)]


@builder
def extra_index_file_for_a_directory(store: Path) -> list[Expected]:
    """A file where a directory of entries belongs: repair deletes it, then writes below."""
    folder = L.dependents_dir(C3)
    (store / folder / C4).unlink()
    (store / folder).rmdir()
    put(store, folder, b"")
    return [
        Expected(Code.EXTRA_INDEX_ENTRY, folder),
        Expected(Code.MISSING_INDEX_ENTRY, f"{folder}/{C4}"),
    ]


@builder
def stale_index_entry(store: Path) -> list[Expected]:
    write_doc(store, L.name_index("test5"), {"kind": "pod", "id": P2})
    return [Expected(Code.STALE_INDEX_ENTRY, L.name_index("test5"))]


@builder
def stale_index_nul(store: Path) -> list[Expected]:
    put(store, L.name_index("test5"), b"\x00" * 40)
    return [Expected(Code.STALE_INDEX_ENTRY, L.name_index("test5"))]


# -- references to objects that do not exist -------------------------------------------------


def _rewrite_config(store: Path, cid: str, **changes: object) -> None:
    """Change a stored config and its index entries as if it had been stored so."""
    doc: dict[str, Any] = read_doc(store, cfg(cid))
    for path in container_entries(new_container(0, **doc)):
        (store / path).unlink(missing_ok=True)
    doc.update(changes)
    write_doc(store, cfg(cid), doc)
    for path, data in container_entries(new_container(0, **doc)).items():
        put(store, path, data)


@builder
def dangling_dependency(store: Path) -> list[Expected]:
    _rewrite_config(store, C5, Dependencies=[GONE])
    return [Expected(Code.DANGLING_DEPENDENCY, cfg(C5))]


@builder
def dangling_pod_member(store: Path) -> list[Expected]:
    _rewrite_config(store, C5, pod=pod_id(9))
    return [Expected(Code.DANGLING_POD_MEMBER, cfg(C5))]


@builder
def dangling_volume_user(store: Path) -> list[Expected]:
    for doc in ("config", "state"):
        (store / L.volume_doc("vol1", doc)).unlink()
    (store / L.volume_dir("vol1")).rmdir()
    (store / L.id_index("volumes", "vol1")).unlink()  # the volume is gone, registry and all
    return [Expected(Code.DANGLING_VOLUME_USER, cfg(C1))]


@builder
def dangling_exec_session(store: Path) -> list[Expected]:
    write_doc(store, L.exec_doc("sess2"), {"id": "sess2", "containerId": GONE})
    put(store, f"{L.exec_index(GONE)}/sess2", b"")
    return [Expected(Code.DANGLING_EXEC_SESSION, L.exec_doc("sess2"))]


@builder
def name_clash(store: Path) -> list[Expected]:
    """Container 5 copied under another ID, name and all (a botched restore)."""
    doc = read_doc(store, cfg(C5))
    doc["id"] = GONE
    write_doc(store, cfg(GONE), doc)
    write_doc(store, state(GONE), read_doc(store, state(C5)))
    put(store, L.id_index("containers", GONE), b"")
    return [Expected(Code.NAME_CLASH, cfg(GONE), repairable=False)]


# -- files the layout has no place for -------------------------------------------------------


@builder
def stray_temp_file(store: Path) -> list[Expected]:
    path = f"{L.container_dir(C5)}/{L.temp_name(4242, 7)}"
    put(store, path, b'{"half": ')
    return [Expected(Code.STRAY_TEMP_FILE, path)]


@builder
def trash(store: Path) -> list[Expected]:
    """What a refresh killed after its commit left in the trash (record 0 comes before every
    record of the journal, so nothing can replay it): its exec directory, moved whole, and
    an old state. Nothing reads it: the exec session it holds is not the store's."""
    for directory in (L.TRASH, L.trash_dir(0), L.trash_entry(0, L.EXEC)):
        (store / directory).mkdir(mode=0o700)
    put(store, f"{L.trash_entry(0, L.EXEC)}/ghost", b'{"id": "ghost", "containerId": "x"}')
    put(store, f"{L.trash_dir(0)}/{L.temp_name(4242, 8)}", b'{"state": 3}')
    return [Expected(Code.TRASH, L.trash_dir(0))]


@builder
def unexpected_entry(store: Path) -> list[Expected]:
    path = f"{L.container_dir(C5)}/notes.txt"
    put(store, path, b"do not delete\n")
    return [Expected(Code.UNEXPECTED_ENTRY, path)]


@builder
def unexpected_directory_in_index(store: Path) -> list[Expected]:
    path = f"{L.name_index('test5')}.d"
    (store / path).mkdir(mode=0o700)
    return [Expected(Code.UNEXPECTED_ENTRY, path)]


@builder
def invalid_name(store: Path) -> list[Expected]:
    path = L.name_index("..evil")
    write_doc(store, path, {"kind": "container", "id": f"../../{L.container_dir(C5)}"})
    return [Expected(Code.INVALID_NAME, path)]


@builder
def invalid_name_exec(store: Path) -> list[Expected]:
    path = "exec/bad name"
    write_doc(store, path, {"id": "bad name", "containerId": C1})
    return [Expected(Code.INVALID_NAME, path)]


@builder
def invalid_name_directory(store: Path) -> list[Expected]:
    path = "containers/-x"
    (store / path).mkdir(mode=0o700)
    return [Expected(Code.INVALID_NAME, path)]


@builder
def unsafe_entry(store: Path) -> list[Expected]:
    """A symlink where an exec record should be; its target is never read."""
    (store / L.exec_doc(SESSION)).unlink()
    os.symlink("/etc/passwd", store / L.exec_doc(SESSION))
    return [Expected(Code.UNSAFE_ENTRY, L.exec_doc(SESSION))]


@builder
def unsafe_fifo(store: Path) -> list[Expected]:
    """A FIFO where a document should be: opening it must not block."""
    path = L.volume_doc("vol2", "state")
    (store / path).unlink()
    os.mkfifo(store / path, 0o600)
    return [Expected(Code.UNSAFE_ENTRY, path)]


@builder
def bad_permissions(store: Path) -> list[Expected]:
    os.chmod(store / cfg(C1), 0o644)
    os.chmod(store / "index" / "names", 0o755)
    return [Expected(Code.BAD_PERMISSIONS, cfg(C1)), Expected(Code.BAD_PERMISSIONS, "index/names")]


@builder
def bad_permissions_read_only(store: Path) -> list[Expected]:
    """Too narrow is as wrong as too wide: the store could not rewrite it."""
    os.chmod(store / state(C5), 0o400)
    return [Expected(Code.BAD_PERMISSIONS, state(C5))]


# -- the FORMAT file -------------------------------------------------------------------------


@builder
def unknown_format(store: Path) -> list[Expected]:
    put(store, L.FORMAT, b"fsstate-layout 99\n")
    return [Expected(Code.UNKNOWN_FORMAT, L.FORMAT, repairable=False)]


@builder
def unknown_format_missing(store: Path) -> list[Expected]:
    (store / L.FORMAT).unlink()
    return [Expected(Code.UNKNOWN_FORMAT, L.FORMAT)]


@builder
def unknown_format_nul(store: Path) -> list[Expected]:
    put(store, L.FORMAT, b"\x00" * 17)
    return [Expected(Code.UNKNOWN_FORMAT, L.FORMAT)]


@builder
def unknown_format_foreign(store: Path) -> list[Expected]:
    put(store, L.FORMAT, b"SQLite format 3\x00")
    return [Expected(Code.UNKNOWN_FORMAT, L.FORMAT, repairable=False)]


# -- the journal -------------------------------------------------------------------------------


def _generation(store: Path) -> Generation:
    return Generation.decode((store / L.GENERATION).read_bytes())


@builder
def damaged_journal(store: Path) -> list[Expected]:
    """A bit flipped in the first record while later ones hold, then a reboot (another
    incarnation): replaying would stop at the damage and undo the later records."""
    journal = bytearray((store / L.JOURNAL).read_bytes())
    (length,) = struct.unpack_from("<I", journal, 4)
    assert journal[:4] == b"FSJ2" and journal[24 + length : 28 + length] == b"FSJ2"
    journal[24 + length // 2] ^= 0x10
    (store / L.JOURNAL).write_bytes(bytes(journal))
    gen = _generation(store)
    (store / L.GENERATION).write_bytes(replace(gen, incarnation="another-boot").encode())
    return [Expected(Code.DAMAGED_JOURNAL, L.JOURNAL)]


@builder
def unapplied_record(store: Path) -> list[Expected]:
    """A committed record the tree cannot take (a name longer than the file system allows,
    ENAMETOOLONG): replay fails every time, reads go on."""
    gen = _generation(store)
    record = Journal.encode(gen.number + 1, [("put", f"{cfg(C5)}{'x' * 300}", b"{}\n")])
    fd = os.open(store / L.JOURNAL, os.O_WRONLY)
    try:
        os.pwrite(fd, record, gen.applied)
    finally:
        os.close(fd)
    return [Expected(Code.UNAPPLIED_RECORD, L.JOURNAL)]
