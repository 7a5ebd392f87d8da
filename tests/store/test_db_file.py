"""The database file as an admin meets it: made only on purpose, checked, backed up, read-only."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Invoke, Result, assert_error

pytestmark = pytest.mark.sqlite_file

MISSING_HINT = (
    "check the path, or create it with 'sessionctl program add' or 'sessionctl db upgrade'"
)


def _ok(result: Result) -> Result:
    assert result.code == 0, result.stderr
    return result


def _outbox(isolated: Path) -> list[Path]:
    new = isolated / "home" / "data" / "sessionctl" / "outbox" / "new"
    return sorted(new.iterdir()) if new.is_dir() else []


@pytest.fixture
def coffee(cli: Invoke) -> None:
    """A program with 30 members and a round whose opt-in is due: run-due would send 30."""
    _ok(cli("program", "add", "coffee", "--tz", "UTC"))
    rows = "".join(f"m{i}@example.com,Member {i}\n" for i in range(30))
    _ok(cli("member", "import", "coffee", "-", input="email,name\n" + rows))
    _ok(cli("schedule", "coffee", "--opt-in", "now", "--match", "2099-06-01 09:00"))


# --- created only by a command that writes data -------------------------------------------------


@pytest.mark.parametrize(
    "command", [["program", "list"], ["run-due"], ["db", "status"], ["program", "add", "p"]]
)
def test_an_empty_file_is_refused_and_left_as_it_is(
    cli: Invoke, db_path: Path, command: list[str]
) -> None:
    db_path.write_bytes(b"")
    assert_error(
        cli(*command),
        f"database {db_path} is an empty file that sessionctl did not create: give --db a "
        "sessionctl database, or delete the file and run 'sessionctl db upgrade'",
        code=1,
    )
    assert db_path.stat().st_size == 0


def test_bad_input_to_program_add_creates_no_database(cli: Invoke, db_path: Path) -> None:
    result = cli("program", "add", "Coffee Paris")
    assert result.code == 2
    assert not db_path.exists()
    assert list(db_path.parent.iterdir()) == [db_path.parent / "home"]


def test_a_typo_in_cron_changes_nothing_and_says_so(
    cli: Invoke, coffee: None, tmp_path: Path, isolated: Path
) -> None:
    typo = tmp_path / "sessionctl.bd"
    assert_error(
        cli("--db", typo, "run-due"),
        f"database {typo} does not exist (from --db): {MISSING_HINT}",
    )
    assert not typo.exists()
    assert _outbox(isolated) == []


SESSIONCTL = [sys.executable, "-m", "sessionctl"]


def test_concurrent_first_commands_share_one_new_database(tmp_path: Path) -> None:
    target = tmp_path / "new" / "shared.db"
    env = {**os.environ, "SESSIONCTL_DB": str(target)}
    procs = [
        subprocess.Popen(
            [*SESSIONCTL, "program", "add", f"p{i}", "--tz", "UTC", "--sender", "p@example.com"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outcomes = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    assert outcomes == [(0, "")] * 4
    listed = subprocess.run(
        [sys.executable, "-m", "sessionctl", "program", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sorted(p["name"] for p in json.loads(listed.stdout)) == ["p0", "p1", "p2", "p3"]
    assert target.stat().st_mode & 0o777 == 0o600
    leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


# --- db check -----------------------------------------------------------------------------------


def test_db_check_of_a_sound_database(cli: Invoke, coffee: None, db_path: Path) -> None:
    result = _ok(cli("db", "check"))
    assert result.stdout == f"database {db_path}: integrity ok, foreign keys ok\n"
    assert cli("db", "check", "--json").json() == {
        "database": str(db_path),
        "ok": True,
        "integrity": [],
        "foreign_keys": [],
    }


def _damage_one_page(db_path: Path) -> None:
    """Overwrite one b-tree page that SQLite reports in its check rather than failing on.

    Which page that is depends on the layout, so try them from the last one down."""
    pristine = db_path.with_suffix(".pristine")
    shutil.copy(db_path, pristine)
    with sqlite3.connect(pristine) as conn:
        page_size, pages = (
            conn.execute("PRAGMA page_size").fetchone()[0],
            conn.execute("PRAGMA page_count").fetchone()[0],
        )
    conn.close()
    for page in range(pages, 1, -1):
        shutil.copy(pristine, db_path)
        with db_path.open("r+b") as f:
            f.seek((page - 1) * page_size + 8)
            f.write(b"\xff" * (page_size - 8))
        conn = sqlite3.connect(db_path)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
            conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError:
            continue
        finally:
            conn.close()
        if verdict != "ok":
            return
    pytest.fail("no page could be damaged in a way SQLite's check reports")


def test_db_check_reports_a_damaged_page_in_one_line_and_run_due_sends_nothing(
    cli: Invoke, coffee: None, db_path: Path, isolated: Path
) -> None:
    _damage_one_page(db_path)
    checked = cli("db", "check")
    assert checked.code == 1
    assert checked.stdout == ""
    [line] = checked.stderr.splitlines()
    assert line.startswith(f"error: database {db_path} is damaged: ")
    assert "integrity error" in line
    assert line.endswith("restore it from a backup (see 'sessionctl db backup')")
    report = cli("db", "check", "--json")
    assert report.code == 1
    assert report.json()["ok"] is False
    assert report.json()["integrity"]

    ran = cli("run-due")
    assert ran.code == 1
    assert ran.stdout == ""
    assert len(ran.stderr.splitlines()) == 1
    assert ran.stderr.startswith("error: ")
    assert _outbox(isolated) == []


def test_db_check_reports_orphaned_rows_and_run_due_refuses_to_send(
    cli: Invoke, coffee: None, db_path: Path, isolated: Path
) -> None:
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("INSERT INTO response (round_id, member_id, answer, answered_at) "
                     "VALUES (1, 9999, 1, '2026-01-01 00:00:00')")  # fmt: skip
        [(rowid,)] = conn.execute("SELECT id FROM response WHERE member_id = 9999").fetchall()
    conn.close()
    checked = cli("db", "check")
    assert checked.code == 1
    assert checked.stderr == (
        f"error: database {db_path} is damaged: 1 foreign-key violation (response {rowid} -> "
        "member); restore it from a backup (see 'sessionctl db backup')\n"
    )
    ran = cli("run-due")
    assert ran.code == 1
    assert ran.stderr == (
        f"error: database {db_path} is damaged: 1 foreign-key violation (response {rowid} -> "
        "member); restore it from a backup (see 'sessionctl db backup'); nothing was sent\n"
    )
    assert _outbox(isolated) == []


# --- db backup ----------------------------------------------------------------------------------


def test_backup_is_a_private_consistent_copy_that_restores(
    cli: Invoke, coffee: None, tmp_path: Path, db_path: Path
) -> None:
    os.umask(0o022)
    target = tmp_path / "backups" / "coffee.db"
    target.parent.mkdir()
    result = _ok(cli("db", "backup", target))
    assert result.stdout == f"Backup written to {target}.\n"
    assert target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["coffee.db"]
    original = _ok(cli("member", "list", "coffee", "--json")).stdout
    assert _ok(cli("--db", target, "member", "list", "coffee", "--json")).stdout == original
    assert _ok(cli("--db", target, "db", "check")).code == 0


def test_backup_never_overwrites_and_needs_an_existing_folder(
    cli: Invoke, coffee: None, tmp_path: Path
) -> None:
    existing = tmp_path / "keep.db"
    existing.write_text("precious")
    assert_error(
        cli("db", "backup", existing),
        f"{existing} already exists: choose a new file name or remove it first",
    )
    assert existing.read_text() == "precious"
    missing = tmp_path / "nowhere" / "x.db"
    assert_error(
        cli("db", "backup", missing),
        f"cannot write {missing}: folder {missing.parent} does not exist",
    )


def test_backup_of_postgresql_points_to_its_own_tools_without_connecting(cli: Invoke) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    assert_error(
        cli("--db", url, "db", "backup", "x.db"),
        "db backup copies SQLite files: back up PostgreSQL with its own tools (pg_dump)",
    )


def test_backup_while_another_process_writes_is_consistent(
    cli: Invoke, coffee: None, tmp_path: Path, db_path: Path
) -> None:
    script = (
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)\n"
        "deadline = time.monotonic() + 4\n"
        "i = 0\n"
        "while time.monotonic() < deadline:\n"
        "    conn.execute('BEGIN IMMEDIATE')\n"
        "    conn.execute(\"UPDATE member SET name = ? WHERE email_key LIKE 'm%'\", (f'n{i}',))\n"
        "    conn.execute('COMMIT')\n"
        "    i += 1\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script, str(db_path)])
    try:
        time.sleep(0.3)
        copies = []
        for n in range(5):
            target = tmp_path / f"copy{n}.db"
            _ok(cli("db", "backup", target))
            copies.append(target)
    finally:
        writer.wait(timeout=30)
    for target in copies:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            names = {name for (name,) in conn.execute("SELECT name FROM member")}
        conn.close()
        assert len(names) == 1  # every member renamed in one transaction: never half of one


# --- a read-only database -----------------------------------------------------------------------


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    """A folder on a small tmpfs, remounted read-only once the test has filled it."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only file system needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _remount_read_only(folder: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def test_on_a_read_only_mount_reading_works_and_writing_fails_in_one_line(
    cli: Invoke, read_only_mount: Path
) -> None:
    db = read_only_mount / "sessionctl.db"
    _ok(cli("--db", db, "program", "add", "coffee", "--tz", "UTC"))
    _ok(cli("--db", db, "member", "add", "coffee", "ana@example.com", "--name", "Ana"))
    _remount_read_only(read_only_mount)

    listed = _ok(cli("--db", db, "member", "list", "coffee", "--json"))
    assert [m["email"] for m in listed.json()] == ["ana@example.com"]
    _ok(cli("--db", db, "program", "list"))
    _ok(cli("--db", db, "db", "check"))
    _ok(cli("--db", db, "list"))
    read_only = (
        f"database {db} is read-only: this command writes, so it needs write access to the "
        "file and its folder"
    )
    assert_error(cli("--db", db, "member", "add", "coffee", "bo@example.com"), read_only, code=1)
    assert_error(cli("--db", db, "program", "set", "coffee", "--title", "x"), read_only, code=1)
    ran = cli("--db", db, "run-due")
    assert (ran.code, ran.stdout) == (1, "")
    assert ran.stderr == f"error: {read_only}\n"
