"""A takedown document rendered for people: HTML (autoescaped) and PDF, both from the frozen JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

_ENV = Environment(loader=PackageLoader("reclaim.takedown", "templates"), autoescape=select_autoescape(["html"]))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def to_html(document: dict[str, Any]) -> str:
    return _ENV.get_template("document.html").render(doc=document)


def _lines(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(style, text) lines shared by the PDF: h = heading, b = body."""
    dest = document["destination"]
    case = document["case"]
    out: list[tuple[str, str]] = [
        ("h", f"Takedown request {document.get('request_id', '')} to {dest['label']}"),
        ("b", f"Contact: {dest['contact']}"),
        ("b", f"Submitted by: {'the victim herself' if dest['submitted_by'] == 'victim' else 'the requester'}"),
        ("b", f"Instructions: {dest['instructions']}"),
        ("b", f"Case: {case['ref']}   Minor: {'yes' if case['minor'] else 'no'}"),
        (
            "b",
            f"Victim consent: {case['consent']['status']} (scope {', '.join(case['consent']['scope'])}, "
            f"recorded {case['consent']['recorded_at']} by {case['consent']['recorded_by']})",
        ),
        ("b", f"Category: {document['category']}"),
        ("b", f"Legal basis: {document['legal_basis']}"),
        ("b", f"Requester: {document['requester']}   Created (UTC): {document['created_at']}"),
    ]
    if document.get("note"):
        out.append(("b", f"Note: {document['note']}"))
    for n, item in enumerate(document["items"], start=1):
        out.append(("h", f"Item {n}: {item['media_type']} (match {item['match_id']}, {item['method']})"))
        out.append(("b", f"SHA-256: {item['sha256']}"))
        out.append(("b", f"MD5: {item['md5']}"))
        if item.get("pdq"):
            out.append(("b", f"PDQ: {item['pdq']}"))
        for s in item["sightings"]:
            where = s.get("url") or s.get("path") or ""
            out.append(
                (
                    "b",
                    f"- {s['platform']} room {s['room_platform_id']} message {s['message_id']} {where}; "
                    f"posted {s['posted_at'] or 'unknown'} UTC; captured {s['captured_at']} UTC",
                )
            )
        if not item["sightings"]:
            out.append(("b", "- no recorded sighting (hash match only)"))
    return out


def to_pdf(document: dict[str, Any]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    unicode = FONT.is_file()
    if unicode:
        pdf.add_font("body", "", str(FONT))
    family = "body" if unicode else "Helvetica"

    def clean(text: str) -> str:  # the core fonts are Latin-1 only
        return text if unicode else text.encode("latin-1", "replace").decode("latin-1")

    for style, text in _lines(document):
        pdf.set_font(family, size=13 if style == "h" else 9)
        pdf.multi_cell(0, 6 if style == "h" else 4.5, clean(text), new_x="LMARGIN", new_y="NEXT")
        if style == "h":
            pdf.ln(1)
    return bytes(pdf.output())
