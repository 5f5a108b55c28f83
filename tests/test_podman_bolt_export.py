"""Tests for fsstate.podman.export_bolt: the store written as Podman 4.x's ``bolt_state.db``.

The reference is the real Podman 4.3.1 state ``tests/data/podman43/varied_bolt_state.db.gz``
(37 containers, 3 pods, 6 volumes, exec sessions, networks with aliases and static IPs, a
libpod namespace; ``shared/podman-real/podman43/``). That the real Podman opens what we write
is tested in ``tests/real_podman/test_real_podman.py``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bolt_dump import dump
from test_podman_export import ordered_dump

from fsstate import FileState, errors, podman

DATA = Path(__file__).parent / "data"
VARIED = DATA / "podman43" / "varied_bolt_state.db.gz"
EXAMPLES = Path(__file__).parent.parent / "examples" / "data"
PODMAN_DB = EXAMPLES / "podman-db.sql"
OSV_DB = EXAMPLES / "osv-scalibr-real.db.sql"
OSV_BOLT = EXAMPLES / "osv-scalibr-real.bolt_state.db"
# Kept by the store to the second (see export_bolt).
EXIT_CODE_BUCKETS = {"exit-code", "exit-code-time-stamp"}


@pytest.fixture
def varied(tmp_path: Path) -> Path:
    path = tmp_path / "varied_bolt_state.db"
    path.write_bytes(gzip.decompress(VARIED.read_bytes()))
    return path


def test_export_of_a_real_podman_state_equals_it_bucket_for_bucket(
    varied: Path, state: FileState, tmp_path: Path
) -> None:
    """Podman 4.3's own file → import → export: every bucket, key and value (JSON byte for
    byte) equals the original; exit-code time stamps are kept to the second, as the store
    keeps them (``add_container_exit_code``)."""
    podman.import_bolt(varied, state)
    out = tmp_path / "bolt_state.db"
    podman.export_bolt(state, out)
    want, got = dump(varied)["tree"], dump(out)["tree"]
    assert set(got) == set(want)
    for name in sorted(set(want) - EXIT_CODE_BUCKETS):
        assert got[name] == want[name], name
    assert got["exit-code"] == want["exit-code"] and len(want["exit-code"]["__bucket__"]) == 3
    stamps = want["exit-code-time-stamp"]["__bucket__"]
    assert got["exit-code-time-stamp"]["__bucket__"] == {
        cid: re.sub(r"\.\d+Z$", "Z", stamp) for cid, stamp in stamps.items()
    }


@pytest.mark.parametrize("source", [None, PODMAN_DB, OSV_DB, OSV_BOLT], ids=str)
@pytest.mark.parametrize("fmt", ["bolt", "sqlite"])
def test_import_export_import_is_identical(
    source: Path | None,
    fmt: str,
    varied: Path,
    state: FileState,
    tmp_path: Path,
    store_opener: Callable[[Path], FileState],
) -> None:
    """Every document (key order included), registration and link survives a round trip
    through either of Podman's formats; ``None`` is the real Podman 4.3 Bolt state."""
    podman.import_file(source or varied, state)
    out = tmp_path / ("bolt_state.db" if fmt == "bolt" else "db.sql")
    (podman.export_bolt if fmt == "bolt" else podman.export_db)(state, out)
    again = store_opener(tmp_path / "again")
    report = podman.import_file(out, again)
    assert (report.format, report.warnings, report.skipped) == (fmt, [], [])
    assert ordered_dump(again) == ordered_dump(state)
    assert again.all_exit_codes() == state.all_exit_codes()
    if source is None:  # the real Podman 4.3 state holds three exit codes
        assert sorted(code for code, _ in again.all_exit_codes().values()) == [0, 3, 137]


def test_empty_store_exports_an_empty_podman_state(
    varied: Path, state: FileState, tmp_path: Path
) -> None:
    """The top-level buckets Podman 4.3 makes, all empty; no runtime-config for a store never
    pinned, so Podman pins its own on first start."""
    out = tmp_path / "bolt_state.db"
    podman.export_bolt(state, out)
    tree = dump(out)["tree"]
    assert sorted(tree) == sorted(dump(varied)["tree"])
    assert all(bucket == {"__bucket__": {}} for bucket in tree.values())


@pytest.mark.parametrize("importer", [podman.import_bolt, podman.import_file])
def test_zero_byte_bolt_state_imports_as_an_empty_state(
    importer: Callable[..., podman.ImportReport], state: FileState, tmp_path: Path
) -> None:
    """bbolt initialises a 0-byte file, so Podman 4.x reads it as an empty state."""
    empty = tmp_path / "bolt_state.db"
    empty.write_bytes(b"")
    report = importer(empty, state)
    assert (report.format, report.containers, report.pods, report.volumes) == ("bolt", 0, 0, 0)
    assert report.warnings == ["empty file: an empty Podman state (nothing to import)"]
    assert state.all_containers() == [] and state.all_pods() == [] and state.all_volumes() == []
    assert empty.read_bytes() == b""


def test_existing_file_is_kept_unless_overwrite(
    varied: Path, state: FileState, tmp_path: Path
) -> None:
    podman.import_bolt(varied, state)
    out = tmp_path / "bolt_state.db"
    out.write_bytes(b"keep")
    with pytest.raises(errors.OutputExistsError) as info:
        podman.export_bolt(state, out)
    assert "file exists" in str(info.value) and out.read_bytes() == b"keep"
    assert info.value.path == str(out)
    podman.export_bolt(state, out, overwrite=True)
    assert dump(out)["tree"]["ctr"] == dump(varied)["tree"]["ctr"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_directory(state: FileState, tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgumentError) as info:
        podman.export_bolt(state, tmp_path / "no" / "bolt_state.db")
    assert "does not exist" in str(info.value)
    assert not (tmp_path / "no").exists()


def test_dependents_pod_members_volume_users_and_exec_registered(
    varied: Path, state: FileState, tmp_path: Path
) -> None:
    """The reverse links Podman keeps in Bolt come from the documents: a container's
    ``dependencies`` bucket names those that depend on it, ``vol-dependencies`` the users."""
    podman.import_bolt(varied, state)
    out = tmp_path / "bolt_state.db"
    podman.export_bolt(state, out)
    tree = dump(out)["tree"]
    ctrs: dict[str, Any] = tree["ctr"]["__bucket__"]
    plain = state.lookup_container("c-plain")
    deps = ctrs[plain.id]["__bucket__"]["dependencies"]["__bucket__"]
    assert sorted(deps.values()) == ["c-ipcpid", "c-netns", "c-req1", "c-req2"]
    running = state.lookup_container("r-running")
    sessions = ctrs[running.id]["__bucket__"]["exec"]["__bucket__"]
    assert sorted(sessions) == sorted(state.get_container_exec_sessions(running))
    users = tree["vol"]["__bucket__"]["vol-data"]["__bucket__"]["vol-dependencies"]["__bucket__"]
    assert sorted(users) == sorted(
        c.id for c in state.all_containers() if "vol-data" in c.named_volumes()
    )
