"""Journey benchmark: the full journey summary on DuckDB (cjm) vs plain pandas, same run.

Run: ``.venv/bin/python benchmarks/bench_journeys.py [--events 1000000 10000000]
[--repeats 3] [--impl cjm pandas sql] [--threads 2]``.

For each log size (synthetic, cached as Parquet under ``benchmarks/.cache/``, see
``eventlog.py``) and each implementation, every repeat runs in a fresh Python process that
reads the Parquet file and computes the summary: journeys (30-min gap, split after a
conversion), the top-20 path variants, first-order transitions and a 4-step ordered funnel
within 7 days. Reported: median and minimum seconds of the summary (imports excluded), the
peak resident memory of the whole process (imports included), the pandas/cjm ratio, and a
warning when the implementations disagree on the headline numbers (journey count, top
variant count, funnel counts).

Implementations: ``cjm`` prepares the events once (``prepare_events``) and calls the cjm_core
analyses (build_journeys, path_variants, transitions, funnel), the journey table kept on the
engine; ``cjm_frame`` the same plus the journey table brought into pandas (``to_frame()``);
``pandas`` is ``journey_baseline.py``, careful pandas; ``pandas_join`` the same with paths
joined by the common (10x slower) ``.agg(" > ".join)``; ``sql`` is a hand-tuned DuckDB SQL
pipeline (:func:`reference_sql`), a yardstick, not part of cjm. Speed-ups are printed against
both pandas baselines.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from eventlog import FUNNEL, event_log_path  # noqa: E402

#: The issue's targets for the 10M-event summary.
TARGET_SECONDS, TARGET_GB, TARGET_RATIO = 6.0, 2.0, 7.0
ANALYSES = [
    ("build_journeys", "cjm_core.journeys", {}),
    ("path_variants", "cjm_core.variants", {"top": 20}),
    ("transitions", "cjm_core.transitions", {"order": 1}),
    ("funnel", "cjm_core.funnels", {"steps": FUNNEL, "window": "7D", "mode": "ordered"}),
]


# -- the workers (each runs in its own process) -----------------------------------------------


def run_cjm_frame(path: str, threads: int) -> dict[str, Any]:
    """:func:`run_cjm`, and the journey table brought into pandas (``to_frame()``) within
    the timed summary, as the pandas baseline has it."""
    return run_cjm(path, threads, frame=True)


def run_cjm(path: str, threads: int, frame: bool = False) -> dict[str, Any]:
    """Time the cjm analyses that exist on a fresh DuckDB engine. The journey table stays on
    the engine (as in the SQL yardstick) unless ``frame``."""
    from cjm_core.engine import duckdb_engine

    engine = duckdb_engine(threads=threads)
    try:
        from cjm_core.prepared import prepare_events
    except ImportError:  # versions before the shared journey table
        prepare_events = None
    found, missing = [], []
    for name, module, options in ANALYSES:
        try:
            found.append((name, getattr(importlib.import_module(module), name), options))
        except (ImportError, AttributeError):
            missing.append(name)
    parts, headline, journeys = {}, {}, None
    start = time.perf_counter()
    events = path
    if prepare_events is not None:  # read and sessionise once, shared by the analyses
        events = prepare_events(path, gap="30min", engine=engine)
        parts["prepare_events"] = time.perf_counter() - start
    for name, fn, options in found:
        tick = time.perf_counter()
        result = fn(events, **options)
        journeys = result if name == "build_journeys" else journeys
        headline.update(_headline(name, result))
        parts[name] = time.perf_counter() - tick
    if frame and journeys is not None:
        tick = time.perf_counter()
        journeys.to_frame()
        parts["journeys.to_frame"] = time.perf_counter() - tick
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "parts": parts, "headline": headline, "missing": missing}


def _headline(name: str, result: Any) -> dict[str, Any]:
    if name == "build_journeys":  # counted on the engine, where the journey table is kept
        return {"journeys": len(result)}
    frame = result.to_frame()
    if name == "path_variants":
        shown = frame[~frame.iloc[:, 0].astype(str).str.startswith("(other")]
        return {"top_variant": int(shown["journeys"].iloc[0]) if len(shown) else 0}
    if name == "funnel":
        return {"funnel": [int(x) for x in frame["customers"]]}
    return {}


def run_pandas(path: str, threads: int, paths: str = "sum") -> dict[str, Any]:
    """Time the plain pandas summary (``threads`` is ignored: pandas runs on one core)."""
    import journey_baseline as baseline

    start = time.perf_counter()
    summary = baseline.journey_summary(path, steps=FUNNEL, paths=paths)
    return {"seconds": time.perf_counter() - start, "parts": {}, "headline": summary.headline()}


def run_sql(path: str, threads: int) -> dict[str, Any]:
    """Time the hand-tuned DuckDB SQL pipeline (the README's recommended design)."""
    import duckdb

    con = duckdb.connect(config={"threads": threads})
    start = time.perf_counter()
    headline, parts = reference_sql(con, path, FUNNEL)
    return {"seconds": time.perf_counter() - start, "parts": parts, "headline": headline}


def run_pandas_join(path: str, threads: int) -> dict[str, Any]:
    """The pandas summary with paths joined by the common ``.agg(" > ".join)``."""
    return run_pandas(path, threads, paths="join")


WORKERS = {
    "cjm": run_cjm,
    "cjm_frame": run_cjm_frame,
    "pandas": run_pandas,
    "sql": run_sql,
    "pandas_join": run_pandas_join,
}


def reference_sql(con: Any, path: str, steps: list[str]) -> tuple[dict[str, Any], dict]:
    """The summary as hand-tuned DuckDB SQL: integer codes and keys, one shared sessionised
    table (two window sorts), then only group-bys and hash joins.

    The path key XORs a one-argument hash of (step, code): DuckDB's two-argument
    ``hash(a, b)`` combines by XOR, so its XOR or sum over a journey collides massively."""
    parts: dict[str, float] = {}
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        parts[name] = time.perf_counter() - tick
        tick = time.perf_counter()

    src = f"read_parquet('{path}')"
    con.execute(
        f"CREATE TEMP TABLE codes AS SELECT touchpoint, "
        f"(row_number() OVER (ORDER BY touchpoint))::UTINYINT AS code FROM {src} GROUP BY 1"
    )
    gap = 30 * 60 * 1_000_000
    con.execute(f"""
        CREATE TEMP TABLE s AS
        WITH b AS (
            SELECT hash(customer_id) AS c, epoch_us(timestamp) AS ts, codes.code,
                   event_type = 'conversion' AS conv
            FROM {src} JOIN codes USING (touchpoint)),
        w1 AS (
            SELECT c, ts, code, conv,
                coalesce(ts - lag(ts) OVER w > {gap} OR lag(conv) OVER w, true) AS new,
                coalesce(lead(ts) OVER w - ts > {gap} OR conv, true) AS last,
                lag(code) OVER w AS prev, row_number() OVER w AS rn
            FROM b WINDOW w AS (PARTITION BY c ORDER BY ts))
        SELECT c, ts, code, conv, last, CASE WHEN new THEN 0 ELSE prev END AS prev,
            sum(new::INT) OVER w2 AS jno, rn - max(CASE WHEN new THEN rn END) OVER w2 AS step
        FROM w1 WINDOW w2 AS (PARTITION BY c ORDER BY ts ROWS UNBOUNDED PRECEDING)""")
    lap("sessionise")
    con.execute("""
        CREATE TEMP TABLE j AS SELECT c, jno, min(ts) AS t0, max(ts) AS t1, count(*) AS n,
            bool_or(conv) AS conv, bit_xor(hash(step * 256 + code)) AS pk
        FROM s GROUP BY c, jno""")
    n_journeys = con.execute("SELECT count(*) FROM j").fetchall()[0][0]
    lap("journeys")
    top = con.execute("""
        SELECT pk, count(*) AS n, avg(conv::INT) AS rate FROM j GROUP BY pk
        ORDER BY n DESC, pk LIMIT 20""").fetchall()
    lap("variants")
    con.execute("""
        SELECT prev, code, count(*) FROM s GROUP BY ALL
        UNION ALL
        SELECT code, CASE WHEN conv THEN 254 ELSE 255 END, count(*) FROM s WHERE last
        GROUP BY ALL""").fetchall()
    lap("transitions")
    code = dict(con.execute("SELECT touchpoint, code FROM codes").fetchall())
    k = [code.get(step, 0) for step in steps]
    week = 7 * 86_400 * 1_000_000
    reached = [f"SELECT c, min(ts) AS t1, min(ts) AS t FROM s WHERE code = {k[0]} GROUP BY c"]
    for i in range(1, len(steps)):
        reached.append(
            f"SELECT r.c, r.t1, min(s.ts) AS t FROM r{i - 1} r JOIN s ON s.c = r.c "
            f"AND s.code = {k[i]} AND s.ts > r.t AND s.ts <= r.t1 + {week} GROUP BY r.c, r.t1"
        )
    ctes = ", ".join(f"r{i} AS ({q})" for i, q in enumerate(reached))
    counts = ", ".join(f"(SELECT count(*) FROM r{i})" for i in range(len(steps)))
    funnel = list(con.execute(f"WITH {ctes} SELECT {counts}").fetchall()[0])
    lap("funnel")
    headline = {"journeys": n_journeys, "top_variant": top[0][1] if top else 0, "funnel": funnel}
    return headline, parts


# -- the driver --------------------------------------------------------------------------------


def measure(impl: str, path: Path, threads: int) -> dict[str, Any]:
    """Run one worker in a fresh process; add its whole-process peak RSS (GB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        cmd = [sys.executable, __file__, "--worker", impl, "--path", str(path)]
        cmd += ["--threads", str(threads), "--out", out.name]
        proc = subprocess.Popen(cmd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            return {"error": f"{impl} worker failed (exit {proc.returncode})"}
        result = json.loads(Path(out.name).read_text())
    result["peak_gb"] = usage.ru_maxrss / 1024**2  # ru_maxrss is in KiB on Linux
    return result


def report(n: int, runs: dict[str, list[dict]]) -> list[str]:
    lines = [f"\n{n:,} events"]
    head = f"  {'impl':11s} {'median s':>9s} {'min s':>7s} {'peak GB':>8s}  parts (median s)"
    lines.append(head)
    medians = {}
    for impl, results in runs.items():
        ok = [r for r in results if "error" not in r]
        if not ok:
            lines.append(f"  {impl:11s} failed: {results[0]['error']}")
            continue
        secs = [r["seconds"] for r in ok]
        medians[impl] = statistics.median(secs)
        peak = max(r["peak_gb"] for r in ok)
        names = ok[0]["parts"]
        parts = " ".join(f"{p}={statistics.median(r['parts'][p] for r in ok):.2f}" for p in names)
        lines.append(f"  {impl:11s} {medians[impl]:9.2f} {min(secs):7.2f} {peak:8.2f}  {parts}")
        if ok[0].get("missing"):
            lines.append(f"  {'':11s} not timed (not written yet): {', '.join(ok[0]['missing'])}")
        if impl.startswith("cjm") and n >= 10_000_000:
            verdict = "meets" if medians[impl] <= TARGET_SECONDS and peak < TARGET_GB else "MISSES"
            lines.append(
                f"  {'':11s} target: <= {TARGET_SECONDS:g} s and < {TARGET_GB:g} GB: {verdict}"
            )
    for base in ("pandas", "pandas_join"):
        for impl in ("cjm", "cjm_frame", "sql"):
            if base in medians and impl in medians:
                ratio = medians[base] / medians[impl]
                mark = f"  (target >= {TARGET_RATIO:g})" if impl.startswith("cjm") else ""
                lines.append(f"  speed-up over {base}, {impl}: {ratio:.2f}x{mark}")
    lines += _agreement(runs)
    return lines


def _agreement(runs: dict[str, list[dict]]) -> list[str]:
    heads = {i: r[0]["headline"] for i, r in runs.items() if r and "error" not in r[0]}
    base = next((b for b in ("pandas", "pandas_join") if b in heads), None)
    if base is None:
        return []
    ref, out = heads[base], []
    for impl, head in heads.items():
        for key, value in head.items():
            if impl != base and key in ref and ref[key] != value:
                out.append(f"  WARNING: {impl} {key} = {value} but {base} gives {ref[key]}")
    return out or ["  headline numbers agree: " + json.dumps(ref)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", nargs="+", type=int, default=[1_000_000, 10_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--impl", nargs="+", choices=list(WORKERS), default=["cjm", "pandas"])
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads")
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](args.path, args.threads)
        Path(args.out).write_text(json.dumps(result))
        return
    print(
        f"targets at 10M events: <= {TARGET_SECONDS:g} s, < {TARGET_GB:g} GB peak, "
        f">= {TARGET_RATIO:g}x faster than pandas; {args.repeats} repeats, fresh process each, "
        f"DuckDB threads={args.threads}",
        flush=True,
    )
    for n in args.events:
        path = event_log_path(n)
        runs: dict[str, list[dict]] = {impl: [] for impl in args.impl}
        for _ in range(args.repeats):  # round robin: noise from other load hits all alike
            for impl in args.impl:
                runs[impl].append(measure(impl, path, args.threads))
        print("\n".join(report(n, runs)), flush=True)


if __name__ == "__main__":
    main()
