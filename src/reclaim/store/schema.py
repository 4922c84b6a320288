"""Every table of every area, so migrations and the schema test compare against the whole schema.

Each area keeps its tables in its own module under `store/` on the shared `Base`; importing it here registers them.
"""

from __future__ import annotations

from reclaim.store import (
    evidence_tables,  # noqa: F401
    face_tables,  # noqa: F401
    room_tables,  # noqa: F401
    service_tables,  # noqa: F401
    tables,
)

metadata = tables.Base.metadata
