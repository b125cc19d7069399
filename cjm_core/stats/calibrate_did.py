"""Calibration of the difference-in-differences functions by simulation.

Simulated panels: 50 units x 10 periods, unit effects and period effects N(0, 1), errors
AR(1) within unit (rho = 0.5, stationary variance 1); the first 25 units are treated from
period 6 on. Checks, each over ``n_sims`` simulated studies:

- :func:`~cjm_core.stats.did.diff_in_diff` (clustered by unit): false-positive rate at
  alpha 0.05 with no effect; coverage of the 95% CI with a planted effect; detection rate
  with that effect against the power predicted from the exact sampling variance of the TWFE
  estimator under this design (``Var = D~' Sigma D~ / (D~'D~)^2``, noncentral t on
  ``G - 1`` df);
- :func:`~cjm_core.stats.did_event.event_study`: rejection rate of the pre-trend test under
  parallel trends, and coverage of the CI of the average post-treatment effect.

Example::

    >>> table = calibrate(n_sims=40, seed=1)
    >>> table.columns.tolist()
    ['function', 'check', 'value', 'low', 'high', 'ok', 'setting']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from .did import diff_in_diff
from .did_event import event_study

UNITS, PERIODS, START, RHO = 50, 10, 6, 0.5
ALPHA = 0.05


def _design() -> pd.DataFrame:
    unit = np.repeat(np.arange(UNITS), PERIODS)
    period = np.tile(np.arange(1, PERIODS + 1), UNITS)
    treated_unit = unit < UNITS // 2
    return pd.DataFrame(
        {
            "unit": unit,
            "period": period,
            "treated": (treated_unit & (period >= START)).astype(int),
            "start": np.where(treated_unit, float(START), np.nan),
        }
    )


def _errors(rng: np.random.Generator) -> np.ndarray:
    """AR(1) errors within unit, stationary with variance 1; shape (units, periods)."""
    e = np.empty((UNITS, PERIODS))
    e[:, 0] = rng.standard_normal(UNITS)
    shocks = rng.standard_normal((UNITS, PERIODS)) * np.sqrt(1 - RHO**2)
    for t in range(1, PERIODS):
        e[:, t] = RHO * e[:, t - 1] + shocks[:, t]
    return e


def _outcome(rng: np.random.Generator, design: pd.DataFrame, effect: float) -> np.ndarray:
    unit_fx = rng.standard_normal(UNITS)[:, None]
    time_fx = rng.standard_normal(PERIODS)[None, :]
    y = unit_fx + time_fx + _errors(rng)
    return y.ravel() + effect * design["treated"].to_numpy()


def exact_sd() -> float:
    """Sampling SD of the TWFE estimate in this design (AR(1) errors, variance 1)."""
    d = _design()["treated"].to_numpy(dtype=float).reshape(UNITS, PERIODS)
    dt = d - d.mean(axis=1, keepdims=True) - d.mean(axis=0) + d.mean()
    lag = np.abs(np.subtract.outer(np.arange(PERIODS), np.arange(PERIODS)))
    sigma = RHO**lag
    num = sum(row @ sigma @ row for row in dt)
    return float(np.sqrt(num) / (dt**2).sum())


def predicted_power(effect: float, alpha: float = ALPHA) -> float:
    """Power of the clustered t-test (t on G - 1 df) at ``effect``: noncentral t."""
    df = UNITS - 1
    crit = sps.t.ppf(1 - alpha / 2, df)
    ncp = effect / exact_sd()
    return float(sps.nct.sf(crit, df, ncp) + sps.nct.cdf(-crit, df, ncp))


def calibrate(n_sims: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per check: ``function, check, value, low, high, ok, setting`` (see the module
    docstring). The full run (2,000 studies, 6,000 regressions) takes about 40 s."""
    rng = np.random.default_rng(seed)
    design = _design()
    effect = 2.5 * exact_sd()  # predicted power about 0.69
    reject_null = covered = detected = pre_reject = es_covered = 0
    for _ in range(n_sims):
        null = design.assign(y=_outcome(rng, design, 0.0))
        r0 = diff_in_diff(null, outcome="y", unit="unit", time="period", treated="treated")
        reject_null += r0.p_value < ALPHA
        es = event_study(null, outcome="y", unit="unit", time="period", treat_time="start")
        pre_reject += es.pretrend_p_value < ALPHA
        es_covered += es.ci_low <= 0.0 <= es.ci_high
        planted = design.assign(y=_outcome(rng, design, effect))
        r1 = diff_in_diff(planted, outcome="y", unit="unit", time="period", treated="treated")
        covered += r1.ci_low <= effect <= r1.ci_high
        detected += r1.p_value < ALPHA
    power = predicted_power(effect)
    null_setting = f"{UNITS} units x {PERIODS} periods, AR(1) rho {RHO}, no effect"
    effect_setting = f"same, effect {effect:.3f} (predicted power {power:.3f})"
    rows = [
        ("diff_in_diff", "false-positive rate", reject_null / n_sims, 0.035, 0.065,
         null_setting),
        ("diff_in_diff", "95% CI coverage", covered / n_sims, 0.93, 0.97, effect_setting),
        ("diff_in_diff", "detection rate vs power", detected / n_sims,
         power - 0.05, power + 0.05, effect_setting),
        ("event_study", "pre-trend rejection rate", pre_reject / n_sims, 0.035, 0.065,
         null_setting + ", 4 leads"),
        ("event_study", "average-effect CI coverage", es_covered / n_sims, 0.93, 0.97,
         null_setting),
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=["function", "check", "value", "low", "high", "setting"])
    table["ok"] = (table["value"] >= table["low"]) & (table["value"] <= table["high"])
    table = table[["function", "check", "value", "low", "high", "ok", "setting"]]
    return table


if __name__ == "__main__":  # pragma: no cover
    print(calibrate().to_string())
