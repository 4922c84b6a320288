"""Intelligence commands: lineage of recreated rooms, unique accounts, institutions, and the rooms report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reclaim.cli.common import JsonFlag, app, workspace_store
from reclaim.cli.telegram import actors_app, rooms_app
from reclaim.output import emit_json, stdout, table

report_app = typer.Typer(help="Reports for investigators.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@rooms_app.command("lineage")
def rooms_lineage(
    threshold: Annotated[
        float | None, typer.Option("--threshold", min=0.0, max=1.0, help="Link score to join rooms (default 0.5).")
    ] = None,
    singles: Annotated[bool, typer.Option("--all", help="Also list rooms with no recreation found.")] = False,
    json: JsonFlag = False,
) -> None:
    """Rooms judged to be one room deleted and recreated, oldest first, with the evidence for every link."""
    with workspace_store().transaction() as session:
        from reclaim.intel import lineage  # scipy: loaded only when asked for

        rows = lineage.room_lineages(session, threshold, 1 if singles else 2)
    if json:
        emit_json(rows)
        return
    for lin in rows:
        table(
            f"{lin['lineage_id']}: {' → '.join(lin['rooms'])}",
            ["from", "to", "score", "reasons"],
            [(lk["from"], lk["to"], lk["score"], "; ".join(lk["evidence"]["reasons"])) for lk in lin["links"]],
        )
    if not rows:
        stdout.print("No recreated rooms found.")


@actors_app.command("stats")
def actors_stats(
    room: Annotated[
        list[str] | None, typer.Option("--room", help="Count across these rooms (repeat); default all.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Accounts in each top list.")] = 20,
    json: JsonFlag = False,
) -> None:
    """Unique accounts across rooms, overlaps, accounts in most rooms / posting most media / using bots most."""
    with workspace_store().transaction() as session:
        from reclaim.intel import actors as actor_stats

        doc = actor_stats.actor_stats(session, room, top)
    if json:
        emit_json(doc)
        return
    est = doc["estimate"]
    stdout.print(
        f"{doc['distinct_actors']:,} distinct accounts in {len(doc['rooms'])} rooms "
        f"(HyperLogLog: {est['distinct_actors']:,} ± {est['relative_standard_error']:.2%})."
    )
    table(
        "Rooms",
        ["room", "messages", "distinct senders", "participants_count", "seen/reported"],
        [
            (r["id"], r["messages"], r["distinct_senders"], r["participants_count"], r["observed_share"])
            for r in doc["per_room"]
        ],
    )
    table(
        "Accounts in most rooms",
        ["account", "names", "rooms"],
        [(a["id"], " → ".join(a["names"]), a["rooms"]) for a in doc["top_actors"]["by_rooms"]],
    )
    table(
        "Most bot requests",
        ["account", "names", "requests", "answered by a bot", "via inline bot"],
        [
            (a["id"], " → ".join(a["names"]), a["bot_requests"], a["answered_by_bot"], a["via_inline_bot"])
            for a in doc["top_actors"]["by_bot_requests"]
        ],
    )
    stdout.print(doc["note"])


@app.command()
def institutions(json: JsonFlag = False) -> None:
    """Schools and universities named in room titles, descriptions and messages, with rooms, accounts and media."""
    with workspace_store().transaction() as session:
        from reclaim.intel import institutions as inst

        rows = inst.list_institutions(session)
    if json:
        emit_json(rows)
        return
    table(
        "Institutions",
        ["institution", "rooms", "named in title", "accounts", "media", "mentions", "as written"],
        [
            (
                i["institution"],
                i["rooms"],
                i["rooms_named_for_it"],
                i["actors"],
                i["media"],
                i["mentions"],
                ", ".join(dict.fromkeys(m["text"] for m in i["evidence"])),
            )
            for i in rows
        ],
    )


@report_app.command("rooms")
def report_rooms(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the report into (created if missing).")],
    json: JsonFlag = False,
) -> None:
    """Write an HTML report of rooms, lineages, accounts and institutions, with graph files for Gephi."""
    with workspace_store().transaction() as session:
        from reclaim.intel.report import write_report  # networkx: loaded only when asked for

        summary = write_report(session, out)
    if json:
        emit_json(summary)
        return
    stdout.print(f"Wrote {len(summary['files'])} files to {summary['out']}; open index.html.")
