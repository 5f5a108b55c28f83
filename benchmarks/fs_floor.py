"""The file-system costs a refresh is made of, on the disk under ``--dir``: the floor.

    python benchmarks/fs_floor.py [--count 3000] [--dir DIR]

Times, per file, each primitive a commit uses on ``--count`` files of 800 bytes (one per
directory, as documents are), with a ``sync`` before each step so earlier writeback does not
land in it: create and write a new file, write an existing one in place (``pwrite`` +
``ftruncate``), ``link``, ``rename`` over a file that keeps a link, ``unlink`` of an empty
file, of a file whose data was never written back (no block yet), and of a synced file (its
block is freed), ``rmdir`` of a directory, and one ``syncfs`` after writing every file in
place. Plain Python, no fsstate: what any design on this disk must pay.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--dir", default=None, help="where to make the files (default: $TMPDIR)")
    args = parser.parse_args()
    n = args.count
    base = tempfile.mkdtemp(prefix="fsstate-floor-", dir=args.dir)
    d = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    data = b"x" * 800

    def step(label: str, fn: Callable[[int], None], *, sync: bool = True, per: int = n) -> None:
        if sync:
            os.sync()
        t = time.perf_counter()
        for i in range(per):
            fn(i)
        secs = time.perf_counter() - t
        print(f"{label:48} {secs / n * 1e6:9.1f} µs per file  ({secs:.2f} s)", flush=True)

    def create(name: str, payload: bytes) -> Callable[[int], None]:
        def fn(i: int) -> None:
            fd = os.open(name.format(i), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600, dir_fd=d)
            os.write(fd, payload)
            os.close(fd)

        return fn

    def in_place(i: int) -> None:
        fd = os.open(f"d{i}/f", os.O_WRONLY, dir_fd=d)
        os.pwrite(fd, data[:700] + b" " * 100, 0)
        os.ftruncate(fd, 700)
        os.close(fd)

    try:
        for i in range(n):
            os.mkdir(f"d{i}", dir_fd=d)
        step("create + write a new file", create("d{}/f", data))
        step("write an existing file in place", in_place)
        step("syncfs after writing every file in place", lambda i: os.sync(), sync=False, per=1)
        step(
            "link (the old file kept)",
            lambda i: os.link(f"d{i}/f", f"k{i}", src_dir_fd=d, dst_dir_fd=d),
        )
        step("create + write a new file (top directory)", create("t{}", data))
        step(
            "rename over a file that keeps a link",
            lambda i: os.rename(f"t{i}", f"d{i}/f", src_dir_fd=d, dst_dir_fd=d),
        )
        step("unlink a synced file (its block freed)", lambda i: os.unlink(f"k{i}", dir_fd=d))
        step("create an empty file", create("e{}", b""))
        step("unlink an empty file", lambda i: os.unlink(f"e{i}", dir_fd=d))
        step("create + write a new file", create("u{}", data))
        step(
            "unlink it before writeback (no block yet)",
            lambda i: os.unlink(f"u{i}", dir_fd=d),
            sync=False,
        )
        step("unlink a synced file (its block freed)", lambda i: os.unlink(f"d{i}/f", dir_fd=d))
        step("rmdir (its block freed)", lambda i: os.rmdir(f"d{i}", dir_fd=d))
    finally:
        os.close(d)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
