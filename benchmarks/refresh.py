"""How long ``refresh()`` takes as the store grows: it must grow linearly.

    python benchmarks/refresh.py [--sizes 1000,8000,16000] [--exec-sessions 100000] [--dir DIR]

Builds one store per size (containers with a small config, each with one exec session, plus
one pod and one volume per 100 containers) in one transaction, then times ``refresh()`` on it
once, in a fresh ``FileState``, after a ``sync`` (the build leaves the page cache warm; a
second refresh would find nothing left to reset).
Then a store of a few containers holding ``--exec-sessions`` exec sessions in all. Prints
seconds per refresh and microseconds per container: a flat last column is linear.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from fsstate import Container, ExecSession, FileState, Pod, Volume


def ctr(n: int) -> Container:
    return Container(
        {"id": f"{n:064x}", "name": f"c{n}", "lockID": n},
        {"state": 3, "pid": 1000 + n, "execSessions": {}},
    )


def build(root: Path, containers: int, sessions_per_container: int) -> None:
    with FileState(root / "static", root / "tmp") as state, state.transaction():
        for n in range(containers):
            c = ctr(n)
            state.add_container(c)
            for s in range(sessions_per_container):
                state.add_exec_session(c, ExecSession(f"{n:032x}{s:032x}", c.id))
            if n % 100 == 0:
                state.add_pod(Pod({"id": f"p{n:063x}", "name": f"p{n}", "lockID": n}, {}))
                state.add_volume(Volume({"name": f"v{n}", "lockID": n}))


def time_refresh(root: Path) -> float:
    os.sync()  # the build's writeback must not land inside the timing
    with FileState(root / "static", root / "tmp") as state:
        t = time.perf_counter()
        state.refresh()
        return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,8000,16000")
    parser.add_argument("--exec-sessions", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="where to build the stores (default: $TMPDIR)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fsstate-refresh-", dir=args.dir))
    try:
        print(f"{'store':>28}  {'refresh s':>9}  {'µs/object':>9}")
        for size in (int(s) for s in args.sizes.split(",")):
            root = base / f"c{size}"
            build(root, size, 1)
            secs = time_refresh(root)
            print(f"{f'{size} containers':>28}  {secs:9.3f}  {secs / size * 1e6:9.1f}")
            shutil.rmtree(root)
        if args.exec_sessions:
            per = 1000
            root = base / "exec"
            build(root, args.exec_sessions // per, per)
            secs = time_refresh(root)
            label = f"{args.exec_sessions} exec sessions"
            print(f"{label:>28}  {secs:9.3f}  {secs / args.exec_sessions * 1e6:9.1f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
