"""A study's estimates beside the effects planted in synthetic data (``truth.json``).

The generators plant, per effect, a touchpoint, a metric and the true difference (after
minus before). A sound study *covers* it (the interval contains it) and *detects* it
(significant after correction, with the right sign).

    >>> row = {"touchpoint": "t", "metric": "conversion", "segment": "all", "estimate": 0.07,
    ...        "ci_low": 0.03, "ci_high": 0.11, "p_adjusted": 0.001, "significant": True}
    >>> truth = {"effects": {"conversion": {"touchpoint": "t", "difference": 0.08}}}
    >>> compare_truth(pd.DataFrame([row]), truth)[["covered", "detected"]].values.tolist()
    [[True, True]]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError


def compare_truth(table: pd.DataFrame, truth: Mapping[str, Any]) -> pd.DataFrame:
    """The overall rows of a study table with ``true_difference``, ``covered`` and
    ``detected`` (``<NA>`` where nothing was planted for that touchpoint and metric)."""
    effects = planted_effects(truth)
    rows = []
    for rec in table[table["segment"] == "all"].to_dict("records"):
        effect = planted_effect(effects, rec["metric"], rec["touchpoint"])
        true = float(effect["difference"]) if effect and "difference" in effect else math.nan
        rows.append(
            {
                "touchpoint": rec["touchpoint"],
                "metric": rec["metric"],
                "estimate": rec["estimate"],
                "ci_low": rec["ci_low"],
                "ci_high": rec["ci_high"],
                "p_adjusted": rec["p_adjusted"],
                "true_difference": true,
                **judged(rec["ci_low"], rec["ci_high"], rec["estimate"], rec["significant"], true),
            }
        )
    return truth_frame(rows)


def planted_effects(truth: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    """The planted effects by metric: ``truth["effects"]`` (or the bare mapping)."""
    if not isinstance(truth, Mapping):
        raise StudyError(f"truth must be a mapping (as read from truth.json); got {truth!r}.")
    effects = truth.get("effects", truth)
    return {k: v for k, v in effects.items() if isinstance(v, Mapping)}


def planted_effect(
    effects: Mapping[str, Mapping[str, Any]], metric: str, touchpoint: str
) -> Mapping[str, Any] | None:
    """The effect planted for ``metric`` at ``touchpoint`` (None when there is none)."""
    effect = effects.get(metric)
    if effect is not None and effect.get("touchpoint") not in (None, touchpoint):
        return None
    return effect


def judged(ci_low: float, ci_high: float, estimate: float, significant: bool, true: float):
    """``covered`` (the interval holds the true difference) and ``detected`` (significant,
    with its sign); ``<NA>`` when nothing was planted (``true`` is NaN)."""
    if math.isnan(true):
        return {"covered": pd.NA, "detected": pd.NA}
    return {
        "covered": ci_low <= true <= ci_high,
        "detected": bool(significant and np.sign(estimate) == np.sign(true)),
    }


def truth_frame(rows: list[dict]) -> pd.DataFrame:
    """The comparison rows with ``covered`` and ``detected`` as nullable booleans."""
    frame = pd.DataFrame(rows)
    for col in ("covered", "detected"):
        frame[col] = frame[col].astype("boolean")
    return frame


def truth_report(table: pd.DataFrame, truth: Mapping[str, Any]) -> str:
    """Markdown: per planted effect, detected or not, covered or not."""
    frame = compare_truth(table, truth)
    planted = frame[frame["covered"].notna()]
    if not len(planted):
        return "None of the studied effects is planted in the truth file."
    lines = [
        f"Planted effects detected: {int(planted['detected'].sum())} of {len(planted)}; "
        f"intervals covering the true value: {int(planted['covered'].sum())} of "
        f"{len(planted)}.",
        "",
    ]
    for rec in planted.to_dict("records"):
        lines.append(
            f"- **{rec['metric']}** at **{rec['touchpoint']}**: true difference "
            f"{rec['true_difference']:+.4g}, estimated {rec['estimate']:+.4g} "
            f"[{rec['ci_low']:.4g}, {rec['ci_high']:.4g}]: "
            f"{'detected' if rec['detected'] else '**not detected**'}; the interval "
            f"{'covers' if rec['covered'] else '**does not cover**'} the true value."
        )
    return "\n".join(lines)


def headline(table: pd.DataFrame, truth: Mapping[str, Any] | None) -> dict[str, dict]:
    """JSON-ready figures per ``touchpoint.metric[.segment]`` for the report's records."""
    compared = compare_truth(table, truth).set_index(["touchpoint", "metric"]) if truth else None
    keep = ["design", "n_before", "n_after", "before", "after", "estimate", "ci_low",
            "ci_high", "p_value", "p_adjusted", "significant", "verdict"]  # fmt: skip
    out = {}
    for rec in table.to_dict("records"):
        key = f"{rec['touchpoint']}.{rec['metric']}"
        if rec["segment"] != "all":
            key += f".{rec['segment']}"
        fig = {k: _plain(rec[k]) for k in keep}
        if compared is not None and rec["segment"] == "all":
            truth_row = compared.loc[(rec["touchpoint"], rec["metric"])]
            planted = not pd.isna(truth_row["covered"])
            fig["truth_difference"] = float(truth_row["true_difference"]) if planted else None
            fig["covered"] = bool(truth_row["covered"]) if planted else None
            fig["detected"] = bool(truth_row["detected"]) if planted else None
        out[key] = fig
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
