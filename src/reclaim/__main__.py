"""`python -m reclaim` runs the CLI."""

from reclaim.cli import main

main()
