"""JSON encoding of stored documents: the only place orjson is imported.

Documents are written pretty-printed (two-space indent, trailing newline) with their keys in
the order given — Podman's own order survives a round trip — so ``cat``, ``jq`` and ``diff``
read them directly. Decoding failures become :class:`CorruptDocumentError` naming the file.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from fsstate.errors import CorruptDocumentError, InvalidArgumentError

__all__ = ["decode", "decode_object", "encode", "encode_compact", "many_documents"]

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
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if not data.strip(b" \t\r\n\x00"):  # (no JSON is blank: checked only on failure)
            raise CorruptDocumentError(f"{path}: empty or NUL-filled file", path=path) from None
        raise CorruptDocumentError(f"{path}: not valid JSON ({exc})", path=path) from None


def decode_object(data: bytes, path: str) -> dict[str, Any]:
    """:func:`decode`, and the result must be a JSON object."""
    doc = decode(data, path)
    if not isinstance(doc, dict):
        raise CorruptDocumentError(
            f"{path}: expected a JSON object, found {type(doc).__name__}", path=path
        )
    return doc


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextmanager
def many_documents() -> Iterator[None]:
    """Pause the cyclic garbage collector while many documents are decoded and kept.

    Every decoded dict and list is tracked by the collector, so building a list of 10,000
    containers sets off full collections that rescan everything decoded so far: listing every
    container took twice as long with the collector running (benchmarks/README.md). Decoded
    JSON holds no reference cycles, so nothing is lost by collecting later instead.

    When the last holder leaves, the decoded objects are moved straight to the oldest
    generation (``gc.freeze()`` then ``gc.unfreeze()``) before the collector runs again: else
    its first passes would scan every one of them, young, and promote them twice — a full
    pass over millions of objects right after the listing (0.6 s of 1.55 s for 10,000
    containers). They stay collectable; they are scanned with the next full collection.
    Skipped when the program keeps objects frozen itself (``gc.get_freeze_count()``), whose
    freeze must not be undone. Re-entrant and thread-safe.
    """
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()
