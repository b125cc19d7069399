"""Write a template's synthetic data set to a folder, byte for byte reproducibly.

:func:`generate_dataset` runs a template's generator and :func:`write_dataset` writes
``events``, ``feedback``, ``customers`` and ``costs`` as Parquet (or CSV) plus
``truth.json``. The same data give the same bytes: Parquet is written by pyarrow with fixed
options and no timestamps in its metadata; CSV timestamps are ISO 8601 with a ``+00:00``
offset; ``truth.json`` has sorted keys.

Example::

    >>> import tempfile
    >>> from pathlib import Path
    >>> from cjm_core.plugins import get_registry
    >>> out = Path(tempfile.mkdtemp())
    >>> paths = generate_dataset(get_registry().template("banking"), out, customers=100)
    >>> [p.name for p in paths]
    ['events.parquet', 'feedback.parquet', 'customers.parquet', 'costs.parquet', 'truth.json']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import CjmError, PluginError
from .extensions import SyntheticData, Template

TABLES = ("events", "feedback", "customers", "costs")
FORMATS = ("parquet", "csv")


def write_dataset(data: SyntheticData, out: str | Path, *, format: str = "parquet") -> list[Path]:
    """Write the four tables and ``truth.json`` into ``out`` (created if needed).

    :param data: what a template's generator returned.
    :param format: ``"parquet"`` or ``"csv"``.
    :returns: the paths written, tables first (events, feedback, customers, costs), then
        ``truth.json``.

    Example::

        >>> import tempfile
        >>> from cjm_banking.generator import generate
        >>> paths = write_dataset(generate(customers=50), tempfile.mkdtemp(), format="csv")
        >>> paths[0].name
        'events.csv'
    """
    if format not in FORMATS:
        raise CjmError(f"Unknown format {format!r}; use one of {', '.join(FORMATS)}.")
    missing = [t for t in TABLES if t not in data.tables]
    if missing:
        raise CjmError(
            f"The generated data lack table(s) {missing}; a generator must return "
            f"{', '.join(TABLES)} (got {sorted(data.tables)})."
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in TABLES:
        path = out / f"{name}.{format}"
        if format == "parquet":
            _write_parquet(data.tables[name], path)
        else:
            _write_csv(data.tables[name], path)
        paths.append(path)
    truth = out / "truth.json"
    truth.write_text(json.dumps(_plain(data.truth), sort_keys=True, indent=2) + "\n",
                     encoding="utf-8")  # fmt: skip
    paths.append(truth)
    return paths


def generate_dataset(
    template: Template,
    out: str | Path,
    *,
    customers: int = 5000,
    seed: int = 7,
    format: str = "parquet",
    **options: Any,
) -> list[Path]:
    """Run ``template``'s generator and write its data set into ``out``.

    :param options: passed to the generator (``start``, ``end``, ``intervention_date``).
    :returns: the paths written (see :func:`write_dataset`).

    Example::

        >>> import tempfile
        >>> from cjm_retail.plugin import retail_template
        >>> paths = generate_dataset(retail_template(), tempfile.mkdtemp(), customers=50)
        >>> paths[-1].name
        'truth.json'
    """
    if format not in FORMATS:
        raise CjmError(f"Unknown format {format!r}; use one of {', '.join(FORMATS)}.")
    if template.generate is None:
        raise PluginError(
            f"Template {template.name!r} has no synthetic data generator (Template.generate "
            f"is None); pick a template that has one (`cjm plugins` lists them)."
        )
    data = template.generate(customers=customers, seed=seed, **options)
    if not isinstance(data, SyntheticData):
        raise PluginError(
            f"The generator of template {template.name!r} returned "
            f"{type(data).__name__}, not SyntheticData."
        )
    return write_dataset(data, out, format=format)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)  # pandas metadata: versions, no need
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=True,
        write_statistics=True,
        data_page_version="2.0",
        store_schema=True,
    )


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df = df.copy()
    for col in df.columns:
        if isinstance(df[col].dtype, pd.DatetimeTZDtype):
            utc = df[col].dt.tz_convert("UTC")
            df[col] = utc.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00").where(utc.notna(), None)
    df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    """Numpy scalars and tuples into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value
