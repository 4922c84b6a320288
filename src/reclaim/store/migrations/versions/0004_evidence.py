"""evidence log (entries, head counter, signed checkpoints), evidence holds and held originals

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "evidence_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_head")),
    )
    op.bulk_insert(head, [{"id": 1, "size": 0}])
    op.create_table(
        "evidence_entry",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("room_key", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("leaf_index", name=op.f("pk_evidence_entry")),
    )
    with op.batch_alter_table("evidence_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_entry_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_entry_media_id"), ["media_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_entry_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_entry_room_key"), ["room_key"], unique=False)
    op.create_table(
        "evidence_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_checkpoint")),
    )
    with op.batch_alter_table("evidence_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_checkpoint_tree_size"), ["tree_size"], unique=False)
    op.create_table(
        "evidence_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=True),
        sa.Column("platform_id", sa.String(length=255), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_evidence_hold_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_hold")),
    )
    with op.batch_alter_table("evidence_hold", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_hold_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_hold_case_id"), ["case_id"], unique=False)
    op.create_table(
        "held_blob",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_held_blob_media_id_media")),
        sa.ForeignKeyConstraint(["hold_id"], ["evidence_hold.id"], name=op.f("fk_held_blob_hold_id_evidence_hold")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_blob")),
        sa.UniqueConstraint("sha256", name=op.f("uq_held_blob_sha256")),
    )
    with op.batch_alter_table("held_blob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_blob_media_id"), ["media_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_blob_hold_id"), ["hold_id"], unique=False)

    _append_only_guards()


# The database refuses edits of the log, so a slip in SQL or code fails loudly. This is a guard, not the proof: an
# administrator can drop triggers; what makes tampering evident is the Merkle root in checkpoints handed out.
_GUARDED = ("evidence_entry", "evidence_checkpoint")


def _append_only_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION reclaim_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: evidence is never edited or deleted', TG_TABLE_NAME; END $$"
        )
        op.execute(
            "CREATE FUNCTION reclaim_head_grows() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.size < OLD.size OR NEW.id <> OLD.id THEN "
            "RAISE EXCEPTION 'evidence_head only grows: evidence is never removed'; END IF; RETURN NEW; END $$"
        )
        for table in _GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION reclaim_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION reclaim_append_only()"
            )
        op.execute(
            "CREATE TRIGGER evidence_head_grows BEFORE UPDATE ON evidence_head "
            "FOR EACH ROW EXECUTE FUNCTION reclaim_head_grows()"
        )
        op.execute(
            "CREATE TRIGGER evidence_head_kept BEFORE DELETE ON evidence_head "
            "FOR EACH ROW EXECUTE FUNCTION reclaim_append_only()"
        )
        return
    for table in _GUARDED:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} BEGIN "
                f"SELECT RAISE(ABORT, '{table} is append-only: evidence is never edited or deleted'); END"
            )
    op.execute(
        "CREATE TRIGGER evidence_head_grows BEFORE UPDATE ON evidence_head "
        "WHEN NEW.size < OLD.size OR NEW.id <> OLD.id BEGIN "
        "SELECT RAISE(ABORT, 'evidence_head only grows: evidence is never removed'); END"
    )
    op.execute(
        "CREATE TRIGGER evidence_head_kept BEFORE DELETE ON evidence_head BEGIN "
        "SELECT RAISE(ABORT, 'evidence_head only grows: evidence is never removed'); END"
    )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS evidence_head_grows ON evidence_head")
        op.execute("DROP TRIGGER IF EXISTS evidence_head_kept ON evidence_head")
        op.execute("DROP FUNCTION IF EXISTS reclaim_append_only()")
        op.execute("DROP FUNCTION IF EXISTS reclaim_head_grows()")
        return
    for table in _GUARDED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    op.execute("DROP TRIGGER IF EXISTS evidence_head_grows")
    op.execute("DROP TRIGGER IF EXISTS evidence_head_kept")


def downgrade() -> None:
    _drop_guards()
    op.drop_table("held_blob")
    op.drop_table("evidence_hold")
    op.drop_table("evidence_checkpoint")
    op.drop_table("evidence_entry")
    op.drop_table("evidence_head")
