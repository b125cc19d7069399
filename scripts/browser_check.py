"""Open an HTML report in headless Chromium as a person would: the page, its console, a
screenshot.

Chromium comes from Debian's ``chromium`` package: when it is not installed and the machine
has ``apt-get`` and we are root, :func:`ensure_chromium` installs it (``apt-get update`` then
``apt-get install -y chromium``), as ``scripts/postgres_test_server.py`` does for PostgreSQL.
The browser runs with its own screenshot and DOM-dump modes (no driver, no network): the
console messages come from its log on stderr.

Command line (prints what the page shows)::

    python scripts/browser_check.py reports/voice_of_customer/<run>/report.html shot.png
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from debian_packages import apt_install  # scripts/ (on the path when run or loaded)

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", "--disable-background-networking"]  # fmt: skip
CONSOLE = re.compile(r"CONSOLE[^\]]*\] \"(.*)\", source: (.*)$", re.M)


class BrowserUnavailable(RuntimeError):
    """Chromium is not installed and cannot be installed here."""


@dataclass
class PageView:
    """What the browser saw: the rendered DOM, console messages, the screenshot."""

    dom: str
    console: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def errors(self) -> list[str]:
        """Console messages that are script errors (uncaught exceptions, console.error)."""
        return [m for m in self.console if re.search(r"Uncaught|Error|error", m)]


def find_chromium() -> str | None:
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium() -> str:
    """The browser's path, installing Debian's ``chromium`` package when missing."""
    found = find_chromium()
    if found:
        return found
    apt_install("chromium", "Chromium", BrowserUnavailable)
    found = find_chromium()
    if found is None:
        raise BrowserUnavailable("the chromium package was installed but no browser is found")
    return found


def view(page: Path, screenshot: Path | None = None, width: int = 1280, height: int = 2400,
         timeout: float = 120) -> PageView:  # fmt: skip
    """Load ``page`` (a local HTML file), let its scripts run, and return the DOM, the
    console messages and (optionally) a screenshot of the first ``height`` pixels."""
    browser = ensure_chromium()
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        dumped = subprocess.run(
            [*base, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if dumped.returncode != 0 and not dumped.stdout:
            raise BrowserUnavailable(f"Chromium failed: {dumped.stderr.strip()[-500:]}")
        shot = None
        if screenshot is not None:
            screenshot = Path(screenshot).resolve()
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([*base, f"--screenshot={screenshot}", url], capture_output=True,
                           text=True, timeout=timeout, check=False)  # fmt: skip
            shot = screenshot if screenshot.is_file() else None
    console = [f"{m} ({src})" for m, src in CONSOLE.findall(dumped.stderr)]
    return PageView(dumped.stdout, console, shot)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    seen = view(Path(argv[0]), Path(argv[1]) if len(argv) > 1 else None)
    print(f"images: {seen.dom.count('<img')}, tables: {seen.dom.count('<table')}")
    print(f"console: {len(seen.console)} message(s), {len(seen.errors)} error(s)")
    for message in seen.console:
        print(f"  {message}")
    if seen.screenshot:
        print(f"screenshot: {seen.screenshot}")
    return 1 if seen.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
