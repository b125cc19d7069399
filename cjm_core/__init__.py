"""cjm: the customer-journey research workspace (core).

The public API is re-exported here; everything else may change between versions.

Example::

    >>> from cjm_core import JourneyCatalog, two_proportions
    >>> round(two_proportions(15, 50, 25, 50).estimate, 2)
    0.2
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .batch import BatchResult, run_batch
from .breakdown import GroupedResult, by_group
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
from .moments import MomentsOfTruth, moments_of_truth
from .pain_points import PainPoints, pain_points
from .personas import (
    ArchetypeMatch,
    PersonaCards,
    PersonaModel,
    customer_features,
    find_personas,
    match_archetypes,
    persona_cards,
)
from .plugins import get_registry, hookimpl, make_plugin_manager, registry_with
from .prepared import PreparedEvents, prepare_events
from .record import read_records, record
from .registry import PluginFailure, PluginInfo, Registry
from .reports_index import write_index
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
from .viz import (
    ControlChart,
    JourneyMapData,
    control_chart,
    control_chart_from_counts,
    journey_map,
    journey_map_data,
    journey_maps_by_persona,
    save_journey_map,
)
from .voc import (
    CommentTopics,
    KeyDrivers,
    LinkedFeedback,
    ScoreTrend,
    SentimentAgreement,
    SurveyMetrics,
    comment_sentiment,
    comment_topics,
    compare_scores,
    driver_table,
    key_drivers,
    link_feedback,
    score_trend,
    sentiment_agreement,
    survey_metrics,
)

try:
    __version__ = version("cjm-core")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"

__all__ = [
    "ArchetypeMatch",
    "BaconResult",
    "BatchResult",
    "BeforeAfterResult",
    "BeforeAfterStudy",
    "CatalogError",
    "Channel",
    "ChiSquareResult",
    "CjmError",
    "ColumnTypeError",
    "CommentTopics",
    "Connector",
    "ConnectorError",
    "ControlChart",
    "DataBundle",
    "DataValidationError",
    "DiDResult",
    "DropOff",
    "DuplicateRowsError",
    "EmptyTableError",
    "Engine",
    "EventStudyResult",
    "Funnel",
    "FunnelResult",
    "GroupedResult",
    "ITSResult",
    "JourneyCatalog",
    "JourneyMapData",
    "Journeys",
    "KPI",
    "KeyDrivers",
    "LinkedFeedback",
    "Loops",
    "Metric",
    "MissingColumnError",
    "MissingValueError",
    "MomentsOfTruth",
    "NaiveTimestampError",
    "NotebookSpec",
    "PainPoints",
    "PathVariants",
    "Persona",
    "PersonaCards",
    "PersonaModel",
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
    "STSResult",
    "ScoreRangeError",
    "ScoreResult",
    "ScoreTrend",
    "SentimentAgreement",
    "Stage",
    "StaggeredAdoptionWarning",
    "StudyError",
    "StudyResult",
    "StudyRun",
    "SurveyMetrics",
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
    "by_group",
    "ces",
    "chi_square",
    "comment_sentiment",
    "comment_topics",
    "compare_means",
    "compare_scores",
    "control_chart",
    "control_chart_from_counts",
    "csat",
    "customer_features",
    "diff_in_diff",
    "driver_table",
    "drop_off",
    "duckdb_engine",
    "event_study",
    "find_personas",
    "funnel",
    "get_engine",
    "get_registry",
    "hookimpl",
    "interrupted_time_series",
    "journey_map",
    "journey_map_data",
    "journey_maps_by_persona",
    "key_drivers",
    "link_feedback",
    "list_parameters",
    "load_bundle",
    "loops",
    "make_plugin_manager",
    "match_archetypes",
    "minimum_detectable_effect",
    "moments_of_truth",
    "nps",
    "nps_difference",
    "pain_points",
    "path_variants",
    "persona_cards",
    "power_means",
    "power_two_proportions",
    "prepare_events",
    "read_records",
    "read_truth",
    "record",
    "registry_with",
    "repeat_contacts",
    "repeat_purchase",
    "retention",
    "run_batch",
    "run_study",
    "save_journey_map",
    "score_trend",
    "sentiment_agreement",
    "spark_engine",
    "spark_session",
    "structural_time_series",
    "survey_metrics",
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
    "write_index",
]
