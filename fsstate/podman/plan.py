"""What an import is about to add, checked before any of it reaches the store
(``spec/podman-db-format.md`` §6), and the report of what it added.

Both readers (:mod:`.sqlite_import`, :mod:`.bolt_import`) turn their file into an
:class:`ImportPlan` without touching the store; :func:`check` then finds every dangling
reference and name clash in it at once and puts the containers in dependency order, which the
exporter (:mod:`.export`) needs as well.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from fsstate.errors import CorruptDocumentError, InvalidArgumentError
from fsstate.model import Container, DBConfig, ExecSession, Pod, Volume

#: ``progress(what, done, total)``: called while importing or exporting objects.
ProgressFn = Callable[[str, int, int], None]
StrPath = str | os.PathLike[str]


@dataclass(frozen=True)
class RenamedPod:
    """A pod renamed on import because a container had its name."""

    id: str
    old_name: str
    new_name: str


@dataclass
class ImportReport:
    """What an import added to the store, and what it left out or changed."""

    source: str
    format: Literal["sqlite", "bolt"]
    containers: int = 0
    pods: int = 0
    volumes: int = 0
    exec_sessions: int = 0
    exit_codes: int = 0
    db_config_pinned: bool = False
    renamed_pods: list[RenamedPod] = field(default_factory=list)
    #: Data the source holds that the State has no place for (exit codes, …), one line each.
    skipped: list[str] = field(default_factory=list)
    #: Inconsistencies between the source's derived data and its documents, one line each.
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as human-readable lines (the CLI prints them)."""
        out = [
            f"imported {self.containers} containers, {self.pods} pods, {self.volumes} volumes, "
            f"{self.exec_sessions} exec sessions and {self.exit_codes} exit codes from "
            f"{self.source} ({self.format})"
        ]
        out += [f"renamed pod {r.id}: {r.old_name} -> {r.new_name}" for r in self.renamed_pods]
        out += [f"skipped: {s}" for s in self.skipped]
        out += [f"warning: {w}" for w in self.warnings]
        return out


@dataclass
class ImportPlan:
    """Everything one source file holds, parsed, before any of it reaches the store."""

    path: str
    format: Literal["sqlite", "bolt"]
    db_config: DBConfig | None = None
    volumes: list[Volume] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    containers: list[Container] = field(default_factory=list)
    exec_sessions: list[ExecSession] = field(default_factory=list)
    #: ``(container ID, exit code, when it was recorded)``; the container may be gone.
    exit_codes: list[tuple[str, int, datetime]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Problems:
    """Every problem found in a source file, so one error can list them all."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.corrupt: list[str] = []
        self.invalid: list[str] = []

    def raise_any(self) -> None:
        for cls, found in (
            (CorruptDocumentError, self.corrupt),
            (InvalidArgumentError, self.invalid),
        ):
            if found:
                shown = found[:10] + ([f"and {len(found) - 10} more"] if len(found) > 10 else [])
                raise cls(f"{self.path}: {'; '.join(shown)}", path=self.path)


def check(plan: ImportPlan, rename: bool) -> list[Container]:
    """Check the plan is self-consistent; return its containers in insertion order."""
    problems = Problems(plan.path)
    ctrs = {c.id: c for c in plan.containers}
    pods = {p.id: p for p in plan.pods}
    vols = {v.name for v in plan.volumes}
    for shared in sorted(ctrs.keys() & pods.keys()):
        problems.corrupt.append(f"ID {shared} belongs to both a container and a pod")
    for ctr in plan.containers:
        _check_container(ctr, ctrs, pods, vols, problems)
    for sess in plan.exec_sessions:
        if sess.container_id not in ctrs:
            problems.corrupt.append(
                f"exec session {sess.id} belongs to container {sess.container_id}, "
                "which is not in the database"
            )
    if not rename:
        _check_name_clashes(plan, problems)
    problems.raise_any()
    ordered = dependency_order(plan.containers, problems)
    problems.raise_any()
    return ordered


def _check_container(
    ctr: Container,
    ctrs: Mapping[str, Container],
    pods: Mapping[str, Pod],
    vols: set[str],
    problems: Problems,
) -> None:
    what = f"container {ctr.id} ({ctr.name})"
    if ctr.pod_id and ctr.pod_id not in pods:
        problems.corrupt.append(f"{what} is in pod {ctr.pod_id}, which is not in the database")
    for dep in ctr.dependencies():
        if dep == ctr.id:
            problems.invalid.append(f"{what} depends on itself, which fsstate refuses")
        elif dep not in ctrs:
            problems.corrupt.append(
                f"{what} depends on container {dep}, which is not in the database"
            )
    for vol in ctr.named_volumes():
        if vol not in vols:
            problems.corrupt.append(f"{what} mounts volume {vol}, which is not in the database")


def _check_name_clashes(plan: ImportPlan, problems: Problems) -> None:
    by_name = {c.name: c for c in plan.containers}
    for pod in plan.pods:
        ctr = by_name.get(pod.name)
        if ctr is not None:
            problems.invalid.append(
                f"container {ctr.id} ({ctr.name}) and pod {pod.id} ({pod.name}) share the name "
                f"{pod.name!r}, but fsstate keeps one name registry for containers and pods "
                "(rename the pod, or import with rename_pods_on_clash / --rename-pods-on-clash)"
            )


def dependency_order(containers: list[Container], problems: Problems) -> list[Container]:
    """Containers with every dependency before its dependents; among the ready ones the
    smallest ID first, so the order is deterministic (Kahn's algorithm over a heap)."""
    by_id = {c.id: c for c in containers}
    waiting = {c.id: {d for d in c.dependencies() if d in by_id and d != c.id} for c in containers}
    dependents: dict[str, list[str]] = {}
    for cid, deps in waiting.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(cid)
    ready = [cid for cid, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    ordered: list[Container] = []
    while ready:
        cid = heapq.heappop(ready)
        ordered.append(by_id[cid])
        for dependent in dependents.get(cid, ()):
            waiting[dependent].discard(cid)
            if not waiting[dependent]:
                heapq.heappush(ready, dependent)
    stuck = sorted(set(by_id) - {c.id for c in ordered})
    if stuck:
        problems.corrupt.append(f"containers {', '.join(stuck)} depend on each other in a cycle")
    return ordered


def ticker(what: str, total: int, progress: ProgressFn | None) -> Callable[[], None]:
    """A callable that reports one more of ``total`` objects done to ``progress``."""
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(what, done, total)

    return tick
