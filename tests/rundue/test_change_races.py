"""Changes that race with delivery: a round moved or cancelled, a member leaving or answering,
while a run is claiming or sending its messages. Each of these once mailed the wrong thing.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC); programs are in UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from sessionctl import config
from sessionctl.delivery import outbox
from sessionctl.services import notices
from sessionctl.store.engine import open_database
from tests import testdb
from tests.conftest import Invoke, sql
from tests.rundue.conftest import add_program, ok, schedule

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
MATCH = "2026-06-10 09:00"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _open_round(cli: Invoke, members: int) -> int:
    add_program(cli, "coffee", members=members)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", MATCH)
    ok(cli("run-due"))
    return round_id


@pytest.mark.skipif(not testdb.ON_POSTGRES, reason="SQLite runs one writer at a time")
@pytest.mark.parametrize("change", [["update", "--match", "2026-06-11 10:00"], ["cancel"]])
def test_an_opt_in_claimed_while_a_change_commits_still_hears_of_the_change(
    cli: Invoke, monkeypatch: pytest.MonkeyPatch, change: list[str]
) -> None:
    """An opt-in waiting for its retry is claimed by a run while ``update`` or ``cancel`` is
    between reading who was invited and committing: the run builds it from the round as it was
    (the old time, still open), and the change, which saw it waiting, queues no notice for that
    member. They must hear of the change: the change's transaction keeps the run off the
    waiting opt-ins until it commits (or sees them claimed and gives a notice)."""
    round_id = _open_round(cli, 2)
    [(waiting,)] = sql(
        "SELECT id FROM message WHERE round_id = :r AND kind = 'opt_in' ORDER BY id LIMIT 1",
        r=round_id,
    )
    sql(
        "UPDATE message SET status = 'pending', sent_at = NULL, attempts = 1 WHERE id = :i",
        i=waiting,
    )
    db = open_database(config.resolve())
    built: dict[str, Any] = {}
    original = notices._invited

    def other_run() -> None:  # another run-due, on another host, at that very moment
        claimed = outbox._claim(db, worker="other", now=T0)
        built["claimed"] = claimed
        built["loaded"] = outbox._load(db, claimed)

    def invited_then_a_run_claims(s: Any, round_id: int, *, today: Any) -> list[int]:
        found = original(s, round_id, today=today)
        runner = threading.Thread(target=other_run)
        runner.start()
        runner.join(timeout=20)
        assert not runner.is_alive(), "the other run is stuck behind the change"
        return found

    monkeypatch.setattr(notices, "_invited", invited_then_a_run_claims)
    ok(cli(*change, str(round_id)))
    db.dispose()
    [(member,)] = sql("SELECT member_id FROM message WHERE id = :i", i=waiting)
    told = sql(
        "SELECT count(*) FROM message WHERE round_id = :r AND member_id = :m AND kind = 'notice'",
        r=round_id,
        m=member,
    )[0][0]
    [(status, match_at)] = sql("SELECT status, match_at FROM round WHERE id = :r", r=round_id)
    stale = [
        w
        for w in built["loaded"]
        if w.message.id == waiting
        and (w.round.status != status or w.round.match_at.replace(tzinfo=None) != match_at)
    ]
    # Built from the round before the change, and no notice after it: the change is lost.
    assert not (stale and not told), (
        "the opt-in went out built from the round as it was before the change, and the change "
        "queued no notice for its member"
    )


@pytest.mark.parametrize("kind", ["notice", "reminder"])
def test_a_member_who_leaves_is_sent_no_notice_or_reminder_by_a_run_already_delivering(
    cli: Invoke, kind: str
) -> None:
    """A member removed (or who leaves by the one-click link, or bounces out) while their
    notice or reminder waits: a run-due already past its drop step, delivering batch after
    batch, claims it next and mails someone who just left. Leaving stops it at once, as it
    stops their waiting opt-in."""
    round_id = _open_round(cli, 2)
    [(first, member)] = sql(
        "SELECT m.email, m.id FROM member m JOIN message g ON g.member_id = m.id "
        "WHERE g.round_id = :r ORDER BY m.id LIMIT 1",
        r=round_id,
    )
    sql(
        "INSERT INTO message (round_id, member_id, kind, serial, status, attempts, "
        "next_attempt_at, message_id, created_at) VALUES (:r, :m, :k, 0, 'pending', 0, :t, "
        ":i, :t)",
        r=round_id,
        m=member,
        k=kind,
        t=T0.replace(tzinfo=None),
        i=f"<sessionctl.{round_id}.{member}.{kind}.0123456789ab@example.com>",
    )
    ok(cli("member", "remove", "coffee", first))
    db = open_database(config.resolve())
    try:
        claimed = outbox._claim(db, worker="running", now=T0)
    finally:
        db.dispose()
    assert claimed == [], f"a run claims the {kind} of {first}, who left"


def test_a_reminder_waiting_for_its_retry_is_not_sent_to_a_member_who_answered_since(
    cli: Invoke,
) -> None:
    """A reminder is for members who have not answered: one whose first try failed (waiting
    for its retry) is not sent once its member has answered; the others still go."""
    round_id = _open_round(cli, 2)
    members = sql(
        "SELECT m.id, m.email FROM member m JOIN message g ON g.member_id = m.id "
        "WHERE g.round_id = :r ORDER BY m.id",
        r=round_id,
    )
    for member, _ in members:
        sql(
            "INSERT INTO message (round_id, member_id, kind, serial, status, attempts, "
            "next_attempt_at, message_id, created_at, last_error) VALUES (:r, :m, 'reminder', 0, "
            "'pending', 1, :t, :i, :t, '451 try again later')",
            r=round_id,
            m=member,
            t=T0.replace(tzinfo=None),
            i=f"<sessionctl.{round_id}.{member}.reminder.0123456789ab@example.com>",
        )
    answered = members[0][1]
    ok(cli("respond", str(round_id), "--import", "-", input=f"email,answer\n{answered},yes\n"))

    ok(cli("run-due"))
    rows = ok(cli("messages", str(round_id), "--json")).json()
    sent = sorted(m["email"] for m in rows if m["kind"] == "reminder" and m["status"] == "sent")
    assert sent == [members[1][1]]


def test_a_run_already_delivering_sends_no_opt_in_of_a_round_cancelled_meanwhile(
    cli: Invoke,
) -> None:
    """An opt-in waiting for its retry when its round is cancelled gets no notice (its opt-in
    is dropped instead): a run past its drop step, delivering batch after batch, must not
    claim it next and invite its member to a round that no longer takes place."""
    round_id = _open_round(cli, 2)
    [(waiting,)] = sql(
        "SELECT id FROM message WHERE round_id = :r AND kind = 'opt_in' ORDER BY id LIMIT 1",
        r=round_id,
    )
    sql(
        "UPDATE message SET status = 'pending', sent_at = NULL, attempts = 1 WHERE id = :i",
        i=waiting,
    )
    ok(cli("cancel", str(round_id)))
    db = open_database(config.resolve())
    try:
        claimed = outbox._claim(db, worker="running", now=T0)
    finally:
        db.dispose()
    assert waiting not in claimed, "a run claims the opt-in of a cancelled round"
