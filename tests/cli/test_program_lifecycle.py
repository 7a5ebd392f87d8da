"""program rename | archive | unarchive | delete through the real CLI, on SQLite or PostgreSQL.

Time is frozen at T0 (Monday 2026-06-01 09:00 UTC) where run-due decides what is due.
"""

from __future__ import annotations

import email
import mailbox
import os
import pty
import re
import subprocess
import sys
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, Result, assert_error, ok, sql

T0 = "2026-06-01 09:00Z"
MEMBERS = ["ana@example.com", "bo@example.com", "cy@example.com", "di@example.com"]


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _program(cli: Invoke, name: str, *flags: str, members: list[str] = MEMBERS) -> None:
    ok(cli("program", "add", name, "--tz", "UTC", "--sender", "team@example.com", *flags))
    text = "email\n" + "".join(f"{m}\n" for m in members)
    ok(cli("member", "import", name, "-", input=text))


def _schedule(cli: Invoke, program: str, *args: str) -> list[int]:
    return [r["id"] for r in ok(cli("schedule", program, *args, "--json")).json()]


def _statuses(cli: Invoke, program: str) -> list[str]:
    return [r["status"] for r in ok(cli("list", program, "--json")).json()]


def _programs(cli: Invoke) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in ok(cli("program", "list", "--json")).json()}


def _outbox(isolated: Path) -> list[EmailMessage]:
    path = isolated / "home" / "data" / "sessionctl" / "outbox"
    if not path.exists():
        return []
    box = mailbox.Maildir(path, create=False)
    parsed = [
        email.message_from_bytes(box.get_bytes(k), policy=policy.default) for k in box.iterkeys()
    ]
    return [m for m in parsed if isinstance(m, EmailMessage)]


def _reply(message_id: str, sender: str) -> bytes:
    """A member's reply as a mail client writes it: quoting the invitation, In-Reply-To set."""
    return (
        f"From: A member <{sender}>\r\n"
        "To: answers@example.com\r\n"
        "Subject: Re: coffee: are you in?\r\n"
        "Date: Mon, 1 Jun 2026 10:00:00 +0000\r\n"
        f"Message-ID: <reply-{sender}>\r\n"
        f"In-Reply-To: {message_id}\r\n"
        f"References: {message_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Yes, count me in!\r\n\r\n"
        "On Mon, 1 Jun 2026, coffee <team@example.com> wrote:\r\n"
        "> Would you like to be matched?\r\n"
    ).encode()


# --- rename -------------------------------------------------------------------------------------


def test_rename_keeps_rounds_members_and_the_links_already_sent(
    cli: Invoke, isolated: Path, frozen: time_machine.Traveller
) -> None:
    _program(cli, "coffee-paris", "--link-base", "https://answers.example.com")
    [round_id] = _schedule(cli, "coffee-paris", "--opt-in", "now", "--match", "2026-06-04 09:00")
    ok(cli("run-due"))
    invite = next(m for m in _outbox(isolated) if "ana@example.com" in str(m["To"]))
    body = invite.get_body(("plain",))
    assert body is not None
    found = re.search(r"Join this round: \S+/answer/(\S+)", body.get_content())
    assert found is not None

    result = ok(cli("program", "rename", "coffee-paris", "coffee-lyon"))

    assert result.stdout == "Program coffee-lyon renamed from coffee-paris.\n"
    assert set(_programs(cli)) == {"coffee-lyon"}
    assert [r["program"] for r in ok(cli("list", "--json")).json()] == ["coffee-lyon"]
    assert len(ok(cli("member", "list", "coffee-lyon", "--json")).json()) == 4
    ok(cli("respond", "--token", found.group(1)))  # a link sent before the rename still answers
    assert ok(cli("show", str(round_id), "--json")).json()["opted_in"] == 1
    assert_error(
        cli("program", "show", "coffee-paris"),
        "no program named 'coffee-paris': see 'sessionctl program list'",
    )


def test_rename_refuses_a_taken_or_invalid_name_and_changes_nothing(cli: Invoke) -> None:
    _program(cli, "coffee")
    _program(cli, "lunch")
    assert_error(
        cli("program", "rename", "coffee", "lunch"),
        "program 'lunch' already exists: choose another name",
    )
    assert_error(
        cli("program", "rename", "coffee", "Coffee Time"),
        "invalid program name 'Coffee Time': use lowercase letters, digits and dashes, "
        "e.g. coffee-paris",
    )
    assert_error(
        cli("program", "rename", "tea", "green-tea"),
        "no program named 'tea': see 'sessionctl program list'",
    )
    assert set(_programs(cli)) == {"coffee", "lunch"}


def test_rename_as_json_is_the_program(cli: Invoke) -> None:
    _program(cli, "coffee")
    renamed = ok(cli("program", "rename", "coffee", "tea", "--json")).json()
    assert renamed == _programs(cli)["tea"]
    assert (renamed["name"], renamed["members"], renamed["archived"]) == ("tea", 4, False)


# --- archive and unarchive ----------------------------------------------------------------------


def test_archive_then_run_due_sends_nothing_and_keeps_rounds_planned(
    cli: Invoke, isolated: Path, frozen: time_machine.Traveller
) -> None:
    _program(cli, "coffee")
    _program(cli, "lunch", "--no-opt-in")
    opening = _schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-04 09:00")
    matching = _schedule(cli, "lunch", "--match", "now")

    archived = ok(cli("program", "archive", "coffee"))
    assert archived.stdout == "Program coffee archived: run-due leaves its rounds alone.\n"
    assert ok(cli("run-due", "--dry-run")).stdout.splitlines() == [
        f"would match round {matching[0]} (lunch): 4 participants"
    ]
    ran = ok(cli("run-due", "--json")).json()

    assert (ran["opened"], ran["matched"]) == ([], matching)  # the other program goes on
    assert _statuses(cli, "coffee") == ["planned"]
    assert ok(cli("messages", str(opening[0]), "--json")).json() == []
    assert {str(m["To"]) for m in _outbox(isolated)} <= set(MEMBERS)
    assert len(_outbox(isolated)) == 4  # lunch's four match emails, nothing of coffee's

    ok(cli("program", "unarchive", "coffee"))
    ran = ok(cli("run-due", "--json")).json()
    assert ran["opened"] == opening
    assert _statuses(cli, "coffee") == ["open"]
    assert len(ok(cli("messages", str(opening[0]), "--json")).json()) == 4


def test_archived_program_is_listed_as_archived_and_keeps_its_data(cli: Invoke) -> None:
    _program(cli, "coffee")
    _program(cli, "lunch")
    ok(cli("program", "archive", "coffee"))

    listed = _programs(cli)
    assert (listed["coffee"]["archived"], listed["lunch"]["archived"]) == (True, False)
    assert listed["coffee"]["members"] == 4
    table = ok(cli("program", "list")).stdout
    assert "coffee (archived)" in table
    assert "lunch (archived)" not in table
    assert "archived    yes" in ok(cli("program", "show", "coffee")).stdout
    ok(cli("program", "unarchive", "coffee"))
    assert _programs(cli)["coffee"]["archived"] is False
    assert "archived" not in ok(cli("program", "show", "coffee")).stdout


def test_schedule_refuses_an_archived_program_with_how_to_bring_it_back(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    _program(cli, "coffee", "--no-opt-in")
    ok(cli("program", "archive", "coffee"))
    assert_error(
        cli("schedule", "coffee", "--match", "2026-06-04 09:00"),
        "program 'coffee' is archived: bring it back with "
        "'sessionctl program unarchive coffee' to schedule rounds",
    )
    assert ok(cli("list", "coffee", "--json")).json() == []
    ok(cli("program", "unarchive", "coffee"))
    assert len(_schedule(cli, "coffee", "--match", "2026-06-04 09:00")) == 1


def test_an_archived_open_ended_series_gets_no_new_rounds(
    cli: Invoke, frozen: time_machine.Traveller
) -> None:
    _program(cli, "coffee", "--no-opt-in")
    _schedule(cli, "coffee", "--match", "2026-06-04 09:00", "--repeat", "weekly")
    planned = len(_statuses(cli, "coffee"))
    ok(cli("program", "archive", "coffee"))
    frozen.shift(60 * 60 * 24 * 90)  # three months on: the series would have grown
    ok(cli("run-due"))
    statuses = _statuses(cli, "coffee")
    assert (len(statuses), set(statuses)) == (planned, {"planned"})


# --- delete -------------------------------------------------------------------------------------

TABLES = (
    "program", "member", "series", "round", "response", "group_member", "message", "inbound",
    "avoid",
)  # fmt: skip


def _counts() -> dict[str, int]:
    return {t: sql(f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def _rows_of(program_id: int, rounds: list[int], members: list[int]) -> dict[str, int]:
    """How many rows of each table belong to the program (by its id, its rounds, its members)."""
    r = ",".join(map(str, rounds or [0]))
    m = ",".join(map(str, members or [0]))
    of_rounds = f"round_id IN ({r}) OR member_id IN ({m})"
    queries = {
        "program": f"SELECT count(*) FROM program WHERE id = {program_id}",
        "member": f"SELECT count(*) FROM member WHERE program_id = {program_id}",
        "series": f"SELECT count(*) FROM series WHERE program_id = {program_id}",
        "round": f"SELECT count(*) FROM round WHERE program_id = {program_id}",
        "response": f"SELECT count(*) FROM response WHERE {of_rounds}",
        "group_member": f"SELECT count(*) FROM group_member WHERE {of_rounds}",
        "message": f"SELECT count(*) FROM message WHERE {of_rounds}",
        "inbound": f"SELECT count(*) FROM inbound WHERE program_id = {program_id} OR {of_rounds}",
        "avoid": f"SELECT count(*) FROM avoid WHERE program_id = {program_id}",
    }
    return {t: sql(q)[0][0] for t, q in queries.items()}


def _ids(program: str) -> tuple[int, list[int], list[int]]:
    [(pid,)] = sql("SELECT id FROM program WHERE name = :n", n=program)
    rounds = [i for (i,) in sql("SELECT id FROM round WHERE program_id = :p", p=pid)]
    members = [i for (i,) in sql("SELECT id FROM member WHERE program_id = :p", p=pid)]
    return pid, rounds, members


@pytest.fixture
def busy(
    cli: Invoke,
    isolated: Path,
    frozen: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """coffee with a done round (answers, groups, match emails, a reply read from the inbox),
    an open one of a weekly series and a pairing rule; lunch beside it. Returns coffee's open
    round."""
    box = mailbox.Maildir(isolated / "Maildir", create=True)
    monkeypatch.setenv("SESSIONCTL_INBOX", f"maildir:{isolated / 'Maildir'}")
    _program(cli, "coffee", "--reply-to", "answers@example.com")
    _program(cli, "lunch", "--no-opt-in", members=["eve@example.com", "fay@example.com"])
    ok(cli("member", "avoid", "coffee", "ana@example.com", "bo@example.com"))
    ok(cli("member", "avoid", "lunch", "eve@example.com", "fay@example.com"))
    [done] = _schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-02 09:00")
    _schedule(cli, "lunch", "--match", "now")
    ok(cli("run-due"))
    invite = next(m for m in _outbox(isolated) if str(m["To"]) == "ana@example.com")
    box.add(_reply(str(invite["Message-ID"]), "ana@example.com"))
    for member in MEMBERS[1:]:
        ok(cli("respond", str(done), member, "yes"))
    frozen.move_to("2026-06-02 09:01Z")
    ok(cli("run-due"))  # reads the reply, then matches four people
    assert ok(cli("show", str(done), "--json")).json()["status"] == "done"
    later = _schedule(cli, "coffee", "--opt-in", "now", "--match", "2026-06-09 09:00",
                      "--repeat", "weekly", "--count", "2")  # fmt: skip
    ok(cli("run-due"))
    assert ok(cli("show", str(later[0]), "--json")).json()["status"] == "open"
    return later[0]


def test_delete_force_of_a_program_with_an_open_round_leaves_no_row_of_it(
    cli: Invoke, busy: int
) -> None:
    ids = _ids("coffee")
    theirs = _rows_of(*ids)
    assert all(theirs.values()), theirs  # every kind of row is there to delete
    before = _counts()

    result = ok(cli("program", "delete", "coffee", "--yes", "--force"))

    assert result.stdout == "Program coffee deleted, with 4 members and 3 rounds.\n"
    assert _rows_of(*ids) == dict.fromkeys(TABLES, 0)
    assert _counts() == {t: before[t] - theirs[t] for t in TABLES}  # lunch's rows all kept
    assert set(_programs(cli)) == {"lunch"}
    assert len(ok(cli("list", "--json")).json()) == 1


def test_delete_refuses_while_a_round_is_open_unless_force(cli: Invoke, busy: int) -> None:
    before = _counts()
    assert_error(
        cli("program", "delete", "coffee", "--yes"),
        f"program 'coffee' has open round {busy}: cancel or finish them first, "
        "or pass --force to delete it anyway",
    )
    assert _counts() == before


def test_delete_without_a_terminal_needs_yes(cli: Invoke) -> None:
    _program(cli, "coffee")
    assert_error(
        cli("program", "delete", "coffee"),
        "not deleting program 'coffee' without confirmation: pass --yes to delete it from a script",
    )
    assert set(_programs(cli)) == {"coffee"}


def test_delete_as_json_says_what_went(cli: Invoke) -> None:
    _program(cli, "coffee")
    gone = ok(cli("program", "delete", "coffee", "--yes", "--json")).json()
    assert gone == {"deleted": "coffee", "members": 4, "rounds": 0}
    assert_error(
        cli("program", "delete", "coffee", "--yes"),
        "no program named 'coffee': see 'sessionctl program list'",
    )


def _at_terminal(*args: str, answer: bytes) -> Result:
    """``sessionctl ARGS`` with standard input and output on a pseudo-terminal, ``answer``
    typed at it; standard error (where the question goes) a pipe."""
    leader, follower = pty.openpty()
    with subprocess.Popen(
        [sys.executable, "-m", "sessionctl", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env={**os.environ, "TERM": "xterm-256color", "NO_COLOR": "1"},
        close_fds=True,
    ) as process:
        os.close(follower)
        os.write(leader, answer)  # held by the terminal until the question reads it
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process ended and closed its side
                break
            if not chunk:
                break
            shown += chunk
        errors = process.communicate(timeout=60)[1]
    os.close(leader)
    return Result(process.returncode, shown.decode().replace("\r\n", "\n"), errors.decode())


@pytest.mark.parametrize(("answer", "kept"), [(b"n\n", True), (b"\n", True), (b"y\n", False)])
def test_delete_at_a_terminal_asks_first(cli: Invoke, answer: bytes, kept: bool) -> None:
    _program(cli, "coffee", "--no-opt-in")
    _schedule(cli, "coffee", "--match", "2030-06-04 09:00")

    result = _at_terminal("program", "delete", "coffee", answer=answer)

    assert result.stderr.startswith("Delete program coffee with 4 members and 1 round? [y/N]: ")
    if kept:
        assert result.code == 1
        assert result.stderr.endswith("Nothing deleted.\n")
        assert set(_programs(cli)) == {"coffee"}
        assert len(ok(cli("list", "coffee", "--json")).json()) == 1
    else:
        assert result.code == 0, result.stderr
        assert "Program coffee deleted, with 4 members and 1 round." in result.stdout
        assert _programs(cli) == {}
