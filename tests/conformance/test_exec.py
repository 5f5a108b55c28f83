"""Conformance: the exec-session registry.

Spec: ``spec/podman-state.md`` §1.2 (AddExecSession, GetExecSession, RemoveExecSession,
GetContainerExecSessions, RemoveContainerExecSessions, and the exec check of the shared delete
routine), §2.3, §2.7, Appendix A, and ``API.md`` Decision 3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fsstate import Container, ExecSession, FileState, Pod, errors

#: A rule of the 2020 Bolt state that today's Podman changed (test_semantics.py has the
#: "sqlite" side).
bolt_only = pytest.mark.semantics("bolt")


@pytest.fixture
def ctr(state: FileState, make_container: Callable[..., Container]) -> Container:
    """Container 1, stored."""
    ctr = make_container(1)
    state.add_container(ctr)
    return ctr


def session(sid: str, ctr: Container) -> ExecSession:
    return ExecSession(sid, ctr.id)


CLOSED_CALLS = {
    "add_exec_session": lambda st, c: st.add_exec_session(c, session("exec2", c)),
    "get_exec_session": lambda st, c: st.get_exec_session("exec1"),
    "get_exec_session-empty": lambda st, c: st.get_exec_session(""),
    "remove_exec_session": lambda st, c: st.remove_exec_session(session("exec1", c)),
    "get_container_exec_sessions": lambda st, c: st.get_container_exec_sessions(c),
    "remove_container_exec_sessions": lambda st, c: st.remove_container_exec_sessions(c),
}


@pytest.mark.parametrize("call", CLOSED_CALLS.values(), ids=CLOSED_CALLS.keys())
def test_closed_store_raises_before_anything_else(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    ctr: Container,
    call: Callable[..., Any],
) -> None:
    """After close() each exec method raises StateClosedError, get_exec_session("") too."""
    state.add_exec_session(ctr, session("exec1", ctr))
    before = snapshot()
    ctr.valid = False
    state.close()
    with pytest.raises(errors.StateClosedError):
        call(state, ctr)
    assert snapshot() == before


# ------------------------------------------------------------------------ add and get


def test_add_and_get(state: FileState, reopen: Callable[[], FileState], ctr: Container) -> None:
    """A registered session resolves to its container, in this store and a fresh one."""
    state.add_exec_session(ctr, session("exec1", ctr))
    for st in (state, reopen()):
        assert st.get_exec_session("exec1") == ctr.id
        assert st.get_container_exec_sessions(ctr) == ["exec1"]


def test_container_sessions_sorted_and_per_container(
    state: FileState, ctr: Container, make_container: Callable[..., Container]
) -> None:
    """get_container_exec_sessions lists the container's own sessions, sorted."""
    other = make_container(2)
    state.add_container(other)
    for sid in ("s3", "s1", "s2"):
        state.add_exec_session(ctr, session(sid, ctr))
    state.add_exec_session(other, session("s0", other))
    assert state.get_container_exec_sessions(ctr) == ["s1", "s2", "s3"]
    assert state.get_container_exec_sessions(other) == ["s0"]


def test_no_sessions(state: FileState, ctr: Container) -> None:
    """A container without sessions → []."""
    assert state.get_container_exec_sessions(ctr) == []


@pytest.mark.parametrize("owner", [1, 2])
def test_duplicate_session_id(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    ctr: Container,
    make_container: Callable[..., Container],
    owner: int,
) -> None:
    """A session ID already registered (to any container) → ExecSessionExistsError."""
    other = make_container(2)
    state.add_container(other)
    state.add_exec_session(ctr, session("exec1", ctr))
    before = snapshot()
    target = ctr if owner == 1 else other
    with pytest.raises(errors.ExecSessionExistsError):
        state.add_exec_session(target, session("exec1", target))
    assert snapshot() == before


def test_registry_maps_to_the_container_given(
    state: FileState, ctr: Container, make_container: Callable[..., Container]
) -> None:
    """The session is registered under ctr's ID; session.container_id is not cross-checked."""
    state.add_exec_session(ctr, ExecSession("exec1", make_container(7).id))
    assert state.get_exec_session("exec1") == ctr.id
    assert state.get_container_exec_sessions(ctr) == ["exec1"]


def test_session_id_may_equal_a_container_id(state: FileState, ctr: Container) -> None:
    """Session IDs are a registry of their own, independent of container IDs."""
    state.add_exec_session(ctr, session(ctr.id, ctr))
    assert state.get_exec_session(ctr.id) == ctr.id


def test_sessions_do_not_touch_container_state(state: FileState, ctr: Container) -> None:
    """Registering and removing sessions leaves the container's stored state alone."""
    state.add_exec_session(ctr, session("exec1", ctr))
    state.remove_container_exec_sessions(ctr)
    got = state.container(ctr.id)
    state.update_container(got)
    assert got.state == ctr.state


def test_add_to_missing_container(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_container: Callable[..., Container],
) -> None:
    """Adding to a container not stored → NoSuchContainerError (+inv), nothing written."""
    before = snapshot()
    ghost = make_container(1)
    with pytest.raises(errors.NoSuchContainerError):
        state.add_exec_session(ghost, session("exec1", ghost))
    assert ghost.valid is False
    with pytest.raises(errors.ContainerRemovedError):
        state.add_exec_session(ghost, session("exec1", ghost))
    with pytest.raises(errors.NoSuchExecSessionError):
        state.get_exec_session("exec1")
    assert snapshot() == before


def test_add_checks_validity_before_duplicate(state: FileState, ctr: Container) -> None:
    """An invalid container and a duplicate session ID → ContainerRemovedError."""
    state.add_exec_session(ctr, session("exec1", ctr))
    ctr.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        state.add_exec_session(ctr, session("exec1", ctr))


def test_get_unknown_session(state: FileState, ctr: Container) -> None:
    """get_exec_session of an unregistered ID → NoSuchExecSessionError."""
    with pytest.raises(errors.NoSuchExecSessionError):
        state.get_exec_session("nosuchexec")


def test_get_empty_session_id(state: FileState) -> None:
    """get_exec_session("") → EmptyIDError."""
    with pytest.raises(errors.EmptyIDError):
        state.get_exec_session("")


# ------------------------------------------------------------------------ remove


def test_remove_exec_session(
    state: FileState, reopen: Callable[[], FileState], ctr: Container
) -> None:
    """remove_exec_session unregisters one session and keeps the others."""
    state.add_exec_session(ctr, session("exec1", ctr))
    state.add_exec_session(ctr, session("exec2", ctr))
    state.remove_exec_session(session("exec1", ctr))
    other = reopen()
    with pytest.raises(errors.NoSuchExecSessionError):
        other.get_exec_session("exec1")
    assert other.get_container_exec_sessions(ctr) == ["exec2"]
    state.add_exec_session(ctr, session("exec1", ctr))  # the ID is free again


def test_remove_unknown_session(state: FileState, ctr: Container) -> None:
    """remove_exec_session of an unregistered ID → NoSuchExecSessionError."""
    with pytest.raises(errors.NoSuchExecSessionError):
        state.remove_exec_session(session("nosuchexec", ctr))


def test_remove_session_of_another_container(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    ctr: Container,
    make_container: Callable[..., Container],
) -> None:
    """A session object naming another container than the registry → InternalError."""
    other = make_container(2)
    state.add_container(other)
    state.add_exec_session(ctr, session("exec1", ctr))
    before = snapshot()
    with pytest.raises(errors.InternalError):
        state.remove_exec_session(session("exec1", other))
    assert snapshot() == before


def test_remove_container_exec_sessions(
    state: FileState,
    reopen: Callable[[], FileState],
    ctr: Container,
    make_container: Callable[..., Container],
) -> None:
    """remove_container_exec_sessions unregisters all of ctr's sessions and nobody else's."""
    other = make_container(2)
    state.add_container(other)
    state.add_exec_session(ctr, session("exec1", ctr))
    state.add_exec_session(ctr, session("exec2", ctr))
    state.add_exec_session(other, session("exec3", other))
    state.remove_container_exec_sessions(ctr)
    st = reopen()
    assert st.get_container_exec_sessions(ctr) == []
    for sid in ("exec1", "exec2"):
        with pytest.raises(errors.NoSuchExecSessionError):
            st.get_exec_session(sid)
    assert st.get_exec_session("exec3") == other.id
    state.remove_container_exec_sessions(ctr)  # nothing left: still fine


CTR_CALLS = {
    "add_exec_session": lambda st, c: st.add_exec_session(c, session("exec9", c)),
    "get_container_exec_sessions": lambda st, c: st.get_container_exec_sessions(c),
    "remove_container_exec_sessions": lambda st, c: st.remove_container_exec_sessions(c),
}


@bolt_only
@pytest.mark.parametrize("call", CTR_CALLS.values(), ids=CTR_CALLS.keys())
def test_missing_container_is_invalidated(
    state: FileState, make_container: Callable[..., Container], call: Callable[..., Any]
) -> None:
    """A container not stored → NoSuchContainerError (+inv), then ContainerRemovedError."""
    ghost = make_container(1)
    with pytest.raises(errors.NoSuchContainerError):
        call(state, ghost)
    assert ghost.valid is False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, ghost)


@pytest.mark.parametrize("call", CTR_CALLS.values(), ids=CTR_CALLS.keys())
def test_invalid_container_is_refused(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    ctr: Container,
    call: Callable[..., Any],
) -> None:
    """A container object with valid=False → ContainerRemovedError, even if still stored."""
    state.add_exec_session(ctr, session("exec1", ctr))
    before = snapshot()
    ctr.valid = False
    with pytest.raises(errors.ContainerRemovedError):
        call(state, ctr)
    assert snapshot() == before


@bolt_only
def test_exec_methods_ignore_namespaces(
    state: FileState, make_container: Callable[..., Container]
) -> None:
    """Exec-session methods work on containers outside the store's namespace (§2.3)."""
    ctr = make_container(1, namespace="ns2")
    state.add_container(ctr)
    state.set_namespace("ns1")
    state.add_exec_session(ctr, session("exec1", ctr))
    assert state.get_exec_session("exec1") == ctr.id
    assert state.get_container_exec_sessions(ctr) == ["exec1"]
    state.remove_exec_session(session("exec1", ctr))
    state.add_exec_session(ctr, session("exec2", ctr))
    state.remove_container_exec_sessions(ctr)
    assert state.get_container_exec_sessions(ctr) == []


# ------------------------------------------------------------------------ sessions block removal


def test_session_blocks_container_removal(
    state: FileState, snapshot: Callable[[], dict[str, Any]], ctr: Container
) -> None:
    """Removing a container with exec sessions → ExecSessionExistsError (Decision 3)."""
    state.add_exec_session(ctr, session("exec1", ctr))
    before = snapshot()
    with pytest.raises(errors.ExecSessionExistsError):
        state.remove_container(ctr)
    assert snapshot() == before
    state.remove_container_exec_sessions(ctr)
    state.remove_container(ctr)
    assert state.all_containers() == []


def test_sessions_checked_before_dependents(
    state: FileState, ctr: Container, make_container: Callable[..., Container]
) -> None:
    """A container with exec sessions and dependents → ExecSessionExistsError."""
    state.add_container(make_container(2, netNsCtr=ctr.id))
    state.add_exec_session(ctr, session("exec1", ctr))
    with pytest.raises(errors.ExecSessionExistsError):
        state.remove_container(ctr)


def test_session_blocks_removal_from_pod(
    state: FileState,
    snapshot: Callable[[], dict[str, Any]],
    make_pod: Callable[..., Pod],
    make_container: Callable[..., Container],
) -> None:
    """Removing a pod member with exec sessions and dependents → ExecSessionExistsError."""
    pod = make_pod(1)
    state.add_pod(pod)
    member = make_container(1, pod=pod.id)
    state.add_container_to_pod(pod, member)
    state.add_container_to_pod(pod, make_container(2, pod=pod.id, Dependencies=[member.id]))
    state.add_exec_session(member, session("exec1", member))
    before = snapshot()
    with pytest.raises(errors.ExecSessionExistsError):
        state.remove_container_from_pod(pod, member)
    assert snapshot() == before
