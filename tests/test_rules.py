"""Tests for fsstate.state.rules: Podman's rules that are pure data transformations."""

from __future__ import annotations

from typing import Any

import pytest

from fsstate import errors
from fsstate.model import DBConfig
from fsstate.state import rules
from fsstate.status import ContainerStatus as S

CID = "c" * 32
ZERO = "0001-01-01T00:00:00Z"


# -- initial networks (spec/podman-state.md §2.8, API.md Decision 8) ---------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, None),
        ({"networks": ["a", "b"], "network_alises": {"b": ["x"]}}, {"a": None, "b": ["x"]}),
        ({"networks": None, "network_alises": {}}, None),
        ({"networks": [], "network_alises": {}}, {}),
        # Podman 4+ keys: each network's whole PerNetworkOptions; newNetworks by name.
        (
            {"newNetworks": {"n2": {"interface_name": "eth1"}, "n1": {"aliases": ["web"]}}},
            {"n1": {"aliases": ["web"]}, "n2": {"interface_name": "eth1"}},
        ),
        (
            {"orderedNetworks": [{"name": "o2", "aliases": ["a"]}, {"name": "o1"}]},
            {"o2": {"aliases": ["a"]}, "o1": {}},
        ),
        # orderedNetworks wins over newNetworks (NEWEST sq:929); SEED keys over both.
        ({"orderedNetworks": [{"name": "o"}], "newNetworks": {"n": {}}}, {"o": {}}),
        ({"networks": ["a"], "newNetworks": {"n": {}}}, {"a": None}),
    ],
)
def test_initial_networks(config: dict[str, Any], expected: rules.Networks | None) -> None:
    got = rules.initial_networks(CID, config)
    assert got == expected
    assert list(got or {}) == list(expected or {})  # in setup order


def test_an_alias_for_a_network_not_joined_is_no_such_network() -> None:
    with pytest.raises(errors.NoSuchNetworkError) as exc:
        rules.initial_networks(CID, {"networks": ["a"], "network_alises": {"b": ["x"]}})
    assert (exc.value.id, exc.value.network) == (CID, "b")


@pytest.mark.parametrize(
    "config",
    [{"networks": ["a", ""]}, {"newNetworks": {"": {}}}, {"orderedNetworks": [{"name": ""}]}],
)
def test_an_empty_network_name_is_invalid(config: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidArgumentError) as exc:
        rules.initial_networks(CID, config)
    assert exc.value.id == CID


def test_seed_networks_falls_back_to_the_default_network() -> None:
    assert rules.seed_networks({"networks": ["a", "", 3, "b"]}) == {"a": None, "b": None}
    assert rules.seed_networks({}) == {rules.DEFAULT_NETWORK: None}
    assert rules.DEFAULT_NETWORK == "podman"


# -- refresh (§2.9, NEWEST) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (S.UNKNOWN, S.CONFIGURED),
        (S.CONFIGURED, S.CONFIGURED),
        (S.CREATED, S.CONFIGURED),
        (S.RUNNING, S.EXITED),
        (S.STOPPED, S.EXITED),
        (S.PAUSED, S.EXITED),
        (S.EXITED, S.EXITED),
        (S.STOPPING, S.EXITED),
        (S.REMOVING, S.REMOVING),
    ],
)
def test_reset_container_state_maps_every_status(before: S, after: S) -> None:
    out = rules.reset_container_state({"state": before.value})
    assert out == {"state": after.value}
    assert type(out["state"]) is int  # stored as a plain JSON number


@pytest.mark.parametrize("odd", [99, -1, "running", None, 2.5])
def test_reset_container_state_makes_anything_else_configured(odd: object) -> None:
    assert rules.reset_container_state({"state": odd}) == {"state": 1}


def test_reset_container_state_drops_runtime_fields_and_zeroes_times() -> None:
    state = {
        "state": 3,
        "pid": 42,
        "conmonPid": 41,
        "mountPoint": "/m",
        "netns": "/run/netns/x",
        "execSessions": {"s": {}},
        "checkpointedTime": "2024-01-01T00:00:00Z",
        "restoredTime": "2024-01-02T00:00:00Z",
        "exitCode": 0,
        "stoppedByUser": True,
        "custom": {"kept": 1},
    }
    assert rules.reset_container_state(state) == {
        "state": 6,
        "checkpointedTime": ZERO,
        "restoredTime": ZERO,
        "exitCode": 0,
        "stoppedByUser": True,
        "custom": {"kept": 1},
    }
    assert state["pid"] == 42  # the argument is not changed
    assert rules.reset_container_state({}) == {}  # no state key: none added


def test_reset_pod_and_volume_state() -> None:
    assert rules.reset_pod_state({"cgroupPath": "/x", "InfraContainerID": "i"}) == {
        "cgroupPath": "",
        "InfraContainerID": "i",
    }
    assert rules.reset_volume_state(
        {"mountCount": 3, "mountPoint": "/m", "copiedUp": True, "needsChown": True}
    ) == {"mountCount": 0, "needsChown": True}


# -- DB config (§2.10) --------------------------------------------------------------------------


def db_config(**overrides: str) -> DBConfig:
    values = {name: f"/{name}" for name in DBConfig.field_names()}
    values.update(overrides)
    return DBConfig(**values)


def test_normalize_cleans_the_four_paths_only() -> None:
    config = db_config(libpod_root="/a/b/../c/", storage_tmp="", graph_driver="overlay//x/")
    out = rules.normalize_db_config(config)
    assert out["libpod_root"] == "/a/c"
    assert out["storage_tmp"] == "."  # Go's filepath.Clean("") is "."
    assert out["graph_driver"] == "overlay//x/"  # not a path: compared as it is
    assert tuple(out) == DBConfig.field_names()


def test_normalize_refuses_a_non_string() -> None:
    config = db_config()
    object.__setattr__(config, "volume_path", 7)
    with pytest.raises(errors.InvalidArgumentError) as exc:
        rules.normalize_db_config(config)
    assert exc.value.field == "volume_path"


def test_compare_names_the_differing_pinned_fields() -> None:
    runtime = {"libpod_root": "/a", "libpod_tmp": "/t", "graph_driver": "overlay"}
    pinned = {"libpod_root": "/a", "libpod_tmp": "/other"}
    assert rules.compare_db_config(pinned, runtime) == ["libpod_tmp"]
    assert rules.compare_db_config({}, runtime) == []
