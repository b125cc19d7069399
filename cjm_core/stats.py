"""Statistical tests that return one tidy, printable result.

Every test returns a :class:`TestResult`: an estimate, its confidence interval, a p-value,
the test statistic, the method and the sample size of each group. It renders as text
(``summary()``), as HTML in a notebook and as a one-row DataFrame (``to_frame()``).

Convention: groups are called ``a`` (the reference, e.g. *before*) and ``b`` (the
comparison, e.g. *after*), and every estimate is **b minus a**, so a positive estimate
means "higher after". (R's ``t.test(x, y)`` reports ``x - y``: the opposite sign.)

Example::

    >>> from cjm_core.stats import two_proportions
    >>> r = two_proportions(15, 50, 25, 50)
    >>> round(r.estimate, 2), round(r.p_value, 4)
    (0.2, 0.0412)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .errors import StudyError


@dataclass(frozen=True)
class TestResult:
    """The outcome of a two-group test; ``estimate`` is group b minus group a.

    ``n`` and ``estimates`` map a group label (``"a"``/``"b"`` or names such as
    ``"before"``/``"after"``) to its sample size and its own estimate (a rate or a mean);
    ``group_ci`` holds each group's own confidence interval. ``relative_lift`` is
    ``b / a - 1`` with its interval ``relative_lift_ci`` (NaN when undefined).
    """

    __test__ = False  # not a pytest test class, despite its name

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    std_error: float
    method: str
    n: Mapping[str, int]
    alpha: float = 0.05
    estimates: Mapping[str, float] = field(default_factory=dict)
    group_ci: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    df: float | None = None
    relative_lift: float | None = None
    relative_lift_ci: tuple[float, float] | None = None
    statistic_name: str = "z"
    notes: tuple[str, ...] = ()

    @property
    def significant(self) -> bool:
        """True when the p-value is below ``alpha`` (False when the p-value is NaN)."""
        return bool(self.p_value < self.alpha)

    @property
    def confidence(self) -> float:
        return 1 - self.alpha

    def relabel(self, a: str, b: str) -> TestResult:
        """The same result with the groups renamed (e.g. ``relabel("before", "after")``)."""
        names = {"a": a, "b": b}

        def _rename(d: Mapping[str, Any]) -> dict[str, Any]:
            return {names.get(k, k): v for k, v in d.items()}

        return replace(
            self,
            n=_rename(self.n),
            estimates=_rename(self.estimates),
            group_ci=_rename(self.group_ci),
        )

    # -- rendering ---------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row: method, estimate, CI, p-value, statistic, and per-group n and estimate."""
        row: dict[str, Any] = {
            "method": self.method,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "std_error": self.std_error,
            "df": self.df if self.df is not None else np.nan,
        }
        for group, value in self.n.items():
            row[f"n_{group}"] = value
        for group, value in self.estimates.items():
            row[f"estimate_{group}"] = value
        if self.relative_lift is not None:
            row["relative_lift"] = self.relative_lift
            low, high = self.relative_lift_ci or (np.nan, np.nan)
            row["relative_lift_ci_low"], row["relative_lift_ci_high"] = low, high
        row["alpha"] = self.alpha
        row["significant"] = self.significant
        return pd.DataFrame([row])

    def summary(self) -> str:
        """A few lines of text: method, groups, estimate with CI, statistic and p-value."""
        pct = f"{self.confidence:.0%}"
        groups = list(self.n)
        lines = [self.method]
        for g in groups:
            est = self.estimates.get(g)
            est_txt = f", estimate {est:.4g}" if est is not None else ""
            lines.append(f"  {g}: n = {self.n[g]}{est_txt}")
        label = f"{groups[-1]} - {groups[0]}" if len(groups) == 2 else "difference"
        lines.append(
            f"  difference ({label}) = {self.estimate:.4g}, "
            f"{pct} CI [{self.ci_low:.4g}, {self.ci_high:.4g}]"
        )
        if self.relative_lift is not None and not math.isnan(self.relative_lift):
            low, high = self.relative_lift_ci or (np.nan, np.nan)
            lines.append(
                f"  relative lift = {self.relative_lift:.2%}, {pct} CI [{low:.2%}, {high:.2%}]"
            )
        df_txt = f", df = {self.df:.4g}" if self.df is not None else ""
        lines.append(
            f"  {self.statistic_name} = {self.statistic:.4g}{df_txt}, p-value = {self.p_value:.4g}"
            f" ({'significant' if self.significant else 'not significant'} at "
            f"alpha = {self.alpha:g})"
        )
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td>{html.escape(_fmt(v))}</td></tr>"
            for k, v in self.to_frame().iloc[0].items()
            if k != "method"
        )
        notes = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in self.notes)
        return f"<div><strong>{html.escape(self.method)}</strong><table>{rows}</table>{notes}</div>"

    def __repr__(self) -> str:
        n = ", ".join(f"{k}={v}" for k, v in self.n.items())
        return (
            f"TestResult({self.method!r}, estimate={self.estimate:.4g}, "
            f"ci=[{self.ci_low:.4g}, {self.ci_high:.4g}], p={self.p_value:.4g}, n=({n}))"
        )


# -- input checks --------------------------------------------------------------------------


def _check_alpha(alpha: float) -> float:
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise StudyError(f"alpha must be a number between 0 and 1 (exclusive); got {alpha!r}.")
    return float(alpha)


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return int(value)
        raise StudyError(f"{name} must be a whole number (a count); got {value!r}.")
    return int(value)


def _check_counts(successes: Any, n: Any, group: str) -> tuple[int, int]:
    s = _check_count(successes, f"successes_{group}")
    total = _check_count(n, f"n_{group}")
    if total <= 0:
        raise StudyError(f"n_{group} must be at least 1; got {total}.")
    if not 0 <= s <= total:
        raise StudyError(f"successes_{group} must lie between 0 and n_{group} = {total}; got {s}.")
    return s, total


def _as_sample(values: Any, group: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise StudyError(f"Sample {group} must hold numbers only: {exc}") from None
    missing = int(np.isnan(arr).sum())
    if missing:
        raise StudyError(
            f"Sample {group} holds {missing} missing value(s) (NaN) out of {arr.size}; "
            "nothing is dropped silently: remove or impute them before testing."
        )
    infinite = int(np.isinf(arr).sum())
    if infinite:
        raise StudyError(f"Sample {group} holds {infinite} infinite value(s); remove them first.")
    if arr.size < 2:
        raise StudyError(
            f"Sample {group} needs at least 2 observations for a t-test; got {arr.size}."
        )
    return arr


# -- confidence intervals of one group -----------------------------------------------------


def proportion_ci(successes: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval of one proportion (good coverage even near 0 or 1).

    >>> [round(x, 3) for x in proportion_ci(15, 50)]
    [0.191, 0.438]
    """
    from statsmodels.stats.proportion import proportion_confint

    s, total = _check_counts(successes, n, "a")
    low, high = proportion_confint(s, total, alpha=_check_alpha(alpha), method="wilson")
    return float(low), float(high)


def mean_ci(values: Sequence[float] | np.ndarray, alpha: float = 0.05) -> tuple[float, float]:
    """Student-t interval of one mean.

    >>> [round(x, 3) for x in mean_ci([1, 2, 3, 4, 5])]
    [1.037, 4.963]
    """
    x = _as_sample(values, "a")
    half = sps.t.ppf(1 - _check_alpha(alpha) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


# -- the tests -----------------------------------------------------------------------------


def two_proportions(
    successes_a: int, n_a: int, successes_b: int, n_b: int, alpha: float = 0.05
) -> TestResult:
    """Compare two proportions: ``p_b - p_a`` with a Wald CI and a pooled z-test.

    - estimate: ``p_b - p_a`` (b is the comparison group, e.g. *after*; a the reference);
    - CI: Wald interval of the difference with the unpooled standard error
      ``sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b)``;
    - p-value: two-sided z-test with the pooled standard error (statsmodels
      ``proportions_ztest``; ``z**2`` equals R's ``prop.test(correct = FALSE)`` X-squared);
    - relative lift ``p_b / p_a - 1`` with a delta-method CI computed on the log ratio
      (NaN when ``p_a`` or ``p_b`` is 0).

    When both groups are all 0 or all 1 the pooled standard error is 0 and the z-test is
    undefined: statistic and p-value are NaN (noted in ``notes``).

    Example::

        >>> r = two_proportions(15, 50, 25, 50)
        >>> round(r.statistic ** 2, 4), [round(x, 4) for x in (r.ci_low, r.ci_high)]
        (4.1667, [0.012, 0.388])
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    alpha = _check_alpha(alpha)
    sa, na = _check_counts(successes_a, n_a, "a")
    sb, nb = _check_counts(successes_b, n_b, "b")
    pa, pb = sa / na, sb / nb
    notes: list[str] = []

    se_unpooled = math.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    low, high = confint_proportions_2indep(
        sb, nb, sa, na, method="wald", compare="diff", alpha=alpha
    )
    pooled = (sa + sb) / (na + nb)
    if pooled in (0.0, 1.0):
        z, p = math.nan, math.nan
        notes.append("all observations are equal in both groups: the z-test is undefined")
    else:
        z, p = proportions_ztest([sb, sa], [nb, na], alternative="two-sided")

    lift, lift_ci = math.nan, (math.nan, math.nan)
    if pa > 0:
        lift = pb / pa - 1
        if pb > 0:
            se_log = math.sqrt((1 - pa) / (na * pa) + (1 - pb) / (nb * pb))
            zq = sps.norm.ppf(1 - alpha / 2)
            log_ratio = math.log(pb / pa)
            lift_ci = (math.exp(log_ratio - zq * se_log) - 1, math.exp(log_ratio + zq * se_log) - 1)

    return TestResult(
        estimate=pb - pa,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(z),
        std_error=se_unpooled,
        method="Two-proportion z-test (pooled), Wald CI of the difference",
        n={"a": na, "b": nb},
        alpha=alpha,
        estimates={"a": pa, "b": pb},
        group_ci={"a": proportion_ci(sa, na, alpha), "b": proportion_ci(sb, nb, alpha)},
        relative_lift=lift,
        relative_lift_ci=lift_ci,
        statistic_name="z",
        notes=tuple(notes),
    )


def welch_t_test(
    a: Sequence[float] | np.ndarray | pd.Series,
    b: Sequence[float] | np.ndarray | pd.Series,
    alpha: float = 0.05,
) -> TestResult:
    """Welch's two-sample t-test of ``mean(b) - mean(a)`` (unequal variances).

    Standard error ``sqrt(s_a**2 / n_a + s_b**2 / n_b)``, Satterthwaite degrees of freedom,
    two-sided p-value and t interval (statsmodels ``CompareMeans`` with
    ``usevar="unequal"``). NaN or infinite values raise an error saying how many: nothing
    is dropped silently. Each group needs at least 2 observations.

    Example::

        >>> r = welch_t_test([1, 2, 3, 4], [3, 4, 5, 6])
        >>> r.estimate, round(r.df, 1)
        (2.0, 6.0)
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    alpha = _check_alpha(alpha)
    xa, xb = _as_sample(a, "a"), _as_sample(b, "b")
    notes: list[str] = []
    compare = CompareMeans(DescrStatsW(xb), DescrStatsW(xa))
    se = float(compare.std_meandiff_separatevar)
    diff = float(xb.mean() - xa.mean())
    if se == 0:
        t, p, dof = math.nan, math.nan, float(xa.size + xb.size - 2)
        low = high = diff
        notes.append("both samples have zero variance: the t-test is undefined")
    else:
        t, p, dof = compare.ttest_ind(usevar="unequal")
        low, high = compare.tconfint_diff(alpha=alpha, usevar="unequal")

    return TestResult(
        estimate=diff,
        ci_low=float(low),
        ci_high=float(high),
        p_value=float(p),
        statistic=float(t),
        std_error=se,
        method="Welch two-sample t-test",
        n={"a": int(xa.size), "b": int(xb.size)},
        alpha=alpha,
        estimates={"a": float(xa.mean()), "b": float(xb.mean())},
        group_ci={"a": mean_ci(xa, alpha), "b": mean_ci(xb, alpha)},
        df=float(dof),
        statistic_name="t",
        notes=tuple(notes),
    )


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)
