"""Goodman-Bacon decomposition of a two-way fixed effects DiD estimate.

With staggered adoption, the TWFE coefficient of ``treated`` equals a weighted average of
all 2x2 DiD comparisons between timing groups (units first treated in the same period) and
the never-treated group (Goodman-Bacon 2021, *Journal of Econometrics* 225, Theorem 1):

- *treated vs never treated*: group k against the never treated, all periods;
- *earlier vs later treated*: early group k treated, later group l (not yet treated) as
  control, periods before l starts;
- *later vs earlier treated*: later group l treated, the already-treated early group k as
  control, periods from k's start on. These "forbidden" comparisons are where TWFE goes
  wrong when effects change over time.

The weights (eq. 10e-g) grow with group sizes and with the variance of treatment within each
pair; they sum to one and reproduce the TWFE coefficient exactly on a balanced panel
without covariates (the only case supported here).

Example (Naqvi's three-unit example; Stata ``bacondecomp`` prints 2, 4 and 2.9333 with
weights .1818, .1364 and .6818)::

    >>> import pandas as pd
    >>> rows = [(i, t, (i == 2 and t >= 5) or (i == 3 and t >= 8)) for i in (1, 2, 3)
    ...         for t in range(1, 11)]
    >>> df = pd.DataFrame(rows, columns=["id", "t", "D"]).astype({"D": int})
    >>> df["Y"] = df["D"] * df["id"].map({1: 0, 2: 2, 3: 4})
    >>> b = bacon_decomposition(df, outcome="Y", unit="id", time="t", treated="D")
    >>> round(b.estimate, 6), b.by_type["weight"].round(4).tolist()
    (2.909091, [0.6818, 0.1818, 0.1364])
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import StudyError
from .did_fit import check_binary, check_design, check_frame, codes, twfe_fit
from .result import _fmt

TYPES = ("treated vs never treated", "earlier vs later treated", "later vs earlier treated")


@dataclass(frozen=True, eq=False)
class BaconResult:
    """The 2x2 comparisons behind a TWFE estimate.

    ``comparisons``: one row per 2x2 (``type``, ``treated_group`` and ``control_group``
    named by their first treated period or ``"never"``, ``estimate``, ``weight``);
    ``by_type``: total weight and weighted mean estimate of each type; ``estimate``: the
    TWFE coefficient, equal to ``(weight * estimate).sum()`` over ``comparisons``.
    """

    estimate: float
    comparisons: pd.DataFrame
    by_type: pd.DataFrame
    n: dict[str, int]
    method: str = "Goodman-Bacon decomposition of the two-way fixed effects DiD estimate"

    @property
    def weighted_sum(self) -> float:
        c = self.comparisons
        return float((c["weight"] * c["estimate"]).sum())

    def to_frame(self) -> pd.DataFrame:
        """The comparisons table (one row per 2x2 DiD)."""
        return self.comparisons.copy()

    def summary(self) -> str:
        lines = [self.method, "  " + ", ".join(f"{k}: {v}" for k, v in self.n.items())]
        lines.append(f"  TWFE estimate = {self.estimate:.6g} = sum of weight * estimate")
        lines.extend("  " + s for s in self.by_type.round(5).to_string().splitlines())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = (
            f"<div><strong>{html.escape(self.method)}</strong>"
            f"<p>TWFE estimate = {html.escape(_fmt(self.estimate))}</p>"
        )
        fmt = "{:.4g}".format
        return (
            head
            + self.by_type.to_html(float_format=fmt)
            + self.comparisons.to_html(float_format=fmt)
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"BaconResult(estimate={self.estimate:.6g}, comparisons={len(self.comparisons)})"


def bacon_decomposition(
    data: pd.DataFrame, *, outcome: str, unit: str, time: str, treated: str
) -> BaconResult:
    """Goodman-Bacon decomposition of the TWFE DiD coefficient of ``treated``.

    Needs a balanced panel (exactly one row per unit and period), a 0/1 ``treated`` that
    stays on once it starts, no covariates, and no unit treated in every period. The
    weighted sum of the 2x2 estimates equals the TWFE coefficient to rounding error.

    Example::

        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": [1] * 3 + [2] * 3 + [3] * 3, "t": [1, 2, 3] * 3,
        ...                    "y": [0, 0, 0, 0, 1, 1, 0, 0, 3], "d": [0, 0, 0, 0, 1, 1, 0, 0, 1]})
        >>> b = bacon_decomposition(df, outcome="y", unit="u", time="t", treated="d")
        >>> round(b.weighted_sum - b.estimate, 12)
        0.0
    """
    roles = {"outcome": outcome, "unit": unit, "time": time, "treated": treated}
    frame = check_frame(data, roles, ["outcome", "treated"])
    d = check_binary(frame, "treated", treated)
    u, units = codes(frame["unit"])
    t, _ = codes(frame["time"])
    check_design(u, t, d, units, roles)
    cells = pd.Series(1, index=pd.MultiIndex.from_arrays([u, t])).groupby(level=[0, 1]).size()
    if cells.max() > 1 or cells.size < units.size * (t.max() + 1):
        raise StudyError(
            "The Goodman-Bacon decomposition needs a balanced panel: exactly one row per unit "
            f"and period ({units.size} units x {t.max() + 1} periods = "
            f"{units.size * (t.max() + 1)} rows); found {len(frame)} rows"
            f"{' with repeated unit-period cells' if cells.max() > 1 else ''}."
        )
    first = pd.Series(t[d == 1]).groupby(u[d == 1]).min()
    start = np.full(units.size, -1)
    start[first.index.to_numpy()] = first.to_numpy()
    if ((d == 0) & (start[u] >= 0) & (t > start[u])).any():
        raise StudyError(
            f"Column {treated!r} (treated) switches off again for some units; the "
            "decomposition needs treatment to stay on once it starts."
        )
    return _decompose(frame)


def _decompose(frame: pd.DataFrame) -> BaconResult:
    """Decomposition of a checked balanced panel (columns outcome, unit, time, treated)."""
    u, _ = codes(frame["unit"])
    t, periods = codes(frame["time"])
    y = frame["outcome"].to_numpy(dtype=float)
    d = frame["treated"].to_numpy(dtype=float)
    n_units, n_t = int(u.max()) + 1, int(t.max()) + 1
    ymat = np.zeros((n_units, n_t))
    dmat = np.zeros((n_units, n_t))
    ymat[u, t], dmat[u, t] = y, d
    treated_periods = dmat.sum(axis=1)
    start = np.where(treated_periods > 0, n_t - treated_periods, np.inf)  # absorbing
    groups = np.unique(start)  # timing groups (np.inf = never treated), sorted
    share = np.array([(start == g).mean() for g in groups])
    mean = np.array([ymat[start == g].mean(axis=0) for g in groups])  # group x period
    dbar = np.array([0.0 if np.isinf(g) else (n_t - g) / n_t for g in groups])

    def did(a: int, b: int, lo: int, mid: int, hi: int) -> float:
        """(a after - a before) - (b after - b before), before = [lo, mid), after = [mid, hi)."""
        change = mean[:, mid:hi].mean(axis=1) - mean[:, lo:mid].mean(axis=1)
        return float(change[a] - change[b])

    def name(i: int) -> str:
        return "never" if np.isinf(groups[i]) else str(periods[int(groups[i])])

    rows = []
    timing = [i for i, g in enumerate(groups) if not np.isinf(g)]
    never = [i for i, g in enumerate(groups) if np.isinf(g)]
    for k in timing:
        g = int(groups[k])
        for j in never:
            nk = share[k] / (share[k] + share[j])
            s = (share[k] + share[j]) ** 2 * nk * (1 - nk) * dbar[k] * (1 - dbar[k])
            rows.append((TYPES[0], name(k), name(j), did(k, j, 0, g, n_t), s))
    for a, k in enumerate(timing):
        for l in timing[a + 1 :]:  # noqa: E741 - l is the paper's name for the later group
            gk, gl = int(groups[k]), int(groups[l])
            nkl = share[k] / (share[k] + share[l])
            base = (share[k] + share[l]) ** 2 * nkl * (1 - nkl)
            dk, dl = dbar[k], dbar[l]
            s_early = base * (1 - dl) ** 2 * (dk - dl) / (1 - dl) * (1 - dk) / (1 - dl)
            s_late = base * dk**2 * dl / dk * (dk - dl) / dk
            rows.append((TYPES[1], name(k), name(l), did(k, l, 0, gk, gl), s_early))
            rows.append((TYPES[2], name(l), name(k), did(l, k, gk, gl, n_t), s_late))
    table = pd.DataFrame(
        rows, columns=["type", "treated_group", "control_group", "estimate", "weight"]
    )
    # V^D: variance of treatment after removing unit and period means (balanced panel)
    dtil = dmat - dmat.mean(axis=1, keepdims=True) - dmat.mean(axis=0) + dmat.mean()
    vd = float((dtil**2).mean())
    table["weight"] = table["weight"] / vd
    if abs(table["weight"].sum() - 1) > 1e-8:  # pragma: no cover - Theorem 1 guarantees it
        raise StudyError("internal error: Goodman-Bacon weights do not sum to one")
    weighted = table.assign(product=table["weight"] * table["estimate"])
    by_type = weighted.groupby("type", sort=False)[["weight", "product"]].sum()
    by_type["estimate"] = by_type.pop("product") / by_type["weight"]
    by_type = by_type.reindex([x for x in TYPES if x in set(table["type"])])
    by_type.index.name = None
    fit = twfe_fit(y, u, t, d[:, None], ["treated"], se="classical")
    n = {
        "units": n_units,
        "periods": n_t,
        "timing_groups": len(timing),
        "never_treated_units": int(np.isinf(start).sum()),
    }
    return BaconResult(estimate=float(fit.coef[0]), comparisons=table, by_type=by_type, n=n)
