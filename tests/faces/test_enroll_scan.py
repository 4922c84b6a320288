"""Enrolment and scanning against the store (SQLite and PostgreSQL): consent first, one face per photo, only
enrolled faces match, nothing of scanned faces is kept, and a withdrawn case never matches again."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select

from reclaim import cases
from reclaim.errors import CaseNotFound, ConsentMissing
from reclaim.faces import EnrolledFaces, FaceScanner, enroll_faces
from reclaim.pipeline import ingest
from reclaim.review.queue import list_matches
from reclaim.settings import Settings
from reclaim.signals.face import DLIB_THRESHOLD, DlibFaceModel, working_image
from reclaim.sources.folder import FolderSource
from reclaim.store.db import Store
from reclaim.store.face_tables import FaceEmbedding
from reclaim.store.tables import BankEntry, BankSignal, Match
from reclaim.workspace import open_store
from tests.faces.conftest import astronaut, jpeg, scene, side_by_side
from tests.faces.probes import probes


def _case(store: Store, ref: str, scope: str = "face,hashes") -> int:
    with store.transaction() as s:
        return cases.create_case(s, ref, f"consent of {ref}", "Ana", scope).id


def _count(store: Store, table: type, *where: object) -> int:
    with store.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


def _ingest(store: Store, settings: Settings, folder: Path) -> int:
    return ingest(store, FolderSource(folder, folder.name), settings).matches


def test_enrolment_needs_a_case_whose_consent_covers_faces(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path]
) -> None:
    _case(store, "hashes-only", "hashes")
    _case(store, "gone", "face")
    with store.transaction() as s:
        cases.withdraw_case(s, "gone", "Ana")
    for ref, error, words in [
        ("hashes-only", ConsentMissing, "no recorded consent to face search"),
        ("gone", ConsentMissing, "withdrawn"),
        ("nobody", CaseNotFound, "no case"),
    ]:
        with pytest.raises(error, match=words), store.transaction() as s:
            enroll_faces(s, ref, [photos["obama.jpg"]], settings, model)
    assert _count(store, FaceEmbedding) == 0
    assert _count(store, BankEntry) == 0


def test_enrolment_takes_exactly_one_usable_face_per_photo(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path], tmp_path: Path
) -> None:
    case_id = _case(store, "c")
    files = {
        "none.jpg": jpeg(scene("coffee")),
        "two.jpg": jpeg(side_by_side(photos["obama2.jpg"], photos["biden.jpg"])),
        "tiny.jpg": jpeg(Image.open(photos["obama2.jpg"]).resize((160, 306))),
        "corrupt.jpg": photos["obama.jpg"].read_bytes()[:2000],
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [photos["obama.jpg"], *(tmp_path / n for n in files), tmp_path / "missing.jpg", photos["obama.jpg"]]
    with store.transaction() as s:
        results = enroll_faces(s, "c", paths, settings, model)
    ok, none, two, tiny, corrupt, missing, dup = results
    assert ok.error is None and ok.entry_id is not None and ok.quality == 100
    assert none.error is not None and "no face found in none.jpg" in none.error
    assert two.error is not None and "2 faces found in two.jpg" in two.error
    assert tiny.error is not None and "too small" in tiny.error and "tiny.jpg" in tiny.error
    assert corrupt.error is not None and "corrupt.jpg" in corrupt.error
    assert missing.error is not None and "missing.jpg" in missing.error
    assert dup.duplicate_of == ok.entry_id and dup.error is None
    assert all(r.entry_id is None for r in (none, two, tiny, corrupt, missing))
    with store.transaction() as s:
        (row,) = s.scalars(select(FaceEmbedding)).all()
        assert row.case_id == case_id and row.model == "dlib-resnet-v1" and row.dim == 128
        assert len(row.vector) == 128 * 4  # the embedding only: no photo, no pixels
        assert s.scalar(select(func.count(BankSignal.id))) == 0  # nothing that bank export could share
        assert s.scalar(select(func.count(BankEntry.id))) == 1


def test_ingest_matches_only_enrolled_faces_and_keeps_no_scanned_face(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path], tmp_path: Path
) -> None:
    case_id = _case(store, "her")
    with store.transaction() as s:
        enroll_faces(s, "her", [photos["obama.jpg"], photos["obama2.jpg"]], settings, model)
    embeddings_before = _count(store, FaceEmbedding)
    room = tmp_path / "room"
    room.mkdir()
    (room / "other-photo-of-her.jpg").write_bytes(photos["obama3.jpg"].read_bytes())
    (room / "someone-else.jpg").write_bytes(photos["biden.jpg"].read_bytes())
    (room / "astronaut.png").write_bytes(jpeg(astronaut()))
    (room / "no-people.jpg").write_bytes(jpeg(scene("chelsea")))
    two = side_by_side(photos["biden.jpg"], photos["obama3.jpg"])
    (room / "two-people.jpg").write_bytes(jpeg(two))
    face = model.faces(working_image(Image.open(photos["obama.jpg"]).convert("RGB"), 2_000_000))[0]
    (room / "swap.jpg").write_bytes(probes(Image.open(photos["obama.jpg"]), face.box, 1, seed=7)[0].jpeg)
    assert _ingest(store, settings, room) == 3
    with store.transaction() as s:
        rows = list_matches(s)
    found = {r["sightings"][0]["path"]: r for r in rows}
    assert set(found) == {"other-photo-of-her.jpg", "two-people.jpg", "swap.jpg"}
    for r in rows:
        assert r["method"] == "face" and r["case"] == case_id and r["bank"] == "case-her"
        assert 0 < r["distance"] <= DLIB_THRESHOLD and len(r["box"]) == 4 and r["time_s"] is None
    left_width = round(Image.open(photos["biden.jpg"]).width * 600 / Image.open(photos["biden.jpg"]).height)
    assert found["two-people.jpg"]["box"][0] > left_width  # her face, not the other person's
    assert _count(store, FaceEmbedding) == embeddings_before  # scanned faces are compared and dropped
    # Running the same folder again adds nothing.
    assert _ingest(store, settings, room) == 0


def test_no_scanning_without_a_consenting_enrolled_case(store: Store, settings: Settings) -> None:
    _case(store, "hashes-only", "hashes")
    _case(store, "face-but-nothing-enrolled", "face")
    with store.transaction() as s:
        assert FaceScanner.load(s, settings) is None  # no model is even loaded


def test_withdrawal_purges_at_once_and_survives_restart_and_rebuild(
    settings: Settings, model: DlibFaceModel, photos: dict[str, Path], tmp_path: Path
) -> None:
    store = open_store(settings)
    her = _case(store, "her")
    other = _case(store, "other")
    with store.transaction() as s:
        enroll_faces(s, "her", [photos["obama.jpg"], photos["obama2.jpg"]], settings, model)
        enroll_faces(s, "other", [photos["biden.jpg"]], settings, model)
    with store.transaction() as s:
        doc = cases.withdraw_case(s, "her", "Ana")
    assert doc["purged_face_embeddings"] == 2 and doc["disabled_bank_entries"] == 2
    assert _count(store, FaceEmbedding, FaceEmbedding.case_id == her) == 0
    assert _count(store, FaceEmbedding, FaceEmbedding.case_id == other) == 1
    store.close()

    restarted = open_store(settings)  # a new process: nothing held in memory
    with restarted.transaction() as s:
        rebuilt = EnrolledFaces.load(s, model.name, model.dim)
        assert {c for c, _, _ in rebuilt.entries} == {other}
    room = tmp_path / "room"
    room.mkdir()
    (room / "her.jpg").write_bytes(photos["obama3.jpg"].read_bytes())
    (room / "other.jpg").write_bytes(jpeg(Image.open(photos["biden.jpg"]), 70))
    assert _ingest(restarted, settings, room) == 1
    with restarted.transaction() as s:
        (row,) = list_matches(s)
    assert row["case"] == other and row["sightings"][0]["path"] == "other.jpg"
    restarted.close()


def test_withdrawal_during_a_running_ingest_stops_matching_on_the_next_item(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path]
) -> None:
    _case(store, "her")
    with store.transaction() as s:
        enroll_faces(s, "her", [photos["obama.jpg"]], settings, model)
        scanner = FaceScanner.load(s, settings, model)
    assert scanner is not None
    hits = scanner.scan(photos["obama3.jpg"].read_bytes(), "image", settings)
    assert len(hits) == 1
    with store.transaction() as s:
        cases.withdraw_case(s, "her", "Ana")  # another process, mid-run
    with store.transaction() as s:
        media_id = _fake_media(s)
        assert scanner.record(s, media_id, hits) == 0
        assert s.scalar(select(func.count(Match.id))) == 0
    assert len(scanner.index) == 0
    assert scanner.scan(photos["obama3.jpg"].read_bytes(), "image", settings) == []


def _fake_media(session: object) -> int:
    from reclaim.store.tables import Media

    m = Media(sha256="0" * 64, md5="0" * 32, media_type="image", size_bytes=1, width=1, height=1)
    session.add(m)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return m.id


def _video(frames: list[np.ndarray], fps: int = 4) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = 2_000_000
        for array in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["fps", "scene"])
def test_video_keyframes_are_scanned(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path], mode: str
) -> None:
    import dataclasses

    case_id = _case(store, "her")
    with store.transaction() as s:
        enroll_faces(s, "her", [photos["obama.jpg"]], settings, model)
    empty = np.asarray(scene("coffee").resize((480, 640)))
    portrait = Image.open(photos["obama3.jpg"]).convert("RGB").resize((394, 640))
    canvas = Image.new("RGB", (480, 640))
    canvas.paste(portrait, (43, 0))
    her = np.asarray(canvas)
    clip = _video([empty] * 8 + [her] * 8)  # 2 s without a face, then 2 s with hers
    faces_settings = dataclasses.replace(settings, faces=dataclasses.replace(settings.faces, video_frames=mode))
    with store.transaction() as s:
        scanner = FaceScanner.load(s, faces_settings, model)
    assert scanner is not None
    (hit,) = scanner.scan(clip, "video", faces_settings)
    assert hit.case_id == case_id and hit.time_s is not None and 2.0 <= hit.time_s <= 4.0
    assert hit.distance <= DLIB_THRESHOLD


def test_a_long_running_matcher_follows_enrolment_and_withdrawal(
    store: Store, settings: Settings, model: DlibFaceModel, photos: dict[str, Path]
) -> None:
    """A Telegram monitor keeps one matcher for hours: it must see a new enrolment and drop a withdrawn case."""
    from reclaim.faces import scan_faces
    from reclaim.matcher import BankMatcher

    _case(store, "her")
    with store.transaction() as s:
        matcher = BankMatcher.load(s)
    data = photos["obama3.jpg"].read_bytes()
    assert scan_faces(store, settings, matcher, data, "image") == []
    assert matcher.faces is not None and matcher.faces.scanner is None  # nobody enrolled: no model loaded
    with store.transaction() as s:
        enroll_faces(s, "her", [photos["obama.jpg"]], settings, model)
    assert len(scan_faces(store, settings, matcher, data, "image")) == 1
    with store.transaction() as s:
        cases.withdraw_case(s, "her", "Ana")
    assert scan_faces(store, settings, matcher, data, "image") == []
