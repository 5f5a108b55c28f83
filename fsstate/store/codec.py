"""JSON encoding of stored documents: the only place orjson is imported.

Documents are written pretty-printed (two-space indent, trailing newline) with their keys in
the order given — Podman's own order survives a round trip — so ``cat``, ``jq`` and ``diff``
read them directly. Decoding failures become :class:`CorruptDocumentError` naming the file.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson

from fsstate.errors import CorruptDocumentError, InvalidArgumentError

__all__ = ["Projection", "decode", "decode_object", "encode", "encode_compact", "many_documents"]

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


class Projection:
    """What a listing keeps of a JSON object: its ``keys`` and, of the objects at the keys of
    ``nested``, only the keys given there — ``{"spec": ("annotations",)}`` keeps
    ``spec.annotations``. A key absent from the document is absent from the projection; so
    is a ``nested`` key whose value is not an object.

    ``projection(doc)`` projects a decoded document. :meth:`decode` projects stored bytes
    without building the rest of the document: a real 12 KB Podman config in 24 µs instead of
    61 (msgspec skips what it does not keep; benchmarks/README.md, "Issue 10, stop 20").
    """

    __slots__ = ("_decoder", "_heads", "keys", "nested")

    def __init__(self, keys: Iterable[str], nested: Mapping[str, Iterable[str]] | None = None):
        self.nested = {key: tuple(dict.fromkeys(inner)) for key, inner in (nested or {}).items()}
        self.keys = tuple(k for k in dict.fromkeys(keys) if k not in self.nested)
        self._decoder: Any = None
        # b'"key":' of each key, then of each nested key with its keys' own
        self._heads = (
            [_head(key) for key in self.keys],
            [(_head(key), [_head(k) for k in inner]) for key, inner in self.nested.items()],
        )

    def __call__(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        kept = {key: doc[key] for key in self.keys if key in doc}
        for key, inner in self.nested.items():
            value = doc.get(key)
            if isinstance(value, dict):
                kept[key] = {k: value[k] for k in inner if k in value}
        return kept

    def with_keys(self, keys: Iterable[str]) -> Projection:
        """This projection, keeping ``keys`` as well."""
        return Projection((*self.keys, *keys), self.nested)

    def decode(self, data: bytes, path: str) -> dict[str, Any]:
        """``self(decode_object(data, path))``, with the same errors.

        Each kept value is decoded by orjson, as :func:`decode` would; msgspec only finds
        where the kept values lie, checking the JSON syntax of the whole document on the way,
        and whatever it refuses, or a document that is not UTF-8, is decoded whole instead
        (the error is then :func:`decode`'s). The one difference: a number beyond the range
        of a double under a key not kept passes here, where orjson refuses the document
        (``fsck`` reports it)."""
        msgspec = _msgspec()
        try:
            found = (self._decoder or self._make_decoder()).decode(data)
        except (msgspec.DecodeError, RecursionError):
            found = None
        if found is None or not (data.isascii() or _is_utf8(data)):
            return self(decode_object(data, path))
        unset, values = msgspec.UNSET, msgspec.structs.astuple(found)
        heads, nested_heads = self._heads
        members = [head + raw for head, raw in zip(heads, values, strict=False) if raw is not unset]
        for (head, inner_heads), sub in zip(nested_heads, values[len(heads) :], strict=True):
            if sub is not unset:
                inner = zip(inner_heads, msgspec.structs.astuple(sub), strict=True)
                members.append(
                    b"%s{%s}" % (head, b",".join(h + r for h, r in inner if r is not unset))
                )
        try:
            kept: dict[str, Any] = orjson.loads(b"{%s}" % b",".join(members))
        except orjson.JSONDecodeError:  # a kept value orjson refuses: it says why
            return self(decode_object(data, path))
        return kept

    def _make_decoder(self) -> Any:
        msgspec = _msgspec()

        def struct(name: str, keys: Iterable[str], nested: Mapping[str, Any]) -> Any:
            """A struct of a Raw field ``k<i>`` per key, then a field ``n<i>`` per nested
            struct, each renamed to the JSON key it holds (keys need not be identifiers)."""
            fields: list[tuple[str, Any, Any]] = []
            rename = {}
            for i, key in enumerate(keys):
                fields.append((f"k{i}", msgspec.Raw, msgspec.UNSET))
                rename[f"k{i}"] = key
            for i, (key, inner) in enumerate(nested.items()):
                fields.append((f"n{i}", inner, msgspec.UNSET))
                rename[f"n{i}"] = key
            return msgspec.defstruct(name, fields, rename=rename)

        inner = {key: struct("Nested", keys, {}) for key, keys in self.nested.items()}
        self._decoder = msgspec.json.Decoder(struct("Projected", self.keys, inner))
        return self._decoder


def _head(key: str) -> bytes:
    return orjson.dumps(key) + b":"


@functools.cache
def _msgspec() -> Any:
    import msgspec  # 7 ms to import: only the listings that project need it

    return msgspec


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


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
