"""The logger names README.md promises: one per module, under ``fsstate``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import new_container

from fsstate import FileState
from fsstate.store import layout as L


def test_a_skipped_document_is_logged_by_the_module_that_skips_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with FileState(tmp_path / "static", tmp_path / "tmp") as st:
        st.add_container(new_container(1))
        st.add_container(new_container(2))
    bad = tmp_path / "static" / L.STORE_DIR / L.container_doc(new_container(2).id, "config")
    bad.write_bytes(b'{"id": ')
    with (
        caplog.at_level(logging.WARNING, logger="fsstate"),
        FileState(tmp_path / "static", tmp_path / "tmp") as st,
    ):
        assert [c.id for c in st.all_containers()] == [new_container(1).id]
    assert [(r.name, r.levelno) for r in caplog.records] == [
        ("fsstate.state.base", logging.WARNING)
    ]
    assert str(bad) in caplog.records[0].getMessage()
