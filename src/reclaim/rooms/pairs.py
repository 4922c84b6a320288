"""Request → output pairs: which posted media was made from which photo.

In these rooms a man posts a photo of someone he knows and a bot (or another user) answers with the deepfake
made from it. Two rules, each leaving its evidence on the link:
- `reply`: a message with media replies to a message with media;
- `bot_window`: a bot posts media (or a user posts through an inline bot, `via_bot`) within `window_s` seconds of
  a photo by a person; the requester is the one the bot mentions, else the oldest unanswered request (bots work
  through a queue), else the latest request (a second output for the same photo).
Pure: the caller supplies how to look up an earlier message's media.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reclaim.sources.telegram import TelegramMessage

DEFAULT_WINDOW_S = 600.0


@dataclass(frozen=True, slots=True)
class Posted:
    """An earlier message's media, as the detector needs it."""

    message_id: int
    media_id: int
    posted_at: datetime | None
    actor: str | None


@dataclass(frozen=True, slots=True)
class PairLink:
    media_id: int
    source_media_id: int
    message_id: int
    source_message_id: int
    rule: str
    evidence: dict[str, Any]


@dataclass
class _Request:
    posted: Posted
    answered: int = 0


@dataclass
class PairDetector:
    """Feed messages with media in posting order, one room per detector; returns the link each one makes."""

    window_s: float = DEFAULT_WINDOW_S
    _recent: deque[_Request] = field(default_factory=deque)

    def observe(
        self, message: TelegramMessage, media_id: int, lookup: Callable[[int], Posted | None]
    ) -> PairLink | None:
        link = self._reply(message, media_id, lookup)
        by_bot = message.actor is not None and message.actor.is_bot
        if link is None and (by_bot or message.via_bot) and message.posted_at is not None:
            link = self._bot_window(message, media_id)
        if not by_bot and not message.via_bot and message.media is not None and message.media.media_type == "image":
            actor = message.actor.platform_id if message.actor else None
            self._recent.append(_Request(Posted(message.message_id, media_id, message.posted_at, actor)))
        self._prune(message.posted_at)
        return link

    def _reply(
        self, message: TelegramMessage, media_id: int, lookup: Callable[[int], Posted | None]
    ) -> PairLink | None:
        if message.reply_to is None:
            return None
        source = lookup(message.reply_to)
        if source is None or source.media_id == media_id:
            return None
        for request in self._recent:
            if request.posted.message_id == source.message_id:
                request.answered += 1
        return PairLink(
            media_id,
            source.media_id,
            message.message_id,
            source.message_id,
            "reply",
            {
                "rule": "reply",
                "request_message_id": source.message_id,
                "output_message_id": message.message_id,
                "requester": source.actor,
                "output_by": message.actor.platform_id if message.actor else None,
                "output_by_bot": bool(message.actor and message.actor.is_bot),
                "via_bot": message.via_bot,
                "seconds": _seconds(source.posted_at, message.posted_at),
            },
        )

    def _bot_window(self, message: TelegramMessage, media_id: int) -> PairLink | None:
        assert message.posted_at is not None
        live = [
            r
            for r in self._recent
            if r.posted.posted_at is not None
            and 0 <= (message.posted_at - r.posted.posted_at).total_seconds() <= self.window_s
        ]
        if message.via_bot and message.actor is not None:
            # An inline bot posts in the requester's own name: his own photo is the request.
            live = [r for r in live if r.posted.actor == message.actor.platform_id]
        if not live:
            return None
        mentioned = _mentioned_users(message)
        named = [r for r in live if r.posted.actor in mentioned]
        if named:
            chosen, why = named[-1], "mentioned_requester"
        elif unanswered := [r for r in live if r.answered == 0]:
            chosen, why = unanswered[0], "oldest_unanswered"
        else:
            chosen, why = live[-1], "latest_answered"
        chosen.answered += 1
        source = chosen.posted
        return PairLink(
            media_id,
            source.media_id,
            message.message_id,
            source.message_id,
            "bot_window",
            {
                "rule": "bot_window",
                "choice": why,
                "request_message_id": source.message_id,
                "output_message_id": message.message_id,
                "requester": source.actor,
                "output_by": message.actor.platform_id if message.actor else None,
                "via_bot": message.via_bot,
                "seconds": _seconds(source.posted_at, message.posted_at),
                "window_s": self.window_s,
                "candidates_in_window": len(live),
            },
        )

    def _prune(self, now: datetime | None) -> None:
        if now is None:
            return
        while self._recent and (
            self._recent[0].posted.posted_at is None
            or (now - self._recent[0].posted.posted_at).total_seconds() > self.window_s
        ):
            self._recent.popleft()


def _mentioned_users(message: TelegramMessage) -> set[str]:
    out: set[str] = set()
    for entity in message.entities:
        if entity.get("type") == "mention_name" and entity.get("user_id") is not None:
            out.add(f"user{entity['user_id']}")
    return out


def _seconds(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds()
