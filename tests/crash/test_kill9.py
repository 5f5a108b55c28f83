"""``kill -9`` at any instant loses no acknowledged change and leaves nothing half done.

Each iteration starts a writer process on one store (``harness.run_writer``: random valid
operations — containers with dependencies, named volumes and pods, pods, volumes, states, exec
sessions, networks, config rewrites, refresh, multi-call transactions — each logged after it
returns), kills it with SIGKILL at a random moment, opens the store here (recovery runs) and
checks that:

(a) the store equals the model replayed from the writer's log of acknowledged operations, or
    that plus the one operation in flight at the kill;
(b) the invariants of ``spec/podman-state.md`` §2 hold on the files and through the API;
(c) ``fsstate.check`` finds nothing (only once fsstate has an fsck).

The next writer then continues on the same store. The moment of the kill is either a random
delay after the writer starts (inside open and recovery) or a random delay after its N-th
acknowledged operation. Half of the writers checkpoint every few commits or every few dozen,
so kills land in checkpoints too.

Writers are forked by a zygote process (a fresh interpreter, ``harness.py zygote``, that has
imported fsstate once), so an iteration costs milliseconds, not the 0.2 s of importing
jsonschema; every 25th writer is a fresh interpreter of its own (``harness.py writer``).

Environment:
    FSSTATE_CRASH_ITERATIONS   kill iterations (default 250, about 30 s on 2 cores; set
                               thousands by hand)
    FSSTATE_CRASH_SEED         base seed (default 1). Iteration i's writer uses seed*100000+i
                               and the kill schedule comes from Random(seed); a failure
                               prints both, and the store and logs stay under tmp_path.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fsstate.store import journal
from fsstate.store import layout as L

from . import harness
from .harness import Model

pytestmark = pytest.mark.slow

DEFAULT_ITERATIONS = 250
#: A journal record's header (journal.py): magic, payload length, crc32, record number.
_HEADER = struct.Struct("<4sIIQ")
#: Checkpoint thresholds given to writers: every few commits, now and then, the default.
CHECKPOINT_CHOICES = [(4096, 0.25), (32768, 0.25), (journal.CHECKPOINT_BYTES, 0.5)]


def read_log(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(acknowledged operations in order, the operation in flight or None). A last line
    without its newline was cut by the kill and counts as never written."""
    intents: list[dict[str, Any]] = []
    acked = 0
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        record = json.loads(line)
        if "intent" in record:
            assert record["n"] == len(intents) and acked == len(intents), f"{path}: {line}"
            intents.append(record["intent"])
        else:
            assert record["n"] == acked == len(intents) - 1, f"{path}: {line}"
            acked += 1
    inflight = intents[acked] if acked < len(intents) else None
    return intents[:acked], inflight


def journal_pending(static: Path) -> str:
    """What the killed writer left for recovery: a commit cut between its commit point and
    its generation update (the next record is in the journal at the applied offset), or
    nothing."""
    root = static / L.STORE_DIR
    try:
        gen = journal.Generation.decode((root / L.GENERATION).read_bytes())
        with open(root / L.JOURNAL, "rb") as f:
            f.seek(gen.applied)
            head = f.read(_HEADER.size)
    except FileNotFoundError:
        return "no store yet"
    if len(head) == _HEADER.size:
        magic, _length, _crc, number = _HEADER.unpack(head)
        if magic == b"FSJ1" and number == gen.number + 1:
            return "commit cut after its commit point (or in its write)"
    return "nothing pending"


def temp_files(static: Path) -> int:
    return sum(
        L.is_temp_name(name) for _, _, files in os.walk(static / L.STORE_DIR) for name in files
    )


class Writer:
    """A running writer: its pid, a pidfd to see it die, and the FIFO it acknowledges on."""

    def __init__(self, pid: int, fifo: Path, reap: Any) -> None:
        self.pid = pid
        self.pidfd = os.pidfd_open(pid)
        self.fifo = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._keep_open = os.open(fifo, os.O_WRONLY)  # so a read never sees end of file
        self._reap = reap
        self._buffer = b""

    def wait_acks(self, n: int, what: str) -> int:
        """Wait for ``n`` acknowledgements; return how many came before the writer died."""
        deadline = time.monotonic() + 60
        while self._buffer.count(b"a") < n and b"E" not in self._buffer:
            ready, _, _ = select.select([self.fifo, self.pidfd], [], [], 1)
            self._read()
            if self.pidfd in ready:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: no acknowledgement for 60 s")
        if b"E" in self._buffer:  # the writer reports a failed operation, then exits
            select.select([self.pidfd], [], [], 10)
            self._read()
            error = self._buffer[self._buffer.index(b"E") + 1 :].decode(errors="replace")
            raise AssertionError(f"{what}: an operation failed in the writer:\n{error}")
        return min(n, self._buffer.count(b"a"))

    def _read(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self.fifo, 65536):
                self._buffer += chunk

    def kill(self) -> int:
        """SIGKILL, wait, and return the exit code (``-9`` when the kill ended it). A writer
        that exited by itself left the reason on its FIFO: it is raised."""
        if self.pidfd < 0:
            return -9
        os.kill(self.pid, signal.SIGKILL)
        code = int(self._reap())
        self._read()
        for fd in (self.pidfd, self.fifo, self._keep_open):
            os.close(fd)
        self.pidfd = -1
        if code != -9:
            report = self._buffer[self._buffer.find(b"E") + 1 :] if b"E" in self._buffer else b""
            raise AssertionError(
                f"the writer exited with {code} before the kill:\n{report.decode(errors='replace')}"
            )
        return code


class Writers:
    """Starts writers: forked by a zygote (``harness.py zygote``) that has imported and warmed
    up fsstate, or every ``spawn_every``-th as a fresh interpreter (``harness.py writer``)."""

    def __init__(self, workdir: Path, spawn_every: int = 25) -> None:
        self.workdir = workdir
        self.spawn_every = spawn_every
        self.zygote = self._popen("zygote")
        assert "ready" in json.loads(self._line(self.zygote))

    def _popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, harness.__file__, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def _line(proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, f"child {proc.args!r} died (exit code {proc.poll()})"
        return line

    @staticmethod
    def _send(proc: subprocess.Popen[str], message: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(message + "\n")
        proc.stdin.flush()

    def start(self, i: int, args: tuple[Any, ...]) -> Writer:
        fifo = self.workdir / f"acks-{i}"
        if fifo.exists():
            fifo.unlink()
        os.mkfifo(fifo)
        if i % self.spawn_every == self.spawn_every - 1:
            static, tmp, log, seed, checkpoint, _dump = args
            proc = self._popen("writer", static, tmp, log, str(seed), str(checkpoint), str(fifo))
            self._line(proc)  # imported: "ready"
            writer = Writer(proc.pid, fifo, proc.wait)
            self._send(proc, "go")
            for stream in (proc.stdin, proc.stdout):
                assert stream is not None
                stream.close()
            return writer
        self._send(self.zygote, json.dumps({"fork": [*args, str(fifo)]}))
        pid = json.loads(self._line(self.zygote))["pid"]
        return Writer(pid, fifo, lambda: self._reap(pid))

    def _reap(self, pid: int) -> int:
        self._send(self.zygote, json.dumps({"reap": pid}))
        return int(json.loads(self._line(self.zygote))["exitcode"])

    def close(self) -> None:
        self.zygote.kill()
        self.zygote.wait()
        for stream in (self.zygote.stdin, self.zygote.stdout):
            assert stream is not None
            stream.close()


def test_sigkill_at_random_moments_loses_no_acknowledged_operation(tmp_path: Path) -> None:
    """Hundreds of SIGKILLs of writers on one store: (a) model, (b) invariants, (c) fsck."""
    iterations = int(os.environ.get("FSSTATE_CRASH_ITERATIONS", DEFAULT_ITERATIONS))
    base_seed = int(os.environ.get("FSSTATE_CRASH_SEED", "1"))
    static, tmp, logs = tmp_path / "static", tmp_path / "tmp", tmp_path / "logs"
    logs.mkdir()
    writers = Writers(tmp_path)
    try:
        _run(iterations, base_seed, static, tmp, logs, writers)
    finally:
        writers.close()


def _run(
    iterations: int, base_seed: int, static: Path, tmp: Path, logs: Path, writers: Writers
) -> None:
    schedule = random.Random(base_seed)
    model = Model()
    stats: Counter[str] = Counter()
    started = time.monotonic()
    for i in range(iterations):
        seed = base_seed * 100000 + i
        checkpoint = schedule.choices(*zip(*CHECKPOINT_CHOICES, strict=True))[0]
        log = logs / f"{i:05d}.jsonl"
        what = (
            f"FSSTATE_CRASH_SEED={base_seed} iteration {i} (writer seed {seed}, checkpoint "
            f"bytes {checkpoint}, log {log}, store {static})"
        )
        args = (str(static), str(tmp), str(log), seed, checkpoint, model.dump())
        writer = writers.start(i, args)
        try:
            if schedule.random() < 0.2:
                mode = "after start"
                time.sleep(schedule.uniform(0, 0.025))
                acks = None
            else:
                mode = "after acks"
                acks = writer.wait_acks(schedule.randrange(30), what)
                time.sleep(schedule.uniform(0, 0.002))
        finally:
            try:
                writer.kill()
            except AssertionError as exc:
                raise AssertionError(f"{what}: {exc}") from None
        stats[f"kill {mode}"] += 1
        stats[journal_pending(static)] += 1
        stats["temporary files left by the kill"] += temp_files(static) > 0

        done, inflight = read_log(log)
        if acks is not None:
            assert len(done) >= acks, f"{what}: {acks} acks seen but {len(done)} logged"
        before = model.copy()
        for op in done:
            before.apply(op)
        after = None
        if inflight is not None:
            after = before.copy()
            after.apply(inflight)
        stats["acknowledged operations"] += len(done)

        result = harness.open_and_check(str(static), str(tmp))
        assert "error" not in result, f"{what}: opening failed:\n{result.get('error')}"
        dump = result["dump"]
        if dump == before.dump():
            model = before
            stats["in flight: absent" if inflight else "nothing in flight"] += 1
        elif after is not None and dump == after.dump():
            model = after
            stats["in flight: present"] += 1
        else:
            raise AssertionError(
                f"{what}: the store is neither the acknowledged model nor that plus the "
                f"operation in flight ({inflight and inflight['op']}):\n"
                + "\n".join(harness.diff(before.dump(), dump))
            )
        assert result["violations"] == [], f"{what}: invariants broken: {result['violations']}"
        assert result["fsck"] in (None, []), f"{what}: fsck findings: {result['fsck']}"
        stats["fsck checked"] += result["fsck"] is not None
    elapsed = time.monotonic() - started
    final = model.dump()
    print(
        f"\nkill -9: {iterations} iterations in {elapsed:.1f} s (seed {base_seed}); final store "
        f"{len(final['containers'])} containers, {len(final['pods'])} pods, "
        f"{len(final['volumes'])} volumes, {len(final['exec'])} exec sessions"
    )
    for key, count in sorted(stats.items()):
        print(f"  {key}: {count}")
    assert stats["acknowledged operations"] > iterations  # the writers did real work
