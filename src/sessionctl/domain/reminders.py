"""When a round's reminder is due, and how few joins call for one. Pure: times are arguments.

A program reminds the invited members who have not answered ``hours`` before the match (0: never),
only while the share of invited members who joined is below its threshold: its own percentage,
else the median share of its last matched rounds (``HISTORY`` of them), else ``DEFAULT_BELOW``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import median

DEFAULT_BELOW = 50.0  # the threshold of a program without a matched round yet
HISTORY = 10  # how many of the program's last matched rounds its median is taken over


def reminder_at(*, match_at: datetime, opened_at: datetime, hours: int) -> datetime | None:
    """When the round's reminder goes out: ``hours`` before the match, but never sooner than
    ``hours / 2`` after the opt-in went out, which is reminder enough until then. None when
    that leaves no time before the match (a round opened late, or reminders off)."""
    if hours <= 0:
        return None
    at = max(match_at - timedelta(hours=hours), opened_at + timedelta(hours=hours) / 2)
    return at if at < match_at else None


def threshold(below: int | None, shares: Sequence[float]) -> float:
    """The join share (percent) under which a round gets a reminder: the program's own
    ``below``, else the median of ``shares`` (its last matched rounds), else 50."""
    if below is not None:
        return float(below)
    return float(median(shares)) if shares else DEFAULT_BELOW


def share(joined: int, invited: int) -> float:
    """The percentage of ``invited`` who joined; 0 when nobody was invited."""
    return 100.0 * joined / invited if invited else 0.0
