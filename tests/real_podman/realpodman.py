"""Run the real ``podman`` with every path of its own under one base directory.

The settings are those of ``shared/podman-real/podman43/make_state.sh`` (the script that made
the real Podman 4.3 state in ``tests/data``): runc (crun refuses this VM's hybrid cgroups),
pinned ulimits (the VM forbids raising RLIMIT_NOFILE), cgroupfs, file events, vfs storage, and
``--root/--runroot/--tmpdir/--network-config-dir/--volumepath`` under the base. Two more keep
tests off the machine's own Podman: ``lock_type = "file"`` puts the container locks under the
base's tmpdir instead of the machine-wide ``/dev/shm/libpod_lock`` (which a first run's
refresh would reset), and ``--events-backend file`` writes events under the tmpdir.

Images come from the Debian ``busybox-static`` package through ``podman import``: no registry
is reachable.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

BUSYBOX = "localhost/busybox:latest"
_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "netavark"
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
runtime = "runc"
lock_type = "file"
"""
_APPLETS = ("sh", "true", "false", "sleep", "echo", "cat", "id", "env", "ls")


def require_podman() -> str:
    """The ``podman`` binary; the calling test FAILS (never skips) when it is missing, since CI
    installs it (``.ci/run``)."""
    found = shutil.which("podman")
    if found is None:
        pytest.fail("podman is not installed (apt-get install podman runc iptables busybox-static)")
    return found


class Podman:
    """One isolated Podman: ``Podman(base).run("create", …)``."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.binary = require_podman()
        base.mkdir(parents=True, exist_ok=True)
        (base / "containers.conf").write_text(_CONF)
        self.env = {**os.environ, "CONTAINERS_CONF": str(base / "containers.conf")}
        self.service: subprocess.Popen[bytes] | None = None

    @property
    def bolt_path(self) -> Path:
        """Where this Podman keeps its state (``<graphroot>/libpod/bolt_state.db``)."""
        return self.base / "root" / "libpod" / "bolt_state.db"

    def argv(self, *args: str) -> list[str]:
        b = self.base
        return [
            self.binary,
            "--root", f"{b}/root", "--runroot", f"{b}/run", "--tmpdir", f"{b}/tmp",
            "--network-config-dir", f"{b}/net", "--volumepath", f"{b}/vols",
            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
            *args,
        ]  # fmt: skip

    def run(self, *args: str, input: bytes | None = None, check: bool = True) -> str:
        """Podman's stdout; :class:`AssertionError` with its stderr when it fails and ``check``."""
        done = subprocess.run(
            self.argv(*args), input=input, capture_output=True, env=self.env, timeout=300
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}"
            )
        return done.stdout.decode()

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args))

    def import_busybox(self) -> None:
        """``localhost/busybox:latest`` from the host's static busybox."""
        rootfs = self.base / "busybox-rootfs.tar"
        with tarfile.open(rootfs, "w") as tar:
            tar.add("/bin/busybox", "bin/busybox")
            for applet in _APPLETS:
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type, link.linkname = tarfile.SYMTYPE, "busybox"
                tar.addfile(link)
        self.run("import", "--change", 'CMD ["/bin/sh"]', str(rootfs), BUSYBOX)
        rootfs.unlink()

    # -- the REST API ---------------------------------------------------------------------

    def start_service(self) -> None:
        """``podman system service`` on ``<base>/api.sock``, waited for until it answers."""
        sock = self.base / "api.sock"
        self.service = subprocess.Popen(
            self.argv("system", "service", "--time", "0", f"unix://{sock}"),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:  # polled: the service gives no readiness signal
            try:
                if self.api("GET", "/libpod/_ping")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.service.poll() is not None:
                raise AssertionError("podman system service did not come up")
            time.sleep(0.2)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request to the service: ``(status, the JSON reply parsed, or its text)``."""
        conn = _UnixHTTPConnection(str(self.base / "api.sock"))
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Content-Type": "application/json"} if data else {}
            conn.request(method, f"/v4.3.1{path}", body=data, headers=headers)
            reply = conn.getresponse()
            raw = reply.read()
            is_json = reply.getheader("Content-Type", "").startswith("application/json")
            return reply.status, json.loads(raw) if is_json else raw.decode()
        finally:
            conn.close()

    def stop_service(self) -> None:
        if self.service is not None:
            self.service.terminate()
            self.service.wait(timeout=60)
            self.service = None

    def cleanup(self) -> None:
        """Stop the service, then remove every container and pod (kills their conmon and
        processes, unmounts their shm)."""
        self.stop_service()
        self.run("pod", "rm", "--all", "--force", "--time", "0", check=False)
        self.run("rm", "--all", "--force", "--time", "0", check=False)
        self.run("--namespace", "ns1", "rm", "--all", "--force", "--time", "0", check=False)


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("podman", timeout=60)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)
