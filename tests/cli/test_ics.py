"""ics through the real CLI: the calendar, read back by icalendar and expanded by
recurring-ical-events, gives exactly the instants of ``list --json``.

Time is frozen at 2027-02-15 09:00:30 UTC (10:00:30 in Paris), a Monday. Paris springs forward on
2027-03-28 (02:00 -> 03:00); New York falls back on 2027-11-07 (02:00 -> 01:00).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import time_machine
from icalendar import Calendar

from tests.conftest import Invoke, Result, sql

NOW = datetime(2027, 2, 15, 9, 0, 30, tzinfo=UTC)
SPAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))

Window = tuple[datetime, datetime]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    return result


def _ids(cli: Invoke, *args: str) -> list[int]:
    """Run ``schedule ARGS --json``; the ids of the rounds it created, in series order."""
    data = _ok(cli("schedule", *args, "--json")).json()
    return [r["id"] for r in data]


def _export(cli: Invoke, tmp_path: Path, *args: str) -> bytes:
    target = tmp_path / "out.ics"
    result = _ok(cli("ics", *args, "-o", str(target)))
    assert result.stdout == ""
    assert result.stderr == ""
    return target.read_bytes()


def _expanded(data: bytes) -> list[Window]:
    """The (start, end) UTC instants of every occurrence, as recurring-ical-events expands them."""
    calendar = Calendar.from_ical(data)
    found: list[Window] = []
    for event in recurring_ical_events.of(calendar).between(*SPAN):
        start, end = event["DTSTART"].dt, event.get("DTEND", event["DTSTART"]).dt
        found.append((start.astimezone(UTC), end.astimezone(UTC)))
    return sorted(found)


def _listed(cli: Invoke, *args: str) -> list[Window]:
    """The (start, end) UTC instants of every round that is not cancelled, from list --json."""
    rounds = _ok(cli("list", *args, "--json")).json()
    found: list[Window] = []
    for r in rounds:
        if r["status"] == "cancelled":
            continue
        match = datetime.fromisoformat(r["match_at"]).astimezone(UTC)
        opt_in = r["opt_in_at"]
        start = match if opt_in is None else datetime.fromisoformat(opt_in).astimezone(UTC)
        found.append((start, match))
    return sorted(found)


def _events(data: bytes) -> list[Any]:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def _programs(cli: Invoke) -> None:
    _ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris", "--title", "Coffee Paris"))
    _ok(cli("program", "add", "lunch", "--tz", "Europe/Paris", "--no-opt-in"))
    _ok(cli("program", "add", "ny", "--tz", "America/New_York"))
    _ok(cli("program", "add", "ny-lunch", "--tz", "America/New_York", "--no-opt-in"))


@pytest.fixture
def planning(cli: Invoke) -> dict[str, list[int]]:
    """Every kind of round; the ids of each schedule, by name."""
    _programs(cli)
    weekly = ("--repeat", "weekly")
    ids = {
        # Sunday 02:30: 2027-03-28 falls in the gap and becomes 03:30 CEST.
        "gap": _ids(
            cli, "coffee-paris", "--opt-in", "2027-03-12 09:00", "--match", "2027-03-14 02:30",
            *weekly, "--count", "4",
        ),
        # Open-ended: rounds up to the horizon; Thursday to Monday spans the March change once.
        "open": _ids(
            cli, "coffee-paris", "--opt-in", "2027-03-18 12:00", "--match", "2027-03-22 12:00",
            *weekly,
        ),
        "until": _ids(
            cli, "coffee-paris", "--opt-in", "2027-03-01 10:00", "--match", "2027-03-03 10:00",
            "--repeat", "2-weeks", "--until", "2027-05-01",
        ),
        "now": _ids(cli, "coffee-paris", "--opt-in", "now", "--match", "2027-02-20 10:00"),
        "lunch": _ids(cli, "lunch", "--match", "2027-03-21 02:30", *weekly, "--count", "3"),
        "lunch-once": _ids(cli, "lunch", "--match", "2027-03-01 12:00"),
        # The third opt-in is the first 01:30 of 2027-11-07; its window spans the change.
        "fold": _ids(
            cli, "ny", "--opt-in", "2027-10-24 01:30", "--match", "2027-10-24 12:00",
            *weekly, "--count", "3",
        ),
        "ny-lunch": _ids(cli, "ny-lunch", "--match", "2027-10-31 01:30", *weekly, "--count", "2"),
    }  # fmt: skip
    opened = ids["open"]
    _ok(cli("update", str(opened[3]), "--match", "2027-04-13 15:00"))
    _ok(cli("cancel", str(opened[4])))
    _ok(cli("update", str(ids["until"][2]), "--match", "2027-04-01 10:00", "--following"))
    # The second 01:30 of the fall-back night cannot be written as a local time.
    _ok(cli("update", str(ids["ny-lunch"][1]), "--match", "2027-11-07T01:30-05:00"))
    ids["cancelled"] = _ids(cli, "lunch", "--match", "2027-04-07 12:00")
    _ok(cli("cancel", str(ids["cancelled"][0])))
    return ids


# --- the acceptance: same instants as list --json ----------------------------------------------


def test_expanded_calendar_gives_the_listed_instants(
    cli: Invoke, tmp_path: Path, planning: dict[str, list[int]]
) -> None:
    for args in [(), ("coffee-paris",), ("lunch",), ("ny",), ("ny-lunch",)]:
        expanded = _expanded(_export(cli, tmp_path, *args))
        assert expanded == _listed(cli, *args), args
        assert expanded, args


def test_series_are_rrules_with_overrides_for_rounds_off_the_rule(
    cli: Invoke, tmp_path: Path, planning: dict[str, list[int]]
) -> None:
    events = _events(_export(cli, tmp_path))
    masters = [e for e in events if "RRULE" in e]
    overrides = [e for e in events if "RECURRENCE-ID" in e]
    singles = [e for e in events if "RRULE" not in e and "RECURRENCE-ID" not in e]
    assert len(masters) == 6
    # open: the window over the March change and the moved round; until: the two rounds
    # before the --following move; fold: the window over the November change; ny-lunch: the
    # round moved to the second 01:30.
    assert len(overrides) == 6
    # A summary names the round by its number within its program, as the members' emails do.
    numbers = {r["id"]: r["number"] for r in _ok(cli("list", "--json")).json()}
    assert numbers[planning["lunch-once"][0]] == 4  # after the three of the lunch series
    assert sorted(str(e["SUMMARY"]) for e in singles) == [
        f"Coffee Paris round {numbers[planning['now'][0]]}",
        "lunch round 4",
    ]
    by_start = {m.decoded("DTSTART").replace(tzinfo=None): m for m in masters}
    gap = by_start[datetime(2027, 3, 12, 9, 0)]
    assert gap["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4"
    assert gap["DTSTART"].params["TZID"] == "Europe/Paris"
    opened = by_start[datetime(2027, 3, 18, 12, 0)]
    assert opened["RRULE"]["COUNT"] == [len(planning["open"])]
    assert [x.dt for x in opened["EXDATE"].dts] == [
        datetime(2027, 4, 15, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))
    ]
    until = by_start[datetime(2027, 3, 1, 10, 0)]
    assert until["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=5;INTERVAL=2"
    fold = [e for e in overrides if e["RECURRENCE-ID"].params["TZID"] == "America/New_York"]
    assert [e["RECURRENCE-ID"].to_ical() for e in fold] == [b"20271107T013000"] * 2
    assert sorted(e["DTSTART"].to_ical() for e in fold) == [b"20271107T013000", b"20271107T063000Z"]
    assert all(e["TRANSP"] == "TRANSPARENT" for e in events)


@pytest.mark.parametrize("change", [("update", "--match", "2027-03-28 12:00"), ("cancel",)])
def test_series_changed_on_a_gap_occurrence_falls_back_to_single_events(
    cli: Invoke, tmp_path: Path, change: tuple[str, ...]
) -> None:
    _programs(cli)
    ids = _ids(cli, "lunch", "--match", "2027-03-21 02:30", "--repeat", "weekly", "--count", "3")
    _ok(cli(change[0], str(ids[1]), *change[1:]))
    data = _export(cli, tmp_path, "lunch")
    events = _events(data)
    assert not [e for e in events if "RRULE" in e or "RECURRENCE-ID" in e]
    live = [i for i in ids if change[0] == "update" or i != ids[1]]
    assert sorted(str(e["UID"]).split("-")[1] for e in events) == sorted(map(str, live))
    assert _expanded(data) == _listed(cli, "lunch")


# --- stable output -----------------------------------------------------------------------------


def test_two_exports_are_byte_identical_on_stdout_and_in_a_file(
    cli: Invoke, sub: Invoke, tmp_path: Path, planning: dict[str, list[int]]
) -> None:
    data = _export(cli, tmp_path)
    shown = _ok(cli("ics"))
    assert shown.stderr == ""
    assert shown.stdout.encode() == data
    assert _export(cli, tmp_path) == data
    # Another process with another hash seed: no set order leaks into the output.
    target = tmp_path / "other.ics"
    other = sub("ics", "-o", str(target), env={"PYTHONHASHSEED": "7"})
    assert other.code == 0, other.stderr
    assert target.read_bytes() == data


def test_events_and_uids_stay_when_another_round_is_scheduled(
    cli: Invoke, tmp_path: Path, planning: dict[str, list[int]]
) -> None:
    before = _by_identity(_export(cli, tmp_path))
    _ids(cli, "coffee-paris", "--opt-in", "2027-05-03 09:00", "--match", "2027-05-05 09:00")
    after = _by_identity(_export(cli, tmp_path))
    assert len(after) == len(before) + 1
    assert {k: after[k] for k in before} == before
    uids = {uid for uid, _ in after}
    assert f"round-{planning['now'][0]}-" in " ".join(uids)
    assert all(u.endswith("@sessionctl") for u in uids)
    tags = {u.split("@")[0].rsplit("-", 1)[1] for u in uids}
    assert len(tags) == 4  # one per program


def _by_identity(data: bytes) -> dict[tuple[str, bytes], bytes]:
    """Each VEVENT's text by (UID, RECURRENCE-ID)."""
    found = {}
    for event in _events(data):
        rid = event["RECURRENCE-ID"].to_ical() if "RECURRENCE-ID" in event else b""
        found[(str(event["UID"]), rid)] = event.to_ical()
    return found


# --- time zones --------------------------------------------------------------------------------


def test_vtimezones_give_the_zone_offsets_around_every_change(cli: Invoke, tmp_path: Path) -> None:
    _programs(cli)
    _ids(cli, "lunch", "--match", "2027-03-21 02:30", "--repeat", "weekly", "--count", "2")
    _ids(cli, "ny", "--opt-in", "2027-11-01 09:00", "--match", "2027-11-07 01:30")
    calendar = Calendar.from_ical(_export(cli, tmp_path))
    zones = {str(tz["TZID"]): tz for tz in calendar.walk("VTIMEZONE")}
    assert sorted(zones) == ["America/New_York", "Europe/Paris"]
    for key, component in zones.items():
        rebuilt = component.to_tz(lookup_tzid=False)  # read from the VTIMEZONE, not tzdata
        real = ZoneInfo(key)
        for moment in _samples(real, 2027):
            assert moment.astimezone(rebuilt).utcoffset() == moment.astimezone(real).utcoffset()


def _samples(zone: ZoneInfo, year: int) -> list[datetime]:
    """Noon UTC of every day of the year, and every 10 minutes of the days the offset changes."""
    day = datetime(year, 1, 1, 12, tzinfo=UTC)
    found = []
    while day.year == year:
        found.append(day)
        yesterday = day - timedelta(days=1)
        if yesterday.astimezone(zone).utcoffset() != day.astimezone(zone).utcoffset():
            found += [day - timedelta(minutes=10 * n) for n in range(1, 24 * 6)]
        day += timedelta(days=1)
    return found


# --- errors and hostile text -------------------------------------------------------------------


def test_unknown_program_is_one_error_line(cli: Invoke, empty_db: None) -> None:
    result = cli("ics", "tea")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == "error: no program named 'tea': see 'sessionctl program list'\n"


def test_output_into_a_missing_folder_is_one_error_line(cli: Invoke, tmp_path: Path) -> None:
    _programs(cli)
    target = tmp_path / "missing" / "out.ics"
    result = cli("ics", "-o", str(target))
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == f"error: cannot write {target}: No such file or directory\n"
    assert not target.parent.exists()


def test_title_with_line_breaks_injects_no_property(cli: Invoke, tmp_path: Path) -> None:
    _programs(cli)
    hostile = "Evil\r\nATTENDEE:mailto:x@example.com\rX-INJECTED:1\nDTSTART:19700101T000000Z"
    refused = cli("program", "set", "lunch", "--title", hostile)
    assert refused.code == 2
    # A title that reached the database anyway (an older version, a hand edit) stays text.
    changed = sql(
        "UPDATE program SET title = :title WHERE name = 'lunch' RETURNING id", title=hostile
    )
    assert len(changed) == 1
    _ids(cli, "lunch", "--match", "2027-03-01 12:00")
    _ids(cli, "lunch", "--match", "2027-03-03 12:00", "--repeat", "weekly", "--count", "2")
    data = _export(cli, tmp_path, "lunch")
    assert b"\r" not in data.replace(b"\r\n", b"")
    assert b"\n" not in data.replace(b"\r\n", b"")
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-CALNAME"]) == hostile.replace("\r", " ").replace("\n", " ")
    for component in calendar.walk():
        assert "ATTENDEE" not in component
        assert "X-INJECTED" not in component
    events = calendar.walk("VEVENT")
    assert len(events) == 2
    for event in events:
        assert not isinstance(event["DTSTART"], list)
        assert event.decoded("DTSTART").year == 2027
        assert str(event["SUMMARY"]).startswith("Evil  ATTENDEE:mailto:x@example.com X-INJECTED:1")


def test_program_without_rounds_gives_an_empty_calendar(cli: Invoke, tmp_path: Path) -> None:
    _programs(cli)
    calendar = Calendar.from_ical(_export(cli, tmp_path, "lunch"))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["VERSION"]) == "2.0"
