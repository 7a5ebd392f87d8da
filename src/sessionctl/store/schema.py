"""Schema versions: a fast check on every open, Alembic only when an upgrade is due.

Importing Alembic costs more than a whole ``program list``, so the shipped revisions are listed
here too (a test keeps this list equal to the migration scripts) and Alembic is imported only
to upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from sessionctl.errors import DatabaseError
from sessionctl.store.engine import Database

REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
)
HEAD = REVISIONS[-1]

State = Literal["empty", "behind", "current", "newer"]


@dataclass(frozen=True)
class SchemaStatus:
    database: str
    revision: str | None
    head: str
    state: State

    def to_json(self) -> dict[str, str | None]:
        return {
            "database": self.database,
            "revision": self.revision,
            "head": self.head,
            "state": self.state,
        }


def status(db: Database) -> SchemaStatus:
    with db.connection() as conn:
        revision = _revision(conn)
    return SchemaStatus(db.settings.describe_db(), revision, HEAD, _state(revision))


def ensure_current(db: Database) -> None:
    """Refuse a database from a newer sessionctl; upgrade an older or empty one."""
    current = status(db)
    if current.state == "newer":
        raise DatabaseError(_newer_message(current))
    if current.state != "current":
        upgrade(db)


def upgrade(db: Database) -> SchemaStatus:
    """Apply every pending migration in one transaction, holding the write lock throughout.

    What the migrations changed in stored rows is added to ``db.upgrade_notes``, one line each.
    """
    notes: list[str] = []
    with db.connection(write=True) as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7305041)"))
        revision = _revision(conn)
        if revision is None and set(inspect(conn).get_table_names()) - {"alembic_version"}:
            raise DatabaseError(_foreign_message(db.settings.describe_db()))
        state = _state(revision)
        if state == "newer":
            where = db.settings.describe_db()
            raise DatabaseError(_newer_message(SchemaStatus(where, revision, HEAD, state)))
        if state != "current":
            notes = _run_alembic(conn)
    db.upgrade_notes.extend(notes)  # only once committed
    return status(db)


def _foreign_message(where: str) -> str:
    return (
        f"database {where} has tables of its own but no sessionctl schema: "
        "give --db a new file or a sessionctl database"
    )


def _run_alembic(conn: Connection) -> list[str]:
    """Upgrade to HEAD; return the notes the migrations wrote on what they changed."""
    from alembic import command
    from alembic.config import Config

    notes: list[str] = []
    config = Config()
    config.set_main_option("script_location", "sessionctl.store:migrations")
    config.attributes["connection"] = conn
    config.attributes["notes"] = notes
    command.upgrade(config, HEAD)
    return notes


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


def _state(revision: str | None) -> State:
    if revision is None:
        return "empty"
    if revision == HEAD:
        return "current"
    return "behind" if revision in REVISIONS else "newer"


def _newer_message(current: SchemaStatus) -> str:
    return (
        f"database {current.database} was written by a newer sessionctl "
        f"(schema {current.revision}, this version knows up to {current.head}): "
        "upgrade sessionctl to use it"
    )
