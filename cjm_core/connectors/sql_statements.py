"""The SQL connector's parts: URL redaction, connections and the statements sent.

See :mod:`cjm_core.connectors.sql` for the user-facing :func:`~cjm_core.connectors.sql.read_sql`
and the safety rules (bound values, identifiers checked against the database, redacted URLs).
SQLAlchemy is imported lazily, so this module imports without it.

Example::

    >>> redact_url("postgresql+psycopg://ana:s3cret@db.example.org:5432/crm")
    'postgresql+psycopg://ana:***@db.example.org:5432/crm'
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..errors import ConnectorError

SECRET_KEYS = "password|passwd|pwd|secret|token|access_token|api_key|apikey"
# key=value secrets in a query string or an ODBC string (also percent-encoded: PWD%3D...).
_SECRET_PARAM = re.compile(
    rf"(?i)(^|[^a-z0-9_]|%3B|%26)({SECRET_KEYS})(=|%3D)((?:(?!%3B|%26)[^&;#\s])*)"
)
# user:password@ right after the scheme. The password runs to the last '@' before any '?', so
# an unencoded '@' or '/' in it is still hidden (over-hiding beats leaking).
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^:/@]*):([^?#]*)@")
REDACTED = "***"


def redact_url(url: Any) -> str:
    """The URL (a string, a ``sqlalchemy.URL`` or an ``Engine``) with every password hidden.

    Hides the password of ``user:password@`` and secret query values (``password=``,
    ``token=``, ``pwd=``...). Use it wherever a URL is shown: messages, reports, manifests.

    Example::

        >>> redact_url("mssql+pyodbc://sa:p@ss/w0rd@host/db?driver=x&password=two")
        'mssql+pyodbc://sa:***@host/db?driver=x&password=***'
        >>> redact_url("sqlite:///data/crm.db")
        'sqlite:///data/crm.db'
    """
    url = getattr(url, "url", url)  # an Engine
    if hasattr(url, "render_as_string"):
        text = url.render_as_string(hide_password=True)
    else:
        text = str(url)
    text = _USERINFO.sub(rf"\1\2:{REDACTED}@", text)
    return _SECRET_PARAM.sub(rf"\1\2\3{REDACTED}", text)


def _password(url: Any) -> str | None:
    url = getattr(url, "url", url)
    if hasattr(url, "password"):
        return url.password
    match = _USERINFO.match(str(url))
    return match.group(3) if match else None


def scrub(text: str, url: Any) -> str:
    """``text`` with the URL redacted and its password (plain or percent-encoded) hidden."""
    text = text.replace(str(url), redact_url(url)) if isinstance(url, str) else text
    password = _password(url)
    if password:
        for form in {password, quote(password, safe="")}:
            text = text.replace(form, REDACTED)
    return _SECRET_PARAM.sub(rf"\1\2\3{REDACTED}", text)


def _reason(exc: BaseException, url: Any) -> str:
    """A driver's message, one line, without SQLAlchemy's link and without secrets."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("(Background on this error")]
    return scrub(" ".join(lines), url)[:600]


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise ConnectorError(
            "The sql connector needs SQLAlchemy: pip install 'SQLAlchemy>=2' (and the driver of "
            "your database, e.g. 'psycopg[binary]' for PostgreSQL, 'duckdb-engine' for DuckDB)."
        ) from None
    return sqlalchemy


def make_engine(url: Any) -> tuple[Any, bool]:
    """``(engine, owned)``: an Engine for ``url`` (owned: dispose it after use) or ``url``
    itself when it is already an Engine. SQLite and DuckDB files must exist and are opened
    read-only; a PostgreSQL session is made read-only by :func:`connect`."""
    sa = _sqlalchemy()
    if isinstance(url, sa.engine.Engine):
        return url, False
    shown = redact_url(url)
    try:
        parsed = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError) as exc:
        raise ConnectorError(
            f"Cannot read the database URL {shown!r}: {scrub(str(exc), url)}. Use "
            f"dialect+driver://user:password@host:port/database, e.g. "
            f"postgresql+psycopg://user:pw@localhost:5432/crm or sqlite:///data/crm.db."
        ) from None
    backend, kwargs = parsed.get_backend_name(), {}
    if backend in ("sqlite", "duckdb") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not parsed.database.startswith("file:") and not path.is_file():
            raise ConnectorError(
                f"The {backend} file {str(path)!r} of {shown!r} does not exist; check the path "
                f"({backend}:///relative/path or {backend}:////absolute/path)."
            )
        if backend == "duckdb":
            kwargs["connect_args"] = {"read_only": True}
        elif not parsed.database.startswith("file:"):
            uri = "file:" + quote(str(path.resolve())) + "?mode=ro"
            parsed = parsed.set(database=uri, query={**parsed.query, "uri": "true"})
    try:
        return sa.create_engine(parsed, **kwargs), True
    except (sa.exc.NoSuchModuleError, sa.exc.ArgumentError, ImportError) as exc:
        raise ConnectorError(
            f"No database driver for {shown!r}: {_reason(exc, url)}. Install the driver "
            f"('psycopg[binary]' for postgresql+psycopg, 'duckdb-engine' for duckdb) or fix "
            f"the dialect name."
        ) from None


@contextmanager
def connect(engine: Any, url: Any) -> Iterator[Any]:
    """A connection, or a :class:`ConnectorError` naming the redacted URL and the fix."""
    sa = _sqlalchemy()
    try:
        conn = engine.connect()
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
    except sa.exc.SQLAlchemyError as exc:
        raise ConnectorError(
            f"Could not connect to {redact_url(url)!r}: {_reason(exc, url)}. Check the "
            f"host, port, database name, user and password, and that the server is running."
        ) from None
    with conn:
        yield conn


@dataclass(frozen=True)
class Source:
    """Where a canonical table comes from: a table (or view) name, or a query and its params."""

    name: str
    table: str | None = None
    query: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A checked statement for one canonical table (``sql``: the text sent, placeholders)."""

    name: str
    label: str
    columns: tuple[str, ...]
    renames: Mapping[str, str]
    stmt: Any = field(repr=False)
    sql: str
    source_label: str
    shown: str

    def fetch(self, conn: Any, chunksize: int | None, url: Any) -> pd.DataFrame:
        """Run the statement; in chunks of ``chunksize`` rows (server-side cursor) if given."""
        sa = _sqlalchemy()
        try:
            if chunksize:
                result = conn.execute(self.stmt, execution_options={"stream_results": True})
                keys = list(result.keys())
                frames = [
                    pd.DataFrame.from_records(list(part), columns=keys)
                    for part in result.partitions(chunksize)
                ]
                return _concat_chunks(frames, keys)
            result = conn.execute(self.stmt)
            return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))
        except sa.exc.SQLAlchemyError as exc:
            raise ConnectorError(
                f"Reading the {self.name} from {self.label} of {self.shown!r} failed: "
                f"{_reason(exc, url)}"
            ) from None


def _concat_chunks(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Chunks glued so the result equals a whole read: a column whose dtype differs between
    chunks (e.g. all NULL in one chunk) is inferred again over all its values."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=keys)
    if len(frames) == 1:
        return frames[0]
    mixed = [k for k in keys if len({str(f[k].dtype) for f in frames}) > 1]
    out = pd.concat([f.astype({k: object for k in mixed}) for f in frames], ignore_index=True)
    for k in mixed:
        out[k] = pd.DataFrame.from_records([(v,) for v in out[k].tolist()], columns=[k])[k]
    return out


def plan_source(
    conn: Any,
    source: Source,
    *,
    flat: Mapping[str, str],
    specific: Mapping[str, str],
    where: Mapping[str, Any] | None,
    since: Any,
    until: Any,
    time_column: str,
    schema: str | None,
    shown: str,
    url: Any,
) -> Plan:
    """Check the source's identifiers against the database and build its statement."""
    sa = _sqlalchemy()
    try:
        if source.table is not None:
            from_, columns, label = _from_table(conn, source, schema, shown)
        else:
            from_, columns, label = _from_query(conn, source)
    except sa.exc.SQLAlchemyError as exc:
        raise ConnectorError(
            f"Could not inspect the {source.name} source of {shown!r}: {_reason(exc, url)}"
        ) from None
    where_ = f"{label} of {shown!r}"
    missing = [c for c in specific if c not in columns]
    if missing:
        raise ConnectorError(
            f"The column mapping for {source.name!r} names source column(s) "
            f"{', '.join(map(repr, missing))}, not in {where_}; columns: {', '.join(columns)}."
        )
    renames = {**{k: v for k, v in flat.items() if k in columns}, **specific}
    after = [renames.get(c, c) for c in columns]
    clashes = sorted({c for c in after if after.count(c) > 1})
    if clashes:
        raise ConnectorError(
            f"The column mapping for {source.name!r} would give duplicate column(s) "
            f"{', '.join(map(repr, clashes))} in {where_}; columns: {', '.join(columns)}."
        )

    def column(key: Any, purpose: str) -> Any:
        if key in columns:
            return from_.c[key]
        named = [s for s, t in renames.items() if t == key]
        if len(named) == 1:
            return from_.c[named[0]]
        raise ConnectorError(
            f"No column {key!r} ({purpose}) in {where_}; columns: {', '.join(columns)} "
            f"(a canonical name works too when the mapping gives it)."
        )

    conds = []
    for i, (key, value) in enumerate((where or {}).items()):
        col = column(key, "where filter")
        if value is None:
            conds.append(col.is_(None))
        elif isinstance(value, list | tuple | set | frozenset):
            values = sorted(value, key=repr) if isinstance(value, set | frozenset) else list(value)
            if not values:
                raise ConnectorError(f"The where filter on {key!r} has an empty list of values.")
            conds.append(col.in_(sa.bindparam(f"cjm_where_{i}", values, expanding=True)))
        else:
            conds.append(col == sa.bindparam(f"cjm_where_{i}", value))
    for bound, op, key in ((since, operator.ge, "cjm_since"), (until, operator.lt, "cjm_until")):
        if bound is None:
            continue
        ts = _as_utc(bound, key[4:])
        col = column(time_column, "time_column of since/until")
        if conn.dialect.name == "sqlite":  # ISO text: compare as UTC text, milliseconds
            left = sa.func.strftime("%Y-%m-%d %H:%M:%f", col)
            right = sa.bindparam(key, ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        else:
            left = col
            right = sa.bindparam(key, ts.to_pydatetime(), type_=sa.DateTime(timezone=True))
        conds.append(op(left, right))
    stmt = sa.select(*[from_.c[c] for c in columns]).where(*conds)
    sql = str(stmt.compile(dialect=conn.dialect))
    return Plan(source.name, label, tuple(columns), renames, stmt, sql, f"{shown} {label}", shown)


def _from_table(conn: Any, source: Source, schema: str | None, shown: str) -> tuple:
    sa = _sqlalchemy()
    inspector = sa.inspect(conn)
    names = sorted(
        set(inspector.get_table_names(schema=schema)) | set(inspector.get_view_names(schema=schema))
    )
    if source.table not in names:
        where = f" schema {schema!r} of" if schema else ""
        raise ConnectorError(
            f"No table {source.table!r} (for the {source.name}) in{where} {shown!r}; tables: "
            f"{', '.join(names) or '(none)'}. Table names must match exactly."
        )
    # The name is now known to be the database's own; its columns come from an empty
    # probe (works where a dialect's inspector cannot list columns, e.g. duckdb-engine).
    bare = sa.table(source.table, schema=schema)
    probe = sa.select(sa.literal_column("*")).select_from(bare).where(sa.false())
    columns = [str(c) for c in conn.execute(probe).keys()]
    from_ = sa.table(source.table, *[sa.column(c) for c in columns], schema=schema)
    label = f"table {f'{schema}.' if schema else ''}{source.table}"
    return from_, columns, label


def _from_query(conn: Any, source: Source) -> tuple:
    sa = _sqlalchemy()
    text = str(source.query).strip().rstrip(";").strip()
    if not re.match(r"(?is)^(select|with)\b", text):
        raise ConnectorError(
            f"The {source.name} query must be one SELECT (or WITH ... SELECT) statement; it "
            f"starts with {text[:30]!r}."
        )
    if ";" in text:
        raise ConnectorError(
            f"The {source.name} query holds ';': give one statement only, with values as "
            f":name placeholders filled from params."
        )
    clause = sa.text(text)
    names = sorted(clause.compile().params)  # the :name placeholders of the text
    extra = sorted(set(source.params) - set(names))
    if extra:
        raise ConnectorError(
            f"params {', '.join(map(repr, extra))} match no placeholder of the {source.name} "
            f"query; its placeholders: {', '.join(':' + n for n in names) or '(none)'}."
        )
    missing = sorted(set(names) - set(source.params))
    if missing:
        raise ConnectorError(
            f"The {source.name} query needs value(s) for {', '.join(':' + n for n in missing)}; "
            f"pass them in params."
        )
    clause = clause.bindparams(**source.params)
    probe = sa.select(sa.literal_column("*")).select_from(clause.columns().subquery("cjm_probe"))
    columns = [str(c) for c in conn.execute(probe.where(sa.false())).keys()]
    doubles = sorted({c for c in columns if columns.count(c) > 1})
    if doubles:
        raise ConnectorError(
            f"The {source.name} query returns column(s) {', '.join(map(repr, doubles))} more "
            f"than once; give them distinct names with AS."
        )
    from_ = clause.columns(*[sa.column(c) for c in columns]).subquery("cjm_src")
    return from_, columns, f"the {source.name} query"


def _as_utc(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ConnectorError(
            f"{name} {value!r} is not a time ({exc}); use e.g. '2024-03-01' or "
            f"'2024-03-01T10:00:00Z'."
        ) from None
    if pd.isna(ts):
        raise ConnectorError(f"{name} {value!r} is not a time; use e.g. '2024-03-01'.")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
