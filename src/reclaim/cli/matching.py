"""`reclaim match`: look files up against the banks without ingesting them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reclaim.cli.common import JsonFlag, app, short, workspace_settings
from reclaim.lookup import match_files
from reclaim.output import emit_json, table
from reclaim.workspace import open_store


@app.command("match")
def match_command(
    files: Annotated[list[Path], typer.Argument(help="Image or video files to look up.")],
    bank: Annotated[str | None, typer.Option("--bank", help="Only this bank (negative banks still apply).")] = None,
    json: JsonFlag = False,
) -> None:
    """Look files up against the enabled banks without ingesting them (nothing is stored)."""
    settings = workspace_settings()
    store = open_store(settings)
    with store.transaction() as session:
        results = match_files(session, files, settings, bank)
    if json:
        emit_json(results)
        return
    rows = []
    for r in results:
        if r["error"]:
            rows.append((r["path"], "", "", "error: " + r["error"], "", "", ""))
            continue
        found = r["matches"] or [None]
        for m in found:
            if m is None:
                note = "withheld by a negative bank" if r["suppressed"] else "no match"
                rows.append((r["path"], short(r["sha256"]), "", note, "", "", ""))
            else:
                region = "" if not m["region"] else "x{} y{} {}x{}".format(*m["region"])
                score = "" if m["score"] is None else f"{m['score']:.2f}"
                rows.append(
                    (
                        r["path"],
                        short(r["sha256"]),
                        f"{m['bank']} #{m['bank_entry_id']}",
                        m["method"],
                        f"{m['distance']:g}",
                        score,
                        region,
                    )
                )
    table("Lookup (nothing stored)", ["file", "sha256", "bank entry", "method", "distance", "score", "region"], rows)
