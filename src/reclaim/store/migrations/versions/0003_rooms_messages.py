"""rooms, titles over time, actors and names, messages, message media, request-output links, monitor state

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.String(length=255), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor")),
        sa.UniqueConstraint("platform", "platform_id", name=op.f("uq_actor_platform_platform_id")),
    )
    op.create_table(
        "actor_name",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=1024), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["actor.id"], name=op.f("fk_actor_name_actor_id_actor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor_name")),
        sa.UniqueConstraint("actor_id", "name", name=op.f("uq_actor_name_actor_id_name")),
    )
    op.create_index(op.f("ix_actor_name_actor_id"), "actor_name", ["actor_id"], unique=False)
    op.create_table(
        "media_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("source_media_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("source_message_id", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_media_link_media_id_media")),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_media_link_room_id_room")),
        sa.ForeignKeyConstraint(["source_media_id"], ["media.id"], name=op.f("fk_media_link_source_media_id_media")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_link")),
        sa.UniqueConstraint(
            "media_id", "source_media_id", "room_id", name=op.f("uq_media_link_media_id_source_media_id_room_id")
        ),
    )
    op.create_index(op.f("ix_media_link_media_id"), "media_link", ["media_id"], unique=False)
    op.create_index(op.f("ix_media_link_source_media_id"), "media_link", ["source_media_id"], unique=False)
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("reply_to", sa.BigInteger(), nullable=True),
        sa.Column("forwarded_from", sa.String(length=1024), nullable=True),
        sa.Column("forwarded_from_id", sa.String(length=255), nullable=True),
        sa.Column("saved_from", sa.String(length=1024), nullable=True),
        sa.Column("via_bot", sa.String(length=255), nullable=True),
        sa.Column("author", sa.String(length=1024), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("reactions", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actor.id"], name=op.f("fk_message_actor_id_actor")),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_message_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("room_id", "message_id", name=op.f("uq_message_room_id_message_id")),
    )
    op.create_index("ix_message_actor_room", "message", ["actor_id", "room_id"], unique=False)
    op.create_index(op.f("ix_message_posted_at"), "message", ["posted_at"], unique=False)
    op.create_table(
        "message_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=4096), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_message_media_media_id_media")),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_message_media_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_media")),
        sa.UniqueConstraint("room_id", "message_id", name=op.f("uq_message_media_room_id_message_id")),
    )
    op.create_index(op.f("ix_message_media_media_id"), "message_media", ["media_id"], unique=False)
    op.create_table(
        "monitor_checkpoint",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("last_message_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_monitor_checkpoint_room_id_room")),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_monitor_checkpoint")),
    )
    op.create_table(
        "room_info",
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("room_type", sa.String(length=32), nullable=False),
        sa.Column("bare_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_info_room_id_room")),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room_info")),
    )
    op.create_table(
        "room_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("participants_count", sa.Integer(), nullable=True),
        sa.Column("about", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_snapshot_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_snapshot")),
    )
    op.create_index(op.f("ix_room_snapshot_room_id"), "room_snapshot", ["room_id"], unique=False)
    op.create_table(
        "room_title",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_title_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_title")),
        sa.UniqueConstraint("room_id", "title", "since", name=op.f("uq_room_title_room_id_title_since")),
    )
    op.create_index(op.f("ix_room_title_room_id"), "room_title", ["room_id"], unique=False)


def downgrade() -> None:
    op.drop_table("room_title")
    op.drop_table("room_snapshot")
    op.drop_table("room_info")
    op.drop_table("monitor_checkpoint")
    op.drop_table("message_media")
    op.drop_table("message")
    op.drop_table("media_link")
    op.drop_table("actor_name")
    op.drop_table("actor")
