"""Charts of survey metrics: estimates with intervals per group, or over periods."""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt


def plot_metrics(result: Any, trend: float | None = None, ax: Any = None):
    """Points with error bars per group; lines with bands when there is a period column."""
    table = result.to_frame()
    table = table[table["estimate"].notna()]
    metric = result.info.get("metric", "")
    if "period" in table.columns:
        groups = [c for c in table.columns if c not in _VALUE_COLUMNS and c != "period"]
        fig, ax = _axes(ax, (8, 4))
        for key, part in table.groupby(groups) if groups else [((), table)]:
            label = " / ".join(map(str, key if isinstance(key, tuple) else (key,))) or metric
            ax.plot(part["period"], part["estimate"], marker="o", label=label)
            ax.fill_between(part["period"], part["ci_low"], part["ci_high"], alpha=0.2)
        ax.set_xlabel("period")
        ax.tick_params(axis="x", rotation=45)
        if groups:
            ax.legend(fontsize=8)
    else:
        groups = [c for c in table.columns if c not in _VALUE_COLUMNS]
        labels = [" / ".join(map(str, r)) for r in table[groups].itertuples(index=False)]
        fig, ax = _axes(ax, (7, 0.45 * max(len(table), 2) + 1))
        y = range(len(table))
        ax.errorbar(
            table["estimate"], y,
            xerr=[table["estimate"] - table["ci_low"], table["ci_high"] - table["estimate"]],
            fmt="o", capsize=3,
        )  # fmt: skip
        ax.set_yticks(list(y), labels or [metric])
        ax.invert_yaxis()
    ax.set_title(f"{metric}: {result.info.get('headline', '')}", fontsize=9)
    if trend is not None:
        ax.text(0.01, 0.02, f"trend {trend:+.3g} per period", transform=ax.transAxes, fontsize=8)
    fig.tight_layout()
    return fig


_VALUE_COLUMNS = {
    "metric", "n", "estimate", "ci_low", "ci_high", "std_error", "mean", "mean_low",
    "mean_high", "share_top", "share_bottom", "too_few",
}  # fmt: skip


def _axes(ax: Any, size: tuple[float, float]):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=size)
    return fig, ax
