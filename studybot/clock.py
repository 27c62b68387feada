"""Time in UTC: the one `utc_now`, and the fixed-width text form stored in SQLite.

Code that schedules or stamps takes a clock argument defaulting to `utc_now`, so tests pass
a fixed one and results repeat.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """UTC, fixed width: stored times compare correctly as text."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware (UTC)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
