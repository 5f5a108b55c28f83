"""Reads check the JSON types of what the store interprets (issue 8, point 7).

A document edited by hand into the wrong shape is :class:`CorruptDocumentError` naming the file
and the JSON pointer of the wrong value when it is read; the rest of the store keeps working and
unknown keys stay free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import container_id, new_container, new_pod, new_volume, pod_id
from corrupt.builders import read_doc, write_doc

from fsstate import FileState, errors
from fsstate.state import schema, shape
from fsstate.store import layout as L

C1, C2 = container_id(1), container_id(2)
P3 = pod_id(3)


@pytest.fixture
def static(tmp_path: Path) -> Path:
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_volume(new_volume("vol1"))
        mounts = [{"volumeName": "vol1", "dest": "/data"}]
        st.add_container(new_container(1, namedVolumes=mounts))
        st.add_container(new_container(2))
        st.add_pod(new_pod(3))
        ctr = st.container(C1)
        ctr.state = {"state": 3, "exitCode": 0}
        st.save_container(ctr)
    return tmp_path / "static"


def edit(static: Path, rel: str, key: str, value: Any) -> Path:
    """Set ``key`` of the document at ``rel`` by hand; return the document's path."""
    store = static / L.STORE_DIR
    doc = read_doc(store, rel)
    doc[key] = value
    write_doc(store, rel, doc)
    return store / rel


def opened(static: Path) -> FileState:
    return FileState(static, static.parent / "tmp")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("running", '"running" is not of type integer'),
        (True, "true is not of type integer"),
        (3.5, "3.5 is not of type integer"),
    ],
)
def test_state_of_the_wrong_type(static: Path, value: Any, message: str) -> None:
    path = edit(static, L.container_doc(C1, "state"), "state", value)
    with opened(static) as st:
        ctr = st.container(C1)
        with pytest.raises(errors.CorruptDocumentError) as info:
            st.update_container(ctr)
        assert (info.value.path, info.value.pointer) == (str(path), "/state")
        assert info.value.message == f"{path}: /state: {message}; run fsck"
        assert ctr.state == {}  # nothing half-read was handed out
        other = st.container(C2)
        st.update_container(other)  # the rest of the store keeps working
        assert other.state == read_doc(static / L.STORE_DIR, L.container_doc(C2, "state"))


@pytest.mark.parametrize(
    ("key", "value", "pointer"),
    [
        ("name", 7, "/name"),
        ("Dependencies", C2, "/Dependencies"),
        ("Dependencies", [C2, 5], "/Dependencies/1"),
        ("namedVolumes", [{"volumeName": 1}], "/namedVolumes/0/volumeName"),
        ("pod", None, "/pod"),
        ("netNsCtr", ["x"], "/netNsCtr"),
    ],
)
def test_config_of_the_wrong_type(static: Path, key: str, value: Any, pointer: str) -> None:
    path = edit(static, L.container_doc(C1, "config"), key, value)
    with opened(static) as st:
        with pytest.raises(errors.CorruptDocumentError) as info:
            st.container(C1)
        assert (info.value.path, info.value.pointer) == (str(path), pointer)
        with pytest.raises(errors.CorruptDocumentError) as info:
            st.lookup_container(C1[:6])
        assert info.value.pointer == pointer
        assert [c.id for c in st.all_containers()] == [C2]  # skipped, the rest listed


def test_missing_required_key(static: Path) -> None:
    store = static / L.STORE_DIR
    rel = L.pod_doc(P3, "config")
    doc = read_doc(store, rel)
    del doc["name"]
    write_doc(store, rel, doc)
    with opened(static) as st, pytest.raises(errors.CorruptDocumentError) as info:
        st.pod(P3)
    assert (info.value.path, info.value.pointer) == (str(store / rel), "/")
    assert "'name' is a required property" in str(info.value)


def test_pod_and_volume_states(static: Path) -> None:
    edit(static, L.pod_doc(P3, "state"), "InfraContainerID", 12)
    path = edit(static, L.volume_doc("vol1", "state"), "mountCount", "2")
    with opened(static) as st:
        pod = st.pod(P3)
        with pytest.raises(errors.CorruptDocumentError) as info:
            st.update_pod(pod)
        assert info.value.pointer == "/InfraContainerID"
        with pytest.raises(errors.CorruptDocumentError) as info:
            st.volume("vol1")
        assert (info.value.path, info.value.pointer) == (str(path), "/mountCount")
        assert st.all_volumes() == []


def test_unknown_keys_stay_free(static: Path) -> None:
    edit(static, L.container_doc(C1, "config"), "rootfsImageName", {"any": ["shape"]})
    edit(static, L.container_doc(C1, "state"), "pid", "not a number")
    with opened(static) as st:
        ctr = st.container(C1)
        st.update_container(ctr)
        assert ctr.config["rootfsImageName"] == {"any": ["shape"]}
        assert ctr.state == {"state": 3, "exitCode": 0, "pid": "not a number"}


def test_pointer_escapes_slash_and_tilde() -> None:
    doc = {"newNetworks": {"a/b~c": {"aliases": [1]}}}
    assert shape.first_problem("container-config", {"id": "x", "name": "y", **doc}) == (
        "/newNetworks/a~1b~0c/aliases/0",
        "1 is not of type string",
    )


@pytest.mark.parametrize("kind", schema.KINDS)
def test_agrees_with_the_schema_on_types(kind: str) -> None:
    """Every type the cheap check refuses, the full schema refuses too, at the same pointer."""
    wrong: list[Any] = [None, True, 1, 1.5, "s", [1], {"k": 1}]
    for key, spec in schema.document(kind).get("properties", {}).items():
        for value in wrong:
            doc: dict[str, Any] = {"id": "x", "name": "y", "containerId": "z", key: value}
            found = shape.first_problem(kind, doc)
            if found is not None:
                pointer = found[0]
                assert any(p.startswith(f"{pointer}:") for p in schema.problems(kind, doc)), (
                    kind,
                    key,
                    value,
                    spec,
                )


def test_listing_with_states_skips_a_container_whose_state_is_damaged(
    static: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """all_containers(load_state=True) leaves out, with a warning naming the file, a container
    whose state has a wrong type or is missing; the others are listed with their states, and
    the listing without states still has it."""
    path = edit(static, L.container_doc(C1, "state"), "state", "running")
    with opened(static) as st:
        got = st.all_containers(load_state=True)
        assert [(c.id, c.state) for c in got] == [(C2, new_container(2).state)]
        assert str(path) in caplog.text
        assert [c.id for c in st.all_containers()] == [C1, C2]
    path.unlink()
    with opened(static) as st:
        assert [c.id for c in st.all_containers(load_state=True)] == [C2]
