"""The store: one schema on SQLite (embedded default) or PostgreSQL (teams), migrated with Alembic."""
