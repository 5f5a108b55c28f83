"""pyproject.toml ships every package: the tests import the source tree, so nothing else would
notice a subpackage missing from `pip install .`."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import fsstate

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


def test_version_has_one_source() -> None:
    """pyproject.toml takes the version from fsstate.__version__; the installed metadata and
    CHANGELOG.md agree with it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "fsstate.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", fsstate.__version__)
    assert importlib.metadata.version("fsstate") == fsstate.__version__
    assert f"\n## [{fsstate.__version__}] - " in (ROOT / "CHANGELOG.md").read_text()


def test_pre_commit_pins_the_dev_extras_versions() -> None:
    """Every ``name==version`` in .pre-commit-config.yaml is the pin of the ``dev`` extra (or
    of the ``test`` extra it includes), so a hook runs the same tool as CI."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pinned = dict(p.split("==") for p in extras["dev"] + extras["test"] if "==" in p)
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    runtime = {r.split("==")[0] for r in project["dependencies"] if "==" in r}  # checked below
    hooks = [h for h in re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', config) if h[0] not in runtime]
    assert sorted({name for name, _ in hooks}) == [
        "hypothesis",
        "mypy",
        "pytest",
        "ruff",
        "types-jsonschema",
        "types-tqdm",
    ]
    for name, version in hooks:
        assert pinned[name] == version, name
    for requirement in project["dependencies"]:  # mypy's hook imports them
        assert f'"{requirement}"' in config, requirement
