"""JSON Schema checks of the documents fsstate stores, one schema per document kind.

The schemas are the files ``schemas/<kind>.json`` (JSON Schema draft 2020-12), shipped as the
data-only package ``fsstate.schemas``. Each is read and compiled the first time its kind is
checked, then cached. They type only the keys the store interprets and allow every other key, so
Podman's documents of any era pass and round-trip unchanged.

A problem is one string ``"<json-pointer>: <message>"``, the pointer naming the offending value
(``"/"`` for the document itself), e.g. ``"/namedVolumes/0/volumeName: 5 is not of type
'string'"``. Every problem is collected before anything is raised, as ``packaging.metadata`` does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from fsstate.errors import InvalidArgumentError

__all__ = ["KINDS", "document", "problems", "validate"]

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
)

# Longest repr of an offending value quoted in a message; a whole config does not belong there.
_MAX_REPR = 80


def _go_integer(checker: object, instance: object) -> bool:
    # JSON Schema calls 1.0 an integer, but Go's encoding/json refuses it for an int field,
    # so Podman could not read such a document back.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _go_integer),
)


def _schema_dir() -> Traversable:
    try:
        return resources.files("fsstate.schemas")
    except ModuleNotFoundError:
        # setuptools' editable install cannot import a namespace package mapped through
        # package-dir (https://github.com/pypa/setuptools/issues/4943); a source checkout
        # keeps the files beside the package.
        return Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def document(kind: str) -> dict[str, Any]:
    """The schema of ``kind`` as JSON data (shared: do not change it); ``KeyError`` when
    ``kind`` is not one of :data:`KINDS`."""
    if kind not in KINDS:
        raise KeyError(f"unknown document kind {kind!r}")
    loaded: dict[str, Any] = json.loads(
        _schema_dir().joinpath(f"{kind}.json").read_text(encoding="utf-8")
    )
    return loaded


@functools.cache
def _validator(kind: str) -> Validator:
    schema = document(kind)
    _Validator.check_schema(schema)
    return _Validator(schema)


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
