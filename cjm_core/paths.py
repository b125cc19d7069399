"""Where things live. Every path the workspace uses comes from here.

The workspace root is the folder holding ``cjm_core/`` (an editable install), overridable
with the ``CJM_HOME`` environment variable; reports go to ``CJM_REPORTS_DIR`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path


def workspace_root() -> Path:
    env = os.environ.get("CJM_HOME")
    return Path(env).resolve() if env else Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    return workspace_root() / "data"


def reports_dir() -> Path:
    env = os.environ.get("CJM_REPORTS_DIR")
    return Path(env).resolve() if env else workspace_root() / "reports"


def notebooks_dir() -> Path:
    return workspace_root() / "notebooks"
