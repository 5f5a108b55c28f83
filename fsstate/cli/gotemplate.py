"""The subset of Go's ``text/template`` that Podman's ``--format`` users write, over JSON data.

Podman formats ``ps``, ``pod ps``, ``volume ls`` and ``inspect`` output through
containers/common ``pkg/report`` (``formatter.go``, ``template.go``): a ``--format`` that is
``json`` prints JSON, one that starts with ``table`` prints a header row, and anything else is a
Go template run once per object, each run ending a line; ``\\t`` in the text is a tab, and the
lines are aligned by Go's ``tabwriter`` (minimum cell width 12, padding 2). Supported here:

* actions ``{{.}}``, ``{{.A.B}}`` (a key of the object, then of its value), ``{{$}}``;
  ``{{- …}}`` / ``{{… -}}`` trim spaces; ``{{/* comments */}}``;
* pipelines ``{{.Names | upper}}``, parentheses, string, number and ``true``/``false`` literals;
* ``{{if …}}…{{else}}…{{end}}``, ``{{range …}}…{{else}}…{{end}}`` (the element becomes ``.``),
  ``{{with …}}…{{end}}``;
* functions: Podman's ``json``, ``join``, ``lower``, ``upper``, ``title``, ``split``,
  ``truncate``, ``pad``; Go's ``index``, ``len``, ``print``, ``println``, ``printf`` (``%s``,
  ``%d``, ``%v``, ``%q``), ``eq``, ``ne``, ``not``, ``and``, ``or``;
* a value that is a Python callable is a method: ``{{.Label "app"}}`` calls it with the
  arguments.

Values print as Go's ``fmt.Sprint`` prints them: lists ``[a b]``, maps ``map[k:v]`` (sorted keys),
``true``/``false``, ``<nil>`` for null; a key the object lacks is an error naming it (Go's
"can't evaluate field"). Errors: :class:`TemplateError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Echo", "Template", "TemplateError", "camel_header", "go_print", "normalize"]


class Echo(str):
    """A value whose every field, method call and function result is itself: a column header
    while the header row runs a ``table`` template (Podman runs it on a flat map of
    headers)."""

    __slots__ = ()


class TemplateError(ValueError):
    """A ``--format`` template that does not parse or cannot run on the data."""


def normalize(text: str) -> str:
    """Podman's ``NormalizeFormat``: ``\\t`` and ``\\n`` typed in a shell are a tab and a
    newline."""
    return text.replace("\\t", "\t").replace("\\n", "\n")


def camel_header(name: str) -> str:
    """A column header from a field name, as ``report.Headers`` makes it: the name split at its
    camel-case humps (fatih/camelcase), joined by spaces, upper-cased: ``ImageID`` → ``IMAGE
    ID``."""
    parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return " ".join(parts).upper() or name.upper()


def go_print(value: Any) -> str:
    """``fmt.Sprint(value)`` for JSON-shaped values."""
    if type(value) is str:  # most fields of most rows
        return value
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_print(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    return str(value)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(value, Mapping):
            value = value.get(key, "")
        elif isinstance(value, list | tuple | str) and isinstance(key, int):
            if not 0 <= key < len(value):
                raise TemplateError(f"index out of range: {key}")
            value = value[key]
        else:
            raise TemplateError(f"can't index item of type {type(value).__name__}")
    return value


def _printf(fmt: str, *args: Any) -> str:
    out, it = [], iter(args)

    def repl(m: re.Match[str]) -> str:
        verb = m.group(1)
        if verb == "%":
            return "%"
        arg = next(it, None)
        if verb == "q":
            return json.dumps(go_print(arg), ensure_ascii=False)
        return go_print(arg)

    out.append(re.sub(r"%([sdvq%])", repl, fmt))
    return "".join(out)


def _truncate(text: Any, n: int) -> str:
    s = go_print(text)
    return s[:n]


def _pad(text: Any, before: int, after: int) -> str:
    return " " * before + go_print(text) + " " * after


def _eq(a: Any, *bs: Any) -> bool:
    return any(a == b for b in bs)


FUNCS: dict[str, Callable[..., Any]] = {
    "json": _json,
    "join": lambda items, sep: sep.join(go_print(i) for i in items or []),
    "lower": lambda s: go_print(s).lower(),
    "upper": lambda s: go_print(s).upper(),
    "title": lambda s: go_print(s).title(),
    "split": lambda s, sep: go_print(s).split(sep),
    "truncate": _truncate,
    "pad": _pad,
    "index": _index,
    "len": lambda v: len(v or []),
    "print": lambda *a: "".join(go_print(v) for v in a),
    "println": lambda *a: " ".join(go_print(v) for v in a) + "\n",
    "printf": _printf,
    "eq": _eq,
    "ne": lambda a, b: a != b,
    "not": lambda a: not _truthy(a),
    "and": lambda *a: next((v for v in a if not _truthy(v)), a[-1]),
    "or": lambda *a: next((v for v in a if _truthy(v)), a[-1]),
}


def _truthy(value: Any) -> bool:
    return bool(value)  # Go's truth: false, 0, nil, and empty strings, lists and maps


# -- parsing ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:\\.|[^"\\])*") | (?P<raw>`[^`]*`) | (?P<punct>[|()]) |
    (?P<field>\$?(?:\.[A-Za-z_]\w*)+|\.|\$) | (?P<num>-?\d+) | (?P<ident>[A-Za-z_]\w*)
    )""",
    re.VERBOSE,
)


@dataclass
class _Pipe:
    cmds: list[list[Any]]  # each command: a list of operands (tuples)


@dataclass
class _Node:
    kind: str  # "text", "pipe", "if", "range", "with"
    text: str = ""
    pipe: _Pipe | None = None
    body: list[_Node] = field(default_factory=list)
    other: list[_Node] = field(default_factory=list)


def _lex(src: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(src):
        if not src[pos:].strip():
            break
        m = _TOKEN.match(src, pos)
        if m is None or m.end() == pos:
            raise TemplateError(f"unexpected {src[pos:].strip()!r} in {{{{{src}}}}}")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


def _parse_pipe(tokens: list[tuple[str, str]], src: str) -> _Pipe:
    pos = 0

    def pipeline(end: str | None) -> _Pipe:
        nonlocal pos
        cmds: list[list[Any]] = [[]]
        while pos < len(tokens):
            kind, text = tokens[pos]
            pos += 1
            if kind == "punct" and text == "|":
                cmds.append([])
            elif kind == "punct" and text == ")":
                if end != ")":
                    raise TemplateError(f"unexpected ) in {{{{{src}}}}}")
                break
            elif kind == "punct":
                cmds[-1].append(("pipe", pipeline(")")))
            elif kind == "str":
                cmds[-1].append(("lit", json.loads(text)))
            elif kind == "raw":
                cmds[-1].append(("lit", text[1:-1]))
            elif kind == "num":
                cmds[-1].append(("lit", int(text)))
            elif kind == "field":
                cmds[-1].append(("field", text))
            elif text in ("true", "false", "nil"):
                cmds[-1].append(("lit", {"true": True, "false": False, "nil": None}[text]))
            elif text in FUNCS:
                cmds[-1].append(("func", text))
            else:
                raise TemplateError(f'function "{text}" not defined')
        else:
            if end == ")":
                raise TemplateError(f"unclosed ( in {{{{{src}}}}}")
        if any(not c for c in cmds):
            raise TemplateError(f"missing value for command in {{{{{src}}}}}")
        return _Pipe(cmds)

    return pipeline(None)


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)


def _parse(src: str) -> list[_Node]:
    root: list[_Node] = []
    stack: list[tuple[_Node, list[_Node]]] = []
    out = root
    pos = 0
    pending_trim = False
    for m in _ACTION.finditer(src):
        text = src[pos : m.start()]
        if pending_trim:
            text = text.lstrip()
        if m.group(1):
            text = text.rstrip()
        if text:
            out.append(_Node("text", text))
        pos, pending_trim = m.end(), bool(m.group(3))
        body = m.group(2).strip()
        if body.startswith("/*"):
            continue
        word, _, rest = body.partition(" ")
        if word in ("if", "range", "with"):
            node = _Node(word, pipe=_parse_pipe(_lex(rest), body))
            out.append(node)
            stack.append((node, out))
            out = node.body
        elif word == "else":
            if not stack or out is stack[-1][0].other:
                raise TemplateError("unexpected {{else}}")
            out = stack[-1][0].other
        elif word == "end":
            if not stack:
                raise TemplateError("unexpected {{end}}")
            out = stack.pop()[1]
        else:
            out.append(_Node("pipe", pipe=_parse_pipe(_lex(body), body)))
    if stack:
        raise TemplateError(f"unexpected EOF: {{{{{stack[-1][0].kind}}}}} has no {{{{end}}}}")
    text = src[pos:]
    if "{{" in text:
        raise TemplateError("unclosed action")
    if pending_trim:
        text = text.lstrip()
    if text:
        out.append(_Node("text", text))
    return root


# -- running ---------------------------------------------------------------------------------


class Template:
    """A parsed template; :meth:`render` runs it on one object."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._nodes = _parse(source)
        self._flat = _flat(self._nodes)

    def render(self, data: Any) -> str:
        """The text of the template run with ``data`` as ``.`` and ``$``."""
        if self._flat is not None:  # text and fields only, as every default table: no tree walk
            return "".join(
                part if isinstance(part, str) else go_print(_lookup(data, part))
                for part in self._flat
            )
        out: list[str] = []
        self._run(self._nodes, data, data, out)
        return "".join(out)

    def _run(self, nodes: Sequence[_Node], dot: Any, root: Any, out: list[str]) -> None:
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
                continue
            assert node.pipe is not None
            value = self._pipe(node.pipe, dot, root)
            if node.kind == "pipe":
                out.append(go_print(value))
            elif node.kind == "if":
                self._run(node.body if _truthy(value) else node.other, dot, root, out)
            elif node.kind == "with":
                if _truthy(value):
                    self._run(node.body, value, root, out)
                else:
                    self._run(node.other, dot, root, out)
            else:  # range
                items = list(value.values()) if isinstance(value, Mapping) else value or []
                if not isinstance(items, list | tuple):
                    raise TemplateError(f"range can't iterate over {go_print(value)}")
                for item in items:
                    self._run(node.body, item, root, out)
                if not items:
                    self._run(node.other, dot, root, out)

    def _pipe(self, pipe: _Pipe, dot: Any, root: Any) -> Any:
        value: Any = _NOTHING
        for cmd in pipe.cmds:
            value = self._command(cmd, dot, root, value)
        return value

    def _command(self, cmd: list[Any], dot: Any, root: Any, piped: Any) -> Any:
        head, *rest = cmd
        args = [self._operand(a, dot, root) for a in rest]
        if piped is not _NOTHING:
            args.append(piped)
        if head[0] == "func":
            echo = next((a for a in args if isinstance(a, Echo)), None)
            if echo is not None:
                return echo
            try:
                return FUNCS[head[1]](*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, AttributeError) as exc:
                raise TemplateError(f"error calling {head[1]}: {exc}") from None
        value = self._operand(head, dot, root)
        if isinstance(value, Echo):
            return value
        if callable(value):
            return value(*args)
        if args:
            raise TemplateError(f"{head[1]} is not a method but has arguments")
        return value

    def _operand(self, op: tuple[str, Any], dot: Any, root: Any) -> Any:
        kind, arg = op
        if kind == "lit":
            return arg
        if kind == "pipe":
            return self._pipe(arg, dot, root)
        if kind == "func":
            return FUNCS[arg]()
        path: str = arg
        value = root if path.startswith("$") else dot
        for name in filter(None, path.lstrip("$").split(".")):
            value = _field(value, name)
        return value


_NOTHING = object()


def _flat(nodes: Sequence[_Node]) -> list[str | list[str]] | None:
    """A template made only of text and ``{{.A.B}}`` actions as its text pieces and field
    paths (``["A", "B"]``), which :meth:`Template.render` joins without walking the tree;
    ``None`` for any other."""
    parts: list[str | list[str]] = []
    for node in nodes:
        cmds = node.pipe.cmds if node.kind == "pipe" and node.pipe is not None else None
        if node.kind == "text":
            parts.append(node.text)
        elif cmds is not None and len(cmds) == 1 and len(cmds[0]) == 1:
            kind, path = cmds[0][0]
            if kind != "field" or path.startswith("$"):
                return None
            parts.append([name for name in path.split(".") if name])
        else:
            return None
    return parts


def _lookup(dot: Any, names: Sequence[str]) -> Any:
    """The value of the field path ``names`` of ``dot``, as a pipe of that one field gives it
    (a method is called: ``Template._command``)."""
    value = dot
    for name in names:
        value = _field(value, name)
    if callable(value) and not isinstance(value, Echo):
        return value()
    return value


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Echo):
        return value
    if isinstance(value, Mapping):
        try:  # one lookup, not ``in`` then ``[]``: rows may make their fields when read
            return value[name]
        except KeyError:
            raise TemplateError(f"can't evaluate field {name}") from None
    raise TemplateError(f"can't evaluate field {name} in {go_print(value)!r}")
