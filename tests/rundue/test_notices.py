"""Change notices end to end: an open round's match moves, or it is cancelled, and each member
its opt-in went to hears once, through the real SMTP server, at the next run-due; --quiet sends
nothing; planned rounds and --match now send nothing; a notice overtaken by the match is dropped.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC); programs are in UTC.
"""

from __future__ import annotations

import mailbox
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine

from sessionctl.domain.words import plural
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
MATCH = "2026-06-10 09:00"
BASE = "https://coffee.example.com"
MOVED = "Thursday 11 June 2026, 10:00 UTC"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _open_round(cli: Invoke, members: list[str], *, link_base: bool = True) -> int:
    """A Coffee round opened by run-due, its opt-ins delivered to ``members``."""
    add_program(cli, "coffee", members=members)
    flags = ["--title", "Coffee", *(["--link-base", BASE] if link_base else [])]
    ok(cli("program", "set", "coffee", *flags))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    opened = f"round {round_id} (coffee): opened, {plural(len(members), 'opt-in message')}"
    assert ok(cli("run-due")).stdout.splitlines()[0] == opened
    return round_id


def _received(server: SmtpServer, *, since: int = 0) -> dict[str, EmailMessage]:
    """The mails the server accepted (after the first ``since``), by recipient: one each."""
    mails = [parse(r.content) for r in handler_of(server).received[since:]]
    by_member = {m["To"].addresses[0].addr_spec: m for m in mails}
    assert len(by_member) == len(mails), "a member got two mails"
    return by_member


def _subject(msg: EmailMessage) -> str:
    # A subject of 70 to 77 characters is folded whole onto a line of its own, and reads back
    # with the space that starts that line: clients show it without.
    return str(msg["Subject"]).strip()


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def _lines(cli: Invoke, *args: str) -> list[str]:
    result = ok(cli(*args))
    return result.stdout.splitlines()


def test_a_moved_match_reaches_each_invited_member_once_with_the_new_time(
    cli: Invoke, server: SmtpServer
) -> None:
    members = ["ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com"]
    round_id = _open_round(cli, members)
    ok(cli("respond", str(round_id), "ana@example.com", "yes"))
    ok(cli("member", "remove", "coffee", "dee@example.com"))  # left: hears nothing more
    before = len(handler_of(server).received)

    assert _lines(cli, "update", str(round_id), "--match", "2026-06-11 10:00") == [
        f"Round {round_id} updated: coffee, opt-in Mon 2026-06-01 09:00 UTC, "
        "match Thu 2026-06-11 10:00 UTC.",
        f"Round {round_id}: 3 members will get a change notice at the next run-due.",
    ]
    assert kinds(cli, round_id) == {"opt_in": 4, "notice": 3}
    assert _lines(cli, "run-due") == ["messages: 3 sent"]

    notices = _received(server, since=before)
    assert sorted(notices) == members[:3]
    for address, msg in notices.items():
        assert _subject(msg) == f"Coffee: round 1 now forms its groups on {MOVED}"
        text = _text(msg)
        assert f"Round 1 of Coffee now forms its groups on {MOVED}.\n" in text
        assert "Answers still count until then, and you can change yours:\n" in text
        assert f"Join this round: {BASE}/answer/" in text
        assert f"Skip this round: {BASE}/answer/" in text
        assert address in str(msg["To"])
    # The notice's links answer the round, as the opt-in's do.
    join = _text(notices["bo@example.com"]).split("Join this round: ")[1].split()[0]
    token = join.rpartition("/answer/")[2]
    assert _lines(cli, "respond", "--token", token) == [
        f"Round {round_id}: 1 answer recorded (1 yes, 0 no)."
    ]
    assert show(cli, round_id)["opted_in"] == 2
    nothing = cli("run-due")
    assert (nothing.code, nothing.stdout, nothing.stderr) == (0, "", "")
    assert len(handler_of(server).received) == before + 3


def test_changes_before_a_run_make_one_notice_and_a_change_after_it_another(
    cli: Invoke, server: SmtpServer
) -> None:
    members = ["ana@example.com", "bo@example.com"]
    round_id = _open_round(cli, members, link_base=False)
    start = len(handler_of(server).received)

    ok(cli("update", str(round_id), "--match", "2026-06-12 10:00"))
    second = ok(cli("update", str(round_id), "--match", "2026-06-11 10:00", "--json")).json()
    assert second["notices"] == 2  # who will hear of it: the notices already waiting
    assert kinds(cli, round_id) == {"opt_in": 2, "notice": 2}
    assert _lines(cli, "run-due") == ["messages: 2 sent"]
    first_notices = _received(server, since=start)
    for msg in first_notices.values():  # built when sent: the latest time, and only it
        assert MOVED in _subject(msg)
        assert "12 June" not in _text(msg)

    ok(cli("update", str(round_id), "--match", "2026-06-12 15:30"))
    assert _lines(cli, "run-due") == ["messages: 2 sent"]
    later = _received(server, since=start + 2)
    assert sorted(later) == members
    for msg in later.values():
        assert "Friday 12 June 2026, 15:30 UTC" in _subject(msg)
        assert ".notice-1." in str(msg["Message-ID"])
        assert "To answer, write to team@example.com." in _text(msg)
    notices = [m for m in messages(cli, str(round_id)) if m["kind"] == "notice"]
    assert Counter(m["status"] for m in notices) == {"sent": 4}
    assert len({m["message_id"] for m in notices}) == 4


def test_a_cancelled_open_round_tells_whom_its_opt_in_reached_and_drops_the_rest(
    cli: Invoke, server: SmtpServer
) -> None:
    handler_of(server).script("DATA", "cy@example.com", "451 4.3.0 Mailbox busy", times=1)
    add_program(cli, "coffee", members=["ana@example.com", "bo@example.com", "cy@example.com"])
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    assert cli("run-due").code == 1  # cy's opt-in waits for a retry
    before = len(handler_of(server).received)

    cancelled = _lines(cli, "cancel", str(round_id))
    assert cancelled[1:] == [
        f"Round {round_id}: 2 members will get a change notice at the next run-due."
    ]
    assert _lines(cli, "run-due") == [
        f"round {round_id} (coffee): 1 unsent opt-in message dropped, the round is cancelled",
        "messages: 2 sent",
    ]
    notices = _received(server, since=before)
    assert sorted(notices) == ["ana@example.com", "bo@example.com"]
    for msg in notices.values():
        assert _subject(msg) == "coffee: round 1 is cancelled"
        text = _text(msg)
        assert "Round 1 of coffee is cancelled.\n" in text
        # The round takes no answer any more: no links, no reply words, no whom to tell.
        for gone in ("Answers still count", "Join", "yes or no", "To answer"):
            assert gone not in text
    assert _lines(cli, "run-due") == []


def test_quiet_update_and_cancel_send_no_notice(cli: Invoke, server: SmtpServer) -> None:
    round_id = _open_round(cli, ["ana@example.com", "bo@example.com"])
    before = len(handler_of(server).received)

    moved = _lines(cli, "update", str(round_id), "--match", "2026-06-11 10:00", "--quiet")
    assert moved[1:] == [f"Round {round_id}: no change notice (--quiet)."]
    again = cli("update", str(round_id), "--match", "2026-06-12 10:00", "--quiet", "--json")
    assert ok(again).json()["notices"] == 0
    cancelled = ok(cli("cancel", str(round_id), "--quiet", "--json")).json()
    assert (cancelled["status"], cancelled["notices"]) == ("cancelled", 0)

    assert _lines(cli, "run-due") == []
    assert kinds(cli, round_id) == {"opt_in": 2}
    assert len(handler_of(server).received) == before


def test_planned_rounds_and_match_now_send_no_notice(cli: Invoke, server: SmtpServer) -> None:
    round_id = _open_round(cli, ["ana@example.com", "bo@example.com"])
    planned = schedule(cli, "coffee", "--opt-in", "2026-06-12 09:00", "--match", "2026-06-15 09:00")

    assert len(_lines(cli, "update", str(planned), "--match", "2026-06-16 09:00")) == 1
    assert len(_lines(cli, "cancel", str(planned))) == 1
    ok(cli("respond", str(round_id), "ana@example.com", "yes"))
    now = _lines(cli, "update", str(round_id), "--match", "now")
    assert now[1:] == [
        f"Round {round_id}: no change notice, its match emails follow at the next run-due."
    ]
    assert _lines(cli, "run-due") == [
        f"round {round_id} (coffee): matched 1 person into 0 groups, 1 no-match message",
        "messages: 1 sent",
    ]
    assert kinds(cli, round_id) == {"opt_in": 2, "no_match": 1}
    assert kinds(cli, planned) == {}


def test_a_notice_still_unsent_when_the_round_is_matched_is_dropped(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id = _open_round(cli, ["ana@example.com", "bo@example.com"])
    for address in ("ana@example.com", "bo@example.com"):
        ok(cli("respond", str(round_id), address, "yes"))
    ok(cli("update", str(round_id), "--match", "2026-06-01 09:10"))
    frozen.move_to(T0 + timedelta(minutes=11))  # the next run comes after the new match time

    assert _lines(cli, "run-due") == [
        f"round {round_id} (coffee): matched 2 people into 1 group",
        f"round {round_id} (coffee): 2 unsent change notices dropped, the round is done",
        "messages: 2 sent",
    ]
    notices = [m for m in messages(cli, str(round_id)) if m["kind"] == "notice"]
    assert {(m["status"], m["last_error"]) for m in notices} == {
        ("failed", f"not sent: round {round_id} is done, the change it announced is past")
    }
    assert {_subject(parse(r.content)) for r in handler_of(server).received[2:]} == {
        "Coffee: your match for round 1"
    }


def test_a_reply_to_a_notice_answers_the_round(
    cli: Invoke, server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    monkeypatch.setenv("SESSIONCTL_INBOX", f"maildir:{tmp_path / 'Maildir'}")
    round_id = _open_round(cli, ["ana@example.com"])
    ok(cli("update", str(round_id), "--match", "2026-06-11 10:00"))
    ok(cli("run-due"))
    [notice] = [parse(r.content) for r in handler_of(server).received[1:]]
    assert "Or reply to this email with yes or no." in _text(notice)
    box.add(
        (
            "From: Ana <ana@example.com>\r\nTo: team@example.com\r\n"
            f"Subject: Re: {_subject(notice)}\r\nDate: Mon, 1 Jun 2026 09:00:00 +0000\r\n"
            f"Message-ID: <re-1@example.com>\r\nIn-Reply-To: {notice['Message-ID']}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nYes, count me in!\r\n"
        ).encode()
    )

    assert f"ana@example.com joins round {round_id} (coffee)" in _lines(cli, "run-due")
    assert show(cli, round_id)["opted_in"] == 1


def test_the_notice_template_previews_the_round_as_it_is(cli: Invoke, server: SmtpServer) -> None:
    round_id = _open_round(cli, ["ana@example.com"])
    ok(cli("program", "set", "coffee", "--language", "fr"))
    ok(cli("update", str(round_id), "--match", "2026-06-11 10:00", "--quiet"))

    moved = _lines(cli, "program", "template", "coffee", "notice", "--preview")
    when = "le jeudi 11 juin 2026, 10:00 UTC"
    assert f"Subject: Coffee : le tour 1 formera désormais ses groupes {when}" in moved
    ok(cli("cancel", str(round_id), "--quiet"))
    cancelled = _lines(cli, "program", "template", "coffee", "notice", "--preview")
    assert "Subject: Coffee : le tour 1 est annulé" in cancelled
    assert "Le tour 1 de Coffee est annulé." in cancelled


def test_a_member_who_leaves_before_the_notice_goes_gets_none(
    cli: Invoke, server: SmtpServer
) -> None:
    round_id = _open_round(cli, ["ana@example.com", "bo@example.com"])
    ok(cli("update", str(round_id), "--match", "2026-06-11 10:00"))
    ok(cli("member", "remove", "coffee", "bo@example.com"))
    before = len(handler_of(server).received)

    assert _lines(cli, "run-due") == ["messages: 1 sent"]
    assert sorted(_received(server, since=before)) == ["ana@example.com"]
    [dropped] = [m for m in messages(cli, str(round_id)) if m["status"] == "failed"]
    assert (dropped["email"], dropped["kind"], dropped["last_error"]) == (
        "bo@example.com",
        "notice",
        # Stopped by the removal itself, so that no run delivering meanwhile claims it.
        "not sent: bo@example.com was removed from coffee",
    )
