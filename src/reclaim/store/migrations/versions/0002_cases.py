"""cases with consent; banks may belong to a case; matches carry method-specific details

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("minor", sa.Boolean(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consent_scope", sa.JSON(), nullable=False),
        sa.Column("consent_recorded_by", sa.String(length=255), nullable=False),
        sa.Column("consent_recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
        sa.UniqueConstraint("ref", name=op.f("uq_case_ref")),
    )
    with op.batch_alter_table("bank", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_bank_case_id"), ["case_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_bank_case_id_case"), "case", ["case_id"], ["id"])
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.drop_column("details")
    with op.batch_alter_table("bank", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_bank_case_id_case"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_bank_case_id"))
        batch_op.drop_column("case_id")
    op.drop_table("case")
