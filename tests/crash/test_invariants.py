"""The crash suite's invariants on the files (``harness.tree_violations``, derived from the
layout's catalog) find what they claim to: a store built through the API has none, and each
damage of the fsck corpus to documents, index entries or relations between them is found."""

from __future__ import annotations

from pathlib import Path

import pytest
from corrupt.builders import BUILDERS, build_store

from . import harness

#: Damage outside the invariants: modes, FORMAT, schema content (the store's own writes are
#: validated before they are made), a FIFO (which the harness's plain reads would wait on), and
#: the journal (a control file: the invariants are the documents').
OUTSIDE = {
    "bad-permissions",
    "bad-permissions-read-only",
    "damaged-journal",
    "schema-violation",
    "schema-violation-dbconfig",
    "trash",  # not store data: no invariant is about it
    "unknown-format",
    "unknown-format-foreign",
    "unknown-format-missing",
    "unknown-format-nul",
    "unapplied-record",
    "unsafe-fifo",
}


def test_a_store_built_through_the_api_has_no_violations(tmp_path: Path) -> None:
    build_store(tmp_path / "static")
    assert harness.tree_violations(str(tmp_path / "static")) == []


@pytest.mark.parametrize("name", sorted(set(BUILDERS) - OUTSIDE))
def test_each_damage_is_a_violation(tmp_path: Path, name: str) -> None:
    store = build_store(tmp_path / "static")
    BUILDERS[name](store)
    assert harness.tree_violations(str(tmp_path / "static")) != []
