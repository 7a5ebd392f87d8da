"""What one message says, gathered from the database: the Envelope that ``compose`` renders.

One ``Envelopes`` serves a whole run and keeps what many messages share: a round's groups and
starters, a program's next round, the link secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import col, func, select

from sessionctl.delivery.compose import ANSWERING, Envelope, Kind, Person
from sessionctl.domain.dates import spoken
from sessionctl.domain.rounds import Status
from sessionctl.domain.times import load_zone
from sessionctl.domain.tokens import Claim, binding, sign
from sessionctl.domain.validation import DEFAULT_SENDER
from sessionctl.errors import DeliveryError, RunError
from sessionctl.store.engine import Database
from sessionctl.store.models import GroupMember, Member, Message, Program, Round


@dataclass(frozen=True)
class _Place:
    """A member's place in a round's groups: the others, and the group's starter."""

    others: list[Person]
    icebreaker: str


@dataclass
class Envelopes:
    db: Database
    clock: Callable[[], datetime]
    link_secret: Callable[[], bytes] | None = None
    _places: dict[int, dict[int, _Place]] = field(default_factory=dict)  # round -> member
    _next: dict[int, str | None] = field(default_factory=dict)  # round -> the next one's time
    _secret: bytes | None = None
    # Replies go to the inbox when the program names no reply address and the inbox's login
    # is an address.
    inbox_address: str | None = None

    def __post_init__(self) -> None:
        self.inbox_address = _address_of(self.db.settings.inbox)

    def make(self, m: Message, member: Member, r: Round, p: Program) -> Envelope:
        assert r.id is not None and member.id is not None
        zone, language = load_zone(r.timezone), p.language
        kind = Kind(m.kind)
        place = self._place(r.id, member.id) if kind is Kind.MATCH else _Place([], "")
        answering = _answering(kind, r)
        links = self._links(member, r, p, answering=answering)
        return Envelope(
            kind=kind,
            sender=Person(p.sender or DEFAULT_SENDER, p.title),
            recipient=Person(member.email, member.name, member.team or ""),
            message_id=m.message_id,
            date=self.clock(),
            program_title=p.title,
            round_number=r.number,
            opt_in_at=None if r.opt_in_at is None else spoken(r.opt_in_at, zone, language=language),
            match_at=spoken(r.match_at, zone, language=language),
            group=place.others,
            join_url=links.get("join"),
            skip_url=links.get("skip"),
            reply_to=p.reply_to or self.inbox_address,
            replies=self.db.settings.inbox is not None,
            leave_url=links.get("leave"),
            manage_url=links.get("manage"),
            language=p.language,
            icebreaker=place.icebreaker,
            next_round=self._next_round(r, p),
            cancelled=kind is Kind.NOTICE and r.status == Status.CANCELLED,
            # Only a reminder or notice of a closed round says nothing of answering: what other
            # kinds say stays as it was.
            answers_open=answering or kind not in ANSWERING,
        )

    def _links(self, member: Member, r: Round, p: Program, *, answering: bool) -> dict[str, str]:
        """The member's personal links, with a link base: join and skip (``answering``: an
        opt-in, or a reminder or notice of a round that takes answers), the one-click leave,
        and their page to pause or leave."""
        if not p.link_base or self.link_secret is None:
            return {}
        assert r.id is not None and member.id is not None
        bound = binding(r, member)
        leave = self._sign(Claim(r.id, member.id, False, leave=True), bound)
        links = {"leave": f"{p.link_base}/leave/{leave}", "manage": f"{p.link_base}/me/{leave}"}
        if answering:
            links["join"] = (
                f"{p.link_base}/answer/{self._sign(Claim(r.id, member.id, True), bound)}"
            )
            links["skip"] = (
                f"{p.link_base}/answer/{self._sign(Claim(r.id, member.id, False), bound)}"
            )
        return links

    def _sign(self, claim: Claim, bound: str) -> str:
        if self._secret is None:
            assert self.link_secret is not None
            try:
                self._secret = self.link_secret()
            except RunError as err:
                raise DeliveryError(str(err)) from err
        return sign(claim, secret=self._secret, binding=bound)

    def _place(self, round_id: int, member_id: int) -> _Place:
        """The member's group; a round's groups are loaded once per run."""
        if round_id not in self._places:
            self._places[round_id] = _load_places(self.db, round_id)
        return self._places[round_id].get(member_id, _Place([], ""))

    def _next_round(self, r: Round, p: Program) -> str | None:
        """When the program's next round (after ``r``) opens: its opt-in, else its match."""
        assert r.id is not None
        if r.id not in self._next:
            with self.db.session() as s:
                first = s.exec(
                    select(Round.opt_in_at, Round.match_at, Round.timezone)
                    .where(Round.program_id == p.id, Round.number > r.number)
                    .where(col(Round.status).in_([Status.PLANNED, Status.OPEN]))
                    .order_by(func.coalesce(Round.opt_in_at, Round.match_at))
                    .limit(1)
                ).first()
            self._next[r.id] = (
                None
                if first is None
                else spoken(first[0] or first[1], load_zone(first[2]), language=p.language)
            )
        return self._next[r.id]


def _answering(kind: Kind, r: Round) -> bool:
    """The message may ask for an answer: an opt-in always (as a preview shows it), a reminder
    or notice while the round is planned or open (a notice of a cancellation asks nothing)."""
    if kind is Kind.OPT_IN:
        return True
    return kind in ANSWERING and r.status in (Status.PLANNED, Status.OPEN)


def _load_places(db: Database, round_id: int) -> dict[int, _Place]:
    with db.session() as s:
        rows = s.execute(
            sa_select(
                col(GroupMember.group_no),
                col(GroupMember.icebreaker),
                col(Member.id),
                col(Member.email),
                col(Member.name),
                col(Member.team),
            )
            .join(Member, col(GroupMember.member_id) == Member.id)
            .where(col(GroupMember.round_id) == round_id)
            .order_by(col(GroupMember.group_no), col(Member.email_key))
        ).all()
    groups: dict[int, list[tuple[int, Person]]] = {}
    starters: dict[int, str] = {}
    by_member: dict[int, int] = {}
    for group_no, icebreaker, mid, email, name, team in rows:
        groups.setdefault(group_no, []).append((mid or 0, Person(email, name, team or "")))
        starters[group_no] = icebreaker or starters.get(group_no, "")
        by_member[mid or 0] = group_no
    return {
        mid: _Place([p for other, p in groups[g] if other != mid], starters[g])
        for mid, g in by_member.items()
    }


def _address_of(inbox: str | None) -> str | None:
    if inbox is None:
        return None
    from sessionctl.inbox.spec import parse_inbox

    return parse_inbox(inbox).address
