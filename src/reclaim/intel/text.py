"""Room titles and message text as evidence: Korean-aware title normalisation and room references in text.

Pure functions (no database), so lineage scoring can run in a CLI process or a Ray task alike.

Recreated rooms keep their name with a marker of the new generation ("지인방" → "지인방 2호", "3반 방 v2",
"시즌3", "(new)", "백업"), so normalisation removes such markers, emoji and punctuation before comparing. Titles
are compared on character bigrams: Hangul syllables carry a whole morpheme each, so bigrams of syllables behave
like word pieces, and they need no dictionary.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Generation markers a recreated room adds to its old name; removed before titles are compared.
_MARKERS = re.compile(
    r"(?:\b(?:v|ver|version|part|season|new|backup|copy|re)\s*\.?\s*\d*\b)"
    r"|(?:시즌|파트|백업|복구|부활|재개|새|신규|뉴|새로운|임시|대피|이전|이사|\d+\s*(?:호|기|번째|차|탄))"
    r"|(?:\b\d+\b)",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^\w가-힣]+", re.UNICODE)

# References to rooms in text: public usernames, private channel ids, invite hashes.
_TME = re.compile(
    r"(?:https?://)?(?:t|telegram)\.me/"
    r"(?:(?:\+|joinchat/)(?P<invite>[A-Za-z0-9_-]{6,})|c/(?P<cid>\d{3,20})(?:/\d+)?|(?P<user>[A-Za-z][A-Za-z0-9_]{3,31}))",
    re.IGNORECASE,
)
_AT = re.compile(r"(?<![\w@])@(?P<user>[A-Za-z][A-Za-z0-9_]{3,31})\b")

# Phrases saying a room moved ("we moved", "new room", "이사", "옮겼", "여기로"), in Korean and English.
_MOVED = re.compile(
    r"(?:moved|moving|new\s+(?:room|group|channel|link)|backup|migrat|relocat|join\s+us\s+at|"
    r"이사|옮겼|옮깁|옮김|이동|새\s*방|새로운\s*방|새\s*링크|백업|피신|대피|여기로|터졌|폭파|삭제됨|신고\s*당)",
    re.IGNORECASE,
)


def normalise_title(title: str) -> str:
    """The part of a title that survives recreation: NFKC, lower case, no emoji, punctuation or generation marks."""
    text = unicodedata.normalize("NFKC", title).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LNZ" or ch in "_-")
    text = _MARKERS.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def bigrams(title: str) -> frozenset[str]:
    """Character bigrams of the normalised title without spaces (a one-character title is its own gram)."""
    compact = normalise_title(title).replace(" ", "")
    if len(compact) < 2:
        return frozenset([compact]) if compact else frozenset()
    return frozenset(compact[i : i + 2] for i in range(len(compact) - 1))


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the titles' bigrams, in [0, 1]."""
    ga, gb = bigrams(a), bigrams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


@dataclass(frozen=True, slots=True)
class RoomRefs:
    """The rooms a message points at: usernames, private-channel bare ids and invite hashes; `moved` if it says so."""

    usernames: frozenset[str]
    channel_ids: frozenset[int]
    invites: frozenset[str]
    moved: bool

    def __bool__(self) -> bool:
        return bool(self.usernames or self.channel_ids or self.invites)


def room_refs(text: str, hrefs: tuple[str, ...] = ()) -> RoomRefs:
    """Room references in a message's text and its entities' hidden links (`text_link` hrefs)."""
    users: set[str] = set()
    cids: set[int] = set()
    invites: set[str] = set()
    for chunk in (text, *hrefs):
        for m in _TME.finditer(chunk):
            if m.group("invite"):
                invites.add(m.group("invite"))
            elif m.group("cid"):
                cids.add(int(m.group("cid")))
            elif m.group("user"):
                users.add(m.group("user").lower())
        for m in _AT.finditer(chunk):
            users.add(m.group("user").lower())
    return RoomRefs(frozenset(users), frozenset(cids), frozenset(invites), bool(_MOVED.search(text)))
