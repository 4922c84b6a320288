"""Webhooks signed with HMAC-SHA256, on new matches and on takedown status changes.

Events go into an outbox table in the transaction that caused them, and are sent afterwards (by `reclaim serve`
in the background, or `reclaim webhook deliver`), so a slow subscriber never holds a transaction open and a crash
loses nothing. New matches are found by scanning past each webhook's last match id, so ingestion needs no hook.

Each POST carries `X-Reclaim-Event`, `X-Reclaim-Delivery`, `X-Reclaim-Timestamp` and `X-Reclaim-Signature:
sha256=<hex HMAC of "<timestamp>.<body>">`. Payloads name ids and statuses only, never media or names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reclaim.errors import ConfigError, NotFound
from reclaim.store.db import Store
from reclaim.store.service_tables import Webhook, WebhookDelivery
from reclaim.store.tables import Bank, BankEntry, Match, utcnow

EVENTS = ("match.created", "request.status")
MAX_ATTEMPTS = 8


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a subscriber runs: constant-time comparison of the signature it received."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def add_webhook(session: Session, url: str, events: list[str] | None = None) -> dict[str, Any]:
    """Subscribe a URL; its secret is returned once, for the subscriber to verify signatures with."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"'{url}' is not an http(s) URL")
    chosen = sorted(set(events or EVENTS))
    unknown = [e for e in chosen if e not in EVENTS]
    if unknown:
        raise ConfigError(f"unknown webhook event(s) {', '.join(unknown)}; known: {', '.join(EVENTS)}")
    secret = secrets.token_hex(32)
    start = session.scalar(select(func.max(Match.id))) or 0
    hook = Webhook(url=url, secret=secret, events=chosen, last_match_id=start, created_at=utcnow())
    session.add(hook)
    session.flush()
    return {**webhook_json(hook), "secret": secret}


def webhook_json(hook: Webhook) -> dict[str, Any]:
    return {"id": hook.id, "url": hook.url, "events": list(hook.events), "enabled": hook.disabled_at is None}


def list_webhooks(session: Session) -> list[dict[str, Any]]:
    return [webhook_json(h) for h in session.scalars(select(Webhook).order_by(Webhook.id))]


def remove_webhook(session: Session, hook_id: int) -> dict[str, Any]:
    hook = session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(f"no webhook {hook_id}; see `reclaim webhook list`")
    hook.disabled_at = hook.disabled_at or utcnow()
    return webhook_json(hook)


def enqueue(session: Session, event: str, payload: dict[str, Any]) -> int:
    """Queue an event for every enabled webhook that wants it, inside the caller's transaction."""
    hooks = session.scalars(select(Webhook).where(Webhook.disabled_at.is_(None))).all()
    n = 0
    for hook in hooks:
        if event in hook.events:
            session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload, created_at=utcnow()))
            n += 1
    return n


def scan_new_matches(session: Session, limit: int = 1000) -> int:
    """Queue `match.created` for matches newer than each webhook's cursor; returns how many were queued."""
    queued = 0
    for hook in session.scalars(select(Webhook).where(Webhook.disabled_at.is_(None))).all():
        if "match.created" not in hook.events:
            continue
        rows = session.execute(
            select(Match.id, Match.method, Match.status, Bank.kind, Bank.case_id)
            .join(BankEntry, BankEntry.id == Match.bank_entry_id)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(Match.id > hook.last_match_id)
            .order_by(Match.id)
            .limit(limit)
        ).all()
        for mid, method, status, kind, case_id in rows:
            payload = {"match_id": mid, "method": method, "status": status, "bank_kind": kind, "case_id": case_id}
            session.add(
                WebhookDelivery(webhook_id=hook.id, event="match.created", payload=payload, created_at=utcnow())
            )
            hook.last_match_id = mid
            queued += 1
    return queued


Sender = Callable[[str, bytes, dict[str, str]], int]


def _httpx_sender(url: str, body: bytes, headers: dict[str, str]) -> int:
    import httpx

    return httpx.post(url, content=body, headers=headers, timeout=5.0).status_code


def deliver_pending(store: Store, send: Sender | None = None, limit: int = 100) -> dict[str, int]:
    """Send queued events (oldest first); a 2xx marks one delivered, anything else is retried later."""
    send = send or _httpx_sender
    with store.transaction() as session:
        scan_new_matches(session)
    sent = failed = 0
    with store.transaction() as session:
        rows = session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.delivered_at.is_(None),
                WebhookDelivery.attempts < MAX_ATTEMPTS,
                Webhook.disabled_at.is_(None),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        ).all()
        for delivery, hook in rows:
            body = json.dumps(
                {"event": delivery.event, "delivery": delivery.id, "data": delivery.payload},
                sort_keys=True,
                separators=(",", ":"),
            ).encode("utf-8")
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Reclaim-Event": delivery.event,
                "X-Reclaim-Delivery": str(delivery.id),
                "X-Reclaim-Timestamp": stamp,
                "X-Reclaim-Signature": sign(hook.secret, stamp, body),
            }
            delivery.attempts += 1
            try:
                code = send(hook.url, body, headers)
            except Exception as exc:  # any transport failure: keep it queued, say why
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:500]
                failed += 1
                continue
            delivery.status_code = code
            if 200 <= code < 300:
                delivery.delivered_at = utcnow()
                delivery.last_error = None
                sent += 1
            else:
                delivery.last_error = f"HTTP {code}"
                failed += 1
    return {"sent": sent, "failed": failed}
