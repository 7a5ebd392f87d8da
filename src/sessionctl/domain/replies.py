"""What one inbound email is: a member's answer, an automatic reply, or a bounce.

``read_message`` reads the raw bytes of one email as it arrived (from IMAP or a Maildir) and
says who wrote, which of our messages it answers (``refs`` and ``tokens``), whether a machine
wrote it (``auto``: out-of-office replies, mailing lists, bounces, after RFC 3834), what bounced
(``bounce``, RFC 3464) and what the member asks for (``intent``), read from the member's own
words only: the quoted message below a reply holds "reply yes or no" and must never count.

Pure: no clock (``today`` is an argument), no database, no network. It never raises: mail from
the internet is often malformed, and one odd message must not stop an inbox.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import TypeVar

from sessionctl.domain._answers import Intent, read_answer
from sessionctl.domain._bounces import Bounce, message_id, read_bounce
from sessionctl.domain._mailtext import (
    content_type,
    decoded,
    header,
    html_to_text,
    is_attachment,
    leaf_parts,
    part_text,
)
from sessionctl.domain._quotes import own_words

__all__ = ["Bounce", "Inbound", "Intent", "read_message"]

_T = TypeVar("_T")

# The local part of our outgoing Message-IDs: round id, member id, kind (a round's second and
# later notices: "notice-SERIAL"), 12 random hex digits.
# Preceded by a digit only as in "%20sessionctl..." (a URL-encoded List-Unsubscribe subject).
TOKEN = re.compile(
    r"(?<![A-Za-z_.])sessionctl\.\d{1,19}\.\d{1,19}\."
    r"(?:opt_in|match|no_match|notice(?:-\d{1,9})?|reminder)\.[0-9a-f]{12}(?![0-9A-Za-z_])"
)
_IDS = re.compile(r"<\s*([^<>\s]+)\s*>")
_AUTO_PRECEDENCE = frozenset(("bulk", "junk", "list", "auto_reply"))
_AUTO_SUBJECT = re.compile(
    r"^(?:automatic reply\s*:|auto\s*:|out of (?:the )?office|réponse automatique|"
    r"abwesenheitsnotiz|automatische antwort|autoreply|auto-reply)",
    re.IGNORECASE,
)
_UNSUBSCRIBE_SUBJECT = re.compile(r"^unsubscribe\b", re.IGNORECASE)
_BOUNCE_REASON = "delivery status notification"


@dataclass(frozen=True)
class Inbound:
    """One inbound email, read.

    ``refs`` are the Message-IDs it answers (In-Reply-To first, then References newest first);
    ``tokens`` are our reference tokens as found in its subject or text, quoted part included.
    ``text`` is the member's own words (at most 2,000 characters); ``intent`` is read from them,
    and is ``UNKNOWN`` for automatic mail and bounces whatever they say.
    """

    message_id: str
    sender: str
    subject: str
    date: dt.datetime | None
    refs: tuple[str, ...]
    tokens: tuple[str, ...]
    auto: str | None
    bounce: Bounce | None
    text: str
    intent: Intent
    pause_until: dt.date | None


def read_message(raw: bytes, *, today: dt.date) -> Inbound:
    """Read one raw email. Never raises on any input: garbage gives intent ``UNKNOWN``.

    ``today`` is the reader's local date, for "pause until Jan 15" (a date without a year that
    is not after today is next year's).
    """
    msg = _parse(raw)
    sender = _safely(lambda: _sender(header(msg, "From")), "")
    subject = _safely(lambda: decoded(header(msg, "Subject")), "")
    body = _safely(lambda: _read_body(msg, subject=subject, sender=sender, today=today), None)
    if body is None:  # a defect of ours on odd mail: the organiser reads it, the inbox goes on
        auto = _safely(lambda: _automatic(msg, subject=subject), None)
        body = _Body(None, auto, "", "", Intent.UNKNOWN, None)
    return Inbound(
        message_id=_safely(lambda: message_id(header(msg, "Message-ID")), ""),
        sender=sender,
        subject=subject,
        date=_safely(lambda: _date(header(msg, "Date")), None),
        refs=_safely(lambda: _refs(msg), ()),
        tokens=_tokens(subject, body.everything),
        auto=body.auto,
        bounce=body.bounce,
        text=body.text,
        intent=body.intent,
        pause_until=body.pause_until,
    )


@dataclass(frozen=True)
class _Body:
    bounce: Bounce | None
    auto: str | None
    everything: str  # all text parts, quotes included, for tokens
    text: str
    intent: Intent
    pause_until: dt.date | None


def _read_body(msg: Message, *, subject: str, sender: str, today: dt.date) -> _Body:
    bounce = read_bounce(msg, sender=sender)
    auto = _BOUNCE_REASON if bounce is not None else _automatic(msg, subject=subject)
    plain, html, everything = _bodies(msg)
    text = own_words(plain if plain.strip() else html_to_text(html))
    intent, pause_until = _intent(text, subject=subject, auto=auto, today=today)
    return _Body(bounce, auto, everything, text.strip(), intent, pause_until)


def _safely(read: Callable[[], _T], fallback: _T) -> _T:
    """``read()``, or ``fallback`` when it raises: the last defence of "never raises"."""
    try:
        return read()
    except Exception:  # any defect on odd mail must not stop an inbox
        return fallback


def _parse(raw: bytes) -> Message:
    try:
        return BytesParser(policy=compat32).parsebytes(raw)
    except RecursionError:  # the parser recurses once per nested multipart: a MIME bomb
        return _safely(
            lambda: BytesParser(policy=compat32).parsebytes(raw, headersonly=True), Message()
        )
    except Exception:  # see _safely
        return Message()


def _intent(
    text: str, *, subject: str, auto: str | None, today: dt.date
) -> tuple[Intent, dt.date | None]:
    if auto is not None:
        return Intent.UNKNOWN, None
    intent, until = read_answer(text, today=today)
    if _UNSUBSCRIBE_SUBJECT.match(subject) and intent in (Intent.UNKNOWN, Intent.LEAVE):
        # A List-Unsubscribe mailto: clients send the subject we gave, often with no body.
        return Intent.LEAVE, None
    return intent, until


def _automatic(msg: Message, *, subject: str) -> str | None:
    """Why ``msg`` was written by a machine (RFC 3834 and the usual practice), or ``None``.

    ``X-Auto-Response-Suppress`` is no marker: Outlook puts it on mail people write.
    """
    submitted = header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    for name in ("X-Autoreply", "X-Autorespond"):
        if header(msg, name).strip():
            return name
    precedence = header(msg, "Precedence").strip().lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe"):
        if header(msg, name).strip():
            return f"mailing list ({name})"
    if _AUTO_SUBJECT.match(subject):
        return "automatic reply subject"
    return None


def _bodies(msg: Message) -> tuple[str, str, str]:
    """The first plain-text body, the first HTML body, and all text parts for tokens."""
    plain = html = ""
    texts: list[str] = []
    for part in leaf_parts(msg):
        kind = content_type(part)
        # text/rfc822-headers are the bounced message's, not this one's
        if kind not in ("text/plain", "text/html") or is_attachment(part):
            continue
        body = part_text(part)
        texts.append(body)
        if kind == "text/plain" and not plain:
            plain = body
        elif kind == "text/html" and not html:
            html = body
    return plain, html, "\n".join(texts)


def _sender(value: str) -> str:
    for _, address in getaddresses([value]):
        if "@" in address and not any(ch.isspace() for ch in address):
            return address
    return ""


def _date(value: str) -> dt.datetime | None:
    if not value.strip():
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    # "-0000" means UTC with the sender's zone unknown (RFC 5322): Python leaves it naive.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _refs(msg: Message) -> tuple[str, ...]:
    replied = _IDS.findall(header(msg, "In-Reply-To"))
    referenced = _IDS.findall(header(msg, "References"))
    ordered = [f"<{i}>" for i in (*replied, *reversed(referenced))]
    return tuple(dict.fromkeys(ordered))


def _tokens(subject: str, text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(TOKEN.findall(f"{subject}\n{text}")))
