"""``fsstate ps``: Podman 4.3's ``podman ps`` over the store (``cmd/podman/containers/ps.go``,
``pkg/domain/infra/abi/ps.go`` ``GetContainerLists``, ``pkg/ps/ps.go`` ``ListContainerBatch``).

Each container becomes a :class:`PsRow`: Podman's ``psReporter`` (the fields of ``--format``
templates, each made when a template reads it) and, through :meth:`PsRow.document`, its
``entities.ListContainer`` (the 24 keys of ``ps --format json``). Rows come in creation order
(``--sort created``, Podman's default). What the state does not hold is printed as Podman
prints it when it has nothing: ``Size`` null, ``Namespaces`` ``{}`` (Podman fills them only
with ``--size`` / ``--ns``, not supported here).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

from fsstate import Container, FileState, errors
from fsstate.cli import filters as F
from fsstate.cli import partial, render, report
from fsstate.cli.context import Context
from fsstate.cli.humantime import go_time, human_duration, unix, unix_of
from fsstate.cli.parser import arg, command
from fsstate.status import ContainerStatus
from fsstate.store import codec

__all__ = ["PS_FILTERS", "PsItem", "PsRow", "ps_status"]

#: The ``--filter`` keys ``ps`` takes (Podman's, less those on data the state lacks:
#: ``health``, ``until``, ``restart-policy``, ``label!``).
PS_FILTERS = (
    "id",
    "name",
    "label",
    "status",
    "pod",
    "exited",
    "network",
    "volume",
    "ancestor",
    "before",
    "since",
)

#: ``report.Headers`` overrides of ps.go.
PS_HEADERS = {
    "CreatedHuman": "CREATED",
    "ID": "CONTAINER ID",
    "Networks": "NETWORKS",
    "Pod": "POD ID",
    "PodName": "PODNAME",
    "RunningFor": "CREATED",
}

_SORT_KEYS = ("command", "created", "id", "image", "names", "runningfor", "status")


@dataclass
class PsItem:
    """A container and what its row needs beyond its documents; ``created``: its parsed
    ``createdTime`` (:func:`~fsstate.cli.humantime.go_time`), read from the config when
    ``None``."""

    ctr: Container
    networks: list[str]
    ports: list[Any] | None
    pod_name: str
    created: datetime | None = None


def ps_status(ctr: Container, now: float) -> str:
    """psReporter ``Status()`` of Podman 4.3: ``Up 2 hours ago``, ``Exited (3) 47 seconds
    ago``, ``Created``, ``Paused``, … (``strings.Title`` of the state; durations through
    :func:`~fsstate.cli.humantime.human_duration` from the start or finish second)."""
    state = ctr.state
    status = render.container_status(ctr)
    if status == ContainerStatus.RUNNING:
        return f"Up {human_duration(now - unix(state.get('startedTime')))} ago"
    if status in (ContainerStatus.EXITED, ContainerStatus.STOPPED):
        ago = human_duration(now - unix(state.get("finishedTime")))
        return f"Exited ({_int(state.get('exitCode'))}) {ago} ago"
    return status.text.title()


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _auto_remove(ctr: Container) -> bool:
    """libpod ``Container.AutoRemove()``: the spec annotation ``io.podman.annotations.autoremove``
    is ``TRUE``."""
    spec = ctr.config.get("spec")
    notes = spec.get("annotations") if isinstance(spec, dict) else None
    return isinstance(notes, dict) and notes.get("io.podman.annotations.autoremove") == "TRUE"


def _command(ctr: Container) -> list[str] | None:
    cmd = ctr.config.get("command")
    return [str(c) for c in cmd] if isinstance(cmd, list) and cmd else None


def _labels(ctr: Container) -> dict[str, Any] | None:
    labels = ctr.config.get("labels")
    return labels if isinstance(labels, dict) and labels else None


def _config_str(key: str) -> Callable[[PsItem, float], str]:
    return lambda item, now: str(item.ctr.config.get(key, ""))


def _state_int(key: str) -> Callable[[PsItem, float], int]:
    return lambda item, now: _int(item.ctr.state.get(key))


def _state_unix(key: str) -> Callable[[PsItem, float], int]:
    return lambda item, now: unix(item.ctr.state.get(key))


def _mounts(item: PsItem, now: float) -> list[str]:
    mounts = item.ctr.config.get("userVolumes")
    return [str(m) for m in mounts] if isinstance(mounts, list) else []


#: How each key of ``ps --format json`` is made from the container (Podman 4.3
#: ``ListContainer``, its 24 keys in Podman's order; ``CreatedAt`` and ``Status`` human, as
#: 4.3's ``jsonOut`` sets them, ``CreatedAt`` from the full creation time, with its fraction).
_DOC: dict[str, Callable[[PsItem, float], Any]] = {
    "AutoRemove": lambda item, now: _auto_remove(item.ctr),
    "Command": lambda item, now: _command(item.ctr),
    "CreatedAt": lambda item, now: f"{human_duration(now - _created(item).timestamp())} ago",
    "Exited": lambda item, now: bool(item.ctr.state.get("exited", False)),
    "ExitedAt": _state_unix("finishedTime"),
    "ExitCode": _state_int("exitCode"),
    "Id": lambda item, now: item.ctr.id,
    "Image": _config_str("rootfsImageName"),
    "ImageID": _config_str("rootfsImageID"),
    "IsInfra": lambda item, now: bool(item.ctr.config.get("pause", False)),
    "Labels": lambda item, now: _labels(item.ctr),
    "Mounts": _mounts,
    "Names": lambda item, now: [item.ctr.name],
    "Namespaces": lambda item, now: {},
    "Networks": lambda item, now: item.networks,
    "Pid": _state_int("pid"),
    "Pod": lambda item, now: item.ctr.pod_id,
    "PodName": lambda item, now: item.pod_name,
    "Ports": lambda item, now: item.ports,
    "Size": lambda item, now: None,
    "StartedAt": _state_unix("startedTime"),
    "State": lambda item, now: render.state_name(item.ctr),
    "Status": lambda item, now: ps_status(item.ctr, now),
    "Created": lambda item, now: unix_of(_created(item)),
}


def _created(item: PsItem) -> datetime:
    """The item's creation time, parsed once."""
    if item.created is None:
        item.created = go_time(item.ctr.config.get("createdTime"))
    return item.created


def ports_text(ports: Sequence[Any] | None) -> str:
    """ps.go ``portsToString``: ``0.0.0.0:8080->80/tcp, 0.0.0.0:7000-7002->7000-7002/tcp``."""
    shown = []
    for port in ports or []:
        if not isinstance(port, dict):
            continue
        host_ip = port.get("host_ip") or "0.0.0.0"
        host, ctr, count = (_int(port.get(k)) for k in ("host_port", "container_port", "range"))
        for proto in str(port.get("protocol", "")).split(","):
            if count > 1:
                shown.append(
                    f"{host_ip}:{host}-{host + count - 1}->{ctr}-{ctr + count - 1}/{proto}"
                )
            else:
                shown.append(f"{host_ip}:{host}->{ctr}/{proto}")
    return ", ".join(shown)


def _short(key: str) -> Callable[[PsRow], str]:
    return lambda row: row.doc(key) if row.no_trunc else row.doc(key)[:12]


def _joined(key: str) -> Callable[[PsRow], str]:
    return lambda row: ",".join(row.doc(key))


def _command_text(row: PsRow) -> str:
    command = " ".join(row.doc("Command") or [])
    return command if row.no_trunc or len(command) <= 17 else command[:17] + "..."


def _label(row: PsRow) -> Callable[[str], str]:
    labels = row.doc("Labels") or {}
    return lambda name: str(labels.get(name, ""))


#: psReporter's methods (Podman 4.3 ps.go), each in place of the ``ListContainer`` field of
#: its name: ``ID``/``Pod`` short unless ``--no-trunc``, ``Command`` joined and cut at 17
#: characters, ``Names``/``Networks``/``Mounts`` joined, ``Labels`` ``k=v,…`` sorted,
#: ``Label "k"``, ``Ports`` as text, ``CreatedAt`` Go's ``Time.String()`` of the creation
#: second, ``CreatedHuman``/``RunningFor`` "… ago", ``State`` and ``Status`` the human status.
_REPORTER: dict[str, Callable[[PsRow], Any]] = {
    "ID": _short("Id"),
    "Pod": _short("Pod"),
    "Command": _command_text,
    "Names": lambda row: row.doc("Names")[0],
    "Networks": _joined("Networks"),
    "Mounts": _joined("Mounts"),
    "Labels": lambda row: ",".join(
        sorted(f"{k}={v}" for k, v in (row.doc("Labels") or {}).items())
    ),
    "Label": _label,
    "Ports": lambda row: ports_text(row.doc("Ports")),
    "CreatedAt": lambda row: time.strftime(
        "%Y-%m-%d %H:%M:%S %z %Z", time.localtime(row.doc("Created"))
    ),
    "CreatedHuman": lambda row: row.doc("CreatedAt"),
    "RunningFor": lambda row: row.doc("CreatedAt"),
    "State": lambda row: row.doc("Status"),
    "Size": lambda row: "",
}
#: A row's fields in the order ``{{json .}}`` prints them: the document's but ``Id``, then
#: psReporter's own.
_ROW_KEYS = tuple(dict.fromkeys([*(k for k in _DOC if k != "Id"), *_REPORTER]))
_ROW_KEY_SET = frozenset(_ROW_KEYS)
#: A field or document key not worked out yet (``None`` is a value: ``Size``).
_UNMADE: Any = object()


class PsRow(Mapping[str, Any]):
    """One container's row: its template fields (Podman's ``psReporter``) and, through
    :meth:`document`, its ``ps --format json`` document. Each field is worked out when first
    read, as Podman calls a reporter method only when the template names it: the default
    table reads 7 of the 31 (a third of the time a row took when every field was made)."""

    __slots__ = ("_doc", "_fields", "item", "no_trunc", "now")

    def __init__(self, item: PsItem, now: float, *, no_trunc: bool) -> None:
        """``now``: Unix seconds, for the human times."""
        self.item, self.now, self.no_trunc = item, now, no_trunc
        self._doc: dict[str, Any] = {}
        self._fields: dict[str, Any] = {}

    def doc(self, key: str) -> Any:
        """The value of document key ``key`` (:data:`_DOC`)."""
        value = self._doc.get(key, _UNMADE)
        if value is _UNMADE:
            value = self._doc[key] = _DOC[key](self.item, self.now)
        return value

    def document(self) -> dict[str, Any]:
        """The container as ``podman ps --format json`` prints it (:data:`_DOC`)."""
        return {key: self.doc(key) for key in _DOC}

    def __getitem__(self, key: str) -> Any:
        value = self._fields.get(key, _UNMADE)
        if value is _UNMADE:  # (no KeyError raised and caught per field: a third of a row)
            if key not in _ROW_KEY_SET:
                raise KeyError(key)
            make = _REPORTER.get(key)
            value = self._fields[key] = self.doc(key) if make is None else make(self)
        return value

    def __contains__(self, key: object) -> bool:
        return key in _ROW_KEY_SET

    def __iter__(self) -> Iterator[str]:
        return iter(_ROW_KEYS)

    def __len__(self) -> int:
        return len(_ROW_KEYS)


class _Documents(Sequence[dict[str, Any]]):
    """The rows' JSON documents, made only if read (``--format json``)."""

    def __init__(self, rows: Sequence[PsRow]) -> None:
        self._rows = rows

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [row.document() for row in self._rows[index]]
        return self._rows[index].document()

    def __len__(self) -> int:
        return len(self._rows)


def _default_format(pod: bool) -> str:
    row = ["{{.ID}}", "{{.Image}}", "{{.Command}}", "{{.CreatedHuman}}", "{{.Status}}"]
    row += ["{{.Ports}}", "{{.Names}}"]
    if pod:
        row += ["{{.Pod}}", "{{.PodName}}"]
    return "table " + "\t".join(row)


# -- the command -----------------------------------------------------------------------------


@command(
    "ps",
    help="list containers (only running ones unless --all), as podman ps",
    arguments=[
        arg("-a", "--all", action="store_true", help="show all containers"),
        F.filter_arg(PS_FILTERS, "containers"),
        arg(
            "--format",
            metavar="FORMAT",
            help="json, a Go template, or 'table' and a Go template (docs/cli.md)",
        ),
        arg("-n", "--last", type=int, default=-1, metavar="N", help="the N newest (all states)"),
        arg("-l", "--latest", action="store_true", help="the newest container (all states)"),
        arg("--no-trunc", action="store_true", help="full IDs and commands"),
        arg("--noheading", action="store_true", help="no header row"),
        arg("-p", "--pod", action="store_true", help="show the pod ID and name"),
        arg("-q", "--quiet", action="store_true", help="print the IDs only"),
        arg(
            "--sort",
            choices=_SORT_KEYS,
            default="created",
            help="order of the rows (default: created, oldest first)",
        ),
    ],
)
def cmd_ps(ctx: Context, args: argparse.Namespace) -> int:
    wanted = F.parse(args.filter, PS_FILTERS, "containers")
    state = ctx.state()
    skipped: list[errors.CorruptDocumentError] = []
    with codec.many_documents():  # its documents live until it ends: no collector passes
        return _ps(ctx, args, state, wanted, skipped)


def _ps(
    ctx: Context,
    args: argparse.Namespace,
    state: FileState,
    wanted: F.Filters,
    skipped: list[errors.CorruptDocumentError],
) -> int:
    # one pass, no call per container: configs, states and networks agree
    nets: dict[str, list[str] | errors.CorruptDocumentError] = {}
    ctrs = state.all_containers(
        load_state=True, skipped=skipped, networks=nets, view=_PS_VIEW, processes=ctx.cpus()
    )
    pod_names = {p.id: p.name for p in state.all_pods()}
    now = time.time()
    everything = args.all or args.last > 0 or args.latest or "status" in wanted
    by_id = {c.id: c for c in ctrs}
    items = []
    for ctr in ctrs:
        if not everything and render.container_status(ctr) != ContainerStatus.RUNNING:
            continue
        if wanted and not _matches(ctr, wanted, nets, by_id, pod_names, skipped):
            continue
        items.append(
            PsItem(
                ctr,
                partial.networks(nets, ctr, skipped),
                _ports(ctr, by_id),
                pod_names.get(ctr.pod_id, "") if args.pod else "",
            )
        )
    last = 1 if args.latest else args.last
    if last > 0:  # the newest N, then sorted like any listing (abi/ps.go, ps.go)
        items = sorted(items, key=_created_key, reverse=True)[:last]
    items = _sorted(items, args.sort)
    if args.quiet:  # the IDs only: no row is made
        for item in items:
            ctx.print(item.ctr.id if args.no_trunc else item.ctr.id[:12])
    else:
        rows = [PsRow(item, now, no_trunc=args.no_trunc) for item in items]
        report.emit(
            ctx,
            args.format,
            default=_default_format(args.pod),
            docs=_Documents(rows),
            data=rows,
            headers=PS_HEADERS,
            noheading=args.noheading,
        )
    return partial.finish(ctx, skipped)


#: The config keys ``ps`` reads (its rows, sort keys, filters; the container's identity), and
#: of ``spec`` only ``annotations``: the listing decodes no more of each config, so 10,000
#: listed containers neither hold nor decode their whole configs (a gigabyte of objects).
_PS_VIEW = codec.Projection(
    (
        *("id", "name", "namespace", "pod", "command", "labels", "createdTime", "userVolumes"),
        *("rootfsImageName", "rootfsImageID", "pause", "netNsCtr", "newPortMappings"),
        "namedVolumes",
    ),
    {"spec": ("annotations",)},
)


def _created_key(item: PsItem) -> tuple[datetime, str]:
    return (_created(item), item.ctr.id)


def _sorted(items: list[PsItem], key: str) -> list[PsItem]:
    """ps.go ``sortPsOutput``: created/runningfor by creation (oldest first), the others by
    the text of the row's field (``Command`` joined, ``Names``, ``Id``, ``Image``, ``State``),
    made from the container as the document makes it (:data:`_DOC`): the order is known
    before any row is made."""
    if key in ("created", "runningfor"):
        return sorted(items, key=_created_key)
    return sorted(items, key=lambda item: (_sort_text(item, key), item.ctr.id))


#: The document key each other ``--sort`` key orders by.
_SORT_FIELDS = {"command": "Command", "id": "Id", "image": "Image", "names": "Names"}


def _sort_text(item: PsItem, key: str) -> str:
    value = _DOC[_SORT_FIELDS.get(key, "State")](item, 0.0)  # (no human time is read)
    if key in ("command", "names"):
        return " ".join(value or [])  # one name: Names[0]
    return str(value)


def _ports(ctr: Container, by_id: Mapping[str, Container]) -> list[Any] | None:
    """libpod ``Container.PortMappings()``: those of the container whose network namespace
    ``ctr`` joined (``netNsCtr``, followed), else its own ``newPortMappings``; null when
    none."""
    seen = {ctr.id}
    owner = ctr
    while isinstance(nsctr := owner.config.get("netNsCtr"), str) and nsctr in by_id:
        if nsctr in seen:
            break
        seen.add(nsctr)
        owner = by_id[nsctr]
    ports = owner.config.get("newPortMappings")
    return ports if isinstance(ports, list) and ports else None


def _matches(
    ctr: Container,
    wanted: F.Filters,
    nets: Mapping[str, list[str] | errors.CorruptDocumentError],
    by_id: Mapping[str, Container],
    pod_names: Mapping[str, str],
    skipped: list[errors.CorruptDocumentError],
) -> bool:
    """Whether ``ctr`` passes every filter (filters/containers.go, Podman 4.3)."""
    for key, values in wanted.items():
        if key == "id":
            ok = F.regex_any(ctr.id, values)
        elif key == "name":
            ok = F.regex_any(ctr.name, values)
        elif key == "label":
            ok = F.labels_match(ctr.config.get("labels"), values)
        elif key == "status":
            ok = _status_matches(ctr, values)
        elif key == "pod":
            ok = bool(ctr.pod_id) and any(
                ctr.pod_id.startswith(v) or F.regex_any(pod_names.get(ctr.pod_id, ""), [v])
                for v in values
            )
        elif key == "exited":
            ended = render.container_status(ctr) in (
                ContainerStatus.EXITED,
                ContainerStatus.STOPPED,
            )
            code = _int(ctr.state.get("exitCode"))
            ok = ended and any(v.isdigit() and int(v) == code for v in values)
        elif key == "network":
            ok = any(v in partial.networks(nets, ctr, skipped) for v in values)
        elif key == "volume":
            ok = _volume_matches(ctr, values)
        elif key == "ancestor":
            image = str(ctr.config.get("rootfsImageName", ""))
            image_id = str(ctr.config.get("rootfsImageID", ""))
            ok = any(image_id.startswith(v) for v in values) or F.regex_any(image, values)
        else:  # before / since: relative to the named containers' creation
            ok = _time_matches(ctr, key, values, by_id)
        if not ok:
            return False
    return True


_STATUS_NAMES = ("created", "running", "paused", "stopped", "exited", "unknown", "initialized")


def _status_matches(ctr: Container, values: Sequence[str]) -> bool:
    for v in values:
        if v not in _STATUS_NAMES:
            raise errors.InvalidArgumentError(
                f"{v!r} is not a valid status: one of {', '.join(_STATUS_NAMES)}"
            )
    return render.state_name(ctr) in values


def _volume_matches(ctr: Container, values: Sequence[str]) -> bool:
    """A named volume's name or destination, or a user volume's destination (``name`` or
    ``name:/dest``)."""
    vols = ctr.config.get("namedVolumes")
    pairs = [
        (str(v.get("volumeName", "")), str(v.get("dest", "")))
        for v in (vols if isinstance(vols, list) else [])
        if isinstance(v, dict)
    ]
    for value in values:
        name, _, dest = value.partition(":")
        for vname, vdest in pairs:
            if (vname == name or vdest == name) and (not dest or dest == vdest):
                return True
    return False


def _time_matches(
    ctr: Container, key: str, values: Sequence[str], by_id: Mapping[str, Container]
) -> bool:
    mine = go_time(ctr.config.get("createdTime"))
    for value in values:
        other = next((c for c in by_id.values() if c.name == value or c.id.startswith(value)), None)
        if other is None:
            raise errors.NoSuchContainerError(f"no container with name or ID {value}")
        theirs = go_time(other.config.get("createdTime"))
        if (mine < theirs) if key == "before" else (mine > theirs):
            return True
    return False
