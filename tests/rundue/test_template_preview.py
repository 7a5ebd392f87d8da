"""program template NAME KIND --preview and --test-send: the message exactly as a member will
get it, with the real data of a round, before it goes out; a test copy through the real SMTP
server, recorded nowhere."""

from __future__ import annotations

import re

from tests.conftest import Invoke
from tests.rundue.conftest import (
    SmtpServer,
    add_program,
    handler_of,
    messages,
    ok,
    parse,
    refused,
    schedule,
)


def _coffee(cli: Invoke) -> int:
    add_program(cli, "coffee", members=["ana@example.com", "bo@example.com", "cy@example.com"])
    ok(cli("member", "set", "coffee", "bo@example.com", "--name", "Bo Berg", "--team", "ops"))
    ok(cli("program", "set", "coffee", "--title", "Coffee Paris"))
    ok(cli("program", "set", "coffee", "--link-base", "https://coffee.example.com"))
    return schedule(cli, "coffee", "--opt-in", "2099-01-05 09:00", "--match", "2099-01-07 09:00")


def test_the_preview_is_the_message_the_member_gets(cli: Invoke) -> None:
    round_id = _coffee(cli)

    shown = ok(
        cli("program", "template", "coffee", "opt_in", "--preview", "--member", "bo@example.com")
    )

    lines = shown.stdout.splitlines()
    assert "To: Bo Berg <bo@example.com>" in lines
    assert "From: Coffee Paris <team@example.com>" in lines
    assert any(line.startswith("Subject: Coffee Paris: ") for line in lines)
    assert any(line.startswith("List-Unsubscribe: <mailto:") for line in lines)
    assert "Hi Bo Berg," in shown.stdout
    assert "2099" in shown.stdout  # the round's own match time
    assert messages(cli, str(round_id)) == []  # nothing was queued


def test_links_in_a_preview_answer_nothing(cli: Invoke) -> None:
    _coffee(cli)
    shown = ok(cli("program", "template", "coffee", "opt_in", "--preview")).stdout
    tokens = re.findall(r"https://coffee\.example\.com/answer/(\S+)", shown)
    assert tokens  # the join and skip buttons are there, as in the real email

    refusal = cli("respond", "--token", tokens[0])

    assert refusal.code == 2
    assert "invalid answer token" in refusal.stderr


def test_a_match_preview_of_a_round_not_matched_yet_says_its_partners_are_a_sample(
    cli: Invoke,
) -> None:
    round_id = _coffee(cli)

    shown = cli("program", "template", "coffee", "match", "--preview", "--round", str(round_id))

    assert shown.code == 0, shown.stderr
    assert shown.stderr == (
        f"note: round {round_id} is not matched yet: the partners shown are a sample of the "
        "program's members\n"
    )
    assert "bo@example.com" in shown.stdout  # ana's sample partner


def test_the_test_send_goes_through_the_transport_marked_and_recorded_nowhere(
    cli: Invoke, server: SmtpServer
) -> None:
    round_id = _coffee(cli)

    sent = ok(cli("program", "template", "coffee", "opt_in", "--test-send", "admin@example.com"))

    assert sent.stdout.startswith("Test message sent to admin@example.com through smtp://")
    [received] = handler_of(server).received
    assert received.rcpt_tos == ["admin@example.com"]
    msg = parse(received.content)
    assert str(msg["Subject"]).startswith("[test] Coffee Paris: ")
    assert msg["X-Sessionctl-Test"] == f"preview of a message to ana@example.com, round {round_id}"
    assert messages(cli) == []


def test_refusals(cli: Invoke) -> None:
    add_program(cli, "empty", members=["ana@example.com"])
    refused(cli("program", "template", "empty", "opt_in", "--preview"), "has no round yet")
    _coffee(cli)
    refused(
        cli("program", "template", "coffee", "opt_in", "--preview", "--member", "zed@example.com"),
        "no active member zed@example.com in coffee",
    )
    refused(
        cli("program", "template", "coffee", "opt_in", "--test-send", "not-an-address"),
        "not-an-address",
    )
