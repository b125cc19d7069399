"""Newey-West (HAC) covariances, and the AR(1) bootstrap of HAC t-statistics.

Newey-West t-tests over-reject at the sizes of an interrupted time series (AR(1) errors, phi
0.3-0.5, 60-100 periods: 12-20% false positives at alpha 0.05), so
:func:`cjm_core.stats.its.interrupted_time_series` takes its critical values from
:func:`bootstrap_t` by default.
"""

from __future__ import annotations

import math

import numpy as np


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


def nw_var_columns(v: np.ndarray, lags: int) -> np.ndarray:
    """Newey-West variance of a sum, column by column (``v``: influence x residual)."""
    total = (v**2).sum(0)
    for lag in range(1, lags + 1):
        total = total + 2 * (1 - lag / (lags + 1)) * (v[lag:] * v[:-lag]).sum(0)
    return total


def ar1(phi: float, shocks: np.ndarray) -> np.ndarray:
    """Stationary AR(1) series (unit innovation variance) along axis 0."""
    from scipy import signal  # imported here: scipy.signal is slow to import

    e = np.array(shocks.T, dtype=float, order="C")
    e[..., 0] /= math.sqrt(1 - phi**2)
    return signal.lfilter([1.0], [1.0, -phi], e, axis=-1).T


def lag1(resid: np.ndarray) -> np.ndarray:
    return (resid[1:] * resid[:-1]).sum(0) / (resid[:-1] ** 2).sum(0)


def bootstrap_t(X, resid, lags, cols, n_boot, seed):
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
    phi_hat = float(np.clip(lag1(resid), -0.95, 0.95))
    crn = rng.standard_normal((n, 200))

    def mean_phi(phi: float) -> float:
        return float(np.mean(lag1(maker @ ar1(phi, crn))))

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
        se = np.sqrt(nw_var_columns(influence[:, [j]] * res, lags))
        draws[:, i] = np.abs(coef[j] / se)
    return draws, phi_hat, phi
