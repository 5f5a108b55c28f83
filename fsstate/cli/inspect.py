"""``fsstate inspect`` (and ``pod inspect``, ``volume inspect``): Podman 4.3's inspect JSON of
containers, pods and volumes (:mod:`.inspect_shapes`), or with ``--raw`` the stored documents
as they are (``{"config": …, "state": …}``).

Names resolve as ``podman inspect`` resolves them: a container, then a pod, then a volume
(``--type`` limits it). Every object found and readable is printed; an object whose documents
cannot be read is named on stderr and left out (exit 6, :mod:`.partial`); a name that matches
nothing is an error after the rest is printed (exit 3).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from fsstate import Container, FileState, Pod, Volume, errors
from fsstate.cli import partial, report
from fsstate.cli.context import Context
from fsstate.cli.inspect_shapes import container_inspect, pod_inspect, volume_inspect
from fsstate.cli.parser import arg, command

__all__: list[str] = []

_KINDS = ("all", "container", "pod", "volume")


def _arguments(with_type: bool) -> list[Any]:
    args = [
        arg("names", nargs="+", metavar="NAME|ID", help="container, pod or volume"),
        arg(
            "-f",
            "--format",
            metavar="FORMAT",
            help="json (default) or a Go template run on each object (docs/cli.md)",
        ),
        arg("--raw", action="store_true", help="the stored config and state documents as they are"),
    ]
    if with_type:
        args.append(
            arg(
                "-t",
                "--type",
                choices=_KINDS,
                default="all",
                help="look only for this kind (default: container, then pod, then volume)",
            )
        )
    return args


@command(
    "inspect",
    help="show containers, pods or volumes as podman inspect does (--raw: as stored)",
    arguments=_arguments(with_type=True),
)
def cmd_inspect(ctx: Context, args: argparse.Namespace) -> int:
    return _inspect(ctx, args, args.type)


@command("pod inspect", help="show pods as podman pod inspect does", arguments=_arguments(False))
def cmd_pod_inspect(ctx: Context, args: argparse.Namespace) -> int:
    return _inspect(ctx, args, "pod")


@command(
    "volume inspect",
    help="show volumes as podman volume inspect does",
    arguments=_arguments(False),
)
def cmd_volume_inspect(ctx: Context, args: argparse.Namespace) -> int:
    return _inspect(ctx, args, "volume")


def _inspect(ctx: Context, args: argparse.Namespace, kind: str) -> int:
    state = ctx.state()
    shaper = _Shaper(state, raw=args.raw)
    docs: list[dict[str, Any]] = []
    skipped: list[errors.StateError] = []
    missing: errors.NotFoundError | None = None
    for name in args.names:
        try:
            docs.append(shaper.one(name, kind, skipped))
        except errors.NotFoundError as exc:
            missing = missing or exc
        except errors.CorruptDocumentError as exc:
            skipped.append(exc)
    data = [{**d, "ID": d["Id"]} if "Id" in d and "ID" not in d else d for d in docs]
    report.emit(ctx, args.format, default="json", docs=docs, data=data, headers={})
    if missing is not None:
        partial.finish(ctx, skipped)
        raise missing
    return partial.finish(ctx, skipped)


class _Shaper:
    """Resolves one name and shapes what it finds, Podman's way or raw."""

    def __init__(self, state: FileState, *, raw: bool) -> None:
        self.state, self.raw = state, raw
        self._graph_driver: str | None = None

    def one(self, name: str, kind: str, skipped: list[errors.StateError]) -> dict[str, Any]:
        """Resolve ``name`` as a container, then a pod, then a volume (Podman's order).
        Errors: :class:`~fsstate.errors.NotFoundError`,
        :class:`~fsstate.errors.CorruptDocumentError`."""
        finders: tuple[tuple[str, Callable[[str], Any]], ...] = (
            ("container", self.state.lookup_container),
            ("pod", self.state.lookup_pod),
            ("volume", self.state.lookup_volume),
        )
        for what, lookup in finders:
            if kind not in ("all", what):
                continue
            try:
                obj = lookup(name)
            except errors.NotFoundError:
                if kind == what:
                    raise
                continue
            return self._shape(obj, skipped)
        raise errors.NotFoundError(f"no container, pod or volume with name or ID {name}")

    def _shape(self, obj: Any, skipped: list[errors.StateError]) -> dict[str, Any]:
        if isinstance(obj, Container):
            self.state.update_container(obj)
            if self.raw:
                return {"config": obj.config, "state": obj.state}
            return container_inspect(obj, self.graph_driver(), self._config_of)
        if isinstance(obj, Pod):
            self.state.update_pod(obj)
            if self.raw:
                return {"config": obj.config, "state": obj.state}
            return pod_inspect(obj, self._members(obj, skipped))
        vol: Volume = obj  # volumes come with their state
        return {"config": vol.config, "state": vol.state} if self.raw else volume_inspect(vol)

    def graph_driver(self) -> str:
        if self._graph_driver is None:
            try:
                self._graph_driver = self.state.get_db_config().graph_driver
            except errors.CorruptDocumentError:
                self._graph_driver = ""
        return self._graph_driver

    def _config_of(self, cid: str) -> Container | None:
        try:
            return self.state.container(cid)
        except errors.StateError:
            return None

    def _members(self, pod: Pod, skipped: list[errors.StateError]) -> list[Container]:
        """``pod``'s members with their states, by ID; one that cannot be read is named in
        ``skipped`` and left out."""
        out = []
        for cid in self.state.pod_containers_by_id(pod):
            try:
                ctr = self.state.container(cid)
                self.state.update_container(ctr)
            except errors.NotFoundError:
                continue
            except errors.CorruptDocumentError as exc:
                skipped.append(exc)
                continue
            out.append(ctr)
        return out
