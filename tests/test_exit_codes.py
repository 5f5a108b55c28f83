"""The one exit-code table (``fsstate/cli/exits.py``, issue 12 point 4): every error class maps
to a documented code, ``--help`` and the README show the table as exits.py has it, and the
known mismatches are fixed (snapshot to an existing DEST; a user without the right to open the
store's files). Real processes, a real other user (uid 65534 in a forked child), a real
read-only bind mount."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from corrupt.builders import build_store

from fsstate import cli, errors
from fsstate.cli import exits
from fsstate.store import layout as L
from fsstate.store.fsio import UnsafeDirError

README = Path(__file__).parent.parent / "README.md"
NOBODY = 65534
CODES = {code for code, _ in exits.CODES}


def error_classes() -> list[type[errors.StateError]]:
    return [getattr(errors, name) for name in errors.__all__]


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_maps_to_a_documented_code(cls: type[errors.StateError]) -> None:
    """Each class has a row of its own or of an ancestor other than the catch-all StateError
    (a new class without one fails here), and its code is in the table."""
    rows = [row_cls for row_cls, _ in exits._EXIT_CODES]
    nearest = next(c for c in cls.__mro__ if c in rows)
    assert nearest is not errors.StateError or cls is errors.StateError, cls
    assert exits.exit_code(cls("x")) in CODES


def test_the_codes_of_the_families() -> None:
    assert exits.exit_code(errors.NoSuchStoreError("x")) == exits.EXIT_NOT_FOUND == 3
    assert exits.exit_code(errors.DependencyExistsError("x")) == exits.EXIT_EXISTS == 4
    assert exits.exit_code(errors.CorruptDocumentError("x")) == exits.EXIT_INVALID == 5
    assert exits.exit_code(errors.InternalError("x")) == exits.EXIT_ERROR == 1
    assert exits.exit_code(errors.PermissionDeniedError("x")) == exits.EXIT_NO_PERMISSION
    assert exits.exit_code(FileExistsError(17, "File exists", "/x")) == exits.EXIT_EXISTS
    assert exits.exit_code(PermissionError(13, "Permission denied")) == exits.EXIT_NO_PERMISSION
    assert exits.exit_code(OSError(5, "Input/output error")) == exits.EXIT_ERROR
    assert exits.exit_code(RuntimeError("x")) == exits.EXIT_ERROR
    assert exits.exit_code(UnsafeDirError(1, "is a symlink", "/t")) == exits.EXIT_USAGE
    assert [code for code, _ in exits.CODES] == sorted(CODES)


def test_help_ends_with_the_table() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "fsstate", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert out.rstrip("\n").endswith(exits.help_table())
    for code, text in exits.CODES:
        assert re.search(rf"^ +{code}  {re.escape(text)}$", out, re.M), code


def test_readme_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    begin = "<!-- exit-codes: generated from fsstate/cli/exits.py -->\n"
    table = text.split(begin, 1)[1].split("<!-- /exit-codes -->", 1)[0]
    assert table == exits.markdown_table() + "\n"
    assert text.count("| 77 |") == 1


def test_snapshot_to_an_existing_dest_is_the_exists_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    static, dest = tmp_path / "static", tmp_path / "backup"
    build_store(static)
    dest.mkdir()
    (dest / "keep").write_bytes(b"mine\n")
    argv = ["--root", str(static), "--tmp", str(tmp_path / "t"), "snapshot", str(dest)]
    assert cli.main(argv) == 4
    err = capsys.readouterr().err
    assert err == f"fsstate: {dest}: File exists\n"
    assert [p.name for p in dest.iterdir()] == ["keep"]


# -- a user without the right to open the store's files ---------------------------------------


@pytest.fixture
def shared() -> Iterator[Path]:
    """A directory uid 65534 can reach (pytest's tmp_path is root's only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    with tempfile.TemporaryDirectory(prefix="fsstate-perm-", dir="/tmp") as path:
        os.chmod(path, 0o755)
        yield Path(path)


def as_nobody(argv: list[str]) -> tuple[int, str, str]:
    """``cli.main(argv)`` in a forked child that is uid/gid 65534: (code, stdout, stderr)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            out, err = io.StringIO(), io.StringIO()
            sys.stdout, sys.stderr = out, err
            code = cli.main(argv)
            os.write(wfd, json.dumps([code, out.getvalue(), err.getvalue()]).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    code, out, err = json.loads(data)
    return code, out, err


def tree_bytes(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_a_reader_without_write_rights_is_told_permission_denied(shared: Path) -> None:
    """The store's files readable by all but writable by root only: another user's ``ps`` is
    the permission code naming the lock file, not "corrupt document"."""
    static = shared / "static"
    build_store(static)
    subprocess.run(["chmod", "-R", "a+rX", str(static)], check=True)
    (shared / "open").mkdir()
    os.chmod(shared / "open", 0o777)
    before = tree_bytes(static)
    argv = ["--root", str(static), "--tmp", str(shared / "open" / "t"), "ps", "-a"]
    code, out, err = as_nobody(argv)
    assert (code, out) == (exits.EXIT_NO_PERMISSION, "")
    lock = static / L.STORE_DIR / L.LOCK
    assert err == (
        f"fsstate: {lock}: cannot open the lock file (Permission denied); run as the store's "
        "owner: permission denied\n"
    )
    assert "corrupt" not in err
    assert tree_bytes(static) == before


def test_a_store_this_user_cannot_enter_is_permission_denied(shared: Path) -> None:
    static = shared / "static"
    build_store(static)  # the store directory is 0700, root's
    (shared / "open").mkdir()
    os.chmod(shared / "open", 0o777)
    argv = ["--root", str(static), "--tmp", str(shared / "open" / "t"), "pod", "ls"]
    code, out, err = as_nobody(argv)
    assert (code, out) == (exits.EXIT_NO_PERMISSION, "")
    assert err == f"fsstate: {static / L.STORE_DIR}: Permission denied\n"


def test_a_change_on_a_read_only_mount_is_permission_denied(tmp_path: Path) -> None:
    """EROFS: the store opens for reading; a command that must write is the permission code."""
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")
    static, mnt = tmp_path / "static", tmp_path / "ro"
    build_store(static)
    mnt.mkdir()
    subprocess.run(["mount", "--bind", str(static), str(mnt)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mnt)], check=True)
        argv = ["--root", str(mnt), "--tmp", str(tmp_path / "t"), "refresh"]
        proc = subprocess.run(
            [sys.executable, "-m", "fsstate", *argv],
            capture_output=True,
            text=True,
        )
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert (proc.returncode, proc.stdout) == (exits.EXIT_NO_PERMISSION, "")
    assert proc.stderr == f"fsstate: {mnt / L.STORE_DIR}: read-only file system\n"
