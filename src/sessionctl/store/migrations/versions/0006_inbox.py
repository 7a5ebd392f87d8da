"""the inbox: replies, bounces and unsubscribes read back from the program's mail

Revision ID: 0006
Revises: 0005

- ``inbound``: one row per inbound email read, keyed by its Message-ID (unique), with what it
  was taken for. The row is written in the same transaction as what the email changed, so an
  email counts once however many runs read it, concurrently or after a kill.
- ``program.reply_to``: the address opt-in emails ask members to reply to;
  ``program.bounce_limit``: consecutive hard bounces after which a member is deactivated.
- ``member.left_reason``: why a member left by themselves (unsubscribed, bounced);
  ``member.paused_until``: the first day a paused member is invited again;
  ``member.left_reported_at``: when a run said that the member left (on the answer page, say).
- ``message.bounced_at``: when a bounce for that message was read.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("program", sa.Column("reply_to", sa.String, nullable=True))
    op.add_column(
        "program", sa.Column("bounce_limit", sa.Integer, nullable=False, server_default="3")
    )
    op.add_column("member", sa.Column("left_reason", sa.String, nullable=True))
    op.add_column("member", sa.Column("paused_until", sa.Date, nullable=True))
    op.add_column("member", sa.Column("left_reported_at", sa.DateTime, nullable=True))
    op.add_column("message", sa.Column("bounced_at", sa.DateTime, nullable=True))
    op.create_table(
        "inbound",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String, nullable=False),
        sa.Column("outcome", sa.String, nullable=False),
        sa.Column("program_id", sa.Integer, sa.ForeignKey("program.id"), nullable=True),
        sa.Column("round_id", sa.Integer, sa.ForeignKey("round.id"), nullable=True),
        sa.Column("member_id", sa.Integer, sa.ForeignKey("member.id"), nullable=True),
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("received_at", sa.DateTime, nullable=True),
        sa.Column("processed_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index("ix_inbound_outcome", "inbound", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_inbound_outcome", table_name="inbound")
    op.drop_table("inbound")
    op.drop_column("message", "bounced_at")
    op.drop_column("member", "left_reported_at")
    op.drop_column("member", "paused_until")
    op.drop_column("member", "left_reason")
    op.drop_column("program", "bounce_limit")
    op.drop_column("program", "reply_to")
