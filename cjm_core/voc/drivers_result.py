"""The result of :func:`~cjm_core.voc.drivers.key_drivers`: table, charts, quadrant.

``KeyDrivers.table`` has one row per driver, most important first: ``driver, beta,
beta_low, beta_high, p_value, relative_weight, rw_low, rw_high, rw_share, lmg, lmg_low,
lmg_high, lmg_share, rank, n``. ``plot()`` draws the importance shares with bootstrap
whiskers; ``quadrant()`` crosses importance with performance (the mean driver score), the
classic importance-performance matrix (Martilla and James 1977).

Example::

    >>> import pandas as pd
    >>> t = pd.DataFrame({"driver": ["a", "b"], "lmg": [0.3, 0.1], "lmg_share": [0.75, 0.25],
    ...                   "relative_weight": [0.3, 0.1], "rw_share": [0.75, 0.25]})
    >>> r = KeyDrivers(t, performance=pd.Series({"a": 3.1, "b": 4.2}), method="both")
    >>> r.quadrant()[["driver", "quadrant"]].values.tolist()
    [['a', 'concentrate here'], ['b', 'possible overkill']]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..results import AnalysisResult

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


class KeyDrivers(AnalysisResult):
    """Key drivers of an outcome; see the module docstring for the table's columns.

    ``performance`` holds each driver's mean score on the rows used; ``share_intervals``
    the bootstrap percentile intervals of the shares of R² (columns ``driver,
    rw_share_low, rw_share_high, lmg_share_low, lmg_share_high``).
    """

    title = "Key drivers"

    def __init__(
        self,
        table: pd.DataFrame,
        notes: list[str] | tuple[str, ...] = (),
        *,
        performance: pd.Series | None = None,
        share_intervals: pd.DataFrame | None = None,
        **info: Any,
    ):
        super().__init__(table, notes, **info)
        self.performance = performance if performance is not None else pd.Series(dtype=float)
        self.share_intervals = share_intervals

    @property
    def measure(self) -> str:
        """The importance column ranked on: ``relative_weight`` or ``lmg``."""
        return "relative_weight" if self.info.get("method") == "relative_weights" else "lmg"

    @property
    def share_column(self) -> str:
        return "rw_share" if self.measure == "relative_weight" else "lmg_share"

    def _heading(self) -> str:
        i = self.info
        if "outcome" not in i:
            return super()._heading()
        return (
            f"{self.title} of {i['outcome']} (R² = {i['r_squared']:.3f}, n = {i['n']}, "
            f"method = {i['method']}, missing = {i['missing']}, n_boot = {i['n_boot']})"
        )

    def summary(self, max_rows: int = 20) -> str:
        """Heading, the table rounded to 4 significant digits, then the notes."""
        shown = self.table.head(max_rows).copy()
        lines = [self._heading(), shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")]
        if len(self) > max_rows:
            lines.append(f"... {len(self) - max_rows} more row(s)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def quadrant(self, performance: pd.Series | dict | None = None) -> pd.DataFrame:
        """Importance (share of R²) against performance, one row per driver.

        ``performance`` defaults to each driver's mean score; pass e.g. top-2-box shares
        instead. Splits at the mean importance and the mean performance across drivers;
        ``quadrant`` is one of *concentrate here* (important, weak), *keep up the good work*
        (important, strong), *low priority*, *possible overkill* (unimportant, strong).
        Importance has no sign: the ``beta`` column shows the direction of each driver.
        """
        perf = pd.Series(performance if performance is not None else self.performance)
        out = pd.DataFrame(
            {
                "driver": self.table["driver"],
                "beta": self.table["beta"].to_numpy() if "beta" in self.table else np.nan,
                "importance": self.table[self.share_column].to_numpy(),
                "performance": perf.reindex(self.table["driver"]).to_numpy(dtype=float),
            }
        )
        imp_cut, perf_cut = out["importance"].mean(), out["performance"].mean()
        out["quadrant"] = [
            QUADRANTS[(bool(i > imp_cut), bool(p > perf_cut))]
            for i, p in zip(out["importance"], out["performance"], strict=True)
        ]
        out.attrs["importance_cut"], out.attrs["performance_cut"] = imp_cut, perf_cut
        return out

    def plot(self, kind: str = "importance", **kwargs: Any):
        """``kind="importance"``: horizontal bars of each driver's share of R² with its
        bootstrap interval; ``kind="quadrant"``: the importance-performance matrix.
        Returns a matplotlib ``Figure``."""
        import matplotlib.pyplot as plt

        if kind == "quadrant":
            return self._plot_quadrant(plt, **kwargs)
        if kind != "importance":
            raise ValueError(f"kind must be 'importance' or 'quadrant'; got {kind!r}")
        t = self.table.iloc[::-1]
        share = t[self.share_column].to_numpy(dtype=float)
        fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(t) + 1.4), **kwargs)
        ax.barh(t["driver"].astype(str), share, color="#4C72B0")
        si = self.share_intervals
        if si is not None:
            ci = si.set_index("driver").reindex(t["driver"])
            low = ci[f"{self.share_column}_low"].to_numpy(dtype=float)
            high = ci[f"{self.share_column}_high"].to_numpy(dtype=float)
            if np.isfinite(low).any():
                err = np.vstack([np.clip(share - low, 0, None), np.clip(high - share, 0, None)])
                ax.errorbar(share, np.arange(len(t)), xerr=err, fmt="none", ecolor="black",
                            capsize=3)  # fmt: skip
        label = "LMG" if self.measure == "lmg" else "relative weight"
        ax.set_xlabel(f"share of R² ({label})")
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.set_title(self._heading().replace(", missing", "\nmissing"), fontsize=9)
        fig.tight_layout()
        return fig

    def _plot_quadrant(self, plt, performance=None, **kwargs: Any):
        q = self.quadrant(performance)
        fig, ax = plt.subplots(figsize=(6.4, 4.8), **kwargs)
        ax.scatter(q["performance"], q["importance"], color="#4C72B0")
        for row in q.itertuples(index=False):
            ax.annotate(str(row.driver), (row.performance, row.importance), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")  # fmt: skip
        ax.axvline(q.attrs["performance_cut"], color="grey", lw=0.8, ls="--")
        ax.axhline(q.attrs["importance_cut"], color="grey", lw=0.8, ls="--")
        ax.set_xlabel("performance (mean score)")
        ax.set_ylabel("importance (share of R²)")
        ax.set_title(f"Importance vs performance: {self.info.get('outcome', '')}")
        fig.tight_layout()
        return fig
