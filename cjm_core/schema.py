"""The canonical tables (events, feedback, customers, costs) and their validation.

Validation happens once, at the boundary. Each ``validate_*`` function checks one table
against the contract and the journey catalog and returns a :class:`ValidationResult`: the
clean table with canonical dtypes, the rows set aside (with the reason for each) and every
:class:`Problem` found. Nothing is dropped silently.

- Strict mode (default): any problem raises the :class:`~cjm_core.errors.DataValidationError`
  subclass of the first problem found; ``error.problems`` carries all of them.
- Lenient mode: rows with problems are set aside in ``result.rejected`` with their reasons;
  table-level problems (empty table, missing column) still raise.
- Naive timestamps (no zone) are rejected unless ``assume_timezone`` names the zone they were
  recorded in; values with an offset are converted to UTC. See ``docs/data-contracts.md``.

Example::

    >>> import pandas as pd
    >>> from cjm_core.model import JourneyCatalog
    >>> from cjm_core.schema import validate_events
    >>> cat = JourneyCatalog.from_dict({
    ...     "stages": [{"id": "buy", "name": "Buy"}],
    ...     "channels": [{"id": "web", "name": "Web"}],
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "stage": "buy", "kind": "digital"}]})
    >>> df = pd.DataFrame({"customer_id": ["c1", "c2"], "touchpoint": ["site", "shop"],
    ...                    "timestamp": ["2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"]})
    >>> res = validate_events(df, cat, lenient=True)
    >>> res.n_kept, res.n_rejected, res.rejected["reason"][0]
    (1, 1, "touchpoint='shop': not in the catalog")
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .checks import TIMESTAMP_DTYPE, describe_rows, describe_values
from .errors import ERROR_BY_KIND, CjmError
from .model import JourneyCatalog

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """The contract of one canonical table: its required and optional columns."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


TABLES: dict[str, TableSpec] = {
    "events": TableSpec(
        "events",
        ("customer_id", "timestamp", "touchpoint"),
        ("channel", "event_type", "value", "duration_s", "journey_id"),
    ),
    "feedback": TableSpec(
        "feedback",
        ("customer_id", "timestamp", "metric", "score"),
        ("touchpoint", "comment", "language"),
    ),
    "customers": TableSpec("customers", ("customer_id",)),
    "costs": TableSpec("costs", ("touchpoint", "period", "amount")),
}
TEXT_COLUMNS = frozenset(
    {
        "customer_id",
        "touchpoint",
        "channel",
        "journey_id",
        "event_type",
        "metric",
        "comment",
        "language",
        "period",
    }
)
TIMESTAMP_COLUMNS = frozenset({"timestamp"})
NUMBER_COLUMNS = frozenset({"score", "value", "duration_s", "amount"})
NON_NEGATIVE_COLUMNS = frozenset({"duration_s", "amount"})
TABLE_LEVEL_KINDS = frozenset({"empty", "missing_column"})

# Common source names, to suggest a column mapping when a canonical column is missing.
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "cust", "cust_id", "client_id", "user_id", "user", "uid", "id"),
    "timestamp": ("ts", "time", "datetime", "event_time", "date", "created_at", "occurred_at"),
    "touchpoint": ("touchpoint_id", "tp", "page", "event", "event_name", "activity"),
    "metric": ("survey", "survey_type", "question", "kpi"),
    "score": ("rating", "answer", "response", "value"),
    "amount": ("cost", "spend", "value"),
    "period": ("month", "yyyymm"),
}


@dataclass(frozen=True)
class Problem:
    """One problem found in one column of one table.

    ``rows`` holds every offending row as a 0-based position in the input table (a CSV's
    line number is ``row + 2``); ``count == len(rows)`` for row problems. Table-level
    problems (``level == "table"``: empty table, missing column) have ``count == 0``.
    ``examples`` holds the first (at most 5) offending input rows as dicts with ``_row``.
    """

    table: str
    column: str
    kind: str
    count: int
    rows: tuple[int, ...]
    message: str
    examples: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)
    level: str = "row"

    def __str__(self) -> str:
        return self.message

    @property
    def error_class(self) -> type:
        return ERROR_BY_KIND[self.kind]


@dataclass
class ValidationResult:
    """Clean table (canonical dtypes), rows set aside (``_row``, ``reason``) and problems."""

    table: pd.DataFrame
    rejected: pd.DataFrame
    problems: list[Problem]
    name: str = ""
    n_input: int = -1

    @property
    def n_in(self) -> int:
        return self.n_input if self.n_input >= 0 else self.n_kept + self.n_rejected

    @property
    def n_kept(self) -> int:
        return len(self.table)

    @property
    def n_rejected(self) -> int:
        return len(self.rejected)

    def summary(self) -> str:
        head = f"{self.name or 'table'}: {self.n_in} rows in, {self.n_kept} kept, "
        head += f"{self.n_rejected} rejected, {len(self.problems)} problem(s)"
        return "\n".join([head] + [f"  - {p.message}" for p in self.problems])

    def __repr__(self) -> str:
        return (
            f"ValidationResult({self.name or 'table'}: n_in={self.n_in}, n_kept={self.n_kept},"
            f" n_rejected={self.n_rejected}, problems={len(self.problems)})"
        )


def format_problems(problems: list[Problem]) -> str:
    """An itemised, multi-line message listing every problem."""
    tables = ", ".join(dict.fromkeys(p.table for p in problems))
    lines = [f"Data validation failed for {tables}: {len(problems)} problem(s):"]
    return "\n".join(lines + [f"  - {p.message}" for p in problems])


def raise_for_problems(problems: list[Problem], *, lenient: bool = False) -> None:
    """Raise the error class of the first blocking problem, carrying every problem.

    In strict mode every problem blocks; in lenient mode only table-level ones do.

    Example::

        >>> raise_for_problems([])  # nothing to report: returns None
    """
    blocking = [p for p in problems if not lenient or p.level == "table"]
    if blocking:
        raise ERROR_BY_KIND[blocking[0].kind](format_problems(problems), problems)


def empty_table(name: str) -> pd.DataFrame:
    """A table with no rows and the canonical columns and dtypes of ``name``.

    Example::

        >>> list(empty_table("costs").columns)
        ['touchpoint', 'period', 'amount']
    """
    spec = _spec(name)
    cols: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col in TIMESTAMP_COLUMNS:
            cols[col] = pd.Series([], dtype=TIMESTAMP_DTYPE)
        elif col in NUMBER_COLUMNS:
            cols[col] = pd.Series([], dtype="float64")
        else:
            cols[col] = pd.Series([], dtype="str")
    return pd.DataFrame(cols)


def _spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        raise CjmError(
            f"No canonical table named {name!r}; expected one of {', '.join(TABLES)}."
        ) from None


def check_table(
    name: str,
    df: pd.DataFrame,
    catalog: JourneyCatalog | None = None,
    *,
    assume_timezone: str | None = None,
) -> ValidationResult:
    """Check one table and return every problem without raising for bad data.

    Rows with problems are set aside in ``rejected``; table-level problems (empty table,
    missing column) are reported with ``level == "table"``. :func:`validate_table` and the
    ``validate_*`` functions wrap this and raise.

    Example::

        >>> import pandas as pd
        >>> res = check_table("customers", pd.DataFrame({"customer_id": ["a", "a"]}))
        >>> [p.kind for p in res.problems]
        ['duplicate']
    """
    from .rules import run_checks  # the per-table rules live in their own module

    spec = _spec(name)
    if name != "customers" and not isinstance(catalog, JourneyCatalog):
        raise CjmError(
            f"Validating the {name} table needs a JourneyCatalog (got {type(catalog).__name__}); "
            f"pass the template's catalog, e.g. get_registry().template('banking').catalog."
        )
    if not isinstance(df, pd.DataFrame):
        raise CjmError(f"The {name} table must be a pandas DataFrame, got {type(df).__name__}.")
    return run_checks(spec, df, catalog, assume_timezone=assume_timezone)


def validate_table(
    name: str,
    df: pd.DataFrame,
    catalog: JourneyCatalog | None = None,
    *,
    lenient: bool = False,
    assume_timezone: str | None = None,
) -> ValidationResult:
    """Validate the canonical table ``name`` (events, feedback, customers or costs).

    Example::

        >>> import pandas as pd
        >>> validate_table("customers", pd.DataFrame({"customer_id": ["a", "b"]})).n_kept
        2
    """
    result = check_table(name, df, catalog, assume_timezone=assume_timezone)
    raise_for_problems(result.problems, lenient=lenient)
    if result.n_rejected:
        log.warning(
            "%s: %d of %d rows set aside (lenient mode), %d problem(s); see result.rejected "
            "and result.problems",
            name,
            result.n_rejected,
            result.n_in,
            len(result.problems),
        )
    return result


def validate_events(
    df: pd.DataFrame,
    catalog: JourneyCatalog,
    *,
    lenient: bool = False,
    assume_timezone: str | None = None,
) -> ValidationResult:
    """Validate an events table: customer_id, timestamp, touchpoint (+ optional columns).

    ``channel`` is derived from the catalog when absent (or null); ``event_type`` defaults
    to ``"interaction"``.

    Example::

        >>> import pandas as pd
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> df = pd.DataFrame({"customer_id": ["c1"], "touchpoint": ["site"],
        ...                    "timestamp": ["2024-03-01 10:00"]})
        >>> res = validate_events(df, cat, assume_timezone="Europe/Berlin")
        >>> str(res.table["timestamp"][0]), res.table["channel"][0]
        ('2024-03-01 09:00:00+00:00', 'web')
    """
    return validate_table("events", df, catalog, lenient=lenient, assume_timezone=assume_timezone)


def validate_feedback(
    df: pd.DataFrame,
    catalog: JourneyCatalog,
    *,
    lenient: bool = False,
    assume_timezone: str | None = None,
) -> ValidationResult:
    """Validate a feedback table: customer_id, timestamp, metric, score (+ touchpoint,
    comment, language). Scores must lie on their metric's scale (NPS 0-10, CSAT 1-5,
    CES 1-7, or what the catalog declares).

    Example::

        >>> import pandas as pd
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> df = pd.DataFrame({"customer_id": ["c1"], "timestamp": ["2024-03-01T10:00Z"],
        ...                    "metric": ["nps"], "score": [9]})
        >>> validate_feedback(df, cat).table["score"].tolist()
        [9.0]
    """
    return validate_table("feedback", df, catalog, lenient=lenient, assume_timezone=assume_timezone)


def validate_customers(df: pd.DataFrame, *, lenient: bool = False) -> ValidationResult:
    """Validate a customers table: a unique customer_id plus any attribute columns.

    Example::

        >>> import pandas as pd
        >>> validate_customers(pd.DataFrame({"customer_id": [1, 2], "age": [30, 41]})).table[
        ...     "customer_id"].tolist()
        ['1', '2']
    """
    return validate_table("customers", df, None, lenient=lenient)


def validate_costs(
    df: pd.DataFrame, catalog: JourneyCatalog, *, lenient: bool = False
) -> ValidationResult:
    """Validate a costs table: touchpoint, period (``"YYYY-MM"``), amount (>= 0).

    Example::

        >>> import pandas as pd
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> df = pd.DataFrame({"touchpoint": ["site"], "period": ["2024-03"], "amount": [10]})
        >>> validate_costs(df, cat).table["amount"].tolist()
        [10.0]
    """
    return validate_table("costs", df, catalog, lenient=lenient)


def make_problem(
    table: str,
    column: str,
    kind: str,
    rows: np.ndarray,
    what: str,
    fix: str,
    df: pd.DataFrame | None = None,
    *,
    level: str = "row",
    show_values: bool = True,
) -> Problem:
    """Build a :class:`Problem` whose message names table, column, count, first rows and fix.

    Example::

        >>> import numpy as np
        >>> make_problem("events", "timestamp", "naive_timestamp", np.array([4]),
        ...              "naive timestamp(s)", "give a zone").message
        'events.timestamp: 1 naive timestamp(s) at row 4. Fix: give a zone.'
    """
    where = table if column == "*" else f"{table}.{column}"
    if level == "table":
        return Problem(table, column, kind, 0, (), f"{where}: {what}. Fix: {fix}.", level="table")
    examples: tuple[dict[str, Any], ...] = ()
    shown = ""
    if df is not None and len(rows):
        head = df.iloc[rows[:5]]
        examples = tuple(
            {"_row": int(r), **rec}
            for r, rec in zip(rows[:5], head.to_dict("records"), strict=True)
        )
        if show_values and column in df.columns:
            shown = f" (values {describe_values(df[column].iloc[rows[:50]])})"
    message = f"{where}: {len(rows)} {what} at {describe_rows(rows)}{shown}. Fix: {fix}."
    return Problem(table, column, kind, len(rows), tuple(rows.tolist()), message, examples)
