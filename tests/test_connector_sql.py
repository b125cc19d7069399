"""The sql connector on a real PostgreSQL server (started by the tests), SQLite and DuckDB.

The PostgreSQL server comes from ``scripts/postgres_test_server.py`` (installs Debian's
``postgresql`` when missing, throw-away cluster on 127.0.0.1, removed at the end). Without
it the PostgreSQL tests skip with the reason, except under CI (``CI`` set), where they fail.
Figures are hand-checked in ``tests/fixtures/connectors/sql/README.md``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.connectors.sql import SQL_CONNECTOR, read_sql, redact_url
from cjm_core.errors import ConnectorError

from .scripts import load_script

sa = pytest.importorskip("sqlalchemy")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "connectors" / "sql"
MAPPING = FIXTURES / "mapping.yaml"
TOUCHPOINTS = FIXTURES / "touchpoints.yaml"
OTHER_TABLES = {"customers": "crm_customers", "feedback": "surveys"}
INJECTION = "x'; DROP TABLE web_events; --"


def _statements() -> list[str]:
    text = "\n".join(
        line
        for line in (FIXTURES / "crm.sql").read_text().splitlines()
        if not line.startswith("--")
    )
    return [s.strip() for s in text.split(";\n") if s.strip().rstrip(";")]


def _load_server_script():
    return load_script("postgres_test_server")


@pytest.fixture(scope="module")
def pg_url():
    server_script = _load_server_script()
    try:
        server = server_script.start_server()
    except server_script.PostgresUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        engine = sa.create_engine(server.url)
        with engine.begin() as conn:
            for stmt in _statements():
                conn.execute(sa.text(stmt))
        engine.dispose()
        yield server.url
    finally:
        server_script.stop_server(server)


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "crm.db"
    with sqlite3.connect(path) as db:
        for stmt in _statements():
            db.execute(stmt)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def duckdb_url(tmp_path_factory):
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("duckdb_engine")
    path = tmp_path_factory.mktemp("duckdb") / "crm.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("SET TimeZone = 'UTC'")
        for stmt in _statements():
            db.execute(stmt)
    return f"duckdb:///{path}"


@pytest.fixture(params=["postgresql", "sqlite", "duckdb"])
def url(request):
    names = {"postgresql": "pg_url", "sqlite": "sqlite_url", "duckdb": "duckdb_url"}
    return request.getfixturevalue(names[request.param])


def read(url, **options):
    options = {"mapping": MAPPING, "touchpoints": TOUCHPOINTS, **options}
    return read_sql(url, **options)


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def utc_times(df: pd.DataFrame) -> list[pd.Timestamp]:
    return list(pd.to_datetime(df["timestamp"], utc=True))


# --- correct reads ---------------------------------------------------------------------


def test_whole_read_hand_checked_and_valid_bundle(url):
    out = read(url, table="web_events", tables=OTHER_TABLES)
    events = out["events"]
    assert events.attrs["rows_read"] == 12
    assert len(events) == 10
    assert sorted(events.attrs["set_aside"]["reason"]) == [
        "touchpoint 'heartbeat' is mapped to null (ignored on purpose)",
        "touchpoint 'promo_xyz' has no rule in the touchpoint rules",
    ]
    assert events["customer_id"].nunique() == 4
    assert (events["event_type"] == "conversion").sum() == 2
    assert events["value"].sum() == pytest.approx(2300.50)
    assert events["touchpoint"].value_counts().to_dict() == {
        "website": 3,
        "online_application": 2,
        "mobile_app": 2,
        "call_centre": 1,
        "branch": 1,
        "card_activation": 1,
    }
    times = dict(zip(events["event_id"].astype(int), utc_times(events), strict=True))
    assert times[4] == ts("2024-03-02 07:30Z")  # +01:00 in the source
    assert times[12] == ts("2024-03-11 01:30Z")  # -02:00 in the source
    bundle = load_bundle(out, template="banking")
    assert (len(bundle.events), len(bundle.feedback), len(bundle.customers)) == (10, 3, 4)
    assert bundle.feedback["touchpoint"].tolist() == [
        "online_application",
        "call_centre",
        "branch",
    ]
    assert bundle.customers["persona"].tolist()[0] == "digital_native"


def test_count_check_every_table(url):
    out = read(url, table="web_events", tables=OTHER_TABLES)
    for name, df in out.items():
        assert df.attrs["rows_read"] == len(df) + len(df.attrs["set_aside"]), name
        assert "reason" in df.attrs["set_aside"].columns


@pytest.mark.parametrize(
    ("since", "until", "ids"),
    [
        ("2024-03-02", "2024-03-07", [3, 4, 5, 7, 8, 9]),  # + row 6 set aside
        ("2024-03-02T07:40:00Z", "2024-03-02T08:00:00Z", [5]),  # row 4 is 07:30 UTC
        ("2024-03-08", "2024-03-11T01:00:00Z", [11]),  # row 12 is 01:30 UTC
        ("2024-03-11T02:30:00+01:00", None, [12]),
    ],
)
def test_date_range_uses_utc(url, since, until, ids):
    events = read(url, table="web_events", since=since, until=until)["events"]
    assert sorted(events["event_id"].astype(int)) == ids


def test_where_filters(url):
    conv = read(url, table="web_events", where={"kind": "conversion"})["events"]
    assert sorted(conv["event_id"].astype(int)) == [2, 8]
    both = read(url, table="web_events", where={"customer_id": ["C001", "C003"]})["events"]
    assert both.attrs["rows_read"] == 6 and len(both) == 6
    nothing = read(url, table="web_events", where={"amount": None, "kind": "conversion"})
    assert nothing["events"].attrs["rows_read"] == 0


def test_query_with_bound_parameter(url):
    query = (
        "SELECT e.*, c.region FROM web_events e "
        "JOIN crm_customers c ON c.client_ref = e.client_ref WHERE c.region = :region"
    )
    events = read(url, query=query, params={"region": "north"}, since="2024-03-03")["events"]
    assert sorted(events["event_id"].astype(int)) == [3, 7, 8, 9]
    assert set(events["region"]) == {"north"}
    assert ":region" not in events.attrs["sql"] and "north" not in events.attrs["sql"]


def test_chunked_read_equals_whole_read(url):
    whole = read(url, table="web_events", tables=OTHER_TABLES)
    for size in (1, 5, 100):
        chunked = read(url, table="web_events", tables=OTHER_TABLES, chunksize=size)
        for name in whole:
            pd.testing.assert_frame_equal(chunked[name], whole[name])
            assert chunked[name].attrs["rows_read"] == whole[name].attrs["rows_read"]


def test_without_touchpoint_rules_values_pass_unchanged(sqlite_url):
    events = read_sql(sqlite_url, table="web_events", mapping=MAPPING)["events"]
    assert len(events) == 12 and events.attrs["set_aside"].empty
    assert "promo_xyz" in set(events["touchpoint"])


# --- pushdown: placeholders, not values ----------------------------------------------------


def test_postgres_sql_sent_holds_placeholders_not_values(pg_url):
    engine = sa.create_engine(pg_url)
    sent = []
    sa.event.listen(
        engine, "before_cursor_execute", lambda *a: sent.append((a[2], a[3])), named=False
    )
    try:
        out = read(
            engine,
            table="web_events",
            where={"kind": ["conversion"], "page": INJECTION},
            since="2024-03-02",
            until="2024-03-09",
        )
    finally:
        engine.dispose()
    assert out["events"].attrs["rows_read"] == 0
    statement, parameters = next((s, p) for s, p in sent if "WHERE web_events.kind" in s)
    assert "%(cjm_since)s" in statement and "%(cjm_until)s" in statement
    for value in ("2024-03-02", "2024-03-09", "conversion", "DROP TABLE"):
        assert value not in statement
    assert parameters["cjm_where_1"] == INJECTION
    assert parameters["cjm_since"] == ts("2024-03-02T00:00Z").to_pydatetime()
    assert "%(cjm_since)s" in out["events"].attrs["sql"]
    assert len(read(pg_url, table="web_events")["events"].attrs["set_aside"]) == 2  # intact


# --- injection attempts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"table": "web_events; DROP TABLE web_events"},
        {"table": 'web_events" ; DROP TABLE web_events; --'},
        {"table": "web_events", "where": {"kind = kind OR 1=1 --": "x"}},
        {"table": "web_events", "since": "2024-01-01", "time_column": "1=1; DROP TABLE x"},
        {"table": "web_events", "tables": {"customers": "crm_customers; DELETE FROM surveys"}},
        {"query": "SELECT * FROM web_events; DROP TABLE web_events"},
        {"query": "DELETE FROM web_events"},
    ],
)
def test_injection_attempts_rejected(url, options):
    with pytest.raises(ConnectorError):
        read(url, **options)
    assert read(url, table="web_events")["events"].attrs["rows_read"] == 12


def test_injection_in_a_value_is_only_a_value(url):
    out = read(url, table="web_events", where={"page": INJECTION})
    assert out["events"].attrs["rows_read"] == 0
    assert read(url, table="web_events")["events"].attrs["rows_read"] == 12


# --- malformed input -----------------------------------------------------------------------


def test_unknown_table_lists_the_tables(url):
    with pytest.raises(ConnectorError, match="No table 'webevents'") as err:
        read(url, table="webevents")
    assert "crm_customers, surveys, web_events" in str(err.value)


def test_missing_mapped_column(url):
    with pytest.raises(ConnectorError, match="'clientref'.*columns: event_id, client_ref"):
        read_sql(url, table="web_events", mapping={"events": {"clientref": "customer_id"}})
    with pytest.raises(ConnectorError, match="'clientref' found in no source"):
        read_sql(url, table="web_events", mapping={"clientref": "customer_id"})


def test_query_parameter_errors(sqlite_url):
    query = "SELECT * FROM web_events WHERE kind = :kind"
    with pytest.raises(ConnectorError, match="needs value.*:kind"):
        read_sql(sqlite_url, query=query)
    with pytest.raises(ConnectorError, match="'knd' match no placeholder.*:kind"):
        read_sql(sqlite_url, query=query, params={"knd": "x"})
    with pytest.raises(ConnectorError, match="'params' fill the placeholders"):
        read_sql(sqlite_url, table="web_events", params={"kind": "x"})


def test_bad_options(sqlite_url):
    with pytest.raises(ConnectorError, match="chunksize"):
        read_sql(sqlite_url, table="web_events", chunksize=0)
    with pytest.raises(ConnectorError, match="not a time"):
        read(sqlite_url, table="web_events", since="next tuesday")
    with pytest.raises(ConnectorError, match="unknown canonical table"):
        read_sql(sqlite_url, table="web_events", tables={"costs": "x"})
    with pytest.raises(ConnectorError, match="No events source"):
        read_sql(sqlite_url, tables={"customers": "crm_customers"})
    with pytest.raises(ConnectorError, match="does not exist"):
        read_sql(sqlite_url + ".missing", table="web_events")


def test_connection_failure_names_redacted_url(pg_url):
    bad = pg_url.replace("cjm_test:", "cjm_test:wrong-", 1)
    wrong_password = bad.split("@")[0].split(":")[-1]
    with pytest.raises(ConnectorError, match="Could not connect to") as err:
        read_sql(bad, table="web_events")
    text = str(err.value)
    assert "postgresql+psycopg://cjm_test:***@127.0.0.1" in text
    assert wrong_password not in text and "password authentication failed" in text
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_connection_refused_is_clear():
    url = "postgresql+psycopg://ana:Secr3t!@127.0.0.1:1/crm"
    with pytest.raises(
        ConnectorError, match=r"Could not connect to 'postgresql\+psycopg://ana:\*\*\*@"
    ) as err:
        read_sql(url, table="web_events")
    assert "Secr3t" not in str(err.value) and "server is running" in str(err.value)


def test_password_never_in_attrs_or_errors(pg_url):
    password = pg_url.split("@")[0].split(":")[-1]
    out = read(pg_url, table="web_events", tables=OTHER_TABLES)
    for df in out.values():
        assert password not in repr(df.attrs) and "***" in df.attrs["source"]
    with pytest.raises(ConnectorError) as err:
        read(pg_url, table="nope")
    assert password not in str(err.value) and redact_url(pg_url) in str(err.value)


# --- redact_url and the Connector object -----------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:p%40ss@h/db", "postgresql://u:***@h/db"),
        (
            "postgresql://u:p@ss:w/rd@h/db?sslmode=require",
            "postgresql://u:***@h/db?sslmode=require",
        ),
        ("postgresql://u@h/db?password=pw&sslmode=x", "postgresql://u@h/db?password=***&sslmode=x"),
        (
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BPWD%3Dpw",
            "mssql+pyodbc:///?odbc_connect=DSN%3Dx%3BPWD%3D***",
        ),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_sqlalchemy_url_objects():
    url = sa.make_url("postgresql+psycopg://ana:pw@h/db?sslmode=require&password=two")
    assert redact_url(url) == "postgresql+psycopg://ana:***@h/db?password=***&sslmode=require"


def test_redact_engine_and_connector_object():
    engine = sa.create_engine("postgresql+psycopg://ana:topsecret@localhost/crm")
    assert redact_url(engine) == "postgresql+psycopg://ana:***@localhost/crm"
    assert SQL_CONNECTOR.name == "sql" and SQL_CONNECTOR.read is read_sql
    assert {"url", "table", "query", "params", "where", "since", "until", "chunksize"} <= set(
        SQL_CONNECTOR.options
    )
    assert "topsecret" not in repr(SQL_CONNECTOR)
