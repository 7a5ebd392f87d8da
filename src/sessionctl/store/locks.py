"""Work that one run at a time does, whichever host it runs on: a lock that is not waited for.

On PostgreSQL, a session advisory lock on a connection held for the work: every host sees it,
and the server drops it when the connection goes (a killed run included). On SQLite, whose
runs share one machine, an exclusive ``flock`` on a file beside the other run locks, which the
kernel drops with the process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from sessionctl.store.engine import Database


@contextmanager
def only_one(db: Database, name: str) -> Iterator[bool]:
    """Yield True when this run holds the lock ``name`` for the database, False when another
    run holds it (the caller then skips the work)."""
    digest = hashlib.sha256(f"{db.settings.db_url}|{name}".encode()).digest()
    if db.is_sqlite:
        with file_lock(db.settings.data_dir / "locks" / f"{name}-{digest.hex()[:16]}.lock") as held:
            yield held
        return
    key = int.from_bytes(digest[:8], "big", signed=True)
    with db.engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()


@contextmanager
def file_lock(path: Path) -> Iterator[bool]:
    """An exclusive ``flock`` on ``path`` (made 0600, in a 0700 folder), not waited for: True
    when held, False when another process holds it."""
    import fcntl

    path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
