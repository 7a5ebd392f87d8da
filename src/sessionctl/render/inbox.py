"""What reading the inbox did, one line per mail, for people and cron mails."""

from __future__ import annotations

from sessionctl.domain.words import plural
from sessionctl.services.inbox_results import Decision, InboxReport, Outcome


def lines(report: InboxReport, *, all_waiting: bool = True) -> list[str]:
    """One line per mail recorded, one per unreadable reply still waiting (``all_waiting``)
    or only per one first read now (run-due: cron mails each reply once); nothing when the
    inbox held nothing new of ours."""
    if report.busy:
        return []  # the run reading it says what it read
    prefix = "would record: " if report.dry_run else ""
    out: list[str] = []
    for d in report.decisions:
        if d.outcome is not Outcome.UNREADABLE:
            out.append(prefix + _line(d))
        if d.deactivated and d.outcome is Outcome.BOUNCE:
            out.append(f"{prefix}{d.email} deactivated in {d.program}: {d.deactivated}")
    waiting = report.waiting if all_waiting else _new_unreadable(report)
    out.extend(_waiting(d) for d in waiting)
    if out:
        out.append(_summary(report))
    return out


def _new_unreadable(report: InboxReport) -> list[Decision]:
    return [d for d in report.decisions if d.outcome is Outcome.UNREADABLE]


def _line(d: Decision) -> str:
    where = f"round {d.round} ({d.program})"
    texts = {
        Outcome.JOIN: f"{d.email} joins {where}",
        Outcome.SKIP: f"{d.email} skips {where}",
        Outcome.PAUSE: f"{d.email} pauses {d.detail} ({d.program})",
        Outcome.LEFT: f"{d.email} left {d.program}: {d.detail}",
        Outcome.BOUNCE: f"{d.email}: a message of {where} bounced: {d.detail}",
        Outcome.DELAYED: f"{d.email}: a message of {where} is delayed: {d.detail}",
        Outcome.AUTO: f"{d.email}: auto-reply ignored ({d.detail})",
        Outcome.LATE: f"{d.email}: late answer not counted, the {d.detail}",
        Outcome.REFUSED: f"{d.email}: answer not counted, {d.detail}",
    }
    return texts.get(d.outcome, f"{d.email}: {d.detail}")


def _waiting(d: Decision) -> str:
    return (
        f"unreadable reply from {d.sender} about round {d.round} ({d.program}) left in "
        f"the inbox, subject {d.subject!r}: answer it with "
        f"'sessionctl respond {d.round} {d.email} yes|no'"
    )


def _summary(report: InboxReport) -> str:
    counted = [
        plural(report.count(Outcome.JOIN) + report.count(Outcome.SKIP), "answer"),
        *(
            f"{report.count(outcome)} {word}"
            for outcome, word in (
                (Outcome.PAUSE, "paused"),
                (Outcome.LEFT, "left"),
                (Outcome.BOUNCE, "bounced"),
                (Outcome.AUTO, "auto-replies ignored"),
                (Outcome.LATE, "late"),
            )
            if report.count(outcome)
        ),
    ]
    if report.waiting:
        counted.append(f"{len(report.waiting)} unreadable left for you")
    return f"inbox: {plural(report.read, 'mail')} read, " + ", ".join(counted)
