"""A private PostgreSQL cluster for the tests: Debian's server, started on a loopback port."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_tcp_port

# Debian's server binaries; `pg_ctl` and `initdb` are not on PATH there.
BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
USER = "lexcrm"


class PostgresUnavailable(Exception):
    """No PostgreSQL server is installed here (scripts/system-deps.sh installs one)."""


class PostgresCluster:
    """One cluster in a folder of its own, trusting local connections of the test user."""

    def __init__(self) -> None:
        if not BIN_DIRS:
            raise PostgresUnavailable("PostgreSQL is not installed: run scripts/system-deps.sh")
        self.bin = BIN_DIRS[0]
        # A folder of its own under /tmp: pytest's folders are root's alone, and the server
        # runs as another user.
        self.folder = Path(tempfile.mkdtemp(prefix="lexcrm-postgres-"))
        self.data = self.folder / "data"
        self.port = free_tcp_port()
        # The server refuses to run as root: as root, it runs as Debian's postgres user.
        self._as = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        if self._as:
            account = pwd.getpwnam("postgres")
            shutil.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run(self.bin / "initdb", "-D", self.data, "-U", USER, "--auth=trust", "-E", "UTF8")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.folder} "
            # A test cluster: nothing survives a crash of it, so nothing is worth an fsync.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        log = self.folder / "log"
        self._run(self.bin / "pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def sql(self, statement: str, database: str = "postgres") -> None:
        self._run(
            self.bin / "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            USER,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            statement,
        )

    def new_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        # FORCE: a connection a test left open must not keep its database on the disk.
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _run(self, *command: object, check: bool = True) -> None:
        subprocess.run(
            [*self._as, *map(str, command)],
            check=check,
            capture_output=True,
            cwd="/",
        )


@contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
