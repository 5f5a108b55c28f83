"""codec.py: pretty, order-keeping encoding; corruption named by path; the GC pause."""

from __future__ import annotations

import gc
import json
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# -- projections: a listing decodes only what it keeps ------------------------------------------

REAL = Path(__file__).parent.parent / "examples" / "data" / "podman-json"
PS_LIKE = codec.Projection(
    ("id", "name", "namespace", "pod", "command", "labels", "lockID", "a-b", "ü k"),
    {"spec": ("annotations", "hostname")},
)

#: Documents a projection must read exactly as the whole decode does, errors included.
EDGES = {
    "plain": b'{"id": "a", "name": "n", "x": [1, {"y": null}]}',
    "nested absent": b'{"id": "a", "spec": {"process": {}}}',
    "nested not an object": b'{"id": "a", "spec": [1, 2]}',
    "nested null": b'{"id": "a", "spec": null}',
    "keys that are not identifiers": b'{"a-b": 1, "\\u00fc k": 2, "i\\u0064": "a"}',
    "duplicates: the last wins": b'{"id": "a", "id": "b", "spec": {"hostname": 1}, "spec": {}}',
    "a big integer kept": b'{"id": "a", "lockID": 123456789012345678901234567890}',
    "a number beyond a double, kept": b'{"id": "a", "lockID": 1e400}',
    "invalid UTF-8 where nothing is kept": b'{"id": "a", "x": "\xff\xfe"}',
    "an encoded surrogate where nothing is kept": b'{"id": "a", "x": "\xed\xa0\x80"}',
    "an escaped lone surrogate": b'{"id": "a", "x": "\\ud800"}',
    "NaN": b'{"id": "a", "x": NaN}',
    "a control character in a string": b'{"id": "a", "x": "\x01"}',
    "trailing garbage": b'{"id": "a"} x',
    "truncated": b'{"id": "a", "x": [1, 2',
    "empty": b"",
    "NUL-filled": b"\x00" * 64,
    "not an object": b'[{"id": "a"}]',
    "nested deeper than any decoder goes": b'{"id": "a", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    "a byte-order mark": b'\xef\xbb\xbf{"id": "a"}',
}


def _outcome(call: Any) -> Any:
    try:
        return call()
    except errors.CorruptDocumentError as exc:
        return (type(exc), exc.path, str(exc))


@pytest.mark.parametrize("name", sorted(EDGES))
def test_a_projection_decodes_as_the_whole_decode_then_projected(name: str) -> None:
    """Same kept values, same error class, path and message: the whole decode decides."""
    data, path = EDGES[name], "/store/containers/x/config.json"
    expected = _outcome(lambda: PS_LIKE(codec.decode_object(data, path)))
    assert _outcome(lambda: PS_LIKE.decode(data, path)) == expected


def test_a_projection_of_each_real_podman_config_is_the_whole_one_projected() -> None:
    configs = sorted(REAL.glob("*.ContainerConfig.json"))
    assert len(configs) >= 5
    for file in configs:
        data = file.read_bytes()
        whole = codec.decode_object(data, str(file))
        kept = PS_LIKE.decode(data, str(file))
        assert kept == PS_LIKE(whole), file.name
        assert kept["id"] == whole["id"] and "spec" in kept, file.name


def test_a_projection_passes_a_number_beyond_a_double_under_a_key_it_drops() -> None:
    """The one documented difference (codec.Projection.decode): orjson refuses the document,
    the projection reads what it keeps."""
    data = b'{"id": "a", "name": "n", "dropped": 1e400}'
    with pytest.raises(errors.CorruptDocumentError):
        codec.decode_object(data, "p")
    assert PS_LIKE.decode(data, "p") == {"id": "a", "name": "n"}


def test_a_projection_keeps_more_keys_and_projects_a_decoded_document() -> None:
    wider = PS_LIKE.with_keys(["x", "id"])
    assert wider.keys == (*PS_LIKE.keys, "x") and wider.nested == PS_LIKE.nested
    doc = {"id": "a", "x": 1, "y": 2, "spec": {"hostname": "h", "z": 3}}
    assert wider(doc) == {"id": "a", "x": 1, "spec": {"hostname": "h"}}
    assert wider.decode(orjson.dumps(doc), "p") == wider(doc)


_KEYS = st.sampled_from(["id", "name", "lockID", "spec", "annotations", "hostname", "a-b", "x"])
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(_KEYS, _JSON, max_size=8), indent=st.booleans(), ascii=st.booleans())
def test_a_projection_of_any_json_object_is_the_whole_decode_projected(
    doc: dict[str, Any], indent: bool, ascii: bool
) -> None:
    """Whatever the values (integers beyond 64 bits among them), indentation and escaping."""
    data = json.dumps(doc, indent=2 if indent else None, ensure_ascii=ascii).encode()
    assert PS_LIKE.decode(data, "p") == PS_LIKE(codec.decode_object(data, "p"))


@settings(max_examples=300, deadline=None)
@given(
    cuts=st.lists(st.tuples(st.integers(0, 2**16), st.binary(max_size=3)), min_size=1, max_size=4)
)
def test_a_damaged_config_reads_the_same_through_a_projection(
    cuts: list[tuple[int, bytes]],
) -> None:
    """Real bytes with a few spans replaced: the projection answers as the whole decode
    does — the same kept values, or the same error — but for the one documented difference."""
    data = bytearray((REAL / "sqlite-redis-running.ContainerConfig.json").read_bytes())
    for at, put in cuts:
        at %= len(data)
        data[at : at + len(put)] = put
    whole = _outcome(lambda: PS_LIKE(codec.decode_object(bytes(data), "p")))
    kept = _outcome(lambda: PS_LIKE.decode(bytes(data), "p"))
    if isinstance(whole, tuple) and "infinity" in whole[2]:  # codec.Projection.decode
        return
    assert kept == whole
