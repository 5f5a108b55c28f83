"""Conformance: named volumes and their users.

Spec: ``spec/podman-state.md`` §1.2 (Volume, LookupVolume, HasVolume, VolumeInUse, AddVolume,
RemoveVolume, UpdateVolume, SaveVolume, AllVolumes, RewriteVolumeConfig), §2.2, §2.3, §2.6,
Appendix A, and ``API.md`` Decisions 1, 4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, FileState, Pod, Volume, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")


def uses(*names: str) -> list[dict[str, Any]]:
    """A ``namedVolumes`` list mounting each named volume."""
    return [
        {"volumeName": name, "dest": f"/mnt/{i}", "options": ["rw"]} for i, name in enumerate(names)
    ]


@pytest.fixture
def vol(state: FileState, make_volume: Callable[..., Volume]) -> Volume:
    """Volume "data", stored."""
    vol = make_volume("data", state={"mountCount": 2, "notYetMounted": True})
    state.add_volume(vol)
    return vol


CLOSED_CALLS = {
    "volume": lambda st, v: st.volume(v.name),
    "lookup_volume": lambda st, v: st.lookup_volume(v.name),
    "has_volume": lambda st, v: st.has_volume(v.name),
    "volume_in_use": lambda st, v: st.volume_in_use(v),
    "add_volume": lambda st, v: st.add_volume(v),
    "remove_volume": lambda st, v: st.remove_volume(v),
    "update_volume": lambda st, v: st.update_volume(v),
    "save_volume": lambda st, v: st.save_volume(v),
    "all_volumes": lambda st, v: st.all_volumes(),
    "rewrite_volume_config": lambda st, v: st.rewrite_volume_config(v, v.config),
}


@pytest.mark.parametrize("call", CLOSED_CALLS.values(), ids=CLOSED_CALLS.keys())
def test_closed_store_raises_before_anything_else(
    state: FileState, snapshot: Callable[[], dict[str, Any]], vol: Volume, call: Callable[..., Any]
) -> None:
    """After close() each volume method raises StateClosedError, even for an invalid object."""
    before = snapshot()
    vol.valid = False
    state.close()
    with pytest.raises(errors.StateClosedError):
        call(state, vol)
    assert snapshot() == before


# ------------------------------------------------------------------------ add and get


def test_add_then_get_includes_state(
    state: FileState, reopen: Callable[[], FileState], vol: Volume
) -> None:
    """volume()/lookup_volume()/all_volumes() return config and the stored state."""
    for st in (state, reopen()):
        for got in (st.volume("data"), st.lookup_volume("data"), st.all_volumes()[0]):
            assert got == vol
            assert got.state == {"mountCount": 2, "notYetMounted": True}
            assert got.valid is True


def test_volume_without_state(state: FileState, make_volume: Callable[..., Volume]) -> None:
    """A volume added without a state comes back with an empty one."""
    vol = Volume(make_volume("bare").config)
    state.add_volume(vol)
    assert state.volume("bare").state == {}
    got = state.volume("bare")
    got.state = {"junk": 1}
    state.update_volume(got)
    assert got.state == {}


def test_volume_unknown_keys_round_trip(
    state: FileState, reopen: Callable[[], FileState], make_volume: Callable[..., Volume]
) -> None:
    """Unknown volume config and state keys come back unchanged."""
    vol = make_volume("data", xFutureKey={"a": [1, None]}, labels={"ünï": "✓"})
    vol.state["xFutureState"] = True
    state.add_volume(vol)
    assert reopen().volume("data") == vol


def test_returned_volumes_are_independent_copies(state: FileState, vol: Volume) -> None:
    """Mutating a returned volume changes neither the store nor later results."""
    first = state.volume("data")
    first.config["labels"]["k"] = "v"
    first.state["mountCount"] = 99
    vol.state["mountCount"] = 50
    assert state.volume("data").config["labels"] == {}
    assert state.lookup_volume("data").state["mountCount"] == 2


def test_all_volumes_sorted_by_name(state: FileState, make_volume: Callable[..., Volume]) -> None:
    """all_volumes lists every volume sorted by name."""
    for name in ("b", "c", "a"):
        state.add_volume(make_volume(name))
    assert [v.name for v in state.all_volumes()] == ["a", "b", "c"]


def test_add_duplicate_volume(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    vol: Volume,
    make_volume: Callable[..., Volume],
) -> None:
    """A volume name already taken → VolumeExistsError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.VolumeExistsError):
        state.add_volume(make_volume("data", labels={"other": "x"}))
    assert snapshot() == before


def test_add_invalid_volume(
    state: FileState, snapshot: Callable[[], dict[str, Any]], make_volume: Callable[..., Volume]
) -> None:
    """add_volume of an object with valid=False → VolumeRemovedError, nothing written."""
    vol = make_volume("data")
    vol.valid = False
    with pytest.raises(errors.VolumeRemovedError):
        state.add_volume(vol)
    assert snapshot()["volumes"] == {}


def test_add_checks_validity_before_name(
    state: FileState, vol: Volume, make_volume: Callable[..., Volume]
) -> None:
    """An invalid volume with a taken name → VolumeRemovedError."""
    dup = make_volume("data")
    dup.valid = False
    with pytest.raises(errors.VolumeRemovedError):
        state.add_volume(dup)


# ------------------------------------------------------------------------ lookup


@pytest.fixture
def named(state: FileState, make_volume: Callable[..., Volume]) -> None:
    """Volumes "abc", "abcd" and "xyz"."""
    for name in ("abc", "abcd", "xyz"):
        state.add_volume(make_volume(name))


@pytest.mark.parametrize(
    ("key", "want"), [("abc", "abc"), ("abcd", "abcd"), ("abcd", "abcd"), ("x", "xyz")]
)
def test_lookup_volume_resolves(state: FileState, named: None, key: str, want: str) -> None:
    """lookup_volume by exact name (which beats longer names) or unique name prefix."""
    assert state.lookup_volume(key).name == want


def test_lookup_volume_ambiguous_prefix(state: FileState, named: None) -> None:
    """A prefix of several volume names → VolumeExistsError."""
    with pytest.raises(errors.VolumeExistsError):
        state.lookup_volume("ab")


@pytest.mark.parametrize("key", ["abcde", "b", "y", "ab_", "a_c"])
def test_lookup_volume_no_match(state: FileState, named: None, key: str) -> None:
    """No exact name or literal prefix → NoSuchVolumeError."""
    with pytest.raises(errors.NoSuchVolumeError):
        state.lookup_volume(key)


def test_lookup_volume_errors_name_the_key(state: FileState, named: None) -> None:
    """The resolver's volume errors say what was looked up (one resolver with containers')."""
    with pytest.raises(errors.VolumeExistsError) as ambiguous:
        state.lookup_volume("ab")
    assert str(ambiguous.value) == "more than one volume name starts with ab: volume already exists"
    with pytest.raises(errors.NoSuchVolumeError) as missing:
        state.lookup_volume("y")
    assert str(missing.value) == "no volume with name or prefix y: no such volume"
    assert missing.value.name == "y"


def test_volume_and_has_volume_are_exact(state: FileState, named: None) -> None:
    """volume()/has_volume() never match a prefix."""
    assert state.has_volume("xyz") is True
    assert state.has_volume("x") is False
    with pytest.raises(errors.NoSuchVolumeError):
        state.volume("x")


def test_lookup_volume_message_names_the_volume(state: FileState) -> None:
    """The not-found error's message names the volume."""
    with pytest.raises(errors.NoSuchVolumeError) as exc:
        state.volume("nosuchvolume")
    assert "nosuchvolume" in str(exc.value)


# ------------------------------------------------------------------------ users


def test_volume_in_use_lists_users_sorted_once(
    state: FileState, vol: Volume, make_container: Callable[..., Container]
) -> None:
    """volume_in_use lists each container that mounts the volume once, sorted by ID."""
    state.add_container(make_container(3, namedVolumes=uses("data", "data")))
    state.add_container(make_container(2, namedVolumes=uses("data")))
    state.add_container(make_container(1))
    assert state.volume_in_use(vol) == [make_container(2).id, make_container(3).id]


def test_volume_in_use_none(state: FileState, vol: Volume) -> None:
    """An unused volume → []."""
    assert state.volume_in_use(vol) == []


def test_add_container_with_missing_volume(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    vol: Volume,
    make_container: Callable[..., Container],
) -> None:
    """A container naming a volume that does not exist → NoSuchVolumeError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.NoSuchVolumeError):
        state.add_container(make_container(1, namedVolumes=uses("data", "missing")))
    assert snapshot() == before
    state.add_container(make_container(1))  # ID and name were not taken


def test_users_are_cleaned_on_container_removal(
    state: FileState,
    reopen: Callable[[], FileState],
    vol: Volume,
    make_container: Callable[..., Container],
) -> None:
    """Removing a container drops it from its volumes' users (Decision 4)."""
    ctr = make_container(1, namedVolumes=uses("data"))
    state.add_container(ctr)
    state.remove_container(ctr)
    assert reopen().volume_in_use(vol) == []
    state.remove_volume(vol)
    assert reopen().all_volumes() == []


def test_user_in_a_pod(
    state: FileState,
    vol: Volume,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A pod member mounting a volume is a user; removing it frees the volume."""
    pod = make_pod(1)
    state.add_pod(pod)
    ctr = make_container(1, pod=pod.id, namedVolumes=uses("data"))
    state.add_container_to_pod(pod, ctr)
    assert state.volume_in_use(vol) == [ctr.id]
    state.remove_container_from_pod(pod, ctr)
    assert state.volume_in_use(vol) == []


# ------------------------------------------------------------------------ remove


def test_remove_volume(
    state: FileState,
    reopen: Callable[[], FileState],
    vol: Volume,
    make_volume: Callable[..., Volume],
) -> None:
    """A removed volume is gone; its name is free again; vol.valid stays True."""
    state.remove_volume(vol)
    assert vol.valid is True
    other = reopen()
    assert other.has_volume("data") is False
    with pytest.raises(errors.NoSuchVolumeError):
        other.lookup_volume("data")
    state.add_volume(make_volume("data"))


def test_remove_volume_in_use(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    vol: Volume,
    make_container: Callable[..., Container],
) -> None:
    """Removing a volume a container uses → VolumeBeingUsedError, nothing removed."""
    state.add_container(make_container(1, namedVolumes=uses("data")))
    before = snapshot()
    with pytest.raises(errors.VolumeBeingUsedError):
        state.remove_volume(vol)
    assert snapshot() == before


def test_remove_missing_volume(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    vol: Volume,
    make_volume: Callable[..., Volume],
) -> None:
    """Removing a volume not stored → NoSuchVolumeError (+inv); no validity check after."""
    before = snapshot()
    ghost = make_volume("ghost")
    with pytest.raises(errors.NoSuchVolumeError):
        state.remove_volume(ghost)
    assert ghost.valid is False
    with pytest.raises(errors.NoSuchVolumeError):
        state.remove_volume(ghost)
    assert snapshot() == before


def test_remove_volume_ignores_valid_flag(state: FileState, vol: Volume) -> None:
    """remove_volume removes a stored volume even if the object is marked invalid."""
    vol.valid = False
    state.remove_volume(vol)
    assert state.all_volumes() == []


# ------------------------------------------------------------------------ update, save, rewrite


def test_update_volume_replaces_state(state: FileState, vol: Volume) -> None:
    """update_volume replaces vol.state wholesale with the stored state."""
    got = state.volume("data")
    got.state = {"junk": True}
    state.update_volume(got)
    assert got.state == vol.state


def test_save_volume(state: FileState, reopen: Callable[[], FileState], vol: Volume) -> None:
    """save_volume stores vol.state; the config is left alone."""
    vol.state = {"mountCount": 5, "notYetChowned": True, "uidChowned": 1000}
    vol.config["labels"] = {"changed": "yes"}
    state.save_volume(vol)
    got = reopen().volume("data")
    assert got.state == vol.state
    assert got.config["labels"] == {}


def test_rewrite_volume_config(
    state: FileState, reopen: Callable[[], FileState], vol: Volume
) -> None:
    """rewrite_volume_config stores the new config and keeps the state."""
    new = {**vol.config, "labels": {"rewritten": "yes"}, "volumeOptions": {"o": "bind"}}
    state.rewrite_volume_config(vol, new)
    got = reopen().volume("data")
    assert got.config == new
    assert got.state == vol.state


VOL_CALLS = {
    "volume_in_use": lambda st, v: st.volume_in_use(v),
    "update_volume": lambda st, v: st.update_volume(v),
    "save_volume": lambda st, v: st.save_volume(v),
    "rewrite_volume_config": lambda st, v: st.rewrite_volume_config(v, v.config),
}


@bolt_only
@pytest.mark.parametrize("call", VOL_CALLS.values(), ids=VOL_CALLS.keys())
def test_missing_volume_is_invalidated(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    vol: Volume,
    make_volume: Callable[..., Volume],
    call: Callable[..., Any],
) -> None:
    """A volume that is not stored → NoSuchVolumeError (+inv), then VolumeRemovedError."""
    before = snapshot()
    ghost = make_volume("ghost")
    with pytest.raises(errors.NoSuchVolumeError):
        call(state, ghost)
    assert ghost.valid is False
    with pytest.raises(errors.VolumeRemovedError):
        call(state, ghost)
    assert snapshot() == before


@pytest.mark.parametrize("call", VOL_CALLS.values(), ids=VOL_CALLS.keys())
def test_invalid_volume_is_refused(
    state: FileState, snapshot: Callable[[], dict[str, Any]], vol: Volume, call: Callable[..., Any]
) -> None:
    """A volume object with valid=False → VolumeRemovedError, even if it is still stored."""
    before = snapshot()
    vol.valid = False
    vol.state["mountCount"] = 7
    with pytest.raises(errors.VolumeRemovedError):
        call(state, vol)
    assert snapshot() == before


# ------------------------------------------------------------------------ namespaces


@bolt_only
def test_volumes_ignore_namespaces(
    state: FileState, make_volume: Callable[..., Volume], make_container: Callable[..., Container]
) -> None:
    """Volume methods ignore the libpod namespace (§2.3)."""
    state.set_namespace("ns1")
    vol = make_volume("data")
    state.add_volume(vol)
    state.add_container(make_container(1, namespace="ns1", namedVolumes=uses("data")))
    state.set_namespace("ns2")
    assert [v.name for v in state.all_volumes()] == ["data"]
    assert state.has_volume("data") is True
    assert state.lookup_volume("d").name == "data"
    assert state.volume_in_use(vol) == [make_container(1).id]
    state.update_volume(vol)
    state.save_volume(vol)
