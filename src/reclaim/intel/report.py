"""`reclaim report rooms --out DIR`: an HTML report with the lineage and actor-room graphs and plots.

Writes, under DIR: index.html; lineage.gexf / lineage.graphml / lineage.json (rooms, every scored link, which
links joined a lineage); actors_rooms.gexf / .graphml / .json (rooms and the accounts seen in two or more of
them, weighted by messages); activity.svg (weekly messages per room, grouped by lineage, with arrows for links
labelled by accounts carried over); overlap.svg (shared accounts between the largest rooms). SVG is written
directly, so no plotting library is needed. No media, only ids, titles, names and counts.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx  # type: ignore[import-untyped]
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.intel import actors as actor_stats
from reclaim.intel import institutions, lineage
from reclaim.intel.lineage_score import iso
from reclaim.intel.load import unix
from reclaim.store.room_tables import Actor, Message

MAX_GRAPH_ACTORS = 20_000  # accounts in the actor-room graph (those in most rooms first)
WEEK = 7 * 86_400.0


def write_report(session: Session, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    result = lineage.compute(session)
    lineages = lineage.to_json(result)
    stats = actor_stats.actor_stats(session)
    insts = institutions.list_institutions(session)
    lin_graph = _lineage_graph(result)
    actor_graph = _actor_room_graph(session, result)
    files = []
    for name, graph in (("lineage", lin_graph), ("actors_rooms", actor_graph)):
        nx.write_gexf(graph, out / f"{name}.gexf")
        nx.write_graphml(graph, out / f"{name}.graphml")
        (out / f"{name}.json").write_text(
            json.dumps(nx.node_link_data(graph, edges="edges"), ensure_ascii=False, indent=1, default=str),
            encoding="utf-8",
        )
        files += [f"{name}.gexf", f"{name}.graphml", f"{name}.json"]
    (out / "activity.svg").write_text(_activity_svg(session, result), encoding="utf-8")
    (out / "overlap.svg").write_text(_overlap_svg(stats["overlap"]), encoding="utf-8")
    (out / "lineages.json").write_text(json.dumps(lineages, ensure_ascii=False, indent=1), encoding="utf-8")
    files += ["activity.svg", "overlap.svg", "lineages.json", "index.html"]
    (out / "index.html").write_text(_html(lineages, stats, insts, result), encoding="utf-8")
    return {
        "out": str(out),
        "files": files,
        "rooms": len(result.inp.rooms),
        "lineages": len(lineages),
        "distinct_actors": stats["distinct_actors"],
        "institutions": len(insts),
    }


def _lineage_graph(result: lineage.LineageResult) -> nx.DiGraph:
    g = nx.DiGraph()
    member = {x: f"lineage:{result.inp.rooms[lin.rooms[0]].platform_id}" for lin in result.lineages for x in lin.rooms}
    chosen = {(lk.src, lk.dst) for lin in result.lineages for lk in lin.links}
    sizes = np.bincount(result.inp.actors[0], minlength=len(result.inp.rooms)) if len(result.inp.actors[0]) else None
    for x, r in enumerate(result.inp.rooms):
        g.add_node(
            r.platform_id,
            label=r.titles[-1] if r.titles else r.platform_id,
            titles=" | ".join(r.titles),
            messages=r.messages,
            actors=int(sizes[x]) if sizes is not None else 0,
            first=lineage_iso(r.first),
            last=lineage_iso(r.last),
            lineage=member.get(x, ""),
        )
    for lk in result.links:
        a, b = result.inp.rooms[lk.src].platform_id, result.inp.rooms[lk.dst].platform_id
        g.add_edge(
            a,
            b,
            score=lk.score,
            joined=(lk.src, lk.dst) in chosen,
            shared_actors=int(lk.evidence.get("actors", {}).get("shared", 0)),
            shared_media=int(lk.evidence.get("media", {}).get("shared", 0)),
            reasons="; ".join(lk.evidence["reasons"]),
        )
    return g


def lineage_iso(value: float | None) -> str:
    return iso(value) or ""


def _actor_room_graph(session: Session, result: lineage.LineageResult) -> nx.Graph:
    """Rooms and the accounts seen posting in two or more of them; edge weight = that account's messages there."""
    rows = session.execute(select(Message.room_id, Message.actor_id).where(Message.actor_id.is_not(None))).all()
    per: dict[tuple[int, int], int] = defaultdict(int)
    for room_id, actor_id in rows:
        if actor_id is not None:
            per[(room_id, actor_id)] += 1
    rooms_of: dict[int, int] = defaultdict(int)
    for _, actor_id in per:
        rooms_of[actor_id] += 1
    movers = sorted((a for a, n in rooms_of.items() if n >= 2), key=lambda a: (-rooms_of[a], a))[:MAX_GRAPH_ACTORS]
    keep = set(movers)
    labels = {a: p for a, p in session.execute(select(Actor.id, Actor.platform_id))} if keep else {}
    pid = dict(zip(result.room_ids, [r.platform_id for r in result.inp.rooms], strict=True))
    g = nx.Graph()
    for x, r in enumerate(result.inp.rooms):
        g.add_node(r.platform_id, kind="room", label=r.titles[-1] if r.titles else r.platform_id, index=x)
    for a in movers:
        g.add_node(labels[a], kind="actor", label=labels[a], rooms=rooms_of[a])
    for (room_id, actor_id), n in per.items():
        if actor_id in keep and room_id in pid:
            g.add_edge(pid[room_id], labels[actor_id], messages=n)
    return g


def _activity_svg(session: Session, result: lineage.LineageResult) -> str:
    """Weekly messages per room as shaded cells; rooms of one lineage together; arrows for joined links."""
    rooms = result.inp.rooms
    order = [x for lin in result.lineages for x in lin.rooms]
    row_of = {x: k for k, x in enumerate(order)}
    firsts = [r.first for r in rooms if r.first is not None]
    lasts = [r.last for r in rooms if r.last is not None]
    if not firsts:
        return _svg(400, 60, ['<text x="10" y="30">No dated messages.</text>'])
    t0, t1 = min(firsts), max(lasts)
    weeks = max(1, int((t1 - t0) // WEEK) + 1)
    counts = np.zeros((len(rooms), weeks))
    index = dict(zip(result.room_ids, range(len(rooms)), strict=True))
    for room_id, at in session.execute(
        select(Message.room_id, Message.posted_at).where(Message.posted_at.is_not(None))
    ):
        if room_id in index and (u := unix(at)) is not None:
            counts[index[room_id], min(weeks - 1, int((u - t0) // WEEK))] += 1
    left, top, row_h = 260, 30, 18
    cell = max(2.0, min(14.0, 900 / weeks))
    width, height = int(left + weeks * cell + 20), top + len(order) * row_h + 40
    peak = max(1.0, float(counts.max()))
    parts = [f'<text x="10" y="18" font-size="13">Weekly messages per room (darker = more; max {int(peak)})</text>']
    lineage_of = {x: k for k, lin in enumerate(result.lineages) for x in lin.rooms}
    for x, k in row_of.items():
        y = top + k * row_h
        label = html.escape((rooms[x].titles[-1] if rooms[x].titles else rooms[x].platform_id)[:30])
        shade = "#eef" if lineage_of[x] % 2 else "#fff"
        parts.append(f'<rect x="0" y="{y}" width="{width}" height="{row_h}" fill="{shade}"/>')
        parts.append(f'<text x="6" y="{y + 13}" font-size="11">{label} ({html.escape(rooms[x].platform_id)})</text>')
        for wk in np.flatnonzero(counts[x]):
            alpha = 0.15 + 0.85 * counts[x, wk] / peak
            parts.append(
                f'<rect x="{left + wk * cell:.1f}" y="{y + 3}" width="{cell:.1f}" height="{row_h - 6}" '
                f'fill="#b22" fill-opacity="{alpha:.2f}"><title>{int(counts[x, wk])} messages</title></rect>'
            )
    for lin in result.lineages:
        for lk in lin.links:
            ra, rb = rooms[lk.src], rooms[lk.dst]
            if ra.last is None or rb.first is None:
                continue
            xa, xb = left + (ra.last - t0) / WEEK * cell, left + (rb.first - t0) / WEEK * cell
            ya, yb = top + row_of[lk.src] * row_h + row_h / 2, top + row_of[lk.dst] * row_h + row_h / 2
            shared = lk.evidence.get("actors", {}).get("shared", 0)
            parts.append(
                f'<path d="M{xa:.1f},{ya:.1f} C{xa + 20:.1f},{ya:.1f} {xb - 20:.1f},{yb:.1f} {xb:.1f},{yb:.1f}" '
                f'stroke="#225" fill="none" stroke-width="{1 + min(4, shared / 20):.1f}" marker-end="url(#a)">'
                f"<title>score {lk.score}: {html.escape('; '.join(lk.evidence['reasons']))}</title></path>"
            )
            parts.append(f'<text x="{xb + 3:.1f}" y="{yb - 4:.1f}" font-size="9">{shared} moved</text>')
    return _svg(width, height, parts)


def _overlap_svg(overlap: dict[str, Any]) -> str:
    names, matrix = overlap["rooms"], np.asarray(overlap["shared_actors"], dtype=float)
    n = len(names)
    if n == 0:
        return _svg(300, 40, ['<text x="10" y="25">No rooms.</text>'])
    cell, left, top = 18, 130, 130
    peak = max(1.0, float(np.max(matrix - np.diag(np.diag(matrix)))) if n > 1 else 1.0)
    parts = ['<text x="10" y="16" font-size="13">Accounts shared between rooms (diagonal: accounts in the room)</text>']
    for i, name in enumerate(names):
        parts.append(f'<text x="4" y="{top + i * cell + 13}" font-size="10">{html.escape(name)}</text>')
        parts.append(
            f'<text transform="translate({left + i * cell + 12},{top - 4}) rotate(-60)" font-size="10">'
            f"{html.escape(name)}</text>"
        )
        for j in range(n):
            v = matrix[i, j]
            alpha = 0.05 + 0.95 * min(1.0, v / peak) if i != j else 0.3
            color = "#226" if i != j else "#888"
            parts.append(
                f'<rect x="{left + j * cell}" y="{top + i * cell}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{color}" fill-opacity="{alpha:.2f}"><title>{int(v)}</title></rect>'
            )
    return _svg(left + n * cell + 20, top + n * cell + 20, parts)


def _svg(width: int, height: int, parts: list[str]) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif">'
        '<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#225"/></marker></defs>'
    )
    return head + "".join(parts) + "</svg>\n"


def _html(
    lineages: list[dict[str, Any]], stats: dict[str, Any], insts: list[dict[str, Any]], result: lineage.LineageResult
) -> str:
    e = html.escape
    rows = []
    for lin in lineages:
        rows.append(f"<h3>{e(lin['lineage_id'])}</h3><p>{' → '.join(e(r) for r in lin['rooms'])}</p><ul>")
        for lk in lin["links"]:
            rows.append(
                f"<li><b>{e(lk['from'])} → {e(lk['to'])}</b> score {lk['score']}: "
                + "; ".join(e(r) for r in lk["evidence"]["reasons"])
                + "</li>"
            )
        rows.append("</ul>")
    per_room = "".join(
        f"<tr><td>{e(r['id'])}</td><td>{r['messages']}</td><td>{r['distinct_senders']}</td>"
        f"<td>{r['participants_count'] if r['participants_count'] is not None else ''}</td></tr>"
        for r in stats["per_room"]
    )
    top = "".join(
        f"<tr><td>{e(a['id'])}</td><td>{e(' → '.join(a['names']))}</td><td>{a['rooms']}</td></tr>"
        for a in stats["top_actors"]["by_rooms"]
    )
    inst = "".join(
        f"<tr><td>{e(i['institution'])}</td><td>{i['rooms']}</td><td>{i['actors']}</td><td>{i['media']}</td>"
        f"<td>{e(', '.join(m['text'] for m in i['evidence'][:3]))}</td></tr>"
        for i in insts
    )
    est = stats["estimate"]
    return f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Reclaim rooms report</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}</style>
<h1>Rooms report</h1>
<p>{len(result.inp.rooms)} rooms, {len(lineages)} lineages of recreated rooms (threshold {result.threshold}),
{stats["distinct_actors"]:,} distinct accounts (HyperLogLog estimate {est["distinct_actors"]:,},
± {est["relative_standard_error"]:.2%}).</p>
<p><i>{e(stats["note"])}</i></p>
<h2>Activity and lineage</h2><img src="activity.svg" alt="weekly activity per room with lineage links">
<h2>Lineages</h2>{"".join(rows) or "<p>None found.</p>"}
<h2>Accounts shared between rooms</h2><img src="overlap.svg" alt="overlap matrix">
<h2>Rooms</h2><table><tr><th>room</th><th>messages</th><th>distinct senders</th><th>participants_count</th></tr>
{per_room}</table>
<h2>Accounts in most rooms</h2><table><tr><th>account</th><th>names</th><th>rooms</th></tr>{top}</table>
<h2>Institutions</h2>
<table><tr><th>institution</th><th>rooms</th><th>accounts</th><th>media</th><th>as written</th></tr>
{inst}</table>
<h2>Graph files</h2>
<p>For Gephi: <a href="lineage.gexf">lineage.gexf</a>, <a href="lineage.graphml">lineage.graphml</a>,
<a href="actors_rooms.gexf">actors_rooms.gexf</a>, <a href="actors_rooms.graphml">actors_rooms.graphml</a>;
JSON: <a href="lineage.json">lineage.json</a>, <a href="actors_rooms.json">actors_rooms.json</a>,
<a href="lineages.json">lineages.json</a>.</p></html>
"""
