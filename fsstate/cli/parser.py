"""The command table and the argparse parser built from it.

A command is registered with :func:`command` (its words, help and :func:`arg` specs) and lands
in :data:`COMMANDS`; :func:`build_parser` turns the table into one parser, with a sub-parser
per command and one per group of two-word commands (``pod ls``, ``volume ls``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import fsstate
from fsstate.cli.exits import help_table

if TYPE_CHECKING:
    from fsstate.cli.context import Context

__all__ = ["COMMANDS", "FORMAT", "PROGRESS", "Arg", "Command", "arg", "build_parser", "command"]


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call: positional flags/names and keyword options."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


RunFn = Callable[["Context", argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # ("ps",) or ("pod", "ls")
    run: RunFn
    help: str
    arguments: tuple[Arg, ...]
    aliases: tuple[str, ...]


#: Every command, by its words. :func:`command` fills it; :func:`build_parser` reads it.
COMMANDS: dict[tuple[str, ...], Command] = {}


def command(
    name: str, *, help: str, arguments: Sequence[Arg] = (), aliases: Sequence[str] = ()
) -> Callable[[RunFn], RunFn]:
    """Register ``fn`` as the command ``name`` (one word, or two: ``"pod ls"``)."""

    def register(fn: RunFn) -> RunFn:
        words = tuple(name.split())
        COMMANDS[words] = Command(words, fn, help, tuple(arguments), tuple(aliases))
        return fn

    return register


#: The options of a command that shows progress (:mod:`fsstate.cli.progress`).
PROGRESS = (
    arg(
        "--progress",
        action="store_true",
        help="count lines on stderr when it is not a terminal (a terminal gets a bar anyway)",
    ),
    arg("--quiet", action="store_true", help="nothing on stderr but errors"),
)

FORMAT = arg(
    "--format", choices=("table", "json"), default="table", help="output format (default: table)"
)


def build_parser() -> argparse.ArgumentParser:
    """The parser for every command in :data:`COMMANDS`; a command's function is ``args.run``."""
    parser = argparse.ArgumentParser(
        prog="fsstate",
        description="Podman's libpod State kept as plain JSON files.",
        epilog=help_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the table keeps its lines
    )
    parser.add_argument("--version", action="version", version=f"fsstate {fsstate.__version__}")
    parser.add_argument("--root", metavar="DIR", help="static dir (default: $FSSTATE_ROOT)")
    parser.add_argument(
        "--tmp",
        metavar="DIR",
        help="tmp dir (default: $FSSTATE_TMP, else <libpod tmp>/fsstate/<key>: /run/libpod "
        "for root, $XDG_RUNTIME_DIR/libpod/tmp for others; <key> from the root path)",
    )
    top = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for words, cmd in COMMANDS.items():
        where = top
        if len(words) == 2:
            if words[0] not in groups:
                group = top.add_parser(words[0], help=f"{words[0]} commands")
                groups[words[0]] = group.add_subparsers(
                    dest=f"{words[0]}_command", metavar="COMMAND", required=True
                )
            where = groups[words[0]]
        sub = where.add_parser(words[-1], help=cmd.help, aliases=list(cmd.aliases))
        for a in cmd.arguments:
            sub.add_argument(*a.flags, **a.options)
        sub.set_defaults(run=cmd.run)
    return parser
