"""Tests for fsstate.status: Podman's container status numbers and strings, and the pod status
derived from its containers (libpod define/containerstate.go, pod_status.go)."""

from __future__ import annotations

import pytest

from fsstate.status import ContainerStatus as S
from fsstate.status import PodStatus, pod_status


def test_container_status_numbers_are_podmans() -> None:
    assert [(s.name, s.value) for s in S] == [
        ("UNKNOWN", 0),
        ("CONFIGURED", 1),
        ("CREATED", 2),
        ("RUNNING", 3),
        ("STOPPED", 4),
        ("PAUSED", 5),
        ("EXITED", 6),
        ("REMOVING", 7),
        ("STOPPING", 8),
    ]


def test_container_status_text_is_podmans_string() -> None:
    assert [s.text for s in S] == [
        "unknown",
        "created",
        "initialized",
        "running",
        "stopped",
        "paused",
        "exited",
        "removing",
        "stopping",
    ]


@pytest.mark.parametrize(
    ("stored", "status"),
    [(3, S.RUNNING), (0, S.UNKNOWN), (9, S.UNKNOWN), (-1, S.UNKNOWN), ("3", S.UNKNOWN),
     (None, S.UNKNOWN), (3.0, S.UNKNOWN), ([3], S.UNKNOWN)],
)  # fmt: skip
def test_of_maps_anything_stored_to_a_status(stored: object, status: S) -> None:
    assert S.of(stored) is status


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([], PodStatus.CREATED),
        ([S.RUNNING, S.RUNNING], PodStatus.RUNNING),
        ([S.RUNNING, S.EXITED], PodStatus.DEGRADED),
        ([S.RUNNING, S.UNKNOWN], PodStatus.DEGRADED),
        ([S.PAUSED, S.PAUSED], PodStatus.PAUSED),
        ([S.PAUSED, S.CONFIGURED], PodStatus.CREATED),  # paused counts as paused, not error
        ([S.PAUSED, S.UNKNOWN], PodStatus.ERROR),
        ([S.EXITED, S.STOPPED], PodStatus.EXITED),
        ([S.EXITED, S.CONFIGURED], PodStatus.STOPPED),
        ([S.EXITED, S.PAUSED], PodStatus.STOPPED),
        ([S.CONFIGURED, S.REMOVING], PodStatus.ERROR),
        ([S.UNKNOWN], PodStatus.ERROR),
        ([S.CONFIGURED, S.CREATED], PodStatus.CREATED),
    ],
)
def test_pod_status_follows_create_pod_status_results(
    members: list[S], expected: PodStatus
) -> None:
    assert pod_status(members) is expected


def test_pod_status_strings_are_podmans() -> None:
    assert sorted(p.value for p in PodStatus) == [
        "Created",
        "Degraded",
        "Error",
        "Exited",
        "Paused",
        "Running",
        "Stopped",
    ]
