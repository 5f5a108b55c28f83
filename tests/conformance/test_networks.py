"""Conformance: a container's live network set and its aliases.

Spec: ``spec/podman-state.md`` §1.2 (GetNetworks, GetNetworkAliases, GetAllNetworkAliases,
NetworkConnect, NetworkDisconnect, and insert steps 5–6), §2.8, §5.1, and ``API.md``
Decisions 8, 9. A live set exists when the config has ``networks`` — or, without that key,
``newNetworks`` or ``orderedNetworks``; ``network_connect`` seeds a missing set with ``podman``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, FileState, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")


def networks(st: FileState, ctr: Container) -> list[str] | None:
    """get_networks, or None when the container has no live network set."""
    try:
        return st.get_networks(ctr)
    except errors.NoSuchNetworkError:
        return None


@pytest.fixture
def bare(state: FileState, make_container: Callable[..., Container]) -> Container:
    """Container 1 stored with no network keys at all (no live network set)."""
    ctr = make_container(1)
    state.add_container(ctr)
    return ctr


@pytest.fixture
def joined(state: FileState, make_container: Callable[..., Container]) -> Container:
    """Container 2 on networks a, b, c; aliases only for a (["y", "x"]) and c ([])."""
    ctr = make_container(2, networks=["c", "a", "b"], network_alises={"a": ["y", "x"], "c": []})
    state.add_container(ctr)
    return ctr


# ------------------------------------------------------------------------ closed, removed, missing

CALLS = {
    "get_networks": lambda st, c: st.get_networks(c),
    "get_network_aliases": lambda st, c: st.get_network_aliases(c, "a"),
    "get_all_network_aliases": lambda st, c: st.get_all_network_aliases(c),
    "network_connect": lambda st, c: st.network_connect(c, "new", ["x"]),
    "network_disconnect": lambda st, c: st.network_disconnect(c, "a"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_closed_store_raises_before_anything_else(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    joined: Container,
    call: Callable[..., Any],
) -> None:
    """After close() each network method raises StateClosedError, even for an invalid object."""
    before = snapshot()
    joined.valid = False
    state.close()
    with pytest.raises(errors.StateClosedError):
        call(state, joined)
    assert snapshot() == before


@bolt_only
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_missing_container_is_invalidated(
    state: FileState, make_container: Callable[..., Container], call: Callable[..., Any]
) -> None:
    """A container not stored → NoSuchContainerError (+inv), then ContainerRemovedError."""
    ghost = make_container(9, networks=["a"])
    with pytest.raises(errors.NoSuchContainerError):
        call(state, ghost)
    assert ghost.valid is False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, ghost)


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_invalid_container_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    joined: Container,
    call: Callable[..., Any],
) -> None:
    """A container object with valid=False → ContainerRemovedError, even if still stored."""
    before = snapshot()
    joined.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, joined)
    assert snapshot() == before


@bolt_only
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_namespace_mismatch(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    call: Callable[..., Any],
) -> None:
    """A container outside the store's namespace → NamespaceMismatchError."""
    ctr = make_container(2, namespace="ns2", networks=["a"], network_alises={"a": ["x"]})
    state.add_container(ctr)
    before = snapshot()
    state.set_namespace("ns1")
    with pytest.raises(errors.NamespaceMismatchError):
        call(state, ctr)
    assert snapshot() == before


NAMED_CALLS = {
    "get_network_aliases": lambda st, c: st.get_network_aliases(c, ""),
    "network_connect": lambda st, c: st.network_connect(c, "", ["x"]),
    "network_disconnect": lambda st, c: st.network_disconnect(c, ""),
}


@pytest.mark.parametrize("call", NAMED_CALLS.values(), ids=NAMED_CALLS.keys())
def test_empty_network_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    joined: Container,
    call: Callable[..., Any],
) -> None:
    """An empty network name → InvalidArgumentError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        call(state, joined)
    assert snapshot() == before


@pytest.mark.parametrize("call", NAMED_CALLS.values(), ids=NAMED_CALLS.keys())
def test_empty_name_checked_before_existence(
    state: FileState, make_container: Callable[..., Container], call: Callable[..., Any]
) -> None:
    """An empty network name is reported before the container is looked up (no +inv)."""
    ghost = make_container(9)
    with pytest.raises(errors.InvalidArgumentError):
        call(state, ghost)
    assert ghost.valid is True


@pytest.mark.parametrize("call", NAMED_CALLS.values(), ids=NAMED_CALLS.keys())
def test_invalid_checked_before_empty_name(
    state: FileState, joined: Container, call: Callable[..., Any]
) -> None:
    """An invalid object and an empty network name → ContainerRemovedError."""
    joined.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, joined)


@bolt_only
@pytest.mark.parametrize("call", NAMED_CALLS.values(), ids=NAMED_CALLS.keys())
def test_empty_name_checked_before_namespace(
    state: FileState, make_container: Callable[..., Container], call: Callable[..., Any]
) -> None:
    """An empty network name and a namespace mismatch → InvalidArgumentError."""
    ctr = make_container(2, namespace="ns2", networks=["a"])
    state.add_container(ctr)
    state.set_namespace("ns1")
    with pytest.raises(errors.InvalidArgumentError):
        call(state, ctr)


# ------------------------------------------------------------------------ initial networks


@bolt_only
def test_networks_from_seed_config(
    state: FileState, reopen: Callable[[], FileState], joined: Container
) -> None:
    """``networks`` + ``network_alises`` give sorted networks and aliases (Decision 8)."""
    for st in (state, reopen()):
        assert st.get_networks(joined) == ["a", "b", "c"]
        assert st.get_all_network_aliases(joined) == {"a": ["x", "y"], "c": []}
        assert st.get_network_aliases(joined, "a") == ["x", "y"]
        assert st.get_network_aliases(joined, "b") == []
        assert st.get_network_aliases(joined, "c") == []


@bolt_only
def test_networks_from_new_networks_map(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Without ``networks``, the keys of ``newNetworks`` and their ``aliases`` are used."""
    ctr = make_container(
        1,
        newNetworks={
            "web": {"aliases": ["w2", "w1"], "interface_name": "eth1"},
            "db": {"aliases": ["d"], "interface_name": "eth0", "static_ips": ["10.88.0.5"]},
            "plain": {"interface_name": "eth2"},
        },
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["db", "plain", "web"]
    assert state.get_network_aliases(ctr, "web") == ["w1", "w2"]
    assert state.get_network_aliases(ctr, "db") == ["d"]
    assert state.get_network_aliases(ctr, "plain") == []


@bolt_only
def test_networks_from_ordered_networks(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """``orderedNetworks`` entries give the live set and their aliases."""
    ctr = make_container(
        1,
        orderedNetworks=[
            {"name": "zeta", "aliases": ["b", "a"], "interface_name": "eth0"},
            {"name": "alpha", "aliases": ["c"], "interface_name": "eth1"},
        ],
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["alpha", "zeta"]
    assert state.get_network_aliases(ctr, "zeta") == ["a", "b"]
    assert state.get_all_network_aliases(ctr) == {"alpha": ["c"], "zeta": ["a", "b"]}


@bolt_only
def test_networks_key_wins_over_new_networks(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """When ``networks`` is present, ``newNetworks`` is not used (Decision 8)."""
    ctr = make_container(1, networks=["old"], newNetworks={"new": {"aliases": ["n"]}})
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["old"]


@bolt_only
def test_no_network_keys(state: FileState, bare: Container) -> None:
    """Without network keys: get_networks → NoSuchNetworkError; the alias getters are empty."""
    with pytest.raises(errors.NoSuchNetworkError):
        state.get_networks(bare)
    assert state.get_all_network_aliases(bare) == {}
    assert state.get_network_aliases(bare, "podman") == []


def test_empty_network_name_in_config(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """An empty entry in ``networks`` → InvalidArgumentError at add, nothing written."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError):
        state.add_container(make_container(1, networks=["podman", ""]))
    assert snapshot() == before


def test_aliases_for_a_network_not_joined(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """A ``network_alises`` key missing from ``networks`` → NoSuchNetworkError at add."""
    before = snapshot()
    ctr = make_container(1, networks=["a"], network_alises={"a": ["x"], "b": ["y"]})
    with pytest.raises(errors.NoSuchNetworkError):
        state.add_container(ctr)
    assert snapshot() == before
    state.add_container(make_container(1))  # ID and name were not taken


@bolt_only
def test_aliases_need_not_be_unique(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Aliases may repeat across containers and equal container names (§2.8)."""
    state.add_container(make_container(1, networks=["a"], network_alises={"a": ["test2"]}))
    ctr = make_container(2, networks=["a"], network_alises={"a": ["test2"]})
    state.add_container(ctr)
    state.network_connect(ctr, "b", ["test1"])
    assert state.get_all_network_aliases(ctr) == {"a": ["test2"], "b": ["test1"]}


def test_get_network_aliases_not_joined(state: FileState, joined: Container) -> None:
    """get_network_aliases of a network the container is not on → NoAliasesError."""
    with pytest.raises(errors.NoAliasesError):
        state.get_network_aliases(joined, "zzz")


# ------------------------------------------------------------------------ connect


@bolt_only
def test_connect(state: FileState, reopen: Callable[[], FileState], joined: Container) -> None:
    """network_connect adds the network with its (sorted) aliases, durably."""
    state.network_connect(joined, "d", ["q", "p"])
    for st in (state, reopen()):
        assert st.get_networks(joined) == ["a", "b", "c", "d"]
        assert st.get_network_aliases(joined, "d") == ["p", "q"]
        assert st.get_all_network_aliases(joined) == {"a": ["x", "y"], "c": [], "d": ["p", "q"]}


@bolt_only
def test_connect_without_aliases(state: FileState, joined: Container) -> None:
    """Connecting with no aliases records an empty alias list for the network."""
    state.network_connect(joined, "d")
    assert state.get_all_network_aliases(joined)["d"] == []
    assert state.get_network_aliases(joined, "d") == []


@bolt_only
def test_connect_seeds_default_network(
    state: FileState, reopen: Callable[[], FileState], bare: Container
) -> None:
    """Connecting a container without a live set seeds it with ``podman`` first."""
    state.network_connect(bare, "net1", ["alias1"])
    other = reopen()
    assert other.get_networks(bare) == ["net1", "podman"]
    assert other.get_all_network_aliases(bare) == {"net1": ["alias1"]}
    assert other.get_network_aliases(bare, "podman") == []


def test_connect_already_joined(
    state: FileState, snapshot: Callable[[], dict[str, Any]], joined: Container
) -> None:
    """Connecting a network already joined → NetworkExistsError, nothing written."""
    before = snapshot()
    for net in ("a", "b"):
        with pytest.raises(errors.NetworkExistsError):
            state.network_connect(joined, net, ["new"])
    assert snapshot() == before


@bolt_only
def test_connect_failure_rolls_back_seeding(
    state: FileState, snapshot: Callable[[], dict[str, Any]], bare: Container
) -> None:
    """Connecting ``podman`` to an unseeded container → NetworkExistsError, seeding undone."""
    before = snapshot()
    with pytest.raises(errors.NetworkExistsError):
        state.network_connect(bare, "podman", [])
    assert snapshot() == before
    with pytest.raises(errors.NoSuchNetworkError):
        state.get_networks(bare)


# ------------------------------------------------------------------------ disconnect


@bolt_only
def test_disconnect(state: FileState, reopen: Callable[[], FileState], joined: Container) -> None:
    """network_disconnect removes the network and its aliases, durably."""
    state.network_disconnect(joined, "a")
    for st in (state, reopen()):
        assert st.get_networks(joined) == ["b", "c"]
        assert st.get_all_network_aliases(joined) == {"c": []}
        with pytest.raises(errors.NoAliasesError):
            st.get_network_aliases(joined, "a")


@bolt_only
def test_disconnect_without_aliases(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A container with networks but no aliases can be disconnected (Decision 9)."""
    ctr = make_container(1, networks=["a", "b"])
    state.add_container(ctr)
    state.network_disconnect(ctr, "a")
    assert state.get_networks(ctr) == ["b"]


def test_disconnect_last_network(state: FileState, joined: Container) -> None:
    """Disconnecting every network leaves an empty live set."""
    for net in ("a", "b", "c"):
        state.network_disconnect(joined, net)
    assert state.get_networks(joined) == []
    assert state.get_all_network_aliases(joined) == {}


def test_disconnect_not_joined(
    state: FileState, snapshot: Callable[[], dict[str, Any]], joined: Container
) -> None:
    """Disconnecting a network not joined → NoSuchNetworkError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.NoSuchNetworkError):
        state.network_disconnect(joined, "zzz")
    assert snapshot() == before


def test_disconnect_without_live_set(
    state: FileState, snapshot: Callable[[], dict[str, Any]], bare: Container
) -> None:
    """Disconnecting a container that has no live network set → NoSuchNetworkError."""
    before = snapshot()
    with pytest.raises(errors.NoSuchNetworkError):
        state.network_disconnect(bare, "podman")
    assert snapshot() == before


@bolt_only
def test_reconnect_after_disconnect(state: FileState, joined: Container) -> None:
    """A network left can be joined again, with new aliases."""
    state.network_disconnect(joined, "a")
    state.network_connect(joined, "a", ["z"])
    assert state.get_network_aliases(joined, "a") == ["z"]
    assert networks(state, joined) == ["a", "b", "c"]
