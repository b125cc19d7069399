"""Record named figures from a notebook, and read them back from the executed copy.

In a study notebook, ``record("call_centre.csat", {...})`` emits a display bundle holding
only the custom mime type ``application/vnd.cjm.record+json``: front ends and the HTML
report show nothing, but the value is stored in the executed ``.ipynb``, where
:func:`read_records` finds it (like scrapbook's ``glue``, without that dependency).

Example::

    >>> record("answer", 42)  # in a notebook     # doctest: +SKIP
    >>> read_records("reports/x/run/x.ipynb")     # doctest: +SKIP
    {'answer': 42}
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import StudyError

MIME_TYPE = "application/vnd.cjm.record+json"


def to_jsonable(value: Any, name: str = "value") -> Any:
    """``value`` as plain JSON data: numpy scalars and arrays, pandas objects, dates and
    NaN (-> None) are converted; anything else unknown raises :class:`StudyError`.

    >>> to_jsonable({"p": np.float64(0.5), "n": np.int64(3), "x": float("nan")})
    {'p': 0.5, 'n': 3, 'x': None}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r, name) for r in value.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict(), name)
    if isinstance(value, np.ndarray):
        return [to_jsonable(v, name) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [to_jsonable(v, name) for v in items]
    raise StudyError(
        f"Cannot record {name!r}: a {type(value).__name__} is not JSON data; record numbers, "
        "strings, lists, dicts or DataFrames."
    )


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` in the notebook's outputs, showing nothing.

    Call it in a study notebook for every figure a report or a test should read back.
    """
    if not isinstance(name, str) or not name:
        raise StudyError(f"A record needs a non-empty string name; got {name!r}.")
    from IPython.display import display

    payload = {"name": name, "value": to_jsonable(value, name)}
    # an empty text/plain keeps JupyterLab from printing "No renderer could be found"
    display({MIME_TYPE: payload, "text/plain": ""}, raw=True)


def is_record(output: Mapping[str, Any]) -> bool:
    """True for a notebook output made by :func:`record`."""
    return MIME_TYPE in output.get("data", {})


def read_records(notebook: str | Path | Any) -> dict[str, Any]:
    """The records of an executed notebook (a path or an nbformat node), by name.

    A name recorded twice keeps its last value, as re-running a cell would.
    """
    if isinstance(notebook, str | Path):
        import nbformat

        path = Path(notebook)
        if not path.is_file():
            raise StudyError(f"Notebook {str(path)!r} does not exist; nothing to read.")
        notebook = nbformat.read(path, as_version=4)
    out: dict[str, Any] = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            payload = output.get("data", {}).get(MIME_TYPE)
            if output.get("output_type") in ("display_data", "execute_result") and payload:
                out[payload["name"]] = payload["value"]
    return out
