"""One database for several hosts: upgrades that race, and URLs whose driver is missing."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from sessionctl.store import schema
from tests import testdb
from tests.conftest import sql

pytestmark = pytest.mark.slow


@pytest.fixture
def at_0003() -> str:
    """This test's database at schema 0003 (before names were cleaned), holding one member whose
    name 0004 cleans."""
    url = os.environ["SESSIONCTL_DB"]
    if testdb.ON_POSTGRES:
        testdb.create_database(url.rpartition("/")[2], template="template0")
    else:
        url = f"sqlite:///{url}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        if not testdb.ON_POSTGRES:  # as sessionctl makes its files: several writers need WAL
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode = WAL")
        with engine.begin() as conn:
            config = Config()
            config.set_main_option("script_location", "sessionctl.store:migrations")
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
    finally:
        engine.dispose()
    sql(
        "INSERT INTO program (name, title, timezone, opt_in, group_size, grace_hours, created_at)"
        " VALUES ('coffee', 'Coffee', 'UTC', :yes, 2, 24, '2026-11-01 09:00:00')",
        yes=True,
    )
    sql(
        "INSERT INTO member (program_id, email, email_key, name, active, created_at)"
        " VALUES (1, 'ana@example.com', 'ana@example.com', :name, :yes, '2026-11-01 09:00:00')",
        name="Ana\nBcc: x@evil.example",
        yes=True,
    )
    return url


def test_hosts_upgrading_at_once_apply_each_migration_once(at_0003: str) -> None:
    start = time.time() + 2.0
    program = (
        "import sys, time\n"
        "from sessionctl.cli import run\n"
        f"time.sleep(max(0.0, {start} - time.time()))\n"
        "sys.exit(run(['db', 'upgrade']))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    assert [code for code, _, _ in results] == [0] * 4, results
    assert {out for _, out, _ in results} == {f"schema {schema.HEAD} is up to date.\n"}
    notes = [line for _, _, err in results for line in err.splitlines()]
    assert len(notes) == 1 and notes[0].startswith("note: ")  # 0004 ran once, in one process
    assert sql("SELECT version_num FROM alembic_version") == [(schema.HEAD,)]
    assert sql("SELECT name FROM member") == [("Ana Bcc: x@evil.example",)]


# --- PostgreSQL URLs without their driver ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "blocked", "hint"),
    [
        (
            "postgresql+psycopg://ana@db.example/coffee",
            "psycopg",
            "its driver psycopg is not installed; install the postgres extra: "
            "pip install 'sessionctl[postgres]'",
        ),
        (
            "postgresql://ana@db.example/coffee",
            "psycopg",
            "its driver psycopg is not installed; install the postgres extra: "
            "pip install 'sessionctl[postgres]'",
        ),
        (
            "postgresql+psycopg2://ana@db.example/coffee",
            "psycopg2",
            "its driver psycopg2 is not installed; install it (pip install psycopg2-binary), or "
            "use postgresql+psycopg:// with the postgres extra",
        ),
    ],
)
def test_a_missing_driver_names_the_package_to_install(url: str, blocked: str, hint: str) -> None:
    # The driver is made unimportable in that process only, as on a machine without it.
    program = (
        f"import sys\nsys.modules[{blocked!r}] = None\nfrom sessionctl.cli import main\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "--db", url, "program", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    shown = url.replace("postgresql://", "postgresql+psycopg://")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"error: cannot use {shown}: {hint}\n"
