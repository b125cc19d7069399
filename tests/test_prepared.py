"""prepare_events: the shared, kept journey table gives exactly the results of the analyses
run on the events themselves, on DuckDB and Spark; the paths it takes are checked too."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cjm_core import (
    build_journeys,
    drop_off,
    funnel,
    path_variants,
    prepare_events,
    touchpoint_kpis,
    transitions,
)
from cjm_core.engine import duckdb_engine
from cjm_core.errors import CjmError

from .engines import assert_identical

TOUCHPOINTS = ["app", "branch", "call", "email", "shop", "web"]


def random_log(seed: int = 3, customers: int = 120, tps: list[str] = TOUCHPOINTS) -> pd.DataFrame:
    """Visits minutes apart, hours or days between visits, some conversions, and ties in
    time (the same second) inside customers."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(customers):
        t = pd.Timestamp("2024-03-01", tz="UTC") + pd.Timedelta(hours=int(rng.integers(0, 500)))
        for _ in range(int(rng.integers(1, 14))):
            t += pd.Timedelta(seconds=int(rng.choice([0, 60, 300, 900, 3 * 3600, 86400])))
            conv = rng.random() < 0.12
            rows.append(
                (f"c{c:03d}", t, str(rng.choice(tps)), "conversion" if conv else "view",
                 float(rng.integers(5, 90)) if conv else 0.0)
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "touchpoint", "event_type",
                                       "value"])  # fmt: skip


ANALYSES = [
    (build_journeys, {}),
    (build_journeys, {"gap": "3h", "split_on_conversion": False}),
    (path_variants, {"top": 8}),
    (path_variants, {"top": 5, "collapse_repeats": True, "max_length": 3}),
    (path_variants, {"top": 5, "before": "call"}),
    (transitions, {}),
    (transitions, {"order": 2}),
    (funnel, {"steps": ["web", "shop", "call"], "window": "2D"}),
    (funnel, {"steps": ["web", "shop"], "window": "2D", "mode": "strict"}),
    (
        funnel,
        {
            "steps": ["web", "app", "shop"],
            "window": "3D",
            "optional": ["app"],
            "exclude": ["branch"],
        },
    ),
    (funnel, {"steps": ["shop", "email"], "window": "3D", "mode": "any"}),
    (funnel, {"steps": ["view", "conversion"], "level": "event_type", "window": "1D"}),
    (funnel, {"steps": ["web", "nowhere"], "window": "1D", "catalog": "catalog"}),
    (
        funnel,
        {
            "steps": ["web", "shop"],
            "window": "2D",
            "breakdown": "segment",
            "customers": "customers",
        },
    ),
    (funnel, {"steps": ["web", "shop"], "window": "2D", "breakdown": "device"}),
    (drop_off, {}),
    (touchpoint_kpis, {}),
]


@pytest.mark.parametrize(("fn", "options"), ANALYSES, ids=lambda v: getattr(v, "__name__", ""))
def test_prepared_events_give_the_same_results(fn, options, catalog):
    events = random_log()
    events["device"] = np.where(events.index % 3 == 0, "mobile", "desktop")  # an event column
    people = pd.DataFrame({"customer_id": sorted(set(events["customer_id"]))})
    people["segment"] = ["a" if i % 2 else "b" for i in range(len(people))]
    named = {"catalog": _catalog_with(catalog, TOUCHPOINTS + ["nowhere"]), "customers": people}
    options = {k: named.get(v, v) if isinstance(v, str) else v for k, v in options.items()}
    engine = duckdb_engine()
    prepared = prepare_events(events, gap="30min", engine=engine)
    assert_identical(fn(prepared, **options), fn(events, engine=engine, **options))


def _catalog_with(catalog, touchpoints):
    """The test catalog with these touchpoints added (all in its first stage and channel)."""
    from cjm_core import JourneyCatalog

    data = catalog.to_dict()
    first = data["touchpoints"][0]
    known = {t["id"] for t in data["touchpoints"]}
    data["touchpoints"] += [
        {**first, "id": tp, "name": tp} for tp in touchpoints if tp not in known
    ]
    return JourneyCatalog.from_dict(data)


@pytest.mark.parametrize(("fn", "options"), ANALYSES[:1] + ANALYSES[2:3] + ANALYSES[5:11])
def test_prepared_on_spark_equals_duckdb(fn, options, spark_engine, tmp_path):
    path = tmp_path / "events.parquet"  # a file: the order of ties is generated
    random_log(seed=5).to_parquet(path)
    on_spark = fn(prepare_events(str(path), gap="30min", engine=spark_engine), **options)
    on_duck = fn(prepare_events(str(path), gap="30min", engine=duckdb_engine()), **options)
    assert_identical(on_spark, on_duck)
    assert_identical(on_duck, fn(str(path), engine=duckdb_engine(), **options))


def test_first_order_shortcut_equals_the_general_transitions(monkeypatch):
    import importlib

    module = importlib.import_module("cjm_core.transitions")  # the name is also a function

    events = random_log(seed=11)
    short = transitions(events)
    monkeypatch.setattr(module, "_shortcut", lambda *args: False)  # the window version
    general = transitions(events)
    assert_identical(short, general)
    assert short.to_frame()["count"].sum() > 100


def test_given_journey_ids_and_other_gaps_on_prepared_events():
    events = random_log(seed=7)
    events["journey_id"] = events["customer_id"] + "-" + events["timestamp"].dt.strftime("%m%d")
    engine = duckdb_engine()
    prepared = prepare_events(events, engine=engine)  # gap=None: the given journeys
    given = build_journeys(prepared, gap=None).to_frame()
    assert given["journey_id"].str.contains("-").all()
    assert_identical(given, build_journeys(events, gap=None, engine=engine))
    assert_identical(path_variants(prepared), path_variants(events, engine=engine))
    # another gap: sessionised again from the events, the same as without preparing
    assert_identical(build_journeys(prepared), build_journeys(events, engine=engine))


def test_many_touchpoints_are_kept_as_text_on_both_engines(on_both):
    many = [f"tp{i:02d}" for i in range(70)]  # more than a 62-bit mask holds
    events = random_log(seed=2, customers=60, tps=many)
    out = on_both(build_journeys, events).to_frame()
    expected = build_journeys(events.assign(touchpoint=events["touchpoint"].str[:3])).to_frame()
    assert out["n_events"].tolist() == expected["n_events"].tolist()
    for tps, n in zip(out["touchpoints"], out["n_touchpoints"], strict=True):
        assert len(tps) == n and list(tps) == sorted(set(tps))
    first = events.sort_values(["customer_id", "timestamp"], kind="stable").iloc[0]
    assert out.loc[0, "first_touchpoint"] == first["touchpoint"]


def test_journeys_stay_on_the_engine_until_asked():
    result = build_journeys(random_log(seed=4))
    assert len(result) == result.stats()["journeys"] > 0
    text = result.summary(max_rows=3)
    assert result._frame is None, "summary and len need no full frame"
    assert "more row(s)" in text
    frame = result.to_frame()
    stats = result.stats()
    assert stats["journeys"] == len(frame)
    assert stats["customers"] == frame["customer_id"].nunique()
    assert stats["mean_events"] == pytest.approx(frame["n_events"].mean())
    assert stats["median_duration_s"] == pytest.approx(frame["duration_s"].median())
    result.release()
    assert len(result.to_frame()) == len(frame)


def test_release_drops_the_kept_table_and_engines_must_match(spark_engine):
    engine = duckdb_engine()
    prepared = prepare_events(random_log(), gap="30min", engine=engine)
    name = prepared.sessions.table.op().name
    assert name in engine.con.list_tables()
    with pytest.raises(CjmError, match="prepared on"):
        build_journeys(prepared, engine=spark_engine)
    before = set(engine.con.list_tables())
    assert len(build_journeys(prepared).to_frame()) > 0  # keeps the ids of the codes too
    added = set(engine.con.list_tables()) - before
    assert len(added) == 2, added  # the journeys and the customer ids
    prepared.release()
    assert name not in engine.con.list_tables()
    assert not added & set(engine.con.list_tables())


def test_empty_log_one_event_and_bad_input():
    from cjm_core.errors import MissingColumnError

    events = random_log()
    empty = prepare_events(events.iloc[:0], gap="30min")
    assert len(build_journeys(empty)) == 0
    assert path_variants(empty).to_frame()["journeys"].sum() == 0
    assert transitions(empty).to_frame().empty
    one = prepare_events(events.iloc[:1], gap="30min")
    assert build_journeys(one).to_frame()["n_events"].tolist() == [1]
    assert transitions(one).to_frame()["count"].sum() == 2  # (start) > tp > (end)
    with pytest.raises(MissingColumnError, match="touchpoint"):
        prepare_events(events.drop(columns="touchpoint"))
    prepared = prepare_events(events, gap="30min")  # a typo in a step: told from the codes
    with pytest.raises(CjmError, match=r"\['wbe'\] in steps occur in no event"):
        funnel(prepared, ["wbe", "shop"])
    with pytest.raises(CjmError, match=r"\['nowhere'\] in exclude occur in no event"):
        funnel(prepared, ["web", "shop"], exclude=["nowhere"])


def test_journeys_and_path_variants_share_one_journey_table():
    engine = duckdb_engine()
    events = random_log(seed=9)
    prepared = prepare_events(events, gap="30min", engine=engine)
    before = set(engine.con.list_tables())
    variants = path_variants(prepared, top=6)  # builds the shared per-journey rows
    journeys = build_journeys(prepared)  # reads them
    added = set(engine.con.list_tables()) - before
    assert len(added) == 1, added
    assert_identical(variants, path_variants(events, top=6, engine=engine))
    assert_identical(journeys, build_journeys(events, engine=engine))
    assert len(journeys) == journeys.to_frame().shape[0] > 0
    # options that change the steps read the journey table of their own
    cleaned = path_variants(prepared, top=4, collapse_repeats=True)
    assert_identical(cleaned, path_variants(events, top=4, collapse_repeats=True, engine=engine))
    again = build_journeys(prepared)
    prepared.release()
    assert not added & set(engine.con.list_tables())
    assert len(journeys.to_frame()) > 0  # brought over before the release
    with pytest.raises(CjmError, match="released"):
        len(again)
    with pytest.raises(CjmError, match="released"):
        transitions(prepared)
    with pytest.raises(CjmError, match="released"):
        funnel(prepared, ["web", "shop"])


def test_many_touchpoints_and_a_missing_customer_id_on_prepared_events():
    many = [f"tp{i:02d}" for i in range(70)]  # journeys kept as text sets: their own table
    events = random_log(seed=12, customers=40, tps=many)
    events.loc[5, "customer_id"] = None  # a missing id keeps its events, as without preparing
    engine = duckdb_engine()
    prepared = prepare_events(events, gap="30min", engine=engine)
    journeys = build_journeys(prepared)
    assert_identical(journeys, build_journeys(events, engine=engine))
    frame = journeys.to_frame()
    assert set(frame["customer_id"].dropna()) == set(events["customer_id"].dropna())
    assert frame["customer_id"].isna().sum() >= 1
    assert frame["journey_id"].dropna().str.match(r"c\d{3}#\d+$").all()
    # a customers table is matched on the ids (one customer the events lack is ignored)
    people = pd.DataFrame({"customer_id": [*sorted(set(events["customer_id"].dropna())), "zz"]})
    people["segment"] = ["a" if i % 3 else "b" for i in range(len(people))]
    options = {"window": "30D", "breakdown": "segment", "customers": people, "mode": "any"}
    steps = events["touchpoint"].value_counts().index[:2].tolist()
    out = funnel(prepared, steps, **options)
    assert_identical(out, funnel(events, steps, engine=engine, **options))
    assert set(out.to_frame()["segment"]) == {"a", "b", None}  # None: the missing id


@pytest.mark.parametrize("collide", [False, True])
def test_customers_are_coded_on_duckdb_unless_two_codes_collide(monkeypatch, collide):
    import ibis

    from cjm_core import sessions as sessions_module

    if collide:  # every id of four characters gets the same code: the ids are kept
        monkeypatch.setattr(
            sessions_module,
            "customer_code",
            lambda ids: ibis.ifelse(ids.isnull(), ibis.null("int64"), ids.length().cast("int64")),
        )
    events = random_log(seed=14, customers=50)
    events.loc[3, "customer_id"] = None  # a missing id has no code and stays apart
    engine = duckdb_engine()
    prepared = prepare_events(events, gap="30min", engine=engine)
    kept = prepared.sessions
    assert kept.coded_ids != collide
    assert kept.table.customer_id.type().is_string() == collide
    journeys = build_journeys(prepared)  # the shared journey table: ids decoded on the way out
    assert_identical(journeys, build_journeys(events, engine=engine))
    frame = journeys.to_frame()
    assert frame["customer_id"].isna().sum() >= 1
    assert set(frame["customer_id"].dropna()) == set(events["customer_id"].dropna())
    assert journeys.stats()["customers"] == events["customer_id"].nunique()
    for fn, options in [(path_variants, {"top": 8}), (transitions, {"order": 2})]:
        assert_identical(fn(prepared, **options), fn(events, engine=engine, **options))
    people = pd.DataFrame({"customer_id": sorted(set(events["customer_id"].dropna()))})
    people["segment"] = ["a" if i % 4 else "b" for i in range(len(people))]
    options = {"window": "30D", "breakdown": "segment", "customers": people}
    steps = events["touchpoint"].value_counts().index[:3].tolist()
    out = funnel(prepared, steps, **options)
    assert_identical(out, funnel(events, steps, engine=engine, **options))
    assert set(out.to_frame()["segment"]) == {"a", "b", None}


def test_customer_codes_are_63_bit_hashes_null_for_a_null_id():
    import ibis

    from cjm_core.sessions import customer_code, second_code
    from cjm_core.sql_functions import add_id_macros

    engine = duckdb_engine()
    add_id_macros(engine.con)
    ids = ibis.memtable({"id": ["a", "b", None, "a", "C620897"]})
    out = engine.execute(ids.select(c=customer_code(ids.id), k=second_code(ids.id)))
    codes, checks = out["c"].tolist(), out["k"].tolist()
    assert pd.isna(codes[2]) and pd.isna(checks[2])
    assert codes[0] == codes[3] != codes[1] and checks[0] == checks[3] != checks[1]
    pairs = [(c, k) for i, (c, k) in enumerate(zip(codes, checks, strict=True)) if i != 2]
    assert all(0 <= c < 2**63 and c != k for c, k in pairs)
