"""``fsstate edit`` (issue 8 point 6): an edit is checked, committed through the journal and
seen by every process's next call, a long-running one included. Real editor processes
(``EDITOR`` set to small scripts), a real long-running process holding a FileState, real
``python -m fsstate`` runs; invalid edits are refused naming the file and the JSON pointer,
with nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fsstate import FileState, errors
from fsstate.store import layout as L

DATA = Path(__file__).parent.parent / "examples" / "data"
REDIS = "131aa7292b08471119a279dab59b1446b04ef8be661e1275ccd93a8d81e254dc"
WEB = "93d2664f8091183a534138ae63e285f382271e6ecd604791ddf7eb660d115fd7"
INFRA = "916a0bcfdda6a20c8e7d27114542d501a4e35c1c813c66e115e8a8c147b21da7"
POD = "86b3b5a947248a687c35bb7aed1ba6651070bf5c7ea335b1960240a92e7cb63f"
Completed = subprocess.CompletedProcess[str]

#: An editor: applies the JSON object in $EDIT_SET (keys set, null deletes) to the document
#: (dropping the "//" note lines fsstate puts above it), appends what it was shown to $EDIT_LOG,
#: and exits with $EDIT_EXIT. With $EDIT_RAW, writes that text instead.
EDITOR = """\
import json, os, sys
path = sys.argv[1]
text = open(path).read()
with open(os.environ["EDIT_LOG"], "a") as log:
    log.write(json.dumps(text) + "\\n")
if "EDIT_RAW" in os.environ:
    out = os.environ["EDIT_RAW"]
else:
    doc = json.loads("\\n".join(l for l in text.splitlines() if not l.startswith("//")))
    for key, value in json.loads(os.environ.get("EDIT_SET", "{}")).items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    out = json.dumps(doc, indent=2)
open(path, "w").write(out)
sys.exit(int(os.environ.get("EDIT_EXIT", "0")))
"""


@pytest.fixture
def static(tmp_path: Path) -> Path:
    """podman-db.sql imported into a "bolt" store (one name registry, networks.json); a new
    store would take the file's "sqlite" semantics."""
    static = tmp_path / "root"
    FileState(static, tmp_path / "tmp", semantics="bolt").close()
    run_cli(tmp_path, "import-podman", str(DATA / "podman-db.sql"), check=True)
    return static


@pytest.fixture
def editor(tmp_path: Path) -> Path:
    script = tmp_path / "editor.py"
    script.write_text(f"#!{sys.executable}\n{EDITOR}")
    script.chmod(0o755)
    return script


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VISUAL", "EDITOR")}
    env |= {"FSSTATE_ROOT": str(tmp_path / "root"), "FSSTATE_TMP": str(tmp_path / "tmp")}
    env |= {"EDIT_LOG": str(tmp_path / "editor.log"), "TMPDIR": str(tmp_path)}
    return env | extra


def run_cli(tmp_path: Path, *args: str, check: bool = False, **env: str) -> Completed:
    proc = subprocess.run(
        [sys.executable, "-m", "fsstate", *args],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, **env),
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def edit(tmp_path: Path, editor: Path, rel: str, **env: str) -> Completed:
    return run_cli(tmp_path, "edit", rel, EDITOR=str(editor), check=False, **env)


def shown(tmp_path: Path) -> list[str]:
    """What the editor was shown, one entry per run."""
    log = tmp_path / "editor.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def tree(static: Path) -> dict[str, bytes]:
    """Every file of the store but the lock queue (a counter every lock taker bumps)."""
    root = static / L.STORE_DIR
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != L.LOCK_QUEUE)
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def doc(static: Path, rel: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((static / L.STORE_DIR / rel).read_bytes())
    return loaded


def one_line(err: str, *needles: str) -> None:
    assert err.startswith("fsstate: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


def no_leftover_copies(tmp_path: Path) -> None:
    assert list(tmp_path.glob("fsstate-edit-*")) == []


# -- what an edit does ------------------------------------------------------------------------


def test_a_rename_in_the_editor_moves_the_name_index(
    tmp_path: Path, static: Path, editor: Path
) -> None:
    rel = L.container_doc(REDIS, "config")
    before = doc(static, rel)
    proc = edit(tmp_path, editor, rel, EDIT_SET='{"name": "cache", "stopTimeout": 42}')
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == f"edited {static / L.STORE_DIR / rel}\n"
    assert shown(tmp_path) == [json.dumps(before, indent=2) + "\n"]  # the document as stored
    assert doc(static, rel) == before | {"name": "cache", "stopTimeout": 42}
    with FileState(static, tmp_path / "tmp", create=False) as st:
        assert st.lookup_container("cache").id == REDIS
        with pytest.raises(errors.NoSuchContainerError):
            st.lookup_container("redis_apple")
    assert run_cli(tmp_path, "fsck").returncode == 0  # indexes follow the documents
    no_leftover_copies(tmp_path)


def test_an_edit_is_seen_by_a_long_running_process(
    tmp_path: Path, static: Path, editor: Path
) -> None:
    """A process that opened the store before the edit, and read (and so cached) the documents,
    sees the edit at its next call: the commit moved the generation."""
    with subprocess.Popen(
        [sys.executable, "-c", LONG_RUNNING, str(static), str(tmp_path / "tmp2"), REDIS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as reader:
        assert reader.stdin is not None and reader.stdout is not None
        assert json.loads(reader.stdout.readline()) == ["redis_apple", 3, 0]
        cfg, state = L.container_doc(REDIS, "config"), L.container_doc(REDIS, "state")
        assert edit(tmp_path, editor, cfg, EDIT_SET='{"name": "cache"}').returncode == 0
        assert edit(tmp_path, editor, state, EDIT_SET='{"state": 6, "exitCode": 7}').returncode == 0
        reader.stdin.write("again\n")
        reader.stdin.flush()
        assert json.loads(reader.stdout.readline()) == ["cache", 6, 7]
        reader.stdin.close()
        assert reader.wait(timeout=60) == 0


LONG_RUNNING = """\
import json, sys
from fsstate import FileState
st = FileState(sys.argv[1], sys.argv[2], create=False)
def show():
    ctr = st.container(sys.argv[3])
    st.update_container(ctr)
    print(json.dumps([ctr.name, ctr.state["state"], ctr.state.get("exitCode", 0)]), flush=True)
show()
for line in sys.stdin:
    show()
st.close()
"""


def test_every_editable_document(tmp_path: Path, static: Path) -> None:
    """``--file``: pod config (name), pod state, volume config and state, container state."""
    cases: dict[str, dict[str, object]] = {
        L.pod_doc(POD, "config"): {"name": "renamed-pod"},
        L.pod_doc(POD, "state"): {"cgroupPath": "/edited"},
        L.volume_doc("web-content", "config"): {"labels": {"edited": "yes"}},
        L.volume_doc("web-content", "state"): {"mountCount": 3},
        L.container_doc(WEB, "state"): {"exitCode": 9},
    }
    for rel, change in cases.items():
        new = doc(static, rel) | change
        (tmp_path / "new.json").write_text(json.dumps(new))
        proc = run_cli(tmp_path, "edit", rel, "--file", str(tmp_path / "new.json"))
        assert (proc.returncode, proc.stderr) == (0, ""), rel
        assert doc(static, rel) == new
    with FileState(static, tmp_path / "tmp", create=False) as st:
        assert st.lookup_pod("renamed-pod").id == POD
        assert st.volume("web-content").state["mountCount"] == 3
    assert run_cli(tmp_path, "fsck").returncode == 0


def test_saving_unchanged_writes_nothing(tmp_path: Path, static: Path, editor: Path) -> None:
    before = tree(static)
    proc = edit(tmp_path, editor, str(static / L.STORE_DIR / L.container_doc(REDIS, "config")))
    assert (proc.returncode, proc.stdout) == (0, "")
    one_line(proc.stderr, "no changes made")
    assert tree(static) == before


# -- invalid edits: refused, nothing written ----------------------------------------------------


REDIS_CFG = L.container_doc(REDIS, "config")
WEB_CFG = L.container_doc(WEB, "config")


@pytest.mark.parametrize(
    ("rel", "text", "code", "needles"),
    [
        (REDIS_CFG, '{"id": "' + REDIS + '", "name": ', 5, ["not valid JSON"]),
        (REDIS_CFG, "[1, 2]", 5, ["expected a JSON object"]),
        (REDIS_CFG, {"name": 5}, 5, ["/name: 5 is not of type 'string'"]),
        (REDIS_CFG, {"id": WEB}, 5, ["/id: the id of a container cannot be changed"]),
        (WEB_CFG, {"pod": ""}, 5, ["/pod: the pod of a container cannot be changed"]),
        (WEB_CFG, {"namespace": "other"}, 5, ["/namespace: the namespace"]),
        (WEB_CFG, {"ipcNsCtr": REDIS}, 5, ["/ipcNsCtr: the ipcNsCtr"]),
        (WEB_CFG, {"namedVolumes": [{"volumeName": "lab_jenkins_home", "dest": "/x"}]}, 5,
         ["/namedVolumes/0/volumeName"]),
        (WEB_CFG, {"name": "redis_apple"}, 4, ["redis_apple", "already exists"]),
        (L.pod_doc(POD, "config"), {"name": "jenkins"}, 4, ["jenkins"]),
        (L.volume_doc("web-content", "config"), {"name": "other"}, 5, ["/name: the name"]),
        (L.container_doc(REDIS, "networks"), {}, 5, ["network connect"]),
        (L.name_index("redis_apple"), {}, 5, ["fsck --repair"]),
        (L.DBCONFIG, {}, 5, ["not a document fsstate edit changes"]),
        (L.container_doc(INFRA[:-1] + "0", "config"), {}, 3, ["no container"]),
    ],
)  # fmt: skip
def test_an_invalid_edit_is_refused_naming_the_file_and_pointer(
    tmp_path: Path, static: Path, rel: str, text: str | dict[str, object], code: int,
    needles: list[str],
) -> None:  # fmt: skip
    if isinstance(text, dict):
        path = static / L.STORE_DIR / rel
        text = json.dumps(doc(static, rel) | text if path.exists() else text)
    (tmp_path / "new.json").write_text(text)
    before = tree(static)
    proc = run_cli(tmp_path, "edit", rel, "--file", str(tmp_path / "new.json"))
    assert (proc.returncode, proc.stdout) == (code, "")
    one_line(proc.stderr, *needles)
    if code != 3:
        one_line(proc.stderr, str(static / L.STORE_DIR / rel))
    assert tree(static) == before


def test_the_editor_reopens_on_an_error_until_it_is_fixed(
    tmp_path: Path, static: Path, editor: Path
) -> None:
    """Like ``kubectl edit``: the error above the edited text, then a good edit lands."""
    step = tmp_path / "step.py"  # first run: a bad pod; second: fixes it and renames
    step.write_text(
        f"#!{sys.executable}\nimport os, subprocess, sys\n"
        f"n = len(open({str(tmp_path / 'editor.log')!r}).readlines()) "
        f"if os.path.exists({str(tmp_path / 'editor.log')!r}) else 0\n"
        'env = dict(os.environ, EDIT_SET=\'{"pod": ""}\' if n == 0 else '
        '\'{"pod": "' + POD + '", "name": "web2"}\')\n'
        f"sys.exit(subprocess.run([{str(editor)!r}, sys.argv[1]], env=env).returncode)\n"
    )
    step.chmod(0o755)
    proc = run_cli(tmp_path, "edit", WEB_CFG, EDITOR=str(step))
    assert (proc.returncode, proc.stderr) == (0, "")
    first, second = shown(tmp_path)
    assert not first.startswith("//")
    notes = [line for line in second.splitlines() if line.startswith("//")]
    assert len(notes) == 2 and "/pod: the pod of a container cannot be changed" in notes[1]
    assert json.loads(second.split("\n", 2)[2])["pod"] == ""  # the edited text, kept
    assert doc(static, WEB_CFG)["name"] == "web2"
    assert doc(static, WEB_CFG)["pod"] == POD
    no_leftover_copies(tmp_path)


def test_the_same_error_twice_gives_up_keeping_the_edit(
    tmp_path: Path, static: Path, editor: Path
) -> None:
    before = tree(static)
    proc = edit(tmp_path, editor, WEB_CFG, EDIT_SET='{"pod": ""}')
    assert (proc.returncode, proc.stdout) == (5, "")
    one_line(proc.stderr, str(static / L.STORE_DIR / WEB_CFG), "/pod", "the edit is kept in")
    assert len(shown(tmp_path)) == 2
    (kept,) = tmp_path.glob("fsstate-edit-*.json")
    assert json.loads(kept.read_text())["pod"] == ""  # as the editor last saved it
    assert tree(static) == before


def test_an_editor_that_fails_writes_nothing(tmp_path: Path, static: Path, editor: Path) -> None:
    before = tree(static)
    proc = edit(tmp_path, editor, REDIS_CFG, EDIT_SET='{"name": "x"}', EDIT_EXIT="3")
    assert (proc.returncode, proc.stdout) == (1, "")
    one_line(proc.stderr, "the editor exited with status 3; nothing written")
    assert tree(static) == before


def test_a_change_made_meanwhile_is_not_overwritten(
    tmp_path: Path, static: Path, editor: Path
) -> None:
    """Another process saves the container while the editor is open: the edit is refused."""
    racer = tmp_path / "racer.py"
    racer.write_text(
        f"#!{sys.executable}\nimport subprocess, sys\nfrom fsstate import FileState\n"
        f"with FileState({str(static)!r}, {str(tmp_path / 'tmp3')!r}, create=False) as st:\n"
        f"    c = st.container({REDIS!r})\n"
        f"    st.rewrite_container_config(c, c.config | {{'stopTimeout': 99}})\n"
        f"sys.exit(subprocess.run([{str(editor)!r}, sys.argv[1]]).returncode)\n"
    )
    racer.chmod(0o755)
    proc = run_cli(tmp_path, "edit", REDIS_CFG, EDITOR=str(racer), EDIT_SET='{"name": "x"}')
    assert (proc.returncode, proc.stdout) == (1, "")
    one_line(proc.stderr, "changed in the store while it was edited", "the edit is kept in")
    assert doc(static, REDIS_CFG)["stopTimeout"] == 99
    assert doc(static, REDIS_CFG)["name"] == "redis_apple"


def test_visual_comes_before_editor(tmp_path: Path, static: Path, editor: Path) -> None:
    proc = run_cli(
        tmp_path, "edit", REDIS_CFG, VISUAL=f"{sys.executable} {editor}", EDITOR="false",
        EDIT_SET='{"name": "visual"}',
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    assert doc(static, REDIS_CFG)["name"] == "visual"
