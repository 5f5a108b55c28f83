"""The JSON columns and values (``spec/podman-db-format.md`` §4): parsed through the store's
own decoder on import, written back the way Go's ``encoding/json`` writes them on export.

Documents travel as parsed dicts, which keep their key order, so a document survives
``db.sql`` → fsstate → ``db.sql`` byte for byte.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from fsstate.errors import CorruptDocumentError
from fsstate.store import codec

# Go's encoding/json escapes these even inside otherwise raw UTF-8 strings (HTML safety, and
# the two JavaScript line terminators). They can only occur inside strings, so translating the
# encoded text is safe.
_GO_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def go_json(doc: Any) -> str:
    """``doc`` as Go's ``encoding/json.Marshal`` writes it (Podman's JSON columns): compact,
    keys in the given order, non-ASCII raw, ``<``/``>``/``&`` escaped."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_GO_ESCAPES)


def parse_object(raw: object, path: str, where: str) -> dict[str, Any]:
    """Parse one JSON document (through :mod:`fsstate.store.codec`, the store's own decoder);
    ``where`` names its table/bucket and row for errors."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if not isinstance(data, bytes):
        raise CorruptDocumentError(
            f"{path}: {where}: expected JSON text, found {type(raw).__name__}",
            path=path,
            where=where,
        )
    try:
        doc = codec.decode(data, where)
    except CorruptDocumentError as exc:
        raise CorruptDocumentError(f"{path}: {exc.message}", path=path, where=where) from None
    if not isinstance(doc, dict):
        raise CorruptDocumentError(
            f"{path}: {where}: expected a JSON object, found {type(doc).__name__}",
            path=path,
            where=where,
        )
    return doc


#: Go's ``time.MarshalText``: RFC 3339 with up to nanoseconds (groups: base, fraction, zone).
GO_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")


def parse_go_time(text: str) -> datetime | None:
    """A Go ``time.MarshalText`` (RFC 3339 with up to nanoseconds) as an aware datetime, to
    the microsecond; ``None`` when it is not one."""
    m = GO_TIME.fullmatch(text)
    if m is None:
        return None
    base, frac, zone = m.groups()
    try:
        return datetime.fromisoformat(f"{base}.{(frac or '0')[:6]:0<6}{zone}")
    except ValueError:
        return None
