"""Installing a missing Debian package for a test service (Chromium, PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import subprocess


def apt_install(package: str, what: str, error: type[Exception]) -> None:
    """``apt-get install -y package``; ``error`` (naming ``what``) when that cannot be done:
    no apt-get, not root, or apt-get failed (with the last lines it printed)."""
    if shutil.which("apt-get") is None:
        raise error(f"{what} is not installed and there is no apt-get here")
    if os.geteuid() != 0:
        raise error(f"{what} is not installed and installing needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", package]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise error(f"'{' '.join(cmd)}' failed: {' | '.join(tail)}")
