"""Check a store: every way its files disagree with ``layout.py``, returned as values.

:func:`check` takes the store lock (opening a
:class:`~fsstate.store.storage.FileStorage` first, which
replays the journal, so the recovered tree is checked), walks the whole tree once with
``O_NOFOLLOW`` descriptors — nothing is ever followed out of the store — and returns a
:class:`Report` of :class:`Finding` values. It writes nothing but what opening a store writes.
``repair.py`` acts on the findings. Paths in findings are relative to ``<static_dir>/fsstate``
(``""`` is that directory itself). One damaged object gives one finding: the index entries it
implied are not reported again, since repair rebuilds the index from what is left.

The codes are :class:`~fsstate.fsck.findings.Code`, each carrying its
:class:`~fsstate.fsck.findings.Repair`; this table is theirs, in their order:

=====================  ==========  =====================================================
code                   repairable  meaning → what ``repair`` does
=====================  ==========  =====================================================
unknown-format         some        FORMAT missing, empty or NUL-filled → rewritten; newer or
                                   foreign → left alone (not repairable)
damaged-journal        yes         a journal record fails its checksum while a later one holds
                                   → the journal emptied, the documents kept as they are
unapplied-record       yes         a committed journal record could not be applied (ENOSPC,
                                   EIO; free space or fix the device and the next call applies
                                   it) → the journal emptied, the documents kept as they are
unsafe-entry           yes         symlink, device, FIFO or socket → quarantined (never followed)
invalid-name           yes         a name that fails ``layout.is_valid_name`` → quarantined
unexpected-entry       yes         a file or directory the layout has no place for → quarantined
stray-temp-file        yes         a writer's leftover temporary file → deleted
trash                  some        ``trash/<n>``: what a commit set aside (``refresh()``'s exec
                                   sessions, replaced files) and a killed process did not
                                   finish deleting; never read as store data → deleted (not
                                   while journal record ``<n>`` can still be replayed)
bad-permissions        yes         not exactly 0600 (file) / 0700 (directory) → set so
empty-document         yes         zero-length document → quarantined
nul-document           yes         NUL-filled document → quarantined
truncated-document     yes         JSON cut short → quarantined
invalid-json           yes         any other non-JSON → quarantined
schema-violation       yes         fails ``schema.problems`` or holds an unsafe name → quarantined
misplaced-document     yes         its ``id``/``name`` differs from its path → quarantined
missing-config         yes         object directory without its config → directory quarantined
missing-state          yes         container or pod without its state → a fresh state is written
orphan-directory       yes         object directory with no documents, or an empty
                                   per-object index directory of an object that is gone → removed
missing-index-entry    yes         a document implies an index file that is absent → index rebuilt
extra-index-entry      yes         an index file no document implies → index rebuilt
stale-index-entry      yes         an index file with the wrong contents → index rebuilt
dangling-dependency    yes         a container depends on a container that does not exist →
                                   the container quarantined (its dependents follow next round)
dangling-pod-member    yes         a container's ``config.pod`` names no pod → quarantined
dangling-volume-user   yes         a container mounts a volume that does not exist → quarantined
dangling-exec-session  yes         an exec record names no container → quarantined
name-clash             no          two containers/pods share a name (or an ID)
=====================  ==========  =====================================================

The package: :mod:`.findings` (:class:`Code`, :class:`Finding`, :class:`Report`),
:mod:`.store` (opening the store under its lock), :mod:`.scan` (the walk and the relations),
:mod:`.places` (where each path belongs) and :mod:`.documents` (reading and judging one file).
``repair.py`` uses :class:`Scan`, :class:`Store`, :func:`locked` and the names re-exported here.
"""

from __future__ import annotations

import os

from fsstate.fsck.documents import same_entry as same_entry
from fsstate.fsck.findings import Code, Finding, Repair, Report
from fsstate.fsck.scan import ProgressFn, Scan
from fsstate.fsck.store import FORMAT_LINE as FORMAT_LINE
from fsstate.fsck.store import Store as Store
from fsstate.fsck.store import locked
from fsstate.store.layout import QUARANTINE
from fsstate.store.lock import DEFAULT_TIMEOUT

__all__ = [
    "QUARANTINE",
    "Code",
    "Finding",
    "Repair",
    "Report",
    "Scan",
    "check",
    "locked",
]


def check(
    static_dir: str | os.PathLike[str],
    *,
    lock_timeout: float = DEFAULT_TIMEOUT,
    progress: ProgressFn | None = None,
) -> Report:
    """Check the store under ``static_dir`` while holding its lock (module docstring);
    ``progress``, when given, is told ``("checking", entries seen, 0)`` as the walk goes.

    Raises :class:`~fsstate.errors.NoSuchStoreError` when ``static_dir`` holds no store
    directory (nothing is created: a missing store is not a finding), or
    :class:`~fsstate.errors.LockTimeoutError` when the lock is not free in time."""
    with locked(static_dir, lock_timeout) as store:
        return Report(store.root, tuple(store.scan(progress).findings))
