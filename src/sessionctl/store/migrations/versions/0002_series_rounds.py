"""series and rounds

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program_id", sa.Integer, sa.ForeignKey("program.id"), nullable=False),
        sa.Column("repeat", sa.String, nullable=False),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("base_match", sa.String, nullable=False),
        sa.Column("base_opt_in", sa.String, nullable=True),
        sa.Column("count", sa.Integer, nullable=True),
        sa.Column("until", sa.Date, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=True),
    )
    op.create_index("ix_series_program_id", "series", ["program_id"])
    op.create_table(
        "round",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program_id", sa.Integer, sa.ForeignKey("program.id"), nullable=False),
        sa.Column("series_id", sa.Integer, sa.ForeignKey("series.id"), nullable=True),
        sa.Column("series_index", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("opt_in_at", sa.DateTime, nullable=True),
        sa.Column("match_at", sa.DateTime, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=True),
        sa.Column("matched_at", sa.DateTime, nullable=True),
        sa.Column("color", sa.String, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("series_id", "series_index"),
    )
    op.create_index("ix_round_program_id", "round", ["program_id"])
    op.create_index("ix_round_series_id", "round", ["series_id"])
    op.create_index("ix_round_status", "round", ["status"])
    op.create_index("ix_round_match_at", "round", ["match_at"])


def downgrade() -> None:
    op.drop_table("round")
    op.drop_table("series")
