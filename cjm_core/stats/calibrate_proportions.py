"""Calibration of the proportion tests by simulation (see :mod:`cjm_core.stats.calibration`).

Under no effect (both groups drawn with the same rate) the two-proportion z-test and the
chi-squared test of a 2x3 table reject at about alpha; with a planted difference the Wald
interval of the difference covers it at about 1 - alpha.

    >>> calibrate(n_sims=200, seed=1)["check"].tolist()[:2]
    ['false-positive rate', '95% CI coverage']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .chisquare import chi_square
from .proportions import two_proportions

FPR = (0.035, 0.065)
COVERAGE = (0.93, 0.97)


def calibrate(n_sims: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per check: function, check, value, low, high, ok (and the setting)."""
    rng = np.random.default_rng(seed)
    n = 400
    rows = []
    # no effect: p = 0.3 in both groups
    sa, sb = rng.binomial(n, 0.3, n_sims), rng.binomial(n, 0.3, n_sims)
    tests = [two_proportions(int(a), n, int(b), n) for a, b in zip(sa, sb, strict=True)]
    rejected = np.mean([t.p_value < 0.05 for t in tests])
    rows.append(_row("two_proportions", "false-positive rate", rejected, FPR, "p=0.3, n=400+400"))
    # a planted difference 0.30 -> 0.36: coverage of the difference's interval
    sb = rng.binomial(n, 0.36, n_sims)
    tests = [two_proportions(int(a), n, int(b), n) for a, b in zip(sa, sb, strict=True)]
    covered = np.mean([t.ci_low <= 0.06 <= t.ci_high for t in tests])
    rows.append(_row("two_proportions", "95% CI coverage", covered, COVERAGE, "0.30 -> 0.36"))
    # chi-squared test of independence of a 2x3 table under independence
    cells = np.outer([0.4, 0.6], [0.2, 0.3, 0.5]).ravel()
    tables = rng.multinomial(600, cells, size=n_sims).reshape(n_sims, 2, 3)
    rejected = np.mean([chi_square(t).p_value < 0.05 for t in tables])
    rows.append(_row("chi_square", "false-positive rate", rejected, FPR, "2x3, N=600"))
    return pd.DataFrame(rows)


def _row(function: str, check: str, value: float, bounds: tuple[float, float], setting: str):
    low, high = bounds
    return {
        "function": function,
        "check": check,
        "value": float(value),
        "low": low,
        "high": high,
        "ok": bool(low <= value <= high),
        "setting": setting,
    }
