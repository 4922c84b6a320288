"""review service: users, case assignments, sessions, decisions, views, takedown requests, webhooks

Revision ID: 0008
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("name", name=op.f("uq_app_user_name")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_app_user_token_sha256")),
    )
    op.create_table(
        "webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("last_match_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    op.create_table(
        "case_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_assignment_case_id_case")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_case_assignment_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_assignment")),
        sa.UniqueConstraint("user_id", "case_id", name=op.f("uq_case_assignment_user_id_case_id")),
    )
    op.create_index(op.f("ix_case_assignment_case_id"), "case_assignment", ["case_id"], unique=False)
    op.create_index(op.f("ix_case_assignment_user_id"), "case_assignment", ["user_id"], unique=False)
    op.create_table(
        "takedown_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_takedown_request_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedown_request")),
    )
    op.create_index(op.f("ix_takedown_request_case_id"), "takedown_request", ["case_id"], unique=False)
    op.create_index(op.f("ix_takedown_request_status"), "takedown_request", ["status"], unique=False)
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_web_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("session_sha256", name=op.f("uq_web_session_session_sha256")),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"], unique=False)
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhook.id"], name=op.f("fk_webhook_delivery_webhook_id_webhook")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(op.f("ix_webhook_delivery_delivered_at"), "webhook_delivery", ["delivered_at"], unique=False)
    op.create_index(op.f("ix_webhook_delivery_webhook_id"), "webhook_delivery", ["webhook_id"], unique=False)
    op.create_table(
        "reupload_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("sighting_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_reupload_alert_media_id_media")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["takedown_request.id"], name=op.f("fk_reupload_alert_request_id_takedown_request")
        ),
        sa.ForeignKeyConstraint(["sighting_id"], ["sighting.id"], name=op.f("fk_reupload_alert_sighting_id_sighting")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reupload_alert")),
        sa.UniqueConstraint("request_id", "sighting_id", name=op.f("uq_reupload_alert_request_id_sighting_id")),
    )
    op.create_index(op.f("ix_reupload_alert_request_id"), "reupload_alert", ["request_id"], unique=False)
    op.create_table(
        "takedown_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=255), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["takedown_request.id"], name=op.f("fk_takedown_status_request_id_takedown_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedown_status")),
    )
    op.create_index(op.f("ix_takedown_status_request_id"), "takedown_status", ["request_id"], unique=False)
    op.create_table(
        "media_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("log_index", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_media_view_match_id_match")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_media_view_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_view")),
    )
    op.create_index(op.f("ix_media_view_match_id"), "media_view", ["match_id"], unique=False)
    op.create_index("ix_media_view_user_at", "media_view", ["user_id", "created_at"], unique=False)
    op.create_table(
        "review_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_review_decision_match_id_match")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_review_decision_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decision")),
    )
    op.create_index(op.f("ix_review_decision_created_at"), "review_decision", ["created_at"], unique=False)
    op.create_index(op.f("ix_review_decision_match_id"), "review_decision", ["match_id"], unique=False)
    op.create_index(op.f("ix_review_decision_user_id"), "review_decision", ["user_id"], unique=False)
    op.create_table(
        "takedown_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["match_id"], ["match.id"], name=op.f("fk_takedown_item_match_id_match")),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name=op.f("fk_takedown_item_media_id_media")),
        sa.ForeignKeyConstraint(
            ["request_id"], ["takedown_request.id"], name=op.f("fk_takedown_item_request_id_takedown_request")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takedown_item")),
        sa.UniqueConstraint("request_id", "match_id", name=op.f("uq_takedown_item_request_id_match_id")),
    )
    op.create_index(op.f("ix_takedown_item_match_id"), "takedown_item", ["match_id"], unique=False)
    op.create_index(op.f("ix_takedown_item_media_id"), "takedown_item", ["media_id"], unique=False)
    op.create_index(op.f("ix_takedown_item_request_id"), "takedown_item", ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_takedown_item_request_id"), table_name="takedown_item")
    op.drop_index(op.f("ix_takedown_item_media_id"), table_name="takedown_item")
    op.drop_index(op.f("ix_takedown_item_match_id"), table_name="takedown_item")
    op.drop_table("takedown_item")
    op.drop_index(op.f("ix_review_decision_user_id"), table_name="review_decision")
    op.drop_index(op.f("ix_review_decision_match_id"), table_name="review_decision")
    op.drop_index(op.f("ix_review_decision_created_at"), table_name="review_decision")
    op.drop_table("review_decision")
    op.drop_index("ix_media_view_user_at", table_name="media_view")
    op.drop_index(op.f("ix_media_view_match_id"), table_name="media_view")
    op.drop_table("media_view")
    op.drop_index(op.f("ix_takedown_status_request_id"), table_name="takedown_status")
    op.drop_table("takedown_status")
    op.drop_index(op.f("ix_reupload_alert_request_id"), table_name="reupload_alert")
    op.drop_table("reupload_alert")
    op.drop_index(op.f("ix_webhook_delivery_webhook_id"), table_name="webhook_delivery")
    op.drop_index(op.f("ix_webhook_delivery_delivered_at"), table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_takedown_request_status"), table_name="takedown_request")
    op.drop_index(op.f("ix_takedown_request_case_id"), table_name="takedown_request")
    op.drop_table("takedown_request")
    op.drop_index(op.f("ix_case_assignment_user_id"), table_name="case_assignment")
    op.drop_index(op.f("ix_case_assignment_case_id"), table_name="case_assignment")
    op.drop_table("case_assignment")
    op.drop_table("webhook")
    op.drop_table("app_user")
