"""Statistics for before/after studies: tests, effect sizes, designs, power, corrections.

Every test returns a result with an estimate, its confidence interval, a p-value, the test
statistic, the method and the sample size of each group, and renders as text
(``summary()``), as HTML in a notebook and as a DataFrame (``to_frame()``).

Convention: groups are called ``a`` (the reference, e.g. *before*) and ``b`` (the
comparison, e.g. *after*), and every estimate is **b minus a**, so a positive estimate
means "higher after". (R's ``t.test(x, y)`` reports ``x - y``: the opposite sign.)

- two groups: :func:`two_proportions`, :func:`chi_square`, :func:`compare_means`;
- designs: :func:`diff_in_diff`, :func:`event_study`, :func:`bacon_decomposition`,
  :func:`interrupted_time_series`, :func:`structural_time_series`;
- survey scores: :func:`nps`, :func:`nps_difference`, :func:`csat`, :func:`ces`;
- planning and many tests: :func:`power_means`, :func:`power_two_proportions`,
  :func:`minimum_detectable_effect`, :func:`adjust_pvalues`;
- calibration by simulation: :mod:`cjm_core.stats.calibration` (``cjm calibrate``).

Example::

    >>> from cjm_core.stats import two_proportions
    >>> r = two_proportions(15, 50, 25, 50)
    >>> round(r.estimate, 2), round(r.p_value, 4)
    (0.2, 0.0412)
"""

from .chisquare import ChiSquareResult, chi_square
from .did import DiDResult, StaggeredAdoptionWarning, diff_in_diff
from .did_bacon import BaconResult, bacon_decomposition
from .did_event import EventStudyResult, event_study
from .its import ITSResult, interrupted_time_series
from .means import compare_means, welch_t_test
from .multiple import adjust_pvalues
from .power import PowerResult, minimum_detectable_effect, power_means, power_two_proportions
from .proportions import two_proportions
from .result import Estimate, TestResult, mean_ci, proportion_ci
from .scores import ScoreResult, ces, csat, nps, nps_difference
from .sts import STSResult, structural_time_series

__all__ = [
    "BaconResult",
    "ChiSquareResult",
    "DiDResult",
    "Estimate",
    "EventStudyResult",
    "ITSResult",
    "PowerResult",
    "STSResult",
    "ScoreResult",
    "StaggeredAdoptionWarning",
    "TestResult",
    "adjust_pvalues",
    "bacon_decomposition",
    "ces",
    "chi_square",
    "compare_means",
    "csat",
    "diff_in_diff",
    "event_study",
    "interrupted_time_series",
    "mean_ci",
    "minimum_detectable_effect",
    "nps",
    "nps_difference",
    "power_means",
    "power_two_proportions",
    "proportion_ci",
    "structural_time_series",
    "two_proportions",
    "welch_t_test",
]
