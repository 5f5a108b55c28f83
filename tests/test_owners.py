"""One owner per concern (issue 7): the package ``store/fsio/`` makes every file-system call of
the package and ``store/layout.py`` spells every path of the store. A call or a path literal that
appears anywhere else fails here, naming the file and line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "fsstate"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
#: The owner of every file-system call: each of its modules but ``__init__.py`` (which only
#: re-exports) makes some.
FSIO = PACKAGE / "store" / "fsio"

#: File-system calls, open flags and the libraries that make such calls for you.
FS_CALL = re.compile(
    r"\bos\.(open|read|pread|write|pwrite|close|rename|replace|unlink|remove|rmdir|mkdir"
    r"|makedirs|link|symlink|chmod|fchmod|stat|lstat|fstat|scandir|listdir|walk|ftruncate"
    r"|fsync|fdatasync|sync)\(|\bos\.O_[A-Z]+|\bshutil\.|\btempfile\.mk|\bopen\("
)
#: The foreign files fsio's docstring leaves to their readers: Podman's databases (read by
#: path for the importers), and the CLI's standard streams.
FOREIGN = {
    "podman/sniff.py": "open(path",
    "podman/bolt.py": "open(self.path",
    "cli/app.py": "open(os.devnull",
}
#: A path of the store spelled as a literal.
STORE_PATH = re.compile(r"[\"'](index|containers|pods|volumes|exec|quarantine)/|\.json[\"']")
#: ``schema.py`` names its schema files ``<kind>.json`` (package data, not the store);
#: ``fsstate edit`` names its copy for the editor ``fsstate-edit-*.json`` (in $TMPDIR).
NOT_STORE = {"state/schema.py": 'f"{kind}.json"', "cli/edit.py": '"fsstate-edit-", ".json"'}


def lines(module: Path) -> list[tuple[int, str]]:
    text = module.read_text(encoding="utf-8")
    code = re.sub(r'""".*?"""', lambda m: "\n" * m.group().count("\n"), text, flags=re.S)
    return [(n, line.split("#")[0]) for n, line in enumerate(code.splitlines(), 1)]


def found(module: Path, pattern: re.Pattern[str], allowed: dict[str, str]) -> list[str]:
    rel = module.relative_to(PACKAGE).as_posix()
    return [
        f"fsstate/{rel}:{n}: {line.strip()}"
        for n, line in lines(module)
        if pattern.search(line) and not (rel in allowed and allowed[rel] in line)
    ]


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_only_fsio_touches_files(module: Path) -> None:
    if module == FSIO / "__init__.py":
        assert found(module, FS_CALL, {}) == []
        return
    if module.parent == FSIO:
        assert found(module, FS_CALL, {})  # it does: the pattern is not blind
        return
    assert found(module, FS_CALL, FOREIGN) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_only_layout_spells_store_paths(module: Path) -> None:
    if module == PACKAGE / "store" / "layout.py":
        assert found(module, STORE_PATH, {})
        return
    assert found(module, STORE_PATH, NOT_STORE) == []
