"""Compose the emails of a round: opt-in invitations, reminders, change notices, match
announcements and "no match" messages.

Every header value goes through ``_set_header``, which makes text inert first: RFC 2047 encoded
words (``=?utf-8?q?X=0D=0ABcc:...?=``) are decoded here, again until none is left, and only then
are controls, line breaks and bidi overrides removed. Some interpreters (3.11.7, 3.12.1) decode
encoded words while folding and write the decoded CR/LF raw, which would add a header or end the
headers early; with nothing left to decode, no interpreter can. As a second line of defence,
``compose`` folds the headers exactly as a transport will, parses them back and refuses the
message (``UnsafeHeader``) if the names, the one recipient or any decoded value differ from what
was set. The HTML alternative escapes every value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address, AddressHeader
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy
from email.utils import format_datetime
from enum import StrEnum
from string import Template
from types import MappingProxyType
from urllib.parse import quote

from sessionctl.delivery import layout, texts
from sessionctl.delivery.texts import CONTROL as _CONTROL
from sessionctl.delivery.texts import html_values, text_values
from sessionctl.domain.validation import UNSAFE_CHARACTERS
from sessionctl.domain.words import noun_for
from sessionctl.errors import InputError


class UnsafeHeader(ValueError):
    """A header would not read back as written: the message must not be sent."""


class Kind(StrEnum):
    """What a message tells its recipient."""

    OPT_IN = "opt_in"
    MATCH = "match"
    NO_MATCH = "no_match"
    NOTICE = "notice"  # the round's match time moved, or it was cancelled
    REMINDER = "reminder"  # the match is near and the member has not answered


ANSWERING = frozenset({Kind.OPT_IN, Kind.REMINDER, Kind.NOTICE})
"""Kinds whose replies and links answer the round (a notice's only while it is open)."""


@dataclass(frozen=True)
class Person:
    """An address, a display name and a team (``""`` when unknown)."""

    email: str
    name: str = ""
    team: str = ""


@dataclass(frozen=True)
class Envelope:
    """Everything one message says. Times are already formatted for people, with their zone."""

    kind: Kind
    sender: Person
    recipient: Person
    message_id: str
    date: datetime
    program_title: str
    round_number: int  # within the program, from 1: members never see the global round id
    opt_in_at: str | None
    match_at: str
    group: Sequence[Person] = ()
    join_url: str | None = None
    skip_url: str | None = None
    reply_to: str | None = None  # where replies go, when not to the sender
    replies: bool = False  # replies are read back (an inbox is set up): the text may ask for one
    leave_url: str | None = None  # the one-click unsubscribe link (RFC 8058), with a link base
    manage_url: str | None = None  # the member's page to pause or leave, with a link base
    language: str = "en"  # of the default templates and of the dates: "en" or "fr"
    icebreaker: str = ""  # match: a conversation starter for the group
    next_round: str | None = None  # when the program's next round opens, formatted; None: none
    cancelled: bool = False  # notice: the round was cancelled (else its match time moved)
    answers_open: bool = True  # the round still takes answers: its text may ask for one


PLACEHOLDERS: tuple[str, ...] = (
    "name",
    "program",
    "round",
    "match_at",
    "opt_in_at",
    "group",
    "join_url",
    "skip_url",
    "links",
    "group_mailto",
    "icebreaker",
    "next_round",
    "manage_url",
    "how_to_leave",
    "change",
)
"""Every ``$placeholder`` a template may use, in the order error messages list them."""


def default_templates(language: str) -> Mapping[Kind, tuple[str, str]]:
    """The default (subject, body) per kind in ``language`` ("en" or "fr"; others: English)."""
    defaults = texts.DEFAULT_TEMPLATES.get(language, texts.DEFAULT_TEMPLATES["en"])
    return MappingProxyType({kind: defaults[kind] for kind in Kind})


DEFAULT_TEMPLATES = default_templates("en")
"""(subject, body) per kind in English, in ``string.Template`` syntax; read-only."""

# In a header, bidi embeddings, overrides and isolates go too: they make a name read as another.
_UNSAFE_IN_HEADER = re.compile(UNSAFE_CHARACTERS + "+")  # the rule names and titles follow
# An RFC 2047 encoded word, matched as loosely as email parsers read one (spaces and line breaks
# inside, in the middle of a word, inside quotes, any charset, any length), so that whatever a
# parser could decode is decoded here first. No part holds a "?": parsers split on it, and it
# keeps the search linear in time.
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?([^?]*)\?=")
_Q_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_MAX_DECODES = 4  # a word nested deeper than this is an attack, not a name
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


class _Policy(EmailPolicy):
    """SMTP's policy, except that List-Unsubscribe is folded only between its <targets>.

    The stock folder turns a header line too long for 78 columns into RFC 2047 encoded words,
    and mail providers do not decode those in List-Unsubscribe: its URIs must go as written.
    A URI longer than a line stays whole on its own line (RFC 5322 allows up to 998).
    """

    def fold(self, name: str, value: str) -> str:
        if name.lower() not in _LISTED:
            folded: str = super().fold(name, value)
            return folded
        targets = _TARGET.findall(str(value))
        return f"{name}: {(',' + self.linesep + ' ').join(targets)}{self.linesep}"

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() not in _LISTED:
            folded: bytes = super().fold_binary(name, value)
            return folded
        return self.fold(name, value).encode("ascii")


_LISTED = ("list-unsubscribe",)
_TARGET = re.compile(r"<[!-;=?-~]+>")  # one URI in angle brackets: printable ASCII, no < >
_SMTP = _Policy(linesep="\r\n")


def compose(
    env: Envelope, *, templates: Mapping[Kind, tuple[str, str]] | None = None
) -> EmailMessage:
    """Build the message for ``env``; ``templates`` replaces the defaults for the kinds it holds.

    Raises ``InputError`` for a recipient or sender address that cannot be sent to, or a template
    with an unknown placeholder; ``UnsafeHeader`` for a header that would not read back as it
    was set; ``ValueError`` for a naive ``date`` or a malformed ``message_id`` (both are the
    caller's contract, not user input).
    """
    defaults = default_templates(env.language)
    subject_template, body_template = (templates or {}).get(env.kind, defaults[env.kind])
    values = text_values(env)
    subject = _header_text(render_template(subject_template, values, part=f"{env.kind} subject"))
    render_template(body_template, values, part=f"{env.kind} body")  # refuses what is unknown
    footer = "how_to_leave" not in Template(body_template).get_identifiers()
    body = layout.text_body(body_template, values)
    if footer:  # "-- " starts a signature: clients grey it out and leave it out of replies
        body = f"{body.rstrip()}\n\n-- \n{values['how_to_leave']}\n"

    msg = EmailMessage(policy=_SMTP)
    _set_header(msg, "From", _address(env.sender))
    _set_header(msg, "To", recipient := _address(env.recipient))
    _set_header(msg, "Date", format_datetime(_check_aware(env.date)))
    _set_header(msg, "Subject", subject)
    _set_header(msg, "Message-ID", _check_message_id(env.message_id))
    if env.reply_to:
        _set_header(msg, "Reply-To", _address(Person(env.reply_to)))
    _set_header(msg, "List-Unsubscribe", _unsubscribe(env))
    if env.leave_url:
        _set_header(msg, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
    _set_header(msg, "Auto-Submitted", "auto-generated")
    # quoted-printable keeps the message 7-bit, so no server needs 8BITMIME to relay it.
    msg.set_content(body, cte="quoted-printable")
    msg.add_alternative(
        _html_document(env, body_template, subject=subject, footer=footer),
        subtype="html",
        cte="quoted-printable",
    )
    # add_alternative() stamps the part with its own MIME-Version, which belongs at the top only.
    for part in msg.iter_parts():
        del part["MIME-Version"]
    verify_headers(msg, recipient=recipient.addr_spec)
    return msg


def envelope_recipients(msg: EmailMessage) -> list[str]:
    """The addr_spec of the To header: what to give SMTP as envelope recipients."""
    header = msg["To"]
    if not isinstance(header, AddressHeader):
        raise ValueError("message has no To header built with an email policy")
    return [address.addr_spec for address in header.addresses]


def render_template(template: str, values: Mapping[str, str], *, part: str = "") -> str:
    """Substitute ``$placeholders`` from ``values``; ``$$`` is a literal dollar sign.

    An unknown placeholder or a stray ``$`` raises ``InputError`` naming it and listing the
    known placeholders (the keys of ``values``). ``part`` names the template in that message.
    """
    parsed = Template(template)
    where = f"the {part} template" if part else "the template"
    known = ", ".join(f"${key}" for key in values)
    if not parsed.is_valid():
        raise InputError(
            f"invalid placeholder in {where} ({_invalid_location(parsed)}): "
            f"write $$ for a dollar sign; placeholders are {known}"
        )
    unknown = [name for name in parsed.get_identifiers() if name not in values]
    if unknown:
        names = ", ".join(f"${name}" for name in unknown)
        what = noun_for(len(unknown), "unknown placeholder")
        raise InputError(f"{what} {names} in {where}: use {known}")
    return parsed.substitute(values)


def validate_template(subject: str, body: str) -> None:
    """Check a custom (subject, body) pair before it is stored; raises ``InputError``."""
    sample = dict.fromkeys(PLACEHOLDERS, "")
    if _CONTROL.search(subject):
        raise InputError("the subject template must be one line of text")
    if not body.strip():
        raise InputError("the body template is empty")
    render_template(subject, sample, part="subject")
    render_template(body, sample, part="body")


def reference(message_id: str) -> str:
    """What a message is known by in the subject of an unsubscribe mail: its Message-ID's
    left part, e.g. ``sessionctl.12.34.opt_in.a1b2c3d4e5f6``."""
    return message_id.strip("<>").rpartition("@")[0]


def _unsubscribe(env: Envelope) -> str:
    """List-Unsubscribe: a mail to the reply address that names this message, and the
    one-click link when there is one (RFC 2369, RFC 8058)."""
    address = quote(_address(Person(env.reply_to or env.sender.email)).addr_spec, safe="@")
    subject = quote(f"unsubscribe {reference(env.message_id)}")
    targets = [f"<mailto:{address}?subject={subject}>"]
    if env.leave_url and env.leave_url.lower().startswith(("https://", "http://")):
        targets.append(f"<{quote(env.leave_url, safe=':/?=&%')}>")
    return ", ".join(targets)


def _html_document(env: Envelope, body_template: str, *, subject: str, footer: bool) -> str:
    # The template is escaped before it is filled and every value on its own, so neither the
    # admin's template nor a member's name can open a tag.
    inline, blocks = html_values(env, text_values(env))
    return layout.document(
        language=env.language,
        title=texts.one_line(env.program_title),
        subject=subject,
        content=layout.html_content(body_template, inline, blocks),
        footer=inline["how_to_leave"] if footer else "",
    )


def _set_header(msg: EmailMessage, name: str, value: str | Address) -> None:
    """The one way a header is set: text, and an address's display name, are made inert."""
    if isinstance(value, Address):
        display_name = _header_text(value.display_name)
        if display_name != value.display_name:
            value = Address(display_name, addr_spec=value.addr_spec)
        msg[name] = value
    else:
        msg[name] = _header_text(value)


def _header_text(text: str) -> str:
    """``text`` as one inert line: encoded words decoded until none is left, then every control,
    line break or bidi override a space. Raises ``UnsafeHeader`` for words nested too deep."""
    for _ in range(_MAX_DECODES + 1):
        text = " ".join(_UNSAFE_IN_HEADER.sub(" ", text).split())
        if "=?" not in text or not _ENCODED_WORD.search(text):
            return text
        text = _ENCODED_WORD.sub(_decode_word, text)
    raise UnsafeHeader(f"header text nests encoded words more than {_MAX_DECODES} deep")


def _decode_word(word: re.Match[str]) -> str:
    """One encoded word decoded as leniently as email parsers do (``email._encoded_words``)."""
    charset, encoding, payload = word.groups()
    data = payload.encode("utf-8", "replace")  # parsers skip non-ASCII words; we decode them too
    if encoding in "qQ":
        data = _Q_ESCAPE.sub(lambda m: bytes.fromhex(m[1].decode()), data.replace(b"_", b" "))
    else:
        try:  # non-alphabet bytes are skipped and missing padding added, as parsers do
            data = base64.b64decode(data + b"==", validate=False)
        except binascii.Error:
            return payload  # parsers keep an undecodable word's text as it is
    try:
        return data.decode(charset.partition("*")[0], "replace")
    except (LookupError, ValueError, TypeError):  # unknown charset: parsers still read ASCII
        return data.decode("latin-1")


def verify_headers(msg: EmailMessage, *, recipient: str) -> None:
    """Fold the headers as a transport will, parse them back and refuse any surprise: another
    set of header names, a To that is not exactly ``recipient``, a control after decoding."""
    linesep = msg.policy.linesep.encode()
    head = b"".join(msg.policy.fold_binary(name, value) for name, value in msg.raw_items())
    bare = head.replace(linesep, b"")
    if not head.isascii() or b"\r" in bare or b"\n" in bare:
        raise UnsafeHeader("a header holds a bare line break or 8-bit text")
    parsed = BytesHeaderParser(policy=policy.compat32).parsebytes(head + linesep)
    if parsed.keys() != msg.keys():
        raise UnsafeHeader(f"headers would read back as {', '.join(parsed.keys())}")
    for name, raw in parsed.items():
        decoded = _ENCODED_WORD.sub(_decode_word, raw.replace(msg.policy.linesep, ""))
        if _UNSAFE_IN_HEADER.search(decoded) or _ENCODED_WORD.search(decoded):
            raise UnsafeHeader(f"the {name} header would read back with a control or encoded word")
    to = policy.default.header_fetch_parse("To", parsed["To"])  # unfolds, then parses
    if [address.addr_spec for address in to.addresses] != [recipient]:
        raise UnsafeHeader(f"the To header would not read back as {recipient} alone")


def _address(person: Person) -> Address:
    local, _, domain = person.email.strip().rpartition("@")
    if not local.isascii():
        raise InputError(
            f"cannot send to {person.email!r}: a non-ASCII name before the @ is not supported"
        )
    invalid = InputError(f"cannot send to {person.email!r}: not a valid email address")
    if _ENCODED_WORD.search(person.email) or _UNSAFE_IN_HEADER.search(person.email):
        raise invalid  # a parser could decode it into another address
    display_name = _header_text(person.name)
    try:
        if not domain.isascii():  # internationalized domains go out in punycode
            domain = domain.encode("idna").decode("ascii")
        return Address(display_name=display_name, addr_spec=f"{local}@{domain}")
    except (ValueError, IndexError, HeaderParseError):  # UnicodeError is a ValueError too
        raise invalid from None


def _check_aware(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"message date must be timezone-aware, got {when!r}")
    return when


def _check_message_id(message_id: str) -> str:
    inert = message_id.isascii() and not _ENCODED_WORD.search(message_id)
    if not (inert and _MESSAGE_ID.fullmatch(message_id)):
        raise ValueError(f"malformed Message-ID {message_id!r}: expected '<left@right>'")
    return message_id


def _invalid_location(parsed: Template) -> str:
    try:
        parsed.substitute(dict.fromkeys(parsed.get_identifiers(), ""))
    except ValueError as err:  # "Invalid placeholder in string: line 1, col 7"
        return str(err).rpartition(": ")[2]
    return "unknown position"
