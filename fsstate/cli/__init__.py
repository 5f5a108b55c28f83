"""The ``fsstate`` command line: a thin argparse front end over the public API.

Usage: ``fsstate [--root DIR] [--tmp DIR] COMMAND [ARGS…]`` (also ``python -m fsstate``).
Every command makes one or a few calls on :class:`fsstate.FileState`, :mod:`fsstate.podman`,
:func:`fsstate.check` / :func:`fsstate.repair` or :func:`fsstate.snapshot` and formats the
result; no store logic lives here.

The modules, read top-down:

==============  ===========================================================================
module          what lives there
==============  ===========================================================================
``app``         :func:`main`: parse, open the store, run one command, turn an error into
                one line on stderr; ``--tmp``'s default (:func:`default_tmp`)
``exits``       the exit codes and the one table mapping each error class to its code
``parser``      the command table (:func:`command`, :func:`arg`) and the argparse parser
``context``     :class:`Context`: the store (opened on first use) and the output streams
``progress``    progress bars, count lines and ``--quiet`` on stderr
``commands``    one function per command, over the public API only
``edit``        the ``edit`` command: the editor loop (``$VISUAL``/``$EDITOR``, re-open on error)
``documents``   which documents ``edit`` changes, its checks, and the State call that commits
``render``      Podman's status strings, JSON text, tables, fsck's lines
``ps``          ``ps`` as Podman's: its JSON keys, template fields, filters and sorting
``pods``        ``pod ps`` as Podman's
``volumes``     ``volume ls`` as Podman's
``inspect``     ``inspect``, ``pod inspect``, ``volume inspect`` (``--raw``: as stored)
``inspect_shapes``  Podman's inspect documents, from what the state holds
``report``      ``--format``: JSON, ``table`` templates with headers, tabwriter alignment
``gotemplate``  the subset of Go's ``text/template`` that ``--format`` users write
``filters``     ``--filter KEY=VALUE`` parsing and matching, as Podman's
``humantime``   Go time stamps, Unix seconds, go-units human durations
``partial``     naming what a listing could not read; exit code 6
==============  ===========================================================================

Adding a command takes a few lines: a function ``(ctx, args) -> int`` decorated with
:func:`command`, e.g.::

    @command("fsck", help="check the store", arguments=[arg("--repair", action="store_true")])
    def cmd_fsck(ctx: Context, args: argparse.Namespace) -> int:
        ...
"""

from fsstate.cli import commands as commands  # registers every command in COMMANDS
from fsstate.cli import edit as edit  # registers ``edit``
from fsstate.cli import inspect as inspect  # the listings register themselves too
from fsstate.cli import pods as pods
from fsstate.cli import ps as ps
from fsstate.cli import volumes as volumes
from fsstate.cli.app import default_tmp, main
from fsstate.cli.context import Context
from fsstate.cli.parser import COMMANDS, arg, command

__all__ = ["COMMANDS", "Context", "arg", "command", "default_tmp", "main"]
