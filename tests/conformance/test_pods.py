"""Conformance: pods and pod membership.

Spec: ``spec/podman-state.md`` §1.2 (Pod, LookupPod, HasPod, PodHasContainer, PodContainersByID,
PodContainers, AddPod, RemovePod, RemovePodContainers, AddContainerToPod, RemoveContainerFromPod,
UpdatePod, SavePod, AllPods, RewritePodConfig), §2.1, §2.3, §2.4, §2.5, and ``API.md``
Decisions 1, 2, 3, 4, 6.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, ExecSession, FileState, Pod, Volume, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")


def expect_exact(
    cls: type[errors.StateError], call: Callable[..., object], *args: object
) -> errors.StateError:
    """Call and assert it raises exactly ``cls`` (not a subclass)."""
    with pytest.raises(cls) as exc:
        call(*args)
    assert type(exc.value) is cls
    return exc.value


@pytest.fixture
def pod(state: FileState, make_pod: Callable[..., Pod]) -> Pod:
    """Pod 1, stored."""
    pod = make_pod(1)
    state.add_pod(pod)
    return pod


@pytest.fixture
def member(state: FileState, pod: Pod, make_container: Callable[..., Container]) -> Container:
    """Container 1, stored as a member of pod 1."""
    ctr = make_container(1, pod=pod.id)
    state.add_container_to_pod(pod, ctr)
    return ctr


# ------------------------------------------------------------------------ closed store

CLOSED_CALLS = {
    "pod": lambda st, p, c: st.pod(p.id),
    "lookup_pod": lambda st, p, c: st.lookup_pod(p.name),
    "has_pod": lambda st, p, c: st.has_pod(p.id),
    "pod_has_container": lambda st, p, c: st.pod_has_container(p, c.id),
    "pod_containers_by_id": lambda st, p, c: st.pod_containers_by_id(p),
    "pod_containers": lambda st, p, c: st.pod_containers(p),
    "add_pod": lambda st, p, c: st.add_pod(p),
    "remove_pod": lambda st, p, c: st.remove_pod(p),
    "remove_pod_containers": lambda st, p, c: st.remove_pod_containers(p),
    "add_container_to_pod": lambda st, p, c: st.add_container_to_pod(p, c),
    "remove_container_from_pod": lambda st, p, c: st.remove_container_from_pod(p, c),
    "update_pod": lambda st, p, c: st.update_pod(p),
    "save_pod": lambda st, p, c: st.save_pod(p),
    "all_pods": lambda st, p, c: st.all_pods(),
    "rewrite_pod_config": lambda st, p, c: st.rewrite_pod_config(p, p.config),
}


@pytest.mark.parametrize("call", CLOSED_CALLS.values(), ids=CLOSED_CALLS.keys())
def test_closed_store_raises_before_anything_else(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    member: Container,
    call: Callable[..., Any],
) -> None:
    """After close() each pod method raises StateClosedError, even for invalid objects."""
    before = snapshot()
    pod.valid = member.valid = False
    state.close()
    with pytest.raises(errors.StateClosedError):
        call(state, pod, member)
    assert snapshot() == before


# ------------------------------------------------------------------------ add and get


def test_add_then_get(state: FileState, make_pod: Callable[..., Pod]) -> None:
    """pod(id) returns the stored config with an empty state and valid=True."""
    pod = make_pod(1)
    state.add_pod(pod)
    got = state.pod(pod.id)
    assert got == Pod(pod.config)
    assert got.state == {}
    assert got.valid is True
    assert (got.id, got.name, got.namespace) == (pod.id, "pod1", "")


def test_add_is_durable(
    state: FileState, reopen: Callable[[], FileState], make_pod: Callable[..., Pod]
) -> None:
    """An added pod, config and state, is seen by a freshly opened store."""
    pod = make_pod(1, xFutureKey={"k": [1, None]})
    pod.state["xFutureState"] = "kept"
    state.add_pod(pod)
    got = reopen().pod(pod.id)
    reopen().update_pod(got)
    assert got == pod


def test_returned_pods_are_independent_copies(state: FileState, pod: Pod) -> None:
    """Mutating a returned pod changes neither the store nor later results."""
    first = state.pod(pod.id)
    first.config["labels"]["a"] = "changed"
    pod_config = dict(pod.config)
    for got in (state.pod(pod.id), state.lookup_pod("pod1"), state.all_pods()[0]):
        assert got.config == pod_config


def test_all_pods_sorted_with_empty_state(state: FileState, make_pod: Callable[..., Pod]) -> None:
    """all_pods returns every pod sorted by ID, states not loaded."""
    for n in (3, 1, 2):
        state.add_pod(make_pod(n))
    got = state.all_pods()
    assert [p.id for p in got] == sorted(make_pod(n).id for n in (1, 2, 3))
    assert all(p.state == {} and p.valid for p in got)


def test_add_invalid_pod(
    state: FileState, snapshot: Callable[[], dict[str, Any]], make_pod: Callable[..., Pod]
) -> None:
    """add_pod of an object with valid=False → PodRemovedError, nothing written."""
    pod = make_pod(1)
    pod.valid = False
    with pytest.raises(errors.PodRemovedError):
        state.add_pod(pod)
    assert snapshot()["pods"] == {}


def test_add_duplicate_pod_id(
    state: FileState, snapshot: Callable[[], dict[str, Any]], pod: Pod, make_pod: Callable[..., Pod]
) -> None:
    """A pod ID already held by a pod → PodExistsError (Decision 2)."""
    before = snapshot()
    with pytest.raises(errors.PodExistsError):
        state.add_pod(make_pod(2, id=pod.id))
    assert snapshot() == before
    state.add_pod(make_pod(2))  # the name was not taken


def test_add_pod_with_a_containers_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A pod ID already held by a container → ContainerExistsError (Decision 2)."""
    ctr = make_container(1)
    state.add_container(ctr)
    before = snapshot()
    expect_exact(errors.ContainerExistsError, state.add_pod, make_pod(1, id=ctr.id))
    assert snapshot() == before


def test_add_pod_with_a_pods_name(
    state: FileState, snapshot: Callable[[], dict[str, Any]], pod: Pod, make_pod: Callable[..., Pod]
) -> None:
    """A pod name already held by a pod → PodExistsError."""
    before = snapshot()
    with pytest.raises(errors.PodExistsError):
        state.add_pod(make_pod(2, name="pod1"))
    assert snapshot() == before
    state.add_pod(make_pod(2))  # the ID was not taken


@bolt_only
def test_add_pod_with_a_containers_name(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A pod name already held by a container → ContainerExistsError (Decision 1)."""
    state.add_container(make_container(1))
    before = snapshot()
    expect_exact(errors.ContainerExistsError, state.add_pod, make_pod(1, name="test1"))
    assert snapshot() == before


@bolt_only
def test_add_pod_checks_id_before_name(
    state: FileState,
    pod: Pod,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """ID taken and name taken by different kinds → the ID's error wins."""
    ctr = make_container(1)
    state.add_container(ctr)
    expect_exact(errors.ContainerExistsError, state.add_pod, make_pod(2, id=ctr.id, name="pod1"))
    with pytest.raises(errors.PodExistsError):
        state.add_pod(make_pod(2, id=pod.id, name="test1"))


@bolt_only
def test_add_pod_outside_namespace(
    state: FileState, snapshot: Callable[[], dict[str, Any]], make_pod: Callable[..., Pod]
) -> None:
    """Adding a pod whose namespace differs from the store's → NamespaceMismatchError."""
    state.set_namespace("ns1")
    before = snapshot()
    for pod in (make_pod(1, namespace="ns2"), make_pod(1)):
        with pytest.raises(errors.NamespaceMismatchError):
            state.add_pod(pod)
    assert snapshot() == before
    state.add_pod(make_pod(1, namespace="ns1"))


@bolt_only
def test_add_pod_checks_namespace_before_id(state: FileState, make_pod: Callable[..., Pod]) -> None:
    """Outside the namespace with a taken ID → NamespaceMismatchError."""
    state.add_pod(make_pod(1, namespace="ns1"))
    state.set_namespace("ns1")
    with pytest.raises(errors.NamespaceMismatchError):
        state.add_pod(make_pod(1, namespace="ns2"))


# ------------------------------------------------------------------------ lookup and exact getters


@pytest.fixture
def two_pods(state: FileState, make_pod: Callable[..., Pod]) -> list[Pod]:
    """Pods with IDs f1f1… and f2f2…: "f" is ambiguous, "f1" and "f2" are not."""
    pods = [make_pod(1), make_pod(2)]
    for pod in pods:
        state.add_pod(pod)
    return pods


@pytest.mark.parametrize(
    ("key", "want"), [("f1" * 16, 0), ("pod1", 0), ("f1", 0), ("f2f", 1), ("pod2", 1)]
)
def test_lookup_pod_resolves(state: FileState, two_pods: list[Pod], key: str, want: int) -> None:
    """lookup_pod by full ID, exact name or unique ID prefix; state not loaded."""
    got = state.lookup_pod(key)
    assert got == Pod(two_pods[want].config)
    assert got.valid is True


@bolt_only
def test_lookup_pod_ambiguous_prefix(state: FileState, two_pods: list[Pod]) -> None:
    """A prefix of several pod IDs → PodExistsError."""
    with pytest.raises(errors.PodExistsError):
        state.lookup_pod("f")


@pytest.mark.parametrize("key", ["f3", "pod", "1", "test1", "1" * 32])
def test_lookup_pod_no_match(
    state: FileState, two_pods: list[Pod], make_container: Callable[..., Container], key: str
) -> None:
    """No pod ID, name or ID prefix matches (containers never match) → NoSuchPodError."""
    state.add_container(make_container(1))
    with pytest.raises(errors.NoSuchPodError):
        state.lookup_pod(key)


@bolt_only
def test_lookup_pod_full_id_beats_name(state: FileState, make_pod: Callable[..., Pod]) -> None:
    """A string that is one pod's ID and another's name resolves to the ID (Decision 6)."""
    first = make_pod(1)
    state.add_pod(first)
    state.add_pod(make_pod(2, name=first.id))
    assert state.lookup_pod(first.id).id == first.id


def test_lookup_pod_name_beats_prefix(
    state: FileState, two_pods: list[Pod], make_pod: Callable[..., Pod]
) -> None:
    """An exact pod name wins over an (ambiguous) ID prefix."""
    state.add_pod(make_pod(3, name="f"))
    assert state.lookup_pod("f").id == make_pod(3).id


def test_pod_and_has_pod_are_exact(
    state: FileState, pod: Pod, make_container: Callable[..., Container]
) -> None:
    """pod()/has_pod() take a full pod ID only: prefixes, names and container IDs miss."""
    ctr = make_container(1)
    state.add_container(ctr)
    assert state.has_pod(pod.id) is True
    for key in ("f1", "pod1", ctr.id):
        assert state.has_pod(key) is False
        with pytest.raises(errors.NoSuchPodError):
            state.pod(key)


# ------------------------------------------------------------------------ update, save, rewrite


def test_update_pod_replaces_state(state: FileState, pod: Pod) -> None:
    """update_pod replaces pod.state wholesale with the stored state."""
    got = state.pod(pod.id)
    got.state = {"junk": 1}
    state.update_pod(got)
    assert got.state == pod.state


def test_save_pod(state: FileState, reopen: Callable[[], FileState], pod: Pod) -> None:
    """save_pod stores pod.state; the config is left alone."""
    pod.state["cgroupPath"] = "/new/path"
    pod.state["InfraContainerID"] = "9" * 32
    pod.config["labels"] = {"changed": "yes"}
    state.save_pod(pod)
    got = reopen().pod(pod.id)
    assert got.config["labels"] == {"a": "b"}
    reopen().update_pod(got)
    assert got.state == pod.state


def test_rewrite_pod_config(state: FileState, reopen: Callable[[], FileState], pod: Pod) -> None:
    """rewrite_pod_config stores the new config and keeps the state."""
    new = {**pod.config, "labels": {"rewritten": "yes"}}
    state.rewrite_pod_config(pod, new)
    got = reopen().lookup_pod("pod1")
    assert got.config == new
    reopen().update_pod(got)
    assert got.state == pod.state


POD_CALLS = {
    "pod_has_container": lambda st, p: st.pod_has_container(p, "1" * 32),
    "pod_containers_by_id": lambda st, p: st.pod_containers_by_id(p),
    "pod_containers": lambda st, p: st.pod_containers(p),
    "remove_pod": lambda st, p: st.remove_pod(p),
    "remove_pod_containers": lambda st, p: st.remove_pod_containers(p),
    "update_pod": lambda st, p: st.update_pod(p),
    "save_pod": lambda st, p: st.save_pod(p),
    "rewrite_pod_config": lambda st, p: st.rewrite_pod_config(p, p.config),
}


@bolt_only
@pytest.mark.parametrize("call", POD_CALLS.values(), ids=POD_CALLS.keys())
def test_missing_pod_is_invalidated(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    call: Callable[..., Any],
) -> None:
    """A pod that is not stored → NoSuchPodError (+inv), then PodRemovedError."""
    state.add_pod(make_pod(2))
    before = snapshot()
    pod = make_pod(1)
    with pytest.raises(errors.NoSuchPodError):
        call(state, pod)
    assert pod.valid is False
    with pytest.raises(errors.PodRemovedError):
        call(state, pod)
    assert snapshot() == before


@pytest.mark.parametrize("call", POD_CALLS.values(), ids=POD_CALLS.keys())
def test_invalid_pod_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    member: Container,
    call: Callable[..., Any],
) -> None:
    """A pod object with valid=False → PodRemovedError, even if it is still stored."""
    before = snapshot()
    pod.valid = False
    with pytest.raises(errors.PodRemovedError):
        call(state, pod)
    assert snapshot() == before


# ------------------------------------------------------------------------ membership queries


def test_pod_membership_queries(
    state: FileState, pod: Pod, member: Container, make_container: Callable[..., Container]
) -> None:
    """pod_has_container / pod_containers_by_id / pod_containers report the members only."""
    second = make_container(2, pod=pod.id)
    state.add_container_to_pod(pod, second)
    outsider = make_container(3)
    state.add_container(outsider)
    assert state.pod_has_container(pod, member.id) is True
    assert state.pod_has_container(pod, outsider.id) is False
    assert state.pod_has_container(pod, make_container(9).id) is False
    assert state.pod_containers_by_id(pod) == [member.id, second.id]
    got = state.pod_containers(pod)
    assert got == [Container(member.config), Container(second.config)]
    assert all(c.state == {} and c.valid for c in got)


def test_empty_pod_lists_nothing(state: FileState, pod: Pod) -> None:
    """An empty pod's member lists are []."""
    assert state.pod_containers_by_id(pod) == []
    assert state.pod_containers(pod) == []


def test_pod_has_container_checks_empty_id_first(
    state: FileState, make_pod: Callable[..., Pod]
) -> None:
    """pod_has_container(invalid pod, "") → EmptyIDError (checked before the pod)."""
    pod = make_pod(1)
    pod.valid = False
    with pytest.raises(errors.EmptyIDError):
        state.pod_has_container(pod, "")


def test_pod_member_is_a_container(state: FileState, pod: Pod, member: Container) -> None:
    """A pod member is a container like any other, with pod_id set."""
    got = state.lookup_container("test1")
    assert got == Container(member.config)
    assert got.pod_id == pod.id
    assert [c.id for c in state.all_containers()] == [member.id]
    assert state.get_name(member.id) == "test1"


# ------------------------------------------------------------------------ add_container_to_pod


def test_add_to_pod_requires_matching_pod_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A container whose config names no pod or another pod → NoSuchContainerError."""
    before = snapshot()
    for ctr in (make_container(1), make_container(1, pod=make_pod(2).id)):
        with pytest.raises(errors.NoSuchContainerError):
            state.add_container_to_pod(pod, ctr)
    assert snapshot() == before


def test_add_to_missing_pod(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """Adding to a pod that is not stored → NoSuchPodError (+inv pod), nothing written."""
    before = snapshot()
    pod = make_pod(1)
    ctr = make_container(1, pod=pod.id)
    with pytest.raises(errors.NoSuchPodError):
        state.add_container_to_pod(pod, ctr)
    assert pod.valid is False
    assert snapshot() == before
    with pytest.raises(errors.PodRemovedError):
        state.add_container_to_pod(pod, ctr)


def test_add_to_pod_check_order_validity(
    state: FileState, pod: Pod, make_container: Callable[..., Container]
) -> None:
    """Invalid pod beats invalid container; invalid container beats a pod mismatch."""
    ctr = make_container(1)
    ctr.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        state.add_container_to_pod(pod, ctr)
    pod.valid = False
    with pytest.raises(errors.PodRemovedError):
        state.add_container_to_pod(pod, ctr)


def test_add_to_pod_checks_mismatch_before_pod_existence(
    state: FileState, make_pod: Callable[..., Pod], make_container: Callable[..., Container]
) -> None:
    """A pod mismatch is reported (NoSuchContainerError) before the pod is looked up."""
    pod = make_pod(1)
    with pytest.raises(errors.NoSuchContainerError):
        state.add_container_to_pod(pod, make_container(1, pod=make_pod(2).id))
    assert pod.valid is True


@bolt_only
def test_add_to_pod_checks_namespace_before_pod_existence(
    state: FileState, make_pod: Callable[..., Pod], make_container: Callable[..., Container]
) -> None:
    """Outside the store's namespace and a missing pod → NamespaceMismatchError."""
    state.set_namespace("ns1")
    pod = make_pod(1, namespace="ns2")
    with pytest.raises(errors.NamespaceMismatchError):
        state.add_container_to_pod(pod, make_container(1, pod=pod.id, namespace="ns2"))
    assert pod.valid is True


@bolt_only
@pytest.mark.parametrize(("pod_ns", "ctr_ns"), [("ns1", ""), ("", "ns1"), ("ns1", "ns2")])
def test_member_namespace_must_equal_pods(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
    pod_ns: str,
    ctr_ns: str,
) -> None:
    """A member must have exactly the pod's namespace → else NamespaceMismatchError."""
    pod = make_pod(1, namespace=pod_ns)
    state.add_pod(pod)
    before = snapshot()
    with pytest.raises(errors.NamespaceMismatchError):
        state.add_container_to_pod(pod, make_container(1, pod=pod.id, namespace=ctr_ns))
    assert snapshot() == before


@bolt_only
def test_add_to_pod_duplicate_ids_and_names(
    state: FileState, pod: Pod, member: Container, make_container: Callable[..., Container]
) -> None:
    """Pod members share the ID and name registries (Decision 1, 2)."""
    cases = [
        (make_container(2, pod=pod.id, id=member.id), errors.ContainerExistsError),
        (make_container(2, pod=pod.id, name="test1"), errors.ContainerExistsError),
        (make_container(2, pod=pod.id, name="pod1"), errors.PodExistsError),
    ]
    for ctr, cls in cases:
        expect_exact(cls, state.add_container_to_pod, pod, ctr)
    with pytest.raises(errors.PodExistsError):
        state.add_container_to_pod(pod, make_container(2, pod=pod.id, id=pod.id))
    assert state.pod_containers_by_id(pod) == [member.id]


def test_member_may_depend_on_member(
    state: FileState, pod: Pod, member: Container, make_container: Callable[..., Container]
) -> None:
    """A member may depend on another member of the same pod."""
    second = make_container(2, pod=pod.id, netNsCtr=member.id, ipcNsCtr=member.id)
    state.add_container_to_pod(pod, second)
    assert state.container_in_use(member) == [second.id]


def test_member_may_not_depend_outside_its_pod(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A member depending on a non-member or another pod's member → InvalidArgumentError."""
    other_pod = make_pod(2)
    state.add_pod(other_pod)
    foreign = make_container(3, pod=other_pod.id)
    state.add_container_to_pod(other_pod, foreign)
    loner = make_container(4)
    state.add_container(loner)
    before = snapshot()
    for dep in (loner.id, foreign.id):
        ctr = make_container(1, pod=pod.id, Dependencies=[dep])
        expect_exact(errors.InvalidArgumentError, state.add_container_to_pod, pod, ctr)
    assert snapshot() == before


def test_member_missing_dependency(
    state: FileState, pod: Pod, make_container: Callable[..., Container]
) -> None:
    """A member depending on a container that does not exist → NoSuchContainerError."""
    ctr = make_container(1, pod=pod.id, pidNsCtr=make_container(9).id)
    with pytest.raises(errors.NoSuchContainerError):
        state.add_container_to_pod(pod, ctr)
    assert state.pod_containers_by_id(pod) == []


# ------------------------------------------------------------------------ remove_container_from_pod


def test_remove_container_from_pod(
    state: FileState, reopen: Callable[[], FileState], pod: Pod, member: Container
) -> None:
    """A removed member is gone; the pod is empty and can then be removed."""
    state.remove_container_from_pod(pod, member)
    assert member.valid is True
    other = reopen()
    assert other.pod_containers_by_id(pod) == []
    assert not other.has_container(member.id)
    with pytest.raises(errors.NoSuchContainerError):
        other.lookup_container("test1")
    state.remove_pod(pod)
    assert reopen().all_pods() == []


def test_remove_from_pod_ignores_container_valid_flag(
    state: FileState, pod: Pod, member: Container
) -> None:
    """remove_container_from_pod does not check the container's valid flag."""
    member.valid = False
    state.remove_container_from_pod(pod, member)
    assert state.pod_containers_by_id(pod) == []


def test_remove_from_pod_container_without_pod(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    make_container: Callable[..., Container],
) -> None:
    """A container whose config names no pod → NoSuchPodError; the pod stays valid."""
    ctr = make_container(2)
    state.add_container(ctr)
    before = snapshot()
    expect_exact(errors.NoSuchPodError, state.remove_container_from_pod, pod, ctr)
    assert pod.valid is True
    assert snapshot() == before


def test_remove_from_pod_pod_mismatch(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    member: Container,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A container of another pod → InvalidArgumentError, checked before the pod exists."""
    other = make_pod(2)
    ctr = make_container(2, pod=other.id)
    before = snapshot()
    expect_exact(errors.InvalidArgumentError, state.remove_container_from_pod, pod, ctr)
    expect_exact(errors.InvalidArgumentError, state.remove_container_from_pod, other, member)
    assert other.valid is True
    assert snapshot() == before


def test_remove_from_missing_pod(
    state: FileState, make_pod: Callable[..., Pod], make_container: Callable[..., Container]
) -> None:
    """Pod not stored → NoSuchPodError (+inv pod) before the container is looked up."""
    pod = make_pod(1)
    ctr = make_container(1, pod=pod.id)
    with pytest.raises(errors.NoSuchPodError):
        state.remove_container_from_pod(pod, ctr)
    assert pod.valid is False
    assert ctr.valid is True
    with pytest.raises(errors.PodRemovedError):
        state.remove_container_from_pod(pod, ctr)


def test_remove_missing_member(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    make_container: Callable[..., Container],
) -> None:
    """Container not stored → NoSuchContainerError (+inv container)."""
    before = snapshot()
    ctr = make_container(1, pod=pod.id)
    with pytest.raises(errors.NoSuchContainerError):
        state.remove_container_from_pod(pod, ctr)
    assert ctr.valid is False
    assert pod.valid is True
    assert snapshot() == before


def test_remove_from_pod_not_a_member(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """A stored container that is not a member of the given pod → NoSuchContainerError."""
    other = make_pod(2)
    state.add_pod(other)
    stored = make_container(1, pod=other.id)
    state.add_container_to_pod(other, stored)
    before = snapshot()
    claimed = make_container(1, pod=pod.id)
    with pytest.raises(errors.NoSuchContainerError):
        state.remove_container_from_pod(pod, claimed)
    assert snapshot() == before


def test_remove_member_with_dependents(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pod: Pod,
    member: Container,
    make_container: Callable[..., Container],
) -> None:
    """Removing a member another member depends on → DependencyExistsError (Decision 3)."""
    state.add_container_to_pod(pod, make_container(2, pod=pod.id, Dependencies=[member.id]))
    before = snapshot()
    with pytest.raises(errors.DependencyExistsError):
        state.remove_container_from_pod(pod, member)
    assert snapshot() == before


@bolt_only
def test_remove_from_pod_namespace_first(
    state: FileState, make_pod: Callable[..., Pod], make_container: Callable[..., Container]
) -> None:
    """A pod or member outside the namespace → NamespaceMismatchError, checked first."""
    state.set_namespace("ns1")
    for pod_ns, ctr_ns in (("ns2", "ns1"), ("ns1", "ns2")):
        pod = make_pod(1, namespace=pod_ns)
        for ctr in (
            make_container(1, namespace=ctr_ns),
            make_container(1, namespace=ctr_ns, pod=pod.id),
        ):
            with pytest.raises(errors.NamespaceMismatchError):
                state.remove_container_from_pod(pod, ctr)
        assert pod.valid is True


@bolt_only
def test_remove_from_pod_checks_pod_validity_before_namespace(
    state: FileState, make_pod: Callable[..., Pod], make_container: Callable[..., Container]
) -> None:
    """An invalid pod outside the namespace → PodRemovedError."""
    state.set_namespace("ns1")
    pod = make_pod(1, namespace="ns2")
    pod.valid = False
    with pytest.raises(errors.PodRemovedError):
        state.remove_container_from_pod(pod, make_container(1, pod=pod.id, namespace="ns2"))


# ------------------------------------------------------------------------ remove_pod


def test_remove_empty_pod(
    state: FileState, reopen: Callable[[], FileState], pod: Pod, make_pod: Callable[..., Pod]
) -> None:
    """An empty pod is removed; its ID and name become free; pod.valid stays True."""
    state.remove_pod(pod)
    assert pod.valid is True
    other = reopen()
    assert other.all_pods() == []
    assert other.has_pod(pod.id) is False
    with pytest.raises(errors.NoSuchPodError):
        other.lookup_pod("pod1")
    with pytest.raises(errors.NoSuchContainerError):
        other.get_name(pod.id)
    state.add_pod(make_pod(1))


def test_remove_pod_with_members(
    state: FileState, snapshot: Callable[[], dict[str, Any]], pod: Pod, member: Container
) -> None:
    """remove_pod of a pod with members → ContainerExistsError, nothing removed."""
    before = snapshot()
    expect_exact(errors.ContainerExistsError, state.remove_pod, pod)
    assert snapshot() == before


# ------------------------------------------------------------------------ remove_pod_containers


def test_remove_pod_containers(
    state: FileState,
    reopen: Callable[[], FileState],
    pod: Pod,
    member: Container,
    make_container: Callable[..., Container],
) -> None:
    """Every member is removed (even ones depending on each other); the pod and others stay."""
    second = make_container(2, pod=pod.id, netNsCtr=member.id)
    state.add_container_to_pod(pod, second)
    outsider = make_container(3)
    state.add_container(outsider)
    state.remove_pod_containers(pod)
    other = reopen()
    assert other.pod_containers_by_id(pod) == []
    assert [c.id for c in other.all_containers()] == [outsider.id]
    assert other.has_pod(pod.id)
    for ctr in (member, second):
        with pytest.raises(errors.NoSuchContainerError):
            other.get_name(ctr.id)
    state.add_container(make_container(1))  # ID and name are free again
    state.remove_pod(pod)


def test_remove_pod_containers_of_empty_pod(state: FileState, pod: Pod) -> None:
    """remove_pod_containers of an empty pod succeeds and changes nothing."""
    state.remove_pod_containers(pod)
    assert state.pod_containers_by_id(pod) == []


def test_remove_pod_containers_drops_exec_sessions(
    state: FileState, pod: Pod, member: Container
) -> None:
    """Exec sessions do not block remove_pod_containers, and their registrations go too."""
    state.add_exec_session(member, ExecSession("exec1", member.id))
    state.remove_pod_containers(pod)
    with pytest.raises(errors.NoSuchExecSessionError):
        state.get_exec_session("exec1")
    with pytest.raises(errors.NoSuchExecSessionError):
        state.remove_exec_session(ExecSession("exec1", member.id))


def test_remove_pod_containers_drops_volume_users(
    state: FileState,
    pod: Pod,
    make_volume: Callable[..., Volume],
    make_container: Callable[..., Container],
) -> None:
    """Members' volume-user entries are removed, so the volume is free (Decision 4)."""
    vol = make_volume("data")
    state.add_volume(vol)
    ctr = make_container(1, pod=pod.id, namedVolumes=[{"volumeName": "data", "dest": "/d"}])
    state.add_container_to_pod(pod, ctr)
    assert state.volume_in_use(vol) == [ctr.id]
    state.remove_pod_containers(pod)
    assert state.volume_in_use(vol) == []
    state.remove_volume(vol)


# ------------------------------------------------------------------------ namespaces (§2.3)


@pytest.fixture
def pods_spread(state: FileState, make_pod: Callable[..., Pod]) -> list[Pod]:
    """Pod 1 in ns1, 2 in ns2, 3 in no namespace; the store's namespace is then ns1."""
    pods = [make_pod(1, namespace="ns1"), make_pod(2, namespace="ns2"), make_pod(3)]
    for pod in pods:
        state.add_pod(pod)
    state.set_namespace("ns1")
    return pods


@bolt_only
def test_namespace_filters_pods(state: FileState, pods_spread: list[Pod]) -> None:
    """With a namespace set, all_pods/has_pod hide pods of other (or no) namespaces."""
    one, two, three = pods_spread
    assert [p.id for p in state.all_pods()] == [one.id]
    assert (state.has_pod(one.id), state.has_pod(two.id), state.has_pod(three.id)) == (
        True,
        False,
        False,
    )
    state.set_namespace("")
    assert len(state.all_pods()) == 3


@bolt_only
@pytest.mark.parametrize(
    "call",
    [
        lambda st, p: st.pod(p.id),
        lambda st, p: st.lookup_pod(p.id),
        lambda st, p: st.pod_has_container(p, "1" * 32),
        lambda st, p: st.pod_containers_by_id(p),
        lambda st, p: st.pod_containers(p),
        lambda st, p: st.remove_pod(p),
        lambda st, p: st.remove_pod_containers(p),
        lambda st, p: st.update_pod(p),
        lambda st, p: st.save_pod(p),
    ],
    ids=["pod", "lookup-id", "has-ctr", "by-id", "ctrs", "remove", "remove-ctrs", "update", "save"],
)
@pytest.mark.parametrize("which", [1, 2], ids=["ns2", "no-ns"])
def test_pod_namespace_mismatch(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    pods_spread: list[Pod],
    call: Callable[..., Any],
    which: int,
) -> None:
    """Direct access to a pod outside the namespace → NamespaceMismatchError."""
    before = snapshot()
    with pytest.raises(errors.NamespaceMismatchError):
        call(state, pods_spread[which])
    assert snapshot() == before


@bolt_only
def test_pod_prefix_lookup_stays_inside_namespace(state: FileState, pods_spread: list[Pod]) -> None:
    """Pod ID prefixes match only pods of the current namespace."""
    assert state.lookup_pod("f").id == pods_spread[0].id
    with pytest.raises(errors.NoSuchPodError):
        state.lookup_pod("f2")


@bolt_only
def test_get_name_of_pod_outside_namespace(state: FileState, pods_spread: list[Pod]) -> None:
    """get_name of a pod outside the namespace → NoSuchContainerError."""
    with pytest.raises(errors.NoSuchContainerError):
        state.get_name(pods_spread[1].id)


@bolt_only
@pytest.mark.parametrize(
    "call",
    [
        lambda st, p: st.update_pod(p),
        lambda st, p: st.save_pod(p),
        lambda st, p: st.remove_pod(p),
        lambda st, p: st.pod_containers_by_id(p),
    ],
    ids=["update", "save", "remove", "by-id"],
)
def test_pod_namespace_checked_before_existence(
    state: FileState, make_pod: Callable[..., Pod], call: Callable[..., Any]
) -> None:
    """A missing pod outside the namespace → NamespaceMismatchError, object stays valid."""
    state.set_namespace("ns1")
    pod = make_pod(1, namespace="ns2")
    with pytest.raises(errors.NamespaceMismatchError):
        call(state, pod)
    assert pod.valid is True
