"""Alembic environment: runs on the connection Reclaim passes in (never on a URL from an ini file)."""

from alembic import context

from reclaim.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
