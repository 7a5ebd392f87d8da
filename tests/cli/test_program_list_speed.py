"""The fast path of program list and program show: they read plain rows, so they load neither
the ORM models nor SQLModel and the SQLAlchemy ORM under them, nor Alembic (importing those
costs more than the whole command, see bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import Invoke, ok

HEAVY = ("sessionctl.store.models", "sqlmodel", "sqlalchemy.orm", "alembic")


def test_program_list_and_show_import_no_orm(cli: Invoke) -> None:
    ok(cli("program", "add", "coffee-paris", "--tz", "Europe/Paris"))
    ok(cli("member", "add", "coffee-paris", "ada@example.com"))
    code = (
        "import contextlib, io, json, sys\n"
        "from sessionctl.cli import run\n"
        "commands = [['program', 'list'], ['program', 'list', '--json'],\n"
        "            ['program', 'show', 'coffee-paris'],\n"
        "            ['program', 'show', 'coffee-paris', '--json'], ['program', 'show', 'nope']]\n"
        "outputs = []\n"
        "for args in commands:\n"
        "    with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "        outputs.append([run(args), out.getvalue()])\n"
        f"loaded = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))\n"
        "print(json.dumps([outputs, loaded]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    outputs, loaded = json.loads(done.stdout.splitlines()[-1])
    assert loaded == []
    table, listed, panel, shown, missing = outputs
    assert [code for code, _ in outputs] == [0, 0, 0, 0, 2]
    assert "coffee-paris" in table[1] and "Europe/Paris" in table[1]
    assert [p["members"] for p in json.loads(listed[1])] == [1]
    assert "members     1" in panel[1]
    assert json.loads(shown[1])["timezone"] == "Europe/Paris"
    assert missing[1] == ""
    assert done.stderr.splitlines()[-1] == (
        "error: no program named 'nope': see 'sessionctl program list'"
    )
