"""Tests of means (and locations) of two samples: t-tests, Mann-Whitney and the bootstrap.

:func:`compare_means` runs one of five methods on samples ``a`` (reference, *before*) and
``b`` (comparison, *after*); every estimate is **b minus a**. :func:`welch_t_test` is the
Welch method under its historical name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import StudyError
from .result import TestResult, _as_sample, _check_alpha, mean_ci

METHODS = ("welch", "student", "paired", "mann-whitney", "bootstrap")
Sample = Sequence[float] | np.ndarray | pd.Series


def compare_means(
    a: Sample,
    b: Sample,
    method: str = "welch",
    alpha: float = 0.05,
    *,
    n_boot: int = 10_000,
    seed: int = 0,
    statistic: str = "mean",
) -> TestResult:
    """Compare two samples; the estimate is ``b - a`` (b = comparison/after, a = reference).

    ``method``:

    - ``"welch"``: Welch t-test, SE ``sqrt(s_a²/n_a + s_b²/n_b)``, Satterthwaite df, t CI of
      ``mean(b) - mean(a)`` (R ``t.test(b, a)``).
    - ``"student"``: pooled-variance t-test, df ``n_a + n_b - 2`` (R ``var.equal = TRUE``).
    - ``"paired"``: one-sample t-test of the differences ``b[i] - a[i]``, df ``n - 1``
      (R ``paired = TRUE``). Pairs are matched by position; equal lengths are required,
      and two pandas Series must carry the same index in the same order.
    - ``"mann-whitney"``: Wilcoxon rank-sum / Mann-Whitney test as R's
      ``wilcox.test(b, a, conf.int = TRUE)`` up to R 4.5 (R 4.6 gives exact p-values with
      ties, so differs there): exact p-value and interval when both
      samples have fewer than 50 values and there are no ties, otherwise the normal
      approximation with tie-corrected variance and continuity correction, and R's
      root-finding (``uniroot``, tol 1e-4) for the estimate and interval. R's
      ``wilcox.test(x, y)`` shifts ``x - y``, so it matches ``compare_means(a=y, b=x)``.
      ``statistic`` is R's W for sample b: the pairs with ``b[i] > a[j]`` plus half the ties.
      The estimate is the Hodges-Lehmann **location shift** (median of all ``b[i] - a[j]``
      differences in the exact case), *not* a difference in means; ``estimates`` holds the
      group medians and ``std_error`` is NaN.
    - ``"bootstrap"``: difference in means (``statistic="mean"``) or medians
      (``statistic="median"``), resampling each group separately ``n_boot`` times with
      ``numpy.random.default_rng(seed)``. CI: percentile interval (numpy's linear quantiles);
      ``std_error``: SD of the resampled differences; two-sided p-value
      ``min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (n_boot + 1))``, i.e. the percentile
      interval inverted, so ``p < alpha`` goes with 0 outside the interval. Percentile
      intervals are a little narrow for small or skewed samples (simulated false-positive
      rate about 6-7% at alpha 5% with 50 log-normal values per group): aim for 30+ per
      group and prefer Welch for strongly skewed data. ``seed`` takes anything
      ``default_rng`` accepts.

    NaN or infinite values raise a :class:`~cjm_core.errors.StudyError` (nothing is dropped);
    each group needs 2+ values. When the data have no spread (zero variance), the statistic
    and p-value are NaN and ``notes`` says why.

    Example::

        >>> r = compare_means([1, 2, 3, 4], [3, 4, 5, 6], method="student")
        >>> r.estimate, r.df, round(r.p_value, 4)
        (2.0, 6.0, 0.071)
        >>> compare_means([1, 2, 3, 4], [3, 4, 5, 6], method="mann-whitney").statistic
        14.0
    """
    alpha = _check_alpha(alpha)
    if method not in METHODS:
        raise StudyError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if statistic not in ("mean", "median"):
        raise StudyError(f"statistic must be 'mean' or 'median'; got {statistic!r}.")
    if statistic == "median" and method != "bootstrap":
        raise StudyError(
            f"statistic='median' needs method='bootstrap' (method {method!r} compares means)."
        )
    if method == "paired":
        _check_pairs(a, b)
    xa, xb = _sample(a, "a", method), _sample(b, "b", method)
    if method == "paired" and xa.size != xb.size:
        raise StudyError(
            f"method='paired' needs samples of equal length (one value per pair); got "
            f"{xa.size} values in a and {xb.size} in b. Match the pairs first."
        )
    if method == "mann-whitney":
        return _mann_whitney(xa, xb, alpha)
    if method == "bootstrap":
        if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 100:
            raise StudyError(f"n_boot must be a whole number of at least 100; got {n_boot!r}.")
        return _bootstrap(xa, xb, alpha, int(n_boot), seed, statistic)
    return _t_test(xa, xb, method, alpha)


def welch_t_test(a: Sample, b: Sample, alpha: float = 0.05) -> TestResult:
    """Welch's two-sample t-test of ``mean(b) - mean(a)``: ``compare_means(method="welch")``.

    Standard error ``sqrt(s_a**2 / n_a + s_b**2 / n_b)``, Satterthwaite degrees of freedom,
    two-sided p-value and t interval. NaN or infinite values raise an error saying how many.

    Example::

        >>> r = welch_t_test([1, 2, 3, 4], [3, 4, 5, 6])
        >>> r.estimate, round(r.df, 1)
        (2.0, 6.0)
    """
    return compare_means(a, b, "welch", alpha)


# -- input checks --------------------------------------------------------------------------


def _sample(values: Any, group: str, method: str) -> np.ndarray:
    test = "a t-test" if method in ("welch", "student", "paired") else f"method={method!r}"
    return _as_sample(values, group, test)


def _check_pairs(a: Any, b: Any) -> None:
    if isinstance(a, pd.Series) and isinstance(b, pd.Series) and not a.index.equals(b.index):
        raise StudyError(
            "method='paired' matches values by position, but the Series a and b have different "
            "indexes; align them first, e.g. b = b.reindex(a.index)."
        )


# -- t-tests -------------------------------------------------------------------------------


def _t_test(xa: np.ndarray, xb: np.ndarray, method: str, alpha: float) -> TestResult:
    na, nb = xa.size, xb.size
    va, vb = xa.var(ddof=1), xb.var(ddof=1)
    diff = float(xb.mean() - xa.mean())
    if method == "paired":
        d = xb - xa
        diff = float(d.mean())
        se, dof = math.sqrt(d.var(ddof=1) / na), float(na - 1)
        name, undefined = "Paired t-test", "all differences b - a are equal"
    elif method == "student":
        pooled = ((na - 1) * va + (nb - 1) * vb) / (na + nb - 2)
        se, dof = math.sqrt(pooled * (1 / na + 1 / nb)), float(na + nb - 2)
        name, undefined = "Two-sample t-test (pooled variance)", "both samples have zero variance"
    else:
        se = math.sqrt(va / na + vb / nb)
        dof = float(na + nb - 2)
        if se > 0:
            dof = se**4 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1))
        name, undefined = "Welch two-sample t-test", "both samples have zero variance"
    notes: list[str] = []
    if se == 0:
        t = p = math.nan
        low = high = diff
        notes.append(f"{undefined}: the t-test is undefined")
    else:
        t = diff / se
        p = float(2 * sps.t.sf(abs(t), dof))
        half = float(sps.t.ppf(1 - alpha / 2, dof)) * se
        low, high = diff - half, diff + half
    if method == "paired":
        notes.append(f"{na} pairs; the estimate is the mean of the differences b - a")
    return TestResult(
        estimate=diff,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(t),
        std_error=float(se),
        method=name,
        n={"a": int(na), "b": int(nb)},
        alpha=alpha,
        estimates={"a": float(xa.mean()), "b": float(xb.mean())},
        group_ci={"a": mean_ci(xa, alpha), "b": mean_ci(xb, alpha)},
        df=float(dof),
        statistic_name="t",
        notes=tuple(notes),
    )


# -- Mann-Whitney: a port of R's wilcox.test.default (two-sample case, R <= 4.5) ------------


def _mann_whitney(xa: np.ndarray, xb: np.ndarray, alpha: float) -> TestResult:
    # R's wilcox.test(x = b, y = a): W and the shift refer to b
    w, p, est, (low, high), method, notes = _rank_sum(xb, xa, alpha)
    return TestResult(
        estimate=est,
        ci_low=low,
        ci_high=high,
        p_value=p,
        statistic=w,
        std_error=math.nan,
        method=method,
        n={"a": int(xa.size), "b": int(xb.size)},
        alpha=alpha,
        estimates={"a": float(np.median(xa)), "b": float(np.median(xb))},
        statistic_name="W",
        notes=(
            "estimate: Hodges-Lehmann location shift of b relative to a (not a difference in "
            "means); group estimates are medians",
            *notes,
        ),
    )


def _rank_sum(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = 0.05,
    exact: bool | None = None,
    correct: bool = True,
    alternative: str = "two.sided",
) -> tuple[float, float, float, tuple[float, float], str, list[str]]:
    """R's ``wilcox.test(x, y, conf.int=TRUE, conf.level=1-alpha, ...)`` (shift ``x - y``).

    Returns ``(W, p_value, estimate, (ci_low, ci_high), method, notes)``.
    """
    nx, ny = x.size, y.size
    mn = nx * ny
    r = sps.rankdata(np.concatenate([x, y]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2)
    exact = (nx < 50 and ny < 50) if exact is None else exact
    two = alternative == "two.sided"
    a_tail = alpha / 2 if two else alpha
    notes: list[str] = []
    if exact and np.unique(r).size == r.size:  # exact distribution, no ties
        up, low_p = _pwilcox(w - 1, nx, ny, upper=True), _pwilcox(w, nx, ny)
        p = {"greater": up, "less": low_p}.get(alternative)
        p = min(2 * (up if w > mn / 2 else low_p), 1.0) if p is None else p
        diffs = np.sort(np.subtract.outer(x, y).ravel())
        qu = max(_qwilcox(a_tail, nx, ny), 1)
        achieved = _pwilcox(qu - 1, nx, ny) * (2 if two else 1)
        low = -math.inf if alternative == "less" else float(diffs[qu - 1])
        high = math.inf if alternative == "greater" else float(diffs[mn - qu])
        if achieved - alpha > alpha / 2:
            notes.append(f"requested confidence level not achievable: {1 - achieved:.3g} instead")
        method = "Wilcoxon rank sum exact test (Mann-Whitney U)"
        return w, p, float(np.median(diffs)), (low, high), method, notes

    method = "Wilcoxon rank sum test (Mann-Whitney U), normal approximation"
    method += " with continuity correction" if correct else ""
    if exact:
        notes.append("ties: exact p-value and interval not available, normal approximation used")

    def z_of(d: float, corrected: bool) -> float:  # R's W(d) in wilcox.test.default
        dr = sps.rankdata(np.concatenate([x - d, y]))
        t = np.unique(dr, return_counts=True)[1].astype(float)
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - mn / 2
        var = mn / 12 * ((nx + ny + 1) - (t**3 - t).sum() / ((nx + ny) * (nx + ny - 1)))
        corr = {"two.sided": np.sign(dz) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        return (dz - (corr if corrected else 0.0)) / math.sqrt(var) if var > 0 else math.nan

    z = z_of(0.0, correct)
    if math.isnan(z):
        notes.append(f"all values are tied (W = {w:g}): the test and the interval are undefined")
        est = float(np.median(np.subtract.outer(x, y)))
        return math.nan, math.nan, est, (math.nan, math.nan), method, notes
    p = {"less": sps.norm.cdf(z), "greater": sps.norm.sf(z)}.get(
        alternative, 2 * min(sps.norm.cdf(z), sps.norm.sf(z))
    )
    mumin, mumax = float(x.min() - y.max()), float(x.max() - y.min())
    if mumin == mumax:
        notes.append(f"every difference b - a equals {mumin:g}: the interval is a point")
        return w, float(p), mumin, (mumin, mumin), method, notes
    w_min, w_max = z_of(mumin, correct), z_of(mumax, correct)

    def root(zq: float) -> float:  # R: endpoints in extreme cases, else uniroot(tol = 1e-4)
        f_lo, f_hi = w_min - zq, w_max - zq
        if f_lo <= 0 or f_hi >= 0:
            return mumin if f_lo <= 0 else mumax
        return _zeroin(lambda d: z_of(d, correct) - zq, mumin, mumax, f_lo, f_hi, 1e-4)

    zq = float(sps.norm.isf(a_tail))
    low = -math.inf if alternative == "less" else root(zq)
    high = math.inf if alternative == "greater" else root(-zq)
    e_lo, e_hi = z_of(mumin, False), z_of(mumax, False)  # estimate: no continuity correction
    est = _zeroin(lambda d: z_of(d, False), mumin, mumax, e_lo, e_hi, 1e-4)
    return w, float(p), float(est), (float(low), float(high)), method, notes


@lru_cache(maxsize=32)
def _wilcox_pmf(m: int, n: int) -> np.ndarray:
    """Null distribution of W (pairs x > y) for sample sizes m, n, no ties (R's dwilcox)."""
    # P_{i,j}(k) = i/(i+j) P_{i-1,j}(k-j) + j/(i+j) P_{i,j-1}(k)  (who holds the largest value)
    prev = [np.ones(1)] * (n + 1)
    for i in range(1, m + 1):
        cur = [np.ones(1)]
        for j in range(1, n + 1):
            p = np.zeros(i * j + 1)
            p[j : j + (i - 1) * j + 1] += i / (i + j) * prev[j]
            p[: i * (j - 1) + 1] += j / (i + j) * cur[j - 1]
            cur.append(p)
        prev = cur
    out = prev[n]
    out.setflags(write=False)
    return out


def _pwilcox(q: float, m: int, n: int, upper: bool = False) -> float:
    """R's ``pwilcox(q, m, n, lower.tail = !upper)``, summing the smaller tail as R does."""
    q, mn = math.floor(q + 1e-7), m * n
    if q < 0:
        return 1.0 if upper else 0.0
    if q >= mn:
        return 0.0 if upper else 1.0
    pmf = _wilcox_pmf(m, n)
    lower = q <= mn / 2
    p = float(pmf[: q + 1].sum() if lower else pmf[: mn - q].sum())  # P(W<=q) or P(W>q)
    return 1.0 - p if upper == lower else p


def _qwilcox(x: float, m: int, n: int) -> int:
    """R's ``qwilcox(x, m, n)`` (lower tail), including R's 10 * eps fuzz."""
    cdf = np.cumsum(_wilcox_pmf(m, n))
    eps = 10 * np.finfo(float).eps
    if x <= 0.5:
        return int(np.searchsorted(cdf, x - eps, side="left"))
    return int(m * n - np.searchsorted(cdf, 1 - x + eps, side="right"))


def _zeroin(f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float):
    """R's ``uniroot`` (Brent's zeroin, R_zeroin2 in src/library/stats/src/zeroin.c)."""
    eps = np.finfo(float).eps
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0:
        return a
    if fb == 0:
        return b
    for _ in range(1001):  # maxiter = 1000
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


# -- bootstrap -----------------------------------------------------------------------------


def _bootstrap(
    xa: np.ndarray, xb: np.ndarray, alpha: float, n_boot: int, seed: Any, statistic: str
) -> TestResult:
    rng = np.random.default_rng(seed)
    fn = np.mean if statistic == "mean" else np.median
    est = float(fn(xb) - fn(xa))
    boot = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(xa.size, xb.size))  # bounded memory for big samples
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        ia = rng.integers(0, xa.size, (k, xa.size))
        ib = rng.integers(0, xb.size, (k, xb.size))
        boot[start : start + k] = fn(xb[ib], axis=1) - fn(xa[ia], axis=1)
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    se = float(boot.std(ddof=1))
    notes = [f"{n_boot} resamples per group (seed {seed!r}); percentile interval"]
    if se == 0:
        stat = p = math.nan
        notes.append("the resampled differences do not vary: the bootstrap test is undefined")
    else:
        stat = est / se
        tail = min(int((boot <= 0).sum()), int((boot >= 0).sum()))
        p = min(1.0, 2 * (1 + tail) / (n_boot + 1))
    return TestResult(
        estimate=est,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(stat),
        std_error=se,
        method=f"Bootstrap difference in {statistic}s (percentile interval)",
        n={"a": int(xa.size), "b": int(xb.size)},
        alpha=alpha,
        estimates={"a": float(fn(xa)), "b": float(fn(xb))},
        group_ci={"a": mean_ci(xa, alpha), "b": mean_ci(xb, alpha)} if statistic == "mean" else {},
        statistic_name="estimate / bootstrap SE",
        notes=tuple(notes),
    )
