"""cjm: the customer-journey research workspace (core).

The public API is re-exported here; everything else may change between versions.

Example::

    >>> from cjm_core import JourneyCatalog, two_proportions
    >>> round(two_proportions(15, 50, 25, 50).estimate, 2)
    0.2
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .bundle import DataBundle, load_bundle, validate_data_dir
from .errors import (
    CatalogError,
    CjmError,
    ColumnTypeError,
    ConnectorError,
    DataValidationError,
    DuplicateRowsError,
    EmptyTableError,
    MissingColumnError,
    MissingValueError,
    NaiveTimestampError,
    PluginError,
    ScoreRangeError,
    StudyError,
    TemplateNotFoundError,
    TimestampError,
    UnknownMetricError,
    UnknownTouchpointError,
    ValueRangeError,
)
from .extensions import KPI, Connector, Funnel, NotebookSpec, SyntheticData, Template
from .model import Channel, JourneyCatalog, Metric, Persona, Stage, Touchpoint
from .plugins import get_registry, hookimpl, make_plugin_manager, registry_with
from .record import read_records, record
from .registry import PluginFailure, PluginInfo, Registry
from .runner import StudyRun, list_parameters, run_study
from .schema import (
    Problem,
    ValidationResult,
    validate_costs,
    validate_customers,
    validate_events,
    validate_feedback,
)
from .stats import TestResult, two_proportions, welch_t_test
from .studies import BeforeAfterResult, before_after, read_truth

try:
    __version__ = version("cjm-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "KPI",
    "BeforeAfterResult",
    "CatalogError",
    "Channel",
    "CjmError",
    "ColumnTypeError",
    "Connector",
    "ConnectorError",
    "DataBundle",
    "DataValidationError",
    "DuplicateRowsError",
    "EmptyTableError",
    "Funnel",
    "JourneyCatalog",
    "Metric",
    "MissingColumnError",
    "MissingValueError",
    "NaiveTimestampError",
    "NotebookSpec",
    "Persona",
    "PluginError",
    "PluginFailure",
    "PluginInfo",
    "Problem",
    "Registry",
    "ScoreRangeError",
    "Stage",
    "StudyError",
    "StudyRun",
    "SyntheticData",
    "Template",
    "TemplateNotFoundError",
    "TestResult",
    "TimestampError",
    "Touchpoint",
    "UnknownMetricError",
    "UnknownTouchpointError",
    "ValidationResult",
    "ValueRangeError",
    "before_after",
    "get_registry",
    "hookimpl",
    "list_parameters",
    "load_bundle",
    "make_plugin_manager",
    "read_records",
    "read_truth",
    "record",
    "registry_with",
    "run_study",
    "two_proportions",
    "validate_costs",
    "validate_customers",
    "validate_data_dir",
    "validate_events",
    "validate_feedback",
    "welch_t_test",
]
