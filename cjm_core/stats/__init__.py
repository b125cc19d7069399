"""Statistics for before/after studies: tests, effect sizes, designs, power, corrections.

Every test returns a result with an estimate, its confidence interval, a p-value, the test
statistic, the method and the sample size of each group, and renders as text
(``summary()``), as HTML in a notebook and as a DataFrame (``to_frame()``).

Convention: groups are called ``a`` (the reference, e.g. *before*) and ``b`` (the
comparison, e.g. *after*), and every estimate is **b minus a**, so a positive estimate
means "higher after". (R's ``t.test(x, y)`` reports ``x - y``: the opposite sign.)

Example::

    >>> from cjm_core.stats import two_proportions
    >>> r = two_proportions(15, 50, 25, 50)
    >>> round(r.estimate, 2), round(r.p_value, 4)
    (0.2, 0.0412)
"""

from .means import welch_t_test
from .proportions import two_proportions
from .result import TestResult, mean_ci, proportion_ci

__all__ = ["TestResult", "mean_ci", "proportion_ci", "two_proportions", "welch_t_test"]
