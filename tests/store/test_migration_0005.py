"""0005 on either database: rounds stored before it get their number within their program, in
the order they were made, whatever became of them; new rounds go on from there."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sessionctl.store import schema
from tests.conftest import Invoke, ok, sql
from tests.store.test_migrations import _alembic, _version, no_tables  # noqa: F401 (fixture)

# Two programs whose rounds were made in turns: (id, program, series, index, status, match).
_ROUNDS = [
    (1, 1, None, 0, "done", "2026-01-07 09:00:00"),
    (2, 2, None, 0, "planned", "2099-01-07 09:00:00"),
    (3, 1, 1, 0, "missed", "2026-01-14 09:00:00"),
    (4, 1, 1, 1, "cancelled", "2099-01-21 09:00:00"),
    (5, 2, None, 0, "cancelled", "2099-01-28 09:00:00"),
    (6, 1, 1, 2, "planned", "2099-01-28 09:00:00"),
]
# (id, number) once upgraded: each program counts its own rounds from 1, in id order.
_NUMBERED = [(1, 1), (2, 1), (3, 2), (4, 3), (5, 2), (6, 4)]


def _database_at_0004() -> None:
    """This test's database as sessionctl 0004 left it, with the rounds above, a series and a
    sent message pointing at round 1; it must have no tables before, so that ids are given from
    1 in the order of the inserts (explicit ids would leave PostgreSQL's sequences behind)."""
    with _alembic() as config:
        command.upgrade(config, "0004")
        conn = config.attributes["connection"]
        created = "2026-01-01 08:00:00"
        for name in ("coffee", "tea"):  # programs 1 and 2
            conn.execute(
                text(
                    "INSERT INTO program (name, title, timezone, opt_in, group_size, created_at) "
                    "VALUES (:name, :name, 'UTC', :no, 2, :at)"
                ),
                {"name": name, "no": False, "at": created},
            )
        conn.execute(
            text(
                "INSERT INTO member (program_id, email, email_key, name, active, created_at) "
                "VALUES (1, 'ana@example.com', 'ana@example.com', 'Ana', :yes, :at)"
            ),
            {"yes": True, "at": created},
        )
        conn.execute(
            text(
                "INSERT INTO series (program_id, repeat, timezone, base_match, created_at) "
                "VALUES (1, 'weekly', 'UTC', '2026-01-14T09:00:00', :at)"
            ),
            {"at": created},
        )
        for _, program_id, series_id, index, status, match in _ROUNDS:
            conn.execute(
                text(
                    "INSERT INTO round (program_id, series_id, series_index, status, timezone, "
                    "match_at, color, seed, created_at) VALUES (:program, :series, :index, "
                    ":status, 'UTC', :match, 'cyan', 7, :at)"
                ),
                {
                    "program": program_id,
                    "series": series_id,
                    "index": index,
                    "status": status,
                    "match": match,
                    "at": created,
                },
            )
        conn.execute(
            text(
                "INSERT INTO message (round_id, member_id, kind, status, attempts, "
                "next_attempt_at, message_id, sent_at, created_at) VALUES (1, 1, 'match', "
                "'sent', 1, :at, '<sessionctl.1.1.match.abc@localhost>', :at, :at)"
            ),
            {"at": created},
        )


def _numbers(cli: Invoke) -> list[tuple[int, int]]:
    listed: list[dict[str, Any]] = ok(cli("list", "--json")).json()
    return sorted((r["id"], r["number"]) for r in listed)


@pytest.mark.usefixtures("no_tables")
def test_upgrade_numbers_each_programs_rounds_in_the_order_they_were_made(
    cli: Invoke,
) -> None:
    _database_at_0004()
    assert _numbers(cli) == _NUMBERED
    assert _version() == [(schema.HEAD,)]
    # What points at the rounds is untouched: the message keeps its round and Message-ID.
    [message] = ok(cli("messages", "--json")).json()
    assert (message["round"], message["message_id"]) == (1, "<sessionctl.1.1.match.abc@localhost>")
    shown = ok(cli("show", "6", "--json")).json()
    assert (shown["id"], shown["number"], shown["status"]) == (6, 4, "planned")


@pytest.mark.usefixtures("no_tables")
def test_after_the_upgrade_new_rounds_go_on_from_the_highest_number(
    cli: Invoke,
) -> None:
    _database_at_0004()
    [coffee] = ok(cli("schedule", "coffee", "--match", "2099-02-04 09:00", "--json")).json()
    [tea] = ok(cli("schedule", "tea", "--match", "2099-02-04 09:00", "--json")).json()
    # Cancelled and missed rounds keep their numbers: none is given again.
    assert (coffee["id"], coffee["number"]) == (7, 5)
    assert (tea["id"], tea["number"]) == (8, 3)


@pytest.mark.usefixtures("no_tables")
def test_the_upgraded_database_refuses_a_number_twice_in_a_program(
    cli: Invoke,
) -> None:
    _database_at_0004()
    assert _numbers(cli) == _NUMBERED
    with pytest.raises(IntegrityError):
        sql("UPDATE round SET number = 2 WHERE id = 1")
    # The same number in another program is that program's own.
    sql("UPDATE round SET number = 9 WHERE id = 1")
    sql("UPDATE round SET number = 9 WHERE id = 2")
    with pytest.raises(IntegrityError):
        sql(
            "INSERT INTO round (program_id, number, series_index, status, timezone, match_at, "
            "color, seed, created_at) VALUES (1, 4, 0, 'planned', 'UTC', "
            "'2099-03-04 09:00:00', 'red', 1, '2026-01-01 08:00:00')"
        )


@pytest.mark.usefixtures("no_tables")
def test_downgrade_to_0004_and_upgrade_again_gives_the_same_numbers(
    cli: Invoke,
) -> None:
    _database_at_0004()
    assert _numbers(cli) == _NUMBERED
    with _alembic() as config:
        command.downgrade(config, "0004")
    assert _version() == [("0004",)]
    assert _numbers(cli) == _NUMBERED
