"""The common shape of analysis results: a table, a title, notes, a default chart.

Subclasses set ``title`` and implement ``plot()``; the frame is in ``table``. One object
reads well in a terminal (``summary()``), a notebook (``_repr_html_``) and a report.

Example::

    >>> import pandas as pd
    >>> r = AnalysisResult(pd.DataFrame({"touchpoint": ["web"], "journeys": [3]}))
    >>> int(r.to_frame().loc[0, "journeys"])
    3
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd


class AnalysisResult:
    """A table with a title and notes; ``to_frame()`` returns a copy of the table."""

    title = "Result"

    def __init__(self, table: pd.DataFrame, notes: list[str] | tuple[str, ...] = (), **info: Any):
        self.table = table.reset_index(drop=True)
        self.notes = tuple(notes)
        self.info = dict(info)

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def __len__(self) -> int:
        return len(self.table)

    def _head(self, n: int) -> pd.DataFrame:
        """The first ``n`` rows (results kept on an engine fetch only these)."""
        return self.table.head(n)

    def _heading(self) -> str:
        details = ", ".join(
            f"{k}={_fmt(v) if isinstance(v, float) else v}"
            for k, v in self.info.items()
            if _short(v)
        )
        return f"{self.title} ({details})" if details else self.title

    def summary(self, max_rows: int = 20) -> str:
        lines = [self._heading(), self._head(max_rows).to_string(index=False)]
        if len(self) > max_rows:
            lines.append(f"... {len(self) - max_rows} more row(s)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self, max_rows: int = 20) -> str:
        # text from the data is escaped by pandas' to_html (escape=True)
        table = self._head(max_rows).to_html(index=False, escape=True, float_format=_fmt)
        more = f"<p>... {len(self) - max_rows} more row(s)</p>" if len(self) > max_rows else ""
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><strong>{html.escape(self._heading())}</strong>{table}{more}"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {len(self)} row(s); {self._heading()}>"

    def plot(self, **kwargs: Any):  # pragma: no cover - each result draws its own chart
        raise NotImplementedError(f"{type(self).__name__} has no default chart")


def _short(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 40


def _fmt(value: float) -> str:
    return f"{value:.4g}"
