"""Offline package verification: needs only the package and the signing public key. Pure: no DB, no workspace.

What is checked (any failure is reported by name, and the package fails):
- the ZIP is readable, every member's CRC is right, no name appears twice, no member is outside the manifest;
- `manifest.json` is RFC 8785 canonical and its Ed25519 signature (`manifest.sig`) verifies with the key;
- every other member's SHA-256 equals the manifest's (so every byte of every member is covered);
- the checkpoint note is signed by the key, names the key, and agrees with the manifest's tree size and root;
- every entry is canonical, sits at the index it claims, in strictly increasing order, and its RFC 9162 inclusion
  proof leads to the checkpoint's root; earlier checkpoints are signed and consistency-proved against it;
- every item has at least one capture entry in the package naming its SHA-256; with `--identity`, originals
  encrypted for that recipient decrypt and hash to the item's SHA-256.

Not covered, by design: ZIP container metadata (member timestamps, permissions, extra fields, the archive
comment, member order) — changing them changes no evidence; originals encrypted under the workspace hold key can be
checked only as ciphertext; and trust in the key itself — a key read from inside the package proves nothing
about who made it, so pass the key you obtained from the workspace owner with --key.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from reclaim.evidence import package_format as pf
from reclaim.evidence.encoding import is_canonical, leaf_hash
from reclaim.evidence.merkle import ProofError, verify_consistency, verify_inclusion

# A stored package is about as large as its members; far more declared bytes than file bytes is a ZIP bomb.
MAX_EXPANSION = 4
SIGNED = (pf.MANIFEST, pf.MANIFEST_SIG)


@dataclass
class VerifyReport:
    ok: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    key_source: str = "given"
    key_id: str | None = None
    tree_size: int | None = None
    root: str | None = None
    checkpoint_time: str | None = None
    scope: dict[str, Any] | None = None
    entries: int = 0
    items: int = 0
    originals: int = 0
    originals_decrypted: int = 0
    earlier_checkpoints: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "warnings": self.warnings,
            "key": {"source": self.key_source, "key_id": self.key_id},
            "checkpoint": {"tree_size": self.tree_size, "root": self.root, "time": self.checkpoint_time},
            "scope": self.scope,
            "entries": self.entries,
            "items": self.items,
            "originals": self.originals,
            "originals_decrypted": self.originals_decrypted,
            "earlier_checkpoints": self.earlier_checkpoints,
        }


class _Stop(Exception):
    """Nothing further can be checked."""


def verify_package(data: bytes, public_key_pem: bytes | None = None, identity_pem: bytes | None = None) -> VerifyReport:
    """Check a package; the report lists every problem found (ok only when there are none)."""
    report = VerifyReport()
    try:
        _verify(data, public_key_pem, identity_pem, report)
    except _Stop:
        pass
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError) as exc:
        report.problems.append(f"the manifest or a log file is malformed ({exc.__class__.__name__}: {exc})")
    report.ok = not report.problems
    return report


def _verify(data: bytes, public_key_pem: bytes | None, identity_pem: bytes | None, report: VerifyReport) -> None:
    problems = report.problems
    members = _read_members(data, problems)
    for name in SIGNED:
        if name not in members:
            problems.append(f"{name} is missing; this is not a complete Reclaim evidence package")
            raise _Stop
    public = _public_key(public_key_pem, members, report)
    report.key_id = pf.key_id(public)
    manifest_bytes = members[pf.MANIFEST]
    if not pf.signature_ok(public, manifest_bytes, _text(members[pf.MANIFEST_SIG], pf.MANIFEST_SIG, problems)):
        problems.append("manifest.json's signature does not verify: the manifest was altered, or this is the wrong key")
    if not is_canonical(manifest_bytes):
        problems.append("manifest.json is not in canonical (RFC 8785) form: it was altered")
    try:
        manifest = json.loads(manifest_bytes)
    except (ValueError, UnicodeDecodeError):
        problems.append("manifest.json is not JSON")
        raise _Stop from None
    if not isinstance(manifest, dict) or manifest.get("format") != pf.PACKAGE_FORMAT:
        problems.append(f"manifest.json does not declare format {pf.PACKAGE_FORMAT}")
        raise _Stop
    report.scope = manifest.get("scope")
    if manifest.get("key_id") != report.key_id:
        problems.append(
            f"the package names signing key {manifest.get('key_id')} but the key given is {report.key_id}: wrong key"
        )
    _check_files(manifest, members, problems)
    note = _check_checkpoint(manifest, members, public, report)
    entries = _check_entries(manifest, members, note, report)
    _check_older_checkpoints(members, public, note, report)
    _check_items(manifest, members, entries, identity_pem, report)


def _read_members(data: bytes, problems: list[str]) -> dict[str, bytes]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        problems.append(f"the package is not a readable ZIP file (truncated or altered?): {exc}")
        raise _Stop from None
    with zf:
        infos = zf.infolist()
        counts = Counter(i.filename for i in infos)
        for name, n in sorted(counts.items()):
            if n > 1:
                problems.append(f"member '{name}' appears {n} times in the ZIP: the package was altered")
        if sum(i.file_size for i in infos) > MAX_EXPANSION * len(data) + 1_000_000:
            problems.append("the ZIP declares far more content than it holds (a decompression bomb?); not read")
            raise _Stop
        members: dict[str, bytes] = {}
        for info in infos:
            try:
                members[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
                problems.append(f"member '{info.filename}' cannot be read ({exc}): the package was altered or cut")
            except Exception as exc:  # zlib.error and friends from a hostile archive
                problems.append(f"member '{info.filename}' cannot be read ({exc.__class__.__name__}: {exc})")
    return members


def _public_key(pem: bytes | None, members: dict[str, bytes], report: VerifyReport) -> Ed25519PublicKey:
    if pem is None:
        report.key_source = "package"
        report.warnings.append(
            "no --key given: the public key inside the package was used, which proves only that the package is "
            "internally consistent, not who made it. Verify again with the key obtained from the workspace owner."
        )
        pem = members.get(pf.PUBLIC_KEY)
        if pem is None:
            report.problems.append("no --key given and the package carries no public-key.pem")
            raise _Stop
    try:
        return pf.load_signing_public_key(pem)
    except (ValueError, TypeError) as exc:
        where = "public-key.pem in the package" if report.key_source == "package" else "the --key file"
        report.problems.append(f"{where} is not an Ed25519 public key PEM ({exc})")
        raise _Stop from None


def _text(data: bytes, name: str, problems: list[str]) -> str:
    text = pf.signature_file_text(data)
    if text is None:
        problems.append(f"{name} is not one base64 signature on one line: it was altered")
        return ""
    return text


def _check_files(manifest: dict[str, Any], members: dict[str, bytes], problems: list[str]) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        problems.append("manifest.json has no file list")
        raise _Stop
    for name, digest in sorted(listed.items()):
        if name not in members:
            problems.append(f"{name} is listed in the manifest but missing from the package")
        elif hashlib.sha256(members[name]).hexdigest() != digest:
            problems.append(f"{name} does not match its SHA-256 in the manifest: it was altered")
    for name in sorted(set(members) - set(listed) - set(SIGNED)):
        problems.append(f"{name} is in the package but not in the manifest: it was added")


def _check_checkpoint(
    manifest: dict[str, Any], members: dict[str, bytes], public: Ed25519PublicKey, report: VerifyReport
) -> pf.Note:
    problems = report.problems
    if pf.CHECKPOINT not in members or pf.CHECKPOINT_SIG not in members:
        problems.append("the package has no checkpoint (log/checkpoint.txt and log/checkpoint.sig)")
        raise _Stop
    raw = members[pf.CHECKPOINT]
    if not pf.signature_ok(public, raw, _text(members[pf.CHECKPOINT_SIG], pf.CHECKPOINT_SIG, problems)):
        problems.append("the checkpoint's signature does not verify: it was altered, or this is the wrong key")
    try:
        note = pf.parse_note(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"log/checkpoint.txt cannot be read: {exc}")
        raise _Stop from None
    report.tree_size, report.root, report.checkpoint_time = note.size, note.root.hex(), note.time
    if note.key_id != report.key_id:
        problems.append(f"the checkpoint names key {note.key_id}, not the key given ({report.key_id})")
    log = manifest.get("log", {})
    if log.get("tree_size") != note.size or log.get("root") != note.root.hex():
        problems.append(
            f"the manifest describes a log of size {log.get('tree_size')} but the checkpoint is for size {note.size}"
            " (or another root): a proof for another tree size"
        )
    return note


def _check_entries(
    manifest: dict[str, Any], members: dict[str, bytes], note: pf.Note, report: VerifyReport
) -> dict[int, dict[str, Any]]:
    problems = report.problems
    raw = members.get(pf.ENTRIES)
    if raw is None:
        problems.append("log/entries.jsonl is missing")
        return {}
    entries: dict[int, dict[str, Any]] = {}
    previous = -1
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for n, line in enumerate(lines, start=1):
        where = f"log/entries.jsonl line {n}"
        if not is_canonical(line):
            problems.append(f"{where} is not canonical JSON: it was altered")
            continue
        record = json.loads(line)
        index, text, proof = record.get("index"), record.get("entry"), record.get("proof")
        if not isinstance(index, int) or not isinstance(text, str) or not isinstance(proof, list):
            problems.append(f"{where} lacks index, entry or proof")
            continue
        if index <= previous:
            problems.append(f"{where}: entry {index} comes after entry {previous}: entries were reordered")
        previous = max(previous, index)
        entry_bytes = text.encode("utf-8")
        if not is_canonical(entry_bytes):
            problems.append(f"entry {index} is not canonical (RFC 8785) JSON: it was altered")
            continue
        entry = json.loads(entry_bytes)
        if not isinstance(entry, dict) or entry.get("index") != index:
            problems.append(f"entry {index} says it is entry {entry.get('index')}: it was moved")
            continue
        try:
            hashes = [bytes.fromhex(p) for p in proof]
            verify_inclusion(leaf_hash(entry_bytes), index, note.size, hashes, note.root)
        except (ValueError, TypeError) as exc:
            msg = str(exc) if isinstance(exc, ProofError) else f"its proof is malformed ({exc})"
            problems.append(f"entry {index} ({entry.get('kind')}) is not proved in the checkpoint: {msg}")
            continue
        entries[index] = entry
    report.entries = len(entries)
    listed = manifest.get("log", {}).get("entries")
    if listed != sorted(entries) and not problems:
        problems.append("the manifest's list of entries differs from log/entries.jsonl")
    return entries


def _check_older_checkpoints(
    members: dict[str, bytes], public: Ed25519PublicKey, note: pf.Note, report: VerifyReport
) -> None:
    raw = members.get(pf.OLDER_CHECKPOINTS, b"")
    for n, line in enumerate(raw.splitlines(), start=1):
        where = f"log/checkpoints.jsonl line {n}"
        try:
            record = json.loads(line)
            old = pf.parse_note(record["note"])
            if not pf.signature_ok(public, record["note"].encode("utf-8"), record["signature"]):
                report.problems.append(f"{where}: the earlier checkpoint's signature does not verify")
                continue
            proof = [bytes.fromhex(p) for p in record["consistency"]]
            verify_consistency(old.size, note.size, proof, old.root, note.root)
        except ProofError as exc:
            report.problems.append(f"{where}: the log at size {note.size} does not extend that checkpoint: {exc}")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            report.problems.append(f"{where} cannot be read ({exc})")
        else:
            report.earlier_checkpoints += 1


def _check_items(
    manifest: dict[str, Any],
    members: dict[str, bytes],
    entries: dict[int, dict[str, Any]],
    identity_pem: bytes | None,
    report: VerifyReport,
) -> None:
    problems = report.problems
    identity: X25519PrivateKey | None = None
    if identity_pem is not None:
        try:
            identity = pf.load_recipient_private_key(identity_pem)
        except (ValueError, TypeError) as exc:
            problems.append(f"the --identity file is not an X25519 private key PEM ({exc})")
    items = manifest.get("items", [])
    report.items = len(items)
    recipient = manifest.get("recipient")
    hold_encrypted = 0
    for item in items:
        sha = item["sha256"]
        captures = item.get("capture_entries", [])
        if not captures:
            problems.append(f"item {sha[:16]}… has no capture entry in the package")
        for index in captures:
            entry = entries.get(index)
            if entry is None or entry.get("kind") != "capture" or entry.get("body", {}).get("sha256") != sha:
                problems.append(f"item {sha[:16]}…: entry {index} is not a proved capture of this item")
        original = item.get("original")
        if not original:
            continue
        report.originals += 1
        sealed = members.get(original["file"])
        if sealed is None:
            continue  # already reported by the file check
        if original.get("encryption") == "recipient" and identity is not None and recipient is not None:
            try:
                pf.open_for_recipient(identity, recipient, sha, sealed)
            except (ValueError, KeyError) as exc:
                problems.append(f"the original of item {sha[:16]}… cannot be opened with --identity: {exc}")
            else:
                report.originals_decrypted += 1
        elif original.get("encryption") == "workspace-hold-key":
            hold_encrypted += 1
    if hold_encrypted:
        report.warnings.append(
            f"{hold_encrypted} original(s) are encrypted under the workspace's hold key: their ciphertext is covered, "
            "their content can be checked only in the workspace (export with --decrypt-for to hand them over)"
        )
    if report.originals and recipient is not None and identity is None:
        report.warnings.append("originals are encrypted for a recipient; pass --identity to check they decrypt")


def open_originals(data: bytes, public_key_pem: bytes, identity_pem: bytes) -> dict[str, bytes]:
    """Verify the package with the signing key, then decrypt every original sealed for `identity`."""
    report = verify_package(data, public_key_pem, identity_pem)
    if not report.ok:
        raise ValueError("; ".join(report.problems))
    members = _read_members(data, [])
    manifest = json.loads(members[pf.MANIFEST])
    identity = pf.load_recipient_private_key(identity_pem)
    out: dict[str, bytes] = {}
    for item in manifest["items"]:
        original = item.get("original")
        if original and original.get("encryption") == "recipient":
            out[item["sha256"]] = pf.open_for_recipient(
                identity, manifest["recipient"], item["sha256"], members[original["file"]]
            )
    return out
