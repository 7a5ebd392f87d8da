"""run-due: extend series, open rounds, form groups, deliver. Each step its own transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from sessionctl.config import Settings
from sessionctl.delivery import claims, outbox
from sessionctl.delivery.transports import Transport
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import format_local, load_zone
from sessionctl.domain.words import noun_for, plural
from sessionctl.errors import RunError
from sessionctl.services import groups, icebreakers, latejoin, membership, reminders, responses
from sessionctl.services.programs import sender_note
from sessionctl.services.scheduling import extend_series
from sessionctl.store import maintenance
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Message, Program, Round
from sessionctl.store.secret import load_secret

if TYPE_CHECKING:
    from sessionctl.inbox import Mailbox
    from sessionctl.services.inbox_results import InboxReport


@dataclass
class RunReport:
    opened: list[int] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    late: list[dict[str, int]] = field(default_factory=list)  # late joiners' opt-ins
    reminded: list[int] = field(default_factory=list)  # rounds whose reminders were made
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: list[claims.Hold] = field(default_factory=list)  # claims other hosts still hold
    lines: list[str] = field(default_factory=list)  # one per round acted on, for people
    errors: list[str] = field(default_factory=list)  # failures, for stderr
    notes: list[str] = field(default_factory=list)  # worth knowing, not failures: for stderr
    inbox: InboxReport | None = None  # what reading the inbox did, when one is set up
    left: list[dict[str, str]] = field(default_factory=list)  # who left by themselves
    skipped: bool = False
    stopped: bool = False  # delivery stopped early (rejected login, unusable outbox)
    inbox_failed: bool = False  # the inbox could not be read

    @property
    def did_work(self) -> bool:
        return bool(
            self.opened or self.matched or self.missed or self.late or self.reminded or self.sent
        )

    @property
    def blocked(self) -> bool:
        """Messages wait for another host's lease and this run could do nothing else."""
        return bool(self.held) and not self.did_work

    @property
    def exit_code(self) -> int:
        failed = self.failed or self.retrying or self.stopped or self.inbox_failed
        return 1 if failed or self.blocked else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "matched": self.matched,
            "missed": self.missed,
            "late": self.late,
            "reminded": self.reminded,
            "sent": self.sent,
            "failed": self.failed,
            "retrying": self.retrying,
            "held": [h.to_json() for h in self.held],
            "left": self.left,
            "inbox": None if self.inbox is None else self.inbox.to_json(),
        }


@dataclass(frozen=True)
class _Due:
    to_miss: list[tuple[Round, Program, str]]
    to_open: list[tuple[Round, Program]]
    to_match: list[tuple[Round, Program]]


def run_due(
    db: Database,
    *,
    clock: Callable[[], datetime],
    open_transport: Callable[[], Transport],
    inbox: tuple[str, Callable[[], Mailbox]] | None = None,
    dry_run: bool = False,
    lock: bool = True,
) -> RunReport:
    """One cron run. Overlapping runs on this host skip quietly; claims keep any others safe.

    ``inbox`` (its description and opener) is read first, so that answers in it count before
    the rounds they answer are matched; an inbox that cannot be read fails the run (exit 1)
    but stops nothing else.
    """
    with _run_lock(db.settings, enabled=lock and not dry_run) as acquired:
        if not acquired:
            return RunReport(skipped=True)
        report = RunReport()
        if not dry_run:  # a damaged database records and sends nothing rather than half or twice
            maintenance.ensure_sound(db)
        if inbox is not None:
            _read_inbox(db, report, inbox=inbox, clock=clock, dry_run=dry_run)
        if not dry_run:
            _report_leaves(db, report, now=clock())
        if dry_run:
            return _preview(db, report, now=clock())
        return _run(db, report, clock=clock, open_transport=open_transport)


def _read_inbox(
    db: Database,
    report: RunReport,
    *,
    inbox: tuple[str, Callable[[], Mailbox]],
    clock: Callable[[], datetime],
    dry_run: bool,
) -> None:
    from sessionctl.render.inbox import lines
    from sessionctl.services.inbox import read_inbox

    source, open_mailbox = inbox
    try:
        report.inbox = read_inbox(
            db, open_mailbox=open_mailbox, source=source, clock=clock, dry_run=dry_run
        )
    except RunError as err:
        report.errors.append(
            f"inbox not read: {err}; rounds matched by this run may lack answers sent by email"
        )
        report.inbox_failed = True
        return
    report.lines.extend(lines(report.inbox, all_waiting=False))
    for d in report.inbox.decisions:
        if d.deactivated and not dry_run:
            report.left.append(
                {"email": d.email or "", "program": d.program or "", "reason": d.deactivated}
            )
    report.notes.extend(report.inbox.problems)


def _report_leaves(db: Database, report: RunReport, *, now: datetime) -> None:
    """Members who left by themselves since the last run (the answer page, the one-click
    link): one line each, once."""
    with db.session(write=True) as s:
        left = membership.report_leaves(s, now=now)
    for email, program, why in left:
        report.left.append({"email": email, "program": program, "reason": why})
        report.lines.append(f"{email} left {program}: {why}")


def _run(
    db: Database,
    report: RunReport,
    *,
    clock: Callable[[], datetime],
    open_transport: Callable[[], Transport],
) -> RunReport:
    now = clock()
    with db.session(write=True) as s:
        extend_series(s, now=now)
    with db.session() as s:
        due = _find_due(s, now=now)
        s.expunge_all()
    for r, p, why in due.to_miss:
        if _mark_missed(db, r):
            report.missed.append(r.id or 0)
            consequence = "no groups were formed" if r.status == Status.OPEN else "nothing was sent"
            report.lines.append(f"{_name(r, p)}: missed, {why}; {consequence}")
    for r, p in due.to_open:
        invited = _open(db, r, now=clock())
        if invited is not None:
            report.opened.append(r.id or 0)
            late = (
                " (late)"
                if r.opt_in_at is not None and now - r.opt_in_at > timedelta(minutes=30)
                else ""
            )
            messages = plural(invited, "opt-in message")
            report.lines.append(f"{_name(r, p)}: opened{late}, {messages}")
    for r, p in due.to_match:
        summary = _match(db, r, p, now=clock())
        if summary is not None:
            report.matched.append(r.id or 0)
            report.lines.append(f"{_name(r, p)}: {summary}")
    for joined in latejoin.invite_late(db, now=clock()):
        report.late.append(joined.to_json())
        report.lines.append(joined.line())
    for sent in reminders.queue(db, now=clock()):
        report.reminded.append(sent.round_id)
        report.lines.append(f"round {sent.round_id} ({sent.program}): {_reminders(sent.count)}")
    for d in outbox.drop_unanswerable(db):
        what = noun_for(d.count, _KIND_NOUNS.get(d.kind, "message"))
        report.lines.append(
            f"round {d.round_id} ({d.program}): {d.count} unsent {what} dropped, "
            f"the round is {d.status}"
        )
    lease = db.settings.claim_lease
    claims.release_stale(db, now=clock(), lease=lease)
    delivered = outbox.deliver(
        db,
        open_transport=open_transport,
        clock=clock,
        worker=claims.worker_id(),
        link_secret=lambda: load_secret(db.settings.data_dir),
    )
    report.sent, report.failed = delivered.sent, delivered.failed
    report.errors.extend(delivered.errors)
    report.stopped = delivered.stopped
    with db.session() as s:
        report.retrying, next_try = outbox.waiting_retry(s)
    if report.retrying and next_try is not None and not delivered.errors:
        # Exit 1 needs a reason on stderr even when this run itself sent nothing.
        at = format_local(next_try, load_zone("UTC"))
        waits = "waits" if report.retrying == 1 else "wait"
        report.errors.append(
            f"{plural(report.retrying, 'message')} {waits} for a retry, the next at {at}"
        )
    if delivered.sent or delivered.failed or delivered.retried:
        report.lines.append(_delivery_line(delivered, report.retrying))
    _report_held(db, report, now=clock(), lease=lease)
    if delivered.default_sender:  # once per run, however many messages went out
        report.notes.append(sender_note(sorted(delivered.default_sender), went=True))
    return report


def _report_held(db: Database, report: RunReport, *, now: datetime, lease: timedelta) -> None:
    """One line per host whose claims this run had to leave alone. They fail the run only when
    it could do nothing else: cron then mails every run until the lease ends. Claims of live
    runs (on this host, or fresh on another) are normal overlap and say nothing."""
    with db.session() as s:
        report.held = claims.held_elsewhere(s, now=now, lease=lease)
    utc = load_zone("UTC")
    for h in report.held:
        line = (
            f"{plural(h.count, 'message')} held by {h.host} since {format_local(h.since, utc)}, "
            f"free at {format_local(h.free_at, utc)}"
        )
        (report.errors if report.blocked else report.notes).append(line)


def _preview(db: Database, report: RunReport, *, now: datetime) -> RunReport:
    with db.session() as s:
        due = _find_due(s, now=now)
        for r, p, why in due.to_miss:
            report.missed.append(r.id or 0)
            report.lines.append(f"would mark {_name(r, p)} missed: {why}")
        for r, p in due.to_open:
            invited = len(groups.active_member_ids(s, p, on=groups.local_day(r, now)))
            report.opened.append(r.id or 0)
            messages = plural(invited, "opt-in message")
            report.lines.append(f"would open {_name(r, p)}: {messages}")
        for r, p in due.to_match:
            people = len(groups.participants(s, r, p))
            report.matched.append(r.id or 0)
            report.lines.append(f"would match {_name(r, p)}: {plural(people, 'participant')}")
        for joining in latejoin.find_late(s, now=now):
            report.late.append(joining.to_json())
            report.lines.append(joining.line(dry_run=True))
        for sent in reminders.preview(s, now=now):
            report.reminded.append(sent.round_id)
            name = f"round {sent.round_id} ({sent.program})"
            report.lines.append(f"would remind {name}: {_reminders(sent.count)}")
        pending = outbox.pending_due(s, now=now)
        if pending:
            report.lines.append(f"would send {plural(pending, 'pending message')}")
    return report


def _find_due(s: Session, *, now: datetime) -> _Due:
    rows = s.exec(
        select(Round, Program)
        .join(Program, col(Round.program_id) == Program.id)
        .where(col(Round.status).in_([Status.PLANNED, Status.OPEN]))
        .where(~col(Program.archived))  # archived: its rounds stay as they are
        .where((col(Round.opt_in_at) <= now) | (col(Round.match_at) <= now))
        .order_by(col(Round.match_at), col(Round.id))
    ).all()
    due = _Due([], [], [])
    for r, p in rows:
        when = format_local(r.match_at, load_zone(r.timezone))
        grace = timedelta(hours=p.grace_hours)
        if r.match_at <= now - grace:
            due.to_miss.append(
                (
                    r,
                    p,
                    f"its match time {when} passed more than {p.grace_hours} h ago",
                )
            )
        elif r.status == Status.PLANNED and r.opt_in_at is not None and r.match_at <= now:
            due.to_miss.append(
                (
                    r,
                    p,
                    f"its opt-in never went out before its match time {when}",
                )
            )
        elif r.status == Status.PLANNED and r.opt_in_at is not None:
            due.to_open.append((r, p))
        elif r.match_at <= now:
            due.to_match.append((r, p))
    return due


def _mark_missed(db: Database, r: Round) -> bool:
    with db.session(write=True) as s:
        current = s.get(Round, r.id, with_for_update=True)
        if current is None or current.status not in (Status.PLANNED, Status.OPEN):
            return False
        current.status = Status.MISSED
        s.add(current)
        return True


def _open(db: Database, r: Round, *, now: datetime) -> int | None:
    """Fix the invited set (active members now) and create one opt-in message each."""
    with db.session(write=True) as s:
        current = s.get(Round, r.id, with_for_update=True)
        if current is None or current.status != Status.PLANNED:
            return None  # another run opened it first
        program = s.get(Program, current.program_id)
        assert program is not None and current.id is not None
        member_ids = groups.active_member_ids(s, program, on=groups.local_day(current, now))
        _add_messages(s, current.id, member_ids, kind="opt_in", sender=program.sender, now=now)
        current.status, current.opened_at = Status.OPEN, now
        s.add(current)
        return len(member_ids)


def _match(db: Database, r: Round, p: Program, *, now: datetime) -> str | None:
    """Store the groups, create the match messages and mark the round done, in one transaction."""
    with db.session(write=True) as s:
        current = s.get(Round, r.id, with_for_update=True)
        program = s.get(Program, p.id)
        assert program is not None
        if current is None or current.id is None or not _matchable(current, now=now):
            return None  # another run matched it first, or it changed meanwhile
        responses.withdraw_removed(s, current)
        people, result = groups.form(s, current, program)
        members = [[int(key) for key in group] for group in result.groups]
        starters = icebreakers.pick(s, program, current, members)
        rows = [
            {
                "round_id": current.id,
                "group_no": no,
                "member_id": int(key),
                "extra": key in result.extras,
                "icebreaker": starter,
            }
            for no, (group, starter) in enumerate(zip(result.groups, starters, strict=True), 1)
            for key in group
        ]
        if rows:
            s.exec(insert(GroupMember), params=rows)  # type: ignore[call-overload]
        grouped = [int(key) for group in result.groups for key in group]
        _add_messages(s, current.id, grouped, kind="match", sender=program.sender, now=now)
        lonely = [int(key) for key in result.no_match]
        _add_messages(s, current.id, lonely, kind="no_match", sender=program.sender, now=now)
        current.status, current.matched_at = Status.DONE, now
        s.add(current)
    summary = _match_summary(len(people), len(result.groups), len(lonely))
    if result.gave_way:  # the admin hears of it where cron mails the output; groups says why
        rules = plural(len(result.gave_way), "pairing rule")
        summary += f", {rules} gave way (see 'sessionctl groups {r.id}')"
    return summary


def _matchable(r: Round, *, now: datetime) -> bool:
    if r.match_at > now:
        return False
    return r.status == Status.OPEN or (r.status == Status.PLANNED and r.opt_in_at is None)


def _match_summary(people: int, groups: int, lonely: int) -> str:
    if people == 0:
        return "matched, no participants, no groups"
    text = f"matched {plural(people, 'person', 'people')} into {plural(groups, 'group')}"
    return text + (f", {plural(lonely, 'no-match message')}" if lonely else "")


def _add_messages(
    s: Session,
    round_id: int,
    member_ids: list[int],
    *,
    kind: str,
    sender: str | None,
    now: datetime,
) -> None:
    for start in range(0, len(member_ids), outbox.INSERT_CHUNK):
        rows = [
            outbox.pending_row(round_id=round_id, member_id=m, kind=kind, sender=sender, now=now)
            for m in member_ids[start : start + outbox.INSERT_CHUNK]
        ]
        s.exec(insert(Message), params=rows)  # type: ignore[call-overload]


_KIND_NOUNS = {"opt_in": "opt-in message", "reminder": "reminder", "notice": "change notice"}


def _reminders(count: int) -> str:
    return plural(count, "reminder")


def _name(r: Round, p: Program) -> str:
    return f"round {r.id} ({p.name})"


def _delivery_line(d: outbox.DeliveryReport, retrying: int) -> str:
    parts = [f"{d.sent} sent"]
    if d.failed:
        parts.append(f"{d.failed} failed")
    if retrying:
        parts.append(f"{retrying} waiting for a retry")
    return "messages: " + ", ".join(parts)


@contextmanager
def _run_lock(settings: Settings, *, enabled: bool) -> Iterator[bool]:
    """An exclusive lock per database on this host; not waiting for it means skipping."""
    if not enabled:
        yield True
        return
    import hashlib

    from sessionctl.store.locks import file_lock

    key = hashlib.sha256(settings.db_url.encode()).hexdigest()[:16]
    with file_lock(Path(settings.data_dir) / "locks" / f"run-due-{key}.lock") as held:
        yield held
