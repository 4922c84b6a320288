"""Telegram commands: ingest an export, monitor live rooms, and list rooms, actors and request → output pairs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reclaim import output
from reclaim.cli.common import JsonFlag, app, ingest_app, short, workspace_settings, workspace_store
from reclaim.errors import NothingProcessed
from reclaim.output import emit_json, stderr, stdout, table
from reclaim.rooms import listings
from reclaim.rooms.telegram_ingest import TelegramSummary, ingest_export
from reclaim.sources.telegram_export import TelegramExport
from reclaim.workspace import open_store

monitor_app = typer.Typer(help="Watch live rooms and ingest what is posted.", no_args_is_help=True)
app.add_typer(monitor_app, name="monitor")


@ingest_app.command("telegram-export")
def ingest_telegram_export(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Telegram Desktop export folder (with result.json).")],
    json: JsonFlag = False,
) -> None:
    """Record the rooms, actors and messages of a Telegram Desktop JSON export; hash and match its media."""
    settings = workspace_settings()
    store = open_store(settings)
    export = TelegramExport(path, settings.limits.max_bytes)
    with output.progress(f"Ingesting {path}", not json) as bar:

        def tick(s: TelegramSummary) -> None:
            if bar is not None:
                bar.update(bar.task_ids[0], completed=s.messages, description=f"{s.messages:,} messages")

        summary = ingest_export(store, export, settings, tick)
    print_summary(summary, json)
    if summary.incomplete:
        raise NothingProcessed(summary.incomplete)


def print_summary(summary: TelegramSummary, json: bool) -> None:
    if json:
        emit_json(summary.to_json())
        return
    stdout.print(
        f"{summary.rooms} rooms, {summary.messages:,} new messages; media: {summary.new_media} new, "
        f"{summary.duplicates} already known, {summary.missing_media} not in the export, "
        f"{len(summary.errors)} errors; {summary.matches} new matches, {summary.pairs} request → output pairs."
    )
    if summary.errors:
        table("Errors", ["item", "reason"], [(e["path"], e["reason"]) for e in summary.errors[:200]])
        if len(summary.errors) > 200:
            stderr.print(f"… and {len(summary.errors) - 200} more; `--json` lists them all.")


rooms_app = typer.Typer(help="List rooms; `rooms lineage` joins recreated rooms.", invoke_without_command=True)
actors_app = typer.Typer(help="List accounts; `actors stats` counts them uniquely.", invoke_without_command=True)
app.add_typer(rooms_app, name="rooms")
app.add_typer(actors_app, name="actors")


@rooms_app.callback()
def rooms(
    ctx: typer.Context,
    platform: Annotated[str | None, typer.Option("--platform", help="Only rooms of this platform.")] = None,
    json: JsonFlag = False,
) -> None:
    """List rooms with their titles over time, counts and activity span."""
    if ctx.invoked_subcommand is not None:
        return
    with workspace_store().transaction() as session:
        rows = listings.list_rooms(session, platform)
    if json:
        emit_json(rows)
        return
    table(
        "Rooms",
        ["id", "title (latest)", "type", "titles", "messages", "media", "missing", "actors", "active", "members"],
        [
            (
                r["id"],
                r["titles"][-1]["title"] if r["titles"] else "",
                r["type"],
                len(r["titles"]),
                r["messages"],
                r["media"],
                r["missing_media"],
                r["actors"],
                f"{(r['first_message_at'] or '')[:10]} → {(r['last_message_at'] or '')[:10]}",
                r["participants_count"],
            )
            for r in rows
        ],
    )


@actors_app.callback()
def actors(
    ctx: typer.Context,
    room: Annotated[str | None, typer.Option("--room", help="Only actors seen in this room (id from `rooms`).")] = None,
    json: JsonFlag = False,
) -> None:
    """List accounts seen in rooms, with their names over time and what they posted."""
    if ctx.invoked_subcommand is not None:
        return
    with workspace_store().transaction() as session:
        rows = listings.list_actors(session, room)
    if json:
        emit_json(rows)
        return
    table(
        "Actors",
        ["id", "names", "bot", "rooms", "messages", "media"],
        [
            (a["id"], " → ".join(a["names"]), "yes" if a["is_bot"] else "", a["rooms"], a["messages"], a["media"])
            for a in rows
        ],
    )


@app.command()
def pairs(
    room: Annotated[str | None, typer.Option("--room", help="Only pairs in this room.")] = None,
    json: JsonFlag = False,
) -> None:
    """List request → output pairs: media posted in answer to a photo, with the evidence for each link."""
    with workspace_store().transaction() as session:
        rows = listings.list_pairs(session, room)
    if json:
        emit_json(rows)
        return
    table(
        "Request → output pairs",
        ["id", "room", "rule", "request msg", "request media", "output msg", "output media", "seconds"],
        [
            (
                p["id"],
                p["room"],
                p["rule"],
                p["source"]["message_id"],
                short(p["source"]["media_sha256"]),
                p["output"]["message_id"],
                short(p["output"]["media_sha256"]),
                p["evidence"].get("seconds"),
            )
            for p in rows
        ],
    )


@monitor_app.command("telegram")
def monitor_telegram(
    rooms: Annotated[list[str], typer.Argument(metavar="ROOM...", help="@name, t.me/+invite or a numeric id.")],
    since: Annotated[
        int | None, typer.Option("--since", help="Start after this message id (else the checkpoint).")
    ] = None,
    once: Annotated[bool, typer.Option("--once", help="Catch up and stop instead of following new messages.")] = False,
    poll: Annotated[float, typer.Option("--poll", help="Seconds between checks for new messages.")] = 30.0,
    json: JsonFlag = False,
) -> None:
    """Monitor live rooms with Telethon: catch up from each room's checkpoint, then follow new messages."""
    import asyncio

    from reclaim.rooms.monitor import monitor_live

    settings = workspace_settings()
    store = open_store(settings)
    result = asyncio.run(monitor_live(store, settings, rooms, since, not once, poll))
    for invite in result.invites:
        stderr.print(
            f"Invite {invite.ref}: '{invite.title}', {invite.participants_count} members; "
            + (
                "readable without joining."
                if invite.member
                else "not joined (Reclaim never joins); join to monitor it."
            )
        )
    print_summary(result.summary, json)
