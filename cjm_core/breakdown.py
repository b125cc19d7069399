"""Any journey analysis per group: per persona, per region, per device ...

:func:`by_group` runs one analysis (``path_variants``, ``transitions``, ``funnel`` ...) once
per value of a grouping column on that group's events, and stacks the results' tables
with the group in a leading column. The group comes from the events (``by`` is an events
column) or from the customers (``customers`` is a table with ``customer_id`` and ``by``, or
a :class:`~cjm_core.personas.PersonaModel`, whose persona numbers are used). Events without
a group value form the group ``"(none)"``: counted in the notes, never dropped.

Example::

    >>> import pandas as pd
    >>> from cjm_core import path_variants
    >>> events = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-02 09:00"], utc=True),
    ...     "touchpoint": ["website", "call_centre", "website"],
    ...     "region": ["north", "north", "south"],
    ... })
    >>> r = by_group(path_variants, events, "region", top=1)
    >>> r.to_frame()[["region", "variant", "journeys"]].values.tolist()[::2]
    [['north', 'website > call_centre', 1], ['south', 'website', 1]]
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import CjmError
from .results import AnalysisResult

NONE = "(none)"
#: The analyses that can be named by a string (all take the events first).
ANALYSES = (
    "build_journeys",
    "path_variants",
    "transitions",
    "touchpoint_kpis",
    "retention",
    "repeat_purchase",
    "funnel",
    "drop_off",
    "loops",
    "repeat_contacts",
)

__all__ = ["ANALYSES", "NONE", "GroupedResult", "by_group"]


class GroupedResult(AnalysisResult):
    """One result per group (``results``, in group order); ``table`` stacks their
    ``to_frame()`` with the group column first; ``labels`` maps each group to a display
    label (a persona's name)."""

    title = "By group"

    def __init__(self, results: dict, by: str, column: str, labels=None, notes=(), **info):
        self.results = dict(results)
        self.by = by
        self.column = column
        self.labels = dict(labels or {})
        frames = []
        for group, result in self.results.items():
            frame = result.to_frame()
            frame.insert(
                0, column, pd.Series([group] * len(frame), index=frame.index, dtype=object)
            )
            frames.append(frame)
        table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({column: []})
        super().__init__(table, notes, **{"by": by, **info})

    def __getitem__(self, group: Any) -> AnalysisResult:
        try:
            return self.results[group]
        except KeyError:
            raise CjmError(f"No group {group!r}; groups: {list(self.results)}.") from None

    def _label(self, group: Any) -> str:
        label = self.labels.get(group)
        return f"{self.by} = {group}" + (f" ({label})" if label else "")

    def summary(self, max_rows: int = 5) -> str:
        lines = [self._heading()]
        for group, result in self.results.items():
            lines += ["", f"== {self._label(group)} ==", result.summary(max_rows)]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def _repr_html_(self, max_rows: int = 10) -> str:
        parts = [f"<div><strong>{html.escape(self._heading())}</strong>"]
        for group, result in self.results.items():
            inner = result._repr_html_(max_rows) if hasattr(result, "_repr_html_") else ""
            parts.append(f"<details><summary>{html.escape(self._label(group))}</summary>"
                         f"{inner}</details>")  # fmt: skip
        parts += [f"<p><em>{html.escape(n)}</em></p>" for n in self.notes]
        return "".join(parts) + "</div>"

    def plot(
        self,
        group: Any = None,
        *,
        column: str | None = None,
        label: str | None = None,
        top: int = 10,
        **kwargs: Any,
    ):
        """``group=g``: that group's own chart (``results[g].plot(**kwargs)``). Otherwise
        small multiples, one panel per group: horizontal bars of ``column`` (default
        "share", else "journeys", "customers", else the first numeric column) for the top
        ``top`` rows, labelled by ``label`` (default the first text column)."""
        if group is not None:
            return self[group].plot(**kwargs)
        import matplotlib.pyplot as plt

        t = self.table
        others = [c for c in t.columns if c != self.column]
        numeric = [c for c in others if pd.api.types.is_numeric_dtype(t[c])
                   and not pd.api.types.is_bool_dtype(t[c])]  # fmt: skip
        text = [c for c in others if t[c].dtype == object]
        column = column or next((c for c in ("share", "journeys", "customers") if c in numeric),
                                numeric[0] if numeric else None)  # fmt: skip
        label = label or (text[0] if text else None)
        if column is None or label is None:
            raise CjmError(
                f"No numeric column and text column to draw; columns: {list(t.columns)}. "
                "Pass column= and label=, or plot one group with plot(group=...)."
            )
        n = len(self.results)
        cols = min(n, 3)
        rows = int(np.ceil(n / cols)) if n else 1
        fig, axes = plt.subplots(rows, cols, figsize=kwargs.pop("figsize", (5 * cols, 3 * rows)),
                                 squeeze=False)  # fmt: skip
        for ax, (group, part) in zip(axes.flat, t.groupby(self.column, sort=False), strict=False):
            part = part.head(top).iloc[::-1]
            ax.barh(part[label].astype(str), part[column])
            ax.set_title(self._label(group), fontsize=9)
            ax.set_xlabel(column)
            ax.tick_params(axis="y", labelsize=7)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        fig.suptitle(self._heading())
        fig.tight_layout()
        return fig


def by_group(
    analysis: Callable[..., Any] | str,
    events: pd.DataFrame,
    by: str = "persona",
    *,
    customers: Any = None,
    groups: Sequence[Any] | None = None,
    **options: Any,
) -> GroupedResult:
    """Run ``analysis`` once per value of ``by`` and stack the results.

    :param analysis: a journey analysis function taking the events first (e.g.
        ``cjm_core.path_variants``), or its name (one of :data:`ANALYSES`).
    :param events: canonical events as a pandas DataFrame.
    :param by: the grouping column: in ``customers`` when given (joined on customer_id),
        else in the events.
    :param customers: a DataFrame with ``customer_id`` and ``by`` (one row per customer),
        or a :class:`~cjm_core.personas.PersonaModel` (its persona numbers; the persona
        names become the group labels). Note that this is not the ``customers`` argument of
        :func:`cjm_core.funnel` (use its own ``breakdown`` for that).
    :param groups: the groups to run, in this order (default: every group, sorted, then
        "(none)"); events of the other groups are counted in the notes.
    :param options: passed to ``analysis`` for every group (``top=5``, ``steps=[...]`` ...).
    :returns: :class:`GroupedResult`.

    Example::

        >>> import pandas as pd
        >>> events = pd.DataFrame({
        ...     "customer_id": ["a", "b", "c"],
        ...     "timestamp": pd.to_datetime(["2024-01-01"] * 3, utc=True),
        ...     "touchpoint": ["website"] * 3})
        >>> people = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["x", "y"]})
        >>> r = by_group("build_journeys", events, "segment", customers=people)
        >>> list(r.results)
        ['x', 'y', '(none)']
        >>> r.notes[0]
        "1 event(s) of 1 customer(s) have no 'segment' value: group '(none)'"
    """
    fn, name = _resolve(analysis)
    if not isinstance(events, pd.DataFrame):
        raise CjmError(f"by_group needs the events as a pandas DataFrame, got "
                       f"{type(events).__name__}.")  # fmt: skip
    if "customer_id" not in events.columns:
        raise CjmError(f"events have no customer_id column; columns: {list(events.columns)}.")
    notes: list[str] = []
    labels = {}
    if customers is not None:
        table, labels = _group_table(customers, by)
        idx = pd.Index(table.index).get_indexer(events["customer_id"])
        values = table.to_numpy(dtype=object)
        key = pd.Series(np.where(idx >= 0, values[np.maximum(idx, 0)], None), index=events.index)
        if by in events.columns:
            notes.append(f"the events' own {by!r} column is replaced by the customers' values")
    elif by in events.columns:
        key = events[by].astype(object)
    else:
        raise CjmError(
            f"{by!r} is not an events column ({list(events.columns)}); pass customers= (a table "
            "with customer_id and that column, or a PersonaModel) to group by a customer "
            "attribute."
        )
    missing = key.isna().to_numpy()
    if missing.any():
        who = events.loc[missing, "customer_id"].nunique()
        notes.append(f"{int(missing.sum())} event(s) of {who} customer(s) have no {by!r} value: "
                     f"group {NONE!r}")  # fmt: skip
    key = key.where(~missing, NONE)
    present = _ordered(set(key))
    if groups is None:
        chosen = present
    else:
        chosen = list(groups)
        unknown = [g for g in chosen if g not in present]
        if unknown:
            raise CjmError(f"group(s) {unknown} have no events; groups present: {present}.")
        left = ~key.isin(chosen)
        if left.any():
            notes.append(f"{int(left.sum())} event(s) in groups not asked for are not analysed")
    ev = events.drop(columns=[by]) if customers is not None and by in events.columns else events
    results = {g: fn(ev[(key == g).to_numpy()], **options) for g in chosen}
    column = by
    if results and any(column in r.to_frame().columns for r in results.values()):
        column = f"{by}_group"
    return GroupedResult(results, by, column, labels, notes, analysis=name, groups=len(results))


def _resolve(analysis: Any) -> tuple[Callable[..., Any], str]:
    if isinstance(analysis, str):
        if analysis not in ANALYSES:
            raise CjmError(f"Unknown analysis {analysis!r}; by name: {list(ANALYSES)}, or pass "
                           "the function itself.")  # fmt: skip
        import cjm_core

        return getattr(cjm_core, analysis), analysis
    if not callable(analysis):
        raise CjmError(f"analysis must be a function or a name, got {analysis!r}.")
    return analysis, getattr(analysis, "__name__", type(analysis).__name__)


def _group_table(customers: Any, by: str) -> tuple[pd.Series, dict]:
    """customer_id -> group value, and group labels (persona names for a PersonaModel)."""
    labels = getattr(customers, "labels", None)
    if isinstance(labels, pd.Series):  # a PersonaModel
        names = getattr(customers, "names", {})
        return labels.astype(object), dict(names)
    if not isinstance(customers, pd.DataFrame):
        raise CjmError(
            f"customers must be a DataFrame or a PersonaModel, got {type(customers).__name__}."
        )
    for column in ("customer_id", by):
        if column not in customers.columns:
            raise CjmError(
                f"customers have no {column!r} column; columns: {list(customers.columns)}."
            )
    dup = customers["customer_id"][customers["customer_id"].duplicated()]
    if len(dup):
        raise CjmError(
            f"customers repeat {len(dup)} customer_id value(s) (first: {dup.head(5).tolist()}); "
            "one row per customer is needed. Deduplicate the customers table first."
        )
    return customers.set_index("customer_id")[by].astype(object), {}


def _ordered(values: set) -> list:
    """Group values sorted (numbers and text apart when mixed), "(none)" last."""
    real = [v for v in values if v != NONE]
    try:
        real = sorted(real)
    except TypeError:
        real = sorted(real, key=lambda v: (type(v).__name__, str(v)))
    return real + ([NONE] if NONE in values else [])
