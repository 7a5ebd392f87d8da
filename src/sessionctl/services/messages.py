"""Messages and a round's groups, as admins and scripts see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from sessionctl.services.rounds import find_round
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Member, Message, Program

_PUBLIC_STATUS = {"pending": "pending", "sending": "pending", "sent": "sent", "failed": "failed"}


@dataclass(frozen=True)
class MessageInfo:
    id: int
    round: int
    email: str
    name: str
    kind: str
    status: str
    attempts: int
    last_error: str | None
    message_id: str
    sent_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round": self.round,
            "email": self.email,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "message_id": self.message_id,
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
        }


@dataclass(frozen=True)
class GroupsInfo:
    round: int
    program: str
    groups: list[list[tuple[str, str, str | None]]]  # (email, name, team) per member
    no_match: list[tuple[str, str, str | None]]

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "groups": [[email for email, _, _ in g] for g in self.groups],
            "no_match": [email for email, _, _ in self.no_match],
        }


def list_messages(db: Database, *, round_id: int | None, status: str | None) -> list[MessageInfo]:
    with db.session() as s:
        query = select(Message, Member).join(Member, col(Message.member_id) == Member.id)
        if round_id is not None:
            find_round(s, round_id)
            query = query.where(Message.round_id == round_id)
        if status is not None:
            stored = ["pending", "sending"] if status == "pending" else [status]
            query = query.where(col(Message.status).in_(stored))
        rows = s.exec(query.order_by(col(Message.id))).all()
        return [
            MessageInfo(
                id=m.id or 0,
                round=m.round_id,
                email=member.email,
                name=member.name,
                kind=m.kind,
                status=_PUBLIC_STATUS[m.status],
                attempts=m.attempts,
                last_error=m.last_error,
                message_id=m.message_id,
                sent_at=m.sent_at,
            )
            for m, member in rows
        ]


def round_groups(db: Database, round_id: int) -> GroupsInfo:
    with db.session() as s:
        r = find_round(s, round_id)
        program = s.get(Program, r.program_id)
        assert program is not None
        rows = s.exec(
            select(GroupMember.group_no, Member)
            .join(Member, col(GroupMember.member_id) == Member.id)
            .where(GroupMember.round_id == round_id)
            .order_by(col(GroupMember.group_no), col(Member.email_key))
        ).all()
        groups: dict[int, list[tuple[str, str, str | None]]] = {}
        for group_no, m in rows:
            groups.setdefault(group_no, []).append((m.email, m.name, m.team))
        lonely = s.exec(
            select(Member)
            .join(Message, col(Message.member_id) == Member.id)
            .where(Message.round_id == round_id, Message.kind == "no_match")
        ).all()
        return GroupsInfo(
            round=round_id,
            program=program.name,
            groups=[groups[k] for k in sorted(groups)],
            no_match=[(m.email, m.name, m.team) for m in lonely],
        )
