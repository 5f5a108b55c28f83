"""Import from and export to Podman's own state databases.

Podman keeps its libpod State in one of two files (``spec/podman-db-format.md``):

* ``db.sql`` — SQLite, schema version 1 (Podman 4.8 and later; the default since 5.0). Each
  object is a JSON document in a ``JSON`` column. The other columns (``Name``, ``PodID``,
  ``State``, ``ExitCode``, ``InfraContainerID``, ``StorageID``) are indexes Podman itself lets
  go stale, so the importer reads only the JSON documents and the link tables, and the
  exporter fills the index columns from the documents the way Podman does at insert.
* ``bolt_state.db`` — BoltDB (Podman up to 4.x), read through :mod:`fsstate.podman.bolt` and
  written through :mod:`fsstate.podman.bolt_write`.

Import runs in two phases. First the file is read and checked completely into an
:class:`~.plan.ImportPlan` without touching the store: every document parsed, every reference
resolved, every name clash found. Then everything is added inside one transaction, so the
target store gets all of it or none of it; a new store takes the file's semantics (a ``db.sql``
makes a ``"sqlite"`` store, a ``bolt_state.db`` a ``"bolt"`` one: API.md, Today's Podman) and
a "bolt" store's live networks go out with the containers. The source file is
opened read-only (SQLite ``mode=ro``; the Bolt reader opens it ``rb``) and never changes.

JSON documents travel as parsed dicts, which keep their key order, and are written back the way
Go's ``encoding/json`` writes them (:func:`go_json`), so a document survives
``db.sql`` → fsstate → ``db.sql`` byte for byte.

The modules, one room each:

=================  ==========================================================  ========
module             what lives there                                            spec
=================  ==========================================================  ========
``tables``         schema version, Podman's ``CREATE TABLE`` text               §2
``sniff``          :func:`detect_format`: which file is which, by magic bytes   §1, §5
``gojson``         :func:`go_json`, and parsing one JSON column or value        §4
``plan``           :class:`ImportReport`, the import plan and its checks        §6
``sqlite_import``  ``db.sql`` → plan                                            §1, §2
``bolt_import``    ``bolt_state.db`` → plan                                     §5
``importer``       :func:`import_db`, :func:`import_bolt`, :func:`import_file`  §2
``export``         :func:`export_db`: the store → ``db.sql``                    §2, §6
``bolt_write``     a BoltDB writer: a tree of buckets → a new Bolt file         §5
``bolt_export``    :func:`export_bolt`: the store → ``bolt_state.db``           §5
=================  ==========================================================  ========
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsstate.podman.bolt_export import export_bolt
    from fsstate.podman.export import export_db
    from fsstate.podman.gojson import go_json
    from fsstate.podman.importer import import_bolt, import_db, import_file
    from fsstate.podman.plan import ImportReport, RenamedPod
    from fsstate.podman.plan import ProgressFn as ProgressFn
    from fsstate.podman.plan import StrPath as StrPath
    from fsstate.podman.sniff import detect_format
    from fsstate.podman.tables import SCHEMA_VERSION as SCHEMA_VERSION

__all__ = [
    "ImportReport",
    "RenamedPod",
    "detect_format",
    "export_bolt",
    "export_db",
    "go_json",
    "import_bolt",
    "import_db",
    "import_file",
]

#: The module each public name lives in, imported on its first use (PEP 562): a command that
#: touches neither database (``fsstate ps``) does not load the SQLite and Bolt code.
_HOME = {
    "ImportReport": "plan",
    "ProgressFn": "plan",
    "StrPath": "plan",
    "RenamedPod": "plan",
    "SCHEMA_VERSION": "tables",
    "detect_format": "sniff",
    "export_bolt": "bolt_export",
    "export_db": "export",
    "go_json": "gojson",
    "import_bolt": "importer",
    "import_db": "importer",
    "import_file": "importer",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
