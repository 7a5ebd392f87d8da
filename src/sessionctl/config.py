"""Where things live: --db, SESSIONCTL_DB, config.toml and the XDG folders, resolved once."""

from __future__ import annotations

import os
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sessionctl.errors import InputError

APP_NAME = "sessionctl"
DEFAULT_CLAIM_LEASE = timedelta(minutes=15)
# A lease shorter than a batch takes to send would hand live claims to other runs; one longer
# than a day would hold a dead host's messages past most of their retries.
_LEASE_RANGE = (timedelta(minutes=1), timedelta(hours=24))
_LEASE_TEXT = re.compile(r"(\d{1,5})\s*(m|min|h)?", re.IGNORECASE)


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know about its surroundings."""

    db_url: str
    db_path: Path | None  # the SQLite file, when the database is one
    data_dir: Path
    transport: str
    db_source: str = "the default"  # where the database setting came from, for error messages
    claim_lease: timedelta = DEFAULT_CLAIM_LEASE  # how long another host's claim is respected
    tz: str | None = None  # the zone of views across programs (config file); None: the machine's
    inbox: str | None = None  # where replies and bounces are read back; None: not read

    def describe_db(self) -> str:
        """The database for people: a path, or a URL without its password."""
        if self.db_path is not None:
            return str(self.db_path)
        return _hide_password(self.db_url)


def resolve(db_option: str | None = None) -> Settings:
    """Resolve settings: --db beats SESSIONCTL_DB beats config.toml beats the XDG default."""
    data_dir = _data_dir()
    config_file = _config_dir() / "config.toml"
    file_settings = _read_config_file(config_file)
    db, db_source = _first_set(
        (db_option, "--db"),
        (os.environ.get("SESSIONCTL_DB"), "SESSIONCTL_DB"),
        (file_settings.get("db"), f"the config file {config_file}"),
    )
    db_url, db_path = _db_location(db, data_dir=data_dir)
    transport = (
        os.environ.get("SESSIONCTL_TRANSPORT")
        or file_settings.get("transport")
        or f"maildir:{data_dir / 'outbox'}"
    )
    lease, lease_source = _first_set(
        (os.environ.get("SESSIONCTL_CLAIM_LEASE"), "SESSIONCTL_CLAIM_LEASE"),
        (file_settings.get("claim_lease"), f"the config file {config_file}"),
    )
    return Settings(
        db_url=db_url,
        db_path=db_path,
        data_dir=data_dir,
        transport=transport,
        db_source=db_source,
        claim_lease=DEFAULT_CLAIM_LEASE if lease is None else _parse_lease(lease, lease_source),
        tz=_config_zone(file_settings.get("tz"), config_file),
        inbox=os.environ.get("SESSIONCTL_INBOX") or file_settings.get("inbox") or None,
    )


def _config_zone(name: str | None, path: Path) -> str | None:
    """The ``tz`` of the config file, checked now: a typo must not go unnoticed until a view."""
    if name is not None and not _is_zone(name):
        raise InputError(
            f"invalid tz {name!r} in the config file {path}: use an IANA name such as Europe/Paris"
        )
    return name


def _parse_lease(text: str, source: str) -> timedelta:
    """Minutes (``15``), or with a unit (``15m``, ``1h``), from 1 minute to 24 hours."""
    matched = _LEASE_TEXT.fullmatch(text.strip())
    lease = None
    if matched:
        amount, unit = int(matched[1]), (matched[2] or "m").lower()
        lease = timedelta(hours=amount) if unit == "h" else timedelta(minutes=amount)
    low, high = _LEASE_RANGE
    if lease is None or not low <= lease <= high:
        raise InputError(
            f"invalid claim lease {text!r} from {source}: give minutes from 1 to 1440, "
            "e.g. 15, 15m or 1h"
        )
    return lease


def _first_set(*candidates: tuple[str | None, str]) -> tuple[str | None, str]:
    """The first (value, where it came from) that is set, else (None, "the default")."""
    return next(((value, where) for value, where in candidates if value), (None, "the default"))


def _data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def _config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)


def _read_config_file(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as f:
            import tomllib  # here: most runs have no config file, and every command reads this

            raw = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as err:  # TOMLDecodeError is a ValueError
        raise InputError(f"cannot read config file {path}: {err}") from err
    settings: dict[str, str] = {}
    for key in ("db", "transport", "tz", "inbox"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"config file {path}: '{key}' must be a string")
        if value:
            settings[key] = value
    lease = raw.get("claim_lease")  # minutes as a number, or a text such as "1h"
    if isinstance(lease, bool) or not isinstance(lease, int | str | None):
        raise InputError(f"config file {path}: 'claim_lease' must be minutes, e.g. 15 or \"1h\"")
    if lease is not None:
        settings["claim_lease"] = str(lease)
    return settings


def _db_location(db: str | None, *, data_dir: Path) -> tuple[str, Path | None]:
    if not db:
        path = data_dir / "sessionctl.db"
        return f"sqlite:///{path}", path
    if "://" not in db:
        path = _expand(db)
        return f"sqlite:///{path}", path
    if db.startswith("sqlite:///"):
        rest = db.removeprefix("sqlite:///").split("?", 1)[0]
        if not rest or rest == ":memory:":
            raise InputError("an in-memory database keeps nothing: give --db a file path")
        path = _expand(rest)
        return f"sqlite:///{path}", path
    if db.startswith("postgresql://"):  # the driver the postgres extra installs
        return "postgresql+psycopg://" + db.removeprefix("postgresql://"), None
    if db.startswith(("postgresql+psycopg://", "postgresql+psycopg2://")):
        return db, None
    raise InputError(
        f"unsupported database '{_hide_password(db)}': "
        "use a file path, sqlite:///PATH or postgresql+psycopg://USER@HOST/NAME"
    )


def _expand(text: str) -> Path:
    try:
        return Path(text).expanduser().absolute()
    except RuntimeError as err:  # ~someone who does not exist
        raise InputError(f"cannot find the home folder in {text!r}: {err}") from None


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}" if ":" in credentials else url


def local_zone_name() -> str:
    """The machine's IANA zone: TZ, then /etc/localtime's link, then /etc/timezone, else UTC."""
    candidates = [os.environ.get("TZ", "").removeprefix(":")]
    with suppress(OSError):
        target = os.readlink("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    with suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    return next((name for name in candidates if _is_zone(name)), "UTC")


def _is_zone(name: str) -> bool:
    from sessionctl.domain.times import find_zone

    return bool(name) and find_zone(name) is not None
