"""Event study: leads and lags of treatment in a two-way fixed effects regression.

:func:`event_study` regresses the outcome on unit and time effects plus one dummy per period
relative to each unit's first treated period (``time - treat_time``), leaving out the
``reference`` period (default -1, the last period before treatment). Leads (negative
relative periods) test parallel pre-trends; lags (0, 1, ...) trace the effect over time.
Relative periods beyond ``-leads`` and ``lags`` are binned into the end points. Never-treated
units (``treat_time`` missing) have all dummies at 0. Standard errors as in
:func:`cjm_core.stats.did.diff_in_diff` (clustered by unit with CR1 by default).

The pre-trend test is the Wald test that all lead coefficients are 0, reported as
``F = W / q`` on ``(q, G - 1)`` degrees of freedom with clustered errors (Stata ``test``
after ``vce(cluster)``), ``(q, N - K)`` otherwise. The headline ``estimate`` is the average
of the lag coefficients (0 ... ``lags``) with its standard error from the covariance matrix.

Example::

    >>> import pandas as pd
    >>> rows = [(u, t) for u in range(4) for t in range(1, 6)]
    >>> df = pd.DataFrame(rows, columns=["unit", "week"])
    >>> df["start"] = df["unit"].map({0: None, 1: None, 2: 3, 3: 4})
    >>> df["y"] = df["unit"] + 0.5 * df["week"] + ((df["week"] >= df["start"]) * 2.0)
    >>> df.loc[[0, 6, 12, 18], "y"] += 0.1  # a little noise
    >>> es = event_study(df, outcome="y", unit="unit", time="week", treat_time="start",
    ...                  leads=2, lags=1, se="classical")
    >>> es.coefficients.index.tolist()
    [-2, -1, 0, 1]
    >>> round(es.estimate, 2)  # true effect 2 at lags 0 and 1
    2.07
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import StudyError
from .did_fit import (
    FEW_CLUSTERS,
    check_design,
    check_frame,
    check_se,
    codes,
    coefficient_table,
    describe_se,
    twfe_fit,
)
from .result import Estimate, _check_alpha, _fmt


@dataclass(frozen=True, eq=False)
class EventStudyResult(Estimate):
    """Lead and lag coefficients, the pre-trend test and the average post-treatment effect.

    ``coefficients`` (also ``to_frame()``) is indexed by relative period with columns
    ``estimate, std_error, statistic, p_value, ci_low, ci_high, n_obs``; the reference
    period has estimate 0 and no SE. ``estimate``/``std_error``/``ci_*``/``p_value`` refer to
    the average of the lag coefficients; ``pretrend_*`` to the joint test of the leads.
    """

    coefficients: pd.DataFrame
    pretrend_statistic: float
    pretrend_p_value: float
    pretrend_df: tuple[float, float]
    reference: int = -1
    alpha: float = 0.05
    df: float | None = None
    vcov: pd.DataFrame = field(default_factory=pd.DataFrame)
    statistic_name: str = "t"
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table, one row per relative period (reference row included)."""
        return self.coefficients.copy()

    def summary(self) -> str:
        pct = f"{1 - self.alpha:.0%}"
        lines = [self.method, "  " + ", ".join(f"{k}: {v}" for k, v in self.n.items())]
        lines.append(
            f"  average effect over lags 0..{int(self.coefficients.index.max())} = "
            f"{self.estimate:.4g}, {pct} CI [{self.ci_low:.4g}, {self.ci_high:.4g}], "
            f"p-value = {self.p_value:.4g}"
        )
        q, df2 = self.pretrend_df
        lines.append(
            f"  pre-trend test (all leads = 0): F({q:g}, {df2:g}) = "
            f"{self.pretrend_statistic:.4g}, p-value = {self.pretrend_p_value:.4g}"
        )
        cols = ["estimate", "std_error", "ci_low", "ci_high", "p_value", "n_obs"]
        table = self.coefficients[cols].round(4).to_string()
        lines.extend("    " + s for s in table.splitlines())
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        q, df2 = self.pretrend_df
        head = (
            f"<div><strong>{html.escape(self.method)}</strong><p>average effect over lags = "
            f"{html.escape(_fmt(self.estimate))} [{html.escape(_fmt(self.ci_low))}, "
            f"{html.escape(_fmt(self.ci_high))}], p = {html.escape(_fmt(self.p_value))}; "
            f"pre-trend F({q:g}, {df2:g}) = {html.escape(_fmt(self.pretrend_statistic))}, "
            f"p = {html.escape(_fmt(self.pretrend_p_value))}</p>"
        )
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return head + self.coefficients.to_html(float_format="{:.4g}".format) + notes + "</div>"

    def plot(self, ax: Any = None, title: str | None = None) -> Any:
        """Coefficients with their confidence intervals against relative period.

        Draws on ``ax`` when given, else on a new figure; returns the matplotlib Figure.
        """
        if ax is None:
            from matplotlib.figure import Figure

            ax = Figure(figsize=(7, 4)).add_subplot()
        c = self.coefficients
        x = c.index.to_numpy(dtype=float)
        est = c["estimate"].to_numpy()
        err = np.nan_to_num(np.vstack([est - c["ci_low"], c["ci_high"] - est]))
        ax.errorbar(x, est, yerr=err, fmt="o", capsize=3, color="C0")
        ax.axhline(0, color="grey", linewidth=1)
        ax.axvline(self.reference + 0.5, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("period relative to treatment start")
        ax.set_ylabel(f"effect ({1 - self.alpha:.0%} CI)")
        ax.set_xticks(x)
        ax.set_title(title or f"Event study (pre-trend p = {self.pretrend_p_value:.3g})")
        return ax.figure

    def __repr__(self) -> str:
        return (
            f"EventStudyResult(average effect={self.estimate:.4g}, "
            f"pre-trend p={self.pretrend_p_value:.4g}, periods={len(self.coefficients)})"
        )


def _relative_time(frame: pd.DataFrame, start: pd.Series, time: str, treat_time: str) -> Any:
    """Relative period of each row (NaN for never-treated units)."""
    t = frame["time"]
    if pd.api.types.is_numeric_dtype(t) and t.dtype != bool:
        tv = t.to_numpy(dtype=float)
        sv = pd.to_numeric(start, errors="coerce").to_numpy(dtype=float)
        if np.isnan(sv[start.notna().to_numpy()]).any():
            raise StudyError(f"Column {treat_time!r} (treat_time) must be numeric like {time!r}.")
        for name, v in ((time, tv), (treat_time, sv)):
            if (v[~np.isnan(v)] % 1 != 0).any():
                raise StudyError(f"Column {name!r} must hold whole numbers (periods).")
        return tv - sv
    periods = pd.Index(sorted(t.unique()))
    observed = start.dropna()
    unknown = ~observed.isin(periods)
    if unknown.any():
        raise StudyError(
            f"Column {treat_time!r} (treat_time) holds values that are not periods of "
            f"{time!r}: {sorted(set(observed[unknown].astype(str)))[:5]}. With non-numeric "
            "periods, each start must be one of the observed periods."
        )
    pos = pd.Series(np.arange(periods.size, dtype=float), index=periods)
    return pos[t].to_numpy() - start.map(pos).to_numpy(dtype=float)


def _window(value: int | None, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise StudyError(f"{name} must be a whole number >= 0; got {value!r}.")
    return int(value)


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treat_time: str,
    leads: int | None = None,
    lags: int | None = None,
    reference: int = -1,
    cluster: str | None = None,
    se: str = "cluster",
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> EventStudyResult:
    """Event-study TWFE regression with leads ``-leads..-1`` and lags ``0..lags``.

    - ``treat_time``: each unit's first treated period (same scale as ``time``; missing for
      never-treated units); it must be constant within a unit. Numeric periods are
      subtracted (``time - treat_time``); other periods count steps between observed periods;
    - ``leads``/``lags`` default to the full observed range; relative periods outside the
      window are binned into its end points; ``reference`` (default -1) is left out;
    - ``se``/``cluster`` as in :func:`~cjm_core.stats.did.diff_in_diff` (CR1 clustered by
      unit by default, t and F on ``G - 1`` denominator df);
    - returns the coefficient table, a joint Wald F pre-trend test of the leads, the average
      lag effect (headline estimate) and ``plot()``.

    Example::

        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": [1] * 4 + [2] * 4 + [3] * 4, "t": [1, 2, 3, 4] * 3,
        ...                    "y": [1, 2, 3, 4, 2, 3, 6, 7.5, 0, 1, 2, 3.5],
        ...                    "start": [None] * 4 + [3] * 4 + [None] * 4})
        >>> es = event_study(df, outcome="y", unit="u", time="t", treat_time="start",
        ...                  se="classical")
        >>> es.coefficients.loc[[0, 1], "estimate"].round(2).tolist()
        [2.0, 2.25]
    """
    alpha = _check_alpha(alpha)
    se = check_se(se, cluster)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    roles = {"outcome": outcome, "unit": unit, "time": time}
    roles.update({f"covariate {c!r}": c for c in covariates})
    if cluster is not None and cluster not in roles.values():
        roles["cluster"] = cluster
    cov_roles = [f"covariate {c!r}" for c in covariates]
    frame = check_frame(
        data, {**roles, "treat_time": treat_time}, ["outcome", *cov_roles], ["treat_time"]
    )
    start = frame["treat_time"]
    unit_codes, unit_values = codes(frame["unit"])
    time_codes, periods = codes(frame["time"])
    varying = start.groupby(unit_codes).nunique(dropna=False) > 1
    if varying.any():
        bad = [repr(v) for v in unit_values[varying[varying].index.to_numpy()][:5]]
        raise StudyError(
            f"Column {treat_time!r} (treat_time) must be constant within each unit; it varies "
            f"for {int(varying.sum())} unit(s): {', '.join(bad)}."
        )
    rel = _relative_time(frame, start, time, treat_time)
    ever = ~np.isnan(rel)
    if not ever.any():
        raise StudyError(f"Column {treat_time!r} (treat_time) is missing for every unit.")
    d = np.where(ever & (rel >= 0), 1.0, 0.0)
    check_design(
        unit_codes,
        time_codes,
        d,
        unit_values,
        {**roles, "treated": treat_time},
        f"treatment (rows with {time!r} >= {treat_time!r})",
    )
    lo, hi = int(np.nanmin(rel)), int(np.nanmax(rel))
    leads = _window(leads, max(-lo, 0), "leads")
    lags = _window(lags, max(hi, 0), "lags")
    if not -leads <= reference <= lags:
        raise StudyError(
            f"reference={reference} lies outside the window of relative periods "
            f"[-{leads}, {lags}]; choose leads/lags that include it."
        )
    binned = np.clip(rel, -leads, lags)
    events = [e for e in range(-leads, lags + 1) if e != reference]
    columns, counts = [], {}
    for e in range(-leads, lags + 1):
        hit = ever & (binned == e)
        counts[e] = int(hit.sum())
        if e == reference:
            continue
        if not hit.any():
            raise StudyError(
                f"No treated-unit observation at relative period {e}; narrow leads/lags."
            )
        columns.append(hit.astype(float))
    x = np.column_stack([*columns, *(frame[r].to_numpy(dtype=float) for r in cov_roles)])
    labels = [f"relative period {e}" for e in events] + [f"covariate {c!r}" for c in covariates]
    cluster_codes = None  # None: cluster by unit
    if cluster is not None and cluster != unit:
        role = next(r for r, c in roles.items() if c == cluster)
        cluster_codes = codes(frame[role])[0]
    y = frame["outcome"].to_numpy(dtype=float)
    try:
        fit = twfe_fit(
            y, unit_codes, time_codes, x, [*events, *covariates], se=se,
            cluster=cluster_codes, labels=labels,
        )  # fmt: skip
    except StudyError as exc:
        if (~ever).any():
            raise
        raise StudyError(
            f"{exc} Without never-treated units the relative-period dummies and the time "
            "effects overlap: use fewer leads/lags (binning the end points) or add "
            "never-treated units."
        ) from None
    table = coefficient_table(fit, alpha).iloc[: len(events)]
    table.index = events
    table.loc[reference] = [0.0, np.nan, np.nan, np.nan, np.nan, np.nan]
    table = table.sort_index()
    table["n_obs"] = [counts[e] for e in table.index]
    table.index.name = "relative_period"

    notes: list[str] = []
    vcov = fit.vcov[: len(events), : len(events)]
    lead_idx = [i for i, e in enumerate(events) if e < 0]
    q = len(lead_idx)
    f_stat = f_p = np.nan
    if q == 0:
        notes.append("no leads besides the reference period: no pre-trend test")
    else:
        b = fit.coef[lead_idx]
        v = vcov[np.ix_(lead_idx, lead_idx)]
        if np.linalg.matrix_rank(v) < q:
            notes.append(
                f"pre-trend test undefined: {q} leads but the covariance of the leads has rank "
                f"{np.linalg.matrix_rank(v)} (too few clusters); use fewer leads"
            )
        else:
            f_stat = float(b @ np.linalg.solve(v, b)) / q
            f_p = float(sps.f.sf(f_stat, q, fit.df))
    lag_idx = [i for i, e in enumerate(events) if e >= 0]
    w = np.zeros(len(events))
    w[lag_idx] = 1 / len(lag_idx) if lag_idx else 0.0
    avg = float(w @ fit.coef[: len(events)])
    avg_se = float(np.sqrt(w @ vcov @ w))
    t_avg = avg / avg_se if avg_se > 0 else np.nan
    half = sps.t.ppf(1 - alpha / 2, fit.df) * avg_se
    n = {
        "observations": fit.n_obs,
        "units": fit.n_units,
        "periods": fit.n_periods,
        "treated_units": int(np.unique(unit_codes[ever]).size),
        "never_treated_units": int(fit.n_units - np.unique(unit_codes[ever]).size),
    }
    if fit.n_clusters is not None:
        n["clusters"] = fit.n_clusters
        if fit.n_clusters < FEW_CLUSTERS:
            notes.append(f"only {fit.n_clusters} clusters: cluster-robust SEs are unreliable")
    outside = int((ever & ((rel < -leads) | (rel > lags))).sum())
    if outside:
        notes.append(f"{outside} treated-unit observation(s) outside the window were binned")
    where = "unit" if cluster is None else repr(cluster)
    return EventStudyResult(
        estimate=avg,
        ci_low=avg - half,
        ci_high=avg + half,
        p_value=float(2 * sps.t.sf(abs(t_avg), fit.df)) if avg_se > 0 else np.nan,
        statistic=float(t_avg),
        std_error=avg_se,
        method="Event study (two-way fixed effects OLS, leads and lags), " + describe_se(se, where),
        n=n,
        coefficients=table,
        pretrend_statistic=f_stat,
        pretrend_p_value=f_p,
        pretrend_df=(float(q), fit.df),
        reference=reference,
        alpha=alpha,
        df=fit.df,
        vcov=pd.DataFrame(vcov, index=events, columns=events),
        notes=tuple(notes),
    )
