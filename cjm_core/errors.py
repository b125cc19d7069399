"""One exception base, a few specific subclasses.

Every message says what was asked, what was found, and how to fix it.
"""

from __future__ import annotations


class CjmError(Exception):
    """Base of every error raised by cjm on purpose."""


class CatalogError(CjmError):
    """A journey catalog is malformed: duplicate ids, dangling references, unknown kinds."""


class PluginError(CjmError):
    """A plugin failed to load or returned something malformed."""


class TemplateNotFoundError(CjmError):
    """No installed plugin provides the template that was asked for."""


class ConnectorError(CjmError):
    """A connector was misconfigured or could not read its source."""


class SimulationError(CjmError, ValueError):
    """Settings or arguments of the synthetic generator are inconsistent."""


class StudyError(CjmError):
    """A study could not be found, parameterised or executed."""


# --- data validation -------------------------------------------------------------------


class DataValidationError(CjmError):
    """A canonical table failed validation.

    ``problems`` holds every :class:`cjm_core.schema.Problem` found (not only the first),
    so a caller can print them all. The exception class is that of the first problem.
    """

    kind = "invalid"

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class EmptyTableError(DataValidationError):
    """The table has no rows."""

    kind = "empty"


class MissingColumnError(DataValidationError):
    """A required column is absent."""

    kind = "missing_column"


class ColumnTypeError(DataValidationError):
    """Values of a column cannot be read as the expected type."""

    kind = "wrong_type"


class MissingValueError(DataValidationError):
    """A required column holds empty values."""

    kind = "missing_value"


class TimestampError(DataValidationError):
    """Timestamps that cannot be parsed."""

    kind = "unparsable_timestamp"


class NaiveTimestampError(DataValidationError):
    """Timestamps without a time zone (the policy: they are rejected unless a zone is given)."""

    kind = "naive_timestamp"


class UnknownTouchpointError(DataValidationError):
    """Touchpoint (or channel) ids that the catalog does not define."""

    kind = "unknown_touchpoint"


class UnknownMetricError(DataValidationError):
    """Feedback metrics that neither the core nor the template declares."""

    kind = "unknown_metric"


class ScoreRangeError(DataValidationError):
    """Scores outside the declared scale of their metric."""

    kind = "score_out_of_range"


class ValueRangeError(DataValidationError):
    """Numbers outside their allowed range (negative durations or costs)."""

    kind = "out_of_range"


class DuplicateRowsError(DataValidationError):
    """Exact duplicate rows (or duplicate keys where a key must be unique)."""

    kind = "duplicate"


ERROR_BY_KIND: dict[str, type[DataValidationError]] = {
    cls.kind: cls
    for cls in (
        EmptyTableError,
        MissingColumnError,
        ColumnTypeError,
        MissingValueError,
        TimestampError,
        NaiveTimestampError,
        UnknownTouchpointError,
        UnknownMetricError,
        ScoreRangeError,
        ValueRangeError,
        DuplicateRowsError,
    )
}
