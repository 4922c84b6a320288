"""Commands for cases and consented face enrolment: `case create|show|list|withdraw`, `face enroll`.

There is deliberately no command that takes a face and says whose it is: faces are only ever compared with
faces enrolled into a case with a recorded consent, during ingest.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from reclaim import cases, output
from reclaim.cli.common import JsonFlag, app, workspace_settings
from reclaim.errors import ConfigError, NothingProcessed, ReclaimError
from reclaim.faces import enroll_faces
from reclaim.output import emit_json, stdout, table
from reclaim.workspace import open_store

case_app = typer.Typer(
    help="Cases: a protected person, her recorded consent, and its withdrawal.", no_args_is_help=True
)
face_app = typer.Typer(
    help="Consented face enrolment (faces are only matched against cases that consented).", no_args_is_help=True
)
app.add_typer(case_app, name="case")
app.add_typer(face_app, name="face")


@case_app.command("create")
def case_create(
    ref: Annotated[str, typer.Option("--ref", help="Pseudonymous reference, never her name (e.g. 'case-17').")],
    recorded_by: Annotated[str, typer.Option("--recorded-by", help="Who recorded the consent.")],
    consent_text: Annotated[str | None, typer.Option("--consent-text", help="The words she agreed to.")] = None,
    consent_file: Annotated[
        Path | None, typer.Option("--consent-file", help="A UTF-8 text file holding the words she agreed to.")
    ] = None,
    scope: Annotated[
        str, typer.Option("--scope", help="What the consent covers: hashes, face, or face,hashes.")
    ] = "hashes",
    minor: Annotated[bool, typer.Option("--minor", help="She is under 18.")] = False,
    json: JsonFlag = False,
) -> None:
    """Record a case and its consent (logged in the evidence log); face search needs --scope including 'face'."""
    if (consent_text is None) == (consent_file is None):
        raise ConfigError("give the consent as exactly one of --consent-text TEXT or --consent-file FILE")
    if consent_file is not None:
        try:
            consent_text = consent_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the consent file '{consent_file}' as UTF-8 text ({exc})") from exc
    assert consent_text is not None
    store = open_store(workspace_settings())
    with store.transaction() as session:
        doc = cases.created_json(cases.create_case(session, ref, consent_text, recorded_by, scope, minor))
    if json:
        emit_json(doc)
    else:
        stdout.print(
            f"Created case [bold]{doc['ref']}[/] (id {doc['id']}, consent to {', '.join(doc['consent']['scope'])}"
            f"{', minor' if doc['minor'] else ''}), recorded by {doc['consent']['recorded_by']}."
        )


@case_app.command("show")
def case_show(case: Annotated[str, typer.Argument(help="Case reference or id.")], json: JsonFlag = False) -> None:
    """Show a case: its consent, withdrawal, banks, enrolled faces and matches."""
    with open_store(workspace_settings()).transaction() as session:
        doc = cases.show_case(session, case)
    if json:
        emit_json(doc)
        return
    consent = doc["consent"]
    table(
        f"Case {doc['ref']} (id {doc['id']})",
        ["field", "value"],
        [
            ("minor", "yes" if doc["minor"] else "no"),
            ("consent scope", ", ".join(consent["scope"])),
            ("consent recorded", f"{consent['recorded_at']} by {consent['recorded_by']}"),
            ("consent text", consent["text"]),
            ("withdrawn", f"{doc['withdrawn']['at']} by {doc['withdrawn']['by']}" if doc["withdrawn"] else "no"),
            ("banks", ", ".join(doc["banks"])),
            ("enrolled faces", doc["faces"]["enrolled"]),
            ("matches", ", ".join(f"{k}: {v}" for k, v in doc["matches"].items()) or "none"),
        ],
    )


@case_app.command("list")
def case_list(json: JsonFlag = False) -> None:
    """List cases with their consent scope and whether they were withdrawn."""
    with open_store(workspace_settings()).transaction() as session:
        rows = cases.list_cases(session)
    if json:
        emit_json(rows)
    else:
        table(
            "Cases",
            ["id", "ref", "minor", "scope", "faces", "withdrawn"],
            [
                (r["id"], r["ref"], "yes" if r["minor"] else "", ", ".join(r["scope"]), r["faces"], r["withdrawn_at"])
                for r in rows
            ],
        )


@case_app.command("withdraw")
def case_withdraw(
    case: Annotated[str, typer.Argument(help="Case reference or id.")],
    by: Annotated[
        str | None, typer.Option("--by", help="Who recorded the withdrawal (default: your user name).")
    ] = None,
    json: JsonFlag = False,
) -> None:
    """Withdraw consent: her face embeddings are deleted at once and nothing matches her case again."""
    who = by or getpass.getuser()
    with open_store(workspace_settings()).transaction() as session:
        doc = cases.withdraw_case(session, case, who)
    if json:
        emit_json(doc)
    else:
        stdout.print(
            f"Case [bold]{doc['ref']}[/] {'was already' if doc['already_withdrawn'] else 'is now'} withdrawn: "
            f"{doc['purged_face_embeddings']} face embeddings deleted, {doc['disabled_bank_entries']} bank entries "
            f"disabled; {doc['kept_matches']} earlier matches kept as the record of what was found."
        )


@face_app.command("enroll")
def face_enroll(
    case: Annotated[str, typer.Argument(help="Case reference or id; its consent must cover 'face'.")],
    files: Annotated[list[Path], typer.Argument(help="Photos of her, one face each. Only embeddings are kept.")],
    json: JsonFlag = False,
) -> None:
    """Enrol her face from photos into a consenting case; the photos themselves are never stored."""
    settings = workspace_settings()
    store = open_store(settings)
    with output.progress("Enrolling", not json), store.transaction() as session:
        results = enroll_faces(session, case, files, settings)
    if json:
        emit_json([r.to_json() for r in results])
    else:
        table(
            f"Faces enrolled into case {case}",
            ["file", "entry", "quality", "result"],
            [
                (
                    r.path,
                    r.entry_id,
                    r.quality,
                    r.error or (f"already enrolled as entry {r.duplicate_of}" if r.duplicate_of else "enrolled"),
                )
                for r in results
            ],
        )
    failed = [r for r in results if r.error]
    if failed and len(failed) == len(results):
        raise NothingProcessed("no photo could be enrolled; see the errors above")
    if failed:
        raise ReclaimError(f"{len(results) - len(failed)} of {len(results)} photos enrolled; fix the others and rerun")
