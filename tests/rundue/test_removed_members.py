"""A removed member no longer answers, and a round's figures and groups agree on who takes part.

The rule: a removed member still counts as invited to a round whose opt-in went to them, but
their answer to a round not matched yet no longer counts (it counts as no answer), so
opted_in + declined + no_answer == invited always holds and opted_in is who gets matched.
Time is frozen at T0 (Monday 2026-06-01 09:00 UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.cli.test_serve_hardening import request, serving
from tests.conftest import Invoke, sql
from tests.rundue.conftest import (
    add_program,
    figures,
    groups,
    messages,
    ok,
    outbox,
    refused,
    schedule,
)

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-03 09:00"
LINK = re.compile(r"https://coffee\.example\.com/answer/(\S+)")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def opened(cli: Invoke) -> tuple[int, list[str]]:
    """Round 1 of coffee (group size 2), open: its 6 members were invited and emailed."""
    emails = add_program(cli, "coffee", members=6)
    ok(cli("program", "set", "coffee", "--link-base", "https://coffee.example.com"))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    return round_id, emails


def _removed(email: str) -> str:
    return (
        f"{email} was removed from coffee: answers are taken from members only "
        f"(add them back with 'sessionctl member add coffee {email}')"
    )


def _match_now(cli: Invoke, round_id: int) -> list[list[str]]:
    ok(cli("update", str(round_id), "--match", "now"))
    ok(cli("run-due"))
    found: list[list[str]] = groups(cli, round_id)["groups"]
    return found


def _listed(cli: Invoke, round_id: int) -> tuple[int, int, int, int]:
    [r] = [r for r in ok(cli("list", "--json")).json() if r["id"] == round_id]
    return r["invited"], r["opted_in"], r["declined"], r["no_answer"]


def _token(isolated: Path, email: str, kind: str) -> str:
    """The join or skip token of the opt-in email sent to ``email``."""
    [msg] = [m for m in outbox(isolated) if m["To"].addresses[0].addr_spec == email]
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    join, skip = LINK.findall(body.get_content())
    return join if kind == "join" else skip


# --- answers are refused ------------------------------------------------------------------------


def test_respond_refuses_a_removed_member_with_one_line(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, *_) = opened
    ok(cli("respond", str(round_id), bob, "yes"))
    ok(cli("member", "remove", "coffee", ann))
    for spelling in (ann, ann.upper()):
        assert refused(cli("respond", str(round_id), spelling, "yes")) == f"error: {_removed(ann)}"
    assert figures(cli, round_id) == (6, 1, 0, 5)


def test_a_member_removed_before_the_round_opened_is_told_so(cli: Invoke) -> None:
    ann, _ = add_program(cli, "coffee", members=2)
    ok(cli("member", "remove", "coffee", ann))
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    assert refused(cli("respond", str(round_id), ann, "no")) == f"error: {_removed(ann)}"
    assert figures(cli, round_id) == (1, 0, 0, 1)


def test_an_import_naming_a_removed_member_records_nothing_and_names_the_line(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, cat, *_) = opened
    ok(cli("member", "remove", "coffee", cat))
    text = f"email,answer\n{ann},yes\n{bob},no\n{cat},yes\n"
    line = refused(cli("respond", str(round_id), "--import", "-", input=text))
    assert line == f"error: line 4: {_removed(cat)}"
    assert figures(cli, round_id) == (6, 0, 0, 6)


def test_a_token_of_a_removed_member_is_refused(
    cli: Invoke, opened: tuple[int, list[str]], isolated: Path
) -> None:
    round_id, (ann, *_) = opened
    join = _token(isolated, ann, "join")
    ok(cli("member", "remove", "coffee", ann))
    assert refused(cli("respond", "--token", join)) == f"error: {_removed(ann)}"
    assert figures(cli, round_id) == (6, 0, 0, 6)


def test_the_answer_page_refuses_a_removed_member_in_their_words(
    cli: Invoke, opened: tuple[int, list[str]], isolated: Path
) -> None:
    round_id, (ann, bob, *_) = opened
    join = _token(isolated, ann, "join")
    ok(cli("member", "remove", "coffee", ann))
    refusal = f"{ann} is no longer a member of coffee: this answer cannot be recorded."
    with serving() as port:
        shown = request(port, "GET", f"/answer/{join}")
        posted = request(port, "POST", f"/answer/{join}", body=b"")
        still_fine = request(port, "GET", f"/answer/{_token(isolated, bob, 'join')}")
    # The page says so and offers nothing to press; a post is refused in the same words.
    assert shown.status == 200
    assert "You are no longer a member of coffee" in shown.body.decode()
    assert "<form" not in shown.body.decode()
    assert posted.status == 409
    assert refusal in posted.body.decode()
    assert "<form" not in posted.body.decode()
    assert still_fine.status == 200
    assert figures(cli, round_id) == (6, 0, 0, 6)


# --- the figures and the groups agree -----------------------------------------------------------


def test_a_member_removed_after_saying_yes_is_neither_opted_in_nor_matched(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, cat, dan, *_) = opened
    text = f"email,answer\n{ann},yes\n{bob},yes\n{cat},yes\n{dan},no\n"
    ok(cli("respond", str(round_id), "--import", "-", input=text))
    assert figures(cli, round_id) == (6, 3, 1, 2)

    ok(cli("member", "remove", "coffee", cat))  # said yes
    ok(cli("member", "remove", "coffee", dan))  # said no
    # Still invited (the opt-in went out); their answers no longer count: no answer.
    assert figures(cli, round_id) == (6, 2, 0, 4)
    assert _listed(cli, round_id) == (6, 2, 0, 4)
    preview = ok(cli("groups", str(round_id), "--preview", "--json")).json()
    assert preview["groups"] == [sorted([ann, bob])]

    assert _match_now(cli, round_id) == [sorted([ann, bob])]
    assert figures(cli, round_id) == (6, 2, 0, 4)  # opted in == who was matched
    assert _listed(cli, round_id) == (6, 2, 0, 4)
    matched = sorted(m["email"] for m in messages(cli, str(round_id)) if m["kind"] != "opt_in")
    assert matched == sorted([ann, bob])


def test_the_answer_given_before_removal_does_not_come_back_with_the_member(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, cat, *_) = opened
    for who in (ann, bob, cat):
        ok(cli("respond", str(round_id), who, "yes"))
    ok(cli("member", "remove", "coffee", cat))
    ok(cli("member", "add", "coffee", cat))
    assert figures(cli, round_id) == (6, 2, 0, 4)  # back, invited, but not answered
    assert _match_now(cli, round_id) == [sorted([ann, bob])]


def test_a_member_back_before_the_match_may_answer_again(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, *_) = opened
    ok(cli("respond", str(round_id), ann, "yes"))
    ok(cli("member", "remove", "coffee", bob))
    ok(cli("member", "add", "coffee", bob))
    ok(cli("respond", str(round_id), bob, "yes"))
    assert figures(cli, round_id) == (6, 2, 0, 4)
    assert _match_now(cli, round_id) == [sorted([ann, bob])]


def test_removing_a_member_after_the_match_changes_nothing_in_that_round(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, cat, *_) = opened
    for who in (ann, bob, cat):
        ok(cli("respond", str(round_id), who, "yes"))
    before = _match_now(cli, round_id)
    ok(cli("member", "remove", "coffee", cat))
    assert figures(cli, round_id) == (6, 3, 0, 3)
    assert groups(cli, round_id)["groups"] == before
    assert sorted(a for g in before for a in g) == sorted([ann, bob, cat])


def test_an_answer_an_older_version_kept_after_removal_does_not_count(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, *_) = opened
    ok(cli("respond", str(round_id), ann, "yes"))
    ok(cli("member", "remove", "coffee", bob))
    # Older versions kept the answers of removed members: put one back as they left it.
    sql(
        "INSERT INTO response (round_id, member_id, answer, answered_at) "
        "SELECT :round, id, :yes, :at FROM member WHERE email = :email",
        round=round_id,
        yes=True,
        at="2026-06-01 09:00:00",
        email=bob,
    )
    assert figures(cli, round_id) == (6, 1, 0, 5)
    assert _match_now(cli, round_id) == []  # ann alone: no group, a no-match message
    assert groups(cli, round_id)["no_match"] == [ann]
    assert figures(cli, round_id) == (6, 1, 0, 5)


# --- invitations not sent yet ------------------------------------------------------------------


def test_an_unsent_invitation_of_a_removed_member_is_not_sent(
    cli: Invoke, opened: tuple[int, list[str]]
) -> None:
    round_id, (ann, bob, *_) = opened
    # Both invitations wait for a retry, as after a temporary SMTP failure.
    sql(
        "UPDATE message SET status = 'pending', attempts = 1, sent_at = NULL "
        "WHERE kind = 'opt_in' AND member_id IN "
        "(SELECT id FROM member WHERE email IN (:ann, :bob))",
        ann=ann,
        bob=bob,
    )
    ok(cli("member", "remove", "coffee", ann))
    by_email = {m["email"]: m for m in messages(cli, str(round_id))}
    assert (by_email[ann]["status"], by_email[bob]["status"]) == ("failed", "pending")
    assert by_email[ann]["last_error"] == f"not sent: {ann} was removed from coffee"
    ok(cli("run-due"))
    by_email = {m["email"]: m for m in messages(cli, str(round_id))}
    assert (by_email[ann]["status"], by_email[bob]["status"]) == ("failed", "sent")
