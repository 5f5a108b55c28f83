"""Times as Podman prints them: Go's stored time stamps, Unix seconds, and human durations.

* :func:`go_time` — a stored Go ``time.MarshalText`` (RFC 3339, up to nanoseconds) as an
  aware :class:`~datetime.datetime` (to the microsecond); Go's zero time for anything else.
* :func:`unix` (:func:`unix_of` a time already parsed) — Go's ``Time.Unix()``: whole
  seconds, ``-62135596800`` for the zero time (what Podman's ``ps --format json`` prints in
  ``StartedAt``/``ExitedAt`` of a container that never started or exited).
* :func:`go_string` — Go's ``Time.String()`` (``2026-12-04 16:25:22.160511724 +0000 UTC``), the
  ``{{.CreatedAt}}`` of Podman's ``ps`` templates.
* :func:`human_duration` — docker/go-units ``HumanDuration`` (``duration.go``), which every
  Podman "… ago" and "Up …" goes through. ``humanize.naturaldelta`` words durations differently
  ("a minute", "a day" for 30 hours), so Podman's rule is ported as it is (ten lines).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fsstate.podman.gojson import GO_TIME, parse_go_time

__all__ = [
    "GO_ZERO",
    "GO_ZERO_UNIX",
    "go_string",
    "go_time",
    "human_duration",
    "unix",
    "unix_of",
]

#: Go's zero ``time.Time`` (0001-01-01T00:00:00Z) and its ``Unix()``.
GO_ZERO = datetime(1, 1, 1, tzinfo=UTC)
GO_ZERO_UNIX = -62135596800
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def go_time(text: object) -> datetime:
    """``text``, a Go ``time.MarshalText``, as an aware datetime (nanoseconds cut to
    microseconds); :data:`GO_ZERO` when it is not one (a stored value may be anything)."""
    when = parse_go_time(text) if isinstance(text, str) else None
    return GO_ZERO if when is None else when


def unix(text: object) -> int:
    """Go's ``Time.Unix()`` of the stored time ``text`` (whole seconds, rounded down)."""
    return unix_of(go_time(text))


def unix_of(when: datetime) -> int:
    """Go's ``Time.Unix()`` of ``when`` (:func:`unix` of a time already parsed)."""
    if when == GO_ZERO:
        return GO_ZERO_UNIX
    since = when - _EPOCH  # days, then 0 <= seconds < 86400: whole seconds rounded down, exactly
    return since.days * 86400 + since.seconds


def go_string(text: object) -> str:
    """Go's ``Time.String()`` of the stored time ``text``: ``2006-01-02 15:04:05.999999999
    -0700 MST`` (trailing zeros of the fraction dropped; UTC shown as ``+0000 UTC``)."""
    m = GO_TIME.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    base, frac, zone = m.groups()
    frac = (frac or "").rstrip("0")
    day, clock = base.split("T")
    offset = "+0000 UTC" if zone == "Z" else zone.replace(":", "")
    return f"{day} {clock}{'.' + frac if frac else ''} {offset}"


def human_duration(seconds: float) -> str:
    """docker/go-units ``HumanDuration``: "Less than a second", "1 second", "N seconds",
    "About a minute", "N minutes", "About an hour", "N hours" (below 48), "N days" (below two
    weeks), "N weeks" (below two months), "N months" (below two years), "N years"."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def since(text: object, now: datetime) -> float:
    """Seconds from the stored time ``text`` to ``now`` (Go's ``time.Since``)."""
    return (now - go_time(text)).total_seconds()
