"""How fast the synthetic generator runs: rows per second for 5k and 50k customers.

Run: ``.venv/bin/python benchmarks/bench_generate.py [--templates banking retail]``.
Times simulation alone and simulation plus writing Parquet (the ``cjm generate`` path).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from cjm_core.datasets import write_dataset
from cjm_core.plugins import get_registry


def bench(template: str, customers: int, seed: int = 7) -> str:
    t = get_registry().template(template)
    start = time.perf_counter()
    data = t.generate(customers=customers, seed=seed)
    simulated = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        write_dataset(data, out)
    total = time.perf_counter() - start
    rows = {name: len(df) for name, df in data.tables.items()}
    n = sum(rows.values())
    return (
        f"{template:8s} {customers:>7,d} customers  {simulated:6.2f} s simulate  "
        f"{total:6.2f} s with parquet  {n / total:>10,.0f} rows/s  "
        + "  ".join(f"{k}={v:,d}" for k, v in rows.items())
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--templates", nargs="+", default=["banking", "retail"])
    parser.add_argument("--customers", nargs="+", type=int, default=[5_000, 50_000])
    args = parser.parse_args()
    for template in args.templates:
        for customers in args.customers:
            print(bench(template, customers), flush=True)


if __name__ == "__main__":
    main()
