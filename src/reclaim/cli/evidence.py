"""`reclaim evidence ...` (log, checkpoint, pubkey, export, verify, keygen, open) and `reclaim hold ...`.

`evidence verify` and `evidence open` never touch a workspace: they need only the package and keys.
"""

from __future__ import annotations

import json as jsonlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reclaim.cli.common import JsonFlag, app, short, workspace_settings, workspace_store
from reclaim.errors import EvidenceError, PackageInvalid
from reclaim.evidence import holds
from reclaim.evidence.checkpoints import check_log, checkpoint_json, create_checkpoint, list_checkpoints, prove
from reclaim.evidence.export import export_package, recipient_keygen
from reclaim.evidence.keys import public_pem
from reclaim.evidence.log import log_size, read_entries
from reclaim.evidence.verify import open_originals, verify_package
from reclaim.output import emit_json, stderr, stdout, table

evidence_app = typer.Typer(
    help="The evidence log, signed checkpoints, sealed packages and their offline verification.", no_args_is_help=True
)
hold_app = typer.Typer(
    help="Evidence holds: keep the originals of a room or a case (encrypted); without a hold only hashes are kept.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")
app.add_typer(hold_app, name="hold")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceError(f"cannot read {what} '{path}' ({exc.strerror or exc.__class__.__name__})") from exc


@evidence_app.command("log")
def evidence_log(
    since: Annotated[int, typer.Option("--since", help="First entry index to show.", min=0)] = 0,
    limit: Annotated[int | None, typer.Option("--limit", help="Show at most this many entries.", min=1)] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only entries of this kind (capture, decision, ...).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Show log entries from --since on (entries are never edited or deleted)."""
    store = workspace_store()
    with store.transaction() as session:
        size = log_size(session)
        rows = read_entries(session, since, limit, kind)
    if json:
        emit_json(
            {
                "size": size,
                "entries": [
                    {"index": r.index, "kind": r.kind, "leaf_hash": r.leaf_hash, "entry": jsonlib.loads(r.entry)}
                    for r in rows
                ],
            }
        )
        return
    out = []
    for r in rows:
        doc = jsonlib.loads(r.entry)
        body = doc["body"]
        subject = body.get("sha256") or body.get("case_ref") or body.get("action") or ""
        room = body.get("room") or {}
        out.append(
            [r.index, r.kind, doc["logged_at"], short(str(subject)), room.get("platform_id", ""), short(r.leaf_hash)]
        )
    table(f"Evidence log ({size} entries)", ["index", "kind", "logged at (UTC)", "subject", "room", "leaf hash"], out)


@evidence_app.command("checkpoint")
def evidence_checkpoint(json: JsonFlag = False) -> None:
    """Sign the log as it is now: tree size, root and UTC time (after checking it against earlier checkpoints)."""
    settings = workspace_settings()
    store = workspace_store()
    with store.transaction() as session:
        doc = create_checkpoint(session, settings)
    if json:
        emit_json(doc)
    else:
        stdout.print(
            f"Checkpoint #{doc['id']}: size {doc['tree_size']}, root {doc['root']}, signed {doc['signed_at']} "
            f"with key {doc['key_id']}."
        )


@evidence_app.command("checkpoints")
def evidence_checkpoints(json: JsonFlag = False) -> None:
    """List every checkpoint (they are never rewritten)."""
    store = workspace_store()
    with store.transaction() as session:
        docs = [checkpoint_json(c) for c in list_checkpoints(session)]
    if json:
        emit_json(docs)
        return
    rows = [[d["id"], d["tree_size"], d["root"], d["signed_at"], d["key_id"]] for d in docs]
    table("Checkpoints", ["id", "size", "root", "signed at (UTC)", "key"], rows)


@evidence_app.command("check")
def evidence_check(json: JsonFlag = False) -> None:
    """Recompute the log from its entries and check it against every checkpoint (signs nothing)."""
    settings = workspace_settings()
    store = workspace_store()
    with store.transaction() as session:
        doc = check_log(session, settings)
    if json:
        emit_json(doc)
    else:
        stdout.print(
            f"The log ({doc['tree_size']} entries, root {doc['root']}) matches all {doc['checkpoints_checked']} "
            "checkpoint(s)."
        )


@evidence_app.command("proof")
def evidence_proof(
    index: Annotated[int | None, typer.Option("--index", help="Inclusion proof of this entry.", min=0)] = None,
    first: Annotated[int | None, typer.Option("--from", help="Consistency proof from this tree size.", min=0)] = None,
    size: Annotated[
        int | None, typer.Option("--size", help="In the tree of this size (default: the latest checkpoint's).", min=0)
    ] = None,
) -> None:
    """Print an RFC 9162 inclusion or consistency proof as JSON, for someone who holds a checkpoint."""
    store = workspace_store()
    with store.transaction() as session:
        doc = prove(session, index=index, first=first, size=size)
    emit_json(doc)


@evidence_app.command("pubkey")
def evidence_pubkey(
    out: Annotated[Path | None, typer.Option("--out", help="Write the PEM here instead of printing it.")] = None,
) -> None:
    """Print the checkpoint-signing public key (PEM) to hand to whoever will verify packages."""
    pem = public_pem(workspace_settings())
    if out is None:
        sys.stdout.write(pem.decode("ascii"))
        return
    try:
        out.write_bytes(pem)
    except OSError as exc:
        raise EvidenceError(f"cannot write '{out}' ({exc.strerror})") from exc
    stderr.print(f"Public key written to {out}.")


@evidence_app.command("export")
def evidence_export(
    out: Annotated[Path, typer.Option("--out", help="The package to write (a .zip).")],
    case: Annotated[str | None, typer.Option("--case", help="Case reference.")] = None,
    room: Annotated[str | None, typer.Option("--room", help="Room platform id (or a folder ingest's --room).")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Only this platform's room (with --room).")] = None,
    decrypt_for: Annotated[
        Path | None,
        typer.Option("--decrypt-for", help="X25519 public key PEM: originals are re-encrypted for that recipient."),
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Write a sealed, signed evidence package for a case or a room (the export itself is logged)."""
    recipient = _read(decrypt_for, "the recipient key") if decrypt_for is not None else None
    settings = workspace_settings()
    store = workspace_store()
    with store.transaction() as session:
        doc = export_package(session, settings, out, case=case, room=room, platform=platform, decrypt_for=recipient)
    if json:
        emit_json(doc)
    else:
        stdout.print(
            f"Wrote {doc['package']}: {doc['items']} items ({doc['originals']} originals), {doc['entries']} log "
            f"entries proved in checkpoint size {doc['tree_size']}. SHA-256 {doc['package_sha256']}."
        )


@evidence_app.command("verify")
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="The package (.zip).")],
    key: Annotated[
        Path | None, typer.Option("--key", help="The workspace's public key PEM, obtained from its owner.")
    ] = None,
    identity: Annotated[
        Path | None, typer.Option("--identity", help="Recipient private key: also check encrypted originals.")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Check a package offline (no workspace): every hash, signature and proof. Exits 2 naming what broke."""
    report = verify_package(
        _read(package, "the package"),
        _read(key, "the public key") if key is not None else None,
        _read(identity, "the identity key") if identity is not None else None,
    )
    if json:
        emit_json(report.to_json())
        if not report.ok:
            raise typer.Exit(PackageInvalid.exit_code)
        return
    for warning in report.warnings:
        stderr.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if not report.ok:
        raise PackageInvalid(
            f"{package} FAILED verification ({len(report.problems)} problem(s)):\n  - "
            + "\n  - ".join(report.problems),
            report.problems,
        )
    stdout.print(
        f"{package} verified: {report.entries} entries proved in the checkpoint of size {report.tree_size} "
        f"(root {report.root}, signed {report.checkpoint_time}) by key {report.key_id} ({report.key_source}); "
        f"{report.items} items, {report.originals} originals, {report.earlier_checkpoints} earlier checkpoints "
        "consistent."
    )


@evidence_app.command("keygen")
def evidence_keygen(
    name: Annotated[Path, typer.Argument(help="Writes NAME.key (private, 0600) and NAME.pub (give this out).")],
    json: JsonFlag = False,
) -> None:
    """Make an X25519 recipient key pair for `evidence export --decrypt-for NAME.pub`."""
    doc = recipient_keygen(name.with_name(name.name + ".key"), name.with_name(name.name + ".pub"))
    if json:
        emit_json(doc)
    else:
        stdout.print(f"Private key {doc['private_key']} (keep it secret), public key {doc['public_key']}.")


@evidence_app.command("open")
def evidence_open(
    package: Annotated[Path, typer.Argument(help="The package (.zip).")],
    key: Annotated[Path, typer.Option("--key", help="The workspace's public key PEM.")],
    identity: Annotated[Path, typer.Option("--identity", help="Your recipient private key (NAME.key).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the decrypted originals (created, mode 0700).")],
    json: JsonFlag = False,
) -> None:
    """Verify a package, then decrypt the originals it carries for you into --out (named by SHA-256)."""
    try:
        originals = open_originals(
            _read(package, "the package"), _read(key, "the public key"), _read(identity, "the identity key")
        )
    except ValueError as exc:
        raise EvidenceError(f"{package} cannot be opened: {exc}") from exc
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
        written: list[dict[str, Any]] = []
        for sha, data in sorted(originals.items()):
            path = out / sha
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            written.append({"sha256": sha, "path": str(path), "size_bytes": len(data)})
    except OSError as exc:
        raise EvidenceError(f"cannot write into '{out}' ({exc.strerror})") from exc
    if json:
        emit_json({"originals": written})
    else:
        stdout.print(f"Decrypted {len(written)} original(s) into {out}; each file is named by its verified SHA-256.")


@hold_app.command("add")
def hold_add(
    room: Annotated[
        str | None, typer.Option("--room", help="Room platform id (Telegram) or a folder ingest's --room name.")
    ] = None,
    case: Annotated[str | None, typer.Option("--case", help="Case reference: media matching its banks.")] = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Only this platform (default: any).")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why (e.g. a preservation request reference).")] = None,
    json: JsonFlag = False,
) -> None:
    """Keep originals of a room (it may not have been seen yet) or of a case's matches, encrypted at rest."""
    settings = workspace_settings()
    store = workspace_store()
    with store.transaction() as session:
        doc = holds.add_hold(session, settings, room=room, platform=platform, case=case, note=note)
    if json:
        emit_json(doc)
    else:
        stdout.print(f"Hold #{doc['id']} on {_target(doc)}: originals sighted there from now on are kept encrypted.")


@hold_app.command("list")
def hold_list(
    all_: Annotated[bool, typer.Option("--all", help="Include removed holds.")] = False,
    json: JsonFlag = False,
) -> None:
    """Holds in force (or all, with --all) and how many originals each kept."""
    store = workspace_store()
    with store.transaction() as session:
        docs = holds.list_holds(session, include_removed=all_)
    if json:
        emit_json(docs)
        return
    rows = [
        [d["id"], _target(d), d["created_at"], d["created_by"], d["originals_kept"], d["removed_at"] or "", d["note"]]
        for d in docs
    ]
    table("Evidence holds", ["id", "on", "since", "by", "originals kept", "removed", "note"], rows)


@hold_app.command("remove")
def hold_remove(
    hold_id: Annotated[int, typer.Argument(help="The hold's id (see `reclaim hold list`).")],
    json: JsonFlag = False,
) -> None:
    """End a hold: nothing new is kept; originals already kept stay (the removal is logged)."""
    settings = workspace_settings()
    store = workspace_store()
    with store.transaction() as session:
        doc = holds.remove_hold(session, settings, hold_id)
    if json:
        emit_json(doc)
    else:
        stdout.print(f"Hold #{doc['id']} on {_target(doc)} ended; {doc['originals_kept']} kept original(s) remain.")


def _target(doc: dict[str, Any]) -> str:
    if doc["scope"] == "case":
        return f"case {doc['case']}"
    return f"room {doc['platform_id']}" + (f" ({doc['platform']})" if doc["platform"] else "")
