"""The key of a path: its first steps packed exactly into one integer, the rest hashed.

A journey's path is identified without joining its steps into text. With step codes 1..n
(0 is "no step"), each code takes ``bits = n.bit_length()`` bits, and the first
``K = 62 // bits`` steps are packed into one int64: the step at position ``pos`` is
shifted left by ``bits * (K - pos)``, and the journey's packed steps are OR-ed
(``_pk``). Paths of up to K steps (15 with 15 touchpoints, 8 with 100) are identified
exactly, the packed value sorts paths in the order of their step codes (codes follow the
alphabetical order of the labels), and the steps decode from it without another query.

Steps after the K-th are hashed: each becomes ``x = (pos * (n + 1) + code) mod P`` (one to
one for codes 1..n) and the key adds two sums of a hash of ``x`` over those steps (``_s1``,
``_s2``, both 0 for a path of up to K steps). Sums do not depend on row order, so every part
of the key is an ordinary aggregate on every engine, with the same values on DuckDB and
Spark, and the hash is only computed for steps past the K-th.

The hash mixes with xor-shifts and multiplications on 31-bit values (every product stays
under 2**62, so no engine overflows). A polynomial hash does not do: sums of a polynomial of
degree d over the steps are tied to the first d power sums of the ``x`` values, which
different paths share (an earlier scheme here, two squarings mod 2**31-1, gave the paths of
codes 9, 9, 1, 13, 10 and 11, 3, 7, 10, 11 of 15 touchpoints the same key); this one gives
no shared key in exhaustive sets (``tests/test_variants.py``). Two paths with the same first
K steps and the same length share a key with a chance of about 2**-62.
"""

from __future__ import annotations

import ibis

from .sql_functions import bit_or

P = 2_147_483_647  # 2**31 - 1: positions and codes are folded below it
MASK = 2**31 - 1  # values stay in 31 bits: a product of two is under 2**62
#: two independent hash rounds: (multiplier, multiplier, seed), each below 2**31
MIX = ((0x45D9F3B, 0x2C1B3C6D, 0x5BD1E995), (0x119DE1F3, 0x2F2D8A5B, 0x3C6EF372))
PREFIX_BITS = 62  # the packed first steps stay below 2**62 (int64 on every engine)
NO_TAIL = {"_s1": 0, "_s2": 0}  # the hash sums of a path no longer than the packed steps


def layout(n_codes: int) -> tuple[int, int]:
    """(bits per step, steps packed exactly) for step codes 1..``n_codes``.

    >>> layout(15), layout(16), layout(100)
    ((4, 15), (5, 12), (7, 8))
    """
    bits = max(1, int(n_codes).bit_length())
    return bits, max(1, PREFIX_BITS // bits)


def packed_steps(pk: int, length: int, n_codes: int) -> list[int]:
    """The codes of the first ``min(length, K)`` steps packed in ``pk`` (see :func:`layout`).

    >>> pk = (3 << 4 * 14) | (1 << 4 * 13)  # steps 3, 1 of 15 codes
    >>> packed_steps(pk, 2, 15)
    [3, 1]
    """
    bits, k = layout(n_codes)
    low = (1 << bits) - 1
    return [(int(pk) >> (bits * (k - pos))) & low for pos in range(1, min(length, k) + 1)]


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
    pos: ibis.IntegerValue,
    code: ibis.IntegerValue,
    n_codes: int,
    take: ibis.BooleanValue | None,
) -> dict[str, ibis.Value]:
    """The per-journey aggregates ``_pk`` (the first steps, packed) and ``_s1``, ``_s2``
    (hash sums of the later steps) of the steps where ``take`` holds (None: every step);
    ``pos`` (1-based) and ``code`` (1..n_codes) are int64."""
    k = layout(n_codes)[1]
    tail = pos > k if take is None else take & (pos > k)
    # the hash only past the K-th step (a CASE: it is not computed on the other rows)
    return {**packed_key(pos, code, n_codes, take), **tail_sums(pos, code, n_codes, tail)}


def packed_key(
    pos: ibis.IntegerValue,
    code: ibis.IntegerValue,
    n_codes: int,
    take: ibis.BooleanValue | None = None,
) -> dict[str, ibis.Value]:
    """The aggregate ``_pk``: the first steps where ``take`` holds (None: every step),
    packed (see :func:`layout`)."""
    bits, k = layout(n_codes)
    head = pos <= k if take is None else take & (pos <= k)
    return {"_pk": bit_or(ibis.ifelse(head, code << ((k - pos) * bits), 0).cast("int64"))}


def tail_sums(
    pos: ibis.IntegerValue,
    code: ibis.IntegerValue,
    n_codes: int,
    tail: ibis.BooleanValue | None = None,
) -> dict[str, ibis.Value]:
    """The aggregates ``_s1``, ``_s2``: the hash sums of the steps past the packed ones (0
    for a path without such steps); ``tail``: which rows are such steps (None: every row,
    when the rows are filtered to them already)."""
    x = (pos * (n_codes + 1) + code) % P  # (pos, code) -> x: one to one
    out = {}
    for i, m in enumerate(MIX):
        # summed as float64: exact (each term < 2**31, so any journey under 2**22 steps
        # stays below 2**53) and far cheaper than DuckDB's 128-bit sum of int64
        term = mix(x, *m).cast("float64")
        if tail is not None:
            term = ibis.ifelse(tail, term, 0.0)
        out[f"_s{i + 1}"] = term.sum().cast("int64").fill_null(0)
    return out


def first_step(pk: ibis.IntegerValue, n_codes: int) -> ibis.IntegerValue:
    """The code of a path's first step, from its packed steps (see :func:`layout`)."""
    bits, k = layout(n_codes)
    return (pk >> (bits * (k - 1))) & ((1 << bits) - 1)


def step_at(pk: ibis.IntegerValue, pos: ibis.IntegerValue, n_codes: int) -> ibis.IntegerValue:
    """The code of the step at position ``pos`` (1-based) from the packed steps; 0 past the
    packed ones (see :func:`layout`)."""
    bits, k = layout(n_codes)
    shift = ibis.greatest(k - pos.cast("int64"), 0) * bits
    return ibis.ifelse(pos <= k, (pk >> shift) & ((1 << bits) - 1), 0)
