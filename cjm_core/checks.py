"""Vectorised column converters used by :mod:`cjm_core.schema`.

Each converter takes one raw column and returns the converted values plus boolean masks of
the rows that failed, so the caller can report them. Nothing here raises for bad data and
nothing here drops rows; :mod:`cjm_core.schema` turns the masks into problems.

Canonical dtypes (one place, used everywhere):

- text and ids: pandas' default string dtype ``"str"`` (missing values are ``NaN``);
- timestamps: ``datetime64[us, UTC]`` (pandas 3's default resolution);
- numbers: ``float64``.

Example::

    >>> import pandas as pd
    >>> from cjm_core.checks import parse_timestamps
    >>> parsed = parse_timestamps(pd.Series(["2024-03-01T10:00:00+02:00", "soon"]))
    >>> str(parsed.values[0]), bool(parsed.unparsable[1])
    ('2024-03-01 08:00:00+00:00', True)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import CjmError

TEXT_DTYPE = "str"
TIMESTAMP_DTYPE = pd.DatetimeTZDtype(unit="us", tz="UTC")
NUMBER_DTYPE = "float64"

# An explicit zone at the end of an ISO 8601 string: "Z", "+02", "+0200" or "+02:00".
# Applied to the last 6 characters only (fast), and only to strings that carry a time.
_OFFSET_TAIL = r"(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"
_PERIOD = r"\d{4}-(?:0[1-9]|1[0-2])"


def blank_mask(s: pd.Series) -> np.ndarray:
    """Rows that are missing: null, or a string that is empty after stripping spaces."""
    mask = s.isna().to_numpy()
    if isinstance(s.dtype, pd.StringDtype):
        mask = mask | (s.str.strip() == "").fillna(False).to_numpy(dtype=bool)
    elif s.dtype == object:
        mask = mask | s.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return mask


def to_text(s: pd.Series) -> pd.Series:
    """Convert to the canonical string dtype, keeping nulls as nulls.

    Whole floats (ids read as ``1.0`` because of a missing value) are written ``"1"``.
    """
    if pd.api.types.is_float_dtype(s.dtype):
        finite = s.dropna()
        if len(finite) and np.all(np.mod(finite.to_numpy(), 1) == 0):
            s = s.astype("Int64")
    if isinstance(s.dtype, pd.StringDtype) and s.dtype == TEXT_DTYPE:
        return s
    out = s.astype(TEXT_DTYPE)
    out[s.isna().to_numpy()] = np.nan
    return out


def _is_bool_like(v: object) -> bool:
    return isinstance(v, bool | np.bool_)


def to_number(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to float64; return (values, wrong_type mask).

    Numbers stored as text are accepted; booleans, words and other objects are wrong types
    (blank strings count as missing, not as wrong types).
    """
    n = len(s)
    if pd.api.types.is_bool_dtype(s.dtype):
        return pd.Series(np.full(n, np.nan)), ~s.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.astype(NUMBER_DTYPE).reset_index(drop=True), np.zeros(n, dtype=bool)
    blank = blank_mask(s)
    bools = np.zeros(n, dtype=bool)
    if s.dtype == object:
        bools = s.map(_is_bool_like).to_numpy(dtype=bool)
    try:
        values = s.astype(NUMBER_DTYPE)
    except (TypeError, ValueError):
        values = pd.to_numeric(s, errors="coerce").astype(NUMBER_DTYPE)
    values = values.reset_index(drop=True)
    values[blank | bools] = np.nan
    wrong = (~blank & values.isna().to_numpy()) | bools
    return values, wrong


def check_timezone(name: str | None) -> str | None:
    """Check that ``name`` is a known IANA zone (or ``"UTC"``); return it unchanged."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CjmError(
            f"Unknown time zone {name!r} for assume_timezone; use an IANA name such as "
            f"'Europe/Lisbon', 'America/New_York' or 'UTC'."
        ) from None
    return str(name)


@dataclass
class ParsedTimes:
    """Result of :func:`parse_timestamps`: UTC values and the masks of rows that failed."""

    values: pd.Series  # datetime64[us, UTC]; NaT where a row failed or was missing
    missing: np.ndarray  # null or blank
    wrong_type: np.ndarray  # numbers or booleans where a timestamp is expected
    unparsable: np.ndarray  # text that is not an ISO 8601 timestamp
    naive: np.ndarray  # no time zone, and no assume_timezone given
    not_local: np.ndarray  # naive wall-clock time that does not exist or is ambiguous


def _iso_tail_has_offset(text: pd.Series) -> np.ndarray:
    """True where an ISO 8601 string ends with an explicit zone (needs a time part)."""
    has_time = text.str.contains(":", regex=False) | text.str.contains("T", case=False)
    tail = text.str.slice(-6).str.contains(_OFFSET_TAIL, regex=True)
    return (has_time & tail).fillna(False).to_numpy(dtype=bool)


def parse_timestamps(s: pd.Series, assume_timezone: str | None = None) -> ParsedTimes:
    """Parse a timestamp column to ``datetime64[us, UTC]``.

    Accepted: ISO 8601 text (``T`` or space between date and time), datetime objects and
    datetime columns. Values with an offset are converted to UTC. Values without a zone are
    naive: they are flagged (``naive``) unless ``assume_timezone`` names the zone they were
    recorded in, in which case they are localised to it and converted to UTC; a wall-clock
    time that the zone skips or repeats at a DST change is flagged (``not_local``).

    Example::

        >>> import pandas as pd
        >>> p = parse_timestamps(pd.Series(["2024-03-01 10:00"]), "Europe/Berlin")
        >>> str(p.values[0])
        '2024-03-01 09:00:00+00:00'
    """
    zone = check_timezone(assume_timezone)
    s = s.reset_index(drop=True)
    n = len(s)
    empty = np.zeros(n, dtype=bool)
    missing = blank_mask(s)
    wrong, unparsable, naive = empty.copy(), empty.copy(), empty.copy()
    # Work on plain numpy datetime64[us] arrays: UTC instants and naive wall-clock times.
    utc = np.full(n, np.datetime64("NaT", "us"))
    wall = utc.copy()

    if isinstance(s.dtype, pd.DatetimeTZDtype):
        utc = _naive_utc(s)
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        wall = s.dt.as_unit("us").to_numpy()
        naive = ~missing
    elif pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        wrong = ~missing
    else:
        is_str = ~missing
        if s.dtype == object:
            kind = s.map(_object_kind).to_numpy()
            is_str = (kind == "str") & ~missing
            wrong = (kind == "other") & ~missing
            aware, plain = (kind == "aware") & ~missing, (kind == "naive") & ~missing
            if aware.any():
                utc[aware] = _naive_utc(pd.to_datetime(s[aware].tolist(), utc=True))
            if plain.any():
                wall[plain] = pd.to_datetime(s[plain].tolist()).as_unit("us").to_numpy()
                naive = naive | plain
        if is_str.any():
            text = s[is_str].astype(TEXT_DTYPE).str.strip()
            parsed = _naive_utc(pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce"))
            ok = ~np.isnat(parsed)
            has_offset = _iso_tail_has_offset(text)
            rows = np.flatnonzero(is_str)
            unparsable[rows[~ok]] = True
            utc[rows[ok & has_offset]] = parsed[ok & has_offset]
            wall[rows[ok & ~has_offset]] = parsed[ok & ~has_offset]  # parsed as if UTC
            naive[rows[ok & ~has_offset]] = True

    not_local = empty.copy()
    if zone is not None and naive.any():
        rows = np.flatnonzero(naive)
        local = pd.Series(wall[rows]).dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT")
        converted = _naive_utc(local)
        bad = np.isnat(converted)
        not_local[rows[bad]] = True
        utc[rows[~bad]] = converted[~bad]
        naive = empty.copy()
    values = pd.Series(utc).dt.tz_localize("UTC")
    return ParsedTimes(values, missing, wrong, unparsable, naive, not_local)


def _naive_utc(values: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Tz-aware values as a numpy ``datetime64[us]`` array of UTC instants."""
    values = pd.Series(values).dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    return values.to_numpy()


def _object_kind(v: object) -> str:
    if isinstance(v, str):
        return "str"
    if isinstance(v, dt.datetime):  # includes pd.Timestamp
        return "aware" if v.tzinfo is not None else "naive"
    if isinstance(v, dt.date | np.datetime64):
        return "naive"
    return "other"


def to_period(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert a costs period to ``"YYYY-MM"`` text; return (values, wrong_type mask).

    Accepts ``"YYYY-MM"`` text, monthly ``Period`` values and dates (their month is used).
    """
    n = len(s)
    s = s.reset_index(drop=True)
    missing = blank_mask(s)
    if isinstance(s.dtype, pd.PeriodDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
        text = s.dt.strftime("%Y-%m").astype(TEXT_DTYPE)
        return text, np.zeros(n, dtype=bool)
    text = to_text(s).str.strip()
    ok = text.str.fullmatch(_PERIOD).fillna(False).to_numpy(dtype=bool)
    wrong = ~missing & ~ok
    text[wrong] = np.nan
    return text, wrong


def describe_rows(rows: np.ndarray | tuple[int, ...], limit: int = 5) -> str:
    """``"rows 3, 7, 9"`` or ``"rows 3, 7, 9, 12, 15 (first 5 of 40)"`` (0-based positions)."""
    total = len(rows)
    first = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" (first {limit} of {total})" if total > limit else ""
    return f"{'row' if total == 1 else 'rows'} {first}{more}"


def describe_values(values: pd.Series, limit: int = 3, width: int = 40) -> str:
    """Distinct example values as ``'a', 'b', 'c'`` (each cut to ``width`` characters)."""
    seen: list[str] = []
    for v in values.tolist():
        text = repr(v if not isinstance(v, str) else v[:width])
        if text not in seen:
            seen.append(text)
        if len(seen) == limit:
            break
    return ", ".join(seen)
