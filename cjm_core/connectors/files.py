"""The built-in file connector: canonical tables from CSV or Parquet files in one folder.

A folder holds ``events``, ``customers`` and optionally ``feedback`` and ``costs``, each as
``<table>.parquet``, ``<table>.csv`` or ``<table>.csv.gz``. Source columns are renamed to
canonical names with a column mapping, given as a dict or a YAML file, either flat (applied
to every table) or per table::

    cust: customer_id          # flat
    ---
    events:                    # per table
      cust: customer_id
      ts: timestamp

The connector only reads and renames; :func:`cjm_core.bundle.load_bundle` validates.

Example::

    >>> import tempfile, pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"cust": ["c1"], "ts": ["2024-03-01T10:00Z"], "touchpoint": ["site"]}
    ...              ).to_csv(f"{folder}/events.csv", index=False)
    >>> tables = read_files(folder, mapping={"cust": "customer_id", "ts": "timestamp"})
    >>> list(tables["events"].columns)
    ['customer_id', 'timestamp', 'touchpoint']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ConnectorError
from ..extensions import Connector
from .exports import read_yaml

TABLE_NAMES = ("events", "feedback", "customers", "costs")
SUFFIXES = {"parquet": (".parquet",), "csv": (".csv", ".csv.gz")}
# Canonical columns read as text from CSV, so ids like "007" keep their leading zeros.
TEXT_COLUMNS = (
    "customer_id",
    "journey_id",
    "touchpoint",
    "channel",
    "event_type",
    "metric",
    "period",
    "comment",
    "language",
)

ColumnMapping = Mapping[str, Any] | str | Path


def load_mapping(
    mapping: ColumnMapping | None = None,
    mapping_file: str | Path | None = None,
    tables: Sequence[str] = TABLE_NAMES,
) -> dict[str, dict[str, str]]:
    """Normalise a column mapping to ``{table or "*": {source: canonical}}``.

    ``"*"`` holds a flat mapping (applied to every table that has the source column).
    ``mapping`` may also be the path of a YAML mapping file.

    Example::

        >>> load_mapping({"cust": "customer_id"})
        {'*': {'cust': 'customer_id'}}
        >>> load_mapping({"events": {"ts": "timestamp"}})
        {'events': {'ts': 'timestamp'}}
    """
    if mapping is not None and mapping_file is not None:
        raise ConnectorError(
            "Give the column mapping either as 'mapping' or as 'mapping_file', not both."
        )
    if isinstance(mapping, str | Path):  # the path of a YAML file given as the mapping
        mapping, mapping_file = None, mapping
    where = "column mapping"
    if mapping_file is not None:
        where = f"mapping file {str(mapping_file)!r}"
        mapping = read_yaml(mapping_file, where)
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping):
        raise ConnectorError(
            f"The {where} must be a mapping of source column -> canonical column, got "
            f"{type(mapping).__name__}."
        )
    nested = [k for k, v in mapping.items() if isinstance(v, Mapping)]
    if not nested:
        return {"*": _pairs(mapping, where)}
    if len(nested) != len(mapping):
        raise ConnectorError(
            f"The {where} mixes per-table sections ({', '.join(map(str, nested))}) with flat "
            f"entries; use one shape: {{'cust': 'customer_id'}} or "
            f"{{'events': {{'cust': 'customer_id'}}}}."
        )
    unknown = [k for k in mapping if k not in tables]
    if unknown:
        raise ConnectorError(
            f"The {where} names unknown table(s) {', '.join(map(repr, unknown))}; "
            f"tables: {', '.join(tables)}."
        )
    return {str(t): _pairs(cols, f"{where} [{t}]") for t, cols in mapping.items()}


def _pairs(mapping: Mapping[Any, Any], where: str) -> dict[str, str]:
    bad = [k for k, v in mapping.items() if not isinstance(v, str) or not str(k)]
    if bad:
        raise ConnectorError(
            f"The {where} must map column names to column names; bad entries for "
            f"{', '.join(map(repr, bad))}."
        )
    return {str(k): v for k, v in mapping.items()}


def apply_mapping(
    frames: Mapping[str, pd.DataFrame], mapping: ColumnMapping | None
) -> dict[str, pd.DataFrame]:
    """Rename source columns to canonical names in each table.

    Raises :class:`~cjm_core.errors.ConnectorError` when a mapped source column is absent
    (naming table, column and the columns present) or a rename would clash.

    Example::

        >>> import pandas as pd
        >>> out = apply_mapping({"customers": pd.DataFrame({"cust": ["a"]})},
        ...                     {"cust": "customer_id"})
        >>> list(out["customers"].columns)
        ['customer_id']
    """
    rules = load_mapping(mapping, tables=tuple(frames) or TABLE_NAMES) if mapping else {}
    if not rules:
        return dict(frames)
    if "*" in rules:
        used = {c for df in frames.values() for c in map(str, df.columns)}
        absent = [c for c in rules["*"] if c not in used]
        if absent:
            cols = "; ".join(f"{t}: {', '.join(map(str, df.columns))}" for t, df in frames.items())
            raise ConnectorError(
                f"The column mapping names source column(s) {', '.join(map(repr, absent))} "
                f"found in no table; columns present: {cols}."
            )
    out: dict[str, pd.DataFrame] = {}
    for table, df in frames.items():
        present = [str(c) for c in df.columns]
        renames = {k: v for k, v in rules.get("*", {}).items() if k in present}
        for source, target in rules.get(table, {}).items():
            if source not in present:
                raise ConnectorError(
                    f"The column mapping for table {table!r} names source column {source!r}, "
                    f"which is not in it; columns present: {', '.join(present)}."
                )
            renames[source] = target
        after = [renames.get(c, c) for c in present]
        clashes = sorted({c for c in after if after.count(c) > 1})
        if clashes:
            raise ConnectorError(
                f"The column mapping for table {table!r} would give duplicate column(s) "
                f"{', '.join(map(repr, clashes))}; columns present: {', '.join(present)}. "
                f"Drop or rename the existing column first."
            )
        out[table] = df.rename(columns=renames) if renames else df
    return out


def find_files(
    path: str | Path, *, format: str | None = None, tables: Sequence[str] = TABLE_NAMES
) -> dict[str, Path]:
    """The file of each table present in the folder ``path`` (tables without a file are left
    out). Raises :class:`~cjm_core.errors.ConnectorError` when the folder is missing, has no
    events file (if events are asked for), or holds a table in two formats.

    Example::

        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "events.csv").write_text("customer_id\\n1\\n")
        >>> {t: p.name for t, p in find_files(folder).items()}
        {'events': 'events.csv'}
    """
    folder = Path(path).expanduser()
    if format is not None and format not in SUFFIXES:
        raise ConnectorError(f"Unknown file format {format!r}; use 'csv' or 'parquet'.")
    if not folder.is_dir():
        raise ConnectorError(f"Data folder {str(folder)!r} does not exist (or is not a folder).")
    formats = [format] if format else list(SUFFIXES)
    found: dict[str, Path] = {}
    for table in tables:
        hits = [
            folder / f"{table}{suffix}"
            for fmt in formats
            for suffix in SUFFIXES[fmt]
            if (folder / f"{table}{suffix}").is_file()
        ]
        if len(hits) > 1:
            raise ConnectorError(
                f"Table {table!r} is in {len(hits)} files in {str(folder)!r}: "
                f"{', '.join(h.name for h in hits)}; keep one, or pass format='csv' or "
                f"format='parquet'."
            )
        if hits:
            found[table] = hits[0]
    if "events" in tables and "events" not in found:
        names = sorted(p.name for p in folder.iterdir()) or ["(nothing)"]
        wanted = ", ".join(f"events{s}" for fmt in formats for s in SUFFIXES[fmt])
        raise ConnectorError(
            f"No events file in {str(folder)!r} (looked for {wanted}); the folder holds: "
            f"{', '.join(names)}."
        )
    return found


def read_files(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: ColumnMapping | None = None,
    mapping_file: str | Path | None = None,
    tables: Sequence[str] = TABLE_NAMES,
) -> dict[str, pd.DataFrame]:
    """Read the canonical tables found in the folder ``path``, renamed by the mapping.

    Returns raw (not yet validated) DataFrames keyed by table name; tables without a file
    are absent from the dict. CSV id-like columns are read as text; timestamps are left as
    text for validation to parse.

    Example::

        >>> import tempfile, pandas as pd
        >>> folder = tempfile.mkdtemp()
        >>> pd.DataFrame({"customer_id": ["007"]}).to_parquet(f"{folder}/events.parquet")
        >>> read_files(folder)["events"]["customer_id"].tolist()
        ['007']
    """
    rules = load_mapping(mapping, mapping_file, tables)
    files = find_files(path, format=format, tables=tables)
    frames: dict[str, pd.DataFrame] = {}
    for table, file in files.items():
        renames = {**rules.get("*", {}), **rules.get(table, {})}
        frames[table] = _read_one(file, renames)
    return apply_mapping(frames, rules.get("*") or {t: r for t, r in rules.items() if t in frames})


def _read_one(file: Path, renames: Mapping[str, str]) -> pd.DataFrame:
    try:
        if file.name.endswith(".parquet"):
            return pd.read_parquet(file)
        header = pd.read_csv(file, nrows=0).columns
        text = {c: "str" for c in header if renames.get(c, c) in TEXT_COLUMNS}
        return pd.read_csv(file, dtype=text)
    except (OSError, ValueError, ImportError) as exc:
        raise ConnectorError(f"Could not read {str(file)!r}: {exc}") from exc


FILES_CONNECTOR = Connector(
    name="files",
    description="CSV or Parquet files in a folder: <table>.parquet, <table>.csv or .csv.gz",
    options={
        "path": "folder holding events, customers and optionally feedback and costs files",
        "format": "'csv' or 'parquet' (default: whichever is present)",
        "mapping": "source column -> canonical column, flat or per table (a dict)",
        "mapping_file": "the same mapping as a YAML file",
    },
    read=read_files,
)
