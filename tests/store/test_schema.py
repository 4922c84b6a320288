"""Migrations create the schema from nothing, are idempotent, and leave it equal to the ORM's (both back-ends)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from reclaim.store.db import Store, head_revision, migrate
from reclaim.store.schema import metadata


def test_migrations_build_the_whole_schema_and_rerun_cleanly(db_url: str) -> None:
    store = Store(db_url)
    try:
        assert migrate(store.engine) == head_revision()
        assert migrate(store.engine) == head_revision()
        tables = set(inspect(store.engine).get_table_names())
        assert {
            "room",
            "media",
            "sighting",
            "signal",
            "bank",
            "bank_entry",
            "bank_signal",
            "match",
            "ingest_error",
        } <= tables
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        store.close()
