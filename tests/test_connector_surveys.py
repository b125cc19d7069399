"""The survey_export connector: a wide survey export -> the canonical feedback table.

The fixture ``tests/fixtures/connectors/survey_typeform.csv`` is synthetic, in the layout of
a Typeform CSV download (question texts as headers, hidden fields ``customer_id`` and
``lang``, then Start/Submit Date (UTC) and Network ID): 12 respondents, 4 scored questions
(NPS, call-centre CSAT, app CSAT, CES) and 2 comment columns; one respondent came without a
customer id, 4 answers are blank. Its question map is ``survey_questions.yaml``. Real NPS
or survey data sets were not available (see the real-data README), so there is no full-data
test for this connector.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from cjm_core.bundle import load_bundle
from cjm_core.connectors.contact_centre import read_contact_centre
from cjm_core.connectors.surveys import (
    SURVEY_CONNECTOR,
    load_question_map,
    read_survey_export,
)
from cjm_core.errors import ConnectorError
from cjm_core.plugins import registry_with

FOLDER = Path(__file__).parent / "fixtures" / "connectors"
EXPORT, QMAP = FOLDER / "survey_typeform.csv", FOLDER / "survey_questions.yaml"
NPS = "How likely are you to recommend Northbank to a friend or colleague?"
SIMPLE = {"respondent": "id", "submitted": "at", "timezone": "UTC", "questions": {"nps": "nps"}}


@pytest.fixture(scope="module")
def feedback() -> pd.DataFrame:
    return read_survey_export(EXPORT, QMAP)["feedback"]


def export(tmp_path: Path, text: str, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_registered_by_the_builtin_plugin():
    reg = registry_with()
    assert reg.connector("survey_export") is SURVEY_CONNECTOR
    assert reg.plugin_of("connector", "survey_export") == "cjm_core.builtin"
    assert list(reg.connectors)[0] == "files"
    got = reg.connector("survey_export").read(path=EXPORT, questions=QMAP)
    assert len(got["feedback"]) == 40


def test_fixture_read_hand_checked(feedback):
    fb = feedback
    assert (fb.attrs["rows_read"], fb.attrs["questions"], len(fb)) == (12, 4, 40)
    counts = fb.fillna({"touchpoint": "-"}).groupby(["metric", "touchpoint"]).size()
    assert counts.to_dict() == {
        ("ces", "call_centre"): 10,
        ("csat", "call_centre"): 11,
        ("csat", "mobile_app"): 8,
        ("nps", "-"): 11,
    }
    nps = fb[fb["metric"] == "nps"]
    assert nps["touchpoint"].isna().all()
    assert nps["score"].tolist() == [9, 6, 10, 2, 7, 8, 4, 10, 5, 8, 0]
    assert fb.groupby("metric").size().to_dict() == {"ces": 10, "csat": 19, "nps": 11}
    assert fb["customer_id"].nunique() == 11 and fb["comment"].notna().sum() == 13
    assert fb["language"].value_counts().to_dict() == {"en": 26, "es": 14}
    first = fb.iloc[0]
    assert (first["customer_id"], first["comment"]) == ("C-1001", "Quick answer, friendly agent")
    assert str(first["timestamp"]) == "2024-03-04 08:12:40+00:00"
    assert first["question"] == NPS
    spanish = fb[(fb["customer_id"] == "C-1010") & (fb["metric"] == "csat")]
    assert spanish["comment"].tolist() == ["Nadie sabía quién lleva los préstamos"]


def test_set_aside_answers_and_the_count_check(feedback):
    aside = feedback.attrs["set_aside"]
    assert aside["reason"].value_counts().to_dict() == {"no respondent id": 4, "no answer": 4}
    assert aside[aside["reason"] == "no answer"]["_line"].tolist() == [3, 6, 9, 11]
    assert set(aside[aside["reason"] == "no respondent id"]["_line"]) == {8}
    assert aside["comment"].tolist()[3] == "Very clear"  # the comment of a set-aside answer
    n = feedback.attrs["rows_read"] * feedback.attrs["questions"]
    assert n == len(feedback) + len(aside) == 48


def test_totals_match_an_independent_read_with_the_csv_module(feedback):
    questions = load_question_map(QMAP)["questions"]
    with EXPORT.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    answered = [
        float(r[q]) for r in rows if r["customer_id"] for q in questions if r[q].strip() != ""
    ]
    assert len(feedback) == len(answered) and feedback["score"].sum() == sum(answered)


def test_output_validates_with_the_banking_template(feedback):
    tables = read_contact_centre(
        FOLDER / "contact_centre_calls.csv", assume_timezone="Europe/Madrid"
    )
    bundle = load_bundle({**tables, "feedback": feedback}, template="banking")
    assert (len(bundle.feedback), bundle.n_rejected) == (40, 0)
    assert set(bundle.feedback["customer_id"]) <= set(bundle.customers["customer_id"])


QUALTRICS = (
    "StartDate,EndDate,ResponseId,ExternalReference,Q1,Q2,Q2_TEXT,UserLanguage\r\n"
    '"Start Date","End Date","Response ID","External Data Reference",'
    '"How likely are you to recommend us?","How satisfied were you with the branch?",'
    '"Why? - Text","User Language"\r\n'
    '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}","{""ImportId"":""_recordId""}",'
    '"{""ImportId"":""externalDataReference""}","{""ImportId"":""QID1""}",'
    '"{""ImportId"":""QID2""}","{""ImportId"":""QID2_TEXT""}","{""ImportId"":""userLanguage""}"'
    "\r\n"
    "2024-03-04 09:00:00,2024-03-04 09:02:10,R_1a,C-1001,9,Very satisfied,Kind staff,EN\r\n"
    "2024-03-04 10:00:00,2024-03-04 10:03:00,R_2b,C-1002,-99,4,,EN\r\n"
    "2024-03-04 11:00:00,2024-03-04 11:01:30,R_3c,C-1003,11,dissatisfied,Queue,ES\r\n"
)
QUALTRICS_MAP = {
    "respondent": "ExternalReference",
    "submitted": "EndDate",
    "language": "UserLanguage",
    "timezone": "America/Denver",  # Qualtrics writes account-zone times without an offset
    "extra_header_rows": 2,
    "questions": {
        "Q1": {"metric": "nps"},
        "Q2": {
            "metric": "csat",
            "touchpoint": "branch",
            "comment": "Q2_TEXT",
            "labels": {"Very satisfied": 5, "Satisfied": 4, "Dissatisfied": 2},
        },
    },
    "ignore": ["StartDate", "ResponseId"],
}


def test_a_qualtrics_export_with_labels_and_codes_off_the_scale(tmp_path):
    got = read_survey_export(export(tmp_path, QUALTRICS), QUALTRICS_MAP)["feedback"]
    assert got[["customer_id", "metric", "score"]].values.tolist() == [
        ["C-1001", "nps", 9.0],
        ["C-1001", "csat", 5.0],
        ["C-1002", "csat", 4.0],
        ["C-1003", "csat", 2.0],
    ]
    assert str(got["timestamp"][0]) == "2024-03-04 16:02:10+00:00"  # Denver is UTC-7
    assert got["comment"].tolist()[1::2] == ["Kind staff", "Queue"]
    aside = got.attrs["set_aside"]
    assert aside[["_line", "reason"]].values.tolist() == [
        [5, "score '-99' outside the nps scale 0-10 (whole numbers)"],
        [6, "score '11' outside the nps scale 0-10 (whole numbers)"],
    ]
    assert got.attrs["rows_read"] * got.attrs["questions"] == len(got) + len(aside)
    with pytest.raises(ConnectorError) as err:
        read_survey_export(export(tmp_path, QUALTRICS), QUALTRICS_MAP, out_of_scale="error")
    assert "survey.csv, line 5, column 'Q1': score '-99' is outside the nps scale" in str(err.value)


def test_unmapped_columns_are_an_error_or_ignored_with_a_note(tmp_path):
    qmap = dict(QUALTRICS_MAP, ignore=["StartDate"])
    with pytest.raises(ConnectorError) as err:
        read_survey_export(export(tmp_path, QUALTRICS), qmap)
    assert "column(s) ['ResponseId'] are not in the question map" in str(err.value)
    assert "'ignore'" in str(err.value) and "unmapped='ignore'" in str(err.value)
    got = read_survey_export(export(tmp_path, QUALTRICS), qmap, unmapped="ignore")["feedback"]
    assert got.attrs["ignored_columns"] == ["ResponseId"] and len(got) == 4


def test_a_non_numeric_score_names_file_line_column_and_fix(tmp_path):
    text = "id,at,nps\nc1,2024-03-04 10:00,9\nc2,2024-03-04 11:00,Extremely likely\n"
    with pytest.raises(ConnectorError) as err:
        read_survey_export(export(tmp_path, text), SIMPLE)
    msg = str(err.value)
    assert "survey.csv, line 3, column 'nps': answer 'Extremely likely' is not a nps score" in msg
    assert "labels:" in msg


def test_missing_columns_broken_lines_and_bad_times_are_errors(tmp_path):
    typo = dict(SIMPLE, questions={"How likely are you to recommend Northbank?": "nps"})
    with pytest.raises(ConnectorError, match="no column .*did you mean " + re.escape(repr(NPS))):
        read_survey_export(EXPORT, {**typo, "respondent": "customer_id", "submitted": "#"})
    with pytest.raises(ConnectorError, match="line 3: 4 fields where the header has 3"):
        read_survey_export(export(tmp_path, "id,at,nps\nc1,2024-03-04,9\nc2,x,1,2\n"), SIMPLE)
    with pytest.raises(ConnectorError, match="line 2, column 'at': 'yesterday' cannot be read"):
        read_survey_export(export(tmp_path, "id,at,nps\nc1,yesterday,9\n"), SIMPLE)
    naive = {k: v for k, v in SIMPLE.items() if k != "timezone"}
    with pytest.raises(ConnectorError, match="has no time zone"):
        read_survey_export(export(tmp_path, "id,at,nps\nc1,2024-03-04 10:00,9\n"), naive)


def test_time_format_language_option_and_blank_times(tmp_path):
    text = "id,at,nps\nc1,04/03/2024 10:00,9\nc2,,7\n"
    got = read_survey_export(
        export(tmp_path, text), SIMPLE, time_format="%d/%m/%Y %H:%M", language="pt"
    )["feedback"]
    assert got[["customer_id", "language"]].values.tolist() == [["c1", "pt"]]
    assert str(got["timestamp"][0]) == "2024-03-04 10:00:00+00:00"
    assert got.attrs["set_aside"]["reason"].tolist() == ["no submission time"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"questions": {"q": {"metric": "effort"}}}, "give its min and max"),
        ({"questions": {"q": {"metric": "nps", "weight": 2}}}, "may only have the keys"),
        (
            {
                "questions": {
                    "a": {"metric": "nps", "comment": "c"},
                    "b": {"metric": "csat", "comment": "c"},
                }
            },
            "belong to two questions",
        ),
        ({"respondent": None}, "lacks \\['respondent'\\]"),
        ({"surveyed": "x"}, "unknown key"),
    ],
)
def test_malformed_question_maps_are_errors(change, message):
    with pytest.raises(ConnectorError, match=message):
        load_question_map({**SIMPLE, **change})


def test_a_custom_metric_with_its_own_scale(tmp_path):
    qmap = dict(
        SIMPLE, questions={"stars": {"metric": "rating", "min": 0, "max": 1, "integer": False}}
    )
    text = "id,at,stars\nc1,2024-03-04T10:00Z,0.5\nc2,2024-03-04T10:00Z,1.5\n"
    got = read_survey_export(export(tmp_path, text), qmap)["feedback"]
    assert got["score"].tolist() == [0.5]
    assert got.attrs["set_aside"]["reason"].tolist() == ["score '1.5' outside the rating scale 0-1"]
