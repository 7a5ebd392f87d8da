"""Two consecutive rounds of a series never share a colour (side by side in the planning they
would read as one); colours are random otherwise. With 12 colours, code that ignored the round
before would repeat a colour in one of the 59 or 60 neighbour pairs each test checks in all but
0.6% of runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import time_machine

from sessionctl.domain.rounds import PALETTE
from tests.conftest import Invoke, ok

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # a Monday


def _by_series(cli: Invoke) -> dict[int, list[str]]:
    """Each series' colours in round order."""
    rounds: list[dict[str, Any]] = ok(cli("list", "--json")).json()
    colours: dict[int, list[str]] = defaultdict(list)
    for r in sorted(rounds, key=lambda r: r["match_at"]):
        if r["series"] is not None:
            colours[r["series"]].append(r["color"])
    return colours


def _neighbours_differ(colours: list[str]) -> bool:
    return all(a != b for a, b in pairwise(colours))


def test_a_scheduled_series_never_repeats_a_colour_in_a_row(cli: Invoke) -> None:
    with time_machine.travel(NOW, tick=False):
        ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
        window = ["--opt-in", "2026-06-08 09:00", "--match", "2026-06-10 09:00"]
        ok(cli("schedule", "coffee-paris", *window, "--repeat", "weekly", "--count", "60"))
        (colours,) = _by_series(cli).values()
    assert len(colours) == 60
    assert _neighbours_differ(colours)
    assert set(colours) <= set(PALETTE)
    assert len(set(colours)) >= 4  # still random, not two colours taking turns


def test_rounds_run_due_adds_to_open_ended_series_differ_from_the_one_before(
    cli: Invoke,
) -> None:
    """run-due creates one more round of each series every week; each is the neighbour of the
    last round created before it, possibly by another run."""
    with time_machine.travel(NOW, tick=False) as traveller:
        ok(cli("program", "add", "lunch", "--tz", "Europe/Paris", "--no-opt-in"))
        for day in range(6):  # six open-ended series, one a day
            match = f"{(NOW + timedelta(days=7 + day)).date()} 12:00"
            ok(cli("schedule", "lunch", "--match", match, "--repeat", "weekly"))
        before = {series: len(colours) for series, colours in _by_series(cli).items()}
        for week in range(1, 11):
            traveller.move_to(NOW + timedelta(weeks=week))
            ok(cli("run-due"))
        after = _by_series(cli)
    assert all(len(after[series]) >= count + 10 for series, count in before.items())
    # From the last round schedule made: 60 pairs made by run-due, each against the one before.
    assert all(_neighbours_differ(after[series][count - 1 :]) for series, count in before.items())
