"""The reminder rule: when a round's reminder is due, and below what join share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sessionctl.domain.reminders import reminder_at, share, threshold

MATCH = datetime(2026, 6, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("opened_before", "hours", "due_before"),
    [
        (timedelta(days=3), 24, timedelta(hours=24)),  # HOURS before the match
        (timedelta(hours=30), 24, timedelta(hours=18)),  # but HOURS / 2 after the opt-in
        (timedelta(hours=12, minutes=1), 24, timedelta(minutes=1)),
        (timedelta(hours=12), 24, None),  # the opt-in went out too late for a reminder
        (timedelta(hours=2), 24, None),
        (timedelta(days=3), 0, None),  # reminders off
        (timedelta(days=30), 336, timedelta(days=14)),
        (timedelta(days=20), 336, timedelta(days=13)),
    ],
)
def test_reminder_at(opened_before: timedelta, hours: int, due_before: timedelta | None) -> None:
    at = reminder_at(match_at=MATCH, opened_at=MATCH - opened_before, hours=hours)
    assert at == (None if due_before is None else MATCH - due_before)


def test_threshold_is_the_programs_own_else_the_median_of_its_last_rounds_else_50() -> None:
    assert threshold(60, [10.0, 90.0]) == 60.0
    assert threshold(None, [40.0, 75.0, 90.0]) == 75.0
    assert threshold(None, [40.0, 60.0]) == 50.0
    assert threshold(None, []) == 50.0
    assert share(1, 4) == 25.0
    assert share(0, 0) == 0.0
