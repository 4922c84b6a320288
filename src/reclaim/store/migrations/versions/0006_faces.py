"""enrolled face embeddings, one per consented photo, linked to the case and its protected bank entry

Revision ID: 0006
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_embedding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("bank_entry_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_entry_id"], ["bank_entry.id"], name=op.f("fk_face_embedding_bank_entry_id_bank_entry")
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_face_embedding_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_embedding")),
        sa.UniqueConstraint(
            "case_id", "model", "photo_sha256", name=op.f("uq_face_embedding_case_id_model_photo_sha256")
        ),
    )
    with op.batch_alter_table("face_embedding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_face_embedding_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_face_embedding_bank_entry_id"), ["bank_entry_id"], unique=False)


def downgrade() -> None:
    op.drop_table("face_embedding")
