"""clean member names, teams and program titles stored before they were checked

Revision ID: 0004
Revises: 0003

Text that breaks today's rule (one line, no controls, separators or bidi overrides, at most 200
characters) is cleaned: controls and separators become a space, bidi characters go, runs of
spaces fold to one, the result is stripped and cut. Each change adds a note to the list that
``schema`` passes in ``config.attributes["notes"]``; a note describes the change and never quotes
the old value, which may hold terminal escapes.

The rule is copied here, not imported: a migration must keep doing what it did when it shipped,
whatever later versions of ``domain.validation`` decide.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LIMIT = 200
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(" {2,}")

_program = sa.table("program", sa.column("id", sa.Integer), sa.column("name"), sa.column("title"))
_member = sa.table(
    "member",
    sa.column("id", sa.Integer),
    sa.column("program_id", sa.Integer),
    sa.column("email"),
    sa.column("email_key"),
    sa.column("name"),
    sa.column("team"),
)


def upgrade() -> None:
    conn = op.get_bind()
    config = op.get_context().config
    notes: list[str] = config.attributes.setdefault("notes", []) if config else []
    _clean_titles(conn, notes)
    _clean_members(conn, notes)


def downgrade() -> None:
    """Nothing to undo: the removed characters are not kept anywhere."""


def _clean_titles(conn: sa.Connection, notes: list[str]) -> None:
    rows = conn.execute(
        sa.select(_program.c.id, _program.c.name, _program.c.title).order_by(_program.c.name)
    ).all()
    for program_id, name, title in rows:
        cleaned, reasons = _clean(title)
        if not reasons:
            continue
        # A program added without a title is titled with its name.
        conn.execute(
            sa.update(_program).where(_program.c.id == program_id).values(title=cleaned or name)
        )
        notes.append(f"database upgrade cleaned the title of program {name} ({reasons})")


def _clean_members(conn: sa.Connection, notes: list[str]) -> None:
    rows = conn.execute(
        sa.select(_member.c.id, _member.c.email, _member.c.name, _member.c.team, _program.c.name)
        .join(_program, _program.c.id == _member.c.program_id)
        .order_by(_program.c.name, _member.c.email_key)
    ).all()
    for member_id, email, name, team, program in rows:
        new_name, name_reasons = _clean(name)
        new_team, team_reasons = _clean(team)
        if not (name_reasons or team_reasons):
            continue
        # An emptied name is "" as for a member added without one; an emptied team is none.
        conn.execute(
            sa.update(_member)
            .where(_member.c.id == member_id)
            .values(name=new_name, team=new_team or None)
        )
        for field, reasons in (("name", name_reasons), ("team", team_reasons)):
            if reasons:
                notes.append(
                    f"database upgrade cleaned the {field} of {email} in {program} ({reasons})"
                )


def _clean(value: str | None) -> tuple[str, str]:
    """The cleaned text and what was wrong with it ("" when the value keeps the rule)."""
    if value is None:
        return "", ""
    reasons = []
    if _CONTROL.search(value):
        reasons.append("control characters removed")
    if _BIDI.search(value):
        reasons.append("bidi-override characters removed")
    if len(value) > LIMIT:
        reasons.append(f"cut to {LIMIT} characters")
    if not reasons:
        return value, ""
    text = _SPACES.sub(" ", _CONTROL.sub(" ", _BIDI.sub("", value))).strip()
    return text[:LIMIT].rstrip(), ", ".join(reasons)
