"""Power and sample size: t-tests (R's ``power.t.test``) and two proportions (``power.prop.test``).

Each function takes the design and leaves exactly one unknown as ``None``; it returns a
:class:`PowerResult` with that unknown filled in (``n`` per group, ``power`` or the effect).

Conventions, the same as R's:

- ``n`` is the number **per group** (pairs for ``kind="paired"``); it is fractional when
  solved for: recruit ``result.n_required`` (``n`` rounded up).
- Two-sided power counts rejections in the direction of the effect only (R's default
  ``strict = FALSE``): with no effect it is ``alpha / 2``, not ``alpha``. ``strict=True``
  adds the opposite tail (the exact rejection probability of the two-sided test); it
  matters only for weak designs (n = 20 per group: +2e-4 at power 0.34, +2e-7 at 0.87).
- Unknowns are found with Brent's root finder and R's ``uniroot`` stopping rule, by
  default with R's tolerance ``tol = 2**-13`` (``.Machine$double.eps^0.25``), so results
  equal R's printed output (which can differ from the exact root in the 6th digit);
  ``tol=1e-12`` solves to near machine precision instead.

Example::

    >>> round(power_means(1.0, n=20).power, 7)                       # R: 0.8689528
    0.8689528
    >>> round(power_two_proportions(0.5, 0.75, power=0.9).n, 5)      # R: 76.70693
    76.70693
"""

from __future__ import annotations

import html
import math
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats as sps
from scipy.optimize import brentq

from ..errors import StudyError
from .result import _check_alpha, html_block

__all__ = ["PowerResult", "minimum_detectable_effect", "power_means", "power_two_proportions"]

R_TOL = sys.float_info.epsilon**0.25  # R's uniroot default, 2**-13 = 1.220703e-4
_EPS = sys.float_info.epsilon
_KINDS = {"two-sample": 2, "paired": 1, "one-sample": 1}
_SIDES = {"two-sided": 2, "one-sided": 1}
_N_NOTE = {
    "two-sample": "n is the number in *each* group",
    "paired": "n is the number of *pairs*; sd is the SD of the within-pair differences",
    "one-sample": "n is the number of observations",
    "two-proportions": "n is the number in *each* group",
}


@dataclass(frozen=True)
class PowerResult:
    """A power calculation: the design with the solved unknown filled in.

    ``effect_size`` is in the data's units: the difference in means for t-tests (R's
    ``delta``; divide by ``sd`` for Cohen's d, see ``standardized_effect``) and ``p2 - p1``
    for proportions. ``solved_for`` names the unknown that was computed.
    """

    solved_for: str
    n: float
    power: float
    effect_size: float
    alpha: float
    kind: str
    alternative: str
    method: str
    sd: float | None = None
    p1: float | None = None
    p2: float | None = None
    strict: bool = False
    notes: tuple[str, ...] = ()

    @property
    def n_required(self) -> int:
        """``n`` rounded up: the whole number per group to recruit."""
        return math.ceil(self.n - 1e-9)

    @property
    def standardized_effect(self) -> float:
        """Cohen's d (``effect_size / sd``) for t-tests; NaN for proportions."""
        return self.effect_size / self.sd if self.sd else math.nan

    def to_frame(self) -> pd.DataFrame:
        """One row with the design, the solved unknown and ``n_required``."""
        row: dict[str, Any] = {
            "method": self.method,
            "solved_for": self.solved_for,
            "n": self.n,
            "n_required": self.n_required,
            "power": self.power,
            "effect_size": self.effect_size,
        }
        if self.sd is not None:
            row["sd"] = self.sd
            row["standardized_effect"] = self.standardized_effect
        if self.p1 is not None:
            row["p1"], row["p2"] = self.p1, self.p2
        row.update(alpha=self.alpha, alternative=self.alternative, strict=self.strict)
        return pd.DataFrame([row])

    def summary(self) -> str:
        """Text in the layout of R's ``print.power.htest``, plus ``n_required``."""
        lines = [self.method, ""]
        for key, value in self.to_frame().iloc[0].items():
            if key not in ("method", "solved_for"):
                text = f"{value:.7g}" if isinstance(value, float) else str(value)
                mark = "  <- solved" if key == self.solved_for else ""
                lines.append(f"{key:>20} = {text}{mark}")
        lines.append(f"  note: {_N_NOTE[self.kind]}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td>{html.escape(f'{v:.7g}' if isinstance(v, float) else str(v))}</td></tr>"
            for k, v in self.to_frame().iloc[0].items()
            if k != "method"
        )
        return html_block(self.method, f"<table>{rows}</table>", self.notes)

    def __repr__(self) -> str:
        return (
            f"PowerResult({self.method!r}, n={self.n:.6g}, power={self.power:.4g}, "
            f"effect_size={self.effect_size:.4g}, alpha={self.alpha:g}, "
            f"solved_for={self.solved_for!r})"
        )


# -- power functions -------------------------------------------------------------------------


def _t_power(n: float, delta: float, sd: float, alpha: float, tsample: int, tside: int,
             strict: bool) -> float:  # fmt: skip
    """R's ``power.t.test`` body: noncentral t with ``nu = (n - 1) * tsample``."""
    nu = max(1e-7, n - 1) * tsample
    ncp = math.sqrt(n / tsample) * delta / sd
    qu = sps.t.isf(alpha / tside, nu)
    power = float(sps.nct.sf(qu, nu, ncp))
    if strict and tside == 2:
        opposite = float(sps.nct.cdf(-qu, nu, ncp))
        power += opposite if math.isfinite(opposite) else 0.0  # scipy: NaN on underflow
    return power


def _prop_power(n: float, p1: float, p2: float, alpha: float, tside: int, strict: bool) -> float:
    """R's ``power.prop.test`` body: normal approximation to the pooled z-test."""
    qu = sps.norm.isf(alpha / tside)
    d = abs(p1 - p2)
    pbar = (p1 + p2) / 2
    sd_alt = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    sd_null = math.sqrt(2 * pbar * (1 - pbar))
    if sd_alt == 0:
        return 1.0 if d > 0 else (alpha if strict and tside == 2 else alpha / tside)
    power = float(sps.norm.cdf((math.sqrt(n) * d - qu * sd_null) / sd_alt))
    if strict and tside == 2:
        power += float(sps.norm.sf((math.sqrt(n) * d + qu * sd_null) / sd_alt))
    return power


# -- root finding ----------------------------------------------------------------------------


def _root(f: Callable[[float], float], lo: float, hi: float, tol: float) -> float:
    """Brent's method with R's ``uniroot`` stopping rule: bracket within ``2 eps |x| + tol/2``.

    scipy's ``brentq`` with ``xtol = tol`` and ``rtol = 4 eps`` has the stopping rule of R's
    ``zeroin``; on R's documented examples the roots equal R's output to every printed digit.
    """
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not tol > 0:
        raise StudyError(f"tol must be a positive number (R's default is 2**-13); got {tol!r}.")
    return float(brentq(f, lo, hi, xtol=tol, rtol=4 * _EPS, maxiter=1000))


def _solve_up(f: Callable[[float], float], lo: float, hi: float, tol: float, what: str,
              limit: float = 1e15) -> float:  # fmt: skip
    """Root of an increasing ``f`` in ``[lo, hi]``, doubling ``hi`` while ``f(hi) < 0``."""
    f_hi = f(hi)
    while f_hi < 0 and hi < limit:
        hi *= 2
        f_hi = f(hi)
    if f_hi < 0:
        raise StudyError(f"No {what} up to {limit:.0e} reaches the requested power.")
    return _root(f, lo, hi, tol)


# -- input checks ----------------------------------------------------------------------------


def _unknown(**values: Any) -> str:
    missing = [k for k, v in values.items() if v is None]
    if len(missing) != 1:
        names = ", ".join(values)
        raise StudyError(
            f"Leave exactly one of {names} as None (the one to solve for); "
            f"got {len(missing)} missing: {missing or 'none'}."
        )
    return missing[0]


def _check_choice(value: str, options: dict[str, int], name: str) -> int:
    if value not in options:
        raise StudyError(f"{name} must be one of {sorted(options)}; got {value!r}.")
    return options[value]


def _check_power(power: float | None, alpha: float) -> None:
    if power is not None and not (isinstance(power, numbers.Real) and alpha < power < 1):
        raise StudyError(
            f"power must lie between alpha = {alpha:g} and 1 (exclusive); got {power!r}. "
            "With no effect a test already rejects about alpha of the time."
        )


def _number(value: Any, name: str, low: float, high: float = math.inf) -> float:
    """None passes; otherwise a real number in ``(low, high]`` (``[0, 1]`` for proportions)."""
    if value is None:
        return value
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
    if not ok or not (low < value <= high or (high == 1 and value == low == 0)):
        span = "a proportion in [0, 1]" if high == 1 else f"a number above {low:g}"
        span = "a finite number" if low == -math.inf else span
        raise StudyError(f"{name} must be {span}; got {value!r}.")
    return float(value)


# -- public functions ------------------------------------------------------------------------


def power_means(
    effect_size: float | None = None,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    *,
    sd: float = 1.0,
    kind: str = "two-sample",
    alternative: str = "two-sided",
    strict: bool = False,
    tol: float = R_TOL,
) -> PowerResult:
    """Power of a t-test, or the ``n`` or effect that gives a target power (R's ``power.t.test``).

    ``effect_size`` is R's ``delta``: the true difference in means (b minus a, or the mean
    difference within pairs) **in the data's units**, with ``sd`` the standard deviation of
    each group (of the within-pair differences for ``kind="paired"``). With the default
    ``sd=1`` it is Cohen's d. Leave exactly one of ``effect_size``, ``n``, ``power`` as None.

    - ``kind``: ``"two-sample"`` (Student's t with equal variances and ``n`` per group,
      ``df = 2(n - 1)``), ``"paired"`` (``n`` pairs) or ``"one-sample"`` (``df = n - 1``);
    - power is ``P(T > t_{1 - alpha/sides})`` with ``T`` noncentral t, ``ncp =
      sqrt(n / 2) * effect_size / sd`` (two-sample) or ``sqrt(n) * effect_size / sd``;
    - ``"two-sided"`` uses ``|effect_size|`` and ignores the opposite tail unless
      ``strict=True`` (R's default is ``strict = FALSE``); ``"one-sided"`` tests for a
      positive difference, so a negative ``effect_size`` has power below ``alpha``.

    Example (R: ``power.t.test(power = .90, delta = 1)`` gives n = 22.0211)::

        >>> r = power_means(1.0, power=0.9)
        >>> round(r.n, 4), r.n_required
        (22.0211, 23)
    """
    alpha = _check_alpha(alpha)
    tsample = _check_choice(kind, _KINDS, "kind")
    tside = _check_choice(alternative, _SIDES, "alternative")
    solve = _unknown(effect_size=effect_size, n=n, power=power)
    sd = _number(math.nan if sd is None else sd, "sd", 0)
    n = _number(n, "n", 1)
    _check_power(power, alpha)
    effect_size = _number(effect_size, "effect_size", -math.inf)
    if effect_size is not None and tside == 2:
        effect_size = abs(effect_size)
    notes: list[str] = []

    def pw(n_: float, d_: float) -> float:
        return _t_power(n_, d_, sd, alpha, tsample, tside, strict)

    if solve == "power":
        power = pw(n, effect_size)
    elif solve == "n":
        if effect_size <= 0:
            raise StudyError(
                f"effect_size must be positive to solve for n; got {effect_size!r} "
                "(no sample size detects a zero or wrong-direction effect)."
            )
        if pw(2.0, effect_size) >= power:
            n = 2.0
            notes.append("the target power is reached already with n = 2 (the smallest n)")
        else:
            n = _solve_up(lambda x: pw(x, effect_size) - power, 2.0, 1e7, tol, "n")
    else:
        effect_size = _solve_up(lambda d: pw(n, d) - power, sd * 1e-7, sd * 1e7, tol, "effect")
    label = {"two-sample": "Two-sample", "paired": "Paired", "one-sample": "One-sample"}[kind]
    return PowerResult(
        solved_for=solve,
        n=float(n),
        power=float(power),
        effect_size=float(effect_size),
        alpha=alpha,
        kind=kind,
        alternative=alternative,
        method=f"{label} t test power calculation",
        sd=sd,
        strict=strict,
        notes=tuple(notes),
    )


def power_two_proportions(
    p1: float,
    p2: float | None = None,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    *,
    alternative: str = "two-sided",
    strict: bool = False,
    tol: float = R_TOL,
) -> PowerResult:
    """Power of the two-proportion test, or the ``n`` or ``p2`` for a target power.

    R's ``power.prop.test``: the normal approximation to the pooled z-test (``prop.test``
    without continuity correction), ``n`` per group,

        power = Phi((sqrt(n) |p1 - p2| - z_{1-alpha/sides} sqrt(2 pbar (1 - pbar)))
                    / sqrt(p1 (1 - p1) + p2 (1 - p2)))

    with ``pbar = (p1 + p2) / 2``. Leave exactly one of ``p2``, ``n``, ``power`` as None;
    a solved ``p2`` is searched above ``p1`` (as in R; see
    :func:`minimum_detectable_effect` for a decrease). ``strict`` as in :func:`power_means`.

    Example (R: ``power.prop.test(n = 50, p1 = .5, power = .90)`` gives p2 = 0.8026141)::

        >>> round(power_two_proportions(0.5, n=50, power=0.9).p2, 7)
        0.8026141
    """
    return _proportions(p1, p2, n, power, alpha, alternative, strict, tol, end=1.0)


def _proportions(p1: Any, p2: Any, n: Any, power: Any, alpha: float, alternative: str,
                 strict: bool, tol: float, end: float) -> PowerResult:  # fmt: skip
    """:func:`power_two_proportions`; a solved ``p2`` lies between ``p1`` and ``end``."""
    alpha = _check_alpha(alpha)
    tside = _check_choice(alternative, _SIDES, "alternative")
    solve = _unknown(p2=p2, n=n, power=power)
    p1, p2 = _number(p1, "p1", 0, 1), _number(p2, "p2", 0, 1)
    if p1 is None:
        raise StudyError("p1 (the proportion in group a, e.g. the baseline) is required.")
    n = _number(n, "n", 0)
    _check_power(power, alpha)
    notes: list[str] = []

    def pw(n_: float, p2_: float) -> float:
        return _prop_power(n_, p1, p2_, alpha, tside, strict)

    if solve == "power":
        power = pw(n, p2)
    elif solve == "n":
        if p1 == p2:
            raise StudyError("p1 equals p2: no sample size detects a zero difference.")
        if pw(1.0, p2) >= power:
            n = 1.0
            notes.append("the target power is reached already with n = 1")
        else:
            n = _solve_up(lambda x: pw(x, p2) - power, 1.0, 1e7, tol, "n")
    else:
        p2 = _solve_p2(lambda q: pw(n, q) - power, p1, end, tol, n, power)
    return PowerResult(
        solved_for=solve,
        n=float(n),
        power=float(power),
        effect_size=float(p2 - p1),
        alpha=alpha,
        kind="two-proportions",
        alternative=alternative,
        method="Two-sample comparison of proportions power calculation",
        p1=p1,
        p2=float(p2),
        strict=strict,
        notes=tuple(notes),
    )


def _solve_p2(f: Callable[[float], float], p1: float, end: float, tol: float, n: float,
              power: float) -> float:  # fmt: skip
    """``p2`` between ``p1`` and ``end`` (1 for an increase, 0 for a decrease)."""
    f_end = f(end)
    if f_end < 0:
        raise StudyError(
            f"No p2 between p1 = {p1:g} and {end:g} reaches power {power:g} with n = {n:g} "
            f"per group (p2 = {end:g} gives power {f_end + power:.4g}); increase n or lower "
            "the target power."
        )
    return _root(f, min(p1, end), max(p1, end), tol)


def minimum_detectable_effect(
    n: float,
    power: float = 0.8,
    alpha: float = 0.05,
    *,
    kind: str = "means",
    sd: float = 1.0,
    p1: float | None = None,
    design: str = "two-sample",
    alternative: str = "two-sided",
    direction: str = "increase",
    strict: bool = False,
    tol: float = R_TOL,
) -> PowerResult:
    """The smallest true effect detected with probability ``power`` given ``n`` per group.

    Solved by root finding on the same power functions as :func:`power_means` and
    :func:`power_two_proportions`:

    - ``kind="means"``: ``effect_size`` is the difference in means in the units of ``sd``
      (Cohen's d when ``sd=1``; ``standardized_effect`` always gives d); ``design`` is
      ``"two-sample"``, ``"paired"`` or ``"one-sample"``;
    - ``kind="proportions"``: needs the baseline ``p1``; returns ``p2`` and
      ``effect_size = p2 - p1``, for an ``"increase"`` (p2 > p1) or a ``"decrease"``.

    Example: 20 per group detect 0.91 standard deviations with 80% power; 500 per group
    detect a rise of a 10% rate to about 16%::

        >>> round(minimum_detectable_effect(20).effect_size, 3)
        0.909
        >>> r = minimum_detectable_effect(500, kind="proportions", p1=0.10)
        >>> round(r.p2, 3), round(r.effect_size, 3)
        (0.159, 0.059)
    """
    if kind == "means":
        if p1 is not None:
            raise StudyError("p1 is for kind='proportions'; for means give sd instead.")
        return power_means(
            None, n, power, alpha, sd=sd, kind=design, alternative=alternative,
            strict=strict, tol=tol,
        )  # fmt: skip
    if kind != "proportions":
        raise StudyError(f"kind must be 'means' or 'proportions'; got {kind!r}.")
    if p1 is None:
        raise StudyError("kind='proportions' needs the baseline proportion p1 (group a).")
    if direction not in ("increase", "decrease"):
        raise StudyError(f"direction must be 'increase' or 'decrease'; got {direction!r}.")
    end = 1.0 if direction == "increase" else 0.0
    return _proportions(p1, None, n, power, alpha, alternative, strict, tol, end=end)
