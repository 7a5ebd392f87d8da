"""the people side: pairing rules, reminders, change notices

Revision ID: 0009
Revises: 0008

- ``avoid``: two members of a program who are never put in the same group when any grouping
  allows it (``member avoid``); ``member_a`` is the smaller member id.
- ``program.reminder_hours``: how long before the match the members who have not answered get
  a reminder (0: none); ``program.reminder_below``: only when the share of invited members who
  joined is below this percentage (None: the program's median over its last rounds).
- ``message.serial``: a round can change more than once, and each change's notice is a message
  of its own: the one-per-round-member-kind key becomes round, member, kind and serial.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_OLD_KEY = ["round_id", "member_id", "kind"]
_NEW_KEY = [*_OLD_KEY, "serial"]
# SQLite's unique constraints have no name; reflected through this convention they get one.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _old_key_name() -> str:
    for uq in sa.inspect(op.get_bind()).get_unique_constraints("message"):
        if list(uq["column_names"]) == _OLD_KEY and uq.get("name"):
            return str(uq["name"])
    return "uq_message_round_id_member_id_kind"


def upgrade() -> None:
    op.create_table(
        "avoid",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("program_id", sa.Integer, sa.ForeignKey("program.id"), nullable=False),
        sa.Column("member_a", sa.Integer, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("member_b", sa.Integer, sa.ForeignKey("member.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("program_id", "member_a", "member_b", name="uq_avoid_pair"),
    )
    op.create_index("ix_avoid_program_id", "avoid", ["program_id"])
    op.add_column(
        "program", sa.Column("reminder_hours", sa.Integer, nullable=False, server_default="24")
    )
    op.add_column("program", sa.Column("reminder_below", sa.Integer, nullable=True))
    name = _old_key_name()
    with op.batch_alter_table("message", naming_convention=_CONVENTION) as batch:
        batch.add_column(sa.Column("serial", sa.Integer, nullable=False, server_default="0"))
        batch.drop_constraint(name, type_="unique")
        batch.create_unique_constraint("uq_message_round_member_kind_serial", _NEW_KEY)


def downgrade() -> None:
    with op.batch_alter_table("message", naming_convention=_CONVENTION) as batch:
        batch.drop_constraint("uq_message_round_member_kind_serial", type_="unique")
        batch.drop_column("serial")
        batch.create_unique_constraint("uq_message_round_id_member_id_kind", _OLD_KEY)
    op.drop_column("program", "reminder_below")
    op.drop_column("program", "reminder_hours")
    op.drop_index("ix_avoid_program_id", table_name="avoid")
    op.drop_table("avoid")
