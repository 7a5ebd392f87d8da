"""Signed answer tokens: bound to a round, a member and an answer, checked with HMAC-SHA256.

The token carries the round and member numbers; the signature also covers a ``binding`` the
caller derives from the stored round and member (their random seed and email), so a token from
another database, where the same numbers mean someone else, does not verify.

A token says nothing about time: the round itself decides whether answers are still taken
(open, before its match time), so a moved match time moves every link's validity with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Protocol

from sessionctl.errors import InputError

_VERSION = "1"
# The largest id a database can hold (SQLite's INTEGER, PostgreSQL's BIGINT): a larger number is
# no id of ours, and the SQLite driver raises OverflowError on it instead of finding nothing.
_MAX_ID = 2**63 - 1
_SHAPE = re.compile(r"[A-Za-z0-9_-]{4,64}\.[A-Za-z0-9_-]{43}")


class _HasSeed(Protocol):
    seed: int


class _HasEmailKey(Protocol):
    email_key: str


@dataclass(frozen=True)
class Claim:
    """What a token lets its holder do: answer a round (``answer``), or, with ``leave``, leave
    the round's program (the one-click unsubscribe link of every email)."""

    round_id: int
    member_id: int
    answer: bool
    leave: bool = False

    @property
    def letter(self) -> str:
        return "u" if self.leave else "y" if self.answer else "n"


def binding(r: _HasSeed, member: _HasEmailKey) -> str:
    """What ties a token to the stored round and member beyond their numbers."""
    return f"{r.seed}:{member.email_key}"


def sign(claim: Claim, *, secret: bytes, binding: str) -> str:
    """A URL-safe token for ``claim``."""
    payload = f"{_VERSION}.{claim.round_id}.{claim.member_id}.{claim.letter}"
    encoded = _b64(payload.encode())
    return f"{encoded}.{_b64(_mac(encoded, secret, binding))}"


def read(token: str) -> Claim:
    """The claim a token states, NOT yet verified: look up its binding, then ``verify``."""
    token = token.strip()
    if not _SHAPE.fullmatch(token):
        raise invalid()
    return _decode(token.partition(".")[0])


def verify(token: str, *, secret: bytes, binding: str) -> Claim:
    """The claim a genuine token carries; ``InputError`` for anything else."""
    claim = read(token)
    encoded, _, signature = token.strip().partition(".")
    if not hmac.compare_digest(_b64(_mac(encoded, secret, binding)), signature):
        raise invalid()
    return claim


def _decode(encoded: str) -> Claim:
    try:
        version, round_id, member_id, answer = (
            base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii").split(".")
        )
    except (ValueError, UnicodeDecodeError):
        raise invalid() from None
    if version != _VERSION or answer not in ("y", "n", "u") or not _ids(round_id, member_id):
        raise invalid()
    return Claim(int(round_id), int(member_id), answer == "y", leave=answer == "u")


def _ids(*texts: str) -> bool:
    return all(text.isdigit() and text.isascii() and 0 < int(text) <= _MAX_ID for text in texts)


def _mac(encoded: str, secret: bytes, binding: str) -> bytes:
    message = f"{encoded}|{binding}".encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


class TokenError(InputError):
    """A token that is not one of ours, or not for this database. Exit 2."""


def invalid() -> TokenError:
    return TokenError("invalid answer token: use the link from your latest opt-in email")
