"""Checks of the correlation matrix behind :func:`cjm_core.voc.drivers.key_drivers`: enough
rows shared by every two columns (pairwise), variation on them, no collinear drivers."""

from __future__ import annotations

import numpy as np

from ..errors import CjmError
from . import relimp


def _check_pairs(n_pair, R, names, min_pair, notes) -> None:
    q = len(names)
    iu = np.triu_indices(q, 1)
    counts = n_pair[iu]
    notes.append(
        f"missing='pairwise': each correlation uses the rows where both columns are present; "
        f"n per pair from {int(counts.min())} to {int(counts.max())}."
    )
    sparse = [
        (names[i], names[j], int(n_pair[i, j]))
        for i, j in zip(*iu, strict=True)
        if n_pair[i, j] < min_pair
    ]
    if sparse:
        keep = _greedy_keep(n_pair, names, min_pair)
        shown = ", ".join(f"{a}~{b} ({n})" for a, b, n in sparse[:8])
        more = f" and {len(sparse) - 8} more" if len(sparse) > 8 else ""
        raise CjmError(
            f"missing='pairwise' needs at least min_pair={min_pair} rows shared by every two "
            f"columns; too few for: {shown}{more}. Drop drivers (e.g. drivers={keep}), use coarser "
            "drivers (driver_table(level='stage') for touchpoints), or lower min_pair."
        )
    nan = [(names[i], names[j]) for i, j in zip(*iu, strict=True) if np.isnan(R[i, j])]
    if nan:
        raise CjmError(
            f"no variation on the shared rows of: {', '.join(f'{a}~{b}' for a, b in nan[:8])}; "
            "drop one driver of each pair."
        )


def _greedy_keep(n_pair, names, min_pair) -> list[str]:
    """Drivers left after repeatedly dropping the one in most too-small pairs (ties: the
    one with fewest answers)."""
    keep = list(range(len(names) - 1))
    out = len(names) - 1
    while keep:
        idx = keep + [out]
        bad = (n_pair[np.ix_(idx, idx)] < min_pair).sum(axis=1)[:-1]
        if not bad.any():
            break
        keep.remove(max(zip(bad, -np.diag(n_pair)[keep], keep, strict=True))[2])
    return [names[k] for k in keep]


def _check_collinear(R: np.ndarray, drivers: list[str], pairwise: bool) -> None:
    rxx = R[:-1, :-1]
    evals, evecs = np.linalg.eigh(rxx)
    if evals[0] <= relimp.EIGEN_TOL:
        involved = [drivers[i] for i in np.flatnonzero(np.abs(evecs[:, 0]) > 0.1)]
        if pairwise and evals[0] < -relimp.EIGEN_TOL:
            raise CjmError(
                f"the pairwise correlations of {_names(involved)} contradict each other (the "
                f"matrix is not positive definite, smallest eigenvalue {evals[0]:.3g}): they "
                "come from different rows. Drop one of these drivers, use stages instead of "
                "touchpoints, or missing='complete'."
            )
        raise CjmError(
            f"drivers {_names(involved)} are (almost) perfectly collinear: one is a linear "
            f"combination of the others (smallest eigenvalue {evals[0]:.3g}). Drop one of "
            "them or combine them into one score."
        )
    if relimp.min_eigenvalue(R) <= relimp.EIGEN_TOL:
        if pairwise:
            raise CjmError(
                "the pairwise correlations with the outcome are inconsistent with those among "
                "the drivers (R² would reach or pass 1). Drop drivers, use stages, or "
                "missing='complete'."
            )
        raise CjmError("the outcome is an exact linear function of the drivers (R² = 1).")


def _names(items) -> str:
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:10])
    return shown + (f" ... ({len(items)} in all)" if len(items) > 10 else "")
