"""answers, groups and messages; grace window, lookback and templates per program

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("program") as batch:
        batch.add_column(sa.Column("grace_hours", sa.Integer, nullable=False, server_default="24"))
        batch.add_column(sa.Column("lookback", sa.Integer, nullable=True))
        batch.add_column(sa.Column("templates", sa.Text, nullable=True))
    op.create_table(
        "response",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("round.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("answer", sa.Boolean, nullable=False),
        sa.Column("answered_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("round_id", "member_id"),
    )
    op.create_index("ix_response_round_id", "response", ["round_id"])
    op.create_table(
        "group_member",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("round.id"), nullable=False),
        sa.Column("group_no", sa.Integer, nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("extra", sa.Boolean, nullable=False),
        sa.UniqueConstraint("round_id", "member_id"),
    )
    op.create_index("ix_group_member_round_id", "group_member", ["round_id"])
    op.create_table(
        "message",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("round.id"), nullable=False),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.String, nullable=True),
        sa.Column("message_id", sa.String, nullable=False),
        sa.Column("claimed_by", sa.String, nullable=True),
        sa.Column("claimed_at", sa.DateTime, nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("round_id", "member_id", "kind"),
    )
    op.create_index("ix_message_round_id", "message", ["round_id"])
    op.create_index("ix_message_status", "message", ["status"])


def downgrade() -> None:
    op.drop_table("message")
    op.drop_table("group_member")
    op.drop_table("response")
    with op.batch_alter_table("program") as batch:
        batch.drop_column("templates")
        batch.drop_column("lookback")
        batch.drop_column("grace_hours")
