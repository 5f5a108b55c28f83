"""Build an fsstate store from real Podman documents and use it like a runtime would.

    python examples/real_podman_state.py [STORE_DIR]

Loads the libpod JSON documents in ``examples/data/podman-json/`` (written by real Podman or
reconstructed from real values; see that folder's README): four volumes, the two pods, and the
containers — pod members and their infra container, a container sharing another's network
namespace — with the two exec sessions recorded in a member's state. The real postgres
container is refused with NoSuchVolumeError, as Podman would refuse it: its anonymous volume
exists only in db.sql (``import_podman_db.sh`` imports that). Then prints a ``podman ps -a``-like
table and resolves one container by name and one by a partial ID.
Uses only the public API. Without STORE_DIR the store goes to a temporary directory.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from fsstate import Container, ExecSession, FileState, Pod, Volume, errors

DATA = Path(__file__).parent / "data" / "podman-json"
STATES = ["unknown", "configured", "created", "running", "stopped", "paused", "exited",
          "removing", "stopping"]  # fmt: skip

VOLUMES = [
    "sqlite-anon-volume-redis",
    "sqlite-anon-volume-notyetchowned",
    "recon-compose-volume-named",
    "recon-quadlet-volume-bind",
]
PODS = ["recon-compose-pod-noinfra", "recon-quadlet-pod"]
# (config file, state file or None); depended-on containers first.
CONTAINERS = [
    ("sqlite-redis-running", "sqlite-redis-running"),
    ("sqlite-hello-exited", "sqlite-hello-exited"),
    ("bolt-hello-exited", "bolt-hello-exited"),
    ("checkpoint-rootful-bridge-runc", None),
    ("recon-netns-container-sidecar", "recon-netns-container-sidecar"),
    ("recon-compose-jenkins", "recon-compose-jenkins"),
    ("recon-quadlet-infra", "recon-quadlet-infra"),
    ("recon-quadlet-member-healthcheck", "recon-quadlet-member-exec"),
    ("sqlite-postgres-running", "sqlite-postgres-running"),
]


def load(stem: str, kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"{stem}.{kind}.json").read_text())
    return doc


def build(state: FileState) -> None:
    for stem in VOLUMES:
        state.add_volume(Volume(load(stem, "VolumeConfig"), load(stem, "VolumeState")))
    pods = {}
    for stem in PODS:
        pod = Pod(load(stem, "PodConfig"), load(stem, "podState"))
        state.add_pod(pod)
        pods[pod.id] = pod
    for config_stem, state_stem in CONTAINERS:
        ctr = Container(
            load(config_stem, "ContainerConfig"),
            load(state_stem, "ContainerState") if state_stem else {},
        )
        try:
            if ctr.pod_id:
                state.add_container_to_pod(pods[ctr.pod_id], ctr)
            else:
                state.add_container(ctr)
        except errors.NoSuchVolumeError as exc:
            # Its anonymous volume lives only in db.sql (see import_podman_db.sh).
            print(f"skipped {ctr.name}: {exc}", file=sys.stderr)
            continue
        for session_id in ctr.state.get("newExecSessions") or {}:
            state.add_exec_session(ctr, ExecSession(session_id, ctr.id))


def ps(state: FileState) -> None:
    pod_names = {p.id: p.name for p in state.all_pods()}
    rows = [("CONTAINER ID", "NAME", "POD", "STATE", "EXEC", "NETWORKS")]
    for ctr in state.all_containers():
        state.update_container(ctr)
        code = ctr.state.get("state", 0)
        status = STATES[code] if isinstance(code, int) and 0 <= code < len(STATES) else "?"
        try:
            networks = ",".join(state.get_networks(ctr))
        except errors.NoSuchNetworkError:
            networks = ctr.config.get("networkMode", "") or "-"
        sessions = str(len(state.get_container_exec_sessions(ctr)))
        pod = pod_names.get(ctr.pod_id, "")
        rows.append((ctr.id[:12], ctr.name, pod, status, sessions, networks))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="fsstate-"))
    with FileState(root / "static", root / "tmp") as state:
        build(state)
        ps(state)
        print()
        web = state.lookup_container("sample-web")
        print(f"by name 'sample-web'   -> {web.id}  (pod {state.pod(web.pod_id).name})")
        print(f"  depends on {web.dependencies()}; in use by {state.container_in_use(web)}")
        redis_id = state.lookup_container_id("131aa72")
        print(f"by partial ID '131aa72' -> {state.get_name(redis_id)}  {redis_id}")
        print(f"  in use by {state.container_in_use(state.container(redis_id))}")
        print(f"\nstore: {root / 'static' / 'fsstate'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
