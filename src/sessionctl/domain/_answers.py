"""What a member's own words ask for: join, skip, pause until a date, or leave.

The first meaningful line decides (a greeting alone, or before the answer, is passed over); a
line with both a yes and a no, or with neither, is not understood. Being unsure costs an
organiser one look; reading "yes, no wait, I can't" as a yes would send someone to a meeting.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum

from sessionctl.domain.when import parse_date
from sessionctl.errors import InputError


class Intent(StrEnum):
    JOIN = "join"
    SKIP = "skip"
    PAUSE = "pause"
    LEAVE = "leave"
    UNKNOWN = "unknown"


_ANSWER_WORDS = r"yes|no|oui|non|y|n|in|out|join|skip|pause|stop|leave|unsubscribe"
_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|bonjour|salut|coucou|hallo|moin|servus|guten\s+(?:tag|morgen)|"
    r"good\s+(?:morning|afternoon|evening)|morning)\b"
    rf"(?:\s+(?!(?:{_ANSWER_WORDS})\b)[^\s,!.:;]+){{0,3}}\s*(?:[,!.:;]+\s*|$)",
    re.IGNORECASE,
)
# Phrases that hold an answer word without being an answer.
_NEUTRAL = re.compile(r"\bno (?:problem|worries)\b")
_YES = re.compile(r"\b(?:yes+|yeah|yep|yup|join|oui|count me in|i'?m in|i am in)\b")
_NO = re.compile(r"\b(?:no|nope|nah|skip|non|not this time|count me out|i'?m out|i am out)\b")
# Words that only answer as the line's first word: elsewhere they are prepositions or French.
_YES_FIRST = frozenset(("y", "in"))
_NO_FIRST = frozenset(("n", "out"))
# A yes next to a negation ("I don't want to join", "yes, but I can't") is not a yes.
_NEGATION = re.compile(r"\b(?:not|don'?t|can'?t|cannot|won'?t|isn'?t|wouldn'?t|never)\b")
# Leaving is the most destructive answer, so only a line that says nothing else leaves: "Stop.",
# "Please unsubscribe me", "remove me please". "Don't unsubscribe me, I'm in!", "Leave me in"
# or "Stop by my desk" hold a leave word too; the organiser reads those.
_LEAVE = re.compile(
    r"^(?:please\s+)?"
    r"(?:stop|leave|unsubscribe(?:\s+me)?|remove\s+me|d[ée]sinscri(?:re|s-moi|vez-moi)(?:\s+moi)?)"
    r"(?:\s+from\s+(?:this|the|your)\s+(?:list|mailing\s+list|emails?))?"
    r"(?:\s+please)?(?:\s+(?:thanks|thank\s+you|merci))?$"
)
_LEAVE_WORD = re.compile(r"\b(?:stop|leave|unsubscrib|remove|d[ée]sinscri|d[ée]sabonn)")
_PUNCTUATION = re.compile(r"[^\w'-]+")
_PAUSE = re.compile(
    r"^(?:please\s+)?pause\b[\s,:]*(?:(?:until|till|til|'til|through)\b\s*)?(?P<rest>.*)$"
)
_FIRST_WORD = re.compile(r"[\w']+")
_YEAR = re.compile(r"\b\d{4}\b")
_MAX_DATE_WORDS = 5


def read_answer(text: str, *, today: date) -> tuple[Intent, date | None]:
    """The intent of a member's own words, and the date for a pause."""
    line = _first_line(text)
    if line is None:
        return Intent.UNKNOWN, None
    if _LEAVE.match(_PUNCTUATION.sub(" ", line).strip()):
        return Intent.LEAVE, None
    if _LEAVE_WORD.search(line):
        return Intent.UNKNOWN, None
    pause = _PAUSE.match(line)
    if pause is not None:
        until = _pause_until(pause["rest"], today=today)
        return (Intent.PAUSE, until) if until is not None else (Intent.UNKNOWN, None)
    return _yes_or_no(line), None


def _first_line(text: str) -> str | None:
    """The first line with words, lower case, with any greeting before the answer removed."""
    for raw in text.splitlines():
        line = unicodedata.normalize("NFC", raw.strip().casefold().replace("\u2019", "'"))
        greeting = _GREETING.match(line)
        if greeting is not None:
            line = line[greeting.end() :]
        if any(ch.isalnum() for ch in line):
            return line
    return None


def _yes_or_no(line: str) -> Intent:
    line = _NEUTRAL.sub(" ", line)
    first = _FIRST_WORD.match(line)
    first_word = first.group(0) if first else ""
    yes = bool(_YES.search(line)) or first_word in _YES_FIRST
    no = bool(_NO.search(line)) or first_word in _NO_FIRST
    if yes and _NEGATION.search(line):
        return Intent.UNKNOWN
    if yes == no:
        return Intent.UNKNOWN
    return Intent.JOIN if yes else Intent.SKIP


def _pause_until(rest: str, *, today: date) -> date | None:
    """The date after "pause until": the longest run of first words that reads as a date.

    A date without a year that has passed (or is today) is next year's; a date with one must
    be after today, else it is a mistake to ask about, not a pause.
    """
    words = rest.strip().rstrip(".!,;").split()
    for count in range(min(len(words), _MAX_DATE_WORDS), 0, -1):
        written = " ".join(words[:count]).rstrip(".!,;")
        try:
            day = parse_date(written, today=today)
        except InputError:
            continue
        if day > today:
            return day
        if _YEAR.search(written):
            return None
        return _next_year(day)
    return None


def _next_year(day: date) -> date | None:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # February 29th, or past year 9999
        return None
