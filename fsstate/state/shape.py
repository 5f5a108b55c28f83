"""Cheap checks, on every read, of the fields the store interprets.

A document read back from disk may have been edited by hand. Full schema validation costs too
much for a hot read, so each schema in ``schemas/`` is compiled once into a small tree of
``isinstance`` checks: the JSON types of the keys it names, the items of its arrays, the values
of its ``additionalProperties`` and its ``required`` keys — no patterns, bounds or formats
(``fsck`` and writes still check those with the full schema). The schemas type only the keys
fsstate interprets, so every other key stays free. One container read checks some twenty keys
(benchmarks/bench_shape.py measures the cost).

:func:`check` raises :class:`~fsstate.errors.CorruptDocumentError` naming the file and the JSON
pointer of the first wrong value, e.g. ``…/state.json: /state: "running" is not of type
integer; run fsck``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

from fsstate.errors import CorruptDocumentError
from fsstate.state import schema

__all__ = ["check", "first_problem", "interpreted_keys"]

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


@dataclass
class _Node:
    """The compiled type checks of one schema (or sub-schema)."""

    types: tuple[type, ...] | None = None  # None: any type
    names: tuple[str, ...] = ()  # the JSON type names, for messages
    numeric_bool_ok: bool = True  # False when bool must not pass as an integer or number
    required: tuple[str, ...] = ()
    properties: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None
    additional: _Node | None = None
    #: ``(key, node, its types when it is a leaf with a type, else None)`` of ``properties``.
    children: tuple[tuple[str, _Node, tuple[type, ...] | None], ...] = ()

    @property
    def leaf(self) -> bool:
        """Only a type to check (most interpreted keys): checked inline, without a call."""
        return not (self.required or self.properties or self.items or self.additional)

    def useful(self) -> bool:
        return bool(self.types or self.required or self.properties or self.items or self.additional)


def _compile(sub: Any, root: dict[str, Any]) -> _Node:
    if not isinstance(sub, dict):
        return _Node()
    ref = sub.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        merged = {**root["$defs"][ref.removeprefix("#/$defs/")], **sub}
        del merged["$ref"]
        return _compile(merged, root)
    node = _Node()
    declared = sub.get("type")
    if declared is not None:
        names = (declared,) if isinstance(declared, str) else tuple(declared)
        node.names = names
        node.types = tuple(t for n in names for t in _TYPES[n])
        node.numeric_bool_ok = "boolean" in names
    node.required = tuple(sub.get("required", ()))
    for key, value in sub.get("properties", {}).items():
        child = _compile(value, root)
        if child.useful():
            node.properties[key] = child
    if "items" in sub:
        items = _compile(sub["items"], root)
        node.items = items if items.useful() else None
    if isinstance(sub.get("additionalProperties"), dict):
        additional = _compile(sub["additionalProperties"], root)
        node.additional = additional if additional.useful() else None
    node.children = tuple(
        (key, child, child.types if child.leaf else None) for key, child in node.properties.items()
    )
    return node


@functools.cache
def _compiled(kind: str) -> _Node:
    root = schema.document(kind)
    return _compile(root, root)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _problem(node: _Node, value: Any, pointer: str) -> tuple[str, str] | None:
    types = node.types
    if types is not None and (
        not isinstance(value, types) or (isinstance(value, bool) and not node.numeric_bool_ok)
    ):
        shown = (
            json.dumps(value)[:40] if not isinstance(value, dict | list) else type(value).__name__
        )
        return pointer or "/", f"{shown} is not of type {' or '.join(node.names)}"
    if isinstance(value, dict):
        for key in node.required:
            if key not in value:
                return pointer or "/", f"{key!r} is a required property"
        for key, child, inline in node.children:
            if key not in value:
                continue
            item = value[key]
            if (
                inline is not None
                and isinstance(item, inline)
                and (child.numeric_bool_ok or item.__class__ is not bool)
            ):
                continue
            found = _problem(child, item, f"{pointer}/{_escape(key)}")
            if found:
                return found
        if node.additional is not None:
            for key, item in value.items():
                if key not in node.properties:
                    found = _problem(node.additional, item, f"{pointer}/{_escape(key)}")
                    if found:
                        return found
    elif isinstance(value, list) and node.items is not None:
        for index, item in enumerate(value):
            found = _problem(node.items, item, f"{pointer}/{index}")
            if found:
                return found
    return None


def first_problem(kind: str, doc: object) -> tuple[str, str] | None:
    """``(json-pointer, message)`` of the first interpreted value of ``doc`` whose JSON type
    is not the one the schema of ``kind`` gives, or ``None``. ``KeyError`` for an unknown
    kind."""
    return _problem(_compiled(kind), doc, "")


def check(kind: str, doc: object, path: str) -> None:
    """Raise :class:`CorruptDocumentError` (``path``, ``pointer``) when :func:`first_problem`
    finds one in ``doc``, read from ``path``."""
    found = first_problem(kind, doc)
    if found is not None:
        pointer, message = found
        raise CorruptDocumentError(
            f"{path}: {pointer}: {message}; run fsck", path=path, pointer=pointer
        )


def interpreted_keys(kind: str) -> tuple[str, ...]:
    """The top-level keys of a ``kind`` document that :func:`check` looks at: a document
    holding only these keys (as they are) gets the same verdict as the whole one."""
    node = _compiled(kind)
    return tuple(dict.fromkeys((*node.required, *node.properties)))
