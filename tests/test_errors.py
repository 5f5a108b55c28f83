"""Tests for fsstate.errors: the StateError tree, its fields, messages and pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from fsstate import errors


def test_given_fields_are_attributes_and_known_ones_default_to_none() -> None:
    exc = errors.NoSuchContainerError("no container with name or ID web", id="web")
    assert exc.id == "web"
    assert exc.path is None
    assert exc.name is None
    assert exc.fields == {"id": "web"}


def test_a_misspelt_attribute_raises_attribute_error_naming_it() -> None:
    exc = errors.CorruptDocumentError("containers/a/config.json: not JSON", path="x")
    with pytest.raises(AttributeError, match="'pth'") as info:
        _ = exc.pth
    assert info.value.name == "pth"
    assert info.value.obj is exc
    assert hasattr(exc, "pth") is False
    assert hasattr(exc, "path") is True


def test_a_field_outside_the_known_ones_is_still_readable_when_given() -> None:
    exc = errors.InvalidArgumentError("bad", extra=3)
    assert exc.extra == 3


def test_message_carries_podmans_text_like_podman() -> None:
    assert str(errors.NoSuchPodError("no pod with name or ID p", id="p")) == (
        "no pod with name or ID p: no such pod"
    )
    assert str(errors.NoSuchPodError()) == "no such pod"
    assert str(errors.StateError("plain")) == "plain"
    assert errors.NoSuchPodError("x").message == "x"


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (errors.NoSuchVolumeError, (errors.NotFoundError, LookupError)),
        (errors.EmptyIDError, (errors.InvalidArgumentError, ValueError)),
        (errors.LockTimeoutError, (errors.StateError, TimeoutError)),
        (errors.DependencyExistsError, (errors.ContainerExistsError, errors.ExistsError)),
        (errors.CorruptDocumentError, (errors.InternalError, errors.StateError)),
        (errors.VolumeRemovedError, (errors.RemovedError,)),
        (errors.OutputExistsError, (errors.ExistsError, errors.InvalidArgumentError, ValueError)),
    ],
)
def test_each_error_is_also_the_matching_builtin(
    cls: type[errors.StateError], bases: tuple[type[BaseException], ...]
) -> None:
    assert all(issubclass(cls, b) for b in bases)


def test_every_exported_error_names_a_podman_sentinel_unless_it_is_fsstates_own() -> None:
    own = {"StateError", "NotFoundError", "ExistsError", "RemovedError"}  # families
    # no Podman twin
    own |= {"NoSuchStoreError", "CorruptDocumentError", "LockTimeoutError", "LockNotHeldError"}
    own |= {"PermissionDeniedError", "OutputExistsError"}
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.StateError)
        assert (cls.podman is None) == (name in own), name
    assert errors.NoSuchContainerError.podman == "ErrNoSuchCtr"
    assert errors.DependencyExistsError.podman == "ErrDepExists"


def test_errors_survive_pickle_with_class_message_and_fields() -> None:
    exc = errors.CorruptDocumentError("pods/p/state.json: not JSON", path="/s/pods/p/state.json")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is errors.CorruptDocumentError
    assert str(back) == str(exc)
    assert back.path == "/s/pods/p/state.json"
    assert back.fields == exc.fields


def test_errors_cross_a_process_boundary() -> None:
    """Pickled in one interpreter, read back in another (how runtimes pass errors around)."""
    exc = errors.NoSuchVolumeError("no volume with name or prefix y", name="y")
    code = (
        "import pickle, sys; e = pickle.loads(sys.stdin.buffer.read()); "
        "print(type(e).__name__, e.name, str(e), sep='|')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=pickle.dumps(exc), capture_output=True, check=True
    )
    assert out.stdout.decode().strip() == (
        "NoSuchVolumeError|y|no volume with name or prefix y: no such volume"
    )
