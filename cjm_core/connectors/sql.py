"""The SQL connector: canonical tables from a database (PostgreSQL, SQLite, DuckDB, ...).

:func:`read_sql` reads the events from a table or a query, and optionally feedback and
customers from other tables, through SQLAlchemy (any database with a SQLAlchemy dialect;
``postgresql+psycopg://``, ``sqlite:///file.db`` and ``duckdb:///file.duckdb`` are tested).

Safety, by design:

- Values never enter the SQL text. ``where`` filters, the ``since``/``until`` range and the
  ``params`` of a query are sent as bound parameters (``%(cjm_since)s``, ``?``...); the SQL
  sent is kept in ``df.attrs["sql"]`` so you can see it holds placeholders only.
- Identifiers (table, column and schema names from configuration or notebook parameters)
  must be in the database's own list (SQLAlchemy inspector) or the columns of the query, and
  are then quoted by the dialect, so a name such as ``events; DROP TABLE x`` is rejected.
- ``query`` is SQL text written by the analyst (trusted, like code): one ``SELECT`` or
  ``WITH`` statement, no ``;`` inside; its values go in ``params`` (``:name`` placeholders).
- Passwords never reach an error message, a repr or ``df.attrs``: every URL shown goes
  through :func:`redact_url`, and driver messages are scrubbed of the password.

Filters are pushed down to the database: ``where`` (equality, ``IN`` for a list, ``IS NULL``
for None) applies to the events; ``since`` (inclusive) and ``until`` (exclusive) apply to
events and feedback on ``time_column``. Naive ``since``/``until`` are taken as UTC. SQLite
has no timestamp type: its timestamps must be ISO-8601 text and are compared with
``strftime('%Y-%m-%d %H:%M:%f', column)`` (offsets such as ``Z`` or ``+02:00`` honoured).

Source columns are renamed with the same column mapping as the files connector
(:func:`cjm_core.connectors.files.load_mapping`). ``touchpoints`` optionally maps source
touchpoint values to catalog ids (a dict or a YAML file of ``source value: catalog id``);
events or feedback rows whose touchpoint has no rule, or a rule mapping it to null (ignored
on purpose), are set aside with a reason, never dropped silently. Without ``touchpoints`` the
values pass unchanged and :func:`cjm_core.bundle.load_bundle` checks them against the catalog.

Count check: each table returned carries ``df.attrs["rows_read"]`` (rows the database
returned after the pushed-down filters) and ``df.attrs["set_aside"]`` (the source rows not
loaded, with a ``reason`` column); one source row gives one output row, so
``rows_read == len(df) + len(df.attrs["set_aside"])``. ``df.attrs["source"]`` names the
redacted URL and the table.

Example (a SQLite file)::

    >>> import sqlite3, tempfile
    >>> path = tempfile.mkdtemp() + "/crm.db"
    >>> with sqlite3.connect(path) as db:
    ...     _ = db.execute("CREATE TABLE ev (cust TEXT, ts TEXT, page TEXT)")
    ...     _ = db.executemany("INSERT INTO ev VALUES (?, ?, ?)", [
    ...         ("c1", "2024-03-01T10:00:00Z", "home"), ("c1", "2024-03-02T10:00:00Z", "apply"),
    ...         ("c2", "2024-03-03T09:00:00+01:00", "promo")])
    >>> out = read_sql(f"sqlite:///{path}", table="ev", since="2024-03-01",
    ...                mapping={"cust": "customer_id", "ts": "timestamp",
    ...                         "page": "touchpoint"},
    ...                touchpoints={"home": "website", "apply": "online_application"})
    >>> out["events"][["customer_id", "touchpoint"]].values.tolist()
    [['c1', 'website'], ['c1', 'online_application']]
    >>> out["events"].attrs["rows_read"], out["events"].attrs["set_aside"]["reason"].tolist()
    (3, ["touchpoint 'promo' has no rule in the touchpoint rules"])
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConnectorError
from ..extensions import Connector
from .exports import read_yaml
from .files import ColumnMapping, load_mapping
from .sql_statements import Source, connect, make_engine, plan_source, redact_url

__all__ = ["SQL_CONNECTOR", "load_touchpoint_rules", "read_sql", "redact_url"]

SQL_TABLES = ("events", "feedback", "customers")
TIMED_TABLES = ("events", "feedback")


def read_sql(
    url: Any,
    *,
    table: str | None = None,
    query: str | None = None,
    params: Mapping[str, Any] | None = None,
    where: Mapping[str, Any] | None = None,
    since: Any = None,
    until: Any = None,
    time_column: str = "timestamp",
    mapping: ColumnMapping | None = None,
    mapping_file: str | Path | None = None,
    touchpoints: Mapping[str, str | None] | str | Path | None = None,
    chunksize: int | None = None,
    tables: Mapping[str, str] | None = None,
    schema: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Read canonical tables from a database; raw (not yet validated) DataFrames by name.

    :param url: a SQLAlchemy URL (``postgresql+psycopg://user:pw@host:5432/db``,
        ``sqlite:///path.db``, ``duckdb:///path.duckdb``), a ``sqlalchemy.URL`` or an
        ``Engine`` (not disposed). SQLite and DuckDB files must exist (opened read-only).
    :param table: the source table (or view) of the events.
    :param query: instead of ``table``, one SELECT (or WITH) statement giving the events;
        values as ``:name`` placeholders filled from ``params``.
    :param params: values of the query's placeholders (bound, never formatted into SQL).
    :param where: events filters ``{column: value}``: equality, a list for ``IN``, None for
        ``IS NULL``. Columns by source or canonical name.
    :param since: keep rows at or after this time (events and feedback); naive = UTC.
    :param until: keep rows before this time (exclusive).
    :param time_column: the column ``since``/``until`` apply to, by source name or by
        canonical name through the mapping (default ``timestamp``).
    :param mapping: source column -> canonical column, flat or per table (dict or YAML path).
    :param mapping_file: the same mapping as a YAML file.
    :param touchpoints: source touchpoint value -> catalog touchpoint id (dict or YAML file);
        rows without a rule are set aside with a reason.
    :param chunksize: fetch that many rows at a time (server-side cursor where the driver
        has one); the result equals a whole read.
    :param tables: other source tables by canonical name, e.g.
        ``{"customers": "crm_customers", "feedback": "surveys"}`` (may also give events).
    :param schema: the database schema holding the tables (default: the connection's).
    :returns: ``{"events": df, ...}`` with ``attrs`` ``rows_read``, ``set_aside``, ``source``
        and ``sql`` (the statement sent, with placeholders).
    """
    sources = _sources(table, query, params, tables)
    rules = load_mapping(mapping, mapping_file, SQL_TABLES)
    tp_rules = load_touchpoint_rules(touchpoints) if touchpoints is not None else None
    if chunksize is not None and (
        isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1
    ):
        raise ConnectorError(f"chunksize must be a positive whole number, got {chunksize!r}.")
    engine, owned = make_engine(url)
    shown = redact_url(engine if not owned else url)
    try:
        with connect(engine, url) as conn:
            plans = {
                name: plan_source(
                    conn,
                    source,
                    flat=rules.get("*", {}),
                    specific=rules.get(name, {}),
                    where=where if name == "events" else None,
                    since=since if name in TIMED_TABLES else None,
                    until=until if name in TIMED_TABLES else None,
                    time_column=time_column,
                    schema=schema,
                    shown=shown,
                    url=url,
                )
                for name, source in sources.items()
            }
            _check_flat_mapping(rules, plans, shown)
            out = {}
            for name, plan in plans.items():
                raw = plan.fetch(conn, chunksize, url)
                out[name] = _finish(name, raw, plan, tp_rules)
    finally:
        if owned:
            engine.dispose()
    return out


def _sources(
    table: str | None,
    query: str | None,
    params: Mapping[str, Any] | None,
    tables: Mapping[str, str] | None,
) -> dict[str, Source]:
    if table is not None and query is not None:
        raise ConnectorError("Give the events as 'table' or as 'query', not both.")
    if params and query is None:
        raise ConnectorError("'params' fill the placeholders of 'query'; no query was given.")
    extra = dict(tables or {})
    unknown = [t for t in extra if t not in SQL_TABLES]
    if unknown:
        raise ConnectorError(
            f"'tables' names unknown canonical table(s) {', '.join(map(repr, unknown))}; "
            f"use {', '.join(SQL_TABLES)} (e.g. {{'customers': 'crm_customers'}})."
        )
    if "events" in extra and (table is not None or query is not None):
        raise ConnectorError("The events are given twice: in 'tables' and as table/query.")
    if table is not None:
        extra["events"] = table
    sources = {name: Source(name, table=str(t)) for name, t in extra.items()}
    if query is not None:
        sources["events"] = Source("events", query=query, params=dict(params or {}))
    if "events" not in sources:
        raise ConnectorError(
            "No events source: pass table='...' or query='SELECT ...' (or tables={'events': "
            "'...'})."
        )
    return {name: sources[name] for name in SQL_TABLES if name in sources}


def _check_flat_mapping(rules: Mapping[str, Any], plans: Mapping[str, Any], shown: str) -> None:
    flat = rules.get("*", {})
    present = {c for plan in plans.values() for c in plan.columns}
    absent = [c for c in flat if c not in present]
    if absent:
        cols = "; ".join(f"{p.label}: {', '.join(p.columns)}" for p in plans.values())
        raise ConnectorError(
            f"The column mapping names source column(s) {', '.join(map(repr, absent))} found "
            f"in no source of {shown}; columns present: {cols}."
        )


def load_touchpoint_rules(rules: Mapping[str, str | None] | str | Path) -> dict[str, str | None]:
    """Touchpoint rules ``{source value: catalog id or None}`` from a dict or a YAML file.

    A rule mapping a value to null sets those rows aside on purpose.

    Example::

        >>> load_touchpoint_rules({"home": "website", "ping": None})
        {'home': 'website', 'ping': None}
    """
    where = "touchpoint rules"
    if isinstance(rules, str | Path):
        where = f"touchpoint rules file {str(rules)!r}"
        rules = read_yaml(rules, where)
    if not isinstance(rules, Mapping) or not rules:
        raise ConnectorError(
            f"The {where} must be a non-empty mapping of source value -> catalog touchpoint "
            f"id, e.g. {{'home_page': 'website'}}."
        )
    bad = [k for k, v in rules.items() if v is not None and not isinstance(v, str)]
    if bad:
        raise ConnectorError(
            f"The {where} must map values to touchpoint ids (or null to set aside); bad "
            f"entries for {', '.join(map(repr, bad))}."
        )
    return {str(k): v for k, v in rules.items()}


def _finish(
    name: str, raw: pd.DataFrame, plan: Any, tp_rules: Mapping[str, str | None] | None
) -> pd.DataFrame:
    df = _decimals_to_float(raw.rename(columns=plan.renames)).copy()
    if "timestamp" in df.columns:
        df["timestamp"] = _aware_to_utc(df["timestamp"])
    reasons: list[str | None] = [None] * len(df)
    if tp_rules is not None and name in TIMED_TABLES and "touchpoint" in df.columns:
        texts = [None if pd.isna(v) else str(v) for v in df["touchpoint"]]
        for i, text in enumerate(texts):
            if text is not None and text not in tp_rules:
                reasons[i] = f"touchpoint {text!r} has no rule in the touchpoint rules"
            elif text is not None and tp_rules[text] is None:
                reasons[i] = f"touchpoint {text!r} is mapped to null (ignored on purpose)"
        df["touchpoint"] = [t if t is None else tp_rules.get(t) for t in texts]
    keep = np.array([r is None for r in reasons], dtype=bool)
    set_aside = raw.loc[~keep].assign(reason=[r for r in reasons if r is not None])
    out = df.loc[keep].reset_index(drop=True)
    out.attrs.update(
        rows_read=len(raw),
        set_aside=set_aside.reset_index(drop=True),
        source=plan.source_label,
        sql=plan.sql,
    )
    return out


def _decimals_to_float(df: pd.DataFrame) -> pd.DataFrame:
    """NUMERIC columns arrive as ``decimal.Decimal`` objects; make them float64."""
    out = df
    for col in df.columns:
        present = df[col].dropna()
        if (
            df[col].dtype == object
            and len(present)
            and all(isinstance(v, Decimal) for v in present)
        ):
            out = out.copy() if out is df else out
            out[col] = df[col].astype("float64")
    return out


def _aware_to_utc(values: pd.Series) -> pd.Series:
    """Zoned times (also Python datetimes with mixed offsets, kept as objects) -> UTC;
    anything else (text, naive times) is left for validation."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    if values.dtype != object:
        return values
    present = values.dropna()
    if len(present) and all(getattr(v, "tzinfo", None) is not None for v in present):
        return pd.to_datetime(values, utc=True)
    return values


SQL_CONNECTOR = Connector(
    name="sql",
    description="A SQL database through SQLAlchemy (PostgreSQL, SQLite, DuckDB, ...): "
    "events from a table or a query, feedback and customers from other tables",
    options={
        "url": "SQLAlchemy URL, e.g. postgresql+psycopg://user:pw@host/db or sqlite:///f.db",
        "table": "source table (or view) of the events",
        "query": "instead of table: one SELECT giving the events, values as :name placeholders",
        "params": "values of the query's :name placeholders (bound, never formatted in)",
        "where": "events filters {column: value | [values] | None}, pushed down as bound SQL",
        "since": "keep events and feedback at or after this time (naive = UTC)",
        "until": "keep events and feedback before this time (exclusive)",
        "time_column": "column since/until apply to, source or canonical name (timestamp)",
        "mapping": "source column -> canonical column, flat or per table (a dict)",
        "mapping_file": "the same mapping as a YAML file",
        "touchpoints": "source touchpoint value -> catalog id (dict or YAML); others set aside",
        "chunksize": "fetch this many rows at a time (same result as a whole read)",
        "tables": "other source tables by canonical name: {'customers': ..., 'feedback': ...}",
        "schema": "database schema holding the tables (default: the connection's)",
    },
    read=read_sql,
)
