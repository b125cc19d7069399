"""The result of :func:`cjm_core.funnels.funnel`: a table per step and a funnel chart.

Rows: one per (breakdown value, step). ``customers`` reached the step;
``conversion_from_previous`` and ``drop_off`` compare it with the previous *required* step
(for step 1: 1.0 and 0); ``conversion_from_start`` with step 1; ``median_time_to_step_s`` is
the median time from the entry to the step among those who reached it.

Example::

    >>> import pandas as pd
    >>> from cjm_core.funnel_steps import read_steps
    >>> plan = read_steps(["web", "shop"], "touchpoint")
    >>> counts = pd.DataFrame({"excluded": [0], "c1": [4], "c2": [1], "m2": [60.0]})
    >>> table, removed = step_rows(counts, plan, None)
    >>> FunnelResult(table, steps=plan).conversion()
    0.25
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .funnel_steps import FunnelStep
from .results import AnalysisResult

COLUMNS = [
    "step",
    "step_name",
    "optional",
    "customers",
    "conversion_from_previous",
    "conversion_from_start",
    "drop_off",
    "drop_off_rate",
    "median_time_to_step_s",
]


def step_rows(
    counts: pd.DataFrame, plan: list[FunnelStep], breakdown: str | None
) -> tuple[pd.DataFrame, int]:
    """Long table (one row per breakdown value and step) from the aggregate's wide rows
    (``bd``, ``excluded``, ``c{k}``, ``m{k}``), and the number of customers removed."""
    if len(counts) == 0 and not breakdown:  # nothing aggregated at all: a funnel of zeros
        counts = pd.DataFrame({"excluded": [0], **{f"c{s.number}": [0] for s in plan}})
    rows = []
    for i in range(len(counts)):
        wide = counts.iloc[i]
        start = _int(wide["c1"])
        previous = start  # customers at the previous required step
        for step in plan:
            k = step.number
            n = _int(wide[f"c{k}"])
            base = n if k == 1 else previous
            rows.append(
                {
                    "step": k,
                    "step_name": step.name,
                    "optional": step.optional,
                    "customers": n,
                    "conversion_from_previous": _ratio(n, base),
                    "conversion_from_start": _ratio(n, start),
                    "drop_off": base - n,
                    "drop_off_rate": _ratio(base - n, base),
                    "median_time_to_step_s": (
                        (0.0 if n else math.nan) if k == 1 else _seconds(wide.get(f"m{k}"), n)
                    ),
                }
            )
            if not step.optional:
                previous = n
    table = pd.DataFrame(rows, columns=COLUMNS).astype(
        {
            "step": "int64",
            "step_name": object,
            "optional": bool,
            "customers": "int64",
            "drop_off": "int64",
            "conversion_from_previous": "float64",
            "conversion_from_start": "float64",
            "drop_off_rate": "float64",
            "median_time_to_step_s": "float64",
        }
    )
    if breakdown:  # the values keep the dtype the engine gave them (None for missing text)
        bd = counts["bd"]
        values = pd.Series(np.repeat(bd.to_numpy(), len(plan)), dtype=bd.dtype)
        table.insert(0, breakdown, values)
    removed = int(sum(_int(v) for v in counts["excluded"])) if len(counts) else 0
    return table, removed


class FunnelResult(AnalysisResult):
    """Customers per funnel step (per breakdown value); ``plot()`` draws the funnel.

    Attributes: ``steps`` (the :class:`~cjm_core.funnel_steps.FunnelStep` list),
    ``breakdown`` (column name or None), ``excluded`` (customers removed by exclusion).
    """

    title = "Funnel"

    def __init__(
        self,
        table: pd.DataFrame,
        notes: list[str] | tuple[str, ...] = (),
        *,
        steps: list[FunnelStep],
        breakdown: str | None = None,
        excluded: int = 0,
        **info: Any,
    ):
        super().__init__(table, notes, steps=" > ".join(s.name for s in steps), **info)
        self.steps = list(steps)
        self.breakdown = breakdown
        self.excluded = excluded

    def conversion(self) -> float | pd.Series:
        """Share of entrants reaching the last required step (per breakdown value)."""
        last = max(s.number for s in self.steps if not s.optional)
        rows = self.table[self.table["step"] == last]
        if self.breakdown is None:
            return float(rows["conversion_from_start"].iloc[0])
        return rows.set_index(self.breakdown)["conversion_from_start"]

    def plot(self, max_panels: int = 12, **kwargs: Any):
        """A funnel chart: centred horizontal bars narrowing step by step, labelled with
        the count and the share of entrants; one panel per breakdown value (the
        ``max_panels`` largest). Returns a matplotlib ``Figure``."""
        import matplotlib.pyplot as plt

        groups = self._groups()[:max_panels]
        cols = min(3, len(groups))
        rows = math.ceil(len(groups) / cols)
        height = 0.55 * len(self.steps) + 1.2
        fig, axes = plt.subplots(
            rows, cols, figsize=(4.8 * cols, height * rows), squeeze=False, **kwargs
        )
        for ax, (label, part) in zip(axes.flat, groups, strict=False):
            _draw(ax, part, label)
        for ax in list(axes.flat)[len(groups) :]:
            ax.set_visible(False)
        title = f"Funnel ({self.info.get('mode', '')}, window {self.info.get('window', '')})"
        fig.suptitle(title)
        fig.tight_layout()
        return fig

    def _groups(self) -> list[tuple[str | None, pd.DataFrame]]:
        if self.breakdown is None:
            return [(None, self.table)]
        parts = [
            (f"{self.breakdown} = {value}", part)
            for value, part in self.table.groupby(self.breakdown, dropna=False, sort=False)
        ]
        return sorted(parts, key=lambda p: -int(p[1]["customers"].iloc[0]))


def _draw(ax: Any, part: pd.DataFrame, label: str | None) -> None:
    counts = part["customers"].to_numpy(dtype=float)
    widest = counts.max() if len(counts) and counts.max() > 0 else 1.0
    y = np.arange(len(part))
    colours = ["#9ecae1" if opt else "#3182bd" for opt in part["optional"]]
    ax.barh(y, counts, left=(widest - counts) / 2, color=colours, height=0.7)
    for yi, (n, share) in enumerate(zip(counts, part["conversion_from_start"], strict=True)):
        text = f"{int(n):,}" + ("" if pd.isna(share) else f" ({share:.0%})")
        ax.text(widest / 2, yi, text, ha="center", va="center", fontsize=9)
    names = [
        n + (" (optional)" if o else "")
        for n, o in zip(part["step_name"], part["optional"], strict=True)
    ]
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xticks([])
    ax.set_xlim(0, widest)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    if label:
        ax.set_title(label, fontsize=10)


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def _ratio(num: int, den: int) -> float:
    return num / den if den else math.nan


def _seconds(value: Any, n: int) -> float:
    return math.nan if n == 0 or value is None or pd.isna(value) else float(value)
