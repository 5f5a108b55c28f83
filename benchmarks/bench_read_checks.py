"""What the read-time type checks of ``fsstate.state.shape`` add to a read, in the same run.

    python benchmarks/bench_read_checks.py [--containers N] [--calls N] [--dir DIR]

Builds a store of N containers carrying the real 12 KB ContainerConfig and ContainerState of
``sqlite-postgres-running``, then times two reads, call by call alternating between the checks
on and the checks off (``shape.check`` replaced by a no-op), which goes first alternating too:

* ``container + update_container``: one container's config and state, warm process;
* ``lookup by name, new FileState``: open the store, resolve a name, read the config.

Prints the median of each side and the overhead in percent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fsstate import Container, FileState
from fsstate.state import shape

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "examples" / "data" / "podman-json"
CONFIG = DATA / "sqlite-postgres-running.ContainerConfig.json"
STATE = DATA / "sqlite-postgres-running.ContainerState.json"


def build(static: Path, n: int) -> list[tuple[str, str]]:
    base = json.loads(CONFIG.read_text())
    base.pop("namedVolumes", None)
    state = json.loads(STATE.read_text())
    out = []
    with FileState(static, static.parent / "tmp") as st, st.transaction():
        for i in range(n):
            cid = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            st.add_container(Container(dict(base, id=cid, name=f"ctr-{i}"), state))
            out.append((cid, f"ctr-{i}"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--containers", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=4000)
    parser.add_argument("--dir", default=None, help="where to build the store (default: a tmp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fsstate-bench-", dir=args.dir))
    try:
        static = work / "static"
        ids = build(static, args.containers)
        checking = shape.check

        def off(kind: str, doc: object, path: str) -> None:
            return None

        st = FileState(static, work / "tmp")

        def warm(i: int) -> None:
            ctr = st.container(ids[i % len(ids)][0])
            st.update_container(ctr)

        def cold(i: int) -> None:
            with FileState(static, work / "tmp") as fresh:
                fresh.lookup_container(ids[i % len(ids)][1])

        for label, call, calls in (
            ("container + update_container, warm", warm, args.calls),
            ("lookup by name, new FileState", cold, args.calls // 4),
        ):
            times: dict[bool, list[float]] = {True: [], False: []}
            for i in range(calls):
                order = (True, False) if i % 2 else (False, True)
                for on in order:
                    shape.check = checking if on else off
                    times[on].append(_timed(call, i))
            shape.check = checking
            with_, without = statistics.median(times[True]), statistics.median(times[False])
            print(
                f"{label}: {without * 1e6:.1f} µs without checks, {with_ * 1e6:.1f} µs with "
                f"({(with_ / without - 1) * 100:+.1f} %)"
            )
        st.close()
    finally:
        shutil.rmtree(work)


def _timed(fn: Callable[[int], None], i: int) -> float:
    t = time.perf_counter()
    fn(i)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
