"""What reading the inbox decided: one Decision per mail of ours, and the run's InboxReport.

Plain results, rendered as lines for people (``render.inbox``) or as JSON for scripts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sessionctl.domain.times import iso, load_zone


class Outcome(StrEnum):
    """What one of our mails was taken for."""

    JOIN = "join"
    SKIP = "skip"
    PAUSE = "pause"
    LEFT = "left"  # stop or unsubscribe: the member left the program
    BOUNCE = "bounce"  # a hard bounce: the message failed
    DELAYED = "delayed"  # a delivery delay or other non-final report: nothing changes
    AUTO = "auto"  # an auto-reply: never acted on, never answered
    LATE = "late"  # an answer after the round closed: recorded, changes nothing
    REFUSED = "refused"  # from a member no longer in the program, or not invited
    UNREADABLE = "unreadable"  # a person wrote, but not what we can read: left for the admin


@dataclass(frozen=True)
class Decision:
    """One mail and what became of it."""

    outcome: Outcome
    message_id: str  # the inbound mail's own
    sender: str
    subject: str
    email: str | None = None  # the member it concerns
    program: str | None = None
    round: int | None = None  # the round's id
    detail: str = ""  # for people: why, or what was recorded
    received_at: datetime | None = None
    deactivated: str | None = None  # why the member was deactivated by this mail

    def to_json(self) -> dict[str, Any]:
        utc = load_zone("UTC")
        return {
            "outcome": str(self.outcome),
            "email": self.email,
            "program": self.program,
            "round": self.round,
            "detail": self.detail,
            "from": self.sender,
            "subject": self.subject,
            "message_id": self.message_id,
            "received_at": iso(self.received_at, utc),
            "deactivated": self.deactivated,
        }


@dataclass
class InboxReport:
    source: str
    read: int = 0  # mails looked at
    decisions: list[Decision] = field(default_factory=list)  # ours, recorded by this run
    waiting: list[Decision] = field(default_factory=list)  # unreadable, still in the inbox
    not_ours: int = 0
    seen_before: int = 0  # recorded by an earlier (or concurrent) run
    dry_run: bool = False
    busy: bool = False  # another run was reading the inbox: this one left it alone
    problems: list[str] = field(default_factory=list)  # mails left unread, for stderr

    def count(self, outcome: Outcome) -> int:
        return sum(d.outcome is outcome for d in self.decisions)

    def to_json(self) -> dict[str, Any]:
        return {
            "inbox": self.source,
            "read": self.read,
            "recorded": [d.to_json() for d in self.decisions],
            "unreadable": [d.to_json() for d in self.waiting],
            "not_ours": self.not_ours,
            "seen_before": self.seen_before,
            "busy": self.busy,
        }
