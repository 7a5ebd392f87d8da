"""programs can be archived

Revision ID: 0008
Revises: 0007

- ``program.archived``: an archived program keeps its data but gets no new rounds, and
  run-due leaves its rounds as they are (``program archive`` / ``program unarchive``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "program", sa.Column("archived", sa.Boolean, nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("program", "archived")
