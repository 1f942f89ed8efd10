"""A posted video with a product, concept and script_library entry, for the hook tests."""

from __future__ import annotations

import uuid
from typing import Any

from tests.flashflow_core.job_rows import insert


def posted_video(conn, *, brand: str | None = "Glow", script_json: dict | None = None, script_text: str | None = None,
                 concept: dict[str, Any] | None = None, library: dict[str, Any] | None = None,
                 status: str = "POSTED") -> uuid.UUID:
    """Insert the rows behind one video and return the video id."""
    product = insert(conn, "products", name="Serum", brand=brand)["id"]
    concept_id = insert(conn, "concepts", product_id=product, **concept)["id"] if concept is not None else None
    library_id = None
    if library is not None:
        library_id = insert(conn, "script_library", product_id=product, brand_name=brand or "none",
                            script_text="script", script_hash=uuid.uuid4().hex, **library)["id"]
    return insert(conn, "videos", product_id=product, concept_id=concept_id, script_library_id=library_id,
                  script_locked_json=script_json, script_locked_text=script_text, recording_status=status)["id"]
