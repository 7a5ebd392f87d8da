"""The member's own words in a reply's text: no quoted mail, attribution lines or signature.

Clients quote in a few ways: lines starting with ``>`` (anywhere: a reply may also be written
below the quote), an attribution line ("On … wrote:", Gmail wrapping it over two lines, "Le … a
écrit :", "Am … schrieb …:"), or, like Outlook, a header block ("From: … Sent: … To: …") or a
separator line above the original, which is then not marked at all. The text ends at the first
attribution that follows words of the member's own; one at the top is skipped, as the member may
write below the ``>`` lines it introduces. A header block or separator always ends the text, at
the top too: the original below it is not marked, so an empty reply must not be read from our own
invitation. A signature ("-- ", "Sent from my iPhone") ends the text too.

mail-parser-reply then removes sign-offs ("Kind regards,", "Viele Grüße"): it knows them in many
languages. It is not trusted with the whole body: it misses replies written below the quote,
keeps ``>`` lines and French iPhone signatures, and its attribution pattern backtracks badly (77 s
on one 80 kB line starting "On "), so it only sees the at most 2,000 characters kept here.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

MAX_CHARS = 2_000

_LOOKED_AT = 100_000  # characters of a body scanned: the member's words come first
_QUOTE = re.compile(r"^\s*>")
_WROTE = re.compile(
    r"^.{0,300}?\b(?:wrote|writes|a\s+[ée]crit|schrieb|escribió|ha\s+scritto|schreef|skrev)"
    r"\b.{0,160}:\s*$",
    re.IGNORECASE,
)
# An attribution starts like this when a client wraps it over two lines.
_WROTE_START = re.compile(r"^(?:on|le|am|el|il|op|den)\s", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^\s*(?:_{10,}|-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|"
    r"forwarded message|mensaje original)\s*-{2,})\s*$",
    re.IGNORECASE,
)
_FROM = re.compile(r"^\s*\*?(?:from|de|von|van)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER = re.compile(
    r"^\s*\*?(?:from|sent|date|to|cc|subject|de|envoyé|date|à|objet|von|gesendet|an|betreff|"
    r"datum)\s*:",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(
    r"^(?:--\s*|—\s*|(?:sent|envoyé|gesendet|enviado|inviato)\s+(?:from|de|depuis|von|desde|da)\b.*|"
    r"get outlook for\b.*|von meinem\b.*\bgesendet)$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SIGNOFF_LANGUAGES = ["en", "fr", "de"]


def own_words(text: str) -> str:
    """What the member wrote in ``text`` (plain text, or HTML already turned into text)."""
    lines = text[:_LOOKED_AT].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    at = 0
    while at < len(lines):
        line = lines[at].replace("\ufeff", "").rstrip()
        if _starts_original(lines, at):
            break
        span = _attribution(lines, at)
        if span:
            if _has_words(kept):
                break
            at += span
            continue
        if _SIGNATURE.match(line.strip()):
            if _has_words(kept):
                break
        elif not _QUOTE.match(line):
            kept.append(line)
        at += 1
    text = _CONTROLS.sub("", re.sub(r"\n{3,}", "\n\n", "\n".join(kept))).strip()[:MAX_CHARS]
    return _without_signoff(text)


def _without_signoff(text: str) -> str:
    """``text`` without a closing "Best regards," and what follows; all of it if that is all."""
    replies = EmailReplyParser(languages=_SIGNOFF_LANGUAGES).read(text).replies
    shorter = replies[0].body if replies else ""
    return shorter if _WORD.search(shorter) else text


def _attribution(lines: list[str], at: int) -> int:
    """How many lines of attribution ("On … wrote:") start at ``lines[at]``; 0 if none."""
    line = lines[at].strip()
    if _QUOTE.match(line):
        return 0
    if _WROTE.match(line):
        return 1
    following = lines[at + 1].strip() if at + 1 < len(lines) else ""
    if _WROTE_START.match(line) and not line.endswith(":") and _WROTE.match(f"{line} {following}"):
        return 2
    return 0


def _starts_original(lines: list[str], at: int) -> bool:
    """Whether an unmarked original starts at ``lines[at]``: a separator or a header block."""
    line = lines[at].strip()
    if _SEPARATOR.match(line):
        return True
    if not _FROM.match(line):
        return False
    # a lone "From:" line may be the member's own words; "From:" then "Sent:" is Outlook's
    return at + 1 < len(lines) and bool(_HEADER.match(lines[at + 1]))


def _has_words(lines: list[str]) -> bool:
    return any(_WORD.search(line) for line in lines)
