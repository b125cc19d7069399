"""Difference-in-differences: two-way fixed effects OLS with clustered standard errors.

:func:`diff_in_diff` estimates the effect of a 0/1 ``treated`` indicator (1 for treated units
in treated periods) by OLS of the outcome on ``treated``, optional covariates, and unit and
time fixed effects. It works on panels (one row per unit and period) and on repeated cross
sections (many rows per unit and period, where ``unit`` is a group such as a region).

Standard errors (``se``):

- ``"cluster"`` (default): clustered by ``cluster`` (default: the unit column), Stata's CR1
  small-sample factor ``G / (G - 1) * (N - 1) / (N - K)`` with a t distribution on ``G - 1``
  degrees of freedom. ``K`` counts the intercept, treated, the covariates and the fixed
  effects not nested in the clusters, as Stata's ``xtreg, fe vce(cluster)``);
- ``"hc1"``: heteroskedasticity-robust, ``N / (N - K)`` factor, t with ``N - K`` df;
- ``"classical"``: homoskedastic OLS, t with ``N - K`` df (``K`` = rank of the full design).

When treated units start in different periods (staggered adoption) the TWFE coefficient is a
weighted average of 2x2 comparisons, some of which use already-treated units as controls
(Goodman-Bacon 2021): a :class:`StaggeredAdoptionWarning` is raised and, on a balanced panel
without covariates, the decomposition is attached (see :mod:`cjm_core.stats.did_bacon`).

Example::

    >>> import pandas as pd
    >>> panel = pd.DataFrame({
    ...     "store": [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "week": [1, 2] * 4,
    ...     "sales": [10, 12, 11, 13, 9, 14, 10, 16],
    ...     "treated": [0, 0, 0, 0, 0, 1, 0, 1],
    ... })
    >>> r = diff_in_diff(panel, outcome="sales", unit="store", time="week", treated="treated")
    >>> r.estimate, r.n["units"], r.df
    (3.5, 4, 3.0)
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import StudyError
from .did_fit import (
    FEW_CLUSTERS,
    check_binary,
    check_design,
    check_frame,
    check_se,
    codes,
    coefficient_table,
    describe_se,
    switches_off,
    treatment_starts,
    twfe_fit,
)
from .result import Estimate, _check_alpha, _fmt

if TYPE_CHECKING:
    from .did_bacon import BaconResult


class StaggeredAdoptionWarning(UserWarning):
    """Treated units start treatment in different periods: TWFE may be biased."""


@dataclass(frozen=True, eq=False)
class DiDResult(Estimate):
    """A difference-in-differences estimate (the coefficient of ``treated``).

    ``n`` counts ``observations``, ``units``, ``periods``, ``treated_units``,
    ``treated_observations`` and (clustered SEs) ``clusters``. ``coefficients`` lists
    treated and every covariate; ``group_means``/``group_counts`` are the 2x2 table of raw
    outcome means and row counts when there are two periods and treatment starts in the
    second; ``bacon`` is the Goodman-Bacon decomposition under staggered adoption.
    """

    alpha: float = 0.05
    df: float | None = None
    se_type: str = "cluster"
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    group_means: pd.DataFrame | None = None
    group_counts: pd.DataFrame | None = None
    staggered: bool = False
    bacon: BaconResult | None = None
    statistic_name: str = "t"
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row: method, estimate, CI, p-value, statistic, SE, df and the counts."""
        row: dict[str, Any] = {
            **self.headline(),
            "df": self.df if self.df is not None else np.nan,
        }
        row.update({f"n_{k}": v for k, v in self.n.items()})
        row["alpha"] = self.alpha
        row["significant"] = self.significant
        return pd.DataFrame([row])

    def summary(self) -> str:
        """A few lines of text: method, counts, estimate with CI, t and p, 2x2 means, notes."""
        pct = f"{1 - self.alpha:.0%}"
        lines = [self.method, "  " + ", ".join(f"{k}: {v}" for k, v in self.n.items())]
        lines.append(
            f"  DiD estimate = {self.estimate:.4g}, {pct} CI [{self.ci_low:.4g}, "
            f"{self.ci_high:.4g}], SE = {self.std_error:.4g}"
        )
        verdict = "significant" if self.significant else "not significant"
        lines.append(
            f"  t = {self.statistic:.4g}, df = {self.df:.4g}, p-value = {self.p_value:.4g} "
            f"({verdict} at alpha = {self.alpha:g})"
        )
        for term, row in self.coefficients.iloc[1:].iterrows():
            lines.append(f"  {term}: {row['estimate']:.4g} (SE {row['std_error']:.4g})")
        if self.group_means is not None:
            lines.append("  outcome means:")
            lines.extend("    " + s for s in self.group_means.round(4).to_string().splitlines())
        if self.bacon is not None:
            lines.append("  Goodman-Bacon decomposition:")
            lines.extend("    " + s for s in self.bacon.by_type.round(4).to_string().splitlines())
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self.to_frame().iloc[0].items()
            if k != "method"
        )
        parts = [f"<div><strong>{html.escape(self.method)}</strong><table>{rows}</table>"]
        if len(self.coefficients) > 1:
            parts.append(self.coefficients.to_html(float_format="{:.4g}".format))
        if self.group_means is not None:
            parts.append(self.group_means.to_html(float_format="{:.4g}".format))
        if self.bacon is not None:
            parts.append(self.bacon.by_type.to_html(float_format="{:.4g}".format))
        parts.extend(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return "".join(parts) + "</div>"

    def __repr__(self) -> str:
        return (
            f"DiDResult(estimate={self.estimate:.4g}, ci=[{self.ci_low:.4g}, "
            f"{self.ci_high:.4g}], p={self.p_value:.4g}, n={self.n})"
        )


def _group_tables(
    y: np.ndarray,
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    d: np.ndarray,
    periods: pd.Index,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Raw 2x2 table of means and counts (two periods, treatment only in the second)."""
    if periods.size != 2 or d[time_codes == 0].any():
        return None
    ever = np.bincount(unit_codes, weights=d) > 0
    group = np.where(ever[unit_codes], "treated", "comparison")
    frame = pd.DataFrame({"group": group, "period": periods[time_codes], "y": y})
    means = frame.pivot_table(index="group", columns="period", values="y", aggfunc="mean")
    counts = frame.pivot_table(index="group", columns="period", values="y", aggfunc="size")
    means = means.reindex(["comparison", "treated"])
    counts = counts.reindex(["comparison", "treated"]).fillna(0).astype(int)
    if means.isna().any().any():
        return None
    means.columns = [str(c) for c in means.columns]
    counts.columns = [str(c) for c in counts.columns]
    means["change"] = means.iloc[:, 1] - means.iloc[:, 0]
    means.loc["treated - comparison"] = means.loc["treated"] - means.loc["comparison"]
    means.index.name = counts.index.name = None
    means.columns.name = counts.columns.name = None
    return means, counts


def diff_in_diff(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    cluster: str | None = None,
    se: str = "cluster",
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> DiDResult:
    """Two-way fixed effects DiD: OLS of ``outcome`` on ``treated`` + covariates + unit and
    time effects; the estimate is the coefficient of ``treated``.

    - ``treated``: 0/1 column, 1 for treated units in treated periods;
    - ``se="cluster"`` (default) clusters by ``cluster`` (default: ``unit``) with Stata's CR1
      factor ``G/(G-1) * (N-1)/(N-K)`` and t on ``G - 1`` df (K: intercept, treated,
      covariates and the fixed effects not nested in the clusters); ``se="hc1"`` gives
      heteroskedasticity-robust HC1 and ``se="classical"`` homoskedastic OLS errors, both
      with t on ``N - K`` df (K = rank of the full dummy design);
    - repeated cross sections: pass the group (e.g. region) as ``unit``; with few groups,
      cluster on a finer column or use ``se="hc1"``/``"classical"``;
    - missing values raise an error with their count and rows (nothing dropped silently);
      units never observed untreated raise an error;
    - staggered starts warn (:class:`StaggeredAdoptionWarning`) and, on a balanced panel
      without covariates, attach the Goodman-Bacon decomposition as ``bacon``.

    Example (Wooldridge's Example 13.4 has the same structure: group as unit)::

        >>> import pandas as pd
        >>> d = pd.DataFrame({"g": [0, 0, 0, 0, 1, 1, 1, 1], "t": [0, 0, 1, 1] * 2,
        ...                   "y": [1.0, 2.0, 2.0, 3.0, 2.0, 3.0, 5.0, 6.0],
        ...                   "d": [0, 0, 0, 0, 0, 0, 1, 1]})
        >>> r = diff_in_diff(d, outcome="y", unit="g", time="t", treated="d", se="classical")
        >>> r.estimate, round(r.std_error, 4)
        (2.0, 1.0)
        >>> float(r.group_means.loc["treated - comparison", "change"])
        2.0
    """
    alpha = _check_alpha(alpha)
    se = check_se(se, cluster)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    roles = {"outcome": outcome, "unit": unit, "time": time, "treated": treated}
    roles.update({f"covariate {c!r}": c for c in covariates})
    if cluster is not None and cluster not in roles.values():
        roles["cluster"] = cluster
    cov_roles = [f"covariate {c!r}" for c in covariates]
    frame = check_frame(data, roles, ["outcome", "treated", *cov_roles])
    d = check_binary(frame, "treated", treated)
    y = frame["outcome"].to_numpy(dtype=float)
    unit_codes, unit_values = codes(frame["unit"])
    time_codes, periods = codes(frame["time"])
    check_design(unit_codes, time_codes, d, unit_values, roles)
    if np.ptp(y) == 0:
        raise StudyError(f"Column {outcome!r} (outcome) has the same value on every row.")
    cluster_codes = None  # None: cluster by unit
    if cluster is not None and cluster != unit:
        role = next(r for r, c in roles.items() if c == cluster)
        cluster_codes = codes(frame[role])[0]

    x = np.column_stack([d, *(frame[r].to_numpy(dtype=float) for r in cov_roles)])
    names = ["treated", *covariates]
    labels = [f"column {treated!r} (treated)", *(f"covariate {c!r}" for c in covariates)]
    fit = twfe_fit(y, unit_codes, time_codes, x, names, se=se, cluster=cluster_codes, labels=labels)
    table = coefficient_table(fit, alpha)
    table.index = [treated, *covariates]
    est = table.iloc[0]

    notes: list[str] = []
    n = {
        "observations": fit.n_obs,
        "units": fit.n_units,
        "periods": fit.n_periods,
        "treated_units": int((np.bincount(unit_codes, weights=d) > 0).sum()),
        "treated_observations": int(d.sum()),
    }
    if fit.n_clusters is not None:
        n["clusters"] = fit.n_clusters
        if fit.n_clusters < FEW_CLUSTERS:
            notes.append(
                f"only {fit.n_clusters} clusters: cluster-robust SEs are unreliable with few "
                "clusters; cluster on a finer column or use se='hc1'/'classical' (e.g. for "
                "repeated cross sections with unit = group)"
            )
    cells = pd.Series(1, index=pd.MultiIndex.from_arrays([unit_codes, time_codes]))
    per_cell = cells.groupby(level=[0, 1]).size()
    if per_cell.max() > 1:
        notes.append(
            f"up to {per_cell.max()} rows per unit and period: treated as repeated cross "
            "sections (unit = group)"
        )
    elif per_cell.size < fit.n_units * fit.n_periods:
        missing = fit.n_units * fit.n_periods - per_cell.size
        notes.append(f"unbalanced panel: {missing} unit-period cell(s) have no row")
    starts = treatment_starts(unit_codes, time_codes, d)
    switch_off = switches_off(unit_codes, time_codes, d, starts)
    if switch_off:
        notes.append(
            f"treatment switches off again for {switch_off} unit(s): not an absorbing "
            "treatment, so the estimate is a plain TWFE coefficient rather than a standard DiD"
        )

    staggered = starts.nunique() > 1
    bacon = None
    if staggered:
        first = sorted({str(periods[c]) for c in starts.unique()})
        message = (
            f"treated units start in {starts.nunique()} different periods ({', '.join(first)}): "
            "staggered adoption. The TWFE estimate is a weighted average of 2x2 comparisons, "
            "some using already-treated units as controls (Goodman-Bacon 2021); with effects "
            "that change over time it can be biased, even of the wrong sign. See "
            "result.bacon and consider event_study()."
        )
        warnings.warn(message, StaggeredAdoptionWarning, stacklevel=2)
        notes.append(message)
        bacon, why = _maybe_bacon(frame, covariates, switch_off, per_cell, fit)
        if why:
            notes.append(f"Goodman-Bacon decomposition not computed: {why}")

    tables = _group_tables(y, unit_codes, time_codes, d, periods)
    where = "unit" if cluster is None else repr(cluster)
    return DiDResult(
        estimate=float(est["estimate"]),
        ci_low=float(est["ci_low"]),
        ci_high=float(est["ci_high"]),
        p_value=float(est["p_value"]),
        statistic=float(est["statistic"]),
        std_error=float(est["std_error"]),
        method="Difference-in-differences (two-way fixed effects OLS), " + describe_se(se, where),
        n=n,
        alpha=alpha,
        df=fit.df,
        se_type=se,
        coefficients=table,
        group_means=None if tables is None else tables[0],
        group_counts=None if tables is None else tables[1],
        staggered=bool(staggered),
        bacon=bacon,
        notes=tuple(notes),
    )


def _maybe_bacon(
    frame: pd.DataFrame, covariates: list[str], switch_off: int, per_cell: pd.Series, fit: Any
) -> tuple[BaconResult | None, str]:
    from .did_bacon import _decompose

    if covariates:
        return None, "it is exact only without covariates"
    if switch_off:
        return None, "treatment must stay on once it starts"
    if per_cell.max() > 1 or per_cell.size < fit.n_units * fit.n_periods:
        return None, "it needs a balanced panel (one row per unit and period)"
    return _decompose(frame), ""
