"""The documents ``fsstate edit`` may change, and how a change is made: through the State.

An edit replaces one whole document of one object with one call of the public API inside one
:meth:`FileState.transaction`, so it is checked as any caller's change is, committed through the
journal under the store lock, and moves the generation: every process, a long-running one
included, compares the generation at its next call and drops what it cached (``docs/layout.md``
"Editing by hand").

=============================  ============================  ===================================
document                       made by                       may not change (JSON pointer)
=============================  ============================  ===================================
``containers/<id>/config.json``  ``rewrite_container_config``  ``/id``, ``/pod``, ``/namespace``,
                                                             the dependency keys (``/…NsCtr``,
                                                             ``/Dependencies``), ``/namedVolumes/
                                                             <i>/volumeName``; ``/name`` may: the
                                                             name index follows
``containers/<id>/state.json``   ``save_container``            —
``pods/<id>/config.json``        ``rewrite_pod_config``        ``/id``, ``/namespace``; ``/name``
                                                             may: the name index follows
``pods/<id>/state.json``         ``save_pod``                  —
``volumes/<name>/config.json``   ``rewrite_volume_config``     ``/name``; ``/storageID`` may: its
                                                             index follows
``volumes/<name>/state.json``    ``save_volume``               —
=============================  ============================  ===================================

These are Podman's ``Rewrite*Config`` and ``Save*`` (``libpod/state.go``), which keep the same
fields fixed. Every other file is refused, naming it and the way to change it instead:
``networks.json`` (``network_connect`` / ``network_disconnect``), ``exec/``, ``exit-codes/``,
``dbconfig.json``, ``semantics.json``, ``index/`` (derived: ``fsck --repair``) and the control
files.

:func:`apply` checks, in this order, each failure an
:class:`~fsstate.errors.InvalidArgumentError` naming the file (and the JSON pointer, in
``.pointer``, or every schema problem with its pointer, in ``.problems``) with nothing written:
JSON (an object), the schema (``schemas/``), the fixed fields; then, under the lock, that the
stored document is still the one the edit started from (else :class:`EditConflictError`), and
then the State's own rules (a new name that is taken: ``ContainerExistsError`` /
``PodExistsError``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from fsstate import Container, FileState, Pod, Volume, errors
from fsstate.model import DEPENDENCY_KEYS
from fsstate.state import schema
from fsstate.store import codec
from fsstate.store import layout as L

__all__ = ["Document", "EditConflictError", "apply", "current", "locate"]

#: The object documents an edit may replace.
_EDITABLE = ("config", "state")


class EditConflictError(errors.StateError):
    """The document changed in the store while it was being edited; nothing was written."""

    text = "the document changed while it was edited"


@dataclass(frozen=True)
class Document:
    """One editable document: its path relative to the store directory and absolute, the kind
    of object (``L.CONTAINERS`` …), the object's ID or name, and which document."""

    rel: str
    path: str
    kind: L.Kind
    key: str
    doc: str

    @property
    def schema_kind(self) -> str:
        return f"{self.kind.name}-{self.doc}"


def locate(store_dir: str, path: str) -> Document:
    """The document ``path`` names: an absolute (or current-directory-relative) path inside
    ``store_dir`` (``<static_dir>/fsstate``), or a path relative to ``store_dir`` as
    ``docs/layout.md`` spells them. :class:`InvalidArgumentError` naming the file when it is
    not one of the editable documents (module docstring), with what to do instead."""
    store_dir = os.path.abspath(store_dir)
    full = os.path.abspath(path)
    if os.path.commonpath([full, store_dir]) != store_dir:
        full = os.path.normpath(os.path.join(store_dir, path))
    rel = os.path.relpath(full, store_dir)
    parts = rel.split(os.sep)
    kind = L.kind_of(parts[0]) if len(parts) == 3 else None
    doc = kind.doc_of(parts[2]) if kind is not None else ""
    if kind is not None and doc in _EDITABLE and L.is_valid_name(parts[1]):
        return Document(rel, full, kind, parts[1], doc)
    raise errors.InvalidArgumentError(
        f"{full}: not a document fsstate edit changes ({_instead(parts, doc)})", path=full
    )


def _instead(parts: list[str], doc: str) -> str:
    if doc == "networks":
        return "a container's networks change by network connect and disconnect"
    if parts[0] == L.INDEX_DIR:
        return "the index is derived from the documents: fsck --repair rebuilds it"
    if parts[0] == os.pardir:
        return "it is outside the store"
    return "only containers/, pods/ and volumes/ config.json and state.json are edited"


def current(state: FileState, target: Document) -> dict[str, Any]:
    """The document as stored now (read through the State; ``NoSuch*Error`` when the object
    is gone)."""
    return _read(state, target)[1]


def _read(state: FileState, target: Document) -> tuple[Container | Pod | Volume, dict[str, Any]]:
    obj: Container | Pod | Volume
    if target.kind is L.CONTAINERS:
        obj = state.container(target.key)
        if target.doc == "state":
            state.update_container(obj)
    elif target.kind is L.PODS:
        obj = state.pod(target.key)
        if target.doc == "state":
            state.update_pod(obj)
    else:
        obj = state.volume(target.key)  # a volume comes with its state
    return obj, obj.config if target.doc == "config" else obj.state


def decode(target: Document, data: bytes) -> dict[str, Any]:
    """The edited bytes as a JSON object; :class:`InvalidArgumentError` naming the file."""
    try:
        return codec.decode_object(data, target.path)
    except errors.CorruptDocumentError as exc:
        raise errors.InvalidArgumentError(exc.message, path=target.path, pointer="/") from None


def apply(state: FileState, target: Document, original: dict[str, Any], data: bytes) -> bool:
    """Replace the document with ``data`` if it still holds ``original`` (module docstring for
    the checks and their order). Returns ``False`` when ``data`` is ``original`` unchanged
    (nothing is written), ``True`` once the change is committed."""
    new = decode(target, data)
    if new == original:
        return False
    try:
        schema.validate(target.schema_kind, new, what=target.path)
    except errors.InvalidArgumentError as exc:
        raise errors.InvalidArgumentError(
            exc.message, path=target.path, problems=exc.problems
        ) from None
    if target.doc == "config":
        _check_fixed(target, original, new)
    try:
        with state.transaction():
            obj, stored = _read(state, target)
            if stored != original:
                raise EditConflictError(
                    f"{target.path} changed in the store while it was edited; nothing written",
                    path=target.path,
                )
            _write(state, target, obj, new)
    except errors.ExistsError as exc:  # the new name is taken
        fields = exc.fields | {"path": target.path, "pointer": "/name"}
        raise type(exc)(f"{target.path}: /name: {exc.message}", **fields) from None
    return True


def _write(
    state: FileState, target: Document, obj: Container | Pod | Volume, new: dict[str, Any]
) -> None:
    config = target.doc == "config"
    if isinstance(obj, Container):
        if config:
            state.rewrite_container_config(obj, new)
        else:
            obj.state = new
            state.save_container(obj)
    elif isinstance(obj, Pod):
        if config:
            state.rewrite_pod_config(obj, new)
        else:
            obj.state = new
            state.save_pod(obj)
    elif config:
        state.rewrite_volume_config(obj, new)
    else:
        obj.state = new
        state.save_volume(obj)


def _check_fixed(target: Document, old: dict[str, Any], new: dict[str, Any]) -> None:
    """:class:`InvalidArgumentError` with the pointer of the first fixed field that changed."""
    fixed = {"container": ("id", "pod", "namespace"), "pod": ("id", "namespace")}
    keys = fixed.get(target.kind.name, ("name",))
    pointer = next((f"/{k}" for k in keys if old.get(k) != new.get(k)), "")
    if not pointer and target.kind is L.CONTAINERS:
        before, after = Container._adopt(old), Container._adopt(new)
        if before.dependencies() != after.dependencies():
            changed = (k for k in (*DEPENDENCY_KEYS, "Dependencies") if old.get(k) != new.get(k))
            pointer = f"/{next(changed)}"
        elif before.named_volumes() != after.named_volumes():
            pointer = _volume_pointer(old.get("namedVolumes"), new.get("namedVolumes"))
    if pointer:
        what = pointer.split("/")[1]
        raise errors.InvalidArgumentError(
            f"{target.path}: {pointer}: the {what} of a {target.kind.name} cannot be changed "
            f"by an edit (remove the {target.kind.name} and add it again)",
            path=target.path,
            pointer=pointer,
        )


def _volume_pointer(old: Any, new: Any) -> str:
    old, new = old if isinstance(old, list) else [], new if isinstance(new, list) else []
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if not (isinstance(a, dict) and isinstance(b, dict)):
            return f"/namedVolumes/{i}"
        if a.get("volumeName") != b.get("volumeName"):
            return f"/namedVolumes/{i}/volumeName"
    return f"/namedVolumes/{min(len(old), len(new))}"
