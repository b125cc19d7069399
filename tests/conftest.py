"""Shared fixtures: a small journey catalog and small valid canonical tables.

Each fixture returns a fresh object, so a test may change it freely.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cjm_core.model import JourneyCatalog

CATALOG = {
    "name": "mini",
    "stages": [
        {"id": "discover", "name": "Discover"},
        {"id": "apply", "name": "Apply"},
        {"id": "use", "name": "Use"},
        {"id": "support", "name": "Get support"},
    ],
    "channels": [
        {"id": "web", "name": "Web"},
        {"id": "app", "name": "Mobile app"},
        {"id": "phone", "name": "Phone"},
        {"id": "branch", "name": "Branch"},
    ],
    "touchpoints": [
        {
            "id": "website",
            "name": "Website",
            "channel": "web",
            "stage": "discover",
            "kind": "digital",
        },
        {
            "id": "mobile_app",
            "name": "Mobile app",
            "channel": "app",
            "stage": "use",
            "kind": "digital",
        },
        {
            "id": "call_centre",
            "name": "Call centre",
            "channel": "phone",
            "stage": "support",
            "kind": "assisted",
        },
        {
            "id": "branch_visit",
            "name": "Branch visit",
            "channel": "branch",
            "stage": "apply",
            "kind": "physical",
        },
    ],
    "metrics": [{"id": "rating", "name": "Review rating", "min": 0, "max": 1, "integer": False}],
    "personas": [
        {"id": "saver", "name": "Careful saver", "share": 0.6},
        {"id": "mover", "name": "Digital mover", "share": 0.4},
    ],
}


@pytest.fixture
def catalog_dict() -> dict:
    """The plain data of the ``catalog`` fixture (a deep copy, safe to change)."""
    import copy

    return copy.deepcopy(CATALOG)


@pytest.fixture
def catalog() -> JourneyCatalog:
    """4 stages, 4 channels, 4 touchpoints (digital, assisted, physical) and a 0-1 metric."""
    return JourneyCatalog.from_dict(CATALOG)


@pytest.fixture
def events_df() -> pd.DataFrame:
    """8 valid events of 3 customers; timestamps as ISO text with zones; extra 'region'."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1", "c2", "c2", "c3", "c3", "c3"],
            "timestamp": [
                "2024-03-01T09:00:00Z",
                "2024-03-01T09:05:00Z",
                "2024-03-02T10:00:00+02:00",
                "2024-03-01T12:00:00Z",
                "2024-03-03T08:30:00Z",
                "2024-03-04T15:00:00Z",
                "2024-03-04T15:10:00+00:00",
                "2024-03-05T11:00:00Z",
            ],
            "touchpoint": [
                "website",
                "mobile_app",
                "branch_visit",
                "website",
                "call_centre",
                "mobile_app",
                "call_centre",
                "branch_visit",
            ],
            "event_type": ["interaction"] * 2 + ["conversion"] + ["interaction"] * 5,
            "value": [0.0, 0.0, 120.0, 0.0, 0.0, 0.0, 0.0, -15.5],
            "duration_s": [30.0, 12.0, 900.0, 45.0, 240.0, 8.0, 600.0, 300.0],
            "journey_id": ["j1", "j1", "j1", "j2", "j2", "j3", "j3", "j3"],
            "region": ["north", "north", "north", "south", "south", "east", "east", "east"],
        }
    )


@pytest.fixture
def feedback_df() -> pd.DataFrame:
    """5 valid survey answers: NPS, CSAT, CES and the catalog's own 0-1 'rating'."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3", "c3"],
            "timestamp": [
                "2024-03-02T12:00:00Z",
                "2024-03-02T12:01:00Z",
                "2024-03-03T09:00:00Z",
                "2024-03-05T12:00:00Z",
                "2024-03-05T12:05:00Z",
            ],
            "touchpoint": ["branch_visit", "branch_visit", "call_centre", None, "branch_visit"],
            "metric": ["nps", "csat", "ces", "nps", "rating"],
            "score": [9, 4, 2, 6, 0.75],
            "comment": ["Friendly staff", None, "Long wait on the phone", "ok", "Fine"],
            "language": ["en", "en", "en", "pt", "en"],
        }
    )


@pytest.fixture
def customers_df() -> pd.DataFrame:
    """3 customers with a persona and an age."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3"],
            "persona": ["saver", "mover", "saver"],
            "age": [34, 27, 61],
        }
    )


@pytest.fixture
def costs_df() -> pd.DataFrame:
    """Monthly costs of two touchpoints."""
    return pd.DataFrame(
        {
            "touchpoint": ["call_centre", "call_centre", "branch_visit"],
            "period": ["2024-02", "2024-03", "2024-03"],
            "amount": [12000.0, 11000.0, 30500.0],
        }
    )


# -- engines: DuckDB and Spark local[2] ------------------------------------------------------


@pytest.fixture(scope="session")
def spark():
    """One local Spark session (2 threads, loopback only) for the whole test run."""
    from cjm_core.engine import spark_session

    session = spark_session("local[2]", app_name="cjm-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_engine(spark):
    from cjm_core.engine import spark_engine as make

    return make(spark)


@pytest.fixture(params=["duckdb", "spark"])
def engine(request):
    """Each test using it runs once on DuckDB and once on Spark."""
    from cjm_core.engine import duckdb_engine

    if request.param == "duckdb":
        return duckdb_engine()
    return request.getfixturevalue("spark_engine")


@pytest.fixture
def on_both(spark_engine):
    """``on_both(fn, *args, **kw)``: run ``fn(..., engine=...)`` on both engines, require
    identical frames, return the DuckDB result."""
    from cjm_core.engine import duckdb_engine

    from .engines import assert_identical

    def run(fn, *args, **kwargs):
        left = fn(*args, engine=duckdb_engine(), **kwargs)
        right = fn(*args, engine=spark_engine, **kwargs)
        assert_identical(left, right)
        return left

    return run
