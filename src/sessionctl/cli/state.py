"""What every command shares: the --db choice, the database opened once, reusable options."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sessionctl.config import Settings
    from sessionctl.store.engine import Database

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")
]
TzOption = Annotated[
    str | None,
    typer.Option("--tz", metavar="ZONE", help="Show times in this IANA zone, e.g. Europe/Paris."),
]


@dataclass
class AppState:
    db_option: str | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _db: Database | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        if self._settings is None:
            from sessionctl import config

            self._settings = config.resolve(self.db_option)
        return self._settings

    def database(self, *, migrate: bool = True, create: bool = False) -> Database:
        """The database, opened once; ``create`` only for the commands that may make it."""
        if self._db is None:
            from sessionctl.store.engine import open_database

            self._db = open_database(self.settings(), migrate=migrate, create=create)
            if self._db.upgrade_notes:  # what the upgrade cleaned in stored rows
                from sessionctl.render import console

                for note in self._db.upgrade_notes:
                    console.note(note)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj
