"""merge the areas built in parallel (rooms, evidence, faces, review service) into one head

Revision ID: 0009
Revises: 0003, 0004, 0006, 0008
"""

revision = "0009"
down_revision = ("0003", "0004", "0006", "0008")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
