"""Answers by email, end to end: opt-ins go out, members reply as their mail clients write,
the replies come back through a real IMAP server (Dovecot, tests/imapserver.py), and run-due
records each once: answers, pauses, unsubscribes, bounces; auto-replies change nothing, mail
that is not ours is never touched, an unreadable reply is left for the admin.

The replies are the raw messages of tests/domain/mail, made to answer this test's own opt-ins:
the reference they carry (In-Reply-To, References, the unsubscribe subject, the bounced
message's Message-ID) is swapped for the Message-ID of the member's real opt-in.
"""

from __future__ import annotations

import random
import re
import signal
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from tests.conftest import Invoke, sql
from tests.imapserver import Account
from tests.rundue.conftest import (
    SENDER,
    add_program,
    finish,
    messages,
    ok,
    outbox,
    outbox_count,
    schedule,
    show,
    spawn,
)

MAIL = Path(__file__).parent.parent / "domain" / "mail"
_REFERENCE = re.compile(rb"sessionctl\.\d+\.\d+\.[a-z_]+\.[0-9a-f]{12}")


@dataclass(frozen=True)
class Reply:
    fixture: str
    member: str  # whose opt-in it answers
    outcome: str  # what run-due records


REPLIES = (
    Reply("gmail_yes.eml", "clara.dupont@gmail.com", "join"),
    Reply("gmail_html_only.eml", "ravi.k@gmail.com", "skip"),
    Reply("outlook_web_html.eml", "juergen.mueller@contoso.com", "skip"),
    Reply("outlook_desktop_plain.eml", "priya.nair@contoso.com", "join"),
    Reply("outlook_original_message.eml", "tom.baker@fabrikam.example", "skip"),
    Reply("apple_mail.eml", "sam.lee@icloud.com", "join"),
    Reply("apple_mail_at.eml", "nora@fastmail.example", "skip"),
    Reply("thunderbird.eml", "jane.doe@posteo.example", "join"),
    Reply("thunderbird_bottom_post.eml", "karl@posteo.example", "skip"),
    Reply("iphone_short.eml", "mia.chen@me.example", "join"),
    Reply("french_iphone.eml", "adele.martin@orange.example", "join"),
    Reply("german_pause_base64.eml", "hans.schmidt@web.example", "pause"),
    Reply("exchange_ooo.eml", "lena.fischer@contoso.com", "auto"),
    Reply("gmail_vacation.eml", "omar.haddad@gmail.com", "auto"),
    Reply("unsubscribe_mailto.eml", "pierre.roux@free.example", "left"),
    Reply("postfix_dsn.eml", "eve@example.net", "bounce"),
)
UNREADABLE = "quentin@example.org"  # writes a question, not an answer
NOT_OURS = "mailing_list.eml"  # a list post answering someone else's mail
MEMBERS = [r.member for r in REPLIES] + [UNREADABLE]


@pytest.fixture
def inbox(imap_account: Account, monkeypatch: pytest.MonkeyPatch) -> Account:
    monkeypatch.setenv("SESSIONCTL_INBOX", imap_account.spec().describe())
    monkeypatch.setenv("SESSIONCTL_IMAP_PASSWORD", imap_account.password)
    return imap_account


@pytest.fixture
def opened(cli: Invoke, isolated: Path, inbox: Account) -> tuple[int, dict[str, str]]:
    """Round 1 of coffee, open, its opt-ins in the outbox: (round id, email -> Message-ID)."""
    add_program(cli, "coffee", members=MEMBERS)
    ok(cli("program", "set", "coffee", "--reply-to", "answers@example.com"))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 23:00")
    ran = ok(cli("run-due"))
    assert f"round {round_id} (coffee): opened, {len(MEMBERS)} opt-in messages" in ran.stdout
    sent = {msg["To"].addresses[0].addr_spec: msg for msg in outbox(isolated)}
    assert set(sent) == set(MEMBERS)
    return round_id, {email: str(msg["Message-ID"]) for email, msg in sent.items()}


def _answering(fixture: str, message_id: str) -> bytes:
    """The fixture, made to answer (or report on) the message ``message_id``."""
    raw = (MAIL / fixture).read_bytes()
    token = message_id.strip("<>").rpartition("@")[0].encode()
    assert _REFERENCE.search(raw), fixture
    return _REFERENCE.sub(token, raw)


def _question(message_id: str) -> bytes:
    return (
        "From: Quentin <quentin@example.org>\r\n"
        "To: answers@example.com\r\n"
        "Subject: Re: Coffee: are you in?\r\n"
        "Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n"
        "Message-ID: <q1@example.org>\r\n"
        f"In-Reply-To: {message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Where do we meet, and who pays for the coffee?\r\n\r\n"
        f"On Tue, 1 Dec 2026, Coffee <{SENDER}> wrote:\r\n> Would you like to be matched?\r\n"
    ).encode()


def _deliver_replies(inbox: Account, ids: dict[str, str]) -> None:
    for reply in REPLIES:
        inbox.append(_answering(reply.fixture, ids[reply.member]))
    inbox.append(_question(ids[UNREADABLE]))
    inbox.append((MAIL / NOT_OURS).read_bytes())


def _recorded(report: dict[str, Any]) -> dict[str, str]:
    return {r["email"]: r["outcome"] for r in report["recorded"]}


def _members(cli: Invoke) -> dict[str, dict[str, Any]]:
    return {m["email"]: m for m in ok(cli("member", "list", "coffee", "--all", "--json")).json()}


def test_one_run_records_every_readable_answer_once(
    cli: Invoke, isolated: Path, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)
    sent_before = outbox_count(isolated)

    ran = cli("run-due", "--json")

    assert ran.code == 0, ran.stderr
    assert outbox_count(isolated) == sent_before  # nothing was answered: no auto-reply, no loop
    report = ran.json()["inbox"]
    assert report["read"] == len(REPLIES) + 1  # the list post is not even fetched
    assert _recorded(report) == {
        **{r.member: r.outcome for r in REPLIES},
        UNREADABLE: "unreadable",
    }
    assert [u["email"] for u in report["unreadable"]] == [UNREADABLE]
    assert (report["not_ours"], report["seen_before"]) == (0, 0)
    # The answers count in the round's figures; the pause is a skip of this round.
    joins = sum(r.outcome == "join" for r in REPLIES)
    skips = sum(r.outcome in ("skip", "pause") for r in REPLIES)
    shown = show(cli, round_id)
    assert (shown["opted_in"], shown["declined"]) == (joins, skips)
    # Who asked to leave has left, with the reason; the bounce failed the opt-in it reports.
    members = _members(cli)
    assert members["pierre.roux@free.example"]["active"] is False
    assert members["pierre.roux@free.example"]["left_reason"] == "unsubscribed by email"
    assert members["hans.schmidt@web.example"]["paused_until"] is not None
    bounced = [m for m in messages(cli, str(round_id)) if m["email"] == "eve@example.net"]
    assert [m["status"] for m in bounced] == ["failed"]
    assert bounced[0]["last_error"].startswith("bounced: 5.1.1")
    assert members["eve@example.net"]["active"] is True  # one bounce of the three allowed
    # The paused member is not invited to the next round; who left is not either.
    next_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 22:00")
    ok(cli("run-due"))
    invited = {m["email"] for m in messages(cli, str(next_id))}
    assert invited == set(MEMBERS) - {"hans.schmidt@web.example", "pierre.roux@free.example"}
    # Ours is filed; the unreadable reply and the list post stay, the post unread as it came.
    left = inbox.messages()
    assert len(inbox.processed()) == len(REPLIES)
    assert len(left) == 2
    post = next(m for m in left if b"lists.example.org" in m.raw)
    assert "\\Seen" not in post.flags


def test_a_second_run_and_the_inbox_command_record_nothing_again(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)
    ok(cli("run-due"))
    before = show(cli, round_id)

    again = cli("run-due", "--json")
    listed = ok(cli("inbox", "--json")).json()

    assert again.code == 0, again.stderr
    assert again.json()["inbox"]["recorded"] == []
    assert again.json()["inbox"]["seen_before"] == 1  # the unreadable reply, still waiting
    assert listed["recorded"] == []
    assert [u["email"] for u in listed["unreadable"]] == [UNREADABLE]
    assert listed["unreadable"][0]["round"] == round_id
    assert show(cli, round_id) == before
    assert sql("SELECT count(*) FROM inbound") == [(len(REPLIES) + 1,)]


def test_the_run_says_what_it_read_in_one_line_each(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)

    lines = ok(cli("run-due")).stdout.splitlines()

    assert f"clara.dupont@gmail.com joins round {round_id} (coffee)" in lines
    assert f"ravi.k@gmail.com skips round {round_id} (coffee)" in lines
    assert "pierre.roux@free.example left coffee: unsubscribed by email" in lines
    assert any(line.startswith("eve@example.net: a message of round") for line in lines)
    assert any(line.startswith(f"unreadable reply from {UNREADABLE}") for line in lines)
    assert (
        "inbox: 17 mails read, 11 answers, 1 paused, 1 left, 1 bounced, "
        "2 auto-replies ignored, 1 unreadable left for you"
    ) in lines


def test_dry_run_decides_but_changes_nothing(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)
    before = show(cli, round_id)

    dry = ok(cli("inbox", "--dry-run", "--json")).json()
    said = ok(cli("inbox", "--dry-run")).stdout

    assert _recorded(dry) == {**{r.member: r.outcome for r in REPLIES}, UNREADABLE: "unreadable"}
    assert f"would record: clara.dupont@gmail.com joins round {round_id} (coffee)" in said
    assert show(cli, round_id) == before
    assert sql("SELECT count(*) FROM inbound") == [(0,)]
    assert inbox.processed() == []
    assert len(inbox.messages()) == len(REPLIES) + 2


@pytest.mark.slow
def test_killed_runs_then_a_full_one_record_each_reply_once(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)
    rng = random.Random(10)
    for _ in range(8):  # killed anywhere: before, inside or after a reply's transaction
        proc = spawn("inbox", env={})
        time.sleep(rng.uniform(0.2, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    ok(cli("inbox"))

    rows = sql("SELECT message_id, count(*) FROM inbound GROUP BY message_id")
    assert len(rows) == len(REPLIES) + 1 and {count for _, count in rows} == {1}
    joins = sum(r.outcome == "join" for r in REPLIES)
    skips = sum(r.outcome in ("skip", "pause") for r in REPLIES)
    shown = show(cli, round_id)
    assert (shown["opted_in"], shown["declined"]) == (joins, skips)
    assert len(inbox.processed()) == len(REPLIES)
    assert len(inbox.messages()) == 2


@pytest.mark.slow
def test_concurrent_runs_record_each_reply_once(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    _deliver_replies(inbox, ids)

    procs = [spawn("inbox", "--json", env={}) for _ in range(4)]
    results = [finish(proc) for proc in procs]

    for result in results:
        assert result.code == 0, result.stderr
    # One run reads at a time; the others find it busy and leave the inbox alone.
    readers = [result.json() for result in results if not result.json()["busy"]]
    assert len(readers) >= 1
    recorded = [r for report in readers for r in report["recorded"]]
    assert sorted(r["email"] for r in recorded) == sorted(
        [*(r.member for r in REPLIES), UNREADABLE]
    )
    assert sql("SELECT count(*) FROM inbound") == [(len(REPLIES) + 1,)]
    shown = show(cli, round_id)
    assert shown["opted_in"] == sum(r.outcome == "join" for r in REPLIES)
    assert len(inbox.processed()) == len(REPLIES)


def test_a_reply_after_the_match_is_recorded_late_and_changes_nothing(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    assert show(cli, round_id)["status"] == "done"
    inbox.append(_answering("gmail_yes.eml", ids["clara.dupont@gmail.com"]))

    report = ok(cli("inbox", "--json")).json()

    [late] = report["recorded"]
    assert (late["outcome"], late["email"]) == ("late", "clara.dupont@gmail.com")
    assert "after the match time" in late["detail"]
    assert show(cli, round_id)["opted_in"] == 0
    assert len(inbox.processed()) == 1


def test_hard_bounces_in_a_row_deactivate_the_member(
    cli: Invoke, isolated: Path, inbox: Account
) -> None:
    add_program(cli, "coffee", members=["eve@example.net", "bob@example.com"])
    ok(cli("program", "set", "coffee", "--bounce-limit", "2"))
    first = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 22:00")
    second = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 23:00")
    ok(cli("run-due"))
    to_eve = [str(m["Message-ID"]) for m in outbox(isolated) if "eve@" in str(m["To"])]
    assert len(to_eve) == 2
    inbox.append(_answering("postfix_dsn.eml", to_eve[0]))
    once = ok(cli("run-due")).stdout
    assert "deactivated" not in once
    inbox.append(_answering("exim_dsn.eml", to_eve[1]))

    twice = ok(cli("run-due")).stdout

    assert "eve@example.net deactivated in coffee: 2 hard bounces in a row" in twice
    eve = _members(cli)["eve@example.net"]
    assert eve["active"] is False
    assert eve["left_reason"].startswith("2 hard bounces in a row, the last: 5.")
    for round_id in (first, second):
        failed = [m for m in messages(cli, str(round_id)) if m["email"] == "eve@example.net"]
        assert [m["last_error"][:9] for m in failed] == ["bounced: "]


def test_a_maildir_inbox_works_the_same(
    cli: Invoke, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailbox

    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    monkeypatch.setenv("SESSIONCTL_INBOX", f"maildir:{tmp_path / 'Maildir'}")
    add_program(cli, "coffee", members=["clara.dupont@gmail.com"])
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 23:00")
    ok(cli("run-due"))
    [invite] = outbox(isolated)
    box.add(_answering("gmail_yes.eml", str(invite["Message-ID"])))
    box.add((MAIL / NOT_OURS).read_bytes())

    lines = ok(cli("run-due")).stdout.splitlines()

    assert f"clara.dupont@gmail.com joins round {round_id} (coffee)" in lines
    assert show(cli, round_id)["opted_in"] == 1
    assert len(box) == 1  # the list post, untouched
    filed = box.get_folder("sessionctl-processed")
    assert [msg.get_flags() for msg in filed] == ["S"]


def test_no_inbox_set_up_is_a_clear_error(cli: Invoke, isolated: Path) -> None:
    done = cli("inbox")

    assert done.code == 2
    assert done.stderr.startswith("error: no inbox is set up: set SESSIONCTL_INBOX")


def test_the_unsubscribe_mailto_of_a_real_email_makes_the_member_leave(
    cli: Invoke, isolated: Path, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    # What a mailbox provider sends when its user clicks "unsubscribe": a new mail (no
    # In-Reply-To) to the List-Unsubscribe mailto, with its subject.
    [invite] = [m for m in outbox(isolated) if "clara.dupont" in str(m["To"])]
    [target] = re.findall(r"<mailto:([^>]+)>", str(invite["List-Unsubscribe"]))
    address, _, query = target.partition("?")
    subject = unquote(query.removeprefix("subject="))
    assert address == "answers@example.com"  # the program's reply-to
    inbox.append(
        (
            "From: Clara Dupont <clara.dupont@gmail.com>\r\n"
            f"To: {address}\r\n"
            f"Subject: {subject}\r\n"
            "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
            "Message-ID: <unsub-1@mail.gmail.com>\r\n"
            "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
            "This message was automatically generated by Gmail.\r\n"
        ).encode()
    )

    lines = ok(cli("run-due")).stdout.splitlines()

    assert "clara.dupont@gmail.com left coffee: unsubscribed by email" in lines
    assert _members(cli)["clara.dupont@gmail.com"]["active"] is False


def test_an_unsubscribe_link_is_no_answer(
    cli: Invoke, isolated: Path, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, _ = opened
    ok(cli("program", "set", "coffee", "--link-base", "https://coffee.example.com"))
    schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 22:00")
    ok(cli("run-due"))
    [invite] = [
        m for m in outbox(isolated) if "clara.dupont" in str(m["To"]) and m["List-Unsubscribe-Post"]
    ]
    token = str(invite["List-Unsubscribe"]).rpartition("/leave/")[2].rstrip(">").strip()

    refused = cli("respond", "--token", token)

    assert refused.code == 2
    assert refused.stderr.startswith("error: invalid answer token")
    assert show(cli, round_id)["declined"] == 0


def test_a_reply_read_late_never_undoes_a_newer_answer(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    # Clara wrote "Yes!" a minute ago; since then she told the admin "no". The mail, read
    # now, is older than her latest answer: it changes nothing.
    round_id, ids = opened
    written = datetime.now(UTC) - timedelta(minutes=1)
    inbox.append(_answering("gmail_yes.eml", ids["clara.dupont@gmail.com"]), when=written)
    ok(cli("respond", str(round_id), "clara.dupont@gmail.com", "no"))

    [read] = ok(cli("inbox", "--json")).json()["recorded"]

    assert (read["outcome"], read["detail"]) == (
        "late",
        "join was written before their latest answer",
    )
    assert (show(cli, round_id)["opted_in"], show(cli, round_id)["declined"]) == (0, 1)


def test_run_due_names_an_unreadable_reply_once_and_inbox_every_time(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    _, ids = opened
    inbox.append(_question(ids[UNREADABLE]))

    first = ok(cli("run-due")).stdout
    second = ok(cli("run-due")).stdout
    listed = ok(cli("inbox")).stdout

    assert f"unreadable reply from {UNREADABLE}" in first
    assert second == ""  # cron mails nothing more about it
    assert f"unreadable reply from {UNREADABLE}" in listed
    assert "respond 1 quentin@example.org yes|no" in listed


def test_an_inbox_that_cannot_be_read_fails_the_run_but_stops_nothing_else(
    cli: Invoke, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SESSIONCTL_INBOX", f"imaps://answers@127.0.0.1:{port}/INBOX")
    monkeypatch.setenv("SESSIONCTL_IMAP_PASSWORD", "secret-not-shown")
    add_program(cli, "coffee", members=["ana@example.com"])
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 23:00")

    ran = cli("run-due")

    assert ran.code == 1
    assert ran.stderr.startswith("error: inbox not read: ")
    assert "may lack answers sent by email" in ran.stderr
    assert "secret-not-shown" not in ran.stderr + ran.stdout
    assert f"round {round_id} (coffee): opened, 1 opt-in message" in ran.stdout
    assert len(outbox(isolated)) == 1


def test_a_reply_with_a_huge_message_id_counts_once(
    cli: Invoke, inbox: Account, opened: tuple[int, dict[str, str]]
) -> None:
    round_id, ids = opened
    huge = "<" + "x" * 3000 + "@mail.example>"
    raw = _answering("gmail_yes.eml", ids["clara.dupont@gmail.com"])
    raw = re.sub(
        rb"(?im)^Message-ID:.*\r?\n(?:[ \t].*\r?\n)*", f"Message-ID: {huge}\r\n".encode(), raw
    )
    inbox.append(raw)
    ok(cli("inbox"))
    inbox.append(raw)  # the same mail again, as a server that delivers twice

    again = ok(cli("inbox", "--json")).json()

    assert (again["recorded"], again["seen_before"]) == ([], 1)
    assert show(cli, round_id)["opted_in"] == 1


def test_an_expired_message_fails_but_is_no_hard_bounce(
    cli: Invoke, isolated: Path, inbox: Account
) -> None:
    # Postfix gives up after days of 4xx replies: the message failed, but the address may be
    # fine, so it does not count towards the bounce limit.
    add_program(cli, "coffee", members=["eve@example.net"])
    ok(cli("program", "set", "coffee", "--bounce-limit", "1"))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", "tomorrow 22:00")
    ok(cli("run-due"))
    [invite] = outbox(isolated)
    inbox.append(_answering("postfix_expired_dsn.eml", str(invite["Message-ID"])))

    [read] = ok(cli("inbox", "--json")).json()["recorded"]

    assert (read["outcome"], read["deactivated"]) == ("bounce", None)
    assert read["detail"].startswith("4.4.7")
    [failed] = messages(cli, str(round_id))
    assert (failed["status"], failed["last_error"][:15]) == ("failed", "bounced: 4.4.7 ")
    assert _members(cli)["eve@example.net"]["active"] is True
