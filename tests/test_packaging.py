"""pyproject.toml ships every package: the tests import the source tree, so nothing else would
notice a subpackage missing from `pip install .`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_every_package_is_listed() -> None:
    """Each directory under fsstate/ with an __init__.py is in [tool.setuptools] packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "fsstate").rglob("__init__.py")
    }
    assert found <= set(config["packages"])
    assert config["package-dir"]["fsstate.schemas"] == "schemas"
