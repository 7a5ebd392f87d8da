"""What the settings that name a server (the transport, the inbox) share: a URL shown without
its password, and whether a host is this machine."""

from __future__ import annotations

import ipaddress


def redact(text: str) -> str:
    """``text`` with any password in a URL's user part replaced by ``***``."""
    head, sep, tail = text.partition("://")
    userinfo, at, rest = tail.rpartition("@")  # the last "@": a password may hold "/" or "@"
    if sep and at and ":" in userinfo:
        return f"{head}://{userinfo.partition(':')[0]}:***@{rest}"
    return text


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: a password sent there stays here."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
