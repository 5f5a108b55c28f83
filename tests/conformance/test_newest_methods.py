"""Conformance: the methods today's Podman added to its State, in both semantics.

Spec: API.md "Today's Podman" (methods added in both semantics); ``spec/podman-state-newest.md``
§1 #6, #7, #17, #23-25, #31 and the off-interface GetContainerExitCodeTimeStamp; §3.1, §3.4.
Exit codes: NEWEST ``sqlite_state.go`` 967-1077.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState, Pod, Volume, errors


def expect_exact(cls: type[Exception], call: Callable[..., object], *args: object) -> Exception:
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls
    return exc.value


# ----------------------------------------------------------------- names, listings, errors


def test_get_container_name_and_get_pod_name(
    state: FileState, make_container: Callable[..., Container], make_pod: Callable[..., Pod]
) -> None:
    """Each answers for its own kind only (probe P4)."""
    ctr, pod = make_container(1), make_pod(1)
    state.add_container(ctr)
    state.add_pod(pod)
    assert state.get_container_name(ctr.id) == "test1"
    assert state.get_pod_name(pod.id) == "pod1"
    expect_exact(errors.NoSuchContainerError, state.get_container_name, pod.id)
    expect_exact(errors.NoSuchPodError, state.get_pod_name, ctr.id)
    expect_exact(errors.NoSuchContainerError, state.get_container_name, "0" * 64)
    expect_exact(errors.NoSuchPodError, state.get_pod_name, "0" * 64)
    expect_exact(errors.EmptyIDError, state.get_container_name, "")
    expect_exact(errors.EmptyIDError, state.get_pod_name, "")
    state.close()
    expect_exact(errors.StateClosedError, state.get_container_name, ctr.id)
    expect_exact(errors.StateClosedError, state.get_pod_name, pod.id)


def test_all_containers_loads_states_when_asked(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """AllContainers(loadState): the stored states come with the configs (NEWEST sq:831)."""
    running = make_container(1, state={"state": 3, "pid": 42})
    configured = make_container(2)
    state.add_container(running)
    state.add_container(configured)
    plain = state.all_containers()
    assert [c.state for c in plain] == [{}, {}]
    assert state.all_containers(False) == plain
    loaded = state.all_containers(load_state=True)
    assert [(c.id, c.state) for c in loaded] == [
        (running.id, running.state),
        (configured.id, configured.state),
    ]
    assert loaded[0] == Container(running.config, running.state)


def test_new_error_classes() -> None:
    """ErrNoSuchExitCode and ErrNetworkConnected (libpod/define/errors.go:30,191)."""
    assert errors.NoSuchExitCodeError.podman == "ErrNoSuchExitCode"
    assert issubclass(errors.NoSuchExitCodeError, errors.NotFoundError)
    assert issubclass(errors.NoSuchExitCodeError, LookupError)
    assert errors.NetworkConnectedError.podman == "ErrNetworkConnected"
    assert issubclass(errors.NetworkConnectedError, errors.NetworkExistsError)
    assert "no such exit code" in str(errors.NoSuchExitCodeError("container x"))


# ----------------------------------------------------------------- container_id_is_volume


def test_container_id_is_volume(state: FileState, make_volume: Callable[..., Volume]) -> None:
    """True when some volume's config has ``storageID == id`` (NEWEST sq:2315-2333), kept
    right through rewrite and removal."""
    sid = "5" * 64
    vol = make_volume("imgvol", driver="image", storageID=sid)
    assert state.container_id_is_volume(sid) is False
    state.add_volume(vol)
    state.add_volume(make_volume("plain"))
    assert state.container_id_is_volume(sid) is True
    assert state.container_id_is_volume("6" * 64) is False
    assert state.container_id_is_volume("") is False
    new_sid = "7" * 64
    state.rewrite_volume_config(vol, dict(vol.config, storageID=new_sid))
    assert state.container_id_is_volume(sid) is False
    assert state.container_id_is_volume(new_sid) is True
    state.remove_volume(vol)
    assert state.container_id_is_volume(new_sid) is False


def test_container_id_is_volume_reads_one_index_directory(
    tmp_path: Path, make_volume: Callable[..., Volume]
) -> None:
    """The answer is the index entry ``index/volume-storage/<id>/<volume>``."""
    from fsstate import FileState, check

    sid = "5" * 64
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_volume(make_volume("imgvol", storageID=sid))
        entry = tmp_path / "static" / "fsstate" / "index" / "volume-storage" / sid / "imgvol"
        assert entry.is_file()
        entry.unlink()  # the index is what is read: without the entry the answer is False
        assert st.container_id_is_volume(sid) is False
    assert [f.code for f in check(tmp_path / "static").findings] == ["missing-index-entry"]


# ----------------------------------------------------------------------------- exit codes


def test_exit_code_round_trip(state: FileState) -> None:
    """Add, get and its timestamp; a newer code replaces an older one; the container need
    not exist (NEWEST sq:967-1045)."""
    cid = "1" * 64
    expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code, cid)
    expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code_timestamp, cid)
    before = int(time.time())
    state.add_container_exit_code(cid, 0)
    assert state.get_container_exit_code(cid) == 0
    stamp = state.get_container_exit_code_timestamp(cid)
    assert isinstance(stamp, datetime) and stamp.tzinfo == UTC and stamp.microsecond == 0
    assert before <= stamp.timestamp() <= time.time()
    state.add_container_exit_code(cid, 137)
    assert state.get_container_exit_code(cid) == 137
    state.add_container_exit_code(cid, -1)  # conmon died
    assert state.get_container_exit_code(cid) == -1


@pytest.mark.parametrize("bad", [256, -2, True, 1.0, "0", None])
def test_exit_code_out_of_range_is_invalid(
    state: FileState, snapshot: Callable[[], dict[str, Any]], bad: object
) -> None:
    """The ContainerExitCode CHECK: an integer in -1…255 (nothing written)."""
    before = snapshot()
    expect_exact(errors.InvalidArgumentError, state.add_container_exit_code, "1" * 64, bad)
    expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code, "1" * 64)
    assert snapshot() == before


def test_exit_code_errors_in_order(state: FileState) -> None:
    """ErrEmptyID, then closed (NEWEST sq:967-1019)."""
    expect_exact(errors.EmptyIDError, state.add_container_exit_code, "", 0)
    expect_exact(errors.EmptyIDError, state.get_container_exit_code, "")
    expect_exact(errors.EmptyIDError, state.get_container_exit_code_timestamp, "")
    state.close()
    expect_exact(errors.EmptyIDError, state.add_container_exit_code, "", 0)
    expect_exact(errors.StateClosedError, state.add_container_exit_code, "1" * 64, 0)
    expect_exact(errors.StateClosedError, state.get_container_exit_code, "1" * 64)
    expect_exact(errors.StateClosedError, state.prune_container_exit_codes)


def test_exit_code_cannot_be_stored_under_an_odd_id(state: FileState) -> None:
    """The ID becomes a file name, so one that cannot be is refused, nothing written."""
    expect_exact(errors.InvalidArgumentError, state.add_container_exit_code, "x/../y", 0)


def test_exit_code_outlives_its_container(
    state: FileState, reopen: Callable[[], FileState], make_container: Callable[..., Container]
) -> None:
    """``podman wait`` after ``run --rm``: the code survives remove_container (§3.1)."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.add_container_exit_code(ctr.id, 3)
    state.remove_container(ctr)
    assert reopen().get_container_exit_code(ctr.id) == 3


def test_prune_drops_only_old_codes_of_gone_containers(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """NEWEST sq:1068: ``Timestamp <= now-5min AND ID NOT IN containers``."""
    alive, gone = make_container(1), make_container(2)
    state.add_container(alive)
    state.add_container(gone)
    state.add_container_exit_code(alive.id, 1)
    state.add_container_exit_code(gone.id, 2)
    state.add_container_exit_code("9" * 64, 9)  # never a container
    state.remove_container(gone)
    state.prune_container_exit_codes()  # all younger than five minutes
    assert [state.get_container_exit_code(c) for c in (alive.id, gone.id, "9" * 64)] == [1, 2, 9]
    state.prune_container_exit_codes(older_than=0)
    assert state.get_container_exit_code(alive.id) == 1
    expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code, gone.id)
    expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code, "9" * 64)


def test_prune_keeps_the_code_of_a_container_added_again(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A code whose ID has a container again is not prunable."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.add_container_exit_code(ctr.id, 4)
    state.remove_container(ctr)
    state.add_container(make_container(1))
    state.prune_container_exit_codes(older_than=0)
    assert state.get_container_exit_code(ctr.id) == 4


def test_refresh_clears_exit_codes(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """NEWEST Refresh runs ``DELETE FROM ContainerExitCode`` (sq:261); so does fsstate in both
    semantics (API.md)."""
    ctr = make_container(1)
    state.add_container(ctr)
    state.add_container_exit_code(ctr.id, 0)
    state.add_container_exit_code("9" * 64, 1)
    state.refresh()
    for cid in (ctr.id, "9" * 64):
        expect_exact(errors.NoSuchExitCodeError, state.get_container_exit_code, cid)
    state.add_container_exit_code(ctr.id, 5)
    assert state.get_container_exit_code(ctr.id) == 5


def test_exit_codes_are_documents_jq_reads(
    tmp_path: Path, make_container: Callable[..., Container]
) -> None:
    """``exit-codes/<id>`` is a JSON object; only removed containers' codes are indexed as
    prunable, and fsck finds the tree clean."""
    from fsstate import FileState, check

    root = tmp_path / "static" / "fsstate"
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        kept, removed = make_container(1), make_container(2)
        st.add_container(kept)
        st.add_container(removed)
        st.add_container_exit_code(kept.id, 0)
        st.add_container_exit_code(removed.id, 1)
        st.remove_container(removed)
        doc = json.loads((root / "exit-codes" / removed.id).read_bytes())
        assert doc == {
            "id": removed.id,
            "exitCode": 1,
            "timestamp": int(st.get_container_exit_code_timestamp(removed.id).timestamp()),
        }
        assert sorted(p.name for p in (root / "index" / "exit-orphans").iterdir()) == [removed.id]
    assert check(tmp_path / "static").findings == ()
