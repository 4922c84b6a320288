"""Review service under load: concurrent reviewers' API calls against `reclaim serve` on loopback.

Run: .venv/bin/python bench/service_load.py [--reviewers 50] [--seconds 60] [--think 1.0] [--matches 1000]

The server runs in its own process (uvicorn, one worker, a fresh SQLite workspace, or --db URL). Each reviewer
loops: open the next match of her own share, fetch its blurred preview (rendered server-side from the held, encrypted
original), decide it with a reason (an evidence-log append), and every fifth round list the queue; she pauses
`--think` seconds (jittered ±50 %) between calls, as a person does. Baseline, in the same run and on the same
server: `/healthz` (no database, no auth) at the same concurrency. Bounded: at most --seconds of load, and each
reviewer stops when her share of matches is decided.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from reclaim.accounts import assign_case, create_user
from reclaim.cases import case_bank, create_case
from reclaim.evidence.holds import keep_if_held
from reclaim.settings import load_settings
from reclaim.sources.base import RoomRef
from reclaim.store.evidence_tables import EvidenceHold
from reclaim.store.tables import BankEntry, Match, Media, Room, Sighting
from reclaim.synthetic import generated, jpeg_bytes
from reclaim.workspace import open_store


def seed(home: Path, db: str | None, reviewers: int, matches: int) -> tuple[list[str], list[list[int]]]:
    settings = load_settings(home, db)
    store = open_store(settings)
    tokens: list[str] = []
    shares: list[list[int]] = [[] for _ in range(reviewers)]
    with store.transaction() as s:
        case = create_case(s, "bench-case", "synthetic consent", "bench", "hashes")
        bank = case_bank(s, case)
        room = Room(platform="telegram", platform_id="-1009990001", name="bench room")
        s.add(room)
        s.add(EvidenceHold(scope="case", case_id=case.id, created_by="bench"))
        s.flush()
        ref = RoomRef("telegram", room.platform_id, room.name)
        bases = [jpeg_bytes(generated(i, (320, 240)), 85) for i in range(20)]
        for i in range(matches):
            data = bases[i % len(bases)] + f"#{i}".encode()  # distinct bytes (after the JPEG's end), same picture
            sha = hashlib.sha256(data).hexdigest()
            media = Media(sha256=sha, md5=hashlib.md5(data).hexdigest(), media_type="image", size_bytes=len(data))
            s.add(media)
            s.flush()
            s.add(Sighting(media_id=media.id, room_id=room.id, locator=str(i), message_id=i + 1))
            keep_if_held(s, settings, ref, media.id, sha, data, [case.id])
            entry = BankEntry(bank_id=bank.id, note=f"e{i}", media_type="image")
            s.add(entry)
            s.flush()
            match = Match(media_id=media.id, bank_entry_id=entry.id, method="pdq", distance=4.0)
            s.add(match)
            s.flush()
            shares[i % reviewers].append(match.id)
        for r in range(reviewers):
            _, token = create_user(s, f"reviewer{r}", "reviewer")
            tokens.append(token)
        s.flush()
        for r in range(reviewers):
            assign_case(s, f"reviewer{r}", "bench-case")
    store.close()
    return tokens, shares


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def reviewer(
    client: httpx.AsyncClient, token: str, share: list[int], until: float, think: float, out: dict[str, list[float]]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    async def call(kind: str, method: str, url: str, **kw: object) -> None:
        start = time.perf_counter()
        r = await client.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]
        out[kind].append(time.perf_counter() - start)
        if r.status_code >= 300:
            out["errors"].append(float(r.status_code))
        await asyncio.sleep(think * random.uniform(0.5, 1.5))

    await asyncio.sleep(random.uniform(0, think))
    for rounds, mid in enumerate(share):
        if time.perf_counter() >= until:
            return
        if rounds % 5 == 0:
            await call("list queue", "GET", "/api/matches?limit=20")
        await call("open match", "GET", f"/api/matches/{mid}")
        await call("blurred preview", "GET", f"/api/matches/{mid}/preview")
        action = "confirm" if mid % 3 else "reject"
        await call("decide", "POST", f"/api/matches/{mid}/decision", json={"action": action, "reason": "bench"})


async def healthz(client: httpx.AsyncClient, until: float, think: float, out: dict[str, list[float]]) -> None:
    await asyncio.sleep(random.uniform(0, think))
    while time.perf_counter() < until:
        start = time.perf_counter()
        r = await client.get("/healthz")
        out["healthz (baseline)"].append(time.perf_counter() - start)
        if r.status_code != 200:
            out["errors"].append(float(r.status_code))
        await asyncio.sleep(think * random.uniform(0.5, 1.5))


async def load(
    base: str, tokens: list[str], shares: list[list[int]], seconds: float, think: float
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    limits = httpx.Limits(max_connections=len(tokens) * 2, max_keepalive_connections=len(tokens) * 2)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        until = time.perf_counter() + min(10.0, seconds / 4)
        await asyncio.gather(*(healthz(client, until, think, out) for _ in tokens))
        until = time.perf_counter() + seconds
        await asyncio.gather(
            *(reviewer(client, t, share, until, think, out) for t, share in zip(tokens, shares, strict=True))
        )
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reviewers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--think", type=float, default=1.0, help="seconds between one reviewer's calls (jittered)")
    ap.add_argument("--matches", type=int, default=1000)
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary workspace)")
    args = ap.parse_args()
    if not (1 <= args.reviewers <= 500 and 1 <= args.seconds <= 600 and 1 <= args.matches <= 100_000):
        ap.error("bounded: 1-500 reviewers, 1-600 seconds, 1-100000 matches")

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        tokens, shares = seed(home, args.db, args.reviewers, args.matches)
        print(f"seeded {args.matches} held matches and {args.reviewers} reviewers in {time.perf_counter() - t0:.1f} s")
        port = free_port()
        env = {**os.environ, "RECLAIM_HOME": str(home)}
        if args.db:
            env["RECLAIM_DB"] = args.db
        server = subprocess.Popen(
            [sys.executable, "-m", "reclaim", "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            out = asyncio.run(load(base, tokens, shares, args.seconds, args.think))
        finally:
            server.terminate()
            server.wait(10)

    errors = out.pop("errors", [])
    print(
        f"\n{args.reviewers} reviewers, {args.seconds:.0f} s, think {args.think} s, "
        f"{'SQLite' if not args.db else 'given database'}, server: 1 uvicorn process on 127.0.0.1"
    )
    print(f"{'call':<20}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    every: list[float] = []
    for kind in ["healthz (baseline)", "list queue", "open match", "blurred preview", "decide"]:
        v = out.get(kind, [])
        if kind != "healthz (baseline)":
            every += v
        if v:
            print(f"{kind:<20}{len(v):>7}{pct(v, 50):>9.1f}{pct(v, 95):>9.1f}{pct(v, 99):>9.1f}{max(v) * 1000:>9.1f}")
    print(f"{'all review calls':<20}{len(every):>7}{pct(every, 50):>9.1f}{pct(every, 95):>9.1f}{pct(every, 99):>9.1f}")
    print(f"errors: {len(errors)}" + (f" (status codes {sorted(set(int(e) for e in errors))})" if errors else ""))
    p95 = pct(every, 95)
    print(f"target p95 < 200 ms: {'met' if p95 < 200 and not errors else 'NOT met'} ({p95:.1f} ms)")


if __name__ == "__main__":
    main()
