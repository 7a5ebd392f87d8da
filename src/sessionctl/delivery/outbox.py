"""The outbox: claim pending messages atomically, send them, record each result at once.

Exactly once: a message is claimed (``pending`` -> ``sending``) in a short write transaction,
sent with no transaction open, then recorded in another. A run killed after the send but before
the record leaves only that message to go again, with the same Message-ID. Claims of a dead
process on this host, or older than the lease on any host, go back to ``pending``
(``claims.release_stale``, which also tells who holds what).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select, update

from sessionctl.delivery.compose import compose, envelope_recipients
from sessionctl.delivery.envelopes import Envelopes
from sessionctl.delivery.transports import SendResult, Transport, TransportUnavailable
from sessionctl.domain.validation import DEFAULT_SENDER
from sessionctl.errors import DeliveryError
from sessionctl.services.templates import custom_templates
from sessionctl.store.engine import Database
from sessionctl.store.models import Member, Message, Program, Response, Round
from sessionctl.store.types import UTCDateTime

# Small enough that a slow server cannot outlast the lease of a claim, and that a live run
# claims anew within seconds (see claims.ACTIVE).
BATCH = 25
# Waits before retry 1, 2, ...: the first within minutes, the last about a day after the first try.
BACKOFF = tuple(timedelta(minutes=m) for m in (2, 10, 30, 60, 180, 360, 720))
MAX_ATTEMPTS = len(BACKOFF) + 1


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: bool = False
    # Programs without a sender of their own that this run sent mail for.
    default_sender: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Work:
    message: Message
    member: Member
    round: Round
    program: Program


def new_message_id(
    *, round_id: int, member_id: int, kind: str, sender: str | None, serial: int = 0
) -> str:
    """A Message-ID naming the round, the member and the kind, with ``-SERIAL`` after the kind
    for a round's second and later notices (``sessionctl.12.34.notice-1.a1b2c3d4e5f6@…``)."""
    domain = (sender or DEFAULT_SENDER).rpartition("@")[2] or "localhost"
    label = f"{kind}-{serial}" if serial else kind
    return f"<sessionctl.{round_id}.{member_id}.{label}.{secrets.token_hex(6)}@{domain}>"


INSERT_CHUNK = 500  # rows per INSERT when a round's messages are made: memory stays flat


def pending_row(
    *, round_id: int, member_id: int, kind: str, sender: str | None, now: datetime, serial: int = 0
) -> dict[str, Any]:
    """A new message's row, to insert: pending and due at once."""
    return {
        "round_id": round_id,
        "member_id": member_id,
        "kind": kind,
        "serial": serial,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "message_id": new_message_id(
            round_id=round_id, member_id=member_id, kind=kind, sender=sender, serial=serial
        ),
        "created_at": now,
    }


@dataclass(frozen=True)
class Dropped:
    """Unsent messages of one kind and round that the round's status made pointless."""

    round_id: int
    program: str
    status: str
    kind: str
    count: int


def _stale() -> Any:
    """Pending messages that the round's status makes pointless: an opt-in or a reminder asks
    for an answer a round no longer open refuses; a notice is stale once its round is matched
    or missed (a cancelled round's notice is just what is left to say)."""
    asks = col(Message.kind).in_(["opt_in", "reminder"]) & (col(Round.status) != "open")
    stale_notice = (col(Message.kind) == "notice") & col(Round.status).in_(["done", "missed"])
    return asks | stale_notice


def _left() -> Any:
    """Notices and reminders of members who left since they were made."""
    gone = select(Member.id).where(~col(Member.active))
    return col(Message.kind).in_(["notice", "reminder"]) & col(Message.member_id).in_(gone)


def _answered() -> Any:
    """Reminders of members who answered (or paused: a skip) since they were made: a reminder
    is for those who have not, and says so."""
    answer = select(Response.member_id).where(col(Response.round_id) == Message.round_id)
    return (col(Message.kind) == "reminder") & col(Message.member_id).in_(answer)


def _worth_sending() -> Any:
    """What the drop step would not drop: a run claims, and counts as due, only these."""
    return ~_stale() & ~_left() & ~_answered()


def drop_unanswerable(db: Database) -> list[Dropped]:
    """Fail the unsent messages (e.g. waiting for a retry) that rounds no longer open make
    pointless (see ``_stale``), the notices and reminders of members who left since they
    were made, and the reminders of members who answered since. Only the first are reported:
    the others go quietly, as a leaver's waiting opt-in does when they leave."""
    with db.session(write=True) as s:
        rows = s.exec(
            select(Message, Round.status, Program.name)
            .join(Round, col(Message.round_id) == Round.id)
            .join(Program, col(Round.program_id) == Program.id)
            .where(Message.status == "pending", _stale())
        ).all()
        counts: Counter[tuple[int, str, str, str]] = Counter()
        for m, status, program in rows:
            m.status = "failed"
            m.last_error = f"not sent: round {m.round_id} is {status}, " + (
                "the change it announced is past"
                if m.kind == "notice"
                else "its answers are no longer taken"
            )
            s.add(m)
            counts[m.round_id, program, status, m.kind] += 1
        s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(col(Message.status) == "pending", _left())
            .values(status="failed", last_error="not sent: the member left the program")
        )
        s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(col(Message.status) == "pending", _answered())
            .values(status="failed", last_error="not sent: the member answered since")
        )
    return [Dropped(*key, count) for key, count in sorted(counts.items())]


def pending_due(s: Session, *, now: datetime) -> int:
    """Messages a run would send now: not the ones it would drop instead."""
    query = (
        select(func.count())
        .select_from(Message)
        .join(Round, col(Message.round_id) == Round.id)
        .where(Message.status == "pending", col(Message.next_attempt_at) <= now)
        .where(_worth_sending())
    )
    return s.exec(query).one()


def waiting_retry(s: Session) -> tuple[int, datetime | None]:
    """How many messages wait for a retry, and when the next one is due."""
    query = select(func.count(), func.min(Message.next_attempt_at)).where(
        Message.status == "pending", col(Message.attempts) > 0
    )
    count, next_try = s.exec(query).one()
    if isinstance(next_try, datetime) and next_try.tzinfo is None:
        next_try = next_try.replace(tzinfo=UTC)
    return count, next_try


_TABLE = Message.__table__  # type: ignore[attr-defined]
_MARK_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("message"),
        _TABLE.c.status == "sending",
        _TABLE.c.claimed_by == bindparam("worker"),
    )
    .values(
        status="sent",
        sent_at=bindparam("sent", type_=UTCDateTime()),
        attempts=_TABLE.c.attempts + 1,
        claimed_by=None,
        claimed_at=None,
        last_error=None,
    )
)


def deliver(
    db: Database,
    *,
    open_transport: Callable[[], Transport],
    clock: Callable[[], datetime],
    worker: str,
    link_secret: Callable[[], bytes] | None = None,
) -> DeliveryReport:
    """Send every due pending message; one connection for the whole run, opened only if needed.

    ``link_secret`` gives the key that signs personal join/skip links, for programs that have a
    link base; it is asked for only when such a message is composed.
    """
    courier = _Courier(db, worker=worker, clock=clock, link_secret=link_secret)
    batch = _claim(db, worker=worker, now=clock())
    if not batch:
        return courier.report
    try:
        with open_transport() as transport:
            while batch:
                for work in _load(db, batch):
                    courier.send(transport, work)
                batch = _claim(db, worker=worker, now=clock())
    except TransportUnavailable as err:
        unreachable = SendResult(False, True, None, str(err))
        for message_id in batch:
            courier.record(message_id, unreachable)
        courier.report.errors.append(str(err))
    except DeliveryError as err:  # retrying cannot help (a rejected login): stop, keep the rest
        _release(db, batch, worker=worker)
        courier.report.errors.append(str(err))
        courier.report.stopped = True
    except BaseException:
        # An error that ends the run, even while connecting (a rejected login): unsent claims
        # go back at once rather than wait for the lease, and spend no attempt.
        _release(db, batch, worker=worker)
        raise
    return courier.report


class _Courier:
    """One run's delivery: composes, sends and records each claimed message."""

    def __init__(
        self,
        db: Database,
        *,
        worker: str,
        clock: Callable[[], datetime],
        link_secret: Callable[[], bytes] | None,
    ) -> None:
        self.db, self.worker, self.clock = db, worker, clock
        self.report = DeliveryReport()
        self._envelopes = Envelopes(db, clock=clock, link_secret=link_secret)

    def send(self, transport: Transport, work: _Work) -> None:
        try:
            templates = custom_templates(work.program.templates)
            msg = compose(
                self._envelopes.make(work.message, work.member, work.round, work.program),
                templates=templates,
            )
        except DeliveryError:
            raise
        except Exception as err:  # one message that cannot be built never blocks the others
            result = SendResult(False, False, None, f"cannot compose: {err}")
        else:
            result = transport.send(msg, to=envelope_recipients(msg))
            if result.ok and not work.program.sender:
                self.report.default_sender.add(work.program.name)
        assert work.message.id is not None
        self.record(work.message.id, result, email=work.member.email)

    def record(self, message_id: int, result: SendResult, *, email: str = "") -> None:
        """Record one send in a transaction of its own, the moment it is known."""
        if result.ok:
            self._record_sent(message_id)
            return
        with self.db.session(write=True) as s:
            m = s.get(Message, message_id)
            if m is None or m.status != "sending" or m.claimed_by != self.worker:
                return  # reclaimed by another run after our lease ran out: it records its send
            now = self.clock()
            m.attempts += 1
            m.claimed_by, m.claimed_at = None, None
            if result.temporary and m.attempts < MAX_ATTEMPTS:
                m.status, m.last_error = "pending", result.reply
                m.next_attempt_at = now + BACKOFF[m.attempts - 1]
                self.report.retried += 1
            else:
                gave_up = f" (gave up after {m.attempts} attempts)" if result.temporary else ""
                m.status, m.last_error = "failed", f"{result.reply}{gave_up}"
                self.report.failed += 1
                self.report.errors.append(
                    f"{email or m.member_id} (round {m.round_id}, {m.kind}): {m.last_error}"
                )
            s.add(m)

    def _record_sent(self, message_id: int) -> None:
        """The common case, kept cheap: one UPDATE guarded by our claim, no ORM round trip."""
        with self.db.connection(write=True) as conn:
            done = conn.execute(
                _MARK_SENT, {"message": message_id, "worker": self.worker, "sent": self.clock()}
            )
        if done.rowcount:
            self.report.sent += 1
        # else: reclaimed by another run after our lease ran out; it records its own send


def _release(db: Database, batch: Sequence[int], *, worker: str) -> None:
    with db.session(write=True) as s:
        s.exec(  # type: ignore[call-overload]
            update(Message)
            .where(
                col(Message.id).in_(batch),
                col(Message.status) == "sending",
                col(Message.claimed_by) == worker,
            )
            .values(status="pending", claimed_by=None, claimed_at=None)
        )


def _claim(db: Database, *, worker: str, now: datetime) -> list[int]:
    with db.session(write=True) as s:
        # Not the ones the drop step would drop: a round cancelled, a member gone or answered
        # while a run delivers batch after batch; the next run's drop step fails them.
        query = (
            select(Message.id)
            .join(Round, col(Message.round_id) == Round.id)
            .where(Message.status == "pending", col(Message.next_attempt_at) <= now)
            .where(_worth_sending())
            .order_by(col(Message.id))
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=Message)  # type: ignore[arg-type]
        )
        ids = [i for i in s.exec(query).all() if i is not None]
        if ids:
            s.exec(  # type: ignore[call-overload]
                update(Message)
                .where(col(Message.id).in_(ids), col(Message.status) == "pending")
                .values(status="sending", claimed_by=worker, claimed_at=now)
            )
        return ids


def _load(db: Database, ids: Sequence[int]) -> list[_Work]:
    with db.session() as s:
        rows = s.exec(
            select(Message, Member, Round, Program)
            .join(Member, col(Message.member_id) == Member.id)
            .join(Round, col(Message.round_id) == Round.id)
            .join(Program, col(Round.program_id) == Program.id)
            .where(col(Message.id).in_(ids))
            .order_by(col(Message.id))
        ).all()
        s.expunge_all()
    return [_Work(*row) for row in rows]
