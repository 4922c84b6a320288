"""Synthetic Telegram worlds with known truth, for lineage, counting and institution tests and calibration.

A world is a full-account Telegram Desktop export (written with `reclaim.synthetic_telegram`) of:
- lineages: a room deleted and recreated 1-3 times; each successor starts a few days after its predecessor's
  last message, carries over part of its members, is usually renamed with a generation marker (sometimes
  renamed outright), and sometimes re-posts old media, forwards old posts, links the new room from the old
  ("이사했어요 → t.me/+...") or is the supergroup a basic group migrated into;
- decoys: unrelated rooms of the same schools, with similar titles, drawing members from the same pool (so they
  share a few members by chance), active right when lineage rooms die, using the same bots, re-posting the same
  viral image and the same advert links.
Titles and texts are neutral; images are generated patterns (non-sexual, nobody's likeness).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from reclaim import synthetic
from reclaim.sources.telegram import platform_chat_id
from reclaim.synthetic_telegram import ChatWriter, ExportWriter, message, service

T0 = 1_700_000_000
DAY = 86_400
SCHOOLS = [
    ("한빛", "고", "한빛고등학교"),
    ("새솔", "여중", "새솔여자중학교"),
    ("푸른", "여고", "푸른여자고등학교"),
    ("미래", "대", "미래대학교"),
    ("하늘", "중", "하늘중학교"),
    ("나래", "초", "나래초등학교"),
]
ROOM_WORDS = ["지인방", "친구방", "사진방", "모임", "단톡", "정보방"]
MARKERS = ["{t} 2호", "{t} v2", "{t} 백업", "새 {t}", "{t} 시즌2", "{t} (new)", "{t} 3호"]
RENAMES = ["비밀 정원", "주말 모임방", "쉼터", "아지트", "별빛방", "토요일"]
CHAT = ["ㅋㅋ", "안녕", "누구 있음?", "오늘 뭐함", "사진 올려봐", "ㅇㅇ", "좋다", "다음주에 봐", "헐", "ㄱㄱ"]
BOTS = [("DeepBot", "user900001"), ("PhotoMakerBot", "user900002"), ("HelperBot", "user900003")]


@dataclass
class SynthRoom:
    bare_id: int
    chat_type: str
    title: str
    start: int
    end: int
    members: list[int]
    school: str
    lineage: int | None  # index of its lineage, None for a decoy
    titles: list[str] = field(default_factory=list)

    @property
    def platform_id(self) -> str:
        return platform_chat_id(self.bare_id, self.chat_type)


@dataclass
class World:
    root: Path
    rooms: list[SynthRoom]
    lineages: list[list[str]]  # platform ids in order, rooms recreated from one another
    institution_of: dict[str, str]  # platform id → canonical institution named in its title (None: renamed)
    messages: int = 0

    def same_lineage(self) -> set[frozenset[str]]:
        return {frozenset((a, b)) for lin in self.lineages for x, a in enumerate(lin) for b in lin[x + 1 :]}


@dataclass
class _Plan:
    """Per-room extra content decided while planning, written with the room's messages."""

    first_texts: list[str] = field(default_factory=list)
    last_texts: list[str] = field(default_factory=list)
    reposts: list[int] = field(default_factory=list)  # media seeds re-posted from the predecessor
    forwards: list[tuple[str, str]] = field(default_factory=list)  # (forwarded_from, forwarded_from_id)
    migrate_to: bool = False
    migrate_from: str | None = None
    own_media: list[int] = field(default_factory=list)


def write_world(
    root: Path,
    seed: int = 0,
    lineages: int = 6,
    decoys: int = 12,
    pool: int = 1500,
    members: tuple[int, int] = (40, 160),
    messages_per_member: tuple[int, int] = (1, 4),
    photos_per_room: tuple[int, int] = (3, 10),
    image_size: int = 96,
    carry: tuple[float, float] = (0.2, 0.7),
    clues: float = 1.0,
) -> World:
    """Write a world's export under `root` and return its truth.

    `carry`: the share of a room's members that follow it to the next room; `clues`: scales the chance of each
    explicit clue (a "we moved" link, re-posted media, forwards), 0 for recreations with no clue but members.
    """
    rng = random.Random(seed)
    rooms: list[SynthRoom] = []
    plans: list[_Plan] = []
    truth: list[list[str]] = []
    used_ids: set[int] = set()
    media_seed = seed * 1_000_000

    def bare(kind: str) -> int:
        while True:
            value = rng.randrange(10_000, 99_999) if kind == "private_group" else rng.randrange(10**9, 2 * 10**9)
            if value not in used_ids:
                used_ids.add(value)
                return value

    def new_media(plan: _Plan, k: int) -> None:
        nonlocal media_seed
        for _ in range(k):
            media_seed += 1
            plan.own_media.append(media_seed)

    for lin in range(lineages):
        stem, level, _ = SCHOOLS[lin % len(SCHOOLS)]
        school_pool = (lin % len(SCHOOLS)) * pool
        base = f"{stem}{level} {rng.randint(1, 9)}반 {rng.choice(ROOM_WORDS)}"
        start = T0 + rng.randrange(0, 200) * DAY
        chain: list[int] = []
        length = rng.choice([2, 2, 3, 3, 4])
        channel = rng.random() < 0.25
        for gen in range(length):
            life = rng.randrange(20, 90) * DAY
            if gen == 0:
                size = rng.randint(*members)
                mem = rng.sample(range(school_pool, school_pool + pool), size)
                title = base
                migrated = False
            else:
                prev = rooms[chain[-1]]
                migrated = prev.chat_type == "private_group" and rng.random() < 0.7
                share = 1.0 if migrated else rng.uniform(*carry)
                kept = rng.sample(prev.members, max(3, int(len(prev.members) * share)))
                fresh_n = 0 if migrated else int(len(prev.members) * rng.uniform(0.2, 1.0))
                fresh = rng.sample(range(school_pool, school_pool + pool), fresh_n)
                mem = list(dict.fromkeys(kept + fresh))
                start = prev.end + (0 if migrated else rng.randrange(0, 7 * DAY))
                roll = rng.random()
                if migrated or roll < 0.15:
                    title = prev.title
                elif roll < 0.75:
                    title = rng.choice(MARKERS).format(t=base)
                else:
                    title = rng.choice(RENAMES)
            if gen < length - 1 and rng.random() < 0.15 and not channel:
                kind = "private_group"  # may be upgraded into the next room
            else:
                kind = "private_channel" if channel else "private_supergroup"
            room = SynthRoom(bare(kind), kind, title, start, start + life, mem, f"{stem}{level}", lin, [title])
            rooms.append(room)
            plan = _Plan()
            new_media(plan, rng.randint(*photos_per_room))
            plans.append(plan)
            if gen > 0:
                _link(rng, rooms, plans, chain[-1], len(rooms) - 1, migrated, clues)
            chain.append(len(rooms) - 1)
        truth.append([rooms[x].platform_id for x in chain])

    dying = [r.end for r in rooms]
    for d in range(decoys):
        stem, level, _ = SCHOOLS[d % len(SCHOOLS)]
        school_pool = (d % len(SCHOOLS)) * pool
        # Hard decoys: same school, a similar title, starting right as a lineage room dies.
        start = (
            rng.choice(dying) + rng.randrange(0, 5 * DAY) if rng.random() < 0.6 else T0 + rng.randrange(0, 250) * DAY
        )
        title = f"{stem}{level} {rng.randint(1, 9)}반 {rng.choice(ROOM_WORDS)}"
        if rng.random() < 0.3:
            title = rng.choice(MARKERS).format(t=title)
        size = rng.randint(*members)
        mem = rng.sample(range(school_pool, school_pool + pool), size)
        if rooms and rng.random() < 0.5:  # a few members of some room, by chance
            other = rng.choice(rooms)
            mem = list(dict.fromkeys(mem + rng.sample(other.members, min(len(other.members), rng.randint(2, 8)))))
        kind = "private_supergroup"
        rooms.append(
            SynthRoom(
                bare(kind),
                kind,
                title,
                start,
                start + rng.randrange(20, 120) * DAY,
                mem,
                f"{stem}{level}",
                None,
                [title],
            )
        )
        plan = _Plan()
        new_media(plan, rng.randint(*photos_per_room))
        plans.append(plan)

    # The same viral image and the same advert link in many rooms, lineage and decoy alike.
    viral = seed * 1_000_000 + 999_999
    for x in rng.sample(range(len(rooms)), k=max(2, len(rooms) // 2)):
        plans[x].own_media.append(viral)
    advert = f"AdvRt{seed:04d}xyz"
    for x in rng.sample(range(len(rooms)), k=min(len(rooms), 6)):
        plans[x].first_texts.append(f"홍보: 새 방 열었어요 t.me/+{advert}")

    world = World(root, rooms, truth, {})
    for r in rooms:
        world.institution_of[r.platform_id] = _canon(r.title)
    cache: dict[int, bytes] = {}
    with ExportWriter(root, account=True) as export:
        for r, plan in zip(rooms, plans, strict=True):
            with export.chat(r.bare_id, r.chat_type, r.title) as chat:
                world.messages += _write_room(rng, chat, r, plan, cache, image_size)
    return world


def _canon(title: str) -> str:
    for stem, level, canon in SCHOOLS:
        if title.startswith(f"{stem}{level}") or f" {stem}{level}" in title:
            return canon
    return ""


def _link(
    rng: random.Random, rooms: list[SynthRoom], plans: list[_Plan], a: int, b: int, migrated: bool, clues: float
) -> None:
    """Evidence the recreation leaves behind, each kind by chance."""
    old, new = rooms[a], rooms[b]
    if migrated and old.chat_type == "private_group":
        plans[a].migrate_to = True
        plans[b].migrate_from = old.title
        new.start = old.end
    if rng.random() < 0.45 * clues:
        if rng.random() < 0.5:
            invite = f"{rng.getrandbits(64):016x}"
            plans[a].last_texts.append(f"방 터짐 ㅠ 여기로 이사했어요 t.me/+{invite}")
            plans[b].first_texts.append(f"새 방 링크 t.me/+{invite} 공유 금지")
        else:
            plans[a].last_texts.append(f"다들 옮겼어요 https://t.me/c/{new.bare_id}/1")
    if rng.random() < 0.5 * clues:
        k = max(1, len(plans[a].own_media) // 2)
        plans[b].reposts.extend(rng.sample(plans[a].own_media, k))
    if old.chat_type == "private_channel" and rng.random() < 0.6 * clues:
        plans[b].forwards.extend([(old.title, f"channel{old.bare_id}")] * rng.randint(2, 6))


def _write_room(
    rng: random.Random, chat: ChatWriter, r: SynthRoom, plan: _Plan, cache: dict[int, bytes], size: int
) -> int:
    admin = r.members[0]
    events: list[tuple[int, int, str]] = []  # (time, member, what)
    for m in r.members:
        for _ in range(rng.randint(1, 4)):
            events.append((rng.randrange(r.start + 600, r.end - 600), m, "chat"))
    for seed in plan.own_media + plan.reposts:
        events.append((rng.randrange(r.start + 600, r.end - 600), rng.choice(r.members), f"photo:{seed}"))
    for origin, origin_id in plan.forwards:
        events.append((rng.randrange(r.start + 600, r.end - 600), admin, f"fwd:{origin}|{origin_id}"))
    events.sort()
    mid = 1
    written = 0
    create = "create_channel" if r.chat_type == "private_channel" else "create_group"
    if plan.migrate_from is not None:
        chat.write(service(mid, r.start, _name(admin), _uid(admin), "migrate_from_group", title=plan.migrate_from))
    else:
        chat.write(service(mid, r.start, _name(admin), _uid(admin), create, title=r.title))
    mid, written = mid + 1, written + 1
    for text in plan.first_texts:
        chat.write(message(mid, r.start + 60, _name(admin), _uid(admin), text))
        mid, written = mid + 1, written + 1
    bot_name, bot_id = BOTS[rng.randrange(len(BOTS))]
    for t, m, what in events:
        if what.startswith("photo:"):
            seed = int(what[6:])
            data = cache.get(seed)
            if data is None:
                data = synthetic.jpeg_bytes(synthetic.generated(seed % 2_000_000_000, (size, size)), 85)
                cache[seed] = data
            rel = chat.media(f"p{seed}.jpg", data)
            chat.write(message(mid, t, _name(m), _uid(m), "", photo=rel, width=size, height=size))
            mid, written = mid + 1, written + 1
            if rng.random() < 0.3:  # a bot answers the photo
                chat.write(message(mid, t + 30, bot_name, bot_id, "done"))
                mid, written = mid + 1, written + 1
        elif what.startswith("fwd:"):
            origin, origin_id = what[4:].split("|")
            chat.write(
                message(mid, t, _name(m), _uid(m), "다시 올림", forwarded_from=origin, forwarded_from_id=origin_id)
            )
            mid, written = mid + 1, written + 1
        else:
            text = rng.choice(CHAT)
            if rng.random() < 0.05:
                text = f"{r.school} 다니는 사람?"
            chat.write(message(mid, t, _name(m), _uid(m), text))
            mid, written = mid + 1, written + 1
    for text in plan.last_texts:
        chat.write(message(mid, r.end, _name(admin), _uid(admin), text))
        mid, written = mid + 1, written + 1
    if plan.migrate_to:
        chat.write(service(mid, r.end, _name(admin), _uid(admin), "migrate_to_supergroup"))
        written += 1
    return written


def _uid(member: int) -> str:
    return f"user{10_000 + member}"


def _name(member: int) -> str:
    return f"U{member}"


# Realistic (synthetic, neutral) titles and messages with the institutions a person reads in them; the traps are
# ordinary words that end like a school abbreviation (최고, 진행중, 재밌고, 보는중, 시대, 20대).
INSTITUTION_SAMPLES: list[tuple[str, list[str]]] = [
    ("한빛고 3반 지인방", ["한빛고등학교"]),
    ("새솔여중 친구방 2호", ["새솔여자중학교"]),
    ("푸른여고2학년 모임", ["푸른여자고등학교"]),
    ("미래대 사진방", ["미래대학교"]),
    ("하늘중학교 졸업생", ["하늘중학교"]),
    ("나래초등학교 6학년 단톡", ["나래초등학교"]),
    ("서울중앙고 애들 모여라", ["서울중앙고등학교"]),
    ("한빛고등학교에서 만난 친구", ["한빛고등학교"]),
    ("한빛고교 동창", ["한빛고등학교"]),
    ("대한외고 vs 대한과고", ["대한외국어고등학교", "대한과학고등학교"]),
    ("새솔여자고등학교 / 미래대학교 정보", ["새솔여자고등학교", "미래대학교"]),
    ("한빛고 다니는 사람?", ["한빛고등학교"]),
    ("이번 주말 한빛고 앞에서 봐", ["한빛고등학교"]),
    ("미래대 다님 ㅋㅋ", ["미래대학교"]),
    ("하늘중 애들 사진 있음?", ["하늘중학교"]),
    ("나래초 6학년때 같은반", ["나래초등학교"]),
    ("푸른여고 졸업한 선배", ["푸른여자고등학교"]),
    ("Hanbit HS class 3", ["Hanbit High School"]),
    ("Mirae University photos", ["Mirae University"]),
    ("University of Seoul friends", ["University of Seoul"]),
    ("Saesol Girls' High School room", ["Saesol Girls' High School"]),
    ("Hanul Middle School 2nd grade", ["Hanul Middle School"]),
    ("오늘 최고였다 ㅋㅋ", []),
    ("지금 진행중 입니다", []),
    ("밥 먹고 자고 놀고", []),
    ("우리 시대의 음악", []),
    ("집중 ㄱㄱ 그리고 나중에", []),
    ("20대 모임 초대합니다", []),
    ("The best room in town", []),
    ("진짜 재밌고 좋다", []),
    ("예쁘고 귀엽고 착함", []),
    ("요즘 힘들고 어렵고 바쁘고", []),
    ("드라마 보는중", []),
    ("지금 가는중 기다려", []),
    ("사진 원본 가능?", []),
    ("결국 대박 났네", []),
    ("다들 조용하고 심심함", []),
    ("날씨 춥고 배고프고", []),
]
