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
from .engine import Engine, duckdb_engine, get_engine, spark_engine, spark_session, use_engine
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
from .friction import DropOff, Loops, RepeatContacts, drop_off, loops, repeat_contacts
from .funnel_result import FunnelResult
from .funnels import funnel
from .journeys import Journeys, build_journeys
from .kpis import TouchpointKPIs, touchpoint_kpis
from .model import Channel, JourneyCatalog, Metric, Persona, Stage, Touchpoint
from .plugins import get_registry, hookimpl, make_plugin_manager, registry_with
from .prepared import PreparedEvents, prepare_events
from .record import read_records, record
from .registry import PluginFailure, PluginInfo, Registry
from .retention import RepeatPurchase, Retention, repeat_purchase, retention
from .runner import StudyRun, list_parameters, run_study
from .schema import (
    Problem,
    ValidationResult,
    validate_costs,
    validate_customers,
    validate_events,
    validate_feedback,
)
from .stats import (
    BaconResult,
    ChiSquareResult,
    DiDResult,
    EventStudyResult,
    ITSResult,
    PowerResult,
    ScoreResult,
    StaggeredAdoptionWarning,
    STSResult,
    TestResult,
    adjust_pvalues,
    bacon_decomposition,
    ces,
    chi_square,
    compare_means,
    csat,
    diff_in_diff,
    event_study,
    interrupted_time_series,
    minimum_detectable_effect,
    nps,
    nps_difference,
    power_means,
    power_two_proportions,
    structural_time_series,
    two_proportions,
    welch_t_test,
)
from .studies import BeforeAfterResult, before_after, read_truth
from .study_report import StudyResult
from .study_spec import BeforeAfterStudy
from .transitions import Transitions, transitions
from .variants import PathVariants, path_variants

try:
    __version__ = version("cjm-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "BaconResult",
    "BeforeAfterResult",
    "BeforeAfterStudy",
    "CatalogError",
    "Channel",
    "ChiSquareResult",
    "CjmError",
    "ColumnTypeError",
    "Connector",
    "ConnectorError",
    "DataBundle",
    "DataValidationError",
    "DiDResult",
    "DropOff",
    "DuplicateRowsError",
    "EmptyTableError",
    "Engine",
    "EventStudyResult",
    "ITSResult",
    "Funnel",
    "FunnelResult",
    "JourneyCatalog",
    "Journeys",
    "KPI",
    "Loops",
    "Metric",
    "MissingColumnError",
    "MissingValueError",
    "NaiveTimestampError",
    "NotebookSpec",
    "PathVariants",
    "Persona",
    "PluginError",
    "PluginFailure",
    "PluginInfo",
    "PowerResult",
    "PreparedEvents",
    "Problem",
    "Registry",
    "RepeatContacts",
    "RepeatPurchase",
    "Retention",
    "ScoreRangeError",
    "STSResult",
    "ScoreResult",
    "Stage",
    "StaggeredAdoptionWarning",
    "StudyError",
    "StudyResult",
    "StudyRun",
    "SyntheticData",
    "Template",
    "TemplateNotFoundError",
    "TestResult",
    "TimestampError",
    "Touchpoint",
    "TouchpointKPIs",
    "Transitions",
    "UnknownMetricError",
    "UnknownTouchpointError",
    "ValidationResult",
    "ValueRangeError",
    "adjust_pvalues",
    "bacon_decomposition",
    "before_after",
    "build_journeys",
    "ces",
    "chi_square",
    "compare_means",
    "csat",
    "diff_in_diff",
    "drop_off",
    "duckdb_engine",
    "event_study",
    "interrupted_time_series",
    "funnel",
    "get_engine",
    "get_registry",
    "hookimpl",
    "list_parameters",
    "load_bundle",
    "loops",
    "make_plugin_manager",
    "minimum_detectable_effect",
    "nps",
    "nps_difference",
    "path_variants",
    "power_means",
    "power_two_proportions",
    "structural_time_series",
    "prepare_events",
    "read_records",
    "read_truth",
    "record",
    "registry_with",
    "repeat_contacts",
    "repeat_purchase",
    "retention",
    "run_study",
    "spark_engine",
    "spark_session",
    "touchpoint_kpis",
    "transitions",
    "two_proportions",
    "use_engine",
    "validate_costs",
    "validate_customers",
    "validate_data_dir",
    "validate_events",
    "validate_feedback",
    "welch_t_test",
]
