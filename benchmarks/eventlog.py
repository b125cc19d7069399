"""Synthetic event logs for the journey benchmark: big, fast to make, cached as Parquet.

:func:`make_event_log` builds a canonical event log with numpy only (10M rows in a few
seconds): customers with about ``events_per_customer`` events each, split into visits
("true journeys") whose events are minutes apart while visits are hours to weeks apart, so
the 30-minute sessionisation finds several journeys per customer. Touchpoint popularity is
skewed (Zipf-like) and the next touchpoint follows a sparse, skewed Markov chain; about 20 % of
visits end in a conversion whose chance depends on the last touchpoint. Timestamps are whole
seconds and strictly increasing within a customer (no ties, so every implementation agrees on
the order), and rows come ordered by time across customers like a real log.

:func:`event_log_path` writes the log once under ``benchmarks/.cache/`` (git-ignored) and
reuses it on later runs.

    >>> df = make_event_log(1_000, seed=1)
    >>> len(df), df["customer_id"].nunique()
    (1000, 100)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CACHE_DIR = Path(__file__).resolve().parent / ".cache"
#: Bump when the generator changes, so stale cached files are not reused.
VERSION = 1

NAMES = [
    "web_visit",
    "app_open",
    "email_open",
    "search_ad",
    "social_ad",
    "product_page",
    "basket",
    "checkout",
    "chat",
    "call_centre",
    "store_visit",
    "faq",
    "review_read",
    "newsletter",
    "partner_site",
]
#: The funnel the benchmark times: a likely path through the chain (when n_touchpoints >= 8).
FUNNEL = ["web_visit", "product_page", "basket", "checkout"]
START = pd.Timestamp("2024-01-01", tz="UTC")
SPAN_S = 180 * 86_400  # customers start within the first half of 2024


def touchpoint_names(n: int) -> list[str]:
    """``n`` touchpoint ids: readable names first, then ``tp15``, ``tp16`` ..."""
    return [NAMES[i] if i < len(NAMES) else f"tp{i:02d}" for i in range(n)]


def _chain(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A skewed start distribution and a sparse, skewed transition matrix (rows sum to 1)."""
    popularity = 1.0 / np.arange(1, n + 1) ** 1.1
    start = popularity / popularity.sum()
    matrix = rng.dirichlet(np.full(n, 0.3), size=n) * popularity  # few likely next steps
    matrix += 0.02 * popularity  # ... but every move possible
    for a, b in zip([0, 5, 6], [5, 6, 7], strict=True):  # the funnel's path is a likely one
        if b < n:
            matrix[a, b] += 0.25
    matrix /= matrix.sum(axis=1, keepdims=True)
    return start, matrix


def _draw(matrix: np.ndarray, current: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The next state for each ``current`` state (inverse CDF on the stacked row CDFs)."""
    n = matrix.shape[0]
    stacked = (np.cumsum(matrix, axis=1) + np.arange(n)[:, None]).ravel()  # row s in (s, s+1]
    stacked[n - 1 :: n] = np.arange(1, n + 1)  # exact row ends despite rounding
    u = rng.random(len(current))
    return np.searchsorted(stacked, current + u) - current * n


def _strings(codes: np.ndarray, labels: pa.Array) -> pa.Array:
    """Plain strings for integer ``codes`` into ``labels`` (via a dictionary array)."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), labels).cast(
        pa.string()
    )


def make_event_log(
    n_events: int,
    events_per_customer: int = 10,
    n_touchpoints: int = 15,
    seed: int = 0,
    conversion_rate: float = 0.2,
) -> pd.DataFrame:
    """A canonical event log of exactly ``n_events`` rows (see the module docstring).

    Columns: customer_id (str), timestamp (UTC), touchpoint (str), event_type
    ("interaction" / "conversion"), value (float, money on conversions, else NaN),
    duration_s (float seconds).

    >>> make_event_log(20, events_per_customer=5, seed=3)["customer_id"].nunique()
    4
    """
    if n_events < 1 or events_per_customer < 1 or n_touchpoints < 2:
        raise ValueError("need n_events >= 1, events_per_customer >= 1 and n_touchpoints >= 2")
    rng = np.random.default_rng(seed)
    n_customers = max(1, n_events // events_per_customer)

    # events per customer: 1 + multinomial share of the rest (~Poisson around the mean)
    extra = rng.integers(0, n_customers, n_events - n_customers)
    counts = 1 + np.bincount(extra, minlength=n_customers)
    customer = np.repeat(np.arange(n_customers, dtype=np.int64), counts)
    first = np.zeros(n_events, dtype=bool)
    first[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True

    # visits: a new one at a customer's first event, else with chance 0.3 (mean length ~3.3)
    new_visit = first | (rng.random(n_events) < 0.3)
    visit_start = np.flatnonzero(new_visit)
    visit = np.cumsum(new_visit) - 1
    step = np.arange(n_events) - visit_start[visit]  # 0-based position inside the visit

    # touchpoints: Markov chain along each visit, step by step (events sorted by step)
    start_p, matrix = _chain(n_touchpoints, rng)
    touch = np.empty(n_events, dtype=np.int16)
    order = np.argsort(step.astype(np.int16), kind="stable")  # radix sort: fast
    bounds = np.concatenate([[0], np.cumsum(np.bincount(step))])
    heads = order[: bounds[1]]
    touch[heads] = rng.choice(n_touchpoints, size=len(heads), p=start_p)
    for k in range(1, len(bounds) - 1):
        idx = order[bounds[k] : bounds[k + 1]]
        touch[idx] = _draw(matrix, touch[idx - 1].astype(np.int64), rng)

    # conversions: the last event of a visit converts with a touchpoint-dependent chance
    last = np.append(new_visit[1:], True)
    lean = np.linspace(2.0, 0.5, n_touchpoints)[touch[last]]
    chance = np.clip(lean * conversion_rate / lean.mean(), 0, 1)
    converted = np.zeros(n_events, dtype=bool)
    converted[last] = rng.random(int(last.sum())) < chance

    # gaps: seconds inside a visit (a few exceed 30 min), hours to weeks between visits
    inside = 1 + rng.exponential(240.0, n_events)
    between = 1_800 + rng.exponential(3.0 * 86_400, n_events)
    gap = np.where(new_visit, between, inside).astype(np.int64)
    gap[first] = 0
    clock = np.cumsum(gap)
    clock -= np.repeat(clock[first], counts)  # seconds since the customer's first event
    begin = rng.integers(0, SPAN_S, n_customers)
    seconds = np.repeat(begin, counts) + clock
    stamp_us = START.value // 1_000 + seconds * 1_000_000

    value = np.full(n_events, np.nan)
    value[converted] = np.round(rng.lognormal(4.0, 0.8, int(converted.sum())), 2)
    duration = np.round(rng.exponential(60.0, n_events) * (1 + touch % 4), 1)

    by_time = np.argsort(seconds.astype(np.int32))  # a log arrives ordered by time
    width = len(str(n_customers - 1))
    ids = pa.array([f"C{i:0{width}d}" for i in range(n_customers)], pa.string())
    names = pa.array(touchpoint_names(n_touchpoints), pa.string())
    kinds = pa.array(["interaction", "conversion"], pa.string())
    table = pa.table(
        {
            "customer_id": _strings(customer[by_time], ids),
            "timestamp": pa.array(stamp_us[by_time], pa.timestamp("us", tz="UTC")),
            "touchpoint": _strings(touch[by_time], names),
            "event_type": _strings(converted[by_time], kinds),
            "value": value[by_time],
            "duration_s": duration[by_time],
        }
    )
    return table.to_pandas()


def event_log_path(
    n_events: int,
    events_per_customer: int = 10,
    n_touchpoints: int = 15,
    seed: int = 0,
    cache_dir: Path | str | None = None,
) -> Path:
    """The Parquet file of :func:`make_event_log` (written on first use, then reused)."""
    folder = Path(cache_dir) if cache_dir else CACHE_DIR
    name = f"events_v{VERSION}_{n_events}_{events_per_customer}_{n_touchpoints}_{seed}.parquet"
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        df = make_event_log(n_events, events_per_customer, n_touchpoints, seed)
        partial = path.with_suffix(".partial")
        table = pa.Table.from_pandas(df, preserve_index=False)
        pq.write_table(table, partial, row_group_size=1_000_000)
        partial.rename(path)
    return path
