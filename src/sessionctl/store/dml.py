"""Writes that must not race: one statement that inserts a row or updates the one in its place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session


def upsert(
    s: Session,
    table: Table,
    values: dict[str, Any],
    *,
    keys: Sequence[str],
    not_older: str | None = None,
) -> bool:
    """Insert ``values``, or update the row with the same ``keys`` to them, atomically; True
    when written. With ``not_older`` (a column), a row whose value there is newer is kept.

    Both dialects say ``INSERT … ON CONFLICT (keys) DO UPDATE``, so two transactions writing the
    same row leave the later one's values, never a duplicate-key error.
    """
    changes = {name: value for name, value in values.items() if name not in keys}
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table).values(**values)
        newer = None if not_older is None else table.c[not_older] <= pg.excluded[not_older]
        update = pg.on_conflict_do_update(index_elements=list(keys), set_=changes, where=newer)
        returned = s.execute(update.returning(*(table.c[key] for key in keys)))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table).values(**values)
        kept = None if not_older is None else table.c[not_older] <= lite.excluded[not_older]
        merge = lite.on_conflict_do_update(index_elements=list(keys), set_=changes, where=kept)
        returned = s.execute(merge.returning(*(table.c[key] for key in keys)))
    return returned.first() is not None


def insert_new(s: Session, table: Table, values: dict[str, Any], *, keys: Sequence[str]) -> bool:
    """Insert ``values`` unless a row with the same ``keys`` exists; True when inserted.

    ``INSERT … ON CONFLICT DO NOTHING RETURNING``: of two transactions inserting the same key,
    the second waits for the first and inserts nothing, never a duplicate-key error. Whether a
    row came back says if it was inserted: the driver's rowcount does not (psycopg reports 1).
    """
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=list(keys))
        returned = s.execute(pg.returning(*(table.c[key] for key in keys)))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table).values(**values)
        lite = lite.on_conflict_do_nothing(index_elements=list(keys))
        returned = s.execute(lite.returning(*(table.c[key] for key in keys)))
    return returned.first() is not None


def insert_missing(
    s: Session, table: Table, rows: Sequence[dict[str, Any]], *, keys: Sequence[str]
) -> int:
    """Insert each of ``rows`` unless a row with the same ``keys`` exists; how many were.

    ``insert_new`` for many rows in one statement: of two transactions inserting the same keys,
    the second inserts none of the first's, never a duplicate-key error.
    """
    if not rows:
        return 0
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        pg = pg_insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=list(keys))
        returned = s.execute(pg.returning(table.c[keys[0]]))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        lite = sqlite_insert(table).values(list(rows))
        lite = lite.on_conflict_do_nothing(index_elements=list(keys))
        returned = s.execute(lite.returning(table.c[keys[0]]))
    return len(returned.all())
