"""by_group: any journey analysis per group equals the analysis run on that group by hand."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from cjm_core import (
    build_journeys,
    drop_off,
    funnel,
    path_variants,
    retention,
    touchpoint_kpis,
    transitions,
)
from cjm_core.breakdown import NONE, GroupedResult, by_group
from cjm_core.errors import CjmError
from cjm_core.personas import customer_features, find_personas

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def data():
    from cjm_banking.generator import generate

    d = generate(customers=300, seed=3)
    return d.tables["events"], d.tables["customers"]


def _same(grouped: GroupedResult, group, expected) -> None:
    part = grouped.to_frame()
    part = part[part[grouped.column] == group].drop(columns=grouped.column)
    pd.testing.assert_frame_equal(part.reset_index(drop=True), expected.to_frame())


@pytest.mark.parametrize(
    "analysis, options",
    [
        (path_variants, {"top": 5}),
        (transitions, {}),
        (touchpoint_kpis, {}),
        (drop_off, {}),
        (retention, {}),
        (build_journeys, {"gap": None}),
        (funnel, {"steps": ["website", "online_application"]}),
    ],
)
def test_each_group_equals_the_analysis_on_its_events(data, analysis, options):
    events, _ = data
    events = events.assign(side=np.where(events["region"].isin(["north", "east"]), "ne", "sw"))
    r = by_group(analysis, events, "side", **options)
    assert list(r.results) == ["ne", "sw"]
    assert r.to_frame().columns[0] == "side"
    rows = 0
    for side in ("ne", "sw"):
        expected = analysis(events[events["side"] == side], **options)
        _same(r, side, expected)
        rows += len(expected.to_frame())
    assert len(r) == rows


def test_customer_attribute_with_missing_customers_goes_to_none(data):
    events, customers = data
    people = customers[["customer_id", "persona"]].iloc[40:]  # the first 40 left out
    missing = events["customer_id"].isin(customers["customer_id"].iloc[:40])
    r = by_group("path_variants", events, "persona", customers=people, top=3)
    assert list(r.results)[-1] == NONE
    assert list(r.results)[:-1] == sorted(people["persona"].unique())
    who = events.loc[missing, "customer_id"].nunique()
    assert r.notes == (
        f"{int(missing.sum())} event(s) of {who} customer(s) have no 'persona' value: "
        f"group '(none)'",
    )
    _same(r, NONE, path_variants(events[missing], top=3))
    mine = events["customer_id"].isin(
        people.loc[people["persona"] == "rate_shopper", "customer_id"]
    )
    _same(r, "rate_shopper", path_variants(events[mine], top=3))
    # every journey is counted once over the groups: nothing dropped
    total = r.to_frame().groupby("persona")["journeys"].sum().sum()
    assert total == path_variants(events, top=3).to_frame()["journeys"].sum()


def test_persona_model_labels_and_names(data):
    events, _ = data
    f = customer_features(events)
    model = find_personas(f, k=3, seed=1)
    r = by_group(transitions, events, customers=model)
    assert list(r.results) == [1, 2, 3]  # every customer with events has a persona
    assert r.labels == model.names and r.info["by"] == "persona"
    for p in (1, 2, 3):
        ids = model.labels.index[model.labels == p]
        _same(r, p, transitions(events[events["customer_id"].isin(ids)]))
    assert f"persona = 1 ({model.names[1]})" in r.summary()
    assert "<details>" in r._repr_html_()


def test_groups_choose_and_order_and_are_counted(data):
    events, _ = data
    r = by_group(path_variants, events, "region", groups=["south", "north"], top=2)
    assert list(r.results) == ["south", "north"]
    left = int((~events["region"].isin(["south", "north"])).sum())
    assert r.notes == (f"{left} event(s) in groups not asked for are not analysed",)
    with pytest.raises(CjmError, match=r"group\(s\) \['nowhere'\] have no events"):
        by_group(path_variants, events, "region", groups=["nowhere"])


def test_missing_values_in_an_events_column_form_a_group(data):
    events, _ = data
    ev = events.copy()
    ev.loc[ev.index[:25], "device"] = np.nan
    r = by_group(build_journeys, ev, "device", gap=None)
    assert NONE in r.results
    n = int(ev["device"].isna().sum())  # 25 and those the generator left without a device
    assert n > 25 and r.notes[0].startswith(f"{n} event(s) of ")
    assert r[NONE].to_frame()["n_events"].sum() == n
    assert sum(x.to_frame()["n_events"].sum() for x in r.results.values()) == len(ev)


def test_a_result_column_named_like_the_group_is_kept(data):
    events, _ = data
    r = by_group(funnel, events, "region", steps=["website", "online_application"],
                 breakdown="device")  # fmt: skip
    assert r.column == "region"
    r2 = by_group(funnel, events, "region", steps=["website", "online_application"],
                  breakdown="region")  # fmt: skip
    assert r2.column == "region_group"
    assert r2.to_frame().columns[:2].tolist() == ["region_group", "region"]


def test_errors_name_the_problem(data):
    events, customers = data
    with pytest.raises(CjmError, match="'segment' is not an events column"):
        by_group(path_variants, events, "segment")
    doubled = pd.concat([customers, customers.head(2)])
    with pytest.raises(CjmError, match=r"repeat 2 customer_id value\(s\)"):
        by_group(path_variants, events, "persona", customers=doubled)
    with pytest.raises(CjmError, match="Unknown analysis 'paths'"):
        by_group("paths", events, "region")
    with pytest.raises(CjmError, match="No group 'mars'"):
        by_group(path_variants, events, "region", groups=["north"])["mars"]


def test_plots(data):
    events, _ = data
    r = by_group(touchpoint_kpis, events, "region")
    fig = r.plot()
    assert len([ax for ax in fig.axes if ax.has_data()]) == events["region"].nunique()
    one = r.plot(group="north")
    assert one.axes  # the group's own KPI chart
