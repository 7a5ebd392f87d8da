"""Every test runs the real CLI against its own fresh database and folders.

The database is a temporary SQLite file, or, with ``SESSIONCTL_TEST_DB`` set to a PostgreSQL URL
(``postgresql+psycopg://postgres@127.0.0.1/test``), a database of its own created on that server
and dropped after the test. Tests about the SQLite file itself carry the ``sqlite_file`` mark and
skip on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from sessionctl.cli import run
from tests import testdb


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def isolated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    """Own home, XDG folders, database and outbox; no colour variables leaking in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    if not testdb.ON_POSTGRES:
        monkeypatch.setenv("SESSIONCTL_DB", str(tmp_path / "sessionctl.db"))
        yield from _with_env(monkeypatch, tmp_path)
        return
    if request.node.get_closest_marker("sqlite_file"):
        pytest.skip("about the SQLite file itself; this run uses PostgreSQL")
    if (why := _postgres_unreachable()) is not None:
        pytest.skip(f"PostgreSQL at {testdb.URL} is not reachable: {why}")
    monkeypatch.setenv("SESSIONCTL_DB", testdb.fresh_database())
    yield from _with_env(monkeypatch, tmp_path)


@functools.cache
def _postgres_unreachable() -> str | None:
    return testdb.server_reachable()


def _with_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.setenv("TZ", "UTC")
    for name in ("NO_COLOR", "FORCE_COLOR", "SESSIONCTL_TRANSPORT", "SESSIONCTL_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path


@pytest.fixture
def db_path(isolated: Path) -> Path:
    """The SQLite file of this test (on PostgreSQL, a path that is never used as a file)."""
    return isolated / "sessionctl.db"


def sql(statement: str, **params: Any) -> list[Any]:
    """Run one SQL statement (``:name`` parameters) on this test's database, committed; the
    rows it returns. For putting rows in states the CLI cannot reach, on either database."""
    return testdb.execute(os.environ["SESSIONCTL_DB"], statement, params)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run ``sessionctl ARGS`` in this process through the real entry point."""

    def invoke(*args: str, input: str | None = None) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(input or ""))
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def sub(isolated: Path) -> Iterator[Invoke]:
    """Run ``sessionctl ARGS`` as a separate process, as cron or a shell script would."""

    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        done = subprocess.run(
            [sys.executable, "-m", "sessionctl", *map(str, args)],
            input=input or "",
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    yield invoke


@pytest.fixture
def empty_db(cli: Invoke) -> None:
    """A database with the schema and nothing else (reading commands never create one)."""
    assert cli("db", "upgrade").code == 0


def ok(result: Result) -> Result:
    """The result of a command that must succeed (its stderr shown when it did not)."""
    assert result.code == 0, result.stderr
    return result


def member_json(
    email: str, name: str = "", team: str | None = None, active: bool = True
) -> dict[str, Any]:
    """A member as ``member list --json`` shows one who neither paused nor left by themselves."""
    return {
        "email": email,
        "name": name,
        "team": team,
        "active": active,
        "paused_until": None,
        "left_reason": None,
    }


def assert_error(result: Result, message: str, *, code: int = 2) -> None:
    """Exactly one ``error:`` line on stderr, nothing on stdout, and the exit code."""
    assert result.code == code
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def seed_database(folder: Path, commands: Sequence[Sequence[str]], *, now: datetime) -> str:
    """Run ``commands`` through the CLI at ``now`` against ``folder/seed.db``, in an environment
    of their own; return the last command's stdout. Built once per module, copied per test."""
    out = ""
    database: str | Path = folder / "seed.db"
    if testdb.ON_POSTGRES:
        database = testdb.create_database(testdb.name_for(str(folder / "seed.db")))
    with pytest.MonkeyPatch.context() as mp, time_machine.travel(now, tick=False):
        for name, value in {
            "HOME": folder,
            "XDG_DATA_HOME": folder / "data",
            "XDG_CONFIG_HOME": folder / "config",
            "SESSIONCTL_DB": database,
            "TZ": "UTC",
            "COLUMNS": "160",
        }.items():
            mp.setenv(name, str(value))
        for command in commands:
            with contextlib.redirect_stdout(io.StringIO()) as captured:
                assert run(list(command)) == 0, command
            out = captured.getvalue()
    return out


def copy_database(seed: Path, target: Path) -> None:
    """Copy a seed database into a test's own (SQLite's backup: WAL-safe; on PostgreSQL, this
    test's database is made anew from the seed's)."""
    if testdb.ON_POSTGRES:
        testdb.copy_database(testdb.name_for(str(seed)), os.environ["SESSIONCTL_DB"])
        return
    with (
        contextlib.closing(sqlite3.connect(seed)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
