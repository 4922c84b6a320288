"""The pure parts: title normalisation, room references, HyperLogLog, institution names, pair scoring."""

from __future__ import annotations

import numpy as np
import pytest

from reclaim.intel.institutions_text import KiwiCheck, find_institutions
from reclaim.intel.lineage_score import LineageInput, Migration, Pointer, RoomProfile, assemble, score_pairs
from reclaim.intel.sketch import HyperLogLog, MinHash
from reclaim.intel.synthetic import INSTITUTION_SAMPLES
from reclaim.intel.text import normalise_title, room_refs, title_similarity

DAY = 86_400.0


def test_titles_lose_generation_markers() -> None:
    assert normalise_title("🔥 3반 지인방 2호 🔥") == normalise_title("3반 지인방") == "3반 지인방"
    assert normalise_title("Photo Room v2 (new)") == "photo room"
    assert title_similarity("한빛고 지인방", "한빛고 지인방 백업") == 1.0
    assert title_similarity("한빛고 지인방", "주말 모임방") == 0.0


def test_room_references_in_text() -> None:
    refs = room_refs(
        "방 터짐 ㅠ 여기로 이사했어요 t.me/+AbCdEf123 그리고 https://t.me/c/1234567890/55", ("https://t.me/OldRoom",)
    )
    assert refs.invites == {"AbCdEf123"} and refs.channel_ids == {1234567890} and refs.usernames == {"oldroom"}
    assert refs.moved
    assert not room_refs("오늘 뭐함").moved and not room_refs("오늘 뭐함")


@pytest.mark.parametrize("n", [0, 1, 1000, 200_000])
def test_hyperloglog_within_four_standard_errors(n: int) -> None:
    h = HyperLogLog()
    ids = np.random.default_rng(n).choice(10**12, n, replace=False) if n else np.zeros(0, dtype=np.int64)
    h.add(ids)
    h.add(ids)  # duplicates do not count
    assert abs(h.estimate() - n) <= max(1, 4 * h.relative_error * n)
    a, b = HyperLogLog(), HyperLogLog()
    a.add(np.arange(0, 60_000))
    b.add(np.arange(40_000, 100_000))
    assert abs(a.merge(b).estimate() - 100_000) <= 4 * a.relative_error * 100_000


def _score(check: object = None) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for text, expected in INSTITUTION_SAMPLES:
        got = {m.canonical for m in find_institutions(text, check)}  # type: ignore[arg-type]
        tp, fp, fn = tp + len(got & set(expected)), fp + len(got - set(expected)), fn + len(set(expected) - got)
    return tp, fp, fn


def test_institution_rules_find_every_school_and_no_common_word() -> None:
    tp, fp, fn = _score()
    assert fn == 0 and tp == sum(len(e) for _, e in INSTITUTION_SAMPLES)
    common = ["오늘 최고였다", "지금 진행중 입니다", "우리 시대의 음악", "20대 모임 초대합니다", "집중 그리고 나중에"]
    assert all(find_institutions(t) == [] for t in common)
    # Without a morphological analyser, adjectives + the connective -고 still read as schools (measured in bench).
    assert fp > 0
    assert [m.canonical for m in find_institutions("푸른여고2학년 모임")] == ["푸른여자고등학교"]
    assert find_institutions("Hanbit HS class 3")[0].surface == "Hanbit HS"


def test_kiwi_vetoes_endings_but_keeps_schools() -> None:
    pytest.importorskip("kiwipiepy")
    check = KiwiCheck()
    assert _score(check.is_ending)[1:] == (0, 0)
    assert [m.canonical for m in find_institutions("한빛고 다니는 사람?", check.is_ending)] == ["한빛고등학교"]


def _room(pid: str, title: str, first: float, last: float, **kw: object) -> RoomProfile:
    return RoomProfile(pid, (title,), first, last, 100, "private_supergroup", **kw)  # type: ignore[arg-type]


def _members(rows: list[tuple[int, range | list[int]]]) -> tuple[np.ndarray, np.ndarray]:
    r = [room for room, ids in rows for _ in ids]
    a = [x for _, ids in rows for x in ids]
    return np.asarray(r, dtype=np.int64), np.asarray(a, dtype=np.int64)


def moved_terms_add_up(ev: dict[str, object]) -> bool:
    terms = [v["log_odds"] for v in ev.values() if isinstance(v, dict) and "log_odds" in v]
    return abs(ev["prior"] + sum(terms) - ev["log_odds_total"]) < 1e-2  # type: ignore[operator]


def test_recreated_room_joins_and_decoy_does_not() -> None:
    rooms = [
        _room("-1001", "한빛고 지인방", 0, 30 * DAY),
        _room("-1002", "한빛고 지인방 2호", 32 * DAY, 60 * DAY, bare_id=2),
        _room("-1003", "한빛고 친구방", 31 * DAY, 90 * DAY),  # decoy: similar title, adjacent, 3 shared by chance
        _room("-1004", "주말 모임방", 100 * DAY, 130 * DAY),  # renamed, linked with "we moved"
    ]
    inp = LineageInput(
        rooms=rooms,
        actors=_members(
            [(0, range(100)), (1, range(50, 130)), (2, [*range(500, 600), 1, 2, 3]), (3, range(90, 140))]
        ),
        media=_members([(0, [1, 2, 3]), (1, [2, 3, 9])]),
        pointers=[Pointer(1, 77, "link", "cid:9", True), Pointer(3, 5, "invite", "invite:XYZ", False),
                  Pointer(1, 78, "invite", "invite:XYZ", True, "이사했어요 t.me/+XYZ")],
    )  # fmt: skip
    links = score_pairs(inp)
    by_pair = {(lk.src, lk.dst): lk for lk in links}
    good = by_pair[(0, 1)]
    assert good.score > 0.99
    assert moved_terms_add_up(by_pair[(1, 3)].evidence)
    assert good.evidence["actors"]["shared"] == 50 and good.evidence["media"]["shared"] == 2
    assert good.evidence["title"]["similarity"] == 1.0 and good.evidence["reasons"]
    total = good.evidence["prior"] + sum(
        v["log_odds"] for k, v in good.evidence.items() if isinstance(v, dict) and "log_odds" in v
    )
    assert total == pytest.approx(good.evidence["log_odds_total"], abs=1e-2)  # every term is shown
    assert (0, 2) not in by_pair or by_pair[(0, 2)].score < 0.5
    moved = by_pair[(1, 3)]
    assert moved.score > 0.5 and {p["kind"] for p in moved.evidence["pointers"]["messages"]} == {"shared_invite"}
    [lineage, decoy] = assemble(inp, links, 0.5)
    assert [rooms[x].platform_id for x in lineage.rooms] == ["-1001", "-1002", "-1004"]
    assert decoy.rooms == [2] and decoy.links == []


def test_migration_pair_is_decisive_and_unrelated_rooms_are_not_scored() -> None:
    rooms = [
        _room("-5", "지인방", 0, 10 * DAY),
        _room("-1006", "지인방", 10 * DAY, 20 * DAY),
        _room("-1007", "xyz", 0, 5),
    ]
    inp = LineageInput(
        rooms=rooms,
        actors=_members([(0, [1]), (1, [2]), (2, [3])]),
        media=_members([]),
        migrations=[Migration(0, "migrate_to_supergroup", 10 * DAY, None),
                    Migration(1, "migrate_from_group", 10 * DAY + 5, "지인방")],
    )  # fmt: skip
    [link] = score_pairs(inp)
    assert (link.src, link.dst) == (0, 1) and link.score > 0.99
    assert link.evidence["migration"]["old_group"] == "-5"
    assert score_pairs(LineageInput(rooms=rooms[:1], actors=_members([]), media=_members([]))) == []


def test_minhash_overlap_agrees_with_exact_counts() -> None:
    rng = np.random.default_rng(3)
    rooms = [_room(f"-10{i}", f"room {i}", i * 40 * DAY, i * 40 * DAY + 30 * DAY) for i in range(6)]
    sets = [rng.choice(100_000, 300, replace=False) for _ in rooms]
    sets[1] = np.concatenate([sets[0][:150], sets[1][:150]])  # half of room 0 moved to room 1
    rows = [(i, s.tolist()) for i, s in enumerate(sets)]
    exact = LineageInput(rooms=rooms, actors=_members(rows), media=_members([]))
    sketch = MinHash(len(rooms))
    for i, s in enumerate(sets):
        sketch.update(i, s)
    estimated = LineageInput(rooms=rooms, actors=_members([]), media=_members([]), actor_sketch=sketch)
    [a] = [lk for lk in score_pairs(exact) if lk.score >= 0.5]
    [b] = [lk for lk in score_pairs(estimated) if lk.score >= 0.5]
    assert (a.src, a.dst) == (b.src, b.dst) == (0, 1)
    assert a.evidence["actors"]["shared"] == 150
    assert abs(b.evidence["actors"]["shared"] - 150) <= 40 and b.evidence["actors"]["method"] == "minhash estimate"
