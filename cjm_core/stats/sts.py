"""Structural time series (CausalImpact-style) before/after analysis.

A statsmodels ``UnobservedComponents`` model (local level, optional stochastic seasonal,
regression on control series with coefficients held as constant states) is fitted to the
pre-period only (post-period values are treated as missing). Its predictive distribution for
the post-period is the counterfactual; the effect is observed minus predicted.

How the intervals are obtained:

- For given variance parameters the joint predictive distribution of the post-period values
  is Gaussian; its full covariance ``C[i, j] = Z_j T^(j-i) P_i Z_i' + H 1[i = j]`` (``P_i`` the
  predicted state covariance, regression coefficients included as states) is computed exactly,
  so the variance of the cumulative sum includes every covariance between horizons.
- Uncertainty in the variance parameters is integrated over by importance sampling: flat prior
  on the standard deviations, two-stage folded Student-t(4) proposal around the maximum
  likelihood estimate. The predictive distribution is the weighted mixture of Gaussians;
  intervals are its quantiles (``seed`` fixes the draws).
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from ..errors import StudyError
from .its import Effect, effects_frame, effects_html
from .result import Estimate, _check_alpha
from .series_input import as_series, split_at


def _predictive(fr, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and full covariance of the observations at ``post`` given the data before."""
    h = post.size
    design = fr.design
    Z = design[0][:, post] if design.shape[2] > 1 else np.repeat(design[0], h, axis=1)
    T = fr.transition[:, :, 0]
    W = np.einsum("ijh,jh->ih", fr.predicted_state_cov[:, :, post], Z)  # P_i Z_i'
    C = np.zeros((h, h))
    for lag in range(h):
        if lag:
            W = T @ W
        vals = np.einsum("ih,ih->h", Z[:, lag:], W[:, : h - lag])
        idx = np.arange(h - lag)
        C[idx, idx + lag] = vals
        C[idx + lag, idx] = vals
    C[np.diag_indices(h)] += fr.obs_cov[0, 0, 0]
    return fr.forecasts[0, post], C


def _mixture_quantile(means, sds, weights, p: float) -> np.ndarray:
    """Quantile ``p`` of sum_d w_d N(means[d], sds[d]^2), column by column (bisection)."""
    lo = (means - 10 * sds).min(0)
    hi = (means + 10 * sds).max(0)
    for _ in range(60):
        mid = (lo + hi) / 2
        below = weights @ special.ndtr((mid - means) / sds) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return (lo + hi) / 2


def _posterior_draws(mod, res, n_draws: int, rng):
    """Variance-parameter draws (untransformed = standard deviations) and their weights."""
    from statsmodels.tools.numdiff import approx_hess

    u = np.abs(mod.untransform_params(res.params))
    k = u.size
    try:
        hess = approx_hess(u, lambda p: mod.loglike(p, transformed=False))
        w, V = np.linalg.eigh(-hess)
        scale = np.clip(1 / np.maximum(w, 1e-300), 1e-12, 4 * np.max(u**2) + 1e-12)
        cov = (V * scale) @ V.T
        if not np.isfinite(cov).all():
            raise np.linalg.LinAlgError
    except (np.linalg.LinAlgError, ValueError):
        cov = np.diag((0.3 * u + 1e-6) ** 2)
    signs = np.array(list(itertools.product([1.0, -1.0], repeat=k)))

    def folded_logpdf(dist, x):
        return special.logsumexp([dist.logpdf(s * x) for s in signs], axis=0)

    n1 = max(n_draws // 3, 20)
    n2 = max(n_draws - n1, 20)
    q1 = sps.multivariate_t(loc=u, shape=4 * cov, df=4, seed=rng)
    d1 = np.abs(q1.rvs(size=n1).reshape(n1, k))
    out1 = [_draw(mod, d) for d in d1]
    lw = np.array([o[0] for o in out1]) - folded_logpdf(q1, d1)
    w1 = np.exp(lw - lw.max())
    w1 /= w1.sum()
    mu = w1 @ d1
    c2 = (d1 - mu).T @ ((d1 - mu) * w1[:, None]) + 1e-10 * np.eye(k)
    q2 = sps.multivariate_t(loc=mu, shape=2 * c2, df=4, seed=rng)
    d2 = np.abs(q2.rvs(size=n2).reshape(n2, k))
    out = out1 + [_draw(mod, d) for d in d2]
    draws = np.vstack([d1, d2])
    logq = special.logsumexp(
        [np.log(n1) + folded_logpdf(q1, draws), np.log(n2) + folded_logpdf(q2, draws)], axis=0
    ) - np.log(n1 + n2)
    lw = np.array([o[0] for o in out]) - logq
    lw[~np.isfinite(lw)] = -np.inf
    if not np.isfinite(lw.max()):
        raise StudyError("The state-space model could not be evaluated on this series.")
    weights = np.exp(lw - lw.max())
    return weights / weights.sum(), [o[1:] for o in out]


def _draw(mod, params):
    """Log-likelihood and predictive moments for one draw of the variance parameters."""
    mod.update(params, transformed=False)
    fr = mod.ssm.filter()
    llf = float(fr.llf_obs[mod.ssm.loglikelihood_burn :].sum())
    post = np.flatnonzero(np.isnan(mod.endog[:, 0]))
    mean, C = _predictive(fr, post)
    cum_var = np.diag(C.cumsum(0).cumsum(1))
    return llf, mean, np.sqrt(np.diag(C)), np.sqrt(cum_var)


@dataclass(frozen=True, eq=False)
class STSResult(Estimate):
    """CausalImpact-style result; ``estimate`` (CI, p-value, SE) is the average effect.

    ``pointwise``: one row per period with observed, predicted (one-step-ahead before the
    intervention, counterfactual after) and its interval, effect = observed - predicted with
    interval, and the running cumulative effect with interval (post-period only).
    ``p_value`` is two-sided; ``tail_probability`` the one-sided one CausalImpact prints.
    """

    alpha: float
    average_effect: Effect
    cumulative_effect: Effect
    relative_effect: Effect
    tail_probability: float
    pointwise: pd.DataFrame
    coefficients: pd.DataFrame
    intervention: pd.Timestamp
    frequency: str
    effective_draws: float
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """Three rows: average, cumulative and relative effect."""
        effects = (self.average_effect, self.cumulative_effect, self.relative_effect)
        return effects_frame(self, effects)

    def summary(self) -> str:
        pct = f"{1 - self.alpha:.0%}"
        post = self.pointwise[self.pointwise["period"] == "post"]
        lines = [
            self.method,
            f"  periods: {self.n['pre']} before and {self.n['post']} from "
            f"{self.intervention.date()} on ({self.frequency} data)",
            f"  post-period average: observed {post['observed'].mean():.4g}, predicted "
            f"{post['predicted'].mean():.4g}",
        ]
        for e in (self.average_effect, self.cumulative_effect, self.relative_effect):
            lines.append(
                f"  {e.name} = {e.estimate:.4g}, {pct} interval [{e.ci_low:.4g}, {e.ci_high:.4g}]"
            )
        lines.append(
            f"  two-sided tail probability (p-value) = {self.p_value:.4g}; one-sided "
            f"(CausalImpact) = {self.tail_probability:.4g}"
        )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return effects_html(self)

    def __repr__(self) -> str:
        return (
            f"STSResult(average_effect={self.estimate:.4g}, ci=[{self.ci_low:.4g}, "
            f"{self.ci_high:.4g}], p={self.p_value:.4g}, n=(pre={self.n['pre']}, "
            f"post={self.n['post']}))"
        )

    def plot(self):
        """Three panels like CausalImpact: original, pointwise effect, cumulative effect."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 8))
        axes = fig.subplots(3, 1, sharex=True)
        p = self.pointwise
        x = p.index
        panels = (
            ("observed", "predicted", "predicted_low", "predicted_high", "original"),
            (None, "effect", "effect_low", "effect_high", "pointwise effect"),
            (None, "cumulative_effect", "cumulative_low", "cumulative_high", "cumulative"),
        )
        for ax, (obs, mid, low, high, title) in zip(axes, panels, strict=True):
            if obs:
                ax.plot(x, p[obs], color="black", lw=1, label="observed")
            ax.plot(x, p[mid], "--", color="C0", label=mid.replace("_", " "))
            ax.fill_between(x, p[low], p[high], color="C0", alpha=0.2, lw=0)
            if not obs:
                ax.axhline(0, color="0.5", lw=0.8)
            ax.axvline(self.intervention, color="0.3", ls=":", lw=1)
            ax.set_title(title, fontsize="small", loc="left")
        axes[0].legend(loc="best", fontsize="small")
        return fig


def _covariates(covariates, y_input, index, date_column) -> tuple[np.ndarray | None, list]:
    if covariates is None:
        return None, []
    if isinstance(covariates, list | tuple) and isinstance(y_input, pd.DataFrame):
        missing = [c for c in covariates if c not in y_input.columns]
        if missing:
            raise StudyError(f"covariates {missing} are not columns of the data frame.")
        covariates = y_input.set_index(date_column)[list(covariates)]
    if isinstance(covariates, pd.Series):
        covariates = covariates.to_frame(covariates.name or "x")
    if isinstance(covariates, pd.DataFrame):
        frame = covariates.copy()
        try:
            frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index))
        except (TypeError, ValueError):
            raise StudyError("covariates must be indexed by the dates of the series.") from None
        absent = index.difference(frame.index)
        if absent.size:
            raise StudyError(
                f"covariates lack {absent.size} date(s) of the series, e.g. "
                f"{[str(d.date()) for d in absent[:3]]}; every period needs control values."
            )
        frame = frame.loc[~frame.index.duplicated()].reindex(index)
    else:
        arr = np.asarray(covariates, dtype=object)
        arr = arr.reshape(len(arr), -1) if arr.ndim else arr
        if arr.ndim != 2 or arr.shape[0] != index.size:
            raise StudyError(f"covariates must have one row per period ({index.size}).")
        frame = pd.DataFrame(arr, index=index, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    values = frame.apply(pd.to_numeric, errors="coerce")
    nonnum = values.isna() & frame.notna()
    if nonnum.any().any():
        raise StudyError(
            f"covariates hold non-numeric values in {list(frame.columns[nonnum.any()])}."
        )
    if values.isna().any().any():
        counts = values.isna().sum()
        raise StudyError(f"covariates hold missing values (NaN): {counts[counts > 0].to_dict()}.")
    const = [c for c in values.columns if values[c].nunique() < 2]
    if const:
        raise StudyError(f"covariates {const} are constant: the local level already covers it.")
    return values.to_numpy(float), [str(c) for c in values.columns]


def structural_time_series(
    y: pd.Series | pd.DataFrame,
    intervention: Any,
    covariates: Any = None,
    *,
    seasonality: int | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    n_draws: int = 300,
    date_column: str = "date",
    value_column: str = "value",
) -> STSResult:
    """CausalImpact-style analysis: local level (+ seasonal, + control series) on the pre-period.

    - ``y``: a Series indexed by regular dates (or a DataFrame with ``date_column`` and
      ``value_column``); NaN, gaps, duplicated dates, non-numeric values raise StudyError.
    - ``covariates``: control series not affected by the intervention: a DataFrame/Series
      indexed by the same dates, an array with one row per period (date order), or column
      names of ``y`` when ``y`` is a DataFrame. Coefficients are constant states (flat prior).
    - ``seasonality``: periods per seasonal cycle (e.g. 7 for daily data, 12 for monthly).
    - Needs at least max(10, 2 * seasonality, number of covariates + 5) pre-periods and one
      post period.
    - ``estimate``: average post-period effect (observed - predicted); ``cumulative_effect`` the
      sum; ``p_value`` the two-sided posterior predictive tail probability of the sum.

    Example::

        >>> rng = np.random.default_rng(1)
        >>> y = pd.Series(50 + np.cumsum(rng.normal(0, .2, 60)) + rng.normal(0, 1, 60),
        ...               pd.date_range("2024-01-01", periods=60, freq="D"))
        >>> y.iloc[45:] += 5
        >>> r = structural_time_series(y, "2024-02-15")
        >>> r.n, bool(r.ci_low < 5 < r.ci_high), r.significant
        ({'pre': 45, 'post': 15}, True, True)
    """
    import statsmodels.api as sm

    alpha = _check_alpha(alpha)
    if seasonality is not None and (
        isinstance(seasonality, bool) or not isinstance(seasonality, int) or seasonality < 2
    ):
        raise StudyError(
            f"seasonality must be a whole number of periods >= 2; got {seasonality!r}."
        )
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 60:
        raise StudyError(f"n_draws must be a whole number >= 60; got {n_draws!r}.")
    series, freq = as_series(y, date_column, value_column, name="y")
    index, n = series.index, series.size
    X, names = _covariates(covariates, y, index, date_column)
    min_pre = max(10, 2 * (seasonality or 0), len(names) + 5)
    t0 = split_at(index, intervention, min_pre, 1)
    h = n - t0
    endog = series.to_numpy().copy()
    endog[t0:] = np.nan
    mod = sm.tsa.UnobservedComponents(
        endog, level="local level", seasonal=seasonality, exog=X, mle_regression=False
    )
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mod.fit(disp=False)
        if not res.mle_retvals.get("converged", True):
            notes.append("the likelihood optimiser did not report convergence")
        rng = np.random.default_rng(seed)
        weights, moments = _posterior_draws(mod, res, n_draws, rng)
    ess = float(1 / np.sum(weights**2))
    if ess < 30:
        notes.append(f"only {ess:.0f} effective posterior draws: raise n_draws")

    means, sds, cum_sds = (np.array([m[i] for m in moments]) for i in range(3))
    cum_means = means.cumsum(1)
    obs = series.to_numpy()[t0:]
    cum_obs = obs.cumsum()
    lo_p, hi_p = alpha / 2, 1 - alpha / 2
    pred = weights @ means
    pred_lo, pred_hi = (_mixture_quantile(means, sds, weights, q) for q in (lo_p, hi_p))
    cum_pred = weights @ cum_means
    cum_lo, cum_hi = (_mixture_quantile(cum_means, cum_sds, weights, q) for q in (lo_p, hi_p))
    total_sd = math.sqrt(
        weights @ (cum_sds[:, -1] ** 2 + cum_means[:, -1] ** 2) - cum_pred[-1] ** 2
    )
    cdf = float(weights @ special.ndtr((cum_obs[-1] - cum_means[:, -1]) / cum_sds[:, -1]))
    tail = min(cdf, 1 - cdf)
    p_value = min(1.0, 2 * tail)
    cum_est = float(cum_obs[-1] - cum_pred[-1])
    z = cum_est / total_sd
    cumulative = Effect(
        "cumulative effect",
        cum_est,
        float(cum_obs[-1] - cum_hi[-1]),
        float(cum_obs[-1] - cum_lo[-1]),
        p_value,
        total_sd,
        z,
    )
    average = Effect(
        "average effect",
        cum_est / h,
        cumulative.ci_low / h,
        cumulative.ci_high / h,
        p_value,
        total_sd / h,
        z,
    )
    pick = rng.choice(weights.size, size=4000, p=weights)
    totals = rng.normal(cum_means[pick, -1], cum_sds[pick, -1])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = cum_obs[-1] / totals - 1
    rel_lo, rel_hi = np.quantile(ratios, [lo_p, hi_p])
    relative = Effect(
        "relative effect",
        float(cum_obs[-1] / cum_pred[-1] - 1),
        float(rel_lo),
        float(rel_hi),
        p_value,
        math.nan,
        z,
    )
    if np.any(totals <= 0):
        notes.append(
            "the predicted total can be zero or negative: the relative effect is unreliable"
        )

    fr = res.filter_results
    pre_pred = fr.forecasts[0, :t0].copy()
    pre_sd = np.sqrt(fr.forecasts_error_cov[0, 0, :t0])
    pre_pred[: mod.k_states] = np.nan  # diffuse start: no meaningful one-step prediction
    zq = sps.norm.ppf(hi_p)
    nan_pre = np.full(t0, np.nan)
    predicted = np.concatenate([pre_pred, pred])
    p_low = np.concatenate([pre_pred - zq * pre_sd, pred_lo])
    p_high = np.concatenate([pre_pred + zq * pre_sd, pred_hi])
    observed = series.to_numpy()
    pointwise = pd.DataFrame(
        {
            "observed": observed,
            "predicted": predicted,
            "predicted_low": p_low,
            "predicted_high": p_high,
            "effect": observed - predicted,
            "effect_low": observed - p_high,
            "effect_high": observed - p_low,
            "cumulative_effect": np.concatenate([nan_pre, cum_obs - cum_pred]),
            "cumulative_low": np.concatenate([nan_pre, cum_obs - cum_hi]),
            "cumulative_high": np.concatenate([nan_pre, cum_obs - cum_lo]),
            "period": np.where(np.arange(n) >= t0, "post", "pre"),
        },
        index=index,
    )
    rows = {name: (float(v), math.nan) for name, v in zip(mod.param_names, res.params, strict=True)}
    k_reg = len(names)
    for i, name in enumerate(names):
        state = mod.k_states - k_reg + i
        rows[f"beta.{name}"] = (
            float(res.smoothed_state[state, t0 - 1]),
            float(np.sqrt(res.smoothed_state_cov[state, state, t0 - 1])),
        )
    coefficients = pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "std_error"])
    parts = ["local level"] + ([f"seasonal({seasonality})"] if seasonality else [])
    parts += [f"{k_reg} control series"] if k_reg else []
    return STSResult(
        estimate=average.estimate,
        ci_low=average.ci_low,
        ci_high=average.ci_high,
        p_value=p_value,
        statistic=z,
        std_error=average.std_error,
        method=f"Structural time series ({' + '.join(parts)}; {n_draws} posterior draws)",
        n={"pre": t0, "post": h},
        alpha=alpha,
        average_effect=average,
        cumulative_effect=cumulative,
        relative_effect=relative,
        tail_probability=tail,
        pointwise=pointwise,
        coefficients=coefficients,
        intervention=index[t0],
        frequency=freq,
        effective_draws=ess,
        notes=tuple(notes),
    )


__all__ = ["STSResult", "structural_time_series"]
