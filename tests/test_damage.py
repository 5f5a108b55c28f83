"""Damage never traps an object, and a lost index is noticed (issue 8, point 4).

The store is built by ``corrupt.builders.build_store``: volumes vol1 and vol2, pod P2 with
members C3 (infra) and C4 (joins C3's network namespace), C1 (mounts vol1, has an exec
session), C5, and C6 in namespace ns1.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import new_container, new_pod, new_volume
from corrupt.builders import C1, C3, C4, C5, C6, P2, build_store, cfg, put

from fsstate import FileState, check, errors, repair
from fsstate.state.catalog import container_entries, pod_entries
from fsstate.store import layout as L


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return build_store(tmp_path / "static")


def opened(store: Path) -> FileState:
    return FileState(store.parent, store.parent.parent / "tmp")


def findings(store: Path) -> list[tuple[str, str]]:
    return [(str(f.code), f.path) for f in check(store.parent).findings]


@pytest.mark.parametrize("doc", ["config", "state"])
def test_remove_container_with_an_unreadable_document(store: Path, doc: str) -> None:
    with opened(store) as st:
        ctr = st.container(C5)
    put(store, L.container_doc(C5, doc), b'{"id": ')
    with opened(store) as st:
        st.remove_container(ctr)
        assert not (store / L.container_dir(C5)).exists()
        st.add_container(new_container(5))  # the ID and the name are free again
        assert st.lookup_container("test5").id == C5
    assert findings(store) == []


def test_remove_container_with_a_config_of_the_wrong_type(store: Path) -> None:
    with opened(store) as st:
        ctr = st.container(C5)
    put(store, cfg(C5), b'{"id": "' + C5.encode() + b'", "name": 5}')
    with opened(store) as st:
        st.remove_container(ctr)
        assert st.all_containers() == [st.container(i) for i in (C1, C3, C4, C6)]
        st.add_container(new_container(5))
    assert findings(store) == []


def test_removal_keeps_a_name_that_now_names_another_object(store: Path) -> None:
    """The passed config is stale (renamed since); its old name now belongs to C1: only the
    index entries that point to C5 go."""
    with opened(store) as st:
        ctr = st.container(C5)
        c1 = st.container(C1)
        ctr.config["name"] = "test1"
    put(store, cfg(C5), b"\x00" * 64)
    with opened(store) as st:
        st.remove_container(ctr)
        assert st.lookup_container("test1") == c1
    # test5 still names C5 in the index (the caller did not know it): fsck sees that stale
    # entry only, and repair drops it.
    assert findings(store) == [("extra-index-entry", L.name_index("test5"))]


def test_remove_pod_with_an_unreadable_config(store: Path) -> None:
    with opened(store) as st:
        pod = st.pod(P2)
        st.remove_pod_containers(pod)
    put(store, L.pod_doc(P2, "config"), b"")
    with opened(store) as st:
        st.remove_pod(pod)
        assert st.all_pods() == []
        st.add_pod(new_pod(2))  # ID and name free
        assert st.lookup_pod("pod2").id == P2
    assert findings(store) == []


def test_remove_volume_with_unreadable_documents(store: Path) -> None:
    with opened(store) as st:
        vol = st.volume("vol2")
    put(store, L.volume_doc("vol2", "config"), b"[1, 2")
    put(store, L.volume_doc("vol2", "state"), b"")
    with opened(store) as st:
        st.remove_volume(vol)
        assert [v.name for v in st.all_volumes()] == ["vol1"]
        st.add_volume(new_volume("vol2"))
    assert findings(store) == []


def test_members_of_a_pod_that_is_gone_can_be_removed(store: Path) -> None:
    """The pod's directory is gone (deleted, or moved to quarantine/ by repair): its members
    are removed with remove_container, as containers in no pod."""
    with opened(store) as st:
        pod, c3, c4 = st.pod(P2), st.container(C3), st.container(C4)
    shutil.move(store / L.pod_dir(P2), store.parent / "aside")
    with opened(store) as st:
        with pytest.raises(errors.NoSuchPodError):
            st.remove_container_from_pod(pod, c4)  # Podman's rule stands
        with pytest.raises(errors.DependencyExistsError):
            st.remove_container(c3)
        st.remove_container(c4)
        st.remove_container(c3)
        assert [c.id for c in st.all_containers()] == [C1, C5, C6]
        assert not (store / L.pod_members_dir(P2)).exists()
    # Left for fsck: the index entries of the pod that was taken away by hand.
    assert findings(store) == [("extra-index-entry", p) for p in sorted(pod_entries(pod))]


def test_a_stored_pod_still_blocks_remove_container(store: Path) -> None:
    with opened(store) as st:
        c4 = st.container(C4)
        with pytest.raises(errors.PodExistsError):
            st.remove_container(c4)
        assert st.container(C4) == c4


def test_a_member_deleted_by_hand(store: Path) -> None:
    """A member's directory removed by hand: the pod lists what is left and can be emptied
    and removed; the stale member entry goes with it."""
    with opened(store) as st:
        c4 = st.container(C4)
    shutil.rmtree(store / L.container_dir(C4))
    with opened(store) as st:
        pod = st.pod(P2)
        assert [c.id for c in st.pod_containers(pod)] == [C3]
        st.remove_pod_containers(pod)
        st.remove_pod(pod)
        assert st.all_pods() == []
    # What the hand deletion left besides the member entry is fsck's to report and repair's
    # to drop: exactly the other index entries C4 implied.
    assert findings(store) == [
        ("extra-index-entry", path)
        for path in sorted(container_entries(c4))
        if "pod-members" not in path
    ]


def test_a_lost_index_is_refused_naming_fsck(store: Path) -> None:
    shutil.rmtree(store / "index")
    with pytest.raises(errors.CorruptDocumentError) as info:
        opened(store)
    assert info.value.path == str(store / L.NAME_INDEX)
    assert "fsstate fsck --repair" in info.value.message
    repair(check(store.parent))
    with opened(store) as st:
        assert [c.id for c in st.all_containers()] == [C1, C3, C4, C5, C6]
        with pytest.raises(errors.ContainerExistsError):
            st.add_container(new_container(7, name="test1"))
    assert findings(store) == []


def test_an_empty_store_without_index_opens(tmp_path: Path) -> None:
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_volume(new_volume("v"))  # volumes alone need no name registry
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        assert [v.name for v in st.all_volumes()] == ["v"]


def test_a_lost_id_shard_hides_nothing(store: Path) -> None:
    shutil.rmtree(store / L.id_shard_dir("containers", L.shard(C1)))
    with opened(store) as st:
        assert [c.id for c in st.all_containers()] == [C1, C3, C4, C5, C6]
        st.set_namespace("ns1")
        assert [c.id for c in st.all_containers()] == [C6]
    assert findings(store) == [("missing-index-entry", L.id_index("containers", C1))]
