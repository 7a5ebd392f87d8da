"""run-due as cron runs it, in separate processes: several at once, or killed mid-run, each
message still reaches the SMTP server once (at most once more per kill, with the same Message-ID).

The server waits a little per message so that runs overlap and kills land while they send.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.conftest import Invoke
from tests.rundue.conftest import (
    SlowHandler,
    StartSmtp,
    add_program,
    finish,
    groups,
    handler_of,
    messages,
    ok,
    parse,
    schedule,
    smtp_url,
    spawn,
)

pytestmark = pytest.mark.slow

RUNS = 8


@dataclass(frozen=True)
class _Setup:
    opt_in_round: int
    match_round: int
    total: int  # messages the rounds make


def _due_rounds(cli: Invoke, *, invited: int, matched: int) -> _Setup:
    """A round opening now for ``invited`` members, and a no-opt-in round whose match is due."""
    add_program(cli, "big", members=invited)
    add_program(cli, "lunch", members=matched, opt_in=False)
    opt_in_round = schedule(cli, "big", "--opt-in", "now", "--match", "2030-01-07 09:00")
    match_round = schedule(cli, "lunch", "--match", "now")
    return _Setup(opt_in_round, match_round, invited + matched)


def _assert_all_sent_once(cli: Invoke, handler: SlowHandler, setup: _Setup) -> None:
    stored = messages(cli)
    assert len(stored) == setup.total
    assert Counter(m["status"] for m in stored) == {"sent": setup.total}
    received = handler.message_ids()
    assert received == dict.fromkeys((m["message_id"] for m in stored), 1)
    for r in handler.received:  # the envelope names the member, and only them
        assert len(r.rcpt_tos) == 1


def test_eight_runs_at_once_deliver_each_message_exactly_once(
    cli: Invoke, start_server: StartSmtp
) -> None:
    server = start_server()
    setup = _due_rounds(cli, invited=300, matched=60)
    env = {"SESSIONCTL_RUN_LOCK": "0", "SESSIONCTL_TRANSPORT": smtp_url(server)}

    procs = [spawn("run-due", "--json", env=env) for _ in range(RUNS)]
    results = [finish(p) for p in procs]

    for result in results:
        assert (result.code, result.stderr) == (0, "")
    reports = [json.loads(result.stdout) for result in results]
    assert [i for r in reports for i in r["opened"]] == [setup.opt_in_round]
    assert [i for r in reports for i in r["matched"]] == [setup.match_round]
    assert sum(r["sent"] for r in reports) == setup.total
    assert {(r["failed"], r["retrying"], tuple(r["missed"])) for r in reports} == {(0, 0, ())}
    _assert_all_sent_once(cli, handler_of(server), setup)
    assert sorted(len(g) for g in groups(cli, setup.match_round)["groups"]) == [2] * 30


def test_with_the_run_lock_the_other_runs_skip_quietly(
    cli: Invoke, start_server: StartSmtp
) -> None:
    server = start_server(delay=0.008)  # the run that holds the lock lasts a few seconds
    setup = _due_rounds(cli, invited=200, matched=40)
    env = {"SESSIONCTL_TRANSPORT": smtp_url(server)}

    procs = [spawn("run-due", env=env) for _ in range(RUNS)]
    results = [finish(p) for p in procs]

    assert {(r.code, r.stderr) for r in results} == {(0, "")}
    [worker] = [r for r in results if r.stdout]
    assert worker.stdout.splitlines() == [
        f"round {setup.opt_in_round} (big): opened, 200 opt-in messages",
        f"round {setup.match_round} (lunch): matched 40 people into 20 groups",
        f"messages: {setup.total} sent",
    ]
    assert len({r.peer for r in handler_of(server).received}) == 1
    _assert_all_sent_once(cli, handler_of(server), setup)


def _wait_for_mail(
    handler: SlowHandler, seen: int, proc: subprocess.Popen[str], *, timeout: float
) -> None:
    """Wait until the server accepts a message beyond the first ``seen``, or the run ends."""
    deadline = time.monotonic() + timeout
    while len(handler.received) <= seen and proc.poll() is None:
        assert time.monotonic() < deadline, "the run sent nothing"
        time.sleep(0.01)


def test_runs_killed_at_random_points_lose_nothing_and_repeat_at_most_one_each(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(delay=0.015)
    handler = handler_of(server)
    setup = _due_rounds(cli, invited=160, matched=40)
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))  # for the last, in-process run
    env: dict[str, str] = {}
    rng = random.Random(20260601)

    killed: list[tuple[int, int]] = []  # per killed run: the range of what the server received
    finished = []
    for i in range(6):
        before = len(handler.received)
        proc = spawn("run-due", env=env)
        if i % 3:  # two kills in three land while it sends, the others anywhere in the run
            _wait_for_mail(handler, before, proc, timeout=10)
        time.sleep(rng.uniform(0.05, 1.0))
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)  # reaped: its pid no longer looks alive to the next run
            time.sleep(0.1)  # let the server finish with what it had read
            killed.append((before, len(handler.received)))
        else:
            finished.append(finish(proc))

    final = cli("run-due")
    assert (final.code, final.stderr) == (0, ""), final.stderr
    stored = messages(cli)
    assert Counter(m["status"] for m in stored) == {"sent": setup.total}
    received = handler.message_ids()
    assert set(received) == {m["message_id"] for m in stored}
    assert len(killed) >= 5, (killed, finished)
    assert sum(end - start for start, end in killed) > 0  # kills did interrupt runs that sent
    ids = [str(parse(r.content)["Message-ID"]) for r in handler.received]
    again = [  # per kill: what that run got to the server and a later run sent once more
        sum(1 for mid in ids[start:end] if mid in ids[end:]) for start, end in killed
    ]
    assert all(n <= 1 for n in again)
    assert sum(count - 1 for count in received.values()) == sum(again)
    assert sorted(len(g) for g in groups(cli, setup.match_round)["groups"]) == [2] * 20
    assert ok(cli("run-due")).stdout == ""
    sent = [end - start for start, end in killed]  # shown with -rP
    print(f"{len(killed)} kills; received per killed run {sent}; sent again per kill {again}")
