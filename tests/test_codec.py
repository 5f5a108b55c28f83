"""codec.py: pretty, order-keeping encoding; corruption named by path; the GC pause."""

from __future__ import annotations

import gc
import threading

import pytest

from fsstate import errors
from fsstate.store import codec


def test_encode_is_pretty_and_keeps_key_order() -> None:
    """Documents are indented, end in a newline, and keep the caller's key order."""
    data = codec.encode({"z": 1, "a": [1, 2], "m": {"y": None}})
    assert data == b'{\n  "z": 1,\n  "a": [\n    1,\n    2\n  ],\n  "m": {\n    "y": null\n  }\n}\n'
    assert list(codec.decode_object(data, "p")) == ["z", "a", "m"]


@pytest.mark.parametrize(
    ("data", "why"),
    [(b"", "empty"), (b"\x00" * 64, "NUL"), (b'{"id": "ab', "not valid JSON"), (b"[1]", "object")],
)
def test_damaged_bytes_are_corrupt_with_their_path(data: bytes, why: str) -> None:
    """Zero-length, NUL-filled, truncated or non-object data is never an empty document."""
    with pytest.raises(errors.CorruptDocumentError) as exc:
        codec.decode_object(data, "/store/containers/x/config.json")
    assert exc.value.path == "/store/containers/x/config.json"
    assert why in str(exc.value)


def test_non_json_data_is_invalid_argument() -> None:
    """A set or a non-string key cannot be stored: InvalidArgumentError naming the document."""
    with pytest.raises(errors.InvalidArgumentError) as exc:
        codec.encode({"x": {1, 2}}, what="container c1 config")
    assert "container c1 config" in str(exc.value)


def test_many_documents_pauses_the_collector_and_restores_it() -> None:
    """Nested and concurrent holders: the collector runs again only when the last leaves."""
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        with codec.many_documents():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    entered.wait(5)
    with codec.many_documents():
        with codec.many_documents():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert not gc.isenabled()  # the worker still holds it
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_many_documents_leaves_a_disabled_collector_disabled() -> None:
    """A program that turned the collector off keeps it off."""
    gc.disable()
    try:
        with codec.many_documents():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_many_documents_moves_what_was_decoded_to_the_oldest_generation() -> None:
    """Leaving the block does not leave the decoded documents for the young generations' next
    passes to scan (issue 10: a full pass over 10,000 configs after a listing)."""
    with codec.many_documents():
        doc = codec.decode_object(b'{"a": {"b": [1, 2]}}', "p")
    assert gc.get_freeze_count() == 0
    assert not _in_generation(doc, 0) and not _in_generation(doc, 1)
    assert _in_generation(doc, 2)


def test_many_documents_still_collects_a_cycle_made_inside() -> None:
    """Objects moved to the oldest generation are collectable, not frozen."""
    import weakref

    class Node:
        other: object = None

    with codec.many_documents():
        a, b = Node(), Node()
        a.other, b.other = b, a
        ref = weakref.ref(a)
    del a, b
    gc.collect()
    assert ref() is None


def test_many_documents_keeps_the_programs_own_freeze() -> None:
    """A program that froze objects itself (e.g. before forking) keeps them frozen."""
    kept = {"frozen": ["by", "the", "program"]}
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with codec.many_documents():
            codec.decode_object(b"{}", "p")
        assert gc.get_freeze_count() >= frozen
        assert not _in_generation(kept, 2)
    finally:
        gc.unfreeze()
