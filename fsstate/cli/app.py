"""``main(argv) -> int``: parse the arguments, open the store, run one command, and turn an
error into one line on stderr and its exit code (:mod:`.exits`); never a traceback.

``--root DIR``
    The store's static dir. Default: ``$FSSTATE_ROOT``; without either, the command fails with
    a usage error.
``--tmp DIR``
    The store's tmp dir: volatile data only (the "refreshed in this boot" marker ``alive``).
    Default: ``$FSSTATE_TMP``; else ``<libpod tmp>/fsstate/<key>`` inside Podman's own tmp dir
    (``/run/libpod`` for root, ``$XDG_RUNTIME_DIR/libpod/tmp`` for other users, or
    ``/run/user/<uid>/libpod/tmp`` when that is unset — containers/common
    ``pkg/config/default_linux.go`` ``getLibpodTmpDir`` and ``GetRootlessRuntimeDir``),
    where ``<key>`` is derived from the resolved root path, so two stores never share a tmp dir
    and the same store always finds its own. Never a shared path under ``$TMPDIR``; a tmp dir
    that another user owns or can write in is refused (``fsio.PrivateDir``).

The long commands take ``--progress`` and ``--quiet`` (:mod:`.progress`: a bar on a terminal,
count lines through a pipe, or nothing but errors). Every command but ``refresh`` warns on
stderr (``fsstate: warning: …``) when the store has not
been refreshed in this boot (:meth:`FileState.needs_refresh`): the states it shows predate the
reboot.

A :class:`~fsstate.errors.StateError` (or an :class:`OSError`, as ``<file>: <why>``) becomes
one line ``fsstate: <message>`` on stderr and the code :func:`.exits.exit_code` gives it;
anything else, which would be a bug, too: ``fsstate: internal error (<class>): <message>``,
exit code 1.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Sequence

from fsstate import errors
from fsstate.cli.context import Context
from fsstate.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, exit_code
from fsstate.cli.parser import build_parser
from fsstate.cli.progress import Progress

__all__ = ["ROOT_LIBPOD_TMP", "default_tmp", "libpod_tmp_dir", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (:mod:`fsstate.cli.exits`)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        root = args.root or os.environ.get("FSSTATE_ROOT")
        if not root:
            parser.error("no store: give --root DIR or set $FSSTATE_ROOT")
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        tmp = args.tmp or default_tmp(root)
    except errors.StateError as exc:
        return _fail(exc, EXIT_USAGE)
    quiet = bool(getattr(args, "quiet", False))
    display = Progress(sys.stderr, quiet=quiet, lines=bool(getattr(args, "progress", False)))
    ctx = Context(root, tmp, sys.stdout, sys.stderr, display)
    logger = logging.getLogger("fsstate")
    level = logger.level
    if quiet:  # the library's warnings ("skipping …") go to stderr through logging
        logger.setLevel(logging.ERROR)
    # The library's warnings (a skipped document) are said by the listings in their own words
    # (cli.partial); without a handler, Python's last-resort one would print them as well.
    if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
        logger.addHandler(logging.NullHandler())
    try:
        try:
            return int(args.run(ctx, args))
        finally:
            ctx.end_progress()
            ctx.close()
            logger.setLevel(level)
    except errors.StateError as exc:
        return _fail(exc, exit_code(exc))
    except BrokenPipeError:  # the reader went away (`fsstate ps | head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (stops Python's flush-at-exit error)
        return EXIT_ERROR
    except OSError as exc:
        return _fail(exc, exit_code(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, naming the exception's class
        return _fail(exc, EXIT_ERROR, prefix=f"internal error ({type(exc).__name__}): ")


def default_tmp(root: str) -> str:
    """The default ``--tmp`` for ``root`` (see the module docstring)."""
    if env := os.environ.get("FSSTATE_TMP"):
        return env
    key = hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:16]
    return os.path.join(libpod_tmp_dir(), "fsstate", key)


#: Podman's tmp dir for root (containers/common pkg/config/default_linux.go getLibpodTmpDir).
ROOT_LIBPOD_TMP = "/run/libpod"


def libpod_tmp_dir() -> str:
    """Podman's default tmp dir for this user: :data:`ROOT_LIBPOD_TMP` for root, else
    ``<runtime dir>/libpod/tmp`` with the runtime dir ``$XDG_RUNTIME_DIR`` or, when that is
    unset, ``/run/user/<uid>`` (containers/storage pkg/homedir GetRuntimeDir); a usage error
    when neither exists."""
    if os.geteuid() == 0:
        return ROOT_LIBPOD_TMP
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.geteuid()}"
    if not os.path.isdir(runtime):
        raise errors.InvalidArgumentError(
            f"no runtime dir for the tmp dir ({runtime} does not exist): set "
            "$XDG_RUNTIME_DIR, $FSSTATE_TMP or --tmp"
        )
    return os.path.join(runtime, "libpod", "tmp")


def _fail(exc: BaseException, code: int, prefix: str = "") -> int:
    text = str(exc)
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        # "<file>: <why>", not "[Errno 13] Permission denied: '/x'" (the store's own OSErrors
        # name the file in strerror already)
        named = exc.strerror.startswith(f"{exc.filename}:")
        text = exc.strerror if named else f"{exc.filename}: {exc.strerror}"
    message = " ".join(text.split()) or type(exc).__name__
    print(f"fsstate: {prefix}{message}", file=sys.stderr)
    return code
