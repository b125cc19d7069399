"""path_variants on hand-made logs with hand-computed answers; reconciliation; both engines."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from cjm_core.engine import events_table  # noqa: E402
from cjm_core.errors import CjmError  # noqa: E402
from cjm_core.journeys import build_journeys  # noqa: E402
from cjm_core.prepared import prepare_events  # noqa: E402
from cjm_core.sequences import journey_events  # noqa: E402
from cjm_core.variants import OTHER_VARIANTS, path_variants  # noqa: E402

from .test_journeys import hand_log, log  # noqa: E402

# hand_log() paths (30 min gap, split at conversions; durations in s):
#   a#1 website > mobile_app > mobile_app > call_centre   converted   1200
#   a#2 website                                                          0
#   b#1 website > call_centre > branch_visit                           300
#   b#2 website                                                          0
#   c#1 mobile_app                                        converted      0
#   c#2 mobile_app                                                       0
W4 = "website > mobile_app > mobile_app > call_centre"
W3 = "website > call_centre > branch_visit"


def rows(result, columns=("variant", "journeys", "conversions")):
    return result.to_frame()[list(columns)].values.tolist()


def test_all_variants_with_counts_shares_rates_and_durations():
    out = path_variants(hand_log()).to_frame()
    assert out["variant"].tolist() == ["mobile_app", "website", W3, W4, OTHER_VARIANTS]
    assert out["journeys"].tolist() == [2, 2, 1, 1, 0]
    assert out["share"].tolist() == pytest.approx([2 / 6, 2 / 6, 1 / 6, 1 / 6, 0.0])
    assert out["conversions"].tolist() == [1, 0, 0, 1, 0]
    assert out["conversion_rate"].tolist()[:4] == [0.5, 0.0, 0.0, 1.0]
    assert math.isnan(out["conversion_rate"].iloc[4])
    assert out["median_duration_s"].tolist()[:4] == [0.0, 0.0, 300.0, 1200.0]
    assert out["steps"].tolist()[2] == ("website", "call_centre", "branch_visit")
    assert out["n_steps"].tolist() == [1, 1, 3, 4, 0]


def test_top_variants_plus_other_on_both_engines_with_a_tie_at_the_cut_off(on_both):
    result = on_both(path_variants, hand_log(), top=3)
    # W3 and W4 tie (1 journey each): the one whose first steps come first alphabetically
    # (website > call_centre < website > mobile_app) is shown, the other goes to "other"
    assert rows(result) == [["mobile_app", 2, 1], ["website", 2, 0], [W3, 1, 0],
                            [OTHER_VARIANTS, 1, 1]]  # fmt: skip
    assert result.to_frame()["median_duration_s"].iloc[-1] == 1200.0
    assert result.info["journeys"] == 6 and result.info["variants"] == 4
    top2 = path_variants(hand_log(), top=2).to_frame()
    assert top2.iloc[-1][["journeys", "conversions", "median_duration_s"]].tolist() == [2, 1, 750.0]


def test_cleaning_on_both_engines(on_both):
    result = on_both(
        path_variants,
        hand_log(),
        aliases={"mobile_app": "digital", "website": "digital"},
        collapse_repeats=True,
        max_length=2,
    )
    # a#1 digital digital digital call_centre -> digital > call_centre
    # b#1 digital call_centre branch_visit -> cut after 2 steps
    assert rows(result, ("variant", "journeys", "conversions", "n_steps")) == [
        ["digital", 4, 1, 1],
        ["digital > call_centre", 1, 1, 2],
        ["digital > call_centre > …", 1, 0, 2],
        [OTHER_VARIANTS, 0, 0, 0],
    ]
    assert any("collapsed" in n for n in result.notes)


def test_paths_after_a_touchpoint_at_stage_level_on_both_engines(on_both, catalog):
    # stages: website discover, mobile_app use, call_centre support, branch_visit apply
    result = on_both(path_variants, hand_log(), level="stage", catalog=catalog, after="mobile_app")
    assert rows(result) == [["use", 2, 1], ["use > use > support", 1, 1], [OTHER_VARIANTS, 0, 0]]
    assert result.to_frame()["share"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])
    assert any("3 journey(s) without 'mobile_app' left out" in n for n in result.notes)


def test_paths_before_a_touchpoint_include_it():
    result = path_variants(hand_log(), before="call_centre")
    assert rows(result) == [["website > call_centre", 1, 0], [W4, 1, 1], [OTHER_VARIANTS, 0, 0]]
    assert result.info["journeys"] == 2


def test_collapse_alone_and_max_length_alone():
    assert rows(path_variants(hand_log(), collapse_repeats=True))[3] == [
        "website > mobile_app > call_centre",
        1,
        1,
    ]
    cut = path_variants(hand_log(), max_length=2).to_frame()
    assert cut["variant"].tolist()[2:4] == ["website > call_centre > …", "website > mobile_app > …"]
    assert cut["steps"].tolist()[2] == ("website", "call_centre", "…")


def test_rare_steps_become_other():
    # event shares: website 4/11, mobile_app 4/11, call_centre 2/11, branch_visit 1/11
    out = path_variants(hand_log(), min_share=0.1).to_frame()
    assert "website > call_centre > other" in out["variant"].tolist()
    out = path_variants(hand_log(), min_share=0.2, collapse_repeats=True).to_frame()
    assert out["variant"].tolist() == [
        "mobile_app", "website", "website > mobile_app > other", "website > other",
        OTHER_VARIANTS,
    ]  # fmt: skip


def test_channel_level_from_the_column_with_missing_values():
    events = hand_log().assign(
        channel=["web", "app", "app", None, "web", "web", "phone", "store", "web", "app", "app"]
    )
    out = path_variants(events, level="channel").to_frame()
    assert "web > app > app > (missing)" in out["variant"].tolist()
    assert "web > phone > store" in out["variant"].tolist()


def test_given_journey_ids_are_used_by_default():
    events = hand_log().assign(journey_id=["x"] * 5 + ["y"] * 4 + ["z"] * 2)
    assert rows(path_variants(events)) == [
        ["mobile_app > mobile_app", 1, 1],
        ["website > call_centre > branch_visit > website", 1, 0],
        [W4 + " > website", 1, 1],
        [OTHER_VARIANTS, 0, 0],
    ]


def test_out_of_order_input_ties_one_event_and_empty_log():
    events = hand_log()
    shuffled = events.iloc[[10, 6, 3, 0, 9, 4, 7, 2, 8, 5, 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        path_variants(shuffled).to_frame(), path_variants(events).to_frame()
    )
    swapped = events.iloc[[0, 1, 2, 3, 4, 5, 7, 6, 8, 9, 10]].reset_index(drop=True)
    assert (
        "website > branch_visit > call_centre"
        in path_variants(swapped).to_frame()["variant"].tolist()
    )
    assert rows(path_variants(log([("z", "10:00", "website")]))) == [
        ["website", 1, 0], [OTHER_VARIANTS, 0, 0]
    ]  # fmt: skip
    empty = path_variants(events.iloc[:0])
    assert len(empty) == 0 and "no events" in empty.summary()


def random_log(n_customers=150, seed=7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 12, n_customers)
    n = int(sizes.sum())
    customers = np.repeat([f"c{i:03d}" for i in range(n_customers)], sizes)
    minutes = rng.choice([1, 5, 20, 45, 600], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]).cumsum()
    return pd.DataFrame(
        {
            "customer_id": customers,
            "timestamp": pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(minutes, "min"),
            "touchpoint": rng.choice(
                ["website", "mobile_app", "call_centre", "store"], n, p=[0.4, 0.3, 0.2, 0.1]
            ),  # fmt: skip
            "event_type": np.where(rng.random(n) < 0.08, "conversion", "interaction"),
        }
    )


def brute_force_paths(events: pd.DataFrame) -> pd.Series:
    """Path text per journey, built in pandas from the shared journey order."""
    eng, t = events_table(events, "duckdb")
    ev = eng.execute(journey_events(t), order_by=["customer_id", "journey_id", "step"])
    return ev.groupby(["customer_id", "journey_id"])["touchpoint"].agg(" > ".join)


@pytest.mark.parametrize("top", [1, 5, 10_000])
def test_counts_reconcile_and_match_a_brute_force_count(top):
    events = random_log()
    result = path_variants(events, top=top)
    out = result.to_frame()
    journeys = build_journeys(events).to_frame()
    assert out["journeys"].sum() == len(journeys)
    assert out["share"].sum() == pytest.approx(1.0)
    assert out["conversions"].sum() == journeys["converted"].sum()
    assert out["variant"].iloc[-1] == OTHER_VARIANTS and len(out) <= top + 1
    expected = brute_force_paths(events).value_counts()
    assert result.info["variants"] == len(expected)
    shown = out.iloc[:-1]
    assert dict(zip(shown["variant"], shown["journeys"], strict=True)) == {
        v: int(expected[v]) for v in shown["variant"]
    }
    rest = expected.drop(shown["variant"])
    assert rest.empty or shown["journeys"].min() >= rest.max()


def test_collapsed_and_cut_counts_reconcile_with_brute_force():
    events = random_log(seed=11)
    out = path_variants(events, collapse_repeats=True, max_length=3, top=10_000).to_frame()
    paths = brute_force_paths(events).str.split(" > ")
    collapsed = paths.map(lambda p: [s for i, s in enumerate(p) if i == 0 or p[i - 1] != s])
    cut = collapsed.map(lambda p: " > ".join(p[:3] + (["…"] if len(p) > 3 else [])))
    expected = cut.value_counts()
    shown = out.iloc[:-1]
    assert dict(zip(shown["variant"], shown["journeys"], strict=True)) == expected.to_dict()


def test_plots():
    result = path_variants(hand_log())
    fig = result.plot()
    sankey = fig.data[0]
    assert type(sankey).__name__ == "Sankey"
    labels = list(sankey.node.label)
    into = {}
    for target, value in zip(sankey.link.target, sankey.link.value, strict=True):
        into[labels[target]] = into.get(labels[target], 0) + value
    assert into["(conversion)"] == 2 and into["(drop-off)"] == 4  # the 6 journeys end
    assert into["call_centre"] == 2  # website > call_centre and ... mobile_app > call_centre
    bar = result.plot(kind="bar")
    assert len(bar.axes[0].patches) == 5
    with pytest.raises(CjmError, match="Unknown plot kind"):
        result.plot(kind="pie")


def test_bad_options(catalog):
    events = hand_log()
    with pytest.raises(CjmError, match="top must be"):
        path_variants(events, top=0)
    with pytest.raises(CjmError, match="max_length must be"):
        path_variants(events, max_length=0)
    with pytest.raises(CjmError, match="either before= or after="):
        path_variants(events, before="website", after="website")
    with pytest.raises(CjmError, match="Unknown touchpoint 'kiosk' for before="):
        path_variants(events, before="kiosk")
    with pytest.raises(CjmError, match="needs a catalog"):
        path_variants(events, level="stage")
    with pytest.raises(CjmError, match="alias rule"):
        path_variants(events, level="stage", catalog=catalog, aliases={"website": "web"})


def test_a_parquet_file_gives_the_same_variants(tmp_path):
    events = hand_log()
    events.loc[7, "timestamp"] += pd.Timedelta("1min")  # no tie: files order ties otherwise
    path = tmp_path / "events.parquet"
    events.to_parquet(path)
    pd.testing.assert_frame_equal(
        path_variants(path, top=3).to_frame(), path_variants(events, top=3).to_frame()
    )


def test_an_anchor_that_no_journey_visits_leaves_only_the_empty_other_row(catalog):
    events = hand_log()
    events = events[events["touchpoint"] != "branch_visit"]
    result = path_variants(events, after="branch_visit", catalog=catalog)
    assert rows(result) == [[OTHER_VARIANTS, 0, 0]]
    assert any("6 journey(s) without 'branch_visit' left out" in n for n in result.notes)


def test_paths_a_polynomial_hash_would_merge_are_counted_apart(on_both):
    # with 15 touchpoints the paths of codes 9,9,1,13,10 and 11,3,7,10,11 got the same key
    # from the first path-key scheme (a degree-4 polynomial hash mod 2**31-1, summed), so
    # they were counted as one variant
    names = [f"t{i:02d}" for i in range(1, 16)]  # codes 1..15 in sorted order
    paths = {"a": [9, 9, 1, 13, 10], "b": [11, 3, 7, 10, 11], "c": list(range(1, 16))}
    rows_ = [
        (customer, pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(minutes=i), names[c - 1])
        for customer, codes in paths.items()
        for i, c in enumerate(codes)
    ]
    events = pd.DataFrame(rows_, columns=["customer_id", "timestamp", "touchpoint"])
    out = on_both(path_variants, events, top=10).to_frame()
    expected = {" > ".join(names[c - 1] for c in codes) for codes in paths.values()}
    assert set(out["variant"].iloc[:-1]) == expected
    assert out["journeys"].tolist() == [1, 1, 1, 0]


def test_path_key_hash_is_the_reference_hash_on_both_engines(engine):
    import ibis

    from cjm_core.path_keys import MIX, mix, mix_int

    xs = [0, 1, 2, 17, 65_535, 65_536, 2**31 - 2, *range(1_000, 200_000, 997)]
    t = ibis.memtable(pd.DataFrame({"x": pd.Series(xs, dtype="int64")}))
    got = engine.execute(t.select("x", h1=mix(t.x, *MIX[0]), h2=mix(t.x, *MIX[1])), ["x"])
    assert got["h1"].tolist() == [mix_int(x, *MIX[0]) for x in sorted(xs)]
    assert got["h2"].tolist() == [mix_int(x, *MIX[1]) for x in sorted(xs)]
    assert len(set(got["h1"])) == len(xs) and got["h1"].between(0, 2**31 - 1).all()


@pytest.mark.parametrize(("n_codes", "length"), [(3, 12), (15, 5), (4, 9)])
def test_no_two_paths_of_an_exhaustive_set_share_a_key(n_codes, length):
    from cjm_core.path_keys import MIX, P, mix_int

    # every path of `length` steps over `n_codes` codes (mix_int works on numpy arrays)
    codes = np.stack(np.meshgrid(*[np.arange(1, n_codes + 1)] * length, indexing="ij"), -1)
    codes = codes.reshape(-1, length).astype("int64")
    x = (np.arange(1, length + 1, dtype="int64") * (n_codes + 1) + codes) % P
    keys = np.stack([mix_int(x, *m).sum(axis=1) for m in MIX], axis=1)
    assert len(keys) == n_codes**length
    assert len(np.unique(keys, axis=0)) == len(keys)


def test_layout_and_packed_steps_round_trip():
    from cjm_core.path_keys import layout, packed_steps

    assert layout(1) == (1, 62) and layout(15) == (4, 15) and layout(63) == (6, 10)
    bits, k = layout(15)
    steps = [15, 1, 7, 7, 2]
    pk = sum(c << bits * (k - pos) for pos, c in enumerate(steps, start=1))
    assert packed_steps(pk, len(steps), 15) == steps
    assert packed_steps(pk, 99, 15)[: len(steps)] == steps  # past the path: zeros
    assert pk < 2**62


@pytest.mark.parametrize("prefix_bits", [62, 4])
def test_paths_longer_than_the_packed_steps_are_hashed_and_still_exact(
    monkeypatch, on_both, prefix_bits
):
    # 4 touchpoints take 3 bits: 62 bits pack 20 steps; 4 bits pack 1 step, so almost every
    # path here has a hashed tail and is rendered from a representative journey
    import cjm_core.path_keys as path_keys

    monkeypatch.setattr(path_keys, "PREFIX_BITS", prefix_bits)
    events = random_log(seed=21)
    tps = ["website", "mobile_app", "call_centre", "store"]
    long = pd.DataFrame(  # two customers with the same 25-step journey, 1 min apart
        {
            "customer_id": ["long1"] * 25 + ["long2"] * 25,
            "timestamp": pd.Timestamp("2025-01-01", tz="UTC")
            + pd.to_timedelta(list(range(25)) * 2, "min"),
            "touchpoint": [tps[i * 7 % 4] for i in range(25)] * 2,
            "event_type": "interaction",
        }
    )
    events = pd.concat([events, long], ignore_index=True)
    out = on_both(path_variants, events, top=10_000).to_frame()
    expected = brute_force_paths(events).value_counts()
    shown = out.iloc[:-1]
    assert dict(zip(shown["variant"], shown["journeys"], strict=True)) == expected.to_dict()
    assert shown["n_steps"].max() == 25
    assert shown.loc[shown["n_steps"] == 25, "journeys"].tolist() == [2]
    # prepared events: the keys come from the shared journey table (hashed tails included)
    prepared = prepare_events(events, gap="30min")
    pd.testing.assert_frame_equal(path_variants(prepared, top=10_000).to_frame(), out)
    pd.testing.assert_frame_equal(
        build_journeys(prepared).to_frame(), build_journeys(events).to_frame()
    )


def test_ties_at_the_cut_off_go_to_paths_in_step_order(on_both):
    # five paths of one journey each: the top 3 by the order of their steps (codes follow
    # the alphabet), a path before its own extensions
    paths = [["web", "call"], ["app"], ["web"], ["app", "web", "call"], ["call", "app"]]
    events = pd.DataFrame(
        [
            (f"c{i}", pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(minutes=k), tp)
            for i, path in enumerate(paths)
            for k, tp in enumerate(path)
        ],
        columns=["customer_id", "timestamp", "touchpoint"],
    )
    out = on_both(path_variants, events, top=3).to_frame()
    assert out["variant"].tolist() == ["app", "app > web > call", "call > app", OTHER_VARIANTS]
    assert out["journeys"].tolist() == [1, 1, 1, 2]
