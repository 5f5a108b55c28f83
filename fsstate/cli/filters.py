"""``--filter KEY=VALUE`` as Podman reads it (``pkg/domain/filters/containers.go``
``GenerateContainerFilterFuncs``, ``pods.go``, ``volumes.go``, Podman 4.3).

Values of one key are alternatives (any may match), different keys must all match; ``label``
is the exception: every ``label`` filter must match. Names and IDs match as Go regular
expressions anywhere in the text (``util.StringMatchRegexSlice``), as Podman does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fsstate import errors
from fsstate.cli.parser import Arg, arg

__all__ = ["Filters", "labels_match", "parse", "regex_any"]

#: Key → its values, in the order given.
Filters = dict[str, list[str]]


def parse(specs: Iterable[str], allowed: Sequence[str], what: str) -> Filters:
    """``KEY=VALUE`` strings → :data:`Filters`. Errors:
    :class:`~fsstate.errors.InvalidArgumentError` for a spec without ``=`` or a key not in
    ``allowed`` (naming it and the keys that are)."""
    out: Filters = {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if not sep:
            raise errors.InvalidArgumentError(f"invalid filter {spec!r}: expected KEY=VALUE")
        if key not in allowed:
            raise errors.InvalidArgumentError(
                f"invalid filter {key!r} for {what}: one of {', '.join(allowed)}"
            )
        out.setdefault(key, []).append(value)
    return out


def regex_any(text: str, patterns: Sequence[str]) -> bool:
    """Whether any pattern matches somewhere in ``text`` (Go's ``regexp.MatchString``); a
    pattern that is not a valid expression matches as plain text."""
    for pattern in patterns:
        try:
            if re.search(pattern, text):
                return True
        except re.error:
            if pattern in text:
                return True
    return False


def labels_match(labels: Mapping[str, Any] | None, specs: Sequence[str]) -> bool:
    """Every ``key`` or ``key=value`` in ``specs`` is among ``labels`` (containers/common
    ``filters.MatchLabelFilters``)."""
    have = labels or {}
    for spec in specs:
        key, sep, value = spec.partition("=")
        if key not in have or (sep and str(have[key]) != value):
            return False
    return True


def all_of(tests: Iterable[Callable[[], bool]]) -> bool:
    return all(test() for test in tests)


def filter_arg(allowed: Sequence[str], what: str) -> Arg:
    """The ``-f/--filter KEY=VALUE`` option of a listing of ``what``, as Podman's (repeatable;
    parsed by :func:`parse`)."""
    return arg(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"only {what} that match ({', '.join(allowed)}); repeatable",
    )
