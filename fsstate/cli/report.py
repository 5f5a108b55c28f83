"""One listing's output as Podman's ``--format`` makes it (containers/common ``pkg/report``).

:func:`emit` takes, for every object, its JSON document (what ``--format json`` prints) and its
template data (Podman's "reporter": the Go field names, with the reporter's methods' values —
short IDs, human times, joined lists), and prints:

* ``json`` — the JSON documents, as one indented array; so does ``{{json .}}`` (spaces and the
  dot optional: Podman's ``parse.MatchesJSONFormat``, ``cmd/podman/parse/json.go``), which
  Podman takes as ``json`` rather than running it as a template;
* ``table …`` (also the command's default) — a header row (field names as Podman heads them,
  unless ``--noheading``), then the template run on each object;
* any other text — the Go template (:mod:`.gotemplate`) run on each object, one line each.

Lines are aligned as Go's ``text/tabwriter`` aligns Podman's (``report.NewWriterDefault``:
minimum cell width 12, padding 2, cells split at tabs): :func:`tabwrite`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fsstate import errors
from fsstate.cli import gotemplate
from fsstate.cli.context import Context

__all__ = ["emit", "tabwrite"]

#: Go's tabwriter settings in Podman's report.NewWriterDefault: minwidth, padding.
MIN_WIDTH, PADDING = 12, 2
#: A ``--format`` that asks for the JSON documents: Podman's ``jsonFormatRegex``,
#: ``^\s*(json|{{\s*json\s*(\.)?\s*}})\s*$`` (``\s``: Go's, ASCII white space only).
_S = r"[\t\n\f\r ]*"
_JSON_FORMAT = re.compile(_S + r"(?:json|\{\{" + _S + "json" + _S + r"\.?" + _S + r"\}\})" + _S)


def tabwrite(lines: Sequence[str]) -> list[str]:
    """``lines`` aligned at their tabs: each tab-ended cell padded to its column's widest cell
    plus :data:`PADDING`, at least :data:`MIN_WIDTH`; the text after a line's last tab is not
    padded (Go's ``tabwriter`` with Podman's settings)."""
    cells = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for row in cells:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths.get(i, MIN_WIDTH), len(cell) + PADDING)
    return ["".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + r[-1] for r in cells]


class _HeaderRow(dict[str, Any]):
    """Template data of the header row: every field is its header (``overrides``, else the
    camel-case split name, upper-cased: ``report.Headers``)."""

    def __init__(self, overrides: Mapping[str, str]) -> None:
        super().__init__()
        self.overrides = overrides

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> Any:
        return gotemplate.Echo(self.overrides.get(key) or gotemplate.camel_header(key))


def emit(
    ctx: Context,
    fmt: str | None,
    *,
    default: str,
    docs: Sequence[Any],
    data: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str],
    noheading: bool = False,
) -> None:
    """Print a listing: ``fmt`` (``--format``; ``None`` for the command's ``default`` table
    template), the JSON ``docs`` and template ``data`` of each object in order, the header
    ``overrides`` (field → header). Errors: :class:`~fsstate.errors.InvalidArgumentError` for a
    template that does not parse or run (nothing is printed then)."""
    if fmt is None or (fmt.strip() == "table" and default.startswith("table")):
        fmt = default  # Podman: a bare "table" is the default table
    if _JSON_FORMAT.fullmatch(fmt):
        ctx.json(list(docs))
        return
    lines = render_lines(fmt, data, headers, noheading=noheading)
    for line in lines:
        ctx.print(line)


def render_lines(
    fmt: str,
    data: Sequence[Mapping[str, Any]],
    headers: Mapping[str, str],
    *,
    noheading: bool = False,
) -> list[str]:
    """The aligned lines of the template ``fmt`` (``table …`` or plain) over ``data``."""
    text = gotemplate.normalize(fmt)
    table = text.startswith("table")
    if table:
        text = text.removeprefix("table").lstrip(" ")
    try:
        template = gotemplate.Template(text)
        out = []
        if table and not noheading:
            out.append(_header_line(template, headers))
        out.extend(template.render(row) for row in data)
    except gotemplate.TemplateError as exc:
        raise errors.InvalidArgumentError(f"--format {fmt!r}: template: {exc}") from None
    lines = [line for chunk in out for line in chunk.rstrip("\n").split("\n")]
    return tabwrite(lines)


def _header_line(template: gotemplate.Template, headers: Mapping[str, str]) -> str:
    return template.render(_HeaderRow(headers))
