"""`reclaim demo` runs end to end and its table tells the truth about the world it built."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def test_demo_finds_planted_copies_without_false_matches(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--keep", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"Found (\d+) of (\d+) planted copies; (\d+) false matches among (\d+) unrelated", proc.stdout)
    assert m, proc.stdout
    found, planted, false, unrelated = map(int, m.groups())
    assert planted >= 10 and unrelated >= 10
    assert found >= planted // 2
    assert false == 0
    assert "vpdq" in proc.stdout and "flipped" in proc.stdout
    assert (out / "workspace" / "reclaim.db").exists()
    assert str(out / "workspace") in proc.stdout.replace("\n", "")
    # Running it again over its own folder works; a foreign non-empty folder is refused.
    again = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--keep", str(out)], capture_output=True, timeout=300
    )
    assert again.returncode == 0
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    refused = subprocess.run(
        [sys.executable, "-m", "reclaim", "demo", "--keep", str(foreign)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "was not made by the demo" in refused.stderr
    assert (foreign / "keep.txt").read_text() == "mine"
