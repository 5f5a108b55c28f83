"""``fsstate ps``, ``pod ps`` and ``volume ls`` against a real Podman 4.3 state and Podman's own
``--format json`` listings of it (``tests/data/podman43/``, see its README), and their options:
filters, templates, sorting, ``-q``/``--noheading``/``--last``/``--latest``/``--no-trunc``/
``--pod``; and partial listings over really damaged files (issue 8 point 3)."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fsstate import FileState, cli, errors, snapshot
from fsstate.cli.exits import EXIT_INVALID, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from fsstate.cli.humantime import human_duration
from fsstate.store import layout as L

DATA = Path(__file__).parent / "data" / "podman43"

Run = Callable[..., tuple[int, str, str]]


def podman_rows(name: str = "varied_ps_a.json") -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return rows


def relative(value: object) -> object:
    """A relative time ("47 seconds ago", "Up About an hour ago") with its duration masked:
    Podman's were measured when it ran, ours now."""
    if not isinstance(value, str):
        return value
    return re.sub(r"(Less than a second|About an? \w+|\d+ \w+) ago", "<T> ago", value)


@pytest.fixture(scope="module")
def podman43_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store imported from Podman 4.3's varied bolt_state.db (read-only for the tests)."""
    base = tmp_path_factory.mktemp("podman43")
    bolt = base / "bolt_state.db"
    bolt.write_bytes(gzip.decompress((DATA / "varied_bolt_state.db.gz").read_bytes()))
    assert cli.main(["--root", str(base / "root"), "--tmp", str(base / "tmp"), "init"]) == 0
    code = cli.main(
        ["--root", str(base / "root"), "--tmp", str(base / "tmp"), "import-podman", str(bolt)]
    )
    assert code == 0
    return base / "root"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], podman43_store: Path, tmp_path: Path) -> Run:
    """``run(*args, root=…)`` → (exit code, stdout, stderr) of ``fsstate --root ROOT --tmp
    ROOT/../tmp args`` (the tmp dir beside the store: it holds the "refreshed" marker)."""

    def _run(*args: str, root: Path = podman43_store) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["--root", str(root), "--tmp", str(root.parent / "tmp"), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def names(out: str) -> list[str]:
    return [row["Names"][0] for row in json.loads(out)]


# -- the shape: Podman's own output of the same state ----------------------------------------


def test_ps_json_equals_podmans_for_every_key_of_every_container(run: Run) -> None:
    """Every row, every key, in Podman's order of rows and keys; relative times masked."""
    code, out, err = run("ps", "-a", "--format", "json")
    assert (code, err) == (EXIT_OK, "")
    ours, theirs = json.loads(out), podman_rows()
    assert len(ours) == len(theirs) == 37
    assert [r["Id"] for r in ours] == [r["Id"] for r in theirs]  # creation order
    for mine, podman in zip(ours, theirs, strict=True):
        assert list(mine) == list(podman), mine["Names"]  # the 24 keys, in Podman's order
        assert {k: relative(v) for k, v in mine.items()} == {
            k: relative(v) for k, v in podman.items()
        }, mine["Names"]


@pytest.mark.parametrize(
    "args",
    [
        ["ps", "-a", "--format", "json"],
        ["ps", "-a"],
        ["ps", "--pod", "--no-trunc"],
        ["pod", "ps", "--format", "json"],
        ["pod", "ps", "--ctr-names", "--ctr-status"],
    ],
)
def test_listings_shared_with_forked_processes_print_the_same(
    run: Run, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """``ps`` and ``pod ps`` list with ``processes`` = the CPUs they may use (``fanout.py``);
    with a slice of two containers per process the 37 are loaded by 18 processes, and the
    output is byte for byte that of one process (relative times masked: a second may pass)."""
    from fsstate.cli.context import Context
    from fsstate.state import fanout

    monkeypatch.setattr(Context, "cpus", staticmethod(lambda: 1))
    alone = run(*args)
    monkeypatch.setattr(Context, "cpus", staticmethod(lambda: 18))
    monkeypatch.setattr(fanout, "MIN_SHARE", 2)
    children: list[object] = []
    fork = fanout._fork

    def counted(*args: Any) -> object:
        children.append(fork(*args))
        return children[-1]

    monkeypatch.setattr(fanout, "_fork", counted)
    shared = run(*args)
    assert len(children) == 17 and all(children)  # real forks, each delivered
    assert shared[0] == alone[0] == EXIT_OK
    assert relative(shared[1]) == relative(alone[1]) and len(alone[1].splitlines()) > 3


def test_labels_are_null_when_empty_and_times_are_instants(run: Run) -> None:
    ours = {r["Names"][0]: r for r in json.loads(run("ps", "-a", "--format", "json")[1])}
    assert ours["c-plain"]["Labels"] is None and ours["c-env"]["Labels"] == {
        "a": "b",
        "owner": "me",
    }
    assert ours["r-exited"]["ExitedAt"] == 1796401526 and ours["c-plain"]["ExitedAt"] == (
        -62135596800  # Go's zero time: never exited
    )
    assert ours["r-exited"]["Status"].startswith("Exited (3) ")
    assert ours["r-running"]["Status"].startswith("Up ") and ours["r-paused"]["Status"] == "Paused"


def test_without_all_only_running_containers(run: Run) -> None:
    running = [r["Names"][0] for r in podman_rows() if r["State"] == "running"]
    assert names(run("ps", "--format", "json")[1]) == running
    assert len(running) == 3  # r-paused is paused


def test_default_table_has_podmans_columns(run: Run) -> None:
    code, out, _ = run("ps", "-a")
    header, *rows = out.splitlines()
    assert code == EXIT_OK and len(rows) == 37
    assert re.split(r"\s{2,}", header.strip()) == [
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    ports = next(r for r in rows if r.endswith("c-ports"))
    assert ports.startswith("598526def7f8  localhost/busybox:latest")
    assert "0.0.0.0:7000-7002->7000-7002/tcp, 0.0.0.0:8081->80/tcp, 127.0.0.1:9090->90/udp" in ports
    exited = next(r for r in rows if r.endswith("r-exited"))
    assert "sh -c echo hi; ex..." in exited and re.search(r"Exited \(3\) .+ ago", exited)
    # columns start where the header's do (Go tabwriter, min width 12, padding 2)
    assert exited.index("localhost/") == header.index("IMAGE") == 14


def test_pod_columns_and_no_trunc(run: Run) -> None:
    code, out, _ = run("ps", "-a", "--pod", "--no-trunc")
    assert code == EXIT_OK
    header, *rows = out.splitlines()
    assert header.split()[-3:] == ["POD", "ID", "PODNAME"]
    p1a = next(r for r in rows if " p1-a " in r)
    pod1 = next(r["Pod"] for r in podman_rows() if r["Names"] == ["p1-a"])
    assert p1a.split()[-2:] == [pod1, "pod1"]
    exited = next(r for r in rows if "r-exited" in r)
    assert "sh -c echo hi; exit 3" in exited and exited.startswith("094832a788fd909e6d85")
    data = json.loads(run("ps", "-a", "--pod", "--format", "json")[1])
    assert {r["PodName"] for r in data} == {"", "pod1", "pod2", "pod3"}


def test_quiet_noheading_last_latest(run: Run) -> None:
    order = [r["Id"] for r in podman_rows()]
    assert run("ps", "-a", "-q")[1].split() == [i[:12] for i in order]
    assert run("ps", "-aq", "--no-trunc")[1].split() == order
    out = run("ps", "-a", "--noheading")[1]
    assert len(out.splitlines()) == 37 and "CONTAINER ID" not in out
    assert names(run("ps", "-n", "2", "--format", "json")[1]) == ["r-stopped", "r-paused"]
    assert names(run("ps", "--last", "1", "--format", "json")[1]) == ["r-paused"]
    assert names(run("ps", "--latest", "--format", "json")[1]) == ["r-paused"]


def test_sort(run: Run) -> None:
    by_name = names(run("ps", "-a", "--sort", "names", "--format", "json")[1])
    assert by_name == sorted(by_name) and len(by_name) == 37
    by_id = [r["Id"] for r in json.loads(run("ps", "-a", "--sort", "id", "--format", "json")[1])]
    assert by_id == sorted(by_id)
    code, _, err = run("ps", "--sort", "size")
    assert code == EXIT_USAGE and "invalid choice" in err


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("command", lambda row: " ".join(row["Command"] or [])),
        ("image", lambda row: row["Image"]),
        ("status", lambda row: row["State"]),
        ("names", lambda row: row["Names"][0]),
        ("id", lambda row: row["Id"]),
    ],
)
def test_sort_by_text_is_by_the_rows_field_then_id(
    run: Run, key: str, text: Callable[[dict[str, Any]], str]
) -> None:
    """ps.go ``sortPsOutput``: the rows' field as printed, ties by ID; ``-q`` prints the IDs in
    the same order (the order is found before the rows are made)."""
    rows = json.loads(run("ps", "-a", "--sort", key, "--format", "json")[1])
    assert [r["Id"] for r in rows] == [
        r["Id"] for r in sorted(rows, key=lambda r: (text(r), r["Id"]))
    ]
    assert len({text(r) for r in rows}) > 1  # the key does order them
    quiet = run("ps", "-a", "-q", "--no-trunc", "--sort", key)[1].split()
    assert quiet == [r["Id"] for r in rows]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["status=exited"], ["p1-b", "r-exited", "r-stopped"]),
        (["status=paused", "status=exited"], ["p1-b", "r-exited", "r-stopped", "r-paused"]),
        (["exited=137"], ["r-stopped"]),
        (["name=^c-net"], ["c-netns", "c-net1", "c-net12", "c-net3", "c-net6"]),
        (["name=^c-net1"], ["c-net1", "c-net12"]),
        (["label=owner"], ["c-env"]),
        (["label=a=b", "label=owner=me"], ["c-env"]),
        (["label=a=c"], []),
        (["pod=pod3"], ["p3-a", "p3-b"]),
        (["network=net2"], ["c-net1", "c-net12"]),
        (["network=net1", "name=p3"], ["p3-a"]),
        (["volume=vol-labeled"], ["c-vols", "c-volfrom"]),
        (["volume=/data", "name=p1"], ["p1-b"]),
        (["ancestor=localhost/empty"], ["c-log", "c-empty"]),
        (["id=^094832a7"], ["r-exited"]),
        (["since=r-exited"], ["r-stopped", "r-paused"]),
        (["before=c-env", "name=c-"], ["c-plain"]),
    ],
)
def test_filters(run: Run, filters: list[str], expected: list[str]) -> None:
    args = [a for f in filters for a in ("--filter", f)]
    code, out, err = run("ps", "-a", *args, "--format", "json")
    assert (code, err) == (EXIT_OK, "")
    assert names(out) == expected


def test_a_status_filter_shows_every_state_without_all(run: Run) -> None:
    assert names(run("ps", "-f", "status=exited", "--format", "json")[1]) == [
        "p1-b",
        "r-exited",
        "r-stopped",
    ]
    # any other filter keeps "running only" (abi/ps.go)
    assert names(run("ps", "-f", "name=r-", "--format", "json")[1]) == ["r-running"]


def test_bad_filters_are_one_line_errors(run: Run) -> None:
    for spec, needle in [
        ("colour=red", "invalid filter 'colour'"),
        ("status", "expected KEY=VALUE"),
        ("status=sleepy", "'sleepy' is not a valid status"),
    ]:
        code, out, err = run("ps", "-a", "--filter", spec)
        assert code == EXIT_INVALID and out == "", spec
        assert err.startswith("fsstate: ") and needle in err and err.count("\n") == 1


# -- Go templates ----------------------------------------------------------------------------


def test_go_templates(run: Run) -> None:
    code, out, _ = run("ps", "-a", "-f", "name=c-env", "--format", "{{.Names}} {{.State}}")
    assert (code, out) == (EXIT_OK, "c-env Created\n")
    out = run("ps", "-af", "name=c-env", "--format", '{{json .Labels}}|{{.Label "owner"}}')[1]
    assert out == '"a=b,owner=me"|me\n'  # psReporter.Labels() is text, json quotes it
    out = run("ps", "-af", "name=^r-exited", "--format", "{{.ID}} {{.ExitCode}} {{.Exited}}")[1]
    assert out == "094832a788fd 3 true\n"
    code, out, _ = run("ps", "-af", "name=c-ports", "--format", "table {{.Names}}\\t{{.Ports}}")
    assert out.splitlines() == [
        "NAMES       PORTS",
        "c-ports     0.0.0.0:7000-7002->7000-7002/tcp, 0.0.0.0:8081->80/tcp, "
        "127.0.0.1:9090->90/udp",
    ]
    out = run("ps", "-f", "pod=pod1", "--format", "{{.Names}}:{{if .IsInfra}}infra{{end}}")[1]
    assert out.split() == ["278397380ce5-infra:infra", "p1-a:"]
    assert run("ps", "-a", "--format", "table")[1] == run("ps", "-a")[1]
    code, out, err = run("ps", "-a", "--format", "{{.Nope}}")
    assert code == EXIT_INVALID and out == "" and "can't evaluate field Nope" in err


def test_human_duration_is_go_units() -> None:
    """docker/go-units HumanDuration at the edges of each wording."""
    cases = {
        0.5: "Less than a second",
        1: "1 second",
        59: "59 seconds",
        60: "About a minute",
        119: "About a minute",
        120: "2 minutes",
        3599: "59 minutes",
        3600: "About an hour",
        5399: "About an hour",
        5400: "2 hours",
        47 * 3600: "47 hours",
        48 * 3600: "2 days",
        13 * 86400: "13 days",
        14 * 86400: "2 weeks",
        60 * 86400: "2 months",
        730 * 86400: "2 years",
    }
    assert {s: human_duration(s) for s in cases} == cases


# -- partial listings (issue 8 point 3) ------------------------------------------------------


def damaged_copy(store: Path, dest: Path) -> tuple[Path, dict[str, str]]:
    """A copy of ``store`` with a truncated state.json, a garbled config.json and a deleted
    pod config; returns the copy and the damaged paths by what was done."""
    root = dest / "root"
    snapshot(store, root)  # checkpointed: the journal holds nothing to replay over the damage
    shutil.copytree(store.parent / "tmp", dest / "tmp")
    rows = {r["Names"][0]: str(r["Id"]) for r in podman_rows()}
    top = root / "fsstate"
    state = top / L.container_doc(rows["r-exited"], "state")
    state.write_bytes(state.read_bytes()[:40])
    config = top / L.container_doc(rows["c-env"], "config")
    config.write_bytes(b"\x00garbled" + config.read_bytes()[8:])
    pod_rows = podman_rows("varied_pod_ps.json")
    pod3 = next(str(p["Id"]) for p in pod_rows if p["Name"] == "pod3")
    pod_config = top / L.pod_doc(pod3, "config")
    pod_config.unlink()
    return root, {"state": str(state), "config": str(config), "pod": str(pod_config)}


def test_ps_shows_what_it_can_and_names_each_damaged_file(
    run: Run, podman43_store: Path, tmp_path: Path
) -> None:
    root, damaged = damaged_copy(podman43_store, tmp_path)
    code, out, err = run("ps", "-a", "--format", "json", root=root)
    assert code == EXIT_PARTIAL
    shown = names(out)
    assert len(shown) == 35 and "r-exited" not in shown and "c-env" not in shown
    lines = err.splitlines()
    assert len(lines) == 2
    assert any(damaged["state"] in line for line in lines)
    assert any(damaged["config"] in line for line in lines)
    assert all(line.startswith("fsstate: not shown: ") for line in lines)
    # the table and -q show the same and say the same
    code, out, err2 = run("ps", "-aq", root=root)
    assert code == EXIT_PARTIAL and len(out.split()) == 35 and err2 == err
    # one damaged object, asked for by itself, is still an error
    with FileState(root, tmp_path / "tmp") as state:
        ctr = next(c for c in state.all_containers() if c.name == "r-exited")
        with pytest.raises(errors.CorruptDocumentError) as caught:
            state.update_container(ctr)
        assert caught.value.path == damaged["state"]


def test_pod_ps_json_equals_podmans(run: Run) -> None:
    """Every pod, every key (members by ID, Labels {} when empty), newest pod first."""
    code, out, err = run("pod", "ps", "--format", "json")
    assert (code, err) == (EXIT_OK, "")
    ours, theirs = json.loads(out), podman_rows("varied_pod_ps.json")
    assert [p["Name"] for p in ours] == ["pod3", "pod2", "pod1"]
    assert ours == theirs
    assert all(list(a) == list(b) for a, b in zip(ours, theirs, strict=True))


def test_pod_ps_table_and_options(run: Run) -> None:
    code, out, _ = run("pod", "ls")
    header, *rows = out.splitlines()
    assert code == EXIT_OK
    assert re.split(r"\s{2,}", header.strip()) == [
        "POD ID",
        "NAME",
        "STATUS",
        "CREATED",
        "INFRA ID",
        "# OF CONTAINERS",
    ]
    pods = {p["Name"]: p for p in podman_rows("varied_pod_ps.json")}
    pod1 = next(r for r in rows if "  pod1  " in r)
    assert re.fullmatch(
        pods["pod1"]["Id"][:12]
        + r"  pod1  +Degraded  +.+ ago  "
        + pods["pod1"]["InfraId"][:12]
        + r"  +3",
        pod1,
    )
    assert run("pod", "ps")[1] == out == run("pod", "list")[1]  # Podman's aliases
    out = run("pod", "ps", "--ctr-names", "--ctr-status", "--noheading", "--sort", "name")[1]
    assert [line.split()[1] for line in out.splitlines()] == ["pod1", "pod2", "pod3"]
    assert "278397380ce5-infra,p1-a,p1-b  running,running,exited" in out
    assert run("pod", "ps", "-q", "--no-trunc")[1].split() == [
        pods[n]["Id"] for n in ("pod3", "pod2", "pod1")
    ]
    out = run("pod", "ps", "--format", "{{.Name}} {{.NumberOfContainers}} {{.Labels}}")[1]
    assert out.splitlines() == ["pod3 2 map[]", "pod2 2 map[team:blue]", "pod1 3 map[]"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["status=degraded"], ["pod1"]),
        (["label=team=blue"], ["pod2"]),
        (["ctr-names=p3-a"], ["pod3"]),
        (["ctr-status=exited"], ["pod1"]),
        (["ctr-number=2"], ["pod3", "pod2"]),
        (["network=podman"], ["pod2", "pod1"]),
        (["name=pod[12]", "status=created"], ["pod2"]),
    ],
)
def test_pod_ps_filters(run: Run, filters: list[str], expected: list[str]) -> None:
    args = [a for f in filters for a in ("--filter", f)]
    code, out, _ = run("pod", "ps", *args, "--format", "{{.Name}}")
    assert (code, out.split()) == (EXIT_OK, expected)


def test_volume_ls_json_equals_podmans(run: Run) -> None:
    """Every volume, every key, the omitempty ones only when Podman prints them."""
    code, out, err = run("volume", "ls", "--format", "json")
    assert (code, err) == (EXIT_OK, "")
    ours, theirs = json.loads(out), podman_rows("varied_volume_ls.json")
    assert ours == theirs
    assert all(list(a) == list(b) for a, b in zip(ours, theirs, strict=True))
    uidgid = next(v for v in ours if v["Name"] == "vol-uidgid")
    assert (uidgid["UID"], uidgid["GID"]) == (1000, 1000) and "Anonymous" not in uidgid


def test_volume_ls_table_filters_quiet(run: Run) -> None:
    out = run("volume", "ls")[1]
    assert out.splitlines()[:3] == [
        "DRIVER      VOLUME NAME",
        "local       938af7754dbf1c3436a63c6228229ef5ed1c1cb8bc5b206ad30b53a1ebc52f17",
        "local       vol-data",
    ]
    assert run("volume", "ls", "-q", "-f", "label=app=web")[1] == "vol-labeled\n"
    assert run("volume", "ls", "-q", "-f", "dangling=true", "-f", "anonymous=false")[1].split() == [
        "vol-tmpfs",
        "vol-uidgid",
        "vol-unused",
    ]
    assert run("volume", "ls", "-q", "-f", "opt=type=tmpfs")[1] == "vol-tmpfs\n"
    assert (
        run(
            "volume",
            "ls",
            "--noheading",
            "--format",
            "{{.Name}}:{{.MountCount}}",
            "-f",
            "name=^vol-d",
        )[1]
        == "vol-data:0\n"
    )


def test_pod_and_volume_listings_name_what_they_cannot_read(
    run: Run, podman43_store: Path, tmp_path: Path
) -> None:
    root, damaged = damaged_copy(podman43_store, tmp_path)
    top = root / "fsstate"
    vol = top / L.volume_doc("vol-unused", "config")
    vol.write_text('{"name": "vol-unused", "lockID": "not a number"')
    code, out, err = run("pod", "ps", "--format", "{{.Name}}", root=root)
    assert code == EXIT_PARTIAL and out.split() == ["pod2", "pod1"]  # pod3's config is gone
    assert any(damaged["pod"] in line for line in err.splitlines())
    assert any(damaged["config"] in line for line in err.splitlines())  # c-env, a member-less
    code, out, err = run("volume", "ls", "-q", root=root)
    assert code == EXIT_PARTIAL and "vol-unused" not in out.split() and len(out.split()) == 5
    assert err.splitlines() == [line for line in err.splitlines() if str(vol) in line]
    assert len(err.splitlines()) == 1


# -- inspect ---------------------------------------------------------------------------------

#: The container inspect keys fsstate leaves out, and why (docs/cli.md): the image store's
#: digest, the storage driver's mounts, netavark's results, the rebuilt host config.
NOT_IN_THE_STATE = {"ImageDigest", "GraphDriver", "Mounts", "NetworkSettings", "HostConfig"}
#: ...and, for a container that was started, what Podman reads from the runtime's OCI spec.
FROM_THE_RUNTIME_SPEC = {"EffectiveCaps", "BoundingCaps", "AppArmorProfile"}


def same(ours: Any, podman: Any, path: str = "") -> None:
    """Every key of ``ours`` is Podman's, in Podman's order, with Podman's value (lists that
    Podman builds from a Go map compared as sets)."""
    if isinstance(ours, dict):
        assert isinstance(podman, dict), path
        assert [k for k in podman if k in ours] == list(ours), path
        for key, value in ours.items():
            same(value, podman[key], f"{path}/{key}")
    elif path.endswith(("/Dependencies", "/SharedNamespaces")):
        assert sorted(ours) == sorted(podman), path
    else:
        assert ours == podman, path


def test_container_inspect_equals_podmans(run: Run) -> None:
    theirs = json.loads(gzip.decompress((DATA / "varied_inspect_containers.json.gz").read_bytes()))
    ids = [c["Id"] for c in theirs]
    code, out, err = run("inspect", "--type", "container", *ids)
    assert (code, err) == (EXIT_OK, "")
    ours = json.loads(out)
    assert len(ours) == len(theirs) == 37
    for mine, podman in zip(ours, theirs, strict=True):
        same(mine, podman, podman["Name"])
        left_out = set(podman) - set(mine)
        started = podman["State"]["StartedAt"] != "0001-01-01T00:00:00Z"
        expected = NOT_IN_THE_STATE | (FROM_THE_RUNTIME_SPEC if started else set())
        assert left_out == expected, podman["Name"]
        assert len(podman) == (36 if started else 35)  # OCIConfigPath: omitempty
    plain = next(c for c in ours if c["Name"] == "c-plain")
    assert plain["Config"]["Env"] and plain["State"]["OciVersion"] == "1.0.2-dev"
    netns = next(c for c in ours if c["Name"] == "c-netns")
    assert netns["Dependencies"] == [plain["Id"]]


def test_pod_and_volume_inspect_equal_podmans(run: Run) -> None:
    theirs = podman_rows("varied_pod_inspect.json")
    code, out, err = run("pod", "inspect", "pod1", "pod2", "pod3")
    assert (code, err) == (EXIT_OK, "")
    ours = json.loads(out)
    for mine, podman in zip(ours, theirs, strict=True):
        same(mine, podman, podman["Name"])
        assert set(podman) - set(mine) <= {"InfraConfig"}
    assert [len(p) for p in ours] == [15, 16, 12]
    volumes = podman_rows("varied_volume_inspect.json")
    code, out, _ = run("volume", "inspect", *[v["Name"] for v in volumes])
    assert code == EXIT_OK and json.loads(out) == volumes
    # `inspect` finds pods and volumes too, and --raw shows the documents as stored
    assert json.loads(run("inspect", "pod2", "vol-data")[1]) == [ours[1], volumes[1]]
    raw = json.loads(run("inspect", "--raw", "vol-data")[1])
    assert list(raw[0]) == ["config", "state"] and raw[0]["config"]["name"] == "vol-data"


def test_inspect_templates(run: Run) -> None:
    code, out, _ = run(
        "inspect", "r-exited", "c-user", "--format", "{{.Name}} {{.State.Status}} {{json .Args}}"
    )
    assert code == EXIT_OK
    assert out.splitlines() == [
        'r-exited exited ["-c","echo hi; exit 3"]',
        'c-user created ["-c","id"]',
    ]
    out = run("inspect", "c-env", "-f", '{{.ID}} {{index .Config.Labels "owner"}}')[1]
    assert out == "c4aa40d9e68bcbe92a388528f6133578898e142d03306002033ea9a9314da715 me\n"
    out = run("pod", "inspect", "pod2", "-f", "{{range .Containers}}{{.Name}},{{end}}")[1]
    assert out == "p2-a,5e1f48b0f213-infra,\n"


def test_inspect_of_several_shows_what_it_can(
    run: Run, podman43_store: Path, tmp_path: Path
) -> None:
    root, damaged = damaged_copy(podman43_store, tmp_path)
    code, out, err = run("inspect", "c-env", "r-exited", "c-plain", root=root)
    assert code == EXIT_PARTIAL
    assert [d["Name"] for d in json.loads(out)] == ["c-plain"]
    lines = err.splitlines()
    assert len(lines) == 2 and damaged["config"] in lines[0] and damaged["state"] in lines[1]
    code, out, err = run("inspect", "c-plain", "nothing", "r-exited", root=root)
    assert code == 3 and [d["Name"] for d in json.loads(out)] == ["c-plain"]
    assert damaged["state"] in err and "nothing" in err.splitlines()[-1]


def test_ps_shows_a_container_with_a_damaged_network_list_without_networks(
    run: Run, podman43_store: Path, tmp_path: Path
) -> None:
    """A garbled networks document: ``ps -a`` still shows its container, with no networks,
    names the file and exits partial; a listing that does not show that container (``ps``
    without ``-a``: it is not running) neither reads past it nor names it."""
    root = tmp_path / "root"
    snapshot(podman43_store, root)
    shutil.copytree(podman43_store.parent / "tmp", tmp_path / "tmp")
    rows = {r["Names"][0]: str(r["Id"]) for r in podman_rows()}
    doc = root / "fsstate" / L.container_doc(rows["c-net1"], "networks")
    doc.write_bytes(b"{garbled")
    code, out, err = run("ps", "-a", "--format", "json", root=root)
    shown = {row["Names"][0]: row for row in json.loads(out)}
    assert code == EXIT_PARTIAL and len(shown) == len(rows)
    assert shown["c-net1"]["Networks"] == [] and shown["c-net12"]["Networks"] == ["net2"]
    (line,) = err.splitlines()
    assert line.startswith(f"fsstate: not shown: {doc}: not valid JSON (")
    code, out, err = run("ps", "--format", "json", root=root)
    assert (code, err) == (EXIT_OK, "")
    assert "c-net1" not in names(out) and "r-running" in names(out)
