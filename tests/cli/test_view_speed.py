"""The fast paths of list and planning: they load neither the ORM models nor Alembic (whose
imports cost more than showing a thousand rounds, see bench/views.py), and the times they
format once per zone read exactly as everywhere else."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine

from sessionctl.domain.times import format_local
from tests.conftest import Invoke, ok


def test_list_and_planning_import_no_models(cli: Invoke) -> None:
    ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
    ok(cli("schedule", "coffee-paris", "--opt-in", "now", "--match", "2099-06-10 09:00"))
    code = (
        "import json, sys\n"
        "from sessionctl.cli import run\n"
        "codes = [run(['list']), run(['list', 'coffee-paris', '--json']), run(['planning'])]\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('sessionctl.store.models', "
        "'alembic')))\n"
        "print(json.dumps([codes, loaded]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [[0, 0, 0], []]


def test_times_read_as_everywhere_across_a_change_of_clocks(cli: Invoke) -> None:
    # Santiago has no letter abbreviations ("-03", shown UTC-03:00) and turns its clocks back
    # on Sunday 5 April 2026; Kathmandu is 5:45 ahead of UTC.
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC), tick=False):
        ok(cli("program", "add", "santiago", "--tz", "America/Santiago"))
        window = ["--opt-in", "2026-03-23 09:00", "--match", "2026-03-26 09:00"]
        ok(cli("schedule", "santiago", *window, "--repeat", "weekly", "--count", "4"))
        rounds = ok(cli("list", "--json")).json()
        for zone in ("America/Santiago", "Asia/Kathmandu", "UTC"):
            table = ok(cli("list", "--tz", zone)).stdout
            for r in rounds:
                for key in ("opt_in_at", "match_at"):
                    shown = format_local(datetime.fromisoformat(r[key]), ZoneInfo(zone))
                    assert shown in table
    assert {r["match_at"][-6:] for r in rounds} == {"-03:00", "-04:00"}
    assert "2026-04-09 09:00 UTC-04:00" in ok(cli("list", "santiago")).stdout
