"""Alembic environment: runs on the connection Reclaim passes in (never on a URL from an ini file)."""

from alembic import context

from reclaim.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
