"""the emails members get: a language per program, conversation starters

Revision ID: 0007
Revises: 0006

- ``program.language``: the language of the default templates and of dates in emails.
- ``program.icebreakers``: the program's own conversation starters, one per line (None: the
  default list of its language).
- ``group_member.icebreaker``: the starter a group's match email gave its members, so that no
  member gets the same one two rounds running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("program", sa.Column("language", sa.String, nullable=False, server_default="en"))
    op.add_column("program", sa.Column("icebreakers", sa.Text, nullable=True))
    op.add_column("group_member", sa.Column("icebreaker", sa.String, nullable=True))


def downgrade() -> None:
    op.drop_column("group_member", "icebreaker")
    op.drop_column("program", "icebreakers")
    op.drop_column("program", "language")
