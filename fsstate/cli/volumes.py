"""``fsstate volume ls`` (``volume list``): Podman 4.3's ``podman volume ls``
(``cmd/podman/volumes/list.go``; each volume as libpod ``volume_inspect.go`` ``Inspect``).

Each volume becomes Podman's ``define.InspectVolumeData`` (:func:`volume_doc`: what ``volume
ls --format json`` and ``volume inspect`` print), in name order, as Podman lists them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from fsstate import Volume, errors
from fsstate.cli import filters as F
from fsstate.cli import partial, report
from fsstate.cli.context import Context
from fsstate.cli.parser import arg, command

__all__ = ["VOLUME_FILTERS", "volume_doc"]

#: The ``--filter`` keys ``volume ls`` takes (Podman's less ``until``).
VOLUME_FILTERS = ("name", "label", "driver", "opt", "scope", "dangling", "anonymous")

VOLUME_HEADERS = {"Name": "VOLUME NAME"}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def volume_doc(vol: Volume) -> dict[str, Any]:
    """The volume as Podman prints it (``InspectVolumeData``, Podman's key order; the keys Go
    marks ``omitempty`` only when set): ``Labels`` and ``Options`` ``{}`` when empty, ``UID``
    / ``GID`` the chowned IDs when set, else the configured ones (libpod ``uid()``/``gid()``),
    ``NeedsCopyUp`` / ``NeedsChown`` from the state's ``notYetMounted`` / ``notYetChowned``.
    ``Status`` (a volume plugin's) and ``StorageID`` are not in the state: never printed."""
    cfg, st = vol.config, vol.state
    labels, options = cfg.get("labels"), cfg.get("volumeOptions")
    doc: dict[str, Any] = {
        "Name": vol.name,
        "Driver": str(cfg.get("volumeDriver", "")),
        "Mountpoint": str(cfg.get("mountPoint", "")),
        "CreatedAt": str(cfg.get("createdAt", "")),
        "Labels": labels if isinstance(labels, dict) else {},
        "Scope": "local",
        "Options": options if isinstance(options, dict) else {},
    }
    uid = _int(st.get("uidChowned")) or _int(cfg.get("uid"))
    gid = _int(st.get("gidChowned")) or _int(cfg.get("gid"))
    optional = {
        "UID": uid,
        "GID": gid,
        "Anonymous": bool(cfg.get("isAnon", False)),
    }
    doc.update({k: v for k, v in optional.items() if v})
    doc["MountCount"] = _int(st.get("mountCount"))
    later = {
        "NeedsCopyUp": bool(st.get("notYetMounted", False)),
        "NeedsChown": bool(st.get("notYetChowned", False)),
        "Timeout": _int(cfg.get("timeout")),
    }
    doc.update({k: v for k, v in later.items() if v})
    return doc


@command(
    "volume ls",
    help="list volumes, as podman volume ls",
    aliases=["list"],
    arguments=[
        F.filter_arg(VOLUME_FILTERS, "volumes"),
        arg("--format", metavar="FORMAT", help="json, a Go template, or 'table' and one"),
        arg("--noheading", action="store_true", help="no header row"),
        arg("-q", "--quiet", action="store_true", help="print the names only"),
    ],
)
def cmd_volume_ls(ctx: Context, args: argparse.Namespace) -> int:
    wanted = F.parse(args.filter, VOLUME_FILTERS, "volumes")
    state = ctx.state()
    skipped: list[errors.CorruptDocumentError] = []
    vols = state.all_volumes(skipped=skipped)
    used: set[str] = set()
    if "dangling" in wanted:
        for ctr in state.all_containers(skipped=skipped):
            named = ctr.config.get("namedVolumes")
            for v in named if isinstance(named, list) else []:
                if isinstance(v, dict):
                    used.add(str(v.get("volumeName", "")))
    docs = [d for d in map(volume_doc, vols) if _matches(d, wanted, used)]
    if args.quiet:
        for doc in docs:
            ctx.print(doc["Name"])
    else:
        report.emit(
            ctx,
            args.format,
            default="table {{.Driver}}\t{{.Name}}",
            docs=docs,
            data=docs,
            headers=VOLUME_HEADERS,
            noheading=args.noheading,
        )
    return partial.finish(ctx, skipped)


def _matches(doc: Mapping[str, Any], wanted: F.Filters, used: set[str]) -> bool:
    """Whether the volume passes every filter (filters/volumes.go, Podman 4.3)."""
    for key, values in wanted.items():
        if key == "name":
            ok = F.regex_any(doc["Name"], values)
        elif key == "label":
            ok = F.labels_match(doc["Labels"], values)
        elif key == "driver":
            ok = doc["Driver"] in values
        elif key == "scope":
            ok = doc["Scope"] in values
        elif key == "opt":
            ok = any(_opt_matches(doc["Options"], v) for v in values)
        else:  # dangling / anonymous: true or false
            for v in values:
                if v.lower() not in ("true", "false", "1", "0"):
                    raise errors.InvalidArgumentError(f"{key}={v}: expected true or false")
            flag = (doc["Name"] not in used) if key == "dangling" else bool(doc.get("Anonymous"))
            ok = any((v.lower() in ("true", "1")) == flag for v in values)
        if not ok:
            return False
    return True


def _opt_matches(options: Mapping[str, Any], spec: str) -> bool:
    key, sep, value = spec.partition("=")
    return key in options and (not sep or str(options[key]) == value)
