"""A bundle of validated canonical tables plus the journey catalog: what analyses take.

:func:`load_bundle` reads a folder (with the built-in file connector) or takes a dict of
DataFrames, validates every table once and returns a :class:`DataBundle`.
:func:`validate_data_dir` checks a folder and returns every problem without raising (it
backs ``cjm validate``).

Example::

    >>> import pandas as pd
    >>> from cjm_core.model import JourneyCatalog
    >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
    ...     "channels": [{"id": "web", "name": "Web"}],
    ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
    ...                      "stage": "s", "kind": "digital"}]})
    >>> bundle = load_bundle({
    ...     "events": pd.DataFrame({"customer_id": ["c1"], "touchpoint": ["site"],
    ...                             "timestamp": ["2024-03-01T10:00:00Z"]}),
    ...     "customers": pd.DataFrame({"customer_id": ["c1"]})}, template=cat)
    >>> bundle
    DataBundle(source='<dict>', events=1, feedback=0, customers=1, costs=None, rejected=0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .connectors.files import TABLE_NAMES, apply_mapping, read_files
from .errors import CjmError
from .model import JourneyCatalog
from .schema import Problem, check_table, empty_table, make_problem, raise_for_problems

REQUIRED_TABLES = ("events", "customers")


@dataclass
class DataBundle:
    """Validated events, feedback, customers and costs (``None`` when absent) + catalog.

    ``rejected`` maps a table name to the rows set aside in lenient mode (with ``_row`` and
    ``reason``); ``problems`` lists every problem found; ``absent`` names optional tables
    that were not supplied (feedback is then an empty canonical table, costs ``None``).
    """

    catalog: JourneyCatalog
    events: pd.DataFrame
    feedback: pd.DataFrame
    customers: pd.DataFrame
    costs: pd.DataFrame | None = None
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    source: str = ""
    absent: tuple[str, ...] = ()

    def table(self, name: str) -> pd.DataFrame | None:
        """The table called ``name`` (events, feedback, customers or costs)."""
        if name not in TABLE_NAMES:
            raise CjmError(f"No table {name!r} in a bundle; tables: {', '.join(TABLE_NAMES)}.")
        return getattr(self, name)

    @property
    def n_rejected(self) -> int:
        return sum(len(df) for df in self.rejected.values())

    def summary(self) -> str:
        """A few lines: source, catalog, rows kept and rejected per table, problems."""
        label = self.catalog.name or "unnamed"
        lines = [f"Data bundle from {self.source} (catalog {label!r})"]
        for name in TABLE_NAMES:
            df = self.table(name)
            if name in self.absent:
                lines.append(f"  {name:<10} absent (optional table not supplied)")
                continue
            n_rej = len(self.rejected.get(name, ()))
            lines.append(f"  {name:<10} {len(df):>10,} rows kept, {n_rej:,} rejected")
        if self.problems:
            lines.append(f"  {len(self.problems)} problem(s) (rows set aside in lenient mode):")
            lines += [f"    - {p.message}" for p in self.problems]
        else:
            lines.append("  no problems found")
        return "\n".join(lines)

    def __repr__(self) -> str:
        costs = None if self.costs is None else len(self.costs)
        return (
            f"DataBundle(source={self.source!r}, events={len(self.events)}, "
            f"feedback={len(self.feedback)}, customers={len(self.customers)}, costs={costs}, "
            f"rejected={self.n_rejected})"
        )


def resolve_catalog(template: str | JourneyCatalog) -> JourneyCatalog:
    """A catalog object as is, or the catalog of the installed template called ``template``.

    Example::

        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> resolve_catalog(cat) is cat
        True
    """
    if isinstance(template, JourneyCatalog):
        return template
    if not isinstance(template, str):
        raise CjmError(
            f"template must be a template name or a JourneyCatalog, got {type(template).__name__}."
        )
    from .plugins import get_registry  # lazily: the plugin manager loads entry points

    return get_registry().template(template).catalog


def _missing_table(name: str, where: str) -> Problem:
    return make_problem(
        name,
        "*",
        "empty",
        np.array([], dtype=int),
        f"the required {name} table is missing from {where}",
        f"supply {name} (a {name}.parquet or {name}.csv file, or a {name!r} DataFrame)",
        level="table",
    )


def _gather(
    source: str | Path | Mapping[str, pd.DataFrame],
    mapping: Mapping | None,
    format: str | None,
) -> tuple[dict[str, pd.DataFrame], str]:
    if isinstance(source, Mapping):
        unknown = [k for k in source if k not in TABLE_NAMES]
        if unknown:
            raise CjmError(
                f"Unknown table name(s) {', '.join(map(repr, unknown))}; "
                f"expected some of {', '.join(TABLE_NAMES)}."
            )
        frames = {k: v for k, v in source.items() if v is not None}
        return apply_mapping(frames, mapping), "<dict>"
    return read_files(source, format=format, mapping=mapping), str(source)


def load_bundle(
    source: str | Path | Mapping[str, pd.DataFrame],
    template: str | JourneyCatalog = "banking",
    *,
    lenient: bool = False,
    assume_timezone: str | None = None,
    mapping: Mapping | None = None,
    format: str | None = None,
) -> DataBundle:
    """Read (a folder) or take (a dict of DataFrames) the canonical tables and validate them.

    events and customers are required; feedback and costs are optional. In strict mode any
    problem in any table raises the error class of the first one, listing all of them; in
    lenient mode bad rows are set aside in ``bundle.rejected`` with their reasons.

    Example::

        >>> import pandas as pd
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> b = load_bundle({"events": pd.DataFrame({"cust": ["c1", "c1"], "touchpoint":
        ...     ["site", "shop"], "timestamp": ["2024-03-01T10:00Z", "2024-03-01T11:00Z"]}),
        ...     "customers": pd.DataFrame({"cust": ["c1"]})}, template=cat, lenient=True,
        ...     mapping={"cust": "customer_id"})
        >>> len(b.events), b.rejected["events"]["reason"].tolist()
        (1, ["touchpoint='shop': not in the catalog"])
    """
    catalog = resolve_catalog(template)
    frames, label = _gather(source, mapping, format)
    tables: dict[str, pd.DataFrame | None] = {}
    rejected: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    for name in TABLE_NAMES:
        if name not in frames:
            if name in REQUIRED_TABLES:
                problems.append(_missing_table(name, label))
            tables[name] = None
            continue
        res = check_table(name, frames[name], catalog, assume_timezone=assume_timezone)
        tables[name], rejected[name] = res.table, res.rejected
        problems += res.problems
    raise_for_problems(problems, lenient=lenient)
    absent = tuple(n for n in TABLE_NAMES if n not in frames)
    return DataBundle(
        catalog=catalog,
        events=tables["events"],
        feedback=tables["feedback"] if tables["feedback"] is not None else empty_table("feedback"),
        customers=tables["customers"],
        costs=tables["costs"],
        rejected=rejected,
        problems=problems,
        source=label,
        absent=absent,
    )


def validate_data_dir(
    path: str | Path,
    catalog: str | JourneyCatalog,
    *,
    assume_timezone: str | None = None,
    mapping: Mapping | None = None,
    format: str | None = None,
) -> list[Problem]:
    """Validate every table in the folder ``path`` and return every problem found.

    Data problems are returned, never raised (an empty list means the folder is valid); a
    folder that cannot be read at all raises :class:`~cjm_core.errors.ConnectorError`.

    Example::

        >>> import tempfile, pandas as pd
        >>> from cjm_core.model import JourneyCatalog
        >>> cat = JourneyCatalog.from_dict({"stages": [{"id": "s", "name": "S"}],
        ...     "channels": [{"id": "web", "name": "Web"}],
        ...     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
        ...                      "stage": "s", "kind": "digital"}]})
        >>> folder = tempfile.mkdtemp()
        >>> pd.DataFrame({"customer_id": ["c1"], "touchpoint": ["shop"],
        ...     "timestamp": ["2024-03-01T10:00Z"]}).to_csv(f"{folder}/events.csv", index=False)
        >>> [(p.table, p.kind) for p in validate_data_dir(folder, cat)]
        [('events', 'unknown_touchpoint'), ('customers', 'empty')]
    """
    cat = resolve_catalog(catalog)
    frames = read_files(path, format=format, mapping=mapping)
    problems: list[Problem] = []
    for name in TABLE_NAMES:
        if name in frames:
            res = check_table(name, frames[name], cat, assume_timezone=assume_timezone)
            problems += res.problems
        elif name in REQUIRED_TABLES:
            problems.append(_missing_table(name, str(path)))
    return problems
