"""Judging the bytes of one file of the tree (read by :func:`fsstate.store.fsio.read_regular`):
which finding a document earns before its schema is checked, and how index entries compare."""

from __future__ import annotations

import json
from typing import Any

from fsstate.errors import CorruptDocumentError
from fsstate.fsck.findings import Code
from fsstate.model import Container
from fsstate.store import codec
from fsstate.store import layout as L


def decode(data: bytes) -> tuple[Code | None, str, Any]:
    """``(code, message, document)``; code ``None`` when ``data`` is JSON."""
    if not data:
        return Code.EMPTY_DOCUMENT, "zero-length file", None
    if not data.strip(b" \t\r\n\x00"):
        return Code.NUL_DOCUMENT, "NUL-filled file", None
    try:
        return None, "", codec.decode(data, "")
    except CorruptDocumentError:
        pass
    try:
        json.loads(data.rstrip(b" \t\r\n\x00").decode("utf-8"))
        return Code.INVALID_JSON, "JSON followed by NUL bytes", None
    except UnicodeDecodeError:
        return Code.INVALID_JSON, "not UTF-8 text", None
    except json.JSONDecodeError as exc:
        if exc.pos >= len(exc.doc) or exc.msg.startswith("Unterminated string"):
            return Code.TRUNCATED_DOCUMENT, f"JSON cut short ({exc.msg})", None
        return Code.INVALID_JSON, f"not JSON ({exc.msg} at character {exc.pos})", None


def unsafe_names(kind: str, doc: Any) -> list[str]:
    """Values the store turns into paths that the schemas leave untyped (API.md Decision 10)."""
    if kind not in ("container-config", "pod-config") or not isinstance(doc, dict):
        return []
    values = {"/namespace": doc.get("namespace") or ""}
    if kind == "container-config":
        values |= {f"/namedVolumes ({v!r})": v for v in Container(doc).named_volumes()}
    return [f"{p}: {v!r} is not a name" for p, v in values.items() if v and not L.is_valid_name(v)]


def same_entry(actual: bytes, expected: bytes) -> bool:
    """An index file holds what is expected (a name entry may be spelt differently)."""
    return actual == expected or (bool(expected) and _json(actual) == _json(expected))


def entry_owner(path: str, data: bytes) -> str:
    """The object an index entry stands for: a name entry's ``id``, else its last component."""
    if L.NAMES.keys(path) is not None or L.POD_NAMES.keys(path) is not None:
        held = name_entry(data)
        return held[1] if held else ""
    return path.rsplit("/", 1)[-1]


def name_entry(data: bytes) -> tuple[str, str] | None:
    """``(kind, id)`` of a name entry, ``None`` when it is not one."""
    held = _json(data)
    if isinstance(held, dict) and isinstance(held.get("kind"), str):
        return held["kind"], str(held.get("id"))
    return None


def _json(data: bytes) -> Any:
    try:
        return codec.decode(data, "")
    except CorruptDocumentError:
        return None
