"""A real Podman 4.3 state: every exit code in it is read back as Podman shows it.

Data: ``tests/data/podman43/`` (see its README): the Bolt state with its ``exit-code`` and
``exit-code-time-stamp`` buckets, and ``podman ps -a --format json`` of it. Podman's
``ps`` shows the exit code of each exited container; those with a code in the buckets must
get the same code back, with the bucket's time stamp, after an import into either semantics'
store and after an export to ``db.sql`` and back.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fsstate import FileState, podman

DATA = Path(__file__).parent / "data" / "podman43"


@pytest.fixture(scope="module")
def bolt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("podman43") / "bolt_state.db"
    path.write_bytes(gzip.decompress((DATA / "varied_bolt_state.db.gz").read_bytes()))
    return path


def ps_exit_codes() -> dict[str, tuple[str, int]]:
    """Container ID → (name, exit code) of every exited container in Podman's own ps."""
    rows = json.loads((DATA / "varied_ps_a.json").read_text(encoding="utf-8"))
    return {r["Id"]: (r["Names"][0], r["ExitCode"]) for r in rows if r["State"] == "exited"}


def test_every_exit_code_reads_back_as_podman_shows_it(bolt_file: Path, tmp_path: Path) -> None:
    state = FileState(tmp_path / "static", tmp_path / "tmp")
    report = podman.import_bolt(bolt_file, state)
    assert report.exit_codes == 3 and report.skipped == []
    codes = state.all_exit_codes()
    shown = ps_exit_codes()
    assert {shown[cid][0]: code for cid, (code, _) in codes.items()} == {
        "r-exited": 3,
        "r-stopped": 137,
        "p1-b": 0,
    }
    for cid, (code, _) in codes.items():
        assert state.get_container_exit_code(cid) == shown[cid][1] == code
    # exit-code-time-stamp holds Go's MarshalText, e.g. 2026-12-04T16:25:26.150719492Z
    by_name = {shown[cid][0]: cid for cid in codes}
    assert state.get_container_exit_code_timestamp(by_name["r-exited"]) == datetime(
        2026, 12, 4, 16, 25, 26, tzinfo=UTC
    )
    state.close()


def test_exit_codes_survive_export_and_reimport(bolt_file: Path, tmp_path: Path) -> None:
    first = FileState(tmp_path / "a" / "static", tmp_path / "a" / "tmp")
    podman.import_bolt(bolt_file, first)
    out = tmp_path / "db.sql"
    podman.export_db(first, out)
    with closing(sqlite3.connect(out)) as conn:
        rows = conn.execute("SELECT ID, Timestamp, ExitCode FROM ContainerExitCode").fetchall()
    assert sorted(rows) == sorted(
        (cid, int(when.timestamp()), code) for cid, (code, when) in first.all_exit_codes().items()
    )
    again = FileState(tmp_path / "b" / "static", tmp_path / "b" / "tmp")
    podman.import_db(out, again)
    assert again.all_exit_codes() == first.all_exit_codes()
    first.close()
    again.close()
