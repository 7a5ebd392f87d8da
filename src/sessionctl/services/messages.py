"""Messages and a round's groups, as admins and scripts see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from sessionctl.services.rounds import find_round
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message

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
