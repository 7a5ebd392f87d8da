"""programs and members

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("opt_in", sa.Boolean, nullable=False),
        sa.Column("group_size", sa.Integer, nullable=False),
        sa.Column("sender", sa.String, nullable=True),
        sa.Column("link_base", sa.String, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program_id", sa.Integer, sa.ForeignKey("program.id"), nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("email_key", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("team", sa.String, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("removed_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("program_id", "email_key"),
    )
    op.create_index("ix_member_program_id", "member", ["program_id"])


def downgrade() -> None:
    op.drop_table("member")
    op.drop_table("program")
