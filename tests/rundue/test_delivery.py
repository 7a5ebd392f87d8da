"""run-due in process against a real SMTP server on 127.0.0.1: what arrives, and what a server's
refusals (4xx, 5xx, a rejected login) do to the messages, the output and the exit code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.utils import parsedate_to_datetime

import pytest
import time_machine

from sessionctl.delivery.outbox import BACKOFF, MAX_ATTEMPTS
from tests.conftest import Invoke, sql
from tests.rundue.conftest import (
    PASSWORD,
    SENDER,
    USER,
    SmtpServer,
    StartSmtp,
    add_program,
    handler_of,
    import_members,
    messages,
    ok,
    parse,
    schedule,
    show,
    smtp_url,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
LATER = "2026-06-08 09:00"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _open_round(cli: Invoke, program: str = "coffee", members: int = 4) -> tuple[int, list[str]]:
    emails = add_program(cli, program, members=members)
    return schedule(cli, program, "--opt-in", "now", "--match", LATER), emails


def _by_email(cli: Invoke) -> dict[str, dict[str, object]]:
    return {m["email"]: m for m in messages(cli)}


# --- what arrives -------------------------------------------------------------------------------


def test_messages_are_proper_emails_to_the_member_on_one_connection(
    cli: Invoke, server: SmtpServer
) -> None:
    round_id, emails = _open_round(cli)
    result = cli("run-due")
    assert (result.code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"round {round_id} (coffee): opened, 4 opt-in messages",
        "messages: 4 sent",
    ]

    received = handler_of(server).received
    stored = {m["email"]: m for m in messages(cli)}
    assert sorted(r.rcpt_tos[0] for r in received) == sorted(emails)
    assert len({r.peer for r in received}) == 1  # one connection serves the run
    for r in received:
        msg = parse(r.content)
        for header in ("From", "To", "Date", "Subject", "Message-ID"):
            assert msg[header], header
        [to] = msg["To"].addresses
        assert isinstance(to, Address)
        assert r.rcpt_tos == [to.addr_spec]
        assert msg["From"].addresses[0].addr_spec == r.mail_from == SENDER
        assert parsedate_to_datetime(str(msg["Date"])) == T0
        assert str(msg["Subject"]) == f"coffee: are you in for round {round_id}?"
        assert str(msg["Message-ID"]) == stored[to.addr_spec]["message_id"]
        assert msg.get_body(("plain",)) is not None
        assert msg.get_body(("html",)) is not None


def test_a_name_holding_a_line_break_adds_no_header_and_no_recipient(
    cli: Invoke, server: SmtpServer
) -> None:
    add_program(cli, "coffee")
    evil = "Eve\r\nBcc: x@evil.example"
    import_members(
        cli,
        "coffee",
        [("eve@example.com", "Eve"), ("ann@example.com", "Ann"), ("bob@example.com", "Bob")],
    )
    # The CLI refuses such a name; an older version or another tool may have stored one.
    sql("UPDATE member SET name = :name WHERE email_key = 'eve@example.com'", name=evil)
    stored = {m["email"]: m["name"] for m in ok(cli("member", "list", "coffee", "--json")).json()}
    assert "\n" in stored["eve@example.com"]  # the line break really is in the name
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))
    ok(cli("respond", str(round_id), "eve@example.com", "yes"))
    ok(cli("respond", str(round_id), "ann@example.com", "yes"))
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))

    received = handler_of(server).received
    assert len(received) == 5  # 3 invitations, 2 matches
    assert sorted(a for r in received for a in r.rcpt_tos) == sorted(
        ["eve@example.com"] * 2 + ["ann@example.com"] * 2 + ["bob@example.com"]
    )
    for r in received:
        msg = parse(r.content)
        assert "Bcc" not in msg
        assert not any(line.lower().startswith(b"bcc:") for line in r.content.splitlines())
        assert len(msg.get_all("To") or []) == 1
        assert all(a.addr_spec != "x@evil.example" for a in msg["To"].addresses)
    to_eve = next(parse(r.content) for r in received if r.rcpt_tos == ["eve@example.com"])
    assert to_eve["To"].addresses[0].display_name == "Eve Bcc: x@evil.example"


# --- temporary failures ---------------------------------------------------------------------------


def test_451_is_retried_after_the_backoff_until_everything_arrives(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    round_id, emails = _open_round(cli)
    slow = emails[1:3]
    for address in slow:  # their first two attempts are turned away
        handler_of(server).script("DATA", address, "451 4.3.0 Mailbox busy, try later", times=2)

    first = cli("run-due")
    assert first.code == 1
    # Exit 1 comes with its reason: the messages waiting, and when the next retry is due.
    assert first.stderr == "error: 2 messages wait for a retry, the next at 2026-06-01 09:02 UTC\n"
    assert first.stdout.splitlines() == [
        f"round {round_id} (coffee): opened, 4 opt-in messages",
        "messages: 2 sent, 2 waiting for a retry",
    ]
    state = _by_email(cli)
    for address in slow:
        assert state[address] | {"id": 0, "message_id": ""} == {
            "id": 0,
            "round": round_id,
            "email": address,
            "kind": "opt_in",
            "status": "pending",
            "attempts": 1,
            "last_error": "451 4.3.0 Mailbox busy, try later",
            "message_id": "",
            "sent_at": None,
            "held_by": None,
        }
    assert [m["email"] for m in messages(cli, "--status", "pending")] == slow

    waiting = cli("run-due", "--json")  # before the first wait is over: nothing to send yet
    assert waiting.code == 1
    assert waiting.json() == {
        "opened": [],
        "matched": [],
        "missed": [],
        "late": [],
        "reminded": [],
        "sent": 0,
        "failed": 0,
        "retrying": 2,
        "held": [],
        "left": [],
        "inbox": None,
    }
    assert cli("run-due").stdout == ""

    frozen.shift(BACKOFF[0] + timedelta(seconds=1))
    second = cli("run-due")
    assert (second.code, second.stdout) == (1, "messages: 0 sent, 2 waiting for a retry\n")
    assert second.stderr.startswith("error: 2 messages wait for a retry, the next at ")
    assert {_by_email(cli)[a]["attempts"] for a in slow} == {2}

    frozen.shift(BACKOFF[1] - timedelta(seconds=30))  # not yet
    assert cli("run-due").code == 1
    frozen.shift(timedelta(seconds=31))
    last = cli("run-due")
    assert (last.code, last.stdout, last.stderr) == (0, "messages: 2 sent\n", "")

    final = _by_email(cli)
    assert {m["status"] for m in final.values()} == {"sent"}
    assert {a: final[a]["attempts"] for a in slow} == dict.fromkeys(slow, 3)
    assert {final[a]["last_error"] for a in emails} == {None}
    assert sorted(handler_of(server).message_ids().values()) == [1, 1, 1, 1]
    assert (cli("run-due").code, cli("run-due").stdout) == (0, "")


def test_a_recipient_refused_with_4xx_is_temporary(cli: Invoke, server: SmtpServer) -> None:
    _, emails = _open_round(cli, members=3)
    handler_of(server).script("RCPT", emails[0], "450 4.2.1 <x>: Recipient busy")

    result = cli("run-due")
    assert result.code == 1
    assert result.stderr.startswith("error: 1 message waits for a retry, the next at ")
    assert result.stdout.splitlines()[-1] == "messages: 2 sent, 1 waiting for a retry"
    refused = _by_email(cli)[emails[0]]
    assert (refused["status"], refused["attempts"]) == ("pending", 1)
    assert refused["last_error"] == "450 4.2.1 <x>: Recipient busy"


def test_temporary_failures_give_up_after_the_last_retry(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _, [address] = _open_round(cli, members=1)
    handler_of(server).script("RCPT", address, "451 4.4.3 still down")

    for attempt in range(1, MAX_ATTEMPTS):
        result = cli("run-due")
        assert result.code == 1
        assert result.stderr.startswith("error: 1 message waits for a retry, the next at ")
        assert _by_email(cli)[address]["attempts"] == attempt
        frozen.shift(BACKOFF[attempt - 1] + timedelta(seconds=1))
    last = cli("run-due")
    assert last.code == 1
    assert last.stdout == "messages: 0 sent, 1 failed\n"
    assert last.stderr == (
        f"error: {address} (round 1, opt_in): 451 4.4.3 still down "
        f"(gave up after {MAX_ATTEMPTS} attempts)\n"
    )
    [failed] = messages(cli, "--status", "failed")
    assert (failed["email"], failed["attempts"]) == (address, MAX_ATTEMPTS)
    frozen.shift(timedelta(days=2))
    assert (cli("run-due").code, handler_of(server).attempts["RCPT", address]) == (0, MAX_ATTEMPTS)


# --- permanent failures ---------------------------------------------------------------------------


def test_550_fails_only_that_recipient_and_names_it(cli: Invoke, server: SmtpServer) -> None:
    round_id, emails = _open_round(cli, members=5)
    bad = [emails[1], emails[3]]
    for address in bad:
        handler_of(server).script(
            "RCPT", address, f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        )

    result = cli("run-due")
    assert result.code == 1
    assert result.stdout.splitlines() == [
        f"round {round_id} (coffee): opened, 5 opt-in messages",
        "messages: 3 sent, 2 failed",
    ]
    assert result.stderr.splitlines() == [
        f"error: {address} (round {round_id}, opt_in): 550 5.1.1 <{address}>: "
        "Recipient address rejected: User unknown"
        for address in bad
    ]

    failed = messages(cli, "--status", "failed")
    assert [m["email"] for m in failed] == bad
    for m in failed:
        assert m["last_error"] == (
            f"550 5.1.1 <{m['email']}>: Recipient address rejected: User unknown"
        )
        assert (m["attempts"], m["sent_at"]) == (1, None)
    assert sorted(m["email"] for m in messages(cli, "--status", "sent")) == sorted(
        set(emails) - set(bad)
    )
    assert messages(cli, "--status", "pending") == []
    assert sorted(r.rcpt_tos[0] for r in handler_of(server).received) == sorted(
        set(emails) - set(bad)
    )

    again = cli("run-due")  # a permanent failure is not retried, and no longer fails the run
    assert (again.code, again.stdout, again.stderr) == (0, "", "")
    assert show(cli, round_id)["invited"] == 5


# --- a rejected login -----------------------------------------------------------------------------


def _raw_states() -> set[tuple[str, int, str | None]]:
    return {tuple(row) for row in sql("SELECT status, attempts, claimed_by FROM message")}


def test_a_rejected_login_stops_the_run_and_spends_no_attempt(
    cli: Invoke,
    start_server: StartSmtp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = start_server(auth=True)
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server, user=USER))
    monkeypatch.setenv("SESSIONCTL_SMTP_PASSWORD", "wrong-Pa55word")
    round_id, emails = _open_round(cli, members=3)

    result = cli("run-due")
    assert result.code == 1
    assert result.stderr == (
        f"error: SMTP authentication failed for {USER}@127.0.0.1: check SESSIONCTL_SMTP_PASSWORD\n"
    )
    assert "wrong-Pa55word" not in result.stdout + result.stderr
    assert handler_of(server).received == []
    assert {(m["status"], m["attempts"], m["last_error"]) for m in messages(cli)} == {
        ("pending", 0, None)
    }
    assert _raw_states() == {("pending", 0, None)}  # the claims went back at once
    assert show(cli, round_id)["status"] == "open"

    monkeypatch.setenv("SESSIONCTL_SMTP_PASSWORD", PASSWORD)
    fixed = cli("run-due")
    assert (fixed.code, fixed.stdout, fixed.stderr) == (0, "messages: 3 sent\n", "")
    assert sorted(r.rcpt_tos[0] for r in handler_of(server).received) == sorted(emails)
    assert {(m["status"], m["attempts"]) for m in messages(cli)} == {("sent", 1)}


def test_a_missing_password_is_refused_before_anything_changes(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(auth=True)
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server, user=USER))
    round_id, _ = _open_round(cli, members=2)

    result = cli("run-due")
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: smtp://{USER}@127.0.0.1:{server.port} logs in as {USER}: "
        "set SESSIONCTL_SMTP_PASSWORD to its password\n"
    )
    assert show(cli, round_id)["status"] == "planned"
    assert messages(cli) == []


def test_an_unreachable_server_is_temporary_for_every_message(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server()
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))
    server.stop()
    _open_round(cli, members=3)

    result = cli("run-due")
    assert result.code == 1
    assert result.stdout.splitlines()[-1] == "messages: 0 sent, 3 waiting for a retry"
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach SMTP server 127.0.0.1:{server.port}")
    assert {(m["status"], m["attempts"]) for m in messages(cli)} == {("pending", 1)}
