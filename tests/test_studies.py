"""Before/after study on a small hand-built bundle whose answer is computed by hand."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from cjm_core.errors import StudyError
from cjm_core.model import JourneyCatalog
from cjm_core.stats import two_proportions, welch_t_test
from cjm_core.studies import BeforeAfterResult, before_after, read_truth

CATALOG = JourneyCatalog.from_dict(
    {
        "name": "mini",
        "stages": [{"id": "consider", "name": "Consider"}, {"id": "buy", "name": "Buy"}],
        "channels": [{"id": "web", "name": "Web"}, {"id": "phone", "name": "Phone"}],
        "touchpoints": [
            {"id": "website", "name": "Website", "channel": "web", "stage": "consider",
             "kind": "digital"},
            {"id": "call_centre", "name": "Call centre", "channel": "phone", "stage": "buy",
             "kind": "assisted"},
            {"id": "branch", "name": "Branch", "channel": "phone", "stage": "buy",
             "kind": "physical"},
        ],
    }
)  # fmt: skip

DATE = "2024-04-01"


def _ts(day: str, hour: int = 12) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hour:02d}:00", tz="UTC")


def _events() -> pd.DataFrame:
    """10 journeys visit the call centre: 4 before the change (2 convert), 6 after (4 convert).

    Traps: a conversion *before* the first call-centre visit does not count; a journey first
    seen before the date stays 'before' even if it calls again after; the same journey id
    in two customers is two journeys; journeys that never call are not counted.
    """
    rows = []

    def journey(customer, jid, steps):
        for day, hour, tp, etype in steps:
            rows.append((customer, jid, _ts(day, hour), tp, etype))

    # before: 4 journeys, 2 converted
    journey(
        "c1",
        "j1",
        [
            ("2024-03-01", 9, "website", "interaction"),
            ("2024-03-01", 10, "call_centre", "interaction"),
            ("2024-03-02", 10, "website", "conversion"),
        ],
    )
    journey(
        "c2",
        "j1",
        [
            ("2024-03-05", 9, "call_centre", "interaction"),
            ("2024-03-05", 9, "call_centre", "conversion"),
        ],
    )  # same instant counts
    journey(
        "c3",
        "j3",
        [
            ("2024-03-10", 9, "website", "conversion"),  # before the call: no
            ("2024-03-11", 9, "call_centre", "interaction"),
        ],
    )
    journey(
        "c4",
        "j4",
        [
            ("2024-03-30", 9, "call_centre", "interaction"),
            ("2024-04-03", 9, "call_centre", "interaction"),
        ],
    )  # stays 'before'
    # after: 6 journeys, 4 converted
    for i in range(6):
        steps = [("2024-04-05", 9 + i, "call_centre", "interaction")]
        if i < 4:
            steps.append(("2024-04-06", 9 + i, "branch", "conversion"))
        journey(f"d{i}", f"k{i}", steps)
    # never visits the call centre: ignored
    journey(
        "e1",
        "m1",
        [("2024-03-03", 9, "website", "interaction"), ("2024-03-03", 10, "website", "conversion")],
    )
    journey("e2", "m2", [("2024-04-20", 9, "branch", "conversion")])
    # c1 has a second journey after the date that does not call: ignored
    journey("c1", "j9", [("2024-04-10", 9, "website", "conversion")])
    return pd.DataFrame(
        rows, columns=["customer_id", "journey_id", "timestamp", "touchpoint", "event_type"]
    )


CSAT_BEFORE = [2, 3, 3, 4]
CSAT_AFTER = [4, 5, 4, 5, 3]


def _feedback() -> pd.DataFrame:
    rows = [
        ("c1", _ts("2024-03-02", h), "call_centre", "csat", s) for h, s in enumerate(CSAT_BEFORE)
    ]
    rows += [
        ("d1", _ts("2024-04-07", h), "call_centre", "csat", s) for h, s in enumerate(CSAT_AFTER)
    ]
    rows += [("d1", _ts("2024-03-07"), "website", "csat", 1)]  # other touchpoint: ignored
    rows += [("d1", _ts("2024-03-07"), "call_centre", "nps", 0)]  # other metric: ignored
    rows += [("d2", _ts("2024-03-08"), "call_centre", "nps", 6)]
    rows += [("d2", _ts("2024-04-08"), "call_centre", "nps", 9)]
    rows += [("d3", _ts("2024-04-09"), "call_centre", "nps", 10)]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "touchpoint", "metric", "score"])


def _only(events: pd.DataFrame) -> SimpleNamespace:
    """A bundle with these events and no feedback."""
    return SimpleNamespace(catalog=CATALOG, events=events, feedback=None)


@pytest.fixture
def bundle():
    return SimpleNamespace(catalog=CATALOG, events=_events(), feedback=_feedback())


def test_conversion_and_csat_match_the_hand_count(bundle):
    result = before_after(bundle, ["call_centre"], DATE)
    assert isinstance(result, BeforeAfterResult)
    conv, csat = result.results
    assert (conv.touchpoint, conv.metric) == ("call_centre", "conversion")
    assert (conv.n_before, conv.n_after) == (4, 6)
    assert conv.before == pytest.approx(2 / 4) and conv.after == pytest.approx(4 / 6)
    expected = two_proportions(2, 4, 4, 6)
    assert conv.estimate == pytest.approx(4 / 6 - 2 / 4)
    assert (conv.ci_low, conv.ci_high, conv.p_value) == pytest.approx(
        (expected.ci_low, expected.ci_high, expected.p_value)
    )
    assert conv.method.startswith("Two-proportion")

    assert (csat.n_before, csat.n_after) == (4, 5)
    assert csat.before == pytest.approx(3.0) and csat.after == pytest.approx(4.2)
    expected = welch_t_test(CSAT_BEFORE, CSAT_AFTER)
    assert csat.estimate == pytest.approx(1.2)
    assert (csat.ci_low, csat.ci_high, csat.p_value) == pytest.approx(
        (expected.ci_low, expected.ci_high, expected.p_value)
    )
    assert csat.significant == (expected.p_value < 0.05)
    assert result.notes == []  # journey_id was present


def test_without_journey_id_each_customer_history_is_one_journey(bundle):
    events = bundle.events.drop(columns="journey_id")
    result = before_after(_only(events), "call_centre", DATE, metrics="conversion")
    (conv,) = result.results
    # per customer: c1 (first call 03-01; converts 03-02) before, converted
    # c2 before converted; c3 before not; c4 before not; d0..d5 after, 4 converted
    assert (conv.n_before, conv.n_after) == (4, 6)
    assert conv.before == pytest.approx(0.5)
    assert "no journey_id column" in result.notes[0]


def test_nps_is_a_mean_score_with_a_note(bundle):
    result = before_after(bundle, "call_centre", DATE, metrics=["nps"])
    (nps,) = result.results
    assert (nps.n_before, nps.n_after) == (2, 2)
    assert nps.before == pytest.approx(3.0) and nps.after == pytest.approx(9.5)
    assert any("mean score" in n for n in result.notes)


def test_intervention_date_accepts_aware_times_in_other_zones(bundle):
    # 2024-04-01 02:00 in Paris (UTC+2) is 2024-04-01 00:00 UTC
    a = before_after(bundle, "call_centre", pd.Timestamp("2024-04-01 02:00", tz="Europe/Paris"))
    b = before_after(bundle, "call_centre", DATE)
    assert a.intervention_date == b.intervention_date == pd.Timestamp(DATE, tz="UTC")
    assert a.to_frame().equals(b.to_frame())


def test_frame_summary_html_and_repr(bundle):
    result = before_after(bundle, ["call_centre"], DATE)
    frame = result.to_frame()
    assert list(frame.columns) == [
        "touchpoint",
        "metric",
        "n_before",
        "n_after",
        "before",
        "after",
        "estimate",
        "ci_low",
        "ci_high",
        "p_value",
        "method",
        "significant",
    ]
    assert frame["metric"].tolist() == ["conversion", "csat"]
    text = result.summary()
    assert "call_centre / csat: before 3 (n=4), after 4.2 (n=5)" in text
    assert "2024-04-01" in text
    html = result._repr_html_()
    assert "<table" in html and "call_centre" in html and "after &minus; before" in html
    assert (
        repr(result) == "BeforeAfterResult(call_centre/conversion, call_centre/csat; "
        "intervention=2024-04-01)"
    )
    assert result.test("call_centre", "csat").n == {"before": 4, "after": 5}
    with pytest.raises(StudyError, match="No result for branch/csat"):
        result.test("branch", "csat")


def test_plot_draws_before_and_after_with_ci(bundle):
    from matplotlib.figure import Figure

    result = before_after(bundle, ["call_centre"], DATE)
    fig = result.plot()
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert [ax.get_title() for ax in axes] == ["conversion rate", "csat (mean score)"]
    # each panel: one errorbar container per period, centred on the group values
    containers = axes[1].containers
    assert len(containers) == 2
    (y_before,) = containers[0].lines[0].get_ydata()
    (y_after,) = containers[1].lines[0].get_ydata()
    assert (y_before, y_after) == pytest.approx((3.0, 4.2))


def test_compare_truth_puts_truth_beside_the_estimate(bundle):
    result = before_after(bundle, ["call_centre"], DATE)
    truth = {
        "effects": {
            "conversion": {
                "touchpoint": "call_centre",
                "before": 0.5,
                "after": 0.6,
                "difference": 0.1,
            },
            "csat": {
                "touchpoint": "call_centre",
                "before": 3.0,
                "after": 3.5,
                "difference": 9.0,
            },  # far outside the CI
        },
        "intervention": {"touchpoint": "call_centre", "date": DATE},
    }
    cmp = result.compare_truth(truth)
    assert cmp["true_difference"].tolist() == [0.1, 9.0]
    assert cmp["covered"].tolist() == [True, False]
    assert cmp["covered"].dtype == "boolean"
    assert cmp.loc[1, "detected"] == bool(result.results[1].significant)
    report = result.truth_report(truth)
    assert "**csat** at **call_centre**: true difference +9" in report
    assert "does not cover" in report and "Caution" not in report
    detected = int(cmp["detected"].sum())
    assert report.startswith(
        f"Planted effects detected: {detected} of 2; confidence intervals covering the true "
        "value: 1 of 2."
    )

    headline = result.headline(truth)
    assert set(headline) == {"call_centre.conversion", "call_centre.csat"}
    assert headline["call_centre.csat"]["covered"] is False
    assert headline["call_centre.csat"]["truth_difference"] == 9.0
    assert headline["call_centre.conversion"]["n_after"] == 6
    assert "truth_difference" not in result.headline()["call_centre.csat"]


def test_compare_truth_without_a_planted_effect_is_na(bundle):
    result = before_after(bundle, ["call_centre"], DATE)
    truth = {
        "effects": {"csat": {"touchpoint": "branch", "difference": 1.0}},
        "intervention": {"date": "2024-05-01"},
    }
    cmp = result.compare_truth(truth)
    assert cmp["covered"].isna().all() and math.isnan(cmp.loc[1, "true_difference"])
    report = result.truth_report(truth)
    assert "no planted effect" in report and "Caution: the planted intervention date" in report
    assert result.headline(truth)["call_centre.csat"]["covered"] is None


def test_same_answer_through_load_bundle():
    from cjm_core.bundle import load_bundle

    events, feedback = _events(), _feedback()
    customers = pd.DataFrame(
        {"customer_id": sorted(set(events["customer_id"]) | set(feedback["customer_id"]))}
    )
    bundle = load_bundle(
        {"events": events, "feedback": feedback, "customers": customers}, template=CATALOG
    )
    direct = before_after(SimpleNamespace(catalog=CATALOG, events=events, feedback=feedback),
                          "call_centre", DATE)  # fmt: skip
    loaded = before_after(bundle, "call_centre", DATE)
    pd.testing.assert_frame_equal(loaded.to_frame(), direct.to_frame())


def test_read_truth(tmp_path):
    assert read_truth(tmp_path) is None
    (tmp_path / "truth.json").write_text('{"effects": {}}')
    assert read_truth(tmp_path) == {"effects": {}}


# -- errors ---------------------------------------------------------------------------------


def test_unknown_touchpoint_lists_the_catalog(bundle):
    with pytest.raises(
        StudyError,
        match=r"Unknown touchpoint\(s\) \['atm'\].*website, "
        r"call_centre, branch",
    ):
        before_after(bundle, ["atm"], DATE)


def test_unknown_metric_lists_the_choices(bundle):
    with pytest.raises(StudyError, match=r"Unknown metric\(s\) \['happiness'\].*conversion, nps"):
        before_after(bundle, "call_centre", DATE, metrics=["csat", "happiness"])


@pytest.mark.parametrize("when", ["2023-01-01", "2025-01-01"])
def test_date_outside_the_data_range(bundle, when):
    with pytest.raises(StudyError, match="outside the data range 2024-03-01 to 2024-04-20"):
        before_after(bundle, "call_centre", when)


def test_unparsable_date(bundle):
    with pytest.raises(StudyError, match="not a date"):
        before_after(bundle, "call_centre", "first of April")


def test_empty_period_is_named(bundle):
    # the branch has no csat feedback at all
    with pytest.raises(
        StudyError,
        match=r"No csat feedback rows at touchpoint 'branch' in the "
        r"before period \(n before = 0, n after = 0\)",
    ):
        before_after(bundle, "branch", DATE, metrics=["csat"])
    # without the website rows, the branch is only visited after the date
    events = bundle.events[bundle.events["touchpoint"] != "website"]
    with pytest.raises(
        StudyError, match="No journeys visiting it at touchpoint 'branch' in the before period"
    ):
        before_after(_only(events), "branch", DATE, metrics="conversion")


def test_events_without_event_type_cannot_show_conversion(bundle):
    events = bundle.events.drop(columns="event_type")
    with pytest.raises(StudyError, match="no event_type column"):
        before_after(_only(events), "call_centre", DATE, metrics="conversion")


def test_missing_journey_ids_are_not_dropped(bundle):
    events = bundle.events.copy()
    events.loc[events.index[:3], "journey_id"] = None
    with pytest.raises(StudyError, match="3 event\\(s\\) have no journey_id"):
        before_after(_only(events), "call_centre", DATE, metrics="conversion")


def test_naive_timestamps_are_refused(bundle):
    events = bundle.events.assign(timestamp=bundle.events["timestamp"].dt.tz_localize(None))
    with pytest.raises(StudyError, match="time-zone aware"):
        before_after(_only(events), "call_centre", DATE, metrics="conversion")
