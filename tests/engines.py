"""Run an analysis on DuckDB and on Spark (local[2]) and require identical results.

Use the ``engine`` fixture (parametrised over both) for per-engine tests, or
``on_both(fn, *args, **kwargs)`` (fixture ``on_both``) to get the DuckDB result after
checking that Spark returns exactly the same frame.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def frame_of(result: Any) -> pd.DataFrame:
    """The DataFrame of a result object (``to_frame()``) or the frame itself."""
    return result if isinstance(result, pd.DataFrame) else result.to_frame()


def assert_identical(left: Any, right: Any) -> None:
    """Same columns, dtypes and values; floats equal to 1e-9 relative (sums differ in order)."""
    a, b = frame_of(left), frame_of(right)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-12)
