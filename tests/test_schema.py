"""Tests of fsstate.state.schema and the JSON Schemas in schemas/."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from fsstate.errors import InvalidArgumentError
from fsstate.model import DBConfig
from fsstate.state import schema

DATA = Path(__file__).parent.parent / "examples" / "data" / "podman-json"
SCHEMAS = Path(__file__).parents[1] / "schemas"

# File-name suffix of the real documents -> schema kind.
KIND_OF_SUFFIX = {
    "ContainerConfig": "container-config",
    "ContainerState": "container-state",
    "PodConfig": "pod-config",
    "podState": "pod-state",
    "VolumeConfig": "volume-config",
    "VolumeState": "volume-state",
}
REAL = sorted(p for p in DATA.glob("*.json") if p.name.split(".")[-2] in KIND_OF_SUFFIX)

NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return doc


def pointers(found: list[str]) -> list[str]:
    return [problem.partition(": ")[0] for problem in found]


# Minimal valid documents of every kind.
MINIMAL: dict[str, Any] = {
    "container-config": {"id": "c1", "name": "web"},
    "container-state": {},
    "pod-config": {"id": "p1", "name": "pod"},
    "pod-state": {},
    "volume-config": {"name": "data"},
    "volume-state": {},
    "exec-session": {"id": "e1", "containerId": "c1"},
    "db-config": {},
    "networks": {},
    "exit-code": {"id": "c1", "exitCode": 0, "timestamp": 1700000000},
    "semantics": {"semantics": "sqlite"},
}

# A container config as the Nov 2020 (SEED) Podman wrote it: networks + network_alises,
# namespace, imageVolumes, staticIP and exitCommand, which later Podman dropped.
SEED_CONTAINER_CONFIG: dict[str, Any] = {
    "spec": {"ociVersion": "1.0.2-dev"},
    "id": "4f0c9a1d2e3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5",
    "name": "seed_ctr",
    "pod": "",
    "namespace": "ns1",
    "lockID": 3,
    "Dependencies": None,
    "namedVolumes": None,
    "imageVolumes": None,
    "netNsCtr": "",
    "createNetNS": True,
    "staticIP": "10.88.0.5",
    "networks": ["podman", "net2"],
    "network_alises": {"net2": ["db", "database"]},
    "networkMode": "bridge",
    "exitCommand": ["/usr/bin/podman", "container", "cleanup"],
}
SEED_CONTAINER_STATE: dict[str, Any] = {
    "state": 1,
    "startedTime": "0001-01-01T00:00:00Z",
    "finishedTime": "0001-01-01T00:00:00Z",
    "networkResults": [{"cniVersion": "0.4.0"}],
}
SEED_POD_CONFIG: dict[str, Any] = {
    "id": "9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
    "name": "seed_pod",
    "namespace": "ns1",
    "labels": {},
    "cgroupParent": "/libpod_parent",
    "infraConfig": {"makeInfraContainer": True, "infraPortBindings": None},
    "created": "2020-11-11T10:00:00.0+01:00",
    "lockID": 4,
}


# --- schema files ---------------------------------------------------------------------------


def test_one_schema_file_per_kind() -> None:
    """schemas/ holds exactly one <kind>.json per kind."""
    assert sorted(p.stem for p in SCHEMAS.glob("*.json")) == sorted(schema.KINDS)


@pytest.mark.parametrize("kind", schema.KINDS)
def test_schema_file_is_draft_2020_12_with_stable_id(kind: str) -> None:
    """Each schema is a valid draft 2020-12 schema with a stable $id."""
    doc = json.loads((SCHEMAS / f"{kind}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == f"https://fsstate.invalid/schemas/{kind}.json"


def test_db_config_schema_has_the_dbconfig_fields() -> None:
    """The db-config schema names exactly the fields of model.DBConfig."""
    doc = json.loads((SCHEMAS / "db-config.json").read_text(encoding="utf-8"))
    assert sorted(doc["properties"]) == sorted(DBConfig.field_names())
    assert schema.problems("db-config", {key: "" for key in DBConfig.field_names()}) == []


def test_validator_is_compiled_once() -> None:
    """The compiled validator of a kind is cached."""
    assert schema._validator("container-config") is schema._validator("container-config")


# --- real documents, both eras --------------------------------------------------------------


def test_every_real_document_is_found() -> None:
    """The copy of the real documents is complete (guards against an empty parametrization)."""
    assert len(REAL) == 32


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_document_validates(path: Path) -> None:
    """Every real Podman document passes the schema of its kind."""
    kind = KIND_OF_SUFFIX[path.name.split(".")[-2]]
    assert schema.problems(kind, load(path.name)) == []


@pytest.mark.parametrize(
    ("kind", "doc"),
    [
        ("container-config", SEED_CONTAINER_CONFIG),
        ("container-state", SEED_CONTAINER_STATE),
        ("pod-config", SEED_POD_CONFIG),
        ("pod-state", {"cgroupPath": "/libpod_parent/x", "InfraContainerID": ""}),
    ],
    ids=["container-config", "container-state", "pod-config", "pod-state"],
)
def test_seed_era_document_validates(kind: str, doc: dict[str, Any]) -> None:
    """Documents in the Nov 2020 layout pass."""
    assert schema.problems(kind, doc) == []


@pytest.mark.parametrize("kind", schema.KINDS)
def test_minimal_document_validates(kind: str) -> None:
    """The smallest valid document of each kind passes; state documents may be {}."""
    assert schema.problems(kind, MINIMAL[kind]) == []
    schema.validate(kind, MINIMAL[kind], what=kind)  # does not raise


# --- one wrong field, one problem -----------------------------------------------------------


def _with(base: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    target: Any = doc
    for token in path[:-1]:
        target = target[token]
    target[path[-1]] = value
    return doc


REDIS = load("sqlite-redis-running.ContainerConfig.json")
JENKINS_V6 = load("recon-v6-orderedNetworks.ContainerConfig.json")
EXEC_STATE = load("recon-quadlet-member-exec.ContainerState.json")
POD = load("recon-quadlet-pod.PodConfig.json")
POD_STATE = load("recon-quadlet-pod.podState.json")
VOLUME = load("recon-quadlet-volume-bind.VolumeConfig.json")
VOLUME_STATE = load("recon-quadlet-volume-bind.VolumeState.json")
NS_KEYS = ["ipcNsCtr", "mountNsCtr", "netNsCtr", "pidNsCtr", "userNsCtr", "utsNsCtr", "cgroupNsCtr"]

# (kind, base document, path of the value to replace, bad value, pointer of the one problem)
WRONG: list[tuple[str, dict[str, Any], tuple[str | int, ...], Any, str]] = [
    ("container-config", REDIS, ("id",), 5, "/id"),
    ("container-config", REDIS, ("name",), None, "/name"),
    ("container-config", REDIS, ("pod",), 1, "/pod"),
    ("container-config", REDIS, ("pod",), "../x", "/pod"),
    ("container-config", REDIS, ("namespace",), [], "/namespace"),
    ("container-config", REDIS, ("lockID",), "1", "/lockID"),
    ("container-config", REDIS, ("lockID",), -1, "/lockID"),
    ("container-config", REDIS, ("lockID",), 1.0, "/lockID"),
    ("container-config", REDIS, ("lockID",), True, "/lockID"),
    *[("container-config", REDIS, (key,), 0, f"/{key}") for key in NS_KEYS],
    *[("container-config", REDIS, (key,), "a/b", f"/{key}") for key in NS_KEYS],
    ("container-config", REDIS, ("Dependencies",), "c1", "/Dependencies"),
    ("container-config", REDIS, ("Dependencies",), ["c1", 7], "/Dependencies/1"),
    ("container-config", REDIS, ("Dependencies",), ["../c1"], "/Dependencies/0"),
    ("container-config", REDIS, ("namedVolumes",), {}, "/namedVolumes"),
    ("container-config", REDIS, ("namedVolumes", 0), "vol", "/namedVolumes/0"),
    ("container-config", REDIS, ("namedVolumes", 0, "volumeName"), 5, "/namedVolumes/0/volumeName"),
    ("container-config", REDIS, ("networks",), None, "/networks"),
    ("container-config", REDIS, ("networks",), ["podman", 1], "/networks/1"),
    ("container-config", REDIS, ("network_alises",), [], "/network_alises"),
    ("container-config", REDIS, ("network_alises",), {"n": "a"}, "/network_alises/n"),
    ("container-config", REDIS, ("network_alises",), {"n": [1]}, "/network_alises/n/0"),
    ("container-config", REDIS, ("newNetworks",), [], "/newNetworks"),
    ("container-config", REDIS, ("newNetworks",), {"n": None}, "/newNetworks/n"),
    (
        "container-config",
        REDIS,
        ("newNetworks",),
        {"n": {"aliases": "a"}},
        "/newNetworks/n/aliases",
    ),
    (
        "container-config",
        REDIS,
        ("newNetworks",),
        {"n": {"aliases": [1]}},
        "/newNetworks/n/aliases/0",
    ),
    ("container-config", JENKINS_V6, ("orderedNetworks",), {}, "/orderedNetworks"),
    ("container-config", JENKINS_V6, ("orderedNetworks", 0), "n", "/orderedNetworks/0"),
    ("container-config", JENKINS_V6, ("orderedNetworks", 0, "name"), 1, "/orderedNetworks/0/name"),
    ("container-config", JENKINS_V6, ("orderedNetworks", 0), {}, "/orderedNetworks/0"),
    (
        "container-config",
        JENKINS_V6,
        ("orderedNetworks", 0, "aliases", 0),
        2,
        "/orderedNetworks/0/aliases/0",
    ),
    ("container-config", REDIS, ("networkMode",), 1, "/networkMode"),
    ("container-state", EXEC_STATE, ("state",), "3", "/state"),
    ("container-state", EXEC_STATE, ("state",), 9, "/state"),
    ("container-state", EXEC_STATE, ("state",), -1, "/state"),
    ("container-state", EXEC_STATE, ("state",), 3.0, "/state"),
    ("container-state", EXEC_STATE, ("exitCode",), "0", "/exitCode"),
    ("container-state", EXEC_STATE, ("exitCode",), 1.5, "/exitCode"),
    ("container-state", EXEC_STATE, ("newExecSessions",), [], "/newExecSessions"),
    ("pod-config", POD, ("id",), 1, "/id"),
    ("pod-config", POD, ("name",), None, "/name"),
    ("pod-config", POD, ("namespace",), 1, "/namespace"),
    ("pod-config", POD, ("lockID",), -1, "/lockID"),
    ("pod-state", POD_STATE, ("cgroupPath",), None, "/cgroupPath"),
    ("pod-state", POD_STATE, ("InfraContainerID",), 1, "/InfraContainerID"),
    ("volume-config", VOLUME, ("name",), 1, "/name"),
    ("volume-config", VOLUME, ("storageID",), 1, "/storageID"),
    ("volume-config", VOLUME, ("lockID",), "10", "/lockID"),
    ("volume-state", VOLUME_STATE, ("mountCount",), -1, "/mountCount"),
    ("volume-state", VOLUME_STATE, ("mountCount",), "1", "/mountCount"),
    ("exec-session", MINIMAL["exec-session"], ("id",), 1, "/id"),
    ("exec-session", MINIMAL["exec-session"], ("containerId",), None, "/containerId"),
    *[("db-config", {}, (key,), 1, f"/{key}") for key in DBConfig.field_names()],
    ("networks", {"podman": None}, ("podman",), "a", "/podman"),
    ("networks", {"podman": None}, ("podman",), 1, "/podman"),
    ("networks", {"podman": None}, ("podman",), {"aliases": "a"}, "/podman/aliases"),
    ("networks", {"podman": None}, ("podman",), {"options": {"mtu": 1}}, "/podman/options/mtu"),
    ("networks", {"podman": None}, ("podman",), ["a", 1], "/podman/1"),
]


@pytest.mark.parametrize(
    ("kind", "base", "path", "value", "pointer"),
    WRONG,
    ids=[f"{kind}:{pointer}={value!r}" for kind, _, _, value, pointer in WRONG],
)
def test_wrong_value_gives_one_problem_at_its_pointer(
    kind: str, base: dict[str, Any], path: tuple[str | int, ...], value: Any, pointer: str
) -> None:
    """An interpreted key with a wrong type or value yields exactly one problem, at its pointer."""
    assert schema.problems(kind, base) == []
    assert pointers(schema.problems(kind, _with(base, path, value))) == [pointer]


def test_problem_text() -> None:
    """A problem reads "<json-pointer>: <message>"."""
    doc = _with(REDIS, ("namedVolumes", 0, "volumeName"), 5)
    assert schema.problems("container-config", doc) == [
        "/namedVolumes/0/volumeName: 5 is not of type 'string'"
    ]


@pytest.mark.parametrize("kind", schema.KINDS)
def test_non_object_document(kind: str) -> None:
    """A document that is not an object has one problem, at the root pointer "/"."""
    assert schema.problems(kind, []) == ["/: [] is not of type 'object'"]


@pytest.mark.parametrize(
    ("kind", "missing"),
    [
        ("container-config", ["id", "name"]),
        ("pod-config", ["id", "name"]),
        ("volume-config", ["name"]),
        ("exec-session", ["containerId", "id"]),
    ],
)
def test_required_keys(kind: str, missing: list[str]) -> None:
    """Each missing required key is one problem at the root."""
    assert schema.problems(kind, {}) == [f"/: {key!r} is a required property" for key in missing]


# --- several problems -----------------------------------------------------------------------


def test_every_problem_is_listed_in_pointer_order() -> None:
    """All problems are reported, sorted by pointer with array indices in numeric order."""
    deps = ["c0", 1, "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", 10]
    doc = copy.deepcopy(REDIS)
    del doc["name"]
    doc.update(lockID=-3, Dependencies=deps, pod="a/b")
    doc["namedVolumes"][0]["volumeName"] = None
    assert pointers(schema.problems("container-config", doc)) == [
        "/",
        "/Dependencies/1",
        "/Dependencies/10",
        "/lockID",
        "/namedVolumes/0/volumeName",
        "/pod",
    ]


def test_one_value_can_break_two_rules() -> None:
    """A too-long name that also has a bad character is reported twice at the same pointer."""
    found = schema.problems("volume-config", {"name": "a/" + "b" * 300})
    assert pointers(found) == ["/name", "/name"]


def test_long_values_are_shortened_in_messages() -> None:
    """A message does not quote a huge offending value in full."""
    (problem,) = schema.problems(
        "container-config", {"id": "a", "name": "b", "networks": "x" * 9999}
    )
    assert problem.startswith("/networks: 'xxx")
    assert problem.endswith(" ... is not of type 'array'")
    assert len(problem) < 150


def test_pointer_tokens_are_escaped() -> None:
    """Slash and tilde in a key are escaped as RFC 6901 says."""
    assert pointers(schema.problems("networks", {"a/b~c": 1})) == ["/a~1b~0c"]


# --- names ----------------------------------------------------------------------------------

NAME_KEYS = [
    ("container-config", "id"),
    ("container-config", "name"),
    ("pod-config", "id"),
    ("pod-config", "name"),
    ("volume-config", "name"),
    ("exec-session", "id"),
    ("exec-session", "containerId"),
]
BAD_NAMES = ["..", ".", "a/b", "/abs", "", "x" * 256, "a\x00b", "abc\n", "-x", "_x", "a b", "ü"]
GOOD_NAMES = ["a", "0", "A.b-c_d", "x" * 255, "d9cb6dbb0...."]


@pytest.mark.parametrize(("kind", "key"), NAME_KEYS)
@pytest.mark.parametrize("bad", BAD_NAMES, ids=repr)
def test_bad_name_is_rejected(kind: str, key: str, bad: str) -> None:
    """A name or ID that could escape or confuse a directory is one problem at its pointer."""
    assert pointers(schema.problems(kind, _with(MINIMAL[kind], (key,), bad))) == [f"/{key}"]


@pytest.mark.parametrize(("kind", "key"), NAME_KEYS)
@pytest.mark.parametrize("good", GOOD_NAMES, ids=repr)
def test_good_name_is_accepted(kind: str, key: str, good: str) -> None:
    """Names of 1..255 allowed characters pass, including Podman 1.x's truncated IDs."""
    assert schema.problems(kind, _with(MINIMAL[kind], (key,), good)) == []


@pytest.mark.parametrize("key", ["pod", *NS_KEYS])
def test_reference_may_be_empty(key: str) -> None:
    """pod and the *NsCtr keys accept "" (none), as Go writes it."""
    assert schema.problems("container-config", _with(MINIMAL["container-config"], (key,), "")) == []


# Plain text rarely hits the edge cases, so half the examples use name characters plus traps.
NAMEISH = st.text(alphabet="aZ09_.-/~\n\x00 é", max_size=300)


@given(st.one_of(st.text(max_size=300), NAMEISH))
@example("abc\n")
@example("x" * 255)
@example("x" * 256)
def test_name_rule_matches_the_documented_pattern(text: str) -> None:
    """A name passes exactly when it fully matches the pattern and has at most 255 characters."""
    ok = NAME_RE.fullmatch(text) is not None and len(text) <= 255
    assert (schema.problems("volume-config", {"name": text}) == []) == ok


# --- unknown keys ---------------------------------------------------------------------------

UNKNOWN = {"futureKey": {"nested": [1, None, {"x": True}]}, "anotherOne": 1.5}


@pytest.mark.parametrize(
    "kind",
    [
        k
        for k in schema.KINDS
        # fsstate's own documents, not Podman's: closed
        if k not in ("exec-session", "db-config", "networks", "exit-code", "semantics")
    ],
)
def test_unknown_keys_are_accepted(kind: str) -> None:
    """Podman documents may carry keys fsstate does not know; they pass untouched."""
    doc = {**MINIMAL[kind], **UNKNOWN}
    assert schema.problems(kind, doc) == []


def test_unknown_keys_inside_interpreted_objects_are_accepted() -> None:
    """Unknown keys nested in namedVolumes / newNetworks / orderedNetworks entries pass."""
    doc = {
        **MINIMAL["container-config"],
        "namedVolumes": [{"volumeName": "v", "futureKey": 1}],
        "newNetworks": {"n": {"aliases": ["a"], "futureKey": 1}},
        "orderedNetworks": [{"name": "n", "futureKey": 1}],
    }
    assert schema.problems("container-config", doc) == []


@pytest.mark.parametrize("kind", ["exec-session", "db-config"])
def test_fsstate_records_reject_unknown_keys(kind: str) -> None:
    """fsstate's own records are closed: an unknown key is one problem at the root."""
    found = schema.problems(kind, {**MINIMAL[kind], "extra": 1})
    assert found == ["/: Additional properties are not allowed ('extra' was unexpected)"]


def test_networks_document() -> None:
    """Network names map to an alias list or null; an empty network name is rejected."""
    assert schema.problems("networks", {"podman": None, "lab": ["web", "w"], "x": []}) == []
    assert schema.problems("networks", {"": None}) == ["/: '' should be non-empty"]


# --- validate -------------------------------------------------------------------------------


def test_validate_raises_invalid_argument_with_every_problem() -> None:
    """validate raises exactly InvalidArgumentError, naming `what` and listing every problem."""
    doc = {"id": "a/b", "lockID": "7"}
    with pytest.raises(InvalidArgumentError) as info:
        schema.validate("container-config", doc, what="container abc config")
    error = info.value
    assert type(error) is InvalidArgumentError
    assert error.problems == schema.problems("container-config", doc)
    assert pointers(error.problems) == ["/", "/id", "/lockID"]
    assert error.what == "container abc config"
    assert str(error).startswith("container abc config ")
    assert "; ".join(error.problems) in str(error)


@pytest.mark.parametrize("call", [schema.problems, schema.validate])
def test_unknown_kind_is_a_key_error(call: Any) -> None:
    """An unknown kind raises KeyError."""
    kwargs = {"what": "x"} if call is schema.validate else {}
    with pytest.raises(KeyError) as info:
        call("container", {}, **kwargs)
    assert type(info.value) is KeyError


# --- the compiled fast path of writes agrees with jsonschema --------------------------------


def _keywords(sub: Any, out: set[str]) -> set[str]:
    """Every keyword used in a schema (the keys of schema objects, not of ``properties``)."""
    if isinstance(sub, dict):
        for key, value in sub.items():
            out.add(key)
            children = value.values() if key in ("properties", "$defs") else [value]
            for child in children:
                _keywords(child, out)
    elif isinstance(sub, list):
        for item in sub:
            _keywords(item, out)
    return out


@pytest.mark.parametrize("kind", schema.KINDS)
def test_schemas_use_only_keywords_the_fast_path_compiles(kind: str) -> None:
    """A keyword outside the list would be compiled by draft-07 rules, or not at all."""
    used = _keywords(schema.document(kind), set())
    used -= {"required"}  # a list of names, not a keyword with a schema below it
    assert used <= schema.FAST_KEYWORDS


FAST_CASES: list[tuple[str, Any]] = [
    *[(KIND_OF_SUFFIX[p.name.split(".")[-2]], load(p.name)) for p in REAL],
    *MINIMAL.items(),
    *[(kind, _with(base, path, value)) for kind, base, path, value, _ in WRONG],
    *[(kind, dict(MINIMAL[kind], **{key: bad})) for kind, key in NAME_KEYS for bad in BAD_NAMES],
    *[(kind, dict(MINIMAL[kind], **{key: ok})) for kind, key in NAME_KEYS for ok in GOOD_NAMES],
    ("container-config", _with(JENKINS_V6, ("orderedNetworks", 0), {"aliases": []})),
    ("container-config", {"id": "c1", "name": "web", "lockID": 2**70}),
    ("container-state", {"state": True}),
    ("container-config", []),
    ("networks", {"": None}),
]


@pytest.mark.parametrize(("kind", "doc"), FAST_CASES)
def test_fast_path_agrees_with_jsonschema(kind: str, doc: Any) -> None:
    """is_valid (the compiled check of writes) is True exactly when jsonschema finds nothing,
    for every document of this file: real ones, wrong values, bad and good names."""
    assert schema.is_valid(kind, doc) is (schema.problems(kind, doc) == [])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@given(
    kind_doc=st.sampled_from([(k, d) for k, d in FAST_CASES if isinstance(d, dict) and d]),
    value=JSON_VALUES,
    data=st.data(),
)
def test_fast_path_agrees_on_any_value_at_any_key(
    kind_doc: tuple[str, dict[str, Any]], value: Any, data: st.DataObject
) -> None:
    """Any JSON value put at any top-level key of a document: the two checks agree."""
    kind, base = kind_doc
    key = data.draw(st.sampled_from(sorted(base)))
    doc = dict(base, **{key: value})
    assert schema.is_valid(kind, doc) is (schema.problems(kind, doc) == [])
