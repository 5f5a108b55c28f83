"""What fsck reports: :class:`Finding` values, gathered in a :class:`Report`.

The codes and what each one means are the table in :mod:`fsstate.fsck`'s docstring; repair
(:mod:`fsstate.fsck.repair`) acts on findings and returns a report of the same shape.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

QUARANTINE = "quarantine"
#: What repair leaves to the administrator (and unknown-format/unsafe-entry case by case).
NOT_REPAIRABLE = frozenset(
    {"dangling-dependency", "dangling-pod-member", "dangling-volume-user", "name-clash"}
)


@dataclass(frozen=True)
class Finding:
    """One problem: ``code`` (see the table in :mod:`fsstate.fsck`), the ``object`` it concerns
    (ID, name, session ID or ``""``), ``path`` relative to the store directory, a ``message``
    for the administrator, whether ``repair`` can fix it, and — in a repair report — what it
    did."""

    code: str
    object: str
    path: str
    message: str
    repairable: bool
    action: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Report:
    """The findings of one check (or what one repair did) for the store directory ``store``
    (``<static_dir>/fsstate``), sorted by path."""

    store: str
    findings: tuple[Finding, ...] = ()

    @property
    def static_dir(self) -> str:
        return os.path.dirname(self.store)

    @property
    def clean(self) -> bool:
        """True when nothing is left to report (repaired findings count as reported)."""
        return not any(not f.action for f in self.findings)

    @property
    def repairable(self) -> tuple[Finding, ...]:
        """The findings ``repair`` would fix."""
        return tuple(f for f in self.findings if f.repairable and not f.action)

    def abspath(self, finding: Finding) -> str:
        return os.path.join(self.store, finding.path) if finding.path else self.store

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: ``{"store", "clean", "findings": [Finding.to_json(), …]}``."""
        findings = [f.to_json() for f in self.findings]
        return {"store": self.store, "clean": self.clean, "findings": findings}


def finding(
    code: str, path: str, message: str, *, obj: str = "", repairable: bool = True
) -> Finding:
    return Finding(
        code, obj, path, f"{path or '.'}: {message}", repairable and code not in NOT_REPAIRABLE
    )
