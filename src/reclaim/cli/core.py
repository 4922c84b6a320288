"""The foundation commands: init, hash, bank, ingest folder, matches, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reclaim import banks, output
from reclaim.cli.common import JsonFlag, app, bank_app, ingest_app, short, state, workspace_settings, workspace_store
from reclaim.errors import NothingProcessed, ReclaimError
from reclaim.media.sniff import kind_from_name
from reclaim.output import emit_json, stderr, stdout, table
from reclaim.pipeline import IngestSummary, ingest
from reclaim.review.queue import list_matches
from reclaim.settings import load_settings, save_database_url
from reclaim.signals.hashing import hash_media
from reclaim.sources.folder import FolderSource
from reclaim.workspace import init_workspace, open_store


@app.command()
def init(
    db: Annotated[str | None, typer.Option("--db", help="Database URL, e.g. postgresql+psycopg://host/db.")] = None,
    json: JsonFlag = False,
) -> None:
    """Create the workspace and bring its database up to date (safe to run again)."""
    settings = load_settings(state.home, db)
    result = init_workspace(settings)
    if db:
        save_database_url(settings.home, db)
    if json:
        emit_json({"home": result.home, "database": result.database, "revision": result.revision})
    else:
        stdout.print(
            f"Workspace ready at [bold]{result.home}[/] (database {result.database}, schema {result.revision})."
        )


@app.command("hash")
def hash_command(
    files: Annotated[list[Path], typer.Argument(help="Image or video files.")],
    json: JsonFlag = False,
) -> None:
    """Hash files without a workspace: SHA-256, MD5, PDQ (images) and vPDQ (videos)."""
    limits = workspace_settings().limits
    records: list[dict[str, Any]] = []
    for path in files:
        record: dict[str, Any] = {
            "path": str(path),
            "media_type": None,
            "sha256": None,
            "md5": None,
            "pdq": None,
            "pdq_quality": None,
            "vpdq": None,
            "error": None,
        }
        try:
            hashed = hash_media(path.read_bytes(), limits, kind_from_name(path.name))
        except ReclaimError as exc:
            record["error"] = str(exc)
        except OSError as exc:
            record["error"] = f"cannot read the file ({exc.strerror or exc.__class__.__name__})"
        else:
            pdq = hashed.signals.get("pdq")
            vpdq = hashed.signals.get("vpdq")
            record.update(
                media_type=hashed.media_type,
                sha256=hashed.sha256,
                md5=hashed.md5,
                pdq=pdq.value if pdq else None,
                pdq_quality=pdq.quality if pdq else None,
                vpdq=_vpdq_json(vpdq.value) if vpdq else None,
            )
        records.append(record)
    if json:
        emit_json(records)
    else:
        table(
            None,
            ["file", "type", "sha256", "pdq", "quality", "error"],
            [
                (
                    r["path"],
                    r["media_type"],
                    short(r["sha256"]),
                    short(r["pdq"]) if r["pdq"] else (f"vPDQ, {len(r['vpdq'])} frames" if r["vpdq"] else ""),
                    r["pdq_quality"],
                    r["error"],
                )
                for r in records
            ],
        )
    if not any(r["error"] is None for r in records):
        raise NothingProcessed("none of the files could be hashed; see the errors above")


def _vpdq_json(value: str) -> list[dict[str, Any]]:
    from reclaim.signals.vpdq import parse_vpdq

    return [{"frame": f.frame, "quality": f.quality, "pdq": f.pdq, "timestamp": f.timestamp} for f in parse_vpdq(value)]


@bank_app.command("create")
def bank_create(
    name: str,
    kind: Annotated[str, typer.Option("--kind", help="protected | known | imported | negative")],
    threshold: Annotated[
        list[str] | None, typer.Option("--threshold", help="SIGNAL=DISTANCE, e.g. pdq=31; repeatable.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    json: JsonFlag = False,
) -> None:
    """Create a bank."""
    thresholds = banks.parse_thresholds(threshold or [])
    store = workspace_store()
    with store.transaction() as session:
        banks.create_bank(session, name, kind, thresholds, note)
        shown = next(b for b in banks.list_banks(session) if b["name"] == name)
    if json:
        emit_json(shown)
    else:
        stdout.print(f"Created {kind} bank [bold]{name}[/] (thresholds: {shown['thresholds']}).")


@bank_app.command("add")
def bank_add(
    name: str,
    files: Annotated[list[Path], typer.Argument(help="Photos or videos to enroll (hash-only).")],
    note: Annotated[str | None, typer.Option("--note", help="Note for every entry (default: the file name).")] = None,
    whole: Annotated[
        bool,
        typer.Option("--whole", help="Enrol every image whole, even a screenshot (default: the picture it shows)."),
    ] = False,
    json: JsonFlag = False,
) -> None:
    """Hash files into a bank. Only signals and a note are stored, never the bytes."""
    settings = workspace_settings()
    store = open_store(settings)
    with output.progress("Hashing", not json), store.transaction() as session:
        results = banks.add_files(session, name, files, settings.limits, note, settings.signals, whole=whole)
    if json:
        emit_json([r.to_json() for r in results])
    else:
        table(
            f"Bank {name}",
            ["file", "entry", "pdq", "result"],
            [
                (
                    r.path,
                    r.entry_id,
                    short(r.signals.get("pdq")),
                    r.error
                    or (f"already in the bank as entry {r.duplicate_of}" if r.duplicate_of else r.warning or _added(r))
                    + (f"; matches {r.earlier_matches} media seen earlier" if r.earlier_matches else ""),
                )
                for r in results
            ],
        )
    if not any(r.error is None for r in results):
        raise NothingProcessed("no file could be added; see the errors above")


def _added(r: banks.AddResult) -> str:
    if r.shown_picture is None:
        return "added"
    x, y, w, h = r.shown_picture
    return (
        f"added the picture this screenshot shows ({w}x{h} at {x},{y}); the chat around it is left out "
        "(--whole to enrol all of it)"
    )


@bank_app.command("list")
def bank_list(json: JsonFlag = False) -> None:
    """List banks with their kind, thresholds and entry counts."""
    with workspace_store().transaction() as session:
        rows = banks.list_banks(session)
    if json:
        emit_json(rows)
    else:
        table(
            "Banks",
            ["name", "kind", "entries", "thresholds", "note"],
            [(b["name"], b["kind"], b["entries"], b["thresholds"], b["note"]) for b in rows],
        )


@bank_app.command("show")
def bank_show(name: str, json: JsonFlag = False) -> None:
    """Show a bank's entries and their signals."""
    with workspace_store().transaction() as session:
        doc = banks.show_bank(session, name)
    if json:
        emit_json(doc)
    else:
        table(
            f"{doc['name']} ({doc['kind']}, thresholds {doc['thresholds']})",
            ["entry", "note", "signals"],
            [
                (e["id"], e["note"], ", ".join(f"{k} {short(v)}" for k, v in sorted(e["signals"].items())))
                for e in doc["entries"]
            ],
        )


@bank_app.command("export")
def bank_export(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="Exchange format: pytx.")] = "pytx",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout).")] = None,
) -> None:
    """Export a bank's signals in python-threatexchange's text format."""
    with workspace_store().transaction() as session:
        lines = list(banks.export_bank(session, name, fmt))
    text = "".join(line + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        stderr.print(f"Wrote {len(lines)} signals to {out}.")


@bank_app.command("import")
def bank_import(
    name: str,
    file: Path,
    fmt: Annotated[str, typer.Option("--format", help="Exchange format: pytx.")] = "pytx",
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Import valid lines, report the rest.")] = False,
    json: JsonFlag = False,
) -> None:
    """Import an exchange file into a bank; nothing is imported if a line is invalid (unless --skip-invalid)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReclaimError(f"cannot read '{file}' as UTF-8 text ({exc}); give a pytx signal file") from exc
    with workspace_store().transaction() as session:
        report = banks.import_bank(session, name, text.splitlines(), fmt, skip_invalid)
    if json:
        emit_json(report.to_json())
    else:
        stdout.print(f"Imported {report.imported} signals into {name} ({report.duplicates} already there).")
        for bad in report.bad_lines:
            stderr.print(f"  skipped line {bad['line']}: {bad['reason']}")


@ingest_app.command("folder")
def ingest_folder(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to walk recursively.")],
    room: Annotated[str | None, typer.Option("--room", help="Room name for what this folder holds.")] = None,
    json: JsonFlag = False,
) -> None:
    """Hash every image and video under DIR, record sightings and match against every enabled bank."""
    settings = workspace_settings()
    store = open_store(settings)
    source = FolderSource(directory, room, settings.limits.max_bytes)
    with output.progress(f"Ingesting {directory}", not json) as bar:

        def tick(s: IngestSummary) -> None:
            if bar is not None:
                bar.update(bar.task_ids[0], completed=s.files)

        summary = ingest(store, source, settings, tick)
    _print_summary(summary, json)
    if summary.processed == 0:
        raise NothingProcessed(
            "no media could be processed" + (f" ({len(summary.errors)} errors)" if summary.errors else " (none found)")
        )


def _print_summary(summary: IngestSummary, json: bool) -> None:
    if json:
        emit_json(summary.to_json())
        return
    stdout.print(
        f"{summary.files} files: {summary.new_media} new, {summary.duplicates} already known, "
        f"{len(summary.errors)} errors, {summary.matches} new matches"
        + (f", {summary.low_quality} low-quality (not matched on PDQ)" if summary.low_quality else "")
        + (f", {summary.suppressed} suppressed by negative banks" if summary.suppressed else "")
        + "."
    )
    if summary.errors:
        table("Errors", ["file", "reason"], [(e["path"], e["reason"]) for e in summary.errors])


@app.command()
def matches(
    status: Annotated[str | None, typer.Option("--status", help="pending | confirmed | rejected")] = None,
    bank: Annotated[str | None, typer.Option("--bank", help="Only matches against this bank.")] = None,
    json: JsonFlag = False,
) -> None:
    """List matches with where the matched media was seen."""
    with workspace_store().transaction() as session:
        rows = list_matches(session, status, bank)
    if json:
        emit_json(rows)
    else:
        # Score and region only when some match has them (verified derivatives, SSCD, vPDQ), to keep it narrow.
        extra = [c for c in ("score", "region") if any(m.get(c) is not None for m in rows)]
        table(
            "Matches",
            ["id", "bank", "entry", "method", "distance", *extra, "status", "seen at"],
            [
                (
                    m["id"],
                    m["bank"],
                    m["bank_entry_id"],
                    m["method"],
                    f"{m['distance']:g}",
                    *[_score_or_region(c, m.get(c)) for c in extra],
                    m["status"],
                    "; ".join(f"{s['room']}: {s['path'] or s['message_id']}" for s in m["sightings"]),
                )
                for m in rows
            ],
        )


def _score_or_region(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column == "score":
        return f"{value:.2f}"
    return "x{} y{} {}x{}".format(*value)


@app.command()
def demo(
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Build the demo world and workspace here and keep them.")
    ] = None,
) -> None:
    """Build a small synthetic world, enroll a protected person's photos hash-only, ingest, and show matches."""
    from reclaim.demo import run_demo

    run_demo(keep)
