"""Ibis 12 on the pinned DuckDB: what it calls by DuckDB 1.x names works, without warnings."""

from __future__ import annotations

import warnings

import duckdb
import ibis
import pandas as pd

from cjm_core.engine import duckdb_engine


def test_table_listing_creation_and_batches_work_without_warnings():
    engine = duckdb_engine()
    con = engine.con
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        kept = con.create_table("kept", ibis.memtable(pd.DataFrame({"a": [1, 2, 3]})), temp=True)
        assert "kept" in con.list_tables()
        batches = list(con.to_pyarrow_batches(kept.filter(kept.a > 1), chunk_size=1))
        assert sum(b.num_rows for b in batches) == 2
        assert con.list_catalogs() and con.list_databases()
    con.raw_sql('DROP TABLE "kept"')
    assert "kept" not in con.list_tables()


def test_the_patch_only_adds_missing_names():
    from cjm_core.duckdb_compat import patch

    patch()
    patch()  # idempotent
    cursor = duckdb.connect().execute("SELECT 42 AS x")
    assert cursor.fetch_arrow_table().column("x").to_pylist() == [42]
    if int(duckdb.__version__.split(".")[0]) < 2:  # 1.x keeps its own methods
        assert duckdb.DuckDBPyConnection.fetch_arrow_table.__module__ != "cjm_core.duckdb_compat"


SCRIPT = """
import duckdb
from cjm_core.engine import duckdb_engine
setting = "SELECT current_setting('enable_progress_bar')"
print(duckdb.connect().execute(setting).fetchall(), duckdb_engine().con.raw_sql(setting).fetchall())
"""


def test_no_progress_bar_reaches_the_output():
    # DuckDB 2 draws its bar on stdout (into notebook outputs) for queries over 2 s; it is
    # on by default outside pytest's capture, so ask a fresh process
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[(True,)]", "[(False,)]"]  # DuckDB's default, the engine's


def test_the_engine_is_ready_for_the_next_query():
    # DuckDB 2 refuses new work on a connection with a result not read to the end; making
    # the engine reads its own setting query in full
    engine = duckdb_engine()
    events = ibis.memtable(pd.DataFrame({"a": [1, 2]}))  # registered on the connection
    assert engine.execute(events)["a"].tolist() == [1, 2]
