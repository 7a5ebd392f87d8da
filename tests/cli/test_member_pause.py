"""member pause and resume through the real CLI; run-due delivers to the real SMTP server.

The rule: a member paused until a date gets no opt-in from, and is not matched in, a round that
opens before that date (its local opt-in day, or its match day without an opt-in); on that day
they are back without anyone acting. Time is frozen at T0 (Monday 2026-06-01 09:00 UTC).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, assert_error, member_json
from tests.rundue import conftest as rundue
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    figures,
    groups,
    handler_of,
    ok,
    parse,
    schedule,
)

# A real SMTP server on 127.0.0.1 that run-due delivers to (fixtures of tests/rundue).
start_server, server = rundue.start_server, rundue.server

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
ANA, BO, CY, DI = (f"{n}@example.com" for n in ("ana", "bo", "cy", "di"))
SAYS = "rounds that open before that day leave them out"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _member(cli: Invoke, email: str = ANA) -> Any:
    return ok(cli("member", "show", "coffee", email, "--json")).json()


def _listed(cli: Invoke) -> dict[str, Any]:
    return {m["email"]: m for m in ok(cli("member", "list", "coffee", "--json")).json()}


def _recipients(server: SmtpServer, *, since: int = 0) -> list[str]:
    """Who the server received mail for, in order, from its ``since``-th message on."""
    return [
        parse(r.content)["To"].addresses[0].addr_spec for r in handler_of(server).received[since:]
    ]


# --- pause and resume --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "until"),
    [("2026-07-01", "2026-07-01"), ("Jul 1", "2026-07-01"), ("next monday", "2026-06-08")],
)
def test_pause_takes_the_date_forms_of_other_date_options(
    cli: Invoke, typed: str, until: str
) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    paused = ok(cli("member", "pause", "coffee", ANA, "--until", typed))
    assert paused.stdout == f"Member {ANA} paused in coffee until {until}: {SAYS}.\n"
    assert _member(cli)["paused_until"] == until
    assert _listed(cli) == {
        ANA: {**member_json(ANA, "Member ana"), "paused_until": until},
        BO: member_json(BO, "Member bo"),
    }
    table = ok(cli("member", "list", "coffee")).stdout
    assert f"paused until {until}" in table
    assert f"status   paused until {until}" in ok(cli("member", "show", "coffee", ANA)).stdout


def test_pause_json_is_the_member_as_show_gives_it(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA])
    paused = ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-15", "--json")).json()
    assert paused == _member(cli)
    assert paused["paused_until"] == "2026-06-15"
    resumed = ok(cli("member", "resume", "coffee", ANA, "--json")).json()
    assert resumed == {**paused, "paused_until": None}


def test_pausing_a_paused_member_moves_the_date(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA])
    ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-15"))
    moved = ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-10"))
    assert moved.stdout == (
        f"Member {ANA} paused in coffee until 2026-06-10 (was until 2026-06-15): {SAYS}.\n"
    )
    assert _member(cli)["paused_until"] == "2026-06-10"


def test_the_date_must_come_after_today_in_the_programs_zone(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA])
    ok(cli("program", "add", "kiwi", "--tz", "Pacific/Auckland", "--sender", "t@example.com"))
    ok(cli("member", "add", "kiwi", ANA))
    with time_machine.travel(datetime(2026, 6, 1, 13, 0, tzinfo=UTC), tick=False):
        # 13:00 UTC is already 2 June in Auckland, still 1 June in UTC.
        assert_error(
            cli("member", "pause", "kiwi", ANA, "--until", "2026-06-02"),
            "--until: 2026-06-02 is not after today (2026-06-02 in Pacific/Auckland): "
            f"give the first day {ANA} is invited again",
        )
        ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-02"))
    assert_error(
        cli("member", "pause", "coffee", ANA, "--until", "2026-06-01"),
        "--until: 2026-06-01 is not after today (2026-06-01 in UTC): "
        f"give the first day {ANA} is invited again",
    )
    assert ok(cli("member", "show", "kiwi", ANA, "--json")).json()["paused_until"] is None
    assert _member(cli)["paused_until"] == "2026-06-02"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--until", "31/12/2026"), "--until: invalid date '31/12/2026': numeric dates are read "
                                    "only year first; write e.g. 2026-12-31 or 31 Dec 2026"),
        (("--until", "2026-06-15 09:00"), "--until: invalid date '2026-06-15 09:00': give a date "
                                          "without a time of day"),
        ((), "missing option --until DATE (see sessionctl member pause --help)"),
    ],
    ids=["ambiguous", "with a time", "no date"],
)  # fmt: skip
def test_a_bad_date_is_refused_in_one_line_and_changes_nothing(
    cli: Invoke, args: tuple[str, ...], message: str
) -> None:
    add_program(cli, "coffee", members=[ANA])
    assert_error(cli("member", "pause", "coffee", ANA, *args), message)
    assert _member(cli)["paused_until"] is None


def test_removed_or_unknown_members_are_refused(cli: Invoke) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    ok(cli("member", "pause", "coffee", BO, "--until", "2026-06-15"))
    ok(cli("member", "remove", "coffee", BO))
    for command, doing in (("pause", "pausing"), ("resume", "resuming")):
        until = ["--until", "2026-07-01"] if command == "pause" else []
        assert_error(
            cli("member", command, "coffee", BO.upper(), *until),
            f"{BO} was removed from coffee: bring them back with "
            f"'sessionctl member add coffee {BO}' before {doing}",
        )
        assert_error(
            cli("member", command, "coffee", "zed@example.com", *until),
            "no member zed@example.com in coffee: see 'sessionctl member list coffee --all'",
        )
    assert _member(cli, BO)["paused_until"] == "2026-06-15"


def test_resume_ends_a_pause_and_a_member_not_paused_stays_as_they_are(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-15"))
    resumed = ok(cli("member", "resume", "coffee", ANA))
    assert resumed.stdout == (
        f"Member {ANA} resumed in coffee (was paused until 2026-06-15): rounds invite them again.\n"
    )
    assert _member(cli)["paused_until"] is None
    not_paused = f"Member {ANA} is not paused in coffee: nothing changed.\n"
    assert ok(cli("member", "resume", "coffee", ANA)).stdout == not_paused

    ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-08"))
    frozen.move_to("2026-06-08 00:00Z")  # the pause ended by itself
    assert ok(cli("member", "resume", "coffee", ANA)).stdout == not_paused
    assert _listed(cli)[ANA]["paused_until"] is None
    assert "paused" not in ok(cli("member", "list", "coffee")).stdout


# --- the rule, through run-due -----------------------------------------------------------------


def test_a_paused_member_is_left_out_until_the_date_then_back_by_themselves(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY])
    weekly = ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2026-06-03 09:00",
                    "--repeat", "weekly", "--count", "3", "--json")).json()  # fmt: skip
    ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-15"))

    ok(cli("run-due"))  # round 1 opens on 1 June
    assert sorted(_recipients(server)) == [BO, CY]
    frozen.move_to("2026-06-08 09:00Z")
    seen = len(handler_of(server).received)
    ok(cli("run-due"))  # round 1 matched (nobody joined), round 2 opens on 8 June
    assert sorted(_recipients(server, since=seen)) == [BO, CY]
    frozen.move_to("2026-06-15 09:00Z")
    seen = len(handler_of(server).received)
    ok(cli("run-due"))  # round 3 opens on 15 June: the first day she is back
    assert sorted(_recipients(server, since=seen)) == [ANA, BO, CY]
    assert [figures(cli, r["id"])[0] for r in weekly] == [2, 2, 3]
    assert _listed(cli)[ANA]["paused_until"] is None


def test_pausing_during_an_open_round_turns_the_answer_into_a_skip(
    cli: Invoke, server: SmtpServer
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY, DI])
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-03 09:00")
    ok(cli("run-due"))
    for email in (ANA, BO, CY):
        ok(cli("respond", str(round_id), email, "yes"))

    paused = ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-15"))
    assert paused.stdout == (
        f"Member {ANA} paused in coffee until 2026-06-15: {SAYS}; "
        f"their answer to round {round_id} is now a skip.\n"
    )
    assert figures(cli, round_id) == (4, 2, 1, 1)
    seen = len(handler_of(server).received)
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    assert groups(cli, round_id)["groups"] == [[BO, CY]]
    assert sorted(_recipients(server, since=seen)) == [BO, CY]


def test_without_opt_in_the_match_day_decides(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "lunch", members=[ANA, BO, CY], opt_in=False)
    weekly = ok(cli("schedule", "lunch", "--match", "2026-06-02 12:00", "--repeat", "weekly",
                    "--count", "2", "--json")).json()  # fmt: skip
    ok(cli("member", "pause", "lunch", ANA, "--until", "2026-06-09"))
    frozen.move_to("2026-06-02 12:00Z")
    ok(cli("run-due"))
    frozen.move_to("2026-06-09 12:00Z")
    ok(cli("run-due"))
    first, second = (groups(cli, r["id"])["groups"] for r in weekly)
    assert first == [[BO, CY]]
    assert [sorted(g) for g in second] == [[ANA, BO, CY]]
    assert _recipients(server).count(ANA) == 1  # her one match email, of the second round
