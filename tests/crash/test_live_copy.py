"""Real ``rsync -a`` copies of a live store are restorable (issue 8, point 8).

Three writer processes (``churn.py``) change the store while the test takes copies with the
real ``rsync -a``, as an administrator's backup job would, one after another. Writers
checkpoint every few dozen commits, so copies also catch the journal starting over. Each copy
is then restored to a new place (a copy of the copy: new inodes, as on another machine) and:

(a) opens, and after at most one ``fsck --repair`` fsck finds nothing;
(b) every object whose last change was acknowledged before that copy started, and which no
    call touched until it ended, is there exactly as acknowledged (or absent, if removed);
(c) the §2 invariants hold on the files and through the API;
(d) a hand edit made in the restored copy before its first open — to the state of containers
    no call touched since the copy began: one the test added just before the copy (its record
    most likely still in the copied journal), a bystander, and one of the writers' when they
    left one untouched — survives that open (a full replay: a new incarnation) and
    ``fsck --repair``, byte for byte (issue 8, point 8).

Writers run until each has acknowledged a number of calls (progress, not wall time), so a
loaded machine waits longer rather than checking less.

``FSSTATE_COPY_ROUNDS`` sets the number of copies (default 6).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fsstate import Container, FileState, check, errors, repair
from fsstate.store import layout as L

from . import harness

CHURN = Path(__file__).with_name("churn.py")

ROUNDS = int(os.environ.get("FSSTATE_COPY_ROUNDS", "6"))
WRITERS = 3
FILLER = 1500
#: Calls each writer has acknowledged before the first copy, and more before each next one:
#: progress, not wall time, so a loaded machine waits longer instead of checking less.
BEFORE_FIRST_COPY = 60
BETWEEN_COPIES = 10
#: How long the writers may take to make that progress, however loaded the machine.
PROGRESS_TIMEOUT = 300.0
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("rsync") is None, reason="needs rsync"),
]


def read_log(path: Path) -> list[dict[str, Any]]:
    """The calls of one writer: ``{"start", "end" (None while in flight), "keys", "effects"}``."""
    calls: dict[int, dict[str, Any]] = {}
    # A line the writer is still appending has no newline yet: it is left for the next read.
    for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
        record = json.loads(line)
        call = calls.setdefault(record["n"], {"end": None, "effects": {}})
        call.update(record)
    return list(calls.values())


def settled(calls: list[dict[str, Any]], t0: int, t1: int) -> dict[str, Any]:
    """Object key → what it must be in a copy taken from ``t0`` to ``t1``: its last change
    acknowledged before ``t0``, for objects no call touched from ``t0`` to ``t1``."""
    last: dict[str, Any] = {}
    touched: set[str] = set()
    for call in sorted(calls, key=lambda c: c["start"]):
        if call["start"] >= t1:
            continue
        if call["end"] is not None and call["end"] < t0:
            last.update(call["effects"])
        else:
            touched.update(call["keys"])
    return {k: v for k, v in last.items() if k not in touched}


def wait_for_calls(logs: list[Path], at_least: int) -> None:
    """Until every writer has acknowledged ``at_least`` calls (lines with an ``end``)."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT
    while True:
        done = [
            sum(c["end"] is not None for c in read_log(log)) if log.exists() else 0 for log in logs
        ]
        if min(done) >= at_least:
            return
        assert time.monotonic() < deadline, f"writers stalled at {done} acknowledged calls"
        time.sleep(0.05)


def found(state: FileState, key: str) -> Any:
    """What the store holds for an object key, in the shape of ``churn``'s effects."""
    kind, _, oid = key.partition(":")
    try:
        if kind == "container":
            ctr = state.container(oid)
            state.update_container(ctr)
            return {"name": ctr.name, "state": ctr.state}
        if kind == "pod":
            return {"name": state.pod(oid).name}
        state.volume(oid)
        return {}
    except errors.NotFoundError:
        return None


def test_rsync_copies_of_a_live_store(tmp_path: Path) -> None:
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as st, st.transaction():
        # Bystanders, so that one copy takes long enough for many commits and checkpoints.
        for n in range(FILLER):
            cid = f"filler{n:058d}"
            st.add_container(Container(harness.container_config(cid, f"filler{n}"), {"state": 1}))
    writers = []
    for w in range(WRITERS):
        log = tmp_path / f"writer-{w}.log"
        args = [str(static), str(tmp), str(log), f"w{w}", str(7000 + w), str(8 << 10)]
        err = open(tmp_path / f"writer-{w}.stderr", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, str(CHURN), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        writers.append((proc, log, err))
    logs = [log for _, log, _ in writers]
    copies: list[tuple[Path, int, int]] = []
    quiet: list[str] = []  # containers this test adds just before each copy
    try:
        for proc, _, _ in writers:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc, _, _ in writers:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        wait_for_calls(logs, BEFORE_FIRST_COPY)  # let the store grow
        for i in range(ROUNDS):
            dest = tmp_path / f"copy-{i}"
            quiet.append(f"quiet{i:059d}")  # acknowledged just before the copy: its record is
            with FileState(static, tmp) as st:  # most likely still in the copied journal
                st.add_container(
                    Container(harness.container_config(quiet[i], f"q{i}"), {"state": 1})
                )
            t0 = time.monotonic_ns()
            done = subprocess.run(["rsync", "-a", f"{static}/", f"{dest}/"], check=False)
            assert done.returncode in (0, 24)  # 24: files vanished meanwhile (a live store)
            copies.append((dest, t0, time.monotonic_ns()))
            wait_for_calls(logs, BEFORE_FIRST_COPY + (i + 1) * BETWEEN_COPIES)
    finally:
        for w, (proc, _, err) in enumerate(writers):
            assert proc.stdin is not None
            proc.stdin.close()
            code = proc.wait(timeout=60)
            err.close()
            assert proc.stdout is not None
            proc.stdout.close()
            assert code == 0, (tmp_path / f"writer-{w}.stderr").read_text()
    calls = [c for _, log, _ in writers for c in read_log(log)]
    assert len(calls) >= WRITERS * (BEFORE_FIRST_COPY + ROUNDS * BETWEEN_COPIES)  # churned

    for i, (dest, t0, t1) in enumerate(copies):
        restored = tmp_path / f"restored-{dest.name}"
        subprocess.run(["rsync", "-a", f"{dest}/", f"{restored}/"], check=True)
        want = settled(calls, t0, t1)
        want |= {
            f"container:{quiet[j]}": {"name": f"q{j}", "state": {"state": 1}} for j in range(i + 1)
        }
        # Hand edits: the container added just before this copy, a bystander, and a writer's
        # container no call touched meanwhile when the writers left one (timing decides that).
        keys = [f"container:{quiet[i]}", f"container:filler{7:058d}"]
        keys += [k for k, v in sorted(want.items()) if k.startswith("container:w") and v][:1]
        edited = {key: hand_edit(restored, key.partition(":")[2], dest.name) for key in keys}
        report = check(restored)  # the first open: replays the copied journal
        if report.findings:
            repair(report)
        after = check(restored)
        assert after.findings == (), (dest.name, [str(f) for f in after.findings])
        for key, (path, data) in edited.items():
            assert path.read_bytes() == data, (dest.name, key)
            if key in want:  # a copy: the logged effects are shared by every round
                want[key] = want[key] | {"state": want[key]["state"] | {"editedByHand": dest.name}}
        with FileState(restored, tmp_path / f"tmp-{dest.name}") as st:
            wrong = {k: (v, found(st, k)) for k, v in want.items() if found(st, k) != v}
            assert wrong == {}, dest.name
            for key in edited:
                assert found(st, key)["state"]["editedByHand"] == dest.name, key
            assert harness.api_violations(st) == []
        assert harness.tree_violations(str(restored)) == []


def hand_edit(static: Path, cid: str, mark: str) -> tuple[Path, bytes]:
    """Add a key to a container's state.json the way an editor would: the file rewritten in
    place, the rest of its text unchanged. Returns the file and what it now holds."""
    path = static / L.STORE_DIR / L.container_doc(cid, "state")
    text = path.read_bytes().rstrip()
    assert text.endswith(b"}") and text != b"{}", text
    data = text[:-1].rstrip() + b',\n  "editedByHand": "' + mark.encode() + b'"\n}\n'
    with path.open("r+b") as f:
        f.write(data)
        f.truncate()
    return path, data


#: Refresh the store (its exec sessions go to the trash, deleted in the background), register
#: sessions again and refresh again, until stdin closes: a live store whose trash is being
#: deleted while copies are taken.
REFRESHER = """
import sys
from fsstate import ExecSession, FileState
static, tmp, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with FileState(static, tmp) as st:
    ids = [c.id for c in st.all_containers()]
    print("ready", flush=True)
    round = 0
    while sys.stdin.readline():
        st.refresh()
        round += 1
        with st.transaction():
            for n in range(count):
                cid = ids[n % len(ids)]
                st.add_exec_session(st.container(cid), ExecSession(f"r{round}s{n}", cid))
        print("refreshed", flush=True)
"""


def test_rsync_copies_while_refresh_trashes_exec_sessions(tmp_path: Path) -> None:
    """Copies taken while refreshes move thousands of exec sessions into the trash and a
    background thread deletes them: each copy opens, is clean after at most one ``fsck
    --repair`` (which deletes the trash copied along), holds the §2 invariants, and no session
    of the trash is ever read as registered."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    sessions = 1500
    with FileState(static, tmp) as st, st.transaction():
        for n in range(50):
            cid = f"ctr{n:061d}"
            st.add_container(Container(harness.container_config(cid, f"c{n}"), {"state": 3}))
    proc = subprocess.Popen(
        [sys.executable, "-c", REFRESHER, str(static), str(tmp), str(sessions)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        assert proc.stdout.readline() == "ready\n"
        for i in range(3):
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline() == "refreshed\n"
            proc.stdin.write("go\n")  # the next refresh runs while this copy is taken
            proc.stdin.flush()
            dest = tmp_path / f"copy-{i}"
            done = subprocess.run(["rsync", "-a", f"{static}/", f"{dest}/"], check=False)
            assert done.returncode in (0, 24)  # 24: files vanished meanwhile (a live store)
            assert proc.stdout.readline() == "refreshed\n"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=120) == 0
        proc.stdout.close()
    for i in range(3):
        restored = tmp_path / f"restored-{i}"
        subprocess.run(["rsync", "-a", f"{tmp_path / f'copy-{i}'}/", f"{restored}/"], check=True)
        report = check(restored)
        if report.findings:
            repair(report)
        assert check(restored).findings == (), i
        assert not any((restored / L.STORE_DIR / L.TRASH).glob("*")), i
        with FileState(restored, tmp_path / f"tmp-{i}") as st:
            assert harness.api_violations(st) == []
            registered = {
                sid for c in st.all_containers() for sid in st.get_container_exec_sessions(c)
            }
        assert all(
            sid.startswith(f"r{i + 1}s") or sid.startswith(f"r{i + 2}s") for sid in registered
        )
        assert harness.tree_violations(str(restored)) == []
