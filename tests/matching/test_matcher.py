"""The matching service over a real store: derivatives verified with a region, negative banks, `--bank`,
and the indexes persisted beside the database (reused, updated incrementally, rebuilt when stale)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select, update

from reclaim import banks, synthetic
from reclaim import matcher as matcher_module
from reclaim.lookup import match_files
from reclaim.matcher import BankMatcher, _Proposal
from reclaim.matcher_cache import index_dir
from reclaim.matching.decide import SSCD_PROPOSE
from reclaim.matching.pdq_flat import PdqFlatIndex
from reclaim.matching.pdq_mih import PdqMultiHashIndex
from reclaim.pipeline import ingest
from reclaim.review.queue import list_matches
from reclaim.settings import Settings
from reclaim.signals.hashing import hash_media
from reclaim.signals.keypoints import QUERY_KEYPOINTS, QUERY_WORK_SIDE, keypoints_of, mirrored
from reclaim.signals.sscd import decode as decode_sscd
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.store.tables import Bank, BankEntry


def write(path: Path, image: Image.Image, quality: int = 90) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(synthetic.jpeg_bytes(image.convert("RGB"), quality))
    return path


def enrol(store: Store, settings: Settings, bank: str, kind: str, files: list[Path]) -> list[int]:
    with store.transaction() as s:
        if s.scalar(select(Bank.id).where(Bank.name == bank)) is None:
            banks.create_bank(s, bank, kind)
        results = banks.add_files(s, bank, files, settings.limits, None, settings.signals)
    assert all(r.error is None for r in results)
    return [r.entry_id for r in results if r.entry_id is not None]


def lookup(store: Store, settings: Settings, files: list[Path], bank: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    with store.transaction() as s:
        return match_files(s, files, settings, bank)


def test_a_crop_is_verified_with_the_region_of_the_original(tmp_path: Path, store: Store, settings: Settings) -> None:
    original = synthetic.sample("astronaut")
    (entry,) = enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", original, 95)])
    crop = write(tmp_path / "q" / "crop.jpg", synthetic.resize(original.crop((100, 50, 400, 350)), 1.4))
    repainted = write(tmp_path / "q" / "repaint.jpg", synthetic.repaint(original, 0.3))
    unrelated = write(tmp_path / "q" / "coffee.jpg", synthetic.sample("coffee"))
    broken = tmp_path / "q" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff" + b"\0" * 50)
    got = {Path(r["path"]).name: r for r in lookup(store, settings, [crop, repainted, unrelated, broken])}
    (m,) = got["crop.jpg"]["matches"]
    assert (m["bank"], m["bank_entry_id"], m["method"]) == ("her", entry, "verified")
    x, y, w, h = m["region"]
    assert abs(x - 100) <= 10 and abs(y - 50) <= 10 and abs(w - 300) <= 15 and abs(h - 300) <= 15
    assert m["details"]["inliers"] >= 20 and 0.35 <= m["score"] <= 1.0
    assert [m["method"] for m in got["repaint.jpg"]["matches"]] == ["verified"]
    assert got["coffee.jpg"]["matches"] == [] and got["coffee.jpg"]["error"] is None
    assert "not a recognised image" in got["broken.jpg"]["error"] and got["broken.jpg"]["matches"] == []


def test_a_screenshot_of_the_photo_in_a_chat_is_verified(tmp_path: Path, store: Store, settings: Settings) -> None:
    original = synthetic.sample("rocket")  # its screenshot alone is under the proposal cosine
    (entry,) = enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", original, 95)])
    shot = write(tmp_path / "q" / "shot.jpg", synthetic.chat_screenshot(original), 80)
    other = write(tmp_path / "q" / "other.jpg", synthetic.chat_screenshot(synthetic.sample("chelsea")), 80)
    got = {Path(r["path"]).name: r for r in lookup(store, settings, [shot, other])}
    (m,) = got["shot.jpg"]["matches"]
    assert (m["bank_entry_id"], m["method"]) == (entry, "verified")
    # The whole photo is shown: the region is (nearly) all of the original.
    x, y, w, h = m["region"]
    assert x <= 0.05 * original.width and y <= 0.05 * original.height
    assert w >= 0.9 * original.width and h >= 0.9 * original.height
    assert got["other.jpg"]["matches"] == []


def test_a_screenshot_of_a_repainted_photo_is_verified_from_its_nearest_entries(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    original = synthetic.sample("gravel")
    entries = enrol(
        store,
        settings,
        "her",
        "protected",
        [write(tmp_path / f"{n}.jpg", synthetic.sample(n), 95) for n in ("gravel", "grass", "brick", "coffee")],
    )
    data = synthetic.jpeg_bytes(synthetic.chat_screenshot(synthetic.repaint(original, 0.3)), 80)
    shot = tmp_path / "q" / "shot.jpg"
    shot.parent.mkdir()
    shot.write_bytes(data)
    hashed = hash_media(data, settings.limits, None, settings.signals)
    assert len(decode_sscd(hashed.signals["sscd"].value)[1]) == 2  # the whole screenshot and the photo in it
    with store.transaction() as s:
        matcher = BankMatcher.load(s)
        p = matcher.proposals(hashed)[entries[0]]
    # Neither the screenshot nor the photo in it is near enough to propose by cosine; the shown picture's
    # nearest entries are verified, and only the right one holds.
    assert p.sscd is not None and p.sscd > SSCD_PROPOSE and p.shown
    (r,) = lookup(store, settings, [shot])
    assert [(m["bank_entry_id"], m["method"]) for m in r["matches"]] == [(entries[0], "verified")]


def test_a_bank_grown_by_adds_past_the_flat_range_gets_the_multi_index(
    tmp_path: Path, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matcher_module, "MIH_MIN", 3)
    cache = index_dir(settings)
    enrol(
        store,
        settings,
        "her",
        "protected",
        [write(tmp_path / f"{n}.jpg", synthetic.sample(n)) for n in ("astronaut", "rocket")],
    )

    def load() -> BankMatcher:
        with store.transaction() as s:
            return BankMatcher.load(s, cache_dir=cache)

    assert isinstance(load().pdq, PdqFlatIndex)
    enrol(store, settings, "her", "protected", [write(tmp_path / "coffee.jpg", synthetic.sample("coffee"))])
    m = load()
    assert isinstance(m.pdq, PdqMultiHashIndex) and m.index_state == "built" and len(m.pdq) == 3
    assert load().index_state == "loaded" and isinstance(load().pdq, PdqMultiHashIndex)
    (r,) = lookup(store, settings, [write(tmp_path / "q" / "coffee.jpg", synthetic.sample("coffee"), 60)])
    assert [x["method"] for x in r["matches"]] == ["pdq"]


def test_an_enrolled_screenshot_matches_its_photo_not_every_screenshot_of_the_app(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    # A victim may only have her photo as a screenshot of the chat where it was posted. The chat's header,
    # bubbles and time stamps are the same in every screenshot of that app and must match none of them.
    shots = {}
    for name in ("astronaut", "brick", "page"):  # a photo, a texture, a document
        shots[name] = tmp_path / f"{name}.png"  # phones save screenshots as PNG
        shots[name].write_bytes(synthetic.png_bytes(synthetic.chat_screenshot(synthetic.sample(name), minute=3)))
    entries = dict(zip(shots, enrol(store, settings, "her", "protected", list(shots.values())), strict=True))
    others = [synthetic.generated(seed) for seed in range(4)] + [synthetic.sample("shepp_logan_phantom")]
    queries = [
        write(tmp_path / "q" / f"other-{k}.jpg", synthetic.chat_screenshot(im, 10 + k), 80)
        for k, im in enumerate(others)
    ]
    crop = write(tmp_path / "q" / "crop.jpg", synthetic.crop(synthetic.sample("astronaut"), 0.7))
    again = write(tmp_path / "q" / "again.jpg", synthetic.chat_screenshot(synthetic.sample("brick"), 40), 80)
    got = {Path(r["path"]).name: r for r in lookup(store, settings, [*queries, crop, again])}
    assert {q.name: got[q.name]["matches"] for q in queries} == {q.name: [] for q in queries}
    assert [(m["bank_entry_id"], m["method"]) for m in got["crop.jpg"]["matches"]] == [
        (entries["astronaut"], "verified")
    ]
    assert [m["bank_entry_id"] for m in got["again.jpg"]["matches"]] == [entries["brick"]]


def test_a_picture_proposed_only_by_what_a_screenshot_shows_is_verified_on_that_picture(
    tmp_path: Path, store: Store, settings: Settings
) -> None:
    original = synthetic.sample("rocket")
    (entry,) = enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", original, 95)])
    with store.transaction() as s:
        matcher = BankMatcher.load(s)
        proposal = _Proposal(sscd=0.8, shown=True)
        # Keypoints of the whole item that would verify (here: the original's own), and of the picture it
        # shows (here: an unrelated photo).
        own = keypoints_of(original, QUERY_KEYPOINTS, side=QUERY_WORK_SIDE) or ""
        other = keypoints_of(synthetic.sample("coffee"), QUERY_KEYPOINTS, side=QUERY_WORK_SIDE) or ""
        whole, shown = (own, mirrored(own)), (other, mirrored(other))
        assert [c[0] for c in matcher._verified(s, {entry: proposal}, whole, shown, False)] == []
        proposal.whole = True  # the whole item came near too: everything it shows counts
        assert [c[0] for c in matcher._verified(s, {entry: proposal}, whole, shown, False)] == [entry]


def test_the_second_of_two_photos_in_a_screenshot_is_verified(tmp_path: Path, store: Store, settings: Settings) -> None:
    (entry,) = enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", synthetic.sample("chelsea"))])
    screen = Image.new("RGB", (720, 1560), (18, 18, 20))
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, 720, 120), fill=(33, 33, 36))
    screen.paste(synthetic.sample("coffee").resize((480, 320)), (200, 300))  # the larger photo: unrelated
    screen.paste(synthetic.repaint(synthetic.sample("chelsea"), 0.3).resize((400, 266)), (30, 800))
    draw.rounded_rectangle((20, 1480, 700, 1530), 20, fill=(44, 44, 48))
    (r,) = lookup(store, settings, [write(tmp_path / "q" / "two.jpg", screen, 80)])
    assert [(m["bank_entry_id"], m["method"]) for m in r["matches"]] == [(entry, "verified")]


def test_a_screenshot_on_a_doodle_wallpaper_is_verified(tmp_path: Path, store: Store, settings: Settings) -> None:
    names = ("astronaut", "coffee", "chelsea", "rocket")
    entries = enrol(
        store, settings, "her", "protected", [write(tmp_path / f"{n}.jpg", synthetic.sample(n)) for n in names]
    )
    shots = [
        write(tmp_path / "q" / f"{n}.jpg", synthetic.chat_screenshot(synthetic.sample(n), 20, wallpaper=True), 80)
        for n in names
    ]
    got = [[(m["bank_entry_id"], m["method"]) for m in r["matches"]] for r in lookup(store, settings, shots)]
    assert got == [[(e, "verified")] for e in entries]


def test_negative_banks_withhold_and_bank_option_limits(tmp_path: Path, store: Store, settings: Settings) -> None:
    astronaut, rocket = synthetic.sample("astronaut"), synthetic.sample("rocket")
    enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", astronaut)])
    enrol(store, settings, "known", "known", [write(tmp_path / "rocket.jpg", rocket)])
    query = write(tmp_path / "q" / "rocket-crop.jpg", synthetic.crop(rocket, 0.7))
    (r,) = lookup(store, settings, [query])
    assert [(m["bank"], m["method"]) for m in r["matches"]] == [("known", "verified")]
    (r,) = lookup(store, settings, [query], bank="her")
    assert r["matches"] == []
    enrol(store, settings, "benign", "negative", [write(tmp_path / "rocket-again.jpg", rocket, 80)])
    (r,) = lookup(store, settings, [query])
    assert r["matches"] == [] and [m["bank"] for m in r["suppressed"]] == ["known"]


def test_ingest_stores_verified_matches_with_region(tmp_path: Path, store: Store, settings: Settings) -> None:
    original = synthetic.sample("astronaut")
    enrol(store, settings, "her", "protected", [write(tmp_path / "her.jpg", original, 95)])
    room = tmp_path / "room"
    write(room / "caption.jpg", synthetic.caption(synthetic.crop(original, 0.8)), 70)
    write(room / "other.jpg", synthetic.sample("coffee"))
    summary = ingest(store, FolderSource(room, "room"), settings)
    assert summary.matches == 1
    with store.transaction() as s:
        (m,) = list_matches(s)
    assert m["method"] == "verified" and m["sightings"][0]["path"] == "caption.jpg"
    assert len(m["region"]) == 4 and m["score"] is not None


def test_indexes_are_persisted_reused_and_updated(tmp_path: Path, store: Store, settings: Settings) -> None:
    cache = index_dir(settings)
    first = enrol(store, settings, "her", "protected", [write(tmp_path / "a.jpg", synthetic.sample("astronaut"))])

    def load() -> BankMatcher:
        with store.transaction() as s:
            return BankMatcher.load(s, cache_dir=cache)

    assert load().index_state == "built" and (cache / "manifest.json").is_file()
    assert load().index_state == "loaded"
    second = enrol(store, settings, "her", "protected", [write(tmp_path / "b.jpg", synthetic.sample("rocket"))])
    m = load()
    assert m.index_state == "updated" and sorted(m.indexed_entries.tolist()) == sorted(first + second)
    assert load().index_state == "loaded"
    # Disabling an entry is applied without a rebuild, and it no longer matches.
    with store.transaction() as s:
        s.execute(update(BankEntry).where(BankEntry.id == first[0]).values(disabled_at=datetime.now(UTC)))
    m = load()
    assert m.index_state == "updated" and m.indexed_entries.tolist() == second
    (r,) = lookup(store, settings, [tmp_path / "a.jpg"])
    assert r["matches"] == []
    # A new bank, a disabled bank, or a lost file means a rebuild from the database.
    enrol(store, settings, "other", "known", [write(tmp_path / "c.jpg", synthetic.sample("coffee"))])
    assert load().index_state == "built"
    with store.transaction() as s:
        s.execute(update(Bank).where(Bank.name == "other").values(enabled=False))
    assert load().index_state == "built"
    assert load().index_state == "loaded"
    next(cache.glob("pdq.*")).write_bytes(b"garbage")
    m = load()
    assert m.index_state == "built" and m.indexed_entries.tolist() == second
    (r,) = lookup(store, settings, [tmp_path / "b.jpg"])
    assert [x["method"] for x in r["matches"]] == ["sha256"]
