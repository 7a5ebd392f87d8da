"""0009 on either database: the messages stored before it are kept as they were, each with serial
0, and the message key becomes round, member, kind and serial, so that a round's later change
notices are messages of their own; programs get the default reminder."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sessionctl.store import schema
from tests.conftest import Invoke, ok, sql
from tests.store.test_migrations import _alembic, _version, no_tables  # noqa: F401 (fixture)

_AT = "2026-01-05 08:00:00"
# (round, member, kind, status, Message-ID): round 1 is done, round 2 open.
_MESSAGES = [
    (1, 1, "opt_in", "sent", "<sessionctl.1.1.opt_in.000000000001@example.com>"),
    (1, 2, "opt_in", "sent", "<sessionctl.1.2.opt_in.000000000002@example.com>"),
    (1, 1, "match", "sent", "<sessionctl.1.1.match.000000000003@example.com>"),
    (1, 2, "match", "failed", "<sessionctl.1.2.match.000000000004@example.com>"),
    (2, 1, "opt_in", "sent", "<sessionctl.2.1.opt_in.000000000005@example.com>"),
    (2, 2, "opt_in", "pending", "<sessionctl.2.2.opt_in.000000000006@example.com>"),
]


def _database_at_0008() -> None:
    """This test's database as sessionctl 0008 left it: a program, two members, a done and an
    open round and their messages; it must have no tables before, so ids start from 1."""
    with _alembic() as config:
        command.upgrade(config, "0008")
        conn = config.attributes["connection"]
        conn.execute(
            text(
                "INSERT INTO program (name, title, timezone, opt_in, group_size, sender, "
                "created_at) VALUES ('coffee', 'Coffee', 'UTC', :yes, 2, 'team@example.com', :at)"
            ),
            {"yes": True, "at": _AT},
        )
        for email in ("ana@example.com", "bo@example.com"):
            conn.execute(
                text(
                    "INSERT INTO member (program_id, email, email_key, name, active, created_at) "
                    "VALUES (1, :email, :email, '', :yes, :at)"
                ),
                {"email": email, "yes": True, "at": _AT},
            )
        for number, status, match in ((1, "done", "2026-01-07 09:00:00"), (2, "open", None)):
            conn.execute(
                text(
                    "INSERT INTO round (program_id, number, series_index, status, timezone, "
                    "opt_in_at, match_at, opened_at, color, seed, created_at) VALUES (1, :number, "
                    "0, :status, 'UTC', :at, :match, :at, 'cyan', 7, :at)"
                ),
                {"number": number, "status": status, "match": match or "2099-01-07 09:00:00",
                 "at": _AT},
            )  # fmt: skip
        for round_id, member_id, kind, status, message_id in _MESSAGES:
            conn.execute(
                text(
                    "INSERT INTO message (round_id, member_id, kind, status, attempts, "
                    "next_attempt_at, message_id, sent_at, created_at) VALUES (:round, :member, "
                    ":kind, :status, 1, :at, :message_id, :sent, :at)"
                ),
                {"round": round_id, "member": member_id, "kind": kind, "status": status,
                 "message_id": message_id, "at": _AT,
                 "sent": _AT if status == "sent" else None},
            )  # fmt: skip


def _stored(cli: Invoke) -> list[tuple[Any, ...]]:
    listed = ok(cli("messages", "--json")).json()
    return [(m["round"], m["id"], m["kind"], m["status"], m["message_id"]) for m in listed]


@pytest.mark.usefixtures("no_tables")
def test_upgrade_keeps_every_message_with_serial_0_and_the_programs_get_the_default_reminder(
    cli: Invoke,
) -> None:
    _database_at_0008()
    assert _stored(cli) == [
        (round_id, i, kind, status, message_id)
        for i, (round_id, _, kind, status, message_id) in enumerate(_MESSAGES, start=1)
    ]
    assert _version() == [(schema.HEAD,)]
    assert sql("SELECT DISTINCT serial FROM message") == [(0,)]
    shown = ok(cli("program", "show", "coffee", "--json")).json()
    assert (shown["reminder_hours"], shown["reminder_below"]) == (24, None)
    assert ok(cli("show", "1", "--json")).json()["invited"] == 2


@pytest.mark.usefixtures("no_tables")
def test_after_the_upgrade_a_round_has_one_message_per_member_kind_and_serial(
    cli: Invoke,
) -> None:
    _database_at_0008()
    with time_machine.travel("2026-01-06 09:00:00Z", tick=False):
        moved = ok(cli("update", "2", "--match", "2099-01-08 09:00", "--json")).json()
    assert moved["notices"] == 1  # ana, whose opt-in went out
    notice = "(round_id, member_id, kind, serial, status, attempts, next_attempt_at, message_id, "
    notice += "created_at) VALUES (2, 1, 'notice', :serial, 'sent', 1, :at, :mid, :at)"
    with pytest.raises(IntegrityError):  # the one made by update has serial 0
        sql(f"INSERT INTO message {notice}", serial=0, at=_AT, mid="<sessionctl.x@example.com>")
    sql(f"INSERT INTO message {notice}", serial=1, at=_AT, mid="<sessionctl.y@example.com>")
    kinds = sql("SELECT kind, serial FROM message WHERE round_id = 2 ORDER BY id")
    assert kinds == [("opt_in", 0), ("opt_in", 0), ("notice", 0), ("notice", 1)]
