"""The ``fsstate`` command line: a thin argparse front end over the public API.

Usage: ``fsstate [--root DIR] [--tmp DIR] COMMAND [ARGS…]`` (also ``python -m fsstate``).

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

Every command but ``refresh`` warns on stderr (``fsstate: warning: …``) when the store has not
been refreshed in this boot (:meth:`FileState.needs_refresh`): the states it shows predate the
reboot.

Every command makes one or a few calls on :class:`fsstate.FileState` or
:mod:`fsstate.podman` and formats the result; no store logic lives here. A
:class:`~fsstate.errors.StateError` (or an :class:`OSError`) becomes one line
``fsstate: <message>`` on stderr and an exit code (anything else, which would be a bug, too:
``fsstate: internal error (<class>): <message>``, exit code 1; never a traceback):

====  =====================================================================================
0     success
1     any other error (internal error, lock time-out, I/O error)
2     usage error (bad arguments, no ``--root``)
3     not found (container, pod, volume, exec session, network)
4     exists or in use (name or ID taken, dependency, exec sessions, volume in use, removed)
5     invalid or corrupt input (invalid argument, corrupt document or database, DB config
      mismatch)
130   interrupted
====  =====================================================================================

Adding a command takes a few lines: a function ``(ctx, args) -> int`` decorated with
:func:`command`, e.g.::

    @command("fsck", help="check the store", arguments=[arg("--repair", action="store_true")])
    def cmd_fsck(ctx: Context, args: argparse.Namespace) -> int:
        ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from fsstate import Container, FileState, Pod, errors, podman

__all__ = ["COMMANDS", "Context", "arg", "command", "main"]

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_EXISTS, EXIT_INVALID = 0, 1, 2, 3, 4, 5
EXIT_INTERRUPTED = 130

# Most specific first: DependencyExistsError is a ContainerExistsError, CorruptDocumentError an
# InternalError, so the order of this table matters.
_EXIT_CODES: tuple[tuple[type[errors.StateError], int], ...] = (
    (errors.NotFoundError, EXIT_NOT_FOUND),
    (errors.ExistsError, EXIT_EXISTS),
    (errors.VolumeBeingUsedError, EXIT_EXISTS),
    (errors.RemovedError, EXIT_EXISTS),
    (errors.InvalidArgumentError, EXIT_INVALID),
    (errors.CorruptDocumentError, EXIT_INVALID),
    (errors.DBConfigMismatchError, EXIT_INVALID),
    (errors.NamespaceMismatchError, EXIT_INVALID),
)


def exit_code(exc: errors.StateError) -> int:
    """The documented exit code for ``exc``."""
    return next((code for cls, code in _EXIT_CODES if isinstance(exc, cls)), EXIT_ERROR)


# -- the command table -----------------------------------------------------------------------


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


FORMAT = arg(
    "--format", choices=("table", "json"), default="table", help="output format (default: table)"
)


# -- context: the store and the output streams -----------------------------------------------


class Context:
    """What a command needs: the store (opened on first use), its paths, and the streams."""

    def __init__(self, root: str, tmp: str, out: IO[str], err: IO[str]) -> None:
        self.root, self.tmp, self.out, self.err = root, tmp, out, err
        self._state: FileState | None = None
        self._progress_shown = False  # a progress line on stderr still lacks its newline

    def state(self, *, refreshing: bool = False) -> FileState:
        if self._state is None:
            self._state = FileState(self.root, self.tmp)
            if not refreshing and self._state.needs_refresh():
                print(
                    "fsstate: warning: the store has not been refreshed since boot; "
                    "container states predate it (run `fsstate refresh`)",
                    file=self.err,
                )
        return self._state

    def close(self) -> None:
        if self._state is not None:
            state, self._state = self._state, None
            state.close()

    def print(self, text: str = "") -> None:
        print(text, file=self.out)

    def json(self, data: Any) -> None:
        self.print(json.dumps(data, indent=4, ensure_ascii=False))

    def progress(self) -> podman.ProgressFn | None:
        """A progress printer for long imports/exports, only when stderr is a terminal."""
        if not self.err.isatty():
            return None

        def show(what: str, done: int, total: int) -> None:
            self._progress_shown = done < total
            end = "" if self._progress_shown else "\n"
            print(f"\r{what}: {done}/{total}", end=end, file=self.err, flush=True)

        return show

    def end_progress(self) -> None:
        """End an unfinished progress line, so an error message starts on its own line."""
        if self._progress_shown:
            print(file=self.err, flush=True)
            self._progress_shown = False

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Columns padded to their widest cell, two spaces apart, like Podman's tables."""
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


# -- presentation helpers --------------------------------------------------------------------

# ContainerStatus as Podman's String() spells it (define/containerstate.go): Podman's
# "configured" is Docker's "created"; its own "created" shows as "initialized".
_STATES = {
    0: "unknown",
    1: "created",
    2: "initialized",
    3: "running",
    4: "stopped",
    5: "paused",
    6: "exited",
    7: "removing",
    8: "stopping",
}
_RUNNING = 3


def _short(ident: str) -> str:
    return ident[:12]


def _state_name(ctr: Container) -> str:
    code = ctr.state.get("state", 0)
    return _STATES.get(code, "unknown") if isinstance(code, int) else "unknown"


def _status(ctr: Container) -> str:
    """Podman's ``ps`` STATUS without the durations: ``Up``, ``Exited (code)``, ``Created`` …"""
    name = _state_name(ctr)
    if name == "running":
        return "Up"
    if name in ("exited", "stopped"):
        return f"Exited ({ctr.state.get('exitCode', 0)})"
    return name.capitalize()


def _command_line(ctr: Container, truncate: bool) -> str:
    cmd = ctr.config.get("command")
    text = " ".join(str(c) for c in cmd) if isinstance(cmd, list) else ""
    return text[:17] + "..." if truncate and len(text) > 17 else text


def _pod_status(states: Sequence[str]) -> str:
    """Podman's pod status from its containers' states (libpod ``createPodStatusResults``)."""
    if not states:
        return "Created"
    running = states.count("running")
    if running:
        return "Running" if running == len(states) else "Degraded"
    if states.count("paused") == len(states):
        return "Paused"
    stopped = sum(s in ("exited", "stopped") for s in states)
    if stopped == len(states):
        return "Exited"
    if stopped:
        return "Stopped"
    if any(s not in ("created", "initialized") for s in states):
        return "Error"
    return "Created"


def _loaded(state: FileState, ctrs: Sequence[Container]) -> list[Container]:
    """The containers with their state loaded; one removed meanwhile is left out."""
    out = []
    for ctr in ctrs:
        try:
            state.update_container(ctr)
        except errors.NotFoundError:
            continue
        out.append(ctr)
    return out


# -- commands --------------------------------------------------------------------------------


@command(
    "ps",
    help="list containers (only running ones unless --all)",
    arguments=[
        arg("-a", "--all", action="store_true", help="show all containers"),
        arg("--no-trunc", action="store_true", help="do not truncate COMMAND"),
        FORMAT,
    ],
)
def cmd_ps(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.state()
    ctrs = _loaded(state, state.all_containers())
    if not args.all:
        ctrs = [c for c in ctrs if c.state.get("state") == _RUNNING]
    pod_names: dict[str, str] = {}
    for ctr in ctrs:
        if ctr.pod_id and ctr.pod_id not in pod_names:
            pod_names[ctr.pod_id] = _pod_name(state, ctr.pod_id)
    if args.format == "json":
        ctx.json([_ps_json(c, pod_names) for c in ctrs])
        return EXIT_OK
    header = ("CONTAINER ID", "IMAGE", "COMMAND", "STATUS", "NAMES", "POD ID", "PODNAME")
    rows = [
        (
            _short(c.id),
            str(c.config.get("rootfsImageName", "")),
            _command_line(c, not args.no_trunc),
            _status(c),
            c.name,
            _short(c.pod_id),
            pod_names.get(c.pod_id, ""),
        )
        for c in ctrs
    ]
    ctx.table(header, rows)
    return EXIT_OK


def _pod_name(state: FileState, pod_id: str) -> str:
    try:
        return state.pod(pod_id).name
    except errors.NotFoundError:
        return ""


def _ps_json(ctr: Container, pod_names: dict[str, str]) -> dict[str, Any]:
    """A container as Podman's ``ps --format json`` names its fields (a subset)."""
    return {
        "Id": ctr.id,
        "Image": ctr.config.get("rootfsImageName", ""),
        "ImageID": ctr.config.get("rootfsImageID", ""),
        "Command": ctr.config.get("command") or [],
        "CreatedAt": ctr.config.get("createdTime", ""),
        "State": _state_name(ctr),
        "Status": _status(ctr),
        "ExitCode": ctr.state.get("exitCode", 0),
        "Exited": bool(ctr.state.get("exited", False)),
        "Names": [ctr.name],
        "Pod": ctr.pod_id,
        "PodName": pod_names.get(ctr.pod_id, ""),
        "IsInfra": bool(ctr.config.get("pause", False)),
        "Labels": ctr.config.get("labels") or {},
    }


@command("pod ls", help="list pods", arguments=[FORMAT], aliases=["ps", "list"])
def cmd_pod_ls(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.state()
    pods = state.all_pods()
    members = {p.id: _loaded(state, state.pod_containers(p)) for p in pods}
    for pod in pods:
        state.update_pod(pod)
    if args.format == "json":
        ctx.json([_pod_json(p, members[p.id]) for p in pods])
        return EXIT_OK
    header = ("POD ID", "NAME", "STATUS", "INFRA ID", "# OF CONTAINERS")
    rows = [
        (
            _short(p.id),
            p.name,
            _pod_status([_state_name(c) for c in members[p.id]]),
            _short(_infra_id(p)),
            str(len(members[p.id])),
        )
        for p in pods
    ]
    ctx.table(header, rows)
    return EXIT_OK


def _infra_id(pod: Pod) -> str:
    infra = pod.state.get("InfraContainerID") or pod.state.get("infraContainerID") or ""
    return infra if isinstance(infra, str) else ""


def _pod_json(pod: Pod, members: Sequence[Container]) -> dict[str, Any]:
    """A pod as Podman's ``pod ps --format json`` names its fields (a subset)."""
    return {
        "Id": pod.id,
        "Name": pod.name,
        "Status": _pod_status([_state_name(c) for c in members]),
        "Created": pod.config.get("created", ""),
        "InfraId": _infra_id(pod),
        "Labels": pod.config.get("labels") or {},
        "Cgroup": pod.config.get("cgroupParent", ""),
        "Containers": [{"Id": c.id, "Names": c.name, "Status": _state_name(c)} for c in members],
    }


@command("volume ls", help="list volumes", arguments=[FORMAT], aliases=["list"])
def cmd_volume_ls(ctx: Context, args: argparse.Namespace) -> int:
    vols = ctx.state().all_volumes()
    if args.format == "json":
        ctx.json(
            [
                {
                    "Name": v.name,
                    "Driver": v.config.get("volumeDriver", ""),
                    "Mountpoint": v.config.get("mountPoint", ""),
                    "CreatedAt": v.config.get("createdAt", ""),
                    "Labels": v.config.get("labels") or {},
                    "Scope": "local",
                    "Options": v.config.get("volumeOptions") or {},
                    "Anonymous": bool(v.config.get("isAnon", False)),
                    "MountCount": v.state.get("mountCount", 0),
                }
                for v in vols
            ]
        )
        return EXIT_OK
    ctx.table(
        ("DRIVER", "VOLUME NAME"), [(str(v.config.get("volumeDriver", "")), v.name) for v in vols]
    )
    return EXIT_OK


@command(
    "inspect",
    help="show the config and state of containers, pods or volumes as JSON",
    arguments=[
        arg("names", nargs="+", metavar="NAME|ID", help="container, pod or volume"),
        arg(
            "--type",
            choices=("all", "container", "pod", "volume"),
            default="all",
            help="look only for this kind of object (default: container, then pod, then volume)",
        ),
    ],
)
def cmd_inspect(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.state()
    found: list[dict[str, Any]] = []
    missing: errors.NotFoundError | None = None
    for name in args.names:
        try:
            found.append(_inspect_one(state, name, args.type))
        except errors.NotFoundError as exc:
            missing = missing or exc
    ctx.json(found)
    if missing is not None:
        raise missing
    return EXIT_OK


def _inspect_one(state: FileState, name: str, kind: str) -> dict[str, Any]:
    """Resolve ``name`` as a container, then a pod, then a volume (Podman's order)."""
    finders: tuple[tuple[str, Callable[[str], Any], Callable[[Any], None]], ...] = (
        ("container", state.lookup_container, state.update_container),
        ("pod", state.lookup_pod, state.update_pod),
        ("volume", state.lookup_volume, lambda _vol: None),  # volumes come with their state
    )
    for what, lookup, load_state in finders:
        if kind not in ("all", what):
            continue
        try:
            obj = lookup(name)
        except errors.NotFoundError:
            if kind == what:
                raise
            continue
        load_state(obj)
        return {"config": obj.config, "state": obj.state}
    raise errors.NotFoundError(f"no container, pod or volume with name or ID {name}")


@command(
    "import-podman",
    help="import a Podman db.sql or bolt_state.db (all or nothing; the file is only read)",
    arguments=[
        arg("db", metavar="DB.SQL", help="Podman's db.sql or bolt_state.db"),
        arg(
            "--rename-pods-on-clash",
            action="store_true",
            help="rename a pod that shares its name with a container to <name>-pod",
        ),
    ],
)
def cmd_import_podman(ctx: Context, args: argparse.Namespace) -> int:
    report = podman.import_file(
        args.db,
        ctx.state(),
        rename_pods_on_clash=args.rename_pods_on_clash,
        progress=ctx.progress(),
    )
    for line in report.lines():
        ctx.print(line)
    return EXIT_OK


@command(
    "export-podman",
    help="write the store as a Podman db.sql",
    arguments=[
        arg("db", metavar="DB.SQL", help="the file to write"),
        arg("--force", action="store_true", help="replace the file if it exists"),
    ],
)
def cmd_export_podman(ctx: Context, args: argparse.Namespace) -> int:
    podman.export_db(ctx.state(), args.db, overwrite=args.force, progress=ctx.progress())
    ctx.print(f"exported to {args.db}")
    return EXIT_OK


@command("refresh", help="reset volatile state after a reboot (Podman's State.Refresh)")
def cmd_refresh(ctx: Context, args: argparse.Namespace) -> int:
    ctx.state(refreshing=True).refresh()
    return EXIT_OK


# -- parser and main -------------------------------------------------------------------------


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsstate",
        description="Podman's libpod State kept as plain JSON files.",
        epilog="exit codes: 0 ok, 1 other error, 2 usage, 3 not found, "
        "4 exists or in use, 5 invalid or corrupt, 130 interrupted",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
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
    ctx = Context(root, tmp, sys.stdout, sys.stderr)
    try:
        try:
            return int(args.run(ctx, args))
        finally:
            ctx.end_progress()
            ctx.close()
    except errors.StateError as exc:
        return _fail(exc, exit_code(exc))
    except BrokenPipeError:  # the reader went away (`fsstate ps | head`)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (stops Python's flush-at-exit error)
        return EXIT_ERROR
    except OSError as exc:
        return _fail(exc, EXIT_ERROR)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, naming the exception's class
        return _fail(exc, EXIT_ERROR, prefix=f"internal error ({type(exc).__name__}): ")


def _fail(exc: BaseException, code: int, prefix: str = "") -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"fsstate: {prefix}{message}", file=sys.stderr)
    return code


# -- fsck and snapshot -----------------------------------------------------------------------


@command(
    "fsck",
    help="check the store's files; exit 0 when clean, 1 when something was found",
    arguments=[
        arg("--repair", action="store_true", help="fix what can be fixed (quarantine, rebuild)"),
        FORMAT,
    ],
)
def cmd_fsck(ctx: Context, args: argparse.Namespace) -> int:
    from fsstate import check, repair

    report = check(ctx.root)
    if args.repair and report.findings:
        report = repair(report)
    if args.format == "json":
        ctx.json(report.to_json())
    else:
        for f in report.findings:
            done = f" [repaired: {f.action}]" if f.action else ""
            todo = "" if f.repairable or f.action else " [needs you]"
            ctx.print(f"{f.code}: {f.message}{done}{todo}")
    return EXIT_OK if report.clean else EXIT_ERROR


@command(
    "snapshot",
    help="copy the store, consistent, to the new directory DEST",
    arguments=[
        arg("dest", metavar="DEST", help="a new directory; it becomes a static dir (DEST/fsstate)")
    ],
)
def cmd_snapshot(ctx: Context, args: argparse.Namespace) -> int:
    from fsstate.store.snapshot import snapshot

    result = snapshot(ctx.root, args.dest)
    for path in result.skipped:
        print(f"fsstate: not copied (not a regular file; run fsck): {path}", file=ctx.err)
    ctx.print(f"{result.dest}: {result.files} files, {result.bytes} bytes")
    return EXIT_OK
