"""`tz = "…"` in the config file: the zone of views across programs (`list`, `planning`), in place
of this machine's; `--tz` still wins, one program keeps its own zone, JSON keeps the contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, ok

BUILT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # Monday 1 June
# Round 1: coffee-paris, opt-in Monday 1 June 14:00, match Thursday 4 June 00:30 in Paris,
# which is Wednesday 22:30 UTC and Wednesday 18:30 in New York.
OPT_IN, MATCH = "2026-06-01 14:00", "2026-06-04 00:30"


@pytest.fixture(autouse=True)
def world(cli: Invoke) -> Iterator[None]:
    with time_machine.travel(BUILT, tick=False):
        ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
        ok(cli("program", "add", "tea-tokyo", "--tz", "Asia/Tokyo", "--no-opt-in"))
        ok(cli("schedule", "coffee-paris", "--opt-in", OPT_IN, "--match", MATCH))
        yield


def _configure(isolated: Path, text: str) -> Path:
    path = isolated / "home" / "config" / "sessionctl" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _row(out: str) -> list[str]:
    """The cells of the one round in a list table (two spaces or more between cells)."""
    (line,) = [line for line in out.splitlines() if "●" in line]
    return re.split(r"\s{2,}", line.strip())


def _planning(cli: Invoke, *args: str) -> str:
    return ok(cli("planning", "--from", "2026-06-01", "--weeks", "1", *args)).stdout


def test_views_across_programs_use_the_zone_in_the_config_file(cli: Invoke, isolated: Path) -> None:
    _configure(isolated, 'tz = "America/New_York"\n')
    assert _row(ok(cli("list")).stdout)[4:6] == ["2026-06-01 08:00 EDT", "2026-06-03 18:30 EDT"]
    out = _planning(cli)
    assert re.search(r"^▌#1 08:00 coffee-paris ━+→18:30$", out, re.MULTILINE)
    assert "\nTimes in America/New_York (EDT): the zone in the config file\n" in out


def test_without_it_they_use_this_machines_zone(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    assert _row(ok(cli("list")).stdout)[5] == "2026-06-04 07:30 JST"
    assert "\nTimes in Asia/Tokyo (JST): this machine's zone\n" in _planning(cli)


def test_tz_wins_over_the_config_file(cli: Invoke, isolated: Path) -> None:
    _configure(isolated, 'tz = "America/New_York"\n')
    assert _row(ok(cli("list", "--tz", "Asia/Tokyo")).stdout)[5] == "2026-06-04 07:30 JST"
    out = _planning(cli, "--tz", "Asia/Tokyo")
    assert "\nTimes in Asia/Tokyo (JST): as asked with --tz\n" in out


def test_one_program_keeps_its_own_zone(cli: Invoke, isolated: Path) -> None:
    _configure(isolated, 'tz = "America/New_York"\n')
    assert _row(ok(cli("list", "coffee-paris")).stdout)[4] == "2026-06-04 00:30 CEST"
    out = _planning(cli, "coffee-paris")
    assert "\nTimes in Europe/Paris (CEST): the program's zone\n" in out


def test_dates_are_read_in_the_config_zone(cli: Invoke, isolated: Path) -> None:
    # The match is on 3 June in UTC (this machine) and in New York, on 4 June in Paris.
    assert ok(cli("list", "--from", "2026-06-04")).stdout.startswith("No rounds")
    _configure(isolated, 'tz = "Europe/Paris"\n')
    assert _row(ok(cli("list", "--from", "2026-06-04")).stdout)[0] == "● 1"
    assert ok(cli("list", "--to", "2026-06-03")).stdout.startswith("No rounds")


def test_json_keeps_each_rounds_own_zone(cli: Invoke, isolated: Path) -> None:
    _configure(isolated, 'tz = "America/New_York"\n')
    (listed,) = ok(cli("list", "--json")).json()
    assert listed["match_at"] == "2026-06-04T00:30:00+02:00"


def test_an_unknown_zone_is_an_error_naming_the_config_file(cli: Invoke, isolated: Path) -> None:
    path = _configure(isolated, 'tz = "Europe/Pariss"\n')
    message = (
        f"invalid tz 'Europe/Pariss' in the config file {path}: "
        "use an IANA name such as Europe/Paris"
    )
    for command in (["list"], ["planning"], ["program", "list"]):
        assert_error(cli(*command), message)
    assert_error(cli("schedule", "coffee-paris", "--match", "2026-07-01 09:00"), message)
    _configure(isolated, "")
    assert len(ok(cli("list", "--json")).json()) == 1  # nothing was scheduled


def test_a_zone_that_is_not_text_is_an_error(cli: Invoke, isolated: Path) -> None:
    path = _configure(isolated, "tz = 2\n")
    assert_error(cli("list"), f"config file {path}: 'tz' must be a string")
