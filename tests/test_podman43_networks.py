"""A real Podman 4.3 state: every network and alias in it reads back as Podman shows it.

Data: ``tests/data/podman43/`` (see its README): the Bolt state (``networks`` sub-buckets of
PerNetworkOptions JSON, aliases, a static IP, a static MAC, connects and a disconnect after
creation), and ``podman inspect`` of all 37 containers by the same Podman. Podman's inspect
shows a container's networks and aliases under ``NetworkSettings.Networks``; a container that
shares another's network namespace (``c-netns``, pod members) shows its owner's, and a
``host``/``none`` container none. Static IPs and MACs are shown only in ``Config.CreateCommand``
(``--network net:ip=…``, ``--mac-address``). Each is checked in a "bolt" store (the Bolt file
imported) and a "sqlite" one (exported to ``db.sql`` and imported again).
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from fsstate import FileState, errors, podman

DATA = Path(__file__).parent / "data" / "podman43"


@pytest.fixture(scope="module")
def inspect() -> dict[str, dict[str, Any]]:
    """Container ID → Podman's inspect of it."""
    raw = gzip.decompress((DATA / "varied_inspect_containers.json.gz").read_bytes())
    return {c["Id"]: c for c in json.loads(raw)}


@pytest.fixture(scope="module", params=["bolt", "sqlite"])
def state(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> FileState:
    tmp = tmp_path_factory.mktemp("podman43net")
    bolt = tmp / "bolt_state.db"
    bolt.write_bytes(gzip.decompress((DATA / "varied_bolt_state.db.gz").read_bytes()))
    st = FileState(tmp / "bolt" / "static", tmp / "bolt" / "tmp")
    podman.import_bolt(bolt, st)
    assert st.semantics == "bolt"
    if request.param == "sqlite":
        podman.export_db(st, tmp / "db.sql")
        st = FileState(tmp / "sqlite" / "static", tmp / "sqlite" / "tmp")
        podman.import_db(tmp / "db.sql", st)
        assert st.semantics == "sqlite"
    return st


def shown_networks(ctr: dict[str, Any]) -> dict[str, list[str]]:
    """Network → aliases, as Podman's inspect shows them."""
    networks = ctr["NetworkSettings"].get("Networks") or {}
    return {name: net["Aliases"] or [] for name, net in networks.items()}


def test_every_network_and_alias_as_podman_shows_it(
    state: FileState, inspect: dict[str, dict[str, Any]]
) -> None:
    checked = 0
    for cid, shown in inspect.items():
        ctr = state.container(cid)
        owner = state.container(ctr.config.get("netNsCtr") or cid)  # inspect shows the owner's
        opts = state.get_network_options(owner)
        assert {n: o.get("aliases", []) for n, o in opts.items()} == shown_networks(shown), shown[
            "Name"
        ]
        assert state.get_all_network_aliases(owner) == {
            n: sorted(a) for n, a in shown_networks(shown).items()
        }
        checked += 1
    assert checked == 37


def test_shared_host_and_none_containers_have_no_networks(
    state: FileState, inspect: dict[str, dict[str, Any]]
) -> None:
    """Podman 4.3's GetNetworks gives these nothing, no error (boltdb_state.go:1073-1076)."""
    names = {c["Name"]: cid for cid, c in inspect.items()}
    quiet = ["c-netns", "p1-a", "p1-b", "p2-a", "c-host", "c-none"]
    for name in quiet:
        ctr = state.container(names[name])
        assert state.get_network_options(ctr) == {}
        assert state.get_all_network_aliases(ctr) == {}
        if state.semantics == "sqlite":
            assert state.get_networks(ctr) == []
        else:  # the 2020 GetNetworks: a container without a live list
            with pytest.raises(errors.NoSuchNetworkError):
                state.get_networks(ctr)
    assert {n: shown_networks(inspect[names[n]]) for n in ("c-host", "c-none")} == {
        "c-host": {},
        "c-none": {},
    }


def create_flags(ctr: dict[str, Any]) -> tuple[dict[str, list[str]], str | None]:
    """Static IPs per network and the static MAC given on Podman's command line."""
    args = ctr["Config"]["CreateCommand"]
    ips: dict[str, list[str]] = {}
    mac = None
    for flag, value in itertools.pairwise(args):
        if flag == "--network" and ":" in value:
            net, _, opts = value.partition(":")
            found = [o.removeprefix("ip=") for o in opts.split(",") if o.startswith("ip=")]
            if found:
                ips[net] = found
        if flag == "--mac-address":
            mac = value
    return ips, mac


def test_static_ips_and_macs_as_podman_was_told(
    state: FileState, inspect: dict[str, dict[str, Any]]
) -> None:
    seen = 0
    for cid, shown in inspect.items():
        ips, mac = create_flags(shown)
        opts = state.get_network_options(state.container(cid))
        for net, want in ips.items():
            assert opts[net]["static_ips"] == want
            seen += 1
        if mac is not None:
            assert [o.get("static_mac") for o in opts.values()] == [mac]
            seen += 1
        unset = [n for n, o in opts.items() if "static_ips" in o and n not in ips]
        assert unset == [], shown["Name"]
    assert seen == 2  # c-net12's IP on net2, c-net3's MAC


def test_setup_order_is_interface_order(state: FileState) -> None:
    """c-net1 joined net1 at create, then net2 and net3 by ``network connect``: eth0, eth1,
    eth2; the list (Bolt's bucket, sorted by name) is in that order too."""
    ctr = state.lookup_container("c-net1")
    opts = state.get_network_options(ctr)
    assert [(n, o["interface_name"]) for n, o in opts.items()] == [
        ("net1", "eth0"),
        ("net2", "eth1"),
        ("net3", "eth2"),
    ]
