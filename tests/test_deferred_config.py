"""A config read again is not decoded again: ``fsstate/state/checked.py``.

The store decodes and checks a container's or pod's config file once; a later read of the same
bytes returns an object whose config is decoded only when the caller reads it. These tests
count the decodes (a wrapper around the real ``codec.decode``) and check that nothing is
shared between objects and that changed bytes are checked afresh, by every store of the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from conftest import container_id, new_container, new_pod, pod_id

from fsstate import FileState, errors
from fsstate.store import codec
from fsstate.store import layout as L

_DECODE = codec.decode


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The path of every document decoded from now on."""
    seen: list[str] = []

    def counting(data: bytes, path: str) -> Any:
        seen.append(path)
        return _DECODE(data, path)

    monkeypatch.setattr(codec, "decode", counting)
    return seen


@pytest.fixture
def root(tmp_path: Path) -> Path:
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        pod = new_pod(1)
        state.add_pod(pod)
        state.add_container_to_pod(pod, new_container(1, pod=pod_id(1), labels={"a": "1"}))
    return tmp_path


@pytest.fixture
def state(root: Path) -> Iterator[FileState]:
    with FileState(root / "static", root / "tmp") as state:
        yield state


def config_file(root: Path, cid: str = container_id(1)) -> Path:
    return root / "static" / "fsstate" / L.container_doc(cid, "config")


def configs(decodes: list[str]) -> list[str]:
    """The config documents among ``decodes``, as paths in the store."""
    return [p.rpartition("/static/fsstate/")[2] for p in decodes if p.endswith("/config.json")]


def test_a_warm_read_decodes_the_config_only_when_it_is_read(
    state: FileState, decodes: list[str]
) -> None:
    first = state.container(container_id(1))
    state.pod(pod_id(1))
    decodes.clear()
    again = state.lookup_container("test1")
    pod = state.pod(pod_id(1))
    assert (again.id, again.name, again.namespace) == (container_id(1), "test1", "")
    assert (pod.id, pod.name) == (pod_id(1), "pod1")
    assert configs(decodes) == []
    assert again.pod_id == pod_id(1)  # not in the summary: decodes
    assert configs(decodes) == [f"containers/{container_id(1)}/config.json"]
    assert again.config == first.config and again == first
    assert pod.config == new_pod(1).config


def test_objects_read_from_one_file_share_nothing(state: FileState) -> None:
    state.container(container_id(1))  # checked: the next reads are deferred
    one, two = state.container(container_id(1)), state.container(container_id(1))
    one.config["labels"]["a"] = "changed"
    one.config["extra"] = True
    assert two.config["labels"] == {"a": "1"} and "extra" not in two.config
    assert state.container(container_id(1)).config == two.config
    two.config = {"id": container_id(1), "name": "renamed"}
    assert (two.name, two.config["name"]) == ("renamed", "renamed")


def test_changed_bytes_are_checked_again_by_a_store_opened_after_the_edit(
    root: Path, state: FileState
) -> None:
    """The memo is the process's, shared by its stores; it answers only for the exact bytes
    it checked. A file edited by hand (here: between two opens) is decoded and checked anew."""
    state.container(container_id(1))
    path = config_file(root)
    doc = orjson.loads(path.read_bytes())
    path.write_bytes(orjson.dumps(dict(doc, name="edited"), option=orjson.OPT_INDENT_2))
    with FileState(root / "static", root / "tmp") as other:
        assert other.container(container_id(1)).name == "edited"
        assert other.container(container_id(1)).config["name"] == "edited"
    path.write_bytes(orjson.dumps(dict(doc, name="bad/name")))
    with FileState(root / "static", root / "tmp") as other:
        with pytest.raises(errors.CorruptDocumentError) as caught:
            other.container(container_id(1))
        assert caught.value.path == str(path)
    path.write_bytes(path.read_bytes()[:-1])  # torn
    with FileState(root / "static", root / "tmp") as other:
        with pytest.raises(errors.CorruptDocumentError) as caught:
            other.lookup_container(container_id(1))
        assert caught.value.path == str(path)
        assert other.pod(pod_id(1)).name == "pod1"  # the rest of the store keeps working


def test_the_same_bytes_in_another_store_are_that_stores_own(tmp_path: Path) -> None:
    """Two stores holding byte-identical configs: each object names its own file."""
    for name in ("a", "b"):
        with FileState(tmp_path / name, tmp_path / f"{name}-tmp") as state:
            state.add_container(new_container(1))
    for _ in range(2):
        for name in ("a", "b"):
            with FileState(tmp_path / name, tmp_path / f"{name}-tmp") as state:
                ctr = state.container(container_id(1))
                assert ctr.config["name"] == "test1"
                assert state.container(container_id(1))._deferred_config is not None
                deferred = state.container(container_id(1))._deferred_config
                assert deferred is not None and deferred[1].startswith(str(tmp_path / name))
