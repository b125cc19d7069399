"""Shared helpers of the retail connectors for real public data sets.

The connectors themselves live in :mod:`cjm_retail.real_olist` (Olist orders and reviews) and
:mod:`cjm_retail.real_shoppers` (UCI online shoppers sessions). This module reads a source CSV
strictly (every record must have as many fields as the header: pandas would pad a short line
with empty values without a word), converts columns with errors that name the file, the
column and the line, loads the YAML mapping rules and attaches the count check.

Count check: every table a connector returns carries ``df.attrs["rows_read"]`` (the source
rows that fed it) and ``df.attrs["set_aside"]`` (those source rows that were not loaded, with
their line number ``_line`` and a ``reason``).

Example::

    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = file.write_text('id,note\\n1,"two\\nlines"\\n2,\\n')
    >>> df = read_source_csv(file, ["id", "note"])
    >>> df["_line"].tolist(), df["note"].isna().tolist()
    ([2, 4], [False, True])
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cjm_core.connectors.exports import read_yaml
from cjm_core.errors import ConnectorError

LINE = "_line"  # the source line number (1 = header) where a record starts


def read_source_csv(file: Path, required: Sequence[str]) -> pd.DataFrame:
    """Every field of a comma-separated UTF-8 file as text (empty -> NaN), plus ``_line``.

    Raises :class:`~cjm_core.errors.ConnectorError` when the file is missing or unreadable,
    a record has more or fewer fields than the header (naming the line), or a ``required``
    column is absent (naming the columns present).
    """
    file = Path(file)
    if not file.is_file():
        raise ConnectorError(f"{str(file)!r} does not exist (or is not a file).")
    try:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header:
                raise ConnectorError(f"{str(file)!r} is empty: no header line.")
            rows, lines, start = [], [], 2
            for row in reader:
                if len(row) != len(header):
                    raise ConnectorError(
                        f"{str(file)!r}, line {start}: {len(row)} field(s) where the header "
                        f"has {len(header)}. Fix the line (a stray comma, or a text field with "
                        f"a comma or line break that is not in double quotes) or restore the "
                        f"original file."
                    )
                rows.append(row)
                lines.append(start)
                start = reader.line_num + 1
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConnectorError(f"Could not read {str(file)!r}: {exc}.") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise ConnectorError(
            f"{str(file)!r} lacks column(s) {', '.join(map(repr, missing))}; columns present: "
            f"{', '.join(header)}. Fix: give the file in its original format (header unchanged)."
        )
    df = pd.DataFrame(rows, columns=header, dtype="str").replace("", np.nan)
    df[LINE] = np.asarray(lines, dtype="int64")
    return df


def _where(df: pd.DataFrame, bad: pd.Series) -> str:
    lines = df.loc[bad, LINE].tolist()
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line(s) {', '.join(map(str, lines[:5]))}{more}"


def _shown(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.head(5).tolist())


def require_values(df: pd.DataFrame, columns: Sequence[str], file: Path) -> None:
    """Raise :class:`~cjm_core.errors.ConnectorError` if a key column has empty values."""
    for col in columns:
        bad = df[col].isna()
        if bad.any():
            raise ConnectorError(
                f"{str(file)!r}, column {col!r}: {int(bad.sum())} empty value(s) at "
                f"{_where(df, bad)}. Fix: every row needs a {col}; restore the original file."
            )


def to_number(df: pd.DataFrame, col: str, file: Path, *, integer: bool = False) -> pd.Series:
    """The text column ``col`` as float64 (empty stays NaN); non-numbers raise, naming lines.

    With ``integer=True`` values such as ``3.5`` raise too (``3.0`` is accepted, as pandas
    writes integers of a column with gaps).
    """
    values = pd.to_numeric(df[col], errors="coerce").astype("float64")
    bad = df[col].notna() & (values.isna() | ~np.isfinite(values.fillna(0)))
    kind = "numbers"
    if integer and not bad.any():
        bad = values.notna() & (values % 1 != 0)
        kind = "whole numbers"
    if bad.any():
        raise ConnectorError(
            f"{str(file)!r}, column {col!r}: {int(bad.sum())} value(s) that are not {kind} at "
            f"{_where(df, bad)} (values {_shown(df.loc[bad, col])}). Fix: the column holds "
            f"{kind} with '.' as the decimal separator; correct those lines."
        )
    return values


def to_flag(df: pd.DataFrame, col: str, file: Path) -> pd.Series:
    """The ``TRUE``/``FALSE`` text column ``col`` as bool (case-insensitive); others raise."""
    text = df[col].str.upper()
    bad = ~text.isin(["TRUE", "FALSE"])
    if bad.any():
        raise ConnectorError(
            f"{str(file)!r}, column {col!r}: {int(bad.sum())} value(s) that are not TRUE or "
            f"FALSE at {_where(df, bad)} (values {_shown(df.loc[bad, col])}). Fix: write "
            f"TRUE or FALSE."
        )
    return text == "TRUE"


def to_timestamp(df: pd.DataFrame, col: str, file: Path, fmt: str) -> pd.Series:
    """The text column ``col`` as naive datetimes in format ``fmt`` (empty stays NaT)."""
    parsed = pd.to_datetime(df[col], format=fmt, errors="coerce")
    bad = df[col].notna() & parsed.isna()
    if bad.any():
        raise ConnectorError(
            f"{str(file)!r}, column {col!r}: {int(bad.sum())} value(s) not in the format "
            f"{fmt!r} at {_where(df, bad)} (values {_shown(df.loc[bad, col])}). Fix: write "
            f"them as the source does, e.g. '2018-03-01 10:00:00'."
        )
    return parsed


def localize(values: pd.Series, timezone: str) -> pd.Series:
    """Naive wall-clock datetimes recorded in ``timezone`` as UTC.

    A time skipped by a daylight-saving change moves forward to the first valid time; a
    repeated one is read as the first (summer-time) occurrence. ``"UTC"`` only labels.

    Example::

        >>> s = pd.Series(pd.to_datetime(["2017-10-15 00:30", "2018-03-01 10:00"]))
        >>> localize(s, "America/Sao_Paulo").dt.strftime("%H:%M").tolist()
        ['03:00', '13:00']
    """
    flags = np.ones(len(values), dtype=bool)
    out = values.dt.tz_localize(timezone, ambiguous=flags, nonexistent="shift_forward")
    return out.dt.tz_convert("UTC").astype("datetime64[us, UTC]")


def check_timezone(timezone: Any) -> str:
    """``timezone`` if it is a known IANA zone name, else a ConnectorError."""
    try:
        pd.Timestamp("2020-01-01").tz_localize(timezone)
    except Exception:  # pytz, zoneinfo and dateutil raise different classes
        raise ConnectorError(
            f"Unknown time zone {timezone!r}; give an IANA name such as 'UTC' or "
            f"'America/Sao_Paulo'."
        ) from None
    return str(timezone)


def load_rules(default: Path, mapping_file: str | Path | None) -> tuple[dict[str, Any], str]:
    """The YAML mapping rules (``mapping_file``, else the shipped ``default``) and its name."""
    path = Path(mapping_file) if mapping_file is not None else Path(default)
    where = f"mapping file {str(path)!r}"
    rules = read_yaml(path, where)
    if not isinstance(rules, dict):
        raise ConnectorError(f"The {where} must be a mapping of sections; see {default.name}.")
    return rules, where


def check_keys(section: Any, allowed: Sequence[str], where: str, name: str) -> dict[str, Any]:
    """``section`` as a dict whose keys are among ``allowed``; otherwise a ConnectorError."""
    if not isinstance(section, dict):
        raise ConnectorError(f"The {where}: section {name!r} must be a mapping.")
    unknown = [k for k in section if k not in allowed]
    if unknown:
        raise ConnectorError(
            f"The {where}: section {name!r} has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed)}."
        )
    return section


def check_touchpoint(touchpoint: Any, where: str, name: str) -> str:
    """``touchpoint`` if the retail catalog has it, else a ConnectorError listing the ids."""
    from .generator import catalog

    ids = catalog().touchpoint_ids
    if touchpoint not in ids:
        raise ConnectorError(
            f"The {where}: {name} names touchpoint {touchpoint!r}, which the retail catalog "
            f"does not have; touchpoints: {', '.join(ids)}."
        )
    return str(touchpoint)


def flag(reason: pd.Series, mask: pd.Series, text: pd.Series | str) -> None:
    """Give ``text`` as the reason of the rows in ``mask`` that have none yet (in place)."""
    todo = mask & reason.isna()
    reason[todo] = text[todo] if isinstance(text, pd.Series) else text


def set_aside(rows: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """Source rows not loaded, each with its ``reason`` (index reset)."""
    out = rows.copy()
    out["reason"] = reasons.loc[rows.index].astype("str")
    return out.reset_index(drop=True)


def with_counts(df: pd.DataFrame, rows_read: int, aside: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the count check attached: ``attrs["rows_read"]`` and ``["set_aside"]``."""
    df = df.reset_index(drop=True)
    df.attrs["rows_read"] = int(rows_read)
    df.attrs["set_aside"] = aside
    return df
