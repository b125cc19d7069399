"""A throw-away PostgreSQL server for tests: install if missing, start, stop and remove.

The tests of the SQL connector import this file (``start_server`` / ``stop_server``); it can
also be run by hand::

    python scripts/postgres_test_server.py start      # prints the URL and the folder
    python scripts/postgres_test_server.py stop FOLDER

What ``start_server`` does:

1. finds ``initdb`` and ``pg_ctl`` (on PATH or in Debian's ``/usr/lib/postgresql/*/bin``);
   when absent and the machine has ``apt-get`` and we are root, installs Debian's
   ``postgresql`` package (``apt-get update`` then ``apt-get install -y postgresql``);
   otherwise raises :class:`PostgresUnavailable` saying why (tests skip with that reason);
2. makes a temporary folder (owned by the ``postgres`` system user when run as root, since
   root may not run the server), creates a cluster there with ``initdb`` (no fsync);
3. starts it on 127.0.0.1 on a free port, its socket in the same folder, fsync off;
4. creates a user with a password and a database it owns.

``stop_server`` stops the server (fast shutdown) and removes the folder.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from debian_packages import apt_install  # scripts/ (on the path when run or loaded)

USER = "cjm_test"
DATABASE = "cjm_test"
SYSTEM_USER = "postgres"  # the server refuses to run as root


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed and cannot be installed here (the reason is the message)."""


@dataclass(frozen=True)
class PostgresServer:
    """A running throw-away server. ``url`` holds the password: never print it unredacted."""

    folder: Path
    port: int
    user: str
    password: str
    database: str
    bindir: Path

    @property
    def url(self) -> str:
        return (
            f"postgresql+psycopg://{self.user}:{self.password}@127.0.0.1:{self.port}/"
            f"{self.database}"
        )

    def __repr__(self) -> str:  # keep the password out of reprs and test logs
        return f"PostgresServer(folder={str(self.folder)!r}, port={self.port}, user={self.user!r})"


def find_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is absent."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def ensure_postgres() -> Path:
    """The server's bin folder, installing Debian's ``postgresql`` package when missing."""
    bindir = find_bindir()
    if bindir is not None:
        return bindir
    apt_install("postgresql", "PostgreSQL", PostgresUnavailable)
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable("the postgresql package was installed but initdb is not found")
    return bindir


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(
    args: list[str], *, as_user: str | None, timeout: float = 60, stdin: str | None = None
) -> str:
    done = subprocess.run(
        args,
        user=as_user,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def start_server(timeout: float = 30) -> PostgresServer:
    """Install if needed, then create and start a cluster in a temporary folder."""
    bindir = ensure_postgres()
    as_user = SYSTEM_USER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="cjm-pg-"))
    data = folder / "data"
    password = secrets.token_urlsafe(12)
    port = free_port()
    try:
        if as_user:
            shutil.chown(folder, user=as_user)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C",
            ],
            as_user=as_user,
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        _run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log")]
            + ["-o", options, "-w", "-t", str(int(timeout)), "start"],
            as_user=as_user,
            timeout=timeout + 10,
        )
        # One psql session read from stdin, so the password goes through a psql variable
        # (:'pw' quotes it as a literal) and never appears on a command line.
        script = (
            f"CREATE ROLE {USER} LOGIN PASSWORD :'pw';\nCREATE DATABASE {DATABASE} OWNER {USER};\n"
        )
        _run(
            [str(bindir / "psql"), "-h", str(folder), "-p", str(port), "-U", "postgres"]
            + ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"pw={password}", "-d", "postgres"],
            as_user=as_user,
            stdin=script,
        )
    except BaseException:
        _stop(bindir, folder, as_user)
        raise
    return PostgresServer(folder, port, USER, password, DATABASE, bindir)


def _stop(bindir: Path, folder: Path, as_user: str | None) -> None:
    if (folder / "data" / "postmaster.pid").exists():
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "-w", "stop"],
            user=as_user,
            capture_output=True,
            timeout=60,
            check=False,
        )
    shutil.rmtree(folder, ignore_errors=True)


def stop_server(server: PostgresServer) -> None:
    """Stop the server and remove its folder."""
    _stop(server.bindir, server.folder, SYSTEM_USER if os.geteuid() == 0 else None)


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        server = start_server()
        print(server.url)
        print(server.folder)
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        bindir = find_bindir()
        if bindir is None:
            print("PostgreSQL is not installed", file=sys.stderr)
            return 1
        _stop(bindir, Path(argv[1]), SYSTEM_USER if os.geteuid() == 0 else None)
        return 0
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
