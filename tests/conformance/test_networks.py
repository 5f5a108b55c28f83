"""Conformance: a container's live network set, its aliases and per-network options.

Spec: ``spec/podman-state.md`` §1.2 (GetNetworks, GetNetworkAliases, GetAllNetworkAliases,
NetworkConnect, NetworkDisconnect, and insert steps 5–6), §2.8, §5.1, ``API.md`` Decisions 8, 9
and "Today's Podman", and ``spec/podman-state-newest.md`` #18-21 (NEWEST GetNetworks,
NetworkConnect, NetworkModify, NetworkDisconnect: sq:907-950, sqi:580-690).

Under "bolt" a live set exists when the config has ``networks`` — or, without that key,
``newNetworks`` or ``orderedNetworks``; ``network_connect`` seeds a missing set with
``podman``; the 2020 getters sort. Under "sqlite" the live list is the config's
``orderedNetworks`` (or ``newNetworks`` by name), in setup order, and only a ``bridge``
container has networks. :func:`on_networks` builds each semantics' config for the same
networks, so most tests run on both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, FileState, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")
sqlite_only = pytest.mark.semantics("sqlite")

Nets = list[tuple[str, list[str] | None]]


def on_networks(semantics: str, nets: Nets) -> dict[str, Any]:
    """Config keys that join ``nets`` (name, aliases or None) in this order, in ``bridge``
    mode: SEED ``networks`` + ``network_alises`` under "bolt"; ``orderedNetworks`` under
    "sqlite"."""
    if semantics == "bolt":
        aliases = {n: a for n, a in nets if a is not None}
        return {
            "networkMode": "bridge",
            "networks": [n for n, _ in nets],
            "network_alises": aliases,
        }
    ordered = [{"name": n} if a is None else {"name": n, "aliases": a} for n, a in nets]
    return {"networkMode": "bridge", "orderedNetworks": ordered}


def in_order(semantics: str, names: list[str]) -> list[str]:
    """What get_networks lists for networks joined in this order: sorted under "bolt"."""
    return sorted(names) if semantics == "bolt" else names


def networks(st: FileState, ctr: Container) -> list[str] | None:
    """get_networks, or None when the container has no live network set."""
    try:
        return st.get_networks(ctr)
    except errors.NoSuchNetworkError:
        return None


def expect_exact(cls: type[Exception], call: Callable[..., object], *args: Any) -> None:
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls


@pytest.fixture
def bare(state: FileState, make_container: Callable[..., Container]) -> Container:
    """Container 1 stored with no network keys at all (no live network set), bridge mode."""
    ctr = make_container(1, networkMode="bridge")
    state.add_container(ctr)
    return ctr


@pytest.fixture
def joined(state: FileState, semantics: str, make_container: Callable[..., Container]) -> Container:
    """Container 2 on networks c, a, b (in that order); aliases only for a (["y", "x"]) and
    c ([])."""
    ctr = make_container(2, **on_networks(semantics, [("c", []), ("a", ["y", "x"]), ("b", None)]))
    state.add_container(ctr)
    return ctr


# ------------------------------------------------------------------------ closed, removed, missing

CALLS = {
    "get_networks": lambda st, c: st.get_networks(c),
    "get_network_aliases": lambda st, c: st.get_network_aliases(c, "a"),
    "get_all_network_aliases": lambda st, c: st.get_all_network_aliases(c),
    "network_connect": lambda st, c: st.network_connect(c, "new", ["x"]),
    "network_disconnect": lambda st, c: st.network_disconnect(c, "a"),
    "get_network_options": lambda st, c: st.get_network_options(c),
    "network_modify": lambda st, c: st.network_modify(c, "a", {"aliases": ["m"]}),
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


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_missing_container_is_invalidated(
    state: FileState,
    semantics: str,
    make_container: Callable[..., Container],
    call: Callable[..., Any],
) -> None:
    """A container not stored → NoSuchContainerError (+inv), then ContainerRemovedError
    (NEWEST sq:921-926, sqi:598-601)."""
    ghost = make_container(9, **on_networks(semantics, [("a", None)]))
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
    "network_modify": lambda st, c: st.network_modify(c, "", {}),
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


def test_networks_from_config(
    state: FileState, semantics: str, reopen: Callable[[], FileState], joined: Container
) -> None:
    """The config's networks and aliases are the live set (Decision 8; NEWEST sq:929-933)."""
    # "sqlite": every network has an alias list
    every: dict[str, list[str]] = {} if semantics == "bolt" else {"b": []}
    for st in (state, reopen()):
        assert st.get_networks(joined) == in_order(semantics, ["c", "a", "b"])
        assert st.get_all_network_aliases(joined) == {"a": ["x", "y"], "c": [], **every}
        assert st.get_network_aliases(joined, "a") == ["x", "y"]
        assert st.get_network_aliases(joined, "b") == []
        assert st.get_network_aliases(joined, "c") == []
        assert list(st.get_network_options(joined).items()) == [
            ("c", {} if semantics == "bolt" else {"aliases": []}),
            ("a", {"aliases": ["y", "x"]}),
            ("b", {}),
        ]


def test_networks_from_new_networks_map(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Without ``networks`` or ``orderedNetworks``, ``newNetworks`` is read in name order
    (NEWEST convertLegacyNetworks, sqi:676-690), each network with all its options."""
    db = {"aliases": ["d"], "interface_name": "eth0", "static_ips": ["10.88.0.5"]}
    web = {"aliases": ["w2", "w1"], "interface_name": "eth1"}
    ctr = make_container(
        1,
        networkMode="bridge",
        newNetworks={"web": web, "db": db, "plain": {"interface_name": "eth2"}},
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["db", "plain", "web"]
    assert state.get_network_aliases(ctr, "web") == ["w1", "w2"]
    assert state.get_network_aliases(ctr, "db") == ["d"]
    assert state.get_network_aliases(ctr, "plain") == []
    assert list(state.get_network_options(ctr).items()) == [
        ("db", db),
        ("plain", {"interface_name": "eth2"}),
        ("web", web),
    ]


def test_networks_from_ordered_networks(
    state: FileState, semantics: str, make_container: Callable[..., Container]
) -> None:
    """``orderedNetworks`` entries give the live set, in their order, with their options."""
    zeta = {"static_ips": ["10.1.0.9"], "aliases": ["b", "a"], "interface_name": "eth0"}
    alpha = {"aliases": ["c"], "static_mac": "02:00:00:00:00:01", "interface_name": "eth1"}
    ctr = make_container(
        1,
        networkMode="bridge",
        orderedNetworks=[{"name": "zeta", **zeta}, {"name": "alpha", **alpha}],
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == in_order(semantics, ["zeta", "alpha"])
    assert state.get_network_aliases(ctr, "zeta") == ["a", "b"]
    assert state.get_all_network_aliases(ctr) == {"alpha": ["c"], "zeta": ["a", "b"]}
    assert list(state.get_network_options(ctr).items()) == [("zeta", zeta), ("alpha", alpha)]


def test_networks_key_wins_over_new_networks(
    state: FileState, semantics: str, make_container: Callable[..., Container]
) -> None:
    """When ``networks`` is present, ``newNetworks`` is not used (Decision 8); NEWEST reads
    only ``orderedNetworks``/``newNetworks`` (sq:929-933)."""
    ctr = make_container(
        1, networkMode="bridge", networks=["old"], newNetworks={"new": {"aliases": ["n"]}}
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == (["old"] if semantics == "bolt" else ["new"])


def test_ordered_networks_win_over_new_networks(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """With both Podman keys, ``orderedNetworks`` is the list (NEWEST sq:929)."""
    ctr = make_container(
        1,
        networkMode="bridge",
        orderedNetworks=[{"name": "o"}],
        newNetworks={"n": {"aliases": ["n"]}},
    )
    state.add_container(ctr)
    assert state.get_networks(ctr) == ["o"]


@pytest.mark.parametrize("mode", ["host", "none", "container:" + "1" * 32, None])
def test_non_bridge_container_has_no_network_options(
    state: FileState,
    semantics: str,
    make_container: Callable[..., Container],
    mode: str | None,
) -> None:
    """get_network_options of a host/none/shared-netns container (no ``networkMode`` key
    counts too, as Podman writes none for them) is ``{}``, no error, even when it is not
    stored: Podman's GetNetworks of that shape, Bolt 4.x and NEWEST alike."""
    ctr = make_container(1, orderedNetworks=[{"name": "podman"}])
    if mode is not None:
        ctr.config["networkMode"] = mode
    assert state.get_network_options(ctr) == {}  # not stored
    state.add_container(ctr)
    assert state.get_network_options(ctr) == {}
    assert ctr.valid is True


@bolt_only
def test_network_options_namespace_checked_before_mode(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Under "bolt" the namespace check comes before the mode (Podman 4.3
    boltdb_state.go:1069-1076)."""
    ctr = make_container(1, namespace="ns2", networkMode="host")
    state.add_container(ctr)
    state.set_namespace("ns1")
    expect_exact(errors.NamespaceMismatchError, state.get_network_options, ctr)


def test_no_network_keys(state: FileState, semantics: str, bare: Container) -> None:
    """Without network keys: get_networks → NoSuchNetworkError under "bolt", ``[]`` under
    "sqlite" (NEWEST returns the config's nil list); the alias getters are empty."""
    if semantics == "bolt":
        expect_exact(errors.NoSuchNetworkError, state.get_networks, bare)
        expect_exact(errors.NoSuchNetworkError, state.get_network_options, bare)
    else:
        assert state.get_networks(bare) == []
        assert state.get_network_options(bare) == {}
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


def test_empty_network_name_in_ordered_networks(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """An ``orderedNetworks`` entry with an empty name → InvalidArgumentError at add."""
    before = snapshot()
    ctr = make_container(1, networkMode="bridge", orderedNetworks=[{"name": "a"}, {"name": ""}])
    expect_exact(errors.InvalidArgumentError, state.add_container, ctr)
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


def test_aliases_need_not_be_unique(
    state: FileState, semantics: str, make_container: Callable[..., Container]
) -> None:
    """Aliases may repeat across containers and equal container names (§2.8)."""
    state.add_container(make_container(1, **on_networks(semantics, [("a", ["test2"])])))
    ctr = make_container(2, **on_networks(semantics, [("a", ["test2"])]))
    state.add_container(ctr)
    state.network_connect(ctr, "b", ["test1"])
    assert state.get_all_network_aliases(ctr) == {"a": ["test2"], "b": ["test1"]}


def test_get_network_aliases_not_joined(state: FileState, joined: Container) -> None:
    """get_network_aliases of a network the container is not on → NoAliasesError."""
    with pytest.raises(errors.NoAliasesError):
        state.get_network_aliases(joined, "zzz")


# ------------------------------------------------------------------------ connect


def test_connect(
    state: FileState, semantics: str, reopen: Callable[[], FileState], joined: Container
) -> None:
    """network_connect adds the network last with its aliases, durably."""
    state.network_connect(joined, "d", ["q", "p"])
    every: dict[str, list[str]] = {} if semantics == "bolt" else {"b": []}
    for st in (state, reopen()):
        assert st.get_networks(joined) == in_order(semantics, ["c", "a", "b", "d"])
        assert st.get_network_aliases(joined, "d") == ["p", "q"]
        assert st.get_all_network_aliases(joined) == {
            "a": ["x", "y"],
            "c": [],
            "d": ["p", "q"],
            **every,
        }
        assert list(st.get_network_options(joined))[-1] == "d"
        assert st.get_network_options(joined)["d"] == {"aliases": ["q", "p"]}


def test_connect_without_aliases(state: FileState, joined: Container) -> None:
    """Connecting with no aliases records an empty alias list for the network."""
    state.network_connect(joined, "d")
    assert state.get_all_network_aliases(joined)["d"] == []
    assert state.get_network_aliases(joined, "d") == []
    assert state.get_network_options(joined)["d"] == {}


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


@sqlite_only
def test_connect_without_a_list_starts_one(
    state: FileState, reopen: Callable[[], FileState], bare: Container
) -> None:
    """NEWEST appends to the config's (nil) list: no default network is seeded (sqi:616)."""
    state.network_connect(bare, "net1", ["alias1"])
    other = reopen()
    assert other.get_networks(bare) == ["net1"]
    assert other.get_container_config(bare.id)["orderedNetworks"] == [
        {"name": "net1", "aliases": ["alias1"]}
    ]


def test_connect_already_joined(
    state: FileState, semantics: str, snapshot: Callable[[], dict[str, Any]], joined: Container
) -> None:
    """Connecting a network already joined → NetworkExistsError under "bolt", its subclass
    NetworkConnectedError under "sqlite" (sqi:612-613), nothing written."""
    before = snapshot()
    cls = errors.NetworkExistsError if semantics == "bolt" else errors.NetworkConnectedError
    for net in ("a", "b"):
        expect_exact(cls, state.network_connect, joined, net, ["new"])
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


# ------------------------------------------------------------------------ options

STATIC = {
    "static_ips": ["10.89.0.7", "fd00::7"],
    "aliases": ["web"],
    "static_mac": "02:42:ac:11:00:07",
    "interface_name": "eth1",
    "options": {"mtu": "1400"},
}


def test_connect_with_options_round_trips(
    state: FileState, semantics: str, reopen: Callable[[], FileState], joined: Container
) -> None:
    """Every PerNetworkOptions key given to network_connect reads back, in Go's key order,
    durably; get_networks and the alias getters see it too."""
    given = dict(reversed(list(STATIC.items())))
    state.network_connect(joined, "d", options=given)
    for st in (state, reopen()):
        opts = st.get_network_options(joined)
        assert list(opts) == ["c", "a", "b", "d"]
        assert opts["d"] == STATIC and list(opts["d"]) == list(STATIC)
        assert st.get_network_aliases(joined, "d") == ["web"]
        assert st.get_networks(joined) == in_order(semantics, ["c", "a", "b", "d"])


def test_connect_aliases_join_options(state: FileState, joined: Container) -> None:
    """``aliases`` beside ``options`` become its ``aliases``."""
    state.network_connect(joined, "d", ["z", "y"], options={"interface_name": "eth3"})
    assert state.get_network_options(joined)["d"] == {
        "aliases": ["z", "y"],
        "interface_name": "eth3",
    }


BAD_OPTIONS: dict[str, Any] = {
    "not a mapping": ["eth0"],
    "unknown key": {"interface": "eth0"},
    "name key": {"name": "d"},
    "ips not strings": {"static_ips": [10]},
    "aliases a string": {"aliases": "web"},
    "mac not a string": {"static_mac": 2},
    "options not strings": {"options": {"mtu": 1400}},
}


@pytest.mark.parametrize("bad", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_options_are_refused_before_lookup(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
    joined: Container,
    bad: Any,
) -> None:
    """Bad options → InvalidArgumentError, before the container is looked up (a ghost stays
    valid), nothing written; for connect and modify alike."""
    before = snapshot()
    ghost = make_container(9, networkMode="bridge")
    for ctr in (joined, ghost):
        expect_exact(errors.InvalidArgumentError, state.network_modify, ctr, "a", bad)
        with pytest.raises(errors.InvalidArgumentError) as exc:
            state.network_connect(ctr, "d", options=bad)
        assert type(exc.value) is errors.InvalidArgumentError
    assert ghost.valid is True
    assert snapshot() == before


def test_aliases_given_twice(
    state: FileState, snapshot: Callable[[], dict[str, Any]], joined: Container
) -> None:
    """Aliases both as an argument and in ``options`` → InvalidArgumentError, nothing written."""
    before = snapshot()
    with pytest.raises(errors.InvalidArgumentError) as exc:
        state.network_connect(joined, "d", ["x"], options={"aliases": ["y"]})
    assert type(exc.value) is errors.InvalidArgumentError
    assert "network d" in str(exc.value)
    assert snapshot() == before


def test_modify_replaces_in_place(
    state: FileState, semantics: str, reopen: Callable[[], FileState], joined: Container
) -> None:
    """network_modify replaces one network's options and keeps its place (NEWEST sqi:626-629)."""
    state.network_modify(joined, "a", STATIC)
    for st in (state, reopen()):
        opts = st.get_network_options(joined)
        assert list(opts) == ["c", "a", "b"]
        assert opts["a"] == STATIC
        assert st.get_network_aliases(joined, "a") == ["web"]
        assert st.get_networks(joined) == in_order(semantics, ["c", "a", "b"])
    state.network_modify(joined, "a", {})
    assert state.get_network_options(joined)["a"] == {}


def test_modify_not_joined(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    joined: Container,
    bare: Container,
) -> None:
    """Modifying a network not joined, or of a container without a list →
    NoSuchNetworkError (sqi:614-615), nothing written."""
    before = snapshot()
    expect_exact(errors.NoSuchNetworkError, state.network_modify, joined, "zzz", STATIC)
    expect_exact(errors.NoSuchNetworkError, state.network_modify, bare, "podman", STATIC)
    assert snapshot() == before


@sqlite_only
def test_list_lives_in_the_config(
    state: FileState, reopen: Callable[[], FileState], joined: Container
) -> None:
    """Under "sqlite" connect, modify and disconnect rewrite the config's ``orderedNetworks``
    and the passed ``ctr.config`` (NEWEST sqi:621-638): config and list never disagree."""
    state.network_connect(joined, "d", options={"interface_name": "eth3"})
    state.network_modify(joined, "c", {"static_ips": ["10.0.0.3"]})
    state.network_disconnect(joined, "b")
    expected = [
        {"name": "c", "static_ips": ["10.0.0.3"]},
        {"name": "a", "aliases": ["y", "x"]},
        {"name": "d", "interface_name": "eth3"},
    ]
    assert joined.config["orderedNetworks"] == expected
    assert reopen().get_container_config(joined.id)["orderedNetworks"] == expected
    # and the reverse: a config rewrite changes the live list
    config = dict(joined.config, orderedNetworks=[{"name": "z"}])
    state.rewrite_container_config(joined, config)
    assert state.get_networks(joined) == ["z"]


@sqlite_only
def test_connect_converts_new_networks(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """A ``newNetworks`` config becomes ``orderedNetworks`` (by name) on the first change and
    ``newNetworks`` is dropped (NEWEST sqi:604-608)."""
    ctr = make_container(1, networkMode="bridge", newNetworks={"b": {"aliases": ["x"]}, "a": {}})
    state.add_container(ctr)
    state.network_connect(ctr, "c")
    stored = state.get_container_config(ctr.id)
    assert "newNetworks" not in stored
    assert stored["orderedNetworks"] == [
        {"name": "a"},
        {"name": "b", "aliases": ["x"]},
        {"name": "c"},
    ]


@bolt_only
def test_bolt_config_is_left_alone(
    state: FileState, reopen: Callable[[], FileState], joined: Container
) -> None:
    """Under "bolt" the live list is its own document: the config keeps its 2020 keys."""
    config = dict(joined.config)
    state.network_connect(joined, "d", options=STATIC)
    state.network_disconnect(joined, "a")
    assert joined.config == config
    assert reopen().get_container_config(joined.id) == config


# ------------------------------------------------------------------------ disconnect


def test_disconnect(
    state: FileState, semantics: str, reopen: Callable[[], FileState], joined: Container
) -> None:
    """network_disconnect removes the network and its aliases, durably."""
    state.network_disconnect(joined, "a")
    every: dict[str, list[str]] = {} if semantics == "bolt" else {"b": []}
    for st in (state, reopen()):
        assert st.get_networks(joined) == in_order(semantics, ["c", "b"])
        assert st.get_all_network_aliases(joined) == {"c": [], **every}
        with pytest.raises(errors.NoAliasesError):
            st.get_network_aliases(joined, "a")


def test_disconnect_without_aliases(
    state: FileState, semantics: str, make_container: Callable[..., Container]
) -> None:
    """A container with networks but no aliases can be disconnected (Decision 9)."""
    ctr = make_container(1, **on_networks(semantics, [("a", None), ("b", None)]))
    state.add_container(ctr)
    state.network_disconnect(ctr, "a")
    assert state.get_networks(ctr) == ["b"]


def test_disconnect_last_network(state: FileState, joined: Container) -> None:
    """Disconnecting every network leaves an empty live set."""
    for net in ("a", "b", "c"):
        state.network_disconnect(joined, net)
    assert state.get_networks(joined) == []
    assert state.get_all_network_aliases(joined) == {}
    assert state.get_network_options(joined) == {}


def test_disconnect_not_joined(
    state: FileState, snapshot: Callable[[], dict[str, Any]], joined: Container
) -> None:
    """Disconnecting a network not joined → NoSuchNetworkError, nothing written."""
    before = snapshot()
    expect_exact(errors.NoSuchNetworkError, state.network_disconnect, joined, "zzz")
    assert snapshot() == before


def test_disconnect_without_live_set(
    state: FileState, snapshot: Callable[[], dict[str, Any]], bare: Container
) -> None:
    """Disconnecting a container that has no live network set → NoSuchNetworkError."""
    before = snapshot()
    expect_exact(errors.NoSuchNetworkError, state.network_disconnect, bare, "podman")
    assert snapshot() == before


def test_reconnect_after_disconnect(state: FileState, semantics: str, joined: Container) -> None:
    """A network left can be joined again, with new aliases; it goes last."""
    state.network_disconnect(joined, "a")
    state.network_connect(joined, "a", ["z"])
    assert state.get_network_aliases(joined, "a") == ["z"]
    assert networks(state, joined) == in_order(semantics, ["c", "b", "a"])


def test_listing_gives_each_containers_networks_in_its_one_pass(
    state: FileState,
    semantics: str,
    make_container: Callable[..., Container],
    bare: Container,
    joined: Container,
) -> None:
    """``all_containers(networks=…)`` gives, by ID, what get_networks gives each listed
    container, ``[]`` where that raises NoSuchNetworkError (no live set) or, under "sqlite",
    for a container not in bridge mode."""
    host = make_container(3, **{**on_networks(semantics, [("a", None)]), "networkMode": "host"})
    state.add_container(host)
    found: dict[str, list[str] | errors.CorruptDocumentError] = {}
    listed = state.all_containers(load_state=True, networks=found)
    assert [c.id for c in listed] == sorted([bare.id, joined.id, host.id])
    assert found == {
        bare.id: [],
        joined.id: in_order(semantics, ["c", "a", "b"]),
        host.id: ["a"] if semantics == "bolt" else [],
    }
    assert networks(state, bare) == ([] if semantics == "sqlite" else None)
    assert [found[c.id] for c in (joined, host)] == [
        state.get_networks(joined),
        networks(state, host),
    ]


def test_listing_cuts_each_config_to_its_view_after_reading_its_networks(
    state: FileState, semantics: str, joined: Container
) -> None:
    """``all_containers(view=…)`` replaces each listed config by the view of it, after the
    pass has read its networks from it ("sqlite": the config's list) and its state."""
    found: dict[str, list[str] | errors.CorruptDocumentError] = {}
    (listed,) = state.all_containers(
        load_state=True, networks=found, view=lambda c: {"id": c["id"], "name": c["name"]}
    )
    assert (listed.config, listed.state) == ({"id": joined.id, "name": joined.name}, joined.state)
    assert found == {joined.id: in_order(semantics, ["c", "a", "b"])}
    assert state.container(joined.id).config == joined.config  # the store keeps it whole
