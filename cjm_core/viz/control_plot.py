"""Drawing a :class:`~cjm_core.viz.control.ControlChart` (matplotlib)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .control import RULES


def draw(chart: Any, **kwargs: Any):
    """The chart as a matplotlib Figure (see :meth:`ControlChart.plot`)."""
    from matplotlib.figure import Figure

    t = chart.table
    fig = Figure(figsize=(max(7.0, 0.22 * len(t) + 3), 4.0), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(t), dtype=float)
    if len(t):
        edges = np.r_[x - 0.5, x[-1] + 0.5]
        for column, style in (("ucl", "--"), ("lcl", "--"), ("centre", "-")):
            label = {"ucl": "3σ limits", "centre": "centre"}.get(column)
            ax.stairs(
                t[column].to_numpy(float),
                edges,
                baseline=None,
                color="grey",
                ls=style,
                lw=1,
                label=label,
            )
        if t["baseline"].any() and not t["baseline"].all():
            inside = x[t["baseline"].to_numpy()]
            ax.axvspan(
                inside.min() - 0.5, inside.max() + 0.5, color="C0", alpha=0.07, label="baseline"
            )
    value = t["value"].to_numpy(float)
    ax.plot(x, value, color=kwargs.pop("color", "C0"), lw=1, **kwargs)
    hit = (t["signal"] != "").to_numpy()
    ax.scatter(x[~hit], value[~hit], color="C0", s=16, zorder=3)
    ax.scatter(x[hit], value[hit], color="C3", s=28, zorder=4, label="signal")
    for xi, yi, text in zip(x[hit], value[hit], t["signal"][hit], strict=True):
        ax.annotate(
            _codes(text),
            (xi, yi),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
            color="C3",
        )
    step = max(1, math.ceil(len(t) / 14))
    ax.set_xticks(
        x[::step], [_tick(p) for p in t["period"][::step]], rotation=30, ha="right", fontsize=8
    )
    ax.set_ylabel(chart.label)
    ax.set_title(f"{chart.title} ({chart.info.get('period', '')})".replace(" ()", ""))
    rules = "; ".join(f"{k} = {v}" for k, v in RULES.items())
    ax.legend(fontsize=7, loc="best", title=f"rules: {rules}", title_fontsize=7)
    return fig


def _tick(p: Any) -> str:
    """Weeks by their first day (2024-04-01), other periods as pandas writes them."""
    return str(p.start_time.date()) if isinstance(p, pd.Period) and "W" in p.freqstr else str(p)


def _codes(text: str) -> str:
    return ",".join(str(k) for k, key in ((1, "CL"), (2, "run of"), (3, "2 of 3")) if key in text)
