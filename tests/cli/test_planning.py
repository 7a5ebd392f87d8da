"""sessionctl planning: weeks of cards through the real CLI, with time frozen."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from rich.cells import cell_len
from rich.console import Console

from sessionctl.domain.rounds import Status
from sessionctl.render.planning import planning
from sessionctl.services.rounds import Figures, RoundView
from tests.conftest import Invoke, sql

# Wednesday 10 June 2026, 09:00 in Paris.
NOW = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
HEADER = re.compile(r"▶?(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+(?: [A-Z][a-z]{2})?")
CARD = re.compile(r"([▌━×])#(\d+)(.*?)(→\d\d:\d\d|→|$)")
SGR_BEFORE_NUMBER = r"\x1b\[([0-9;]*)m#{}\b"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """The console is cached per process and reads COLUMNS and FORCE_COLOR when first made."""
    yield


SENDER = ("--sender", "team@example.com")  # programs without one get a note on stderr


def ok(cli: Invoke, *args: str) -> str:
    result = cli(*args)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def cards(out: str) -> dict[int, list[tuple[str, str]]]:
    """Each round number -> its card segments as (first day, last day) header labels."""
    found: dict[int, list[tuple[str, str]]] = {}
    labels: list[tuple[int, str]] = []
    for line in out.splitlines():
        if HEADER.match(line):
            labels = [(m.start(), m.group().lstrip("▶")[:6].strip()) for m in HEADER.finditer(line)]
            continue
        for m in CARD.finditer(line):
            first = _day_at(labels, m.start())
            last = _day_at(labels, m.end() - 1)
            found.setdefault(int(m.group(2)), []).append((first, last))
    return found


def _day_at(labels: list[tuple[int, str]], offset: int) -> str:
    return [label for start, label in labels if start <= offset][-1]


def schedule(
    cli: Invoke, program: str, *, match: str, opt_in: str | None = None, weekly: int = 0
) -> None:
    args = ["schedule", program, "--match", match]
    if opt_in is not None:
        args += ["--opt-in", opt_in]
    if weekly:
        args += ["--repeat", "weekly", "--count", str(weekly)]
    ok(cli, *args)


def coffee(cli: Invoke) -> None:
    ok(cli, "program", "add", "coffee-paris", "--tz", "Europe/Paris", *SENDER)


def test_round_numbers_are_on_their_days(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00", weekly=3)
    out = ok(cli, "planning", "coffee-paris", "--weeks", "4")
    assert cards(out) == {
        1: [("Mon 15", "Thu 18")],
        2: [("Mon 22", "Thu 25")],
        3: [("Mon 29", "Thu 2")],
    }
    lines = out.splitlines()
    assert lines[0].startswith("── Jun 8 – 14, 2026 ──")
    assert lines[2] == "no rounds"
    assert lines[5].startswith("▌#1 09:00 ━━━")
    assert lines[5].endswith("→10:00")
    assert re.search(r"Tue 30 +Wed 1 Jul ", out)
    assert "Times in Europe/Paris (CEST)" in out


def test_from_and_weeks_choose_the_weeks_shown(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00", weekly=3)
    out = ok(cli, "planning", "coffee-paris", "--from", "2026-06-24", "--weeks", "1")
    assert cards(out) == {2: [("Mon 22", "Thu 25")]}
    assert out.splitlines()[0].startswith("── Jun 22 – 28, 2026 ──")


def test_a_card_crossing_a_week_continues_on_the_next_row(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-14 20:00", match="2026-06-18 15:00")
    out = ok(cli, "planning", "coffee-paris", "--weeks", "2")
    assert cards(out) == {1: [("Sun 14", "Sun 14"), ("Mon 15", "Thu 18")]}
    card_lines = [line for line in out.splitlines() if "#1" in line]
    assert card_lines[0].strip().startswith("▌#1 20:00")
    assert card_lines[1].startswith("━#1 ━")
    assert card_lines[1].endswith("→15:00")


def test_tz_moves_cards_to_the_days_they_fall_on(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-14 20:00", match="2026-06-18 15:00")
    out = ok(cli, "planning", "coffee-paris", "--weeks", "2", "--tz", "Pacific/Auckland")
    # 20:00 Sunday in Paris is 06:00 Monday in Auckland; 15:00 Thursday is 01:00 Friday.
    assert cards(out) == {1: [("Mon 15", "Fri 19")]}
    assert "▌#1 06:00" in out
    assert "→01:00" in out
    assert "Times in Pacific/Auckland (NZST)" in out


def test_a_round_without_opt_in_is_a_one_day_card(cli: Invoke) -> None:
    ok(cli, "program", "add", "lunch", "--tz", "Europe/Paris", "--no-opt-in", *SENDER)
    schedule(cli, "lunch", match="2026-06-17 12:30")
    out = ok(cli, "planning", "lunch", "--weeks", "2")
    assert cards(out) == {1: [("Wed 17", "Wed 17")]}
    assert re.search(r"▌#1 ━+→12:30", out)


def test_overlapping_rounds_stack_in_lanes(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00")
    schedule(cli, "coffee-paris", opt_in="2026-06-16 09:00", match="2026-06-19 10:00")
    schedule(cli, "coffee-paris", opt_in="2026-06-19 11:00", match="2026-06-20 10:00")
    out = ok(cli, "planning", "coffee-paris", "--weeks", "2")
    assert cards(out) == {
        1: [("Mon 15", "Thu 18")],
        2: [("Tue 16", "Fri 19")],
        3: [("Fri 19", "Sat 20")],
    }
    lanes = [line for line in out.splitlines() if "#" in line]
    assert len(lanes) == 2
    assert "#1" in lanes[0] and "#3" in lanes[0]
    assert "#2" in lanes[1]


def test_all_programs_show_their_names(cli: Invoke) -> None:
    coffee(cli)
    ok(cli, "program", "add", "tea-tokyo", "--tz", "Asia/Tokyo", *SENDER)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00")
    schedule(cli, "tea-tokyo", opt_in="2026-06-16 09:00", match="2026-06-19 10:00")
    everything = ok(cli, "planning", "--weeks", "2")
    assert "▌#1 07:00 coffee-paris ━" in everything
    assert "▌#2 00:00 tea-tokyo ━" in everything
    assert "Times in UTC" in everything  # the machine's zone (TZ=UTC in tests)
    one = ok(cli, "planning", "coffee-paris", "--weeks", "2")
    assert "coffee-paris" not in one
    assert "tea-tokyo" not in one
    assert cards(one) == {1: [("Mon 15", "Thu 18")]}


def test_today_is_marked_exactly_once(cli: Invoke, empty_db: None) -> None:
    out = ok(cli, "planning", "--weeks", "6")
    assert out.count("▶") == 1
    assert "▶Wed 10" in out
    later = ok(cli, "planning", "--from", "2026-07-01", "--weeks", "2")
    assert "▶" not in later


def test_no_rounds_says_how_to_schedule(cli: Invoke, empty_db: None) -> None:
    out = ok(cli, "planning", "--weeks", "1")
    assert out.splitlines()[2] == "no rounds"
    assert "No rounds in these weeks: see 'sessionctl schedule --help'." in out


@pytest.mark.parametrize("columns", [80, 160])
def test_no_line_is_wider_than_the_terminal(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    long = "a-program-name-that-is-as-long-as-a-program-name-may-be-63-chars"[:63]
    ok(cli, "program", "add", long, "--tz", "Europe/Paris", *SENDER)
    ok(cli, "program", "add", "lunch", "--tz", "America/New_York", "--no-opt-in", *SENDER)
    schedule(cli, long, opt_in="2026-06-10 12:00", match="2026-06-11 10:00", weekly=8)
    schedule(cli, long, opt_in="2026-06-13 09:00", match="2026-06-28 10:00")
    schedule(cli, "lunch", match="2026-06-12 12:00", weekly=8)
    out = ok(cli, "planning", "--weeks", "6")
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    assert max(cell_len(line) for line in lines) >= columns - 4  # the grid uses the width
    assert "…" in out  # the long name is truncated, not wrapped
    assert len(cards(out)) == 13  # 6 + 6 weekly rounds and the long one (Jun 8 to Jul 19)
    if columns == 80:
        assert re.search(r"▌#15 ?→16:00", out)  # round numbers and match times stay visible


def test_cancelled_rounds_are_shown_crossed_out(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00")
    ok(cli, "cancel", "1")
    out = ok(cli, "planning", "coffee-paris", "--weeks", "2")
    assert "×#1 09:00 ┄┄┄" in out
    assert cards(out) == {1: [("Mon 15", "Thu 18")]}


def test_past_rounds_are_dimmed_on_a_terminal(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-10 12:00", match="2026-06-11 10:00", weekly=2)
    monkeypatch.setenv("FORCE_COLOR", "1")
    with time_machine.travel(datetime(2026, 6, 16, 7, 0, tzinfo=UTC), tick=False):
        out = ok(cli, "planning", "coffee-paris", "--from", "2026-06-08", "--weeks", "2")
    past = re.search(SGR_BEFORE_NUMBER.format(1), out)
    coming = re.search(SGR_BEFORE_NUMBER.format(2), out)
    assert past is not None and coming is not None, "colour was not forced"
    assert "2" in past.group(1).split(";")
    assert "2" not in coming.group(1).split(";")
    assert "7" in re.search(r"\x1b\[([0-9;]*)m▶Tue 16", out).group(1).split(";")  # type: ignore[union-attr]


def test_no_colour_with_no_color_even_when_forced(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00")
    plain = ok(cli, "planning", "--weeks", "2")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    assert ok(cli, "planning", "--weeks", "2") == plain
    assert "\x1b" not in plain


def test_program_names_are_shown_literally(cli: Invoke) -> None:
    coffee(cli)
    schedule(cli, "coffee-paris", opt_in="2026-06-15 09:00", match="2026-06-18 10:00")
    # Names are slugs when typed; a database written by other tools may still hold anything.
    renamed = sql(
        "UPDATE program SET name = :name WHERE name = 'coffee-paris' RETURNING id",
        name="[red]x\x1b[2J",
    )
    assert len(renamed) == 1
    out = ok(cli, "planning", "--weeks", "2")
    assert "▌#1 07:00 [red]x\\x1b[2J ━" in out
    assert "\x1b" not in out


@pytest.mark.parametrize("width", [27, 40, 63, 80, 99, 120, 160, 240])
def test_the_grid_fits_any_width_with_wide_and_hostile_names(width: int) -> None:
    paris = ZoneInfo("Europe/Paris")
    names = ["[bold]咖啡-巴黎-早餐会\x1b[2J", "\u202eevil", "x"]
    views = [
        _view(index + 1, name, opt_in=datetime(2026, 6, 8 + index, 7, tzinfo=UTC), days=index * 4)
        for index, name in enumerate(names)
    ]
    views.append(_view(4, "no-opt-in", opt_in=None, days=0))
    grid = planning(
        views, zone=paris, source="machine", today=date(2026, 6, 10), start=date(2026, 6, 8),
        weeks=3, show_program=True, width=width,
    )  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(grid)
    lines = out.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= width
    assert "\x1b" not in out.getvalue() and "\u202e" not in out.getvalue()
    assert all(f"#{number}" in out.getvalue() for number in range(1, 5))


def _view(number: int, program: str, *, opt_in: datetime | None, days: int) -> RoundView:
    match = (opt_in or datetime(2026, 6, 9, 10, tzinfo=UTC)) + timedelta(days=days, hours=3)
    return RoundView(
        id=number, number=number, program=program, program_title=program,
        opt_in_program=opt_in is not None,
        status=Status.PLANNED, zone=ZoneInfo("Europe/Paris"), opt_in_at=opt_in, match_at=match,
        opened_at=None, matched_at=None, repeat="once", series=None, series_index=0,
        color="red", figures=Figures(),
    )  # fmt: skip
