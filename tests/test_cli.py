"""Tests for the ``fsstate`` command line (fsstate.cli), in process through ``main([...])`` and
as a real ``python -m fsstate`` subprocess. Data: ``examples/data/``."""

from __future__ import annotations

import argparse
import json
import os
import pty
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

import fsstate as fsstate_pkg
from fsstate import FileState, cli, podman
from fsstate.store import layout as L

DATA = Path(__file__).parent.parent / "examples" / "data"
PODMAN_DB = DATA / "podman-db.sql"
OSV_DB = DATA / "osv-scalibr-real.db.sql"
OSV_BOLT = DATA / "osv-scalibr-real.bolt_state.db"
REDIS = "131aa7292b08471119a279dab59b1446b04ef8be661e1275ccd93a8d81e254dc"
WEB = "93d2664f8091183a534138ae63e285f382271e6ecd604791ddf7eb660d115fd7"
SAMPLE_POD = "86b3b5a947248a687c35bb7aed1ba6651070bf5c7ea335b1960240a92e7cb63f"

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("FSSTATE_ROOT", "FSSTATE_TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(cli.app, "ROOT_LIBPOD_TMP", str(tmp_path / "run-libpod"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], root: Path, tmp_path: Path) -> Run:
    """``run(*args)`` → (exit code, stdout, stderr) of ``fsstate --root … --tmp … args``."""

    def _run(*args: str, store: bool = True) -> tuple[int, str, str]:
        prefix = ["--root", str(root), "--tmp", str(tmp_path / "tmp")] if store else []
        code = cli.main([*prefix, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.fixture
def loaded(run: Run) -> Run:
    """``run`` on a store holding podman-db.sql."""
    code, _, _ = run("import-podman", str(PODMAN_DB))
    assert code == 0
    return run


def one_line_error(err: str, *needles: str) -> None:
    assert err.startswith("fsstate: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err


# -- commands --------------------------------------------------------------------------------


def test_import_prints_the_report(run: Run) -> None:
    code, out, err = run("import-podman", str(PODMAN_DB))
    assert code == 0 and err == ""  # no progress: stderr is not a terminal
    lines = out.splitlines()
    assert lines[0].startswith(
        "imported 7 containers, 2 pods, 7 volumes, 2 exec sessions and 1 exit codes"
    )
    assert not any(line.startswith("skipped:") for line in lines)


def test_ps_all_table(loaded: Run) -> None:
    code, out, _ = loaded("ps", "-a", "--pod")
    assert code == 0
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header.strip()) == [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
        "POD ID",
        "PODNAME",
    ]
    assert len(rows) == 7
    redis = next(r for r in rows if "redis_apple" in r)
    assert redis.startswith(REDIS[:12] + "  docker.io/library/redis:latest")
    assert "redis-server" in redis and re.search(r"  Up .+ ago  ", redis)
    assert re.search(r"  Exited \(0\) .+ ago  ", next(r for r in rows if "silly_aryabhata" in r))
    assert "  Initialized  " in next(r for r in rows if "redis_exporter" in r)
    web = next(r for r in rows if "sample-web" in r)
    assert "nginx -g daemon o..." in web and web.rstrip().endswith(f"{SAMPLE_POD[:12]}  sample-pod")


def test_ps_without_all_shows_running_only(loaded: Run) -> None:
    _, out, _ = loaded("ps")
    rows = out.splitlines()[1:]
    assert len(rows) == 5
    assert not any("silly_aryabhata" in r or "redis_exporter" in r for r in rows)


def test_ps_no_trunc(loaded: Run) -> None:
    _, out, _ = loaded("ps", "--no-trunc")
    assert "nginx -g daemon off;" in out and WEB in out


def test_ps_json(loaded: Run) -> None:
    code, out, _ = loaded("ps", "-a", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert len(data) == 7 and all(len(c) == 24 for c in data)
    web = next(c for c in data if c["Names"] == ["sample-web"])
    assert web["Id"] == WEB and web["State"] == "running" and web["Pod"] == SAMPLE_POD
    assert web["PodName"] == "" and web["Command"] == ["nginx", "-g", "daemon off;"]
    hello = next(c for c in data if c["Names"] == ["silly_aryabhata"])
    assert (hello["State"], hello["Exited"]) == ("exited", True)
    assert re.fullmatch(r"Exited \(0\) .+ ago", hello["Status"])
    pod = json.loads(loaded("ps", "-a", "--pod", "--format", "json")[1])
    assert next(c for c in pod if c["Id"] == WEB)["PodName"] == "sample-pod"


@pytest.mark.parametrize("fmt", ["{{json .}}", " {{ json . }} ", "{{json}}", "\tjson\n"])
@pytest.mark.parametrize(
    "command", [("ps", "-a"), ("pod", "ls"), ("volume", "ls"), ("inspect", "sample-web")]
)
def test_a_json_template_prints_the_json_documents(
    loaded: Run, command: tuple[str, ...], fmt: str
) -> None:
    """Podman takes ``{{json .}}`` (spaces and the dot optional) as ``--format json``
    (``parse.MatchesJSONFormat``; Podman 4.3.1's ``ps -a --format '{{json .}}'`` prints the
    same indented array as ``--format json``): not a template run on each row."""
    code, out, err = loaded(*command, "--format", fmt)
    assert (code, err) == (0, "")
    assert out == loaded(*command, "--format", "json")[1]
    assert isinstance(json.loads(out), list) and json.loads(out) != []


def test_json_of_a_field_is_still_a_template(loaded: Run) -> None:
    """Only the whole row asks for JSON: ``{{json .Names}}`` runs per row, on the reporter's
    ``Names`` (the first name: Podman 4.3.1 prints ``"j1"`` there)."""
    documents = json.loads(loaded("ps", "-a", "--format", "json")[1])
    code, out, _ = loaded("ps", "-a", "--format", "{{json .Names}}")
    assert code == 0
    assert out.splitlines() == [json.dumps(d["Names"][0]) for d in documents]


def test_pod_ls(loaded: Run) -> None:
    code, out, _ = loaded("pod", "ls")
    assert code == 0
    header, *rows = out.splitlines()
    assert re.split(r"\s{2,}", header) == [
        "POD ID",
        "NAME",
        "STATUS",
        "CREATED",
        "INFRA ID",
        "# OF CONTAINERS",
    ]
    sample = next(r for r in rows if "sample-pod" in r)
    assert re.fullmatch(
        SAMPLE_POD[:12] + r"  sample-pod  +Running  +.+ ago  +916a0bcfdda6  +2", sample
    )
    assert next(r for r in rows if "pod_lab" in r).split()[-1] == "1"
    _, again, _ = loaded("pod", "ps")  # Podman's alias
    assert again == out


def test_pod_ls_json(loaded: Run) -> None:
    data = json.loads(loaded("pod", "ls", "--format", "json")[1])
    sample = next(p for p in data if p["Name"] == "sample-pod")
    assert sample["Id"] == SAMPLE_POD and len(sample["Containers"]) == 2
    assert sample["InfraId"].startswith("916a0bcf")


def test_volume_ls(loaded: Run) -> None:
    code, out, _ = loaded("volume", "ls")
    header, *rows = out.splitlines()
    assert code == 0 and header.split() == ["DRIVER", "VOLUME", "NAME"] and len(rows) == 7
    assert rows[-1].split() == ["local", "web-content"]
    data = json.loads(loaded("volume", "ls", "--format", "json")[1])
    web = next(v for v in data if v["Name"] == "web-content")
    assert web["Options"] == {"device": "/srv/www", "o": "bind", "type": "none"}


def test_inspect_resolves_containers_then_pods_then_volumes(loaded: Run) -> None:
    code, out, err = loaded(
        "inspect", "--raw", "web-content", "sample-pod", WEB[:10], "redis_apple"
    )
    assert code == 0 and err == ""
    data = json.loads(out)
    assert [list(d) for d in data] == [["config", "state"]] * 4
    assert data[0]["config"]["name"] == "web-content" and data[0]["state"]["mountCount"] == 1
    assert data[1]["config"]["id"] == SAMPLE_POD and "InfraContainerID" in data[1]["state"]
    assert data[2]["config"]["id"] == WEB and data[2]["state"]["state"] == 3
    with closing(sqlite3.connect(PODMAN_DB)) as conn:
        (text,) = conn.execute("SELECT JSON FROM ContainerConfig WHERE ID = ?", (REDIS,)).fetchone()
    assert list(data[3]["config"].items()) == list(json.loads(text).items())
    shaped = json.loads(loaded("inspect", "web-content", "sample-pod", WEB[:10])[1])
    assert [d["Name"] for d in shaped] == ["web-content", "sample-pod", "sample-web"]
    assert shaped[2]["Id"] == WEB and shaped[2]["State"]["Status"] == "running"


def test_inspect_type(loaded: Run) -> None:
    code, _, err = loaded("inspect", "--type", "pod", "redis_apple")
    assert code == 3
    one_line_error(err, "redis_apple")


def test_inspect_missing(loaded: Run) -> None:
    code, out, err = loaded("inspect", "redis_apple", "nothing-here")
    assert code == 3 and len(json.loads(out)) == 1
    one_line_error(err, "nothing-here")


def test_export_and_force(loaded: Run, tmp_path: Path) -> None:
    target = tmp_path / "out.sql"
    code, out, _ = loaded("export-podman", str(target))
    assert code == 0 and str(target) in out
    code, _, err = loaded("export-podman", str(target))
    assert code == 4  # exists (fsstate/cli/exits.py): the file is taken
    one_line_error(err, str(target), "exists")
    code, _, _ = loaded("export-podman", str(target), "--force")
    assert code == 0
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("SELECT count(*) FROM ContainerConfig").fetchone() == (7,)


def test_export_bolt_imports_back(loaded: Run, tmp_path: Path) -> None:
    """``--format bolt`` writes a bolt_state.db holding the same store (the real Podman reads
    it: tests/real_podman/)."""
    target = tmp_path / "bolt_state.db"
    code, out, _ = loaded("export-podman", "--format", "bolt", str(target))
    assert code == 0 and str(target) in out
    assert podman.detect_format(target) == "bolt"
    again = FileState(tmp_path / "again" / "static", tmp_path / "again" / "tmp")
    report = podman.import_file(target, again)
    assert (report.containers, report.pods, report.volumes) == (7, 2, 7)
    code, _, err = loaded("export-podman", "--format", "bolt", str(target))
    assert code == 4
    one_line_error(err, str(target), "exists")


def test_refresh(loaded: Run) -> None:
    """After refresh nothing runs: running containers are exited, exec sessions are gone."""
    assert loaded("refresh") == (0, "", "")
    assert len(loaded("ps")[1].splitlines()) == 1
    data = json.loads(loaded("ps", "-a", "--format", "json")[1])
    states = {c["Names"][0]: c["State"] for c in data}
    assert states.pop("redis_exporter") == "created"  # initialized -> configured
    assert set(states.values()) == {"exited"}


def test_import_bolt_by_magic(run: Run) -> None:
    code, out, _ = run("import-podman", str(OSV_BOLT))
    assert code == 0 and "(bolt)" in out and "and 1 exit codes" in out and "skipped" not in out


def clashing_db(tmp_path: Path) -> Path:
    """podman-db.sql with pod ``pod_lab`` renamed ``jenkins``, a container's name."""
    db = tmp_path / "clash.sql"
    shutil.copyfile(PODMAN_DB, db)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute(
            "UPDATE PodConfig SET Name = 'jenkins', JSON = json_set(JSON, '$.name', 'jenkins') "
            "WHERE Name = 'pod_lab'"
        )
        conn.commit()
    return db


def test_import_db_makes_a_sqlite_store_and_keeps_names(
    run: Run, root: Path, tmp_path: Path
) -> None:
    """A db.sql makes a "sqlite" store: a pod and a container of one name are taken as they
    are (API.md, Today's Podman)."""
    code, out, _ = run("import-podman", str(clashing_db(tmp_path)))
    assert code == 0 and "renamed" not in out
    with FileState(root, tmp_path / "tmp") as state:
        assert state.semantics == "sqlite"
        assert state.lookup_pod("jenkins").name == "jenkins"
        assert state.lookup_container("jenkins").name == "jenkins"


def test_import_bolt_makes_a_bolt_store(run: Run, root: Path, tmp_path: Path) -> None:
    assert run("import-podman", str(OSV_BOLT))[0] == 0
    with FileState(root, tmp_path / "tmp") as state:
        assert state.semantics == "bolt"


def test_rename_pods_on_clash(run: Run, root: Path, tmp_path: Path) -> None:
    """Into a "bolt" store (one name registry) a clash is refused, or the pod renamed."""
    FileState(root, tmp_path / "tmp", semantics="bolt").close()
    db = clashing_db(tmp_path)
    code, _, err = run("import-podman", str(db))
    assert code == 5
    one_line_error(err, "jenkins", str(db))
    code, out, _ = run("import-podman", str(db), "--rename-pods-on-clash")
    assert code == 0 and "-> jenkins-pod" in out
    assert "jenkins-pod" in run("pod", "ls")[1]


# -- errors and exit codes -------------------------------------------------------------------


def test_exit_codes(loaded: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sql"
    junk.write_text("not a database")
    assert loaded("import-podman", str(junk))[0] == 5
    code, _, err = loaded("import-podman", str(PODMAN_DB))  # everything exists already
    assert code == 4
    one_line_error(err, str(PODMAN_DB))
    assert loaded("inspect", "nope")[0] == 3
    assert loaded("no-such-command")[0] == 2
    assert loaded("ps", "--last", "many")[0] == 2
    assert loaded("ps", "--format", "{{.Nope}}")[0] == 5  # a template that cannot run


def test_truncated_db_is_one_line(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "db.sql"
    bad.write_bytes(PODMAN_DB.read_bytes()[:50000])
    code, out, err = run("import-podman", str(bad))
    assert (code, out) == (5, "")
    one_line_error(err, str(bad), "truncated")


def test_no_root_is_a_usage_error(run: Run) -> None:
    code, _, err = run("ps", store=False)
    assert code == 2 and "FSSTATE_ROOT" in err


def test_root_from_environment(
    run: Run, root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FSSTATE_ROOT", str(root))
    assert run("import-podman", str(OSV_DB), store=False)[0] == 0
    assert len(run("ps", "-a", store=False)[1].splitlines()) == 4
    assert run("refresh", store=False)[0] == 0
    # root's default tmp dir is in Podman's (/run/libpod), keyed by the root
    assert os.listdir(tmp_path / "run-libpod" / "fsstate") == [
        os.path.basename(cli.default_tmp(str(root)))
    ]


def test_help(run: Run) -> None:
    code, out, _ = run("--help", store=False)
    assert code == 0
    for name in ("ps", "pod", "volume", "inspect", "import-podman", "export-podman", "refresh"):
        assert name in out


def test_version(run: Run) -> None:
    assert run("--version", store=False) == (0, f"fsstate {fsstate_pkg.__version__}\n", "")


def test_commands_are_a_table() -> None:
    """Every command is one registered function; a new one is a few lines."""
    assert {" ".join(w) for w in cli.COMMANDS} >= {
        "ps",
        "pod ls",
        "volume ls",
        "inspect",
        "import-podman",
        "export-podman",
        "refresh",
    }

    @cli.command("hello", help="test command", arguments=[cli.arg("who")])
    def hello(ctx: cli.Context, args: argparse.Namespace) -> int:
        ctx.print(f"hello {args.who} in {ctx.root}")
        return 0

    try:
        assert cli.main(["--root", "/r", "--tmp", "/t", "hello", "you"]) == 0
    finally:
        del cli.COMMANDS[("hello",)]


# -- a real process --------------------------------------------------------------------------


def fsstate(
    root: Path, *args: str, stderr: int = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FSSTATE_ROOT": str(root), "FSSTATE_TMP": str(root) + "-tmp"}
    return subprocess.run(
        [sys.executable, "-m", "fsstate", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_subprocess(tmp_path: Path) -> None:
    root = tmp_path / "root"
    done = fsstate(root, "import-podman", str(PODMAN_DB))
    assert done.returncode == 0 and done.stderr == "" and "imported 7 containers" in done.stdout
    done = fsstate(root, "ps", "-a", "--format", "json")
    assert done.returncode == 0 and len(json.loads(done.stdout)) == 7
    done = fsstate(root, "pod", "ls")
    assert done.returncode == 0 and "sample-pod" in done.stdout
    done = fsstate(root, "inspect", "no-such-thing")
    assert done.returncode == 3 and done.stdout.strip() == "[]"
    one_line_error(done.stderr, "no-such-thing")
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00" * 4096)
    done = fsstate(root, "import-podman", str(junk))
    assert done.returncode == 5
    one_line_error(done.stderr, str(junk))


def test_subprocess_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fsstate", "ps"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "FSSTATE_ROOT"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_the_command_line_loads_the_checker_only_for_fsck() -> None:
    """Importing the CLI (every command) leaves fsstate.fsck unloaded; fsck loads it."""
    code = "import sys, fsstate.cli; print('fsstate.fsck' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "False\n"


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    """With stderr a terminal, import and export report progress there; stdout unchanged."""
    primary, secondary = pty.openpty()
    try:
        done = fsstate(tmp_path / "root", "import-podman", str(PODMAN_DB), stderr=secondary)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    assert done.returncode == 0 and "imported 7 containers" in done.stdout
    assert re.search(rb"\rimporting: +\d+%\|.*\| *\d+/19 ", shown)  # a bar: 18 objects, 1 code


def test_example_script(tmp_path: Path) -> None:
    """examples/import_podman_db.sh imports podman-db.sql and lists it; it leaves nothing."""
    script = DATA.parent / "import_podman_db.sh"
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        ["sh", str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "imported 7 containers, 2 pods, 7 volumes" in done.stdout
    for line in ("$ fsstate ps -a", "$ fsstate pod ls", "$ fsstate volume ls", "sample-pod"):
        assert line in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_concurrent_imports(tmp_path: Path) -> None:
    """Two processes import the same db.sql into one store at once: one wins, the other fails
    with exit code 4 and one line, and the store holds one copy."""
    root = tmp_path / "root"
    env = {**os.environ, "FSSTATE_ROOT": str(root), "FSSTATE_TMP": str(tmp_path / "tmp")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "fsstate", "import-podman", str(PODMAN_DB)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = sorted((p.wait(timeout=120), p.communicate()[1]) for p in procs)
    assert [code for code, _ in results] == [0, 4]
    one_line_error(results[1][1], "already exists")
    assert len(json.loads(fsstate(root, "ps", "-a", "--format", "json").stdout)) == 7


# -- only creating commands create (issue 8 point 5) ----------------------------------------


@pytest.mark.parametrize(
    "args", [("ps", "-a"), ("pod", "ls"), ("volume", "ls"), ("inspect", "web"), ("refresh",)]
)
def test_read_commands_on_no_store_create_nothing(
    run: Run, root: Path, args: tuple[str, ...]
) -> None:
    code, out, err = run(*args)
    assert (code, out) == (3, "")
    one_line_error(err, "no fsstate store here")
    assert not root.exists()


@pytest.mark.parametrize("args", [("fsck",), ("fsck", "--repair"), ("fsck", "--format", "json")])
def test_fsck_on_no_store_is_not_found_and_creates_nothing(
    run: Run, root: Path, args: tuple[str, ...]
) -> None:
    """Issue 8 point 5: no store is the not-found code and one line, not a finding."""
    code, out, err = run(*args)
    assert (code, out) == (3, "")
    one_line_error(err, str(root / "fsstate"), "no fsstate store here")
    assert not root.exists()


def test_import_of_a_missing_file_leaves_no_store(run: Run, root: Path, tmp_path: Path) -> None:
    code, out, err = run("import-podman", str(tmp_path / "missing.sql"))
    assert (code, out) == (5, "")
    one_line_error(err, "missing.sql", "no such file")
    assert not root.exists()


def test_init_creates_an_empty_store_that_read_commands_then_open(run: Run, root: Path) -> None:
    assert run("init")[0] == 0
    assert (
        root / "fsstate" / "FORMAT"
    ).read_bytes() == f"fsstate-layout {L.FORMAT_VERSION}\n".encode()
    assert run("ps", "-a", "--format", "json") == (0, "[]\n", "")
