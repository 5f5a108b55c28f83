"""One function per command, each a few calls on the public API; :mod:`.render` formats."""

from __future__ import annotations

import argparse

import fsstate
from fsstate import podman, snapshot
from fsstate.cli import render
from fsstate.cli.context import Context
from fsstate.cli.exits import EXIT_ERROR, EXIT_OK
from fsstate.cli.parser import FORMAT, PROGRESS, arg, command

__all__: list[str] = []  # the commands are reached through fsstate.cli.COMMANDS


@command(
    "import-podman",
    help="import a Podman db.sql or bolt_state.db (all or nothing; the file is only read)",
    arguments=[
        arg("db", metavar="DB.SQL", help="Podman's db.sql or bolt_state.db"),
        arg(
            "--rename-pods-on-clash",
            action="store_true",
            help="into a bolt store: rename a pod that shares its name with a container to "
            "<name>-pod (a new store takes the file's semantics: db.sql makes a sqlite store, "
            "where such names do not clash)",
        ),
        *PROGRESS,
    ],
)
def cmd_import_podman(ctx: Context, args: argparse.Namespace) -> int:
    podman.detect_format(args.db)  # a missing or unreadable file leaves no store behind
    report = podman.import_file(
        args.db,
        ctx.state(create=True),
        rename_pods_on_clash=args.rename_pods_on_clash,
        progress=ctx.progress(),
    )
    ctx.end_progress()
    to_stderr = {f"skipped: {s}" for s in report.skipped} | {
        f"warning: {w}" for w in report.warnings
    }
    for line in report.lines():
        if line in to_stderr:
            ctx.notice(line)
        else:
            ctx.print(line)
    return EXIT_OK


@command(
    "export-podman",
    help="write the store as a Podman db.sql (Podman 4.8+) or bolt_state.db (Podman 4.x)",
    arguments=[
        arg("db", metavar="OUT", help="the file to write"),
        arg(
            "--format",
            choices=("sqlite", "bolt"),
            default="sqlite",
            help="sqlite: db.sql (default); bolt: bolt_state.db, for Podman before 4.8",
        ),
        arg("--force", action="store_true", help="replace the file if it exists"),
        *PROGRESS,
    ],
)
def cmd_export_podman(ctx: Context, args: argparse.Namespace) -> int:
    export = podman.export_bolt if args.format == "bolt" else podman.export_db
    export(ctx.state(), args.db, overwrite=args.force, progress=ctx.progress())
    ctx.end_progress()
    ctx.print(f"exported to {args.db}")
    return EXIT_OK


@command(
    "migrate",
    help="convert the store to the other semantics in one commit (podman system migrate "
    "--migrate-db); refused to bolt while a pod and a container share a name",
    arguments=[
        arg(
            "--semantics",
            choices=("sqlite", "bolt"),
            required=True,
            help="sqlite: today's Podman (SQLite state); bolt: the 2020 Bolt state",
        )
    ],
)
def cmd_migrate(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.state()
    before = state.semantics
    if state.migrate(args.semantics):
        ctx.print(f"migrated {ctx.root} from {before} to {args.semantics} semantics")
    else:
        ctx.print(f"{ctx.root} already follows {args.semantics} semantics")
    return EXIT_OK


@command("init", help="create an empty store (the only command but import-podman that creates)")
def cmd_init(ctx: Context, args: argparse.Namespace) -> int:
    ctx.state(refreshing=True, create=True)
    ctx.print(f"store ready in {ctx.root}")
    return EXIT_OK


@command(
    "refresh",
    help="reset volatile state after a reboot (Podman's State.Refresh)",
    arguments=PROGRESS,
)
def cmd_refresh(ctx: Context, args: argparse.Namespace) -> int:
    progress = ctx.progress()
    if progress is not None:  # one step: the library reports nothing inside one commit
        progress("refreshing", 0, 1)
    ctx.state(refreshing=True).refresh()
    if progress is not None:
        progress("refreshing", 1, 1)
    return EXIT_OK


@command(
    "fsck",
    help="check the store's files; exit 0 when clean, 1 when something was found",
    arguments=[
        arg("--repair", action="store_true", help="fix what can be fixed (quarantine, rebuild)"),
        FORMAT,
        *PROGRESS,
    ],
)
def cmd_fsck(ctx: Context, args: argparse.Namespace) -> int:
    progress = ctx.progress()
    report = fsstate.check(ctx.root, progress=progress)  # loads here, not for every command
    if args.repair and report.findings:
        report = fsstate.repair(report, progress=progress)
    ctx.end_progress()
    if args.format == "json":
        ctx.json(report.to_json())
    else:
        for f in report.findings:
            ctx.print(render.finding_line(f))
    return EXIT_OK if report.clean else EXIT_ERROR


@command(
    "snapshot",
    help="copy the store, consistent, to the new directory DEST",
    arguments=[
        arg("dest", metavar="DEST", help="a new directory; it becomes a static dir (DEST/fsstate)"),
        *PROGRESS,
    ],
)
def cmd_snapshot(ctx: Context, args: argparse.Namespace) -> int:
    result = snapshot(ctx.root, args.dest, progress=ctx.progress())
    ctx.end_progress()
    for path in result.skipped:
        ctx.notice(f"not copied (not a regular file; run fsck): {path}")
    ctx.print(f"{result.dest}: {result.files} files, {result.bytes} bytes")
    return EXIT_OK
