"""Commands for the review service: `serve`, `user`, `takedown`, `share` and `webhook`.

The CLI acts as the workspace operator with admin rights (whoever can open the workspace can open its database);
the web service checks roles and case scope for everyone else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from reclaim import accounts, webhooks
from reclaim.accounts import Principal
from reclaim.cli.common import JsonFlag, app, workspace_settings, workspace_store
from reclaim.errors import ConfigError
from reclaim.output import emit_json, stdout, table
from reclaim.takedown import requests, sharing

user_app = typer.Typer(help="Users of the review service: roles, tokens, case assignments.", no_args_is_help=True)
takedown_app = typer.Typer(help="Takedown requests: documents, status history, re-upload watch.", no_args_is_help=True)
share_app = typer.Typer(
    help="Hash sharing: export a case's confirmed hashes, import exchange files.", no_args_is_help=True
)
webhook_app = typer.Typer(help="Webhooks signed with HMAC-SHA256 (new matches, request status).", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(takedown_app, name="takedown")
app.add_typer(share_app, name="share")
app.add_typer(webhook_app, name="webhook")


def _operator() -> Principal:
    return Principal(id=0, name=workspace_settings().operator, role="admin", case_ids=frozenset())


@app.command("serve")
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; loopback unless told otherwise.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8470,
) -> None:
    """Run the review service: web UI at /, JSON API under /api, OpenAPI at /openapi.json."""
    import uvicorn

    from reclaim.api.app import create_app

    application = create_app(workspace_settings(), deliver_webhooks=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        stdout.print(f"[yellow]warning:[/] listening on {host}: put TLS in front; cookies are Secure-only.")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)


@user_app.command("add")
def user_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(accounts.ROLES)}.")],
    json: JsonFlag = False,
) -> None:
    """Create a user and print her token once (it is stored only as a hash)."""
    with workspace_store().transaction() as session:
        user, token = accounts.create_user(session, name, role)
        doc = {"name": user.name, "role": user.role, "token": token}
    if json:
        emit_json(doc)
    else:
        stdout.print(f"user [bold]{doc['name']}[/] ({doc['role']}); token, shown once:\n{token}")


@user_app.command("list")
def user_list(json: JsonFlag = False) -> None:
    with workspace_store().transaction() as session:
        users = accounts.list_users(session)
    if json:
        emit_json(users)
    else:
        table(
            "Users",
            ["id", "name", "role", "disabled", "cases"],
            [[u["id"], u["name"], u["role"], u["disabled"], ",".join(map(str, u["case_ids"]))] for u in users],
        )


@user_app.command("assign")
def user_assign(
    name: str, case: Annotated[str, typer.Option("--case", help="Case reference.")], json: JsonFlag = False
) -> None:
    """Let a caseworker, reviewer or investigator see a case."""
    with workspace_store().transaction() as session:
        doc = accounts.assign_case(session, name, case)
    emit_json(doc) if json else stdout.print(f"{doc['user']} may now see case {doc['case']}")


@user_app.command("token")
def user_token(name: str, json: JsonFlag = False) -> None:
    """Give a user a new token (the old one and her sessions stop working)."""
    with workspace_store().transaction() as session:
        token = accounts.rotate_token(session, name)
    emit_json({"name": name, "token": token}) if json else stdout.print(f"new token for {name}, shown once:\n{token}")


@user_app.command("disable")
def user_disable(name: str, json: JsonFlag = False) -> None:
    with workspace_store().transaction() as session:
        doc = accounts.disable_user(session, name)
    emit_json(doc) if json else stdout.print(f"{name} is disabled")


@takedown_app.command("create")
def takedown_create(
    case: Annotated[str, typer.Option("--case", help="Case reference.")],
    dest: Annotated[str, typer.Option("--dest", help="telegram|kcsc|d4u|ncmec|stopncii|inhope|email:ADDR")],
    match: Annotated[list[int], typer.Option("--match", help="A confirmed match id (repeat for several).")],
    note: Annotated[str, typer.Option("--note")] = "",
    json: JsonFlag = False,
) -> None:
    """Draft a request to one destination for confirmed matches of one case (routed by her age)."""
    with workspace_store().transaction() as session:
        doc = requests.create_request(session, _operator(), case, dest, match, note)
    _print_request(doc, json)


@takedown_app.command("list")
def takedown_list(
    case: Annotated[str | None, typer.Option("--case")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only requests past their deadline.")] = False,
    json: JsonFlag = False,
) -> None:
    with workspace_store().transaction() as session:
        items = requests.list_requests(session, _operator(), case, overdue)
    if json:
        emit_json(items)
    else:
        table(
            "Takedown requests",
            ["id", "case", "destination", "status", "due", "overdue"],
            [[r["id"], r["case"], r["destination"], r["status"], r["deadline_at"] or "", r["overdue"]] for r in items],
        )


@takedown_app.command("show")
def takedown_show(request_id: int, json: JsonFlag = False) -> None:
    with workspace_store().transaction() as session:
        doc = requests.get_request(session, _operator(), request_id)
    _print_request(doc, json)


@takedown_app.command("status")
def takedown_status(
    request_id: int,
    status: Annotated[str, typer.Argument(help=", ".join(requests.STATUSES))],
    note: Annotated[str, typer.Option("--note")] = "",
    json: JsonFlag = False,
) -> None:
    """Record the next status of a request (sent, acknowledged, removed, refused, ...)."""
    with workspace_store().transaction() as session:
        doc = requests.set_status(session, _operator(), request_id, status, note)
    _print_request(doc, json)


@takedown_app.command("document")
def takedown_document(
    request_id: int,
    fmt: Annotated[str, typer.Option("--format", help="json, html or pdf")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="File to write (default: stdout for json/html).")] = None,
) -> None:
    """Write a request's document as JSON, HTML or PDF."""
    if fmt not in ("json", "html", "pdf"):
        raise ConfigError(f"format must be json, html or pdf, got '{fmt}'")
    if fmt == "pdf" and out is None:
        raise ConfigError("a PDF needs --out FILE")
    with workspace_store().transaction() as session:
        doc = requests.request_document(session, _operator(), request_id)
    import json as jsonlib

    from reclaim.takedown import documents  # Jinja2 and fpdf2 load only when a document is rendered

    data: bytes = (
        documents.to_pdf(doc)
        if fmt == "pdf"
        else documents.to_html(doc).encode()
        if fmt == "html"
        else (jsonlib.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
    )
    if out is None:
        sys.stdout.buffer.write(data)
    else:
        out.write_bytes(data)


@takedown_app.command("watch")
def takedown_watch(json: JsonFlag = False) -> None:
    """Raise re-upload alerts: removed items seen again after their removal."""
    with workspace_store().transaction() as session:
        alerts = requests.watch_reuploads(session)
    if json:
        emit_json(alerts)
    else:
        table(
            "Re-upload alerts",
            ["request", "media", "sighting"],
            [[a["request_id"], a["media_id"], a["sighting_id"]] for a in alerts],
        )


def _print_request(doc: dict[str, Any], json: bool) -> None:
    if json:
        emit_json(doc)
        return
    stdout.print(
        f"request {doc['id']} to {doc['destination']} for case {doc['case']}: {doc['status']}"
        f" (due {doc['deadline_at'] or '-'})"
    )
    for h in doc.get("history") or []:
        stdout.print(f"  {h['at']}  {h['status']}  {h['by']}  {h['note']}")


@share_app.command("export")
def share_export(
    case: Annotated[str, typer.Option("--case")],
    fmt: Annotated[str, typer.Option("--format", help="pytx or stopncii")] = "pytx",
    out: Annotated[Path | None, typer.Option("--out")] = None,
) -> None:
    """A case's confirmed items as hashes for partner platforms (logged in the evidence log)."""
    with workspace_store().transaction() as session:
        text = sharing.export_case(session, _operator(), case, fmt)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@share_app.command("import")
def share_import(
    path: Path,
    fmt: Annotated[str, typer.Option("--format", help="pytx or stopncii")] = "pytx",
    bank: Annotated[str | None, typer.Option("--bank", help="Imported bank (created if new).")] = None,
    case: Annotated[str | None, typer.Option("--case", help="Her own self-hash file, into her case's bank.")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid")] = False,
    json: JsonFlag = False,
) -> None:
    """Import an exchange file into an imported bank, or a victim's self-hash file into her case."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read '{path}' as UTF-8 text ({exc})") from exc
    with workspace_store().transaction() as session:
        doc = sharing.import_file(session, _operator(), text, fmt, bank, case, skip_invalid)
    emit_json(doc) if json else stdout.print(
        f"{doc['imported']} imported, {doc['duplicates']} already there, {len(doc['invalid'])} invalid → {doc['bank']}"
    )


@share_app.command("selfhash")
def share_selfhash(
    paths: Annotated[list[Path], typer.Argument(help="Her own photos or videos.")],
    out: Annotated[Path, typer.Option("--out", help="The file to hand over (hashes only).")],
) -> None:
    """For a victim, on her own device: hash her photos and write only the hashes (no image leaves)."""
    import json as jsonlib

    doc = sharing.self_hash(paths, workspace_settings().limits)
    out.write_text(jsonlib.dumps(doc, indent=2) + "\n", encoding="utf-8")
    stdout.print(f"{len(doc['hashes'])} hash(es) written to {out}; give this file to your caseworker")


@webhook_app.command("add")
def webhook_add(
    url: str,
    event: Annotated[list[str] | None, typer.Option("--event", help=", ".join(webhooks.EVENTS))] = None,
    json: JsonFlag = False,
) -> None:
    """Subscribe a URL; prints the signing secret once."""
    with workspace_store().transaction() as session:
        doc = webhooks.add_webhook(session, url, event)
    emit_json(doc) if json else stdout.print(
        f"webhook {doc['id']} → {doc['url']}; secret, shown once:\n{doc['secret']}"
    )


@webhook_app.command("list")
def webhook_list(json: JsonFlag = False) -> None:
    with workspace_store().transaction() as session:
        items = webhooks.list_webhooks(session)
    if json:
        emit_json(items)
    else:
        table(
            "Webhooks",
            ["id", "url", "events", "enabled"],
            [[h["id"], h["url"], ",".join(h["events"]), h["enabled"]] for h in items],
        )


@webhook_app.command("remove")
def webhook_remove(hook_id: int, json: JsonFlag = False) -> None:
    with workspace_store().transaction() as session:
        doc = webhooks.remove_webhook(session, hook_id)
    emit_json(doc) if json else stdout.print(f"webhook {hook_id} disabled")


@webhook_app.command("deliver")
def webhook_deliver(json: JsonFlag = False) -> None:
    """Send queued webhook events now (the server also does this in the background)."""
    doc = webhooks.deliver_pending(workspace_store())
    emit_json(doc) if json else stdout.print(f"{doc['sent']} sent, {doc['failed']} failed (retried later)")
