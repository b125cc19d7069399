"""Reading CSV exports row by row with clear errors: shared by the contact-centre and
survey connectors.

:func:`read_export` reads a CSV export with Python's ``csv`` module so that an error can
name the exact line (rows may span lines); :func:`parse_times` and :func:`parse_seconds` read
clock times (with a zone, or an assumed one) and durations (seconds or ``h:mm:ss``);
:func:`fail` and :func:`no_column` build the :class:`~cjm_core.errors.ConnectorError` with
file, line, column and fix; :func:`load_yaml` reads a mapping given as a dict or a YAML file.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..checks import parse_timestamps
from ..errors import CjmError, ConnectorError

_HMS = r"^(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)$"


def fail(
    file: Any, problem: str, fix: str, *, line: Any = None, column: Any = None
) -> ConnectorError:
    """A :class:`ConnectorError` reading ``file, line N, column 'c': problem. Fix: fix.``

    Example::

        >>> str(fail("calls.csv", "no such column", "rename it", line=3, column="Queue"))
        "calls.csv, line 3, column 'Queue': no such column. Fix: rename it."
    """
    where = str(file) + (f", line {line}" if line is not None else "")
    where += f", column {column!r}" if column is not None else ""
    return ConnectorError(f"{where}: {problem}. Fix: {fix}.")


def read_export(
    path: str | Path, *, sep: str = ",", encoding: str = "utf-8-sig", extra_header_rows: int = 0
) -> tuple[Path, pd.DataFrame]:
    """Read a CSV export as text: every cell a ``str`` ("" when blank), plus ``_line`` (the
    file line where each record starts, so errors can name it). Empty lines are skipped;
    ``extra_header_rows`` records after the header are skipped too (Qualtrics writes two).

    Example::

        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = f.write_text('id,note\\n1,"two\\nlines"\\n\\n2,\\n', encoding="utf-8")
        >>> read_export(f)[1].to_dict("list")
        {'id': ['1', '2'], 'note': ['two\\nlines', ''], '_line': [2, 5]}
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise fail(file, "the file does not exist", "check the path")
    header: list[str] | None = None
    rows, lines, skip, end = [], [], extra_header_rows, 0
    try:
        with file.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=sep, strict=True)
            for record in reader:
                start, end = end + 1, reader.line_num
                if not record:
                    continue
                if header is None:
                    header = [" ".join(c.split()) for c in record]
                    dup = sorted({c for c in header if header.count(c) > 1})
                    if dup:
                        raise fail(file, f"the header repeats {dup}", "give each column a name")
                elif skip:
                    skip -= 1
                elif len(record) != len(header):
                    raise fail(
                        file,
                        f"{len(record)} fields where the header has {len(header)}",
                        f"quote values that hold the separator {sep!r} or a line break, and "
                        f"check that the file is {sep!r}-separated (pass sep= otherwise)",
                        line=start,
                    )
                else:
                    rows.append(record)
                    lines.append(start)
    except csv.Error as exc:
        raise fail(file, f"broken CSV ({exc})", "close the open quote", line=end + 1) from None
    except UnicodeDecodeError as exc:
        raise fail(file, f"not {encoding} text ({exc.reason})", "pass encoding=") from None
    if header is None:
        raise fail(file, "the file is empty", "export the data with a header row")
    df = pd.DataFrame(rows, columns=header, dtype="str") if rows else pd.DataFrame(columns=header)
    return file, df.astype("str").assign(_line=np.array(lines, dtype="int64"))


def normal_name(text: str) -> str:
    """A column name lower-cased with runs of spaces and punctuation as ``_``.

    Example::

        >>> normal_name(" Wait Time (s) ")
        'wait_time_s'
    """
    return re.sub(r"[^0-9a-z]+", "_", str(text).casefold()).strip("_")


def no_column(file: Path, column: str, present: Iterable[str], fix: str) -> ConnectorError:
    """The error for a column the export lacks, listing close names and the columns present."""
    present = [c for c in present if c != "_line"]
    close = difflib.get_close_matches(column, present, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return fail(file, f"no column {column!r}{hint} Columns: {', '.join(present)}", fix)


def parse_times(
    text: pd.Series,
    df: pd.DataFrame,
    file: Path,
    column: str,
    *,
    time_format: str | None = None,
    assume_timezone: str | None = None,
) -> tuple[pd.Series, np.ndarray]:
    """UTC times of ``text`` (blank cells give NaT) and the mask of local times that the zone
    skips or repeats. ISO 8601 unless ``time_format``; naive times need ``assume_timezone``.
    Unreadable or naive times raise :class:`ConnectorError` with the line (``df["_line"]``).

    Example::

        >>> df = pd.DataFrame({"_line": [2]})
        >>> parse_times(pd.Series(["04/03/2024 09:00"]), df, "x.csv", "when",
        ...     time_format="%d/%m/%Y %H:%M", assume_timezone="Europe/Madrid")[0].tolist()
        [Timestamp('2024-03-04 08:00:00+0000', tz='UTC')]
    """
    text = text.reset_index(drop=True).str.strip()
    blank = (text == "").to_numpy()
    values: pd.Series = text.where(~blank)
    if time_format:
        values = pd.to_datetime(
            values, format=time_format, errors="coerce", utc="%z" in time_format
        )
        bad = ~blank & values.isna().to_numpy()
        fix = f"correct the value(s) or pass the time_format they use (now {time_format!r})"
    try:
        parsed = parse_timestamps(values, assume_timezone)
    except CjmError as exc:
        raise ConnectorError(str(exc)) from None
    if not time_format:
        bad = parsed.unparsable | parsed.wrong_type
        fix = "write ISO 8601 (2024-03-04 09:15:00) or pass time_format='%d/%m/%Y %H:%M:%S'"
    for mask, problem, hint in (
        (bad, "cannot be read as a time", fix),
        (
            parsed.naive,
            "has no time zone",
            "pass assume_timezone= the zone the export was written in (e.g. 'Europe/London' "
            "or 'UTC'), or export times with an offset",
        ),
    ):
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            what = f"{text[first]!r} {problem} ({int(mask.sum())} value(s) like it)"
            raise fail(file, what, hint, line=int(df["_line"].iloc[first]), column=column)
    return parsed.values, parsed.not_local


def parse_seconds(text: pd.Series, df: pd.DataFrame, file: Path, column: str) -> pd.Series:
    """Seconds from ``85``, ``85.5`` or ``h:mm:ss`` text (blank -> NaN); anything else, or a
    negative number, raises :class:`ConnectorError` naming the line.

    Example::

        >>> parse_seconds(pd.Series(["0:01:25", "90", ""]), None, "x.csv", "wait").tolist()
        [85.0, 90.0, nan]
    """
    text = text.reset_index(drop=True).str.strip()
    blank = (text == "").to_numpy()
    parts = text.str.extract(_HMS)
    hms = parts[0].notna().to_numpy()
    hours, minutes, secs = (pd.to_numeric(parts[i]) for i in range(3))
    values = pd.to_numeric(text.where(~hms & ~blank), errors="coerce").astype("float64")
    values[hms] = (hours * 3600 + minutes * 60 + secs)[hms]
    bad = ~blank & (values.isna() | ~np.isfinite(values) | (values < 0)).to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise fail(
            file,
            f"{text[first]!r} is not a duration ({int(bad.sum())} value(s) like it)",
            "write seconds (85) or h:mm:ss (0:01:25); mm:ss is refused because it reads like h:mm",
            line=int(df["_line"].iloc[first]),
            column=column,
        )
    return values


def read_yaml(path: str | Path, where: str) -> Any:
    """The parsed YAML file (``safe_load``); a missing file or bad YAML is a
    :class:`~cjm_core.errors.ConnectorError` about ``where`` (e.g. "mapping file 'x.yaml'").
    Every connector's rule and mapping files are read through it."""
    try:
        return yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConnectorError(f"The {where} does not exist.") from None
    except yaml.YAMLError as exc:
        raise ConnectorError(f"The {where} is not valid YAML: {exc}") from None


def load_yaml(source: Mapping[str, Any] | str | Path, what: str) -> dict[str, Any]:
    """A mapping given as a dict or as the path of a YAML file (read with ``safe_load``)."""
    if isinstance(source, Mapping):
        return dict(source)
    loaded = read_yaml(source, f"{what} file {str(source)!r}")
    if not isinstance(loaded, Mapping):
        raise ConnectorError(f"The {what} file {str(source)!r} must hold a mapping.")
    return dict(loaded)
