"""Adding and removing containers: part of :class:`~fsstate.state.FileState`.

:class:`ContainerAddRemoveMethods` holds §1.2 AddContainer and AddContainerToPod over SEED's
shared insert routine (``_insert``: every check first, then every write; dependency rules
§2.4), and RemoveContainer and RemoveContainerFromPod over the shared delete routine
(``_delete``; Decision 3). The pod variants live here, not in ``pods.py``, because they are
the same routines with a pod passed in.
"""

from __future__ import annotations

from fsstate.errors import (
    DependencyExistsError,
    ExecSessionExistsError,
    InvalidArgumentError,
    NamespaceMismatchError,
    NoSuchContainerError,
    NoSuchPodError,
    NoSuchVolumeError,
    PodExistsError,
)
from fsstate.model import Container, Pod
from fsstate.state import rules, schema
from fsstate.state.base import StateBase
from fsstate.state.catalog import CONTAINER, Catalog
from fsstate.store import layout as L

__all__ = ["ContainerAddRemoveMethods"]


class ContainerAddRemoveMethods(StateBase):
    """Container add and remove, with and without a pod (§1.2)."""

    def add_container(self, ctr: Container) -> None:
        """Add a container (§1.2 AddContainer + shared insert routine). Under ``"bolt"`` it
        must not be in a pod; under ``"sqlite"`` a pod member is added too, as NEWEST
        AddContainer does (sqi:411-498).

        Errors, in order: :class:`StateClosedError`; :class:`ContainerRemovedError`;
        :class:`InvalidArgumentError` (config or state fails its schema, or, under ``"bolt"``,
        ``config.pod`` is set — use :meth:`add_container_to_pod`);
        :class:`NamespaceMismatchError`; :class:`ContainerExistsError` /
        :class:`PodExistsError` (ID, then name, taken — Decisions 1–2; under ``"sqlite"`` the
        name among containers first, then the ID); :class:`NoSuchPodError` (``"sqlite"``: the
        member's pod does not exist); :class:`InvalidArgumentError` (empty network name);
        :class:`NoSuchNetworkError` (alias for a network not joined);
        :class:`InvalidArgumentError` (self-dependency); :class:`NoSuchContainerError`
        (dependency missing); :class:`InvalidArgumentError` (dependency in a pod);
        :class:`NamespaceMismatchError` (dependency in another namespace);
        :class:`NoSuchVolumeError` (named volume missing).
        """
        self._live(ctr)
        self._validate_container(ctr)
        if ctr.pod_id and not self._rules.members_via_add:
            raise InvalidArgumentError(
                f"container {ctr.id} is in pod {ctr.pod_id}; add it with add_container_to_pod",
                id=ctr.id,
            )
        self._run(lambda cat: self._insert(cat, ctr, None))

    def add_container_to_pod(self, pod: Pod, ctr: Container) -> None:
        """Add a container that is a member of ``pod`` (§1.2 AddContainerToPod).

        Errors, in order: :class:`StateClosedError`; :class:`PodRemovedError`;
        :class:`ContainerRemovedError`; :class:`InvalidArgumentError` (schema);
        :class:`NoSuchContainerError` (``config.pod`` is not ``pod``'s ID, as SEED);
        :class:`NamespaceMismatchError`; :class:`NoSuchPodError` (+inv pod);
        :class:`NamespaceMismatchError` (pod in another namespace); then as
        :meth:`add_container`, with the pod rule for dependencies (§2.4): each must be a member
        of the same pod, else :class:`InvalidArgumentError`.
        """
        self._live_pod(pod)
        self._live(ctr)
        self._validate_container(ctr)
        if ctr.pod_id != pod.id:
            raise NoSuchContainerError(
                f"container {ctr.id} belongs to pod {ctr.pod_id!r}, not {pod.id}", id=ctr.id
            )
        self._run(lambda cat: self._insert(cat, ctr, pod))

    def _validate_container(self, ctr: Container) -> None:
        schema.validate("container-config", ctr.config, what=f"container {ctr.id} config")
        schema.validate("container-state", ctr.state, what=f"container {ctr.id} state")
        if ctr.namespace and self._rules.namespaces:
            L.check_name(ctr.namespace, f"container {ctr.id} namespace")

    def _insert(self, cat: Catalog, ctr: Container, pod: Pod | None) -> None:
        """SEED Bolt ``addContainer``: every check first, then every write (§1.2)."""
        cid = ctr.id
        self._ns_check(f"container {cid}", ctr.namespace)
        if pod is not None:
            stored_pod = cat.pod(pod.id)
            if stored_pod is None:
                pod.valid = False
                raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
            if self._rules.namespaces and stored_pod.namespace != ctr.namespace:
                raise NamespaceMismatchError(
                    f"container {cid} namespace {ctr.namespace!r} differs from pod "
                    f"{pod.id}'s {stored_pod.namespace!r}",
                    id=cid,
                )
        cat.check_free(cid, ctr.name, CONTAINER)
        if pod is None and ctr.pod_id:  # NEWEST: a member through AddContainer (sqi:455 FK)
            pod = cat.pod(ctr.pod_id)
            if pod is None:
                raise NoSuchPodError(
                    f"container {cid} is in pod {ctr.pod_id}, which does not exist",
                    id=ctr.pod_id,
                )
        networks = rules.initial_networks(cid, ctr.config)
        for dep in ctr.dependencies():
            self._check_dependency(cat, ctr, dep, pod)
        for volume in ctr.named_volumes():
            if not L.is_valid_name(volume) or not cat.is_volume(volume):
                raise NoSuchVolumeError(
                    f"container {cid} mounts volume {volume}, which does not exist", name=volume
                )
        # Under "sqlite" the config's own list is the live one (NEWEST): no side document.
        cat.add_container(ctr, None if self._rules.networks_in_config else networks)

    def _check_dependency(self, cat: Catalog, ctr: Container, dep: str, pod: Pod | None) -> None:
        cid = ctr.id
        if dep == cid:
            raise InvalidArgumentError(f"container {cid} depends on itself", id=cid)
        stored = cat.container(dep) if L.is_valid_name(dep) else None
        if stored is None:
            raise NoSuchContainerError(
                f"container {cid} depends on {dep}, which is not a container", id=dep
            )
        if pod is None and stored.pod_id:
            raise InvalidArgumentError(
                f"container {cid} is not in a pod but depends on {dep} in pod {stored.pod_id}"
            )
        if pod is not None and stored.pod_id != pod.id:
            where = f"pod {stored.pod_id}" if stored.pod_id else "no pod"
            raise InvalidArgumentError(
                f"container {cid} in pod {pod.id} depends on {dep} in {where}"
            )
        if self._rules.namespaces and stored.namespace != ctr.namespace:
            raise NamespaceMismatchError(
                f"container {cid} and its dependency {dep} are in different namespaces"
            )

    def remove_container(self, ctr: Container) -> None:
        """Remove a container (§1.2 RemoveContainer + shared delete). Under ``"bolt"`` it must
        not be in a pod; under ``"sqlite"`` a pod member is removed too, without checking the
        pod (NEWEST sqi:501-577). Its exit code stays (API.md).

        Errors, in order: :class:`StateClosedError`; :class:`PodExistsError` (``"bolt"``:
        ``config.pod`` set — use :meth:`remove_container_from_pod`; but a stored member of a
        pod that is gone, e.g. quarantined by ``fsck --repair``, is removed here, issue 8);
        :class:`NoSuchContainerError` (+inv); :class:`NamespaceMismatchError`;
        :class:`ExecSessionExistsError`; :class:`DependencyExistsError` (Decision 3). Does not
        check or change ``valid``. A container whose stored config cannot be read is removed
        by ID with the config passed in (unless a name in that is not valid either: then
        :class:`CorruptDocumentError`).
        """
        self._check_open()

        def delete(cat: Catalog) -> None:
            pod_gone = L.is_valid_name(ctr.pod_id) and not cat.is_pod(ctr.pod_id)
            if (
                ctr.pod_id
                and not self._rules.members_via_add
                and not (pod_gone and L.is_valid_name(ctr.id) and cat.is_container(ctr.id))
            ):
                raise PodExistsError(
                    f"container {ctr.id} is in pod {ctr.pod_id}; remove it with "
                    "remove_container_from_pod",
                    id=ctr.id,
                )
            self._delete(cat, ctr, None)

        self._run(delete)

    def remove_container_from_pod(self, pod: Pod, ctr: Container) -> None:
        """Remove a member of ``pod`` (§1.2 RemoveContainerFromPod).

        Errors, in order: :class:`StateClosedError`; :class:`PodRemovedError`;
        :class:`NamespaceMismatchError`; :class:`NoSuchPodError` (container in no pod);
        :class:`InvalidArgumentError` (container in another pod); :class:`NoSuchPodError`
        (+inv pod); :class:`NoSuchContainerError` (+inv); :class:`NoSuchContainerError` (not a
        member); :class:`ExecSessionExistsError`; :class:`DependencyExistsError`.
        """
        self._live_pod(pod)
        if self._ns_hidden(pod.namespace) or self._ns_hidden(ctr.namespace):
            raise NamespaceMismatchError(
                f"pod {pod.id} or container {ctr.id} is not in {self._namespace!r}"
            )
        if not ctr.pod_id:
            raise NoSuchPodError(f"container {ctr.id} is not in a pod", id=ctr.id)
        if ctr.pod_id != pod.id:
            raise InvalidArgumentError(
                f"container {ctr.id} is in pod {ctr.pod_id}, not {pod.id}", id=ctr.id
            )
        self._run(lambda cat: self._delete(cat, ctr, pod))

    def _delete(self, cat: Catalog, ctr: Container, pod: Pod | None) -> None:
        """SEED Bolt ``removeContainer`` (§1.2 shared delete routine)."""
        if pod is not None and cat.pod(pod.id) is None:
            pod.valid = False
            raise NoSuchPodError(f"pod {pod.id} is not in the state", id=pod.id)
        stored = self._stored_container(cat, ctr, ns=False, removing=True)
        cid = stored.id
        self._ns_check(f"container {cid}", stored.namespace)
        if pod is not None:
            self._ns_check(f"pod {pod.id}", pod.namespace)
            if cid not in cat.pod_members(pod.id):
                raise NoSuchContainerError(f"container {cid} is not a member of pod {pod.id}")
        if cat.exec_sessions(cid):
            raise ExecSessionExistsError(
                f"container {cid} has exec sessions; remove them first", id=cid
            )
        dependents = cat.dependents(cid)
        if dependents:
            raise DependencyExistsError(
                f"container {cid} is a dependency of {', '.join(dependents)}", id=cid
            )
        cat.remove_container(stored)
