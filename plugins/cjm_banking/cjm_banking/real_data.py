"""Connectors for three real public banking data sets, and the helpers they share.

- ``bpi_challenge_2012`` (:mod:`.real_bpi`): ``bpi_challenge_2012/bpic2012_events.csv.gz``,
  the BPI Challenge 2012 loan-application event log.
- ``bank_call_centre`` (:mod:`.real_calls`):
  ``anonymous_bank_call_center/data_anonymous_bank_february.txt``, one month of calls.
- ``bank_marketing`` (:mod:`.real_marketing`): ``uci_bank_marketing/bank-additional-full.csv``
  (or ``bank-full.csv``), telemarketing campaigns; its timestamps are synthetic.

Each ``read(path=None, rules=None, ...)`` returns ``{"events": ..., "customers": ...}`` in
canonical columns, ready for ``load_bundle(tables, template="banking")``. ``path`` is the
source file or its folder; by default the file is looked for under the real-data root,
``$CJM_REAL_DATA`` or else ``<workspace>/../shared/data/real``. How source activities,
queues and channels become catalog touchpoints is kept in editable YAML files in
``cjm_banking/mappings/``; pass ``rules=`` (a path or a dict of the same shape) to use others.

Count check: every returned table carries ``df.attrs["rows_read"]`` (source rows, or source
units such as distinct customer ids, that fed it) and ``df.attrs["set_aside"]`` (what was
not loaded, with a ``reason``: for events the source rows with their file ``line``, for
customers the ids). Each module's docstring gives the exact relation. Rows that cannot be
mapped are set aside, never dropped; malformed files raise ``ConnectorError``.

Example::

    >>> [c.name for c in connectors()]
    ['bpi_challenge_2012', 'bank_call_centre', 'bank_marketing']
    >>> default_source("uci_bank_marketing", "bank-full.csv").name
    'bank-full.csv'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from cjm_core.connectors.exports import read_yaml
from cjm_core.errors import ConnectorError
from cjm_core.extensions import Connector
from cjm_core.paths import workspace_root

MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


def real_data_dir() -> Path:
    """The real-data root: ``$CJM_REAL_DATA`` or ``<workspace>/../shared/data/real``."""
    env = os.environ.get("CJM_REAL_DATA")
    return Path(env).expanduser() if env else workspace_root().parent / "shared" / "data" / "real"


def default_source(dataset: str, filename: str) -> Path:
    """Where the file ``filename`` of ``dataset`` lives under the real-data root."""
    return real_data_dir() / dataset / filename


def source_file(path: str | Path | None, dataset: str, filename: str) -> Path:
    """The source file: ``path`` itself, ``path/filename`` when ``path`` is a folder, or the
    default location. Raises :class:`ConnectorError` when it does not exist."""
    file = default_source(dataset, filename) if path is None else Path(path).expanduser()
    if file.is_dir():
        file = file / filename
    if not file.is_file():
        hint = (
            "pass path='.../" + filename + "' (the file or its folder)"
            if path is not None
            else f"set CJM_REAL_DATA to the folder holding {dataset}/, or pass path="
        )
        raise ConnectorError(f"The {dataset} source file {str(file)!r} does not exist; {hint}.")
    return file


def load_rules(
    rules: str | Path | Mapping[str, Any] | None, default: str, required: Sequence[str]
) -> tuple[dict[str, Any], str]:
    """The mapping rules (a dict) and where they came from.

    ``rules`` is ``None`` (the shipped ``mappings/<default>``), the path of a YAML file, or
    a dict of the same shape. Raises :class:`ConnectorError` naming the file when it is
    missing, not YAML, not a mapping, or lacks one of the ``required`` sections.
    """
    if isinstance(rules, Mapping):
        data, where = dict(rules), "rules dict"
    else:
        file = Path(rules).expanduser() if rules is not None else MAPPINGS_DIR / default
        where = f"rules file {str(file)!r}"
        data = read_yaml(file, where)
    if not isinstance(data, Mapping):
        raise ConnectorError(f"The {where} must be a YAML mapping, got {type(data).__name__}.")
    absent = [k for k in required if k not in data]
    if absent:
        raise ConnectorError(
            f"The {where} lacks section(s) {', '.join(map(repr, absent))}; copy "
            f"{str(MAPPINGS_DIR / default)!r} and edit it."
        )
    return dict(data), where


def check_touchpoints(targets: Mapping[str, Any], where: str, section: str) -> None:
    """Raise :class:`ConnectorError` when a rule names a touchpoint the banking catalog lacks
    (``None`` targets mean "set aside" and are allowed)."""
    from .generator import catalog

    known = catalog().touchpoint_ids
    bad = {k: v for k, v in targets.items() if v is not None and v not in known}
    if bad:
        shown = ", ".join(f"{k!r} -> {v!r}" for k, v in bad.items())
        raise ConnectorError(
            f"The {where} section {section!r} maps to touchpoint(s) not in the banking "
            f"catalog: {shown}. Use one of: {', '.join(known)} (or null to set rows aside)."
        )


def rule_problems(
    values: pd.Series, rules: Mapping[str, Any], what: str, where: str, null: str = "maps to null"
) -> list[tuple[pd.Series, pd.Series]]:
    """``(mask, reason)`` pairs: values a rule maps to null, values without a rule.

    Example::

        >>> [m.tolist() for m, _ in rule_problems(pd.Series(["a", "b", "c"]), {"a": 1, "b": None},
        ...                                       "type", "rules dict")]
        [[False, True, False], [False, False, True]]
    """
    named, shown = values.isin(list(rules)), what + " " + values.map(repr)
    nulls = named & values.map(rules).isna()
    return [(nulls, shown + " " + null), (~named, shown + f" has no rule in {where}")]


def read_table(file: Path, *, sep: str, required: Sequence[str]) -> pd.DataFrame:
    """Read a delimited text file with every column as text (empty cells stay ``""``).

    Raises :class:`ConnectorError` for unreadable files, broken lines (too many fields, or
    too few: the last column, never empty in these sources, is empty), naming the line, and
    missing columns (listing those present).
    """
    try:
        with warnings.catch_warnings():  # extra fields on the first line: a warning, not an error
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(file, sep=sep, dtype=str, na_filter=False, index_col=False)
    except pd.errors.ParserWarning:
        raise ConnectorError(
            f"{str(file)!r} has a broken line: line 2 has more fields than the header. Fix: "
            f"every line needs the {sep!r}-separated fields of the header."
        ) from None
    except pd.errors.ParserError as exc:
        raise ConnectorError(
            f"{str(file)!r} has a broken line: {exc}. Fix: every line needs the "
            f"{len(required)} {sep!r}-separated fields of the header."
        ) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConnectorError(f"Could not read {str(file)!r}: {exc}") from None
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    absent = [c for c in required if c not in df.columns]
    if absent:
        raise ConnectorError(
            f"{str(file)!r} lacks column(s) {', '.join(map(repr, absent))}; columns present: "
            f"{', '.join(map(str, df.columns))}. Fix: pass the original file (separator "
            f"{sep!r}) with its header line."
        )
    last = df.columns[-1]  # never empty in these formats: empty means the line ended early
    short = df[last].str.strip() == ""
    fail_rows(file, last, short, df, f"broken line(s) with fewer than {len(df.columns)} fields")
    return df


def fail_rows(
    file: Path, column: str, bad: pd.Series, df: pd.DataFrame, problem: str, fix: str = ""
) -> None:
    """Raise :class:`ConnectorError` naming file, column, lines and values if ``bad`` (a
    boolean mask over ``df``) marks any row; ``problem`` reads "N <problem> at line(s)"."""
    if not bad.any():
        return
    rows = df.index[bad.to_numpy()]
    shown = ", ".join(str(r + 2) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
    values = ", ".join(repr(v) for v in df.loc[rows[:5], column])
    raise ConnectorError(
        f"{str(file)!r}, column {column!r}: {len(rows)} {problem} at line(s) {shown} (values "
        f"{values}). Fix: {fix or 'correct those lines, or pass the original file'}."
    )


def to_numbers(file: Path, df: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats; non-numbers raise :class:`ConnectorError` naming the lines."""
    out = pd.to_numeric(df[column].str.strip(), errors="coerce")
    fail_rows(file, column, out.isna(), df, "value(s) that are not numbers")
    return out.astype(float)


def aside(df: pd.DataFrame, mask: pd.Series, reason: pd.Series | str) -> pd.DataFrame:
    """The source rows marked by ``mask`` with their file ``line`` and ``reason``."""
    out = df[mask.to_numpy()].copy()
    out.insert(0, "line", out.index.to_numpy() + 2)
    out["reason"] = reason if isinstance(reason, str) else reason[mask.to_numpy()].to_numpy()
    return out.reset_index(drop=True)


def customers_aside(all_ids: pd.Series, loaded_ids: pd.Series) -> pd.DataFrame:
    """Customer ids seen in the source with no loaded event, with a reason."""
    missing = sorted(set(all_ids) - set(loaded_ids))
    return pd.DataFrame(
        {"customer_id": pd.Series(missing, dtype="str"), "reason": "no event of it was loaded"}
    )


def count_check(df: pd.DataFrame, rows_read: int, set_aside: pd.DataFrame) -> pd.DataFrame:
    """Attach the count-check attributes (``rows_read``, ``set_aside``) to ``df``.

    Do this last: pandas copies ``attrs`` into derived frames and compares them on
    ``concat`` (also inside ``groupby().agg``), where two DataFrames in ``attrs`` raise
    "truth value of a DataFrame is ambiguous". Clear ``df.attrs`` before such operations.
    """
    df.attrs["rows_read"] = int(rows_read)
    df.attrs["set_aside"] = set_aside
    return df


def connectors() -> list[Connector]:
    """The three connectors (imported here, so each module can import these helpers)."""
    from .real_bpi import BPI_CONNECTOR
    from .real_calls import CALLS_CONNECTOR
    from .real_marketing import MARKETING_CONNECTOR

    return [BPI_CONNECTOR, CALLS_CONNECTOR, MARKETING_CONNECTOR]
