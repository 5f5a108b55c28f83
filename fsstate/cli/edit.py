"""``fsstate edit PATH``: change one document in an editor, as ``crontab -e`` and ``kubectl
edit`` do, checked and committed like any other change (:mod:`.documents` says which documents
and what is checked).

The document is copied, as stored, to a new private file ``fsstate-edit-*.json`` in the
temporary directory (``$TMPDIR``, Python's ``tempfile.gettempdir``); the editor is
``$VISUAL``, else ``$EDITOR``, else ``vi`` (split as a shell would, so ``"code --wait"``
works), run on it with the terminal; the store lock is not held meanwhile. When the editor
exits 0 the file is read back and applied (:func:`.documents.apply`). An edit that fails a
check the editor can fix (JSON, schema, a fixed field, a name that is taken) re-opens the editor
on the edited text with the error on top, in ``//`` lines that are dropped when it is read; the
same document saved again gives up: the error is the command's, and the edit is kept in the
file, which the error names. Saving the document unchanged writes nothing. ``--file NEW`` takes the
new document from the file NEW with no editor and no retry.

Outcomes: ``edited <path>`` on stdout and exit 0; ``<path>: no changes made`` on stderr and exit
0; an error and its code (:mod:`.exits`) with nothing written: an editor that exits non-zero
(:class:`EditorError`, 1), a document changed in the store meanwhile
(:class:`.documents.EditConflictError`, 1) — both keep the edit in its file too.
"""

from __future__ import annotations

import argparse
import os
import shlex

from fsstate import FileState, errors
from fsstate.cli import documents
from fsstate.cli.context import Context
from fsstate.cli.exits import EXIT_OK
from fsstate.cli.parser import arg, command
from fsstate.store import codec, fsio
from fsstate.store import layout as L

__all__ = ["EditorError", "editor_command"]

#: The head of an error line written above the document; such lines are dropped on reading.
_NOTE = b"// "
#: Errors the person at the editor can fix by editing again.
_FIXABLE = (errors.InvalidArgumentError, errors.ExistsError)


class EditorError(errors.StateError):
    """The editor exited with a non-zero status: the edit is abandoned, nothing written."""


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``, split into words as a shell would."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


@command(
    "edit",
    help="change a container, pod or volume document in $VISUAL/$EDITOR; checked, then "
    "committed like any change (seen by every process)",
    arguments=[
        arg(
            "path",
            metavar="PATH",
            help=f"the document, relative to <root>/{L.STORE_DIR} "
            f"({L.container_doc('<id>', 'config')}, {L.pod_doc('<id>', 'state')}, "
            f"{L.volume_doc('<name>', 'config')} …) or a path inside it",
        ),
        arg("--file", metavar="NEW", help="take the new document from NEW; no editor"),
    ],
)
def cmd_edit(ctx: Context, args: argparse.Namespace) -> int:
    state = ctx.state()
    target = documents.locate(os.path.join(ctx.root, L.STORE_DIR), args.path)
    original = documents.current(state, target)
    if args.file is not None:
        changed = documents.apply(state, target, original, fsio.read_file(args.file))
    else:
        changed = _in_editor(state, target, original)
    if changed:
        ctx.print(f"edited {target.path}")
    else:
        ctx.notice(f"{target.path}: no changes made")
    return EXIT_OK


def _in_editor(state: FileState, target: documents.Document, original: dict[str, object]) -> bool:
    import subprocess  # here, not at the top: every other command would load it at start-up
    import tempfile

    copy = fsio.new_temp_file(tempfile.gettempdir(), "fsstate-edit-", ".json")
    text, error, keep = codec.encode(original), "", False
    try:
        while True:
            fsio.write_file(copy, _with_note(text, error), replace=True)
            status = subprocess.run([*editor_command(), copy], check=False).returncode
            if status != 0:
                keep = True
                raise EditorError(
                    f"the editor exited with status {status}; nothing written "
                    f"(the edit is kept in {copy})"
                )
            edited = _without_notes(fsio.read_file(copy))
            try:
                return documents.apply(state, target, original, edited)
            except _FIXABLE as exc:
                if error and edited == text:  # the same document again: give up
                    keep = True
                    message = f"{exc.message} (the edit is kept in {copy})"
                    raise type(exc)(message, **exc.fields) from None
                text, error = edited, str(exc)
            except documents.EditConflictError as exc:
                keep = True
                raise documents.EditConflictError(
                    f"{exc.message} (the edit is kept in {copy})", **exc.fields
                ) from None
    finally:
        if not keep:
            fsio.remove_if_present(copy)


def _with_note(text: bytes, error: str) -> bytes:
    if not error:
        return text
    lines = [
        b"// fsstate edit: the document was not saved: fix it, or save it unchanged to give up.",
        *(_NOTE + line.encode() for line in " ".join(error.split()).split("; ")),
    ]
    return b"\n".join(lines) + b"\n" + text


def _without_notes(data: bytes) -> bytes:
    lines = data.split(b"\n")
    while lines and lines[0].startswith(b"//"):
        lines.pop(0)
    return b"\n".join(lines)
