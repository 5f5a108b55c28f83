"""Conformance: invalid input from the caller.

Spec: ``API.md`` ("Invalid input …", Decision 10), ``spec/podman-state.md`` §0 conventions and
§1.2 (the getters check for an empty ID before the closed store). Invalid input raises
``InvalidArgumentError`` (or its subclass ``EmptyIDError``) and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from fsstate import Container, ExecSession, FileState, Pod, Volume, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")

#: Strings that can never be a name or ID: [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes.
BAD = [
    "..",
    ".",
    "a/b",
    "../x",
    "/abs",
    "a\x00b",
    "a\\b",
    "-lead",
    "_lead",
    ".hidden",
    "a b",
    "x:y",
    "tab\t",
    "new\nline",
    "ünï",
    "a%",
    "a" * 256,
]
BAD_IDS = ["", *BAD]


def ids(values: Sequence[object]) -> list[str]:
    return [repr(v)[:20] for v in values]


# ------------------------------------------------------------------------ names and IDs in configs


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_container_bad_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    bad: Any,
) -> None:
    """A container config whose ID is not a safe name → InvalidArgumentError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_container(make_container(1, id=bad))
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_container_bad_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    bad: Any,
) -> None:
    """A container config whose name is not a safe name → InvalidArgumentError."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_container(make_container(1, name=bad))
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_member_bad_id_or_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
    bad: Any,
) -> None:
    """add_container_to_pod of a member with a bad ID or name → InvalidArgumentError."""
    pod = make_pod(1)
    state.add_pod(pod)
    before = snapshot()
    for ctr in (make_container(1, pod=pod.id, id=bad), make_container(1, pod=pod.id, name=bad)):
        with pytest.raises(errors.InvalidArgumentError):
            state.add_container_to_pod(pod, ctr)
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_pod_bad_id_or_name(
    state: FileState, snapshot: Callable[[], dict[str, Any]], make_pod: Callable[..., Pod], bad: Any
) -> None:
    """A pod config whose ID or name is not a safe name → InvalidArgumentError."""
    before = snapshot()
    for pod in (make_pod(1, id=bad), make_pod(1, name=bad)):
        with pytest.raises(errors.InvalidArgumentError):
            state.add_pod(pod)
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_volume_bad_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_volume: Callable[..., Volume],
    bad: Any,
) -> None:
    """A volume config whose name is not a safe name → InvalidArgumentError."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_volume(make_volume(bad))
    assert snapshot() == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=ids(BAD_IDS))
def test_add_exec_session_bad_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    bad: Any,
) -> None:
    """An exec session ID that is not a safe name → InvalidArgumentError."""
    ctr = make_container(1)
    state.add_container(ctr)
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_exec_session(ctr, ExecSession(bad, ctr.id))
    assert snapshot() == before


def test_longest_names_are_accepted(
    state: FileState,
    reopen: Callable[[], FileState],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
) -> None:
    """IDs and names of exactly 255 bytes, using every allowed character class, are fine."""
    long = "A9" + "z_.-" * 63 + "x"
    assert len(long) == 255
    ctr = make_container(1, id=long, name=long)
    state.add_container(ctr)
    state.add_pod(make_pod(1, id="P" + long[1:], name="P" + long[1:]))
    state.add_volume(make_volume(long))
    state.add_exec_session(ctr, ExecSession(long, ctr.id))
    other = reopen()
    assert other.lookup_container(long).id == long
    assert other.lookup_pod("P" + long[1:]).name == "P" + long[1:]
    assert other.volume(long).name == long
    assert other.get_exec_session(long) == long


@pytest.mark.parametrize("bad", ["a/b", "..", ""], ids=ids(["a/b", "..", ""]))
def test_rewrite_with_bad_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
    bad: Any,
) -> None:
    """Rewriting a config to a name that is not safe → InvalidArgumentError, nothing written."""
    ctr, pod, vol = make_container(1), make_pod(1), make_volume("data")
    state.add_container(ctr)
    state.add_pod(pod)
    state.add_volume(vol)
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_container_config(ctr, {**ctr.config, "name": bad})
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_pod_config(pod, {**pod.config, "name": bad})
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_volume_config(vol, {**vol.config, "name": bad})
    assert snapshot() == before


# ------------------------------------------------------------------------ schema failures


@pytest.mark.parametrize(
    "overrides",
    [
        {"namedVolumes": "data"},
        {"namedVolumes": {"volumeName": "data"}},
        {"id": 123},
        {"id": None},
        {"name": 5},
        {"name": ["test1"]},
    ],
    ids=["namedVolumes-str", "namedVolumes-dict", "id-int", "id-null", "name-int", "name-list"],
)
def test_add_container_failing_schema(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    overrides: dict[str, Any],
) -> None:
    """A container config with a key of the wrong type → InvalidArgumentError."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_container(make_container(1, **overrides))
    assert snapshot() == before


@pytest.mark.parametrize("overrides", [{"id": 123}, {"name": 5}], ids=["id-int", "name-int"])
def test_add_pod_failing_schema(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    overrides: dict[str, Any],
) -> None:
    """A pod config with a key of the wrong type → InvalidArgumentError."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_pod(make_pod(1, **overrides))
    assert snapshot() == before


def test_add_volume_failing_schema(
    state: FileState, snapshot: Callable[[], dict[str, Any]], make_volume: Callable[..., Volume]
) -> None:
    """A volume config whose name is not a string → InvalidArgumentError."""
    vol = make_volume("data")
    vol.config["name"] = 5
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_volume(vol)
    assert snapshot() == before


def test_rewrite_failing_schema(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
) -> None:
    """A rewritten config with a key of the wrong type → InvalidArgumentError."""
    ctr, pod, vol = make_container(1), make_pod(1), make_volume("data")
    state.add_container(ctr)
    state.add_pod(pod)
    state.add_volume(vol)
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_container_config(ctr, {**ctr.config, "namedVolumes": "data"})
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_pod_config(pod, {**pod.config, "id": 123})
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_volume_config(vol, {**vol.config, "name": 5})
    assert snapshot() == before


# ------------------------------------------------------------------------ non-mapping configs


def test_model_rejects_non_mapping_config() -> None:
    """Building a Container from a non-mapping config → InvalidArgumentError."""
    with pytest.raises(errors.InvalidArgumentError):
        Container(["not", "a", "mapping"])  # type: ignore[arg-type]  # the point of the test


@pytest.mark.parametrize("bad", [["a", "list"], "a string", 42], ids=["list", "str", "int"])
def test_rewrite_with_non_mapping(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
    bad: Any,
) -> None:
    """rewrite_*_config with a non-mapping config → InvalidArgumentError, nothing written."""
    ctr, pod, vol = make_container(1), make_pod(1), make_volume("data")
    state.add_container(ctr)
    state.add_pod(pod)
    state.add_volume(vol)
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_container_config(ctr, bad)
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_pod_config(pod, bad)
    with pytest.raises(errors.InvalidArgumentError):
        state.rewrite_volume_config(vol, bad)
    assert snapshot() == before


# ------------------------------------------------------------------------ empty and impossible keys

GETTERS = {
    "get_name": lambda st, key: st.get_name(key),
    "container": lambda st, key: st.container(key),
    "lookup_container_id": lambda st, key: st.lookup_container_id(key),
    "lookup_container": lambda st, key: st.lookup_container(key),
    "has_container": lambda st, key: st.has_container(key),
    "get_container_config": lambda st, key: st.get_container_config(key),
    "pod": lambda st, key: st.pod(key),
    "lookup_pod": lambda st, key: st.lookup_pod(key),
    "has_pod": lambda st, key: st.has_pod(key),
    "volume": lambda st, key: st.volume(key),
    "lookup_volume": lambda st, key: st.lookup_volume(key),
    "has_volume": lambda st, key: st.has_volume(key),
}


@pytest.mark.parametrize("call", GETTERS.values(), ids=GETTERS.keys())
def test_getter_empty_id(state: FileState, call: Callable[..., Any]) -> None:
    """An empty ID or name → EmptyIDError."""
    with pytest.raises(errors.EmptyIDError):
        call(state, "")


@pytest.mark.parametrize("call", GETTERS.values(), ids=GETTERS.keys())
def test_getter_empty_id_checked_before_closed(state: FileState, call: Callable[..., Any]) -> None:
    """On a closed store an empty ID still → EmptyIDError (checked first, §1.2)."""
    state.close()
    with pytest.raises(errors.EmptyIDError):
        call(state, "")


def test_pod_has_container_empty_id_checked_before_closed(
    state: FileState, make_pod: Callable[..., Pod]
) -> None:
    """pod_has_container(pod, "") on a closed store → EmptyIDError."""
    pod = make_pod(1)
    state.add_pod(pod)
    state.close()
    with pytest.raises(errors.EmptyIDError):
        state.pod_has_container(pod, "")


IMPOSSIBLE = ["../x", "a/b", "..", "a\x00b", "a" * 256, "%"]


@bolt_only
@pytest.mark.parametrize("key", IMPOSSIBLE, ids=ids(IMPOSSIBLE))
@pytest.mark.parametrize(
    "call",
    [*GETTERS.values(), lambda st, key: st.get_exec_session(key)],
    ids=[*GETTERS.keys(), "get_exec_session"],
)
def test_getter_impossible_key(
    state: FileState,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
    call: Callable[..., Any],
    key: str,
) -> None:
    """A key that can be no name or ID → InvalidArgumentError (or a subclass)."""
    state.add_container(make_container(1))
    state.add_pod(make_pod(1))
    state.add_volume(make_volume("data"))
    with pytest.raises(errors.InvalidArgumentError):
        call(state, key)
