"""The engine behind :mod:`cjm_core.stats.did`: input checks and a two-way fixed effects fit.

``twfe_fit`` regresses an outcome on a few regressors plus unit and time fixed effects by
OLS (Frisch-Waugh-Lovell: the fixed effects are partialled out exactly, the factor with more
levels by demeaning and the other one by least squares on its demeaned dummies) and returns
the coefficients with one of three covariance matrices:

- ``"cluster"``: Liang-Zeger sandwich summed over clusters, times Stata's CR1 factor
  ``G / (G - 1) * (N - 1) / (N - K)``; t distribution with ``G - 1`` degrees of freedom.
  ``K`` counts the intercept, the regressors and the unit/time effects that are *not*
  nested in the clusters (as Stata's ``xtreg, fe vce(cluster)``; R fixest's default
  ``ssc(fixef.K = "nested")`` likewise leaves nested fixed effects out of K): with unit
  effects and clusters by unit, ``K = 1 + (T - 1) + k``. Without nesting, every fixed
  effect counts, which matches ``regress ..., vce(cluster)`` and statsmodels.
- ``"hc1"``: White sandwich times ``N / (N - K)``; t with ``N - K`` df.
- ``"classical"``: ``s^2 (X'X)^-1`` with ``s^2 = e'e / (N - K)``; t with ``N - K`` df.

For ``"hc1"`` and ``"classical"``, ``K`` is the rank of the full design (all unit and time
effects, the regressors), exactly as ``lm`` with dummies counts it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy import stats as sps

from ..errors import StudyError

SE_TYPES = ("cluster", "hc1", "classical")
FEW_CLUSTERS = 30  # below this many clusters, results carry a warning note


# -- input checks --------------------------------------------------------------------------


def _rows(index: pd.Index, mask: np.ndarray, limit: int = 5) -> str:
    labels = [repr(x) for x in index[mask][:limit]]
    more = ", ..." if int(mask.sum()) > limit else ""
    return ", ".join(labels) + more


def check_frame(
    data: object, roles: dict[str, str], numeric: Sequence[str], allow_nan: Sequence[str] = ()
) -> pd.DataFrame:
    """The columns named in ``roles`` (role -> column) as a fresh frame, checked.

    Raises :class:`StudyError` for a non-DataFrame, missing or repeated columns, missing
    values (with their count and first row labels; except in the roles ``allow_nan``) and
    non-numeric columns in ``numeric``.
    """
    if not isinstance(data, pd.DataFrame):
        raise StudyError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    if data.empty:
        raise StudyError("data has no rows.")
    for role, col in roles.items():
        if not isinstance(col, str):
            raise StudyError(f"{role} must be a column name (a string); got {col!r}.")
    missing = [f"{role}={col!r}" for role, col in roles.items() if col not in data.columns]
    if missing:
        raise StudyError(
            f"Column(s) not found in data: {', '.join(missing)}. "
            f"Available columns: {', '.join(map(str, data.columns))}."
        )
    seen: dict[str, str] = {}
    for role, col in roles.items():
        if col in seen:
            raise StudyError(
                f"Column {col!r} is used both as {seen[col]} and as {role}; "
                "each role needs its own column."
            )
        seen[col] = role
    frame = data[list(roles.values())].copy()
    frame.columns = list(roles)
    for role, col in roles.items():
        if role in allow_nan:
            continue
        nan = frame[role].isna().to_numpy()
        if nan.any():
            raise StudyError(
                f"Column {col!r} ({role}) holds {int(nan.sum())} missing value(s) (NaN) out of "
                f"{len(frame)} rows, at rows {_rows(frame.index, nan)}. Nothing is dropped "
                f"silently: drop or impute them first, e.g. data.dropna(subset=[{col!r}])."
            )
    for role in numeric:
        col = roles[role]
        series = frame[role]
        if series.dtype == bool:
            frame[role] = series.astype(float)
            continue
        if not pd.api.types.is_numeric_dtype(series):
            raise StudyError(
                f"Column {col!r} ({role}) must be numeric; it has dtype {series.dtype}."
            )
        values = series.to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            raise StudyError(
                f"Column {col!r} ({role}) holds {int(bad.sum())} infinite value(s), at rows "
                f"{_rows(frame.index, bad)}; remove them first."
            )
        frame[role] = values
    return frame


def check_binary(frame: pd.DataFrame, role: str, column: str) -> np.ndarray:
    """The 0/1 column ``role`` as floats; other values raise a StudyError listing them."""
    values = frame[role].to_numpy(dtype=float)
    bad = (values != 0) & (values != 1)
    if bad.any():
        shown = sorted(set(frame[role][bad].tolist()))[:5]
        raise StudyError(
            f"Column {column!r} ({role}) must hold only 0 and 1 (or False/True); found "
            f"{int(bad.sum())} other value(s) such as {shown}, at rows "
            f"{_rows(frame.index, bad)}."
        )
    return values


def check_se(se: str, cluster: str | None) -> str:
    if se not in SE_TYPES:
        raise StudyError(f"se must be one of {', '.join(map(repr, SE_TYPES))}; got {se!r}.")
    if cluster is not None and se != "cluster":
        raise StudyError(
            f"cluster={cluster!r} only applies with se='cluster'; got se={se!r}. "
            "Drop the cluster argument or use se='cluster'."
        )
    return se


def codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes 0..n-1 of ``values`` and the sorted distinct values they stand for."""
    try:
        c, uniques = pd.factorize(values, sort=True)
    except TypeError:  # values that cannot be ordered: keep order of appearance
        c, uniques = pd.factorize(values, sort=False)
    return c.astype(np.int64), pd.Index(uniques)


# -- the fit -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Fit:
    """Coefficients of the regressors (fixed effects partialled out) and their covariance."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    df: float
    n_obs: int
    n_units: int
    n_periods: int
    n_clusters: int | None
    k_params: int  # K used in the small-sample factor
    se_type: str

    @property
    def std_errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.vcov), 0, None))


def _group_sum(c: np.ndarray, n: int, m: np.ndarray) -> np.ndarray:
    s = sparse.csr_matrix((np.ones(c.size), (c, np.arange(c.size))), shape=(n, c.size))
    return np.asarray(s @ m)


def _demean(m: np.ndarray, c: np.ndarray, n: int) -> np.ndarray:
    counts = np.bincount(c, minlength=n).astype(float)
    return m - (_group_sum(c, n, m) / counts[:, None])[c]


def _nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True when every level of ``inner`` falls in a single level of ``outer``."""
    pairs = pd.DataFrame({"i": inner, "o": outer}).drop_duplicates()
    return bool(pairs["i"].is_unique)


def twfe_fit(
    y: np.ndarray,
    unit: np.ndarray,
    time: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    *,
    se: str = "cluster",
    cluster: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
) -> Fit:
    """OLS of ``y`` on ``x`` plus unit and time fixed effects (integer codes ``unit``, ``time``).

    ``cluster`` holds integer cluster codes (defaults to ``unit``) and is used only with
    ``se="cluster"``. ``labels`` name the columns of ``x`` in error messages.
    """
    n_obs, k = x.shape
    n_u, n_t = int(unit.max()) + 1, int(time.max()) + 1
    labels = list(labels or names)
    # partial out the factor with more levels by demeaning, the other by least squares
    (ca, na), (cb, nb) = sorted([(unit, n_u), (time, n_t)], key=lambda p: -p[1])
    m = _demean(np.column_stack([y, x]), ca, na)
    rank_b = 0
    if nb > 1:
        dummies = np.zeros((n_obs, nb - 1))
        rows = cb > 0
        dummies[np.flatnonzero(rows), cb[rows] - 1] = 1.0
        dummies = _demean(dummies, ca, na)
        # least squares through the small Gram matrix (pseudo-inverse: the dummies lose rank
        # when the unit-period graph is disconnected)
        w, v = np.linalg.eigh(dummies.T @ dummies)
        keep = w > w.max() * 1e-10
        rank_b = int(keep.sum())
        proj = (v[:, keep] / w[keep]) @ (v[:, keep].T @ (dummies.T @ m))
        m = m - dummies @ proj
    fe_dim = na + rank_b
    yr, xr = m[:, 0], m[:, 1:]
    scale = np.sqrt((x**2).sum(axis=0))
    kept = np.sqrt((xr**2).sum(axis=0))
    for j in range(k):
        if kept[j] <= 1e-9 * max(scale[j], 1.0):
            raise StudyError(
                f"{labels[j]} does not vary once unit and time effects are removed (it is "
                "constant, or a sum of unit-level and period-level terms), so its effect "
                "cannot be estimated. Check the column or drop it."
            )
    gram = xr.T @ xr
    eig = np.linalg.eigvalsh(gram / np.outer(kept, kept))  # scale-free collinearity check
    if k and eig.min() < 1e-10:
        raise StudyError(
            f"The regressors {', '.join(labels)} are collinear once unit and time effects are "
            "removed; drop one of them."
        )
    k_full = fe_dim + k
    if n_obs - k_full <= 0:
        raise StudyError(
            f"Too few observations: {n_obs} rows for {k_full} parameters (unit and time "
            "effects plus regressors)."
        )
    bread = np.linalg.inv(gram)
    coef = bread @ (xr.T @ yr)
    resid = yr - xr @ coef
    n_clusters = None
    if se == "classical":
        df = float(n_obs - k_full)
        vcov = bread * float(resid @ resid) / df
        k_used = k_full
    elif se == "hc1":
        df = float(n_obs - k_full)
        meat = (xr * resid[:, None] ** 2).T @ xr
        vcov = n_obs / df * bread @ meat @ bread
        k_used = k_full
    else:
        cl = unit if cluster is None else cluster
        n_clusters = int(cl.max()) + 1
        if n_clusters < 2:
            raise StudyError("Clustered standard errors need at least 2 clusters; found 1.")
        unit_dim = n_u - 1
        time_dim = fe_dim - 1 - unit_dim
        k_used = 1 + k
        k_used += 0 if _nested(unit, cl) else unit_dim
        k_used += 0 if _nested(time, cl) else time_dim
        scores = _group_sum(cl, n_clusters, xr * resid[:, None])
        factor = n_clusters / (n_clusters - 1) * (n_obs - 1) / (n_obs - k_used)
        vcov = factor * bread @ (scores.T @ scores) @ bread
        df = float(n_clusters - 1)
    return Fit(
        names=tuple(names),
        coef=coef,
        vcov=vcov,
        df=df,
        n_obs=n_obs,
        n_units=n_u,
        n_periods=n_t,
        n_clusters=n_clusters,
        k_params=int(k_used),
        se_type=se,
    )


def describe_se(se: str, cluster_label: str) -> str:
    """One phrase for the method line: which variance, which small-sample correction."""
    if se == "classical":
        return "classical OLS SE (homoskedastic, t with N - K df)"
    if se == "hc1":
        return "heteroskedasticity-robust HC1 SE (t with N - K df)"
    return f"SE clustered by {cluster_label} (CR1: G/(G-1)*(N-1)/(N-K), t with G - 1 df)"


# -- design checks and tables shared by diff_in_diff, event_study and the decomposition -----


def treatment_starts(unit_codes: np.ndarray, time_codes: np.ndarray, d: np.ndarray) -> pd.Series:
    """First treated period code of each ever-treated unit (index: unit code)."""
    treated = pd.Series(time_codes[d == 1]).groupby(unit_codes[d == 1]).min()
    return treated


def check_design(
    unit_codes: np.ndarray,
    time_codes: np.ndarray,
    d: np.ndarray,
    unit_values: pd.Index,
    columns: dict[str, str],
    treated_label: str | None = None,
) -> None:
    """Raise a StudyError when ``d`` cannot identify a DiD effect.

    ``columns`` maps the roles ``unit``, ``time`` and ``treated`` to column names;
    ``treated_label`` describes ``d`` in messages (default: the treated column).
    """
    label = treated_label or f"Column {columns['treated']!r} (treated)"
    if d.min() == d.max():
        raise StudyError(
            f"{label} is {int(d[0])} on every row: a DiD needs both treated and untreated "
            "observations."
        )
    if int(unit_codes.max()) < 1:
        raise StudyError(f"Column {columns['unit']!r} (unit) has a single value; need 2 or more.")
    if int(time_codes.max()) < 1:
        raise StudyError(f"Column {columns['time']!r} (time) has a single value; need 2 or more.")
    untreated_ever = np.bincount(unit_codes, weights=1 - d, minlength=unit_values.size)
    always = np.flatnonzero(untreated_ever == 0)
    if always.size:
        shown = [repr(v) for v in unit_values[always][:5]]
        raise StudyError(
            f"{always.size} unit(s) are never observed untreated ({', '.join(shown)}"
            f"{', ...' if always.size > 5 else ''}): {label} is 1 in every period they "
            "appear, so they have no before period to compare. Add their pre-treatment "
            "periods or drop them."
        )


def switches_off(
    unit_codes: np.ndarray, time_codes: np.ndarray, d: np.ndarray, starts: pd.Series
) -> int:
    """How many units have an untreated row after their first treated period."""
    first = np.full(int(unit_codes.max()) + 1, np.iinfo(np.int64).max)
    first[starts.index.to_numpy()] = starts.to_numpy()
    late_untreated = (d == 0) & (time_codes > first[unit_codes])
    return int(np.unique(unit_codes[late_untreated]).size)


def coefficient_table(fit: Fit, alpha: float) -> pd.DataFrame:
    """Estimate, SE, t, p and CI for every regressor of a :class:`Fit`."""
    se = fit.std_errors
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, fit.coef / se, np.nan)
    p = 2 * sps.t.sf(np.abs(t), fit.df)
    half = sps.t.ppf(1 - alpha / 2, fit.df) * se
    return pd.DataFrame(
        {
            "estimate": fit.coef,
            "std_error": se,
            "statistic": t,
            "p_value": p,
            "ci_low": fit.coef - half,
            "ci_high": fit.coef + half,
        },
        index=list(fit.names),
    )
