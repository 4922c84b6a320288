"""A small world for the review service: two cases (one a minor's), a caseless known bank, Telegram sightings,
a held original, matches of several methods, and a user of every role (the caseworker assigned to one case)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from reclaim.accounts import assign_case, create_user
from reclaim.api.app import create_app
from reclaim.banks import create_bank
from reclaim.cases import case_bank, create_case
from reclaim.evidence.holds import keep_if_held
from reclaim.media.image import decode_image
from reclaim.settings import Settings
from reclaim.signals.pdq import pdq_of_decoded
from reclaim.sources.base import RoomRef
from reclaim.store.db import Store
from reclaim.store.evidence_tables import EvidenceHold
from reclaim.store.room_tables import MediaLink, Message, RoomInfo
from reclaim.store.tables import BankEntry, Match, Media, Room, Sighting, Signal
from reclaim.synthetic import generated, jpeg_bytes

ROLES = ("admin", "caseworker", "reviewer", "investigator", "auditor")


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)
    matches: dict[str, int] = field(default_factory=dict)
    media: dict[str, int] = field(default_factory=dict)
    room_id: int = 0


def add_media(
    s, settings: Settings, room: Room, seed: int, message_id: int, held_case: int | None
) -> tuple[Media, bytes]:
    data = jpeg_bytes(generated(seed))
    sha = hashlib.sha256(data).hexdigest()
    decoded = decode_image(data, settings.limits)
    media = Media(
        sha256=sha,
        md5=hashlib.md5(data).hexdigest(),
        media_type="image",
        size_bytes=len(data),
        width=decoded.width,
        height=decoded.height,
    )
    s.add(media)
    s.flush()
    pdq, quality, _ = pdq_of_decoded(decoded)
    s.add(Signal(media_id=media.id, signal_type="pdq", value=pdq, value_key=pdq[:64], quality=quality))
    s.add(Sighting(media_id=media.id, room_id=room.id, locator=str(message_id), message_id=message_id))
    s.add(
        Message(
            room_id=room.id,
            message_id=message_id,
            kind="message",
            posted_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        )
    )
    s.flush()
    if held_case is not None:
        keep_if_held(s, settings, RoomRef("telegram", room.platform_id, room.name), media.id, sha, data, [held_case])
    return media, data


def build_world(store: Store, settings: Settings) -> World:
    w = World()
    with store.transaction() as s:
        adult = create_case(s, "case-a", "I agree to hash matching", "amira", "hashes")
        minor = create_case(s, "case-m", "Guardian agrees", "amira", "hashes", minor=True)
        known = create_bank(s, "known-1", "known")
        room = Room(platform="telegram", platform_id="-1001234567890", name="room one")
        s.add(room)
        s.flush()
        w.room_id = room.id
        s.add(RoomInfo(room_id=room.id, room_type="private_supergroup", bare_id=1234567890))
        s.add(EvidenceHold(scope="case", case_id=adult.id, created_by="test"))
        s.flush()
        banks = {"a": case_bank(s, adult), "m": case_bank(s, minor), "k": known}
        for n, (key, bank_key, method, details) in enumerate(
            [
                ("adult", "a", "pdq", None),
                ("adult2", "a", "verified", {"region": [10, 20, 200, 150]}),
                ("minor", "m", "pdq", None),
                ("known", "k", "md5", None),
            ]
        ):
            media, _ = add_media(s, settings, room, 100 + n, 40 + n, adult.id if bank_key == "a" else None)
            entry = BankEntry(bank_id=banks[bank_key].id, note=f"entry {key}", media_type="image")
            s.add(entry)
            s.flush()
            match = Match(media_id=media.id, bank_entry_id=entry.id, method=method, distance=3.0, details=details)
            s.add(match)
            s.flush()
            w.matches[key] = match.id
            w.media[key] = media.id
        # adult2 was made from the adult photo (request → output pair)
        s.add(
            MediaLink(
                media_id=w.media["adult2"],
                source_media_id=w.media["adult"],
                room_id=room.id,
                message_id=41,
                source_message_id=40,
                rule="reply",
            )
        )
        for role in ROLES:
            _, token = create_user(s, role, role)
            w.tokens[role] = token
        assign_case(s, "caseworker", "case-a")
        assign_case(s, "reviewer", "case-a")
        assign_case(s, "investigator", "case-a")
    return w


@pytest.fixture
def world(store: Store, settings: Settings) -> World:
    return build_world(store, settings)


@pytest.fixture
def client(store: Store, settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, store)
    with TestClient(app, base_url="https://testserver") as c:
        yield c


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
