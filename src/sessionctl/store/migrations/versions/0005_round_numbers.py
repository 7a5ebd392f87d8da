"""number each program's rounds from 1: the number members read in emails and on answer pages

Revision ID: 0005
Revises: 0004

Existing rounds are numbered per program in id order (the order they were created), cancelled
and missed ones included: every round made keeps a number, and new rounds go on from the
highest. Until now members read the global id; from here on they read this number.

The column is added ``NOT NULL DEFAULT 0`` and filled in, then guarded by a unique index on
(program_id, number). An index, not a constraint: on SQLite a constraint means rebuilding the
round table, and dropping the old one inside the upgrade's transaction (foreign keys on) fails
on the messages, answers and groups that point at it. On PostgreSQL the default is dropped once
the rows are numbered; on SQLite it stays (a column default cannot be dropped without the same
rebuild) and is never used: every round is created with its number.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_round = sa.table(
    "round",
    sa.column("id", sa.Integer),
    sa.column("program_id", sa.Integer),
    sa.column("number", sa.Integer),
)
_CHUNK = 1000


def upgrade() -> None:
    op.add_column("round", sa.Column("number", sa.Integer, nullable=False, server_default="0"))
    _number_existing(op.get_bind())
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("round", "number", server_default=None)
    op.create_index("ux_round_program_id_number", "round", ["program_id", "number"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_round_program_id_number", table_name="round")
    op.drop_column("round", "number")


def _number_existing(conn: sa.Connection) -> None:
    rows = conn.execute(
        sa.select(_round.c.id, _round.c.program_id).order_by(_round.c.program_id, _round.c.id)
    ).all()
    numbers: dict[int, int] = {}
    params = []
    for round_id, program_id in rows:
        numbers[program_id] = numbers.get(program_id, 0) + 1
        params.append({"rid": round_id, "n": numbers[program_id]})
    update = (
        sa.update(_round).where(_round.c.id == sa.bindparam("rid")).values(number=sa.bindparam("n"))
    )
    for start in range(0, len(params), _CHUNK):
        conn.execute(update, params[start : start + _CHUNK])
