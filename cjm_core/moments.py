"""Moments of truth: the touchpoints whose experience separates converting journeys most.

For each touchpoint, the journeys that pass it are split by the experience the customer had
there: **bad** (a visit over the touchpoint's service level ``target_s``, or a dissatisfied
answer about it) or **good** (a visit within the service level and no dissatisfied answer).
The conversion rates of the two groups are compared with a two-proportion z-test
(``difference`` = good minus bad, Holm-adjusted p-values over the touchpoints); the largest
significant differences are the moments of truth. This is an association in observational
data, not proof that fixing the experience would convert those journeys.

Example::

    >>> from cjm_banking.generator import generate, catalog
    >>> data = generate(customers=600, seed=2)
    >>> m = moments_of_truth(data.tables["events"], data.tables["feedback"], catalog=catalog())
    >>> row = m.to_frame().set_index("touchpoint").loc["call_centre"]
    >>> int(row["journeys"]), int(row["bad_journeys"])
    (280, 170)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .model import JourneyCatalog
from .results import AnalysisResult
from .stats.multiple import adjust_pvalues
from .stats.proportions import two_proportions
from .voc.journey_frame import journey_frame
from .voc.link import link_feedback

COLUMNS = [
    "touchpoint", "journeys", "bad_journeys", "conversion_good", "conversion_bad",
    "difference", "ci_low", "ci_high", "p_value", "p_adjusted", "moment_of_truth",
]  # fmt: skip


class MomentsOfTruth(AnalysisResult):
    """Per touchpoint: journeys, bad_journeys, conversion_good / conversion_bad, the
    difference with CI and p-values; ``moment_of_truth`` marks significant positive ones."""

    title = "Moments of truth"

    def plot(self, **kwargs: Any):
        import matplotlib.pyplot as plt

        t = self.table.dropna(subset=["difference"])
        fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(t), 2) + 1.2))
        colours = ["#c44e52" if m else "#8c8c8c" for m in t["moment_of_truth"]]
        ax.barh(t["touchpoint"], t["difference"], color=colours)
        whiskers = [t["difference"] - t["ci_low"], t["ci_high"] - t["difference"]]
        ax.errorbar(t["difference"], t["touchpoint"], xerr=whiskers, fmt="none", ecolor="black",
                    capsize=3)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        ax.invert_yaxis()
        ax.set_xlabel("conversion rate: good minus bad experience at the touchpoint")
        ax.set_title("Moments of truth (red: significant after Holm)", fontsize=10)
        fig.tight_layout()
        return fig


def moments_of_truth(
    events: Any,
    feedback: pd.DataFrame | None = None,
    *,
    catalog: JourneyCatalog | None = None,
    targets: Mapping[str, float] | None = None,
    window: str = "7D",
    min_journeys: int = 20,
    gap: Any = None,
    split_on_conversion: bool = True,
    alpha: float = 0.05,
    engine: Any = None,
) -> MomentsOfTruth:
    """Compare the conversion of journeys with a good vs a bad experience at each touchpoint.

    :param targets: service levels in seconds per touchpoint (over the catalog's
        ``target_s``); touchpoints with neither are judged by answers only.
    :param min_journeys: touchpoints with fewer journeys in either group are listed without
        a test.
    """
    jf = journey_frame(events, gap=gap, split_on_conversion=split_on_conversion, engine=engine)
    levels = {t.id: float(t.target_s) for t in catalog.touchpoints if t.target_s} if catalog else {}
    levels.update({k: float(v) for k, v in (targets or {}).items()})
    jf["_slow"] = jf["touchpoint"].map(levels).lt(jf["duration_s"]).fillna(False)
    key = ["customer_id", "journey", "touchpoint"]
    visits = jf.groupby(key).agg(converted=("converted", "first"), bad=("_slow", "any"))
    visits["measured"] = visits.index.get_level_values("touchpoint").isin(list(levels))
    unhappy, asked = _answer_visits(feedback, events, window, engine)
    visits["bad"] |= visits.index.isin(unhappy)
    visits["measured"] |= visits.index.isin(asked)
    visits = visits[visits["measured"]].reset_index()
    rows = []
    for tp, part in visits.groupby("touchpoint"):
        bad, good = part[part["bad"]], part[~part["bad"]]
        row = dict.fromkeys(COLUMNS, np.nan)
        row.update(touchpoint=tp, journeys=len(part), bad_journeys=len(bad))
        if len(bad) >= min_journeys and len(good) >= min_journeys:
            r = two_proportions(int(bad["converted"].sum()), len(bad),
                                int(good["converted"].sum()), len(good), alpha=alpha)  # fmt: skip
            row.update(conversion_bad=r.estimates["a"], conversion_good=r.estimates["b"],
                       difference=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                       p_value=r.p_value)  # fmt: skip
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    tested = table["p_value"].notna()
    table["p_adjusted"] = np.nan
    if tested.any():
        table.loc[tested, "p_adjusted"] = adjust_pvalues(
            table.loc[tested, "p_value"].to_numpy(), method="holm"
        )
    table["moment_of_truth"] = (table["p_adjusted"] < alpha) & (table["difference"] > 0)
    table = table.sort_values(["moment_of_truth", "difference"], ascending=[False, False],
                              na_position="last").reset_index(drop=True)  # fmt: skip
    notes = [
        "bad experience: a visit over the service level or a dissatisfied answer about it; "
        "association, not causation",
        f"{int((~tested).sum())} touchpoint(s) with fewer than {min_journeys} journeys in a "
        "group are listed without a test",
    ]
    return MomentsOfTruth(table, notes, alpha=alpha, touchpoints=int(tested.sum()))


def _answer_visits(feedback, events, window, engine) -> tuple[pd.MultiIndex, pd.MultiIndex]:
    """(visits with a dissatisfied answer, visits with any answer), as (customer, journey,
    touchpoint); NPS answers without a touchpoint are about the relationship and left out."""
    from .pain_signals import low_answer

    names = ["customer_id", "journey", "touchpoint"]
    if feedback is None or len(feedback) == 0:
        empty = pd.MultiIndex.from_tuples([], names=names)
        return empty, empty
    linked = link_feedback(feedback, events, window=window, engine=engine).at_touchpoints()
    low = low_answer(linked["metric"], pd.to_numeric(linked["score"], errors="coerce"), {})

    def index(frame: pd.DataFrame) -> pd.MultiIndex:
        cols = [frame["customer_id"], frame["journey"], frame["linked_touchpoint"]]
        return pd.MultiIndex.from_arrays(cols, names=names)

    return index(linked[low]), index(linked)
