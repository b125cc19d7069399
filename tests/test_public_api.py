"""The public API: everything in ``cjm_core.__all__`` imports, analyses keep their signatures."""

from __future__ import annotations

import inspect

import pytest

import cjm_core


def test_every_public_name_imports():
    missing = [name for name in cjm_core.__all__ if not hasattr(cjm_core, name)]
    assert missing == []
    assert len(set(cjm_core.__all__)) == len(cjm_core.__all__)


@pytest.mark.parametrize(
    "name, defaults",
    [
        ("build_journeys", {"gap": "30min", "split_on_conversion": True, "engine": None}),
        ("path_variants", {"level": "touchpoint", "top": 20, "engine": None}),
        ("transitions", {"order": 1, "engine": None}),
        ("funnel", {"window": "7D", "mode": "ordered", "breakdown": None, "engine": None}),
        ("touchpoint_kpis", {"engine": None}),
        ("retention", {"period": "M", "engine": None}),
        ("prepare_events", {"gap": None, "split_on_conversion": True, "engine": None}),
    ],
)
def test_analyses_take_events_and_keyword_options(name, defaults):
    params = inspect.signature(getattr(cjm_core, name)).parameters
    assert next(iter(params)) == "events"
    for option, default in defaults.items():
        assert params[option].default == default, f"{name}({option}=...)"
        assert params[option].kind is inspect.Parameter.KEYWORD_ONLY
    doc = getattr(cjm_core, name).__doc__
    assert ">>>" in doc, f"{name} docstring ends with a runnable example"
