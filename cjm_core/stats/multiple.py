"""Adjusting p-values for multiple comparisons (R's ``p.adjust``), optionally per family.

When a study compares many metrics, some p-values fall below 0.05 by chance alone. The
adjusted p-values compare directly to ``alpha``: reject where ``adjusted < alpha``.

- ``"holm"`` (default), ``"bonferroni"``, ``"hochberg"``: control the family-wise error
  rate (the chance of *any* false positive in the family). Holm is never less powerful than
  Bonferroni and valid under any dependence; Hochberg needs independent or positively
  dependent tests.
- ``"fdr_bh"`` (Benjamini-Hochberg) and ``"fdr_by"`` (Benjamini-Yekutieli, valid under any
  dependence): control the false discovery rate (the expected share of false positives
  among the rejections); more powerful, suited to screening many metrics.

Example::

    >>> adjust_pvalues([0.01, 0.02, 0.03, 0.04, 0.05], "holm").round(3).tolist()
    [0.05, 0.08, 0.09, 0.09, 0.09]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import StudyError

__all__ = ["adjust_pvalues"]

_METHODS = {
    "holm": "holm",
    "bonferroni": "bonferroni",
    "hochberg": "hochberg",
    "fdr_bh": "fdr_bh",
    "bh": "fdr_bh",
    "fdr": "fdr_bh",
    "fdr_by": "fdr_by",
    "by": "fdr_by",
}


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    """R's ``p.adjust`` on a 1-D array; NaNs stay NaN and do not count in ``m``."""
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "bonferroni":
        adj = np.minimum(1.0, m * q)
    elif method == "holm":  # step-down: (m - i + 1) p_(i), running maximum
        order = np.argsort(q, kind="stable")
        steps = (m - np.arange(m)) * q[order]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.maximum.accumulate(steps))
    else:  # step-up methods: from the largest p-value down, running minimum
        order = np.argsort(-q, kind="stable")
        i = np.arange(m, 0, -1)  # rank of each p-value, largest first
        if method == "hochberg":
            steps = (m - i + 1) * q[order]
        else:
            factor = np.sum(1.0 / np.arange(1, m + 1)) if method == "fdr_by" else 1.0
            steps = factor * m / i * q[order]
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.minimum.accumulate(steps))
    out[ok] = adj
    return out


def _as_pvalues(p: Any) -> np.ndarray:
    try:
        arr = np.asarray(p, dtype=float)
    except (TypeError, ValueError) as exc:
        raise StudyError(f"p must hold numbers (p-values) only: {exc}") from None
    flat = arr.ravel()
    bad = np.flatnonzero(~np.isnan(flat) & ~((flat >= 0) & (flat <= 1)))
    if bad.size:
        examples = ", ".join(f"position {i}: {float(flat[i])!r}" for i in bad[:5])
        raise StudyError(
            f"p holds {bad.size} value(s) outside [0, 1] ({examples}); p-values lie between "
            "0 and 1. Pass p-values, not test statistics; use NaN for missing tests."
        )
    return arr


def _family_codes(family: Any, p: Any, size: int) -> np.ndarray:
    if isinstance(family, pd.Series) and isinstance(p, pd.Series):
        if not family.index.equals(p.index):
            raise StudyError(
                "family and p are Series with different indexes; align them first "
                "(family.reindex(p.index)) so each p-value gets its own family label."
            )
    labels = pd.Series(np.asarray(family, dtype=object).ravel())
    if labels.size != size:
        raise StudyError(
            f"family must give one label per p-value: got {labels.size} labels for {size} p-values."
        )
    missing = np.flatnonzero(labels.isna().to_numpy())
    if missing.size:
        raise StudyError(
            f"family holds {missing.size} missing label(s) (at positions "
            f"{missing[:5].tolist()}); give every p-value a family."
        )
    return pd.factorize(labels)[0]


def adjust_pvalues(p: Any, method: str = "holm", *, family: Any = None) -> Any:
    """Adjust p-values for multiple comparisons, as R's ``p.adjust``; optionally per family.

    ``p``: a list, NumPy array (any shape), pandas Series or DataFrame of p-values. The
    result has the same shape: a Series keeps its index and name, a DataFrame its index and
    columns, an array its shape; a list becomes a 1-D array. ``method``: ``"holm"``,
    ``"bonferroni"``, ``"hochberg"``, ``"fdr_bh"`` (aliases ``"bh"``, ``"fdr"``) or
    ``"fdr_by"`` (``"by"``); see the module notes.

    **Missing values** (NaN) are kept as NaN and excluded from the number of comparisons
    ``m``, exactly as R's ``p.adjust`` (whose default ``n = length(p)`` is evaluated after
    dropping NAs). Values outside [0, 1] raise a :class:`~cjm_core.errors.StudyError`.

    **Families**: ``family`` gives one label per p-value and the correction is applied
    within each family separately (``m`` is the family's size). Which comparisons belong
    together is the caller's choice and should be fixed before looking at the data: e.g.
    all metrics of one touchpoint form a family, so a study of 5 touchpoints x 4 metrics
    corrects for 4 tests per touchpoint; leaving ``family=None`` treats all p-values as one
    family (the conservative choice).

    Example::

        >>> p = pd.Series([0.01, 0.04, 0.03, 0.20], index=["conv", "aov", "nps", "csat"])
        >>> adjust_pvalues(p, "fdr_bh").round(3).tolist()
        [0.04, 0.053, 0.053, 0.2]
        >>> adjust_pvalues(p, "holm", family=["web", "web", "app", "app"]).tolist()
        [0.02, 0.04, 0.06, 0.2]
    """
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise StudyError(
            f"method must be one of {sorted(set(_METHODS.values()))} (or an alias "
            f"'bh', 'fdr', 'by'); got {method!r}."
        )
    method = _METHODS[method.lower()]
    arr = _as_pvalues(p)
    flat = arr.ravel()
    if family is None:
        adjusted = _adjust(flat, method)
    else:
        codes = _family_codes(family, p, flat.size)
        adjusted = np.full(flat.shape, np.nan)
        for code in np.unique(codes):
            members = codes == code
            adjusted[members] = _adjust(flat[members], method)
    adjusted = adjusted.reshape(arr.shape)
    if isinstance(p, pd.Series):
        return pd.Series(adjusted, index=p.index, name=p.name)
    if isinstance(p, pd.DataFrame):
        return pd.DataFrame(adjusted, index=p.index, columns=p.columns)
    return adjusted
