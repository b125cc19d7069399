"""Key driver analysis: which touchpoint or stage satisfaction drives the overall outcome.

:func:`key_drivers` regresses an outcome (NPS answer, conversion, retention ...) on driver
scores, all z-scored, and splits the model's R² among the drivers two ways:

- **LMG / Shapley** (Lindeman, Merenda and Gold 1980): each driver's gain in R² averaged
  over every order in which the drivers can enter the model; exact (``2^p`` regressions),
  so limited to 12 drivers;
- **relative weights** (Johnson 2000): a fast approximation of the same quantity through an
  orthogonal rotation of the drivers; works for any number of drivers.

Both are reported raw (they sum to R²) and as shares of R², with bootstrap percentile
intervals (rows resampled ``n_boot`` times with a seeded generator). A binary outcome is
analysed as a linear probability model (relative importance then splits its R²).

Missing scores: ``missing="complete"`` drops rows with any missing driver (counted in the
notes); ``missing="pairwise"`` computes each correlation on the rows where both columns are
present -- the usual choice when customers rate only the touchpoints they used, and what
:func:`~cjm_core.voc.drivers_table.driver_table` output is meant for. Every pair must then
share at least ``min_pair`` rows, and the pairwise matrix must be a valid correlation
matrix (positive definite); otherwise the error says which drivers to drop.

Example::

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.normal(size=(300, 3)), columns=["web", "app", "call"])
    >>> df["nps"] = 2 * df["web"] + df["app"] + rng.normal(size=300)
    >>> r = key_drivers(df, "nps", n_boot=0)
    >>> list(r.table["driver"]), round(r.info["r_squared"], 2)
    (['web', 'app', 'call'], 0.83)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import CjmError, ColumnTypeError, MissingColumnError
from ..stats.result import _check_alpha, _check_count
from . import relimp
from .drivers_checks import _check_collinear, _check_pairs, _greedy_keep, _names
from .drivers_result import KeyDrivers

__all__ = ["KeyDrivers", "key_drivers"]

METHODS = ("both", "lmg", "relative_weights")
MISSING = ("complete", "pairwise")
ID_NAMES = ("id", "customer_id", "journey_id", "session_id", "respondent_id")


def key_drivers(
    data: pd.DataFrame,
    outcome: str,
    drivers: list[str] | None = None,
    *,
    method: str = "both",
    n_boot: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
    missing: str = "complete",
    min_pair: int = 20,
    sparse: str = "error",
) -> KeyDrivers:
    """Standardised betas and relative importance (LMG, relative weights) of ``drivers``.

    :param data: one row per unit (customer or journey).
    :param outcome: a numeric or boolean column (a 0/1 outcome is fitted as a linear
        probability model).
    :param drivers: predictor columns; default every other numeric column except ids.
    :param method: ``"both"`` (rank by LMG), ``"lmg"`` or ``"relative_weights"`` (the only
        choice beyond 12 drivers).
    :param n_boot: bootstrap resamples of rows for the intervals (0: no intervals).
    :param missing: ``"complete"`` (drop rows with any missing driver) or ``"pairwise"``.
    :param min_pair: with ``"pairwise"``, the fewest rows any two columns must share.
    :param sparse: with ``"pairwise"``, what to do when some pair shares fewer rows:
        ``"error"`` (say which, and suggest drivers) or ``"drop"`` (leave out, one at a
        time, the driver in most too-small pairs, and name them in the notes).
    :returns: a :class:`KeyDrivers` result; ``table`` has one row per driver, most
        important first; ``info`` holds outcome, r_squared, n (rows used), dropped (rows
        left out), n_boot, method, missing, alpha (and with pairwise n_pair_min/max).

    Rows without the outcome are left out in both modes (counted in the notes). Betas
    come with t intervals and p-values from OLS on z-scores (HC3 for a 0/1 outcome) when
    ``missing="complete"``, with bootstrap percentile intervals and normal p-values from
    the bootstrap standard error when ``missing="pairwise"``.

    Example::

        >>> import pandas as pd
        >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [2, 1, 4, 3, 6, 5],
        ...                    "y": [1, 3, 2, 5, 4, 6]})
        >>> r = key_drivers(df, "y", n_boot=0)
        >>> round(float(r.table["lmg"].sum()), 6) == round(r.info["r_squared"], 6)
        True
    """
    if method not in METHODS:
        raise CjmError(f"method must be one of {', '.join(METHODS)}; got {method!r}.")
    if sparse not in ("error", "drop"):
        raise CjmError(f"sparse must be 'error' or 'drop'; got {sparse!r}.")
    if missing not in MISSING:
        raise CjmError(f"missing must be 'complete' or 'pairwise'; got {missing!r}.")
    n_boot, alpha, min_pair = _check_count(n_boot, "n_boot"), _check_alpha(alpha), int(min_pair)
    if n_boot < 0:
        raise CjmError(f"n_boot must be 0 or more; got {n_boot}.")
    notes = list(getattr(data, "attrs", {}).get("notes", []))
    drivers = _resolve_columns(data, outcome, drivers, notes)
    if method != "relative_weights" and len(drivers) > relimp.MAX_LMG_DRIVERS:
        raise CjmError(
            f"LMG is exact over all 2^p driver subsets and allows at most "
            f"{relimp.MAX_LMG_DRIVERS} drivers; got {len(drivers)}. Use "
            f"method='relative_weights' (Johnson's weights approximate LMG closely) or "
            f"fewer drivers."
        )
    frame, binary = _numeric_frame(data, outcome, drivers)
    n_rows = len(frame)
    frame = _drop_missing(frame, _row_labels(data), outcome, drivers, missing, notes)
    x = frame[drivers + [outcome]].to_numpy(dtype=float)
    _check_rows(frame, outcome, drivers)
    pairwise = missing == "pairwise"
    R, n_pair = relimp.weighted_corr(x, pairwise=pairwise)
    pair_info = {}
    if pairwise and sparse == "drop":
        usable = np.where(np.isnan(R), 0, n_pair)  # no variation on the shared rows: unusable
        keep = _greedy_keep(usable, drivers + [outcome], min_pair)
        if len(keep) < len(drivers):
            if len(keep) < 2:
                raise CjmError(
                    f"Fewer than two drivers share min_pair={min_pair} rows with each other "
                    f"(drivers: {drivers}); key drivers need customers who answered about "
                    "several of them. Use coarser drivers or lower min_pair."
                )
            left_out = [d for d in drivers if d not in keep]
            dropped = data.copy()
            dropped.attrs = {
                **getattr(data, "attrs", {}),
                "notes": notes
                + [f"left out for too few shared answers (< {min_pair} per pair): {left_out}"],
            }
            return key_drivers(
                dropped,
                outcome,
                keep,
                method=method,
                n_boot=n_boot,
                alpha=alpha,
                seed=seed,
                missing=missing,
                min_pair=min_pair,
            )
    if pairwise:
        _check_pairs(n_pair, R, drivers + [outcome], min_pair, notes)
        counts = n_pair[np.triu_indices(len(drivers) + 1, 1)]
        pair_info = {"n_pair_min": int(counts.min()), "n_pair_max": int(counts.max())}
    _check_collinear(R, drivers, pairwise)

    beta, r2 = relimp.standardised_betas(R)
    rw = relimp.relative_weights(R) if method != "lmg" else np.full(len(drivers), np.nan)
    lm = relimp.lmg(R) if method != "relative_weights" else np.full(len(drivers), np.nan)
    boot, failed = relimp.bootstrap(x, n_boot, alpha, seed, pairwise=pairwise, method=method)
    if failed:
        notes.append(
            f"{failed} of {n_boot} bootstrap resample(s) gave a degenerate correlation matrix "
            "(a constant or collinear column, or inconsistent pairwise correlations) and were "
            "left out of the intervals."
        )
    table = pd.DataFrame({"driver": drivers, "beta": beta})
    if pairwise:
        table["beta_low"], table["beta_high"] = boot["beta"]
        se = boot["beta_se"]
        with np.errstate(divide="ignore", invalid="ignore"):
            table["p_value"] = 2 * sps.norm.sf(np.abs(beta) / se)
        notes.append(
            "pairwise: beta intervals are bootstrap percentiles and p-values use the "
            "bootstrap standard error (normal approximation)."
        )
    else:
        low, high, p_value = _ols_inference(frame, outcome, drivers, binary, alpha)
        table["beta_low"], table["beta_high"], table["p_value"] = low, high, p_value
    table["relative_weight"] = rw
    table["rw_low"], table["rw_high"] = boot["rw"]
    table["rw_share"] = rw / r2
    table["lmg"] = lm
    table["lmg_low"], table["lmg_high"] = boot["lmg"]
    table["lmg_share"] = lm / r2
    chosen = "relative_weight" if method == "relative_weights" else "lmg"
    table["rank"] = table[chosen].rank(ascending=False, method="min").astype(int)
    table["n"] = n_pair[:-1, -1].astype(int)
    table = table.sort_values(["rank", "driver"], kind="stable").reset_index(drop=True)
    if binary:
        notes.append(
            f"{outcome} is binary: fitted as a linear probability model (OLS on 0/1); betas "
            "are on the z-scored outcome and relative importance splits its R²"
            + ("." if pairwise else "; beta intervals use HC3 robust standard errors.")
        )
    if n_boot == 0:
        notes.append("n_boot = 0: no bootstrap intervals for the importance measures.")
    shares = pd.DataFrame({"driver": drivers})
    for key in ("rw_share", "lmg_share"):
        shares[f"{key}_low"], shares[f"{key}_high"] = boot[key]
    return KeyDrivers(
        table,
        notes,
        performance=frame[drivers].mean(),
        share_intervals=shares,
        outcome=outcome,
        r_squared=float(r2),
        n=int(len(frame)),
        dropped=n_rows - len(frame),
        **pair_info,
        n_boot=n_boot,
        method=method,
        missing=missing,
        alpha=alpha,
    )


# -- inputs -----------------------------------------------------------------------------


def _resolve_columns(data: Any, outcome: str, drivers: list[str] | None, notes: list[str]):
    if not isinstance(data, pd.DataFrame):
        raise CjmError(f"data must be a pandas DataFrame; got {type(data).__name__}.")
    cols = list(data.columns)
    if outcome not in cols:
        raise MissingColumnError(
            f"outcome column {outcome!r} is not in the data (columns: {_names(cols)})."
        )
    if drivers is None:
        skipped = [c for c in cols if c != outcome and not _is_numeric(data[c])]
        ids = [c for c in cols if str(c).lower() in ID_NAMES or str(c).lower().endswith("_id")]
        drivers = [c for c in cols if c != outcome and c not in skipped and c not in ids]
        if skipped or ids:
            notes.append(f"columns not used as drivers: {_names(sorted(set(skipped) | set(ids)))}.")
        if not drivers:
            raise CjmError(
                f"no numeric driver columns besides {outcome!r}; pass drivers=[...] "
                f"(columns: {_names(cols)})."
            )
        return drivers
    drivers = list(drivers)
    unknown = [d for d in drivers if d not in cols]
    if unknown:
        raise MissingColumnError(
            f"driver column(s) {_names(unknown)} are not in the data (columns: {_names(cols)})."
        )
    if outcome in drivers:
        raise CjmError(f"{outcome!r} is the outcome; remove it from drivers.")
    dupes = sorted({d for d in drivers if drivers.count(d) > 1})
    if dupes:
        raise CjmError(f"driver(s) listed twice: {_names(dupes)}; list each once.")
    if not drivers:
        raise CjmError("drivers is empty; pass at least one driver column.")
    return drivers


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s)


def _numeric_frame(data: pd.DataFrame, outcome: str, drivers: list[str]):
    bad = [c for c in drivers + [outcome] if not _is_numeric(data[c])]
    if bad:
        shown = "; ".join(f"{c!r} e.g. {data[c].dropna().head(3).tolist()}" for c in bad)
        raise ColumnTypeError(
            f"columns must be numeric (or boolean): {shown}. Convert them to numbers "
            "(e.g. scores) or leave them out of drivers."
        )
    frame = data[drivers + [outcome]].astype(float)
    inf = [c for c in frame if np.isinf(frame[c]).any()]
    if inf:
        raise CjmError(f"columns with infinite values: {_names(inf)}; replace them or drop rows.")
    y = frame[outcome].dropna()
    binary = bool(len(y)) and bool(y.isin([0.0, 1.0]).all())
    return frame, binary


def _row_labels(data: pd.DataFrame) -> pd.Series:
    """What names a row in messages: the first id column, else the index."""
    ids = [c for c in data.columns if str(c).lower() in ID_NAMES]
    return data[ids[0]] if ids else pd.Series(data.index, index=data.index)


def _drop_missing(frame, labels, outcome, drivers, missing, notes) -> pd.DataFrame:
    no_y = frame[outcome].isna()
    if no_y.any():
        notes.append(
            f"{int(no_y.sum())} of {len(frame)} row(s) without {outcome!r} dropped "
            f"(first: {_names(labels[no_y][:5].tolist())})."
        )
        frame = frame[~no_y]
    gaps = frame[drivers].isna()
    if missing == "complete":
        drop = gaps.any(axis=1)
        if drop.any():
            worst = gaps.sum().sort_values(ascending=False)
            worst = ", ".join(f"{k}: {int(v)}" for k, v in worst[worst > 0].head(5).items())
            notes.append(
                f"missing='complete': {int(drop.sum())} of {len(frame)} row(s) with a missing "
                f"driver dropped (missing per driver: {worst}); missing='pairwise' keeps them."
            )
        return frame[~drop]
    empty = gaps.all(axis=1)
    if empty.any():
        notes.append(f"{int(empty.sum())} row(s) with no driver score dropped.")
    return frame[~empty]


def _check_rows(frame: pd.DataFrame, outcome: str, drivers: list[str]) -> None:
    p = len(drivers)
    if len(frame) < p + 2:
        raise CjmError(
            f"{len(frame)} usable row(s) for {p} driver(s): need at least {p + 2}. Use fewer "
            "drivers, more data, or missing='pairwise'."
        )
    flat = [c for c in drivers + [outcome] if frame[c].nunique(dropna=True) < 2]
    if flat:
        values = {c: frame[c].dropna().unique()[:1].tolist() for c in flat}
        raise CjmError(
            f"constant (or empty) column(s) on the usable rows: {values}. A constant cannot "
            "drive or be driven; drop it from drivers (or check the filtering upstream)."
        )


def _ols_inference(frame, outcome, drivers, binary, alpha):
    from statsmodels.regression.linear_model import OLS

    z = (frame - frame.mean()) / frame.std(ddof=1)
    fit = OLS(z[outcome], z[drivers].assign(const=1.0)).fit(
        cov_type="HC3" if binary else "nonrobust"
    )
    ci = fit.conf_int(alpha).loc[drivers]
    return ci[0].to_numpy(), ci[1].to_numpy(), fit.pvalues[drivers].to_numpy()
