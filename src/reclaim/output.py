"""How commands talk: one JSON document on stdout with --json, Rich tables otherwise; progress on stderr."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True)


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    stdout.print(t)


@contextmanager
def progress(description: str, enabled: bool) -> Iterator[Progress | None]:
    """A progress display on stderr, only when stderr is a terminal and JSON is not requested."""
    if not enabled or not stderr.is_terminal:
        yield None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} items"),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    ) as bar:
        bar.add_task(description, total=None)
        yield bar


class _JsonLogFormatter(logging.Formatter):
    """One JSON object per line; only event names and counts, never media, paths or personal data."""

    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        doc = {"level": record.levelname.lower(), "event": record.getMessage(), "logger": record.name}
        doc.update({k: v for k, v in record.__dict__.items() if k not in self._skip})
        return json.dumps(doc, default=str)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonLogFormatter())
    root = logging.getLogger("reclaim")
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("RECLAIM_LOG_LEVEL", "WARNING").upper())
    root.propagate = False
