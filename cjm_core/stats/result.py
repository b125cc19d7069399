"""The result every two-group test returns, and the input checks they share.

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

from ..errors import StudyError


@dataclass(frozen=True, eq=False)
class Estimate:
    """What every result of :mod:`cjm_core.stats` holds: the estimate with its interval,
    p-value, test statistic and standard error (NaN where undefined), the method and the
    sample size(s). Each result adds ``alpha`` and its own details."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    statistic: float
    std_error: float
    method: str
    n: Mapping[str, int]

    @property
    def significant(self) -> bool:
        """True when the p-value is below ``alpha`` (False when the p-value is NaN)."""
        return bool(self.p_value < self.alpha)  # type: ignore[attr-defined]

    def headline(self) -> dict[str, Any]:
        """method, estimate, ci_low, ci_high, p_value, statistic, std_error: the first
        columns of every ``to_frame()``."""
        return {
            "method": self.method,
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "p_value": self.p_value,
            "statistic": self.statistic,
            "std_error": self.std_error,
        }


@dataclass(frozen=True)
class TestResult(Estimate):
    """The outcome of a two-group test; ``estimate`` is group b minus group a.

    ``n`` and ``estimates`` map a group label (``"a"``/``"b"`` or names such as
    ``"before"``/``"after"``) to its sample size and its own estimate (a rate or a mean);
    ``group_ci`` holds each group's own confidence interval. ``relative_lift`` is
    ``b / a - 1`` with its interval ``relative_lift_ci`` (NaN when undefined).
    """

    __test__ = False  # not a pytest test class, despite its name

    alpha: float = 0.05
    estimates: Mapping[str, float] = field(default_factory=dict)
    group_ci: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    df: float | None = None
    relative_lift: float | None = None
    relative_lift_ci: tuple[float, float] | None = None
    statistic_name: str = "z"
    notes: tuple[str, ...] = ()

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
            **self.headline(),
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
        return html_block(self.method, f"<table>{rows}</table>", self.notes)

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


def _as_sample(values: Any, group: str, test: str = "a t-test") -> np.ndarray:
    """The values as a float array: numbers only, no NaN (their count and first positions
    are named), nothing infinite, at least 2 of them for ``test``."""
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise StudyError(f"Sample {group} must hold numbers only: {exc}") from None
    missing = int(np.isnan(arr).sum())
    if missing:
        where = np.flatnonzero(np.isnan(arr))[:5].tolist()
        raise StudyError(
            f"Sample {group} holds {missing} missing value(s) (NaN) out of {arr.size} "
            f"(positions {where}{'...' if missing > 5 else ''}); nothing is dropped silently: "
            "remove or impute them before testing."
        )
    infinite = int(np.isinf(arr).sum())
    if infinite:
        raise StudyError(f"Sample {group} holds {infinite} infinite value(s); remove them first.")
    if arr.size < 2:
        raise StudyError(
            f"Sample {group} needs at least 2 observations for {test}; got {arr.size}."
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


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{value:.4g}"
    return str(value)


def html_block(method: str, body: str, notes: Sequence[str]) -> str:
    """A result in a notebook: the method in bold, ``body`` (its tables), then the notes;
    text is escaped (``body`` is HTML already)."""
    shown = "".join(f"<p><em>{html.escape(n)}</em></p>" for n in notes)
    return f"<div><strong>{html.escape(method)}</strong>{body}{shown}</div>"
