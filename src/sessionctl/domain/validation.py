"""Rules for names and addresses that users type."""

from __future__ import annotations

import re

from sessionctl.errors import InputError

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# C0 and C1 controls and DEL, the line and paragraph separators, and the bidi embeddings,
# overrides and isolates: each can break a header line or make a name display as another text.
UNSAFE_CHARACTERS = "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
_UNSAFE_TEXT = re.compile(UNSAFE_CHARACTERS)
TEXT_LIMIT = 200
# The From address of a program without --sender: mail from it often lands in spam or bounces.
DEFAULT_SENDER = "sessionctl@localhost"
GROUP_SIZES = range(2, 7)
GRACE_HOURS = range(1, 24 * 14 + 1)  # how late a round may still be matched: up to two weeks
LOOKBACK_LIMIT = 10_000
BOUNCE_LIMITS = range(1, 101)  # consecutive hard bounces before a member is deactivated
REMINDER_HOURS = range(0, 24 * 14 + 1)  # 0: no reminder; at most two weeks before the match
REMINDER_BELOW = range(1, 101)  # percent of the invited members who joined


def program_name(name: str) -> str:
    """A program name is a slug: lowercase letters, digits and inner dashes, at most 63 long."""
    if not _SLUG.fullmatch(name):
        raise InputError(
            f"invalid program name {name!r}: use lowercase letters, digits and dashes, "
            "e.g. coffee-paris"
        )
    return name


def email(address: str) -> str:
    """A plain address (no display name), returned stripped; compare with ``email_key``."""
    cleaned = address.strip()
    if len(cleaned) > 254 or not _EMAIL.fullmatch(cleaned):
        raise InputError(f"invalid email {address!r}: use a plain address such as ana@example.com")
    return cleaned


def email_key(address: str) -> str:
    return address.strip().lower()


def group_size(size: int) -> int:
    if size not in GROUP_SIZES:
        raise InputError(f"invalid group size {size}: use a number from 2 to 6")
    return size


def grace_hours(hours: int) -> int:
    if hours not in GRACE_HOURS:
        raise InputError(f"invalid grace window {hours}: use 1 to {GRACE_HOURS[-1]} hours")
    return hours


LANGUAGES = ("en", "fr")  # of the default templates and of dates in emails


def language(code: str) -> str:
    if code not in LANGUAGES:
        raise InputError(f"invalid language {code!r}: use {' or '.join(LANGUAGES)}")
    return code


def bounce_limit(count: int) -> int:
    if count not in BOUNCE_LIMITS:
        raise InputError(f"invalid bounce limit {count}: use 1 to {BOUNCE_LIMITS[-1]}")
    return count


def reminder_hours(hours: int) -> int:
    if hours not in REMINDER_HOURS:
        raise InputError(
            f"invalid reminder time {hours}: use 0 (no reminder) to {REMINDER_HOURS[-1]} hours"
        )
    return hours


def reminder_below(text: str) -> int | None:
    """The join share (percent) under which a round gets a reminder; ``median`` (or
    ``default``) means the program's median, stored as None."""
    value = text.strip().lower()
    if value in ("median", "default"):
        return None
    digits = value.removesuffix("%").strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) not in REMINDER_BELOW:
        raise InputError(
            f"invalid percentage {text!r}: give 1 to 100, or median for the program's usual share"
        )
    return int(digits)


def lookback(text: str) -> int | None:
    """How many past rounds matching counts: a number of rounds, or all of them (None)."""
    if text.strip().lower() == "all":
        return None
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or not 1 <= int(digits) <= LOOKBACK_LIMIT:
        raise InputError(f"invalid lookback {text!r}: give a number of rounds (1 or more) or all")
    return int(digits)


def single_line(value: str, *, what: str, limit: int = TEXT_LIMIT) -> str:
    """Free text that ends up in headers, emails and tables (titles, member names and teams).

    One line of at most ``limit`` characters, without controls, separators or bidi overrides.
    The length is checked first so that a refused value quoted in the error stays short.
    """
    if len(value) > limit:
        raise InputError(f"{what} is too long ({len(value)} characters, at most {limit})")
    if _UNSAFE_TEXT.search(value):
        raise InputError(
            f"invalid {what} {value!r}: it must be one line without control or "
            "bidi-override characters"
        )
    return value


def link_base(url: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+(?:/[^\s?#]*)?", url):
        raise InputError(
            f"invalid link base {url!r}: use an http(s) URL such as https://coffee.example.com"
        )
    return url.rstrip("/")
