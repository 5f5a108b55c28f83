"""FileState: Podman's libpod ``State`` interface over the plain-file store.

Each public method follows ``spec/podman-state.md`` §1.2 (SEED, Nov 2020) in its check order,
with Appendix A where SEED was a bug and the Decisions of API.md. The checks of a call read
through a :class:`~fsstate.state.catalog.Catalog`; only after every check passes does the call
record its changes, which the storage commits as one atomic, durable record. So a call that raises
has written nothing.

"+inv" in a docstring means: before raising, the passed-in object's ``valid`` becomes False
(§2.11).

:class:`FileState` is assembled here from one part per area; every part subclasses
:class:`~fsstate.state.base.StateBase`, the plumbing and checks they share:

* ``base.py`` — constructor, store lock and transactions, ``close``, argument, namespace and
  "still stored" checks, the container/pod resolver (§2.2, §2.3);
* ``lifecycle.py`` — ``set_namespace``, ``refresh``, the DB config (§2.9, §2.10);
* ``containers.py`` — container getters, update/save/in-use/rewrite;
* ``container_add_remove.py`` — add and remove a container, with or without a pod (§2.4);
* ``networks.py`` — a container's networks and aliases (§2.8);
* ``exec_sessions.py`` — exec-session registrations (§2.7);
* ``exit_codes.py`` — exit codes that outlive their containers (NEWEST);
* ``pods.py`` — pods (§2.5);
* ``volumes.py`` — named volumes (§2.6);
* ``migration.py`` — ``migrate``: the store from one semantics to the other in one commit.
"""

from __future__ import annotations

from fsstate.state.container_add_remove import ContainerAddRemoveMethods
from fsstate.state.containers import ContainerMethods
from fsstate.state.exec_sessions import ExecSessionMethods
from fsstate.state.exit_codes import ExitCodeMethods
from fsstate.state.lifecycle import LifecycleMethods
from fsstate.state.migration import MigrationMethods
from fsstate.state.networks import NetworkMethods
from fsstate.state.pods import PodMethods
from fsstate.state.volumes import VolumeMethods

__all__ = ["FileState"]


class FileState(
    LifecycleMethods,
    ContainerMethods,
    ContainerAddRemoveMethods,
    NetworkMethods,
    ExecSessionMethods,
    ExitCodeMethods,
    PodMethods,
    VolumeMethods,
    MigrationMethods,
):
    """Podman's State kept as plain JSON files under ``<static_dir>/fsstate``.

    ``FileState(static_dir, tmp_dir, *, lock_timeout=100.0, create=True, semantics=None)``
    creates the tree when missing, as Podman does; ``semantics`` (``"bolt"`` or ``"sqlite"``)
    is pinned in a new store (``"bolt"`` when ``None``) and must match an existing store's
    (:class:`DBConfigMismatchError`, API.md "Today's Podman"); with ``create=False`` a
    missing store is :class:`NoSuchStoreError` and nothing is created. On a read-only mount
    the store opens for reading only (``FileStorage``).
    Any number of FileState objects, threads and processes may share one ``static_dir``; every
    method is atomic and linearizable across all of them. Usable as a context manager
    (``close()`` on exit). ``storage=MemoryStorage()`` runs the same rules with nothing on disk
    (the conformance suite's second backend).

    Raises :class:`CorruptDocumentError` when the tree holds a newer layout or a symlink
    where the store directory should be.
    """
