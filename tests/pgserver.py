"""A real PostgreSQL server for the tests that read records from a database: never a mock.

``postgres`` (session-scoped) runs ``initdb`` into a temporary directory and starts the
server with ``pg_ctl`` on a free TCP port of 127.0.0.1, its unix socket in the same
directory, then creates a database and a user with a password (password authentication
over TCP, trust over the socket for the administrator). Each pytest-xdist worker starts
its own server, so two workers never share one. PostgreSQL refuses to run as root: as
root, the server runs as the ``postgres`` system user (else ``nobody``) through
``runuser``, and the directory is theirs. The server is stopped and the directory
removed at the end of the session. Tests that use it are skipped, with the reason, only
when no PostgreSQL binaries are installed (``make test`` installs Debian's ``postgresql``
when it can) or psycopg is not.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

USER = "qs_reader"
PASSWORD = "s3cr3t-Pa55word-7f1c"  # distinctive, so a test can look for it in every byte written
DATABASE = "contact_centre"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    socket_dir: str
    started_in: float  # seconds from initdb to a database ready for the tests

    @property
    def dsn(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"

    @property
    def server(self) -> str:
        """What a manifest records of this server: no user, no password."""
        return f"postgresql://{self.host}:{self.port}/{DATABASE}"

    def admin(self, dbname: str = DATABASE) -> Any:
        """A connection as the administrator, over the unix socket (autocommit)."""
        import psycopg

        return psycopg.connect(host=self.socket_dir, port=self.port, user="postgres", dbname=dbname,
                               autocommit=True)

    def execute(self, sql: str) -> None:
        with self.admin() as conn:
            conn.execute(sql)


def bindir() -> Path | None:
    """The newest installed PostgreSQL's binaries (Debian's layout first, then PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> tuple[list[str], str | None]:
    """The command prefix that runs the server's programs, and the user they run as (None: this one)."""
    if os.getuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], name
    pytest.skip("running as root, and there is no postgres or nobody user to run PostgreSQL as")


def start(base: Path) -> tuple[Server, list[str], Path]:
    binaries = bindir()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (no initdb); `make test` installs Debian's postgresql as root")
    began = time.monotonic()
    prefix, user = _runner()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data = base / "data"
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    run = dict(check=True, capture_output=True, env=env, cwd=base)
    subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                    "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                    "--no-instructions"], **run)  # type: ignore[call-overload]
    log = base / "server.log"
    for attempt in range(5):
        port = _free_port()
        options = (f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c TimeZone=UTC")
        done = subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                               "-t", "30", "-o", options, "start"], capture_output=True, env=env, cwd=base)
        if done.returncode == 0:
            break
        if attempt == 4:
            raise RuntimeError(f"PostgreSQL did not start: {done.stderr.decode()}\n{log.read_text()}")
    server = Server("127.0.0.1", port, str(base), 0.0)
    stop = [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    try:
        with server.admin("postgres") as conn:
            conn.execute(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
            conn.execute(f"CREATE DATABASE {DATABASE} OWNER {USER}")
    except Exception:
        subprocess.run(stop, capture_output=True, env=env, cwd=base)
        raise
    return Server(server.host, port, str(base), time.monotonic() - began), stop, data


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A PostgreSQL server of this test session (this xdist worker's own), stopped at the end."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[db]'")
    base = Path(tempfile.mkdtemp(prefix="qs-pg-"))
    try:
        server, stop, _ = start(base)
        try:
            yield server
        finally:
            subprocess.run(stop, capture_output=True, cwd=base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
