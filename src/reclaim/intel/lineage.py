"""`reclaim rooms lineage`: rooms judged to be one room deleted and recreated, each link with its evidence.

JSON contract: `[{"lineage_id", "rooms": [platform ids, oldest first], "links": [{"from", "to", "score",
"evidence": {...}}]}]`. `lineage_id` is "lineage:" + the oldest room's platform id, stable while that room is
the oldest known. Only lineages of two or more rooms are listed unless `min_rooms=1`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from reclaim.intel import load
from reclaim.intel.lineage_score import Lineage, LineageInput, Link, Weights, assemble, score_pairs


@dataclass
class LineageResult:
    room_ids: list[int]  # db ids, by input index
    inp: LineageInput
    links: list[Link]  # every scored pair kept (above `keep`), for graphs
    lineages: list[Lineage]
    threshold: float


DEFAULT_WEIGHTS = Weights()


def compute(
    session: Session, weights: Weights = DEFAULT_WEIGHTS, threshold: float | None = None, method: str = "auto"
) -> LineageResult:
    """Score every pair of rooms and assemble lineages; `method` is how actor overlap is counted."""
    ids, inp = load.lineage_input(session, method=method)
    links = score_pairs(inp, weights)
    cut = weights.threshold if threshold is None else threshold
    _name_bots(inp, links)
    return LineageResult(ids, inp, links, assemble(inp, links, cut), cut)


def _name_bots(inp: LineageInput, links: list[Link]) -> None:
    """Put the shared bots' names on the links that count them."""
    wanted = {x for lk in links if "bots" in lk.evidence for x in (lk.src, lk.dst)}
    if not wanted:
        return
    by_room: dict[int, set[int]] = defaultdict(set)
    for room, key in zip(inp.bots[0].tolist(), inp.bots[1].tolist(), strict=True):
        if room in wanted:
            by_room[room].add(key)
    for lk in links:
        if "bots" in lk.evidence:
            shared = by_room[lk.src] & by_room[lk.dst]
            lk.evidence["bots"]["names"] = sorted(inp.bot_names.get(k, str(k)) for k in shared)


def to_json(result: LineageResult, min_rooms: int = 2) -> list[dict[str, Any]]:
    rooms = result.inp.rooms
    out = []
    for lin in result.lineages:
        if len(lin.rooms) < min_rooms:
            continue
        out.append(
            {
                "lineage_id": f"lineage:{rooms[lin.rooms[0]].platform_id}",
                "rooms": [rooms[x].platform_id for x in lin.rooms],
                "titles": [rooms[x].titles[-1] if rooms[x].titles else "" for x in lin.rooms],
                "links": [
                    {
                        "from": rooms[lk.src].platform_id,
                        "to": rooms[lk.dst].platform_id,
                        "score": lk.score,
                        "evidence": lk.evidence,
                    }
                    for lk in lin.links
                ],
            }
        )
    return out


def room_lineages(session: Session, threshold: float | None = None, min_rooms: int = 2) -> list[dict[str, Any]]:
    return to_json(compute(session, threshold=threshold), min_rooms)
