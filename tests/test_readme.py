"""The Python example in README.md runs as written (with its paths moved to a temp dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fsstate import FileState

README = Path(__file__).parent.parent / "README.md"


def test_readme_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The example adds, looks up, saves, is refused removing a used volume, then removes."""
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert block is not None
    code = block.group(1)
    code = code.replace("/var/lib/containers/storage/libpod", str(tmp_path / "static"))
    code = code.replace("/run/libpod", str(tmp_path / "tmp"))
    exec(compile(code, str(README), "exec"), {})
    assert "volume data is used by containers 3f1c" in capsys.readouterr().out
    with FileState(tmp_path / "static", tmp_path / "tmp") as state:
        assert state.all_containers() == []
        assert state.all_volumes() == []
