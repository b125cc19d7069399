"""The journey catalog: construction, rejection of malformed catalogs, YAML and round trips."""

from __future__ import annotations

import pytest
import yaml

from cjm_core.errors import CatalogError
from cjm_core.model import STANDARD_METRICS, JourneyCatalog, Metric, Touchpoint


def test_catalog_from_dict_and_lookups(catalog):
    assert catalog.name == "mini"
    assert catalog.stage_ids == ["discover", "apply", "use", "support"]
    assert [s.order for s in catalog.stages] == [0, 1, 2, 3]
    assert catalog.touchpoint("call_centre") == Touchpoint(
        "call_centre", "Call centre", "phone", "support", "assisted"
    )
    assert catalog.channel_of()["branch_visit"] == "branch"
    assert catalog.stage_of()["mobile_app"] == "use"
    assert catalog.persona("mover").share == 0.4
    assert [m.id for m in catalog.all_metrics] == ["nps", "csat", "ces", "rating"]
    assert repr(catalog) == (
        "JourneyCatalog(name='mini', stages=4, channels=4, touchpoints=4, personas=2)"
    )


def test_unknown_lookup_names_what_exists(catalog):
    with pytest.raises(CatalogError, match="No touchpoint with id 'kiosk'.*known: branch_visit"):
        catalog.touchpoint("kiosk")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["touchpoints"].append(dict(d["touchpoints"][0])),
            "duplicate touchpoint id 'website'",
        ),
        (lambda d: d["stages"].append({"id": "use", "name": "Again"}), "duplicate stage id 'use'"),
        (
            lambda d: d["touchpoints"][1].update(channel="fax"),
            "touchpoint 'mobile_app' refers to unknown channel 'fax'",
        ),
        (
            lambda d: d["touchpoints"][2].update(stage="pay"),
            "touchpoint 'call_centre' refers to unknown stage 'pay'",
        ),
        (
            lambda d: d["touchpoints"][3].update(kind="virtual"),
            "touchpoint 'branch_visit' has unknown kind 'virtual'; expected one of digital, "
            "physical, assisted",
        ),
        (lambda d: d["touchpoints"][0].pop("channel"), "lacks required field(s) ['channel']"),
        (lambda d: d["touchpoints"][0].update(colour="red"), "unknown field(s) ['colour']"),
        (lambda d: d.update(extras=[]), "Unknown catalog section(s) ['extras']"),
        (lambda d: d.update(channels=[]), "section 'channels' is missing or empty"),
        (lambda d: d["metrics"][0].update(min=5, max=1), "metric 'rating' has min 5 not below"),
        (lambda d: d["personas"][0].update(share=1.5), "persona 'saver' has share 1.5"),
    ],
)
def test_malformed_catalog_names_the_item(catalog_dict, change, message):
    change(catalog_dict)
    with pytest.raises(CatalogError) as info:
        JourneyCatalog.from_dict(catalog_dict)
    assert message in str(info.value)


def test_every_problem_is_listed(catalog_dict):
    catalog_dict["touchpoints"][0].update(channel="fax", kind="virtual")
    with pytest.raises(CatalogError, match=r"2 problem\(s\)") as info:
        JourneyCatalog.from_dict(catalog_dict)
    assert "unknown channel 'fax'" in str(info.value) and "unknown kind" in str(info.value)


def test_from_yaml_and_to_dict_round_trip(tmp_path, catalog):
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog.to_dict(), sort_keys=False), encoding="utf-8")
    again = JourneyCatalog.from_yaml(path)
    assert again == catalog
    assert again.to_dict() == catalog.to_dict()
    assert again.to_dict()["touchpoints"][0] == {
        "id": "website",
        "name": "Website",
        "channel": "web",
        "stage": "discover",
        "kind": "digital",
        "description": "",
    }


def test_from_yaml_errors(tmp_path):
    with pytest.raises(CatalogError, match="does not exist"):
        JourneyCatalog.from_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        JourneyCatalog.from_yaml(bad)
    with pytest.raises(CatalogError, match="must be a mapping"):
        JourneyCatalog.from_dict(["stages"])


def test_metric_scales():
    nps, csat, ces = STANDARD_METRICS
    assert (nps.min, nps.max, csat.min, csat.max, ces.min, ces.max) == (0, 10, 1, 5, 1, 7)
    assert nps.contains(0) and nps.contains(10) and not nps.contains(11)
    assert not csat.contains(3.5) and not csat.contains(0)
    assert Metric("r", "R", 0, 1, integer=False).contains(0.5)


def test_catalog_can_override_a_standard_metric(catalog_dict):
    catalog_dict["metrics"] = [{"id": "csat", "name": "CSAT 0-10", "min": 0, "max": 10}]
    cat = JourneyCatalog.from_dict(catalog_dict)
    assert cat.metric("csat").max == 10
    assert [m.id for m in cat.all_metrics] == ["nps", "ces", "csat"]


def test_touchpoint_service_level_and_effort_are_optional_and_checked(catalog):
    data = catalog.to_dict()
    assert "target_s" not in data["touchpoints"][0]  # omitted when not set
    data["touchpoints"][0].update(target_s=120, effort=2)
    again = JourneyCatalog.from_dict(data)
    assert (again.touchpoints[0].target_s, again.touchpoints[0].effort) == (120, 2)
    assert again.to_dict()["touchpoints"][0]["target_s"] == 120
    data["touchpoints"][0].update(target_s=-5, effort=9)
    with pytest.raises(CatalogError, match=r"2 problem\(s\)") as info:
        JourneyCatalog.from_dict(data)
    assert "target_s -5" in str(info.value) and "effort 9" in str(info.value)
