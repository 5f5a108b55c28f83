"""What fsck reports: the finding :class:`Code` values, :class:`Finding`, gathered in a
:class:`Report`.

:class:`Code` is the one list of finding codes; each carries the :class:`Repair` that
:mod:`fsstate.fsck.repair` applies to it. The table in :mod:`fsstate.fsck`'s docstring says
what each code means, in the enum's order; repair acts on findings and returns a report of the
same shape.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from enum import Enum, StrEnum
from typing import Any

__all__ = ["Code", "Finding", "Repair", "Report", "finding"]


class Repair(Enum):
    """How :func:`fsstate.fsck.repair.repair` fixes a finding (value: what it does)."""

    REWRITE_FORMAT = "FORMAT rewritten (a file that is there first quarantined)"
    QUARANTINE = "moved to quarantine/<timestamp>/ (a lost config takes its whole directory)"
    DELETE = "deleted"
    REMOVE_DIRECTORY = "the empty directory removed"
    SET_MODE = "mode set to 0600 (file) / 0700 (directory)"
    FRESH_STATE = "a fresh state written"
    REBUILD_INDEX = "the index rebuilt from the documents"
    RESET_JOURNAL = "the journal emptied: the documents are kept as they are"
    DELETE_TREE = "deleted with everything in it"
    BY_HAND = "left to the administrator (never repairable)"


class Code(StrEnum):
    """A finding code, in the order of the table in :mod:`fsstate.fsck`; ``repair`` says how
    :mod:`fsstate.fsck.repair` fixes it. A finding with a repairable code may still be
    reported ``repairable=False`` case by case (a newer FORMAT, a store that is a symlink)."""

    repair: Repair

    def __new__(cls, value: str, repair: Repair | None = None) -> Code:
        # Called once per member as the class is made; ``Code("name-clash")`` afterwards is
        # Enum's lookup by value and never comes here (hence the optional ``repair``).
        if repair is None:
            raise TypeError(f"finding code {value!r} needs its Repair")
        member = str.__new__(cls, value)
        member._value_ = value
        member.repair = repair
        return member

    UNKNOWN_FORMAT = "unknown-format", Repair.REWRITE_FORMAT
    DAMAGED_JOURNAL = "damaged-journal", Repair.RESET_JOURNAL
    UNAPPLIED_RECORD = "unapplied-record", Repair.RESET_JOURNAL
    UNSAFE_ENTRY = "unsafe-entry", Repair.QUARANTINE
    INVALID_NAME = "invalid-name", Repair.QUARANTINE
    UNEXPECTED_ENTRY = "unexpected-entry", Repair.QUARANTINE
    STRAY_TEMP_FILE = "stray-temp-file", Repair.DELETE
    TRASH = "trash", Repair.DELETE_TREE
    BAD_PERMISSIONS = "bad-permissions", Repair.SET_MODE
    EMPTY_DOCUMENT = "empty-document", Repair.QUARANTINE
    NUL_DOCUMENT = "nul-document", Repair.QUARANTINE
    TRUNCATED_DOCUMENT = "truncated-document", Repair.QUARANTINE
    INVALID_JSON = "invalid-json", Repair.QUARANTINE
    SCHEMA_VIOLATION = "schema-violation", Repair.QUARANTINE
    MISPLACED_DOCUMENT = "misplaced-document", Repair.QUARANTINE
    MISSING_CONFIG = "missing-config", Repair.QUARANTINE
    MISSING_STATE = "missing-state", Repair.FRESH_STATE
    ORPHAN_DIRECTORY = "orphan-directory", Repair.REMOVE_DIRECTORY
    MISSING_INDEX_ENTRY = "missing-index-entry", Repair.REBUILD_INDEX
    EXTRA_INDEX_ENTRY = "extra-index-entry", Repair.REBUILD_INDEX
    STALE_INDEX_ENTRY = "stale-index-entry", Repair.REBUILD_INDEX
    DANGLING_DEPENDENCY = "dangling-dependency", Repair.QUARANTINE
    DANGLING_POD_MEMBER = "dangling-pod-member", Repair.QUARANTINE
    DANGLING_VOLUME_USER = "dangling-volume-user", Repair.QUARANTINE
    DANGLING_EXEC_SESSION = "dangling-exec-session", Repair.QUARANTINE
    NAME_CLASH = "name-clash", Repair.BY_HAND

    @property
    def repairable(self) -> bool:
        """Whether repair can fix a finding of this code at all."""
        return self.repair is not Repair.BY_HAND


@dataclass(frozen=True)
class Finding:
    """One problem: ``code`` (a :class:`Code`; a string is converted), the ``object`` it
    concerns (ID, name, session ID or ``""``), ``path`` relative to the store directory, a
    ``message`` for the administrator, whether ``repair`` can fix it, and — in a repair
    report — what it did. :class:`ValueError` for a string that is no code."""

    code: Code
    object: str
    path: str
    message: str
    repairable: bool
    action: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", Code(self.code))

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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data: ``{"store", "clean", "findings": [Finding.to_json(), …]}``."""
        findings = [f.to_json() for f in self.findings]
        return {"store": self.store, "clean": self.clean, "findings": findings}


def finding(
    code: Code, path: str, message: str, *, obj: str = "", repairable: bool = True
) -> Finding:
    """A finding of ``code`` at ``path``, its message prefixed with the path; repairable when
    ``repairable`` and the code is."""
    return Finding(code, obj, path, f"{path or '.'}: {message}", repairable and code.repairable)
