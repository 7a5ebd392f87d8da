"""`planning` off a terminal without COLUMNS: as narrow as shows every label whole, neither the
widest days a wide terminal gets nor anything cut; COLUMNS, when set, still decides."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import time_machine
from rich.cells import cell_len

from tests.conftest import Invoke, ok

NOW = "2026-06-01 08:00Z"  # Monday 1 June, before any opt-in went out
SENDER = ("--sender", "team@example.com")
WORLD = [
    ["program", "add", "coffee-paris", "--tz", "Europe/Paris", *SENDER],
    ["program", "add", "lunch-nyc", "--tz", "America/New_York", "--no-opt-in", *SENDER],
    # 1-2: Monday 14:00 to Thursday 10:00 in Paris (12:00 to 08:00 UTC)
    ["schedule", "coffee-paris", "--opt-in", "2026-06-01 14:00", "--match", "2026-06-04 10:00",
     "--repeat", "weekly", "--count", "2"],
    # 3: a one-day card, Wednesday noon in New York; its label is the widest of a day's
    ["schedule", "lunch-nyc", "--match", "2026-06-03 12:00"],
    # 4 crosses into the next week; 5 is cancelled
    ["schedule", "coffee-paris", "--opt-in", "2026-06-12 09:00", "--match", "2026-06-16 17:30"],
    ["schedule", "coffee-paris", "--opt-in", "2026-06-06 10:00", "--match", "2026-06-07 10:00"],
    ["cancel", "5"],
]  # fmt: skip
ALL = ("planning", "--from", "2026-06-01", "--weeks", "3")
# Every card as a wide terminal shows it, in UTC (the machine's zone in tests).
CARDS = [
    r"▌#1 12:00 coffee-paris ━+→08:00",
    r"▌#2 12:00 coffee-paris ━+→08:00",
    r"▌#3 lunch-nyc ━+→16:00",
    r"▌#4 07:00 coffee-paris ━+$",  # continued in the next week
    r"━#4 coffee-paris ━+→15:30",
    r"×#5 08:00 coffee-paris ┄+→08:00",
]
# The lunch card needs "▌#3 lunch-nyc ━→16:00", 21 cells: seven days of 21 and six gaps.
NARROWEST = 7 * 21 + 6


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(cli: Invoke) -> None:
    for args in WORLD:
        ok(cli(*args))


def _widest(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


def _piped(cli: Invoke, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.delenv("COLUMNS", raising=False)
    return ok(cli(*args)).stdout


def _at(cli: Invoke, monkeypatch: pytest.MonkeyPatch, columns: int, *args: str) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    return ok(cli(*args)).stdout


def test_piped_planning_is_as_narrow_as_its_whole_labels(
    cli: Invoke, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _piped(cli, monkeypatch, *ALL)
    assert _widest(out) == NARROWEST  # not the 230 columns of a wide terminal's days
    assert "…" not in out
    for card in CARDS:
        assert re.search(card, out, re.MULTILINE), card
    headers = [
        "|".join(re.split(" {2,}", line))
        for line in out.splitlines()
        if line.lstrip("▶").startswith("Mon ")
    ]
    assert headers == [
        "▶Mon 1 Jun|Tue 2|Wed 3|Thu 4|Fri 5|Sat 6|Sun 7",
        "Mon 8|Tue 9|Wed 10|Thu 11|Fri 12|Sat 13|Sun 14",
        "Mon 15|Tue 16|Wed 17|Thu 18|Fri 19|Sat 20|Sun 21",
    ]
    assert all(line == line.rstrip() for line in out.splitlines())
    # The same calendar as a terminal exactly that wide; one cell a day narrower loses the
    # lunch card's line, the only sign of its look without colour.
    assert _at(cli, monkeypatch, NARROWEST, *ALL) == out
    assert "▌#3 lunch-nyc →16:00" in _at(cli, monkeypatch, NARROWEST - 7, *ALL)


def test_piped_planning_without_names_is_the_80_column_one(
    cli: Invoke, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("planning", "coffee-paris", "--from", "2026-06-01", "--weeks", "3")
    out = _piped(cli, monkeypatch, *args)
    assert _widest(out) == 7 * 10 + 6  # days as at 80 columns, where every day label fits
    assert "▌#1 14:00 ━" in out and "×#5 10:00 ┄" in out and "━#4 ━" in out
    assert out == _at(cli, monkeypatch, 80, *args)


def test_piped_planning_never_cuts_a_long_name(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "coffee-for-the-whole-ile-de-france-region-and-beyond"
    ok(cli("program", "add", name, "--tz", "UTC", "--no-opt-in", *SENDER))
    ok(cli("schedule", name, "--match", "2026-06-03 12:00"))
    out = _piped(cli, monkeypatch, "planning", "--weeks", "1")
    assert f"▌#1 {name} ━→12:00" in out
    # Days wider than a wide terminal's 32 cells, just enough for this one-day card.
    assert _widest(out) == 7 * (1 + 2 + 1 + len(name) + 2 + 6) + 6
    assert name not in _at(cli, monkeypatch, 300, "planning", "--weeks", "1")


def test_columns_still_decides_the_width(
    cli: Invoke, world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _at(cli, monkeypatch, 80, *ALL)
    assert _widest(out) == 76
    assert "▌#3 →16:00" in out  # the name gives way, as on an 80-column terminal
    wide = _at(cli, monkeypatch, 300, *ALL)
    assert _widest(wide) == 7 * 32 + 6
    assert "Mon 1 Jun" + " " * 23 + "Tue 2" in wide
