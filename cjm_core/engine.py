"""Where the heavy lifting runs: Ibis expressions on DuckDB (default) or Apache Spark.

Analyses are written once as Ibis expressions over the canonical events. An
:class:`Engine` turns whatever the user has (a pandas DataFrame, a Parquet/CSV path, an Ibis
table, a Spark DataFrame) into an Ibis table on its backend, and executes expressions into
pandas with the same dtypes on every backend, so results can be compared exactly.

Choose the engine per call (``engine=``) or for a block::

    >>> import pandas as pd
    >>> from cjm_core.engine import get_engine, use_engine
    >>> with use_engine("duckdb") as engine:
    ...     get_engine() is engine
    True

Spark: ``use_engine(spark_session)`` or ``engine=spark_session``; :func:`spark_session`
starts a local one (``local[2]``) bound to the loopback address.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import numpy as np
import pandas as pd

from .errors import CjmError, MissingColumnError, NaiveTimestampError

#: Columns every analysis needs, and the optional ones filled in when absent.
REQUIRED = ("customer_id", "timestamp", "touchpoint")
OPTIONAL = {
    "event_type": ("string", "interaction"),
    "value": ("float64", None),
    "duration_s": ("float64", None),
}
#: Tie-breaker column: the input row order of a pandas input; for other inputs
#: :func:`with_seq` numbers each customer's events by (timestamp, touchpoint, event_type).
SEQ = "_seq"
#: The timestamp as integer microseconds since 1970 (added by :func:`events_table`): gaps,
#: windows and durations are integer arithmetic on every engine.
US = "_us"

_current: contextvars.ContextVar[Engine | None] = contextvars.ContextVar("cjm_engine", default=None)
_names = itertools.count()


class EngineError(CjmError):
    """An engine could not be created, or an input cannot be read by it."""


@dataclass
class Engine:
    """An Ibis backend plus the conventions cjm needs (input reading, output dtypes)."""

    name: str  # "duckdb" or "pyspark"
    con: Any  # the Ibis backend
    session: Any = None  # the SparkSession for "pyspark"

    def __repr__(self) -> str:
        return f"Engine({self.name!r})"

    # -- input -------------------------------------------------------------------------
    def table(self, data: Any) -> ibis.Table:
        """An Ibis table on this engine for ``data`` (DataFrame, path, Ibis or Spark table)."""
        if isinstance(data, ibis.Table):
            return data
        if isinstance(data, pd.DataFrame):
            return self._from_pandas(data)
        if isinstance(data, str | Path):
            return self._from_path(Path(data))
        if _is_spark_dataframe(data):
            if self.name != "pyspark":
                raise EngineError(
                    "A Spark DataFrame was given but the engine is DuckDB; pass "
                    "engine=<SparkSession> (or use_engine(spark)) to run on Spark."
                )
            name = f"cjm_input_{next(_names)}"
            data.createOrReplaceTempView(name)
            return self.con.table(name)
        if hasattr(data, "events"):  # a DataBundle
            return self.table(data.events)
        raise EngineError(
            f"Cannot read events from a {type(data).__name__}; give a pandas DataFrame, a "
            "Parquet or CSV path, an Ibis table, a Spark DataFrame or a DataBundle."
        )

    def _from_pandas(self, df: pd.DataFrame) -> ibis.Table:
        df = df.copy(deep=False)
        if "timestamp" in df.columns:
            ts = df["timestamp"]
            if not isinstance(ts.dtype, pd.DatetimeTZDtype):
                if pd.api.types.is_datetime64_dtype(ts.dtype):
                    raise NaiveTimestampError(
                        "Column 'timestamp' holds naive times (no time zone); the workspace "
                        "keeps UTC inside. Localise it first, e.g. "
                        "df['timestamp'] = df['timestamp'].dt.tz_localize('UTC'), or load the "
                        "data with cjm_core.load_bundle(..., assume_timezone=...)."
                    )
                raise EngineError(
                    f"Column 'timestamp' must be tz-aware datetimes, got {ts.dtype}; load the "
                    "data with cjm_core.load_bundle, which parses and validates it."
                )
            # UTC wall time without the zone: backends then skip per-row time-zone
            # conversions (DuckDB's TIMESTAMPTZ arithmetic is several times slower)
            df["timestamp"] = ts.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
        if SEQ not in df.columns:
            df[SEQ] = np.arange(len(df), dtype="int64")
        return ibis.memtable(df)

    def _from_path(self, path: Path) -> ibis.Table:
        if not path.exists():
            raise EngineError(f"Events file {str(path)!r} does not exist.")
        suffixes = "".join(path.suffixes).lower()
        if suffixes.endswith(".parquet") or path.is_dir():
            table = self.con.read_parquet(str(path))
        elif suffixes.endswith((".csv", ".csv.gz")):
            table = self.con.read_csv(str(path))
        else:
            raise EngineError(
                f"Cannot tell the format of {str(path)!r}; use a .parquet or .csv file."
            )
        if "timestamp" in table.columns and not table.timestamp.type().is_timestamp():
            table = table.mutate(timestamp=table.timestamp.cast("timestamp('UTC')"))
        return table

    def micros(self, ts: ibis.TimestampValue) -> ibis.IntegerValue:
        """Microseconds since 1970 of a timestamp (naive UTC or time-zone aware), the same on
        every engine.

        DuckDB's ``epoch_us`` and Spark's ``unix_micros``: integer work, where DuckDB's
        time-zone aware arithmetic goes through ICU and costs seconds on millions of rows.
        """
        return (_spark_epoch_us if self.name == "pyspark" else _duckdb_epoch_us)(ts)

    # -- output ------------------------------------------------------------------------
    def execute(self, expr: ibis.Expr, order_by: Sequence[str] | None = None) -> pd.DataFrame:
        """Run ``expr`` and return pandas with backend-independent dtypes (and row order)."""
        if order_by and isinstance(expr, ibis.Table):
            # sorted by the backend (much faster than pandas on millions of rows); nulls
            # last and binary string order on DuckDB and Spark alike
            expr = expr.order_by([ibis.asc(c, nulls_first=False) for c in order_by])
            order_by = None
        out = self.con.to_pandas(expr)
        if isinstance(out, pd.Series):
            out = out.to_frame()
        return normalise_frame(out, order_by)


def normalise_frame(df: pd.DataFrame, order_by: Sequence[str] | None = None) -> pd.DataFrame:
    """Same dtypes whatever the backend: UTC microsecond times, int64, float64, object text."""
    df = df.copy()
    for column in df.columns:
        s = df[column]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            df[column] = s.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            df[column] = s.dt.tz_localize("UTC").astype("datetime64[us, UTC]")
        elif pd.api.types.is_timedelta64_dtype(s.dtype):
            df[column] = s.astype("timedelta64[us]")
        elif pd.api.types.is_bool_dtype(s.dtype):
            df[column] = s.astype(bool)
        elif pd.api.types.is_integer_dtype(s.dtype):
            df[column] = s.astype("Int64" if s.isna().any() else "int64")
        elif pd.api.types.is_float_dtype(s.dtype):
            df[column] = s.astype("float64")
        elif pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
            df[column] = s.astype(object).where(s.notna(), None)
        elif s.dtype == object and _needs_plain(s):
            df[column] = s.map(_plain)
    if order_by:
        df = df.sort_values(list(order_by), kind="stable")
    return df.reset_index(drop=True)


def _needs_plain(s: pd.Series) -> bool:
    """Only columns holding arrays, numpy scalars or float NaN need value-by-value work."""
    sample = s.dropna()
    if len(sample) < len(s):  # NaN / None among text: make them all None
        return True
    if sample.empty:
        return False
    first = sample.iloc[0]
    return not isinstance(first, str) or not all(isinstance(v, str) for v in sample.iloc[:100])


def _plain(value: Any) -> Any:
    """Arrays from any backend become tuples (hashable, comparable); NaN text becomes None."""
    if isinstance(value, np.ndarray | list):
        return tuple(_plain(v) for v in value)
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


# -- choosing an engine ----------------------------------------------------------------------

_default: Engine | None = None


def duckdb_engine(threads: int | None = None) -> Engine:
    """A fresh in-process DuckDB engine (``threads``: DuckDB's worker threads)."""
    from .duckdb_compat import patch

    patch()  # Ibis 12 on DuckDB 2
    config = {"threads": threads} if threads else {}
    con = ibis.duckdb.connect(**config)
    # DuckDB 2 draws a progress bar on stdout for queries over 2 s: it would land in
    # command output and reports (a session setting, so set after connecting). In a Jupyter
    # kernel it is off already, and turning it off raises without ipywidgets.
    if con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchall()[0][0]:
        con.raw_sql("SET enable_progress_bar = false")
    return Engine("duckdb", con)


def spark_engine(session: Any) -> Engine:
    """An engine on a given SparkSession (see :func:`spark_session` for a local one)."""
    return Engine("pyspark", ibis.pyspark.connect(session), session)


def spark_session(master: str = "local[2]", app_name: str = "cjm") -> Any:
    """Start (or get) a local SparkSession in UTC, bound to the loopback address."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # never bind a public interface
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("pyspark is not installed; `pip install pyspark`.") from None
    session = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def get_engine(engine: Any = None) -> Engine:
    """Resolve ``engine``: an Engine, ``"duckdb"``, a SparkSession, or None (the current one).

    None gives the engine of the innermost :func:`use_engine` block, else a process-wide
    DuckDB engine.
    """
    global _default
    if isinstance(engine, Engine):
        return engine
    if engine is None:
        current = _current.get()
        if current is not None:
            return current
        if _default is None:
            _default = duckdb_engine()
        return _default
    if engine == "duckdb":
        return duckdb_engine()
    if type(engine).__name__ == "SparkSession":
        return spark_engine(engine)
    if engine in ("spark", "pyspark"):
        return spark_engine(spark_session())
    raise EngineError(
        f"Unknown engine {engine!r}; use 'duckdb', 'spark', a SparkSession or an Engine."
    )


@contextlib.contextmanager
def use_engine(engine: Any) -> Iterator[Engine]:
    """Run the analyses inside the block on ``engine`` (see :func:`get_engine`)."""
    resolved = get_engine(engine)
    token = _current.set(resolved)
    try:
        yield resolved
    finally:
        _current.reset(token)


def catalog_of(events: Any, catalog: Any = None) -> Any:
    """The catalog given, else the one of a DataBundle passed as ``events`` (or None)."""
    from .model import JourneyCatalog

    if catalog is None:
        catalog = getattr(events, "catalog", None)
    if catalog is not None and not isinstance(catalog, JourneyCatalog):
        raise CjmError(f"catalog must be a JourneyCatalog, got {type(catalog).__name__}.")
    return catalog


@ibis.udf.scalar.builtin(name="epoch_us")
def _duckdb_epoch_us(ts) -> dt.int64:  # type: ignore[empty-body]
    """Microseconds since 1970 (DuckDB's epoch_us)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def _spark_epoch_us(ts) -> dt.int64:  # type: ignore[empty-body]
    """Microseconds since 1970 (Spark's unix_micros)."""


def _is_spark_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and type(data).__module__.startswith("pyspark")


# -- the canonical events as an Ibis table ---------------------------------------------------


def events_table(events: Any, engine: Any = None) -> tuple[Engine, ibis.Table]:
    """Resolve the engine and read ``events`` into a checked Ibis table.

    Required columns: customer_id, timestamp, touchpoint; event_type (default
    ``"interaction"``), value and duration_s are added when absent, and ``_us`` (the
    timestamp in integer microseconds). A pandas input also carries ``_seq``, its row order,
    which breaks ties between equal timestamps; other inputs are ordered by touchpoint then
    event type within a timestamp (see :func:`order_keys`). For events prepared by
    :func:`cjm_core.prepare_events`, their (already checked) canonical table.
    """
    from .prepared import PreparedEvents

    if isinstance(events, PreparedEvents):
        return events.engine_for(engine), events.source
    resolved = get_engine(engine)
    table = resolved.table(events)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise MissingColumnError(
            f"events lack required column(s) {missing}; present: {list(table.columns)}. "
            "Rename the source columns (see the file connector's mapping) or load the data "
            "with cjm_core.load_bundle."
        )
    if not table.timestamp.type().is_timestamp():
        raise EngineError(
            f"events.timestamp must be a timestamp column, got {table.timestamp.type()}."
        )
    # integer microseconds straight from the stored instant (before any cast: DuckDB
    # converts TIMESTAMPTZ to TIMESTAMP through ICU, seconds per 10M rows)
    table = table.mutate(**{US: resolved.micros(table.timestamp)})
    if table.timestamp.type().timezone is not None:
        # inside the engine times are naive UTC (see Engine._from_pandas); results are
        # given back as UTC-aware by Engine.execute
        table = table.mutate(timestamp=table.timestamp.cast("timestamp"))
    # ids are text on every engine (an empty pandas input has null-typed columns)
    table = table.mutate(
        customer_id=table.customer_id.cast("string"), touchpoint=table.touchpoint.cast("string")
    )
    add = {}
    for column, (dtype, default) in OPTIONAL.items():
        if column not in table.columns:
            add[column] = ibis.literal(default, type=dtype)
    if add:
        table = table.mutate(**add)
    return resolved, table.mutate(event_type=table.event_type.fill_null("interaction"))


def order_keys(table: ibis.Table) -> list[ibis.Value]:
    """The order of a customer's events: time, then the input order (``_seq``) where there
    is one, else touchpoint then event type (the same on every engine)."""
    if SEQ in table.columns:
        return [table[US], table[SEQ]]
    return [table[US], table.touchpoint, table.event_type]


def with_seq(table: ibis.Table) -> ibis.Table:
    """The events with ``_seq``: kept when present, else each customer's events numbered in
    :func:`order_keys` order (a window: a partitioned sort, so add it only where needed)."""
    if SEQ in table.columns:
        return table
    w = ibis.window(group_by=table.customer_id, order_by=order_keys(table))
    return table.mutate(**{SEQ: ibis.row_number().over(w).cast("int64")})
