"""Run sessionctl in a subprocess on a pseudo-terminal of a chosen size, as at a real terminal.

The window size is set on the terminal itself (TIOCSWINSZ) and COLUMNS is removed from the
environment, so the width the program uses can only come from the terminal.
"""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

from tests.conftest import Result


def run(
    *args: str, columns: int, stdout_is_terminal: bool = True, env: dict[str, str] | None = None
) -> Result:
    """``sessionctl ARGS`` with standard input on a terminal ``columns`` wide, and standard
    output on it too unless ``stdout_is_terminal`` is false (then a pipe, as in ``| cat``).
    Standard error is always a pipe. What the terminal showed comes back with plain newlines."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment.update(TERM="xterm-256color", **(env or {}))
    with subprocess.Popen(
        [sys.executable, "-m", "sessionctl", *args],
        stdin=follower,
        stdout=follower if stdout_is_terminal else subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        close_fds=True,
    ) as process:
        os.close(follower)
        shown = _read_all(leader) if stdout_is_terminal else b""
        piped, errors = process.communicate(timeout=60)
    os.close(leader)
    stdout = shown.decode().replace("\r\n", "\n") if stdout_is_terminal else piped.decode()
    return Result(process.returncode, stdout, errors.decode())


def _read_all(fd: int) -> bytes:
    """Everything written to the terminal, until the last writer closes it."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the process ended and closed its side
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
