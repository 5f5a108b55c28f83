"""Pinning a store's semantics (API.md, Today's Podman): the one document that says whether the
store follows the 2020 Bolt state or today's SQLite state (:mod:`fsstate.state.semantics`).

A store that holds a container, pod or volume but no pin predates pinning and is ``"bolt"``. An
empty store without a pin is pinned by the first commit that writes to it, with the semantics
its writer opened it with (``"bolt"`` by default); opening it with an explicit semantics pins it
at once. So a store is never written under two semantics, and opening one never costs a commit
unless a semantics is asked for.
"""

from __future__ import annotations

from fsstate.errors import CorruptDocumentError, DBConfigMismatchError
from fsstate.state.catalog import Catalog
from fsstate.state.semantics import BOLT, NAMES, Semantics
from fsstate.store import layout as L

__all__ = ["pinned_semantics", "settle", "write_semantics"]


def pinned_semantics(cat: Catalog) -> Semantics | None:
    """The semantics ``semantics.json`` pins; ``None`` when the document is absent.
    :class:`CorruptDocumentError` when it names no known semantics."""
    doc = cat.doc(L.SEMANTICS, "semantics")
    if doc is None:
        return None
    name = doc.get("semantics")
    if name not in NAMES:
        path = cat.abspath(L.SEMANTICS)
        raise CorruptDocumentError(f"{path}: unknown semantics {name!r}; run fsck", path=path)
    return NAMES[name]


def settle(cat: Catalog, requested: Semantics | None) -> tuple[Semantics, bool]:
    """``(semantics, settled)`` of the store seen through ``cat``: ``settled`` is False only
    for an empty store without a pin, whose semantics is then ``requested`` (``"bolt"`` when
    ``None``) until a commit pins it. Raises :class:`DBConfigMismatchError` when ``requested``
    differs from a settled store's semantics (nothing is written)."""
    pinned = pinned_semantics(cat)
    if pinned is None and any(cat.txn.listdir(top) for top in ("containers", "pods", "volumes")):
        pinned = BOLT  # written before semantics were pinned
    if pinned is None:
        return requested or BOLT, False
    if requested is not None and requested != pinned:
        raise DBConfigMismatchError(
            f"the store follows {pinned.name!r} semantics, not {requested.name!r}",
            mismatched=["semantics"],
        )
    return pinned, True


def write_semantics(cat: Catalog, rules: Semantics) -> None:
    """Record ``rules`` as the store's semantics (its first commit, or a migration)."""
    cat.put_doc(L.SEMANTICS, {"semantics": rules.name}, "semantics")
