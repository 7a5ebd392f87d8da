"""Late joiners: a member added, brought back or resumed while a round is open gets its opt-in at
the next run-due, once; delivered to the real SMTP server. A pause that ends while a round is
open does not make a late joiner of it. Time is frozen at T0 (Monday 2026-06-01 09:00 UTC).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from tests.conftest import Invoke, Result
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    figures,
    groups,
    handler_of,
    messages,
    ok,
    parse,
    schedule,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-05 09:00"
ANA, BO, CY, DI, EVE = (f"{n}@example.com" for n in ("ana", "bo", "cy", "di", "eve"))


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opened(cli: Invoke, server: SmtpServer) -> int:
    """coffee's round, open since T0: ana, bo and cy were invited and emailed."""
    add_program(cli, "coffee", members=[ANA, BO, CY])
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    assert len(handler_of(server).received) == 3
    return round_id


def _opt_ins(server: SmtpServer) -> Counter[str]:
    """How many opt-in emails the server received for each address."""
    found: Counter[str] = Counter()
    for r in handler_of(server).received:
        msg = parse(r.content)
        if "your match" not in str(msg["Subject"]):
            found[msg["To"].addresses[0].addr_spec] += 1
    return found


def _lines(result: Result) -> list[str]:
    assert (result.code, result.stderr) == (0, ""), result.stderr
    return result.stdout.splitlines()


def test_a_member_added_while_a_round_is_open_gets_its_opt_in_once(
    cli: Invoke, server: SmtpServer, opened: int
) -> None:
    ok(cli("member", "add", "coffee", DI, "--name", "Di"))
    assert _lines(cli("run-due")) == [
        f"round {opened} (coffee): 1 late opt-in message",
        "messages: 1 sent",
    ]
    assert _lines(cli("run-due")) == []  # once
    assert _opt_ins(server) == dict.fromkeys((ANA, BO, CY, DI), 1)
    assert figures(cli, opened) == (4, 0, 0, 4)

    # Invited like the others: her answer counts and she is matched.
    ok(cli("respond", str(opened), DI, "yes"))
    ok(cli("respond", str(opened), ANA, "yes"))
    ok(cli("update", str(opened), "--match", "now"))
    ok(cli("member", "add", "coffee", EVE))  # after the match time: too late for this round
    assert _lines(cli("run-due")) == [
        f"round {opened} (coffee): matched 2 people into 1 group",
        "messages: 2 sent",
    ]
    assert groups(cli, opened)["groups"] == [[ANA, DI]]
    assert EVE not in _opt_ins(server)


def test_json_and_dry_run_report_the_late_opt_ins(cli: Invoke, opened: int) -> None:
    text = f"email,name\n{DI},Di\n{EVE},Eve\n"
    ok(cli("member", "import", "coffee", "-", input=text))
    before = messages(cli)

    dry = cli("run-due", "--dry-run")
    assert _lines(dry) == [
        f"would invite late joiners to round {opened} (coffee): 2 opt-in messages"
    ]
    assert ok(cli("run-due", "--dry-run", "--json")).json()["late"] == [
        {"round": opened, "messages": 2}
    ]
    assert messages(cli) == before

    ran = ok(cli("run-due", "--json")).json()
    assert (ran["late"], ran["sent"], ran["opened"]) == ([{"round": opened, "messages": 2}], 2, [])
    assert ok(cli("run-due", "--json")).json()["late"] == []


def test_a_member_brought_back_after_their_opt_in_went_out_gets_nothing_new(
    cli: Invoke, server: SmtpServer, opened: int
) -> None:
    ok(cli("respond", str(opened), ANA, "yes"))
    ok(cli("member", "remove", "coffee", ANA))
    ok(cli("member", "add", "coffee", ANA))
    assert _lines(cli("run-due")) == []
    assert _opt_ins(server)[ANA] == 1
    assert figures(cli, opened) == (3, 0, 0, 3)  # her answer went with her removal
    ok(cli("respond", str(opened), ANA, "yes"))  # she is invited: she may answer again
    assert figures(cli, opened) == (3, 1, 0, 2)


def test_an_opt_in_stopped_by_a_removal_goes_out_when_the_member_is_back(
    cli: Invoke, server: SmtpServer
) -> None:
    add_program(cli, "coffee", members=[ANA, BO])
    handler_of(server).script("RCPT", ANA, "451 4.3.0 Try again later", times=1)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    assert cli("run-due").code == 1  # hers waits for a retry
    ok(cli("member", "remove", "coffee", ANA))
    [stopped] = [m for m in messages(cli) if m["email"] == ANA]
    assert stopped["status"] == "failed"

    ok(cli("member", "add", "coffee", ANA))
    assert _lines(cli("run-due")) == [
        f"round {round_id} (coffee): 1 late opt-in message",
        "messages: 1 sent",
    ]
    [sent] = [m for m in messages(cli) if m["email"] == ANA]
    assert (sent["status"], sent["message_id"]) == ("sent", stopped["message_id"])
    assert _opt_ins(server) == {ANA: 1, BO: 1}
    assert _lines(cli("run-due")) == []


def test_a_pause_that_ends_while_the_round_is_open_is_no_late_join_but_a_resume_is(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "coffee", members=[ANA, BO, CY])
    ok(cli("member", "pause", "coffee", ANA, "--until", "2026-06-03"))
    ok(cli("member", "pause", "coffee", BO, "--until", "2026-06-20"))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    assert _opt_ins(server) == {CY: 1}

    frozen.move_to("2026-06-03 09:00Z")  # ana's pause ended: she waits for the next round
    assert _lines(cli("run-due")) == []
    resumed = ok(cli("member", "resume", "coffee", BO)).stdout
    assert resumed == (
        f"Member {BO} resumed in coffee (was paused until 2026-06-20): rounds invite them "
        f"again. The next run-due sends them the opt-in of round {round_id}.\n"
    )
    assert _lines(cli("run-due")) == [
        f"round {round_id} (coffee): 1 late opt-in message",
        "messages: 1 sent",
    ]
    assert _opt_ins(server) == {BO: 1, CY: 1}
    assert figures(cli, round_id) == (2, 0, 0, 2)


def test_without_opt_in_a_member_added_before_the_match_is_in_it(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    add_program(cli, "lunch", members=[ANA, BO, CY], opt_in=False)
    round_id = schedule(cli, "lunch", "--match", "2026-06-02 12:00")
    ok(cli("member", "add", "lunch", DI))
    frozen.move_to("2026-06-02 12:00Z")
    assert _lines(cli("run-due")) == [
        f"round {round_id} (lunch): matched 4 people into 2 groups",
        "messages: 4 sent",
    ]
    assert DI in {m for g in groups(cli, round_id)["groups"] for m in g}
    assert sorted(_opt_ins(server)) == []  # no opt-in in this program: match emails only
    assert len(handler_of(server).received) == 4
