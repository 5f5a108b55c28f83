"""``FileState.migrate`` and ``fsstate migrate``: a store from one semantics to the other, in
one commit (API.md "Today's Podman"; Podman's ``libpod/runtime_migrate.go`` ``migrateDB`` for
"bolt" → "sqlite": each container's live networks into its config by name, none for a
container not in ``bridge`` mode).

The stores are real file stores; ``fsstate.check`` must find nothing afterwards (the index
entries whose layout differs — pod names, namespaces — were moved), and every refused
migration must leave every file as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import container_id, new_container, new_pod, new_volume

import fsstate
from fsstate import ExecSession, FileState, cli, errors

STATIC: dict[str, Any] = {
    "static_ips": ["10.89.0.7"],
    "aliases": ["web"],
    "static_mac": "02:42:ac:11:00:07",
    "interface_name": "eth2",
    "options": {"mtu": "1400"},
}
WHEN = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def store(root: Path, semantics: str | None = None) -> FileState:
    return FileState(root / "static", root / "tmp", semantics=semantics)


def files(root: Path) -> dict[str, bytes]:
    """Every document and index file of the store (not the lock, journal or generation)."""
    top = root / "static" / "fsstate"
    skip = {"lock", "lock.queue", "journal", "generation"}
    return {
        str(p.relative_to(top)): p.read_bytes()
        for p in sorted(top.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def bolt_store(root: Path) -> FileState:
    """A "bolt" store: volume, pod with a member, a namespace, an exec session, an exit code,
    and containers whose networks were changed after creation."""
    st = store(root, "bolt")
    st.add_volume(new_volume("data"))
    pod = new_pod(1, name="pod1")
    st.add_pod(pod)
    st.add_container_to_pod(pod, new_container(5, pod=pod.id))
    web = new_container(
        1, networkMode="bridge", networks=["podman", "beta"], network_alises={"beta": ["b"]}
    )
    st.add_container(web)
    st.network_connect(web, "alpha", options=STATIC)
    st.network_disconnect(web, "podman")
    legacy = new_container(
        2, networkMode="bridge", newNetworks={"n2": {"interface_name": "eth1"}, "n1": {}}
    )
    st.add_container(legacy)
    st.add_container(new_container(3, networks=["podman"]))  # no networkMode: not bridge
    st.add_container(new_container(4, namespace="ns1"))
    st.add_exec_session(web, ExecSession("e" * 64, web.id))
    st.add_container_exit_code(container_id(9), 3, timestamp=WHEN)
    return st


def test_bolt_to_sqlite(tmp_path: Path) -> None:
    st = bolt_store(tmp_path)
    configs = {c.id: c.config for c in st.all_containers()}
    assert st.migrate("sqlite") is True
    assert st.semantics == "sqlite"
    again = store(tmp_path)
    assert again.semantics == "sqlite"
    web, legacy, host = (again.container(container_id(n)) for n in (1, 2, 3))
    # live list, by name (convertLegacyNetworks), into the config; newNetworks dropped
    assert web.config["orderedNetworks"] == [
        {"name": "alpha", **STATIC},
        {"name": "beta", "aliases": ["b"]},
    ]
    assert list(again.get_network_options(web).items()) == [
        ("alpha", STATIC),
        ("beta", {"aliases": ["b"]}),
    ]
    assert "newNetworks" not in legacy.config
    assert legacy.config["orderedNetworks"] == [
        {"name": "n1"},
        {"name": "n2", "interface_name": "eth1"},
    ]
    assert host.config == configs[host.id]  # not bridge: no networks, config untouched
    assert again.get_networks(host) == []
    assert not list((tmp_path / "static" / "fsstate").rglob("networks.json"))
    # everything else as it was
    for cid in (container_id(3), container_id(4), container_id(5)):
        assert again.container(cid).config == configs[cid]
    assert again.get_container_exec_sessions(web) == ["e" * 64]
    assert again.get_container_exit_code(container_id(9)) == 3
    assert again.volume_in_use(again.volume("data")) == []
    assert again.pod_containers_by_id(again.lookup_pod("pod1")) == [container_id(5)]
    # separate name registries now: a container may take the pod's name
    again.add_container(new_container(6, name="pod1"))
    assert again.lookup_container("pod1").id == container_id(6)
    assert again.lookup_pod("pod1").name == "pod1"
    assert fsstate.check(tmp_path / "static").clean


def sqlite_store(root: Path, *, clash: bool) -> FileState:
    st = store(root, "sqlite")
    pod = new_pod(1, name="same" if clash else "pod1")
    st.add_pod(pod)
    st.add_container(new_container(5, pod=pod.id, name="same"))
    ctr = new_container(
        1, networkMode="bridge", orderedNetworks=[{"name": "z", "aliases": ["a"]}, {"name": "y"}]
    )
    st.add_container(ctr)
    st.network_modify(ctr, "y", STATIC)
    st.add_container(new_container(2, networks=["podman"]))  # SEED key only
    return st


def test_sqlite_to_bolt_refused_on_a_name_clash(tmp_path: Path) -> None:
    st = sqlite_store(tmp_path, clash=True)
    before = files(tmp_path)
    with pytest.raises(errors.InvalidArgumentError) as exc:
        st.migrate("bolt")
    assert type(exc.value) is errors.InvalidArgumentError
    message = str(exc.value)
    assert f"name same (container {container_id(5)}, pod {'f1' * 16})" in message
    assert files(tmp_path) == before
    assert st.semantics == "sqlite" and store(tmp_path).semantics == "sqlite"


def test_sqlite_to_bolt(tmp_path: Path) -> None:
    st = sqlite_store(tmp_path, clash=False)
    configs = {c.id: c.config for c in st.all_containers()}
    assert st.migrate("bolt") is True
    again = store(tmp_path)
    assert again.semantics == "bolt"
    ctr = again.container(container_id(1))
    assert ctr.config == configs[ctr.id]  # "bolt" keeps the config as it is
    assert list(again.get_network_options(ctr).items()) == [
        ("z", {"aliases": ["a"]}),
        ("y", STATIC),
    ]
    assert again.get_networks(ctr) == ["y", "z"]  # the 2020 getter sorts
    assert again.get_networks(again.container(container_id(2))) == ["podman"]
    # one name registry again: the pod's name is taken for containers
    with pytest.raises(errors.PodExistsError):
        again.add_container(new_container(6, name="pod1"))
    assert fsstate.check(tmp_path / "static").clean


def test_round_trip_keeps_every_option(tmp_path: Path) -> None:
    st = bolt_store(tmp_path)
    web = st.container(container_id(1))
    before = st.get_network_options(web)
    st.migrate("sqlite")
    st.migrate("bolt")
    assert st.get_network_options(web) == before
    assert fsstate.check(tmp_path / "static").clean


def test_same_semantics_writes_nothing(tmp_path: Path) -> None:
    st = bolt_store(tmp_path)
    before = files(tmp_path)
    generation = (tmp_path / "static" / "fsstate" / "generation").read_bytes()
    assert st.migrate("bolt") is False
    assert files(tmp_path) == before
    assert (tmp_path / "static" / "fsstate" / "generation").read_bytes() == generation


def test_new_store_is_pinned(tmp_path: Path) -> None:
    st = store(tmp_path)
    assert st.migrate("sqlite") is False
    assert store(tmp_path).semantics == "sqlite"


def test_other_openers_follow(tmp_path: Path) -> None:
    """Another object opened without a semantics follows the new one at its next call; one
    opened with the old one is refused (DBConfigMismatchError), never writes by old rules."""
    st = bolt_store(tmp_path)
    follower, pinned = store(tmp_path), store(tmp_path, "bolt")
    assert follower.semantics == "bolt"
    st.migrate("sqlite")
    follower.add_container(new_container(6, name="pod1"))  # sqlite: no clash with the pod
    assert follower.semantics == "sqlite"
    before = files(tmp_path)
    with pytest.raises(errors.DBConfigMismatchError):
        pinned.add_container(new_container(7))
    assert files(tmp_path) == before


def test_a_lock_free_reader_follows_a_migration(tmp_path: Path) -> None:
    """A reader whose earlier reads ran lock-free (and so hold a warm cache) reads by the new
    rules at its next call after another opener migrates: the pin is checked on that path too."""
    st = bolt_store(tmp_path)
    web = st.container(container_id(1))
    reader = store(tmp_path)
    assert reader.get_networks(web) == st.get_networks(web)  # warm, lock-free
    assert reader.semantics == "bolt"
    st.migrate("sqlite")
    fresh = store(tmp_path)
    assert fresh.semantics == "sqlite"
    want = fresh.get_networks(fresh.container(web.id))
    assert reader.get_networks(reader.container(web.id)) == want
    assert reader.semantics == "sqlite"


def test_bad_calls(tmp_path: Path) -> None:
    st = bolt_store(tmp_path)
    before = files(tmp_path)
    with pytest.raises(errors.InvalidArgumentError):
        st.migrate("postgres")
    with st.transaction(), pytest.raises(errors.InvalidArgumentError):
        st.migrate("sqlite")
    assert files(tmp_path) == before
    st.close()
    with pytest.raises(errors.StateClosedError):
        st.migrate("sqlite")


def run_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--root", str(tmp_path / "static"), "--tmp", str(tmp_path / "tmp"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sqlite_store(tmp_path, clash=True).close()
    code, out, err = run_cli(capsys, tmp_path, "migrate", "--semantics", "bolt")
    assert (code, out) == (5, "")
    assert err.startswith("fsstate: ") and err.count("\n") == 1 and "name same" in err
    code, out, _ = run_cli(capsys, tmp_path, "migrate", "--semantics", "sqlite")
    assert code == 0 and "already follows sqlite" in out
    assert run_cli(capsys, tmp_path, "migrate")[0] == 2  # --semantics is required


def test_cli_migrates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bolt_store(tmp_path).close()
    code, out, _ = run_cli(capsys, tmp_path, "migrate", "--semantics", "sqlite")
    assert code == 0 and "from bolt to sqlite" in out
    assert store(tmp_path).semantics == "sqlite"
