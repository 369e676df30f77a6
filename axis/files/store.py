"""SQL for what intake found in a package's files (table ``file_checks``, migration 022).

Written by intake in the package's own statement (``axis.exchange.store.accept``); read here by
the pages, the API and the CLI. Visibility is the caller's business: these functions read by
package id only.
"""

from __future__ import annotations

import uuid

from axis.files.findings import DocumentCheck
from axis.store.db import Conn


async def load(conn: Conn, package_id: uuid.UUID) -> DocumentCheck | None:
    """The whole check of one package; None when its files were not checked (a status, or off)."""
    report = await conn.fetchval("SELECT report FROM file_checks WHERE package_id = $1", package_id)
    return DocumentCheck.from_json(report) if report is not None else None
