"""Change notices and reminders are delivered exactly once, like every message: run-due in
separate processes, eight at once or killed mid-run, with a round's reminders still to be made
and change notices of a moved and of a cancelled round waiting.

The rounds are opened 20 hours in the past (in this process, the clock moved back), so that in
the runs' real time the first one's reminders are due: its match is 2 hours away and its opt-in
went out more than 12 hours ago. The helpers are those of test_concurrency and
test_maildir_kills.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from tests.conftest import Invoke
from tests.rundue.conftest import (
    StartSmtp,
    add_program,
    finish,
    handler_of,
    messages,
    ok,
    outbox_path,
    parse,
    schedule,
    smtp_url,
    spawn,
)
from tests.rundue.test_concurrency import _wait_for_mail
from tests.rundue.test_maildir_kills import _count, _maildir_ids, _wait_for_files

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class _Rounds:
    reminded: int  # its reminders are due: nobody answered
    moved: int  # its match moved: notices wait
    cancelled: int  # cancelled: notices wait
    to_send: int  # reminders and notices the runs deliver


def _waiting(cli: Invoke, *, remind: int, move: int, cancel: int) -> _Rounds:
    """Three open rounds, their opt-ins delivered 20 hours ago; then one moved and one
    cancelled now. Nothing is pending but the notices; the reminders are still to be made."""
    now = datetime.now(UTC)
    match = (now + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")  # the programs are in UTC
    with time_machine.travel(now - timedelta(hours=20), tick=False):
        for name, count in (("remind", remind), ("move", move), ("cancel", cancel)):
            add_program(cli, name, members=count)
        reminded = schedule(cli, "remind", "--opt-in", "now", "--match", match)
        moved = schedule(cli, "move", "--opt-in", "now", "--match", "2030-01-07 09:00")
        cancelled = schedule(cli, "cancel", "--opt-in", "now", "--match", "2030-01-07 09:00")
        assert ok(cli("run-due")).stdout.endswith(f"messages: {remind + move + cancel} sent\n")
    ok(cli("update", str(moved), "--match", "2030-01-08 09:00"))
    ok(cli("cancel", str(cancelled)))
    return _Rounds(reminded, moved, cancelled, remind + move + cancel)


def _assert_each_once(cli: Invoke, received: Counter[str], rounds: _Rounds) -> None:
    """Every message stored (opt-ins, reminders, notices) was sent, and received once."""
    stored = messages(cli)
    assert Counter(m["status"] for m in stored) == {"sent": len(stored)}
    assert received == dict.fromkeys((m["message_id"] for m in stored), 1)
    later = Counter((m["round"], m["kind"]) for m in stored if m["kind"] != "opt_in")
    assert sum(later.values()) == rounds.to_send
    assert set(later) == {
        (rounds.reminded, "reminder"),
        (rounds.moved, "notice"),
        (rounds.cancelled, "notice"),
    }


def test_eight_runs_at_once_make_and_deliver_each_reminder_and_notice_once(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server()
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))
    rounds = _waiting(cli, remind=30, move=30, cancel=20)
    env = {"SESSIONCTL_RUN_LOCK": "0"}

    results = [finish(p) for p in [spawn("run-due", "--json", env=env) for _ in range(8)]]

    assert {(r.code, r.stderr) for r in results} == {(0, "")}
    reports = [json.loads(r.stdout) for r in results]
    assert [i for r in reports for i in r["reminded"]] == [rounds.reminded]  # made by one run
    assert sum(r["sent"] for r in reports) == rounds.to_send
    _assert_each_once(cli, handler_of(server).message_ids(), rounds)
    assert ok(cli("show", str(rounds.reminded), "--json")).json()["reminded"] == 30


def test_runs_killed_mid_send_repeat_at_most_one_reminder_or_notice_each(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(delay=0.015)
    handler = handler_of(server)
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))
    rounds = _waiting(cli, remind=30, move=30, cancel=20)
    rng = random.Random(20261202)

    killed: list[tuple[int, int]] = []  # per killed run: the range of what the server received
    for i in range(4):
        before = len(handler.received)
        proc = spawn("run-due", env={})
        if i % 2:  # every other kill lands while it sends, the others anywhere in the run
            _wait_for_mail(handler, before, proc, timeout=10)
        time.sleep(rng.uniform(0.05, 0.4))
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)  # reaped: its pid no longer looks alive to the next run
            time.sleep(0.1)  # let the server finish with what it had read
            killed.append((before, len(handler.received)))
        else:
            finish(proc)

    final = cli("run-due")
    assert (final.code, final.stderr) == (0, ""), final.stderr
    assert len(killed) >= 3
    ids = [str(parse(r.content)["Message-ID"]) for r in handler.received]
    again = [sum(1 for mid in ids[start:end] if mid in ids[end:]) for start, end in killed]
    assert all(n <= 1 for n in again), again  # at most the message in flight at each kill
    received = handler.message_ids()
    assert sum(count - 1 for count in received.values()) == sum(again)
    _assert_each_once(cli, Counter(dict.fromkeys(received, 1)), rounds)
    print(f"{len(killed)} kills; sent again per kill {again}")


def test_runs_killed_at_random_moments_write_each_reminder_and_notice_once_to_the_maildir(
    cli: Invoke, isolated: Path
) -> None:
    rounds = _waiting(cli, remind=30, move=30, cancel=20)
    box = outbox_path(isolated)
    rng = random.Random(20261203)
    seen: dict[str, str] = {}

    for i in range(4):
        before = _count(box)
        proc = spawn("run-due", env={})
        if i % 2:  # the moment a file lands, or a few files later
            _wait_for_files(box, before + rng.randint(1, 8), proc)
        else:  # anywhere, starting up and making the reminders included
            _wait_for_files(box, before + 10, proc, seconds=rng.uniform(0.05, 1.0))
        assert proc.poll() is None, "the run finished before it was killed: give it more to send"
        proc.kill()
        proc.communicate(timeout=30)

    final = cli("run-due")
    assert (final.code, final.stderr) == (0, ""), final.stderr
    _assert_each_once(cli, _maildir_ids(box, seen), rounds)
    assert os.listdir(box / "tmp") == []
