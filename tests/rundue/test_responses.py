"""respond: one answer or a CSV of them, for an open round only; what the answers do to the
figures and the groups. Time is frozen at T0 (Monday 2026-06-01 09:00 UTC)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke
from tests.rundue.conftest import (
    add_program,
    figures,
    groups,
    messages,
    ok,
    refused,
    schedule,
    show,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-03 09:00"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opened(cli: Invoke) -> tuple[int, list[str]]:
    """Round 1 of coffee, open: its 6 members were invited."""
    emails = add_program(cli, "coffee", members=6)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    return round_id, emails


def _csv(rows: list[tuple[str, str]]) -> str:
    return "email,answer\n" + "".join(f"{e},{a}\n" for e, a in rows)


def _match_now(cli: Invoke, round_id: int) -> list[list[str]]:
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    found: list[list[str]] = groups(cli, round_id)["groups"]
    return found


# --- recording answers ------------------------------------------------------------------------


def test_one_answer_at_a_time_and_the_latest_counts(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, cat, dan, *_) = opened
    assert ok(cli("respond", str(round_id), ann, "yes")).stdout == (
        f"Round {round_id}: 1 answer recorded (1 yes, 0 no).\n"
    )
    ok(cli("respond", str(round_id), bob, "yes"))
    ok(cli("respond", str(round_id), cat, "yes"))
    ok(cli("respond", str(round_id), dan, "no"))
    assert figures(cli, round_id) == (6, 3, 1, 2)

    ok(cli("respond", str(round_id), cat, "no"))  # changed their mind
    ok(cli("respond", str(round_id), dan.upper(), "y"))  # emails match whatever their case
    assert figures(cli, round_id) == (6, 3, 1, 2)
    assert sorted(a for g in _match_now(cli, round_id) for a in g) == sorted([ann, bob, dan])


def test_respond_json(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    result = ok(cli("respond", str(round_id), emails[0], "no", "--json"))
    assert result.json() == {"round": round_id, "recorded": 1, "yes": 0, "no": 1}


def test_a_csv_from_standard_input(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    text = _csv([(emails[0], "yes"), (emails[1], "no"), (emails[2], "YES"), (emails[3], "n")])
    result = ok(cli("respond", str(round_id), "--import", "-", "--json", input=text))
    assert result.json() == {"round": round_id, "recorded": 4, "yes": 2, "no": 2}
    assert figures(cli, round_id) == (6, 2, 2, 2)


def test_a_csv_file_with_a_bom_and_crlf(
    cli: Invoke, opened: tuple[int, list[str]], tmp_path: Path
) -> None:
    round_id, emails = opened
    path = tmp_path / "answers.csv"
    path.write_bytes(("\ufeff" + _csv([(emails[0], "yes"), (emails[1], "yes")])).encode())
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    ok(cli("respond", str(round_id), "--import", str(path)))
    assert figures(cli, round_id) == (6, 2, 0, 4)


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([("{0}", "yes"), ("{1}", "maybe")], "line 3: invalid answer 'maybe': use yes or no"),
        (
            [("{0}", "yes"), ("stranger@example.com", "yes"), ("{1}", "no")],
            "line 3: stranger@example.com was not invited to round 1",
        ),
        (
            [("{0}", "yes"), ("{1}", "no"), ("{0}", "no")],
            "line 4: {0} already answered on line 2",
        ),
        ([("{0}", "yes"), ("not-an-email", "no")], "line 3: "),
    ],
    ids=["bad-answer", "not-invited", "twice", "bad-email"],
)
def test_a_csv_with_one_bad_line_records_nothing_and_names_it(
    cli: Invoke, opened: tuple[int, list[str]], rows: list[tuple[str, str]], error: str
) -> None:
    round_id, emails = opened
    ok(cli("respond", str(round_id), emails[5], "yes"))
    filled = [(e.format(*emails), a) for e, a in rows]
    line = refused(cli("respond", str(round_id), "--import", "-", input=_csv(filled)))
    assert line.startswith("error: " + error.format(*emails))
    assert figures(cli, round_id) == (6, 1, 0, 5)


def test_a_csv_needs_its_header(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    refused(
        cli("respond", str(round_id), "--import", "-", input=f"{emails[0]},yes\n"),
        "line 1: the header must be 'email,answer'",
    )


# --- refused answers --------------------------------------------------------------------------


def test_a_bad_answer_word_is_refused(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    assert refused(cli("respond", str(round_id), emails[0], "perhaps")) == (
        "error: invalid answer 'perhaps': use yes or no"
    )
    assert figures(cli, round_id) == (6, 0, 0, 6)


def test_an_unknown_round_is_refused(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    _, emails = opened
    assert refused(cli("respond", "99", emails[0], "yes")) == (
        "error: no round 99: see 'sessionctl list'"
    )


def test_someone_never_invited_is_refused(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, _ = opened
    refused(
        cli("respond", str(round_id), "stranger@example.com", "yes"),
        f"stranger@example.com was not invited to round {round_id}",
    )


def test_a_member_added_after_the_round_opened_was_not_invited(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, emails = opened
    ok(cli("member", "add", "coffee", "late@example.com", "--name", "Late"))
    refused(
        cli("respond", str(round_id), "late@example.com", "yes"),
        f"late@example.com was not invited to round {round_id}",
    )
    ok(cli("respond", str(round_id), emails[0], "yes"))
    ok(cli("respond", str(round_id), emails[1], "yes"))
    assert figures(cli, round_id) == (6, 2, 0, 4)
    assert _match_now(cli, round_id) == [sorted(emails[:2])]
    assert figures(cli, round_id) == (6, 2, 0, 4)


def test_a_planned_round_takes_no_answers(cli: Invoke) -> None:
    [address] = add_program(cli, "coffee", members=1)
    round_id = schedule(cli, "coffee", "--opt-in", "2026-06-02 09:00", "--match", MATCH)
    assert refused(cli("respond", str(round_id), address, "yes")) == (
        f"error: round {round_id} is planned: answers are taken only while a round is open"
    )


def test_a_done_round_takes_no_answers(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    _match_now(cli, round_id)
    refused(cli("respond", str(round_id), emails[0], "yes"), f"round {round_id} is done")


def test_a_cancelled_round_takes_no_answers(cli: Invoke, opened: tuple[int, list[str]]) -> None:
    round_id, emails = opened
    ok(cli("cancel", str(round_id)))
    refused(cli("respond", str(round_id), emails[0], "yes"), f"round {round_id} is cancelled")


def test_a_missed_round_takes_no_answers(
    cli: Invoke, opened: tuple[int, list[str]], frozen: time_machine.Traveller
) -> None:
    round_id, emails = opened
    frozen.move_to(datetime(2026, 6, 5, 9, 0, tzinfo=UTC))
    ok(cli("run-due"))
    refused(cli("respond", str(round_id), emails[0], "yes"), f"round {round_id} is missed")


def test_answers_after_the_match_time_are_refused(
    cli: Invoke, opened: tuple[int, list[str]], frozen: time_machine.Traveller
) -> None:
    round_id, emails = opened
    ok(cli("respond", str(round_id), emails[0], "yes"))
    frozen.move_to(datetime(2026, 6, 3, 9, 0, tzinfo=UTC))  # match time reached, run-due not yet
    assert show(cli, round_id)["status"] == "open"
    assert refused(cli("respond", str(round_id), emails[1], "yes")) == (
        f"error: round {round_id} reached its match time: answers are no longer taken"
    )
    refused(cli("respond", str(round_id), "--import", "-", input=_csv([(emails[0], "no")])))
    assert figures(cli, round_id) == (6, 1, 0, 5)


# --- members coming and going while a round is open ----------------------------------------------


def test_members_added_or_removed_while_open_do_not_skew_the_figures(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, emails = opened
    leaver, *stayers = emails[:4]
    text = _csv([(leaver, "yes"), (stayers[0], "yes"), (stayers[1], "yes"), (stayers[2], "no")])
    ok(cli("respond", str(round_id), "--import", "-", input=text))
    assert figures(cli, round_id) == (6, 3, 1, 2)

    ok(cli("member", "add", "coffee", "new1@example.com"))
    ok(cli("member", "add", "coffee", "new2@example.com"))
    ok(cli("member", "remove", "coffee", leaver))
    ok(cli("member", "remove", "coffee", emails[5]))  # invited, never answered
    invited, opted_in, declined, no_answer = figures(cli, round_id)
    assert (invited, declined) == (6, 1)
    assert invited == opted_in + declined + no_answer
    assert [r["invited"] for r in ok(cli("list", "--json")).json()] == [6]

    assert _match_now(cli, round_id) == [sorted(stayers[:2])]  # the leaver is not grouped
    assert figures(cli, round_id)[0] == 6
    matched = [m["email"] for m in messages(cli, str(round_id)) if m["kind"] != "opt_in"]
    assert sorted(matched) == sorted(stayers[:2])
