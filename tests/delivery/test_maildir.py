"""The Maildir outbox on real files: private modes whatever the umask, nothing left behind by a
failed write (a file-size limit, a full tmpfs), each Message-ID written once, readable by mail
clients (Python's ``mailbox``)."""

from __future__ import annotations

import email
import json
import mailbox
import os
import shutil
import stat
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import time_machine

from sessionctl.delivery.compose import Envelope, Kind, Person, compose
from sessionctl.delivery.transports import SendResult, TransportSpec, open_transport
from tests.conftest import Invoke
from tests.rundue.conftest import add_program, messages, ok, schedule

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SUBS = ("tmp", "new", "cur")

# Sends COUNT messages (Message-ID <sessionctl.12.N.opt_in.a1b2c3d4e5f6@example.com>, a body of
# SIZE bytes) to the Maildir FOLDER from START (a time.time()) on, under a file-size limit of
# LIMIT bytes (0: none); prints each result as [ok, temporary, reply].
_SEND = """
import json, resource, signal, sys, time
from email.message import EmailMessage
from pathlib import Path
from sessionctl.delivery.transports import TransportSpec, open_transport

folder, count, size, start, limit = sys.argv[1:]
if int(limit):
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))

def message(n):
    msg = EmailMessage()
    msg["From"], msg["To"] = "coffee@example.com", f"m{n}@example.com"
    msg["Subject"] = f"message {n}"
    msg["Message-ID"] = f"<sessionctl.12.{n}.opt_in.a1b2c3d4e5f6@example.com>"
    msg.set_content("x" * int(size) + "\\nend of message\\n")
    return msg

while time.time() < float(start):
    time.sleep(0.001)
with open_transport(TransportSpec("maildir", path=Path(folder)), password=None) as transport:
    results = [transport.send(message(n), to=[f"m{n}@example.com"]) for n in range(int(count))]
print(json.dumps([[r.ok, r.temporary, r.reply] for r in results]))
"""


def _spawn_sender(
    folder: Path, *, count: int, size: int = 100, start: float = 0.0, limit: int = 0
) -> subprocess.Popen[str]:
    args = [str(folder), str(count), str(size), str(start), str(limit)]
    return subprocess.Popen(
        [sys.executable, "-c", _SEND, *args], cwd=REPO, stdout=subprocess.PIPE, text=True
    )


def _results(proc: subprocess.Popen[str]) -> list[SendResult]:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    return [SendResult(ok, temporary, None, reply) for ok, temporary, reply in json.loads(out)]


def _message(number: int = 1) -> EmailMessage:
    return compose(
        Envelope(
            kind=Kind.NO_MATCH,
            sender=Person("coffee@example.com", "Coffee Paris"),
            recipient=Person(f"m{number}@example.com", f"Member {number}"),
            message_id=f"<sessionctl.12.{number}.no_match.a1b2c3d4e5f6@example.com>",
            date=datetime(2026, 6, 10, 7, 0, tzinfo=UTC),
            program_title="Coffee Paris",
            round_number=12,
            opt_in_at=None,
            match_at="2026-06-10 09:00 CEST",
        )
    )


def _send(folder: Path, *msgs: EmailMessage) -> list[SendResult]:
    with open_transport(TransportSpec("maildir", path=folder), password=None) as transport:
        return [transport.send(msg, to=[str(msg["To"])]) for msg in msgs]


def _files(folder: Path, sub: str = "new") -> list[Path]:
    return sorted((folder / sub).iterdir())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ids(folder: Path) -> Counter[str]:
    """How many files of new/ and cur/ hold each Message-ID."""
    paths = [*_files(folder, "new"), *_files(folder, "cur")]
    return Counter(str(_parse(path.read_bytes())["Message-ID"]) for path in paths)


def _parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# --- modes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0, 0o022])
def test_run_due_writes_private_files_in_private_folders_whatever_the_umask(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", f"maildir:{tmp_path}/mail/coffee/outbox")
    add_program(cli, "coffee", members=3)
    schedule(cli, "coffee", "--opt-in", "now", "--match", "2030-01-07 09:00")
    before = os.umask(umask)
    try:
        ok(cli("run-due"))
    finally:
        os.umask(before)

    box = tmp_path / "mail" / "coffee" / "outbox"
    assert len(_files(box)) == 3
    assert {_mode(path) for path in _files(box)} == {0o600}
    for folder in (box.parent.parent, box.parent, box, *(box / sub for sub in SUBS)):
        assert _mode(folder) == 0o700, folder


def test_a_umask_that_takes_the_owners_bits_still_gives_0600_and_0700(tmp_path: Path) -> None:
    before = os.umask(0o277)
    try:
        [result] = _send(tmp_path / "a" / "outbox", _message())
    finally:
        os.umask(before)

    assert result.ok
    assert [_mode(path) for path in _files(tmp_path / "a" / "outbox")] == [0o600]
    for folder in ("a", "a/outbox", "a/outbox/tmp", "a/outbox/new", "a/outbox/cur"):
        assert _mode(tmp_path / folder) == 0o700, folder


def test_an_open_existing_maildir_still_gets_0600_files(tmp_path: Path) -> None:
    for sub in ("", "tmp", "new", "cur"):
        (tmp_path / sub).mkdir(exist_ok=True)
        os.chmod(tmp_path / sub, 0o2777)  # world-writable, setgid: as a careless admin left it
    before = os.umask(0)
    try:
        results = _send(tmp_path, _message(1), _message(2))
    finally:
        os.umask(before)

    assert all(r.ok for r in results)
    assert [_mode(path) for path in _files(tmp_path)] == [0o600, 0o600]


# --- a failed write leaves nothing --------------------------------------------------------------


def test_a_write_over_the_file_size_limit_leaves_nothing_and_is_retried(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"

    [limited] = _results(_spawn_sender(folder, count=1, size=20_000, limit=8192))

    assert (limited.ok, limited.temporary) == (False, True)
    assert limited.reply == f"cannot write to {folder}: File too large"
    assert _files(folder, "tmp") == [] and _files(folder, "new") == []

    [retried] = _results(_spawn_sender(folder, count=1, size=20_000))  # no limit: it fits
    assert retried.ok and retried.reply.startswith("written to")
    [written] = _files(folder)
    assert written.read_bytes().endswith(b"\nend of message\n")
    assert _files(folder, "tmp") == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of 48 KiB (twelve pages): room for a few messages only."""
    mount = tmp_path / "small"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        pytest.skip(f"mounting a small tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_leaves_nothing_partial_and_the_rest_goes_out_once_there_is_room(
    cli: Invoke, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = small_disk / "outbox"
    monkeypatch.setenv("SESSIONCTL_TRANSPORT", f"maildir:{box}")
    with time_machine.travel(T0, tick=False):
        add_program(cli, "coffee", members=30)
        schedule(cli, "coffee", "--opt-in", "now", "--match", "2030-01-07 09:00")
        full = cli("run-due")

    sent = [m for m in messages(cli) if m["status"] == "sent"]
    waiting = [m for m in messages(cli) if m["status"] == "pending"]
    assert full.code == 1
    assert 0 < len(sent) < 30 and len(sent) + len(waiting) == 30
    assert {m["last_error"] for m in waiting} == {f"cannot write to {box}: No space left on device"}
    assert f"messages: {len(sent)} sent, {30 - len(sent)} waiting for a retry" in full.stdout
    assert _files(box, "tmp") == []
    assert _ids(box) == dict.fromkeys((m["message_id"] for m in sent), 1)
    for path in _files(box):  # whole messages only
        assert path.read_bytes().rstrip().endswith(b"--")  # the closing MIME boundary

    subprocess.run(["mount", "-o", "remount,size=1m", str(small_disk)], check=True)
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        ok(cli("run-due"))
    stored = messages(cli)
    assert Counter(m["status"] for m in stored) == {"sent": 30}
    assert _ids(box) == dict.fromkeys((m["message_id"] for m in stored), 1)
    assert _files(box, "tmp") == []


# --- exactly once -------------------------------------------------------------------------------


def test_a_message_already_in_new_or_cur_is_not_written_again(tmp_path: Path) -> None:
    [first] = _send(tmp_path, _message(1))
    [again] = _send(tmp_path, _message(1))  # as a run killed before it recorded the send
    assert first.reply.startswith("written to") and again.ok
    [written] = _files(tmp_path)
    assert again.reply == f"already in {tmp_path} as {written.name}"

    written.rename(tmp_path / "cur" / f"{written.name}:2,S")  # a mail client has read it
    box = mailbox.Maildir(tmp_path, create=False)
    [key] = box.keys()
    flagged = box[key]
    flagged.add_flag("F")
    box[key] = flagged  # mailbox rewrites it as cur/NAME:2,FS

    results = _send(tmp_path, _message(1), _message(1), _message(2))
    assert [r.ok for r in results] == [True, True, True]
    assert [path.name for path in _files(tmp_path, "cur")] == [f"{written.name}:2,FS"]
    assert _ids(tmp_path) == {
        "<sessionctl.12.1.no_match.a1b2c3d4e5f6@example.com>": 1,
        "<sessionctl.12.2.no_match.a1b2c3d4e5f6@example.com>": 1,
    }


def test_a_message_a_reader_moves_to_cur_during_a_run_is_not_written_again(tmp_path: Path) -> None:
    _send(tmp_path, _message(1))
    [written] = _files(tmp_path)
    long_ago = time.time() - 3600
    os.utime(tmp_path / "cur", (long_ago, long_ago))  # a quiet cur/: one listing serves the run

    with open_transport(TransportSpec("maildir", path=tmp_path), password=None) as transport:
        assert transport.send(_message(2), to=["m2@example.com"]).ok
        written.rename(tmp_path / "cur" / f"{written.name}:2,S")  # a mail client reads it now
        again = transport.send(_message(1), to=["m1@example.com"])

    assert again.reply == f"already in {tmp_path} as {written.name}"
    assert _ids(tmp_path) == {
        "<sessionctl.12.1.no_match.a1b2c3d4e5f6@example.com>": 1,
        "<sessionctl.12.2.no_match.a1b2c3d4e5f6@example.com>": 1,
    }


def test_mail_clients_read_every_message(tmp_path: Path) -> None:
    sent = [_message(n) for n in range(1, 6)]
    _send(tmp_path, *sent)

    box = mailbox.Maildir(tmp_path, create=False)
    read = {str(msg["Message-ID"]): msg for msg in box}
    assert sorted(read) == sorted(str(msg["Message-ID"]) for msg in sent)
    for msg in sent:
        copy = read[str(msg["Message-ID"])]
        assert copy["To"] == str(msg["To"])
        assert (
            copy.get_payload(0).get_payload(decode=True)
            == msg.get_body(("plain",)).get_content().encode()
        )
    for path in _files(tmp_path):
        assert "/" not in path.name and ":" not in path.name and not path.name.startswith(".")


def test_four_processes_writing_the_same_messages_at_once_leave_each_once(tmp_path: Path) -> None:
    count, start = 40, time.time() + 1.5  # all four are running by then
    procs = [_spawn_sender(tmp_path, count=count, start=start) for _ in range(4)]
    results = [_results(proc) for proc in procs]

    assert all(r.ok for run in results for r in run)
    replies = Counter(r.reply.split(" ")[0] for run in results for r in run)
    assert replies["written"] == count  # each message written by exactly one process
    assert sum(replies.values()) == 4 * count
    assert _ids(tmp_path) == {
        f"<sessionctl.12.{n}.opt_in.a1b2c3d4e5f6@example.com>": 1 for n in range(count)
    }
    assert _files(tmp_path, "tmp") == []
    print(f"replies: {dict(replies)}")  # "placed": lost the race at the link itself (-rP)


# --- half-written files of killed runs ----------------------------------------------------------


def test_the_next_run_removes_half_written_files_of_dead_runs_on_this_host(tmp_path: Path) -> None:
    _send(tmp_path, _message(1))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = os.uname().nodename.replace("/", r"\057").replace(":", r"\072")
    abandoned = f"1780000000000000000.P{dead.pid}R00112233aabbccdd.{host}"
    kept = [
        f"1780000000000000000.P{os.getppid()}R00112233aabbccdd.{host}",  # a live process
        f"1780000000000000000.P{dead.pid}R00112233aabbccdd.other-host",  # maybe alive there
        "1780000000.M1P2Q3.mutt-host",  # another program's
    ]
    for name in (abandoned, *kept):
        (tmp_path / "tmp" / name).write_bytes(b"From: half")

    assert [r.ok for r in _send(tmp_path, _message(2))] == [True]
    assert sorted(path.name for path in _files(tmp_path, "tmp")) == sorted(kept)
