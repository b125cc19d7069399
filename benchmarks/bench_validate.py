"""Benchmark: validate N synthetic event rows, against a bare parse-and-lookup baseline.

The baseline is the least any validation must do: ``pd.to_datetime`` on the timestamps and
``isin`` on the touchpoints. The ratio says what the full contract (types, nulls, zones,
catalog, ranges, duplicates, dtypes, rejected rows) costs on top.

    .venv/bin/python benchmarks/bench_validate.py --rows 1000000
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa

from cjm_core.model import JourneyCatalog
from cjm_core.schema import validate_events

CHANNELS = ["web", "app", "phone", "branch", "atm", "email", "social"]


def make_catalog(n_touchpoints: int = 12) -> JourneyCatalog:
    """A catalog with ``n_touchpoints`` touchpoints spread over 7 channels and 4 stages."""
    stages = [{"id": f"s{i}", "name": f"Stage {i}"} for i in range(4)]
    channels = [{"id": c, "name": c.title()} for c in CHANNELS]
    touchpoints = [
        {
            "id": f"tp{i}",
            "name": f"Touchpoint {i}",
            "channel": CHANNELS[i % 7],
            "stage": f"s{i % 4}",
            "kind": "digital",
        }
        for i in range(n_touchpoints)
    ]
    return JourneyCatalog.from_dict(
        {"name": "bench", "stages": stages, "channels": channels, "touchpoints": touchpoints}
    )


def make_events(rows: int, catalog: JourneyCatalog, seed: int = 0) -> pd.DataFrame:
    """``rows`` valid events as a CSV reader would give them (ISO text with zones)."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-01T00:00:00", "s")
    ts = start + rng.integers(0, 86_400 * 180, rows).astype("timedelta64[s]")
    stamp = np.datetime_as_string(ts, unit="s", timezone="UTC")  # "...Z"
    customers = rng.integers(0, max(rows // 20, 1), rows)
    return pd.DataFrame(
        {
            "customer_id": pd.Series(customers).map("c{:07d}".format).astype("str"),
            "timestamp": pd.Series(stamp).astype("str"),
            "touchpoint": pd.Series(
                np.array(catalog.touchpoint_ids)[rng.integers(0, len(catalog.touchpoints), rows)]
            ).astype("str"),
            "event_type": np.where(rng.random(rows) < 0.03, "conversion", "interaction"),
            "value": np.round(rng.gamma(2.0, 40.0, rows), 2),
            "duration_s": np.round(rng.exponential(90.0, rows), 1),
            "journey_id": pd.Series(customers).map("j{:07d}".format).astype("str"),
            "region": np.array(["north", "south", "east", "west"])[rng.integers(0, 4, rows)],
        }
    )


def corrupt(df: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """Spoil ``share`` of the rows: unknown touchpoints, naive and unparsable timestamps."""
    rng = np.random.default_rng(seed + 1)
    df = df.copy()
    rows = np.flatnonzero(rng.random(len(df)) < share)
    third = len(rows) // 3
    df.loc[rows[:third], "touchpoint"] = "kiosk"
    df.loc[rows[third : 2 * third], "timestamp"] = "2024-03-01 10:00"
    df.loc[rows[2 * third :], "timestamp"] = "yesterday"
    return df


def baseline(df: pd.DataFrame, catalog: JourneyCatalog) -> None:
    pd.to_datetime(df["timestamp"], format="ISO8601", utc=True, errors="coerce")
    df["touchpoint"].isin(catalog.touchpoint_ids)


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bad", type=float, default=0.0, help="share of rows to corrupt (validated leniently)"
    )
    args = parser.parse_args(argv)

    catalog = make_catalog()
    df = make_events(args.rows, catalog, args.seed)
    if args.bad:
        df = corrupt(df, args.bad, args.seed)
    lenient = args.bad > 0
    t_base = timed(lambda: baseline(df, catalog), args.repeat)
    t_val = timed(lambda: validate_events(df, catalog, lenient=lenient), args.repeat)

    pool = pa.default_memory_pool()
    arrow_before = pool.bytes_allocated()
    tracemalloc.start()
    result = validate_events(df, catalog, lenient=lenient)
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    arrow_held = (pool.bytes_allocated() - arrow_before) / 2**20
    assert result.n_in == result.n_kept + result.n_rejected == args.rows
    del result
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    mib = 1024 * 1024
    input_mib = df.memory_usage(deep=True).sum() / mib
    print(
        f"rows                 {args.rows:,}  (input frame {input_mib:,.0f} MiB, "
        f"{args.bad:.1%} corrupted, lenient={lenient})"
    )
    print(f"validate_events      {t_val:.2f} s  = {args.rows / t_val:,.0f} rows/s")
    print(
        f"baseline             {t_base:.2f} s  = {args.rows / t_base:,.0f} rows/s "
        f"(to_datetime + isin)"
    )
    print(f"ratio                {t_val / t_base:.1f}x the baseline")
    print(f"peak traced memory   {py_peak / mib:,.0f} MiB (numpy/pandas, via tracemalloc)")
    print(
        f"arrow pool           {arrow_held:,.0f} MiB "
        f"held by the result's string columns (not traced above)"
    )
    print(f"process peak RSS     {rss_peak:,.0f} MiB (whole run, data generation included)")


if __name__ == "__main__":
    main()
