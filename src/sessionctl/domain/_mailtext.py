"""The text of a parsed email: its headers as clean strings and its body parts as text.

Mail from the internet is often malformed: a header with raw 8-bit bytes, an unknown charset,
broken base64, HTML that never closes its tags. Every reader here degrades to something (an empty
string, replacement characters) instead of raising, so one strange message cannot stop an inbox.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import Message
from html.parser import HTMLParser

# How much of one body part is read: replies are short, and a huge part must not cost much.
MAX_PART_CHARS = 200_000

# Mail clients label Windows-1252 text as ISO-8859-1; the WHATWG encoding standard reads it so.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}
_SPACES = re.compile(r"[^\S\n]+")
_ANY_SPACES = re.compile(r"\s+")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def header(msg: Message, name: str) -> str:
    """The first ``name`` header, raw 8-bit bytes read as UTF-8; '' when absent."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return _unescape(str(value))
    return ""


def decoded(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded, on one line, without controls."""
    try:
        text = str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError, AssertionError, MessageError):
        text = value  # an encoded word that does not decode is shown as written
    return one_line(text)


def one_line(text: str) -> str:
    """``text`` with controls and line breaks made spaces, runs of spaces made one."""
    return " ".join(_CONTROLS.sub(" ", text).split())


def content_type(msg: Message) -> str:
    try:
        return msg.get_content_type()
    except (ValueError, LookupError, AttributeError, IndexError, MessageError):
        return "text/plain"


def param(msg: Message, name: str) -> str:
    """A Content-Type parameter, lower case; '' when absent or unreadable."""
    try:
        value = msg.get_param(name)
    except (ValueError, LookupError, IndexError, MessageError):
        return ""
    if isinstance(value, tuple):  # an RFC 2231 value: (charset, language, text)
        value = value[2]
    return str(value).strip().lower() if value else ""


def children(msg: Message) -> list[Message] | None:
    """The parts of a multipart (or the message attached to a message/rfc822), else ``None``."""
    payload = _payload(msg)
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else None


def _payload(msg: Message) -> object:
    try:
        return msg.get_payload()
    except (TypeError, ValueError, LookupError, MessageError):  # e.g. an RFC 2231 charset
        return None


def leaf_parts(msg: Message, *, depth: int = 0) -> Iterator[Message]:
    """The non-multipart parts of ``msg`` in order, not descending into attached messages."""
    if depth > 30:  # a bomb of nested multiparts
        return
    parts = children(msg)
    if content_type(msg).startswith("multipart/") and parts is not None:
        for part in parts:
            yield from leaf_parts(part, depth=depth + 1)
        return
    yield msg


def part_text(part: Message) -> str:
    """A leaf part's content decoded to text (transfer encoding, then charset)."""
    try:
        data = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError, TypeError, MessageError):
        data = None
    if isinstance(data, str):
        return data[:MAX_PART_CHARS]
    if not isinstance(data, bytes):
        payload = _payload(part)
        return _unescape(payload)[:MAX_PART_CHARS] if isinstance(payload, str) else ""
    return to_text(data[: MAX_PART_CHARS * 4], charset=param(part, "charset"))


def to_text(data: bytes, *, charset: str) -> str:
    """Bytes in the declared charset; undeclared or wrong, UTF-8, else Windows-1252."""
    name = _CHARSET_ALIASES.get(charset, charset) or "utf-8"
    try:
        codecs.lookup(name)
    except (LookupError, ValueError):
        name = "utf-8"
    for candidate in (name, "utf-8"):
        try:
            return data.decode(candidate)
        except (ValueError, LookupError):
            # a plain UnicodeError from codecs such as "undefined", "idna" or "punycode",
            # or a codec that is no text encoding ("rot13", "base64")
            continue
    return data.decode("cp1252", errors="replace")


def is_attachment(part: Message) -> bool:
    return header(part, "Content-Disposition").strip().lower().startswith("attachment")


def html_to_text(html: str) -> str:
    """The text a reader sees in ``html``, without quoted mail, signatures, styles or scripts.

    Quoted mail is dropped where the clients mark it (``blockquote``, Gmail's ``gmail_quote``,
    Thunderbird's ``moz-cite-prefix``); Outlook quotes without marking, after a rule or a
    ``divRplyFwdMsg`` block, which becomes the separator line the plain-text reader cuts at.
    """
    reader = _HtmlText()
    try:
        reader.feed(html[:MAX_PART_CHARS])
        reader.close()
    except (AssertionError, ValueError, IndexError):
        pass  # keep what was read before the markup went wrong
    return reader.text()


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BLOCKS = _names(
    "address article br dd div dl dt footer h1 h2 h3 h4 h5 h6 header li ol p pre section table "
    "td th tr ul"
)
_VOID = _names("area base br col embed hr img input link meta source track wbr")
_DROPPED_TAGS = _names("blockquote head script style template title")
_DROPPED_CLASSES = _names(
    "gmail_quote gmail_quote_container gmail_attr gmail_signature moz-cite-prefix "
    "moz-signature yahoo_quoted protonmail_quote"
)
_SEPARATOR_IDS = _names("divrplyfwdmsg appendonsend mail-editor-reference-message-container")
OUTLOOK_SEPARATOR = "_" * 32


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._chunks: list[str] = []
        self._dropping: str | None = None  # the tag whose content is being dropped
        self._depth = 0  # how deep inside that tag, counting nested tags of the same name

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping is not None:
            if tag == self._dropping and tag not in _VOID:
                self._depth += 1
            return
        found = dict(attrs)
        classes = set((found.get("class") or "").split())
        if (found.get("id") or "").lower() in _SEPARATOR_IDS or tag == "hr":
            self._chunks.append(f"\n{OUTLOOK_SEPARATOR}\n")
        if (tag in _DROPPED_TAGS or classes & _DROPPED_CLASSES) and tag not in _VOID:
            self._dropping, self._depth = tag, 1
        elif tag in _BLOCKS:
            self._chunks.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._dropping is not None:
            if tag == self._dropping:
                self._depth -= 1
                if self._depth == 0:
                    self._dropping = None
                    self._chunks.append("\n")
            return
        if tag in _BLOCKS:
            self._chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if self._dropping is None:
            self._chunks.append(_ANY_SPACES.sub(" ", data))

    def text(self) -> str:
        lines = (_SPACES.sub(" ", line).strip() for line in "".join(self._chunks).split("\n"))
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _unescape(value: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogates) read as UTF-8."""
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return unicodedata.normalize("NFC", text)
