"""Several hosts on one database: claims that a run on another host took and never finished, the
lease that gives them back, what run-due says meanwhile, and who holds what in ``messages``.

The other host is its claims: rows in status ``sending`` whose ``claimed_by`` names host-b,
written with SQL into the test's database, as a run on host-b leaves them when it dies mid-batch.
Messages are first sent for real (to the SMTP server), then turned into such claims, so that the
server shows whether and when they go out again. Time is frozen at T0 and moved on (but for
the one run in a subprocess, which runs at the real time).
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.conftest import Invoke, sql
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

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
LATER = "2030-06-03 09:00"  # far enough that the real clock (the subprocess test) is before it
CLAIMED = datetime(2026, 6, 1, 8, 10, tzinfo=UTC)  # when host-b claimed, then died
HELD = "3 messages held by host-b since 2026-06-01 08:10 UTC, free at 2026-06-01 08:25 UTC"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Traveller]:
    assert socket.gethostname() not in ("host-b", "host-c")
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def _sent_round(cli: Invoke, *, members: int = 3) -> int:
    """A round whose opt-in messages went out at T0."""
    add_program(cli, "coffee", members=members)
    round_id = schedule(cli, "coffee", "--opt-in", "now", "--match", LATER)
    ok(cli("run-due"))
    return round_id


def _claim(*, by: str, at: datetime, ids: list[int] | None = None) -> None:
    """Make sent messages (``ids``, default all) unsent claims of ``by`` taken at ``at``."""
    chosen = "" if ids is None else f" AND id IN ({', '.join(map(str, ids))})"
    sql(
        "UPDATE message SET status = 'sending', claimed_by = :by, claimed_at = :at, "
        f"sent_at = NULL, attempts = 0 WHERE status = 'sent'{chosen}",
        by=by,
        at=at.astimezone(UTC).replace(tzinfo=None),  # stored as naive UTC
    )


def _received(server: SmtpServer) -> list[str]:
    """The Message-IDs the server accepted, in order."""
    return [str(parse(r.content)["Message-ID"]) for r in handler_of(server).received]


def _table(cli: Invoke, *args: str) -> list[str]:
    """The lines of a ``messages`` table, without the blank lines around it."""
    lines = ok(cli("messages", *args)).stdout.splitlines()
    return [line.rstrip() for line in lines if line.strip()]


def _statuses(cli: Invoke) -> list[tuple[str, Any]]:
    return [(m["status"], m["held_by"]) for m in messages(cli)]


# --- another host's claims: held until their lease ends, then sent --------------------------------


def test_a_dead_hosts_claims_wait_for_their_lease_then_go_out_once(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _sent_round(cli)
    first = _received(server)
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED)

    frozen.move_to(datetime(2026, 6, 1, 8, 15, tzinfo=UTC))
    held = cli("run-due")
    assert (held.code, held.stdout, held.stderr) == (1, "", f"error: {HELD}\n")
    frozen.move_to(datetime(2026, 6, 1, 8, 24, 59, tzinfo=UTC))
    assert cli("run-due").code == 1
    assert _received(server) == first  # nothing went again while the lease ran
    assert _statuses(cli) == [("sending", "host-b")] * 3

    frozen.move_to(datetime(2026, 6, 1, 8, 25, tzinfo=UTC))  # "free at 08:25" means at 08:25
    freed = cli("run-due")
    assert (freed.code, freed.stdout, freed.stderr) == (0, "messages: 3 sent\n", "")
    assert _received(server) == first + first  # each once more, with the same Message-ID
    assert _statuses(cli) == [("sent", None)] * 3


def test_run_due_json_names_each_holder(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _sent_round(cli, members=5)
    ids = [m["id"] for m in messages(cli)]
    _claim(by="host-c:17:feedbeef", at=CLAIMED + timedelta(minutes=2), ids=ids[:2])
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED, ids=ids[2:4])
    _claim(by="host-b:4343:0badf00d", at=CLAIMED + timedelta(minutes=3), ids=ids[4:])

    frozen.move_to(datetime(2026, 6, 1, 8, 20, tzinfo=UTC))
    result = cli("run-due", "--json")
    assert result.code == 1
    assert result.json() == {
        "opened": [],
        "matched": [],
        "missed": [],
        "late": [],
        "reminded": [],
        "sent": 0,
        "failed": 0,
        "retrying": 0,
        "held": [  # per host, oldest first; free when its newest claim's lease ends
            {
                "by": "host-b",
                "count": 3,
                "since": "2026-06-01T08:10:00+00:00",
                "free_at": "2026-06-01T08:28:00+00:00",
            },
            {
                "by": "host-c",
                "count": 2,
                "since": "2026-06-01T08:12:00+00:00",
                "free_at": "2026-06-01T08:27:00+00:00",
            },
        ],
        "left": [],
        "inbox": None,  # no inbox set up
    }
    assert result.stderr.splitlines() == [
        "error: 3 messages held by host-b since 2026-06-01 08:10 UTC, free at 2026-06-01 08:28 UTC",
        "error: 2 messages held by host-c since 2026-06-01 08:12 UTC, free at 2026-06-01 08:27 UTC",
    ]

    frozen.move_to(datetime(2026, 6, 1, 8, 27, tzinfo=UTC))  # host-c's and one of host-b's free
    partly = cli("run-due", "--json")
    assert (partly.code, partly.json()["sent"]) == (0, 4)
    assert partly.json()["held"] == [
        {
            "by": "host-b",
            "count": 1,
            "since": "2026-06-01T08:13:00+00:00",
            "free_at": "2026-06-01T08:28:00+00:00",
        }
    ]
    assert partly.stderr == (
        "note: 1 message held by host-b since 2026-06-01 08:13 UTC, free at 2026-06-01 08:28 UTC\n"
    )


def test_held_claims_are_only_a_note_when_the_run_did_other_work(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _sent_round(cli)
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED)
    frozen.move_to(datetime(2026, 6, 1, 8, 15, tzinfo=UTC))
    add_program(cli, "lunch", members=2, opt_in=False)
    lunch = schedule(cli, "lunch", "--match", "now")

    result = cli("run-due")
    assert result.code == 0
    assert result.stdout.splitlines() == [
        f"round {lunch} (lunch): matched 2 people into 1 group",
        "messages: 2 sent",
    ]
    assert result.stderr == f"note: {HELD}\n"


# --- normal overlap: live runs say nothing --------------------------------------------------------


def test_a_fresh_claim_of_another_host_is_normal_overlap_for_one_minute(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _sent_round(cli)
    first = _received(server)
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED)

    frozen.move_to(CLAIMED + timedelta(seconds=59))  # host-b is surely sending them right now
    quiet = cli("run-due", "--json")
    assert (quiet.code, quiet.stderr, quiet.json()["held"]) == (0, "", [])

    frozen.move_to(CLAIMED + timedelta(minutes=1))  # a live run would have claimed anew by now
    loud = cli("run-due")
    assert (loud.code, loud.stdout) == (1, "")
    assert loud.stderr == f"error: {HELD}\n"
    assert _received(server) == first


def test_a_live_run_on_this_host_is_normal_overlap_and_a_dead_one_gives_back_at_once(
    cli: Invoke, server: SmtpServer, frozen: time_machine.Traveller
) -> None:
    _sent_round(cli)
    first = _received(server)
    host = socket.gethostname()
    live = subprocess.Popen(["sleep", "120"])
    try:
        _claim(by=f"{host}:{live.pid}:00c0ffee", at=CLAIMED)
        frozen.move_to(datetime(2026, 6, 1, 8, 20, tzinfo=UTC))  # old, yet its process is alive
        quiet = cli("run-due", "--json")
        assert (quiet.code, quiet.stderr, quiet.json()["held"]) == (0, "", [])
        assert _statuses(cli) == [("sending", host)] * 3
        assert _received(server) == first
    finally:
        live.kill()
        live.wait()

    # The same claims, their process now dead: this host knows, and sends them without waiting.
    freed = cli("run-due")
    assert (freed.code, freed.stdout, freed.stderr) == (0, "messages: 3 sent\n", "")
    assert _received(server) == first + first


# --- the lease setting ----------------------------------------------------------------------------


def _write_config(isolated: Path, text: str) -> None:
    folder = isolated / "home" / "config" / "sessionctl"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)


@pytest.mark.parametrize(
    ("env", "config", "minutes"),
    [
        ("5", None, 5),
        ("5m", None, 5),
        (" 1H ", None, 60),
        (None, "claim_lease = 30", 30),
        (None, 'claim_lease = "2h"', 120),
        ("1", "claim_lease = 30", 1),  # the environment beats the config file
        ("", "claim_lease = 30", 30),  # an empty variable counts as unset
    ],
)
def test_the_lease_is_a_setting(
    cli: Invoke,
    server: SmtpServer,
    frozen: time_machine.Traveller,
    monkeypatch: pytest.MonkeyPatch,
    isolated: Path,
    env: str | None,
    config: str | None,
    minutes: int,
) -> None:
    if env is not None:
        monkeypatch.setenv("SESSIONCTL_CLAIM_LEASE", env)
    if config is not None:
        _write_config(isolated, config + "\n")
    _sent_round(cli)
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED)
    free = CLAIMED + timedelta(minutes=minutes)

    frozen.move_to(max(free - timedelta(seconds=1), CLAIMED + timedelta(minutes=1)))
    if free - CLAIMED > timedelta(minutes=1):
        held = cli("run-due")
        assert held.code == 1
        assert held.stderr.endswith(f", free at {free:%Y-%m-%d %H:%M} UTC\n")
    frozen.move_to(free)
    assert ok(cli("run-due")).stdout == "messages: 3 sent\n"


@pytest.mark.parametrize(
    ("env", "config", "error"),
    [
        ("0", None, "invalid claim lease '0' from SESSIONCTL_CLAIM_LEASE"),
        ("1441", None, "invalid claim lease '1441' from SESSIONCTL_CLAIM_LEASE"),
        ("25h", None, "invalid claim lease '25h' from SESSIONCTL_CLAIM_LEASE"),
        ("-5", None, "invalid claim lease '-5' from SESSIONCTL_CLAIM_LEASE"),
        ("1.5h", None, "invalid claim lease '1.5h' from SESSIONCTL_CLAIM_LEASE"),
        ("2d", None, "invalid claim lease '2d' from SESSIONCTL_CLAIM_LEASE"),
        ("fifteen", None, "invalid claim lease 'fifteen' from SESSIONCTL_CLAIM_LEASE"),
        ("99999999999999", None, "invalid claim lease '99999999999999' from SESSIONCTL_CLAIM"),
        (None, "claim_lease = 0", "invalid claim lease '0' from the config file "),
        (None, 'claim_lease = "soon"', "invalid claim lease 'soon' from the config file "),
        (None, "claim_lease = 1.5", "'claim_lease' must be minutes, e.g. 15 or \"1h\""),
        (None, "claim_lease = true", "'claim_lease' must be minutes, e.g. 15 or \"1h\""),
    ],
)
def test_a_bad_lease_is_refused_in_one_line(
    cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
    isolated: Path,
    env: str | None,
    config: str | None,
    error: str,
) -> None:
    _sent_round(cli)
    if env is not None:
        monkeypatch.setenv("SESSIONCTL_CLAIM_LEASE", env)
    if config is not None:
        _write_config(isolated, config + "\n")
    line = refused(cli("run-due"), error)
    if "invalid claim lease" in line:
        assert line.endswith(": give minutes from 1 to 1440, e.g. 15, 15m or 1h")


# --- messages --status sending: who holds what ----------------------------------------------------


def test_messages_status_sending_shows_the_holder(cli: Invoke, server: SmtpServer) -> None:
    round_id = _sent_round(cli)
    ids = [m["id"] for m in messages(cli)]
    _claim(by="host-b:4242:00c0ffee", at=CLAIMED, ids=ids[1:])
    by_id = {m["id"]: m for m in messages(cli)}

    sending = messages(cli, "--status", "sending")
    assert sending == [
        {
            "id": i,
            "round": round_id,
            "email": by_id[i]["email"],
            "kind": "opt_in",
            "status": "sending",
            "attempts": 0,
            "last_error": None,
            "message_id": by_id[i]["message_id"],
            "sent_at": None,
            "held_by": "host-b",
        }
        for i in ids[1:]
    ]
    assert [m["held_by"] for m in messages(cli, "--status", "sent")] == [None]
    assert messages(cli, "--status", "pending") == []  # a claimed message is no longer pending

    header = [
        "  Id   Round   To                       Kind     Status    Held by   Tries   Last error",
        " " + "─" * 87,
    ]
    rows = [
        "  2    1       coffee.001@example.com   opt_in   sending   host-b    0",
        "  3    1       coffee.002@example.com   opt_in   sending   host-b    0",
    ]
    assert _table(cli, "--status", "sending") == [*header, *rows]
    assert _table(cli) == [
        *header,
        "  1    1       coffee.000@example.com   opt_in   sent                1",
        *rows,
    ]
    plain = ok(cli("messages", "--status", "sent")).stdout
    assert "Held by" not in plain  # no column that would always be empty


# --- as cron runs it ------------------------------------------------------------------------------


def test_run_due_under_cron_says_who_holds_what(cli: Invoke, sub: Invoke) -> None:
    _sent_round(cli)
    real_now = time_machine.escape_hatch.datetime.datetime.now(UTC).replace(microsecond=0)
    at = real_now - timedelta(minutes=5)
    _claim(by="host-b:4242:00c0ffee", at=at)

    result = sub("run-due")
    free = at + timedelta(minutes=15)
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: 3 messages held by host-b since {at:%Y-%m-%d %H:%M} UTC, "
        f"free at {free:%Y-%m-%d %H:%M} UTC\n"
    )
