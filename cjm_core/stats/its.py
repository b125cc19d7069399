"""Interrupted time series: segmented regression with Newey-West (HAC) standard errors.

Model (one row per period, ``time`` = 0, 1, ... in periods, ``t0`` = first post period)::

    y = b0 + b1 * time + b2 * post + b3 * (time - t0) * post  [+ month-of-year dummies]

``b2`` is the **level change** (the jump at the first post period, where the post-period line
and the extrapolated pre-period line differ by exactly ``b2``) and ``b3`` the **slope change**
per period. The counterfactual is the fitted line with ``b2 = b3 = 0``.

Standard errors are Newey-West (Bartlett kernel) without small-sample correction by default,
as statsmodels ``OLS(...).fit(cov_type="HAC", cov_kwds={"maxlags": L})`` and Wooldridge's
textbook formula; ``small_sample=True`` multiplies the covariance by ``n / (n - k)`` (Stata's
``newey``). Simulation shows that Newey-West t-tests over-reject badly at ITS sizes (AR(1)
errors, phi 0.3-0.5, 60-100 periods: 12-20% false positives at alpha 0.05, whatever the lag or
t/normal reference), so by default p-values and intervals use a parametric bootstrap of the
HAC t-statistic under AR(1) errors (``reference="bootstrap"``, see :func:`_bootstrap_t`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal
from scipy import stats as sps

from ..errors import StudyError
from .result import _check_alpha, html_block

MIN_PRE, MIN_POST = 3, 3
FEW_PERIODS = 8  # fewer than this in a segment earns a note


# -- input checks shared with sts.py -------------------------------------------------------


def _as_series(series: Any, date_column: str, value_column: str, name: str = "series"):
    """A float Series on a sorted, regular DatetimeIndex, and the frequency label."""
    if isinstance(series, pd.DataFrame):
        missing = [c for c in (date_column, value_column) if c not in series.columns]
        if missing:
            raise StudyError(
                f"{name} is a DataFrame without column(s) {missing}; it has "
                f"{list(series.columns)}. Pass date_column= and value_column=."
            )
        series = pd.Series(series[value_column].to_numpy(), index=series[date_column])
    if not isinstance(series, pd.Series):
        raise StudyError(f"{name} must be a pandas Series indexed by dates (or a DataFrame).")
    index = series.index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp()
    if not isinstance(index, pd.DatetimeIndex):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                index = pd.DatetimeIndex(pd.to_datetime(index))
        except (TypeError, ValueError):
            raise StudyError(
                f"The index (dates) of {name} could not be read as dates, e.g. "
                f"{list(index[:3])!r}; index the series by dates."
            ) from None
    if index.hasnans:
        raise StudyError(f"{name} has {int(index.isna().sum())} missing date(s) (NaT).")
    values = pd.to_numeric(pd.Series(series.to_numpy()), errors="coerce").to_numpy(float)
    bad = np.isnan(values) & series.notna().to_numpy()
    if bad.any():
        raise StudyError(
            f"{name} holds non-numeric values, e.g. {list(series[bad][:3])!r} on "
            f"{[str(d.date()) for d in index[bad][:3]]}; convert them to numbers."
        )
    nan = np.isnan(values)
    if nan.any():
        raise StudyError(
            f"{name} holds {int(nan.sum())} missing value(s) (NaN) out of {values.size}, "
            f"e.g. on {[str(d.date()) for d in index[nan][:3]]}; nothing is dropped "
            "silently: impute or remove them (a time series must stay regular)."
        )
    if np.isinf(values).any():
        raise StudyError(f"{name} holds {int(np.isinf(values).sum())} infinite value(s).")
    if index.has_duplicates:
        dups = sorted({str(d.date()) for d in index[index.duplicated()]})
        raise StudyError(
            f"{name} has duplicated dates ({len(dups)}), e.g. {dups[:3]}; aggregate to "
            "one value per period first."
        )
    out = pd.Series(values, index=index, name=series.name).sort_index()
    return out, _frequency(out.index, name)


def _naive(index: pd.DatetimeIndex) -> np.ndarray:
    """The instants as numpy datetimes (UTC for aware indexes)."""
    return (index.tz_convert(None) if index.tz is not None else index).to_numpy()


def _frequency(index: pd.DatetimeIndex, name: str) -> str:
    """The regular spacing of ``index`` ("daily", "monthly", ...) or a StudyError on gaps."""
    if index.size < 3:
        raise StudyError(f"{name} needs at least 3 periods; got {index.size}.")
    steps = np.diff(_naive(index))
    if (steps == steps[0]).all():
        step = pd.Timedelta(steps[0])
        named = {1: "daily", 7: "weekly"}.get(step.days) if step.seconds == 0 else None
        return named or f"every {step}"
    if (index.day_of_week < 5).all() and steps.max() <= np.timedelta64(4, "D"):
        missing = pd.bdate_range(index[0], index[-1]).difference(index)
        if missing.size == 0:
            return "business-daily"
        raise StudyError(
            f"{name} is business-daily with {missing.size} missing day(s), e.g. "
            f"{[str(d.date()) for d in missing[:3]]}; fill them so the series is regular."
        )
    for code, label in (("M", "monthly"), ("Q", "quarterly"), ("Y", "yearly")):
        periods = index.to_period(code)
        ordinal = periods.asi8
        if (np.diff(ordinal) == 1).all():
            return label
        if (np.diff(ordinal) >= 1).all() and np.median(np.diff(ordinal)) == 1:
            full = pd.period_range(periods[0], periods[-1], freq=code)
            gaps = full.difference(periods)
            raise StudyError(
                f"{name} is {label} with {gaps.size} missing period(s), e.g. "
                f"{[str(p) for p in gaps[:3]]}; fill them (e.g. with 0 for counts) so the "
                "series is regular."
            )
    common = pd.Timedelta(pd.Series(steps).mode()[0])
    expected = pd.date_range(index[0], index[-1], freq=common)
    gaps = expected.difference(index)
    detail = (
        f"{gaps.size} missing date(s), e.g. {[str(d) for d in gaps[:3]]}"
        if (index.isin(expected).all())
        else "irregular spacing between dates"
    )
    raise StudyError(
        f"{name} is not a regular series (most steps are {common}): {detail}. Use regular "
        "periods (daily, weekly, monthly...) without gaps."
    )


def _split(index: pd.DatetimeIndex, intervention: Any, min_pre: int, min_post: int) -> int:
    """Position of the first post period: the first date on or after ``intervention``."""
    try:
        when = pd.Timestamp(intervention)
    except (TypeError, ValueError):
        raise StudyError(f"intervention must be a date; got {intervention!r}.") from None
    if when.tzinfo is not None and index.tz is None:
        when = when.tz_localize(None)
    elif when.tzinfo is None and index.tz is not None:
        when = when.tz_localize(index.tz)
    t0 = int(index.searchsorted(when, side="left"))
    first, last = index[0].date(), index[-1].date()
    if t0 < min_pre or index.size - t0 < min_post:
        where = "outside" if t0 in (0, index.size) else "too close to an end of"
        raise StudyError(
            f"intervention {when.date()} is {where} the series ({first} to {last}): it leaves "
            f"{t0} pre-intervention and {index.size - t0} post-intervention period(s); at "
            f"least {min_pre} before and {min_post} after are needed."
        )
    return t0


# -- Newey-West ----------------------------------------------------------------------------


def default_lags(n: int) -> int:
    """Newey-West (1994) rule used by statsmodels: ``floor(4 * (n / 100) ** (2 / 9))``.

    >>> default_lags(60), default_lags(100), default_lags(200)
    (3, 4, 4)
    """
    return int(math.floor(4 * (n / 100) ** (2 / 9)))


def newey_west_cov(X: np.ndarray, resid: np.ndarray, lags: int, small_sample: bool = False):
    """Newey-West covariance ``B S B`` with ``B = (X'X)^-1`` and Bartlett weights.

    ``S = sum_t u_t^2 x_t x_t' + sum_{l=1..L} (1 - l/(L+1)) sum_t u_t u_{t-l}
    (x_t x_{t-l}' + x_{t-l} x_t')``; times ``n / (n - k)`` when ``small_sample``.
    """
    scores = X * resid[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        gamma = scores[lag:].T @ scores[:-lag]
        meat += (1 - lag / (lags + 1)) * (gamma + gamma.T)
    bread = np.linalg.inv(X.T @ X)
    n, k = X.shape
    return bread @ meat @ bread * (n / (n - k) if small_sample else 1.0)


def _nw_var_columns(v: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West variance of a sum, column by column (``v``: influence x residual)."""
    total = (v**2).sum(0)
    for lag in range(1, lags + 1):
        total = total + 2 * (1 - lag / (lags + 1)) * (v[lag:] * v[:-lag]).sum(0)
    return total


def _ar1(phi: float, shocks: np.ndarray) -> np.ndarray:
    """Stationary AR(1) series (unit innovation variance) along axis 0."""
    e = np.array(shocks.T, dtype=float, order="C")
    e[..., 0] /= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e, axis=-1).T


def _lag1(resid: np.ndarray) -> np.ndarray:
    return (resid[1:] * resid[:-1]).sum(0) / (resid[:-1] ** 2).sum(0)


def _bootstrap_t(X, resid, lags, cols, n_boot, seed):
    """|t| draws of the HAC t-statistics under AR(1) errors with a bias-corrected phi.

    1. phi-hat = lag-1 autocorrelation of the OLS residuals;
    2. phi is bias-corrected by simulation: the phi whose residual phi-hat averages phi-hat
       on this design (200 series, common random numbers, bisection on [-0.95, 0.95]);
    3. ``n_boot`` AR(1) series are fitted by the same regression and their HAC t-statistics
       (true value 0) recorded; each series draws its phi from N(corrected phi, (1 - phi^2) / n)
       (clipped to +-0.95) so that the uncertainty of phi is carried into the critical value.
       The t-statistic does not depend on the error variance or on the coefficients, so phi
       is the only nuisance parameter.
    Returns (|t| draws of shape (n_boot, len(cols)), phi-hat, corrected phi).
    """
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    bread = np.linalg.inv(X.T @ X)
    influence = X @ bread
    maker = np.eye(n) - X @ bread @ X.T
    phi_hat = float(np.clip(_lag1(resid), -0.95, 0.95))
    crn = rng.standard_normal((n, 200))

    def mean_phi(phi: float) -> float:
        return float(np.mean(_lag1(maker @ _ar1(phi, crn))))

    lo, hi = -0.95, 0.95
    if mean_phi(hi) <= phi_hat:
        phi = hi
    elif mean_phi(lo) >= phi_hat:
        phi = lo
    else:
        for _ in range(20):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if mean_phi(mid) < phi_hat else (lo, mid)
        phi = (lo + hi) / 2
    phis = np.clip(phi + math.sqrt((1 - phi**2) / n) * rng.standard_normal(n_boot), -0.95, 0.95)
    shocks = rng.standard_normal((n, n_boot))
    errors = np.empty_like(shocks)
    errors[0] = shocks[0] / np.sqrt(1 - phis**2)
    for t in range(1, n):
        errors[t] = phis * errors[t - 1] + shocks[t]
    coef = influence.T @ errors
    res = maker @ errors
    draws = np.empty((n_boot, len(cols)))
    for i, j in enumerate(cols):
        se = np.sqrt(_nw_var_columns(influence[:, [j]] * res, lags))
        draws[:, i] = np.abs(coef[j] / se)
    return draws, phi_hat, phi


# -- result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """One estimated effect: estimate, confidence interval, p-value, standard error."""

    name: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    statistic: float

    def as_row(self) -> dict[str, Any]:
        return {"effect": self.name} | {k: v for k, v in asdict(self).items() if k != "name"}


@dataclass(frozen=True, eq=False)
class ITSResult:
    """Segmented-regression ITS. ``estimate`` (and its CI, p-value, SE) is the level change.

    ``series`` has one row per period: observed, fitted, counterfactual (pre-period line
    extended), effect (fitted - counterfactual = b2 + b3 * periods since) and its HAC SE.
    """

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    std_error: float
    method: str
    n: Mapping[str, int]
    alpha: float
    level_change: Effect
    slope_change: Effect
    coefficients: pd.DataFrame
    series: pd.DataFrame
    autocorrelation: Mapping[str, float]
    hac_lags: int
    reference: str
    intervention: pd.Timestamp
    frequency: str
    notes: tuple[str, ...] = field(default=())

    @property
    def significant(self) -> bool:
        return bool(self.p_value < self.alpha)

    def to_frame(self) -> pd.DataFrame:
        """Two rows (level change, slope change) with estimate, CI, p-value and SE."""
        frame = pd.DataFrame([self.level_change.as_row(), self.slope_change.as_row()])
        frame.insert(0, "method", self.method)
        frame["n_pre"], frame["n_post"] = self.n["pre"], self.n["post"]
        frame["alpha"] = self.alpha
        return frame

    def summary(self) -> str:
        pct = f"{1 - self.alpha:.0%}"
        ac = self.autocorrelation
        lines = [
            self.method,
            f"  periods: {self.n['pre']} before and {self.n['post']} from "
            f"{self.intervention.date()} on ({self.frequency} data)",
        ]
        for eff, unit in ((self.level_change, ""), (self.slope_change, " per period")):
            lines.append(
                f"  {eff.name}{unit} = {eff.estimate:.4g}, {pct} CI [{eff.ci_low:.4g}, "
                f"{eff.ci_high:.4g}], SE {eff.std_error:.4g}, p-value = {eff.p_value:.4g}"
            )
        lines.append(
            f"  residuals: Durbin-Watson {ac['durbin_watson']:.3g}, lag-1 autocorrelation "
            f"{ac['lag1']:.3g}, Ljung-Box p = {ac['ljung_box_p']:.3g} "
            f"({int(ac['ljung_box_lags'])} lags)"
        )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = (
            self.to_frame()
            .drop(columns="method")
            .to_html(index=False, float_format=lambda v: f"{v:.4g}")
        )
        return html_block(self.method, table, self.notes)

    def __repr__(self) -> str:
        return (
            f"ITSResult(level_change={self.estimate:.4g}, ci=[{self.ci_low:.4g}, "
            f"{self.ci_high:.4g}], p={self.p_value:.4g}, slope_change="
            f"{self.slope_change.estimate:.4g}, n=(pre={self.n['pre']}, post={self.n['post']}))"
        )

    def plot(self, ax=None):
        """Matplotlib figure: observed points, fitted and counterfactual lines, intervention."""
        from matplotlib.figure import Figure

        fig = ax.figure if ax is not None else Figure(figsize=(8, 4))
        ax = ax if ax is not None else fig.add_subplot()
        s = self.series
        post = s["period"] == "post"
        ax.plot(s.index, s["observed"], "o", ms=3, color="0.4", label="observed")
        ax.plot(s.index, s["fitted"], color="C0", label="fitted")
        ax.plot(
            s.index[post],
            s["counterfactual"][post],
            "--",
            color="C1",
            label="counterfactual (no intervention)",
        )
        ax.axvline(self.intervention, color="0.2", lw=1, ls=":", label="intervention")
        ax.set_title(
            f"Level change {self.estimate:.3g}, slope change "
            f"{self.slope_change.estimate:.3g} per period"
        )
        ax.legend(loc="best", fontsize="small")
        return fig


# -- the analysis --------------------------------------------------------------------------


def interrupted_time_series(
    series: pd.Series | pd.DataFrame,
    intervention: Any,
    *,
    seasonality: str | None = None,
    hac_lags: int | None = None,
    alpha: float = 0.05,
    reference: str = "bootstrap",
    small_sample: bool = False,
    n_boot: int = 1999,
    seed: int = 0,
    date_column: str = "date",
    value_column: str = "value",
) -> ITSResult:
    """Segmented regression of a regular time series around an intervention date.

    - ``series``: a Series indexed by dates, or a DataFrame with ``date_column`` and
      ``value_column``; regular periods (daily, weekly, monthly, ...); gaps, duplicated dates,
      NaN or non-numeric values raise :class:`StudyError`. At least 3 periods before and 3
      from the intervention on (fewer than 8 in a segment earns a note).
    - ``intervention``: the first period dated on or after it is the first post period.
    - ``seasonality="month"``: month-of-year dummies; needs 24 months of data or more.
    - ``hac_lags``: Newey-West lags, default ``floor(4 * (n / 100) ** (2 / 9))``.
    - Newey-West standard errors (Bartlett kernel), without small-sample correction unless
      ``small_sample=True`` (then times ``n / (n - k)``).
    - ``reference``: ``"bootstrap"`` (default: parametric AR(1) bootstrap of the HAC
      t-statistic, ``n_boot`` draws, ``seed``), ``"t"`` (Student t, n - k df) or ``"normal"``.
      Plain Newey-West t-tests over-reject at ITS sizes (see the module docstring).
    - ``estimate`` is the level change ``b2``; ``slope_change`` holds ``b3`` per period.

    Example::

        >>> dates = pd.date_range("2020-01-01", periods=40, freq="D")
        >>> t = np.arange(40)
        >>> y = pd.Series(10 + 0.5 * t + 4 * (t >= 20) + 0.25 * np.maximum(t - 20, 0), dates)
        >>> r = interrupted_time_series(y, "2020-01-21")
        >>> round(r.estimate, 6), round(r.slope_change.estimate, 6), r.n
        (4.0, 0.25, {'pre': 20, 'post': 20})
    """
    alpha = _check_alpha(alpha)
    if reference not in ("bootstrap", "t", "normal"):
        raise StudyError(f"reference must be 'bootstrap', 't' or 'normal'; got {reference!r}.")
    if seasonality not in (None, "month"):
        raise StudyError(f"seasonality must be 'month' or None; got {seasonality!r}.")
    y, freq = _as_series(series, date_column, value_column)
    index, n = y.index, y.size
    t0 = _split(index, intervention, MIN_PRE, MIN_POST)
    time = np.arange(n, dtype=float)
    post = (time >= t0).astype(float)
    columns = {
        "intercept": np.ones(n),
        "time": time,
        "level_change": post,
        "slope_change": post * (time - t0),
    }
    notes: list[str] = []
    if seasonality == "month":
        if freq in ("quarterly", "yearly") or np.diff(_naive(index)).max() > np.timedelta64(
            31, "D"
        ):
            raise StudyError(f"seasonality='month' needs monthly or finer data; got {freq}.")
        months = index.to_period("M").unique().size
        if months < 24:
            raise StudyError(
                f"seasonality='month' needs at least 24 months of data (each calendar month "
                f"seen twice); the series covers {months}. Use seasonality=None."
            )
        month = index.month.to_numpy()
        for m in sorted(set(month))[1:]:
            columns[f"month_{m}"] = (month == m).astype(float)
    X = np.column_stack(list(columns.values()))
    k = X.shape[1]
    if n - k < 2 or np.linalg.matrix_rank(X) < k:
        raise StudyError(f"Too few periods ({n}) for the {k} model terms; use a longer series.")
    lags = default_lags(n) if hac_lags is None else hac_lags
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or not 0 <= lags < n - 1:
        raise StudyError(f"hac_lags must be a whole number from 0 to {n - 2}; got {hac_lags!r}.")

    beta, *_ = np.linalg.lstsq(X, y.to_numpy(), rcond=None)
    fitted = X @ beta
    resid = y.to_numpy() - fitted
    cov = newey_west_cov(X, resid, lags, small_sample)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    exact = float(resid @ resid) <= 1e-20 * max(float(y.to_numpy() @ y.to_numpy()), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(se > 0, beta / se, np.nan)
    effects = []
    ac = _autocorrelation(resid, n)
    boot = None
    if reference == "bootstrap" and not exact:
        boot, phi_hat, phi = _bootstrap_t(X, resid, lags, [2, 3], n_boot, seed)
        method_ref = f"AR(1) bootstrap reference (phi {phi_hat:.2f}, bias-corrected {phi:.2f})"
        if phi >= 0.9:
            notes.append(
                f"residual autocorrelation is very strong (phi about {phi:.2f}): the series may "
                "wander rather than follow two straight lines; treat the estimates with care"
            )
    else:
        method_ref = {"t": f"t reference ({n - k} df)", "normal": "normal reference"}.get(
            reference, "exact fit"
        )
    for i, (j, name) in enumerate(((2, "level change"), (3, "slope change"))):
        if exact:
            crit, p = 0.0, math.nan
        elif boot is not None:
            crit = float(np.quantile(boot[:, i], 1 - alpha))
            p = float((1 + np.sum(boot[:, i] >= abs(tstat[j]))) / (n_boot + 1))
        elif reference == "t":
            crit = float(sps.t.ppf(1 - alpha / 2, n - k))
            p = float(2 * sps.t.sf(abs(tstat[j]), n - k))
        else:
            crit = float(sps.norm.ppf(1 - alpha / 2))
            p = float(2 * sps.norm.sf(abs(tstat[j])))
        effects.append(
            Effect(
                name,
                float(beta[j]),
                float(beta[j] - crit * se[j]),
                float(beta[j] + crit * se[j]),
                p,
                float(se[j]),
                float(tstat[j]),
            )
        )
    if exact:
        notes.append(
            "the model fits the series exactly (no residual noise): standard errors "
            "are zero and p-values undefined"
        )
    if min(t0, n - t0) < FEW_PERIODS:
        notes.append(
            f"few periods ({t0} before, {n - t0} after): estimates rest on short "
            "segments; 8 or more on each side are advisable"
        )
    if not exact and ac["ljung_box_p"] < 0.05:
        notes.append(
            f"residuals remain autocorrelated (Ljung-Box p = {ac['ljung_box_p']:.3g}, lag-1 "
            f"r = {ac['lag1']:.2f}): HAC standard errors allow for it, but on short series "
            "they are too small on their own; the bootstrap reference corrects for AR(1)-type "
            "dependence. Unmodelled seasonality or a non-linear trend can also cause it."
        )

    counter = X.copy()
    counter[:, 2:4] = 0
    gap = X[:, 2:4]
    frame = pd.DataFrame(
        {
            "observed": y.to_numpy(),
            "fitted": fitted,
            "counterfactual": counter @ beta,
            "effect": gap @ beta[2:4],
            "effect_se": np.sqrt(np.einsum("ij,jk,ik->i", gap, cov[2:4, 2:4], gap)),
            "period": np.where(post > 0, "post", "pre"),
        },
        index=index,
    )
    coefs = pd.DataFrame(
        {"estimate": beta, "std_error": se, "statistic": tstat}, index=list(columns)
    )
    level, slope = effects
    return ITSResult(
        estimate=level.estimate,
        ci_low=level.ci_low,
        ci_high=level.ci_high,
        p_value=level.p_value,
        statistic=level.statistic,
        std_error=level.std_error,
        method=f"Interrupted time series (segmented OLS, Newey-West SE with {lags} lag(s)"
        f"{', small-sample corrected' if small_sample else ''}; {method_ref})",
        n={"pre": t0, "post": n - t0},
        alpha=alpha,
        level_change=level,
        slope_change=slope,
        coefficients=coefs,
        series=frame,
        autocorrelation=ac,
        hac_lags=lags,
        reference=reference,
        intervention=index[t0],
        frequency=freq,
        notes=tuple(notes),
    )


def _autocorrelation(resid: np.ndarray, n: int) -> dict[str, float]:
    """Durbin-Watson, lag-1 autocorrelation and Ljung-Box (min(10, n // 5) lags)."""
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.stats.stattools import durbin_watson

    lags = max(1, min(10, n // 5))
    ss = float(resid @ resid)
    if ss <= 0:
        return {
            "durbin_watson": math.nan,
            "lag1": math.nan,
            "ljung_box_stat": math.nan,
            "ljung_box_p": math.nan,
            "ljung_box_lags": float(lags),
        }
    lb = acorr_ljungbox(resid, lags=[lags])
    return {
        "durbin_watson": float(durbin_watson(resid)),
        "lag1": float(resid[1:] @ resid[:-1] / ss),
        "ljung_box_stat": float(lb["lb_stat"].iloc[0]),
        "ljung_box_p": float(lb["lb_pvalue"].iloc[0]),
        "ljung_box_lags": float(lags),
    }


__all__ = ["ITSResult", "Effect", "interrupted_time_series", "newey_west_cov", "default_lags"]
