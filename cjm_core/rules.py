"""The checks each canonical table runs, in a fixed order (used by :mod:`cjm_core.schema`).

Order, which decides the error class raised in strict mode: empty table, missing columns,
missing values, wrong types, unparsable timestamps, naive timestamps, unknown touchpoints
and channels, unknown metrics, scores off their scale, values out of range, duplicates.

Example::

    >>> import pandas as pd
    >>> from cjm_core.schema import TABLES
    >>> res = run_checks(TABLES["customers"], pd.DataFrame({"customer_id": ["a", None]}))
    >>> res.problems[0].kind, res.n_rejected
    ('missing_value', 1)
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from .checks import blank_mask, parse_timestamps, to_number, to_period, to_text
from .model import JourneyCatalog
from .schema import (
    ALIASES,
    NON_NEGATIVE_COLUMNS,
    NUMBER_COLUMNS,
    TIMESTAMP_COLUMNS,
    Problem,
    TableSpec,
    ValidationResult,
    empty_table,
    make_problem,
)

# check -> (kind, what the offending rows have, how to fix it, short per-row reason)
CHECKS: dict[str, tuple[str, str, str, str]] = {
    "missing": (
        "missing_value",
        "empty value(s) in a required column",
        "fill in {col} or remove those rows at the source",
        "empty value",
    ),
    "not_number": (
        "wrong_type",
        "value(s) that are not numbers",
        "write {col} as plain numbers (e.g. 4.5) or leave it empty",
        "not a number",
    ),
    "not_period": (
        "wrong_type",
        "period(s) not written as YYYY-MM",
        "write periods as 'YYYY-MM', e.g. '2024-03'",
        "not a YYYY-MM period",
    ),
    "time_is_number": (
        "wrong_type",
        "timestamp(s) given as numbers or booleans",
        "give ISO 8601 text or datetimes; for epoch seconds use "
        "pd.to_datetime(df['{col}'], unit='s', utc=True)",
        "a number, not a timestamp",
    ),
    "unparsable": (
        "unparsable_timestamp",
        "timestamp(s) that cannot be parsed as ISO 8601",
        "write timestamps like '2024-03-01T10:00:00+00:00', or parse the column with "
        "pd.to_datetime(..., format=...) before validating",
        "not ISO 8601",
    ),
    "not_local": (
        "unparsable_timestamp",
        "local time(s) that do not exist or are ambiguous in {zone} (daylight-saving change)",
        "give these values an explicit UTC offset",
        "not a unique local time in {zone}",
    ),
    "naive": (
        "naive_timestamp",
        "naive timestamp(s) without a time zone",
        "add an offset such as '+00:00', or pass assume_timezone='Europe/Lisbon' (any IANA "
        "zone or 'UTC') to say where they were recorded",
        "no time zone",
    ),
    "unknown_touchpoint": (
        "unknown_touchpoint",
        "touchpoint id(s) not in the catalog {catalog!r}",
        "map the source ids to catalog ids or add them to the catalog; known: {known}",
        "not in the catalog",
    ),
    "unknown_channel": (
        "unknown_touchpoint",
        "channel id(s) not in the catalog {catalog!r}",
        "drop the channel column to derive it from the catalog, or use catalog ids: {known}",
        "not in the catalog",
    ),
    "channel_clash": (
        "unknown_touchpoint",
        "channel(s) that disagree with the catalog's channel for their touchpoint",
        "drop the channel column to derive it from the catalog, or correct the catalog",
        "not the catalog's channel for this touchpoint",
    ),
    "unknown_metric": (
        "unknown_metric",
        "metric(s) neither standard nor declared by the catalog",
        "use one of {known} or declare the metric in the catalog's 'metrics'",
        "unknown metric",
    ),
    "score_range": (
        "score_out_of_range",
        "{metric} score(s) outside the {metric} scale {scale}",
        "keep {metric} scores on the scale {scale}; rescale or remove the others",
        "off the {metric} scale {scale}",
    ),
    "infinite": ("out_of_range", "infinite value(s)", "give finite {col} values", "infinite"),
    "negative": (
        "out_of_range",
        "negative value(s) (must be >= 0)",
        "{col} cannot be negative; correct or remove those rows",
        "negative",
    ),
    "duplicate_rows": (
        "duplicate",
        "exact duplicate row(s) (later copies of an earlier row)",
        "remove the duplicate rows at the source (df.drop_duplicates())",
        "exact duplicate of an earlier row",
    ),
    "duplicate_id": (
        "duplicate",
        "customer_id(s) that repeat an earlier row (customer_id must be unique)",
        "keep one row per customer",
        "repeats an earlier customer_id",
    ),
}
_NO_VALUES = {"missing", "duplicate_rows"}


class _Run:
    """Collects problems and the reason of every rejected row for one table."""

    def __init__(self, spec: TableSpec, df: pd.DataFrame):
        self.table = spec.name
        self.df = df
        self.n = len(df)
        self.bad = np.zeros(self.n, dtype=bool)
        self.problems: list[Problem] = []
        self.reasons: list[tuple[np.ndarray, object]] = []

    def add(
        self, check: str, column: str, mask: np.ndarray, reasons: object = None, **fmt: object
    ) -> None:
        """Record the rows in ``mask`` as failing ``check`` (a key of :data:`CHECKS`).

        ``reasons`` (one text per offending row) replaces the standard per-row reason.
        """
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        kind = CHECKS[check][0]
        what, fix, reason = (text.format(col=column, **fmt) for text in CHECKS[check][1:])
        self.bad[rows] = True
        with_value = check not in _NO_VALUES and column in self.df.columns
        self.problems.append(
            make_problem(self.table, column, kind, rows, what, fix, self.df, show_values=with_value)
        )
        text: object = reason if column == "*" else f"{column}: {reason}"
        if with_value:
            values = self.df[column].iloc[rows].astype(str).str.slice(0, 40).to_numpy()
            text = column + "='" + values.astype(object) + "': " + reason
        self.reasons.append((rows, text if reasons is None else reasons))

    def table_problem(self, kind: str, column: str, what: str, fix: str) -> None:
        self.problems.append(
            make_problem(self.table, column, kind, np.array([], int), what, fix, level="table")
        )

    def rejected(self) -> pd.DataFrame:
        rows = np.flatnonzero(self.bad)
        out = self.df.iloc[rows].reset_index(drop=True)
        out["_row"] = rows
        if not len(rows):
            out["reason"] = pd.Series([], dtype="str")
            return out
        parts = pd.concat(
            [pd.DataFrame({"row": r, "text": t}) for r, t in self.reasons], ignore_index=True
        )
        joined = parts.groupby("row", sort=True)["text"].agg("; ".join)
        out["reason"] = pd.Series(joined.reindex(rows).to_numpy(), dtype="str")
        return out


def _suggest(column: str, present: list[str]) -> str:
    """A mapping suggestion for a missing canonical column."""
    lower = {c.lower(): c for c in present}
    guesses = [lower[a] for a in (column, *ALIASES.get(column, ())) if a in lower]
    guesses += difflib.get_close_matches(column, present, n=1, cutoff=0.6)
    source = guesses[0] if guesses else "<your column>"
    return f"mapping={{{source!r}: {column!r}}}"


def _table_checks(run: _Run, spec: TableSpec) -> bool:
    """Table-level checks; returns False when the rows cannot be checked at all."""
    df = run.df
    present = [str(c) for c in df.columns]
    if run.n == 0:
        run.table_problem(
            "empty",
            "*",
            "the table has no rows",
            "check the source file or query; an empty table cannot be analysed",
        )
        return False
    dup_names = sorted({c for c in present if present.count(c) > 1})
    for col in dup_names:
        run.table_problem(
            "missing_column",
            col,
            "the column name appears more than once",
            "rename or drop the extra column(s) so each name is unique",
        )
    for col in spec.required:
        if col not in df.columns:
            run.table_problem(
                "missing_column",
                col,
                f"required column {col!r} is missing; columns present: {', '.join(present)}; "
                f"canonical columns: {', '.join(spec.required)} (required), "
                f"{', '.join(spec.optional) or 'none'} (optional)",
                f"rename the source column with a column mapping, e.g. {_suggest(col, present)}",
            )
    return not dup_names


def run_checks(
    spec: TableSpec,
    df: pd.DataFrame,
    catalog: JourneyCatalog | None = None,
    *,
    assume_timezone: str | None = None,
) -> ValidationResult:
    """Run every check of ``spec`` on ``df``; never raises for bad data.

    Example::

        >>> import pandas as pd
        >>> from cjm_core.schema import TABLES
        >>> run_checks(TABLES["customers"], pd.DataFrame({"customer_id": ["a"]})).n_kept
        1
    """
    run = _Run(spec, df.reset_index(drop=True))
    df = run.df
    if not _table_checks(run, spec):
        return ValidationResult(
            empty_table(spec.name), run.rejected(), run.problems, spec.name, run.n
        )
    has = [c for c in spec.columns if c in df.columns]
    missing = {c: blank_mask(df[c]) for c in has}
    for col in (c for c in spec.required if c in df.columns):
        run.add("missing", col, missing[col])

    out: dict[str, pd.Series] = {}
    times = None
    for col in has:
        if col in TIMESTAMP_COLUMNS:
            times = parse_timestamps(df[col], assume_timezone)
            out[col] = times.values
            run.add("time_is_number", col, times.wrong_type)
        elif col in NUMBER_COLUMNS:
            out[col], wrong = to_number(df[col])
            run.add("not_number", col, wrong)
        elif col == "period":
            out[col], wrong = to_period(df[col])
            run.add("not_period", col, wrong)
        else:
            out[col] = to_text(df[col])
            if missing[col].any():  # blank text counts as missing: "" becomes NaN
                out[col] = out[col].where(~missing[col])
    if times is not None:
        run.add("unparsable", "timestamp", times.unparsable)
        run.add("not_local", "timestamp", times.not_local, zone=assume_timezone)
        run.add("naive", "timestamp", times.naive)
    if catalog is not None:
        _check_catalog(run, spec, out, missing, catalog)
    for col in (c for c in has if c in NUMBER_COLUMNS):
        values = out[col].to_numpy()
        run.add("infinite", col, np.isinf(values))
        if col in NON_NEGATIVE_COLUMNS:
            run.add("negative", col, values < 0)
    _check_duplicates(run, spec, out)
    return _assemble(run, spec, out, catalog)


def _check_catalog(
    run: _Run,
    spec: TableSpec,
    out: dict[str, pd.Series],
    missing: dict[str, np.ndarray],
    catalog: JourneyCatalog,
) -> None:
    name = catalog.name or "catalog"
    if "touchpoint" in out:
        unknown = ~missing["touchpoint"] & ~out["touchpoint"].isin(catalog.touchpoint_ids)
        known = ", ".join(catalog.touchpoint_ids)
        run.add("unknown_touchpoint", "touchpoint", unknown.to_numpy(), catalog=name, known=known)
    if spec.name == "events" and "channel" in out:
        channel = out["channel"]
        given = ~missing["channel"]
        unknown = given & ~channel.isin(catalog.channel_ids).to_numpy()
        known = ", ".join(catalog.channel_ids)
        run.add("unknown_channel", "channel", unknown, catalog=name, known=known)
        if "touchpoint" in out:
            expected = out["touchpoint"].map(catalog.channel_of())
            differs = (expected.notna() & (expected != channel)).fillna(False)
            run.add("channel_clash", "channel", given & ~unknown & differs.to_numpy(dtype=bool))
    if "metric" in out:
        metrics = {m.id: m for m in catalog.all_metrics}
        metric = out["metric"]
        unknown = ~missing["metric"] & ~metric.isin(list(metrics)).to_numpy()
        run.add("unknown_metric", "metric", unknown, known=", ".join(metrics))
        if "score" not in out:
            return
        score = out["score"].to_numpy()
        for m in metrics.values():
            sel = (metric == m.id).fillna(False).to_numpy(dtype=bool) & ~np.isnan(score)
            off = sel & ((score < m.min) | (score > m.max))
            if m.integer:
                off |= sel & (np.mod(score, 1) != 0)
            scale = f"{m.min:g}-{m.max:g}" + (" (whole numbers)" if m.integer else "")
            run.add("score_range", "score", off, metric=m.id, scale=scale)


def _check_duplicates(run: _Run, spec: TableSpec, out: dict[str, pd.Series]) -> None:
    df = run.df
    try:
        dup = df.duplicated(keep="first").to_numpy()
    except TypeError:  # unhashable cells (lists, dicts) in extra columns
        dup = df.astype(str).duplicated(keep="first").to_numpy()
    if dup.any():
        try:
            keys = pd.util.hash_pandas_object(df, index=False).to_numpy()
        except TypeError:
            keys = pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()
        first = pd.Series(np.flatnonzero(~dup), index=keys[~dup]).reindex(keys[dup])
        reasons = "exact duplicate of row " + first.astype("Int64").astype(str).to_numpy()
        run.add("duplicate_rows", "*", dup, reasons=reasons.astype(object))
    if spec.name == "customers" and "customer_id" in out:
        ids = out["customer_id"]
        again = ids.duplicated(keep="first").to_numpy() & ids.notna().to_numpy() & ~dup
        run.add("duplicate_id", "customer_id", again)


def _assemble(
    run: _Run, spec: TableSpec, out: dict[str, pd.Series], catalog: JourneyCatalog | None
) -> ValidationResult:
    if spec.name == "events":
        if "touchpoint" in out and catalog is not None:
            derived = out["touchpoint"].map(catalog.channel_of()).astype("str")
            out["channel"] = out["channel"].fillna(derived) if "channel" in out else derived
        if "event_type" in out:
            out["event_type"] = out["event_type"].fillna("interaction")
        else:
            out["event_type"] = pd.Series("interaction", index=range(run.n), dtype="str")
    keep = ~run.bad
    columns = [c for c in spec.columns if c in out]
    extras = [c for c in run.df.columns if c not in out]
    table = pd.DataFrame({c: out[c].reset_index(drop=True) for c in columns})
    for c in extras:
        table[c] = run.df[c].reset_index(drop=True)
    if not keep.all():
        table = table[keep].reset_index(drop=True)
    return ValidationResult(table, run.rejected(), run.problems, spec.name, run.n)
