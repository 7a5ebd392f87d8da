"""A TCP relay in front of a real Dovecot, for what a test must see on the wire or cut off."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterable

from tests.imapserver import HOST


class Relay:
    """A TCP relay on 127.0.0.1 in front of a server's plain IMAP port, to watch and alter what
    passes: it keeps the command lines clients send (``commands``), removes the words ``hide``
    from the server's CAPABILITY lists (a server that lacks them), and closes both sides when a
    client that has logged in sends the command ``drop_on`` (a connection that dropped).

    Use it as a context manager; ``port`` is where clients connect.
    """

    def __init__(self, port: int, *, hide: Iterable[str] = (), drop_on: str | None = None):
        self._target = port
        self._hide = [word.encode() for word in hide]
        self._drop_on = drop_on.upper().encode() if drop_on else None
        self.commands: list[bytes] = []
        self._listener = socket.create_server((HOST, 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = [self._listener]

    def __enter__(self) -> Relay:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):  # the listener closed: the test is over
            while True:
                client, _ = self._listener.accept()
                server = socket.create_connection((HOST, self._target))
                self._sockets += [client, server]
                for target in (self._from_client, self._from_server):
                    threading.Thread(target=target, args=(client, server), daemon=True).start()

    def _from_client(self, client: socket.socket, server: socket.socket) -> None:
        logged_in = False
        with contextlib.suppress(OSError), client.makefile("rb") as lines:
            for line in lines:
                self.commands.append(line)
                words = line.upper().split()
                verb = words[1] if len(words) > 1 else b""
                if logged_in and verb == self._drop_on:
                    break
                logged_in = logged_in or verb in (b"LOGIN", b"AUTHENTICATE")
                server.sendall(line)
        _shut(client, server)

    def _from_server(self, client: socket.socket, server: socket.socket) -> None:
        with contextlib.suppress(OSError), server.makefile("rb") as lines:
            for line in lines:
                if b"CAPABILITY" in line.upper():
                    for word in self._hide:
                        line = re.sub(rb" " + re.escape(word) + rb"(?=[ \]\r])", b"", line)
                client.sendall(line)
        _shut(client, server)


def _shut(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
