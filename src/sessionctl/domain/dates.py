"""Dates and times as members read them, in the program's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "fr")


def spoken(instant: datetime, zone: ZoneInfo, *, language: str = "en") -> str:
    """``instant`` in ``zone`` with its weekday, date, time and zone abbreviation, e.g.
    ``Wednesday 10 June 2026, 09:00 CEST``. (A first version: English only.)"""
    local = instant.astimezone(zone)
    return local.strftime("%A %-d %B %Y, %H:%M ") + (local.tzname() or "")
