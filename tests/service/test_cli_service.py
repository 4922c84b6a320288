"""The service's CLI: `user add` prints the token once, `takedown` and `share` call the same services."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reclaim.cli import app
from reclaim.settings import load_settings
from reclaim.workspace import open_store
from tests.service.conftest import build_world


@pytest.fixture
def cli(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    monkeypatch.setenv("RECLAIM_HOME", str(home))
    monkeypatch.setenv("RECLAIM_DB", db_url)
    settings = load_settings(home, db_url)
    store = open_store(settings)
    world = build_world(store, settings)
    store.close()
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        if ok:
            assert result.exit_code == 0, (args, result.output)
        return result

    return run, world


def test_user_add_prints_the_token_once(cli) -> None:
    run, _ = cli
    doc = json.loads(run("user", "add", "nadia", "--role", "caseworker", "--json").stdout)
    assert set(doc) == {"name", "role", "token"} and doc["role"] == "caseworker" and len(doc["token"]) >= 40
    listed = run("user", "list", "--json").stdout
    assert doc["token"] not in listed and "nadia" in listed
    bad = run("user", "add", "x", "--role", "superuser", ok=False)
    assert bad.exit_code == 1 and "role must be one of" in str(bad.exception or bad.output)


def test_takedown_and_share_from_the_cli(cli, tmp_path: Path) -> None:
    run, world = cli
    from reclaim.accounts import authenticate_token
    from reclaim.review.decisions import decide

    settings = load_settings(tmp_path / "home")
    store = open_store(settings)
    with store.transaction() as s:
        decide(s, authenticate_token(s, world.tokens["admin"]), world.matches["adult"], "confirm", "same")
    store.close()
    made = json.loads(
        run(
            "takedown", "create", "--case", "case-a", "--dest", "d4u", "--match", str(world.matches["adult"]), "--json"
        ).stdout
    )
    assert made["status"] == "drafted" and made["destination"] == "d4u"
    run("takedown", "status", str(made["id"]), "sent", "--note", "by post")
    shown = json.loads(run("takedown", "show", str(made["id"]), "--json").stdout)
    assert [h["status"] for h in shown["history"]] == ["drafted", "sent"]
    pdf = tmp_path / "req.pdf"
    run("takedown", "document", str(made["id"]), "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    refused = run(
        "takedown", "create", "--case", "case-a", "--dest", "ncmec", "--match", str(world.matches["adult"]), ok=False
    )
    assert refused.exit_code == 1
    out = tmp_path / "hashes.json"
    run("share", "export", "--case", "case-a", "--format", "stopncii", "--out", str(out))
    doc = json.loads(out.read_text())
    assert len(doc["hashes"]) == 1
    imported = json.loads(
        run("share", "import", str(out), "--format", "stopncii", "--bank", "partner", "--json").stdout
    )
    assert imported["imported"] == 1
