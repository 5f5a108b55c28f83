"""Podman's own newest ``libpod/state_test.go``, re-expressed in Python and run with
``semantics="sqlite"`` on both storages.

Source: containers/podman at commit ``c6580b4a5219c9efb9ab79a540637d8a58b736f8`` (2026-05-19),
``libpod/state_test.go`` (137 ``Test*`` functions, run there against the SQLite state only) and its
fixtures in ``libpod/common_test.go``. Each Go test is one Python test of the same name in
snake case, in the same order; each docstring gives the Go test's line.

How the Go maps to Python:

* ``getTestCtrN(n)`` is :func:`ctr` (ID ``n*32``, name ``"test"+n``, Running, two exec sessions,
  bind mounts, port mappings, DNS servers); ``getTestPodN(n)`` is :func:`pod` — the same ID and
  name as container ``n``, as in Podman (``"sqlite"`` keeps pod names apart, the IDs in one
  registry).
* A Go zero-value object (``&Container{config: &ContainerConfig{ID: "1234"}}``, ``&Pod{}``)
  is an object with ``valid = False``.
* ``AllContainers(false)`` is ``all_containers(False)``.
* ``testContainersEqual(got, want, true)`` compares configs and wants an empty state;
  ``testPodsEqual`` likewise.
* Where Go asserts only ``assert.Error``, the Python test names the exact class NEWEST raises
  (its sentinel, or the Appendix A class where NEWEST returns a raw SQL error: a duplicate ID is
  :class:`ContainerExistsError` / :class:`PodExistsError`).

Skipped: none. Every one of the 137 cases concerns this API. Two deviations, both stricter than
the Go source: ``TestLookupPodByName`` compares the pod found with itself (a slip in Podman's
test); the port compares it with the pod added. ``TestRemoveVolumeNotInDB`` builds a volume
named ``"Test"``; the port uses that name unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fsstate import Container, FileState, Pod, Volume, errors

pytestmark = pytest.mark.semantics("sqlite")

CREATED = "2026-05-19T20:58:03.000000000Z"


def test_container(cid: str, name: str, lock_id: int = 0) -> Container:
    """``getTestContainer`` (common_test.go:21)."""
    config: dict[str, Any] = {
        "spec": {"ociVersion": "1.2.1", "process": {"cwd": "/"}, "root": {"path": "rootfs"}},
        "id": cid,
        "name": name,
        "lockID": lock_id,
        "rootfsImageID": cid,
        "rootfsImageName": "testimg",
        "staticDir": "/does/not/exist/",
        "mounts": ["/does/not/exist"],
        "logPath": "/does/not/exist/",
        "stdin": True,
        "labels": {"a": "b", "c": "d", "test": "testing"},
        "stopSignal": 0,
        "stopTimeout": 0,
        "createdTime": CREATED,
        "privileged": True,
        "dnsServer": ["192.168.1.1", "192.168.2.2"],
        "dnsSearch": ["example.com", "example.example.com"],
        "newPortMappings": [
            {
                "host_ip": "192.168.3.3",
                "container_port": 90,
                "host_port": 80,
                "range": 1,
                "protocol": "tcp",
            },
            {
                "host_ip": "192.168.4.4",
                "container_port": 110,
                "host_port": 100,
                "range": 1,
                "protocol": "udp",
            },
        ],
    }
    state = {
        "state": 3,  # define.ContainerStateRunning
        "configPath": f"/does/not/exist/specs/{cid}",
        "runDir": "/does/not/exist/tmp/",
        "mounted": True,
        "mountPoint": f"/does/not/exist/tmp/{cid}",
        "pid": 1234,
        "execSessions": {"abcd": {"id": "1", "pid": 9876}, "ef01": {"id": "5", "pid": 46765}},
        "bindMounts": {"/1/2/3": "/4/5/6", "/test/file.test": "/test2/file2.test"},
    }
    return Container(config, state)


def test_pod(pid: str, name: str, lock_id: int = 0) -> Pod:
    """``getTestPod`` (common_test.go:105)."""
    config = {
        "id": pid,
        "name": name,
        "labels": {"a": "b", "c": "d"},
        "cgroupParent": "/hello/world/cgroup/parent",
        "lockID": lock_id,
    }
    return Pod(config, {"cgroupPath": "/path/to/cgroups/hello/"})


# The fixtures' names start with "test_" as Podman's do; they are not tests.
test_container.__test__ = False  # type: ignore[attr-defined]
test_pod.__test__ = False  # type: ignore[attr-defined]


def ctr(n: str) -> Container:
    """``getTestCtrN`` (common_test.go:128)."""
    return test_container(n * 32, f"test{n}", lock_id=int(n, 16))


def pod(n: str) -> Pod:
    """``getTestPodN`` (common_test.go:140)."""
    return test_pod(n * 32, f"test{n}", lock_id=100 + int(n, 16))


def member(n: str, of: Pod, **config: Any) -> Container:
    """Container ``n`` with ``config.Pod`` set (and other config keys)."""
    c = ctr(n)
    c.config.update(pod=of.id, **config)
    return c


def with_config(c: Container, **config: Any) -> Container:
    c.config.update(config)
    return c


def invalid_ctr() -> Container:
    """``&Container{config: &ContainerConfig{ID: "1234"}}``: not valid."""
    c = Container({"id": "1234", "name": ""})
    c.valid = False
    return c


def invalid_pod() -> Pod:
    """``&Pod{config: &PodConfig{}}``: not valid."""
    p = Pod({"id": "", "name": ""})
    p.valid = False
    return p


def same_container(got: Container, want: Container, allowed_empty: bool = True) -> None:
    """``testContainersEqual`` (common_test.go:152): same config; with ``allowed_empty`` the
    stored object came back without its state."""
    assert got.config == want.config
    assert got.state == ({} if allowed_empty else want.state)


def same_pod(got: Pod, want: Pod, allowed_empty: bool = True) -> None:
    """``testPodsEqual`` (common_test.go:200)."""
    assert got.config == want.config
    assert got.state == ({} if allowed_empty else want.state)


def raises(cls: type[Exception], call: Any, *args: Any) -> None:
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls, f"{type(exc.value).__name__}: {exc.value}"


# ------------------------------------------------------------------------------ containers


def test_add_and_get_container(state: FileState) -> None:
    """state_test.go:57."""
    c = ctr("1")
    state.add_container(c)
    same_container(state.container(c.id), c)


def test_add_and_get_container_from_multiple(state: FileState) -> None:
    """state_test.go:72."""
    c1, c2 = ctr("1"), ctr("2")
    state.add_container(c1)
    state.add_container(c2)
    same_container(state.container(c1.id), c1)


def test_get_container_pod_same_id_fails(state: FileState) -> None:
    """state_test.go:92."""
    p = pod("1")
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.container, p.id)


def test_add_invalid_container_fails(state: FileState) -> None:
    """state_test.go:105."""
    raises(errors.ContainerRemovedError, state.add_container, invalid_ctr())


def test_add_duplicate_ctr_id_fails(state: FileState) -> None:
    """state_test.go:112."""
    c1 = ctr("1")
    c2 = test_container(c1.id, "test2")
    state.add_container(c1)
    raises(errors.ContainerExistsError, state.add_container, c2)
    assert len(state.all_containers(False)) == 1


def test_add_duplicate_ctr_name_fails(state: FileState) -> None:
    """state_test.go:131."""
    c1 = ctr("1")
    c2 = test_container("2" * 32, c1.name)
    state.add_container(c1)
    raises(errors.ContainerExistsError, state.add_container, c2)
    assert len(state.all_containers(False)) == 1


def test_add_ctr_pod_dup_id_fails(state: FileState) -> None:
    """state_test.go:150."""
    p = pod("1")
    c = test_container(p.id, "testCtr")
    state.add_pod(p)
    raises(errors.PodExistsError, state.add_container, c)
    assert len(state.all_containers(False)) == 0


def test_add_ctr_dep_in_pod_fails(state: FileState) -> None:
    """state_test.go:169."""
    p = pod("1")
    c1 = member("2", p)
    c2 = with_config(ctr("3"), userNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    raises(errors.InvalidArgumentError, state.add_container, c2)
    ctrs = state.all_containers(False)
    assert len(ctrs) == 1
    same_container(ctrs[0], c1)


def test_get_nonexistent_container_fails(state: FileState) -> None:
    """state_test.go:201."""
    raises(errors.NoSuchContainerError, state.container, "does not exist")


def test_get_container_with_empty_id_fails(state: FileState) -> None:
    """state_test.go:208."""
    raises(errors.EmptyIDError, state.container, "")


def test_lookup_container_with_empty_id_fails(state: FileState) -> None:
    """state_test.go:215."""
    raises(errors.EmptyIDError, state.lookup_container, "")
    raises(errors.EmptyIDError, state.lookup_container_id, "")


def test_lookup_nonexistent_container_fails(state: FileState) -> None:
    """state_test.go:225."""
    raises(errors.NoSuchContainerError, state.lookup_container, "does not exist")
    raises(errors.NoSuchContainerError, state.lookup_container_id, "does not exist")


def test_lookup_container_by_full_id(state: FileState) -> None:
    """state_test.go:235."""
    c = ctr("1")
    state.add_container(c)
    same_container(state.lookup_container(c.id), c)
    assert state.lookup_container_id(c.id) == c.id


def test_lookup_container_by_unique_partial_id(state: FileState) -> None:
    """state_test.go:253."""
    c = ctr("1")
    state.add_container(c)
    same_container(state.lookup_container(c.id[:8]), c)
    assert state.lookup_container_id(c.id[:8]) == c.id


def test_lookup_container_by_non_unique_partial_id_fails(state: FileState) -> None:
    """state_test.go:271."""
    c1 = test_container("0" * 32, "test1")
    c2 = test_container("0" * 31 + "1", "test2")
    state.add_container(c1)
    state.add_container(c2)
    raises(errors.ContainerExistsError, state.lookup_container, c1.id[:8])
    raises(errors.ContainerExistsError, state.lookup_container_id, c1.id[:8])


def test_lookup_container_by_name(state: FileState) -> None:
    """state_test.go:292."""
    c = ctr("1")
    state.add_container(c)
    same_container(state.lookup_container(c.name), c)
    assert state.lookup_container_id(c.name) == c.id


def test_lookup_ctr_by_pod_name_fails(state: FileState) -> None:
    """state_test.go:310."""
    p = pod("1")
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.lookup_container, p.name)
    raises(errors.NoSuchContainerError, state.lookup_container_id, p.name)


def test_lookup_ctr_by_pod_id_fails(state: FileState) -> None:
    """state_test.go:326."""
    p = pod("1")
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.lookup_container, p.id)
    raises(errors.NoSuchContainerError, state.lookup_container_id, p.id)


def test_has_container_empty_id_fails(state: FileState) -> None:
    """state_test.go:342."""
    raises(errors.EmptyIDError, state.has_container, "")


def test_has_container_no_such_container_returns_false(state: FileState) -> None:
    """state_test.go:349."""
    assert state.has_container("does not exist") is False


def test_has_container_finds_container(state: FileState) -> None:
    """state_test.go:357."""
    c = ctr("1")
    state.add_container(c)
    assert state.has_container(c.id) is True


def test_has_container_pod_id_is_false(state: FileState) -> None:
    """state_test.go:371."""
    p = pod("1")
    state.add_pod(p)
    assert state.has_container(p.id) is False


def test_save_and_update_container(state: FileState) -> None:
    """state_test.go:385."""
    c = ctr("1")
    state.add_container(c)
    got = state.container(c.id)
    got.state = copy.deepcopy(c.state)
    got.state.update(state=4, exitCode=127, finishedTime="2026-05-19T21:00:00Z")  # Stopped
    state.save_container(got)
    state.update_container(c)
    same_container(c, got, allowed_empty=False)


def test_update_container_not_in_database_returns_error(state: FileState) -> None:
    """state_test.go:410."""
    c = ctr("1")
    raises(errors.NoSuchContainerError, state.update_container, c)
    assert c.valid is False


def test_update_invalid_container_returns_error(state: FileState) -> None:
    """state_test.go:421."""
    raises(errors.ContainerRemovedError, state.update_container, invalid_ctr())


def test_save_invalid_container_returns_error(state: FileState) -> None:
    """state_test.go:428."""
    raises(errors.ContainerRemovedError, state.save_container, invalid_ctr())


def test_save_container_not_in_state_returns_error(state: FileState) -> None:
    """state_test.go:435."""
    c = ctr("1")
    raises(errors.NoSuchContainerError, state.save_container, c)
    assert c.valid is False


def test_remove_container(state: FileState) -> None:
    """state_test.go:446."""
    c = ctr("1")
    state.add_container(c)
    assert len(state.all_containers(False)) == 1
    state.remove_container(c)
    assert len(state.all_containers(False)) == 0


def test_remove_nonexistent_container_fails(state: FileState) -> None:
    """state_test.go:467."""
    raises(errors.NoSuchContainerError, state.remove_container, ctr("1"))


def test_get_all_containers_on_new_state_is_empty(state: FileState) -> None:
    """state_test.go:477."""
    assert state.all_containers(False) == []


def test_get_all_containers_with_one_container(state: FileState) -> None:
    """state_test.go:485."""
    c = ctr("1")
    state.add_container(c)
    ctrs = state.all_containers(False)
    assert len(ctrs) == 1
    same_container(ctrs[0], c)


def test_get_all_containers_two_containers(state: FileState) -> None:
    """state_test.go:501."""
    state.add_container(ctr("1"))
    state.add_container(ctr("2"))
    assert len(state.all_containers(False)) == 2


def test_container_in_use_invalid_container(state: FileState) -> None:
    """state_test.go:520."""
    raises(errors.ContainerRemovedError, state.container_in_use, invalid_ctr())


def test_container_in_use_ctr_not_in_state(state: FileState) -> None:
    """state_test.go:527."""
    raises(errors.NoSuchContainerError, state.container_in_use, ctr("1"))


def test_container_in_use_one_container(state: FileState) -> None:
    """state_test.go:536."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config["userNsCtr"] = c1.id
    state.add_container(c1)
    state.add_container(c2)
    assert state.container_in_use(c1) == [c2.id]


def test_container_in_use_two_containers(state: FileState) -> None:
    """state_test.go:558."""
    c1, c2, c3 = ctr("1"), ctr("2"), ctr("3")
    c2.config["userNsCtr"] = c1.id
    c3.config["ipcNsCtr"] = c1.id
    for c in (c1, c2, c3):
        state.add_container(c)
    assert len(state.container_in_use(c1)) == 2


def test_container_in_use_one_container_multiple_dependencies(state: FileState) -> None:
    """state_test.go:585."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config.update(userNsCtr=c1.id, ipcNsCtr=c1.id)
    state.add_container(c1)
    state.add_container(c2)
    assert state.container_in_use(c1) == [c2.id]


def test_container_in_use_generic_dependency(state: FileState) -> None:
    """state_test.go:608."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config["Dependencies"] = [c1.id]
    state.add_container(c1)
    state.add_container(c2)
    assert state.container_in_use(c1) == [c2.id]


def test_container_in_use_multiple_generic_dependencies(state: FileState) -> None:
    """state_test.go:630."""
    c1, c2, c3 = ctr("1"), ctr("2"), ctr("3")
    c3.config["Dependencies"] = [c1.id, c2.id]
    for c in (c1, c2, c3):
        state.add_container(c)
    assert state.container_in_use(c1) == [c3.id]
    assert state.container_in_use(c2) == [c3.id]


def test_container_in_use_generic_and_namespace_dependencies(state: FileState) -> None:
    """state_test.go:662."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config.update(Dependencies=[c1.id], ipcNsCtr=c1.id)
    state.add_container(c1)
    state.add_container(c2)
    assert state.container_in_use(c1) == [c2.id]


def test_cannot_remove_container_with_dependency(state: FileState) -> None:
    """state_test.go:685."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config["userNsCtr"] = c1.id
    state.add_container(c1)
    state.add_container(c2)
    raises(errors.DependencyExistsError, state.remove_container, c1)
    assert len(state.all_containers(False)) == 2


def test_cannot_remove_container_with_generic_dependency(state: FileState) -> None:
    """state_test.go:709."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config["Dependencies"] = [c1.id]
    state.add_container(c1)
    state.add_container(c2)
    raises(errors.DependencyExistsError, state.remove_container, c1)
    assert len(state.all_containers(False)) == 2


def test_can_remove_container_after_dependency_removed(state: FileState) -> None:
    """state_test.go:733."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config["userNsCtr"] = c1.id
    state.add_container(c1)
    state.add_container(c2)
    state.remove_container(c2)
    state.remove_container(c1)
    assert state.all_containers(False) == []


def test_can_remove_container_after_dependency_removed_duplicate(state: FileState) -> None:
    """state_test.go:760."""
    c1, c2 = ctr("1"), ctr("2")
    c2.config.update(userNsCtr=c1.id, ipcNsCtr=c1.id)
    state.add_container(c1)
    state.add_container(c2)
    state.remove_container(c2)
    state.remove_container(c1)
    assert state.all_containers(False) == []


def test_cannot_use_pod_as_dependency(state: FileState) -> None:
    """state_test.go:788."""
    c, p = ctr("1"), pod("2")
    c.config["userNsCtr"] = p.id
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.add_container, c)
    assert state.all_containers(False) == []


def test_cannot_use_bad_id_as_dependency(state: FileState) -> None:
    """state_test.go:810."""
    c = with_config(ctr("1"), userNsCtr="5" * 32)
    raises(errors.NoSuchContainerError, state.add_container, c)
    assert state.all_containers(False) == []


def test_cannot_use_bad_id_as_generic_dependency(state: FileState) -> None:
    """state_test.go:826."""
    c = with_config(ctr("1"), Dependencies=["5" * 32])
    raises(errors.NoSuchContainerError, state.add_container, c)
    assert state.all_containers(False) == []


def test_rewrite_container_config_does_not_exist(state: FileState) -> None:
    """state_test.go:842."""
    raises(errors.ContainerRemovedError, state.rewrite_container_config, invalid_ctr(), {})


def test_rewrite_container_config_not_in_state(state: FileState) -> None:
    """state_test.go:849."""
    raises(errors.NoSuchContainerError, state.rewrite_container_config, ctr("1"), {})


def test_rewrite_container_config_rewrites_config(state: FileState) -> None:
    """state_test.go:858."""
    c = ctr("1")
    state.add_container(c)
    c.config["logPath"] = "/another/path/"
    state.rewrite_container_config(c, c.config)
    same_container(state.container(c.id), c)


def test_rewrite_pod_config_does_not_exist(state: FileState) -> None:
    """state_test.go:878."""
    raises(errors.PodRemovedError, state.rewrite_pod_config, invalid_pod(), {})


def test_rewrite_pod_config_not_in_state(state: FileState) -> None:
    """state_test.go:885."""
    p = pod("1")
    raises(errors.NoSuchPodError, state.rewrite_pod_config, p, {})


def test_rewrite_pod_config_rewrites_config(state: FileState) -> None:
    """state_test.go:894."""
    p = pod("1")
    state.add_pod(p)
    p.config["cgroupParent"] = "/another_cgroup_parent"
    state.rewrite_pod_config(p, p.config)
    same_pod(state.pod(p.id), p)


# ------------------------------------------------------------------------------------ pods


def test_get_pod_does_not_exist(state: FileState) -> None:
    """state_test.go:914."""
    raises(errors.NoSuchPodError, state.pod, "doesnotexist")


def test_get_pod_empty_id(state: FileState) -> None:
    """state_test.go:921."""
    raises(errors.EmptyIDError, state.pod, "")


def test_get_pod_one_pod(state: FileState) -> None:
    """state_test.go:928."""
    p = pod("1")
    state.add_pod(p)
    same_pod(state.pod(p.id), p)


def test_get_one_pod_from_two(state: FileState) -> None:
    """state_test.go:943."""
    p1, p2 = pod("1"), pod("2")
    state.add_pod(p1)
    state.add_pod(p2)
    same_pod(state.pod(p1.id), p1)


def test_get_not_exist_pod_with_pods(state: FileState) -> None:
    """state_test.go:964."""
    state.add_pod(pod("1"))
    state.add_pod(pod("2"))
    raises(errors.NoSuchPodError, state.pod, "nonexistent")


def test_get_pod_by_ctr_id(state: FileState) -> None:
    """state_test.go:983."""
    c = ctr("1")
    state.add_container(c)
    raises(errors.NoSuchPodError, state.pod, c.id)


def test_lookup_pod_empty_id(state: FileState) -> None:
    """state_test.go:996."""
    raises(errors.EmptyIDError, state.lookup_pod, "")


def test_lookup_not_exist_pod(state: FileState) -> None:
    """state_test.go:1003."""
    raises(errors.NoSuchPodError, state.lookup_pod, "doesnotexist")


def test_lookup_pod_full_id(state: FileState) -> None:
    """state_test.go:1010."""
    p = pod("1")
    state.add_pod(p)
    same_pod(state.lookup_pod(p.id), p)


def test_lookup_pod_unique_partial_id(state: FileState) -> None:
    """state_test.go:1025."""
    p = pod("1")
    state.add_pod(p)
    same_pod(state.lookup_pod(p.id[:8]), p)


def test_lookup_pod_non_unique_partial_id(state: FileState) -> None:
    """state_test.go:1040: NEWEST answers ErrCtrExists for pods too (sq:1420)."""
    p1 = test_pod("1" * 32, "test1")
    p2 = test_pod("1" * 31 + "2", "test2")
    state.add_pod(p1)
    state.add_pod(p2)
    raises(errors.ContainerExistsError, state.lookup_pod, p1.id[:8])


def test_lookup_pod_by_name(state: FileState) -> None:
    """state_test.go:1059 (Podman compares the found pod with itself; this compares it with
    the pod added)."""
    p = pod("1")
    state.add_pod(p)
    same_pod(state.lookup_pod(p.name), p)


def test_lookup_pod_by_ctr_id(state: FileState) -> None:
    """state_test.go:1074."""
    c = ctr("1")
    state.add_container(c)
    raises(errors.NoSuchPodError, state.lookup_pod, c.id)


def test_lookup_pod_by_ctr_name(state: FileState) -> None:
    """state_test.go:1087."""
    c = ctr("1")
    state.add_container(c)
    raises(errors.NoSuchPodError, state.lookup_pod, c.name)


def test_has_pod_empty_id_errors(state: FileState) -> None:
    """state_test.go:1100."""
    raises(errors.EmptyIDError, state.has_pod, "")


def test_has_pod_no_such_pod(state: FileState) -> None:
    """state_test.go:1107."""
    assert state.has_pod("nonexistent") is False


def test_has_pod_wrong_id_false(state: FileState) -> None:
    """state_test.go:1115."""
    state.add_pod(pod("1"))
    assert state.has_pod("a" * 32) is False


def test_has_pod_right_id_true(state: FileState) -> None:
    """state_test.go:1129."""
    p = pod("1")
    state.add_pod(p)
    assert state.has_pod(p.id) is True


def test_has_pod_ctr_id_false(state: FileState) -> None:
    """state_test.go:1143."""
    c = ctr("1")
    state.add_container(c)
    assert state.has_pod(c.id) is False


def test_add_pod_invalid_pod_errors(state: FileState) -> None:
    """state_test.go:1157."""
    raises(errors.PodRemovedError, state.add_pod, invalid_pod())


def test_add_pod_valid_pod_succeeds(state: FileState) -> None:
    """state_test.go:1164."""
    p = pod("1")
    state.add_pod(p)
    pods = state.all_pods()
    assert len(pods) == 1
    same_pod(pods[0], p)


def test_add_pod_duplicate_id_fails(state: FileState) -> None:
    """state_test.go:1180."""
    p1 = pod("1")
    state.add_pod(p1)
    raises(errors.PodExistsError, state.add_pod, test_pod(p1.id, "testpod2"))
    assert len(state.all_pods()) == 1


def test_add_pod_duplicate_name_fails(state: FileState) -> None:
    """state_test.go:1200."""
    p1 = pod("1")
    state.add_pod(p1)
    raises(errors.PodExistsError, state.add_pod, test_pod("2" * 32, p1.name))
    assert len(state.all_pods()) == 1


def test_add_pod_non_duplicate_succeeds(state: FileState) -> None:
    """state_test.go:1220."""
    state.add_pod(pod("1"))
    state.add_pod(pod("2"))
    assert len(state.all_pods()) == 2


def test_add_pod_ctr_id_conflict_fails(state: FileState) -> None:
    """state_test.go:1240."""
    c = ctr("1")
    state.add_container(c)
    raises(errors.ContainerExistsError, state.add_pod, test_pod(c.id, "testpod1"))
    assert state.all_pods() == []


def test_remove_pod_invalid_pod_errors(state: FileState) -> None:
    """state_test.go:1260."""
    raises(errors.PodRemovedError, state.remove_pod, invalid_pod())


def test_remove_pod_not_in_state_fails(state: FileState) -> None:
    """state_test.go:1267."""
    p = pod("1")
    raises(errors.NoSuchPodError, state.remove_pod, p)
    assert p.valid is False


def test_remove_pod_succeeds(state: FileState) -> None:
    """state_test.go:1278."""
    p = pod("1")
    state.add_pod(p)
    state.remove_pod(p)
    assert state.all_pods() == []


def test_remove_pod_from_pods(state: FileState) -> None:
    """state_test.go:1295."""
    p1, p2 = pod("1"), pod("2")
    state.add_pod(p1)
    state.add_pod(p2)
    state.remove_pod(p1)
    pods = state.all_pods()
    assert len(pods) == 1
    same_pod(pods[0], p2)


def test_remove_pod_not_empty_fails(state: FileState) -> None:
    """state_test.go:1320."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    raises(errors.ContainerExistsError, state.remove_pod, p)
    assert len(state.all_pods()) == 1


def test_remove_pod_after_empty_succeeds(state: FileState) -> None:
    """state_test.go:1344."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    state.remove_container(c)
    state.remove_pod(p)
    assert state.all_pods() == []


def test_all_pods_empty_on_empty_state(state: FileState) -> None:
    """state_test.go:1371."""
    assert state.all_pods() == []


def test_all_pods_finds_pod(state: FileState) -> None:
    """state_test.go:1379."""
    p = pod("1")
    state.add_pod(p)
    pods = state.all_pods()
    assert len(pods) == 1
    same_pod(pods[0], p)


def test_all_pods_multiple_pods(state: FileState) -> None:
    """state_test.go:1395."""
    assert len(state.all_pods()) == 0
    for n, expected in (("1", 1), ("2", 2), ("3", 3)):
        state.add_pod(pod(n))
        assert len(state.all_pods()) == expected


def test_pod_has_container_no_such_pod(state: FileState) -> None:
    """state_test.go:1433."""
    raises(errors.PodRemovedError, state.pod_has_container, invalid_pod(), "0" * 32)


def test_pod_has_container_empty_ctr_id(state: FileState) -> None:
    """state_test.go:1440."""
    p = pod("1")
    state.add_pod(p)
    raises(errors.EmptyIDError, state.pod_has_container, p, "")


def test_pod_has_container_no_such_ctr(state: FileState) -> None:
    """state_test.go:1453."""
    p = pod("1")
    state.add_pod(p)
    assert state.pod_has_container(p, "2" * 32) is False


def test_pod_has_container_ctr_not_in_pod(state: FileState) -> None:
    """state_test.go:1467."""
    p, c = pod("1"), ctr("2")
    state.add_pod(p)
    state.add_container(c)
    assert state.pod_has_container(p, c.id) is False


def test_pod_has_container_succeeds(state: FileState) -> None:
    """state_test.go:1487."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    assert state.pod_has_container(p, c.id) is True


def test_pod_containers_by_id_invalid_pod(state: FileState) -> None:
    """state_test.go:1509."""
    raises(errors.PodRemovedError, state.pod_containers_by_id, invalid_pod())


def test_pod_containerd_by_id_pod_not_in_state(state: FileState) -> None:
    """state_test.go:1516 (Podman's spelling)."""
    raises(errors.NoSuchPodError, state.pod_containers_by_id, pod("1"))


def test_pod_containers_by_id_empty_pod(state: FileState) -> None:
    """state_test.go:1526."""
    p = pod("1")
    state.add_pod(p)
    assert state.pod_containers_by_id(p) == []


def test_pod_containers_by_id_one_container(state: FileState) -> None:
    """state_test.go:1540."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    assert state.pod_containers_by_id(p) == [c.id]


def test_pod_containers_by_id_multiple_containers(state: FileState) -> None:
    """state_test.go:1563."""
    p = pod("1")
    state.add_pod(p)
    assert len(state.pod_containers_by_id(p)) == 0
    for count, n in enumerate(("2", "3", "4"), start=1):
        state.add_container(member(n, p))
        assert len(state.pod_containers_by_id(p)) == count


def test_pod_containers_invalid_pod(state: FileState) -> None:
    """state_test.go:1610."""
    raises(errors.PodRemovedError, state.pod_containers, invalid_pod())


def test_pod_containers_pod_not_in_state(state: FileState) -> None:
    """state_test.go:1617."""
    raises(errors.NoSuchPodError, state.pod_containers, pod("1"))


def test_pod_containers_empty_pod(state: FileState) -> None:
    """state_test.go:1627."""
    p = pod("1")
    state.add_pod(p)
    assert state.pod_containers(p) == []


def test_pod_containers_one_container(state: FileState) -> None:
    """state_test.go:1641."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    ctrs = state.pod_containers(p)
    assert len(ctrs) == 1
    same_container(ctrs[0], c)


def test_pod_containers_multiple_containers(state: FileState) -> None:
    """state_test.go:1665."""
    p = pod("1")
    state.add_pod(p)
    assert len(state.pod_containers(p)) == 0
    for count, n in enumerate(("2", "3", "4"), start=1):
        state.add_container(member(n, p))
        assert len(state.pod_containers(p)) == count


def test_remove_pod_containers_invalid_pod(state: FileState) -> None:
    """state_test.go:1712."""
    raises(errors.PodRemovedError, state.remove_pod_containers, invalid_pod())


def test_remove_pod_containers_pod_not_in_state(state: FileState) -> None:
    """state_test.go:1719."""
    p = pod("1")
    raises(errors.NoSuchPodError, state.remove_pod_containers, p)
    assert p.valid is False


def test_remove_pod_containers_no_containers(state: FileState) -> None:
    """state_test.go:1730."""
    p = pod("1")
    state.add_pod(p)
    state.remove_pod_containers(p)
    assert state.pod_containers_by_id(p) == []


def test_remove_pod_containers_one_container(state: FileState) -> None:
    """state_test.go:1747."""
    p = pod("1")
    state.add_pod(p)
    state.add_container(member("2", p))
    state.remove_pod_containers(p)
    assert state.pod_containers_by_id(p) == []


def test_remove_pod_containers_preserves_ctr_outside_pod(state: FileState) -> None:
    """state_test.go:1771."""
    p = pod("1")
    state.add_pod(p)
    state.add_container(member("2", p))
    outside = ctr("3")
    state.add_container(outside)
    state.remove_pod_containers(p)
    assert state.pod_containers_by_id(p) == []
    assert [c.id for c in state.all_containers(False)] == [outside.id]


def test_remove_pod_containers_two_containers(state: FileState) -> None:
    """state_test.go:1805."""
    p = pod("1")
    state.add_pod(p)
    state.add_container(member("2", p))
    state.add_container(member("3", p))
    state.remove_pod_containers(p)
    assert state.pod_containers_by_id(p) == []


def test_remove_pod_container_dependency_in_pod(state: FileState) -> None:
    """state_test.go:1836."""
    p = pod("1")
    c1 = member("2", p)
    c2 = member("3", p, ipcNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    state.add_container(c2)
    state.remove_pod_containers(p)
    assert state.pod_containers_by_id(p) == []
    assert state.all_containers(False) == []


# ------------------------------------------------------------- pod members via AddContainer


def test_add_container_to_pod_invalid_pod(state: FileState) -> None:
    """state_test.go:1868."""
    c = with_config(ctr("1"), pod="1")
    raises(errors.NoSuchPodError, state.add_container, c)
    assert state.all_containers(False) == []


def test_add_container_to_pod_invalid_ctr(state: FileState) -> None:
    """state_test.go:1879."""
    p = pod("1")
    state.add_pod(p)
    raises(errors.ContainerRemovedError, state.add_container, invalid_ctr())
    assert state.pod_containers_by_id(p) == []


def test_add_container_to_pod_pod_not_in_state(state: FileState) -> None:
    """state_test.go:1896."""
    p = pod("1")
    raises(errors.NoSuchPodError, state.add_container, member("2", p))


def test_add_container_to_pod_succeeds(state: FileState) -> None:
    """state_test.go:1910."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    ctrs = state.pod_containers(p)
    all_ctrs = state.all_containers(False)
    assert len(ctrs) == 1 and len(all_ctrs) == 1
    same_container(ctrs[0], c)
    same_container(ctrs[0], all_ctrs[0])


def test_add_container_to_pod_two_containers(state: FileState) -> None:
    """state_test.go:1938."""
    p = pod("1")
    state.add_pod(p)
    state.add_container(member("2", p))
    state.add_container(member("3", p))
    assert len(state.pod_containers(p)) == 2
    assert len(state.all_containers(False)) == 2


def test_add_container_to_pod_with_add_container(state: FileState) -> None:
    """state_test.go:1970."""
    p = pod("1")
    c1 = member("2", p)
    state.add_pod(p)
    state.add_container(c1)
    state.add_container(ctr("3"))
    ctrs = state.pod_containers(p)
    assert len(ctrs) == 1
    assert len(state.all_containers(False)) == 2
    same_container(ctrs[0], c1)


def test_add_container_to_pod_ctr_id_conflict(state: FileState) -> None:
    """state_test.go:2003."""
    p = pod("1")
    c1 = ctr("2")
    c2 = test_container(c1.id, "testCtr3")
    c2.config["pod"] = p.id
    state.add_pod(p)
    state.add_container(c1)
    raises(errors.ContainerExistsError, state.add_container, c2)
    assert state.pod_containers(p) == []
    assert len(state.all_containers(False)) == 1


def test_add_container_to_pod_ctr_name_conflict(state: FileState) -> None:
    """state_test.go:2034."""
    p = pod("1")
    c1 = ctr("2")
    c2 = test_container("4" * 32, c1.name)
    c2.config["pod"] = p.id
    state.add_pod(p)
    state.add_container(c1)
    raises(errors.ContainerExistsError, state.add_container, c2)
    assert state.pod_containers(p) == []
    assert len(state.all_containers(False)) == 1


def test_add_container_to_pod_pod_id_conflict(state: FileState) -> None:
    """state_test.go:2065."""
    p = pod("1")
    c = test_container(p.id, "testCtr")
    c.config["pod"] = p.id
    state.add_pod(p)
    raises(errors.PodExistsError, state.add_container, c)
    assert state.pod_containers(p) == []
    assert state.all_containers(False) == []


def test_add_container_to_pod_adds_dependencies(state: FileState) -> None:
    """state_test.go:2090."""
    p = pod("1")
    c1 = member("2", p)
    c2 = member("3", p, ipcNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    state.add_container(c2)
    assert state.container_in_use(c1) == [c2.id]


def test_add_container_to_pod_pod_dependency_fails(state: FileState) -> None:
    """state_test.go:2120."""
    p = pod("1")
    c = member("2", p, ipcNsCtr=p.id)
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.add_container, c)
    assert state.pod_containers(p) == []


def test_add_container_to_pod_bad_dependency_fails(state: FileState) -> None:
    """state_test.go:2142."""
    p = pod("1")
    c = member("2", p, ipcNsCtr="8" * 32)
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.add_container, c)
    assert state.pod_containers(p) == []


def test_add_container_to_pod_dependency_outside_pod_fails(state: FileState) -> None:
    """state_test.go:2164."""
    p = pod("1")
    c1 = ctr("2")
    c2 = member("3", p, ipcNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    raises(errors.InvalidArgumentError, state.add_container, c2)
    assert state.pod_containers(p) == []
    assert len(state.all_containers(False)) == 1
    assert state.container_in_use(c1) == []


def test_remove_container_from_pod_bad_pod_fails(state: FileState) -> None:
    """state_test.go:2200."""
    c = with_config(ctr("1"), pod="1")
    raises(errors.NoSuchContainerError, state.remove_container, c)


def test_remove_container_from_pod_pod_not_in_state_fails(state: FileState) -> None:
    """state_test.go:2211."""
    raises(errors.NoSuchContainerError, state.remove_container, member("2", pod("1")))


def test_remove_container_from_pod_ctr_not_in_state_fails(state: FileState) -> None:
    """state_test.go:2225."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    raises(errors.NoSuchContainerError, state.remove_container, c)
    assert c.valid is False


def test_remove_container_from_pod_succeeds(state: FileState) -> None:
    """state_test.go:2244."""
    p = pod("1")
    c = member("2", p)
    state.add_pod(p)
    state.add_container(c)
    state.remove_container(c)
    assert state.pod_containers(p) == []
    assert state.all_containers(False) == []


def test_remove_container_from_pod_with_dependency_fails(state: FileState) -> None:
    """state_test.go:2272."""
    p = pod("1")
    c1 = member("2", p)
    c2 = member("3", p, ipcNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    state.add_container(c2)
    raises(errors.DependencyExistsError, state.remove_container, c1)
    assert len(state.pod_containers(p)) == 2
    assert len(state.all_containers(False)) == 2


def test_remove_container_from_pod_with_dependency_succeeds_after_dep_removed(
    state: FileState,
) -> None:
    """state_test.go:2308."""
    p = pod("1")
    c1 = member("2", p)
    c2 = member("3", p, ipcNsCtr=c1.id)
    state.add_pod(p)
    state.add_container(c1)
    state.add_container(c2)
    state.remove_container(c2)
    state.remove_container(c1)
    assert state.pod_containers(p) == []
    assert state.all_containers(False) == []


# ---------------------------------------------------------------------- pod state, misc


def test_update_pod_invalid_pod(state: FileState) -> None:
    """state_test.go:2347."""
    raises(errors.PodRemovedError, state.update_pod, invalid_pod())


def test_update_pod_pod_not_in_state_fails(state: FileState) -> None:
    """state_test.go:2354."""
    raises(errors.NoSuchPodError, state.update_pod, pod("1"))


def test_save_pod_invalid_pod(state: FileState) -> None:
    """state_test.go:2364."""
    raises(errors.PodRemovedError, state.save_pod, invalid_pod())


def test_save_pod_pod_not_in_state_fails(state: FileState) -> None:
    """state_test.go:2371."""
    raises(errors.NoSuchPodError, state.save_pod, pod("1"))


def test_save_and_update_pod(state: FileState) -> None:
    """state_test.go:2381."""
    p = pod("1")
    state.add_pod(p)
    got = state.pod(p.id)
    same_pod(got, p)
    p.state["cgroupPath"] = "/new/path/for/test"
    state.save_pod(p)
    state.update_pod(got)
    same_pod(got, p, allowed_empty=False)


def test_get_container_config_succeeds(state: FileState) -> None:
    """state_test.go:2406."""
    c = ctr("1")
    state.add_container(c)
    assert state.get_container_config(c.id) == c.config


def test_get_container_config_empty_id_fails(state: FileState) -> None:
    """state_test.go:2420."""
    raises(errors.EmptyIDError, state.get_container_config, "")


def test_get_container_config_non_existent_id_fails(state: FileState) -> None:
    """state_test.go:2427."""
    raises(errors.NoSuchContainerError, state.get_container_config, "does not exist")


def test_remove_volume_not_in_db(state: FileState) -> None:
    """state_test.go:2434."""
    raises(errors.NoSuchVolumeError, state.remove_volume, Volume({"name": "Test"}))


def test_every_go_test_is_ported() -> None:
    """137 Go tests, 137 ports (this check excluded)."""
    ported = [
        name
        for name, fn in globals().items()
        if name.startswith("test_") and callable(fn) and getattr(fn, "__test__", True)
    ]
    assert len(ported) - 1 == 137
