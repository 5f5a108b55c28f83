"""Progress and output habits of the long commands (issue 12 point 4): a bar on stderr when it
is a real terminal (a pty), throttled count lines through a pipe with ``--progress``, nothing
with ``--quiet``; notices and "skipped" lines on stderr, results alone on stdout. Real
``python -m fsstate`` processes on real ptys and pipes."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from fsstate.store import layout as L

DATA = Path(__file__).parent.parent / "examples" / "data"
PODMAN_DB = DATA / "podman-db.sql"
#: podman-db.sql: 7 volumes, 2 pods, 7 containers, 2 exec sessions and 1 exit code.
OBJECTS = 19


def env_for(tmp_path: Path, **env: str) -> dict[str, str]:
    default = {"FSSTATE_ROOT": str(tmp_path / "root"), "FSSTATE_TMP": str(tmp_path / "tmp")}
    return os.environ | default | env


def piped(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``fsstate ARGS`` with stdout and stderr on pipes."""
    return subprocess.run(
        [sys.executable, "-m", "fsstate", *args],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, **env),
        timeout=300,
    )


def on_a_pty(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """``fsstate ARGS`` with stderr on a real pty (stdout on a pipe): (code, stdout, what the
    terminal received)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fsstate", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env_for(tmp_path, **env),
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 300)
            assert ready, "no output and no end in 300 s"
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            seen += data
    finally:
        os.close(master)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    proc.stdout.close()
    return proc.wait(timeout=60), out, seen.decode()


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    proc = piped(tmp_path, "import-podman", str(PODMAN_DB))
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "root"


def test_import_shows_a_bar_on_a_terminal(tmp_path: Path) -> None:
    code, out, term = on_a_pty(tmp_path, "import-podman", str(PODMAN_DB))
    assert code == 0
    assert out.startswith("imported 7 containers, 2 pods, 7 volumes") and out.count("\n") == 1
    assert re.search(rf"\rimporting: +\d+%\|.*\| *\d+/{OBJECTS} ", term), term
    assert "imported" not in term  # results on stdout
    assert term.endswith("\r"), repr(term[-200:])  # the bar is cleared, not left behind


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("fsck",), "checking"),
        (("fsck", "--repair"), "checking"),
        (("refresh",), "refreshing"),
        (("export-podman", "{tmp}/out.sql"), "exporting"),
        (("snapshot", "{tmp}/backup"), "snapshot"),
    ],
)
def test_each_long_command_shows_a_bar_on_a_terminal(
    tmp_path: Path, imported: Path, args: tuple[str, ...], what: str
) -> None:
    if args[0] == "fsck":  # something to repair, so --repair has rounds to show
        (imported / L.STORE_DIR / L.name_index("redis_apple")).unlink()
    code, _, term = on_a_pty(tmp_path, *(a.format(tmp=tmp_path) for a in args))
    assert code in (0, 1)  # fsck without --repair finds the missing entry
    assert re.search(rf"\r{what}: ", term), term


def test_progress_through_a_pipe_is_throttled_count_lines(tmp_path: Path) -> None:
    proc = piped(tmp_path, "import-podman", "--progress", str(PODMAN_DB))
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert lines and all(re.fullmatch(r"fsstate: importing: \d+/19", line) for line in lines)
    assert lines[-1] == f"fsstate: importing: {OBJECTS}/{OBJECTS}"
    assert len(lines) < OBJECTS  # at most one a second, and the last
    assert proc.stdout.startswith("imported 7 containers")


def test_fsck_progress_without_a_total(tmp_path: Path, imported: Path) -> None:
    proc = piped(tmp_path, "fsck", "--progress")
    assert (proc.returncode, proc.stdout) == (0, "")
    lines = proc.stderr.splitlines()
    assert lines and all(re.fullmatch(r"fsstate: checking: \d+", line) for line in lines)
    entries = sum(1 for _ in (imported / L.STORE_DIR).rglob("*"))
    assert lines[-1] == f"fsstate: checking: {entries}"  # every entry of the tree, counted


def test_no_progress_through_a_pipe_unless_asked(tmp_path: Path) -> None:
    proc = piped(tmp_path, "import-podman", str(PODMAN_DB))
    assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.parametrize(
    "args",
    [
        ("import-podman", str(PODMAN_DB)),
        ("export-podman", "{dest}.sql"),
        ("fsck",),
        ("fsck", "--repair"),
        ("snapshot", "{dest}"),
        ("refresh",),
    ],
)
def test_quiet_prints_nothing_on_stderr(tmp_path: Path, args: tuple[str, ...]) -> None:
    """The same command prints progress and a notice without ``--quiet`` (``--progress``; a
    new, empty tmp dir is a store not refreshed in this boot, which commands warn about), and
    nothing on stderr with it, through a pipe and on a terminal."""
    if args[0] != "import-podman":
        assert piped(tmp_path, "import-podman", str(PODMAN_DB)).returncode == 0
    loud = quiet = None
    terminal = (-1, "", "")
    for n, flag in enumerate(("--progress", "--quiet", "--quiet")):
        argv = [*(a.format(dest=tmp_path / f"out{n}") for a in args), flag]
        env = {"FSSTATE_ROOT": str(tmp_path / f"root{n}")} if args[0] == "import-podman" else {}
        env["FSSTATE_TMP"] = str(tmp_path / f"tmp{n}")
        if n == 2:
            terminal = on_a_pty(tmp_path, *argv, **env)
        elif n == 1:
            quiet = piped(tmp_path, *argv, **env)
        else:
            loud = piped(tmp_path, *argv, **env)
    assert loud is not None and quiet is not None
    assert loud.returncode == 0 and re.search(r"^fsstate: \w+: \d+", loud.stderr, re.M)
    if args[0] == "export-podman":  # it opens a FileState, which checks the refresh
        assert "has not been refreshed" in loud.stderr
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert (terminal[0], terminal[2]) == (0, "")


def test_skipped_lines_go_to_stderr(tmp_path: Path, imported: Path) -> None:
    """A snapshot that leaves a planted symlink behind says so on stderr; stdout holds only
    the result."""
    ctr = next((imported / L.STORE_DIR / L.CONTAINERS.top).iterdir())
    os.symlink(tmp_path / "secret", ctr / "networks.json")
    proc = piped(tmp_path, "snapshot", str(tmp_path / "backup"))
    assert proc.returncode == 0
    assert re.fullmatch(rf"{tmp_path / 'backup'}: \d+ files, \d+ bytes\n", proc.stdout)
    assert proc.stderr == (
        f"fsstate: not copied (not a regular file; run fsck): "
        f"{L.container_dir(ctr.name)}/networks.json\n"
    )
    quiet = piped(tmp_path, "snapshot", "--quiet", str(tmp_path / "backup2"))
    assert (quiet.returncode, quiet.stderr) == (0, "")
