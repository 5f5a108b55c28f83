"""A snapshot's copy of a store tree: :func:`copy_tree` copies regular files and directories
below a directory descriptor, follows nothing, and lists what it refused."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from fsstate.store.fsio.calls import (
    _DIR_FLAGS,
    _NEW_FLAGS,
    _PROBE_FLAGS,
    DIR_MODE,
    FILE_MODE,
    _write_all,
)
from fsstate.store.fsio.walk import entries
from fsstate.store.layout import is_temp_name

_COPY_CHUNK = 1 << 20


@dataclass
class Copied:
    """What :func:`copy_tree` copied: regular files, their bytes, and the relative paths of the
    entries it refused (symlinks, devices, FIFOs, sockets)."""

    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)


def copy_tree(src: int, dst: str, *, leave: frozenset[str] = frozenset()) -> Copied:
    """Copy the tree below directory ``src`` into the existing, empty directory ``dst``:
    directories 0700, regular files 0600, nothing followed; temporary files and the top-level
    entries named in ``leave`` (the trash) are left behind and anything else is listed in
    :attr:`Copied.skipped`. Not durable (sync the copy)."""
    copied = Copied()
    out = os.open(dst, _DIR_FLAGS)
    try:
        _copy_dir(src, out, "", copied, leave)
    finally:
        os.close(out)
    return copied


def _copy_dir(
    src: int, dst: int, rel: str, copied: Copied, leave: frozenset[str] = frozenset()
) -> None:
    for entry in entries(src):
        if entry.name in leave:
            continue
        path = f"{rel}/{entry.name}" if rel else entry.name
        mode = entry.stat(follow_symlinks=False).st_mode
        if stat.S_ISDIR(mode):
            os.mkdir(entry.name, DIR_MODE, dir_fd=dst)
            sub_src = os.open(entry.name, _DIR_FLAGS, dir_fd=src)
            try:
                sub_dst = os.open(entry.name, _DIR_FLAGS, dir_fd=dst)
                try:
                    _copy_dir(sub_src, sub_dst, path, copied)
                finally:
                    os.close(sub_dst)
            finally:
                os.close(sub_src)
        elif stat.S_ISREG(mode) and not is_temp_name(entry.name):
            copied.bytes += _copy_file(src, dst, entry.name)
            copied.files += 1
        elif not stat.S_ISREG(mode):
            copied.skipped.append(path)


def _copy_file(src: int, dst: int, name: str) -> int:
    fin = os.open(name, _PROBE_FLAGS, dir_fd=src)
    try:
        fout = os.open(name, _NEW_FLAGS, FILE_MODE, dir_fd=dst)
        try:
            size = 0
            while chunk := os.read(fin, _COPY_CHUNK):
                _write_all(fout, chunk)
                size += len(chunk)
            return size
        finally:
            os.close(fout)
    finally:
        os.close(fin)
