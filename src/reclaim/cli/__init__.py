"""The `reclaim` command. Thin: each command parses its flags, calls one service function and prints.

Each area registers its commands on the shared app in its own module; importing them here wires them in.
"""

from __future__ import annotations

import sys

from reclaim import output
from reclaim.cli import cases, core, evidence, intel, matching, service, telegram
from reclaim.cli.common import app
from reclaim.errors import ReclaimError
from reclaim.output import stderr

__all__ = ["app", "cases", "core", "evidence", "intel", "main", "matching", "service", "telegram"]


def main() -> None:
    output.configure_logging()
    try:
        app()
    except ReclaimError as exc:
        stderr.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
