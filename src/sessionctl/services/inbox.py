"""Read the inbox: members' replies, bounces and unsubscribes, each recorded once.

A mail is ours when it answers one of our messages (In-Reply-To or References hold its
Message-ID, or the subject or text names it, as an unsubscribe mailto does), or reports one of
them bounced; the From address alone never ties a mail to a member. Mail that is not ours is
left exactly as it was. Ours is recorded in the same transaction as what it changes, keyed by
its own Message-ID, so it counts once however many runs read it, together or after a kill;
then it is filed in the processed folder. An unreadable reply stays in the inbox for the
admin and is listed by every run until it is gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from sessionctl.domain.replies import Inbound, Intent, read_message
from sessionctl.domain.rounds import Status
from sessionctl.errors import SessionctlError
from sessionctl.inbox import Item, Mailbox, may_be_ours
from sessionctl.services import membership
from sessionctl.services.inbox_results import Decision, InboxReport, Outcome
from sessionctl.store.dml import insert_new, upsert
from sessionctl.store.engine import Database
from sessionctl.store.locks import only_one
from sessionctl.store.models import Inbound as InboundRow
from sessionctl.store.models import Member, Message, Program, Response, Round

_DETAIL_LIMIT = 300
_KEY_LIMIT = 250  # characters of a Message-ID kept as it is; PostgreSQL indexes ~2,700 bytes
_TABLE = InboundRow.__table__  # type: ignore[attr-defined]
# The kinds a yes or no replies to: the opt-in, its reminder, and a notice of a moved round
# (a notice of a cancelled one too, but then the round is closed and the answer late).
_ASKS = frozenset({"opt_in", "reminder", "notice"})


@dataclass(frozen=True)
class _Ours:
    message: Message
    member: Member
    round: Round
    program: Program


def read_inbox(
    db: Database,
    *,
    open_mailbox: Callable[[], Mailbox],
    source: str,
    clock: Callable[[], datetime],
    dry_run: bool = False,
) -> InboxReport:
    """Read every mail in the inbox once; with ``dry_run``, decide but change nothing. One
    run reads at a time: another finds it ``busy`` and leaves the inbox alone, so no two runs
    file one mail (an IMAP server may copy a mail moved by two sessions at once)."""
    report = InboxReport(source=source, dry_run=dry_run)
    with only_one(db, "inbox") as held:
        if not held and not dry_run:  # another run is reading it: what it reads, it records
            report.busy = True
            return report
        _read(db, report, open_mailbox=open_mailbox, clock=clock, dry_run=dry_run)
    return report


def _read(
    db: Database,
    report: InboxReport,
    *,
    open_mailbox: Callable[[], Mailbox],
    clock: Callable[[], datetime],
    dry_run: bool,
) -> None:
    with open_mailbox() as mailbox:
        for item in mailbox.items(may_be_ours):  # the admin's own mail is not even fetched
            report.read += 1
            try:
                decision = _take(db, item, now=clock(), dry_run=dry_run, report=report)
            except SessionctlError:
                raise  # the database or the inbox itself: the run cannot go on
            except Exception as err:  # one mail we cannot take never stops the others
                report.problems.append(f"a mail could not be read ({type(err).__name__}: {err})")
                continue
            done = decision is not None and decision.outcome is not Outcome.UNREADABLE
            if done and not dry_run:
                mailbox.file(item.key)


def _take(
    db: Database, item: Item, *, now: datetime, dry_run: bool, report: InboxReport
) -> Decision | None:
    """What the mail is, recorded unless ``dry_run``; None for mail that is not ours."""
    inbound = read_message(item.raw, today=now.date())
    key = _key(inbound.message_id, item.raw)
    received = item.received_at or inbound.date or now
    with db.session() as s:
        seen = s.exec(select(InboundRow).where(InboundRow.message_id == key)).first()
        if seen is not None:
            report.seen_before += 1
            earlier = _from_row(seen, s)
            if earlier.outcome is Outcome.UNREADABLE:
                report.waiting.append(earlier)
            return earlier
        ours = _find_ours(s, inbound)
        s.expunge_all()
    if ours is None:
        report.not_ours += 1
        return None
    if dry_run:
        with db.session() as s:
            decision = _decide(s, inbound, ours, key=key, received=received, apply=False)
    else:
        with db.session(write=True) as s:
            row = _row(inbound, ours, key=key, received=received, now=now)
            taken = insert_new(s, _TABLE, row, keys=("message_id",))
            if taken:
                decision = _decide(s, inbound, ours, key=key, received=received, now=now)
                _store_outcome(s, key, decision)
        if not taken:  # a concurrent run recorded it first, and has committed since
            report.seen_before += 1
            with db.session() as s:
                seen = s.exec(select(InboundRow).where(InboundRow.message_id == key)).one()
                return _from_row(seen, s)
    report.decisions.append(decision)
    if decision.outcome is Outcome.UNREADABLE:
        report.waiting.append(decision)
    return decision


def _decide(
    s: Session,
    inbound: Inbound,
    ours: _Ours,
    *,
    key: str,
    received: datetime,
    now: datetime | None = None,
    apply: bool = True,
) -> Decision:
    """Apply what the mail asks (unless ``apply`` is off) and say what it was taken for."""
    base = Decision(
        Outcome.UNREADABLE,
        key,
        inbound.sender,
        inbound.subject,
        email=ours.member.email,
        program=ours.program.name,
        round=ours.round.id,
        received_at=received,
    )
    if inbound.bounce is not None:
        return _bounce(s, inbound, ours, base, now=now or received, apply=apply)
    if inbound.auto is not None:
        return _with(base, Outcome.AUTO, inbound.auto)
    if inbound.intent is Intent.LEAVE:
        return _leave(s, ours, base, now=now or received, apply=apply)
    if inbound.intent is Intent.PAUSE and inbound.pause_until is not None:
        return _pause(s, inbound, ours, base, received=received, apply=apply)
    if inbound.intent in (Intent.JOIN, Intent.SKIP):
        return _answer(s, inbound, ours, base, received=received, apply=apply)
    excerpt = " ".join(inbound.text.split())[:120]
    return _with(base, Outcome.UNREADABLE, f"could not read an answer in: {excerpt!r}")


def _answer(
    s: Session, inbound: Inbound, ours: _Ours, base: Decision, *, received: datetime, apply: bool
) -> Decision:
    joins = inbound.intent is Intent.JOIN
    if ours.message.kind not in _ASKS:
        kind = ours.message.kind.replace("_", "-")
        return _with(base, Outcome.UNREADABLE, f"a yes or no in reply to a {kind} message")
    r = s.get(Round, ours.round.id, with_for_update=apply)
    member = s.get(Member, ours.member.id)
    assert r is not None and member is not None
    closed = _closed(r, received=received)
    if closed:
        return _with(base, Outcome.LATE, f"{'join' if joins else 'skip'} came {closed}")
    if not member.active:
        return _with(base, Outcome.REFUSED, f"{member.email} is no longer a member")
    if apply and not _record_answer(s, r, member, answer=joins, at=received):
        word = "join" if joins else "skip"
        return _with(base, Outcome.LATE, f"{word} was written before their latest answer")
    return _with(base, Outcome.JOIN if joins else Outcome.SKIP, f"round {r.number}")


def _pause(
    s: Session, inbound: Inbound, ours: _Ours, base: Decision, *, received: datetime, apply: bool
) -> Decision:
    until = inbound.pause_until
    assert until is not None
    member = s.get(Member, ours.member.id)
    r = s.get(Round, ours.round.id, with_for_update=apply)
    assert member is not None and r is not None
    if not member.active:
        return _with(base, Outcome.REFUSED, f"{member.email} is no longer a member")
    detail = f"until {until.isoformat()}"
    if ours.message.kind in _ASKS and not _closed(r, received=received):
        detail += f", skipping round {r.number}"
        if apply:
            _record_answer(s, r, member, answer=False, at=received)
    if apply:
        membership.pause(s, member, until=until)
    return _with(base, Outcome.PAUSE, detail)


def _leave(s: Session, ours: _Ours, base: Decision, *, now: datetime, apply: bool) -> Decision:
    program = s.get(Program, ours.program.id, with_for_update=apply)
    member = s.get(Member, ours.member.id)
    assert program is not None and member is not None
    if not member.active:
        return _with(base, Outcome.LEFT, "had left already")
    reason = "unsubscribed by email"
    if apply:
        membership.deactivate(s, member, program, now=now, reason=reason, reported=True)
    return _with(base, Outcome.LEFT, reason, deactivated=reason)


def _bounce(
    s: Session, inbound: Inbound, ours: _Ours, base: Decision, *, now: datetime, apply: bool
) -> Decision:
    bounce = inbound.bounce
    assert bounce is not None
    diagnostic = " ".join(f"{bounce.status} {bounce.diagnostic}".split())[:_DETAIL_LIMIT]
    if not bounce.failed:  # delayed, relayed, delivered: nothing final
        return _with(base, Outcome.DELAYED, diagnostic)
    if not apply:
        return _with(base, Outcome.BOUNCE, diagnostic)
    message = s.get(Message, ours.message.id, with_for_update=True)
    assert message is not None
    message.status, message.last_error = "failed", f"bounced: {diagnostic}"
    if bounce.hard:  # a permanent failure (5.x.x) counts towards the program's limit
        message.bounced_at = message.bounced_at or now
    message.claimed_by = message.claimed_at = None
    s.add(message)
    s.flush()
    limit = ours.program.bounce_limit
    if not bounce.hard or not _bounced_in_a_row(s, ours.member, limit=limit):
        return _with(base, Outcome.BOUNCE, diagnostic)
    program = s.get(Program, ours.program.id, with_for_update=True)
    member = s.get(Member, ours.member.id)
    assert program is not None and member is not None
    reason = f"{limit} hard bounces in a row, the last: {diagnostic}"
    if not membership.deactivate(s, member, program, now=now, reason=reason, reported=True):
        return _with(base, Outcome.BOUNCE, diagnostic)
    return _with(base, Outcome.BOUNCE, diagnostic, deactivated=reason)


def _bounced_in_a_row(s: Session, member: Member, *, limit: int) -> bool:
    """The member's last ``limit`` messages that went out all bounced."""
    latest = s.exec(
        select(Message.bounced_at)
        .where(Message.member_id == member.id, col(Message.status).in_(["sent", "failed"]))
        .where(col(Message.sent_at).is_not(None) | col(Message.bounced_at).is_not(None))
        .order_by(col(Message.id).desc())
        .limit(limit)
    ).all()
    return len(latest) == limit and all(at is not None for at in latest)


def _closed(r: Round, *, received: datetime) -> str:
    """Why an answer received then no longer counts, or ``""`` when it does."""
    if r.status == Status.OPEN and received < r.match_at:
        return ""
    if r.status in (Status.OPEN, Status.DONE) and received >= r.match_at:
        return f"after the match time of round {r.number}"
    return f"when round {r.number} was {r.status}"


def _record_answer(s: Session, r: Round, m: Member, *, answer: bool, at: datetime) -> bool:
    """Record the answer written at ``at``, unless the member answered later since (a click,
    the admin's respond): a mail read late never undoes a newer answer. True when recorded."""
    row = {"round_id": r.id, "member_id": m.id, "answer": answer, "answered_at": at}
    table = Response.__table__  # type: ignore[attr-defined]
    return upsert(s, table, row, keys=("round_id", "member_id"), not_older="answered_at")


def _find_ours(s: Session, inbound: Inbound) -> _Ours | None:
    """The message of ours this mail answers or reports on, with its member, round, program."""
    wanted: list[str] = []
    if inbound.bounce is not None and inbound.bounce.original_id:
        wanted.append(inbound.bounce.original_id)
    wanted.extend(inbound.refs)
    for message in _messages(s, wanted, tokens=inbound.tokens):
        member = s.get(Member, message.member_id)
        r = s.get(Round, message.round_id)
        program = None if r is None else s.get(Program, r.program_id)
        if member is not None and r is not None and program is not None:
            return _Ours(message, member, r, program)
    return None


def _messages(s: Session, ids: list[str], *, tokens: tuple[str, ...]) -> Iterator[Message]:
    """Our messages by Message-ID, in the order asked, then those a token names."""
    if ids:
        found = {
            m.message_id: m for m in s.exec(select(Message).where(col(Message.message_id).in_(ids)))
        }
        yield from (found[i] for i in ids if i in found)
    for token in tokens:
        pattern = f"<{token}@%"
        message = s.exec(select(Message).where(col(Message.message_id).like(pattern))).first()
        if message is not None:
            yield message


def _row(
    inbound: Inbound, ours: _Ours, *, key: str, received: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "message_id": key,
        "outcome": Outcome.UNREADABLE.value,  # until _store_outcome, in the same transaction
        "program_id": ours.program.id,
        "round_id": ours.round.id,
        "member_id": ours.member.id,
        "sender": inbound.sender[:_DETAIL_LIMIT],
        "subject": inbound.subject[:_DETAIL_LIMIT],
        "detail": None,
        "received_at": received,
        "processed_at": now,
    }


def _store_outcome(s: Session, key: str, decision: Decision) -> None:
    detail = "\n".join(filter(None, [decision.detail, decision.deactivated or ""]))
    s.execute(
        update(_TABLE)
        .where(_TABLE.c.message_id == key)
        .values(outcome=decision.outcome.value, detail=detail)
    )


def _from_row(row: InboundRow, s: Session) -> Decision:
    member = None if row.member_id is None else s.get(Member, row.member_id)
    program = None if row.program_id is None else s.get(Program, row.program_id)
    detail, _, deactivated = (row.detail or "").partition("\n")
    return Decision(
        Outcome(row.outcome),
        row.message_id,
        row.sender,
        row.subject,
        email=None if member is None else member.email,
        program=None if program is None else program.name,
        round=row.round_id,
        detail=detail,
        received_at=row.received_at,
        deactivated=deactivated or None,
    )


def _with(
    base: Decision, outcome: Outcome, detail: str, *, deactivated: str | None = None
) -> Decision:
    return replace(base, outcome=outcome, detail=detail, deactivated=deactivated)


def _key(message_id: str, raw: bytes) -> str:
    """What a mail is recorded by: its Message-ID; a digest of it when it is too long for an
    index, or of the whole mail when it has none. The same mail always gives the same key."""
    if 0 < len(message_id) <= _KEY_LIMIT:
        return message_id
    digest = hashlib.sha256(message_id.encode() if message_id else raw).hexdigest()[:40]
    return f"<sha256.{digest}@sessionctl.invalid>"
