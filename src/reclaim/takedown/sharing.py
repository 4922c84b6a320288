"""Hash sharing with partner platforms: export a case's confirmed items, import exchange files into banks.

Two formats out: python-threatexchange's text format (`pytx`), and a StopNCII-style JSON (PDQ for images, MD5 for
videos, as StopNCII shares them). Nothing that names her travels: no case reference, no locators, only hashes.
Every export is written to the evidence log. Imports go into `imported` banks (created on first use), or, for a
victim's own self-hash file, into her case's protected bank.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.accounts import Principal, scoped_case
from reclaim.banks import create_bank, get_bank, import_bank
from reclaim.cases import case_bank
from reclaim.errors import BankNotFound, ConfigError, ExchangeFormatError, Forbidden, UnsupportedMedia
from reclaim.evidence.log import append_entry
from reclaim.media.image import decode_image
from reclaim.media.sniff import kind_from_bytes
from reclaim.settings import Limits
from reclaim.signals.exchange import pytx_lines
from reclaim.signals.pdq import pdq_of_decoded
from reclaim.store.tables import Bank, BankEntry, Match, Media, Signal

FORMATS = ("pytx", "stopncii")
STOPNCII_FORMAT = "reclaim-stopncii-style/1"
MAX_IMPORT_RECORDS = 1_000_000


def _confirmed(session: Session, case_id: int) -> list[tuple[int, str, str, str, str]]:
    """(media id, media type, md5, pdq or "", sha256) of the case's confirmed matches."""
    rows = session.execute(
        select(Media.id, Media.media_type, Media.md5, Media.sha256)
        .join(Match, Match.media_id == Media.id)
        .join(BankEntry, BankEntry.id == Match.bank_entry_id)
        .join(Bank, Bank.id == BankEntry.bank_id)
        .where(Bank.case_id == case_id, Match.status == "confirmed")
        .distinct()
        .order_by(Media.id)
    ).all()
    ids = [r[0] for r in rows]
    pdq = (
        dict(
            session.execute(
                select(Signal.media_id, Signal.value).where(Signal.media_id.in_(ids), Signal.signal_type == "pdq")
            ).all()
        )
        if ids
        else {}
    )
    return [(mid, mt, md5, pdq.get(mid, ""), sha) for mid, mt, md5, sha in rows]


def export_case(session: Session, who: Principal, case_key: str, fmt: str) -> str:
    """The case's confirmed items as an exchange file (text), logged as an `export` evidence entry."""
    who.require("share")
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    case = scoped_case(session, who, case_key)
    items = _confirmed(session, case.id)
    if fmt == "pytx":
        records: list[tuple[str, Any, str]] = []
        for _, mt, md5, pdq, _sha in items:
            records.append(("md5", mt, md5))
            if pdq:
                records.append(("pdq", mt, pdq))
        text = "".join(line + "\n" for line in pytx_lines(records))
    else:
        hashes = []
        for _, mt, md5, pdq, _sha in items:
            if mt == "image" and pdq:
                hashes.append({"media_type": "image", "algorithm": "pdq", "value": pdq})
            else:
                hashes.append({"media_type": mt, "algorithm": "md5", "value": md5})
        text = json.dumps({"format": STOPNCII_FORMAT, "hashes": hashes}, indent=2) + "\n"
    append_entry(
        session,
        "export",
        {"case_id": case.id, "what": "hash-sharing", "format": fmt, "items": len(items), "by": who.name},
    )
    return text


def parse_stopncii(text: str) -> list[str]:
    """A StopNCII-style JSON file as pytx lines, so one importer validates every value."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExchangeFormatError(
            f"the file is not JSON ({exc.msg} at line {exc.lineno}); nothing imported", []
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("hashes"), list):
        raise ExchangeFormatError("the JSON has no 'hashes' list; nothing imported", [])
    if len(doc["hashes"]) > MAX_IMPORT_RECORDS:
        raise ExchangeFormatError(f"more than {MAX_IMPORT_RECORDS:,} hashes; split the file", [])
    lines = []
    for n, h in enumerate(doc["hashes"], start=1):
        if not isinstance(h, dict):
            raise ExchangeFormatError(f"hash {n} is not an object; nothing imported", [(n, "not an object")])
        algo, value, mt = h.get("algorithm"), h.get("value"), h.get("media_type", "image")
        if algo == "pdq" and mt == "image":
            lines.append(f"pdq {value}")
        elif algo == "md5" and mt == "video":
            lines.append(f"video_md5 {value}")
        else:
            raise ExchangeFormatError(
                f"hash {n}: unsupported algorithm/media type '{algo}'/'{mt}'; nothing imported", [(n, "unsupported")]
            )
    return lines


def import_file(
    session: Session,
    who: Principal,
    text: str,
    fmt: str,
    bank: str | None = None,
    case_key: str | None = None,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Import an exchange file into an `imported` bank (created if new), or a self-hash file into a case's bank."""
    who.require("share")
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    lines: Iterable[str] = parse_stopncii(text) if fmt == "stopncii" else text.splitlines()
    if case_key is not None:
        case = scoped_case(session, who, case_key)
        target = case_bank(session, case)
    else:
        if not bank:
            raise ConfigError("name the imported bank (--bank NAME) or the case whose own hashes these are (--case)")
        try:
            target = get_bank(session, bank)
        except BankNotFound:
            target = create_bank(session, bank, "imported", {}, note="imported exchange file")
        if target.kind != "imported":
            raise Forbidden(f"bank '{bank}' is a {target.kind} bank; exchange files go into imported banks")
    report = import_bank(session, target.name, lines, "pytx", skip_invalid)
    return {"bank": target.name, **report.to_json()}


def self_hash(paths: list[Path], limits: Limits) -> dict[str, Any]:
    """A victim's own photos and videos, hashed on her device: only hashes come out (StopNCII-style JSON).

    Images give PDQ, videos MD5, as StopNCII shares them. Nothing else about the files (names, sizes) is written.
    """
    hashes: list[dict[str, Any]] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read '{path}' ({exc.strerror}); nothing was written") from exc
        kind = kind_from_bytes(data[:64])
        if kind == "image":
            value, _quality, _variants = pdq_of_decoded(decode_image(data, limits))
            hashes.append({"media_type": "image", "algorithm": "pdq", "value": value})
        elif kind == "video":
            hashes.append({"media_type": "video", "algorithm": "md5", "value": hashlib.md5(data).hexdigest()})  # noqa: S324
        else:
            raise UnsupportedMedia(f"'{path.name}' is neither an image nor a video; nothing was written")
    return {"format": STOPNCII_FORMAT, "hashes": hashes}
