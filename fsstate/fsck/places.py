"""Where each path of the store belongs, as fsck sees it: the role that
:func:`fsstate.store.layout.place` gives a path (directory, document, index entry, control
file), or the finding it earns, and which object it concerns. Everything here is derived from
the catalog of :mod:`fsstate.store.layout`.

Paths are split into their components (``parts``), relative to ``<static_dir>/fsstate``.
"""

from __future__ import annotations

from typing import Any

from fsstate.fsck.findings import Code
from fsstate.store import layout as L

#: The roles :func:`place` gives; any other answer is a finding code.
ROLES = ("dir", "doc", "index", "control", "skip", "trash")
#: The message of the finding codes :func:`place` gives.
WHY = {
    Code.INVALID_NAME: "not a valid name ([a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 255 bytes)",
    Code.UNEXPECTED_ENTRY: "the layout has no place for it",
}


def place(parts: list[str], is_dir: bool) -> str:
    """The role of a path in the layout (one of ``ROLES``), or the finding code it earns: a
    name that cannot be an ID, name or session ID is ``invalid-name``; a file in ``index/``
    where no index has entries is ``extra-index-entry``; anything else without a place is
    ``unexpected-entry``."""
    top, name = parts[0], parts[-1]
    if len(parts) > 1 and not L.is_valid_name(L.exec_sid(name) if top == L.EXEC else name):
        return Code.INVALID_NAME
    role = L.place(parts, is_dir)
    if role:
        return role
    in_index = top == L.INDEX_DIR and len(parts) > 1
    return Code.EXTRA_INDEX_ENTRY if in_index and not is_dir else Code.UNEXPECTED_ENTRY


def object_doc(parts: list[str]) -> tuple[L.Kind, str] | None:
    """``(kind, document)`` of an object's document at ``parts``, ``None`` for anything else."""
    kind = L.kind_of(parts[0])
    if kind is None or len(parts) != 3:
        return None
    doc = kind.doc_of(parts[2])
    return (kind, doc) if doc else None


def defines_object(parts: list[str]) -> bool:
    """Whether the document at ``parts`` is the one an object stands or falls with."""
    found = object_doc(parts)
    flat = parts[0] in (L.EXEC, L.EXIT_CODES)
    return flat or (found is not None and found[1] == found[0].docs[0])


def object_of(parts: list[str]) -> str:
    """The object a path concerns (ID, volume name, session ID), ``""`` when none."""
    if parts[0] == L.EXEC and len(parts) == 2:
        return L.exec_sid(parts[1]) or parts[1]
    if parts[0] == L.EXIT_CODES and len(parts) == 2:
        return parts[1]
    if parts[0] == L.INDEX_DIR and len(parts) > 2:
        return parts[-1]
    return parts[1] if L.kind_of(parts[0]) is not None and len(parts) > 1 else ""


def schema_kind(parts: list[str]) -> str:
    """The :mod:`fsstate.state.schema` kind of the document at ``parts``."""
    if parts[0] == L.DBCONFIG:
        return "db-config"
    if parts[0] == L.SEMANTICS:
        return "semantics"
    if parts[0] == L.EXEC:
        return "exec-session"
    if parts[0] == L.EXIT_CODES:
        return "exit-code"
    found = object_doc(parts)
    assert found is not None, parts
    kind, doc = found
    return "networks" if doc == "networks" else f"{kind.name}-{doc}"


def misplaced(parts: list[str], doc: dict[str, Any]) -> str:
    """Why ``doc`` does not belong at ``parts`` (its ``id``/``name`` differs), else ``""``."""
    found = object_doc(parts)
    if parts[0] == L.EXEC:
        key, want = "id", L.exec_sid(parts[1])
    elif parts[0] == L.EXIT_CODES:
        key, want = "id", parts[1]
    elif found is not None and found[1] == found[0].docs[0]:
        key, want = found[0].key, parts[1]
    else:
        return ""
    return f"its {key} is {doc.get(key)!r}, not {want!r}" if doc.get(key) != want else ""
