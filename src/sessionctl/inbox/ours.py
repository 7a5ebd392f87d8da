"""Which messages of an inbox may be ours, told from their header alone.

The inbox may be the admin's own mailbox: a run reads every header, and only the messages this
says yes to are downloaded whole and decided on. It errs towards yes: a message it passes that is
not ours costs a download; a reply it refused would never count.
"""

from __future__ import annotations

import re
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from sessionctl.domain.replies import TOKEN

__all__ = ["may_be_ours"]

# Our Message-IDs' left part: "sessionctl.<round>.<member>.<kind>.<12 hex>"; replies name them.
_OUR_ID = re.compile(r"<\s*sessionctl\.[^<>@\s]*@", re.IGNORECASE)
# In a subject (as the unsubscribe mailto writes it), that left part is found with TOKEN, the
# very pattern the reply is then read with: no subject passes here that it would not find.
_DAEMONS = frozenset(("mailer-daemon", "postmaster"))
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def may_be_ours(header: bytes) -> bool:
    """True when the message whose header is ``header`` may concern sessionctl: it answers one
    of our Message-IDs, its subject holds one of our tokens, or it is a bounce (a delivery
    report, from a mailer-daemon or postmaster, or with ``X-Failed-Recipients``).

    Any bytes are accepted and none raise; a header the parser gave up on says yes.
    """
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(header)
    except Exception:  # the parser is lenient; this is only a guard for what it missed
        return True
    return (
        _answers_ours(msg)
        or _subject_names_ours(msg)
        or _is_report(msg)
        or _from_daemon(msg)
        or "X-Failed-Recipients" in msg
    )


def _answers_ours(msg: Message) -> bool:
    return any(_OUR_ID.search(value) for value in _values(msg, "In-Reply-To", "References"))


def _subject_names_ours(msg: Message) -> bool:
    return any(
        TOKEN.search(value) or TOKEN.search(_decoded(value)) for value in _values(msg, "Subject")
    )


def _is_report(msg: Message) -> bool:
    return any(
        value.partition(";")[0].strip().lower() == "multipart/report"
        for value in _values(msg, "Content-Type")
    )


def _from_daemon(msg: Message) -> bool:
    try:
        addresses = getaddresses(_values(msg, "From", "Sender"))
    except Exception:  # a From that the address parser chokes on is not a daemon's
        return False
    # "MAILER-DAEMON@mx.example.org", or "MAILER-DAEMON" alone as some MTAs write it.
    return any(address.partition("@")[0].lower() in _DAEMONS for _, address in addresses)


def _values(msg: Message, *names: str) -> list[str]:
    """Every value of the headers ``names``, unfolded; bytes beyond ASCII kept as escapes."""
    return [_FOLD.sub("", str(value)) for name in names for value in msg.get_all(name, [])]


def _decoded(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded; unknown charsets read as Latin-1."""
    try:
        parts = decode_header(value)
    except Exception:  # a malformed encoded word: the raw text is all there is
        return value
    out = []
    for text, charset in parts:
        if isinstance(text, str):
            out.append(text)
            continue
        try:
            out.append(text.decode(charset or "ascii", "replace"))
        except LookupError:
            out.append(text.decode("latin-1"))
    return "".join(out)
