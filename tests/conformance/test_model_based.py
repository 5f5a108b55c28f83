"""Model-based: random add/remove sequences of containers, pods and volumes agree with a dict model.

The model knows the rules the sequences can break: duplicate IDs, missing pods, dependencies and
volumes, pod members removed with remove_container, removing a container others depend on, a
non-empty pod, a volume in use. After every step, listings, lookups, dependents, members and volume
users must match the model, also through a freshly reopened store.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fsstate import Container, FileState, Pod, Volume, errors

#: The error a call must raise, exactly, or None when it must succeed.
Expected = type[errors.StateError] | None

SETTINGS = settings(max_examples=50, stateful_step_count=20, deadline=None)

CTRS = st.integers(1, 6)
PODS = st.integers(1, 3)
VOLS = st.sampled_from(["va", "vb", "vc"])


class StoreMachine(RuleBasedStateMachine):
    """Drives one store and a dict model side by side."""

    def __init__(
        self,
        opener: Callable[[Path], FileState],
        base: Path,
        new_container: Callable[..., Container],
        new_pod: Callable[..., Pod],
        new_volume: Callable[..., Volume],
    ) -> None:
        super().__init__()
        self.opener = opener
        self.root = Path(tempfile.mkdtemp(dir=base))
        self.store = opener(self.root)
        self.new_container, self.new_pod, self.new_volume = new_container, new_pod, new_volume
        # n -> {"config": ContainerConfig, "pod": p or None, "deps": {n}, "vols": {name}}
        self.ctrs: dict[int, dict[str, Any]] = {}
        self.pods: dict[int, set[int]] = {}
        self.vols: set[str] = set()

    def teardown(self) -> None:
        self.store.close()

    # ---------------------------------------------------------------- helpers

    def expect(
        self, error: type[errors.StateError] | None, call: Callable[..., Any], *args: Any
    ) -> None:
        if error is None:
            call(*args)
            return
        with pytest.raises(error) as exc:
            call(*args)
        assert type(exc.value) is error, f"{type(exc.value).__name__} instead of {error.__name__}"

    def dependents(self, n: int) -> list[int]:
        return sorted(m for m, rec in self.ctrs.items() if n in rec["deps"])

    def cid(self, n: int) -> str:
        return self.new_container(n).id

    def pid(self, p: int) -> str:
        return self.new_pod(p).id

    # ---------------------------------------------------------------- rules

    @rule(n=CTRS, dep=st.none() | CTRS, vol=st.none() | VOLS)
    def add_container(self, n: int, dep: int | None, vol: str | None) -> None:
        error: Expected
        if dep == n:
            dep = None
        overrides: dict[str, Any] = {}
        if dep is not None:
            overrides["Dependencies"] = [self.cid(dep)]
        if vol is not None:
            overrides["namedVolumes"] = [{"volumeName": vol, "dest": "/data"}]
        ctr = self.new_container(n, **overrides)
        if n in self.ctrs:
            error = errors.ContainerExistsError
        elif dep is not None and dep not in self.ctrs:
            error = errors.NoSuchContainerError
        elif dep is not None and self.ctrs[dep]["pod"] is not None:
            error = errors.InvalidArgumentError
        elif vol is not None and vol not in self.vols:
            error = errors.NoSuchVolumeError
        else:
            error = None
        self.expect(error, self.store.add_container, ctr)
        if error is None:
            self.ctrs[n] = {
                "config": ctr.config,
                "pod": None,
                "deps": {dep} - {None},
                "vols": {vol} - {None},
            }

    @rule(p=PODS, n=CTRS, vol=st.none() | VOLS)
    def add_member(self, p: int, n: int, vol: str | None) -> None:
        error: Expected
        overrides: dict[str, Any] = {"pod": self.pid(p)}
        if vol is not None:
            overrides["namedVolumes"] = [{"volumeName": vol, "dest": "/data"}]
        ctr = self.new_container(n, **overrides)
        if p not in self.pods:
            error = errors.NoSuchPodError
        elif n in self.ctrs:
            error = errors.ContainerExistsError
        elif vol is not None and vol not in self.vols:
            error = errors.NoSuchVolumeError
        else:
            error = None
        self.expect(error, self.store.add_container_to_pod, self.new_pod(p), ctr)
        if error is None:
            self.ctrs[n] = {"config": ctr.config, "pod": p, "deps": set(), "vols": {vol} - {None}}
            self.pods[p].add(n)

    @rule(n=CTRS)
    def remove_container(self, n: int) -> None:
        error: Expected
        rec = self.ctrs.get(n)
        if rec is None:
            ctr, error = self.new_container(n), errors.NoSuchContainerError
        elif rec["pod"] is not None:
            ctr, error = Container(rec["config"]), errors.PodExistsError
        elif self.dependents(n):
            ctr, error = Container(rec["config"]), errors.DependencyExistsError
        else:
            ctr, error = Container(rec["config"]), None
        self.expect(error, self.store.remove_container, ctr)
        if error is None:
            del self.ctrs[n]

    @precondition(lambda self: any(self.pods.values()))
    @rule(data=st.data())
    def remove_member(self, data: st.DataObject) -> None:
        members = sorted((p, n) for p, ns in self.pods.items() for n in ns)
        p, n = data.draw(st.sampled_from(members))
        self.store.remove_container_from_pod(self.new_pod(p), Container(self.ctrs[n]["config"]))
        del self.ctrs[n]
        self.pods[p].discard(n)

    @rule(p=PODS)
    def add_pod(self, p: int) -> None:
        error = errors.PodExistsError if p in self.pods else None
        self.expect(error, self.store.add_pod, self.new_pod(p))
        if error is None:
            self.pods[p] = set()

    @rule(p=PODS)
    def remove_pod(self, p: int) -> None:
        error: Expected
        if p not in self.pods:
            error = errors.NoSuchPodError
        elif self.pods[p]:
            error = errors.ContainerExistsError
        else:
            error = None
        self.expect(error, self.store.remove_pod, self.new_pod(p))
        if error is None:
            del self.pods[p]

    @rule(p=PODS)
    def remove_pod_containers(self, p: int) -> None:
        error = None if p in self.pods else errors.NoSuchPodError
        self.expect(error, self.store.remove_pod_containers, self.new_pod(p))
        if error is None:
            for n in self.pods[p]:
                del self.ctrs[n]
            self.pods[p] = set()

    @rule(name=VOLS)
    def add_volume(self, name: str) -> None:
        error = errors.VolumeExistsError if name in self.vols else None
        self.expect(error, self.store.add_volume, self.new_volume(name))
        if error is None:
            self.vols.add(name)

    @rule(name=VOLS)
    def remove_volume(self, name: str) -> None:
        error: Expected
        if name not in self.vols:
            error = errors.NoSuchVolumeError
        elif any(name in rec["vols"] for rec in self.ctrs.values()):
            error = errors.VolumeBeingUsedError
        else:
            error = None
        self.expect(error, self.store.remove_volume, self.new_volume(name))
        if error is None:
            self.vols.discard(name)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.store = self.opener(self.root)

    # ---------------------------------------------------------------- invariants

    @invariant()
    def containers_agree(self) -> None:
        got = self.store.all_containers()
        assert [c.id for c in got] == sorted(self.cid(n) for n in self.ctrs)
        for n in range(1, 7):
            cid = self.cid(n)
            assert self.store.has_container(cid) is (n in self.ctrs)
            if n in self.ctrs:
                assert self.store.lookup_container(f"test{n}").config == self.ctrs[n]["config"]
                assert self.store.lookup_container_id(str(n)) == cid
                want = [self.cid(m) for m in self.dependents(n)]
                assert self.store.container_in_use(Container(self.ctrs[n]["config"])) == want
            else:
                with pytest.raises(errors.NoSuchContainerError):
                    self.store.lookup_container(f"test{n}")
                with pytest.raises(errors.NoSuchContainerError):
                    self.store.lookup_container_id(str(n))

    @invariant()
    def pods_agree(self) -> None:
        assert [p.id for p in self.store.all_pods()] == sorted(self.pid(p) for p in self.pods)
        for p in range(1, 4):
            assert self.store.has_pod(self.pid(p)) is (p in self.pods)
            if p in self.pods:
                assert self.store.lookup_pod(f"pod{p}").id == self.pid(p)
                members = sorted(self.cid(n) for n in self.pods[p])
                assert self.store.pod_containers_by_id(self.new_pod(p)) == members
            else:
                with pytest.raises(errors.NoSuchPodError):
                    self.store.lookup_pod(f"pod{p}")

    @invariant()
    def volumes_agree(self) -> None:
        assert [v.name for v in self.store.all_volumes()] == sorted(self.vols)
        for name in self.vols:
            users = sorted(self.cid(n) for n, rec in self.ctrs.items() if name in rec["vols"])
            assert self.store.volume_in_use(self.new_volume(name)) == users


@pytest.mark.slow
@pytest.mark.semantics("bolt")  # the model is the 2020 Bolt state (shared names)
def test_random_sequences_agree_with_model(
    store_opener: Callable[[Path], FileState],
    tmp_path: Path,
    make_container: Callable[..., Container],
    make_pod: Callable[..., Pod],
    make_volume: Callable[..., Volume],
) -> None:
    """Random add/remove sequences leave the store agreeing with a dict model."""
    run_state_machine_as_test(
        # Hypothesis calls the factory like the class it expects (hypothesis.stateful).
        lambda: StoreMachine(  # type: ignore[arg-type]
            store_opener, tmp_path, make_container, make_pod, make_volume
        ),
        settings=SETTINGS,
    )
