"""Listings show what they can (issue 8): every object whose files could not be read is named
on stderr, one line each with its file and why, and the command exits
:data:`~fsstate.cli.exits.EXIT_PARTIAL` after printing every readable one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fsstate import Container, errors
from fsstate.cli.context import Context
from fsstate.cli.exits import EXIT_OK, EXIT_PARTIAL

__all__ = ["finish", "networks"]


def finish(ctx: Context, skipped: Sequence[errors.StateError]) -> int:
    """Name each skipped object on stderr (``fsstate: not shown: <path>: <why>``, the path
    left out when the error has none); :data:`EXIT_PARTIAL` when there was any, else
    :data:`EXIT_OK`."""
    seen: set[str] = set()
    for exc in skipped:
        why = " ".join(str(exc).split()) or type(exc).__name__
        path = getattr(exc, "path", None)
        line = (
            f"fsstate: not shown: {path}: {why}"
            if path and path not in why
            else (f"fsstate: not shown: {why}")
        )
        if line not in seen:
            seen.add(line)
            print(line, file=ctx.err)
    return EXIT_PARTIAL if skipped else EXIT_OK


def networks(
    found: Mapping[str, list[str] | errors.CorruptDocumentError],
    ctr: Container | None,
    skipped: list[errors.CorruptDocumentError],
) -> list[str]:
    """The networks ``ctr`` joined, as a listing shows them, from what the listing's pass read
    (``all_containers(networks=found)``): none for no container or one without its own list
    (in another's network namespace, ``host``, ``none``), as Podman's listings; a damaged
    document shows none and is added to ``skipped``."""
    if ctr is None:
        return []
    names = found.get(ctr.id, [])
    if isinstance(names, errors.CorruptDocumentError):
        skipped.append(names)
        return []
    return names
