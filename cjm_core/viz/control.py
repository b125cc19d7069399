"""KPI control charts: does a journey KPI move beyond its usual period-to-period variation?

- :func:`control_chart`: from canonical events (conversion of journeys, mean wait or
  duration at a touchpoint) or feedback (mean CSAT / CES, NPS in points) per period;
- :func:`control_chart_from_counts`: from a ready table, ``period, successes, n``
  (a p-chart) or ``period, mean, sd, n`` (an X-bar chart).

Charts (Montgomery, *Introduction to Statistical Quality Control*, ch. 6-7):

- p-chart: ``p̄ = Σ successes / Σ n`` over the baseline; limits ``p̄ ± 3·sqrt(p̄(1-p̄)/n_i)``
  clipped to [0, 1];
- X-bar chart: ``x̄ = Σ n_i·mean_i / Σ n_i`` over the baseline; limits ``x̄ ± 3·σ̂/sqrt(n_i)``
  with ``σ̂ = sqrt(Σ (n_i-1)·sd_i² / Σ (n_i-1))``, the pooled within-period standard
  deviation of the baseline (no c4 bias correction); NPS scores each answer +100 / 0 / -100
  (promoter / passive / detractor) and charts their mean, the NPS in points.

Signals (Western Electric rules, on ``z_i = (value_i - centre) / σ_i``; empty periods are
skipped, so "consecutive" means consecutive observed periods): rule 1 a point beyond the
3-sigma limits; rule 2 the 8th (and each later) point of a run on one side of the centre;
rule 3 a point beyond 2 sigma when one of the two points before it is beyond 2 sigma on the
same side (2 of 3). The table: period, n, value, centre, lcl, ucl, signal ("" when none),
baseline (True for the periods that estimated centre and limits).

Example::

    >>> import pandas as pd
    >>> counts = pd.DataFrame({"period": ["w1", "w2", "w3", "w4"],
    ...                        "successes": [10, 15, 20, 5], "n": [100, 100, 200, 50]})
    >>> chart = control_chart_from_counts(counts, kpi="conversion")
    >>> round(chart.info["centre"], 4), [round(u, 4) for u in chart.to_frame()["ucl"][:2]]
    (0.1111, [0.2054, 0.2054])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..results import AnalysisResult
from .control_checks import bad_rows, baseline_periods, check_period, naive
from .control_data import (
    conversion_counts,
    duration_counts,
    need_columns,
    score_counts,
)

RUN = 8  # Western Electric rule 2: points in a row on one side of the centre line
KPIS = {  # kpi -> (source table, chart kind, label)
    "conversion": ("events", "p", "Conversion rate of journeys"),
    "wait_time": ("events", "mean", "Mean wait time (s)"),
    "duration": ("events", "mean", "Mean duration (s)"),
    "csat": ("feedback", "mean", "Mean CSAT score"),
    "ces": ("feedback", "mean", "Mean CES score"),
    "nps": ("feedback", "nps", "NPS (points)"),
}
CHART = {"p": "p-chart", "mean": "X-bar chart", "nps": "X-bar chart"}
RULES = {1: "beyond 3σ", 2: f"run of {RUN}", 3: "2 of 3 beyond 2σ"}


class ControlChart(AnalysisResult):
    """One row per period: period, n, value, centre, lcl, ucl, signal, baseline.

    ``info`` holds kpi, chart, period, touchpoint, centre, sigma (σ̂ of one observation;
    X-bar charts only), baseline (its description) and signals (count).
    ``plot()`` draws the chart as a matplotlib Figure.
    """

    title = "Control chart"

    def __init__(self, table: pd.DataFrame, notes=(), **info: Any):
        self.label = info.pop("label", info.get("kpi", "KPI"))
        super().__init__(table, notes, **info)
        where = f" at {info['touchpoint']}" if info.get("touchpoint") else ""
        self.title = f"{self.label}{where}: {info.get('chart', 'control chart')}"

    @property
    def signals(self) -> pd.DataFrame:
        """The rows with a signal."""
        return self.table[self.table["signal"] != ""].reset_index(drop=True)

    def plot(self, **kwargs: Any):
        """The chart: points (red with their rule numbers where a rule fires), the centre
        line, 3-sigma limits stepped per period, the baseline shaded. ``kwargs`` go to the
        line joining the points."""
        from .control_plot import draw

        return draw(self, **kwargs)


def control_chart(
    data: Any,
    kpi: str = "conversion",
    *,
    period: str = "W",
    touchpoint: str | None = None,
    baseline: str | int | None = None,
    catalog: Any = None,
    gap: str | pd.Timedelta | float | None = None,
) -> ControlChart:
    """A control chart of a journey KPI per period (see the module docstring for the rules).

    :param data: canonical events (kpi ``conversion``, ``wait_time``, ``duration``) or
        feedback (``csat``, ``ces``, ``nps``) as a DataFrame, or a DataBundle (the right
        table is taken). For a table of counts use :func:`control_chart_from_counts`.
    :param kpi: ``conversion`` (share of journeys converting; journeys from
        :func:`cjm_core.build_journeys` with ``gap``, each in the period of its start; with
        ``touchpoint``, only journeys visiting it): p-chart. ``wait_time`` / ``duration``
        (mean ``duration_s`` of the events at ``touchpoint``, all events without one),
        ``csat`` / ``ces`` (mean score of that metric's answers, at ``touchpoint`` if
        given), ``nps`` (NPS in points): X-bar charts. Periods by event / answer timestamp.
    :param period: a pandas period code ("D", "W" = Monday to Sunday, "M", "Q"...), in UTC.
    :param baseline: the periods that estimate centre and limits: ``"YYYY-MM-DD..YYYY-MM-DD"``
        (periods starting in that range, either end may be left open) or a number of first
        periods; default all periods.
    :param catalog: passed to ``build_journeys``; names the touchpoint in the title.
    :returns: :class:`ControlChart`; periods from the first to the last timestamp of the
        table, those without data kept with n = 0 and NaN values (a note counts them).

    Example::

        >>> import pandas as pd
        >>> ev = pd.DataFrame({"customer_id": list("abcd"), "touchpoint": ["call"] * 4,
        ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-08",
        ...                                  "2024-01-09"], utc=True),
        ...     "event_type": ["interaction"] * 4, "duration_s": [60.0, 120.0, 90.0, 30.0]})
        >>> t = control_chart(ev, "wait_time", touchpoint="call").to_frame()
        >>> t["value"].tolist(), float(t["centre"][0])
        ([90.0, 60.0], 75.0)
    """
    if kpi not in KPIS:
        raise CjmError(f"Unknown kpi {kpi!r}; choose one of: {', '.join(KPIS)}.")
    source, kind, label = KPIS[kpi]
    check_period(period)
    from ..engine import catalog_of

    catalog = catalog_of(data, catalog)
    table = data.table(source) if hasattr(data, "table") and hasattr(data, "catalog") else data
    if not isinstance(table, pd.DataFrame) or table.empty:
        what = f"{len(table)} rows" if isinstance(table, pd.DataFrame) else type(table).__name__
        raise CjmError(f"control_chart needs a pandas DataFrame of {source}; got {what}.")
    if {"period", "n"} <= set(table.columns):
        raise CjmError("This table holds counts per period: use control_chart_from_counts().")
    need_columns(table, ["timestamp"] + (["touchpoint"] if touchpoint else []), source)
    if touchpoint is not None and not (table["touchpoint"] == touchpoint).any():
        known = sorted(map(str, table["touchpoint"].dropna().unique()))
        in_catalog = catalog is not None and touchpoint in {tp.id for tp in catalog.touchpoints}
        raise CjmError(
            f"Touchpoint {touchpoint!r} is not in the {source} (column 'touchpoint')"
            + (" although the catalog defines it" if in_catalog else "")
            + f"; touchpoints there: {', '.join(known[:12])}{'...' if len(known) > 12 else ''}."
        )
    notes: list[str] = []
    stamps = pd.to_datetime(table["timestamp"], utc=True)
    periods = pd.period_range(naive(stamps.min()), naive(stamps.max()), freq=period)
    if kpi == "conversion":
        counts = conversion_counts(table, periods, touchpoint, catalog, gap, notes)
    elif source == "events":
        counts = duration_counts(table, periods, touchpoint, notes)
    else:
        counts = score_counts(table, periods, kpi, touchpoint, notes)
    name = touchpoint
    if touchpoint and catalog is not None and touchpoint in {tp.id for tp in catalog.touchpoints}:
        name = f"{catalog.touchpoint(touchpoint).name} ({touchpoint})"
    return _build(
        counts,
        "p" if kind == "p" else "mean",
        baseline,
        notes,
        kpi=kpi,
        label=label,
        period=period,
        touchpoint=name,
    )


def control_chart_from_counts(
    table: pd.DataFrame, *, kpi: str = "KPI", baseline: str | int | None = None
) -> ControlChart:
    """A control chart from counts per period: columns ``period, successes, n`` give a
    p-chart, ``period, mean, sd, n`` an X-bar chart (``sd`` with ddof = 1; NaN allowed where
    n < 2). Rows keep their order unless ``period`` holds dates or pandas Periods (then
    sorted); rows with n = 0 are kept with NaN values. ``kpi`` labels the chart;
    ``baseline`` as in :func:`control_chart` (a date range needs date-like periods).

    Example::

        >>> import pandas as pd
        >>> t = pd.DataFrame({"period": [1, 2, 3], "mean": [10.0, 12.0, 11.0],
        ...                   "sd": [2.0, 3.0, 1.0], "n": [5, 10, 4]})
        >>> c = control_chart_from_counts(t)
        >>> c.info["sigma"], round(c.info["centre"], 3)
        (2.5, 11.263)
    """
    if not isinstance(table, pd.DataFrame):
        raise CjmError(f"table must be a pandas DataFrame; got {type(table).__name__}.")
    if {"successes"} <= set(table.columns):
        kind, needed = "p", ["period", "successes", "n"]
    else:
        kind, needed = "mean", ["period", "mean", "sd", "n"]
    need_columns(
        table,
        needed,
        "counts table (proportions: period, successes, n; means: period, mean, sd, n)",
    )
    counts = table[needed].copy()
    if counts["period"].duplicated().any():
        dup = counts.loc[counts["period"].duplicated(), "period"].tolist()[:5]
        raise CjmError(f"Column 'period' repeats periods {dup}; give one row per period.")
    if isinstance(counts["period"].dtype, pd.PeriodDtype | pd.DatetimeTZDtype) or (
        pd.api.types.is_datetime64_dtype(counts["period"])
    ):
        counts = counts.sort_values("period", kind="stable")
    n = pd.to_numeric(counts["n"], errors="coerce")
    bad_rows(
        counts,
        (n.isna() | (n < 0) | (n != n.round())).to_numpy(),
        "n",
        "a whole number of observations, 0 or more",
    )
    counts["n"] = n.astype("int64")
    if kind == "p":
        s = pd.to_numeric(counts["successes"], errors="coerce")
        bad = s.isna() | (s < 0) | (s > counts["n"]) | (s != s.round())
        bad_rows(counts, bad.to_numpy(), "successes", "a whole number between 0 and n")
        counts["successes"] = s.astype("int64")
    else:
        for column in ("mean", "sd"):
            counts[column] = pd.to_numeric(counts[column], errors="coerce").astype(float)
        bad = (counts["n"] > 0) & counts["mean"].isna()
        bad |= (counts["n"] > 1) & ~(counts["sd"] >= 0)
        bad_rows(
            counts,
            bad.to_numpy(),
            "mean/sd",
            "a mean where n > 0 and a standard deviation >= 0 where n > 1",
        )
    return _build(counts, kind, baseline, [], kpi=kpi, label=kpi, period=None, touchpoint=None)


# -- the chart --------------------------------------------------------------------------------


def _build(counts: pd.DataFrame, kind: str, baseline, notes: list[str], **info) -> ControlChart:
    n = counts["n"].to_numpy(dtype=float)
    base, base_text = baseline_periods(counts["period"], baseline)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "p":
            succ = counts["successes"].to_numpy(dtype=float)
            value = np.where(n > 0, succ / n, np.nan)
            centre = succ[base].sum() / n[base].sum() if n[base].sum() else np.nan
            sigma_hat = math.nan
            sigma = np.where(n > 0, np.sqrt(centre * (1 - centre) / n), np.nan)
            est = (
                f"p-chart: centre = Σ successes / Σ n over the baseline = {centre:.4g}; "
                "limits centre ± 3·sqrt(centre·(1-centre)/n_i), clipped to [0, 1]"
            )
        else:
            mean, sd = counts["mean"].to_numpy(float), counts["sd"].to_numpy(float)
            value = np.where(n > 0, mean, np.nan)
            used = base & (n > 0)
            centre = (n[used] * mean[used]).sum() / n[used].sum() if used.any() else np.nan
            df = base & (n > 1)
            dof = (n[df] - 1).sum()
            sigma_hat = math.sqrt(((n[df] - 1) * sd[df] ** 2).sum() / dof) if dof else math.nan
            sigma = np.where(n > 0, sigma_hat / np.sqrt(n), np.nan)
            est = (
                f"X-bar chart: centre = the mean of all baseline observations = {centre:.4g}; "
                f"σ̂ = pooled within-period sd sqrt(Σ(n_i-1)·sd_i² / Σ(n_i-1)) = "
                f"{sigma_hat:.4g} on {int(dof)} df (no c4 correction); limits centre ± "
                "3·σ̂/sqrt(n_i)"
            )
        if not np.isfinite(centre) or (kind != "p" and not np.isfinite(sigma_hat)):
            raise CjmError(
                f"The baseline ({base_text}) has no data to estimate the centre line and sigma"
                " (an X-bar chart needs a period with n >= 2 there); widen the baseline."
            )
        lcl, ucl = centre - 3 * sigma, centre + 3 * sigma
        if kind == "p":
            lcl, ucl = np.clip(lcl, 0, 1), np.clip(ucl, 0, 1)
        diff = value - centre
        z = np.where(diff == 0, 0.0, diff / sigma)
    signal = _signals(z)
    table = pd.DataFrame(
        {
            "period": counts["period"].to_numpy(),
            "n": n.astype("int64"),
            "value": value,
            "centre": np.full(len(n), centre),
            "lcl": lcl,
            "ucl": ucl,
            "signal": signal,
            "baseline": base,
        }
    )
    empty = int((n == 0).sum())
    if empty:
        shown = ", ".join(str(p) for p in table.loc[n == 0, "period"][:5])
        notes.append(
            f"{empty} period(s) without data kept with NaN values: {shown}"
            + ("..." if empty > 5 else "")
        )
    notes += [
        est,
        f"baseline: {base_text}",
        f"signals: rule 1 {RULES[1]}, rule 2 {RULES[2]} on one side of the centre, rule 3 "
        f"{RULES[3]} on one side; {int((table['signal'] != '').sum())} period(s) flagged",
    ]
    info.update(
        chart=CHART[kind] if info.get("kpi") != "nps" else "X-bar chart (NPS points)",
        centre=float(centre),
        sigma=float(sigma_hat) if kind != "p" else None,
        baseline=base_text,
        signals=int((table["signal"] != "").sum()),
    )
    return ControlChart(table, notes, **{k: v for k, v in info.items() if v is not None})


def _signals(z: np.ndarray) -> list[str]:
    """The Western Electric rules 1-3 on standardised values (NaN = no data, skipped)."""
    out = [""] * len(z)
    seen = np.flatnonzero(~np.isnan(z))
    run, last_side = 0, 0
    for k, i in enumerate(seen):
        found, side = [], int(np.sign(z[i]))
        word = "above" if side > 0 else "below"
        if abs(z[i]) > 3:
            found.append("above UCL" if side > 0 else "below LCL")
        run = run + 1 if side != 0 and side == last_side else (1 if side else 0)
        last_side = side
        if run >= RUN:
            found.append(f"run of {run} {word} centre")
        before = z[seen[max(0, k - 2) : k]]
        if abs(z[i]) > 2 and (before * side > 2).any():
            found.append(f"2 of 3 beyond 2σ {word}")
        out[i] = "; ".join(found)
    return out
