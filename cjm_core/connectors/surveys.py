"""The ``survey_export`` connector: a wide survey-tool CSV export (Typeform, Qualtrics,
SurveyMonkey, Google Forms: one row per respondent, one column per question) reshaped into
the canonical ``feedback`` table, one row per answer.

A *question map* (a dict or a YAML file) says what the columns mean::

    respondent: customer_id              # column holding the customer id (required)
    submitted: Submit Date (UTC)         # column holding the submission time (required)
    language: lang                       # column holding the language (optional)
    timezone: UTC                        # zone of times without an offset (optional)
    time_format: "%d/%m/%Y %H:%M"        # strftime format of non-ISO times (optional)
    extra_header_rows: 0                 # rows under the header to skip (Qualtrics: 2)
    questions:                           # column -> metric (+ touchpoint, comment column)
      "How likely are you to recommend us to a friend or colleague?":
        metric: nps
        comment: "What's the main reason for your score?"
      "How satisfied were you with our call centre?":
        {metric: csat, touchpoint: call_centre, labels: {Very satisfied: 5}}
    ignore: ["#", Start Date (UTC), Network ID]   # known columns that are not questions

Column names are compared with runs of white space collapsed. ``metric`` is ``nps``
(0-10), ``csat`` (1-5), ``ces`` (1-7) or another id with ``min`` and ``max`` (and
``integer: false`` for decimals). ``labels`` reads answer texts as scores (exports that
give "Very satisfied" instead of 5).

Per answer cell: blank -> set aside with the reason "no answer"; a score off the metric's
scale -> set aside with the reason (or, with ``out_of_scale="error"``, a
:class:`~cjm_core.errors.ConnectorError`); a row without respondent id or submission time
-> all its answers set aside. A set-aside answer keeps its comment. A column the map does
not mention is an error naming it (``unmapped="error"``, default: add it to ``questions``
or ``ignore``), or, with ``unmapped="ignore"``, left out and listed in
``feedback.attrs["ignored_columns"]``. Map entries under ``ignore`` that the export lacks
are fine (exports vary); every other column the map names must exist.

Count check: ``attrs["rows_read"]`` is the number of respondents (data rows),
``attrs["questions"]`` the number of mapped questions, and one row of ``attrs["set_aside"]``
stands for one answer cell, so ``rows_read * questions == len(feedback) + len(set_aside)``.

Example (the fixture: 12 respondents x 4 questions; one respondent without customer id,
four blank answers)::

    >>> from cjm_core.paths import workspace_root
    >>> folder = workspace_root() / "tests/fixtures/connectors"
    >>> fb = read_survey_export(folder / "survey_typeform.csv",
    ...                         folder / "survey_questions.yaml")["feedback"]
    >>> fb.attrs["rows_read"], fb.attrs["questions"], len(fb), len(fb.attrs["set_aside"])
    (12, 4, 40, 8)
    >>> print(fb[["customer_id", "metric", "touchpoint", "score", "comment"]].head(3))
      customer_id metric   touchpoint  score                       comment
    0      C-1001    nps          NaN    9.0  Quick answer, friendly agent
    1      C-1001   csat  call_centre    5.0    Sorted my card in one call
    2      C-1001   csat   mobile_app    4.0                           NaN
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConnectorError
from ..extensions import Connector
from ..model import STANDARD_METRICS
from .exports import fail, load_yaml, no_column, parse_times, read_export

MAP_KEYS = (
    "respondent",
    "submitted",
    "language",
    "timezone",
    "time_format",
    "extra_header_rows",
    "questions",
    "ignore",
)
QUESTION_KEYS = ("metric", "touchpoint", "comment", "labels", "min", "max", "integer")
SCALES = {m.id: (m.min, m.max, m.integer) for m in STANDARD_METRICS}


def _name(text: Any) -> str:
    return " ".join(str(text).split())


def load_question_map(questions: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """Read and check a question map (dict or YAML file): keys, metrics, scales, comments.

    Example::

        >>> qmap = load_question_map({"respondent": "id", "submitted": "at",
        ...     "questions": {"Rate  us": {"metric": "csat", "labels": {"Good": 4}}}})
        >>> qmap["questions"]["Rate us"]
        {'metric': 'csat', 'touchpoint': None, 'comment': None, 'labels': {'good': 4.0}, \
'scale': (1, 5, True)}
    """
    conf = load_yaml(questions, "question map")
    unknown = sorted(set(conf) - set(MAP_KEYS))
    missing = [k for k in ("respondent", "submitted", "questions") if not conf.get(k)]
    if unknown or missing:
        raise ConnectorError(
            f"The question map has unknown key(s) {unknown} and lacks {missing}; keys: "
            f"{', '.join(MAP_KEYS)} (respondent, submitted, questions required)."
        )
    if not isinstance(conf["questions"], Mapping):
        raise ConnectorError("The question map's 'questions' must map column -> {metric: ...}.")
    out: dict[str, Any] = {k: conf.get(k) for k in MAP_KEYS if k != "questions"}
    for key in ("respondent", "submitted", "language"):
        out[key] = _name(out[key]) if out[key] else None
    out["ignore"] = [_name(c) for c in conf.get("ignore") or []]
    out["questions"] = {}
    for column, entry in conf["questions"].items():
        entry = {"metric": entry} if isinstance(entry, str) else entry
        where = f"Question {column!r} in the question map"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("metric"), str):
            raise ConnectorError(f"{where} needs a metric, e.g. {{metric: csat}}.")
        if set(entry) - set(QUESTION_KEYS):
            raise ConnectorError(f"{where} may only have the keys {', '.join(QUESTION_KEYS)}.")
        metric = entry["metric"]
        if "min" in entry and "max" in entry:
            scale = (entry["min"], entry["max"], bool(entry.get("integer", True)))
        elif metric in SCALES:
            scale = SCALES[metric]
        else:
            raise ConnectorError(
                f"{where}: metric {metric!r} is not nps, csat or ces; give its min and max."
            )
        labels = entry.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ConnectorError(f"{where}: labels must map answer text -> score.")
        out["questions"][_name(column)] = {
            "metric": metric,
            "touchpoint": entry.get("touchpoint"),
            "comment": _name(entry["comment"]) if entry.get("comment") else None,
            "labels": {_name(k).casefold(): float(v) for k, v in labels.items()},
            "scale": scale,
        }
    comments = [q["comment"] for q in out["questions"].values() if q["comment"]]
    twice = sorted({c for c in comments if comments.count(c) > 1 or c in out["questions"]})
    if twice:
        raise ConnectorError(
            f"Comment column(s) {twice} belong to two questions, or are questions too; "
            f"give each comment column to one question."
        )
    return out


def read_survey_export(
    path: str | Path,
    questions: Mapping[str, Any] | str | Path,
    *,
    sep: str = ",",
    encoding: str = "utf-8-sig",
    assume_timezone: str | None = None,
    time_format: str | None = None,
    unmapped: str = "error",
    out_of_scale: str = "set_aside",
    language: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Reshape a wide survey export into ``feedback`` (see the module doc for the rules).

    ``assume_timezone`` and ``time_format`` override the map's ``timezone`` and
    ``time_format``; ``language`` is used when the map names no language column.

    Example::

        >>> from cjm_core.paths import workspace_root
        >>> folder = workspace_root() / "tests/fixtures/connectors"
        >>> fb = read_survey_export(folder / "survey_typeform.csv",
        ...                         folder / "survey_questions.yaml")["feedback"]
        >>> fb.groupby(["metric", "touchpoint"], dropna=False).size().to_dict()
        {('ces', 'call_centre'): 10, ('csat', 'call_centre'): 11, ('csat', 'mobile_app'): 8, \
('nps', nan): 11}
    """
    if unmapped not in ("error", "ignore") or out_of_scale not in ("error", "set_aside"):
        raise ConnectorError(
            f"unmapped={unmapped!r}, out_of_scale={out_of_scale!r}: use unmapped='error' or "
            f"'ignore', out_of_scale='set_aside' or 'error'."
        )
    qmap = load_question_map(questions)
    file, raw = read_export(
        path, sep=sep, encoding=encoding, extra_header_rows=int(qmap["extra_header_rows"] or 0)
    )
    header = [c for c in raw.columns if c != "_line"]
    qs = qmap["questions"]
    named = [qmap["respondent"], qmap["submitted"], qmap["language"], *qs]
    named += [q["comment"] for q in qs.values()]
    for column in filter(None, named):
        if column not in header:
            raise no_column(file, column, header, "correct the question map (or the export)")
    known = set(filter(None, named)) | set(qmap["ignore"])
    extra = [c for c in header if c not in known]
    if extra and unmapped == "error":
        raise fail(
            file,
            f"column(s) {extra} are not in the question map",
            "add each to 'questions' (with its metric) or to 'ignore' in the question map, "
            "or pass unmapped='ignore'",
        )
    customer = raw[qmap["respondent"]].str.strip()
    zone = assume_timezone or qmap["timezone"]
    stamps, not_local = parse_times(
        raw[qmap["submitted"]],
        raw,
        file,
        qmap["submitted"],
        time_format=time_format or qmap["time_format"],
        assume_timezone=zone,
    )
    if qmap["language"]:
        lang = raw[qmap["language"]].str.strip().replace("", np.nan)
    else:
        lang = pd.Series(language if language else np.nan, index=raw.index, dtype="str")
    row_reason = pd.Series("", index=raw.index, dtype="str")
    row_reason[stamps.isna().to_numpy() & ~not_local] = "no submission time"
    row_reason[not_local] = f"local time skipped or repeated in {zone}"
    row_reason[(customer == "").to_numpy()] = "no respondent id"

    answers, aside = [], []
    for order, (column, q) in enumerate(qs.items()):
        text = raw[column].str.strip()
        score = _scores(text, q, raw, file, column)
        low, high, integer = q["scale"]
        off = score.notna() & ((score < low) | (score > high))
        if integer:
            off |= score.notna() & (score % 1 != 0)
        reason = row_reason.copy()
        reason[(reason == "") & (text == "")] = "no answer"
        scale = f"the {q['metric']} scale {low:g}-{high:g}" + (" (whole numbers)" * integer)
        off = (off & (reason == "")).to_numpy()
        if out_of_scale == "error" and off.any():
            first = int(np.flatnonzero(off)[0])
            raise fail(
                file,
                f"score {text.iloc[first]!r} is outside {scale}",
                "correct the answer, or read with out_of_scale='set_aside'",
                line=int(raw["_line"].iloc[first]),
                column=column,
            )
        reason[off] = "score " + text[off].map(repr) + f" outside {scale}"
        comment = raw[q["comment"]].str.strip() if q["comment"] else pd.Series("", index=raw.index)
        keep = (reason == "").to_numpy()
        answers.append(
            pd.DataFrame(
                {
                    "_pos": np.flatnonzero(keep),
                    "_order": order,
                    "customer_id": customer[keep].to_numpy(),
                    "timestamp": stamps[keep].reset_index(drop=True),
                    "touchpoint": q["touchpoint"],
                    "metric": q["metric"],
                    "score": score[keep].to_numpy(),
                    "comment": comment[keep].replace("", np.nan).to_numpy(),
                    "language": lang[keep].to_numpy(),
                    "question": column,
                }
            )
        )
        aside.append(
            pd.DataFrame(
                {
                    "_pos": np.flatnonzero(~keep),
                    "_order": order,
                    "_line": raw["_line"][~keep].to_numpy(),
                    "customer_id": customer[~keep].to_numpy(),
                    "question": column,
                    "metric": q["metric"],
                    "touchpoint": q["touchpoint"],
                    "answer": text[~keep].to_numpy(),
                    "comment": comment[~keep].to_numpy(),
                    "reason": reason[~keep].to_numpy(),
                }
            )
        )
    feedback = _stack(answers)
    for column in ("customer_id", "touchpoint", "comment", "language"):
        feedback[column] = feedback[column].astype("str")
    feedback.attrs.update(
        rows_read=len(raw), questions=len(qs), set_aside=_stack(aside), ignored_columns=extra
    )
    return {"feedback": feedback}


def _scores(text: pd.Series, q: Mapping[str, Any], raw: pd.DataFrame, file: Path, column: str):
    """Numbers of the answer cells (labels first); NaN for blanks; text that is neither a
    number nor a label raises :class:`ConnectorError` naming the line."""
    labelled = text.map(lambda t: q["labels"].get(_name(t).casefold(), np.nan)).astype("float64")
    number = pd.to_numeric(text.where(labelled.isna() & (text != "")), errors="coerce")
    score = labelled.fillna(number).astype("float64")
    wrong = ((text != "") & (score.isna() | ~np.isfinite(score))).to_numpy()
    if wrong.any():
        first = int(np.flatnonzero(wrong)[0])
        raise fail(
            file,
            f"answer {text.iloc[first]!r} is not a {q['metric']} score "
            f"({int(wrong.sum())} answer(s) like it)",
            "export numeric values (Qualtrics: 'Use numeric values'), or give the question "
            "labels: {answer text: score} in the question map",
            line=int(raw["_line"].iloc[first]),
            column=column,
        )
    return score


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(frames, ignore_index=True).sort_values(["_pos", "_order"], kind="stable")
    return out.drop(columns=["_pos", "_order"]).reset_index(drop=True)


SURVEY_CONNECTOR = Connector(
    name="survey_export",
    description="Wide survey-tool CSV export (one row per respondent) -> feedback answers",
    options={
        "path": "the CSV export, one row per respondent, one column per question",
        "questions": "question map (YAML file or dict): respondent, submitted, questions, ...",
        "sep": "field separator (default ',')",
        "encoding": "text encoding (default 'utf-8-sig')",
        "assume_timezone": "zone of times without an offset (overrides the map's timezone)",
        "time_format": "strftime format of non-ISO times (overrides the map's time_format)",
        "unmapped": "'error' (default) or 'ignore': columns the map does not mention",
        "out_of_scale": "'set_aside' (default) or 'error': scores off the metric's scale",
        "language": "language of every answer when the map names no language column",
    },
    read=read_survey_export,
)
