"""Delivery status notifications (RFC 3464): which message of ours bounced, for whom, and why.

A DSN is a ``multipart/report`` with a ``message/delivery-status`` part (some servers leave out
the ``report-type``), then the message that bounced (``message/rfc822``) or only its headers
(``text/rfc822-headers``). Older servers send a plain notice from MAILER-DAEMON instead; then the
failed address comes from ``X-Failed-Recipients`` and the status from the notice's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser, Parser
from email.policy import compat32

from sessionctl.domain._mailtext import (
    children,
    content_type,
    header,
    leaf_parts,
    one_line,
    part_text,
)

MAX_DIAGNOSTIC = 300

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DAEMON = re.compile(r"^(?:mailer-daemon|postmaster)@", re.IGNORECASE)
_MAX_DEPTH = 30  # multiparts nested deeper are a bomb, not a report
_MESSAGE_ID = re.compile(r"<\s*([^<>\s]+)\s*>")


@dataclass(frozen=True)
class Bounce:
    """A report on a message of ours: not delivered, or not yet.

    ``failed`` is a final failure (``Action: failed``): the server gave up, whatever the status,
    as Postfix does with a 4.4.7 "message expired" after days of retries. ``hard`` is a failure
    with a permanent 5.x.x status, such as an unknown user. Reports that a message is delayed,
    relayed or delivered are neither.
    """

    original_id: str | None
    recipient: str
    hard: bool
    failed: bool
    status: str
    diagnostic: str


def read_bounce(msg: Message, *, sender: str) -> Bounce | None:
    """The bounce ``msg`` reports, or ``None`` when it is no delivery status notification."""
    parts = [*_report_parts(msg)]
    report = next((p for p in parts if content_type(p) == "message/delivery-status"), None)
    if report is not None:
        return _from_report(report, parts)
    if _DAEMON.match(sender) and header(msg, "X-Failed-Recipients"):
        return _from_notice(msg)
    return None


def message_id(value: str) -> str:
    """The first ``<id>`` in a header value (``'<' + id + '>'`` for a bare one with '@')."""
    found = _MESSAGE_ID.search(value)
    if found is not None:
        return f"<{found[1]}>"
    bare = next((word for word in value.split() if "@" in word and "<" not in word), "")
    return f"<{bare}>" if bare and ">" not in bare else ""


def _report_parts(msg: Message, *, depth: int = 0) -> list[Message]:
    """A report's own parts: leaves, plus attached messages kept whole."""
    parts = children(msg)
    if not content_type(msg).startswith("multipart/") or parts is None or depth > _MAX_DEPTH:
        return [msg]
    found: list[Message] = []
    for part in parts:
        if content_type(part) in ("message/rfc822", "message/delivery-status"):
            found.append(part)
        else:
            found.extend(_report_parts(part, depth=depth + 1) if part.is_multipart() else [part])
    return found


def _from_report(report: Message, parts: list[Message]) -> Bounce:
    blocks = _status_blocks(report)
    recipients = blocks[1:] or blocks
    chosen = next(
        (b for b in recipients if header(b, "Action").strip().lower() == "failed"),
        recipients[0] if recipients else Message(),
    )
    action = header(chosen, "Action").strip().lower()
    found = _STATUS.search(header(chosen, "Status"))
    status = found.group(0) if found else ""
    original = _original_id(parts) or _per_message_id(blocks)
    return Bounce(
        original_id=original,
        recipient=_recipient(chosen),
        hard=action == "failed" and status.startswith("5"),
        failed=action == "failed",
        status=status,
        diagnostic=one_line(header(chosen, "Diagnostic-Code"))[:MAX_DIAGNOSTIC],
    )


def _status_blocks(report: Message) -> list[Message]:
    """The per-message block, then one block per recipient."""
    blocks = children(report)
    if blocks is not None:
        return blocks
    text = part_text(report).replace("\r\n", "\n")
    parser = HeaderParser(policy=compat32)
    return [parser.parsestr(block.strip() + "\n") for block in re.split(r"\n\s*\n", text)]


def _recipient(block: Message) -> str:
    """Original-Recipient (the address we sent to) when it is an address, else Final-Recipient."""
    for name in ("Original-Recipient", "Final-Recipient"):
        kind, _, address = header(block, name).partition(";")
        address = one_line(address).strip("<> ")
        if kind.strip().lower() == "rfc822" and "@" in address:
            return address
    return ""


def _original_id(parts: list[Message]) -> str | None:
    for part in parts:
        kind = content_type(part)
        if kind == "message/rfc822":
            attached = children(part)
            if attached:
                return message_id(header(attached[0], "Message-ID")) or None
        elif kind == "text/rfc822-headers":
            headers = Parser(policy=compat32).parsestr(part_text(part), headersonly=True)
            return message_id(header(headers, "Message-ID")) or None
    return None


def _per_message_id(blocks: list[Message]) -> str | None:
    """Gmail also names the original in the report's per-message block."""
    if not blocks:
        return None
    return message_id(header(blocks[0], "X-Original-Message-ID")) or None


def _from_notice(msg: Message) -> Bounce:
    """A plain-text bounce: the status is the first one its text gives."""
    text = "\n".join(part_text(p) for p in leaf_parts(msg) if content_type(p) == "text/plain")
    found = _STATUS.search(text)
    status = found.group(0) if found else ""
    recipient = one_line(header(msg, "X-Failed-Recipients")).split(",")[0].strip()
    return Bounce(
        original_id=None,
        recipient=recipient,
        hard=not status or status.startswith("5"),
        failed=True,  # X-Failed-Recipients names the addresses the server gave up on
        status=status,
        diagnostic="",
    )
