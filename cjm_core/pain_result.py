"""The ranked pain-point table and its charts (ranking bars, impact-effort matrix)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .results import AnalysisResult

#: impact-effort quadrants: impact_score >= 50 is high; effort <= 3 is low
QUADRANTS = {
    (True, True): "quick win",
    (True, False): "major project",
    (False, True): "fill-in",
    (False, False): "thankless task",
}


class PainPoints(AnalysisResult):
    """Pain points ranked by impact. Columns: rank, [group], touchpoint, impact (customers
    affected, summed over signals), impact_score (top = 100), reach (customers at the
    touchpoint), signals (how many signals fire), lost_conversions, value_at_risk,
    top_signal, evidence (the firing signals, strongest first), effort and quadrant.
    ``evidence`` (attribute) holds every signal row, firing or not."""

    title = "Pain points"

    def __init__(self, table: pd.DataFrame, notes=(), evidence: pd.DataFrame | None = None,
                 **info: Any) -> None:  # fmt: skip
        super().__init__(table, notes, **info)
        self.evidence = evidence if evidence is not None else pd.DataFrame()

    def top(self, n: int = 5) -> pd.DataFrame:
        return self.table.head(n).copy()

    def plot(self, top: int = 10, **kwargs: Any):
        """Customers affected per signal, stacked, for the ``top`` pain points."""
        import matplotlib.pyplot as plt

        head = self.table.head(top)
        if head.empty:
            fig, ax = plt.subplots(figsize=(6, 2))
            ax.text(0.5, 0.5, "no pain points", ha="center")
            return fig
        ev = self.evidence
        keys = ["group", "touchpoint"]
        label = head.apply(_label, axis=1).tolist()
        pivot = (
            ev[ev["customers_affected"] > 0]
            .pivot_table(index=keys, columns="signal", values="customers_affected", aggfunc="sum")
            .reindex(
                pd.MultiIndex.from_frame(
                    head[keys] if "group" in head else head.assign(group="all")[keys]
                )
            )  # fmt: skip
            .fillna(0)
        )
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(head) + 1.5))
        left = pd.Series(0.0, index=range(len(head)))
        for signal in pivot.columns:
            values = pivot[signal].to_numpy()
            ax.barh(range(len(head)), values, left=left, label=signal.replace("_", " "))
            left += values
        ax.set_yticks(range(len(head)), label)
        ax.invert_yaxis()
        ax.set_xlabel("customers affected (summed over signals)")
        ax.set_title("Pain points ranked by impact", fontsize=10)
        if len(pivot.columns):
            ax.legend(fontsize=8, loc="lower right")
        else:
            ax.text(0.5, 0.5, "no signal stands out", ha="center", transform=ax.transAxes)
        fig.tight_layout()
        return fig

    def matrix(self, **kwargs: Any):
        """The impact-effort matrix of the pain points that have an effort."""
        import matplotlib.pyplot as plt

        t = self.table[self.table["effort"].notna()]
        fig, ax = plt.subplots(figsize=(6.5, 5))
        ax.axhline(50, color="grey", lw=0.8, ls="--")
        ax.axvline(3, color="grey", lw=0.8, ls="--")
        ax.scatter(t["effort"], t["impact_score"], s=40 + t["reach"] / max(t["reach"].max(), 1)
                   * 400, alpha=0.6)  # fmt: skip
        for _, row in t.iterrows():
            ax.annotate(_label(row), (row["effort"], row["impact_score"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
        for (high, easy), name in QUADRANTS.items():
            ax.text(1.1 if easy else 4.9, 97 if high else 3, name, ha="left" if easy else
                    "right", va="top" if high else "bottom", fontsize=8, color="grey")  # fmt: skip
        ax.set_xlim(0.8, 5.2)
        ax.set_ylim(-5, 108)
        ax.set_xlabel("effort to fix (1 easy .. 5 hard)")
        ax.set_ylabel("impact score (top pain point = 100)")
        ax.set_title("Impact vs effort", fontsize=10)
        fig.tight_layout()
        return fig


def _label(row: pd.Series) -> str:
    group = row.get("group")
    return (
        f"{row['touchpoint']} ({group})"
        if isinstance(group, str) and group != "all"
        else str(row["touchpoint"])
    )


def rank_table(
    evidence: pd.DataFrame, per_conversion: float, effort: Mapping[str, float], grouped: bool
) -> pd.DataFrame:
    """One row per (group, touchpoint), ranked by impact."""
    columns = [
        "rank", "group", "touchpoint", "impact", "impact_score", "reach", "signals",
        "lost_conversions", "value_at_risk", "top_signal", "evidence", "effort", "quadrant",
    ]  # fmt: skip
    if evidence.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (group, tp), part in evidence.groupby(["group", "touchpoint"], sort=False):
        firing = part[part["customers_affected"] > 0].sort_values(
            "customers_affected", ascending=False
        )
        lost = float(part["lost_conversions"].sum())
        rows.append({
            "group": group, "touchpoint": tp, "impact": float(part["customers_affected"].sum()),
            "reach": int(part["reach"].max()), "signals": len(firing),
            "lost_conversions": lost,
            "value_at_risk": lost * per_conversion if not math.isnan(per_conversion) else math.nan,
            "top_signal": firing["signal"].iloc[0] if len(firing) else None,
            "evidence": "; ".join(firing["detail"]),
            "effort": effort.get(tp, math.nan),
        })  # fmt: skip
    table = pd.DataFrame(rows).sort_values(["impact", "touchpoint"], ascending=[False, True])
    top = table["impact"].max()
    table["impact_score"] = 100 * table["impact"] / top if top > 0 else 0.0
    table["quadrant"] = [
        QUADRANTS[(s >= 50, e <= 3)] if not math.isnan(e) else None
        for s, e in zip(table["impact_score"], table["effort"], strict=True)
    ]
    table["rank"] = range(1, len(table) + 1)
    table = table[columns].reset_index(drop=True)
    return table if grouped else table.drop(columns="group")
