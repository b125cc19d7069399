"""What a report needs to be reproduced: data fingerprint, versions, git commit, parameters.

Credentials never reach a report: :func:`redact` masks values whose key looks like a
password, secret, token, key or credential, and the password of any ``scheme://user:pass@``
URL; :func:`secret_values` lists what was masked so the runner can scrub the executed
notebook too.

Example::

    >>> redact({"data_dir": "data", "api_token": "abc", "url": "pg://me:pw@db/x"})
    {'data_dir': 'data', 'api_token': '***', 'url': 'pg://me:***@db/x'}
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import StudyError

MASK = "***"

#: Distributions whose versions every manifest records (plugins are added from the registry).
CORE_PACKAGES = (
    "cjm-core",
    "pandas",
    "numpy",
    "statsmodels",
    "scipy",
    "papermill",
    "pluggy",
    "seaborn",
    "matplotlib",
    "pyarrow",
    "nbconvert",
)

_SENSITIVE_WORDS = {
    "password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "key", "apikey",
    "credential", "credentials", "auth", "authorization", "cookie",
}  # fmt: skip
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@/\s]+)(?=@)")


# -- redaction -----------------------------------------------------------------------------


def is_sensitive(key: str) -> bool:
    """True when a parameter name looks like it holds a credential.

    The name is split into words (``api_key``, ``apiKey``, ``db-password``); it is sensitive
    when a word is one of password, secret, token, key, credential ... or ends in ``key``,
    ``token`` or ``secret`` (``apikey``).

    >>> [is_sensitive(k) for k in ("db_password", "apiKey", "keyword", "touchpoints")]
    [True, True, False, False]
    """
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", str(key))
    for word in (w.lower() for w in words):
        if word in _SENSITIVE_WORDS or word.endswith(("key", "token", "secret", "password")):
            return True
    return False


def redact_text(text: str) -> str:
    """Mask the password of every ``scheme://user:password@host`` URL in ``text``."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def mask_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` (longest first) and every URL password masked.

    >>> mask_secrets("token abc at https://u:pw@h", {"abc"})
    'token *** at https://u:***@h'
    """
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return redact_text(text)


def redact(obj: Any) -> Any:
    """A copy of ``obj`` with credentials masked (see the module doc); other values unchanged."""
    if isinstance(obj, Mapping):
        return {
            k: (MASK if is_sensitive(k) and v is not None else redact(v)) for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):
        return type(obj)(redact(v) for v in obj)
    if isinstance(obj, str):
        return redact_text(obj)
    return obj


def secret_values(obj: Any) -> set[str]:
    """Every string :func:`redact` would hide (values of sensitive keys, URL passwords).

    >>> sorted(secret_values({"token": "abc", "dsn": "pg://u:pw@h/db"}))
    ['abc', 'pw']
    """
    found: set[str] = set()
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if is_sensitive(k) and v is not None:
                found.update(_strings(v))
            else:
                found |= secret_values(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            found |= secret_values(v)
    elif isinstance(obj, str):
        found.update(m.group("pw") for m in _URL_PASSWORD.finditer(obj))
    return {s for s in found if s}


def _strings(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


# -- fingerprint, versions, git ------------------------------------------------------------


def data_fingerprint(path: str | Path) -> dict[str, Any]:
    """SHA-256 of every file under ``path`` (or of the file), sorted, and a combined hash.

    The combined hash covers relative paths and contents, so it changes when a file is
    added, removed, renamed or edited, and not when the folder is moved.

    >>> data_fingerprint("/nonexistent")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cjm_core.errors.StudyError: Cannot fingerprint '/nonexistent': it does not exist...
    """
    root = Path(path)
    if not root.exists():
        raise StudyError(f"Cannot fingerprint {str(root)!r}: it does not exist.")
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    entries = []
    combined = hashlib.sha256()
    for file in files:
        rel = file.name if file == root else file.relative_to(root).as_posix()
        digest = _sha256(file)
        size = file.stat().st_size
        entries.append({"path": rel, "sha256": digest, "size": size})
        combined.update(f"{rel}\0{digest}\n".encode())
    return {
        "path": str(root.resolve()),
        "sha256": combined.hexdigest(),
        "files": entries,
        "total_size": sum(e["size"] for e in entries),
    }


def _sha256(file: Path) -> str:
    h = hashlib.sha256()
    with file.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(registry: Any = None) -> dict[str, str | None]:
    """Installed version of each core package and of every plugin distribution.

    Plugins come from ``registry`` (default: :func:`cjm_core.plugins.get_registry`);
    a package that is not installed maps to None.
    """
    versions = {name: _version(name) for name in CORE_PACKAGES}
    for info in plugin_versions(registry):
        if info.get("distribution"):
            versions[info["distribution"]] = info.get("version")
    return versions


def plugin_versions(registry: Any = None) -> list[dict[str, Any]]:
    """``[{"name", "distribution", "version"}]`` for each loaded plugin."""
    if registry is None:
        from .plugins import get_registry

        registry = get_registry()
    return [
        {"name": p.name, "distribution": p.distribution, "version": p.version}
        for p in getattr(registry, "plugins", [])
    ]


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def git_commit(root: str | Path) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` of the git work tree at ``root``; None when ``root``
    is not in a git repository, has no commit yet, or git is not installed.

    ``dirty`` is True when the work tree differs from the commit: modified tracked files or
    untracked files that are not ignored (generated data and reports are ignored).
    """

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
            timeout=20,
        ).stdout.strip()  # fmt: skip

    try:
        commit = git("rev-parse", "--verify", "HEAD")
        status = git("status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(status)}


def environment() -> dict[str, str]:
    """Python version and platform."""
    return {"python": platform.python_version(), "platform": platform.platform()}


def build_manifest(
    *,
    study: str,
    notebook: str | Path,
    parameters: Mapping[str, Any],
    data_dir: str | Path | None = None,
    root: str | Path | None = None,
    registry: Any = None,
    **fields: Any,
) -> dict[str, Any]:
    """The manifest of a study run: study, notebook, redacted parameters, data fingerprint,
    seed, versions of packages and plugins, git commit, plus any extra ``fields`` (run,
    started, finished, status, error, results ...), all redacted.

    Example::

        >>> m = build_manifest(study="s", notebook="s.ipynb", parameters={"seed": 7},
        ...                    registry=type("R", (), {"plugins": []})())
        >>> m["seed"], m["data"], sorted(m["versions"])[:2]
        (7, None, ['environment', 'packages'])
    """
    from .paths import workspace_root

    if registry is None:
        from .plugins import get_registry

        registry = get_registry()
    data = None
    if data_dir is not None and Path(data_dir).exists():
        data = data_fingerprint(data_dir)
    manifest: dict[str, Any] = {
        "study": study,
        "notebook": str(notebook),
        "parameters": dict(parameters),
        "seed": parameters.get("seed"),
        "data": data,
        "versions": {
            "environment": environment(),
            "packages": package_versions(registry),
            "plugins": plugin_versions(registry),
        },
        "git": git_commit(root if root is not None else workspace_root()),
    }
    manifest.update(fields)
    return redact(manifest)
