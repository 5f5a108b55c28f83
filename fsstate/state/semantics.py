"""Which Podman a store follows: the rules that differ between the 2020 Bolt state and today's
SQLite state, as one small policy object the single implementation consults.

API.md "Today's Podman": a store pins its semantics when it is created (``semantics.json``,
:data:`fsstate.store.layout.SEMANTICS`). ``"bolt"`` is the Nov 2020 Bolt state
(``spec/podman-state.md`` SEED with the Decisions of API.md); ``"sqlite"`` is Podman's newest
SQLite state (``spec/podman-state-newest.md``, NEWEST). Each field of :class:`Semantics` names one
rule and says where each side takes it from; nothing else in ``fsstate.state`` asks which
semantics it runs under.
"""

from __future__ import annotations

from dataclasses import dataclass

from fsstate.errors import InvalidArgumentError

__all__ = ["BOLT", "NAMES", "SQLITE", "Semantics", "by_name"]


@dataclass(frozen=True)
class Semantics:
    """The rules one semantics follows (each field: bolt value / sqlite value, and why)."""

    #: ``"bolt"`` or ``"sqlite"``, as pinned in the store.
    name: str
    #: Containers and pods share one name registry (Decision 1) / each kind has its own
    #: (NEWEST sqi:441-450 checks a container name against containers only, sq:1609-1617 pods).
    shared_names: bool
    #: Lookups try the exact full ID before the name (Decision 6) / the exact name wins, then a
    #: unique ID prefix, a full ID being one (NEWEST sq:552-590, sq:1383-1425).
    id_first: bool
    #: libpod namespaces are honoured (§2.3) / gone from the state since Podman 4.5
    #: (``5c2a0670fc``): ``set_namespace("x")`` is refused and stored keys are ignored.
    namespaces: bool
    #: A name or ID that cannot be stored raises InvalidArgumentError (Decision 10) / is simply
    #: not found (NEWEST runs a query and finds nothing; fsstate never makes it a path).
    odd_is_invalid: bool
    #: add_container/remove_container refuse pod members (SEED) / take them (NEWEST sqi:455:
    #: the pod must exist; ``f5bc2abe4c`` dropped AddContainerToPod).
    members_via_add: bool
    #: Listing exec sessions, volume users or pod membership of an unknown object raises
    #: NoSuch…Error (+inv) (SEED) / answers empty (NEWEST sq:1176, sq:1208, sq:2283, sq:1443).
    unknown_is_empty: bool
    #: A repeated network connect raises NetworkExistsError (SEED) / NetworkConnectedError
    #: (NEWEST sqi:600-606).
    network_connected_error: bool
    #: The live networks are a side document (SEED) / the config's own ordered list (NEWEST
    #: sq:907-934, sqi:580-641); a non-bridge container has none (sq:916-919).
    networks_in_config: bool
    #: validate_db_config compares cleaned paths (SEED) / resolves symlinks first and cleans
    #: the volume path too (NEWEST sq:412-433).
    resolve_symlinks: bool

    @property
    def ambiguous_pod_is_container_exists(self) -> bool:
        """An ambiguous pod prefix is ContainerExistsError in NEWEST (sq:1420), PodExistsError
        under Bolt (Appendix A)."""
        return not self.id_first


BOLT = Semantics(
    name="bolt",
    shared_names=True,
    id_first=True,
    namespaces=True,
    odd_is_invalid=True,
    members_via_add=False,
    unknown_is_empty=False,
    network_connected_error=False,
    networks_in_config=False,
    resolve_symlinks=False,
)
SQLITE = Semantics(
    name="sqlite",
    shared_names=False,
    id_first=False,
    namespaces=False,
    odd_is_invalid=False,
    members_via_add=True,
    unknown_is_empty=True,
    network_connected_error=True,
    networks_in_config=True,
    resolve_symlinks=True,
)
#: The semantics by name, default first.
NAMES = {BOLT.name: BOLT, SQLITE.name: SQLITE}


def by_name(name: object) -> Semantics:
    """The semantics called ``name``; :class:`InvalidArgumentError` for anything else."""
    if not isinstance(name, str) or name not in NAMES:
        raise InvalidArgumentError(f"semantics must be one of {', '.join(NAMES)}, not {name!r}")
    return NAMES[name]
