"""The signing secret of answer links: 32 random bytes in the data folder, mode 0600."""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path

from sessionctl.errors import RunError

FILENAME = "link-secret"


def load_secret(data_dir: Path) -> bytes:
    """The secret, created on first use. Never printed; rotate it by deleting the file."""
    path = data_dir / FILENAME
    if not path.exists():
        _create(path)
    secret = find_secret(data_dir)
    if secret is None:  # deleted again since it was made: a rotation under way
        raise RunError(f"the link secret {path} disappeared: try again")
    return secret


def find_secret(data_dir: Path) -> bytes | None:
    """The secret, or None when there is none: checking a link never creates one, since a
    token cannot verify without the secret that signed it."""
    path = data_dir / FILENAME
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) else "not ASCII text"
        raise RunError(f"cannot read the link secret {path}: {reason}") from err
    if len(text) < 32:
        raise RunError(f"the link secret {path} is damaged: delete it to make a new one")
    return text.encode("ascii")


def _create(path: Path) -> None:
    """Write a full file aside, then link it into place: a concurrent reader never sees half."""
    draft = path.with_name(f".{FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        with suppress(FileExistsError):  # another process made it first: use theirs
            os.link(draft, path)
    except OSError as err:
        raise RunError(f"cannot create the link secret in {path.parent}: {err.strerror}") from err
    finally:
        with suppress(OSError):
            draft.unlink(missing_ok=True)
