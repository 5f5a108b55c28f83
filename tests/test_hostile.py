"""Hostile trees: symlinks planted anywhere are never followed out of the store, names read from
the tree are validated before they become paths, and files are private (0600 / 0700)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import container_id, dump_store, new_container
from corrupt.builders import C1, C5, SESSION, build_store, cfg, put, write_doc

from fsstate import ExecSession, FileState, check, errors, repair
from fsstate.fsck import Code
from fsstate.store import fsio
from fsstate.store import layout as L
from fsstate.store.storage import FileStorage

SECRET = b"outside the store: must stay unread and unchanged\n"


@pytest.fixture(autouse=True, params=["openat2", "walk"])
def resolution(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with the kernel's openat2 resolution and with the O_NOFOLLOW walk that
    stands in for it on kernels before 5.6."""
    if request.param == "walk":
        monkeypatch.setattr(fsio.calls, "_syscall", None)
    return str(request.param)


@pytest.fixture
def static(tmp_path: Path) -> Path:
    build_store(tmp_path / "static")
    return tmp_path / "static"


@pytest.fixture
def store(static: Path) -> Path:
    return static / L.STORE_DIR


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A file with known contents and an empty directory, both outside the store; at the end
    they must be exactly as they were."""
    target = tmp_path / "outside.txt"
    target.write_bytes(SECRET)
    os.chmod(target, 0o644)
    folder = tmp_path / "outside.d"
    folder.mkdir()
    before = target.stat()
    yield target, folder
    after = target.stat()
    assert target.read_bytes() == SECRET
    assert (after.st_mtime_ns, after.st_size, after.st_mode) == (
        before.st_mtime_ns,
        before.st_size,
        before.st_mode,
    )
    assert list(folder.iterdir()) == []


def plant(store: Path, rel: str, target: Path) -> None:
    """Replace whatever is at ``rel`` (file or directory tree) with a symlink to ``target``."""
    path = store / rel
    if path.is_dir() and not path.is_symlink():
        for sub in sorted(path.rglob("*"), key=lambda p: -len(p.parts)):
            sub.rmdir() if sub.is_dir() else sub.unlink()
        path.rmdir()
    elif path.exists() or path.is_symlink():
        path.unlink()
    os.symlink(target, path)


def open_state(static: Path) -> FileState:
    return FileState(static, static.parent / "tmp")


# Each case: where the symlink goes, whether it points at the file or the directory, and the
# calls that must refuse with CorruptDocumentError naming a path at or below the symlink.
Calls = Callable[[FileState], Any]
CASES: dict[str, tuple[str, str, list[Calls]]] = {
    "document": (
        cfg(C5),
        "file",
        [
            lambda st: st.container(C5),
            lambda st: st.lookup_container("test5"),
            lambda st: st.get_container_config(C5),
        ],
    ),
    "object-directory": (
        L.container_dir(C5),
        "dir",
        [
            lambda st: st.container(C5),
            lambda st: st.add_container(new_container(5)),
            lambda st: st.remove_container(new_container(5)),
        ],
    ),
    "index-directory": (
        "index/names",
        "dir",
        [
            lambda st: st.lookup_container("test1"),
            lambda st: st.add_container(new_container(7)),
            lambda st: st.lookup_container_id("test1"),
        ],
    ),
    "containers": (
        "containers",
        "dir",
        [
            lambda st: st.container(C1),
            lambda st: st.add_container(new_container(7)),
            lambda st: st.has_container(C1),
        ],
    ),
    "exec-record": (
        L.exec_doc(SESSION),
        "file",
        [lambda st: st.get_exec_session(SESSION)],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_planted_symlink_is_never_followed(
    case: str, static: Path, store: Path, outside: tuple[Path, Path]
) -> None:
    rel, kind, calls = CASES[case]
    plant(store, rel, outside[0] if kind == "file" else outside[1])
    planted = str(store / rel)
    with open_state(static) as st:
        for call in calls:
            with pytest.raises(errors.CorruptDocumentError) as exc:
                call(st)
            assert exc.value.path == planted or exc.value.path.startswith(planted + "/")
        if case not in ("containers", "index-directory"):  # every add needs those two
            st.add_container(new_container(8))  # the rest of the store still works
    report = check(static)
    assert [(f.code, f.path) for f in report.findings] == [(Code.UNSAFE_ENTRY, rel)]
    repair(report)
    assert not (store / rel).is_symlink()
    assert check(static).findings == ()
    with open_state(static) as st:
        dump_store(st)


class Blocked(Exception):
    """Raised by :func:`deadline`; not an OSError, which the store would take for damage."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail the block, instead of hanging the suite, when it takes longer than ``seconds``."""

    def expire(signum: int, frame: object) -> None:
        raise Blocked(f"blocked for {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_planted_state_fails_only_the_call_that_reads_it(
    kind: str, static: Path, store: Path, outside: tuple[Path, Path]
) -> None:
    """A state file that is a symlink or a FIFO is neither followed nor waited on (a FIFO's
    open would block until a writer came): ``update_container`` reports it, naming the file,
    and the container and the rest of the store stay usable."""
    rel = L.container_doc(C5, "state")
    if kind == "symlink":
        plant(store, rel, outside[0])
    else:
        (store / rel).unlink()
        os.mkfifo(store / rel, 0o600)
    planted = str(store / rel)
    with deadline(10), open_state(static) as st:
        ctr = st.container(C5)
        assert (ctr.id, ctr.state, ctr.valid) == (C5, {}, True)
        assert st.lookup_container("test5").id == C5
        with pytest.raises(errors.CorruptDocumentError) as exc:
            st.update_container(ctr)
        assert exc.value.path == planted
        assert (ctr.state, ctr.valid) == ({}, True)
        st.add_container(new_container(8))  # the rest of the store still works
        assert st.container(container_id(8)).name == new_container(8).name


@pytest.mark.parametrize("rel", [L.JOURNAL, L.LOCK, L.GENERATION, L.FORMAT])
def test_symlinked_control_file_refuses_to_open(
    rel: str, static: Path, store: Path, outside: tuple[Path, Path]
) -> None:
    """The journal, lock, generation or FORMAT file as a symlink: the store does not open,
    fsck says why, and repair restores a working store with every object."""
    with open_state(static) as st:
        dump = dump_store(st)
    plant(store, rel, outside[0])
    with pytest.raises(errors.CorruptDocumentError) as exc:
        open_state(static)
    assert exc.value.path == str(store / rel)
    report = check(static)
    assert [(f.code, f.path) for f in report.findings] == [(Code.UNSAFE_ENTRY, rel)]
    repair(report)
    assert check(static).findings == ()
    with open_state(static) as st:
        assert dump_store(st) == dump


def test_symlinked_store_directory(tmp_path: Path, outside: tuple[Path, Path]) -> None:
    static = tmp_path / "static"
    static.mkdir()
    os.symlink(outside[1], static / L.STORE_DIR)
    with pytest.raises(errors.CorruptDocumentError):
        open_state(static)
    report = check(static)
    assert [(f.code, f.path, f.repairable) for f in report.findings] == [
        (Code.UNSAFE_ENTRY, "", False)
    ]
    assert repair(report).findings == report.findings


def test_pending_record_into_a_symlinked_directory(
    static: Path, store: Path, outside: tuple[Path, Path]
) -> None:
    """A journal record still to be replayed must not write through a symlink planted on its
    way; fsck finds it and repair lets the record land inside the store."""
    with open_state(static) as st:
        st.add_container(new_container(7))
    # Make the last record look unapplied: roll the generation back to offset 0 of a copy.
    gen = (store / L.GENERATION).read_bytes().split()
    (store / L.GENERATION).write_bytes(f"fsstate-generation {gen[1].decode()} 0 x\n".encode())
    plant(store, L.container_dir(container_id(7)), outside[1])
    with pytest.raises(errors.CorruptDocumentError):
        open_state(static)
    report = check(static)
    assert (Code.UNSAFE_ENTRY, L.container_dir(container_id(7))) in [
        (f.code, f.path) for f in report.findings
    ]
    repair(report)
    assert check(static).findings == ()
    with open_state(static) as st:
        st.update_container(st.container(container_id(7)))


def test_symlinked_quarantine(static: Path, store: Path, outside: tuple[Path, Path]) -> None:
    """Repair never moves anything through a planted quarantine/: it sets it aside first."""
    os.symlink(outside[1], store / "quarantine")
    put(store, cfg(C5), b"")
    report = check(static)
    assert [(f.code, f.path) for f in report.findings] == [
        (Code.EMPTY_DOCUMENT, cfg(C5)),
        (Code.UNSAFE_ENTRY, "quarantine"),
    ]
    repair(report)
    assert check(static).findings == ()
    assert not (store / "quarantine").is_symlink()
    [stamp] = [p.name for p in (store / "quarantine").iterdir()]
    kept = store / "quarantine" / stamp
    assert sorted(p.name for p in kept.iterdir()) == ["containers", f"quarantine-{stamp}"]
    assert os.readlink(kept / f"quarantine-{stamp}") == str(outside[1])


# -- names read from the tree ----------------------------------------------------------------


def test_name_entry_pointing_outside(static: Path, store: Path, outside: tuple[Path, Path]) -> None:
    """A name entry whose ID would climb out of the store is ignored, never opened."""
    rel_out = os.path.relpath(outside[0], store / "containers")
    write_doc(store, L.name_index("evil"), {"kind": "container", "id": rel_out})
    write_doc(store, L.name_index("..evil"), {"kind": "container", "id": rel_out})
    with open_state(static) as st:
        with pytest.raises(errors.NoSuchContainerError):
            st.lookup_container("evil")
        with pytest.raises(errors.InvalidArgumentError):
            st.lookup_container("..evil")
        with pytest.raises(errors.NoSuchContainerError):
            st.lookup_container_id("evil")
    codes = {(f.code, f.path) for f in check(static).findings}
    assert codes == {
        (Code.EXTRA_INDEX_ENTRY, L.name_index("evil")),
        (Code.INVALID_NAME, L.name_index("..evil")),
    }


def test_exec_record_naming_a_path(static: Path, store: Path, outside: tuple[Path, Path]) -> None:
    """An exec record whose container ID is a path (here: to the directory holding the
    outside file, which is named like the session) is never used as one."""
    sid = outside[0].name  # "outside.txt" is a valid session ID
    owner = os.path.relpath(outside[0].parent, store / "index" / "exec")
    write_doc(store, L.exec_doc(sid), {"id": sid, "containerId": owner})
    with open_state(static) as st:
        assert st.get_exec_session(sid) == ""  # registered, to no container it can name
        with pytest.raises(errors.InternalError):
            st.remove_exec_session(ExecSession(sid, owner))
        st.remove_exec_session(ExecSession(sid, st.get_exec_session(sid)))  # as a runtime would
        with pytest.raises(errors.NoSuchExecSessionError):
            st.get_exec_session(sid)


def test_container_config_naming_paths(
    static: Path, store: Path, outside: tuple[Path, Path]
) -> None:
    """A planted config whose name, pod or volumes are paths: its removal deletes nothing
    outside its own entries."""
    bad = container_id(9)
    doc = new_container(9).config
    doc["name"] = os.path.relpath(outside[0], store / "index" / "names")
    doc["namedVolumes"] = [{"volumeName": f"../../{L.container_dir(C1)}"}]
    write_doc(store, cfg(bad), doc)
    write_doc(store, L.container_doc(bad, "state"), {"state": 1})
    put(store, L.id_index("containers", bad), b"")
    c1_config = (store / cfg(C1)).read_bytes()
    with open_state(static) as st:
        for call in (
            lambda: st.container(bad),
            lambda: st.remove_container(new_container(9, **doc)),
            lambda: st.rewrite_container_config(new_container(9, **doc), {**doc, "name": "x"}),
        ):
            with pytest.raises(errors.CorruptDocumentError) as exc:
                call()
            assert exc.value.path == str(store / cfg(bad))
        assert [c.id for c in st.all_containers() if c.id == bad] == []
    assert (store / cfg(C1)).read_bytes() == c1_config
    assert [(f.code, f.path) for f in check(static).findings] == [(Code.SCHEMA_VIOLATION, cfg(bad))]


def test_bad_names_in_exec_are_skipped(static: Path, store: Path) -> None:
    write_doc(store, "exec/bad name", {"id": "bad name", "containerId": C1})
    write_doc(store, "exec/..x", {"id": "..x", "containerId": C1})
    with open_state(static) as st:
        st.refresh()  # drops every registration it can name, touches nothing else
        with pytest.raises(errors.InvalidArgumentError):
            st.get_exec_session("bad name")
        with pytest.raises(errors.NoSuchExecSessionError):
            st.get_exec_session(SESSION)
    assert (store / "exec" / "bad name").exists()
    codes = [(f.code, f.path) for f in check(static).findings]
    assert codes == [(Code.INVALID_NAME, "exec/..x"), (Code.INVALID_NAME, "exec/bad name")]


# -- permissions -----------------------------------------------------------------------------


def test_files_0600_and_directories_0700(tmp_path: Path) -> None:
    """Modes come from the code, not the umask: checked under umask 0 after many writes."""
    old = os.umask(0)
    try:
        static = tmp_path / "static"
        static.mkdir(mode=0o755)
        os.chmod(static, 0o2755)  # setgid: new directories below inherit it, harmlessly
        build_store(static)
        with open_state(static) as st:
            ctr = st.container(C1)
            st.update_container(ctr)
            st.save_container(ctr)
            st.network_connect(ctr, "extra", ["alias"])
            st.remove_container(st.container(C5))
            st.add_container(new_container(7))
            st.validate_db_config(st.get_db_config())
            st.refresh()
    finally:
        os.umask(old)
    FileStorage.wait_for_all_trash()  # the refresh's trash, deleted in the background
    store = static / L.STORE_DIR
    modes = {str(p.relative_to(store)): p.lstat().st_mode & 0o777 for p in store.rglob("*")}
    modes["."] = store.stat().st_mode & 0o777
    wrong = {p: oct(m) for p, m in modes.items() if m != (0o700 if (store / p).is_dir() else 0o600)}
    assert wrong == {}
    assert len(modes) > 40
    assert check(static).findings == ()
