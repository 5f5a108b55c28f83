"""Exec-session registrations: part of :class:`~fsstate.state.FileState`.

:class:`ExecSessionMethods` holds §1.2 AddExecSession, GetExecSession, RemoveExecSession,
GetContainerExecSessions and RemoveContainerExecSessions (§2.7). Sessions are registrations
only: they block ``remove_container`` but not ``remove_pod_containers``, and ``refresh()``
drops them all (``lifecycle.py``).
"""

from __future__ import annotations

from fsstate.errors import ExecSessionExistsError, InternalError, NoSuchExecSessionError
from fsstate.model import Container, ExecSession
from fsstate.state.base import StateBase
from fsstate.state.catalog import Catalog
from fsstate.store import layout as L

__all__ = ["ExecSessionMethods"]


class ExecSessionMethods(StateBase):
    """Exec-session registrations (§1.2, §2.7)."""

    def add_exec_session(self, ctr: Container, session: ExecSession) -> None:
        """Register ``session`` to ``ctr`` (§1.2 AddExecSession; ``session.container_id`` is
        not checked, as SEED). Errors, in order: :class:`StateClosedError`,
        :class:`ContainerRemovedError`, :class:`EmptyIDError` / :class:`InvalidArgumentError`
        (session ID), :class:`NoSuchContainerError` (+inv), :class:`ExecSessionExistsError`."""
        self._live(ctr)
        sid = L.check_name(session.id, "exec session ID")

        def add(cat: Catalog) -> None:
            self._require_container(cat, ctr, ns=False)
            if cat.exec_owner(sid) is not None:
                raise ExecSessionExistsError(f"exec session {sid} is already registered", id=sid)
            cat.add_exec(sid, ctr.id)

        self._run(add)

    def get_exec_session(self, id: str) -> str:
        """The container ID exec session ``id`` is registered to (§1.2 GetExecSession).
        Errors, in order: :class:`StateClosedError`, :class:`EmptyIDError`,
        :class:`InvalidArgumentError` (``"bolt"``: not a storable ID),
        :class:`NoSuchExecSessionError`."""
        self._check_open()
        if id == "" or self._rules.odd_is_invalid:
            L.check_name(id, "exec session ID")

        def get(cat: Catalog) -> str:
            owner = cat.exec_owner(id)
            if owner is None:
                raise NoSuchExecSessionError(f"no exec session {id}", id=id)
            return owner

        return self._run(get)

    def remove_exec_session(self, session: ExecSession) -> None:
        """Unregister ``session`` (§1.2 RemoveExecSession). Errors, in order:
        :class:`StateClosedError`, :class:`NoSuchExecSessionError`, :class:`InternalError`
        (registered to another container than ``session.container_id``)."""
        self._check_open()
        sid = session.id

        def remove(cat: Catalog) -> None:
            owner = cat.exec_owner(sid) if L.is_valid_name(sid) else None
            if owner is None:
                raise NoSuchExecSessionError(f"no exec session {sid}", id=sid)
            if owner != session.container_id:
                raise InternalError(
                    f"exec session {sid} is registered to container {owner}, "
                    f"not {session.container_id}",
                    id=sid,
                )
            cat.remove_exec(sid, owner)

        self._run(remove)

    def get_container_exec_sessions(self, ctr: Container) -> list[str]:
        """Sorted IDs of the sessions registered to ``ctr`` (§1.2 GetContainerExecSessions).
        Errors, in order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NoSuchContainerError` (+inv; under ``"sqlite"`` an unknown container has
        none, NEWEST sq:1176)."""
        self._live(ctr)

        def get(cat: Catalog) -> list[str]:
            if self._rules.unknown_is_empty and not cat.is_container(ctr.id):
                return []
            self._require_container(cat, ctr, ns=False)
            return cat.exec_sessions(ctr.id)

        return self._run(get)

    def remove_container_exec_sessions(self, ctr: Container) -> None:
        """Unregister every session of ``ctr`` (§1.2 RemoveContainerExecSessions). Errors, in
        order: :class:`StateClosedError`, :class:`ContainerRemovedError`,
        :class:`NoSuchContainerError` (+inv; under ``"sqlite"`` an unknown container is a
        no-op, NEWEST sq:1208), :class:`InternalError` (a session's registry entry names
        another container)."""
        self._live(ctr)

        def remove(cat: Catalog) -> None:
            if self._rules.unknown_is_empty and not cat.is_container(ctr.id):
                return
            self._require_container(cat, ctr, ns=False)
            sessions = cat.exec_sessions(ctr.id)
            owners = {sid: cat.exec_owner(sid) for sid in sessions}
            for sid, owner in owners.items():
                if owner is not None and owner != ctr.id:
                    raise InternalError(
                        f"exec session {sid} of container {ctr.id} is registered to {owner}",
                        id=sid,
                    )
            for sid, owner in owners.items():
                cat.txn.delete(L.EXEC_SESSIONS.path(ctr.id, sid))
                if owner is not None:
                    cat.txn.delete(L.exec_doc(sid))
            cat.txn.rmdir(L.exec_index(ctr.id))

        self._run(remove)
