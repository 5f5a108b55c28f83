"""The whole of a BoltDB file as JSON-ready data: the oracle test_bolt.py compares with the
reference dumps (bbolt's own cursor walk) and feeds damaged files to.

It walks with :class:`fsstate.podman.bolt.Bucket`'s internal element iterator on purpose: one
set of visited pages for the whole file, so a page shared between two trees is reported too,
and elements in key order with nested buckets where they fall, as bbolt's cursor gives them.
"""

from __future__ import annotations

import os
from typing import Any

from fsstate.podman.bolt import BUCKET_LEAF, BoltReader, Bucket


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def _dump_bucket(bucket: Bucket, seen: set[int]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for flags, key, value, page in bucket._entries(seen):
        if flags & BUCKET_LEAF:
            tree[_text(key)] = {"__bucket__": _dump_bucket(bucket._child(value, page), seen)}
        else:
            try:
                tree[_text(key)] = value.decode("utf-8")
            except UnicodeDecodeError:
                tree[_text(key)] = {"__hex__": value.hex()}
    return tree


def dump(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The whole file as JSON-ready data: ``{"pageSize", "txid", "tree"}``.

    ``tree`` maps each top-level bucket name to ``{"__bucket__": {...}}``; inside, a plain key
    maps to its value as text (``{"__hex__": "..."}`` if not UTF-8) and a nested bucket to
    ``{"__bucket__": {...}}``. Keys that are not UTF-8 are shown with ``\\xNN`` escapes.
    Every page is visited at most once, so a page shared between two trees is an error.
    """
    with BoltReader(path) as reader:
        tree = _dump_bucket(reader.root(), set())
        return {"pageSize": reader.page_size, "txid": reader.txid, "tree": tree}
