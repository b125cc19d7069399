"""Calibration of every statistical method by simulation, printed by ``cjm calibrate``.

Each area has a module ``cjm_core.stats.calibrate_<area>`` with
``calibrate(n_sims, seed) -> DataFrame`` (one row per check: function, check, value, low,
high, ok, setting). The bounds are the workspace's promise (see docs/statistics.md): under
no effect a test rejects at alpha = 0.05 between 3.5% and 6.5% of the time over 2,000
simulated studies; 95% intervals cover the truth 93-97% of the time; with a planted effect
the detection rate is within 5 points of the power the power functions predict.

    >>> table = run_all(n_sims=100, areas=["proportions"], progress=None)
    >>> list(table.columns)[:4]
    ['area', 'function', 'check', 'value']
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable

import pandas as pd

from ..errors import CjmError

AREAS = ("proportions", "means", "power", "did", "timeseries")


def run_all(
    n_sims: int = 2000,
    seed: int = 0,
    areas: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = print,
    full: bool = False,
) -> pd.DataFrame:
    """Run the calibration of ``areas`` (all by default); one row per check, with its area
    and the seconds the area took. The structural time series is slow to fit (about 0.3 s a
    study): it runs ``min(n_sims, 100)`` studies unless ``full`` (then ``n_sims``, about 10
    minutes for 2,000), with its bounds widened for the smaller count."""
    chosen = list(AREAS if areas is None else areas)
    unknown = [a for a in chosen if a not in AREAS]
    if unknown:
        raise CjmError(f"Unknown calibration area(s) {unknown}; choose among {list(AREAS)}.")
    if n_sims < 1:
        raise CjmError(f"n_sims must be at least 1; got {n_sims}.")
    frames = []
    for i, area in enumerate(chosen, 1):
        module = importlib.import_module(f"cjm_core.stats.calibrate_{area}")
        if progress:
            progress(f"[{i}/{len(chosen)}] {area}: {n_sims} simulated studies per check ...")
        start = time.perf_counter()
        extra = {"sts_sims": n_sims} if full and area == "timeseries" else {}
        table = module.calibrate(n_sims=n_sims, seed=seed, **extra)
        seconds = time.perf_counter() - start
        frames.append(table.assign(area=area, seconds=round(seconds, 1)))
        if progress:
            failed = int((~table["ok"]).sum())
            progress(f"      {len(table)} checks, {failed} outside bounds, {seconds:.1f} s")
    out = pd.concat(frames, ignore_index=True)
    return out[["area", *[c for c in out.columns if c != "area"]]]


def format_table(table: pd.DataFrame) -> str:
    """The table as aligned text, one check per line, ``ok`` or ``OUTSIDE``."""
    names = [f"{r.function}: {r.check}" for r in table.itertuples(index=False)]
    width = max(len(n) for n in names)
    lines = []
    for name, row in zip(names, table.itertuples(index=False), strict=True):
        setting = getattr(row, "setting", "")
        setting = "" if not isinstance(setting, str) else setting
        low, high = max(row.low, 0.0), min(row.high, 1.0)
        lines.append(
            f"{row.area:12s} {name:{width}s} {row.value:7.4f} in [{low:.3f}, {high:.3f}]  "
            f"{'ok' if row.ok else 'OUTSIDE':8s} {setting}".rstrip()
        )
    failed = int((~table["ok"]).sum())
    lines.append(f"{len(table)} checks, {failed} outside their bounds")
    return "\n".join(lines)
