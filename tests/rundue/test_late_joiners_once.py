"""Late opt-ins are delivered exactly once, as every other message: eight run-due processes at
once, and runs killed at random points, with late joiners waiting beside rounds that open and
match. Extends tests/rundue/test_concurrency.py and reuses its helpers.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import pytest

from tests.conftest import Invoke
from tests.rundue.conftest import (
    StartSmtp,
    add_program,
    emails_of,
    finish,
    handler_of,
    import_members,
    messages,
    ok,
    parse,
    schedule,
    smtp_url,
    spawn,
)
from tests.rundue.test_concurrency import RUNS, _due_rounds, _wait_for_mail

pytestmark = pytest.mark.slow


def _open_with_late_joiners(cli: Invoke, *, invited: int, late: int) -> int:
    """A round opened (and its opt-ins sent) by an earlier run, then ``late`` members added."""
    add_program(cli, "early", members=invited)
    round_id = schedule(cli, "early", "--opt-in", "now", "--match", "2030-01-07 09:00")
    assert ok(cli("run-due")).stdout.startswith(f"round {round_id} (early): opened")
    import_members(cli, "early", [(e, "Late") for e in emails_of("late", late)])
    return round_id


def test_eight_runs_at_once_send_each_late_opt_in_exactly_once(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server()
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))  # for the in-process runs
    early = _open_with_late_joiners(cli, invited=10, late=100)
    setup = _due_rounds(cli, invited=60, matched=20)
    env = {"SESSIONCTL_RUN_LOCK": "0"}

    results = [finish(p) for p in [spawn("run-due", "--json", env=env) for _ in range(RUNS)]]

    assert {(r.code, r.stderr) for r in results} == {(0, "")}
    reports = [json.loads(r.stdout) for r in results]
    late = [entry for r in reports for entry in r["late"]]
    assert {entry["round"] for entry in late} == {early}
    assert sum(entry["messages"] for entry in late) == 100
    assert [i for r in reports for i in r["opened"]] == [setup.opt_in_round]
    assert [i for r in reports for i in r["matched"]] == [setup.match_round]
    assert sum(r["sent"] for r in reports) == 100 + setup.total
    stored = messages(cli)
    assert Counter(m["status"] for m in stored) == {"sent": 10 + 100 + setup.total}
    assert handler_of(server).message_ids() == dict.fromkeys((m["message_id"] for m in stored), 1)
    assert Counter(m["email"] for m in messages(cli, str(early))) == dict.fromkeys(
        emails_of("early", 10) + emails_of("late", 100), 1
    )


def test_runs_killed_at_random_points_send_each_late_opt_in_once_or_once_more(
    cli: Invoke, start_server: StartSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(delay=0.015)
    handler = handler_of(server)
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", smtp_url(server))
    early = _open_with_late_joiners(cli, invited=5, late=150)
    first = len(handler.received)
    rng = random.Random(20260602)

    killed: list[tuple[int, int]] = []  # per killed run: the range of what the server received
    for i in range(6):
        before = len(handler.received)
        proc = spawn("run-due", env={})
        if i % 3:  # two kills in three land while it sends, the others anywhere in the run
            _wait_for_mail(handler, before, proc, timeout=10)
        time.sleep(rng.uniform(0.05, 0.8))
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)  # reaped: its pid no longer looks alive to the next run
            time.sleep(0.1)  # let the server finish with what it had read
            killed.append((before, len(handler.received)))
        else:
            finish(proc)

    final = cli("run-due")
    assert (final.code, final.stderr) == (0, ""), final.stderr
    stored = messages(cli, str(early))
    assert Counter(m["email"] for m in stored) == dict.fromkeys(
        emails_of("early", 5) + emails_of("late", 150), 1
    )
    assert {m["status"] for m in stored} == {"sent"}
    late_ids = {m["message_id"] for m in stored if m["email"].startswith("late.")}
    ids = [str(parse(r.content)["Message-ID"]) for r in handler.received[first:]]
    assert set(ids) == late_ids
    assert len(killed) >= 4, killed
    again = [  # per kill: what that run got to the server and a later run sent once more
        sum(1 for mid in ids[start - first : end - first] if mid in ids[end - first :])
        for start, end in killed
    ]
    assert all(n <= 1 for n in again)
    assert len(ids) - len(late_ids) == sum(again)
    assert ok(cli("run-due")).stdout == ""
    print(f"{len(killed)} kills; sent again per kill {again}")
