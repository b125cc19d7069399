"""Each survey answer linked to the journey and the touchpoint it is about.

Rules, in order (the first that applies wins; ``link`` says which):

1. ``"journey_id"``: the answer carries a journey_id that is one of the customer's journeys
   (when journeys are the events' own ids: ``gap=None`` and a journey_id column); its
   touchpoint is the answer's touchpoint, else the journey's last touchpoint before it.
2. ``"touchpoint"``: the answer names a touchpoint: the customer's latest event at that
   touchpoint at or before the answer, at most ``window`` earlier.
3. ``"last_event"``: no touchpoint: the customer's latest event at or before the answer,
   at most ``window`` earlier (relationship surveys such as NPS land on the last contact).

Anything else stays in the table, unlinked, with its ``reason``: the customer has no events,
no event within the window, the named touchpoint was not visited within the window, or the
given journey_id is unknown. Nothing is dropped; :attr:`LinkedFeedback.counts` tallies it.

Example::

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05",
    ...                                  "2024-01-03 09:00"], utc=True),
    ...     "touchpoint": ["web", "call", "web"]})
    >>> fb = pd.DataFrame({"customer_id": ["a", "b", "c"], "metric": "csat", "score": [2, 5, 4],
    ...     "timestamp": pd.to_datetime(["2024-01-01 11:00", "2024-01-20 00:00",
    ...                                  "2024-01-02 00:00"], utc=True),
    ...     "touchpoint": [None, None, "web"]})
    >>> linked = link_feedback(fb, ev, window="7D").to_frame()
    >>> linked[["journey", "linked_touchpoint", "link"]].values.tolist()
    [['a#1', 'call', 'last_event'], [None, None, 'unlinked'], [None, None, 'unlinked']]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import CjmError
from ..results import AnalysisResult
from ..sequences import gap_seconds
from .journey_frame import journey_frame

REASONS = {
    "no_events": "the customer has no events",
    "outside_window": "no event of the customer within the window before the answer",
    "touchpoint_not_visited": "the named touchpoint was not visited within the window",
    "unknown_journey": "the given journey_id is not one of the customer's journeys",
}
LINK_COLUMNS = ["journey", "linked_touchpoint", "event_time", "lag_s", "link", "reason"]


class LinkedFeedback(AnalysisResult):
    """The feedback with ``journey`` (``customer#n`` or the given id), ``linked_touchpoint``,
    ``event_time``, ``lag_s`` (seconds from that event to the answer), ``link`` (the rule
    that linked it, or ``"unlinked"``) and ``reason`` (why not linked)."""

    title = "Feedback linked to journeys"

    @property
    def counts(self) -> pd.DataFrame:
        """Answers per link rule and reason; the counts add up to all answers."""
        t = self.table.assign(reason=self.table["reason"].fillna(""))
        out = t.groupby(["link", "reason"], sort=True).size().rename("answers").reset_index()
        out["share"] = out["answers"] / max(len(t), 1)
        return out

    @property
    def linked(self) -> pd.DataFrame:
        """Only the linked answers."""
        return self.table[self.table["link"] != "unlinked"].reset_index(drop=True)

    @property
    def relationship(self) -> pd.Series:
        """NPS answers without a touchpoint of their own: about the relationship, not about
        the touchpoint they were linked to (True/False per row of the table)."""
        t = self.table
        explicit = t["touchpoint"].notna() if "touchpoint" in t else False
        return ~explicit & (t["metric"] == "nps") if "metric" in t else t["link"].isna()

    def at_touchpoints(self) -> pd.DataFrame:
        """The linked answers that are about a touchpoint (relationship NPS left out), with
        the original index."""
        t = self.table
        return t[(t["link"] != "unlinked") & ~self.relationship]

    def summary(self, max_rows: int = 10) -> str:
        return "\n".join(
            [self._heading(), self.counts.to_string(index=False)]
            + [f"note: {n}" for n in self.notes]
        )

    def plot(self, **kwargs: Any):
        """A bar per link rule / reason."""
        import matplotlib.pyplot as plt

        c = self.counts
        labels = [f"{r.link}" + (f": {r.reason}" if r.reason else "") for r in c.itertuples()]
        fig, ax = plt.subplots(figsize=(7, 0.4 * len(c) + 1.2))
        ax.barh(labels, c["answers"], color=["#c44e52" if x else "#4c72b0" for x in c["reason"]])
        ax.invert_yaxis()
        ax.set_xlabel("answers")
        ax.set_title("How survey answers were linked to journeys", fontsize=10)
        fig.tight_layout()
        return fig


def link_feedback(
    feedback: pd.DataFrame,
    events: Any,
    *,
    window: str | pd.Timedelta | float = "7D",
    gap: str | pd.Timedelta | float | None = None,
    split_on_conversion: bool = True,
    engine: Any = None,
) -> LinkedFeedback:
    """Link each answer to a journey and a touchpoint (rules in the module docstring).

    :param window: how long before an answer its event may be ("7D", "48h", seconds).
    :param gap, split_on_conversion: how journeys are cut (as :func:`cjm_core.build_journeys`;
        ``gap=None`` uses the events' own journey_id when present, else 30 minutes).
    :returns: :class:`LinkedFeedback`, one row per answer in the input order.
    """
    limit = pd.Timedelta(seconds=gap_seconds(window))
    fb = _check_feedback(feedback)
    ev = journey_frame(
        events, gap=gap, split_on_conversion=split_on_conversion, customers=fb["customer_id"],
        engine=engine,
    ).sort_values("timestamp", kind="stable")  # fmt: skip
    out = fb.copy()
    for column in LINK_COLUMNS:
        out[column] = None
    out["lag_s"] = np.nan
    out["event_time"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
    ts = pd.to_datetime(fb["timestamp"], utc=True)
    has_events = fb["customer_id"].isin(set(ev["customer_id"]))
    todo = pd.Series(True, index=fb.index)
    if "journey_id" in fb.columns and "given_id" in ev.columns:
        todo &= ~_by_journey_id(out, fb, ev, ts)
    named = todo & _named_touchpoint(fb)
    _latest(out, fb[named], ev, ts, limit, by_touchpoint=True, rule="touchpoint")
    rest = todo & ~named
    _latest(out, fb[rest], ev, ts, limit, by_touchpoint=False, rule="last_event")
    left = out["link"].isna()
    out.loc[left, "link"] = "unlinked"
    out.loc[left & ~has_events, "reason"] = REASONS["no_events"]
    out.loc[left & has_events & named & out["reason"].isna(), "reason"] = REASONS[
        "touchpoint_not_visited"
    ]
    out.loc[left & has_events & out["reason"].isna(), "reason"] = REASONS["outside_window"]
    n_unlinked = int((out["link"] == "unlinked").sum())
    notes = [
        f"{len(out) - n_unlinked} of {len(out)} answers linked; {n_unlinked} unlinked "
        "(kept, with their reason)"
    ]
    return LinkedFeedback(out, notes, window=str(window), answers=len(out))


def _check_feedback(feedback: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(feedback, pd.DataFrame):
        raise CjmError(f"feedback must be a pandas DataFrame; got {type(feedback).__name__}.")
    missing = [c for c in ("customer_id", "timestamp") if c not in feedback.columns]
    if missing:
        raise CjmError(
            f"feedback lacks column(s) {missing}; present: {list(feedback.columns)}. "
            "Linking needs who answered and when."
        )
    ts = pd.to_datetime(feedback["timestamp"], utc=True, errors="coerce")
    bad = ts.isna()
    if bad.any():
        rows = feedback.index[bad][:5].tolist()
        raise CjmError(
            f"feedback.timestamp: {int(bad.sum())} answers have no readable time (rows {rows}). "
            "Fix or drop them explicitly before linking."
        )
    return feedback.assign(customer_id=feedback["customer_id"].astype(str))


def _named_touchpoint(fb: pd.DataFrame) -> pd.Series:
    if "touchpoint" not in fb.columns:
        return pd.Series(False, index=fb.index)
    return fb["touchpoint"].notna() & (fb["touchpoint"].astype(str) != "")


def _by_journey_id(out: pd.DataFrame, fb: pd.DataFrame, ev: pd.DataFrame, ts: pd.Series):
    """Rule 1; returns the answers it decided (linked, or unlinked with an unknown id)."""
    has_id = fb["journey_id"].notna()
    if not has_id.any():
        return has_id
    keys = pd.MultiIndex.from_frame(ev[["customer_id", "given_id"]].astype(str))
    asked = pd.MultiIndex.from_arrays(
        [fb.loc[has_id, "customer_id"], fb.loc[has_id, "journey_id"].astype(str)]
    )
    known = pd.Series(asked.isin(keys), index=fb.index[has_id])
    unknown = known.index[~known]
    out.loc[unknown, ["link", "reason"]] = ["unlinked", REASONS["unknown_journey"]]
    hit = known.index[known]
    if len(hit):
        sub = fb.loc[hit]
        by = ["customer_id", "given_id"]
        asks = pd.DataFrame(
            {
                "_row": hit,
                "timestamp": ts[hit],
                "customer_id": sub["customer_id"],
                "given_id": sub["journey_id"].astype(str),
            }
        )
        last = pd.merge_asof(
            _keys(asks, by).sort_values("timestamp"),
            _keys(ev.assign(event_time=ev["timestamp"]).drop(columns="journey"), by),
            on="timestamp", by=by, direction="backward",
        ).set_index("_row")  # fmt: skip
        tp = sub["touchpoint"] if "touchpoint" in sub.columns else pd.Series(None, index=hit)
        out.loc[hit, "journey"] = sub["journey_id"].astype(str)
        out.loc[hit, "linked_touchpoint"] = tp.where(tp.notna(), last["touchpoint"])
        out.loc[hit, "event_time"] = last["event_time"]
        out.loc[hit, "lag_s"] = (ts[hit] - last["event_time"]).dt.total_seconds()
        out.loc[hit, "link"] = "journey_id"
    return has_id


def _latest(
    out: pd.DataFrame,
    fb: pd.DataFrame,
    ev: pd.DataFrame,
    ts: pd.Series,
    limit: pd.Timedelta,
    *,
    by_touchpoint: bool,
    rule: str,
) -> None:
    """Rules 2 and 3: the latest event (at the touchpoint) within ``limit`` before."""
    if fb.empty or ev.empty:
        return
    left = pd.DataFrame({"_row": fb.index, "timestamp": ts[fb.index], "customer_id":
                         fb["customer_id"]})  # fmt: skip
    by = ["customer_id"]
    if by_touchpoint:
        left["touchpoint"] = fb["touchpoint"].astype(str)
        by.append("touchpoint")
    right = ev[["timestamp", "customer_id", "touchpoint", "journey"]].assign(
        event_time=ev["timestamp"], touchpoint=ev["touchpoint"].astype(str)
    )
    found = pd.merge_asof(
        _keys(left, by).sort_values("timestamp"), _keys(right, by), on="timestamp", by=by,
        direction="backward", tolerance=limit,
    ).set_index("_row")  # fmt: skip
    found = found[found["journey"].notna()]
    rows = found.index
    out.loc[rows, "journey"] = found["journey"]
    out.loc[rows, "linked_touchpoint"] = found["touchpoint"]
    out.loc[rows, "event_time"] = found["event_time"]
    out.loc[rows, "lag_s"] = (ts[rows] - found["event_time"]).dt.total_seconds()
    out.loc[rows, "link"] = rule


def _keys(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """merge_asof needs the same dtypes on both sides: text keys as objects, times in us."""
    out = frame.assign(**{c: frame[c].astype(str).astype(object) for c in by})
    return out.assign(timestamp=out["timestamp"].astype("datetime64[us, UTC]"))
