"""One row per customer (or journey): driver scores per touchpoint or stage, and an outcome.

:func:`driver_table` turns the canonical feedback (and events) tables into the input of
:func:`~cjm_core.voc.drivers.key_drivers`: the mean ``driver_metric`` score (CSAT by
default) the unit gave each touchpoint -- or each stage, through the catalog -- and one
outcome column:

- ``"nps"``: the unit's latest NPS answer (0-10; NaN when it gave none);
- ``"conversion"``: 1 when the unit has any event with ``event_type == "conversion"``;
- ``"retention"`` / ``"repeat"`` (customers only): 1 with two conversions or more.

Customers rate only the touchpoints they used, so most cells are empty: analyse the table
with ``key_drivers(table, outcome, missing="pairwise")``. Drivers answered by fewer than
``min_answers`` units are left out, and everything left out is counted in
``table.attrs["notes"]`` (which ``key_drivers`` carries into its own notes).

Example::

    >>> import pandas as pd
    >>> fb = pd.DataFrame({
    ...     "customer_id": ["a", "a", "b", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"] * 2, utc=True),
    ...     "touchpoint": ["web", None, "web", None],
    ...     "metric": ["csat", "nps", "csat", "nps"], "score": [4, 9, 2, 3]})
    >>> driver_table(fb, "nps", min_answers=1).values.tolist()
    [['a', 4.0, 9.0], ['b', 2.0, 3.0]]
"""

from __future__ import annotations

import pandas as pd

from ..errors import CjmError, MissingColumnError
from ..model import JourneyCatalog

__all__ = ["OUTCOMES", "driver_table"]

OUTCOMES = ("nps", "conversion", "retention", "repeat")
UNITS = {"customer": "customer_id", "journey": "journey_id"}


def driver_table(
    feedback: pd.DataFrame,
    outcome: str = "nps",
    level: str = "touchpoint",
    events: pd.DataFrame | None = None,
    catalog: JourneyCatalog | None = None,
    unit: str = "customer",
    *,
    driver_metric: str = "csat",
    min_answers: int = 30,
) -> pd.DataFrame:
    """Driver scores per ``level`` and an ``outcome`` column, one row per ``unit``.

    :param feedback: canonical feedback (customer_id, timestamp, touchpoint, metric, score;
        journey_id for ``unit="journey"``).
    :param outcome: ``"nps"``, ``"conversion"``, ``"retention"`` or ``"repeat"``.
    :param level: ``"touchpoint"`` or ``"stage"`` (needs ``catalog``).
    :param events: canonical events; needed for conversion, retention and repeat.
    :param catalog: maps touchpoints to stages; also orders the driver columns.
    :param unit: ``"customer"`` or ``"journey"``.
    :param driver_metric: the feedback metric averaged per driver (``"csat"``).
    :param min_answers: drivers answered by fewer units are left out (with a note).
    :returns: a DataFrame: the unit id column, one column per driver, the outcome column
        (named after ``outcome``); ``attrs`` holds ``notes``, ``outcome`` and ``drivers``.
        A stage score is the mean of all the unit's answers at that stage's touchpoints.

    Example::

        >>> import pandas as pd
        >>> fb = pd.DataFrame({"customer_id": ["a", "a", "b"], "touchpoint": ["web"] * 3,
        ...                    "metric": ["csat"] * 3, "score": [5, 3, 2]})
        >>> ev = pd.DataFrame({"customer_id": ["a"], "event_type": ["conversion"]})
        >>> driver_table(fb, "conversion", events=ev, min_answers=1).values.tolist()
        [['a', 4.0, 1], ['b', 2.0, 0]]
    """
    if outcome not in OUTCOMES:
        raise CjmError(f"outcome must be one of {', '.join(OUTCOMES)}; got {outcome!r}.")
    if level not in ("touchpoint", "stage"):
        raise CjmError(f"level must be 'touchpoint' or 'stage'; got {level!r}.")
    if unit not in UNITS:
        raise CjmError(f"unit must be 'customer' or 'journey'; got {unit!r}.")
    if level == "stage" and catalog is None:
        raise CjmError("level='stage' needs catalog= (it maps each touchpoint to its stage).")
    if outcome in ("retention", "repeat") and unit != "customer":
        raise CjmError(f"outcome={outcome!r} counts a customer's conversions: use unit='customer'.")
    key = UNITS[unit]
    _require(feedback, "feedback", [key, "touchpoint", "metric", "score"])
    notes: list[str] = []
    scores = _driver_scores(feedback, key, level, catalog, driver_metric, notes)
    answered = scores.notna().sum()
    few = answered[answered < min_answers]
    if len(few):
        shown = ", ".join(f"{k} ({int(v)})" for k, v in few.items())
        notes.append(
            f"driver(s) answered by fewer than min_answers={min_answers} {unit}s left out: {shown}."
        )
    scores = scores.drop(columns=few.index)
    if scores.shape[1] == 0:
        raise CjmError(
            f"no {level} has {driver_metric!r} answers from {min_answers}+ {unit}s "
            f"(most: {answered.max() if len(answered) else 0}); lower min_answers or use "
            "level='stage'."
        )
    scores = scores.dropna(how="all")
    if outcome in scores.columns:
        raise CjmError(f"a {level} is named {outcome!r}, like the outcome column; rename it.")
    table = scores.reset_index()
    table[outcome] = _outcome(feedback, events, outcome, key, table[key], notes)
    if outcome == "nps":
        have = int(table[outcome].notna().sum())
        notes.append(
            f"{have} of {len(table)} {unit}s with a driver score have an NPS answer (the "
            "latest is used); the others have no outcome."
        )
    notes.append(
        "driver scores and outcome are not time-ordered (a rating may follow the conversion "
        "or the NPS answer): read importance as association, not effect."
    )
    table.columns.name = None
    table.attrs.update(notes=notes, outcome=outcome, drivers=list(scores.columns))
    return table


def _require(frame: pd.DataFrame | None, name: str, columns: list[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise CjmError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingColumnError(f"{name} lacks column(s) {missing} (has: {list(frame.columns)}).")


def _driver_scores(feedback, key, level, catalog, metric, notes) -> pd.DataFrame:
    rows = feedback[feedback["metric"] == metric]
    if rows.empty:
        present = sorted(feedback["metric"].dropna().astype(str).unique())
        raise CjmError(
            f"feedback has no {metric!r} answers (metrics: {present}); set driver_metric."
        )
    score = pd.to_numeric(rows["score"], errors="coerce")
    bad = score.isna() & rows["score"].notna()
    if bad.any():
        raise CjmError(
            f"{int(bad.sum())} {metric!r} score(s) are not numbers (rows "
            f"{rows.index[bad][:5].tolist()}, e.g. {rows['score'][bad].head(3).tolist()}); "
            "fix them upstream."
        )
    rows = rows.assign(score=score)
    for what, gone in (
        ("without a touchpoint", rows["touchpoint"].isna()),
        (f"without {key}", rows[key].isna()),
        ("without a score", rows["score"].isna()),
    ):
        if gone.any():
            notes.append(f"{int(gone.sum())} {metric!r} answer(s) {what} left out.")
            rows = rows[~gone]
    column = rows["touchpoint"].astype(str)
    order = None
    if catalog is not None:
        known = catalog.stage_of()
        unknown = sorted(set(column) - set(known))
        if unknown and level == "stage":
            raise CjmError(
                f"touchpoint(s) {unknown} are not in catalog {catalog.name!r}, so have no "
                "stage; add them to the catalog or use level='touchpoint'."
            )
        if level == "stage":
            column = column.map(known)
            order = catalog.stage_ids
        else:
            order = catalog.touchpoint_ids + unknown
    wide = rows.assign(_driver=column.to_numpy()).pivot_table(
        index=key, columns="_driver", values="score", aggfunc="mean"
    )
    if order is not None:
        wide = wide.reindex(columns=[c for c in order if c in wide.columns])
    return wide.astype(float)


def _outcome(feedback, events, outcome, key, units: pd.Series, notes) -> pd.Series:
    if outcome == "nps":
        _require(feedback, "feedback", ["timestamp"])
        nps = feedback[(feedback["metric"] == "nps") & feedback[key].notna()]
        latest = nps.sort_values("timestamp", kind="stable").groupby(key)["score"].last()
        return units.map(pd.to_numeric(latest, errors="coerce")).astype(float)
    if events is None:
        raise CjmError(f"outcome={outcome!r} needs events= (conversions are events).")
    _require(events, "events", [key, "event_type"])
    conv = events.loc[events["event_type"] == "conversion", key].value_counts()
    need = 1 if outcome == "conversion" else 2
    out = units.map(conv).fillna(0).ge(need).astype(int)
    seen = units.isin(events[key])
    if not seen.all():
        notes.append(f"{int((~seen).sum())} unit(s) have feedback but no events (outcome 0).")
    return out
