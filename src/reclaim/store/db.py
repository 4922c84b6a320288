"""Engine creation and migrations. SQLite gets WAL and foreign keys; both back-ends run the same Alembic chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from reclaim.errors import WorkspaceError


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite is tuned for one writer and many readers."""
    try:
        engine = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except Exception as exc:  # SQLAlchemy raises several types for a malformed URL or missing driver
        raise WorkspaceError(
            f"cannot use database URL '{_redact(url)}': {exc}. Use sqlite:///PATH or postgresql+psycopg://..."
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")  # first: switching to WAL must wait for another process, not fail
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _redact(url: str) -> str:
    """Hide a password in a URL before it is printed."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("reclaim.store") / "migrations"))
    return cfg


def head_revision() -> str:
    """The newest revision; areas may branch off in parallel, so several heads are joined with '+'."""
    return "+".join(sorted(ScriptDirectory.from_config(_alembic_config()).get_heads()))


# Any fixed number: every Reclaim process migrating one PostgreSQL database takes this advisory lock.
_PG_MIGRATION_LOCK = 0x5265636C61696D


def _current(conn: Connection) -> str:
    return "+".join(sorted(MigrationContext.configure(conn).get_current_heads()))


def _lock_for_migration(conn: Connection) -> None:
    """Serialise migrations between processes that open one fresh database at once (API, monitor, CLI).

    SQLite: BEGIN IMMEDIATE takes the write lock now (others wait on busy_timeout) and keeps the DDL
    in one transaction. PostgreSQL: a transaction-scoped advisory lock.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})


def migrate(engine: Engine) -> str:
    """Bring the schema to the newest revision (idempotent, safe when several processes start at once)."""
    cfg = _alembic_config()
    head = head_revision()
    try:
        with engine.connect() as conn:
            if _current(conn) == head:  # the usual case: no lock taken, readers never block writers
                return head
        with engine.begin() as conn:
            _lock_for_migration(conn)
            if _current(conn) != head:  # another process may have migrated while this one waited
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "heads")
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise WorkspaceError(
                f"the database '{_redact(str(engine.url))}' is busy: another Reclaim process is updating its "
                "schema. Try again when it has finished."
            ) from exc
        raise WorkspaceError(
            f"cannot reach or migrate the database '{_redact(str(engine.url))}': {exc.orig}. "
            "Check that the server is running and the URL is right."
        ) from exc
    return head


class Store:
    """An engine plus a session factory; services open one transaction per unit of work."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        with self._sessions.begin() as session:
            yield session

    def session(self) -> Session:
        return self._sessions()

    def close(self) -> None:
        self.engine.dispose()
