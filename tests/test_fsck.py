"""fsck: ``check`` finds each corruption of the corpus exactly, ``repair`` fixes it (or leaves it
to the administrator), and a second ``check`` is clean; damage stays local to one object."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import container_id, dump_store, new_container
from corrupt.builders import (
    BUILDERS,
    C1,
    C3,
    C4,
    C5,
    C6,
    GONE,
    P2,
    Expected,
    build_store,
    cfg,
    put,
    state,
)

import fsstate
from fsstate import FileState, check, cli, errors, fsck, repair
from fsstate.fsck import Code, Finding, Report
from fsstate.store import layout as L
from fsstate.store.journal import Generation


def found(report: Report) -> list[Expected]:
    return [Expected(f.code, f.path, f.repairable) for f in report.findings]


def quarantined(store: Path) -> dict[str, bytes]:
    """Everything under quarantine/<timestamp>/, by original path."""
    out: dict[str, bytes] = {}
    for stamp in (store / fsck.QUARANTINE).iterdir():
        for path in stamp.rglob("*"):
            if path.is_file() or path.is_symlink():
                rel = str(path.relative_to(stamp))
                out[rel] = b"<symlink>" if path.is_symlink() else path.read_bytes()
    return out


def index_files(store: Path) -> dict[Path, bytes]:
    return {
        p.relative_to(store): p.read_bytes() for p in (store / "index").rglob("*") if p.is_file()
    }


def assert_usable(static: Path, *, names: bool = True) -> None:
    """Every container has a config and a state, every name resolves, writes work."""
    with FileState(static, static.parent / "tmp") as st:
        for ctr in st.all_containers():
            st.update_container(ctr)
            assert not names or st.lookup_container(ctr.name).id == ctr.id
            st.save_container(ctr)
        for pod in st.all_pods():
            st.update_pod(pod)
        dump_store(st)
        st.add_container(new_container(8))


@pytest.fixture
def static(tmp_path: Path) -> Path:
    build_store(tmp_path / "static")
    return tmp_path / "static"


@pytest.fixture
def store(static: Path) -> Path:
    return static / L.STORE_DIR


def test_fresh_store_is_clean(static: Path) -> None:
    """A store built through the API has nothing to report."""
    report = check(static)
    assert report.findings == ()
    assert report.clean
    assert report.store == str(static / L.STORE_DIR)


def docstring_table() -> list[tuple[str, str]]:
    """``(code, repairable)`` for each row of the table in fsck's module docstring: the lines
    between its second and third ``====`` rule that do not continue the row above."""
    assert fsck.__doc__ is not None
    lines = fsck.__doc__.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("=====")]
    assert len(rules) == 3, rules
    rows = lines[rules[1] + 1 : rules[2]]
    return [(row.split()[0], row.split()[1]) for row in rows if row[:1] not in ("", " ")]


def test_every_code_is_documented_and_has_a_builder() -> None:
    """The table of the module docstring lists every Code, in order, with its repairability;
    each code has a builder in the corpus."""
    table = docstring_table()
    assert [code for code, _ in table] == [c.value for c in Code]
    for code, repairable in table:
        assert (repairable != "no") == Code(code).repairable, code
    assert set(Code) <= set(BUILDERS)
    assert fsstate.check is fsck.check and fsstate.repair is repair


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_corruption_found_repaired_and_gone(name: str, static: Path, store: Path) -> None:
    """check reports exactly the damage; repair fixes it; a second check is clean."""
    expected = sorted(BUILDERS[name](store))
    report = check(static)
    assert sorted(found(report)) == expected
    assert all(f.message.startswith(f.path or ".") for f in report.findings)

    repaired = repair(report)
    for f in report.findings:
        acted = [r for r in repaired.findings if (r.code, r.path) == (f.code, f.path)]
        assert acted, f"{f} is missing from the repair report"
        assert bool(acted[0].action) == f.repairable, acted[0]

    again = check(static)
    assert found(again) == [e for e in expected if not e.repairable]
    assert not again.repairable
    if not any(e.code == Code.UNKNOWN_FORMAT and not e.repairable for e in expected):
        assert_usable(static, names=name != Code.NAME_CLASH)


def test_report_to_json_round_trips(static: Path, store: Path) -> None:
    BUILDERS[Code.NUL_DOCUMENT](store)
    report = check(static)
    data = json.loads(json.dumps(report.to_json()))
    assert data["store"] == str(store)
    assert data["clean"] is False
    assert [Finding(**f) for f in data["findings"]] == list(report.findings)


def test_quarantine_keeps_the_bytes_and_the_whole_object(static: Path, store: Path) -> None:
    """A container whose config is lost goes to quarantine whole; nothing is deleted."""
    garbage = b"\x00" * 64
    put(store, cfg(C5), garbage)
    old_state = (store / state(C5)).read_bytes()
    repair(check(static))
    assert quarantined(store) == {cfg(C5): garbage, state(C5): old_state}
    assert not (store / L.container_dir(C5)).exists()
    with FileState(static, static.parent / "tmp") as st:
        assert not st.has_container(C5)
        with pytest.raises(errors.NoSuchContainerError):
            st.lookup_container("test5")


def test_lost_state_comes_back_configured(static: Path, store: Path) -> None:
    put(store, state(C5), b'{"state": 3, "pid": ')
    repair(check(static))
    assert json.loads((store / state(C5)).read_bytes()) == {"state": 1}
    assert (store / state(C5)).stat().st_mode & 0o777 == 0o600


def test_lost_pod_state_finds_the_infra_container(static: Path, store: Path) -> None:
    """The fresh pod state names the member whose config says "pause" (libpod's IsInfra)."""
    (store / L.pod_doc(P2, "state")).unlink()
    repair(check(static))
    doc = json.loads((store / L.pod_doc(P2, "state")).read_bytes())
    assert doc == {"cgroupPath": "", "InfraContainerID": C3}


def test_whole_index_rebuilt_from_documents(static: Path, store: Path) -> None:
    """Deleting index/ entirely loses nothing: repair derives it again, file for file."""
    before = {
        p.relative_to(store): p.read_bytes() for p in (store / "index").rglob("*") if p.is_file()
    }
    with FileState(static, static.parent / "tmp") as st:
        dump = dump_store(st)
    for path in sorted((store / "index").rglob("*"), key=lambda p: -len(p.parts)):
        path.unlink() if path.is_file() else path.rmdir()
    report = check(static)
    assert {f.code for f in report.findings} == {Code.MISSING_INDEX_ENTRY}
    assert len(report.findings) == len(before)
    repair(report)
    after = {
        p.relative_to(store): p.read_bytes() for p in (store / "index").rglob("*") if p.is_file()
    }
    assert after == before
    with FileState(static, static.parent / "tmp") as st:
        assert dump_store(st) == dump


def test_repair_commits_through_the_journal(static: Path, store: Path) -> None:
    """Another process's cache drops the old index: the generation advances."""
    with FileState(static, static.parent / "tmp") as st:
        assert st.lookup_container("test5").id == C5  # cached now
        (store / L.name_index("test5")).unlink()
        put(store, L.name_index("test5"), json.dumps({"kind": "container", "id": C6}).encode())
        report = check(static)
        assert found(report) == [Expected(Code.STALE_INDEX_ENTRY, L.name_index("test5"))]
        repair(report)
        assert st.lookup_container("test5").id == C5


def test_repair_of_clean_store_changes_nothing(static: Path, store: Path) -> None:
    def content() -> dict[Path, bytes]:
        # lock.queue's ticket counter moves with every lock taken: the lock's, not the store's
        return {
            p: p.read_bytes() for p in store.rglob("*") if p.is_file() and p.name != L.LOCK_QUEUE
        }

    files = content()
    report = repair(check(static))
    assert report.findings == ()
    assert content() == files


def test_repair_is_idempotent(static: Path, store: Path) -> None:
    for name in (
        Code.NUL_DOCUMENT,
        Code.MISSING_INDEX_ENTRY,
        Code.STRAY_TEMP_FILE,
        Code.DANGLING_VOLUME_USER,
    ):
        BUILDERS[name](store)
    first = repair(check(static))
    assert {f.code for f in first.findings if f.action} == {
        Code.NUL_DOCUMENT,
        Code.MISSING_INDEX_ENTRY,
        Code.STRAY_TEMP_FILE,
        Code.EXTRA_INDEX_ENTRY,  # container 5's entries, once it is in quarantine
        Code.DANGLING_VOLUME_USER,  # container 1 quarantined …
        Code.DANGLING_EXEC_SESSION,  # … and then its exec session
    }
    second = repair(check(static))
    assert second.findings == ()
    assert second.clean


def test_repair_acts_on_the_tree_not_a_stale_report(static: Path, store: Path) -> None:
    """A document fixed between check and repair is left where it is."""
    good = (store / state(C5)).read_bytes()
    put(store, state(C5), b"")
    report = check(static)
    put(store, state(C5), good)
    assert repair(report).findings == ()
    assert (store / state(C5)).read_bytes() == good
    assert not (store / fsck.QUARANTINE).exists()


def test_no_store_is_not_found_and_not_created(tmp_path: Path, static: Path) -> None:
    with pytest.raises(errors.NoSuchStoreError, match="no fsstate store here") as exc:
        check(tmp_path / "nowhere")
    assert exc.value.path == str(tmp_path / "nowhere" / L.STORE_DIR)
    assert not (tmp_path / "nowhere").exists()
    report = check(static)  # a store that is gone by the time it is repaired
    shutil.rmtree(static / L.STORE_DIR)
    with pytest.raises(errors.NoSuchStoreError):
        repair(report)
    assert list(static.iterdir()) == []


def test_newer_layout_is_left_alone(static: Path, store: Path) -> None:
    BUILDERS[Code.UNKNOWN_FORMAT](store)
    put(store, cfg(C5), b"")  # would be quarantined in a store we understand
    assert found(check(static)) == [Expected(Code.UNKNOWN_FORMAT, L.FORMAT, repairable=False)]
    repair(check(static))
    assert (store / cfg(C5)).read_bytes() == b""
    with pytest.raises(errors.CorruptDocumentError, match="newer"):
        FileState(static, static.parent / "tmp")


def test_check_does_not_write_format(static: Path, store: Path) -> None:
    (store / L.FORMAT).unlink()
    check(static)
    assert not (store / L.FORMAT).exists()


def test_an_emptied_format_with_records_to_replay_is_reported_alone_and_repaired(
    tmp_path: Path,
) -> None:
    """A power loss empties FORMAT and loses a write the journal still holds: check reports
    the FORMAT and the records (not the index entry the replay brings back), writes nothing;
    repair rewrites FORMAT, replays the journal, and leaves a clean store."""
    static = tmp_path / "static"
    with FileState(static, tmp_path / "tmp") as st:
        st.add_container(new_container(1))
    store = static / L.STORE_DIR
    name = store / L.INDEX_DIR / "names" / "test1"
    entry = name.read_bytes()
    name.unlink()  # the add's write, lost
    gen = Generation.decode((store / L.GENERATION).read_bytes())
    (store / L.GENERATION).write_bytes(replace(gen, incarnation="another-boot").encode())
    (store / L.FORMAT).write_bytes(b"")
    report = check(static)
    assert found(report) == [Expected(Code.UNKNOWN_FORMAT, L.FORMAT)]
    assert re.search(r"empty, and the journal holds records \d+-\d+", report.findings[0].message)
    assert (store / L.FORMAT).read_bytes() == b"" and not name.exists()
    fixed = repair(report)
    assert [(f.code, f.path, f.action) for f in fixed.findings] == [
        (Code.UNKNOWN_FORMAT, L.FORMAT, f"wrote 'fsstate-layout {L.FORMAT_VERSION}'")
    ]
    assert name.read_bytes() == entry
    assert check(static).findings == ()


def test_check_waits_for_the_lock(static: Path) -> None:
    """check holds the store lock: a transaction elsewhere (another thread) makes it wait,
    then time out. (In the same thread it would nest, as two FileStates do.)"""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with FileState(static, static.parent / "tmp") as st, st.transaction():
            holding.set()
            done.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(60)
        with pytest.raises(errors.LockTimeoutError):
            check(static, lock_timeout=0.05)
    finally:
        done.set()
        holder.join(60)


@pytest.mark.parametrize(
    "damage", [b"", b"\x00" * 300, b'{"id": "55', b"<config/>", b"[]"], ids=repr
)
def test_damaged_config_is_local(damage: bytes, static: Path, store: Path) -> None:
    """A damaged document raises CorruptDocumentError naming it; every other object stays
    readable and writable."""
    put(store, cfg(C5), damage)
    path = str(store / cfg(C5))
    with FileState(static, static.parent / "tmp") as st:
        finders: list[Callable[[], object]] = [
            lambda: st.container(C5),
            lambda: st.lookup_container("test5"),
        ]
        for call in finders:
            with pytest.raises(errors.CorruptDocumentError) as exc:
                call()
            assert exc.value.path == path
        with pytest.raises(errors.CorruptDocumentError):
            st.get_container_config(C5)
        assert [c.id for c in st.all_containers()] == sorted([C1, C3, C4, C6])
        ctr = st.container(C1)
        st.update_container(ctr)
        ctr.state["state"] = 2
        st.save_container(ctr)
        st.remove_container(st.container(C6))
        st.add_container(new_container(7))
        assert st.container(container_id(7)).name == "test7"
    with FileState(static, static.parent / "tmp") as st:
        again = st.container(C1)
        st.update_container(again)
        assert again.state["state"] == 2


def test_damaged_state_is_local(static: Path, store: Path) -> None:
    put(store, state(C5), b"\x00" * 10)
    with FileState(static, static.parent / "tmp") as st:
        ctr = st.container(C5)  # the config is fine
        with pytest.raises(errors.CorruptDocumentError) as exc:
            st.update_container(ctr)
        assert exc.value.path == str(store / state(C5))
        ctr.state = {"state": 1}
        st.save_container(ctr)  # writing a good state over it works
        st.update_container(ctr)
        assert ctr.state == {"state": 1}
    assert check(static).findings == ()


# -- the command line ------------------------------------------------------------------------


def test_cli_fsck_clean(static: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--root", str(static), "fsck"]) == 0
    assert capsys.readouterr().out == ""


def test_cli_fsck_reports_then_repairs(
    static: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    BUILDERS[Code.NAME_CLASH](store)
    BUILDERS[Code.EMPTY_DOCUMENT](store)
    assert cli.main(["--root", str(static), "fsck"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"empty-document: {state(C5)}: zero-length file"
    assert lines[1].startswith(f"name-clash: {cfg(GONE)}: ")
    assert lines[1].endswith("[needs you]")
    assert len(lines) == 2
    assert cli.main(["--root", str(static), "fsck", "--repair"]) == 1  # the clash is still there
    out = capsys.readouterr().out
    assert f"empty-document: {state(C5)}: zero-length file [repaired: moved " in out
    assert cli.main(["--root", str(static), "fsck", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [f["code"] for f in data["findings"]] == [Code.NAME_CLASH]
    assert data["clean"] is False


def test_cli_fsck_repair_to_clean(
    static: Path, store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    BUILDERS[Code.STRAY_TEMP_FILE](store)
    assert cli.main(["--root", str(static), "fsck", "--repair", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["action"]) for f in data["findings"]] == [
        (Code.STRAY_TEMP_FILE, "deleted")
    ]
    assert cli.main(["--root", str(static), "fsck"]) == 0


def test_a_finding_carries_a_code_enum() -> None:
    """A code read back as a string (from JSON) becomes its Code; any other string is refused."""
    f = Finding("stray-temp-file", "", "x", "x: m", True)  # type: ignore[arg-type]
    assert f.code is Code.STRAY_TEMP_FILE
    assert f.code.repair is fsck.Repair.DELETE
    with pytest.raises(ValueError):
        Finding("no-such-code", "", "x", "x: m", True)  # type: ignore[arg-type]
