"""The store's size on disk after importing N containers in one transaction, against its
documents' size; the journal's size; what ``snapshot`` copies; the first open of a copy.

    .venv/bin/python benchmarks/bench_store_size.py [-n 10000] [--dir DIR]

Sizes are ``du``'s (allocated blocks, the unit the issue measured): the whole store, its
documents (``containers/``, ``pods/``, ``volumes/``, ``exec/``, ``dbconfig.json``), its index,
the journal. The containers are the same real Podman config as ``bench.py`` uses.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import Docs

from fsstate import Container, FileState
from fsstate.store.snapshot import snapshot

DOCUMENTS = ("containers", "pods", "volumes", "exec", "dbconfig.json")


def du(*paths: Path) -> int:
    """Allocated bytes under ``paths`` (``du -s -B1``; missing paths count 0)."""
    present = [str(p) for p in paths if p.exists()]
    if not present:
        return 0
    out = subprocess.run(["du", "-s", "-c", "-B1", *present], capture_output=True, text=True)
    return int(out.stdout.split()[-2])


def configs(n: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """``n`` containers made from bench.py's real config, without its named volume (volumes
    are not part of this measure)."""
    docs = Docs()
    for i in range(n):
        cfg, state = docs.make("ctr", i)
        cfg.pop("namedVolumes", None)
        yield cfg, state


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="fsstate-size-"))
    try:
        static = work / "static"
        t = time.perf_counter()
        with FileState(static, work / "tmp") as state, state.transaction():
            for cfg, st in configs(args.n):
                state.add_container(Container(cfg, st))
        imported = time.perf_counter() - t
        store = static / "fsstate"
        total = du(store)
        docs = du(*(store / d for d in DOCUMENTS))
        index = du(store / "index")
        journal = du(store / "journal")
        print(f"{args.n} containers imported in one transaction in {imported:.1f} s")
        print(f"store {mb(total)}; documents {mb(docs)} (store/documents {total / docs:.3f})")
        size = (store / "journal").stat().st_size
        print(f"index {mb(index)}; journal {mb(journal)} (file size {mb(size)})")
        copied = snapshot(static, work / "snap")
        print(f"snapshot copied {mb(copied.bytes)} in {copied.files} files")
        print(f"snapshot du {mb(du(work / 'snap'))}")
        subprocess.run(["cp", "-a", str(static), str(work / "copy")], check=True)
        t = time.perf_counter()
        FileState(work / "copy", work / "tmp2").close()
        print(f"first open of a cp -a copy (full replay): {time.perf_counter() - t:.2f} s")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
