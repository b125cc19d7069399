"""Calibration of the time-series designs by simulation.

:func:`~cjm_core.stats.its.interrupted_time_series` (default settings: Newey-West SEs,
AR(1)-bootstrap reference): simulated series of n = 60, 80 or 100 weekly periods (cycled),
intervention half-way, errors AR(1) with phi = 0.3, 0.4 or 0.5 (cycled; unit innovations),
intercept 10 and slope 0.1. Each of the ``n_sims`` rounds simulates one study with no effect
(false-positive rates of the level and of the slope change) and one with a level change of 1
and a slope change of 0.05 (coverage of the two 95% intervals).

``plain_newey_west=True`` adds the same checks for the textbook Newey-West t-test (Student t
reference): it over-rejects badly at these sizes (about 13-20%), which is why it is not the
default; those rows are expected to fall outside the bounds.

:func:`~cjm_core.stats.sts.structural_time_series`: local level (level sd 0.3, noise sd 1),
70 pre and 30 post periods, every other study with a control series (random walk, coefficient
1.5); the first half with no effect, the other half +2 per period. Checks: coverage of the 95%
interval of the cumulative effect (all studies) and the false-positive rate (null half).
Fitting is slow (about 0.3 s a study), so ``sts_sims`` defaults to 100; with fewer than 2,000
studies its bounds are widened by the extra binomial noise (1.96 * (sd(n) - sd(2000))).

Example::

    >>> table = calibrate(n_sims=20, seed=1, sts_sims=4)
    >>> table.columns.tolist()
    ['function', 'check', 'value', 'low', 'high', 'ok', 'setting']
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from .hac import ar1
from .its import interrupted_time_series
from .sts import structural_time_series

ALPHA = 0.05
ITS_SIZES, ITS_PHIS = (60, 80, 100), (0.3, 0.4, 0.5)
LEVEL, SLOPE = 1.0, 0.05


def _widen(low: float, high: float, p: float, n: int) -> tuple[float, float]:
    extra = max(0.0, 1.96 * (math.sqrt(p * (1 - p) / n) - math.sqrt(p * (1 - p) / 2000)))
    return low - extra, high + extra


def _its_series(i: int, rng: np.random.Generator, level: float, slope: float):
    n = ITS_SIZES[i % len(ITS_SIZES)]
    phi = ITS_PHIS[(i // len(ITS_SIZES)) % len(ITS_PHIS)]
    t = np.arange(n)
    t0 = n // 2
    y = 10 + 0.1 * t + (t >= t0) * (level + slope * (t - t0)) + ar1(phi, rng.standard_normal(n))
    series = pd.Series(y, pd.date_range("2020-01-06", periods=n, freq="7D"))
    return series, series.index[t0]


def _its_rows(n_sims: int, rng: np.random.Generator, plain: bool) -> list[tuple]:
    references = ["bootstrap"] + ["t"] * plain
    counts = {ref: dict.fromkeys(("fp_level", "fp_slope", "cov_level", "cov_slope"), 0)
              for ref in references}  # fmt: skip
    for i in range(n_sims):
        for planted, (level, slope) in ((False, (0.0, 0.0)), (True, (LEVEL, SLOPE))):
            series, start = _its_series(i, rng, level, slope)
            seed = int(rng.integers(2**31))
            for ref in references:
                r = interrupted_time_series(series, start, reference=ref, seed=seed)
                box = counts[ref]
                if planted:
                    box["cov_level"] += r.level_change.ci_low <= level <= r.level_change.ci_high
                    box["cov_slope"] += r.slope_change.ci_low <= slope <= r.slope_change.ci_high
                else:
                    box["fp_level"] += r.level_change.p_value < ALPHA
                    box["fp_slope"] += r.slope_change.p_value < ALPHA
    sizes = f"n {'/'.join(map(str, ITS_SIZES))}, AR(1) phi {'/'.join(map(str, ITS_PHIS))}"
    null_setting = f"{sizes}, no effect"
    effect_setting = f"{sizes}, level change {LEVEL}, slope change {SLOPE}"
    rows = []
    for ref in references:
        label = "" if ref == "bootstrap" else " (plain Newey-West, t ref.)"
        box = {key: value / n_sims for key, value in counts[ref].items()}
        rows += [
            ("interrupted_time_series", f"level false-positive rate{label}", box["fp_level"],
             0.035, 0.065, null_setting),
            ("interrupted_time_series", f"slope false-positive rate{label}", box["fp_slope"],
             0.035, 0.065, null_setting),
            ("interrupted_time_series", f"level 95% CI coverage{label}", box["cov_level"],
             0.93, 0.97, effect_setting),
            ("interrupted_time_series", f"slope 95% CI coverage{label}", box["cov_slope"],
             0.93, 0.97, effect_setting),
        ]  # fmt: skip
    return rows


def _sts_rows(n_sims: int, rng: np.random.Generator) -> list[tuple]:
    n_pre, h = 70, 30
    n = n_pre + h
    dates = pd.date_range("2020-01-06", periods=n, freq="7D")
    covered = false_pos = 0
    n_null = (n_sims + 1) // 2
    for i in range(n_sims):
        effect = 0.0 if i < n_null else 2.0
        y = 10 + np.cumsum(rng.normal(0, 0.3, n)) + rng.normal(0, 1.0, n)
        controls = None
        if i % 2:
            x = 5 + np.cumsum(rng.normal(0, 0.5, n))
            y = y + 1.5 * x
            controls = pd.DataFrame({"x": x}, index=dates)
        y[n_pre:] += effect
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = structural_time_series(
                pd.Series(y, dates), dates[n_pre], controls, seed=int(rng.integers(2**31))
            )
        truth = effect * h
        covered += r.cumulative_effect.ci_low <= truth <= r.cumulative_effect.ci_high
        false_pos += (i < n_null) and r.p_value < ALPHA
    setting = (
        f"{n_sims} studies: local level, {n_pre} pre + {h} post, half with a control "
        "series; null half / effect 2 per period"
    )
    cov_low, cov_high = _widen(0.93, 0.97, 0.95, n_sims)
    fp_low, fp_high = _widen(0.035, 0.065, 0.05, n_null)
    return [
        ("structural_time_series", "cumulative 95% interval coverage", covered / n_sims,
         cov_low, cov_high, setting),
        ("structural_time_series", "false-positive rate", false_pos / n_null, fp_low, fp_high,
         setting),
    ]  # fmt: skip


def calibrate(
    n_sims: int = 2000,
    seed: int = 0,
    *,
    sts_sims: int | None = None,
    plain_newey_west: bool = False,
) -> pd.DataFrame:
    """One row per check: ``function, check, value, low, high, ok, setting``.

    ``2 * n_sims`` ITS studies (about 50 s for n_sims = 2,000) and ``sts_sims`` structural
    time series studies (default ``min(n_sims, 100)``, about 30 s; 2,000 take 10 minutes;
    0 skips them).
    """
    rng = np.random.default_rng(seed)
    sts_n = min(n_sims, 100) if sts_sims is None else int(sts_sims)
    rows = _its_rows(n_sims, rng, plain_newey_west) + (_sts_rows(sts_n, rng) if sts_n else [])
    table = pd.DataFrame(rows, columns=["function", "check", "value", "low", "high", "setting"])
    table["ok"] = (table["value"] >= table["low"]) & (table["value"] <= table["high"])
    return table[["function", "check", "value", "low", "high", "ok", "setting"]]


if __name__ == "__main__":  # pragma: no cover
    print(calibrate(plain_newey_west=True).to_string())
