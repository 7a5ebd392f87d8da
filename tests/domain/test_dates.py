"""Spoken dates: what a member reads as the deadline, in the program's language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sessionctl.domain.dates import spoken

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("instant", "language", "expected"),
    [
        (datetime(2026, 6, 10, 7, 0, tzinfo=UTC), "en", "Wednesday 10 June 2026, 09:00 CEST"),
        (datetime(2026, 6, 10, 7, 0, tzinfo=UTC), "fr", "mercredi 10 juin 2026, 09:00 CEST"),
        (datetime(2026, 12, 1, 8, 30, tzinfo=UTC), "en", "Tuesday 1 December 2026, 09:30 CET"),
        (datetime(2026, 12, 1, 8, 30, tzinfo=UTC), "fr", "mardi 1er décembre 2026, 09:30 CET"),
        (datetime(2027, 8, 15, 22, 0, tzinfo=UTC), "fr", "lundi 16 août 2027, 00:00 CEST"),
        (datetime(2027, 2, 7, 11, 5, tzinfo=UTC), "fr", "dimanche 7 février 2027, 12:05 CET"),
    ],
)
def test_weekday_date_time_and_zone_in_each_language(
    instant: datetime, language: str, expected: str
) -> None:
    assert spoken(instant, PARIS, language=language) == expected


def test_the_abbreviation_follows_daylight_saving_time() -> None:
    # Paris leaves summer time on Sunday 25 October 2026 at 03:00 CEST (01:00 UTC).
    before = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    after = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)

    assert spoken(before, PARIS) == "Sunday 25 October 2026, 02:30 CEST"
    assert spoken(after, PARIS) == "Sunday 25 October 2026, 02:30 CET"
    # New York springs forward on 8 March 2026: 02:00 EST becomes 03:00 EDT.
    new_york = ZoneInfo("America/New_York")
    assert spoken(datetime(2026, 3, 8, 6, 59, tzinfo=UTC), new_york) == (
        "Sunday 8 March 2026, 01:59 EST"
    )
    assert spoken(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), new_york, language="fr") == (
        "dimanche 8 mars 2026, 03:00 EDT"
    )


def test_zones_without_a_letter_abbreviation_show_their_offset() -> None:
    when = datetime(2026, 6, 10, 4, 0, tzinfo=UTC)

    assert spoken(when, ZoneInfo("Asia/Kolkata")) == "Wednesday 10 June 2026, 09:30 IST"
    assert spoken(when, ZoneInfo("Asia/Dubai"), language="fr") == (
        "mercredi 10 juin 2026, 08:00 UTC+04:00"
    )
    assert spoken(when, ZoneInfo("UTC")) == "Wednesday 10 June 2026, 04:00 UTC"


def test_naive_instants_and_unknown_languages_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        spoken(datetime(2026, 6, 10, 9, 0), PARIS)
    with pytest.raises(ValueError, match="'de'"):
        spoken(datetime(2026, 6, 10, 7, 0, tzinfo=UTC), PARIS, language="de")
