"""Dates and times as members read them, in the program's language.

The names are written out here rather than taken from the C library's locale: a server's locale
is whatever its image ships (often only C.UTF-8), and an email must read the same wherever
``run-due`` runs.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sessionctl.domain.times import format_local, to_zone

LANGUAGES = ("en", "fr")

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
}  # fmt: skip


def spoken(instant: datetime, zone: ZoneInfo, *, language: str = "en") -> str:
    """``instant`` in ``zone`` with its weekday, date, time and zone abbreviation.

    ``Wednesday 10 June 2026, 09:00 CEST`` in English, ``mercredi 10 juin 2026, 09:00 CEST`` in
    French, where the first of a month is ``1er``. The abbreviation is the one in force at that
    instant (CET in winter, CEST in summer); zones that have none show their offset, as
    ``UTC+05:30``. Raises ``ValueError`` for a naive ``instant`` or an unknown ``language``.
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: use {' or '.join(LANGUAGES)}")
    local = to_zone(instant, zone)
    abbreviation = format_local(instant, zone).rpartition(" ")[2]
    day = "1er" if language == "fr" and local.day == 1 else str(local.day)
    weekday = _WEEKDAYS[language][local.weekday()]
    month = _MONTHS[language][local.month - 1]
    return f"{weekday} {day} {month} {local.year}, {local:%H:%M} {abbreviation}"
