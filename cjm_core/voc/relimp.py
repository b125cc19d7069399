"""The arithmetic of key driver analysis, on correlation matrices.

Everything here works on a correlation matrix ``R`` whose last row and column are the
outcome and whose other rows are the drivers, and broadcasts over leading axes, so a whole
stack of bootstrap matrices (shape ``(B, p + 1, p + 1)``) goes through in one call:

- :func:`weighted_corr`: Pearson correlations from rows with (integer) weights, either over
  complete rows or pairwise-complete (each pair on the rows where both are present);
- :func:`standardised_betas`: ``Rxx^-1 rxy`` and R²;
- :func:`relative_weights`: Johnson's (2000) relative weights, which sum to R²;
- :func:`lmg`: the LMG / Shapley decomposition of R² (Lindeman, Merenda and Gold 1980):
  each driver's increase in R² averaged over all orderings of the drivers, computed exactly
  from the R² of all ``2^p`` subsets (:func:`subset_r2`).

Example::

    >>> import numpy as np
    >>> R = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.4], [0.3, 0.4, 1.0]])
    >>> [round(float(v), 4) for v in lmg(R)]
    [0.09, 0.16]
"""

from __future__ import annotations

from functools import cache
from math import factorial
from typing import Any

import numpy as np

MAX_LMG_DRIVERS = 12
EIGEN_TOL = 1e-10  # smallest eigenvalue of a usable correlation matrix


def weighted_corr(
    x: np.ndarray, weights: np.ndarray | None = None, *, pairwise: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations of the columns of ``x`` (NaN = missing) and the n behind each.

    ``weights`` (shape ``(n,)`` or ``(B, n)``) counts how often each row is used, so a
    bootstrap resample is a vector of counts. Without ``pairwise`` rows with any NaN must
    already be gone. Returns ``(R, n_pair)``; a pair with fewer than 2 rows or no variance
    gets NaN.
    """
    x = np.asarray(x, dtype=float)
    present = ~np.isnan(x)
    # centre on the column means so the one-pass sums below lose no precision
    centre = np.nanmean(x, axis=0)
    scale = np.nanstd(x, axis=0)
    scale[scale == 0] = 1.0
    z = np.where(present, (x - centre) / scale, 0.0)
    m = present.astype(float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if not pairwise and not present.all():
        raise ValueError("missing values need pairwise=True (or drop the rows first)")
    wz = w[..., :, None] * z  # (..., n, q)
    wm = w[..., :, None] * m
    n = _t(wm) @ m  # n[i, j]: rows where both i and j are present
    s1 = _t(wz) @ m  # s1[i, j]: sum of z_i over those rows
    s2 = _t(wz * z) @ m
    s11 = _t(wz) @ z
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = s11 - s1 * _t(s1) / n
        var_i = s2 - s1**2 / n
        var_j = _t(var_i)
        r = cov / np.sqrt(var_i * var_j)
    # no variance on the shared rows (z has unit scale, so compare with n)
    flat = (var_i <= 1e-10 * n) | (var_j <= 1e-10 * n)
    r = np.where((n < 2) | flat, np.nan, np.clip(r, -1.0, 1.0))
    eye = np.eye(x.shape[1], dtype=bool)
    return np.where(eye & ~np.isnan(r), 1.0, r), n


def _t(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def split(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(Rxx, rxy)``: the drivers' correlations and their correlations with the outcome."""
    return R[..., :-1, :-1], R[..., :-1, -1]


def standardised_betas(R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised regression coefficients ``Rxx^-1 rxy`` and ``R² = rxy' beta``."""
    rxx, rxy = split(R)
    beta = np.linalg.solve(rxx, rxy[..., None])[..., 0]
    return beta, (beta * rxy).sum(axis=-1)


def relative_weights(R: np.ndarray) -> np.ndarray:
    """Johnson's (2000) raw relative weights; they sum to R².

    The drivers are replaced by their closest orthogonal counterparts ``Z = X Rxx^-1/2``;
    ``Lambda = Rxx^1/2`` holds the correlations of X with Z, ``beta* = Lambda^-1 rxy`` the
    regression of the outcome on Z, and driver j's weight is ``sum_k Lambda_jk² beta*_k²``.
    """
    rxx, rxy = split(R)
    evals, evecs = np.linalg.eigh(rxx)
    lam = (evecs * np.sqrt(np.clip(evals, 0.0, None))[..., None, :]) @ _t(evecs)
    beta_star = np.linalg.solve(lam, rxy[..., None])[..., 0]
    return ((lam**2) @ (beta_star**2)[..., None])[..., 0]


@cache
def _plan(p: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """For each subset size k: the bit masks of all k-subsets of p drivers and their indices."""
    masks = np.arange(1 << p)
    bits = (masks[:, None] >> np.arange(p)) & 1
    size = bits.sum(axis=1)
    plan = []
    for k in range(1, p + 1):
        chosen = masks[size == k]
        idx = np.array([np.flatnonzero(bits[m]) for m in chosen], dtype=np.intp)
        plan.append((chosen, idx))
    return tuple(plan)


def subset_r2(R: np.ndarray) -> np.ndarray:
    """R² of the regression on every subset of drivers, indexed by bit mask (``2^p`` values).

    Bit j of the index says whether driver j is in the subset; entry 0 (no driver) is 0.
    """
    rxx, rxy = split(R)
    p = rxx.shape[-1]
    out = np.zeros(R.shape[:-2] + (1 << p,))
    for chosen, idx in _plan(p):
        a = rxx[..., idx[:, :, None], idx[:, None, :]]  # (..., m, k, k)
        b = rxy[..., idx]  # (..., m, k)
        sol = np.linalg.solve(a, b[..., None])[..., 0]
        out[..., chosen] = (sol * b).sum(axis=-1)
    return out


@cache
def _lmg_weights(p: int) -> tuple[np.ndarray, np.ndarray]:
    """For each driver j: the masks S without j and the Shapley weight |S|!(p-|S|-1)!/p!."""
    masks = np.arange(1 << p)
    size = np.array([bin(m).count("1") for m in masks])
    w_by_size = np.array([factorial(k) * factorial(p - k - 1) / factorial(p) for k in range(p)])
    without = np.array([masks[(masks >> j) & 1 == 0] for j in range(p)])  # (p, 2^(p-1))
    return without, w_by_size[size[without]]


def lmg(R: np.ndarray) -> np.ndarray:
    """LMG (Shapley) shares of R²: each driver's R² increase averaged over all p! orders.

    Exact, from the ``2^p`` subset R² values; they sum to the full-model R².
    """
    p = R.shape[-1] - 1
    if p > MAX_LMG_DRIVERS:
        raise ValueError(f"LMG needs 2^p regressions; p = {p} > {MAX_LMG_DRIVERS}")
    r2 = subset_r2(R)
    without, weight = _lmg_weights(p)
    with_j = without | (1 << np.arange(p))[:, None]
    gain = r2[..., with_j] - r2[..., without]  # (..., p, 2^(p-1))
    return (gain * weight).sum(axis=-1)


def min_eigenvalue(R: np.ndarray) -> np.ndarray:
    """The smallest eigenvalue of each (symmetric) matrix; NaN where R has NaN."""
    bad = np.isnan(R).any(axis=(-1, -2))
    safe = np.where(bad[..., None, None], np.eye(R.shape[-1]), R)
    return np.where(bad, np.nan, np.linalg.eigvalsh(safe)[..., 0])


def bootstrap(
    x: np.ndarray, n_boot: int, alpha: float, seed: int, *, pairwise: bool, method: str = "both"
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray] | np.ndarray], int]:
    """Bootstrap percentile intervals for the columns of ``x`` (drivers, then the outcome).

    Rows are resampled ``n_boot`` times (``numpy.random.default_rng(seed)``), each resample
    held as a vector of counts. Returns ``({key: (low, high)}, failed)`` for keys ``beta,
    rw, lmg, rw_share, lmg_share`` plus ``beta_se`` (the bootstrap standard error of the
    betas); ``failed`` counts resamples whose correlation matrix was degenerate (left out).
    ``method`` ``"lmg"`` or ``"relative_weights"`` skips the other measure (NaN).
    """
    p = x.shape[1] - 1
    keys = ("beta", "rw", "lmg", "rw_share", "lmg_share")
    draws: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    failed = 0
    rng = np.random.default_rng(seed)
    n = len(x)
    chunk = int(max(1, min(200, 4_000_000 // (n * x.shape[1]))))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        w = np.bincount((idx + n * np.arange(b)[:, None]).ravel(), minlength=b * n)
        R, _ = weighted_corr(x, w.reshape(b, n), pairwise=pairwise)
        ok = min_eigenvalue(R) > EIGEN_TOL
        failed += int((~ok).sum())
        R = np.where(ok[:, None, None], R, np.eye(p + 1))
        bad = np.where(ok[:, None], 0.0, np.nan)
        beta, r2 = standardised_betas(R)
        draws["beta"].append(beta + bad)
        for key, fn, skip in (("rw", relative_weights, "lmg"),
                              ("lmg", lmg, "relative_weights")):  # fmt: skip
            if method != skip:
                raw = fn(R) + bad
                draws[key].append(raw)
                draws[f"{key}_share"].append(raw / r2[:, None])
    nan = np.full(p, np.nan)
    out: dict[str, Any] = {k: (nan, nan) for k in keys}
    out["beta_se"] = nan
    for key, parts in draws.items():
        if parts and failed < n_boot:
            d = np.concatenate(parts)
            low, high = np.nanquantile(d, [alpha / 2, 1 - alpha / 2], axis=0)
            out[key] = (low, high)
            if key == "beta":
                out["beta_se"] = np.nanstd(d, axis=0, ddof=1)
    return out, failed
