"""Reminders end to end: HOURS before the match, run-due sends one reminder, through the real
SMTP server, to each invited member who has not answered, only while fewer joined than the
program's threshold (its own, else the median of its last rounds, else 50%), and once.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC) and moved on; programs are in UTC. Round
1 opens at T0 and matches on Thursday 2026-06-04 09:00, so its reminder is due on Wednesday at
09:00 (24 hours before, the default).
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    handler_of,
    kinds,
    messages,
    ok,
    parse,
    schedule,
    show,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-04 09:00"
DUE = datetime(2026, 6, 3, 9, 0, tzinfo=UTC)  # 24 hours before MATCH
BASE = "https://coffee.example.com"
MEMBERS = ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _open_round(
    cli: Invoke, members: list[str], *, match: str = MATCH, program: str = "coffee"
) -> int:
    add_program(cli, program, members=members)
    ok(cli("program", "set", program, "--title", "Coffee", "--link-base", BASE))
    round_id = schedule(cli, program, "--opt-in", "now", "--match", match)
    assert f"round {round_id} ({program}): opened" in ok(cli("run-due")).stdout
    return round_id


def _answer(cli: Invoke, round_id: int, **answers: str) -> None:
    text = "email,answer\n" + "".join(f"{e}@example.com,{a}\n" for e, a in answers.items())
    ok(cli("respond", str(round_id), "--import", "-", input=text))


def _run(cli: Invoke, *args: str) -> list[str]:
    result = cli("run-due", *args)
    assert (result.code, result.stderr) == (0, ""), result.stderr
    return result.stdout.splitlines()


def _received(server: SmtpServer, *, since: int) -> dict[str, EmailMessage]:
    mails = [parse(r.content) for r in handler_of(server).received[since:]]
    by_member = {m["To"].addresses[0].addr_spec: m for m in mails}
    assert len(by_member) == len(mails), "a member got two mails"
    return by_member


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def test_a_reminder_goes_once_to_each_invited_member_who_has_not_answered(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id = _open_round(cli, [*MEMBERS, "eve@example.com"])
    _answer(cli, round_id, ana="yes", bo="no")  # 1 of 5 joined: 20%, below the default 50%
    ok(cli("member", "remove", "coffee", "eve@example.com"))  # left: reminded of nothing
    before = len(handler_of(server).received)

    frozen.move_to(DUE - timedelta(minutes=1))
    assert _run(cli) == []
    frozen.move_to(DUE)
    listed = ok(cli("messages", "--json")).stdout
    assert _run(cli, "--dry-run") == [f"would remind round {round_id} (coffee): 2 reminders"]
    assert ok(cli("run-due", "--dry-run", "--json")).json()["reminded"] == [round_id]
    assert ok(cli("messages", "--json")).stdout == listed  # a dry run changes nothing
    assert _run(cli) == [f"round {round_id} (coffee): 2 reminders", "messages: 2 sent"]

    reminders = _received(server, since=before)
    assert sorted(reminders) == ["cy@example.com", "dee@example.com"]
    for msg in reminders.values():
        assert str(msg["Subject"]).strip() == "Coffee: a reminder, are you in for round 1?"
        text = _text(msg)
        assert (
            "The groups of round 1 of Coffee are formed on Thursday 4 June 2026, 09:00 UTC, "
            "and we have not heard from you yet.\n"
        ) in text
        assert f"Join this round: {BASE}/answer/" in text
        assert f"Skip this round: {BASE}/answer/" in text
    assert show(cli, round_id)["reminded"] == 2
    panel = ok(cli("show", str(round_id))).stdout
    assert re.search(r"│ reminded +2 ", panel)

    frozen.move_to(DUE + timedelta(hours=3))  # later runs remind no one again
    assert _run(cli) == []
    frozen.move_to(datetime(2026, 6, 4, 9, 0, tzinfo=UTC))
    assert _run(cli)[0] == f"round {round_id} (coffee): matched 1 person into 0 groups, " + (
        "1 no-match message"
    )
    assert kinds(cli, round_id) == {"opt_in": 5, "reminder": 2, "no_match": 1}
    assert show(cli, round_id)["reminded"] == 2  # the figure stays once matched


def test_no_reminder_while_enough_joined_by_the_program_threshold(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id = _open_round(cli, MEMBERS)
    _answer(cli, round_id, ana="yes", bo="yes")  # 50%: not below the default 50%
    frozen.move_to(DUE)
    assert _run(cli) == []

    ok(cli("program", "set", "coffee", "--reminder-below", "60"))
    frozen.move_to(DUE + timedelta(minutes=5))
    assert _run(cli) == [f"round {round_id} (coffee): 2 reminders", "messages: 2 sent"]


def test_the_default_threshold_is_the_median_of_the_last_rounds(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    first = _open_round(cli, MEMBERS, match="2026-06-01 12:00")
    _answer(cli, first, ana="yes", bo="yes", cy="yes")  # 75% joined round 1
    frozen.move_to(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    assert "matched 3 people into 1 group" in _run(cli)[0]

    second = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    _run(cli)
    _answer(cli, second, ana="yes", bo="yes")  # 50%: below round 1's 75%
    frozen.move_to(DUE)
    assert _run(cli) == [f"round {second} (coffee): 2 reminders", "messages: 2 sent"]


def test_reminder_0_turns_them_off(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id = _open_round(cli, MEMBERS)
    ok(cli("program", "set", "coffee", "--reminder", "0"))
    for hours in (24, 1):
        frozen.move_to(datetime(2026, 6, 4, 9, 0, tzinfo=UTC) - timedelta(hours=hours))
        assert _run(cli) == []
    assert show(cli, round_id)["reminded"] == 0


def test_a_round_opened_late_waits_half_the_hours_or_gets_no_reminder(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    # Opened 20 hours before its match: the opt-in is reminder enough for 12 hours.
    late = _open_round(cli, MEMBERS[:2], match="2026-06-02 05:00", program="late")
    # Opened 10 hours before its match: less than half of 24 hours, so no reminder at all.
    later = _open_round(cli, MEMBERS[2:], match="2026-06-01 19:00", program="later")
    frozen.move_to(datetime(2026, 6, 1, 18, 59, tzinfo=UTC))
    assert _run(cli) == []
    frozen.move_to(T0 + timedelta(hours=11, minutes=59))
    assert _run(cli) == [f"round {later} (later): matched, no participants, no groups"]
    assert show(cli, later)["reminded"] == 0
    frozen.move_to(T0 + timedelta(hours=12))
    assert _run(cli) == [f"round {late} (late): 2 reminders", "messages: 2 sent"]


def test_a_reply_to_a_reminder_answers_the_round(
    cli: Invoke,
    server: SmtpServer,
    frozen: time_machine.Traveller,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    monkeypatch.setenv("SESSIONCTL_INBOX", f"maildir:{tmp_path / 'Maildir'}")
    round_id = _open_round(cli, ["ana@example.com"])
    frozen.move_to(DUE)
    _run(cli)
    [reminder] = _received(server, since=1).values()
    assert "Or reply to this email with yes or no." in _text(reminder)
    box.add(
        (
            "From: Ana <ana@example.com>\r\nTo: team@example.com\r\n"
            "Subject: Re: Coffee: a reminder\r\nDate: Wed, 3 Jun 2026 09:00:00 +0000\r\n"
            f"Message-ID: <re-1@example.com>\r\nIn-Reply-To: {reminder['Message-ID']}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nYes please\r\n"
        ).encode()
    )

    assert f"ana@example.com joins round {round_id} (coffee)" in _run(cli)
    assert show(cli, round_id)["opted_in"] == 1


def test_an_unsent_reminder_of_a_cancelled_round_is_dropped_and_its_notice_goes(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id = _open_round(cli, MEMBERS[:3])
    _answer(cli, round_id, ana="yes")
    # Attempts count from the first mail: the opt-in went, the reminder is turned away.
    handler_of(server).script("DATA", "cy@example.com", "451 4.3.0 Mailbox busy", times=2)
    frozen.move_to(DUE)
    assert cli("run-due").code == 1  # cy's reminder waits for a retry
    before = len(handler_of(server).received)

    ok(cli("cancel", str(round_id)))
    assert _run(cli) == [
        f"round {round_id} (coffee): 1 unsent reminder dropped, the round is cancelled",
        "messages: 3 sent",
    ]
    notices = _received(server, since=before)
    assert sorted(notices) == MEMBERS[:3]
    assert {str(m["Subject"]) for m in notices.values()} == {"Coffee: round 1 is cancelled"}
    [dropped] = [m for m in messages(cli, str(round_id)) if m["status"] == "failed"]
    assert (dropped["email"], dropped["kind"]) == ("cy@example.com", "reminder")
