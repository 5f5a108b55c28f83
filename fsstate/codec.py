"""JSON encoding of stored documents: the only place orjson is imported.

Documents are written pretty-printed (two-space indent, trailing newline) with their keys in
the order given — Podman's own order survives a round trip — so ``cat``, ``jq`` and ``diff``
read them directly. Decoding failures become :class:`CorruptDocumentError` naming the file.
"""

from __future__ import annotations

from typing import Any

import orjson

from fsstate.errors import CorruptDocumentError, InvalidArgumentError

__all__ = ["decode", "decode_object", "encode", "encode_compact"]

_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE


def encode(doc: Any, *, what: str = "document") -> bytes:
    """Pretty JSON bytes of ``doc``; :class:`InvalidArgumentError` if it is not JSON data
    (sets, non-string keys, objects, integers beyond 64 bits)."""
    try:
        return orjson.dumps(doc, option=_PRETTY)
    except (orjson.JSONEncodeError, TypeError) as exc:
        raise InvalidArgumentError(f"{what} is not JSON data ({exc})", what=what) from None


def encode_compact(doc: Any) -> bytes:
    """Compact JSON bytes, as Go's ``encoding/json`` writes (no spaces, no newline)."""
    return orjson.dumps(doc)


def decode(data: bytes, path: str) -> Any:
    """Parse ``data`` read from ``path``. An empty or NUL-filled file is corruption, never an
    empty object (DESIGN.md, commit protocol)."""
    if not data.strip(b" \t\r\n\x00"):
        raise CorruptDocumentError(f"{path}: empty or NUL-filled file", path=path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CorruptDocumentError(f"{path}: not valid JSON ({exc})", path=path) from None


def decode_object(data: bytes, path: str) -> dict[str, Any]:
    """:func:`decode`, and the result must be a JSON object."""
    doc = decode(data, path)
    if not isinstance(doc, dict):
        raise CorruptDocumentError(
            f"{path}: expected a JSON object, found {type(doc).__name__}", path=path
        )
    return doc
