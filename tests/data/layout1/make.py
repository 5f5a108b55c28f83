"""Make ``store.tar.gz``: a small store written by fsstate with layout 1 (two-character
registry shards), for the upgrade tests (``tests/test_upgrade.py``).

Run with fsstate at commit b1444b3 (the last layout-1 version) importable:

    git worktree add /tmp/fs1 b1444b3
    PYTHONPATH=/tmp/fs1 python tests/data/layout1/make.py tests/data/layout1/store.tar.gz

The store holds containers whose IDs share two first characters but not three, pods, a
libpod namespace, and volumes whose names are shorter than three characters. It is archived
as the process left it: the journal still holds the records since the last checkpoint, so
an open of the extracted copy (another incarnation) replays them in the old layout first.
"""

import hashlib
import sys
import tarfile
import tempfile
from pathlib import Path

from fsstate import Container, FileState, Pod, Volume


def cid(seed: str, head: str = "") -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return (head + digest)[:64]


def main(out: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        static = Path(tmp) / "static"
        with FileState(static, Path(tmp) / "tmp") as state:
            for name in ("a", "ab", "abc", "abd-data", "shared"):
                state.add_volume(Volume({"name": name, "lockID": 0}))
            pod = cid("pod-1", "ab0")
            state.add_pod(Pod({"id": pod, "name": "pod1", "lockID": 1}, {}))
            ids = [cid("c1", "ab1"), cid("c2", "ab2"), cid("c3", "ab2f"), cid("c4", "cd")]
            for n, i in enumerate(ids):
                config = {
                    "id": i,
                    "name": f"c{n + 1}",
                    "lockID": n + 2,
                    "namedVolumes": [{"volumeName": "shared", "dest": "/data"}],
                }
                if n == 0:
                    config["pod"] = pod
                if n == 2:
                    config["ipcNsCtr"] = ids[1]
                if n == 0:
                    state.add_container_to_pod(state.pod(pod), Container(config, {"state": 1}))
                else:
                    state.add_container(Container(config, {"state": 1}))
            gone = cid("c5", "ab3")
            state.add_container(Container({"id": gone, "name": "gone", "lockID": 9}, {}))
            state.remove_container(state.container(gone))
            state.set_namespace("ns1")
            state.add_container(
                Container({"id": cid("c6", "ef"), "name": "c6", "lockID": 7, "namespace": "ns1"})
            )
        with tarfile.open(out, "w:gz") as tar:
            tar.add(static / "fsstate", arcname="fsstate")


if __name__ == "__main__":
    main(sys.argv[1])
