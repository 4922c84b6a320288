"""What every command module shares: the root app, the sub-apps, the workspace flag and small helpers."""

from __future__ import annotations

from typing import Annotated

import typer

from reclaim.settings import Settings, load_settings
from reclaim.store.db import Store
from reclaim.workspace import open_store

app = typer.Typer(
    help="Reclaim: find, preserve, understand and remove NCII and sexual deepfakes of the people it protects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
bank_app = typer.Typer(help="Banks of reference signals (protected, known, imported, negative).", no_args_is_help=True)
ingest_app = typer.Typer(help="Ingest media from a source, hash it and match it against every enabled bank.")
app.add_typer(bank_app, name="bank")
app.add_typer(ingest_app, name="ingest")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else.")]


class State:
    home: str | None = None


state = State()


@app.callback()
def _root(
    home: Annotated[
        str | None,
        typer.Option("--home", help="Workspace folder (default: $RECLAIM_HOME, else ./reclaim-data)."),
    ] = None,
) -> None:
    state.home = home


def workspace_settings() -> Settings:
    return load_settings(state.home)


def workspace_store() -> Store:
    return open_store(workspace_settings())


def short(value: str | None, n: int = 16) -> str:
    if value is None:
        return ""
    return value if len(value) <= n else value[:n] + "…"
