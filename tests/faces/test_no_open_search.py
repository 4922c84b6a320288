"""No open search: nothing answers "who is this face?", and nothing enrols a face outside a consenting case."""

from __future__ import annotations

import ast
from pathlib import Path

import typer.main

from reclaim.cli import app

SRC = Path(__file__).resolve().parents[2] / "src" / "reclaim"
SEARCHY = ("search", "identify", "who", "lookup", "recogni", "query")


def _commands(group: object, prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, cmd in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}".strip()
        out.append(path)
        out.extend(_commands(cmd, path))
    return out


def test_the_face_commands_are_enrolment_only() -> None:
    commands = _commands(typer.main.get_command(app))
    assert {"case create", "case show", "case list", "case withdraw", "face enroll"} <= set(commands)
    assert sorted(c for c in commands if c.startswith("face ")) == ["face enroll"]
    assert not [c for c in commands if any(w in c.lower() for w in SEARCHY) and ("face" in c or "case" in c)]


def test_embeddings_are_created_in_one_place_behind_the_consent_check() -> None:
    """`FaceEmbedding(...)` is built only in faces.enroll_faces, which checks consent before reading a file."""
    builders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "FaceEmbedding":
                builders.append(path.relative_to(SRC).as_posix())
    assert builders == ["faces.py"]
    source = (SRC / "faces.py").read_text(encoding="utf-8")
    enroll = source[source.index("def enroll_faces(") :]
    assert enroll.index("require_face_consent(case)") < enroll.index("path.read_bytes()")


def test_no_public_function_takes_a_picture_and_returns_identities() -> None:
    """The only path from pixels to a case is FaceScanner.scan (enrolled, consenting cases, within threshold)."""
    import reclaim.faces as faces
    import reclaim.signals.face as core

    public = {n for n in dir(core) if not n.startswith("_")}
    assert not [n for n in public if any(w in n.lower() for w in SEARCHY)]
    public = {n for n in dir(faces) if not n.startswith("_") and callable(getattr(faces, n))}
    assert not [n for n in public if any(w in n.lower() for w in SEARCHY)]
