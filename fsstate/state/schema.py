"""JSON Schema checks of the documents fsstate stores, one schema per document kind.

The schemas are the files ``schemas/<kind>.json`` (JSON Schema draft 2020-12), shipped as the
data-only package ``fsstate.schemas``. Each is read and compiled the first time its kind is
checked, then cached. They type only the keys the store interprets and allow every other key, so
Podman's documents of any era pass and round-trip unchanged.

Writes check with a fast path: each schema is also compiled to Python code by
``fastjsonschema`` (draft-07, which has every keyword these schemas use), and a document that
passes it and the strict JSON types of :mod:`fsstate.state.shape` is valid — the two together
are the draft 2020-12 schema with Go's integers (``fastjsonschema`` alone would take ``1.0`` as
an integer). Only a document that fails is run through ``jsonschema`` for the full report
below: about 10 µs instead of 200 µs for a 12 KB container config (benchmarks/README.md).
``jsonschema`` is imported only then, or by :func:`problems` (``fsck``).

A problem is one string ``"<json-pointer>: <message>"``, the pointer naming the offending value
(``"/"`` for the document itself), e.g. ``"/namedVolumes/0/volumeName: 5 is not of type
'string'"``. Every problem is collected before anything is raised, as ``packaging.metadata`` does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from fsstate.errors import InvalidArgumentError

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

__all__ = ["KINDS", "document", "is_valid", "problems", "validate"]

#: The document kinds, each checked by ``schemas/<kind>.json``.
KINDS: tuple[str, ...] = (
    "container-config",
    "container-state",
    "pod-config",
    "pod-state",
    "volume-config",
    "volume-state",
    "exec-session",
    "db-config",
    "networks",
    "exit-code",
    "semantics",
)

# Longest repr of an offending value quoted in a message; a whole config does not belong there.
_MAX_REPR = 80


#: The keywords ``fastjsonschema``'s draft-07 compiles as draft 2020-12 defines them (every
#: keyword in ``schemas/`` must be one; tests/test_schema.py checks).
FAST_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type",
        "properties", "additionalProperties", "required", "items", "propertyNames",
        "pattern", "minLength", "maxLength", "minimum", "maximum", "enum", "const",
    }
)  # fmt: skip


def _go_integer(checker: object, instance: object) -> bool:
    # JSON Schema calls 1.0 an integer, but Go's encoding/json refuses it for an int field,
    # so Podman could not read such a document back.
    return isinstance(instance, int) and not isinstance(instance, bool)


def _schema_bytes(kind: str) -> bytes:
    """The file ``<kind>.json`` of the package data ``fsstate.schemas``: read by path where it
    is a directory — installed beside ``fsstate/state/``, or ``schemas/`` of a source checkout
    (setuptools' editable install cannot import a namespace package mapped through
    package-dir, https://github.com/pypa/setuptools/issues/4943) — so a first read does not
    import :mod:`importlib.resources` (4–7 ms; benchmarks/README.md); through it otherwise (a
    zip). Package data, not the store: read as :mod:`importlib.resources` reads it, not
    through ``fsio`` (whose calls ``tests/test_eio.py`` counts as the store's)."""
    from pathlib import Path

    name = f"{kind}.json"
    package = Path(__file__).resolve().parent.parent
    for directory in (package / "schemas", package.parent / "schemas"):
        if (directory / name).is_file():
            return (directory / name).read_bytes()
    from importlib import resources

    return resources.files("fsstate.schemas").joinpath(name).read_bytes()


@functools.cache
def document(kind: str) -> dict[str, Any]:
    """The schema of ``kind`` as JSON data (shared: do not change it); ``KeyError`` when
    ``kind`` is not one of :data:`KINDS`."""
    if kind not in KINDS:
        raise KeyError(f"unknown document kind {kind!r}")
    loaded: dict[str, Any] = json.loads(_schema_bytes(kind))
    return loaded


@functools.cache
def _validator(kind: str) -> Validator:
    from jsonschema import Draft202012Validator, validators

    cls: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator,
        type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _go_integer),
    )
    schema = document(kind)
    cls.check_schema(schema)
    return cls(schema)


@functools.cache
def _fast(kind: str) -> Callable[[Any], object]:
    """The schema of ``kind`` compiled to Python by ``fastjsonschema`` (draft-07 rules)."""
    import fastjsonschema

    draft07 = {
        **_ref_siblings(document(kind)),
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    compiled: Callable[[Any], object] = fastjsonschema.compile(draft07)
    return compiled


def _ref_siblings(sub: Any) -> Any:
    """``sub`` with each ``$ref`` that has sibling keywords moved into an ``allOf``: draft
    2020-12 applies the siblings, draft-07 would ignore them."""
    if isinstance(sub, list):
        return [_ref_siblings(item) for item in sub]
    if not isinstance(sub, dict):
        return sub
    out = {key: _ref_siblings(value) for key, value in sub.items()}
    if "$ref" in out and len(out.keys() - {"$ref", "description", "title", "$comment"}) > 0:
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


def is_valid(kind: str, doc: object) -> bool:
    """Whether ``doc`` passes the schema of ``kind``: the compiled check, then the strict
    JSON types (see the module docstring). ``KeyError`` for an unknown kind."""
    from fastjsonschema import JsonSchemaValueException

    from fsstate.state import shape

    try:
        _fast(kind)(doc)
    except JsonSchemaValueException:
        return False
    return shape.first_problem(kind, doc) is None


def problems(kind: str, doc: object) -> list[str]:
    """Every way ``doc`` fails the schema of ``kind``, as ``"<json-pointer>: <message>"``.

    Sorted by pointer (array indices in numeric order); ``[]`` when ``doc`` is valid.
    Raises ``KeyError`` when ``kind`` is not one of :data:`KINDS`.
    """
    instance: Any = doc  # any Python object may come in; the schema says what it must be
    found = sorted(
        (_sort_key(error.absolute_path), _pointer(error.absolute_path), _message(error))
        for error in _validator(kind).iter_errors(instance)
    )
    return [f"{pointer}: {message}" for _, pointer, message in found]


def validate(kind: str, doc: object, *, what: str) -> None:
    """Check ``doc`` against the schema of ``kind``; ``what`` names it in the error.

    Raises :class:`~fsstate.errors.InvalidArgumentError` listing every problem (see
    :func:`problems`), with the list in ``.problems`` and ``what`` in ``.what``; ``KeyError``
    when ``kind`` is not one of :data:`KINDS`.
    """
    if is_valid(kind, doc):
        return
    found = problems(kind, doc)
    if found:
        message = f"{what} does not match its schema: {'; '.join(found)}"
        raise InvalidArgumentError(message, problems=found, what=what)


def _pointer(path: Iterable[str | int]) -> str:
    # RFC 6901: "~" and "/" inside a token are escaped as "~0" and "~1".
    tokens = [str(token).replace("~", "~0").replace("/", "~1") for token in path]
    return "/" + "/".join(tokens)


def _sort_key(path: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, t, "") if isinstance(t, int) else (1, 0, str(t)) for t in path)


def _message(error: ValidationError) -> str:
    message = error.message
    if error.validator == "pattern" and isinstance(error.schema, dict) and "title" in error.schema:
        message = f"{error.instance!r} is not {error.schema['title']}"
    shown = repr(error.instance)
    if len(shown) > _MAX_REPR:
        message = message.replace(shown, shown[: _MAX_REPR - 4] + " ...", 1)
    return message
