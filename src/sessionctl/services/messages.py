"""Messages and a round's groups, as admins and scripts see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from sessionctl.delivery.claims import claim_host
from sessionctl.services.rounds import find_round
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message


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
    held_by: str | None = None  # the host of the run that claimed it, while ``sending``

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
            "held_by": self.held_by,
        }


def list_messages(db: Database, *, round_id: int | None, status: str | None) -> list[MessageInfo]:
    with db.session() as s:
        query = select(Message, Member).join(Member, col(Message.member_id) == Member.id)
        if round_id is not None:
            find_round(s, round_id)
            query = query.where(Message.round_id == round_id)
        if status is not None:
            query = query.where(Message.status == status)
        rows = s.exec(query.order_by(col(Message.id))).all()
        return [
            MessageInfo(
                id=m.id or 0,
                round=m.round_id,
                email=member.email,
                name=member.name,
                kind=m.kind,
                status=m.status,
                attempts=m.attempts,
                last_error=m.last_error,
                message_id=m.message_id,
                sent_at=m.sent_at,
                held_by=claim_host(m.claimed_by) if m.status == "sending" else None,
            )
            for m, member in rows
        ]
