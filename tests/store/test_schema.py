"""Migrations create the schema from nothing, are idempotent, and leave it equal to the ORM's (both back-ends)."""

from __future__ import annotations

import subprocess
import sys
import time

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


def test_processes_opening_one_fresh_database_at_once_all_succeed(db_url: str) -> None:
    """The API, a monitor and a CLI command may first start together; none may fail on 'table already exists'."""
    # Each process imports first and then waits for one common start time, so that the migrations overlap.
    code = (
        "import sys, time; from reclaim.store.db import Store, migrate; s = Store(sys.argv[1]); "
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); print(migrate(s.engine))"
    )
    start = str(time.time() + 5)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, db_url, start], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    assert {out.strip() for out, _ in results} == {head_revision()}
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        store.close()
