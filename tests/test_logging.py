"""The logger names README.md promises: one per module, under ``fsstate``."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

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


_SAVE = """
import sys
from fsstate import FileState
with FileState(sys.argv[1], sys.argv[2]) as st:
    ctr = st.container(sys.argv[3])
    st.update_container(ctr)
    ctr.state["exitCode"] = 9
    st.save_container(ctr)
"""


def test_a_listing_read_again_logs_each_skip_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process commits while a lock-free listing reads (from inside its ``view``, so
    it happens during the pass, every time): the pass is read again, and the undecodable
    config it skips is still logged once, with the pass that stands."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    with FileState(static, tmp) as st:
        for n in (1, 2, 3):
            st.add_container(new_container(n))
    bad = static / L.STORE_DIR / L.container_doc(new_container(2).id, "config")
    bad.write_bytes(b'{"id": ')
    third, passes = new_container(3).id, []

    def view(config: dict[str, Any]) -> dict[str, Any]:
        if config["id"] == third:
            passes.append(config["id"])
            if len(passes) == 1:  # a commit by another process, during the first pass
                subprocess.run(
                    [sys.executable, "-c", _SAVE, str(static), str(tmp), third], check=True
                )
        return config

    with caplog.at_level(logging.WARNING, logger="fsstate"), FileState(static, tmp) as st:
        listed = st.all_containers(load_state=True, view=view)
    assert [c.id for c in listed] == [new_container(1).id, third]
    assert listed[1].state["exitCode"] == 9  # read again, after the commit
    assert len(passes) == 2
    skips = [r.getMessage() for r in caplog.records if "skipping" in r.getMessage()]
    assert len(skips) == 1 and str(bad) in skips[0]
