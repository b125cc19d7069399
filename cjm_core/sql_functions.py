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
