"""Property-based requests generated from /openapi.json against the app: no input makes it answer 5xx."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reclaim.api.app import create_app
from reclaim.settings import load_settings
from reclaim.workspace import open_store
from tests.service.conftest import build_world

schemathesis = pytest.importorskip("schemathesis")
EXAMPLES = 25


@pytest.fixture
def api(tmp_path: Path, db_url: str):
    cfg = load_settings(tmp_path / "home", db_url)
    store = open_store(cfg)
    world = build_world(store, cfg)
    app = create_app(cfg, store)
    yield app, world
    store.close()


def test_no_input_gives_a_server_error(api) -> None:
    app, world = api
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    seen: list[int] = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
        @given(case=operation.as_strategy(), role=st.sampled_from(["admin", "caseworker"]))
        def check(case, role: str) -> None:
            response = case.call(headers={"Authorization": f"Bearer {world.tokens[role]}"})
            seen.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.operation.label}: {response.status_code} {response.text[:200]}")

        check()
    assert failures == []
    assert len(seen) > 100 and sum(200 <= s < 300 for s in seen) > 20  # real requests, many accepted
