"""The key of a path: two independent hashes of its (position, step) pairs, summed.

A journey's path is identified without joining its steps into text: each step at position
``pos`` with code ``code`` becomes ``x = (pos * (n + 1) + code) mod P`` (one to one for
codes 1..n), and the path key is the pair of sums of two hashes of ``x`` over the journey's
steps, plus its length. Sums do not depend on row order, so the key is an ordinary aggregate
on every engine, and the values are the same on DuckDB and Spark.

The hash mixes with xor-shifts and multiplications on 31-bit values (every product stays
under 2**62, so no engine overflows). A polynomial hash does not do: sums of a polynomial of
degree d over the steps are tied to the first d power sums of the ``x`` values, which
different paths share. The first scheme here (two squarings mod 2**31-1) gave the paths of
codes 9, 9, 1, 13, 10 and 11, 3, 7, 10, 11 (of 15 touchpoints) the same key, and 216 pairs
among the 531,441 paths of 12 steps over 3 touchpoints; this one gives none in either set
(``tests/test_variants.py``). Two different paths share a key with a chance of about 2**-62.
The first ``TIE_STEPS`` codes are kept too, to break ties in counts the same way on every
engine.
"""

from __future__ import annotations

import ibis

P = 2_147_483_647  # 2**31 - 1: positions and codes are folded below it
MASK = 2**31 - 1  # values stay in 31 bits: a product of two is under 2**62
#: two independent hash rounds: (multiplier, multiplier, seed), each below 2**31
MIX = ((0x45D9F3B, 0x2C1B3C6D, 0x5BD1E995), (0x119DE1F3, 0x2F2D8A5B, 0x3C6EF372))
TIE_STEPS = 3  # ties in counts at the cut-off: first steps in alphabetical order decide


def mix(x: ibis.IntegerValue, a: int, b: int, seed: int) -> ibis.IntegerValue:
    """A 31-bit integer hash of ``x`` (0 <= x < 2**31): xor-shift, multiply, twice.

    >>> import ibis
    >>> from cjm_core.engine import duckdb_engine
    >>> t = ibis.memtable({"x": [0, 1, 2]})
    >>> duckdb_engine().execute(t.select(h=mix(t.x, *MIX[0])))["h"].tolist()
    [1232377288, 181175136, 1975566193]
    >>> [mix_int(x, *MIX[0]) for x in (0, 1, 2)]
    [1232377288, 181175136, 1975566193]
    """
    h = (x ^ seed) & MASK
    h = ((h ^ (h >> 16)) * a) & MASK
    h = ((h ^ (h >> 15)) * b) & MASK
    return h ^ (h >> 16)


def mix_int(x: int, a: int, b: int, seed: int) -> int:
    """:func:`mix` on a Python int (the reference the engines are tested against)."""
    h = (x ^ seed) & MASK
    h = ((h ^ (h >> 16)) * a) & MASK
    h = ((h ^ (h >> 15)) * b) & MASK
    return h ^ (h >> 16)


def key_aggregates(
    pos: ibis.IntegerValue, code: ibis.IntegerValue, n_codes: int, take: ibis.BooleanValue | None
) -> dict[str, ibis.Value]:
    """The per-journey aggregates ``_s1``, ``_s2`` (the key) and ``_c1``.. (first steps) of
    the steps where ``take`` holds (None: every step); ``pos`` and ``code`` are int64."""
    x = (pos * (n_codes + 1) + code) % P  # (pos, code) -> x: one to one
    out = {}
    for i, m in enumerate(MIX):
        # summed as float64: exact (each term < 2**31, so any journey under 2**22 steps stays
        # below 2**53) and far cheaper than DuckDB's 128-bit sum of int64
        total = mix(x, *m).cast("float64").sum(where=take)
        out[f"_s{i + 1}"] = total.cast("int64").fill_null(0)
    for k in range(1, TIE_STEPS + 1):
        first = pos == k if take is None else take & (pos == k)
        out[f"_c{k}"] = code.max(where=first).fill_null(0)
    return out
