"""The one place that reads the current time. Everything else takes ``now`` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
