"""The key of a path: two independent hashes of its (position, step) pairs, summed.

A journey's path is identified without joining its steps into text: each step at position
``pos`` with code ``code`` becomes ``x = (pos * (n + 1) + code) mod P`` (one to one for
codes 1..n), and the path key is the pair of sums of two non-linear hashes of ``x`` over
the journey's steps, plus its length. Sums do not depend on row order, so the key is an
ordinary aggregate on every engine, and the values are the same on DuckDB and Spark.
Two different paths share a key with a chance of about 2**-62 (see
:func:`cjm_core.variants.path_variants`). The first ``TIE_STEPS`` codes are kept too, to
break ties in counts the same way on every engine.
"""

from __future__ import annotations

import ibis

P = 2_147_483_647  # 2**31 - 1: every product below stays under 2**62 (no overflow anywhere)
MIX = ((48_271, 11, 7), (69_621, 5, 13))  # two independent hash rounds
TIE_STEPS = 3  # ties in counts at the cut-off: first steps in alphabetical order decide


def mix(x: ibis.IntegerValue, a: int, c: int, d: int) -> ibis.IntegerValue:
    """A non-linear integer hash in [0, 2**31): affine map then two squarings, mod 2**31-1."""
    h = (x * a + c) % P
    h = (h * h + d) % P
    return (h * h + c) % P


def key_aggregates(
    pos: ibis.IntegerValue, code: ibis.IntegerValue, n_codes: int, take: ibis.BooleanValue
) -> dict[str, ibis.Value]:
    """The per-journey aggregates ``_s1``, ``_s2`` (the key) and ``_c1``.. (first steps) of
    the steps where ``take`` holds; ``pos`` and ``code`` are int64."""
    x = (pos * (n_codes + 1) + code) % P  # (pos, code) -> x: one to one
    hashes = [mix(x, *m) for m in MIX]
    out = {f"_s{i + 1}": h.sum(where=take).cast("int64").fill_null(0) for i, h in enumerate(hashes)}
    for k in range(1, TIE_STEPS + 1):
        out[f"_c{k}"] = code.max(where=take & (pos == k)).fill_null(0)
    return out
