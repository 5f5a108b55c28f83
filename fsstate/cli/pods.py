"""``fsstate pod ps`` (``pod ls``, ``pod list``): Podman 4.3's ``podman pod ps``
(``cmd/podman/pods/ps.go``, ``pkg/domain/infra/abi/pods.go`` ``PodPs``).

Each pod becomes Podman's ``entities.ListPodsReport`` (:func:`pod_doc`, the 10 keys of ``pod
ps --format json``) and its ``ListPodReporter`` (:func:`pod_data`, the template fields). Rows
come newest first (``--sort created``, Podman's default for pods); members by ID. Members are
read in one pass with the pods' configs; a member that cannot be read is named on stderr and
left out (exit 6, :mod:`.partial`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from typing import Any

from fsstate import Container, Pod, errors
from fsstate.cli import filters as F
from fsstate.cli import partial, render, report
from fsstate.cli.context import Context
from fsstate.cli.humantime import go_time, human_duration
from fsstate.cli.parser import arg, command
from fsstate.store import codec

__all__ = ["POD_FILTERS", "pod_data", "pod_doc"]

#: The ``--filter`` keys ``pod ps`` takes (Podman's less ``until``: the state has no clock).
POD_FILTERS = (
    "id",
    "name",
    "label",
    "status",
    "ctr-names",
    "ctr-ids",
    "ctr-status",
    "ctr-number",
    "network",
)

#: ``report.Headers`` overrides of pods/ps.go.
POD_HEADERS = {
    "Id": "POD ID",
    "ID": "POD ID",
    "Name": "NAME",
    "Status": "STATUS",
    "Labels": "LABELS",
    "NumberOfContainers": "# OF CONTAINERS",
    "Created": "CREATED",
    "InfraID": "INFRA ID",
    "InfraId": "INFRA ID",
    "ContainerIds": "IDS",
    "ContainerNames": "NAMES",
    "ContainerStatuses": "STATUS",
    "Cgroup": "CGROUP",
    "Namespace": "NAMESPACES",
}

_SORT_KEYS = ("created", "id", "name", "number", "status")


def pod_doc(pod: Pod, members: Sequence[Container], networks: list[str]) -> dict[str, Any]:
    """The pod as ``podman pod ps --format json`` prints it (``ListPodsReport``, Podman's key
    order): ``Created`` as stored (RFC 3339), ``Labels`` ``{}`` when empty, ``Networks`` those
    of the infra container, ``Containers`` by ID with their state names."""
    labels = pod.config.get("labels")
    return {
        "Cgroup": str(pod.config.get("cgroupParent", "")),
        "Containers": [
            {"Id": c.id, "Names": c.name, "Status": render.state_name(c)} for c in members
        ],
        "Created": str(pod.config.get("created", "")),
        "Id": pod.id,
        "InfraId": render.infra_id(pod),
        "Name": pod.name,
        "Namespace": str(pod.config.get("namespace", "")),
        "Networks": networks,
        "Status": render.pod_status(members),
        "Labels": labels if isinstance(labels, dict) else {},
    }


def pod_data(doc: Mapping[str, Any], *, no_trunc: bool, now: float) -> dict[str, Any]:
    """The template fields of one row: ``ListPodsReport``'s, with ``ListPodReporter``'s
    methods in their place: ``Id``/``ID``/``InfraId``/``InfraID`` short unless ``no_trunc``,
    ``Created`` "… ago", ``Networks`` joined, ``NumberOfContainers``, ``ContainerIds`` /
    ``ContainerNames`` / ``ContainerStatuses`` joined with commas."""

    def short(ident: str) -> str:
        return ident if no_trunc else ident[:12]

    members = doc["Containers"]
    created = go_time(doc["Created"]).timestamp()
    return {
        **doc,
        "Id": short(doc["Id"]),
        "ID": short(doc["Id"]),
        "InfraId": short(doc["InfraId"]),
        "InfraID": short(doc["InfraId"]),
        "Created": f"{human_duration(now - created)} ago",
        "Networks": ",".join(doc["Networks"]),
        "NumberOfContainers": len(members),
        "ContainerIds": ",".join(short(c["Id"]) for c in members),
        "ContainerNames": ",".join(c["Names"] for c in members),
        "ContainerStatuses": ",".join(c["Status"] for c in members),
    }


def _default_format(args: argparse.Namespace) -> str:
    row = ["{{.Id}}", "{{.Name}}", "{{.Status}}", "{{.Created}}", "{{.InfraId}}"]
    if args.ctr_ids:
        row.append("{{.ContainerIds}}")
    if args.ctr_names:
        row.append("{{.ContainerNames}}")
    if args.ctr_status:
        row.append("{{.ContainerStatuses}}")
    if args.ns:
        row += ["{{.Cgroup}}", "{{.Namespace}}"]
    if not (args.ctr_ids or args.ctr_names or args.ctr_status):
        row.append("{{.NumberOfContainers}}")
    return "table " + "\t".join(row)


@command(
    "pod ls",
    help="list pods, as podman pod ps",
    aliases=["ps", "list"],
    arguments=[
        arg("--ctr-ids", action="store_true", help="show the members' IDs"),
        arg("--ctr-names", action="store_true", help="show the members' names"),
        arg("--ctr-status", action="store_true", help="show the members' statuses"),
        F.filter_arg(POD_FILTERS, "pods"),
        arg("--format", metavar="FORMAT", help="json, a Go template, or 'table' and one"),
        arg("-l", "--latest", action="store_true", help="the newest pod only"),
        arg("--no-trunc", action="store_true", help="full IDs"),
        arg("--noheading", action="store_true", help="no header row"),
        arg("--ns", action="store_true", help="show the cgroup parent and libpod namespace"),
        arg("-q", "--quiet", action="store_true", help="print the IDs only"),
        arg(
            "--sort",
            choices=_SORT_KEYS,
            default="created",
            help="order of the rows (default: created, newest first)",
        ),
    ],
)
def cmd_pod_ps(ctx: Context, args: argparse.Namespace) -> int:
    wanted = F.parse(args.filter, POD_FILTERS, "pods")
    state = ctx.state()
    skipped: list[errors.CorruptDocumentError] = []
    pods = state.all_pods(skipped=skipped)
    nets: dict[str, list[str] | errors.CorruptDocumentError] = {}
    ctrs = state.all_containers(
        load_state=True, skipped=skipped, networks=nets, view=_MEMBER_VIEW, processes=ctx.cpus()
    )
    members: dict[str, list[Container]] = {}
    for ctr in ctrs:
        members.setdefault(ctr.pod_id, []).append(ctr)
    by_id = {c.id: c for c in ctrs}
    now = time.time()
    docs = []
    for pod in pods:
        try:
            state.update_pod(pod)
        except errors.NotFoundError:
            continue  # removed meanwhile
        except errors.CorruptDocumentError as exc:
            skipped.append(exc)
            continue
        mine = members.get(pod.id, [])
        doc = pod_doc(pod, mine, partial.networks(nets, by_id.get(render.infra_id(pod)), skipped))
        if _matches(doc, wanted):
            docs.append(doc)
    docs = _sorted(docs, args.sort)
    if args.latest:
        docs = sorted(docs, key=lambda d: go_time(d["Created"]), reverse=True)[:1]
    if args.quiet:
        for doc in docs:
            ctx.print(doc["Id"] if args.no_trunc else doc["Id"][:12])
    else:
        report.emit(
            ctx,
            args.format,
            default=_default_format(args),
            docs=docs,
            data=[pod_data(d, no_trunc=args.no_trunc, now=now) for d in docs],
            headers=POD_HEADERS,
            noheading=args.noheading,
        )
    return partial.finish(ctx, skipped)


#: What ``pod ps`` reads of a container's config (its identity and pod): the listing decodes
#: no more of each config, and 10,000 listed containers do not hold their whole configs.
_MEMBER_VIEW = codec.Projection(("id", "name", "namespace", "pod"))


def _sorted(docs: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """pods/ps.go ``sortPodPsOutput``: created newest first; the others ascending."""
    if key == "created":
        return sorted(docs, key=lambda d: (go_time(d["Created"]), d["Id"]), reverse=True)
    if key == "number":
        return sorted(docs, key=lambda d: (len(d["Containers"]), d["Id"]))
    field = {"id": "Id", "name": "Name", "status": "Status"}[key]
    return sorted(docs, key=lambda d: (d[field], d["Id"]))


_POD_STATUSES = ("stopped", "running", "paused", "exited", "dead", "created", "degraded")
_CTR_STATUSES = ("created", "running", "paused", "stopped", "exited", "unknown", "initialized")


def _matches(doc: Mapping[str, Any], wanted: F.Filters) -> bool:
    """Whether the pod passes every filter (filters/pods.go, Podman 4.3)."""
    members = doc["Containers"]
    for key, values in wanted.items():
        if key == "id":
            ok = F.regex_any(doc["Id"], values)
        elif key == "name":
            ok = F.regex_any(doc["Name"], values)
        elif key == "label":
            ok = F.labels_match(doc["Labels"], values)
        elif key == "status":
            _check(values, _POD_STATUSES, "pod status")
            ok = doc["Status"].lower() in values
        elif key == "ctr-names":
            ok = any(F.regex_any(c["Names"], values) for c in members)
        elif key == "ctr-ids":
            ok = any(F.regex_any(c["Id"], values) for c in members)
        elif key == "ctr-status":
            _check(values, _CTR_STATUSES, "container status")
            ok = any(c["Status"] in values for c in members)
        elif key == "ctr-number":
            ok = any(v.isdigit() and int(v) == len(members) for v in values)
        else:  # network
            ok = any(v in doc["Networks"] for v in values)
        if not ok:
            return False
    return True


def _check(values: Sequence[str], allowed: Sequence[str], what: str) -> None:
    for v in values:
        if v not in allowed:
            raise errors.InvalidArgumentError(
                f"{v!r} is not a valid {what}: one of {', '.join(allowed)}"
            )
