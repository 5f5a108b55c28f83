"""Regression tests for the recovery paths the crash suites found wanting.

The power-loss suite (``test_power_loss.py``) is the regression test of three fixes: the
checkpoint syncs the tree before it points the generation at offset 0 (``cut checkpoint``),
recovery deletes stray temporary files before it replays (``remove_volume after
add_volume``), and a new store's directory, journal and generation file are fsynced into
their parents (``when the store is created``). This file holds what needs no simulation.
"""

from __future__ import annotations

import ctypes
import errno
from pathlib import Path

import pytest

import fsstate.store.fsio.tree
from fsstate import FileState, Volume
from fsstate.store import layout as L
from fsstate.store.storage import FileStorage

from .harness import volume_config


def _volume(name: str) -> Volume:
    return Volume(volume_config(name), {"mountCount": 0})


def test_a_checkpoint_whose_syncfs_fails_raises_and_keeps_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncfs reporting EIO fails the commit that needed the checkpoint; the journal still
    covers the unsynced commits (it used to fall back to sync(), which reports nothing, and
    empty the journal anyway)."""
    static, tmp = tmp_path / "static", tmp_path / "tmp"
    storage = FileStorage(str(static), checkpoint_bytes=1 << 30)
    state = FileState(static, tmp, storage=storage)
    state.add_volume(_volume("v1"))
    state.add_volume(_volume("v2"))
    store = static / L.STORE_DIR
    journal_before = (store / L.JOURNAL).read_bytes()
    generation_before = (store / L.GENERATION).read_bytes()

    def failing_syncfs(fd: int) -> int:
        ctypes.set_errno(errno.EIO)
        return -1

    monkeypatch.setattr(fsstate.store.fsio.tree, "_syncfs", failing_syncfs)
    storage.checkpoint_bytes = 1  # the next commit checkpoints first
    with pytest.raises(OSError) as raised:
        state.add_volume(_volume("v3"))
    assert raised.value.errno == errno.EIO
    assert (store / L.JOURNAL).read_bytes() == journal_before
    assert (store / L.GENERATION).read_bytes() == generation_before
    assert not state.has_volume("v3")

    monkeypatch.undo()
    state.add_volume(_volume("v3"))  # the checkpoint succeeds now
    assert [v.name for v in state.all_volumes()] == ["v1", "v2", "v3"]
    state.close()
