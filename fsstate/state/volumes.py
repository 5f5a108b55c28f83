"""Named volumes: part of :class:`~fsstate.state.FileState`.

:class:`VolumeMethods` holds §1.2 Volume, LookupVolume, HasVolume, VolumeInUse, AddVolume,
RemoveVolume, UpdateVolume, SaveVolume, RewriteVolumeConfig and AllVolumes (§2.6), with the
volume checks no other part needs. Volumes are never namespaced; their user lists may hold
stale entries, which readers ignore (Decision 4).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fsstate.errors import (
    CorruptDocumentError,
    InvalidArgumentError,
    NoSuchVolumeError,
    VolumeBeingUsedError,
    VolumeExistsError,
    VolumeRemovedError,
)
from fsstate.model import Volume
from fsstate.state import schema
from fsstate.state.base import StateBase, mapping_arg, no_document
from fsstate.state.catalog import VOLUME, Catalog
from fsstate.store import codec
from fsstate.store import layout as L

__all__ = ["VolumeMethods"]

log = logging.getLogger(__name__)


class VolumeMethods(StateBase):
    """Named volumes (§1.2, §2.6; never namespaced)."""

    def _live_volume(self, vol: Volume) -> None:
        self._check_open()
        if not vol.valid:
            raise VolumeRemovedError(f"volume {vol.name} was removed", name=vol.name)

    def _stored_volume(self, cat: Catalog, vol: Volume, *, removing: bool = False) -> Volume:
        """The stored volume; for a removal (``removing``), the one passed in when its
        documents cannot be read, so damage never traps a volume (issue 8)."""
        try:
            stored = self._load_volume(cat, vol.name) if L.is_valid_name(vol.name) else None
        except CorruptDocumentError as exc:
            if not removing:
                raise
            log.warning("removing volume %s by name: %s", vol.name, exc)
            return vol
        if stored is None:
            vol.valid = False
            raise NoSuchVolumeError(f"volume {vol.name} is not in the state", name=vol.name)
        return stored

    def _load_volume(self, cat: Catalog, name: str) -> Volume | None:
        if not L.is_valid_name(name):
            return None
        config = cat.doc(L.volume_doc(name, "config"), "volume-config")
        if config is None:
            return None
        return Volume._adopt(config, cat.doc(L.volume_doc(name, "state"), "volume-state") or {})

    def volume(self, name: str) -> Volume:
        """The volume called ``name``, with its state (§1.2 Volume). Errors, in order:
        :class:`EmptyIDError`, :class:`StateClosedError`, :class:`InvalidArgumentError`,
        :class:`NoSuchVolumeError`."""
        self._arg(name, "volume name")

        def get(cat: Catalog) -> Volume:
            vol = self._load_volume(cat, name)
            if vol is None:
                raise NoSuchVolumeError(f"no volume {name}", name=name)
            return vol

        return self._read(get)

    def lookup_volume(self, name: str) -> Volume:
        """The volume called ``name``, or the only one whose name starts with it (§1.2
        LookupVolume). Errors, in order: :class:`EmptyIDError`, :class:`StateClosedError`,
        :class:`InvalidArgumentError`, :class:`VolumeExistsError` (ambiguous),
        :class:`NoSuchVolumeError`."""
        self._arg(name, "volume name")

        def lookup(cat: Catalog) -> Volume:
            vol = self._load_volume(cat, self._resolve(cat, VOLUME, name))
            if vol is None:  # a registry entry without its volume: damage that fsck reports
                raise NoSuchVolumeError(f"no volume with name or prefix {name}", name=name)
            return vol

        return self._read(lookup)

    def has_volume(self, name: str) -> bool:
        """Whether volume ``name`` exists (§1.2 HasVolume). Errors: :class:`EmptyIDError`,
        :class:`StateClosedError`, :class:`InvalidArgumentError`."""
        self._arg(name, "volume name")
        return self._read(lambda cat: cat.is_volume(name))

    def container_id_is_volume(self, id: str) -> bool:
        """Whether some volume's config has ``storageID == id``: the c/storage container
        ``id`` backs an ``image``-driver volume (NEWEST ContainerIDIsVolume, sq:2315-2333).
        Answered from the ``index/volume-storage`` index, never a scan. ``False`` for ``""`` or
        a string that cannot be stored (NEWEST has no empty-ID check). Errors:
        :class:`StateClosedError`."""
        self._check_open()
        return self._read(lambda cat: bool(cat.volumes_with_storage_id(id)))

    def volume_in_use(self, vol: Volume) -> list[str]:
        """Sorted IDs of existing containers that mount ``vol`` (§1.2 VolumeInUse). Errors, in
        order: :class:`StateClosedError`, :class:`VolumeRemovedError`,
        :class:`NoSuchVolumeError` (+inv; under ``"sqlite"`` an unknown volume has none,
        NEWEST sq:2283)."""
        self._live_volume(vol)

        def in_use(cat: Catalog) -> list[str]:
            if self._rules.unknown_is_empty and not cat.is_volume(vol.name):
                return []
            self._stored_volume(cat, vol)
            return [c for c in cat.volume_users(vol.name) if cat.is_container(c)]

        return self._read(in_use, vol)

    def add_volume(self, vol: Volume) -> None:
        """Add a named volume (§1.2 AddVolume). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`InvalidArgumentError` (schema),
        :class:`VolumeExistsError`."""
        self._live_volume(vol)
        schema.validate("volume-config", vol.config, what=f"volume {vol.name} config")
        schema.validate("volume-state", vol.state, what=f"volume {vol.name} state")
        name = vol.name

        def add(cat: Catalog) -> None:
            if cat.is_volume(name):
                raise VolumeExistsError(f"volume {name} already exists", name=name)
            cat.add_volume(name, vol.config, vol.state)

        self._run(add)

    def remove_volume(self, vol: Volume) -> None:
        """Remove an unused volume (§1.2 RemoveVolume; ``valid`` is not checked). Errors, in
        order: :class:`StateClosedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`VolumeBeingUsedError` (an existing container mounts it). A volume whose
        documents cannot be read is removed by name."""
        self._check_open()

        def remove(cat: Catalog) -> None:
            stored = self._stored_volume(cat, vol, removing=True)
            name = vol.name
            users = cat.volume_users(name)
            live = [c for c in users if cat.is_container(c)]
            if live:
                raise VolumeBeingUsedError(
                    f"volume {name} is used by containers {', '.join(live)}", name=name
                )
            cat.remove_volume(
                name, stored.config
            )  # with stale user entries (Decision 4: readers ignore them)

        self._run(remove)

    def update_volume(self, vol: Volume) -> None:
        """Replace ``vol.state`` with the stored state, ``{}`` if none (§1.2 UpdateVolume).
        Errors, in order: :class:`StateClosedError`, :class:`VolumeRemovedError`,
        :class:`NoSuchVolumeError` (+inv)."""
        self._live_volume(vol)
        vol.state = self._read(lambda cat: self._stored_volume(cat, vol).state, vol)

    def save_volume(self, vol: Volume) -> None:
        """Store ``vol.state`` (§1.2 SaveVolume). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`InvalidArgumentError` (schema)."""
        self._live_volume(vol)

        def save(cat: Catalog) -> None:
            self._stored_volume(cat, vol)
            schema.validate("volume-state", vol.state, what=f"volume {vol.name} state")
            cat.put_doc(L.volume_doc(vol.name, "state"), vol.state, f"volume {vol.name} state")

        self._run(save)

    def rewrite_volume_config(self, vol: Volume, config: Mapping[str, Any]) -> None:
        """Replace the stored VolumeConfig and set ``vol.config`` (§1.2 RewriteVolumeConfig;
        the name cannot change). Errors, in order: :class:`StateClosedError`,
        :class:`VolumeRemovedError`, :class:`NoSuchVolumeError` (+inv),
        :class:`InvalidArgumentError`."""
        self._live_volume(vol)
        new = mapping_arg(config, f"volume {vol.name} config")

        def rewrite(cat: Catalog) -> None:
            stored = self._stored_volume(cat, vol)
            schema.validate("volume-config", new, what=f"volume {vol.name} config")
            if new.get("name") != vol.name:
                raise InvalidArgumentError(f"volume {vol.name}: the name cannot be changed")
            cat.rewrite_volume_config(vol.name, stored.config, new)

        self._run(rewrite)
        vol.config = codec.decode_object(codec.encode(new), "config")

    def all_volumes(self, *, skipped: list[CorruptDocumentError] | None = None) -> list[Volume]:
        """Every volume with its state, sorted by name (§1.2 AllVolumes). A volume that cannot
        be read, or whose directory has no config, is skipped with a warning; given
        ``skipped``, as in :meth:`all_containers`. Errors: :class:`StateClosedError`."""

        def load(cat: Catalog, name: str) -> Volume | None:
            vol = self._load_volume(cat, name)
            if vol is None:
                raise no_document(cat, L.volume_doc(name, "config"), f"volume {name}")
            return vol

        return self._load_all("all_volumes", lambda cat: cat.volume_names(), load, skipped)
