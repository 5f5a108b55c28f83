"""Where each path of the store belongs, as fsck sees the layout of :mod:`fsstate.store.layout`: the
role a path plays (directory, document, index entry, control file), or the finding it earns,
and which object it concerns.

Paths are split into their components (``parts``), relative to ``<static_dir>/fsstate``.
"""

from __future__ import annotations

from typing import Any

from fsstate.fsck.findings import QUARANTINE, Code
from fsstate.store import layout as L

#: The documents of each kind of object directory; the first is the one that must exist.
OBJECTS = {
    "containers": ("config", "state", "networks"),
    "pods": ("config", "state"),
    "volumes": ("config", "state"),
}
#: The object kind of each object directory, as messages and schema kinds name it.
KIND = {"containers": "container", "pods": "pod", "volumes": "volume"}
#: The role of each top-level name; anything else is an unexpected entry.
TOP = dict.fromkeys(L.CONTROL_FILES, "control") | dict.fromkeys([*OBJECTS, "exec", "index"], "dir")
TOP |= {L.DBCONFIG: "doc", QUARANTINE: "skip"}
#: Below ``index/<kind>/``: ``d`` a named directory, ``k`` "containers" or "pods", ``f`` the entry.
INDEX = {"names": "f", "containers": "df", "pods": "df", "volumes": "df", "namespaces": "dkf"}
INDEX |= {"dependents": "df"}
INDEX |= {"pod-members": "df", "volume-users": "df", "exec": "df"}
#: The roles :func:`place` gives; any other answer is a finding code.
ROLES = ("dir", "doc", "index", "control", "skip")
#: The message of the finding codes :func:`place` gives.
WHY = {
    Code.INVALID_NAME: "not a valid name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes)",
    Code.UNEXPECTED_ENTRY: "the layout has no place for it",
}


def place(parts: list[str], is_dir: bool) -> str:
    """The role of a path in the layout (one of ``ROLES``), or the finding code it earns."""
    top, depth, name = parts[0], len(parts), parts[-1]
    if depth == 1:
        role = TOP.get(name, "")
        return role if role and (role in ("dir", "skip")) == is_dir else Code.UNEXPECTED_ENTRY
    if not L.is_valid_name(exec_sid(name) if top == "exec" else name):
        return Code.INVALID_NAME
    if top in OBJECTS:
        if depth == 2:
            return "dir" if is_dir else Code.UNEXPECTED_ENTRY
        docs = {f"{d}.json" for d in OBJECTS[top]}
        return "doc" if depth == 3 and not is_dir and name in docs else Code.UNEXPECTED_ENTRY
    if top == "exec":
        return Code.UNEXPECTED_ENTRY if is_dir else "doc"
    other = Code.UNEXPECTED_ENTRY if is_dir else Code.EXTRA_INDEX_ENTRY
    shape, below = INDEX.get(parts[1]), depth - 3  # position of ``name`` within the shape
    if shape is None or below >= len(shape):
        return other
    if below < 0:
        return "dir" if is_dir else other
    if shape[below] == "k" and name not in ("containers", "pods"):
        return other
    if (shape[below] != "f") != is_dir:
        return other
    return "dir" if is_dir else "index"


def exec_sid(name: str) -> str:
    """The session ID an ``exec/`` file name stands for (``""`` when none)."""
    prefix, suffix = L.exec_doc("\0").split("\0")
    rel = f"exec/{name}"
    ok = rel.startswith(prefix) and rel.endswith(suffix) and len(rel) > len(prefix + suffix)
    return rel[len(prefix) : len(rel) - len(suffix)] if ok else ""


def defines_object(parts: list[str]) -> bool:
    """Whether the document at ``parts`` is the one an object stands or falls with."""
    return parts[0] == "exec" or (parts[0] in OBJECTS and parts[2:] == ["config.json"])


def config_path(top: str, oid: str) -> str:
    """The config document of object ``oid`` under ``top`` (``containers``, ``pods`` …)."""
    return f"{top}/{oid}/config.json"


def object_of(parts: list[str]) -> str:
    """The object a path concerns (ID, volume name, session ID), ``""`` when none."""
    if parts[0] == "exec" and len(parts) == 2:
        return exec_sid(parts[1]) or parts[1]
    if parts[0] == "index" and len(parts) > 2:
        return parts[-1]
    return parts[1] if parts[0] in OBJECTS and len(parts) > 1 else ""


def schema_kind(parts: list[str]) -> str:
    """The :mod:`fsstate.state.schema` kind of the document at ``parts``."""
    if parts[0] == L.DBCONFIG:
        return "db-config"
    if parts[0] == "exec":
        return "exec-session"
    doc = parts[2].removesuffix(".json")
    return "networks" if doc == "networks" else f"{KIND[parts[0]]}-{doc}"


def misplaced(parts: list[str], doc: dict[str, Any]) -> str:
    """Why ``doc`` does not belong at ``parts`` (its ``id``/``name`` differs), else ``""``."""
    if parts[0] == "exec":
        key, want = "id", exec_sid(parts[1])
    elif len(parts) == 3 and parts[2] == "config.json":
        key, want = ("name" if parts[0] == "volumes" else "id"), parts[1]
    else:
        return ""
    return f"its {key} is {doc.get(key)!r}, not {want!r}" if doc.get(key) != want else ""
