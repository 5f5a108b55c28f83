"""How long ``refresh()`` takes as the store grows: it must grow linearly.

    python benchmarks/refresh.py [--sizes 1000,8000,16000] [--exec-sessions 100000] [--dir DIR]
                                 [--baseline CHECKOUT] [--sessions-per-container 1]

Builds one store per size (containers with a small config, each with one exec session or
``--sessions-per-container``, plus one pod and one volume per 100 containers) in one
transaction, then times ``refresh()`` on it once, in a new process that first opens the store
(recovery, untimed) and runs ``sync`` (the build leaves dirty pages; a second refresh would
find nothing left to reset).
Then a store of a few containers holding ``--exec-sessions`` exec sessions in all. Prints
seconds per refresh and microseconds per container (a flat column is linear), and the seconds
the background deletion of the trash took after the refresh returned (``trash s``: not part of
the call; 0 for a checkout without a trash).

``--baseline CHECKOUT`` also times the fsstate of another checkout (e.g. a worktree of
``main``) on a copy of the same store, alternating which goes first, so both see the same
load: a before/after in one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from fsstate import Container, ExecSession, FileState, Pod, Volume

#: Run in a new process: open (recovery), sync, then time refresh() alone.
_TIMED = """
import os, sys, time
root, checkout = sys.argv[1], sys.argv[2]
if checkout:  # that checkout's fsstate, ahead of the working directory and the installed one
    sys.path.insert(0, checkout)
import fsstate
from fsstate import FileState
assert fsstate.__file__.startswith(checkout), fsstate.__file__
FileState(root + "/static", root + "/tmp").close()
os.sync()
with FileState(root + "/static", root + "/tmp") as state:
    t = time.perf_counter()
    state.refresh()
    took = time.perf_counter() - t
    wait = getattr(state._storage, "wait_for_trash", None)  # a checkout with the trash
    if wait is not None:
        wait()
    print(took, time.perf_counter() - t - took if wait is not None else 0.0)
"""


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


def time_refresh(root: Path, checkout: str | None = None) -> tuple[float, float]:
    """Seconds ``refresh()`` took on the store at ``root``, in a new process running the
    fsstate of ``checkout`` (``None``: this one), and the seconds its background deletion of
    the trash took after it returned (0 for a checkout without one)."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMED, str(root), os.path.abspath(checkout) if checkout else ""],
        check=True,
        capture_output=True,
        text=True,
    )
    took, sweep = map(float, done.stdout.split())
    return took, sweep


def measure(root: Path, count: int, label: str, baseline: str | None, first: bool) -> None:
    """Time this fsstate (and the baseline's, on a copy) and print one row."""
    if baseline is None:
        secs, sweep = time_refresh(root)
        print(f"{label:>28}  {secs:9.3f}  {secs / count * 1e6:9.1f}  {sweep:9.3f}", flush=True)
        return
    copy = root.with_name(root.name + "-baseline")
    shutil.copytree(root, copy, symlinks=True)
    if first:
        (before, _), (after, sweep) = time_refresh(copy, baseline), time_refresh(root)
    else:
        (after, sweep), (before, _) = time_refresh(root), time_refresh(copy, baseline)
    shutil.rmtree(copy)
    print(
        f"{label:>28}  {before:9.3f}  {after:9.3f}  {before / count * 1e6:9.1f}  "
        f"{after / count * 1e6:9.1f}  {sweep:9.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,8000,16000")
    parser.add_argument("--exec-sessions", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="where to build the stores (default: $TMPDIR)")
    parser.add_argument("--baseline", default=None, help="a checkout whose fsstate to compare")
    parser.add_argument("--sessions-per-container", type=int, default=1)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fsstate-refresh-", dir=args.dir))
    if args.baseline is None:
        print(f"{'store':>28}  {'refresh s':>9}  {'µs/object':>9}  {'trash s':>9}")
    else:
        head = f"{'base s':>9}  {'this s':>9}  {'base µs':>9}  {'this µs':>9}  {'trash s':>9}"
        print(f"{'store':>28}  {head}")
    try:
        for i, size in enumerate(int(s) for s in args.sizes.split(",")):
            root = base / f"c{size}"
            build(root, size, args.sessions_per_container)
            measure(root, size, f"{size} containers", args.baseline, i % 2 == 0)
            shutil.rmtree(root)
        if args.exec_sessions:
            per = 1000
            root = base / "exec"
            build(root, args.exec_sessions // per, per)
            label = f"{args.exec_sessions} exec sessions"
            measure(root, args.exec_sessions, label, args.baseline, True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
