"""The workspace: a home folder holding the settings file and, by default, the SQLite database."""

from __future__ import annotations

from dataclasses import dataclass

from reclaim.errors import WorkspaceError
from reclaim.settings import Settings
from reclaim.store.db import Store, head_revision, migrate


@dataclass(frozen=True, slots=True)
class InitResult:
    home: str
    database: str
    revision: str


def open_store(settings: Settings) -> Store:
    """Create the home folder if needed and bring the database schema up to date (idempotent)."""
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkspaceError(
            f"cannot create the workspace folder '{settings.home}' ({exc.strerror}); "
            "choose another with --home or RECLAIM_HOME"
        ) from exc
    store = Store(settings.database_url)
    migrate(store.engine)
    return store


def init_workspace(settings: Settings) -> InitResult:
    store = open_store(settings)
    try:
        url = store.engine.url.render_as_string(hide_password=True)
        return InitResult(str(settings.home.resolve()), url, head_revision())
    finally:
        store.close()
