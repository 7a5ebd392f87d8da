"""planning tells planned, open, past and cancelled rounds apart, in plain text and on a terminal,
and its legend shows each look; the footer says where the zone of the times comes from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rich.cells import cell_len

from tests.conftest import Invoke, ok

BUILT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 1 June
VIEWED = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # Wednesday 10 June, 09:00 in Paris
LEGEND = "▌━━→ planned  ▌══→ open  ▌──→ past  ×┄┄→ cancelled  ▌ opt-in  → match"
# The escape codes right before a piece, capturing the last of them (the style in force).
CODES = r"(?:(?:\x1b\[[0-9;]*m)*\x1b\[([0-9;]*)m)?"


@pytest.fixture
def rounds(cli: Invoke) -> Iterator[None]:
    """Round 1 done, 2 open, 3 planned, 4 cancelled: Monday 14:00 to Thursday 10:00 in Paris."""
    with time_machine.travel(BUILT, tick=False) as traveller:
        ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
        for week in (1, 8, 15, 22):
            opt_in, match = f"2026-06-{week:02d} 14:00", f"2026-06-{week + 3:02d} 10:00"
            ok(cli("schedule", "coffee-paris", "--opt-in", opt_in, "--match", match))
        ok(cli("cancel", "4"))
        for day, hour in [(1, 13), (4, 9), (9, 9)]:  # opens round 1, matches it, opens round 2
            traveller.move_to(datetime(2026, 6, day, hour, 0, tzinfo=UTC))
            ok(cli("run-due"))
        traveller.move_to(VIEWED)
        yield


def _planning(cli: Invoke, *args: str) -> str:
    result = cli("planning", "--from", "2026-06-01", "--weeks", "4", *args)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def test_each_state_has_its_own_line_in_plain_text(cli: Invoke, rounds: None) -> None:
    out = _planning(cli, "coffee-paris")
    assert "\x1b" not in out
    assert re.search(r"^▌#1 14:00 ─+→10:00$", out, re.MULTILINE)  # done: past
    assert re.search(r"^▌#2 14:00 ═+→10:00$", out, re.MULTILINE)  # open
    assert re.search(r"^▌#3 14:00 ━+→10:00$", out, re.MULTILINE)  # planned
    assert re.search(r"^×#4 14:00 ┄+→10:00$", out, re.MULTILINE)  # cancelled
    assert out.splitlines()[-1] == LEGEND


def test_a_planned_round_whose_match_day_is_gone_is_past(cli: Invoke) -> None:
    with time_machine.travel(BUILT, tick=False) as traveller:
        ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
        window = ["--opt-in", "2026-06-01 14:00", "--match", "2026-06-04 10:00"]
        ok(cli("schedule", "coffee-paris", *window))
        traveller.move_to(VIEWED)  # nothing ran: the round is still planned
        assert ok(cli("show", "1", "--json")).json()["status"] == "planned"
        assert re.search(r"^▌#1 14:00 ─+→10:00$", _planning(cli, "coffee-paris"), re.MULTILINE)


def test_a_card_continued_from_the_week_before_keeps_its_look(cli: Invoke) -> None:
    with time_machine.travel(BUILT, tick=False) as traveller:
        ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
        window = ["--opt-in", "2026-06-12 09:00", "--match", "2026-06-16 17:30"]
        ok(cli("schedule", "coffee-paris", *window))
        traveller.move_to(datetime(2026, 6, 12, 8, 0, tzinfo=UTC))
        ok(cli("run-due"))
        out = _planning(cli, "coffee-paris")
    assert re.search(r"^ +▌#1 09:00 ═+$", out, re.MULTILINE)
    assert re.search(r"^═#1 ═+→17:30$", out, re.MULTILINE)


def test_on_a_terminal_the_legend_and_cards_are_in_their_styles(
    cli: Invoke, rounds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = _planning(cli, "coffee-paris")
    legend = {
        look: set(_codes(out, re.escape(sample)))
        for look, sample in [("planned", "▌━━→"), ("open", "▌══→"), ("past", "▌──→")]
    }
    assert not legend["planned"] & {"1", "2", "9"}
    assert "1" in legend["open"] and "2" not in legend["open"]
    assert "2" in legend["past"] and "1" not in legend["past"]
    assert {"2", "9"} <= set(_codes(out, "×┄┄→"))
    # The cards: the opt-in time after each number is in the card's look (and its colour).
    cards = {number: set(_codes(out, " 14:00", after=f"#{number}")) for number in (1, 2, 3, 4)}
    assert "2" in cards[1] and "1" not in cards[1]
    assert "1" in cards[2] and "2" not in cards[2]
    assert not cards[3] & {"1", "2", "9"}
    assert {"2", "9"} <= cards[4]
    assert all(_has_colour(codes) for codes in cards.values())  # each card in its colour
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert plain.splitlines()[-1] == LEGEND


def _has_colour(codes: set[str]) -> bool:
    return any(
        code.isdigit() and (30 <= int(code) <= 37 or 90 <= int(code) <= 97) for code in codes
    )


def _codes(out: str, piece: str, *, after: str = "") -> list[str]:
    """The SGR parameters in force where ``piece`` (a regex) starts, first found right after
    ``after``: e.g. ["1", "31"] for bold red, [] for no style."""
    found = re.search(f"{after}{CODES}(?:{piece})", out)
    assert found is not None, f"no {piece!r} after {after!r}"
    return [] if found.group(1) is None else found.group(1).split(";")


@pytest.mark.parametrize("columns", [27, 40, 60])
def test_the_legend_wraps_to_fit_a_narrow_terminal(
    cli: Invoke, rounds: None, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = _planning(cli).splitlines()
    assert max(cell_len(line) for line in lines) <= columns
    legend = lines[lines.index(next(x for x in lines if x.startswith("Times in "))) + 1 :]
    assert "  ".join(legend) == LEGEND
    assert len(legend) > 1


def test_the_footer_says_where_the_zone_comes_from(cli: Invoke, rounds: None) -> None:
    # TZ=UTC in the tests: across programs, times are in this machine's zone.
    assert "\nTimes in UTC: this machine's zone\n" in _planning(cli)
    assert "\nTimes in Europe/Paris (CEST): the program's zone\n" in _planning(cli, "coffee-paris")
    by_option = _planning(cli, "coffee-paris", "--tz", "Asia/Tokyo")
    assert "\nTimes in Asia/Tokyo (JST): as asked with --tz\n" in by_option


def test_a_real_terminal_gets_the_styles(cli: Invoke) -> None:
    """Under a pseudo-terminal, as a person sees it: colours and styles, no FORCE_COLOR."""
    now = datetime.now(UTC).replace(microsecond=0)
    day = (now + timedelta(days=2)).date()
    ok(cli("program", "add", "coffee", "--tz", "UTC"))
    ok(cli("schedule", "coffee", "--opt-in", "now", "--match", f"{day} 09:00"))
    ok(cli("schedule", "coffee", "--opt-in", f"{day} 10:00", "--match", f"{day} 23:00"))
    ok(cli("run-due"))  # opens round 1
    out = _on_a_terminal("planning", "--weeks", "2")
    assert "1" in _codes(out, "▌══→")  # the legend's open sample is bold
    assert "1" in _codes(out, r" \d\d:\d\d", after="#1")  # and so is the open card
    assert "1" not in _codes(out, " 10:00", after="#2")  # not the planned one
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert re.search(r"▌#1 \d\d:\d\d coffee ═+", plain)
    assert re.search(r"▌#2 10:00 coffee ━+→23:00", plain)


def _on_a_terminal(*args: str) -> str:
    """sessionctl ARGS with its standard output on a pseudo-terminal; what it wrote there."""
    leader, follower = os.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "sessionctl", *args],
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        os.close(follower)
        chunks = []
        while True:  # read as it writes: a full terminal buffer would block it
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the other side is closed and everything was read
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return b"".join(chunks).decode().replace("\r\n", "\n")
