"""Pods: part of :class:`~fsstate.state.FileState`.

:class:`PodMethods` holds §1.2 Pod, LookupPod, HasPod, PodHasContainer, PodContainersByID,
PodContainers, AddPod, RemovePod, RemovePodContainers, UpdatePod, SavePod, RewritePodConfig
and AllPods (§2.5; lookups §2.2, namespaces §2.3). Adding a container to a pod and removing
one from it are in ``container_add_remove.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsstate.errors import (
    ContainerExistsError,
    CorruptDocumentError,
    EmptyIDError,
    InvalidArgumentError,
    NoSuchPodError,
)
from fsstate.model import Container, Pod
from fsstate.state import schema
from fsstate.state.base import StateBase, mapping_arg, no_document
from fsstate.state.catalog import POD, Catalog
from fsstate.store import codec
from fsstate.store import layout as L

__all__ = ["PodMethods"]


class PodMethods(StateBase):
    """Pods and their members (§1.2, §2.5)."""

    def get_pod_name(self, id: str) -> str:
        """Name of the pod with full ID ``id`` (NEWEST GetPodName, sq:500). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`
        (``"bolt"``: not a storable ID), :class:`NoSuchPodError` (also for a container's ID,
        and outside the namespace)."""
        self._arg(id, "pod ID")

        def get_name(cat: Catalog) -> str:
            pod = self._visible(cat.pod(id))
            if pod is None:
                raise NoSuchPodError(f"no pod with ID {id}", id=id)
            return pod.name

        return self._read(get_name)

    def pod(self, id: str) -> Pod:
        """The pod with full ID ``id``, with an empty state (§1.2 Pod). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchPodError`, :class:`NamespaceMismatchError`."""
        self._arg(id, "pod ID")
        return self._read(lambda cat: self._get_pod(cat, id))

    def _get_pod(self, cat: Catalog, pid: str) -> Pod:
        pod = cat.pod(pid)
        if pod is None:
            raise NoSuchPodError(f"no pod with ID {pid}", id=pid)
        self._ns_check(f"pod {pid}", pod.namespace)
        return pod

    def lookup_pod(self, id_or_name: str) -> Pod:
        """The pod named by full ID, name or unique ID prefix (§1.2 LookupPod). Errors, in
        order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`PodExistsError` (ambiguous prefix), :class:`NoSuchPodError`,
        :class:`NamespaceMismatchError`."""
        self._arg(id_or_name, "pod name or ID")
        return self._read(lambda cat: self._get_pod(cat, self._resolve(cat, POD, id_or_name)))

    def has_pod(self, id: str) -> bool:
        """Whether a pod with full ID ``id`` exists in the namespace (§1.2 HasPod). Errors:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(id, "pod ID")
        found = self._cached_exists(id, L.pod_doc)
        if found is not None:
            return found

        def has(cat: Catalog) -> bool:
            # As has_container: from the tree, without reading the config.
            return cat.is_pod(id) and (
                not self._namespace or cat.in_namespace(POD, id, self._namespace)
            )

        return self._read(has)

    def pod_has_container(self, pod: Pod, ctr_id: str) -> bool:
        """Whether container ``ctr_id`` is a member of ``pod`` (§1.2 PodHasContainer). Errors,
        in order: :class:`EmptyIDError`, :class:`StateClosedError`, :class:`PodRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchPodError` (+inv; under ``"sqlite"`` an
        unknown pod is simply ``False``, NEWEST sq:1443-1468)."""
        if ctr_id == "":
            raise EmptyIDError("container ID is empty")
        self._live_pod(pod)

        def has(cat: Catalog) -> bool:
            if self._rules.unknown_is_empty and not cat.is_pod(pod.id):
                return False
            self._stored_pod(cat, pod)
            return L.is_valid_name(ctr_id) and ctr_id in cat.pod_members(pod.id)

        return self._read(has, pod)

    def pod_containers_by_id(self, pod: Pod) -> list[str]:
        """Sorted IDs of ``pod``'s members (§1.2 PodContainersByID). Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NamespaceMismatchError`,
        :class:`NoSuchPodError` (+inv)."""
        self._live_pod(pod)

        def members(cat: Catalog) -> list[str]:
            self._stored_pod(cat, pod)
            return cat.live_pod_members(pod.id)

        return self._read(members, pod)

    def pod_containers(self, pod: Pod) -> list[Container]:
        """``pod``'s members, sorted by ID, with empty states (§1.2 PodContainers). Errors as
        :meth:`pod_containers_by_id`, then :class:`CorruptDocumentError` for a member that
        cannot be read. A member entry whose container directory is gone is left out."""
        self._live_pod(pod)

        def members(cat: Catalog) -> list[Container]:
            self._stored_pod(cat, pod)
            return list(cat.load_containers(cat.pod_members(pod.id)))

        with codec.many_documents():
            return self._read(members, pod)

    def add_pod(self, pod: Pod) -> None:
        """Add a pod (§1.2 AddPod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`InvalidArgumentError` (schema),
        :class:`NamespaceMismatchError`, :class:`PodExistsError` / :class:`ContainerExistsError`
        (ID, then name, taken by a pod / a container — Decisions 1–2)."""
        self._live_pod(pod)
        schema.validate("pod-config", pod.config, what=f"pod {pod.id} config")
        schema.validate("pod-state", pod.state, what=f"pod {pod.id} state")
        if pod.namespace and self._rules.namespaces:
            L.check_name(pod.namespace, f"pod {pod.id} namespace")

        def add(cat: Catalog) -> None:
            self._ns_check(f"pod {pod.id}", pod.namespace)
            cat.check_free(pod.id, pod.name, POD)
            cat.add_pod(pod)

        self._run(add)

    def remove_pod(self, pod: Pod) -> None:
        """Remove an empty pod (§1.2 RemovePod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`NamespaceMismatchError`, :class:`NoSuchPodError`
        (+inv), :class:`ContainerExistsError` (the pod has members). A pod whose config cannot
        be read is removed by ID with the pod passed in (issue 8); member entries of containers
        that are gone do not count."""
        self._live_pod(pod)

        def remove(cat: Catalog) -> None:
            stored = self._stored_pod(cat, pod, removing=True)
            members = cat.live_pod_members(pod.id)
            if members:
                raise ContainerExistsError(
                    f"pod {pod.id} still has containers: {', '.join(members)}", id=pod.id
                )
            cat.remove_pod(stored)

        self._run(remove)

    def remove_pod_containers(self, pod: Pod) -> None:
        """Remove every member of ``pod`` at once, with their exec-session registrations and
        volume-user entries (§1.2 RemovePodContainers; exec sessions do not block). Errors, in
        order: :class:`StateClosedError`, :class:`PodRemovedError`,
        :class:`NamespaceMismatchError`, :class:`NoSuchPodError` (+inv),
        :class:`ContainerExistsError` (a container outside the pod depends on a member). A
        member entry whose container is gone (removed by hand) is dropped."""
        self._live_pod(pod)

        def remove(cat: Catalog) -> None:
            self._stored_pod(cat, pod)
            ids = cat.pod_members(pod.id)
            members = list(cat.load_containers(ids))
            inside = set(ids)
            for member in members:
                outside = [d for d in cat.dependents(member.id) if d not in inside]
                if outside:
                    raise ContainerExistsError(
                        f"container {outside[0]} outside pod {pod.id} depends on member "
                        f"{member.id}",
                        id=member.id,
                    )
            for member in members:
                cat.remove_container(member)
            cat.remove_stale_members(pod.id)

        self._run(remove)

    def update_pod(self, pod: Pod) -> None:
        """Replace ``pod.state`` with the stored state (§1.2 UpdatePod). Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NamespaceMismatchError`,
        :class:`NoSuchPodError` (+inv), :class:`InternalError` (no state document)."""
        self._live_pod(pod)

        def update(cat: Catalog) -> dict[str, Any]:
            self._stored_pod(cat, pod)
            return self._state_doc(cat, L.pod_doc(pod.id, "state"), "pod", pod.id)

        pod.state = self._read(update, pod)

    def save_pod(self, pod: Pod) -> None:
        """Store ``pod.state`` (§1.2 SavePod). Errors, in order: :class:`StateClosedError`,
        :class:`PodRemovedError`, :class:`NamespaceMismatchError`, :class:`NoSuchPodError`
        (+inv), :class:`InvalidArgumentError` (schema)."""
        self._live_pod(pod)

        def save(cat: Catalog) -> None:
            self._stored_pod(cat, pod)
            schema.validate("pod-state", pod.state, what=f"pod {pod.id} state")
            cat.put_doc(L.pod_doc(pod.id, "state"), pod.state, f"pod {pod.id} state")

        self._run(save)

    def rewrite_pod_config(self, pod: Pod, config: Mapping[str, Any]) -> None:
        """Replace the stored PodConfig and set ``pod.config`` (§1.2 RewritePodConfig). A new
        name is registered; the ID and namespace cannot change. Errors, in order:
        :class:`StateClosedError`, :class:`PodRemovedError`, :class:`NoSuchPodError` (+inv),
        :class:`InvalidArgumentError`, :class:`ContainerExistsError` / :class:`PodExistsError`
        (new name taken)."""
        self._live_pod(pod)
        new = mapping_arg(config, f"pod {pod.id} config")

        def rewrite(cat: Catalog) -> None:
            stored = self._stored_pod(cat, pod, ns=False)
            schema.validate("pod-config", new, what=f"pod {pod.id} config")
            candidate = Pod._adopt(new)
            if (candidate.id, candidate.namespace) != (stored.id, stored.namespace):
                raise InvalidArgumentError(
                    f"pod {stored.id}: the ID and namespace cannot be changed by a rewrite"
                )
            self._rename(cat, POD, stored.id, stored.name, candidate.name)
            cat.put_doc(L.pod_doc(stored.id, "config"), new, f"pod {stored.id} config")

        self._run(rewrite)
        pod.config = codec.decode_object(codec.encode(new), "config")

    def all_pods(self, *, skipped: list[CorruptDocumentError] | None = None) -> list[Pod]:
        """Every pod in the namespace, sorted by ID, with empty states (§1.2 AllPods). A pod
        whose config cannot be read, or whose directory has no config, is skipped with a
        warning; given ``skipped``, as in :meth:`all_containers`. Errors:
        :class:`StateClosedError`."""

        def load(cat: Catalog, pid: str) -> Pod | None:
            pod = cat.pod(pid)
            if pod is None:
                raise no_document(cat, L.pod_doc(pid, "config"), f"pod {pid}")
            return self._visible(pod)

        return self._load_all("all_pods", lambda cat: cat.ids(POD, self._namespace), load, skipped)
