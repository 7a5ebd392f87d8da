"""The zone and date options of the views (``--tz``, ``--from``, ``--to``), read so that every
error names its option. Imports stay inside the functions: start-up time matters."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date
    from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    """``--tz``: an IANA zone name (``--tz: unknown timezone …`` otherwise)."""
    from sessionctl.domain.times import load_zone
    from sessionctl.errors import naming

    with naming("--tz"):
        return load_zone(name)


def day(text: str, *, option: str, today: date) -> date:
    """A view's DATE option: the forms of ``parse_date``; a date without a year is this year's,
    so ``--from "Jun 1" --to "Jun 30"`` is one month whatever today is."""
    from sessionctl.domain.when import parse_date
    from sessionctl.errors import naming

    with naming(option):
        return parse_date(text, today=today)
