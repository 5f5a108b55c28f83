"""What a fresh interpreter loads (issue 10): ``import fsstate`` and a read of a store leave the
heavy modules unloaded — JSON Schema (only a write's failed check or fsck needs it), the checker,
the command line, the Podman importers, tqdm — so a command-line call does not pay for them.
Each case runs in a new interpreter and reads its ``sys.modules``; no timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fsstate import Container, FileState

#: Loaded only by what needs them: a write's failed schema check or fsck (jsonschema), fsck,
#: the command line (with tqdm), the Podman importers and exporters, a snapshot.
HEAVY = (
    "jsonschema",
    "fastjsonschema",
    "fsstate.fsck",
    "fsstate.cli",
    "fsstate.podman",
    "tqdm",
    "fsstate.store.snapshot",
    "importlib.resources",
)


def modules_after(code: str, *args: str, env: dict[str, str] | None = None) -> set[str]:
    """Every module ``code`` (run with ``args``) left loaded in a new interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe, *args], check=True, capture_output=True, text=True, env=env
    ).stdout
    return set(json.loads(out))


def loaded_after(code: str, *args: str) -> set[str]:
    """The modules of :data:`HEAVY` (and ``filelock``) that ``code`` left loaded in a new
    interpreter."""
    names = modules_after(code, *args)
    return {h for h in (*HEAVY, "filelock") if h in names}


def store_with_web(tmp_path: Path) -> tuple[str, str]:
    """A store holding one container, ``web``; its static and tmp dirs."""
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        state.add_container(Container({"id": "a" * 64, "name": "web", "lockID": 1}, {}))
    return str(tmp_path / "static"), str(tmp_path / "tmp")


def test_import_fsstate_loads_none_of_the_heavy_modules() -> None:
    assert loaded_after("import fsstate") == set()


def test_public_names_still_import_from_fsstate() -> None:
    loaded = loaded_after(
        "from fsstate import check, repair, snapshot, FileState, Container, errors\n"
        "assert callable(check) and callable(repair) and callable(snapshot)"
    )
    assert loaded == {"fsstate.fsck", "fsstate.store.snapshot"}


def test_a_lookup_in_a_new_interpreter_loads_no_schema_validator(tmp_path: Path) -> None:
    static, tmp = store_with_web(tmp_path)
    code = (
        "import sys\nfrom fsstate import FileState\n"
        "with FileState(sys.argv[1], sys.argv[2]) as s:\n"
        "    assert s.lookup_container('web').id == 'a' * 64\n"
    )
    loaded = loaded_after(code, static, tmp)
    assert not loaded & {"jsonschema", "fastjsonschema", "importlib.resources", "fsstate.fsck"}


def test_fsstate_ps_in_a_new_interpreter_loads_neither_database_nor_the_editor(
    tmp_path: Path,
) -> None:
    """The command line registers every command, but ``ps`` loads none of the SQLite and Bolt
    importers and exporters (``fsstate.podman`` loads them on first use) and not what ``edit``
    runs the editor with."""
    static, tmp = store_with_web(tmp_path)
    code = (
        "import io, sys, contextlib\nfrom fsstate.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main(['--root', sys.argv[1], 'ps', '-a'])\n"
        "assert code == 0 and 'web' in out.getvalue(), (code, out.getvalue())"
    )
    loaded = modules_after(code, static, env={**os.environ, "FSSTATE_TMP": tmp})
    heavy = {
        "sqlite3",
        "subprocess",
        "tempfile",
        *(f"fsstate.podman.{m}" for m in ("importer", "export", "bolt", "bolt_export", "plan")),
    }
    assert loaded & heavy == set()
    assert "fsstate.podman" in loaded and "fsstate.cli.edit" in loaded
