"""Who holds which messages: the claims of runs, on this host and on others, and their leases.

A claim is a message in status ``sending`` with ``claimed_by`` = ``HOST:PID:RANDOM`` and
``claimed_at`` = when that run took it (by its own clock: hosts must keep their clocks in step).
Each claim is in one of three standings:

- *stale*: its process died on this host, or its lease ran out (on any host). It goes back to
  ``pending`` at the start of the next run, which then sends it.
- *live*: normal overlap. A run on this host whose process is alive, or a claim another host
  took less than ``ACTIVE`` ago. A sending run claims a new small batch every few seconds, so
  a younger claim is almost surely being sent right now.
- *held*: another host's claim older than ``ACTIVE`` whose lease has not ended. This host cannot
  tell whether that run died, so it waits for the lease, and says so.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from sqlmodel import Session, select

from sessionctl.store.engine import Database
from sessionctl.store.models import Message

ACTIVE = timedelta(minutes=1)


class Standing(Enum):
    STALE = "stale"
    LIVE = "live"
    HELD = "held"


@dataclass(frozen=True)
class Hold:
    """The held claims of one other host: since its oldest claim, free when its newest ends."""

    host: str
    count: int
    since: datetime
    free_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "by": self.host,
            "count": self.count,
            "since": self.since.isoformat(),
            "free_at": self.free_at.isoformat(),
        }


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def claim_host(claimed_by: str | None) -> str | None:
    """The host named in a claim, for people (the process id means nothing elsewhere)."""
    return None if claimed_by is None else claimed_by.partition(":")[0]


def release_stale(db: Database, *, now: datetime, lease: timedelta) -> int:
    """Give back claims whose process died on this host, or whose lease ran out anywhere."""
    host = socket.gethostname()
    with db.session(write=True) as s:
        claimed = s.exec(select(Message).where(Message.status == "sending")).all()
        stale = [
            m
            for m in claimed
            if _classify(m.claimed_by, m.claimed_at, host=host, now=now, lease=lease)
            is Standing.STALE
        ]
        for m in stale:
            m.status, m.claimed_by, m.claimed_at = "pending", None, None
            s.add(m)
        return len(stale)


def held_elsewhere(s: Session, *, now: datetime, lease: timedelta) -> list[Hold]:
    """The claims this host must wait for, one ``Hold`` per host, oldest first."""
    host = socket.gethostname()
    rows = s.exec(
        select(Message.claimed_by, Message.claimed_at).where(Message.status == "sending")
    ).all()
    by_host: dict[str, list[datetime]] = {}
    for claimed_by, claimed_at in rows:
        if _classify(claimed_by, claimed_at, host=host, now=now, lease=lease) is Standing.HELD:
            assert claimed_by is not None and claimed_at is not None
            by_host.setdefault(claim_host(claimed_by) or "", []).append(_utc(claimed_at))
    holds = [_hold(name, times, lease=lease) for name, times in by_host.items()]
    return sorted(holds, key=lambda h: (h.since, h.host))


def _classify(
    claimed_by: str | None,
    claimed_at: datetime | None,
    *,
    host: str,
    now: datetime,
    lease: timedelta,
) -> Standing:
    """How a run on ``host`` at ``now`` must treat one claim (see the module's docstring)."""
    if claimed_at is None or claimed_by is None:
        return Standing.STALE
    claimed_at = _utc(claimed_at)
    if claimed_at <= now - lease:  # free at claimed_at + lease, as run-due announces
        return Standing.STALE
    claimer, _, rest = claimed_by.partition(":")
    if claimer == host:
        pid_text = rest.partition(":")[0]
        dead = pid_text.isdigit() and not _alive(int(pid_text))
        return Standing.STALE if dead else Standing.LIVE
    return Standing.LIVE if claimed_at > now - ACTIVE else Standing.HELD


def _hold(host: str, times: Iterable[datetime], *, lease: timedelta) -> Hold:
    ordered = sorted(times)
    return Hold(host, len(ordered), ordered[0], ordered[-1] + lease)


def _utc(instant: datetime) -> datetime:
    # A raw column read (no ORM type) comes back naive on SQLite; stored instants are UTC.
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a claim of this very process from before is left over from a crash
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
