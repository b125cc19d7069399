"""Calibration by simulation of the power functions, NPS/CSAT/CES intervals and p-value adjustment.

:func:`calibrate` simulates many studies and checks that

- the detection rate of two-sample/paired t-tests and two-proportion z-tests at a planted
  effect lies within 5 points of what :func:`power_means`, :func:`power_two_proportions`
  and :func:`minimum_detectable_effect` predict (effects planted where they predict 0.5 and
  0.8);
- :func:`nps_difference` has a false-positive rate of 0.035-0.065 with no effect, and the
  NPS, NPS-difference, CSAT and CES 95% intervals cover the truth 93-97% of the time;
- Holm, Hochberg and Bonferroni keep the family-wise error rate under the global null at or
  below 0.05 (plus simulation error) and Benjamini-Hochberg / -Yekutieli keep the false
  discovery rate at or below 0.05 (plus simulation error).

The bands are those of the issue for 2,000 simulations; with fewer simulations each band is
widened to at least 3 simulation standard errors around its target, so a small run is
honest about its noise yet still fails a miscalibrated method.

Example::

    >>> table = calibrate(n_sims=200, seed=1)
    >>> list(table.columns)
    ['function', 'check', 'value', 'low', 'high', 'ok']
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import StudyError
from .multiple import adjust_pvalues
from .power import minimum_detectable_effect, power_means, power_two_proportions
from .proportions import two_proportions
from .scores import ces, csat, nps, nps_difference

__all__ = ["calibrate"]

ALPHA = 0.05
# answer distributions over 0..10 (NPS) and 1..5 / 1..7 (CSAT, CES)
NPS_BEFORE = np.array([2, 1, 2, 3, 4, 8, 10, 15, 20, 17, 18]) / 100
NPS_AFTER = np.array([1, 1, 1, 2, 3, 6, 8, 14, 20, 20, 24]) / 100
CSAT_P = np.array([0.08, 0.12, 0.20, 0.35, 0.25])
CES_P = np.array([0.05, 0.07, 0.10, 0.18, 0.25, 0.20, 0.15])


def _band(target: float, n_sims: int, half: float) -> tuple[float, float]:
    """``target +- half``, widened to 3 simulation standard errors for small ``n_sims``."""
    half = max(half, 3 * math.sqrt(target * (1 - target) / n_sims))
    return target - half, target + half


def _row(function: str, check: str, value: float, low: float, high: float) -> dict:
    return {
        "function": function,
        "check": check,
        "value": float(value),
        "low": float(low),
        "high": float(high),
        "ok": bool(low <= value <= high),
    }


def _true_nps(probs: np.ndarray) -> float:
    return 100 * (probs[9:].sum() - probs[:7].sum())


def _power_rows(n_sims: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    n = 25
    for target in (0.5, 0.8):  # two-sample t-test, effect planted where power = target
        d = minimum_detectable_effect(n, target, tol=1e-10).effect_size
        predicted = power_means(d, n=n, strict=True).power  # both tails, as simulated
        a = rng.normal(0.0, 1.0, (n_sims, n))
        b = rng.normal(d, 1.0, (n_sims, n))
        rate = np.mean(sps.ttest_ind(b, a, axis=1).pvalue < ALPHA)
        low, high = _band(predicted, n_sims, 0.05)
        check = f"detection rate, two-sample t, n={n}, d={d:.3f} (predicted {predicted:.3f})"
        rows.append(_row("power_means", check, rate, low, high))
    d = power_means(None, n=15, power=0.8, kind="paired", sd=2.0, tol=1e-10).effect_size
    predicted = power_means(d, n=15, kind="paired", sd=2.0, strict=True).power
    diffs = rng.normal(d, 2.0, (n_sims, 15))
    rate = np.mean(sps.ttest_1samp(diffs, 0.0, axis=1).pvalue < ALPHA)
    check = f"detection rate, paired t, 15 pairs, delta={d:.3f}, sd=2 (predicted {predicted:.3f})"
    rows.append(_row("power_means", check, rate, *_band(predicted, n_sims, 0.05)))

    p1, n = 0.30, 150
    designs = [
        ("power_two_proportions", power_two_proportions(p1, n=n, power=t, tol=1e-10).p2)
        for t in (0.5, 0.8)
    ]
    mde = minimum_detectable_effect(n, 0.8, kind="proportions", p1=p1, direction="decrease")
    designs.append(("minimum_detectable_effect", mde.p2))
    for function, p2 in designs:
        predicted = power_two_proportions(p1, p2, n=n, strict=True).power
        sa, sb = rng.binomial(n, p1, n_sims), rng.binomial(n, p2, n_sims)
        hits = [
            two_proportions(int(x), n, int(y), n).p_value < ALPHA
            for x, y in zip(sa, sb, strict=True)
        ]
        check = (
            f"detection rate, two proportions {p1:.2f} -> {p2:.3f}, n={n} "
            f"(predicted {predicted:.3f})"
        )
        rows.append(_row(function, check, np.mean(hits), *_band(predicted, n_sims, 0.05)))
    return rows


def _score_rows(n_sims: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    n = 150
    before = rng.choice(11, size=(n_sims, 2, n), p=NPS_BEFORE)
    rejected = np.mean([nps_difference(x[0], x[1]).p_value < ALPHA for x in before])
    rows.append(
        _row("nps_difference", f"false-positive rate, no effect, n={n} per group", rejected,
             *_band(ALPHA, n_sims, 0.015))
    )  # fmt: skip
    truth = _true_nps(NPS_AFTER) - _true_nps(NPS_BEFORE)
    after = rng.choice(11, size=(n_sims, n), p=NPS_AFTER)
    results = [nps_difference(a[0], b) for a, b in zip(before, after, strict=True)]
    covered = np.mean([r.ci_low <= truth <= r.ci_high for r in results])
    rows.append(
        _row("nps_difference", f"95% CI coverage of a {truth:.0f}-point change", covered,
             *_band(0.95, n_sims, 0.02))
    )  # fmt: skip
    for method, size in (("wald", 200), ("adjusted-wald", 40)):
        x = rng.choice(11, size=(n_sims, size), p=NPS_BEFORE)
        truth = _true_nps(NPS_BEFORE)
        covered = np.mean([(r := nps(s, method=method)).ci_low <= truth <= r.ci_high for s in x])
        rows.append(
            _row(
                "nps", f"95% CI coverage ({method}, n={size})", covered, *_band(0.95, n_sims, 0.02)
            )
        )
    x = rng.choice(np.arange(1, 6), size=(n_sims, 60), p=CSAT_P)
    res = [csat(s) for s in x]
    top, mean = CSAT_P[3:].sum(), float(np.arange(1, 6) @ CSAT_P)
    for label, hit in (
        ("top-2-box Wilson", [r.ci_low <= top <= r.ci_high for r in res]),
        ("mean t", [r.mean_ci[0] <= mean <= r.mean_ci[1] for r in res]),
    ):
        check = f"95% CI coverage ({label}, n=60)"
        rows.append(_row("csat", check, np.mean(hit), *_band(0.95, n_sims, 0.02)))
    x = rng.choice(np.arange(1, 8), size=(n_sims, 50), p=CES_P)
    mean = float(np.arange(1, 8) @ CES_P)
    covered = np.mean([(r := ces(s)).ci_low <= mean <= r.ci_high for s in x])
    rows.append(_row("ces", "95% CI coverage (mean t, n=50)", covered, *_band(0.95, n_sims, 0.02)))
    return rows


def _multiple_rows(n_sims: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    m = 10
    p = rng.uniform(size=(n_sims, m))  # global null: every hypothesis true
    family = np.repeat(np.arange(n_sims), m).reshape(n_sims, m)  # one family per study
    high = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / n_sims)
    for method in ("holm", "hochberg", "bonferroni", "fdr_bh"):
        adjusted = adjust_pvalues(p, method, family=family)
        fwer = np.mean((adjusted < ALPHA).any(axis=1))
        what = "FWER" if method != "fdr_bh" else "FDR (= FWER)"
        rows.append(
            _row("adjust_pvalues", f"{what} of {method}, global null, m={m}", fwer, 0.0, high)
        )
    m, m0 = 20, 15  # 15 true nulls, 5 real effects (one-sided z-tests, shift 3)
    z = rng.normal(0.0, 1.0, (n_sims, m))
    z[:, m0:] += 3.0
    p = sps.norm.sf(z)
    family = np.repeat(np.arange(n_sims), m).reshape(n_sims, m)
    for method in ("fdr_bh", "fdr_by"):
        rejected = adjust_pvalues(p, method, family=family) < ALPHA
        false = rejected[:, :m0].sum(axis=1)
        fdp = false / np.maximum(rejected.sum(axis=1), 1)
        high = ALPHA + 3 * max(fdp.std(ddof=1), 1e-12) / math.sqrt(n_sims)
        check = f"FDR of {method}, {m0} nulls + {m - m0} effects"
        rows.append(_row("adjust_pvalues", check, fdp.mean(), 0.0, high))
    return rows


def calibrate(n_sims: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Simulate ``n_sims`` studies per check; one row per check (see the module notes).

    Columns ``function, check, value, low, high, ok``. Deterministic for a given ``seed``;
    the full 2,000 simulations take about 15 seconds.
    """
    if isinstance(n_sims, bool) or not isinstance(n_sims, int) or n_sims < 50:
        raise StudyError(f"n_sims must be a whole number of at least 50; got {n_sims!r}.")
    rng = np.random.default_rng(seed)
    rows = _power_rows(n_sims, rng) + _score_rows(n_sims, rng) + _multiple_rows(n_sims, rng)
    return pd.DataFrame(rows, columns=["function", "check", "value", "low", "high", "ok"])


if __name__ == "__main__":  # pragma: no cover
    with pd.option_context("display.width", 200, "display.max_colwidth", 90):
        print(calibrate().to_string(index=False))
