"""Builtin SQL functions that DuckDB and Spark share but Ibis does not translate for both."""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(x: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """Bitwise OR of a group (DuckDB and Spark builtin; Ibis's own has no Spark rule)."""


@ibis.udf.scalar.builtin(name="bit_count")
def bit_count(x: dt.int64) -> dt.int64:  # type: ignore[empty-body]
    """Number of set bits (DuckDB and Spark builtin)."""


# -- DuckDB only ---------------------------------------------------------------------------------

#: DuckDB macros behind :func:`id_code` and :func:`id_check` (created on a connection by
#: :func:`add_id_macros`): 63 bits of DuckDB's 64-bit hash as a BIGINT, null for null. Ibis's
#: own ``hash()`` reinterprets the hash through a BIT string, which costs a third more.
ID_MACROS = (
    "CREATE OR REPLACE TEMP MACRO cjm_id_code(x) AS "
    "CASE WHEN x IS NULL THEN NULL ELSE CAST(hash(x) >> 1 AS BIGINT) END",
    "CREATE OR REPLACE TEMP MACRO cjm_id_check(x) AS "
    "CASE WHEN x IS NULL THEN NULL ELSE CAST(hash(x || '#') >> 1 AS BIGINT) END",
)


@ibis.udf.scalar.builtin(name="cjm_id_code")
def id_code(x: dt.string) -> dt.int64:  # type: ignore[empty-body]
    """A customer id as a 63-bit code: its hash (DuckDB, after :func:`add_id_macros`)."""


@ibis.udf.scalar.builtin(name="cjm_id_check")
def id_check(x: dt.string) -> dt.int64:  # type: ignore[empty-body]
    """A second code of an id, independent of :func:`id_code` (the hash of the id with a
    character appended; DuckDB, after :func:`add_id_macros`)."""


def add_id_macros(con) -> None:
    """Create the macros of :func:`id_code` and :func:`id_check` on a DuckDB backend."""
    for sql in ID_MACROS:
        con.raw_sql(sql).fetchall()
