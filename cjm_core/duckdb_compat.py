"""Let the pinned Ibis (12.0) run on DuckDB 2.

DuckDB 2.0 removed ``DuckDBPyConnection.fetch_arrow_table`` and ``fetch_record_batch``
(renamed ``to_arrow_table`` and ``to_arrow_reader``). Ibis 12 still calls the old names
for table listings, schemas of catalogs and batch reads (``list_tables``, which
``create_table`` uses, fails with ``AttributeError``); its queries themselves use
relations, which are unchanged. :func:`patch` adds the old names as aliases of the new
ones, only when they are missing, and silences DuckDB's note that such cursor results are
copied once (they are the small metadata results above). Nothing else changes; on
DuckDB 1.x it does nothing.
"""

from __future__ import annotations

import warnings

import duckdb

_COPY_NOTE = "Arrow output on a DB-API result makes an extra copy"


def patch() -> None:
    """Add the missing DuckDB 1.x method names Ibis 12 calls (idempotent)."""
    connection = duckdb.DuckDBPyConnection
    if hasattr(connection, "fetch_arrow_table"):
        return
    connection.fetch_arrow_table = _fetch_arrow_table
    connection.fetch_record_batch = _fetch_record_batch


def _fetch_arrow_table(self, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COPY_NOTE)
        return self.to_arrow_table(*args, **kwargs)


def _fetch_record_batch(self, rows_per_batch: int = 1_000_000):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_COPY_NOTE)
        return self.to_arrow_reader(rows_per_batch)
